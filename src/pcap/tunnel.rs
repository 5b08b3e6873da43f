//! Tunnels: the packet an encapsulation carries, found without copying,
//! and the facts that say which tunnel carried it (kind, outer endpoints,
//! VNI or key). IP-level encapsulations (GRE with ERSPAN and NVGRE,
//! IP-in-IP in its four pairings, EtherIP, MPLS-in-IP) are recognised by
//! the IP protocol number, UDP ones (VXLAN, VXLAN-GPE, Geneve, GTP-U) by
//! the destination port; Ethernet shims (MPLS, PPPoE, NSH, E-Tag) are the link layer's
//! (`link.rs`), and the two that name a path (an MPLS label stack, a PPPoE
//! session) become hops without endpoints here. See "Tunnels" in the README.

use std::fmt;
use std::net::IpAddr;

use super::frame::LinkType;
use super::link;
use super::wire::{erspan, geneve, gre, gtp, vxlan};

/// IP protocol numbers of encapsulations.
pub const PROTO_IPIP: u8 = 4;
pub const PROTO_IPV6: u8 = 41;
pub const PROTO_GRE: u8 = 47;
pub const PROTO_ETHERIP: u8 = 97;
pub const PROTO_L2TPV3: u8 = 115;
pub const PROTO_MPLS_IN_IP: u8 = 137;

/// EtherIP's 2-byte header (RFC 3378 §3: version 3, reserved bits).
const ETHERIP_HEADER_LEN: usize = 2;

/// Which encapsulation a hop is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Vxlan,
    VxlanGpe,
    Geneve,
    /// GTP-U, the mobile core's user plane (its TEID is the hop's id).
    GtpU,
    Gre,
    /// GRE bridging Ethernet with a key: VSID and flow id (RFC 7637).
    Nvgre,
    /// PPTP's enhanced GRE (version 1) carrying PPP.
    Pptp,
    /// ERSPAN type I, II or III.
    Erspan(u8),
    /// IP in IP: outer and inner versions (4in4, 6in4, 4in6, 6in6).
    IpInIp {
        outer: u8,
        inner: u8,
    },
    EtherIp,
    MplsInIp,
    /// An MPLS label stack (no endpoints: the labels are the path).
    Mpls(link::Labels),
    /// A PPPoE session (its id is the hop's).
    Pppoe,
}

impl Kind {
    /// The word a tunnel starts with when shown.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Vxlan => "vxlan",
            Kind::VxlanGpe => "vxlan-gpe",
            Kind::Geneve => "geneve",
            Kind::GtpU => "gtp-u",
            Kind::Gre => "gre",
            Kind::Nvgre => "nvgre",
            Kind::Pptp => "pptp",
            Kind::Erspan(1) => "erspan-i",
            Kind::Erspan(2) => "erspan-ii",
            Kind::Erspan(_) => "erspan-iii",
            Kind::IpInIp { outer: 4, inner: 4 } => "4in4",
            Kind::IpInIp { outer: 4, .. } => "6in4",
            Kind::IpInIp { inner: 4, .. } => "4in6",
            Kind::IpInIp { .. } => "6in6",
            Kind::EtherIp => "etherip",
            Kind::MplsInIp => "mpls-in-ip",
            Kind::Mpls(_) => "mpls",
            Kind::Pppoe => "pppoe",
        }
    }

    /// What the hop's identifier is called.
    fn id_name(self) -> &'static str {
        match self {
            Kind::Vxlan | Kind::VxlanGpe | Kind::Geneve => "vni",
            Kind::GtpU => "teid",
            Kind::Nvgre => "vsid",
            Kind::Pptp => "call",
            Kind::Erspan(_) | Kind::Pppoe => "session",
            _ => "key",
        }
    }
}

/// One level of encapsulation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hop {
    pub kind: Kind,
    /// The outer header's endpoints (source, destination); none for an
    /// Ethernet shim.
    pub ends: Option<(IpAddr, IpAddr)>,
    /// VNI, GRE key, NVGRE VSID, ERSPAN session, PPTP call or PPPoE
    /// session id.
    pub id: Option<u32>,
}

