//! Any bytes through the whole capture pipeline: reader (pcap, pcapng,
//! gzip), decoders, defragmentation, conversation table and reassembly.
//! Must never panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedeck::analysis::{self, Options, Output};
use tracedeck::flow::Conversation;
use tracedeck::pcap::Reader;

struct Count(u64);

impl Output for Count {
    fn conversation(&mut self, conv: &Conversation) {
        self.0 += conv.packets();
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(mut reader) = Reader::new(std::io::Cursor::new(data.to_vec())) else {
        return;
    };
    let mut out = Count(0);
    let _ = analysis::analyze(&mut reader, &Options::default(), &mut out);
});
