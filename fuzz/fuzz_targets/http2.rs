//! Random bytes, chunking, gaps and resets into the HTTP/2 analyzer, after
//! a client preface or straight into frames: it must never panic (HPACK
//! bombs, absurd frame lengths, CONTINUATION floods included).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedeck::analysis::BUILTIN;
use tracedeck::flow::{Dir, StreamSink};
use tracedeck::Timestamp;

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let Some(entry) = BUILTIN.stream("h2") else {
        return;
    };
    let mut h2 = (entry.new)();
    let mut input = data;
    if let [first, rest @ ..] = input {
        if first & 1 == 0 {
            h2.data(Dir::ToServer, Timestamp::from_nanos(0), 0, PREFACE);
        }
        input = rest;
    }
    let mut ts = 0i64;
    let mut frame = 0u64;
    while let [op, a, b, rest @ ..] = input {
        let dir = if op & 1 == 0 { Dir::ToServer } else { Dir::ToClient };
        ts += i64::from(*a);
        frame += 1;
        let t = Timestamp::from_nanos(ts);
        input = rest;
        let n = usize::from(u16::from_be_bytes([*a, *b]));
        match op >> 1 {
            0..=109 => {
                let n = n.min(input.len());
                h2.data(dir, t, frame, &input[..n]);
                input = &input[n..];
            }
            110..=114 => h2.gap(dir, t, frame, n as u64),
            115..=117 => h2.fin(dir, t, frame),
            118..=120 => h2.reset(dir, t, frame),
            _ => {
                h2.data(dir, t, frame, input);
                input = &[];
            }
        }
    }
    h2.finish(Timestamp::from_nanos(ts + 1));
    let _ = h2.tally();
});