impl Hop {
    /// The hop an Ethernet shim names.
    pub fn shim(shim: link::Shim) -> Hop {
        let (kind, id) = match shim {
            link::Shim::Mpls(labels) => (Kind::Mpls(labels), None),
            link::Shim::Pppoe(session) => (Kind::Pppoe, Some(u32::from(session))),
        };
        Hop {
            kind,
            ends: None,
            id,
        }
    }
}

impl fmt::Display for Hop {
    /// `vxlan vni 42 10.0.0.1→10.0.0.2`, `mpls labels 100/200`,
    /// `pppoe session 0x0011`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.kind.name())?;
        if let Kind::Mpls(labels) = self.kind {
            write!(f, " labels {labels}")?;
        }
        match self.id {
            // A PPPoE session id is shown in hex, as tshark and pppd do.
            Some(id) if self.kind == Kind::Pppoe => write!(f, " session {id:#06x}")?,
            Some(id) => write!(f, " {} {id}", self.kind.id_name())?,
            None => {}
        }
        if let Some((src, dst)) = self.ends {
            write!(f, " {src}→{dst}")?;
        }
        Ok(())
    }
}

/// Most hops a path keeps (a deeper nesting is decoded, and shown cut).
pub const MAX_SHOWN: usize = 4;
/// Most levels of encapsulation followed in one frame: a deeper one (or a
/// loop of them) is reported as a warning. Ethernet shims (an MPLS label
/// stack, a PPPoE session) do not count: each is read within the decode
/// of its frame, and opens nothing more to decode.
pub const MAX_DEPTH: u8 = 8;

/// The tunnels around a packet, outermost first (empty outside any).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Path {
    hops: [Option<Hop>; MAX_SHOWN],
    depth: u8,
    /// Levels that are Ethernet shims.
    shims: u8,
}

impl Path {
    /// Goes one tunnel deeper, inside `hop`.
    pub fn enter(&mut self, hop: Hop) {
        if let Some(slot) = self.hops.get_mut(usize::from(self.depth)) {
            *slot = Some(hop);
        }
        self.depth = self.depth.saturating_add(1);
    }

    /// Comes out of the innermost tunnel.
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        if let Some(slot) = self.hops.get_mut(usize::from(self.depth)) {
            *slot = None;
        }
    }

    /// Goes one level deeper, behind an Ethernet shim's hop (see
    /// [`Hop::shim`]): a hop shown, not a tunnel counted.
    pub fn enter_shim(&mut self, hop: Hop) {
        self.enter(hop);
        self.shims = self.shims.saturating_add(1);
    }

    /// Comes out from behind the innermost level, a shim.
    pub fn leave_shim(&mut self) {
        self.leave();
        self.shims = self.shims.saturating_sub(1);
    }

    /// Levels of encapsulation, shims included.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// Levels of encapsulation that are tunnels, not shims: what
    /// [`MAX_DEPTH`] bounds.
    pub fn tunnels(&self) -> u8 {
        self.depth.saturating_sub(self.shims)
    }

    /// The hops kept, outermost first.
    pub fn hops(&self) -> impl Iterator<Item = &Hop> {
        self.hops.iter().flatten()
    }
}

impl fmt::Display for Path {
    /// Hops outermost first, separated by ` / `.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, hop) in self.hops().enumerate() {
            if i > 0 {
                f.write_str(" / ")?;
            }
            write!(f, "{hop}")?;
        }
        if usize::from(self.depth) > MAX_SHOWN {
            f.write_str(" / …")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Path {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// An encapsulation found in a packet.
#[derive(Clone, Copy, Debug)]
pub enum Decap<'a> {
    /// The packet it carries, to decode from its `link` header.
    Inner {
        hop: Hop,
        link: LinkType,
        data: &'a [u8],
    },
    /// One we recognise and do not open (or whose header is broken).
    Undecoded(Undecoded),
}

/// An encapsulation left closed: what it is and the value that stopped us.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Undecoded {
    pub what: &'static str,
    pub value: Option<u32>,
}

impl fmt::Display for Undecoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.what)?;
        if let Some(v) = self.value {
            write!(f, " {v:#06x}")?;
        }
        Ok(())
    }
}

