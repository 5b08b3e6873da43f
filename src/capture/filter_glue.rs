// Not compiled until src/filter lands on main: then add `mod filter_glue;` to
// src/capture/mod.rs and make cli::capture::load_filter call filter::parse.
//! The filter language behind the capture agent's seam: a parsed
//! [`Filter`] compiles to classic BPF for the socket's view of packets,
//! and matches frames in user space where it cannot.

use super::{BpfInsn, LinkKind, PacketFilter};
use crate::filter::{bpf, Filter};
use crate::pcap::Frame;

impl PacketFilter for Filter {
    fn compile(&self, link: LinkKind) -> Result<Vec<BpfInsn>, String> {
        let target = match link {
            LinkKind::Ethernet => bpf::Target::Ethernet,
            LinkKind::Cooked => bpf::Target::Cooked,
        };
        let prog = bpf::compile(self, target).map_err(|e| e.reason)?;
        Ok(prog.iter().map(|i| BpfInsn { code: i.code, jt: i.jt, jf: i.jf, k: i.k }).collect())
    }

    fn matches(&self, frame: &Frame<'_>) -> bool {
        Filter::matches(self, frame)
    }
}
