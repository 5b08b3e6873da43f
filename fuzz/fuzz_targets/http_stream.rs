//! Random bytes, chunking, gaps and closes into `http::Parser`: it must
//! never panic, and its buffers must stay within its limits.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedeck::flow::{Dir, StreamSink};
use tracedeck::http::{Exchange, Limits, Parser};
use tracedeck::Timestamp;

/// A plausible HTTP prefix so the fuzzer reaches deep states quickly.
const SEEDS: &[&[u8]] = &[
    b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
    b"POST /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
    b"HTTP/1.1 100 Continue\r\n\r\n",
    b"CONNECT h:443 HTTP/1.1\r\n\r\n",
    b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\n",
    b"HEAD / HTTP/1.0\r\n\r\n",
];

fuzz_target!(|data: &[u8]| {
    let limits = Limits::default();
    let mut parser: Parser = Parser::with_limits(Vec::new(), limits);
    let mut input = data;
    let mut ts = 0i64;
    let mut frame = 0u64;
    while let [op, arg, rest @ ..] = input {
        let dir = if op & 1 == 0 { Dir::ToServer } else { Dir::ToClient };
        ts += i64::from(*arg);
        frame += 1;
        let t = Timestamp::from_nanos(ts);
        input = rest;
        match op >> 1 {
            0..=79 => {
                let n = usize::from(*arg).min(input.len());
                parser.data(dir, t, frame, &input[..n]);
                input = &input[n..];
            }
            80..=99 => {
                let seed = SEEDS[usize::from(*arg) % SEEDS.len()];
                parser.data(dir, t, frame, seed);
            }
            100..=109 => parser.gap(dir, t, frame, u64::from(*arg) * 7),
            110..=114 => parser.fin(dir, t, frame),
            115..=117 => parser.reset(dir, t, frame),
            _ => {
                // One big chunk of the rest.
                parser.data(dir, t, frame, input);
                input = &[];
            }
        }
        let (bytes, queued) = parser.buffered();
        assert!(bytes <= 1 << 20, "{bytes} bytes buffered");
        assert!(queued <= limits.max_pending);
    }
    parser.finish(Timestamp::from_nanos(ts + 1));
    let exchanges: Vec<Exchange> = parser.into_sink();
    for ex in &exchanges {
        assert!(ex.interim.len() <= 8);
        assert!(ex.uri.as_ref().is_none_or(|u| u.len() <= limits.max_uri));
    }
});