fn undecoded(what: &'static str, value: Option<u32>) -> Decap<'static> {
    Decap::Undecoded(Undecoded { what, value })
}

/// Whether an IP payload of `protocol` is an encapsulation [`ip`] knows.
#[inline(always)]
pub fn is_ip_protocol(protocol: u8) -> bool {
    matches!(
        protocol,
        PROTO_IPIP | PROTO_IPV6 | PROTO_GRE | PROTO_ETHERIP | PROTO_L2TPV3 | PROTO_MPLS_IN_IP
    )
}

/// Whether a UDP datagram to `dst_port` may carry a tunnel: the one port
/// compare plain traffic pays.
#[inline(always)]
pub fn is_udp_port(dst_port: u16) -> bool {
    matches!(
        dst_port,
        vxlan::PORT | vxlan::PORT_LINUX | vxlan::PORT_GPE | geneve::PORT | gtp::PORT
    )
}

/// The packet inside an IP payload of `protocol`, when that protocol is
/// an encapsulation (`None` otherwise, and for an empty payload: a PPTP
/// acknowledgment carries nothing).
pub fn ip(src: IpAddr, dst: IpAddr, protocol: u8, payload: &[u8]) -> Option<Decap<'_>> {
    if payload.is_empty() {
        return None;
    }
    let outer = if src.is_ipv4() { 4 } else { 6 };
    let hop = |kind, id| Hop {
        kind,
        ends: Some((src, dst)),
        id,
    };
    let decap = match protocol {
        PROTO_IPIP | PROTO_IPV6 => {
            let inner = if protocol == PROTO_IPIP { 4 } else { 6 };
            Decap::Inner {
                hop: hop(Kind::IpInIp { outer, inner }, None),
                link: LinkType::RAW,
                data: payload,
            }
        }
        PROTO_GRE => gre_payload(payload, hop),
        PROTO_ETHERIP => Decap::Inner {
            hop: hop(Kind::EtherIp, None),
            link: LinkType::ETHERNET,
            data: payload.get(ETHERIP_HEADER_LEN..).unwrap_or(&[]),
        },
        PROTO_MPLS_IN_IP => Decap::Inner {
            hop: hop(Kind::MplsInIp, None),
            link: link::MPLS,
            data: payload,
        },
        PROTO_L2TPV3 => undecoded("L2TPv3 over IP", None),
        _ => return None,
    };
    Some(decap)
}

fn gre_payload(payload: &[u8], hop: impl Fn(Kind, Option<u32>) -> Hop) -> Decap<'_> {
    let Ok(gre) = gre::Packet::new_checked(payload) else {
        return undecoded("GRE with a broken header", None);
    };
    let key = gre.key();
    let inner = gre.payload();
    if gre.version() == 1 {
        return match gre.protocol() {
            gre::PROTO_PPP => Decap::Inner {
                hop: hop(Kind::Pptp, key.map(|k| k & 0xffff)),
                link: link::PPP,
                data: inner,
            },
            other => undecoded("PPTP GRE carrying protocol", Some(u32::from(other))),
        };
    }
    if gre.version() != 0 {
        return undecoded("GRE version", Some(u32::from(gre.version())));
    }
    let (kind, link, data) = match gre.protocol() {
        gre::PROTO_IPV4 | gre::PROTO_IPV6 => (Kind::Gre, LinkType::RAW, inner),
        gre::PROTO_BRIDGING if key.is_some() => (Kind::Nvgre, LinkType::ETHERNET, inner),
        gre::PROTO_BRIDGING => (Kind::Gre, LinkType::ETHERNET, inner),
        gre::PROTO_MPLS => (Kind::Gre, link::MPLS, inner),
        gre::PROTO_PPP => (Kind::Gre, link::PPP, inner),
        // Type I has no sequence number and no header of its own.
        gre::PROTO_ERSPAN_II if !gre.has_seq() => (Kind::Erspan(1), LinkType::ETHERNET, inner),
        gre::PROTO_ERSPAN_II | gre::PROTO_ERSPAN_III => {
            let Ok(span) = erspan::Packet::new_checked(inner) else {
                return undecoded("ERSPAN with a broken header", None);
            };
            let kind = Kind::Erspan(span.version() + 1);
            return Decap::Inner {
                hop: hop(kind, Some(u32::from(span.session_id()))),
                link: LinkType::ETHERNET,
                data: span.payload(),
            };
        }
        other => return undecoded("GRE carrying protocol", Some(u32::from(other))),
    };
    let id = match kind {
        Kind::Nvgre => key.map(|k| k >> 8),
        _ => key,
    };
    Decap::Inner {
        hop: hop(kind, id),
        link,
        data,
    }
}

