//! Link layers: find the network-layer payload and its ethertype inside a
//! frame, for every link type the engine reads.

use super::frame::LinkType;

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const ETHERTYPE_ARP: u16 = 0x0806;
const ETHERTYPE_VLAN: u16 = 0x8100;
const ETHERTYPE_QINQ: u16 = 0x88a8;
const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// Why no network layer was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkIssue {
    UnknownLinkType(LinkType),
    Truncated,
    /// A frame of a kind that carries no IP (ARP, LLC, 802.11 management…).
    NotIp(u16),
}

/// The network layer of a frame.
#[derive(Clone, Copy, Debug)]
pub struct Network<'a> {
    pub ethertype: u16,
    pub payload: &'a [u8],
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_be_bytes([s[0], s[1]]))
}

/// Strips the link header of `data`.
pub fn network(link: LinkType, data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    match link {
        LinkType::ETHERNET => ethernet(data),
        LinkType::NULL | LinkType::LOOP => bsd_loopback(link, data),
        LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => raw_ip(data),
        LinkType::IPV4 => Ok(Network {
            ethertype: ETHERTYPE_IPV4,
            payload: data,
        }),
        LinkType::IPV6 => Ok(Network {
            ethertype: ETHERTYPE_IPV6,
            payload: data,
        }),
        LinkType::LINUX_SLL => {
            let ethertype = be16(data, 14).ok_or(LinkIssue::Truncated)?;
            typed(ethertype, &data[16.min(data.len())..])
        }
        LinkType::LINUX_SLL2 => {
            let ethertype = be16(data, 0).ok_or(LinkIssue::Truncated)?;
            if data.len() < 20 {
                return Err(LinkIssue::Truncated);
            }
            typed(ethertype, &data[20..])
        }
        LinkType::NFLOG => nflog(data),
        LinkType(127) => radiotap(data),
        other => Err(LinkIssue::UnknownLinkType(other)),
    }
}

fn typed(ethertype: u16, payload: &[u8]) -> Result<Network<'_>, LinkIssue> {
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Ok(Network { ethertype, payload }),
        other => Err(LinkIssue::NotIp(other)),
    }
}

/// Ethernet II, following 802.1Q and QinQ tags.
fn ethernet(data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let mut at = 12;
    loop {
        let ethertype = be16(data, at).ok_or(LinkIssue::Truncated)?;
        match ethertype {
            ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD => at += 4,
            _ => return typed(ethertype, data.get(at + 2..).unwrap_or(&[])),
        }
    }
}

/// BSD loopback: a 4-byte address family, in the writer's byte order for
/// NULL and in network order for LOOP. AF_INET6 is 24, 28 or 30 depending
/// on the BSD.
fn bsd_loopback(link: LinkType, data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let word: [u8; 4] = data
        .get(..4)
        .and_then(|s| s.try_into().ok())
        .ok_or(LinkIssue::Truncated)?;
    let family = if link == LinkType::LOOP {
        u32::from_be_bytes(word)
    } else {
        let le = u32::from_le_bytes(word);
        if le > 0xffff {
            u32::from_be_bytes(word)
        } else {
            le
        }
    };
    let ethertype = match family {
        2 => ETHERTYPE_IPV4,
        10 | 24 | 28 | 30 => ETHERTYPE_IPV6,
        other => return Err(LinkIssue::NotIp(other as u16)),
    };
    Ok(Network {
        ethertype,
        payload: &data[4..],
    })
}

fn raw_ip(data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let first = *data.first().ok_or(LinkIssue::Truncated)?;
    let ethertype = match first >> 4 {
        4 => ETHERTYPE_IPV4,
        6 => ETHERTYPE_IPV6,
        v => return Err(LinkIssue::NotIp(u16::from(v))),
    };
    Ok(Network {
        ethertype,
        payload: data,
    })
}

