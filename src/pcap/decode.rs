//! IPv4, IPv6 (with extension headers), TCP and UDP: one zero-copy pass
//! from a frame to the fields the flow table needs.
//!
//! Lengths come from the IP header, not from the captured bytes, so a
//! snaplen-truncated segment still counts its full payload (as tshark's
//! `tcp.len` does) while only the captured bytes are handed on.

use std::net::IpAddr;

use super::frame::{Frame, LinkType};
use super::link::{self, LinkIssue, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use super::wire::{self, ethernet, ipv4, ipv4_options, ipv6, tcp, udp, Problem};

pub const PROTO_ICMP: u8 = 1;
pub const PROTO_TCP: u8 = 6;
pub const PROTO_UDP: u8 = 17;
pub const PROTO_ICMPV6: u8 = 58;

/// TCP flag bits (RFC 9293 §3.1).
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// Why a frame yields no transport-level packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeIssue {
    Link(LinkIssue),
    /// The IP header is cut by the snaplen.
    TruncatedIp,
    /// The IP header contradicts itself (bad version, IHL, total length).
    MalformedIp(&'static str),
    /// The TCP/UDP header is cut by the snaplen.
    TruncatedTransport,
    MalformedTransport(&'static str),
}

impl std::fmt::Display for DecodeIssue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DecodeIssue::Link(LinkIssue::UnknownLinkType(l)) => {
                write!(f, "unsupported link type {}", l.0)
            }
            DecodeIssue::Link(LinkIssue::Truncated) => write!(f, "link header cut short"),
            DecodeIssue::Link(LinkIssue::NotIp(t)) => write!(f, "not IP (type {t:#06x})"),
            DecodeIssue::TruncatedIp => write!(f, "IP header cut short"),
            DecodeIssue::MalformedIp(what) => write!(f, "malformed IP header: {what}"),
            DecodeIssue::TruncatedTransport => write!(f, "TCP/UDP header cut short"),
            DecodeIssue::MalformedTransport(what) => {
                write!(f, "malformed transport header: {what}")
            }
        }
    }
}

/// Where a fragment sits in its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fragment {
    pub id: u32,
    /// Offset of this fragment's data in the datagram, in bytes.
    pub offset: u32,
    pub more: bool,
}

#[derive(Clone, Copy, Debug)]
pub struct Tcp<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: u32,
    pub flags: u8,
    pub window: u16,
    /// Window scale option, when the segment carries one (SYN only).
    pub window_scale: Option<u8>,
    /// Captured payload bytes (possibly fewer than `payload_len`).
    pub payload: &'a [u8],
    /// Payload length according to the IP header.
    pub payload_len: u32,
}

impl Tcp<'_> {
    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Udp<'a> {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: &'a [u8],
    pub payload_len: u32,
}

#[derive(Clone, Copy, Debug)]
pub enum Transport<'a> {
    Tcp(Tcp<'a>),
    Udp(Udp<'a>),
    /// ICMP, or a protocol we count but do not follow.
    Other {
        protocol: u8,
    },
    /// A fragment of a datagram: see `Packet::fragment`.
    Fragment {
        protocol: u8,
        payload: &'a [u8],
    },
}

/// A decoded packet: addresses and its transport layer.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// The IP datagram's bytes (header included) as captured.
    pub ip: &'a [u8],
    pub fragment: Option<Fragment>,
    /// Transport protocol number (after IPv6 extension headers).
    pub protocol: u8,
    /// Captured bytes after the IP header(s).
    pub l4: &'a [u8],
    /// Length of the IP payload according to the IP header.
    pub l4_len: u32,
    /// Parsed transport header; `Fragment` for every fragment (the
    /// defragmenter completes the datagram).
    pub transport: Transport<'a>,
    /// The Ethernet shim that named the packet's path (MPLS labels, a
    /// PPPoE session), if any.
    pub shim: Option<link::Shim>,
}

