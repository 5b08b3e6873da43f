//! `Selector`: picks a TCP conversation's stream analyzer by content. The
//! first bytes of each direction go to the registry's probes and are held
//! (with gaps, FINs and RSTs, in order) until a probe says yes; the chosen
//! analyzer then gets everything held, exactly as it came, and the rest
//! directly. A selector is also how an analyzer runs an inner protocol
//! (TLS handing decrypted bytes on): by the same probes, or by name.

use crate::flow::{Dir, StreamSink};
use crate::time::Timestamp;

use super::protocol::{Context, Emit, Probe, StreamAnalyzer, Tally};
use super::registry::{Registry, StreamEntry, MAX_STREAM_ANALYZERS};
use super::OutputError;

/// The protocol of a conversation no analyzer recognised.
pub const UNKNOWN: &str = "unknown";

/// Bytes of one direction held while probes say `NeedMore`; past it the
/// first analyzer still in the running is chosen (the chunk that crosses
/// it is held whole: probes see whole chunks).
pub const MAX_PROBE_BYTES: usize = 16 * 1024;
/// Events (chunks, gaps, ends) held while probing, the same way.
const MAX_HELD_EVENTS: usize = 1024;

/// A conversation's stream analyzer, once chosen.
pub struct Selector {
    registry: &'static Registry,
    state: State,
}

enum State {
    Probing(Box<Probing>),
    Chosen {
        name: &'static str,
        analyzer: Box<dyn StreamAnalyzer>,
    },
    /// No analyzer wants the conversation: its bytes go nowhere.
    Unknown,
}

/// What is held while probing.
#[derive(Default)]
struct Probing {
    /// The first bytes of each direction.
    prefix: [Vec<u8>; 2],
    /// Everything that happened, in order; data refers to `prefix`.
    held: Vec<Held>,
    /// Per direction, bit `i` set: analyzer `i`'s probe said no.
    rejected: [u32; 2],
    /// Per direction: data or a gap arrived.
    seen: [bool; 2],
}

#[derive(Clone, Copy, Debug)]
enum Held {
    Data {
        dir: Dir,
        ts: Timestamp,
        frame: u64,
        len: usize,
    },
    Gap {
        dir: Dir,
        ts: Timestamp,
        frame: u64,
        len: u64,
    },
    Fin {
        dir: Dir,
        ts: Timestamp,
        frame: u64,
    },
    Reset {
        dir: Dir,
        ts: Timestamp,
        frame: u64,
    },
}

impl Selector {
    /// A selector that probes the streams with every stream analyzer of
    /// `registry`.
    pub fn probing(registry: &'static Registry) -> Selector {
        assert!(
            registry.streams.len() <= MAX_STREAM_ANALYZERS,
            "too many stream analyzers"
        );
        let state = if registry.streams.is_empty() {
            State::Unknown
        } else {
            State::Probing(Box::default())
        };
        Selector { registry, state }
    }

    /// A selector running `entry` from the first byte, without probing.
    pub fn with(registry: &'static Registry, entry: &'static StreamEntry) -> Selector {
        Selector {
            registry,
            state: State::Chosen {
                name: entry.name,
                analyzer: (entry.new)(),
            },
        }
    }

    /// A selector running the analyzer registered as `name`, if any.
    pub fn named(registry: &'static Registry, name: &str) -> Option<Selector> {
        registry
            .stream(name)
            .map(|entry| Self::with(registry, entry))
    }