/// NFLOG: a 4-byte header (family, version, resource id), then TLVs whose
/// length and type are in host byte order; type 9 carries the packet.
fn nflog(data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let family = *data.first().ok_or(LinkIssue::Truncated)?;
    let mut at = 4;
    while at + 4 <= data.len() {
        let len = u16::from_le_bytes([data[at], data[at + 1]]) as usize;
        let kind = u16::from_le_bytes([data[at + 2], data[at + 3]]);
        if len < 4 {
            return Err(LinkIssue::Truncated);
        }
        if kind == 9 {
            let payload = data.get(at + 4..at + len).ok_or(LinkIssue::Truncated)?;
            let ethertype = if family == 10 {
                ETHERTYPE_IPV6
            } else {
                ETHERTYPE_IPV4
            };
            return Ok(Network { ethertype, payload });
        }
        at += (len + 3) & !3;
    }
    Err(LinkIssue::Truncated)
}

/// 802.11 with a radiotap header: data frames carrying LLC/SNAP.
fn radiotap(data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let rt_len = data
        .get(2..4)
        .map(|s| u16::from_le_bytes([s[0], s[1]]) as usize)
        .ok_or(LinkIssue::Truncated)?;
    let wifi = data.get(rt_len..).ok_or(LinkIssue::Truncated)?;
    let fc = *wifi.first().ok_or(LinkIssue::Truncated)?;
    let flags = *wifi.get(1).ok_or(LinkIssue::Truncated)?;
    let frame_type = (fc >> 2) & 0x3;
    let subtype = fc >> 4;
    if frame_type != 2 || subtype & 0x4 != 0 {
        // Not a data frame, or a null-data frame.
        return Err(LinkIssue::NotIp(0));
    }
    let mut hdr = 24;
    if flags & 0x3 == 0x3 {
        hdr += 6;
    }
    if subtype & 0x8 != 0 {
        hdr += 2;
    }
    let llc = wifi.get(hdr..).ok_or(LinkIssue::Truncated)?;
    if llc.get(..6) != Some(&[0xaa, 0xaa, 0x03, 0, 0, 0][..]) {
        return Err(LinkIssue::NotIp(0));
    }
    let ethertype = be16(llc, 6).ok_or(LinkIssue::Truncated)?;
    typed(ethertype, &llc[8..])
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ethernet_with_two_tags() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0xa8, 0, 1, 0x81, 0x00, 0, 2, 0x08, 0x00, 0x45]);
        let n = network(LinkType::ETHERNET, &f).unwrap();
        assert_eq!((n.ethertype, n.payload), (ETHERTYPE_IPV4, &[0x45][..]));
    }

    #[test]
    fn null_in_either_byte_order_and_loop() {
        let le = [30, 0, 0, 0, 0x60];
        assert_eq!(
            network(LinkType::NULL, &le).unwrap().ethertype,
            ETHERTYPE_IPV6
        );
        let be = [0, 0, 0, 2, 0x45];
        assert_eq!(
            network(LinkType::NULL, &be).unwrap().ethertype,
            ETHERTYPE_IPV4
        );
        assert_eq!(
            network(LinkType::LOOP, &[0, 0, 0, 24, 0x60])
                .unwrap()
                .ethertype,
            ETHERTYPE_IPV6
        );
    }

    #[test]
    fn truncated_and_unknown() {
        assert_eq!(
            network(LinkType::ETHERNET, &[0; 5]).unwrap_err(),
            LinkIssue::Truncated
        );
        assert_eq!(
            network(LinkType(9999), &[0; 50]).unwrap_err(),
            LinkIssue::UnknownLinkType(LinkType(9999))
        );
        let mut arp = vec![0u8; 12];
        arp.extend_from_slice(&[0x08, 0x06]);
        assert_eq!(
            network(LinkType::ETHERNET, &arp).unwrap_err(),
            LinkIssue::NotIp(ETHERTYPE_ARP)
        );
    }
}
