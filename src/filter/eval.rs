//! User-space evaluation of a lowered [`Pred`] on packet bytes: no
//! allocation, short-circuit, and a read past the captured bytes (or a
//! division by zero) rejects the packet, as a BPF program would.

use super::ast::BinOp;
use super::lower::{Base, Loc, Pred, Val};

/// The bytes a predicate runs on.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Packet<'a> {
    pub data: &'a [u8],
    /// Original length on the wire (`len`).
    pub wire_len: u32,
    /// Ancillary ethertype (cooked sockets only).
    pub protocol: u16,
}

/// The packet is rejected whatever the rest of the expression says.
struct Abort;

type R<T> = Result<T, Abort>;

pub(crate) fn matches(p: &Pred, pkt: &Packet<'_>) -> bool {
    eval(p, pkt).unwrap_or(false)
}

fn eval(p: &Pred, pkt: &Packet<'_>) -> R<bool> {
    Ok(match p {
        Pred::True => true,
        Pred::False => false,
        Pred::And(a, b) => eval(a, pkt)? && eval(b, pkt)?,
        Pred::Or(a, b) => eval(a, pkt)? || eval(b, pkt)?,
        Pred::Not(a) => !eval(a, pkt)?,
        Pred::Cmp {
            loc,
            size,
            mask,
            cond,
            val,
        } => {
            let v = match *loc {
                Loc::Abs(k) => load(pkt.data, u64::from(k), *size)?,
                Loc::Ipv4Payload { nl, off } => {
                    let hl = ipv4_header_len(pkt.data, nl)?;
                    load(
                        pkt.data,
                        u64::from(hl) + u64::from(nl) + u64::from(off),
                        *size,
                    )?
                }
                Loc::Protocol => u32::from(pkt.protocol),
            };
            cond.test(v & mask, *val)
        }
        Pred::Rel { cond, lhs, rhs } => {
            let a = value(lhs, pkt)?;
            let b = value(rhs, pkt)?;
            cond.test(a, b)
        }
    })
}

fn ipv4_header_len(data: &[u8], nl: u32) -> R<u32> {
    Ok(4 * (load(data, u64::from(nl), 1)? & 0xf))
}

fn value(v: &Val, pkt: &Packet<'_>) -> R<u32> {
    Ok(match v {
        Val::Const(k) => *k,
        Val::Len => pkt.wire_len,
        Val::Load { base, index, size } => {
            let i = value(index, pkt)?;
            let addr = match *base {
                Base::Abs(k) => u64::from(k) + u64::from(i),
                Base::Ipv4Payload(nl) => {
                    u64::from(nl) + u64::from(i.wrapping_add(ipv4_header_len(pkt.data, nl)?))
                }
            };
            load(pkt.data, addr, *size)?
        }
        Val::Bin(op, l, r) => {
            let a = value(l, pkt)?;
            let b = value(r, pkt)?;
            alu(*op, a, b).ok_or(Abort)?
        }
        Val::Neg(x) => value(x, pkt)?.wrapping_neg(),
    })
}

/// One BPF ALU operation; `None` for a division by zero.
pub(crate) fn alu(op: BinOp, a: u32, b: u32) -> Option<u32> {
    Some(match op {
        BinOp::Add => a.wrapping_add(b),
        BinOp::Sub => a.wrapping_sub(b),
        BinOp::Mul => a.wrapping_mul(b),
        BinOp::Div => a.checked_div(b)?,
        BinOp::Mod => a.checked_rem(b)?,
        BinOp::And => a & b,
        BinOp::Or => a | b,
        BinOp::Xor => a ^ b,
        BinOp::Shl => a.checked_shl(b).unwrap_or(0),
        BinOp::Shr => a.checked_shr(b).unwrap_or(0),
    })
}

/// Big-endian read of 1, 2 or 4 bytes at `at`.
pub(crate) fn load_be(data: &[u8], at: u64, size: u8) -> Option<u32> {
    let at = usize::try_from(at).ok()?;
    let end = at.checked_add(usize::from(size))?;
    let b = data.get(at..end)?;
    Some(match b {
        [x] => u32::from(*x),
        [x, y] => u32::from(u16::from_be_bytes([*x, *y])),
        [a, b, c, d] => u32::from_be_bytes([*a, *b, *c, *d]),
        _ => return None,
    })
}

fn load(data: &[u8], at: u64, size: u8) -> R<u32> {
    load_be(data, at, size).ok_or(Abort)
}