    /// The protocol found: the chosen analyzer's name once it confirmed its
    /// protocol or emitted a record, [`UNKNOWN`] otherwise.
    pub fn protocol(&self) -> &'static str {
        match &self.state {
            State::Chosen { name, analyzer } => {
                let tally = analyzer.tally();
                if tally.confirmed || tally.records > 0 {
                    name
                } else {
                    UNKNOWN
                }
            }
            State::Probing(_) | State::Unknown => UNKNOWN,
        }
    }

    /// Whether probing is over (an analyzer was chosen, or none fits).
    pub fn is_decided(&self) -> bool {
        !matches!(self.state, State::Probing(_))
    }

    fn all_mask(&self) -> u32 {
        match self.registry.streams.len() {
            MAX_STREAM_ANALYZERS => u32::MAX,
            n => (1u32 << n) - 1,
        }
    }

    /// Probing ends without a yes (a gap, a cap, the end): the first
    /// analyzer a direction that had data or a gap still has in the
    /// running gets the conversation; none left, it is unknown.
    fn cut(&mut self) {
        let State::Probing(p) = &self.state else {
            return;
        };
        let all = self.all_mask();
        let open = (0..2)
            .filter(|&d| p.seen[d])
            .fold(0, |acc, d| acc | (all & !p.rejected[d]));
        match open.trailing_zeros() as usize {
            i if i < self.registry.streams.len() => self.choose(i),
            _ => self.state = State::Unknown,
        }
    }

    /// Starts analyzer `i` and replays what was held.
    #[inline(never)]
    fn choose(&mut self, i: usize) {
        let entry = &self.registry.streams[i];
        let mut analyzer = (entry.new)();
        if let State::Probing(p) = &self.state {
            let mut at = [0usize; 2];
            for held in &p.held {
                match *held {
                    Held::Data {
                        dir,
                        ts,
                        frame,
                        len,
                    } => {
                        let d = dir.index();
                        let bytes = p.prefix[d].get(at[d]..at[d] + len).unwrap_or_default();
                        analyzer.data(dir, ts, frame, bytes);
                        at[d] += len;
                    }
                    Held::Gap {
                        dir,
                        ts,
                        frame,
                        len,
                    } => analyzer.gap(dir, ts, frame, len),
                    Held::Fin { dir, ts, frame } => analyzer.fin(dir, ts, frame),
                    Held::Reset { dir, ts, frame } => analyzer.reset(dir, ts, frame),
                }
            }
        }
        self.state = State::Chosen {
            name: entry.name,
            analyzer,
        };
    }

    // Once per conversation: out of the way of the chosen analyzer's path.
    #[cold]
    #[inline(never)]
    fn probing_data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        let streams = self.registry.streams;
        let all = self.all_mask();
        let State::Probing(p) = &mut self.state else {
            return;
        };
        let d = dir.index();
        if p.rejected[d] == all {
            // No analyzer wants this direction: what it sends is lost to
            // whichever the other direction picks.
            p.hold_gap(dir, ts, frame, bytes.len() as u64);
            return self.check_held();
        }
        p.seen[d] = true;
        let yes = if p.prefix[d].is_empty() {
            let yes = probe(streams, dir, bytes, &mut p.rejected[d]);
            if let (Some(i), true) = (yes, p.held.is_empty()) {
                // The usual case: the first chunk decides, nothing is copied.
                self.choose(i);
                return self.data(dir, ts, frame, bytes);
            }
            p.prefix[d].extend_from_slice(bytes);
            yes
        } else {
            p.prefix[d].extend_from_slice(bytes);
            probe(streams, dir, &p.prefix[d], &mut p.rejected[d])
        };
        p.held.push(Held::Data {
            dir,
            ts,
            frame,
            len: bytes.len(),
        });
        if let Some(i) = yes {
            self.choose(i);
        } else if p.rejected.iter().all(|&r| r == all) {
            self.state = State::Unknown;
        } else if p.prefix[d].len() >= MAX_PROBE_BYTES {
            self.cut();
        } else {
            self.check_held();
        }
    }

    fn check_held(&mut self) {
        if let State::Probing(p) = &self.state {
            if p.held.len() >= MAX_HELD_EVENTS {
                self.cut();
            }
        }
    }
}

