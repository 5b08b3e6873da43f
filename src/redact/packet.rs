//! One captured frame redacted in place: IP addresses pseudonymised (in
//! headers, IPv4 options and IPv6 routing headers: `ip_header`), TCP
//! payload masked where the caller's stream masks say, other payload
//! masked as the profile says, and the IPv4 header, TCP/UDP/ICMP and GRE
//! checksums made right for the new bytes. Nothing changes length.
//!
//! A tunnel (VXLAN, Geneve, GRE, ERSPAN, IP in IP, EtherIP, MPLS in IP:
//! `pcap::tunnel`) is opened as the analysis opens it and the packet it
//! carries is redacted the same way, inner and outer headers alike; one
//! the analysis leaves closed has its payload masked whenever the profile
//! pseudonymises addresses or masks other payload. Ethernet shims (MPLS,
//! PPPoE, NSH, E-Tag) are read through by the decoder.
//!
//! A checksum is recomputed from scratch when the whole segment was
//! captured; when the snaplen cut it, it is adjusted for the bytes that
//! changed (RFC 1624), so it is as right (or as wrong) as it was. An
//! outer UDP checksum of zero (sent without one, as RFC 7348 allows VXLAN
//! over IPv4) stays zero. Link headers (MAC addresses) are kept.

use std::net::{IpAddr, SocketAddr};

use super::{ip_header, Redactor, FILL};
use crate::pcap::decode::{self, Transport, PROTO_ICMP, PROTO_ICMPV6, PROTO_TCP, PROTO_UDP};
use crate::pcap::tunnel::{self, Decap, PROTO_GRE};
use crate::pcap::{Frame, LinkType};

/// ICMP's own header: what follows it (an echo's data, or the start of
/// the datagram an error is about, with its addresses) is masked.
const ICMP_HEADER_LEN: usize = 8;
/// GRE's fixed header (flags, version, protocol): kept when a GRE packet
/// left closed is masked, so it is reported as before.
const GRE_BASE_LEN: usize = 4;
/// GRE's checksum-present flag and where the checksum sits (RFC 2784).
const GRE_CHECKSUM_PRESENT: u8 = 0x80;
const GRE_CHECKSUM_AT: usize = 4;

/// The TCP segment whose captured payload the caller masks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub seq: u32,
    pub flags: u8,
}

/// What an IP payload carries, when it is an encapsulation.
#[derive(Clone, Copy, Debug)]
enum Carried {
    /// The packet inside: where it sits in the frame, and its link type.
    Inner {
        at: usize,
        len: usize,
        link: LinkType,
    },
    /// One the analysis leaves closed (or nested too deep).
    Closed,
}

/// Positions (in the frame) and values of what a rewrite changes.
struct Layout {
    ip: usize,
    ipv4_header_len: Option<usize>,
    /// The transport pseudo-header's addresses: the destination is the
    /// final one of a source route or routing header.
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    /// A fragment's offset in its datagram (None: not a fragment).
    fragment: Option<u32>,
    l4: usize,
    /// Captured bytes from `l4` on.
    l4_captured: usize,
    /// Transport length from the IP header.
    l4_len: usize,
    /// Payload start and captured length, for TCP and UDP.
    payload: Option<(usize, usize)>,
    tcp: Option<(u16, u16, u32, u8)>,
    carried: Option<Carried>,
}

fn offset_in(outer: &[u8], inner: &[u8]) -> usize {
    (inner.as_ptr() as usize).saturating_sub(outer.as_ptr() as usize)
}

/// Decodes captured bytes down to the transport header (a frame without
/// its record's place in the file, which decoding does not use).
pub(super) fn decode_bytes(link_type: LinkType, data: &[u8]) -> Option<decode::Packet<'_>> {
    let frame = Frame {
        index: 0,
        offset: 0,
        ts: None,
        link_type,
        interface: 0,
        orig_len: data.len() as u32,
        data,
    };
    decode::decode(&frame).ok()
}

