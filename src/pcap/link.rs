//! Link layers: find the network-layer payload and its ethertype inside a
//! frame, for every link type the engine reads, through the tags and shims
//! Ethernet may carry before IP (802.1Q, E-Tag, MPLS, PPPoE, NSH), and
//! the shim that names how the packet came (MPLS labels, PPPoE session).

use super::frame::LinkType;
use super::wire::{self, etag, ethernet, ieee80211, loopback, mpls, nflog, nsh, ppp, pppoe, sll};

/// LINKTYPE_PPP: a PPP frame, address and control bytes optional.
pub const PPP: LinkType = LinkType(9);
/// LINKTYPE_PPP_HDLC: PPP in HDLC-like framing, or Cisco HDLC.
pub const PPP_HDLC: LinkType = LinkType(50);
/// LINKTYPE_C_HDLC: Cisco HDLC.
pub const C_HDLC: LinkType = LinkType(104);
/// LINKTYPE_MPLS: an MPLS label stack (also what MPLS-in-IP and MPLS over
/// GRE carry).
pub const MPLS: LinkType = LinkType(219);

pub const ETHERTYPE_IPV4: u16 = 0x0800;
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
pub const ETHERTYPE_ARP: u16 = 0x0806;

/// Address families that mean IPv4 and IPv6 in a loopback or NFLOG header
/// (AF_INET6 is 10 on Linux, 24, 28 or 30 depending on the BSD).
const AF_INET: u32 = 2;
const AF_INET6_LINUX: u8 = 10;

/// Why no network layer was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkIssue {
    UnknownLinkType(LinkType),
    /// The link header is cut short or contradicts itself.
    Truncated,
    /// A frame of a kind that carries no IP (ARP, LLC, 802.11 management…).
    NotIp(u16),
}

/// Every link header that cannot be read counts as cut short, as the
/// warning `analyze` prints has always said.
impl From<wire::Error> for LinkIssue {
    fn from(_: wire::Error) -> LinkIssue {
        LinkIssue::Truncated
    }
}

/// The network layer of a frame.
#[derive(Clone, Copy, Debug)]
pub struct Network<'a> {
    pub ethertype: u16,
    pub payload: &'a [u8],
    /// The shim the packet came through, when it names a path.
    pub shim: Option<Shim>,
}

/// A shim between the link header and IP that says which path the packet
/// took: the analysis shows it as a tunnel hop without endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shim {
    Mpls(Labels),
    /// A PPPoE session id.
    Pppoe(u16),
}

/// An MPLS label stack as shown: its first [`Labels::KEPT`] labels, top
/// first, and how many it had.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Labels {
    first: [u32; Labels::KEPT],
    count: u8,
}

impl Labels {
    /// Labels kept (a deeper stack is shown cut, with `…`).
    pub const KEPT: usize = 3;

    /// Adds the next label down the stack.
    pub fn push(&mut self, label: u32) {
        if let Some(slot) = self.first.get_mut(usize::from(self.count)) {
            *slot = label;
        }
        self.count = self.count.saturating_add(1);
    }

    /// Labels in the stack (saturating at 255).
    pub fn count(&self) -> u8 {
        self.count
    }
}

impl std::fmt::Display for Labels {
    /// `100/200`, or `1/2/3/…` for a stack of more than three.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = usize::from(self.count).min(Labels::KEPT);
        for (i, label) in self.first[..kept].iter().enumerate() {
            if i > 0 {
                f.write_str("/")?;
            }
            write!(f, "{label}")?;
        }
        if usize::from(self.count) > Labels::KEPT {
            f.write_str("/…")?;
        }
        Ok(())
    }
}

