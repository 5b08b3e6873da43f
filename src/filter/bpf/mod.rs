//! Classic BPF: compiling a [`Filter`] for an AF_PACKET socket, and an
//! interpreter of ours that runs such programs as the kernel does (used to
//! check the compiler against [`Filter::matches`]).
//!
//! ```
//! use tracedeck::filter::{parse, bpf};
//! let f = parse("tcp port 80").unwrap();
//! let prog = bpf::compile(&f, bpf::Target::Ethernet).unwrap();
//! assert!(prog.len() > 4);
//! ```

mod compile;
mod interp;

pub use compile::{compile, disassemble};
pub use interp::run;

use super::Filter;

/// One classic BPF instruction, laid out as `struct sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// What the socket the program is attached to delivers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// AF_PACKET SOCK_RAW on an Ethernet-like interface (`lo` included:
    /// Linux loopback has a 14-byte all-zero Ethernet header).
    Ethernet,
    /// AF_PACKET SOCK_DGRAM (what `-i any` uses): data starts at the
    /// network header and the ethertype comes from the ancillary load
    /// `SKF_AD_OFF + SKF_AD_PROTOCOL`. `len` counts the 16-byte SLL header
    /// the capture file gets, so the kernel and user space agree on it.
    Cooked,
}

/// The expression cannot be expressed for this target; the caller filters
/// in user space instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cannot compile the filter to kernel BPF: {reason}")]
pub struct Unsupported {
    pub reason: String,
}

/// Most instructions the kernel accepts (`BPF_MAXINSNS`).
pub const MAX_INSNS: usize = 4096;
/// `SKF_AD_OFF`: ancillary loads start here (as an unsigned offset).
pub const SKF_AD_OFF: u32 = 0xffff_f000;
/// `SKF_AD_PROTOCOL`: the skb's protocol (ethertype).
pub const SKF_AD_PROTOCOL: u32 = 0;
/// Value a matching packet returns (the snap length kept).
pub const ACCEPT: u32 = 262_144;

/// Opcode fields (`linux/filter.h`).
pub mod op {
    pub const LD: u16 = 0x00;
    pub const LDX: u16 = 0x01;
    pub const ST: u16 = 0x02;
    pub const STX: u16 = 0x03;
    pub const ALU: u16 = 0x04;
    pub const JMP: u16 = 0x05;
    pub const RET: u16 = 0x06;
    pub const MISC: u16 = 0x07;

    pub const W: u16 = 0x00;
    pub const H: u16 = 0x08;
    pub const B: u16 = 0x10;

    pub const IMM: u16 = 0x00;
    pub const ABS: u16 = 0x20;
    pub const IND: u16 = 0x40;
    pub const MEM: u16 = 0x60;
    pub const LEN: u16 = 0x80;
    pub const MSH: u16 = 0xa0;

    pub const ADD: u16 = 0x00;
    pub const SUB: u16 = 0x10;
    pub const MUL: u16 = 0x20;
    pub const DIV: u16 = 0x30;
    pub const OR: u16 = 0x40;
    pub const AND: u16 = 0x50;
    pub const LSH: u16 = 0x60;
    pub const RSH: u16 = 0x70;
    pub const NEG: u16 = 0x80;
    pub const MOD: u16 = 0x90;
    pub const XOR: u16 = 0xa0;

    pub const JA: u16 = 0x00;
    pub const JEQ: u16 = 0x10;
    pub const JGT: u16 = 0x20;
    pub const JGE: u16 = 0x30;
    pub const JSET: u16 = 0x40;

    pub const K: u16 = 0x00;
    pub const X: u16 = 0x08;
    /// `ret a`
    pub const A: u16 = 0x10;

    pub const TAX: u16 = 0x00;
    pub const TXA: u16 = 0x80;
}

impl Filter {
    /// Shorthand for [`compile`].
    pub fn to_bpf(&self, target: Target) -> Result<Vec<Insn>, Unsupported> {
        compile(self, target)
    }
}
