//! Lowering an [`Expr`] to [`Pred`], a small predicate language over packet
//! bytes, for one link-layer family. This is where tcpdump's semantics live
//! (it mirrors libpcap's `gencode.c`): which bytes `ip`, `port 80` or
//! `tcp[13]` look at for each link type, that `port` skips non-first IPv4
//! fragments, that `tcp` on IPv6 also looks behind one fragment header,
//! that `vlan` moves every later primitive 4 bytes further, ... Both the
//! user-space evaluator and the BPF compiler work from `Pred`, so they
//! cannot disagree about meaning, only about execution.

use super::ast::*;
use crate::pcap::LinkType;

/// Link-layer families with distinct filter code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Family {
    Ethernet,
    /// Linux cooked v1 (DLT 113).
    Sll,
    /// Linux cooked v2 (DLT 276).
    Sll2,
    /// BSD loopback, AF in the writer's byte order (DLT 0).
    Null,
    /// OpenBSD loopback, AF in network byte order (DLT 108).
    Loop,
    /// Raw IP, version from the first nibble (DLT 101, 12, 14).
    Raw,
    /// Raw IPv4 only (DLT 228).
    Ipv4,
    /// Raw IPv6 only (DLT 229).
    Ipv6,
    /// An AF_PACKET SOCK_DGRAM socket: data starts at the network header,
    /// the ethertype is the ancillary protocol; `len` is counted as if the
    /// 16-byte SLL header were present (as in the capture file written).
    Cooked,
}

/// The families a capture file can have, in [`Family::index`] order.
pub(crate) const FILE_FAMILIES: [Family; 8] = [
    Family::Ethernet,
    Family::Sll,
    Family::Sll2,
    Family::Null,
    Family::Loop,
    Family::Raw,
    Family::Ipv4,
    Family::Ipv6,
];

impl Family {
    pub(crate) fn of(lt: LinkType) -> Option<Family> {
        Some(match lt.0 {
            1 => Family::Ethernet,
            113 => Family::Sll,
            276 => Family::Sll2,
            0 => Family::Null,
            108 => Family::Loop,
            12 | 14 | 101 => Family::Raw,
            228 => Family::Ipv4,
            229 => Family::Ipv6,
            _ => return None,
        })
    }

    pub(crate) fn index(self) -> usize {
        match self {
            Family::Ethernet => 0,
            Family::Sll => 1,
            Family::Sll2 => 2,
            Family::Null => 3,
            Family::Loop => 4,
            Family::Raw => 5,
            Family::Ipv4 => 6,
            Family::Ipv6 => 7,
            Family::Cooked => 8,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Family::Ethernet => "Ethernet",
            Family::Sll => "Linux cooked v1",
            Family::Sll2 => "Linux cooked v2",
            Family::Null => "BSD loopback",
            Family::Loop => "OpenBSD loopback",
            Family::Raw => "Raw IP",
            Family::Ipv4 => "Raw IPv4",
            Family::Ipv6 => "Raw IPv6",
            Family::Cooked => "a cooked (-i any) socket",
        }
    }
}

/// Where a [`Pred::Cmp`] reads its value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Loc {
    /// Bytes at this offset from the start of the data.
    Abs(u32),
    /// Bytes at `nl + 4 * (data[nl] & 0xf) + off`: past an IPv4 header.
    Ipv4Payload { nl: u32, off: u32 },
    /// The ancillary protocol (ethertype) of a cooked socket.
    Protocol,
}

/// Unsigned comparisons, as BPF's jumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Cond {
    Eq,
    Gt,
    Ge,
    /// `(value & k) != 0`
    Set,
}

impl Cond {
    pub(crate) fn test(self, a: u32, k: u32) -> bool {
        match self {
            Cond::Eq => a == k,
            Cond::Gt => a > k,
            Cond::Ge => a >= k,
            Cond::Set => a & k != 0,
        }
    }
}