/// The encapsulation a packet `depth` tunnels deep is, decided as the
/// analysis decides it (a tunnel in a fragment is not opened).
fn encapsulation<'a>(packet: &decode::Packet<'a>, depth: u8) -> Option<Decap<'a>> {
    if packet.fragment.is_some() {
        return None;
    }
    let decap = match packet.transport {
        Transport::Udp(u) if tunnel::is_udp_port(u.dst_port) => {
            tunnel::udp(packet.src, packet.dst, u.dst_port, u.payload)
        }
        Transport::Other { protocol } if tunnel::is_ip_protocol(protocol) => {
            tunnel::ip(packet.src, packet.dst, protocol, packet.l4)
        }
        _ => None,
    }?;
    match decap {
        Decap::Inner { .. } if depth >= tunnel::MAX_DEPTH => {
            Some(Decap::Undecoded(tunnel::Undecoded {
                what: "tunnels nested too deep",
                value: None,
            }))
        }
        decap => Some(decap),
    }
}

/// The TCP segment a frame carries, inside its tunnels (as
/// [`redact_frame`] finds it): its identity, captured payload, and
/// payload bytes the snaplen cut off.
pub(super) fn tcp_segment(link_type: LinkType, data: &[u8]) -> Option<(Segment, &[u8], u64)> {
    let (mut link, mut data) = (link_type, data);
    for depth in 0..=tunnel::MAX_DEPTH {
        let packet = decode_bytes(link, data)?;
        match encapsulation(&packet, depth) {
            Some(Decap::Inner {
                link: inner_link,
                data: inner,
                ..
            }) => {
                (link, data) = (inner_link, inner);
                continue;
            }
            Some(Decap::Undecoded(_)) => return None,
            None => {}
        }
        let Transport::Tcp(t) = packet.transport else {
            return None;
        };
        let seg = Segment {
            src: SocketAddr::new(packet.src, t.src_port),
            dst: SocketAddr::new(packet.dst, t.dst_port),
            seq: t.seq,
            flags: t.flags,
        };
        let missing = u64::from(t.payload_len).saturating_sub(t.payload.len() as u64);
        return Some((seg, t.payload, missing));
    }
    None
}

fn layout(link_type: LinkType, data: &[u8], depth: u8) -> Result<Layout, ()> {
    let packet = decode_bytes(link_type, data).ok_or(())?;
    let (payload, tcp) = match packet.transport {
        Transport::Tcp(t) => (
            Some((offset_in(data, t.payload), t.payload.len())),
            Some((t.src_port, t.dst_port, t.seq, t.flags)),
        ),
        Transport::Udp(u) => (Some((offset_in(data, u.payload), u.payload.len())), None),
        _ => (None, None),
    };
    let carried = encapsulation(&packet, depth).map(|decap| match decap {
        Decap::Inner { link, data: d, .. } => Carried::Inner {
            at: offset_in(data, d),
            len: d.len(),
            link,
        },
        Decap::Undecoded(_) => Carried::Closed,
    });
    let dst = match packet.dst {
        IpAddr::V6(header_dst) => {
            IpAddr::V6(ip_header::ipv6_final_destination(packet.ip).unwrap_or(header_dst))
        }
        // The decoder keys a source-routed datagram by its final
        // destination already.
        v4 => v4,
    };
    Ok(Layout {
        ip: offset_in(data, packet.ip),
        ipv4_header_len: packet
            .src
            .is_ipv4()
            .then(|| usize::from(packet.ip.first().map_or(0, |b| b & 0x0f)) * 4),
        src: packet.src,
        dst,
        protocol: packet.protocol,
        fragment: packet.fragment.map(|f| f.offset),
        l4: offset_in(data, packet.l4),
        l4_captured: packet.l4.len(),
        l4_len: packet.l4_len as usize,
        payload,
        tcp,
        carried,
    })
}

/// Redacts one frame in place. `mask_tcp` masks a TCP segment's captured
/// payload (it knows the stream's masks); everything else follows the
/// redactor's profile.
pub fn redact_frame(
    r: &Redactor,
    link_type: LinkType,
    data: &mut [u8],
    mask_tcp: &mut dyn FnMut(&Segment, &mut [u8]),
) {
    redact_packet(r, link_type, data, mask_tcp, 0);
}