/// A header that cannot be read, sorted into today's kinds: link headers
/// are cut short, IP headers and transport headers are cut short or
/// malformed, with the words the warning of `analyze` has always used.
impl From<wire::Error> for DecodeIssue {
    fn from(e: wire::Error) -> DecodeIssue {
        match e.problem {
            _ if e.header.is_link() => DecodeIssue::Link(LinkIssue::Truncated),
            Problem::Truncated { .. } if e.header.is_transport() => DecodeIssue::TruncatedTransport,
            Problem::Malformed(what) if e.header.is_transport() => {
                DecodeIssue::MalformedTransport(what)
            }
            Problem::Truncated { .. } => DecodeIssue::TruncatedIp,
            Problem::Malformed(what) => DecodeIssue::MalformedIp(what),
        }
    }
}

/// Decodes one frame down to its transport header. Marked inline so the
/// packet could be built where the caller keeps it (a tunnelled packet is
/// decoded twice); rustc keeps it out of line today, and forcing it
/// (`inline(always)`) saved only 0.3% of an analysis's instructions.
#[inline]
pub fn decode<'a>(frame: &Frame<'a>) -> Result<Packet<'a>, DecodeIssue> {
    // Ethernet straight to IP, most frames of most captures (and both
    // frames of a VXLAN packet): read here, without the link layer's
    // `Network` going through memory (about 15 instructions a frame).
    if frame.link_type == LinkType::ETHERNET {
        if let Ok(eth) = ethernet::Frame::new_checked(frame.data) {
            match eth.ethertype() {
                ETHERTYPE_IPV4 => return ipv4(eth.payload(), None),
                ETHERTYPE_IPV6 => return ipv6(eth.payload(), None),
                _ => {}
            }
        }
    }
    let net = link::network(frame.link_type, frame.data).map_err(DecodeIssue::Link)?;
    match net.ethertype {
        ETHERTYPE_IPV4 => ipv4(net.payload, net.shim),
        ETHERTYPE_IPV6 => ipv6(net.payload, net.shim),
        other => Err(DecodeIssue::Link(LinkIssue::NotIp(other))),
    }
}

#[inline]
fn ipv4(b: &[u8], shim: Option<link::Shim>) -> Result<Packet<'_>, DecodeIssue> {
    let ip = ipv4::Packet::new_checked(b)?;
    let offset = ip.frag_offset();
    let more = ip.more_frags();
    let fragment = (offset != 0 || more).then(|| Fragment {
        id: u32::from(ip.ident()),
        offset,
        more,
    });
    let protocol = ip.protocol();
    let payload = ip.payload();
    let payload_len = (ip.total_len() - ip.header_len()) as u32;
    let transport = if fragment.is_some() {
        Transport::Fragment { protocol, payload }
    } else {
        transport(protocol, payload, payload_len)?
    };
    let mut dst = ip.dst_addr();
    if ip.header_len() > ipv4::HEADER_LEN {
        // A source-routed datagram: keyed by where it is finally going, as
        // tshark does, not by the next hop in the header.
        let options = ip.datagram().get(ipv4::HEADER_LEN..ip.header_len());
        if let Some(end) = options.and_then(ipv4_options::final_destination) {
            dst = end;
        }
    }
    Ok(Packet {
        src: IpAddr::V4(ip.src_addr()),
        dst: IpAddr::V4(dst),
        ip: ip.datagram(),
        fragment,
        protocol,
        l4: payload,
        l4_len: payload_len,
        transport,
        shim,
    })
}