/// A predicate over packet bytes. Evaluation is left to right with
/// short-circuit; a read past the captured bytes rejects the whole packet
/// (as a BPF load failure does), wherever it happens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Pred {
    True,
    False,
    And(Box<Pred>, Box<Pred>),
    Or(Box<Pred>, Box<Pred>),
    Not(Box<Pred>),
    /// Read `size` bytes (1, 2, 4; big-endian) at `loc`, AND with `mask`,
    /// compare with `val`.
    Cmp {
        loc: Loc,
        size: u8,
        mask: u32,
        cond: Cond,
        val: u32,
    },
    /// Compare two computed values.
    Rel {
        cond: Cond,
        lhs: Val,
        rhs: Val,
    },
}

/// Where a computed load counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Base {
    Abs(u32),
    /// `nl + (index + 4 * (data[nl] & 0xf))`, the sum wrapping at 32 bits.
    Ipv4Payload(u32),
}

/// A computed 32-bit value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Val {
    Const(u32),
    /// Original (wire) length of the packet.
    Len,
    Load {
        base: Base,
        index: Box<Val>,
        size: u8,
    },
    Bin(BinOp, Box<Val>, Box<Val>),
    Neg(Box<Val>),
}

fn and(a: Pred, b: Pred) -> Pred {
    Pred::And(Box::new(a), Box::new(b))
}
fn or(a: Pred, b: Pred) -> Pred {
    Pred::Or(Box::new(a), Box::new(b))
}
fn not(a: Pred) -> Pred {
    Pred::Not(Box::new(a))
}
fn and_opt(a: Option<Pred>, b: Pred) -> Pred {
    match a {
        Some(a) => and(a, b),
        None => b,
    }
}
fn and_opt2(a: Option<Pred>, b: Option<Pred>) -> Option<Pred> {
    match (a, b) {
        (Some(a), Some(b)) => Some(and(a, b)),
        (a, None) => a,
        (None, b) => b,
    }
}
fn cmp(loc: Loc, size: u8, cond: Cond, val: u32) -> Pred {
    Pred::Cmp {
        loc,
        size,
        mask: u32::MAX,
        cond,
        val,
    }
}
fn abs(off: u32, size: u8, val: u32) -> Pred {
    cmp(Loc::Abs(off), size, Cond::Eq, val)
}

const ETH_IP: u32 = 0x0800;
const ETH_IP6: u32 = 0x86dd;
const ETH_ARP: u32 = 0x0806;
const ETH_RARP: u32 = 0x8035;
const ETHERMTU: u32 = 1500;
const IPPROTO_FRAGMENT: u32 = 44;

/// Lowers `e` for `family`. `Err` says why libpcap would refuse the
/// expression on this link type (tcpdump then prints nothing).
pub(crate) fn lower(e: &Expr, family: Family, kernel: bool) -> Result<Pred, String> {
    let (off_linktype, off_nl) = match family {
        Family::Ethernet => (12, 14),
        Family::Sll => (14, 16),
        Family::Sll2 => (0, 20),
        Family::Null | Family::Loop => (0, 4),
        Family::Raw | Family::Ipv4 | Family::Ipv6 | Family::Cooked => (0, 0),
    };
    let mut l = Lower {
        family,
        kernel,
        off_linktype,
        off_nl,
    };
    l.expr(e)
}

struct Lower {
    family: Family,
    /// Compiling for a live socket (vlan tags are not in the data there).
    kernel: bool,
    off_linktype: u32,
    off_nl: u32,
}

type R<T> = Result<T, String>;

