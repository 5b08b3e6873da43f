//! Code generation from a lowered [`Pred`] to classic BPF. Code is emitted
//! backwards, so every jump target is already placed when the jump is
//! written; a target more than 255 instructions away goes through a `ja`
//! trampoline. Arithmetic keeps intermediate values in the 16 scratch
//! words.

use super::op::*;
use super::{Insn, Target, Unsupported, ACCEPT, MAX_INSNS, SKF_AD_OFF, SKF_AD_PROTOCOL};
use crate::filter::ast::BinOp;
use crate::filter::lower::{lower, Base, Cond, Family, Loc, Pred, Val};
use crate::filter::Filter;

/// Compiles `filter` for a socket of kind `target`.
pub fn compile(filter: &Filter, target: Target) -> Result<Vec<Insn>, Unsupported> {
    let family = match target {
        Target::Ethernet => Family::Ethernet,
        Target::Cooked => Family::Cooked,
    };
    let pred = lower(filter.expr(), family, true).map_err(|reason| Unsupported { reason })?;
    compile_pred(&pred)
}

pub(crate) fn compile_pred(pred: &Pred) -> Result<Vec<Insn>, Unsupported> {
    let mut g = Gen { rev: Vec::new() };
    g.push(stmt(RET | K, 0)); // id 0: reject
    g.push(stmt(RET | K, ACCEPT)); // id 1: accept
    let entry = g.pred(pred, 1, 0)?;
    if entry + 1 != g.rev.len() {
        g.jump_to(entry)?;
    }
    if g.rev.len() > MAX_INSNS {
        return Err(too_long());
    }
    g.rev.reverse();
    Ok(g.rev)
}

fn too_long() -> Unsupported {
    Unsupported {
        reason: format!("the program would exceed {MAX_INSNS} instructions"),
    }
}

