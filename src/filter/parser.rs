//! Recursive-descent parser for libpcap's grammar (`grammar.y`), including
//! its quirks: `and` and `or` have the same precedence and associate to the
//! left; a bare address, number or name after `and`/`or` (or inside a
//! parenthesised list of them) inherits the qualifiers of the previous
//! primitive (`tcp dst port 80 or 8080`, `host a and not b`); a bare id
//! where no qualifier is in force is a syntax error.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::ast::*;
use super::lexer::{tokenize, Kw, Sym, TokKind, Token};
use super::services::{self, ServiceProto};
use super::ParseError;

/// Protocol qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PQual {
    Default,
    Link,
    P(Protocol),
}

/// Address-type qualifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AQual {
    Default,
    Host,
    Net,
    Port,
    Portrange,
    Proto,
    Protochain,
    Gateway,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Quals {
    proto: PQual,
    dir: Dir,
    addr: AQual,
}

/// The qualifiers in force; `None` is libpcap's `qerr` (after a protocol
/// abbreviation, a comparison, ...), where a bare id is a syntax error.
type Q = Option<Quals>;

pub(super) const MAX_DEPTH: u32 = 64;

pub(crate) fn parse_expr(src: &str) -> Result<Expr, ParseError> {
    let toks = tokenize(src)?;
    let mut p = Parser {
        src,
        toks,
        pos: 0,
        depth: 0,
    };
    if p.peek() == &TokKind::End {
        return Ok(Expr::True);
    }
    let (e, _) = p.expr(None)?;
    if p.peek() != &TokKind::End {
        return Err(p.err_here(&format!(
            "expected 'and', 'or' or the end of the expression, found '{}'",
            p.tok().text
        )));
    }
    Ok(e)
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    depth: u32,
}

type R<T> = Result<T, ParseError>;

fn proto_kw(k: Kw) -> Option<PQual> {
    Some(match k {
        Kw::Link => PQual::Link,
        Kw::Ip => PQual::P(Protocol::Ip),
        Kw::Ip6 => PQual::P(Protocol::Ip6),
        Kw::Arp => PQual::P(Protocol::Arp),
        Kw::Rarp => PQual::P(Protocol::Rarp),
        Kw::Tcp => PQual::P(Protocol::Tcp),
        Kw::Udp => PQual::P(Protocol::Udp),
        Kw::Sctp => PQual::P(Protocol::Sctp),
        Kw::Icmp => PQual::P(Protocol::Icmp),
        Kw::Icmp6 => PQual::P(Protocol::Icmp6),
        Kw::Igmp => PQual::P(Protocol::Igmp),
        Kw::Igrp => PQual::P(Protocol::Igrp),
        Kw::Pim => PQual::P(Protocol::Pim),
        Kw::Vrrp => PQual::P(Protocol::Vrrp),
        Kw::Carp => PQual::P(Protocol::Carp),
        Kw::Ah => PQual::P(Protocol::Ah),
        Kw::Esp => PQual::P(Protocol::Esp),
        _ => return None,
    })
}

fn pqual_name(p: PQual) -> &'static str {
    match p {
        PQual::Default => "",
        PQual::Link => "ether",
        PQual::P(p) => p.name(),
    }
}

fn is_head_kw(k: Kw) -> bool {
    matches!(
        k,
        Kw::Src
            | Kw::Dst
            | Kw::Host
            | Kw::Net
            | Kw::Port
            | Kw::Portrange
            | Kw::Proto
            | Kw::Protochain
            | Kw::Gateway
    )
}

fn binop(t: &TokKind) -> Option<(BinOp, u8)> {
    let TokKind::Sym(s) = t else { return None };
    Some(match s {
        Sym::Pipe => (BinOp::Or, 0),
        Sym::Caret => (BinOp::Xor, 1),
        Sym::Amp => (BinOp::And, 2),
        Sym::Shl => (BinOp::Shl, 3),
        Sym::Shr => (BinOp::Shr, 3),
        Sym::Plus => (BinOp::Add, 4),
        Sym::Minus => (BinOp::Sub, 4),
        Sym::Star => (BinOp::Mul, 5),
        Sym::Slash => (BinOp::Div, 5),
        Sym::Percent => (BinOp::Mod, 5),
        _ => return None,
    })
}

fn relop(t: &TokKind) -> Option<RelOp> {
    let TokKind::Sym(s) = t else { return None };
    Some(match s {
        Sym::Eq => RelOp::Eq,
        Sym::Ne => RelOp::Ne,
        Sym::Lt => RelOp::Lt,
        Sym::Le => RelOp::Le,
        Sym::Gt => RelOp::Gt,
        Sym::Ge => RelOp::Ge,
        _ => return None,
    })
}

