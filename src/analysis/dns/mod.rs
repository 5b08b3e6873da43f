//! The DNS analyzer, over UDP (a message per datagram) and TCP (messages
//! behind a 2-byte length, RFC 1035 section 4.2.2): its probes, which
//! claim a conversation by content (a plausible header and question, not
//! a port), and the analyzers that pair queries with responses into
//! [`DnsRow`](crate::analysis::report::DnsRow)s (README, "DNS lookups").

mod lookups;
mod recent;
pub mod wire;

pub use recent::RecentLookups;

use crate::flow::{Conversation, Dir, StreamSink};
use crate::time::Timestamp;

use super::protocol::{Context, DatagramAnalyzer, Emit, Probe, StreamAnalyzer, Tally};
use super::OutputError;
use lookups::Lookups;

/// The name both analyzers register under.
pub const NAME: &str = "dns";

/// Whether a UDP conversation's first datagram is a DNS message.
pub fn probe_datagram(_conv: &Conversation, _dir: Dir, payload: &[u8]) -> bool {
    wire::plausible(payload)
}

/// Whether a TCP stream starts with a length-prefixed DNS message. `Yes`
/// only for a whole plausible first message, so that no stream another
/// analyzer would have read is taken on a guess.
pub fn probe_stream(_dir: Dir, first_bytes: &[u8]) -> Probe {
    let Some(len) = first_bytes.get(..2) else {
        return Probe::NeedMore;
    };
    // A TLS record header (content type 20..23, major version 3) reads as
    // a 5-6 KB length; no DNS stream starts that way in practice.
    if (0x14..=0x17).contains(&len[0]) && len[1] == 0x03 {
        return Probe::No;
    }
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    if len < wire::HEADER_LEN {
        return Probe::No;
    }
    match first_bytes.get(2..2 + len) {
        Some(msg) if wire::plausible(msg) => Probe::Yes,
        Some(_) => Probe::No,
        None => {
            // What the header shows so far must already fit: do not hold
            // bytes that cannot be DNS.
            let seen = &first_bytes[2..];
            let opcode_ok = seen
                .get(2)
                .is_none_or(|&flags| matches!((flags >> 3) & 0xf, 0 | 1 | 2 | 4 | 5));
            let one_question = seen.get(4..6).is_none_or(|q| q == [0, 1]);
            if opcode_ok && one_question {
                Probe::NeedMore
            } else {
                Probe::No
            }
        }
    }
}

/// Builds the UDP analyzer (the registry's constructor).
pub fn new_datagram() -> Box<dyn DatagramAnalyzer> {
    Box::new(DnsDatagrams::default())
}

/// Builds the TCP analyzer (the registry's constructor).
pub fn new_stream() -> Box<dyn StreamAnalyzer> {
    Box::new(DnsStream::default())
}

/// DNS over one UDP conversation.
#[derive(Default)]
pub struct DnsDatagrams {
    lookups: Lookups,
}

impl DatagramAnalyzer for DnsDatagrams {
    fn datagram(&mut self, dir: Dir, ts: Timestamp, frame: u64, payload: &[u8]) {
        self.lookups.message(dir, ts, frame, payload);
    }

    fn finish(&mut self, _ts: Timestamp) {
        self.lookups.finish();
    }

    fn drain(&mut self, cx: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError> {
        self.lookups.drain(cx, emit)
    }

    fn tally(&self) -> Tally {
        self.lookups.tally()
    }
}

/// Most bytes one direction holds: one whole message and its prefix.
const MAX_HELD: usize = 2 + u16::MAX as usize;

/// One direction of a TCP conversation, cut into messages.
#[derive(Default)]
struct Framer {
    held: Vec<u8>,
    /// Bytes were lost: message boundaries are unknown from here on.
    lost: bool,
}

/// DNS over one TCP conversation.
#[derive(Default)]
pub struct DnsStream {
    dirs: [Framer; 2],
    lookups: Lookups,
}

impl DnsStream {
    /// A direction stops being read (a gap, or an end mid-message).
    /// A note goes on the open query when a message was cut.
    fn give_up(&mut self, dir: Dir, what: &str, cut: bool) {
        let framer = &mut self.dirs[dir.index()];
        if !framer.lost && (cut || !framer.held.is_empty()) {
            self.lookups.lost(dir, what);
        }
        framer.lost = true;
        framer.held = Vec::new();
    }
}

impl StreamSink for DnsStream {
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        let framer = &mut self.dirs[dir.index()];
        if framer.lost {
            return;
        }
        framer.held.extend_from_slice(bytes);
        let mut at = 0;
        while let Some(prefix) = framer.held.get(at..at + 2) {
            let len = usize::from(u16::from_be_bytes([prefix[0], prefix[1]]));
            let Some(msg) = framer.held.get(at + 2..at + 2 + len) else {
                break;
            };
            self.lookups.message(dir, ts, frame, msg);
            at += 2 + len;
        }
        framer.held.drain(..at);
        debug_assert!(framer.held.len() <= MAX_HELD);
    }

