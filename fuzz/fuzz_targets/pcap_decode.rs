//! One frame's bytes through every link-layer decoder.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedeck::pcap::{decode, Frame, LinkType};

const LINKS: [u32; 16] = [0, 1, 9, 12, 14, 50, 101, 104, 108, 113, 127, 219, 228, 229, 239, 276];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else { return };
    let frame = Frame {
        index: 0,
        offset: 0,
        ts: None,
        link_type: LinkType(LINKS[usize::from(selector) % LINKS.len()]),
        interface: 0,
        orig_len: bytes.len() as u32,
        data: bytes,
    };
    let _ = decode(&frame);
});