/// Strips the link header of `data`.
#[inline]
pub fn network(link: LinkType, data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    match link {
        LinkType::ETHERNET => ethernet(data),
        LinkType::NULL | LinkType::LOOP => bsd_loopback(link, data),
        LinkType::RAW | LinkType::RAW_12 | LinkType::RAW_14 => raw_ip(data),
        LinkType::IPV4 => Ok(Network {
            ethertype: ETHERTYPE_IPV4,
            payload: data,
            shim: None,
        }),
        LinkType::IPV6 => Ok(Network {
            ethertype: ETHERTYPE_IPV6,
            payload: data,
            shim: None,
        }),
        LinkType::LINUX_SLL => {
            let sll = sll::Packet::new_checked(data)?;
            typed(sll.protocol(), sll.payload())
        }
        LinkType::LINUX_SLL2 => {
            let sll = sll::Packet2::new_checked(data)?;
            typed(sll.protocol(), sll.payload())
        }
        LinkType::NFLOG => nflog(data),
        LinkType(127) => radiotap(data),
        other => serial_or_mpls(other, data),
    }
}

/// The link types of serial lines and MPLS: out of line, so that the
/// common ones above stay small enough to inline into the decoder.
#[inline(never)]
fn serial_or_mpls(link: LinkType, data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    match link {
        PPP => ppp(data),
        PPP_HDLC if ppp::is_cisco_hdlc(data) => cisco_hdlc(data),
        PPP_HDLC => ppp(data),
        C_HDLC => cisco_hdlc(data),
        MPLS => mpls_stack(data),
        other => Err(LinkIssue::UnknownLinkType(other)),
    }
}

#[inline]
fn typed(ethertype: u16, payload: &[u8]) -> Result<Network<'_>, LinkIssue> {
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Ok(Network {
            ethertype,
            payload,
            shim: None,
        }),
        other => Err(LinkIssue::NotIp(other)),
    }
}

/// Ethernet II, following tags and shims.
#[inline]
fn ethernet(data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let frame = ethernet::Frame::new_checked(data)?;
    match frame.ethertype() {
        ethertype @ (ETHERTYPE_IPV4 | ETHERTYPE_IPV6) => Ok(Network {
            ethertype,
            payload: frame.payload(),
            shim: None,
        }),
        other => shimmed(other, frame.payload()),
    }
}

/// What follows `ethertype` when it is not IP: 802.1Q and QinQ tags,
/// E-Tags, an MPLS label stack, a PPPoE session, a service header (NSH),
/// each announcing the next, until IP or something else. Every step
/// consumes bytes, so the walk ends. Out of line: plain Ethernet carrying
/// IP never comes here.
#[inline(never)]
fn shimmed(mut ethertype: u16, mut payload: &[u8]) -> Result<Network<'_>, LinkIssue> {
    loop {
        match ethertype {
            ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => {
                return Ok(Network {
                    ethertype,
                    payload,
                    shim: None,
                })
            }
            t if ethernet::is_vlan(t) => {
                let tag = ethernet::VlanTag::new_checked(payload)?;
                (ethertype, payload) = (tag.ethertype(), tag.payload());
            }
            etag::ETHERTYPE => {
                let tag = etag::Tag::new_checked(payload)?;
                (ethertype, payload) = (tag.ethertype(), tag.payload());
            }
            mpls::ETHERTYPE_UNICAST | mpls::ETHERTYPE_MULTICAST => return mpls_stack(payload),
            pppoe::ETHERTYPE_SESSION => {
                let session = pppoe::Packet::new_checked(payload)?;
                let mut net = ppp(session.payload())?;
                net.shim = Some(Shim::Pppoe(session.session_id()));
                return Ok(net);
            }
            nsh::ETHERTYPE => {
                let header = nsh::Packet::new_checked(payload)?;
                let inner = header.payload();
                match header.next_protocol() {
                    nsh::NEXT_IPV4 => return typed(ETHERTYPE_IPV4, inner),
                    nsh::NEXT_IPV6 => return typed(ETHERTYPE_IPV6, inner),
                    nsh::NEXT_MPLS => return mpls_stack(inner),
                    nsh::NEXT_NSH => payload = inner,
                    nsh::NEXT_ETHERNET => {
                        let frame = ethernet::Frame::new_checked(inner)?;
                        (ethertype, payload) = (frame.ethertype(), frame.payload());
                    }
                    _ => return Err(LinkIssue::NotIp(nsh::ETHERTYPE)),
                }
            }
            other => return Err(LinkIssue::NotIp(other)),
        }
    }
}