impl Lower {
    fn expr(&mut self, e: &Expr) -> R<Pred> {
        // `a and b or c ...` parses into a left-leaning spine as long as the
        // expression: walk it without recursion.
        if matches!(e, Expr::And(..) | Expr::Or(..)) {
            let mut spine = Vec::new();
            let mut left = e;
            while let Expr::And(a, b) | Expr::Or(a, b) = left {
                spine.push((matches!(left, Expr::And(..)), &**b));
                left = a;
            }
            let mut acc = self.expr(left)?;
            for (is_and, right) in spine.into_iter().rev() {
                let r = self.expr(right)?;
                acc = if is_and { and(acc, r) } else { or(acc, r) };
            }
            return Ok(acc);
        }
        Ok(match e {
            Expr::True => Pred::True,
            Expr::And(a, b) => {
                let a = self.expr(a)?;
                and(a, self.expr(b)?)
            }
            Expr::Or(a, b) => {
                let a = self.expr(a)?;
                or(a, self.expr(b)?)
            }
            Expr::Not(a) => not(self.expr(a)?),
            Expr::Host {
                proto,
                dir,
                addr,
                mask,
            } => {
                let (a, m) = (u32::from(*addr), u32::from(*mask));
                match proto {
                    HostProto::Ip => self.hostop(a, m, *dir, ETH_IP, 12, 16),
                    HostProto::Arp => self.hostop(a, m, *dir, ETH_ARP, 14, 24),
                    HostProto::Rarp => self.hostop(a, m, *dir, ETH_RARP, 14, 24),
                    HostProto::Any => {
                        let ip = self.hostop(a, m, *dir, ETH_IP, 12, 16);
                        let arp = self.hostop(a, m, *dir, ETH_ARP, 14, 24);
                        let rarp = self.hostop(a, m, *dir, ETH_RARP, 14, 24);
                        or(or(ip, arp), rarp)
                    }
                }
            }
            Expr::Host6 { dir, addr, mask } => {
                self.host6(u128::from(*addr), u128::from(*mask), *dir)
            }
            Expr::EtherHost { dir, addr } => self.ether_host(*dir, addr)?,
            Expr::Port { proto, dir, lo, hi } => self.port(*proto, *dir, *lo, *hi),
            Expr::Proto { layer, value } => self.proto(*layer, *value),
            Expr::Abbrev(p) => self.abbrev(*p),
            Expr::Compare { op, lhs, rhs } => {
                let (l, lc) = self.val(lhs)?;
                let (r, rc) = self.val(rhs)?;
                let rel = |cond| Pred::Rel {
                    cond,
                    lhs: l.clone(),
                    rhs: r.clone(),
                };
                let test = match op {
                    RelOp::Eq => rel(Cond::Eq),
                    RelOp::Ne => not(rel(Cond::Eq)),
                    RelOp::Gt => rel(Cond::Gt),
                    RelOp::Ge => rel(Cond::Ge),
                    RelOp::Lt => not(rel(Cond::Ge)),
                    RelOp::Le => not(rel(Cond::Gt)),
                };
                and_opt(and_opt2(lc, rc), test)
            }
            Expr::Broadcast => {
                self.need_ethernet("broadcast filters")?;
                self.ether_host(Dir::Dst, &[0xff; 6])?
            }
            Expr::Multicast(MulticastLayer::Link) => {
                self.need_ethernet("link-layer multicast filters")?;
                Pred::Cmp {
                    loc: Loc::Abs(0),
                    size: 1,
                    mask: u32::MAX,
                    cond: Cond::Set,
                    val: 1,
                }
            }
            Expr::Multicast(MulticastLayer::Ip) => and(
                self.linktype(ETH_IP),
                cmp(Loc::Abs(self.off_nl + 16), 1, Cond::Ge, 224),
            ),
            Expr::Multicast(MulticastLayer::Ip6) => {
                and(self.linktype(ETH_IP6), abs(self.off_nl + 24, 1, 255))
            }
            Expr::Vlan(id) => {
                if self.family != Family::Ethernet {
                    return Err(format!("no VLAN support for {}", self.family.name()));
                }
                if self.kernel {
                    return Err(
                        "vlan: a live socket sees packets with the tag already removed".into(),
                    );
                }
                let lt = self.off_linktype;
                let tpid = or(
                    or(abs(lt, 2, 0x8100), abs(lt, 2, 0x88a8)),
                    abs(lt, 2, 0x9100),
                );
                let p = match id {
                    Some(v) => and(
                        tpid,
                        Pred::Cmp {
                            loc: Loc::Abs(self.off_nl),
                            size: 2,
                            mask: 0x0fff,
                            cond: Cond::Eq,
                            val: u32::from(*v),
                        },
                    ),
                    None => tpid,
                };
                self.off_linktype += 4;
                self.off_nl += 4;
                p
            }
            Expr::Outbound(out) => {
                let p = match self.family {
                    Family::Sll => abs(0, 2, 4),
                    Family::Sll2 => abs(10, 1, 4),
                    f => return Err(format!("inbound/outbound not supported on {}", f.name())),
                };
                if *out {
                    p
                } else {
                    not(p)
                }
            }
        })
    }

