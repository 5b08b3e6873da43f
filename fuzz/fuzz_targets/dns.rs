//! Random bytes into the DNS analyzers, as UDP datagrams and as TCP
//! chunks with gaps and closes, through their probes too: nothing may
//! panic, and every row's answers stay short (the parser keeps at most 8
//! answer texts of bounded names).
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedeck::analysis::{Context, Emit, InnerPacket, OutputError, Record, TroubleLog, BUILTIN};
use tracedeck::flow::{Conversation, Dir, Proto};
use tracedeck::Timestamp;

struct Rows(usize);

impl Emit for Rows {
    fn record(&mut self, record: Record) -> Result<(), OutputError> {
        if let Record::Dns(row) = record {
            assert!(row.answers.len() <= 8 * 1100, "{}", row.answers.len());
            self.0 += 1;
        }
        Ok(())
    }
    fn inner_packet(&mut self, _: InnerPacket) {}
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let addr = |p| std::net::SocketAddr::from(([127, 0, 0, 1], p));
    let proto = if mode & 1 == 0 { Proto::Udp } else { Proto::Tcp };
    let conv = Conversation::new(1, proto, addr(40000), addr(53), false);
    let trouble = TroubleLog::default();
    let cx = Context {
        conv: &conv,
        trouble: &trouble,
    };
    let mut rows = Rows(0);
    // Messages split at 0xff 0xfe (a rare pair), each led by a byte that
    // picks the direction (and for TCP a gap, FIN or reset).
    let pieces = rest.split(|&b| b == 0xfe);
    if proto == Proto::Udp {
        let entry = &BUILTIN.datagrams[0];
        let mut a = (entry.new)();
        for (i, piece) in pieces.enumerate() {
            let Some((&lead, msg)) = piece.split_first() else { continue };
            let dir = if lead & 1 == 0 { Dir::ToServer } else { Dir::ToClient };
            let _ = (entry.probe)(&conv, dir, msg);
            a.datagram(dir, Timestamp::from_nanos(i as i64), i as u64, msg);
            let _ = a.drain(&cx, &mut rows);
        }
        a.finish(Timestamp::from_nanos(-1));
        let _ = a.drain(&cx, &mut rows);
    } else {
        let Some(entry) = BUILTIN.stream("dns") else { return };
        let mut a = (entry.new)();
        for (i, piece) in pieces.enumerate() {
            let Some((&lead, bytes)) = piece.split_first() else { continue };
            let dir = if lead & 1 == 0 { Dir::ToServer } else { Dir::ToClient };
            let (ts, frame) = (Timestamp::from_nanos(i as i64), i as u64);
            let _ = (entry.probe)(dir, bytes);
            match lead >> 5 {
                1 => a.gap(dir, ts, frame, bytes.len() as u64),
                2 => a.fin(dir, ts, frame),
                3 => a.reset(dir, ts, frame),
                _ => a.data(dir, ts, frame, bytes),
            }
            let _ = a.drain(&cx, &mut rows);
        }
        a.finish(Timestamp::from_nanos(-1));
        let _ = a.drain(&cx, &mut rows);
    }
});