/// Runs the probes still in the running for `dir` on `bytes`: the first
/// that says yes, recording the noes in `rejected`.
fn probe(streams: &[StreamEntry], dir: Dir, bytes: &[u8], rejected: &mut u32) -> Option<usize> {
    for (i, entry) in streams.iter().enumerate() {
        if *rejected & (1 << i) != 0 {
            continue;
        }
        match (entry.probe)(dir, bytes) {
            Probe::Yes => return Some(i),
            Probe::No => *rejected |= 1 << i,
            Probe::NeedMore => {}
        }
    }
    None
}

impl Probing {
    /// Holds a gap, merged into the previous one of the same direction.
    fn hold_gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64) {
        if let Some(Held::Gap { dir: d, len: l, .. }) = self.held.last_mut() {
            if *d == dir {
                *l += len;
                return;
            }
        }
        self.held.push(Held::Gap {
            dir,
            ts,
            frame,
            len,
        });
    }
}

impl StreamSink for Selector {
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        match &mut self.state {
            State::Chosen { analyzer, .. } => analyzer.data(dir, ts, frame, bytes),
            State::Probing(_) => self.probing_data(dir, ts, frame, bytes),
            State::Unknown => {}
        }
    }

    /// A hole before the probes decided: bytes are missing, so the first
    /// analyzer still in the running decides for itself what follows.
    fn gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64) {
        let all = self.all_mask();
        match &mut self.state {
            State::Chosen { analyzer, .. } => analyzer.gap(dir, ts, frame, len),
            State::Probing(p) => {
                let d = dir.index();
                p.hold_gap(dir, ts, frame, len);
                if p.rejected[d] == all {
                    return self.check_held();
                }
                p.seen[d] = true;
                self.cut();
            }
            State::Unknown => {}
        }
    }

    fn fin(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        match &mut self.state {
            State::Chosen { analyzer, .. } => analyzer.fin(dir, ts, frame),
            State::Probing(p) => {
                p.held.push(Held::Fin { dir, ts, frame });
                self.check_held();
            }
            State::Unknown => {}
        }
    }

    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        match &mut self.state {
            State::Chosen { analyzer, .. } => analyzer.reset(dir, ts, frame),
            State::Probing(p) => {
                p.held.push(Held::Reset { dir, ts, frame });
                self.check_held();
            }
            State::Unknown => {}
        }
    }

    /// Only for a chosen analyzer: while probing, the bytes are held
    /// here anyway.
    fn held(&mut self, dir: Dir, since: Timestamp, ts: Timestamp) {
        if let State::Chosen { analyzer, .. } = &mut self.state {
            analyzer.held(dir, since, ts);
        }
    }
}

impl StreamAnalyzer for Selector {
    fn finish(&mut self, ts: Timestamp) {
        self.cut();
        if let State::Chosen { analyzer, .. } = &mut self.state {
            analyzer.finish(ts);
        }
    }