    fn need_ethernet(&self, what: &str) -> R<()> {
        if self.family == Family::Ethernet {
            Ok(())
        } else {
            Err(format!(
                "{what} supported only on Ethernet, not on {}",
                self.family.name()
            ))
        }
    }

    /// `gen_linktype`: the link-layer protocol is `v`.
    fn linktype(&self, v: u32) -> Pred {
        let lt = self.off_linktype;
        match self.family {
            Family::Ethernet => {
                if v <= ETHERMTU {
                    // An 802.2 frame (length field) with this DSAP.
                    and(
                        not(cmp(Loc::Abs(lt), 2, Cond::Gt, ETHERMTU)),
                        abs(lt + 2, 1, v),
                    )
                } else {
                    abs(lt, 2, v)
                }
            }
            Family::Sll | Family::Sll2 => {
                if v <= ETHERMTU {
                    and(abs(lt, 2, 4), abs(self.off_nl, 1, v))
                } else {
                    abs(lt, 2, v)
                }
            }
            Family::Cooked => {
                if v <= ETHERMTU {
                    and(cmp(Loc::Protocol, 2, Cond::Eq, 4), abs(self.off_nl, 1, v))
                } else {
                    cmp(Loc::Protocol, 2, Cond::Eq, v)
                }
            }
            Family::Null | Family::Loop => {
                let afs: &[u32] = match v {
                    ETH_IP => &[2],
                    ETH_IP6 => &[24, 28, 30],
                    _ => return Pred::False,
                };
                let mut p: Option<Pred> = None;
                for &af in afs {
                    let mut one = abs(0, 4, af);
                    if self.family == Family::Null {
                        // Host byte order of whoever wrote the file.
                        one = or(one, abs(0, 4, af.swap_bytes()));
                    }
                    p = Some(match p {
                        Some(p) => or(p, one),
                        None => one,
                    });
                }
                p.unwrap_or(Pred::False)
            }
            Family::Raw => match v {
                ETH_IP => Pred::Cmp {
                    loc: Loc::Abs(0),
                    size: 1,
                    mask: 0xf0,
                    cond: Cond::Eq,
                    val: 0x40,
                },
                ETH_IP6 => Pred::Cmp {
                    loc: Loc::Abs(0),
                    size: 1,
                    mask: 0xf0,
                    cond: Cond::Eq,
                    val: 0x60,
                },
                _ => Pred::False,
            },
            Family::Ipv4 => {
                if v == ETH_IP {
                    Pred::True
                } else {
                    Pred::False
                }
            }
            Family::Ipv6 => {
                if v == ETH_IP6 {
                    Pred::True
                } else {
                    Pred::False
                }
            }
        }
    }

    fn dir(&self, dir: Dir, src: Pred, dst: Pred) -> Pred {
        match dir {
            Dir::Src => src,
            Dir::Dst => dst,
            Dir::SrcOrDst => or(src, dst),
            Dir::SrcAndDst => and(src, dst),
        }
    }

