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
        if link == LinkKind::Cooked && uses_length(self.source()) {
            // The kernel's cooked length is the network packet; the file
            // holds a 20-byte SLL2 header in front of it. Evaluate on the
            // written frame instead, so `len` means what the file shows.
            return Err("length comparisons on cooked captures are checked in user space".into());
        }
        let prog = bpf::compile(self, target).map_err(|e| e.reason)?;
        Ok(prog
            .iter()
            .map(|i| BpfInsn {
                code: i.code,
                jt: i.jt,
                jf: i.jf,
                k: i.k,
            })
            .collect())
    }

    fn matches(&self, frame: &Frame<'_>) -> bool {
        Filter::matches(self, frame)
    }
}

/// Whether the expression compares packet lengths (`len`, `less`, `greater`).
fn uses_length(source: &str) -> bool {
    source
        .split(|c: char| !c.is_ascii_alphanumeric())
        .any(|w| matches!(w, "len" | "less" | "greater"))
}