fn ipv6(b: &[u8], shim: Option<link::Shim>) -> Result<Packet<'_>, DecodeIssue> {
    let ip = ipv6::Packet::new_checked(b)?;
    let total_len = ip.total_len();
    let mut next = ip.next_header();
    let mut at = ipv6::HEADER_LEN;
    let mut fragment = None;
    while ipv6::is_extension(next) {
        let rest = b.get(at..).unwrap_or(&[]);
        let ext = ipv6::ExtHeader::new_checked(rest, next)?;
        if let Some((id, offset, more)) = ext.fragment() {
            fragment = Some(Fragment { id, offset, more });
        }
        next = ext.next_header();
        at += ext.header_len();
        if at > total_len {
            return Err(DecodeIssue::MalformedIp(
                "extension headers run past the payload",
            ));
        }
    }
    let datagram = ip.datagram();
    let payload = datagram.get(at..).unwrap_or(&[]);
    let remaining = (total_len - at) as u32;
    let transport = match fragment {
        Some(_) => Transport::Fragment {
            protocol: next,
            payload,
        },
        None => transport(next, payload, remaining)?,
    };
    Ok(Packet {
        src: IpAddr::V6(ip.src_addr()),
        dst: IpAddr::V6(ip.dst_addr()),
        ip: datagram,
        fragment,
        protocol: next,
        l4: payload,
        l4_len: remaining,
        transport,
        shim,
    })
}