    /// `gen_hostop`: IPv4 (or ARP) address at `src_off`/`dst_off` of the
    /// network header.
    fn hostop(
        &self,
        addr: u32,
        mask: u32,
        dir: Dir,
        ethertype: u32,
        src_off: u32,
        dst_off: u32,
    ) -> Pred {
        let nl = self.off_nl;
        let atom = |off: u32| Pred::Cmp {
            loc: Loc::Abs(nl + off),
            size: 4,
            mask,
            cond: Cond::Eq,
            val: addr,
        };
        and(
            self.linktype(ethertype),
            self.dir(dir, atom(src_off), atom(dst_off)),
        )
    }

    fn host6(&self, addr: u128, mask: u128, dir: Dir) -> Pred {
        let nl = self.off_nl;
        let atom = |off: u32| {
            let mut p: Option<Pred> = None;
            for i in 0..4u32 {
                let shift = 96 - 32 * i;
                let m = (mask >> shift) as u32;
                if m == 0 {
                    continue;
                }
                let c = Pred::Cmp {
                    loc: Loc::Abs(nl + off + 4 * i),
                    size: 4,
                    mask: m,
                    cond: Cond::Eq,
                    val: (addr >> shift) as u32,
                };
                p = Some(match p {
                    Some(p) => and(p, c),
                    None => c,
                });
            }
            p.unwrap_or(Pred::True)
        };
        and(self.linktype(ETH_IP6), self.dir(dir, atom(8), atom(24)))
    }