/// An MPLS label stack down to its bottom entry, then IP as the first
/// nibble says (RFC 4385's heuristic), named by its labels. A pseudowire
/// (first nibble 0 or 1: a control word, often Ethernet behind it) is not
/// followed.
fn mpls_stack(mut data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let mut labels = Labels::default();
    loop {
        let entry = mpls::Entry::new_checked(data)?;
        labels.push(entry.label());
        data = entry.payload();
        if entry.is_bottom() {
            break;
        }
    }
    let mut net = match data.first().map(|b| b >> 4) {
        Some(4) => typed(ETHERTYPE_IPV4, data),
        Some(6) => typed(ETHERTYPE_IPV6, data),
        Some(_) => Err(LinkIssue::NotIp(mpls::ETHERTYPE_UNICAST)),
        None => Err(LinkIssue::Truncated),
    }?;
    net.shim = Some(Shim::Mpls(labels));
    Ok(net)
}

/// A PPP frame (DLT 9, DLT 50, PPPoE, PPTP): IPv4 and IPv6 go on, other
/// protocols (LCP, IPCP, CHAP…) carry no IP.
fn ppp(data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let frame = ppp::Frame::new_checked(data)?;
    match frame.protocol() {
        ppp::PROTO_IPV4 => typed(ETHERTYPE_IPV4, frame.payload()),
        ppp::PROTO_IPV6 => typed(ETHERTYPE_IPV6, frame.payload()),
        other => Err(LinkIssue::NotIp(other)),
    }
}

/// Cisco HDLC: its protocol field is an ethertype.
fn cisco_hdlc(data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let header = ppp::CiscoHdlc::new_checked(data)?;
    shimmed(header.protocol(), header.payload())
}

/// BSD loopback: a 4-byte address family, in the writer's byte order for
/// NULL and in network order for LOOP.
fn bsd_loopback(link: LinkType, data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let header = loopback::Packet::new_checked(data)?;
    let family = if link == LinkType::LOOP {
        header.family_network_order()
    } else {
        header.family_writer_order()
    };
    let ethertype = match family {
        AF_INET => ETHERTYPE_IPV4,
        10 | 24 | 28 | 30 => ETHERTYPE_IPV6,
        other => return Err(LinkIssue::NotIp(other as u16)),
    };
    Ok(Network {
        ethertype,
        payload: header.payload(),
        shim: None,
    })
}

/// Raw IP: the version nibble says which.
fn raw_ip(data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let ethertype = match data.first().map(|b| b >> 4) {
        None => return Err(LinkIssue::Truncated),
        Some(4) => ETHERTYPE_IPV4,
        Some(6) => ETHERTYPE_IPV6,
        Some(v) => return Err(LinkIssue::NotIp(u16::from(v))),
    };
    Ok(Network {
        ethertype,
        payload: data,
        shim: None,
    })
}

/// NFLOG: the TLV of type 9 carries the packet.
fn nflog(data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let header = nflog::Packet::new_checked(data)?;
    let ethertype = if header.family() == AF_INET6_LINUX {
        ETHERTYPE_IPV6
    } else {
        ETHERTYPE_IPV4
    };
    let mut tlvs = header.tlvs();
    while !tlvs.is_empty() {
        let tlv = nflog::Tlv::new_checked(tlvs)?;
        if tlv.kind() == nflog::TLV_PAYLOAD {
            return Ok(Network {
                ethertype,
                payload: tlv.value(),
                shim: None,
            });
        }
        tlvs = tlvs.get(tlv.padded_len()..).unwrap_or(&[]);
    }
    // No packet TLV: what carried it was cut off.
    Err(LinkIssue::Truncated)
}