fn and_or(op: Kw, a: Expr, b: Expr) -> Expr {
    if op == Kw::And {
        Expr::And(Box::new(a), Box::new(b))
    } else {
        Expr::Or(Box::new(a), Box::new(b))
    }
}

/// `__pcap_atoin`: a dotted (possibly partial) IPv4 address and its length
/// in bits.
fn atoin(s: &str) -> Option<(u32, u32)> {
    let mut v: u32 = 0;
    let mut bits = 0;
    for part in s.split('.') {
        let n: u32 = part.parse().ok()?;
        if n > 255 || bits >= 32 {
            return None;
        }
        v = (v << 8) | n;
        bits += 8;
    }
    Some((v, bits))
}

fn shl(v: u32, n: u32) -> u32 {
    v.checked_shl(n).unwrap_or(0)
}

impl Parser<'_> {
    fn tok(&self) -> &Token {
        // The token list always ends with End and `pos` never passes it.
        &self.toks[self.pos.min(self.toks.len() - 1)]
    }
    fn peek(&self) -> &TokKind {
        &self.tok().kind
    }
    fn peek_at(&self, n: usize) -> &TokKind {
        &self.toks[(self.pos + n).min(self.toks.len() - 1)].kind
    }
    fn bump(&mut self) -> Token {
        let t = self.tok().clone();
        if self.pos < self.toks.len() - 1 {
            self.pos += 1;
        }
        t
    }
    fn err_at(&self, t: &Token, msg: &str) -> ParseError {
        ParseError::at(self.src, t.start, msg)
    }
    fn err_here(&self, msg: &str) -> ParseError {
        self.err_at(self.tok(), msg)
    }
    /// "expected X after 'prev'" (or "found 'tok'") at the current token.
    fn expected(&self, what: &str) -> ParseError {
        let t = self.tok();
        let msg = if t.kind == TokKind::End {
            match self.pos.checked_sub(1).and_then(|i| self.toks.get(i)) {
                Some(prev) => format!("expected {what} after '{}'", prev.text),
                None => format!("expected {what}"),
            }
        } else {
            format!("expected {what}, found '{}'", t.text)
        };
        self.err_here(&msg)
    }
    fn expect_sym(&mut self, s: Sym, what: &str) -> R<()> {
        if self.peek() == &TokKind::Sym(s) {
            self.bump();
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }
    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err_here("expression nested too deeply"));
        }
        Ok(())
    }

    /// `expr: term | expr and term | expr and id | expr or ...`
    fn expr(&mut self, qctx: Q) -> R<(Expr, Q)> {
        self.enter()?;
        let (mut e, mut q) = self.term(qctx)?;
        while let TokKind::Kw(op @ (Kw::And | Kw::Or)) = *self.peek() {
            self.bump();
            let (rhs, q2) = if self.starts_id(self.pos) {
                (self.id(q)?, q)
            } else {
                self.term(q)?
            };
            e = and_or(op, e, rhs);
            q = q2;
        }
        self.depth -= 1;
        Ok((e, q))
    }

    /// Whether the tokens at `at` form a bare id (which inherits the
    /// qualifiers) rather than a term.
    fn starts_id(&self, at: usize) -> bool {
        let k = |n: usize| &self.toks[n.min(self.toks.len() - 1)].kind;
        match k(at) {
            TokKind::Id(_) | TokKind::Hid(_) | TokKind::Hid6(_) | TokKind::Eid(_) => true,
            TokKind::Num(_) => binop(k(at + 1)).is_none() && relop(k(at + 1)).is_none(),
            TokKind::Kw(Kw::Not) | TokKind::Sym(Sym::LParen) => {
                at < self.toks.len() && self.starts_id(at + 1)
            }
            _ => false,
        }
    }

    /// `term: rterm | not term`
    fn term(&mut self, qctx: Q) -> R<(Expr, Q)> {
        self.enter()?;
        let r = self.term_inner(qctx);
        self.depth -= 1;
        r
    }

    fn term_inner(&mut self, qctx: Q) -> R<(Expr, Q)> {
        match self.peek().clone() {
            TokKind::Kw(Kw::Not) => {
                self.bump();
                let (e, q) = self.term(qctx)?;
                Ok((Expr::Not(Box::new(e)), q))
            }
            TokKind::Sym(Sym::LParen) => {
                let (save, depth) = (self.pos, self.depth);
                let rel_err = match self.relation() {
                    Ok(e) => return Ok((e, None)),
                    Err(e) => e,
                };
                self.pos = save;
                self.depth = depth;
                self.bump();
                let inner = self.expr(qctx).and_then(|(e, _)| {
                    self.expect_sym(Sym::RParen, "')'")?;
                    Ok(e)
                });
                match inner {
                    Ok(e) => Ok((e, qctx)),
                    // Report whichever reading got further.
                    Err(e) if e.offset >= rel_err.offset => Err(e),
                    Err(_) => Err(rel_err),
                }
            }
            TokKind::Kw(k) if proto_kw(k).is_some() => {
                let pq = proto_kw(k).unwrap_or(PQual::Default);
                match self.peek_at(1).clone() {
                    TokKind::Sym(Sym::LBracket) => Ok((self.relation()?, None)),
                    TokKind::Kw(Kw::Broadcast | Kw::Multicast) => {
                        self.bump();
                        Ok((self.bcast_mcast(pq)?, None))
                    }
                    TokKind::Kw(k2) if is_head_kw(k2) => {
                        self.bump();
                        self.head(pq)
                    }
                    _ => {
                        let t = self.bump();
                        match pq {
                            PQual::P(p) => Ok((Expr::Abbrev(p), None)),
                            _ => Err(self.err_at(&t, "link layer applied in wrong context")),
                        }
                    }
                }
            }
            TokKind::Kw(k) if is_head_kw(k) => self.head(PQual::Default),
            TokKind::Kw(Kw::Broadcast | Kw::Multicast) => {
                Ok((self.bcast_mcast(PQual::Default)?, None))
            }
            TokKind::Kw(k @ (Kw::Less | Kw::Greater)) => {
                self.bump();
                let TokKind::Num(n) = *self.peek() else {
                    return Err(self.expected("a number"));
                };
                self.bump();
                let op = if k == Kw::Less { RelOp::Le } else { RelOp::Ge };
                Ok((
                    Expr::Compare {
                        op,
                        lhs: Arith::Len,
                        rhs: Arith::Num(n),
                    },
                    None,
                ))
            }
            TokKind::Kw(Kw::Vlan) => {
                self.bump();
                let start = self.tok().clone();
                match self.pnum_opt()? {
                    Some(n) if n > 0x0fff => Err(self.err_at(
                        &start,
                        &format!("VLAN tag {n} greater than maximum {}", 0x0fff),
                    )),
                    Some(n) => Ok((Expr::Vlan(Some(n as u16)), None)),
                    None => Ok((Expr::Vlan(None), None)),
                }
            }
            TokKind::Kw(k @ (Kw::Inbound | Kw::Outbound)) => {
                self.bump();
                Ok((Expr::Outbound(k == Kw::Outbound), None))
            }
            TokKind::Num(_) | TokKind::Sym(Sym::Minus) | TokKind::Kw(Kw::Len) => {
                Ok((self.relation()?, None))
            }
            TokKind::Kw(Kw::Unsupported(name)) => {
                Err(self.err_here(&format!("'{name}' is not supported by tracedeck's filter")))
            }
            TokKind::Id(_) | TokKind::Hid(_) | TokKind::Hid6(_) | TokKind::Eid(_) => Err(self
                .err_here(&format!(
                    "expected a qualifier (host, net, port, ...) before '{}'",
                    self.tok().text
                ))),
            _ => Err(self.expected("a primitive")),
        }
    }

    /// `pnum: NUM | paren pnum ')'`, optional.
    fn pnum_opt(&mut self) -> R<Option<u32>> {
        let mut opens = 0;
        while self.peek_at(opens) == &TokKind::Sym(Sym::LParen) {
            opens += 1;
        }
        let TokKind::Num(n) = *self.peek_at(opens) else {
            return Ok(None);
        };
        for _ in 0..=opens {
            self.bump();
        }
        for _ in 0..opens {
            self.expect_sym(Sym::RParen, "')'")?;
        }
        Ok(Some(n))
    }

    fn bcast_mcast(&mut self, pq: PQual) -> R<Expr> {
        let t = self.bump();
        let at = &t;
        if t.kind == TokKind::Kw(Kw::Broadcast) {
            match pq {
                PQual::Default | PQual::Link => Ok(Expr::Broadcast),
                PQual::P(Protocol::Ip) => {
                    Err(self.err_at(at, "netmask not known, so 'ip broadcast' not supported"))
                }
                _ => Err(self.err_at(at, "only link-layer/IP broadcast filters supported")),
            }
        } else {
            match pq {
                PQual::Default | PQual::Link => Ok(Expr::Multicast(MulticastLayer::Link)),
                PQual::P(Protocol::Ip) => Ok(Expr::Multicast(MulticastLayer::Ip)),
                PQual::P(Protocol::Ip6) => Ok(Expr::Multicast(MulticastLayer::Ip6)),
                _ => Err(self.err_at(at, "only link-layer/IP multicast filters supported")),
            }
        }
    }

    /// `head id`, with the protocol qualifier already consumed.
    fn head(&mut self, proto: PQual) -> R<(Expr, Q)> {
        let mut dir = None;
        if let TokKind::Kw(k @ (Kw::Src | Kw::Dst)) = *self.peek() {
            self.bump();
            let d = if k == Kw::Src { Dir::Src } else { Dir::Dst };
            dir = Some(d);
            if let TokKind::Kw(op @ (Kw::And | Kw::Or)) = *self.peek() {
                let other = if k == Kw::Src { Kw::Dst } else { Kw::Src };
                if self.peek_at(1) == &TokKind::Kw(other) {
                    self.bump();
                    self.bump();
                    dir = Some(if op == Kw::And {
                        Dir::SrcAndDst
                    } else {
                        Dir::SrcOrDst
                    });
                } else {
                    self.bump();
                    return Err(self.expected(if other == Kw::Dst { "'dst'" } else { "'src'" }));
                }
            }
        }
        let addr = match *self.peek() {
            TokKind::Kw(Kw::Host) => AQual::Host,
            TokKind::Kw(Kw::Net) => AQual::Net,
            TokKind::Kw(Kw::Port) => AQual::Port,
            TokKind::Kw(Kw::Portrange) => AQual::Portrange,
            TokKind::Kw(Kw::Proto) if dir.is_none() => AQual::Proto,
            TokKind::Kw(Kw::Protochain) if dir.is_none() => AQual::Protochain,
            TokKind::Kw(Kw::Gateway) if dir.is_none() => AQual::Gateway,
            _ => AQual::Default,
        };
        if addr != AQual::Default {
            self.bump();
        }
        let q = Quals {
            proto,
            dir: dir.unwrap_or(Dir::SrcOrDst),
            addr,
        };
        let e = self.id(Some(q))?;
        Ok((e, Some(q)))
    }

    /// `id: nid | pnum | paren pid ')'`, with the qualifiers `q`.
    fn id(&mut self, q: Q) -> R<Expr> {
        self.enter()?;
        let r = self.id_inner(q);
        self.depth -= 1;
        r
    }

    fn id_inner(&mut self, q: Q) -> R<Expr> {
        let what = "a host, network, port or protocol";
        match self.peek().clone() {
            TokKind::Kw(Kw::Not) => {
                self.bump();
                Ok(Expr::Not(Box::new(self.id(q)?)))
            }
            TokKind::Sym(Sym::LParen) => {
                self.bump();
                let mut e = self.id(q)?;
                while let TokKind::Kw(op @ (Kw::And | Kw::Or)) = *self.peek() {
                    self.bump();
                    let r = self.id(q)?;
                    e = and_or(op, e, r);
                }
                self.expect_sym(Sym::RParen, "')'")?;
                Ok(e)
            }
            TokKind::Num(v) => {
                let t = self.bump();
                let q = self.need_q(q, &t)?;
                self.ncode(q, v, None, &t)
            }
            TokKind::Id(name) => {
                let t = self.bump();
                let q = self.need_q(q, &t)?;
                self.scode(q, &name, &t)
            }
            TokKind::Hid(s) => {
                let t = self.bump();
                let q = self.need_q(q, &t)?;
                match self.peek().clone() {
                    TokKind::Sym(Sym::Slash) => {
                        self.bump();
                        let TokKind::Num(len) = *self.peek() else {
                            return Err(self.expected("a mask length"));
                        };
                        self.bump();
                        self.mcode(q, &s, MaskSpec::Len(len), &t)
                    }
                    TokKind::Kw(Kw::Mask) => {
                        self.bump();
                        let TokKind::Hid(m) = self.peek().clone() else {
                            return Err(self.expected("a dotted netmask"));
                        };
                        self.bump();
                        self.mcode(q, &s, MaskSpec::Dotted(&m), &t)
                    }
                    _ => {
                        let bad = match q.addr {
                            AQual::Port => Some("port"),
                            AQual::Portrange => Some("portrange"),
                            AQual::Proto => Some("proto"),
                            AQual::Protochain => Some("protochain"),
                            _ => None,
                        };
                        if let Some(b) = bad {
                            return Err(
                                self.err_at(&t, &format!("'{b}' modifier applied to ip host"))
                            );
                        }
                        let Some((v, bits)) = atoin(&s) else {
                            return Err(self.err_at(&t, &format!("invalid IPv4 address '{s}'")));
                        };
                        self.ncode(q, v, Some(bits), &t)
                    }
                }
            }
            TokKind::Hid6(s) => {
                let t = self.bump();
                let q = self.need_q(q, &t)?;
                let mut len = 128;
                if self.peek() == &TokKind::Sym(Sym::Slash) {
                    self.bump();
                    let TokKind::Num(l) = *self.peek() else {
                        return Err(self.expected("a prefix length"));
                    };
                    self.bump();
                    len = l;
                }
                self.mcode6(q, &s, len, &t)
            }
            TokKind::Eid(mac) => {
                let t = self.bump();
                let q = self.need_q(q, &t)?;
                if matches!(q.addr, AQual::Host | AQual::Default) && q.proto == PQual::Link {
                    Ok(Expr::EtherHost {
                        dir: q.dir,
                        addr: mac,
                    })
                } else {
                    Err(self.err_at(&t, "ethernet address used in non-ether expression"))
                }
            }
            _ => Err(self.expected(what)),
        }
    }

    fn need_q(&self, q: Q, t: &Token) -> R<Quals> {
        q.ok_or_else(|| {
            self.err_at(
                t,
                &format!(
                    "expected a qualifier (host, net, port, ...) before '{}'",
                    t.text
                ),
            )
        })
    }

    /// libpcap's `gen_ncode`: a number (`bits` None) or dotted address.
    fn ncode(&self, q: Quals, v: u32, bits: Option<u32>, t: &Token) -> R<Expr> {
        match q.addr {
            AQual::Default | AQual::Host | AQual::Net => {
                if q.proto == PQual::Link {
                    return Err(self.err_at(t, "illegal link layer address"));
                }
                let (mut v, mut mask) = (v, u32::MAX);
                match bits {
                    None if q.addr == AQual::Net => {
                        while v != 0 && v & 0xff00_0000 == 0 {
                            v <<= 8;
                            mask <<= 8;
                        }
                    }
                    None => {}
                    Some(b) => {
                        v = shl(v, 32 - b);
                        mask = shl(mask, 32 - b);
                    }
                }
                self.host4(q, v, mask, t)
            }
            AQual::Port | AQual::Portrange => {
                let proto = self.port_proto(q, t)?;
                if v > 65535 {
                    return Err(self.err_at(t, &format!("illegal port number {v} > 65535")));
                }
                Ok(Expr::Port {
                    proto,
                    dir: q.dir,
                    lo: v as u16,
                    hi: v as u16,
                })
            }
            AQual::Gateway => Err(self.err_at(t, "'gateway' requires a name")),
            AQual::Proto => self.proto(q, v, t),
            AQual::Protochain => {
                Err(self.err_at(t, "'protochain' is not supported by tracedeck's filter"))
            }
        }
    }

    fn port_proto(&self, q: Quals, t: &Token) -> R<PortProto> {
        Ok(match q.proto {
            PQual::Default => PortProto::Any,
            PQual::P(Protocol::Tcp) => PortProto::Tcp,
            PQual::P(Protocol::Udp) => PortProto::Udp,
            PQual::P(Protocol::Sctp) => PortProto::Sctp,
            _ => {
                let what = if q.addr == AQual::Port {
                    "port"
                } else {
                    "portrange"
                };
                return Err(self.err_at(t, &format!("illegal qualifier of '{what}'")));
            }
        })
    }

    fn proto(&self, q: Quals, v: u32, t: &Token) -> R<Expr> {
        let layer = match q.proto {
            PQual::Default => ProtoLayer::IpOrIp6,
            PQual::Link => ProtoLayer::Link,
            PQual::P(Protocol::Ip) => ProtoLayer::Ip,
            PQual::P(Protocol::Ip6) => ProtoLayer::Ip6,
            PQual::P(p) => {
                return Err(
                    self.err_at(t, &format!("'proto' is not supported after '{}'", p.name()))
                )
            }
        };
        if layer != ProtoLayer::Link && v > 255 {
            return Err(self.err_at(t, &format!("IP protocol {v} greater than maximum 255")));
        }
        Ok(Expr::Proto { layer, value: v })
    }

    /// libpcap's `gen_host` for IPv4.
    fn host4(&self, q: Quals, addr: u32, mask: u32, t: &Token) -> R<Expr> {
        let typ = if q.addr == AQual::Net { "net" } else { "host" };
        let proto = match q.proto {
            PQual::Default => HostProto::Any,
            PQual::P(Protocol::Ip) => HostProto::Ip,
            PQual::P(Protocol::Arp) => HostProto::Arp,
            PQual::P(Protocol::Rarp) => HostProto::Rarp,
            PQual::Link => return Err(self.err_at(t, "illegal link layer address")),
            PQual::P(Protocol::Ip6) => {
                return Err(self.err_at(t, &format!("'ip6' modifier applied to ip {typ}")))
            }
            PQual::P(p) => {
                return Err(self.err_at(t, &format!("'{}' modifier applied to {typ}", p.name())))
            }
        };
        Ok(Expr::Host {
            proto,
            dir: q.dir,
            addr: Ipv4Addr::from(addr),
            mask: Ipv4Addr::from(mask),
        })
    }

    fn host6(&self, q: Quals, addr: u128, mask: u128, t: &Token) -> R<Expr> {
        match q.proto {
            PQual::Default | PQual::P(Protocol::Ip6) => Ok(Expr::Host6 {
                dir: q.dir,
                addr: Ipv6Addr::from(addr),
                mask: Ipv6Addr::from(mask),
            }),
            p => Err(self.err_at(
                t,
                &format!("'{}' modifier applied to ip6 host", pqual_name(p)),
            )),
        }
    }

    /// libpcap's `gen_mcode`: `net A/len` and `net A mask M`.
    fn mcode(&self, q: Quals, s: &str, m: MaskSpec<'_>, t: &Token) -> R<Expr> {
        let Some((n, nbits)) = atoin(s) else {
            return Err(self.err_at(t, &format!("invalid IPv4 address '{s}'")));
        };
        let n = shl(n, 32 - nbits);
        let mask = match m {
            MaskSpec::Dotted(ms) => {
                let Some((mv, mbits)) = atoin(ms) else {
                    return Err(self.err_at(t, &format!("invalid IPv4 address '{ms}'")));
                };
                let mask = shl(mv, 32 - mbits);
                if n & !mask != 0 {
                    return Err(
                        self.err_at(t, &format!("non-network bits set in \"{s} mask {ms}\""))
                    );
                }
                mask
            }
            MaskSpec::Len(len) => {
                if len > 32 {
                    return Err(self.err_at(t, "mask length must be <= 32"));
                }
                let mask = if len == 0 { 0 } else { u32::MAX << (32 - len) };
                if n & !mask != 0 {
                    return Err(self.err_at(t, &format!("non-network bits set in \"{s}/{len}\"")));
                }
                mask
            }
        };
        if q.addr != AQual::Net {
            return Err(self.err_at(t, "Mask syntax for networks only"));
        }
        self.host4(q, n, mask, t)
    }

    fn mcode6(&self, q: Quals, s: &str, len: u32, t: &Token) -> R<Expr> {
        if len > 128 {
            return Err(self.err_at(t, "mask length must be <= 128"));
        }
        let Ok(a) = s.parse::<Ipv6Addr>() else {
            return Err(self.err_at(t, &format!("invalid ip6 address {s}")));
        };
        let a = u128::from(a);
        let mask = if len == 0 {
            0
        } else {
            u128::MAX << (128 - len)
        };
        if a & !mask != 0 {
            return Err(self.err_at(t, &format!("non-network bits set in \"{s}/{len}\"")));
        }
        match q.addr {
            AQual::Default | AQual::Host if len != 128 => {
                Err(self.err_at(t, "Mask syntax for networks only"))
            }
            AQual::Default | AQual::Host | AQual::Net => self.host6(q, a, mask, t),
            _ => Err(self.err_at(t, "invalid qualifier against IPv6 address")),
        }
    }

    /// libpcap's `gen_scode`: a name.
    fn scode(&self, q: Quals, name: &str, t: &Token) -> R<Expr> {
        match q.addr {
            AQual::Net => Err(self.err_at(t, &format!("unknown network '{name}'"))),
            AQual::Default | AQual::Host => {
                if q.proto == PQual::Link {
                    return Err(self.err_at(t, &format!("unknown ether host '{name}'")));
                }
                if name == "localhost" {
                    // What /etc/hosts usually gives tcpdump: 127.0.0.1 only
                    // (::1 is named ip6-localhost).
                    return self.host4(q, 0x7f00_0001, u32::MAX, t);
                }
                Err(self.err_at(
                    t,
                    &format!("unknown host '{name}' (tracedeck does not resolve names)"),
                ))
            }
            AQual::Port | AQual::Portrange => {
                let proto = self.port_proto(q, t)?;
                let (lo, hi, sp) = if q.addr == AQual::Port {
                    let Some((p, sp)) = services::service(name) else {
                        return Err(self.err_at(t, &format!("unknown port '{name}'")));
                    };
                    (p, p, sp)
                } else {
                    self.port_range(name, t)?
                };
                let proto = match (proto, sp) {
                    (PortProto::Any, ServiceProto::Tcp) => PortProto::Tcp,
                    (PortProto::Any, ServiceProto::Udp) => PortProto::Udp,
                    (PortProto::Udp, ServiceProto::Tcp) | (PortProto::Tcp, ServiceProto::Udp) => {
                        let real = if sp == ServiceProto::Tcp {
                            "tcp"
                        } else {
                            "udp"
                        };
                        return Err(self.err_at(t, &format!("port '{name}' is {real}")));
                    }
                    (p, _) => p,
                };
                Ok(Expr::Port {
                    proto,
                    dir: q.dir,
                    lo: lo.min(hi),
                    hi: lo.max(hi),
                })
            }
            AQual::Proto => {
                let v = match q.proto {
                    PQual::Link => services::ether_type(name),
                    PQual::Default | PQual::P(Protocol::Ip) | PQual::P(Protocol::Ip6) => {
                        services::ip_protocol(name)
                    }
                    _ => None,
                };
                match v {
                    Some(v) => self.proto(q, v, t),
                    None if q.proto == PQual::Link => {
                        Err(self.err_at(t, &format!("unknown ether proto '{name}'")))
                    }
                    None => Err(self.err_at(t, &format!("unknown ip proto '{name}'"))),
                }
            }
            AQual::Protochain => {
                Err(self.err_at(t, "'protochain' is not supported by tracedeck's filter"))
            }
            AQual::Gateway => {
                Err(self.err_at(t, "'gateway' is not supported by tracedeck's filter"))
            }
        }
    }

    /// `pcap_nametoportrange`: `N-M` or `name-name`.
    fn port_range(&self, name: &str, t: &Token) -> R<(u16, u16, ServiceProto)> {
        let bad = || self.err_at(t, &format!("unknown port in range '{name}'"));
        let (a, b) = name.split_once('-').ok_or_else(bad)?;
        let num = |s: &str| -> Option<u32> {
            if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
                s.parse().ok()
            } else {
                None
            }
        };
        if let (Some(x), Some(y)) = (num(a), num(b)) {
            for v in [x, y] {
                if v > 65535 {
                    return Err(self.err_at(t, &format!("illegal port number {v} > 65535")));
                }
            }
            return Ok((x as u16, y as u16, ServiceProto::Any));
        }
        let one = |s: &str| -> Option<(u16, ServiceProto)> {
            num(s)
                .and_then(|v| u16::try_from(v).ok())
                .map(|v| (v, ServiceProto::Any))
                .or_else(|| services::service(s))
        };
        let (x, px) = one(a).ok_or_else(bad)?;
        let (y, py) = one(b).ok_or_else(bad)?;
        Ok((x, y, if px == py { px } else { ServiceProto::Any }))
    }

    /// `arth relop arth`
    fn relation(&mut self) -> R<Expr> {
        let lhs = self.arith(0)?;
        let Some(op) = relop(self.peek()) else {
            return Err(self.expected("a comparison (=, !=, <, <=, >, >=)"));
        };
        self.bump();
        let rhs = self.arith(0)?;
        Ok(Expr::Compare { op, lhs, rhs })
    }

    fn arith(&mut self, min: u8) -> R<Arith> {
        self.enter()?;
        let mut lhs = self.unary()?;
        while let Some((op, lvl)) = binop(self.peek()) {
            if lvl < min {
                break;
            }
            let t = self.bump();
            let rhs = self.arith(lvl + 1)?;
            match (op, &rhs) {
                (BinOp::Div, Arith::Num(0)) => return Err(self.err_at(&t, "division by zero")),
                (BinOp::Mod, Arith::Num(0)) => return Err(self.err_at(&t, "modulus by zero")),
                (BinOp::Shl | BinOp::Shr, Arith::Num(n)) if *n > 31 => {
                    return Err(self.err_at(&t, "shift by more than 31 bits"))
                }
                _ => {}
            }
            lhs = Arith::Bin {
                op,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            };
        }
        self.depth -= 1;
        Ok(lhs)
    }

    fn unary(&mut self) -> R<Arith> {
        match self.peek().clone() {
            TokKind::Sym(Sym::Minus) => {
                self.bump();
                self.enter()?;
                let a = self.unary()?;
                self.depth -= 1;
                Ok(Arith::Neg(Box::new(a)))
            }
            TokKind::Num(n) => {
                self.bump();
                Ok(Arith::Num(n))
            }
            TokKind::Kw(Kw::Len) => {
                self.bump();
                Ok(Arith::Len)
            }
            TokKind::Sym(Sym::LParen) => {
                self.bump();
                let a = self.arith(0)?;
                self.expect_sym(Sym::RParen, "')'")?;
                Ok(a)
            }
            TokKind::Kw(k)
                if proto_kw(k).is_some() && self.peek_at(1) == &TokKind::Sym(Sym::LBracket) =>
            {
                let t = self.bump();
                let header = match proto_kw(k) {
                    Some(PQual::P(Protocol::Ah | Protocol::Esp)) | Some(PQual::Default) | None => {
                        return Err(self.err_at(&t, &format!("'{}[...]' is not supported", t.text)))
                    }
                    Some(PQual::Link) => Header::Link,
                    Some(PQual::P(p)) => Header::Proto(p),
                };
                self.bump();
                let index = self.arith(0)?;
                let mut size = 1;
                if self.peek() == &TokKind::Sym(Sym::Colon) {
                    self.bump();
                    let TokKind::Num(n) = *self.peek() else {
                        return Err(self.expected("a size (1, 2 or 4)"));
                    };
                    if !matches!(n, 1 | 2 | 4) {
                        return Err(self.err_here("data size must be 1, 2, or 4"));
                    }
                    self.bump();
                    size = n as u8;
                }
                self.expect_sym(Sym::RBracket, "']'")?;
                Ok(Arith::Load {
                    header,
                    index: Box::new(index),
                    size,
                })
            }
            _ => Err(self.expected("a number, 'len' or proto[offset]")),
        }
    }
}

