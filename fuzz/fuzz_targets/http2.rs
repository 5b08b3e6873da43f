//! Random bytes, chunking, gaps, resets and holds (a retransmission
//! filling a hole) into the HTTP/2 analyzer, after
//! a client preface or straight into frames: it must never panic (HPACK
//! bombs, absurd frame lengths, CONTINUATION floods included). Finished
//! streams are drained after every event, so each becomes an exchange and
//! goes through the verdict (`http::judge_stream`) as in a real run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedeck::analysis::{Context, Emit, InnerPacket, OutputError, Record, TroubleLog, BUILTIN};
use tracedeck::analysis::tls::KeyLog;
use tracedeck::flow::{Conversation, Dir, Proto};
use tracedeck::Timestamp;

/// Keeps the verdicts alive so the optimiser cannot drop their making.
struct Verdicts(usize);

impl Emit for Verdicts {
    fn record(&mut self, record: Record) -> Result<(), OutputError> {
        if let Record::Http(x) = record {
            self.0 += x.verdict.text.len();
        }
        Ok(())
    }
    fn inner_packet(&mut self, _packet: InnerPacket) {}
}

const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

fuzz_target!(|data: &[u8]| {
    let Some(entry) = BUILTIN.stream("h2") else {
        return;
    };
    let conv = Conversation::new(
        0,
        Proto::Tcp,
        "127.0.0.1:40000".parse().unwrap(),
        "127.0.0.1:8080".parse().unwrap(),
        true,
    );
    let trouble = TroubleLog::new();
    let keys = KeyLog::default();
    let cx = Context {
        conv: &conv,
        trouble: &trouble,
        keys: &keys,
    };
    let mut out = Verdicts(0);
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
            // A retransmission filling a hole that bytes waited behind
            // for up to 6.5 s (what follows is what it releases).
            // No drain before the next op: the analysis drains after a
            // packet's bytes, and a drain ends the hold.
            121..=123 => {
                h2.held(dir, Timestamp::from_nanos(ts - n as i64 * 100_000), t);
                continue;
            }
            _ => {
                h2.data(dir, t, frame, input);
                input = &[];
            }
        }
        let _ = h2.drain(&cx, &mut out);
    }
    h2.finish(Timestamp::from_nanos(ts + 1));
    let _ = h2.drain(&cx, &mut out);
    let _ = h2.tally();
});