/// 802.11 with a radiotap header: data frames carrying LLC/SNAP.
fn radiotap(data: &[u8]) -> Result<Network<'_>, LinkIssue> {
    let radiotap = ieee80211::Radiotap::new_checked(data)?;
    let frame = ieee80211::Frame::new_checked(radiotap.payload())?;
    if !frame.has_data() {
        return Err(LinkIssue::NotIp(0));
    }
    let llc = frame.payload()?;
    if !ieee80211::is_snap(llc) {
        return Err(LinkIssue::NotIp(0));
    }
    let snap = ieee80211::LlcSnap::new_checked(llc)?;
    typed(snap.ethertype(), snap.payload())
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
    fn mpls_and_pppoe_name_the_path() {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0x47]);
        for label in 1..=5u32 {
            let bottom = if label == 5 { 0x100 } else { 0 };
            f.extend_from_slice(&((label << 12) | bottom | 64).to_be_bytes());
        }
        f.push(0x45);
        let n = network(LinkType::ETHERNET, &f).unwrap();
        let Some(Shim::Mpls(labels)) = n.shim else {
            panic!("{:?}", n.shim)
        };
        assert_eq!((labels.to_string(), labels.count()), ("1/2/3/…".into(), 5));
        assert_eq!(n.payload, [0x45]);
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x88, 0x64, 0x11, 0, 0x00, 0x11, 0, 3, 0, 0x21, 0x45]);
        let n = network(LinkType::ETHERNET, &f).unwrap();
        assert_eq!(n.shim, Some(Shim::Pppoe(0x11)));
        // Plain Ethernet names nothing.
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00, 0x45]);
        assert_eq!(network(LinkType::ETHERNET, &f).unwrap().shim, None);
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

    #[test]
    fn every_link_type_truncated_at_every_length() {
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&[0x08, 0x00, 0x45]);
        let mut sll2 = vec![0x86, 0xdd];
        sll2.extend_from_slice(&[0; 18]);
        sll2.push(0x60);
        let mut nflog = vec![2, 0, 0, 0, 8, 0, 1, 0, 0, 0, 0, 0];
        nflog.extend_from_slice(&[5, 0, 9, 0, 0x45]);
        let mut radiotap = vec![0, 0, 4, 0, 0x08, 0x00];
        radiotap.extend_from_slice(&[0; 22]);
        radiotap.extend_from_slice(&[0xaa, 0xaa, 3, 0, 0, 0, 0x08, 0x00, 0x45]);
        let cases = [
            (LinkType::LINUX_SLL, sll, ETHERTYPE_IPV4),
            (LinkType::LINUX_SLL2, sll2, ETHERTYPE_IPV6),
            (LinkType::NFLOG, nflog, ETHERTYPE_IPV4),
            (LinkType(127), radiotap, ETHERTYPE_IPV4),
            (LinkType::NULL, vec![2, 0, 0, 0, 0x45], ETHERTYPE_IPV4),
        ];
        for (link, frame, ethertype) in cases {
            let n = network(link, &frame).unwrap();
            assert_eq!(n.ethertype, ethertype, "{link:?}");
            let version = if ethertype == ETHERTYPE_IPV6 { 6 } else { 4 };
            assert_eq!(n.payload.first().map(|b| b >> 4), Some(version));
            for len in 0..frame.len() - 1 {
                // A radiotap data frame cut inside its LLC header has none.
                let want = if link == LinkType(127) && (28..34).contains(&len) {
                    LinkIssue::NotIp(0)
                } else {
                    LinkIssue::Truncated
                };
                assert_eq!(
                    network(link, &frame[..len]).unwrap_err(),
                    want,
                    "{link:?} cut at {len}"
                );
            }
        }
    }

    #[test]
    fn radiotap_frames_that_carry_no_ip() {
        // A beacon (management frame) and a data frame without LLC/SNAP.
        let beacon = [0, 0, 4, 0, 0x80, 0x00, 0, 0];
        assert_eq!(
            network(LinkType(127), &beacon).unwrap_err(),
            LinkIssue::NotIp(0)
        );
        let mut plain = vec![0, 0, 4, 0, 0x08, 0x00];
        plain.extend_from_slice(&[0; 22]);
        plain.extend_from_slice(&[0xe0, 0xe0, 3]);
        assert_eq!(
            network(LinkType(127), &plain).unwrap_err(),
            LinkIssue::NotIp(0)
        );
    }

    #[test]
    fn nflog_tlv_shorter_than_its_header() {
        let nflog = [2, 0, 0, 0, 2, 0, 9, 0, 0x45];
        assert_eq!(
            network(LinkType::NFLOG, &nflog).unwrap_err(),
            LinkIssue::Truncated
        );
    }
}