enum MaskSpec<'a> {
    Len(u32),
    Dotted(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Expr {
        parse_expr(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn port(proto: PortProto, dir: Dir, n: u16) -> Expr {
        Expr::Port {
            proto,
            dir,
            lo: n,
            hi: n,
        }
    }

    #[test]
    fn qualifiers_are_inherited() {
        assert_eq!(
            p("tcp dst port 80 or 8080"),
            Expr::Or(
                Box::new(port(PortProto::Tcp, Dir::Dst, 80)),
                Box::new(port(PortProto::Tcp, Dir::Dst, 8080))
            )
        );
        let e = p("host 1.2.3.4 and not 5.6.7.8");
        let Expr::And(_, b) = e else { panic!() };
        assert!(matches!(*b, Expr::Not(ref h) if matches!(**h, Expr::Host { .. })));
        assert_eq!(
            p("port 80 and (8080 or 443)"),
            p("port 80 and (port 8080 or port 443)")
        );
    }

    #[test]
    fn and_or_are_left_associative_with_equal_precedence() {
        assert_eq!(p("tcp or udp and icmp"), p("(tcp or udp) and icmp"));
    }

    #[test]
    fn nets_are_promoted_like_libpcap() {
        let Expr::Host { addr, mask, .. } = p("net 10") else {
            panic!()
        };
        assert_eq!(
            (addr, mask),
            (Ipv4Addr::new(10, 0, 0, 0), Ipv4Addr::new(255, 0, 0, 0))
        );
        let Expr::Host { addr, mask, .. } = p("net 172.16") else {
            panic!()
        };
        assert_eq!(
            (addr, mask),
            (Ipv4Addr::new(172, 16, 0, 0), Ipv4Addr::new(255, 255, 0, 0))
        );
        let Expr::Host { addr, mask, .. } = p("net 192.168.1.0 mask 255.255.255.0") else {
            panic!()
        };
        assert_eq!(
            (addr, mask),
            (
                Ipv4Addr::new(192, 168, 1, 0),
                Ipv4Addr::new(255, 255, 255, 0)
            )
        );
    }

    #[test]
    fn service_names_narrow_the_protocol() {
        assert_eq!(p("port http"), port(PortProto::Tcp, Dir::SrcOrDst, 80));
        assert_eq!(p("port domain"), port(PortProto::Any, Dir::SrcOrDst, 53));
        assert_eq!(
            p("portrange 8000-8080"),
            Expr::Port {
                proto: PortProto::Any,
                dir: Dir::SrcOrDst,
                lo: 8000,
                hi: 8080
            }
        );
    }
}
