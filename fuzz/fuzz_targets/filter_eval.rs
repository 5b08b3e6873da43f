//! An expression (up to the first NUL) and a packet (the rest): evaluation
//! never panics on any link type, and for Ethernet and cooked frames the
//! compiled program, run by our interpreter, gives the same answer.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tracedeck::filter::{bpf, parse};
use tracedeck::pcap::{Frame, LinkType};

fuzz_target!(|data: &[u8]| {
    let Some(nul) = data.iter().position(|&b| b == 0) else {
        return;
    };
    let Ok(expr) = std::str::from_utf8(&data[..nul]) else {
        return;
    };
    let Ok(f) = parse(expr) else { return };
    let rest = &data[nul + 1..];
    let Some((&sel, pkt)) = rest.split_first() else {
        return;
    };
    const LINKS: [u32; 11] = [1, 113, 276, 0, 108, 101, 12, 14, 228, 229, 127];
    let lt = LINKS[usize::from(sel) % LINKS.len()];
    // Wire length at or above the captured length, as in real captures.
    let orig_len = pkt.len() as u32 + u32::from(sel / 16);
    let frame = Frame {
        index: 0,
        offset: 0,
        ts: None,
        link_type: LinkType(lt),
        interface: 0,
        orig_len,
        data: pkt,
    };
    let want = f.matches(&frame);
    if lt == 1 {
        if let Ok(prog) = bpf::compile(&f, bpf::Target::Ethernet) {
            assert_eq!(bpf::run(&prog, pkt, orig_len, 0) != 0, want, "{expr:?}");
        }
    }
    if lt == 113 && pkt.len() >= 16 {
        if let Ok(prog) = bpf::compile(&f, bpf::Target::Cooked) {
            let proto = u16::from_be_bytes([pkt[14], pkt[15]]);
            let got = bpf::run(&prog, &pkt[16..], orig_len.saturating_sub(16), proto) != 0;
            assert_eq!(got, want, "{expr:?}");
        }
    }
});