fn stmt(code: u16, k: u32) -> Insn {
    Insn {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

fn size_bits(size: u8) -> u16 {
    match size {
        1 => B,
        2 => H,
        _ => W,
    }
}

/// Offsets at or above this are never inside a packet; the kernel would
/// read them as special (negative) offsets, so they are compiled as the
/// load failure they are in user space.
const MAX_OFFSET: u32 = 0x8000_0000;

struct Gen {
    /// Instructions in reverse order; an instruction's id is its index here.
    rev: Vec<Insn>,
}

impl Gen {
    fn push(&mut self, i: Insn) -> usize {
        self.rev.push(i);
        self.rev.len() - 1
    }

    fn check_len(&self) -> Result<(), Unsupported> {
        if self.rev.len() > MAX_INSNS {
            Err(too_long())
        } else {
            Ok(())
        }
    }

    /// Emits `ja` to `target` and returns its id.
    fn jump_to(&mut self, target: usize) -> Result<usize, Unsupported> {
        let n = self.rev.len();
        let off = u32::try_from(n - target - 1).map_err(|_| too_long())?;
        Ok(self.push(stmt(JMP | JA, off)))
    }

    /// A target a conditional jump emitted within the next two
    /// instructions can reach (through a trampoline if needed).
    fn near(&mut self, target: usize) -> Result<usize, Unsupported> {
        if self.rev.len() - target - 1 > 250 {
            self.jump_to(target)
        } else {
            Ok(target)
        }
    }

    /// Emits `stmts` followed by a conditional jump; returns the entry id.
    fn branch(
        &mut self,
        stmts: &[Insn],
        code: u16,
        k: u32,
        t: usize,
        f: usize,
    ) -> Result<usize, Unsupported> {
        let t = self.near(t)?;
        let f = self.near(f)?;
        let n = self.rev.len();
        let (jt, jf) = (n - t - 1, n - f - 1);
        let (Ok(jt), Ok(jf)) = (u8::try_from(jt), u8::try_from(jf)) else {
            return Err(too_long());
        };
        let mut entry = self.push(Insn { code, jt, jf, k });
        for s in stmts.iter().rev() {
            entry = self.push(*s);
        }
        self.check_len()?;
        Ok(entry)
    }

    /// Code that goes to `t` if `p` holds and to `f` if not; returns its
    /// entry id.
    fn pred(&mut self, p: &Pred, t: usize, f: usize) -> Result<usize, Unsupported> {
        match p {
            Pred::True => Ok(t),
            Pred::False => Ok(f),
            Pred::And(a, b) => {
                let eb = self.pred(b, t, f)?;
                self.pred(a, eb, f)
            }
            Pred::Or(a, b) => {
                let eb = self.pred(b, t, f)?;
                self.pred(a, t, eb)
            }
            Pred::Not(a) => self.pred(a, f, t),
            Pred::Cmp {
                loc,
                size,
                mask,
                cond,
                val,
            } => {
                let sz = size_bits(*size);
                let mut s = Vec::with_capacity(3);
                match *loc {
                    Loc::Abs(k) if k >= MAX_OFFSET => return Ok(0),
                    Loc::Abs(k) => s.push(stmt(LD | sz | ABS, k)),
                    Loc::Ipv4Payload { nl, off } => {
                        s.push(stmt(LDX | B | MSH, nl));
                        s.push(stmt(LD | sz | IND, nl.saturating_add(off)));
                    }
                    Loc::Protocol => s.push(stmt(LD | H | ABS, SKF_AD_OFF + SKF_AD_PROTOCOL)),
                }
                if *mask != u32::MAX {
                    s.push(stmt(ALU | AND | K, *mask));
                }
                self.branch(&s, JMP | jcode(*cond) | K, *val, t, f)
            }
            Pred::Rel { cond, lhs, rhs } => {
                let mut s = Vec::new();
                if let Val::Const(c) = rhs {
                    value(lhs, 0, &mut s)?;
                    self.branch(&s, JMP | jcode(*cond) | K, *c, t, f)
                } else {
                    value(rhs, 0, &mut s)?;
                    s.push(stmt(ST, 0));
                    value(lhs, 1, &mut s)?;
                    s.push(stmt(LDX | MEM, 0));
                    self.branch(&s, JMP | jcode(*cond) | X, 0, t, f)
                }
            }
        }
    }
}

fn jcode(c: Cond) -> u16 {
    match c {
        Cond::Eq => JEQ,
        Cond::Gt => JGT,
        Cond::Ge => JGE,
        Cond::Set => JSET,
    }
}

fn alu_code(op: BinOp) -> u16 {
    match op {
        BinOp::Add => ADD,
        BinOp::Sub => SUB,
        BinOp::Mul => MUL,
        BinOp::Div => DIV,
        BinOp::Mod => MOD,
        BinOp::And => AND,
        BinOp::Or => OR,
        BinOp::Xor => XOR,
        BinOp::Shl => LSH,
        BinOp::Shr => RSH,
    }
}

/// Appends code leaving `v` in A; scratch words from `depth` up are free.
fn value(v: &Val, depth: u32, out: &mut Vec<Insn>) -> Result<(), Unsupported> {
    if out.len() > MAX_INSNS {
        return Err(too_long());
    }
    match v {
        Val::Const(k) => out.push(stmt(LD | IMM, *k)),
        Val::Len => out.push(stmt(LD | W | LEN, 0)),
        Val::Neg(x) => {
            value(x, depth, out)?;
            out.push(stmt(ALU | NEG, 0));
        }
        Val::Load { base, index, size } => {
            let sz = size_bits(*size);
            match (base, &**index) {
                (Base::Abs(k), Val::Const(c)) => match k.checked_add(*c) {
                    Some(at) if at < MAX_OFFSET => out.push(stmt(LD | sz | ABS, at)),
                    _ => out.push(stmt(RET | K, 0)),
                },
                (Base::Abs(k), idx) => {
                    value(idx, depth, out)?;
                    out.push(stmt(MISC | TAX, 0));
                    out.push(stmt(LD | sz | IND, *k));
                }
                (Base::Ipv4Payload(nl), idx) => {
                    value(idx, depth, out)?;
                    out.push(stmt(LDX | B | MSH, *nl));
                    out.push(stmt(ALU | ADD | X, 0));
                    out.push(stmt(MISC | TAX, 0));
                    out.push(stmt(LD | sz | IND, *nl));
                }
            }
        }
        Val::Bin(op, l, r) => {
            if let Val::Const(c) = **r {
                value(l, depth, out)?;
                if c == 0 && matches!(op, BinOp::Div | BinOp::Mod) {
                    out.push(stmt(RET | K, 0));
                } else {
                    out.push(stmt(ALU | alu_code(*op) | K, c));
                }
            } else {
                if depth >= 16 {
                    return Err(Unsupported {
                        reason: "the arithmetic needs more than 16 scratch words".into(),
                    });
                }
                value(r, depth, out)?;
                out.push(stmt(ST, depth));
                value(l, depth + 1, out)?;
                out.push(stmt(LDX | MEM, depth));
                out.push(stmt(ALU | alu_code(*op) | X, 0));
            }
        }
    }
    Ok(())
}

/// A listing in the style of `tcpdump -d`.
pub fn disassemble(prog: &[Insn]) -> String {
    let mut s = String::new();
    for (i, ins) in prog.iter().enumerate() {
        let k = ins.k;
        let sz = match ins.code & 0x18 {
            H => "h",
            B => "b",
            _ => "",
        };
        let text = match ins.code & 0x07 {
            LD => match ins.code & 0xe0 {
                IMM => format!("ld       #{k:#x}"),
                LEN => "ld       #pktlen".to_string(),
                MEM => format!("ld       M[{k}]"),
                ABS if k >= SKF_AD_OFF => format!("ld{sz:<7}#ancillary+{}", k - SKF_AD_OFF),
                ABS => format!("ld{sz:<7}[{k}]"),
                IND => format!("ld{sz:<7}[x + {k}]"),
                _ => format!("unknown  {:#x}", ins.code),
            },
            LDX => match ins.code & 0xe0 {
                IMM => format!("ldx      #{k:#x}"),
                LEN => "ldx      #pktlen".to_string(),
                MEM => format!("ldx      M[{k}]"),
                MSH => format!("ldxb     4*([{k}]&0xf)"),
                _ => format!("unknown  {:#x}", ins.code),
            },
            ST => format!("st       M[{k}]"),
            STX => format!("stx      M[{k}]"),
            ALU => {
                let name = match ins.code & 0xf0 {
                    ADD => "add",
                    SUB => "sub",
                    MUL => "mul",
                    DIV => "div",
                    MOD => "mod",
                    OR => "or",
                    AND => "and",
                    XOR => "xor",
                    LSH => "lsh",
                    RSH => "rsh",
                    NEG => "neg",
                    _ => "alu?",
                };
                if ins.code & 0xf0 == NEG {
                    "neg".to_string()
                } else if ins.code & X != 0 {
                    format!("{name:<9}x")
                } else {
                    format!("{name:<9}#{k:#x}")
                }
            }
            JMP => {
                let name = match ins.code & 0xf0 {
                    JA => {
                        let to = i + 1 + k as usize;
                        s.push_str(&format!("({i:03}) ja       {to}\n"));
                        continue;
                    }
                    JEQ => "jeq",
                    JGT => "jgt",
                    JGE => "jge",
                    JSET => "jset",
                    _ => "j?",
                };
                let opnd = if ins.code & X != 0 {
                    "x".to_string()
                } else {
                    format!("#{k:#x}")
                };
                format!(
                    "{name:<9}{opnd:<16}jt {}\tjf {}",
                    i + 1 + usize::from(ins.jt),
                    i + 1 + usize::from(ins.jf)
                )
            }
            RET => match ins.code & 0x18 {
                A => "ret      a".to_string(),
                X => "ret      x".to_string(),
                _ => format!("ret      #{k}"),
            },
            _ => match ins.code & 0xf8 {
                TAX => "tax".to_string(),
                TXA => "txa".to_string(),
                _ => format!("unknown  {:#x}", ins.code),
            },
        };
        s.push_str(&format!("({i:03}) {text}\n"));
    }
    s
}