/// Parses the transport header at the start of `b` (captured bytes of an IP
/// payload whose real length is `len`).
#[inline]
pub fn transport(protocol: u8, b: &[u8], len: u32) -> Result<Transport<'_>, DecodeIssue> {
    match protocol {
        PROTO_TCP => {
            let tcp = tcp::Packet::new_checked(b)?;
            let header_len = tcp.header_len() as u32;
            if header_len > len {
                return Err(DecodeIssue::MalformedTransport(
                    "TCP header longer than the IP payload",
                ));
            }
            let flags = tcp.flags();
            let window_scale = if flags & tcp_flags::SYN != 0 {
                tcp.window_scale()
            } else {
                None
            };
            Ok(Transport::Tcp(Tcp {
                src_port: tcp.src_port(),
                dst_port: tcp.dst_port(),
                seq: tcp.seq_number(),
                ack: tcp.ack_number(),
                flags,
                window: tcp.window_len(),
                window_scale,
                payload: tcp.payload(),
                payload_len: len - header_len,
            }))
        }
        PROTO_UDP => {
            let udp = udp::Packet::new_checked(b)?;
            // tshark rejects a length field under the header's own 8 bytes
            // (0 is a jumbogram's only past 65535 bytes, RFC 2675) and
            // leaves the datagram out of its conversations: so do we.
            let len_field = udp.len_field();
            if usize::from(len_field) < udp::HEADER_LEN && (len_field != 0 || len <= 0xffff) {
                return Err(DecodeIssue::MalformedTransport("UDP length field under 8"));
            }
            let datagram_len = udp.datagram_len(len);
            Ok(Transport::Udp(Udp {
                src_port: udp.src_port(),
                dst_port: udp.dst_port(),
                payload: udp.payload(datagram_len),
                payload_len: datagram_len.saturating_sub(udp::HEADER_LEN as u32),
            }))
        }
        other => Ok(Transport::Other { protocol: other }),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn frame(link: LinkType, data: &[u8]) -> Frame<'_> {
        Frame {
            index: 0,
            offset: 0,
            ts: None,
            link_type: link,
            interface: 0,
            orig_len: data.len() as u32,
            data,
        }
    }

    /// IPv4 + TCP, 3 bytes of payload, then 2 bytes of Ethernet padding.
    const V4_TCP: [u8; 48] = [
        0x45, 0, 0, 43, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // IPv4
        0xd0, 0x00, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x18, 0xff, 0xff, 0, 0, 0,
        0, // TCP
        b'G', b'E', b'T', 0, 0, 0, 0, 0,
    ];

    #[test]
    fn tcp_over_raw_ipv4_trims_padding() {
        let p = decode(&frame(LinkType::RAW, &V4_TCP)).unwrap();
        assert_eq!(p.src.to_string(), "10.0.0.1");
        let Transport::Tcp(t) = p.transport else {
            panic!("not tcp")
        };
        assert_eq!((t.src_port, t.dst_port, t.seq), (53248, 8080, 1));
        assert_eq!((t.payload, t.payload_len), (&b"GET"[..], 3));
        assert!(t.has(tcp_flags::PSH) && t.has(tcp_flags::ACK));
    }

    #[test]
    fn snaplen_cut_payload_keeps_its_length() {
        let p = decode(&frame(LinkType::RAW, &V4_TCP[..41])).unwrap();
        let Transport::Tcp(t) = p.transport else {
            panic!("not tcp")
        };
        assert_eq!((t.payload.len(), t.payload_len), (1, 3));
    }

    #[test]
    fn hostile_headers() {
        let mut bad = V4_TCP;
        bad[0] = 0x44; // IHL 16
        assert!(matches!(
            decode(&frame(LinkType::RAW, &bad)),
            Err(DecodeIssue::MalformedIp(_))
        ));
        let mut bad = V4_TCP;
        bad[3] = 10; // total length under IHL
        assert!(matches!(
            decode(&frame(LinkType::RAW, &bad)),
            Err(DecodeIssue::MalformedIp(_))
        ));
        assert_eq!(
            decode(&frame(LinkType::RAW, &V4_TCP[..30])).unwrap_err(),
            DecodeIssue::TruncatedTransport
        );
        let mut bad = V4_TCP;
        bad[32] = 0xf0; // TCP header of 60 bytes in a 23-byte payload
        assert!(matches!(
            decode(&frame(LinkType::RAW, &bad)),
            Err(DecodeIssue::MalformedTransport(_))
        ));
    }

    #[test]
    fn ipv6_with_hop_by_hop_then_udp() {
        let mut b = vec![0x60, 0, 0, 0, 0, 20, 0, 64];
        b.extend_from_slice(&[0; 15]);
        b.push(1); // ::1
        b.extend_from_slice(&[0; 15]);
        b.push(1);
        b.extend_from_slice(&[17, 0, 0, 0, 0, 0, 0, 0]); // hop-by-hop -> UDP
        b.extend_from_slice(&[0x30, 0x39, 0, 53, 0, 12, 0, 0, b'a', b'b', b'c', b'd']);
        let p = decode(&frame(LinkType::RAW, &b)).unwrap();
        assert_eq!(p.dst.to_string(), "::1");
        let Transport::Udp(u) = p.transport else {
            panic!("not udp")
        };
        assert_eq!(
            (u.src_port, u.dst_port, u.payload),
            (12345, 53, &b"abcd"[..])
        );
    }

    /// Ethernet + IPv4 + a SYN with a window scale option + 4 payload bytes.
    fn ethernet_syn() -> Vec<u8> {
        let mut f = vec![0x02; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        f.extend_from_slice(&[
            0x45, 0, 0, 48, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ]);
        f.extend_from_slice(&[
            0xd0, 0x00, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 0, 0x60, 0x02, 0xff, 0xff,
        ]);
        f.extend_from_slice(&[0, 0, 0, 0, 1, 3, 3, 9, b'd', b'a', b't', b'a']);
        f
    }

    #[test]
    fn truncated_at_every_length() {
        let f = ethernet_syn();
        for len in 0..=f.len() {
            let got = decode(&frame(LinkType::ETHERNET, &f[..len]));
            let want = match len {
                0..=13 => Err(DecodeIssue::Link(LinkIssue::Truncated)),
                14..=33 => Err(DecodeIssue::TruncatedIp),
                34..=53 => Err(DecodeIssue::TruncatedTransport),
                _ => Ok(()),
            };
            match (got, want) {
                (Ok(p), Ok(())) => {
                    let Transport::Tcp(t) = p.transport else {
                        panic!("not tcp at {len}")
                    };
                    // The header counts whole; what the snaplen left is handed on.
                    assert_eq!(t.payload_len, 4);
                    assert_eq!(t.payload, &b"data"[..len.saturating_sub(58)]);
                    assert_eq!(t.window_scale, (len >= 58).then_some(9), "{len}");
                }
                (got, want) => assert_eq!(got.map(|_| ()), want, "{len}"),
            }
        }
    }

    #[test]
    fn bad_ihl_and_data_offset() {
        let mut f = ethernet_syn();
        f[14] = 0x4f; // IHL 60 in a 48-byte datagram
        assert_eq!(
            decode(&frame(LinkType::ETHERNET, &f)).unwrap_err(),
            DecodeIssue::TruncatedIp
        );
        let mut f = ethernet_syn();
        f[14] = 0x65; // version 6 behind an IPv4 ethertype
        assert_eq!(
            decode(&frame(LinkType::ETHERNET, &f)).unwrap_err(),
            DecodeIssue::MalformedIp("version is not 4")
        );
        let mut f = ethernet_syn();
        f[46] = 0x30; // data offset 12 bytes
        assert_eq!(
            decode(&frame(LinkType::ETHERNET, &f)).unwrap_err(),
            DecodeIssue::MalformedTransport("TCP header length under 20 bytes")
        );
        let mut f = ethernet_syn();
        f[46] = 0xf0; // data offset 60 in a 32-byte IP payload
        assert_eq!(
            decode(&frame(LinkType::ETHERNET, &f)).unwrap_err(),
            DecodeIssue::MalformedTransport("TCP header longer than the IP payload")
        );
    }

    fn ipv6_with(payload_len: u16, next: u8, rest: &[u8]) -> Vec<u8> {
        let mut b = vec![0x60, 0, 0, 0];
        b.extend_from_slice(&payload_len.to_be_bytes());
        b.extend_from_slice(&[next, 64]);
        b.extend_from_slice(&[0; 32]);
        b.extend_from_slice(rest);
        b
    }

    #[test]
    fn ipv6_extension_chains_that_run_off_the_end() {
        // Routing header claiming 16 bytes in an 8-byte payload.
        let b = ipv6_with(8, 43, &[17, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            decode(&frame(LinkType::RAW, &b)).unwrap_err(),
            DecodeIssue::MalformedIp("extension headers run past the payload")
        );
        // Hop-by-hop, then a fragment header cut after 4 of its 8 bytes.
        let b = ipv6_with(16, 0, &[44, 0, 0, 0, 0, 0, 0, 0, 17, 0, 0, 1]);
        assert_eq!(
            decode(&frame(LinkType::RAW, &b)).unwrap_err(),
            DecodeIssue::TruncatedIp
        );
        // A chain of destination options ending exactly at the captured end.
        let b = ipv6_with(8, 60, &[60, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(
            decode(&frame(LinkType::RAW, &b)).unwrap_err(),
            DecodeIssue::TruncatedIp
        );
        // A fragment: the chain stops there and the rest is handed on.
        let b = ipv6_with(12, 44, &[6, 0, 0, 9, 0, 0, 0, 7, 1, 2, 3, 4]);
        let p = decode(&frame(LinkType::RAW, &b)).unwrap();
        assert_eq!(
            p.fragment,
            Some(Fragment {
                id: 7,
                offset: 8,
                more: true
            })
        );
        assert!(matches!(
            p.transport,
            Transport::Fragment {
                protocol: 6,
                payload: [1, 2, 3, 4]
            }
        ));
        for len in 0..b.len() {
            // Never a panic, whatever the cut.
            let _ = decode(&frame(LinkType::RAW, &b[..len]));
        }
    }

    #[test]
    fn wire_errors_keep_todays_words() {
        use crate::pcap::wire::{Error, Header};
        let cases = [
            (
                Error::truncated(Header::Vlan, 4, 1),
                "link header cut short",
            ),
            (
                Error::truncated(Header::Ipv6Extension, 2, 0),
                "IP header cut short",
            ),
            (
                Error::malformed(Header::Ipv4, "version is not 4"),
                "malformed IP header: version is not 4",
            ),
            (
                Error::truncated(Header::Udp, 8, 3),
                "TCP/UDP header cut short",
            ),
            (
                Error::malformed(Header::Tcp, "TCP header length under 20 bytes"),
                "malformed transport header: TCP header length under 20 bytes",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(DecodeIssue::from(error).to_string(), text);
        }
    }
}