/// The packet inside a UDP datagram to `dst_port` (one [`is_udp_port`]
/// accepted). A VXLAN header without its I flag is not VXLAN: the port
/// is then some other service's. Inlined into its one caller in the
/// pipeline: the `Decap` is then never built in memory and copied back.
#[inline(always)]
pub fn udp(src: IpAddr, dst: IpAddr, dst_port: u16, payload: &[u8]) -> Option<Decap<'_>> {
    let hop = |kind, id| Hop {
        kind,
        ends: Some((src, dst)),
        id: Some(id),
    };
    if dst_port == geneve::PORT {
        let Ok(g) = geneve::Packet::new_checked(payload) else {
            return Some(undecoded("Geneve with a broken header", None));
        };
        let link = match g.protocol() {
            gre::PROTO_BRIDGING => LinkType::ETHERNET,
            gre::PROTO_IPV4 | gre::PROTO_IPV6 => LinkType::RAW,
            other => {
                return Some(undecoded(
                    "Geneve carrying protocol",
                    Some(u32::from(other)),
                ))
            }
        };
        return Some(Decap::Inner {
            hop: hop(Kind::Geneve, g.vni()),
            link,
            data: g.payload(),
        });
    }
    match dst_port {
        vxlan::PORT_GPE => return vxlan_gpe(payload, hop),
        gtp::PORT => return gtp_u(payload, hop),
        _ => {}
    }
    let v = vxlan_header(payload)?;
    Some(Decap::Inner {
        hop: hop(Kind::Vxlan, v.vni()),
        link: LinkType::ETHERNET,
        data: v.payload(),
    })
}

/// A VXLAN (or VXLAN-GPE) header with a valid VNI (the I flag). Too
/// short, or without it: another program's datagram on the port, left
/// plain as GTP-U leaves its own.
fn vxlan_header(payload: &[u8]) -> Option<vxlan::Packet<&[u8]>> {
    let v = vxlan::Packet::new_checked(payload).ok()?;
    (v.flags() & vxlan::I_FLAG != 0).then_some(v)
}

/// VXLAN-GPE: what follows is the header's next protocol.
fn vxlan_gpe(payload: &[u8], hop: impl Fn(Kind, u32) -> Hop) -> Option<Decap<'_>> {
    let v = vxlan_header(payload)?;
    // Without the P flag the next-protocol byte means nothing and an
    // Ethernet frame follows, as in plain VXLAN.
    if v.flags() & vxlan::GPE_P_FLAG == 0 {
        return Some(Decap::Inner {
            hop: hop(Kind::VxlanGpe, v.vni()),
            link: LinkType::ETHERNET,
            data: v.payload(),
        });
    }
    let link = match v.next_protocol() {
        vxlan::GPE_IPV4 | vxlan::GPE_IPV6 => LinkType::RAW,
        vxlan::GPE_ETHERNET => LinkType::ETHERNET,
        vxlan::GPE_MPLS => link::MPLS,
        other => {
            return Some(undecoded(
                "VXLAN-GPE carrying protocol",
                Some(u32::from(other)),
            ));
        }
    };
    Some(Decap::Inner {
        hop: hop(Kind::VxlanGpe, v.vni()),
        link,
        data: v.payload(),
    })
}