/// Redacts the packet in `data`, `depth` tunnels deep.
fn redact_packet(
    r: &Redactor,
    link_type: LinkType,
    data: &mut [u8],
    mask_tcp: &mut dyn FnMut(&Segment, &mut [u8]),
    depth: u8,
) {
    let p = r.profile();
    let lay = match layout(link_type, data, depth) {
        Ok(lay) => lay,
        Err(()) => {
            if p.pseudonymise_addresses && link_type == LinkType::ETHERNET {
                pseudonymise_arp(r, data);
            }
            return;
        }
    };
    let l4_end = lay.l4 + lay.l4_captured;
    let old_l4 = data[lay.l4..l4_end].to_vec();
    if p.pseudonymise_addresses {
        ip_header::pseudonymise(r, &mut data[lay.ip..lay.l4]);
    }
    let (src, dst) = (r.ip(lay.src), r.ip(lay.dst));

    match (lay.protocol, lay.payload, lay.tcp) {
        _ if lay.fragment.is_some() => {
            // Without the whole datagram the stream position is unknown;
            // a tunnel's packet, or one UDP may carry, is not opened.
            let may_carry_addresses =
                lay.protocol == PROTO_UDP || tunnel::is_ip_protocol(lay.protocol);
            if p.masks_values() || (p.pseudonymise_addresses && may_carry_addresses) {
                let header = match lay.fragment {
                    Some(0) => transport_header_len(lay.protocol, &data[lay.l4..l4_end]),
                    _ => 0,
                };
                data[(lay.l4 + header).min(l4_end)..l4_end].fill(FILL);
            }
        }
        _ if matches!(lay.carried, Some(Carried::Inner { .. })) => {
            if let Some(Carried::Inner { at, len, link }) = lay.carried {
                redact_packet(r, link, &mut data[at..at + len], mask_tcp, depth + 1);
            }
        }
        _ if matches!(lay.carried, Some(Carried::Closed)) => {
            if p.pseudonymise_addresses || p.mask_other_payload {
                let kept = match lay.protocol {
                    PROTO_GRE => GRE_BASE_LEN,
                    PROTO_UDP => lay.payload.map_or(0, |(at, _)| at - lay.l4),
                    _ => 0,
                };
                data[(lay.l4 + kept).min(l4_end)..l4_end].fill(FILL);
            }
        }
        (PROTO_TCP, Some((at, len)), Some((sport, dport, seq, flags))) => {
            let seg = Segment {
                src: SocketAddr::new(lay.src, sport),
                dst: SocketAddr::new(lay.dst, dport),
                seq,
                flags,
            };
            mask_tcp(&seg, &mut data[at..at + len]);
        }
        (PROTO_UDP, Some((at, len)), _) => {
            if p.mask_other_payload {
                data[at..at + len].fill(FILL);
            }
        }
        (PROTO_ICMP | PROTO_ICMPV6, _, _) => {
            if p.pseudonymise_addresses || p.mask_other_payload {
                let from = (lay.l4 + ICMP_HEADER_LEN).min(l4_end);
                data[from..l4_end].fill(FILL);
            }
        }
        _ => {
            if p.mask_other_payload {
                data[lay.l4..l4_end].fill(FILL);
            }
        }
    }

    if let Some(hl) = lay.ipv4_header_len {
        if let Some(header) = data.get_mut(lay.ip..lay.ip + hl) {
            if hl >= 20 {
                header[10..12].fill(0);
                let ck = !fold(sum(header, 0));
                header[10..12].copy_from_slice(&ck.to_be_bytes());
            }
        }
    }
    // A later fragment holds no transport header; the first one's
    // checksum covers the whole datagram, so it can only be adjusted.
    if lay.fragment.is_none_or(|offset| offset == 0) {
        fix_transport_checksum(data, &lay, &old_l4, src, dst);
    }
}

/// The transport header at the start of a first fragment: kept, so the
/// datagram still reassembles into the same flow.
fn transport_header_len(protocol: u8, l4: &[u8]) -> usize {
    match protocol {
        PROTO_TCP => l4.get(12).map_or(l4.len(), |b| usize::from(b >> 4) * 4),
        PROTO_UDP | PROTO_ICMP | PROTO_ICMPV6 => 8,
        _ => 0,
    }
}