    fn gap(&mut self, dir: Dir, _ts: Timestamp, _frame: u64, _len: u64) {
        self.give_up(dir, "bytes of the stream were never seen", true);
    }

    fn fin(&mut self, dir: Dir, _ts: Timestamp, _frame: u64) {
        self.give_up(dir, "the stream ended inside a message", false);
    }

    fn reset(&mut self, dir: Dir, _ts: Timestamp, _frame: u64) {
        self.give_up(dir, "the stream was reset inside a message", false);
    }
}

impl StreamAnalyzer for DnsStream {
    fn finish(&mut self, _ts: Timestamp) {
        for dir in [Dir::ToServer, Dir::ToClient] {
            if !self.dirs[dir.index()].held.is_empty() {
                self.give_up(dir, "the capture ended inside a message", false);
            }
        }
        self.lookups.finish();
    }

    fn drain(&mut self, cx: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError> {
        self.lookups.drain(cx, emit)
    }

    fn tally(&self) -> Tally {
        self.lookups.tally()
    }
}

#[cfg(test)]
mod test {
    use super::wire::test::{a_answer, message};
    use super::*;
    use crate::analysis::report::DnsRow;

    fn prefixed(msg: &[u8]) -> Vec<u8> {
        let mut out = (msg.len() as u16).to_be_bytes().to_vec();
        out.extend_from_slice(msg);
        out
    }

    #[test]
    fn a_tcp_stream_is_claimed_only_by_a_whole_plausible_message() {
        let q = prefixed(&message(9, 0x0100, "example.org", 28, &[]));
        assert_eq!(probe_stream(Dir::ToServer, &q), Probe::Yes);
        assert_eq!(probe_stream(Dir::ToServer, &q[..1]), Probe::NeedMore);
        assert_eq!(probe_stream(Dir::ToServer, &q[..20]), Probe::NeedMore);
        assert_eq!(
            probe_stream(Dir::ToServer, b"GET / HTTP/1.1\r\n"),
            Probe::No
        );
        assert_eq!(
            probe_stream(
                Dir::ToServer,
                b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03xxxxxxxxxxxxx"
            ),
            Probe::No
        );
    }

    #[test]
    fn tcp_messages_are_cut_at_their_lengths_wherever_segments_end() {
        let q = prefixed(&message(9, 0x0100, "example.org", 1, &[]));
        let r = prefixed(&message(
            9,
            0x8180,
            "example.org",
            1,
            &a_answer([10, 0, 0, 1]),
        ));
        let mut s = DnsStream::default();
        let t = Timestamp::from_nanos;
        s.data(Dir::ToServer, t(1), 0, &q[..5]);
        s.data(Dir::ToServer, t(2), 1, &q[5..]);
        let mut both = r.clone();
        both.extend_from_slice(&r);
        s.data(Dir::ToClient, t(10), 2, &both);
        StreamAnalyzer::finish(&mut s, t(11));
        let rows: Vec<_> = s.lookups_done();
        assert_eq!(rows.len(), 2, "{rows:?}");
        assert_eq!(rows[0].response_time.map(|s| s.as_nanos()), Some(8));
        assert_eq!(rows[0].answers, "A 10.0.0.1");
        assert_eq!(rows[1].status, "no query", "the duplicate response");
    }

    impl DnsStream {
        fn lookups_done(&mut self) -> Vec<DnsRow> {
            self.lookups.take_done()
        }
    }
}