    fn drain(&mut self, cx: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError> {
        match &mut self.state {
            State::Chosen { analyzer, .. } => analyzer.drain(cx, emit),
            State::Probing(_) | State::Unknown => Ok(()),
        }
    }

    fn tally(&self) -> Tally {
        match &self.state {
            State::Chosen { analyzer, .. } => analyzer.tally(),
            State::Probing(_) | State::Unknown => Tally::default(),
        }
    }

    fn tls(&self) -> Option<std::sync::Arc<super::tls::TlsSummary>> {
        match &self.state {
            State::Chosen { analyzer, .. } => analyzer.tls(),
            State::Probing(_) | State::Unknown => None,
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::analysis::registry::BUILTIN;
    use crate::analysis::trouble::TroubleLog;
    use crate::http::{self, Exchange};

    /// One thing reassembly delivers.
    #[derive(Clone, Copy)]
    enum Ev<'a> {
        Data(Dir, &'a [u8]),
        Gap(Dir, u64),
        Fin(Dir),
        Reset(Dir),
    }
    use Dir::{ToClient as C, ToServer as S};
    use Ev::*;

    fn feed(sink: &mut dyn StreamSink, script: &[Ev<'_>]) {
        for (i, ev) in script.iter().enumerate() {
            let (ts, frame) = (Timestamp::from_nanos(i as i64 * 1000), i as u64);
            match *ev {
                Data(dir, bytes) => sink.data(dir, ts, frame, bytes),
                Gap(dir, len) => sink.gap(dir, ts, frame, len),
                Fin(dir) => sink.fin(dir, ts, frame),
                Reset(dir) => sink.reset(dir, ts, frame),
            }
        }
    }

    /// Records out of a finished selector, as plain exchanges.
    struct Exchanges(Vec<Exchange>);

    impl Emit for Exchanges {
        fn record(&mut self, record: super::super::Record) -> Result<(), OutputError> {
            if let super::super::Record::Http(e) = record {
                self.0.push(e.exchange);
            }
            Ok(())
        }
        fn inner_packet(&mut self, _: super::super::InnerPacket) {}
    }

    fn conversation() -> crate::flow::Conversation {
        use crate::flow::{Conversation, Proto, State};
        let mut c = Conversation::new(
            0,
            Proto::Tcp,
            "10.0.0.1:40000".parse().unwrap(),
            "10.0.0.2:80".parse().unwrap(),
            true,
        );
        c.state = State::Open;
        c
    }

    /// Runs `script` through a probing selector and returns its protocol
    /// and exchanges.
    fn select(script: &[Ev<'_>]) -> (&'static str, Vec<Exchange>) {
        let mut selector = Selector::probing(&BUILTIN);
        feed(&mut selector, script);
        selector.finish(Timestamp::from_nanos(1_000_000_000));
        let conv = conversation();
        let trouble = TroubleLog::new();
        let keys = crate::analysis::tls::KeyLog::default();
        let cx = Context {
            keys: &keys,
            conv: &conv,
            trouble: &trouble,
        };
        let mut out = Exchanges(Vec::new());
        selector.drain(&cx, &mut out).unwrap();
        (selector.protocol(), out.0)
    }

    /// What the HTTP parser alone makes of `script` (what every stream
    /// went through before analyzers were chosen).
    fn parse(script: &[Ev<'_>]) -> Vec<Exchange> {
        let mut parser: http::Parser<Vec<Exchange>> = http::Parser::new(Vec::new());
        feed(&mut parser, script);
        parser.finish(Timestamp::from_nanos(1_000_000_000));
        parser.into_sink()
    }

    /// The selector hands the HTTP analyzer exactly what the parser alone
    /// would have seen: same exchanges, same times, same frames.
    fn same_as_parser(script: &[Ev<'_>]) -> (&'static str, usize) {
        let (protocol, got) = select(script);
        assert_eq!(got, parse(script));
        (protocol, got.len())
    }

    const REQ: &[u8] = b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n";
    const RESP: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";

    #[test]
    fn a_request_first_picks_http_on_the_first_chunk() {
        assert_eq!(
            same_as_parser(&[Data(S, REQ), Data(C, RESP), Fin(S), Fin(C)]),
            ("http", 1)
        );
    }

    #[test]
    fn a_start_line_cut_across_chunks_is_held_then_replayed() {
        let script = [
            Data(S, b"G"),
            Data(S, b"ET /a HT"),
            Data(S, b"TP/1.1\r\n\r\n"),
            Data(C, RESP),
        ];
        assert_eq!(same_as_parser(&script), ("http", 1));
        // A response's status line cut, then the request the other way.
        let script = [
            Data(C, b"HTTP/1.1 2"),
            Data(S, REQ),
            Data(C, b"00 OK\r\n\r\n"),
        ];
        assert_eq!(same_as_parser(&script).0, "http");
    }

    #[test]
    fn a_response_without_its_request_is_still_an_exchange() {
        let (protocol, n) = same_as_parser(&[Data(C, RESP), Fin(C)]);
        assert_eq!((protocol, n), ("http", 1));
    }

    #[test]
    fn a_capture_starting_mid_body_finds_the_next_messages() {
        let body = [b'z'; 3000];
        let script = [
            Data(C, &body),
            Data(C, b"\r\n"),
            Data(S, REQ),
            Data(C, RESP),
        ];
        assert_eq!(same_as_parser(&script), ("http", 1));
        // Binary body bytes past the sniff budget: the direction sleeps
        // until the request wakes it.
        let big = [0u8; 10_000];
        let script = [Data(C, &big), Data(C, &big), Data(S, REQ), Data(C, RESP)];
        assert_eq!(same_as_parser(&script), ("http", 1));
    }

    #[test]
    fn interim_responses_upgrades_and_garbage_come_out_as_before() {
        let continue_ = [
            Data(
                S,
                b"POST /u HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
            ),
            Data(C, b"HTTP/1.1 100 Continue\r\n\r\n"),
            Data(S, b"abc"),
            Data(C, RESP),
        ];
        assert_eq!(same_as_parser(&continue_), ("http", 1));
        let upgrade = [
            Data(
                S,
                b"GET /ws HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
            ),
            Data(
                C,
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n",
            ),
            Data(S, b"\x81\x85binary"),
        ];
        assert_eq!(same_as_parser(&upgrade), ("http", 1));
        let garbage = [
            Data(S, b"\x05\x01\x00"),
            Data(S, b"junk GET / HTTP/1.0\r\n\r\n"),
            Data(C, RESP),
        ];
        same_as_parser(&garbage);
    }

    #[test]
    fn a_gap_before_the_probes_decided_goes_to_the_parser() {
        // The parser reports a request cut by the gap (answered).
        let (protocol, n) = same_as_parser(&[Data(S, b"PO"), Gap(S, 100), Data(C, RESP)]);
        assert_eq!((protocol, n), ("http", 1));
        // A stream that starts with a hole.
        same_as_parser(&[
            Gap(C, 50),
            Data(C, b"tail of a body HTTP/1.1 404 Nope\r\n\r\n"),
            Fin(C),
        ]);
    }

    #[test]
    fn streams_no_probe_wants_stay_unknown() {
        let hello = b"\x16\x03\x01\x00\x05hello";
        let script = [
            Data(S, hello),
            Data(C, b"\x16\x03\x03\x00\x02hi"),
            Data(S, b"more"),
            Reset(C),
        ];
        assert_eq!(same_as_parser(&script), ("unknown", 0));
        let mut s = Selector::probing(&BUILTIN);
        feed(&mut s, &script);
        assert!(s.is_decided(), "both directions refused: decided at once");
        // A text protocol that never turns into HTTP.
        let smtp = b"220 mail.example ESMTP\r\n".repeat(500);
        let script = [Data(C, &smtp), Data(S, b"EHLO x\r\n"), Data(S, &smtp)];
        assert_eq!(same_as_parser(&script), ("unknown", 0));
        // One side silent, the other refused: unknown at the end.
        assert_eq!(same_as_parser(&[Data(S, hello), Fin(S)]), ("unknown", 0));
    }

    #[test]
    fn a_silent_refused_direction_still_lets_the_other_pick() {
        // TLS-looking bytes the client sends, then a plain response: the
        // client's later bytes reach the parser as a gap it ignores.
        let script = [
            Data(S, b"\x16\x03\x01junk"),
            Data(S, b"more junk"),
            Data(C, RESP),
            Data(S, REQ),
        ];
        same_as_parser(&script);
    }

    #[test]
    fn an_inner_protocol_is_chosen_by_name() {
        let mut inner = Selector::named(&BUILTIN, "http").expect("http is registered");
        assert!(inner.is_decided());
        feed(&mut inner, &[Data(S, REQ), Data(C, RESP)]);
        assert_eq!(inner.tally().records, 0, "records are counted when drained");
        assert_eq!(inner.protocol(), "http");
        assert!(Selector::named(&BUILTIN, "gopher").is_none());
    }
}
