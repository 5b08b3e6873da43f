//! The expression tree a filter parses into. Names are resolved and
//! tcpdump's qualifier inheritance is applied at parse time, so every node
//! carries its complete meaning (`tcp dst port 80 or 8080` holds two
//! `Port { proto: Tcp, dir: Dst, .. }` nodes).

use std::net::{Ipv4Addr, Ipv6Addr};

/// Direction qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dir {
    Src,
    Dst,
    /// `src or dst`, and the default.
    SrcOrDst,
    /// `src and dst`.
    SrcAndDst,
}

/// Which headers an IPv4 `host`/`net` looks in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostProto {
    /// No protocol qualifier: IPv4, ARP and RARP (as libpcap).
    Any,
    Ip,
    Arp,
    Rarp,
}

/// Transport protocols a `port`/`portrange` applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PortProto {
    /// TCP, UDP and SCTP (a numeric port without qualifier).
    Any,
    Tcp,
    Udp,
    Sctp,
}

/// Where `proto N` looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtoLayer {
    /// `ether proto N`: the link-layer type.
    Link,
    /// `ip proto N`.
    Ip,
    /// `ip6 proto N` (also behind one fragment header, as libpcap).
    Ip6,
    /// `proto N`: IPv4 or IPv6.
    IpOrIp6,
}

/// Protocol names usable alone (`tcp`) and as qualifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Ip,
    Ip6,
    Arp,
    Rarp,
    Tcp,
    Udp,
    Sctp,
    Icmp,
    Icmp6,
    Igmp,
    Igrp,
    Pim,
    Vrrp,
    Carp,
    Ah,
    Esp,
}

impl Protocol {
    /// The IP protocol number for transport-level names.
    pub fn ip_number(self) -> Option<u32> {
        Some(match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
            Protocol::Icmp => 1,
            Protocol::Icmp6 => 58,
            Protocol::Igmp => 2,
            Protocol::Igrp => 9,
            Protocol::Pim => 103,
            Protocol::Vrrp | Protocol::Carp => 112,
            Protocol::Ah => 51,
            Protocol::Esp => 50,
            Protocol::Ip | Protocol::Ip6 | Protocol::Arp | Protocol::Rarp => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Protocol::Ip => "ip",
            Protocol::Ip6 => "ip6",
            Protocol::Arp => "arp",
            Protocol::Rarp => "rarp",
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
            Protocol::Icmp => "icmp",
            Protocol::Icmp6 => "icmp6",
            Protocol::Igmp => "igmp",
            Protocol::Igrp => "igrp",
            Protocol::Pim => "pim",
            Protocol::Vrrp => "vrrp",
            Protocol::Carp => "carp",
            Protocol::Ah => "ah",
            Protocol::Esp => "esp",
        }
    }
}

/// Where a byte-offset load (`tcp[13]`) counts from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    /// `ether[..]`: the start of the link-layer header.
    Link,
    /// `ip[..]`, `tcp[..]`, ...
    Proto(Protocol),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    And,
    Or,
    Xor,
    Shl,
    Shr,
}

/// Unsigned 32-bit arithmetic, as classic BPF computes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Arith {
    Num(u32),
    /// `len`: the packet's length on the wire.
    Len,
    /// `proto[index:size]`, size 1, 2 or 4, big-endian.
    Load {
        header: Header,
        index: Box<Arith>,
        size: u8,
    },
    Bin {
        op: BinOp,
        lhs: Box<Arith>,
        rhs: Box<Arith>,
    },
    Neg(Box<Arith>),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MulticastLayer {
    Link,
    Ip,
    Ip6,
}

/// A parsed filter expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expr {
    /// The empty filter: every packet matches.
    True,
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    /// IPv4 `host`/`net`: `(address & mask) == addr`.
    Host {
        proto: HostProto,
        dir: Dir,
        addr: Ipv4Addr,
        mask: Ipv4Addr,
    },
    /// IPv6 `host`/`net`.
    Host6 {
        dir: Dir,
        addr: Ipv6Addr,
        mask: Ipv6Addr,
    },
    /// `ether host/src/dst`.
    EtherHost {
        dir: Dir,
        addr: [u8; 6],
    },
    /// `port`/`portrange` (`lo == hi` for a single port).
    Port {
        proto: PortProto,
        dir: Dir,
        lo: u16,
        hi: u16,
    },
    /// `ether proto`, `ip proto`, `ip6 proto`, `proto`.
    Proto {
        layer: ProtoLayer,
        value: u32,
    },
    /// A protocol name alone: `tcp`, `ip6`, `arp`, ...
    Abbrev(Protocol),
    /// `arith relop arith` (also `less`/`greater` on `len`).
    Compare {
        op: RelOp,
        lhs: Arith,
        rhs: Arith,
    },
    /// `broadcast` / `ether broadcast`.
    Broadcast,
    Multicast(MulticastLayer),
    /// `vlan [id]`: also moves later primitives past the tag (libpcap).
    Vlan(Option<u16>),
    /// `inbound` (false) / `outbound` (true): Linux cooked captures only.
    Outbound(bool),
}