/// GTP-U: a G-PDU carries a user's IP packet; its other messages (echo,
/// error indication, end marker) carry none and are plain datagrams.
fn gtp_u(payload: &[u8], hop: impl Fn(Kind, u32) -> Hop) -> Option<Decap<'_>> {
    // A datagram too short or of another version is not GTP-U: another
    // program on the port, left as a plain datagram (as VXLAN does).
    let g = gtp::Packet::new_checked(payload).ok()?;
    if g.message_type() != gtp::G_PDU {
        return None;
    }
    let data = g.payload();
    match data.first().map(|b| b >> 4) {
        Some(4 | 6) => Some(Decap::Inner {
            hop: hop(Kind::GtpU, g.teid()),
            link: LinkType::RAW,
            data,
        }),
        None => None,
        // An Ethernet or unstructured PDU session: not opened.
        Some(_) => Some(undecoded("GTP-U carrying a non-IP packet", None)),
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn v4(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn paths_show_outermost_first() {
        let gre = Hop {
            kind: Kind::Gre,
            ends: Some((v4("192.0.2.1"), v4("192.0.2.2"))),
            id: None,
        };
        let vx = Hop {
            kind: Kind::Vxlan,
            ends: Some((v4("10.0.0.1"), v4("10.0.0.2"))),
            id: Some(42),
        };
        let mut p = Path::default();
        p.enter(gre);
        p.enter(vx);
        assert_eq!(
            p.to_string(),
            "gre 192.0.2.1→192.0.2.2 / vxlan vni 42 10.0.0.1→10.0.0.2"
        );
        let shallow = p;
        for _ in 0..5 {
            p.enter(gre);
        }
        assert_eq!(p.depth(), 7);
        assert!(p.to_string().ends_with(" / …"));
        for _ in 0..5 {
            p.leave();
        }
        assert_eq!(p, shallow);
    }

    #[test]
    fn shims_show_without_endpoints() {
        let mut labels = link::Labels::default();
        labels.push(100);
        labels.push(200);
        let mut p = Path::default();
        p.enter_shim(Hop::shim(link::Shim::Mpls(labels)));
        p.enter_shim(Hop::shim(link::Shim::Pppoe(0x11)));
        assert_eq!(p.to_string(), "mpls labels 100/200 / pppoe session 0x0011");
        // Shims are hops, not tunnels: they leave MAX_DEPTH alone.
        assert_eq!((p.depth(), p.tunnels()), (2, 0));
        p.enter(Hop {
            kind: Kind::Gre,
            ends: None,
            id: None,
        });
        assert_eq!((p.depth(), p.tunnels()), (3, 1));
        p.leave();
        p.leave_shim();
        assert_eq!((p.depth(), p.tunnels()), (1, 0));
    }

    #[test]
    fn gre_kinds() {
        let (a, b) = (v4("1.1.1.1"), v4("2.2.2.2"));
        let inner = |payload: &[u8]| match ip(a, b, PROTO_GRE, payload) {
            Some(Decap::Inner { hop, link, data }) => (hop.kind, hop.id, link, data.len()),
            other => panic!("{other:?}"),
        };
        // Keyed NVGRE: VSID 0x123456, flow id 0x78.
        let nvgre = [0x20, 0, 0x65, 0x58, 0x12, 0x34, 0x56, 0x78, 0xaa];
        assert_eq!(
            inner(&nvgre),
            (Kind::Nvgre, Some(0x12_3456), LinkType::ETHERNET, 1)
        );
        let erspan_i = [0, 0, 0x88, 0xbe, 0xaa];
        assert_eq!(
            inner(&erspan_i),
            (Kind::Erspan(1), None, LinkType::ETHERNET, 1)
        );
        let erspan_ii = [
            0x10, 0, 0x88, 0xbe, 0, 0, 0, 1, 0x10, 0, 0, 7, 0, 0, 0, 0, 0xaa,
        ];
        assert_eq!(
            inner(&erspan_ii),
            (Kind::Erspan(2), Some(7), LinkType::ETHERNET, 1)
        );
        let pptp = [
            0x30, 0x81, 0x88, 0x0b, 0, 1, 0, 9, 0, 0, 0, 1, 0, 0, 0, 0, 0x21,
        ];
        assert_eq!(inner(&pptp), (Kind::Pptp, Some(9), link::PPP, 1));
        assert!(matches!(
            ip(a, b, PROTO_GRE, &[0, 0, 0x12, 0x34, 0]),
            Some(Decap::Undecoded(Undecoded {
                value: Some(0x1234),
                ..
            }))
        ));
        assert!(ip(a, b, 6, &[0; 20]).is_none());
        assert!(ip(a, b, PROTO_GRE, &[]).is_none());
    }

    #[test]
    fn every_cut_of_every_header_is_safe() {
        let (a, b) = (v4("1.1.1.1"), v4("2.2.2.2"));
        let erspan_iii = [
            0x10, 0, 0x22, 0xeb, 0, 0, 0, 1, 0x20, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4, 5,
            6, 7, 8, 0xaa,
        ];
        let keyed = [
            0xb0, 0, 0x08, 0x00, 0, 0, 0, 0, 0, 0, 0, 7, 0, 0, 0, 1, 0x45,
        ];
        for len in 0..=erspan_iii.len() {
            let _ = ip(a, b, PROTO_GRE, &erspan_iii[..len]);
            let _ = ip(a, b, PROTO_GRE, &keyed[..len.min(keyed.len())]);
        }
        assert!(matches!(
            ip(a, b, PROTO_GRE, &erspan_iii),
            Some(Decap::Inner {
                hop: Hop {
                    kind: Kind::Erspan(3),
                    id: Some(9),
                    ..
                },
                data: [0xaa],
                ..
            })
        ));
        let geneve = [
            0x02, 0, 0x65, 0x58, 0, 0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0xaa,
        ];
        for len in 0..geneve.len() - 1 {
            let got = udp(a, b, geneve::PORT, &geneve[..len]);
            assert!(matches!(got, Some(Decap::Undecoded(_))), "{len}");
            let _ = udp(a, b, vxlan::PORT, &geneve[..len]);
        }
    }

    #[test]
    fn vxlan_gpe_and_gtp_u() {
        let (a, b) = (v4("1.1.1.1"), v4("2.2.2.2"));
        let opened = |port, payload: &[u8]| match udp(a, b, port, payload) {
            Some(Decap::Inner { hop, link, data }) => Some((hop.to_string(), link, data.len())),
            _ => None,
        };
        let gpe = [0x0c, 0, 0, 1, 0, 0, 5, 0, 0x45];
        assert_eq!(
            opened(vxlan::PORT_GPE, &gpe),
            Some(("vxlan-gpe vni 5 1.1.1.1→2.2.2.2".into(), LinkType::RAW, 1))
        );
        // Without the P flag an Ethernet frame follows, whatever byte 3 says.
        let mut no_p = gpe;
        no_p[0] = 0x08;
        no_p[3] = 0;
        assert!(matches!(
            udp(a, b, vxlan::PORT_GPE, &no_p),
            Some(Decap::Inner {
                link: LinkType::ETHERNET,
                ..
            })
        ));
        let mut nsh = gpe;
        nsh[3] = vxlan::GPE_NSH;
        assert!(matches!(
            udp(a, b, vxlan::PORT_GPE, &nsh),
            Some(Decap::Undecoded(Undecoded { value: Some(4), .. }))
        ));
        let gtp = [0x30, 0xff, 0, 1, 0, 0, 0x10, 0, 0x60];
        assert_eq!(
            opened(gtp::PORT, &gtp),
            Some(("gtp-u teid 4096 1.1.1.1→2.2.2.2".into(), LinkType::RAW, 1))
        );
        // An echo request carries no packet: a plain datagram.
        let echo = [0x32, 0x01, 0, 4, 0, 0, 0, 0, 0, 1, 0, 0];
        assert!(udp(a, b, gtp::PORT, &echo).is_none());
        // Too short for GTP-U: another program's datagram, no warning.
        assert!(udp(a, b, gtp::PORT, &gtp[..3]).is_none());
        for len in 0..gtp.len() {
            let _ = udp(a, b, gtp::PORT, &gtp[..len]);
            let _ = udp(a, b, vxlan::PORT_GPE, &gpe[..len]);
        }
    }

    #[test]
    fn udp_tunnels() {
        let (a, b) = (v4("1.1.1.1"), v4("2.2.2.2"));
        let vx = [0x08, 0, 0, 0, 0, 0, 42, 0, 0xaa];
        assert!(matches!(
            udp(a, b, vxlan::PORT_LINUX, &vx),
            Some(Decap::Inner {
                hop: Hop { id: Some(42), .. },
                ..
            })
        ));
        let mut not_vx = vx;
        not_vx[0] = 0;
        assert!(udp(a, b, vxlan::PORT, &not_vx).is_none());
        let gen = [0, 0, 0x86, 0xdd, 0, 0, 5, 0, 0x60];
        assert!(matches!(
            udp(a, b, geneve::PORT, &gen),
            Some(Decap::Inner {
                link: LinkType::RAW,
                hop: Hop {
                    kind: Kind::Geneve,
                    id: Some(5),
                    ..
                },
                ..
            })
        ));
    }
}
