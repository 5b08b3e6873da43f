//! The TLS analyzer on arbitrary bytes in both directions, without keys
//! and with a key log holding every secret for the all-zero client random
//! (so the fuzzer can reach decryption). None may panic; memory stays
//! bounded by the analyzer's caps.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedeck::analysis::tls::{self, KeyLog};
use tracedeck::analysis::{Context, Emit, InnerPacket, OutputError, Record, TroubleLog};
use tracedeck::flow::{Conversation, Dir, Proto};
use tracedeck::time::Timestamp;

struct Discard;

impl Emit for Discard {
    fn record(&mut self, _record: Record) -> Result<(), OutputError> {
        Ok(())
    }
    fn inner_packet(&mut self, _packet: InnerPacket) {}
}

fn keys() -> KeyLog {
    let random = "00".repeat(32);
    let s32 = "11".repeat(32);
    let s48 = "22".repeat(48);
    let text = format!(
        "CLIENT_RANDOM {random} {s48}\n\
         CLIENT_HANDSHAKE_TRAFFIC_SECRET {random} {s32}\n\
         SERVER_HANDSHAKE_TRAFFIC_SECRET {random} {s32}\n\
         CLIENT_TRAFFIC_SECRET_0 {random} {s32}\n\
         SERVER_TRAFFIC_SECRET_0 {random} {s32}\n"
    );
    KeyLog::parse(&text, "fuzz")
}

fuzz_target!(|data: &[u8]| {
    let conv = Conversation::new(
        0,
        Proto::Tcp,
        "127.0.0.1:40000".parse().unwrap(),
        "127.0.0.1:443".parse().unwrap(),
        true,
    );
    let trouble = TroubleLog::new();
    let with_keys = keys();
    for keys in [&KeyLog::default(), &with_keys] {
        let cx = Context {
            conv: &conv,
            trouble: &trouble,
            keys,
        };
        let mut tls = tls::new();
        let mut rest = data;
        let mut frame = 0u64;
        // Each chunk: a byte (direction bit, length / 8), then the bytes.
        while let Some((&head, tail)) = rest.split_first() {
            let len = (usize::from(head & 0x7f) * 8 + 1).min(tail.len());
            let (chunk, tail) = tail.split_at(len);
            let dir = if head & 0x80 == 0 { Dir::ToServer } else { Dir::ToClient };
            let ts = Timestamp::from_nanos(frame as i64 * 1000);
            if chunk.first() == Some(&0xff) && chunk.len() == 1 {
                tls.gap(dir, ts, frame, 100);
            } else {
                tls.data(dir, ts, frame, chunk);
            }
            let _ = tls.drain(&cx, &mut Discard);
            rest = tail;
            frame += 1;
        }
        tls.finish(Timestamp::from_nanos(frame as i64 * 1000));
        let _ = tls.drain(&cx, &mut Discard);
        let _ = tls.tally();
        let _ = tls.tls();
    }
});