/// ARP over untagged Ethernet for IPv4 (RFC 826): the sender's and the
/// target's IPv4 addresses pseudonymised like the IP headers'. Other
/// frames that are not IP keep their bytes (README, "Redacted sharing").
fn pseudonymise_arp(r: &Redactor, data: &mut [u8]) {
    const ARP: usize = 14;
    let is_ipv4_arp = data.get(12..14) == Some(&[0x08, 0x06])
        && data.get(ARP + 2..ARP + 6) == Some(&[0x08, 0x00, 6, 4]);
    if !is_ipv4_arp {
        return;
    }
    for at in [ARP + 14, ARP + 24] {
        if let Some(slot) = data.get_mut(at..at + 4) {
            let octets: [u8; 4] = [slot[0], slot[1], slot[2], slot[3]];
            slot.copy_from_slice(&ip_bytes(r.ip(IpAddr::from(octets))));
        }
    }
}

fn ip_bytes(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// Where the transport checksum sits, and whether it covers a
/// pseudo-header; GRE's only when its flag says it is there.
fn checksum_field(protocol: u8, is_v4: bool, l4: &[u8]) -> Option<(usize, bool)> {
    match protocol {
        PROTO_TCP => Some((16, true)),
        PROTO_UDP => Some((6, true)),
        PROTO_ICMPV6 => Some((2, true)),
        PROTO_ICMP if is_v4 => Some((2, false)),
        PROTO_GRE if l4.first().is_some_and(|f| f & GRE_CHECKSUM_PRESENT != 0) => {
            Some((GRE_CHECKSUM_AT, false))
        }
        _ => None,
    }
}

fn fix_transport_checksum(data: &mut [u8], lay: &Layout, old_l4: &[u8], src: IpAddr, dst: IpAddr) {
    let l4_end = lay.l4 + lay.l4_captured;
    let Some((field, pseudo)) = checksum_field(lay.protocol, lay.src.is_ipv4(), old_l4) else {
        return;
    };
    // Within the captured transport bytes, not in a link trailer after them.
    let Some(ck_bytes) = data
        .get(lay.l4..l4_end)
        .and_then(|l4| l4.get(field..field + 2))
    else {
        return;
    };
    let old_ck = u16::from_be_bytes([ck_bytes[0], ck_bytes[1]]);
    if lay.protocol == PROTO_UDP && old_ck == 0 {
        // No checksum was sent (RFC 768; over IPv6 a tunnel's, RFC 6935).
        return;
    }
    let new_l4 = &mut data[lay.l4..l4_end];
    new_l4[field..field + 2].fill(0);
    let new_ck = if lay.fragment.is_none() && lay.l4_captured >= lay.l4_len {
        let mut s = sum(&new_l4[..lay.l4_len], 0);
        if pseudo {
            s = pseudo_sum(s, src, dst, lay.protocol, lay.l4_len);
        }
        let ck = !fold(s);
        if ck == 0 && lay.protocol == PROTO_UDP {
            0xffff
        } else {
            ck
        }
    } else {
        // Cut by the snaplen, or the first fragment of a datagram: adjust
        // for what changed (RFC 1624, eqn. 3).
        let mut old = old_l4.to_vec();
        old[field..field + 2].fill(0);
        let mut old_sum = sum(&old, 0);
        let mut new_sum = sum(new_l4, 0);
        if pseudo {
            old_sum = pseudo_sum(old_sum, lay.src, lay.dst, 0, 0);
            new_sum = pseudo_sum(new_sum, src, dst, 0, 0);
        }
        let s = u32::from(!old_ck) + u32::from(!fold(old_sum)) + u32::from(fold(new_sum));
        !fold(s)
    };
    new_l4[field..field + 2].copy_from_slice(&new_ck.to_be_bytes());
}

fn pseudo_sum(s: u32, src: IpAddr, dst: IpAddr, protocol: u8, len: usize) -> u32 {
    let s = sum(&ip_bytes(src), s);
    let s = sum(&ip_bytes(dst), s);
    let len = len as u32;
    s + u32::from(protocol) + (len >> 16) + (len & 0xffff)
}

/// The ones'-complement sum of 16-bit big-endian words, not yet folded.
fn sum(bytes: &[u8], mut acc: u32) -> u32 {
    let mut words = bytes.chunks_exact(2);
    for w in &mut words {
        acc = acc.wrapping_add(u32::from(u16::from_be_bytes([w[0], w[1]])));
        if acc > 0xffff_0000 {
            acc = (acc & 0xffff) + (acc >> 16);
        }
    }
    if let [last] = words.remainder() {
        acc = acc.wrapping_add(u32::from(*last) << 8);
    }
    acc
}

fn fold(mut s: u32) -> u16 {
    while s > 0xffff {
        s = (s & 0xffff) + (s >> 16);
    }
    s as u16
}

#[cfg(test)]
mod test {
    use super::super::{Profile, ProfileName};
    use super::*;

    /// IPv4 + TCP on raw IP, payload "GET /?k=v", with right checksums.
    fn segment() -> Vec<u8> {
        let payload = b"GET /?k=v";
        let mut ip = vec![
            0x45, 0, 0, 0, 0x12, 0x34, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        let total = (20 + 20 + payload.len()) as u16;
        ip[2..4].copy_from_slice(&total.to_be_bytes());
        let ck = !fold(sum(&ip, 0));
        ip[10..12].copy_from_slice(&ck.to_be_bytes());
        let mut tcp = vec![
            0x9c, 0x40, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0, 0,
        ];
        tcp.extend_from_slice(payload);
        let s = pseudo_sum(
            sum(&tcp, 0),
            "10.0.0.1".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            6,
            tcp.len(),
        );
        tcp[16..18].copy_from_slice(&(!fold(s)).to_be_bytes());
        ip.extend_from_slice(&tcp);
        ip
    }

    fn verify(frame: &[u8]) -> (bool, bool) {
        let ip_ok = fold(sum(&frame[..20], 0)) == 0xffff;
        let src = IpAddr::from(<[u8; 4]>::try_from(&frame[12..16]).unwrap());
        let dst = IpAddr::from(<[u8; 4]>::try_from(&frame[16..20]).unwrap());
        let l4 = &frame[20..];
        let tcp_ok = fold(pseudo_sum(sum(l4, 0), src, dst, 6, l4.len())) == 0xffff;
        (ip_ok, tcp_ok)
    }

    #[test]
    fn rewritten_frames_keep_valid_checksums() {
        let r = Redactor::new(Profile::named(ProfileName::Strict), &[7; 32]);
        let mut frame = segment();
        assert_eq!(verify(&frame), (true, true));
        let len = frame.len();
        let mut seen = None;
        redact_frame(&r, LinkType::RAW, &mut frame, &mut |seg, payload| {
            seen = Some(*seg);
            payload[8..].fill(FILL);
        });
        assert_eq!(frame.len(), len);
        assert_eq!(verify(&frame), (true, true));
        assert_eq!(&frame[40..], b"GET /?k=x");
        let seg = seen.unwrap();
        assert_eq!(seg.src.port(), 40000);
        assert_eq!(seg.seq, 1);
        assert_eq!(
            frame[12..16],
            ip_bytes(r.ip("10.0.0.1".parse().unwrap()))[..]
        );
        assert_ne!(frame[12..16], [10, 0, 0, 1]);
    }

    #[test]
    fn cut_segments_get_an_adjusted_checksum() {
        let r = Redactor::new(Profile::named(ProfileName::Strict), &[9; 32]);
        let full = segment();
        let mut whole = full.clone();
        redact_frame(&r, LinkType::RAW, &mut whole, &mut |_, p| p.fill(FILL));
        // The same frame with its last 3 bytes cut by a snaplen.
        let mut cut = full[..full.len() - 3].to_vec();
        redact_frame(&r, LinkType::RAW, &mut cut, &mut |_, p| p.fill(FILL));
        // The adjusted checksum is right for the segment as sent: the
        // masked captured bytes followed by the original uncaptured ones.
        cut.extend_from_slice(&full[full.len() - 3..]);
        assert_eq!(verify(&cut), (true, true));
        assert_ne!(cut[36..38], whole[36..38]);
    }
}