    fn ether_host(&self, dir: Dir, mac: &[u8; 6]) -> R<Pred> {
        self.need_ethernet("ethernet addresses")?;
        let hi = u32::from(u16::from_be_bytes([mac[0], mac[1]]));
        let lo = u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]);
        let atom = |off: u32| and(abs(off + 2, 4, lo), abs(off, 2, hi));
        Ok(self.dir(dir, atom(6), atom(0)))
    }

    fn port(&self, proto: PortProto, dir: Dir, lo: u16, hi: u16) -> Pred {
        let nl = self.off_nl;
        let protos: &[u32] = match proto {
            PortProto::Any => &[6, 17, 132],
            PortProto::Tcp => &[6],
            PortProto::Udp => &[17],
            PortProto::Sctp => &[132],
        };
        let proto_is = |off: u32| {
            let mut p: Option<Pred> = None;
            for &v in protos {
                let c = abs(off, 1, v);
                p = Some(match p {
                    Some(p) => or(p, c),
                    None => c,
                });
            }
            p.unwrap_or(Pred::False)
        };
        let atom = |loc: Loc| {
            if lo == hi {
                cmp(loc, 2, Cond::Eq, u32::from(lo))
            } else {
                and(
                    cmp(loc, 2, Cond::Ge, u32::from(lo)),
                    not(cmp(loc, 2, Cond::Gt, u32::from(hi))),
                )
            }
        };
        let v4_loc = |off| Loc::Ipv4Payload { nl, off };
        let v4 = and(
            self.linktype(ETH_IP),
            and(
                and(proto_is(nl + 9), self.not_fragment()),
                self.dir(dir, atom(v4_loc(0)), atom(v4_loc(2))),
            ),
        );
        let v6 = and(
            self.linktype(ETH_IP6),
            and(
                proto_is(nl + 6),
                self.dir(dir, atom(Loc::Abs(nl + 40)), atom(Loc::Abs(nl + 42))),
            ),
        );
        or(v6, v4)
    }

    /// `gen_ipfrag`: not an IPv4 fragment other than the first.
    fn not_fragment(&self) -> Pred {
        not(Pred::Cmp {
            loc: Loc::Abs(self.off_nl + 6),
            size: 2,
            mask: u32::MAX,
            cond: Cond::Set,
            val: 0x1fff,
        })
    }

    fn proto(&self, layer: ProtoLayer, v: u32) -> Pred {
        let nl = self.off_nl;
        match layer {
            ProtoLayer::Link => self.linktype(v),
            ProtoLayer::Ip => and(self.linktype(ETH_IP), abs(nl + 9, 1, v)),
            ProtoLayer::Ip6 => and(
                self.linktype(ETH_IP6),
                or(
                    abs(nl + 6, 1, v),
                    and(abs(nl + 6, 1, IPPROTO_FRAGMENT), abs(nl + 40, 1, v)),
                ),
            ),
            ProtoLayer::IpOrIp6 => or(
                self.proto(ProtoLayer::Ip, v),
                self.proto(ProtoLayer::Ip6, v),
            ),
        }
    }

    fn abbrev(&self, p: Protocol) -> Pred {
        match p {
            Protocol::Ip => self.linktype(ETH_IP),
            Protocol::Ip6 => self.linktype(ETH_IP6),
            Protocol::Arp => self.linktype(ETH_ARP),
            Protocol::Rarp => self.linktype(ETH_RARP),
            Protocol::Icmp6 => self.proto(ProtoLayer::Ip6, 58),
            Protocol::Icmp | Protocol::Igmp | Protocol::Igrp | Protocol::Vrrp | Protocol::Carp => {
                self.proto(ProtoLayer::Ip, p.ip_number().unwrap_or(0))
            }
            Protocol::Tcp
            | Protocol::Udp
            | Protocol::Sctp
            | Protocol::Pim
            | Protocol::Ah
            | Protocol::Esp => self.proto(ProtoLayer::IpOrIp6, p.ip_number().unwrap_or(0)),
        }
    }

    /// An arithmetic expression and the checks that must hold before its
    /// loads make sense (`tcp[13]` needs an unfragmented IPv4 TCP packet).
    fn val(&self, a: &Arith) -> R<(Val, Option<Pred>)> {
        Ok(match a {
            Arith::Num(n) => (Val::Const(*n), None),
            Arith::Len => {
                if self.family == Family::Cooked {
                    (
                        Val::Bin(BinOp::Add, Box::new(Val::Len), Box::new(Val::Const(16))),
                        None,
                    )
                } else {
                    (Val::Len, None)
                }
            }
            Arith::Neg(x) => {
                let (v, c) = self.val(x)?;
                (Val::Neg(Box::new(v)), c)
            }
            Arith::Bin { op, lhs, rhs } => {
                // libpcap 1.10's gen_arth keeps only the left operand's
                // checks: `ip[0] + tcp[0]` does not require TCP.
                let (l, lc) = self.val(lhs)?;
                let (r, _) = self.val(rhs)?;
                (Val::Bin(*op, Box::new(l), Box::new(r)), lc)
            }
            Arith::Load {
                header,
                index,
                size,
            } => {
                let (idx, ic) = self.val(index)?;
                let nl = self.off_nl;
                let (base, check) = match header {
                    Header::Link => {
                        if self.family == Family::Cooked {
                            return Err(
                                "ether[...]: a cooked socket has no link-layer header".into()
                            );
                        }
                        (Base::Abs(0), ic)
                    }
                    Header::Proto(
                        p @ (Protocol::Ip | Protocol::Ip6 | Protocol::Arp | Protocol::Rarp),
                    ) => (Base::Abs(nl), Some(and_opt(ic, self.abbrev(*p)))),
                    Header::Proto(Protocol::Icmp6) => {
                        let c = and(self.linktype(ETH_IP6), abs(nl + 6, 1, 58));
                        (Base::Abs(nl + 40), Some(and_opt(ic, c)))
                    }
                    Header::Proto(p) => {
                        let p4 = self.proto(ProtoLayer::Ip, p.ip_number().unwrap_or(0));
                        (
                            Base::Ipv4Payload(nl),
                            Some(and(p4, and_opt(ic, self.not_fragment()))),
                        )
                    }
                };
                (
                    Val::Load {
                        base,
                        index: Box::new(idx),
                        size: *size,
                    },
                    check,
                )
            }
        })
    }
}
