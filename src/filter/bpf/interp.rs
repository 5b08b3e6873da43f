//! A classic BPF interpreter with the kernel's rules: loads past the end
//! of the packet, division by zero and unknown opcodes end the program
//! with 0 (drop); the only ancillary load is `SKF_AD_PROTOCOL`. Jumps only
//! go forward, so a run takes at most `prog.len()` steps.

use super::op::*;
use super::{Insn, SKF_AD_OFF, SKF_AD_PROTOCOL};
use crate::filter::ast::BinOp;
use crate::filter::eval::{alu, load_be};

/// Runs `prog` on `packet` (the captured bytes), with `wire_len` as the
/// packet length and `protocol` as the ancillary ethertype. Returns the
/// number of bytes to keep; 0 means drop.
pub fn run(prog: &[Insn], packet: &[u8], wire_len: u32, protocol: u16) -> u32 {
    let mut a: u32 = 0;
    let mut x: u32 = 0;
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    loop {
        let Some(ins) = prog.get(pc) else { return 0 };
        pc += 1;
        let k = ins.k;
        let size = |code: u16| match code & 0x18 {
            W => Some(4u8),
            H => Some(2),
            B => Some(1),
            _ => None,
        };
        match ins.code & 0x07 {
            LD | LDX => {
                let is_x = ins.code & 0x07 == LDX;
                let v = match ins.code & 0xe0 {
                    IMM => k,
                    LEN => wire_len,
                    MEM => match mem.get(k as usize) {
                        Some(v) => *v,
                        None => return 0,
                    },
                    ABS if !is_x => {
                        let Some(sz) = size(ins.code) else { return 0 };
                        if k >= SKF_AD_OFF {
                            if k == SKF_AD_OFF + SKF_AD_PROTOCOL {
                                u32::from(protocol)
                            } else {
                                return 0;
                            }
                        } else {
                            match load_be(packet, u64::from(k), sz) {
                                Some(v) => v,
                                None => return 0,
                            }
                        }
                    }
                    IND if !is_x => {
                        let Some(sz) = size(ins.code) else { return 0 };
                        match load_be(packet, u64::from(x) + u64::from(k), sz) {
                            Some(v) => v,
                            None => return 0,
                        }
                    }
                    MSH if is_x && ins.code & 0x18 == B => match load_be(packet, u64::from(k), 1) {
                        Some(v) => 4 * (v & 0xf),
                        None => return 0,
                    },
                    _ => return 0,
                };
                if is_x {
                    x = v;
                } else {
                    a = v;
                }
            }
            ST | STX => {
                let v = if ins.code & 0x07 == ST { a } else { x };
                match mem.get_mut(k as usize) {
                    Some(m) => *m = v,
                    None => return 0,
                }
            }
            ALU => {
                let operand = if ins.code & X != 0 { x } else { k };
                let bin = match ins.code & 0xf0 {
                    ADD => BinOp::Add,
                    SUB => BinOp::Sub,
                    MUL => BinOp::Mul,
                    DIV => BinOp::Div,
                    MOD => BinOp::Mod,
                    OR => BinOp::Or,
                    AND => BinOp::And,
                    XOR => BinOp::Xor,
                    LSH => BinOp::Shl,
                    RSH => BinOp::Shr,
                    NEG => {
                        a = a.wrapping_neg();
                        continue;
                    }
                    _ => return 0,
                };
                match alu(bin, a, operand) {
                    Some(v) => a = v,
                    None => return 0,
                }
            }
            JMP => {
                let operand = if ins.code & X != 0 { x } else { k };
                let skip = match ins.code & 0xf0 {
                    JA => k as usize,
                    c => {
                        let taken = match c {
                            JEQ => a == operand,
                            JGT => a > operand,
                            JGE => a >= operand,
                            JSET => a & operand != 0,
                            _ => return 0,
                        };
                        usize::from(if taken { ins.jt } else { ins.jf })
                    }
                };
                pc = match pc.checked_add(skip) {
                    Some(p) => p,
                    None => return 0,
                };
            }
            RET => {
                return match ins.code & 0x18 {
                    K => k,
                    A => a,
                    X => x,
                    _ => 0,
                }
            }
            _ => {
                // MISC
                match ins.code & 0xf8 {
                    TAX => x = a,
                    TXA => a = x,
                    _ => return 0,
                }
            }
        }
    }
}
