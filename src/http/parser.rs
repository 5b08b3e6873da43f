//! The per-conversation HTTP/1.x state machine.
//!
//! Each direction ([`Half`]) is in one [`State`]: expecting a message
//! start, searching for one (after a gap, or when the capture began
//! mid-message), buffering a head, counting a body, holding bytes after a
//! CONNECT/Upgrade request until its response says whether the stream
//! became a tunnel, asleep (not HTTP), or done. Requests wait in a queue
//! for their responses (pipelining); an exchange is emitted when both its
//! messages are complete, always in request order.

use std::collections::VecDeque;
use std::mem;

use super::body::{BodyStatus, Chunk, Framing, GapFed};
use super::head::{self, Head, StartLine};
use super::start::{find_start, Found, Kind, LineMatch, Step};
use super::{End, EndCause, Exchange, ExchangeSink, Interim, Limits, Peer};
use crate::flow::{Dir, StreamSink};
use crate::time::Timestamp;

/// The version an HTTP/0.9 request and its response are given.
const SIMPLE_VERSION: &str = "HTTP/0.9";
/// At most this many interim responses are kept per exchange.
const MAX_INTERIM: usize = 8;
/// At most this many input bytes are searched per step when resyncing.
const SEEK_STEP: usize = 64 * 1024;
/// Time marks kept for a search window (more only blur head start times).
const MAX_MARKS: usize = 64;

/// HTTP/1.x parser for one TCP conversation.
///
/// Drive it with the [`StreamSink`] calls of the conversation's two
/// streams, then call [`Parser::finish`] once when the conversation ends
/// (or the capture does): exchanges still open are emitted then.
/// Exchanges go to the sink `S` in request order, as soon as complete.
pub struct Parser<S: ExchangeSink = Vec<Exchange>> {
    sink: S,
    limits: Limits,
    halves: [Half; 2],
    queue: VecDeque<Pending>,
    next_id: u64,
    /// Some message of this conversation parsed as HTTP.
    is_http: bool,
    /// Responses without a request since the last request: a gap later
    /// found in the request stream is their request, not a new one.
    unclaimed_orphans: u32,
    /// Responses lost whole in a gap while no request waited: a request
    /// gap found later (each direction's holes are found when the other
    /// side acknowledges past them, in either order) is their request, so
    /// the next response answers the request after it.
    unclaimed_lost_responses: u32,
    finished: bool,
    /// The first RST seen, which ends what is left open.
    reset_end: Option<End>,
}

/// One exchange being assembled.
struct Pending {
    id: u64,
    ex: Exchange,
    req: Stage,
    resp: Stage,
    is_head: bool,
    is_connect: bool,
    /// An HTTP/0.9 request (`GET /path`, no version): its response is the
    /// server's bytes up to the close, without a status line or headers.
    simple: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// Not seen (yet).
    Absent,
    /// Head seen, body in progress.
    Open,
    /// Complete, or abandoned (gap, close).
    Done,
}

/// One direction of the conversation.
struct Half {
    state: State,
    /// Head bytes (candidate start line, head), the search window, or the
    /// bytes held after a CONNECT/Upgrade request.
    buf: Vec<u8>,
    /// Where to resume searching `buf` (head end, message start).
    scan: Scan,
    /// Time and frame of the first byte of the head being read.
    head_at: Option<(Timestamp, u64)>,
    /// What this direction carries, once known.
    role: Option<Kind>,
    /// The exchange whose body is being read.
    cur: Option<u64>,
    /// Go to `Hold` after the current body.
    then_hold: bool,
    /// Held bytes: the exchange waited on, time of the first held byte,
    /// and whether a gap made them unusable.
    hold: Option<u64>,
    hold_at: Option<(Timestamp, u64)>,
    hold_gap: bool,
    /// Search window offsets with the time their bytes arrived.
    marks: Vec<(usize, Timestamp, u64)>,
    /// Bytes a search may still look at before giving up (`None`: no cap).
    budget: Option<u64>,
    /// Closed by a RST: bytes that still come (reassembly delivers them
    /// only when the side carried on after its RST) start messages again.
    reset: bool,
}

#[derive(Clone, Copy, Debug)]
enum State {
    /// At a place where a message should start.
    Start(LineMatch),
    /// Searching for a message start anywhere.
    Seek,
    /// Buffering a head known to start a message of this kind.
    Head(Kind),
    Body(Framing),
    /// After a CONNECT/Upgrade request, until its response.
    Hold,
    /// Not HTTP (yet): ignored unless the other direction turns out HTTP.
    Dormant,
    /// A tunnel or switched protocol: ignored for good.
    Ignore,
    /// Closed, reset or finished.
    Closed,
}

impl Half {
    fn new() -> Self {
        Half {
            state: State::Start(LineMatch::new(None)),
            buf: Vec::new(),
            scan: Scan::default(),
            head_at: None,
            role: None,
            cur: None,
            then_hold: false,
            hold: None,
            hold_at: None,
            hold_gap: false,
            marks: Vec::new(),
            budget: None,
            reset: false,
        }
    }

    fn start(&mut self) {
        self.state = State::Start(LineMatch::new(self.role));
        self.buf.clear();
        self.head_at = None;
        self.scan = Scan::default();
    }

    fn seek(&mut self, budget: Option<u64>) {
        self.state = State::Seek;
        self.buf.clear();
        self.marks.clear();
        self.head_at = None;
        self.scan = Scan::default();
        self.budget = budget;
    }

    fn sleeps(&self) -> bool {
        matches!(self.state, State::Dormant | State::Ignore | State::Closed)
    }
}

impl<S: ExchangeSink> Parser<S> {
    pub fn new(sink: S) -> Self {
        Self::with_limits(sink, Limits::default())
    }

    pub fn with_limits(sink: S, limits: Limits) -> Self {
        Parser {
            sink,
            limits,
            halves: [Half::new(), Half::new()],
            queue: VecDeque::new(),
            next_id: 0,
            is_http: false,
            unclaimed_orphans: 0,
            unclaimed_lost_responses: 0,
            finished: false,
            reset_end: None,
        }
    }

    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// The sink, e.g. to drain a `Vec<Exchange>` after each call.
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    pub fn into_sink(self) -> S {
        self.sink
    }

    /// Whether any HTTP message has been recognised in this conversation.
    pub fn is_http(&self) -> bool {
        self.is_http
    }

    /// Whether both directions are ignored from now on (not HTTP, a
    /// tunnel, or closed): further calls cost next to nothing.
    pub fn is_idle(&self) -> bool {
        self.halves.iter().all(Half::sleeps)
    }

    /// Bytes currently buffered (heads, search windows, held bytes) and
    /// exchanges waiting in the queue: what this parser costs in memory
    /// beyond its fixed size. Bounded by the [`Limits`].
    pub fn buffered(&self) -> (usize, usize) {
        let bytes = self.halves.iter().map(|h| h.buf.capacity()).sum();
        (bytes, self.queue.len())
    }

    /// The direction that carries requests, as found from the content
    /// (`None` until a message has been parsed).
    pub fn request_dir(&self) -> Option<Dir> {
        for dir in [Dir::ToServer, Dir::ToClient] {
            match self.halves[dir.index()].role {
                Some(Kind::Request) => return Some(dir),
                Some(Kind::Response) => return Some(dir.reverse()),
                None => {}
            }
        }
        None
    }

    /// The conversation is over (closed, idle or the capture ended):
    /// everything still open is emitted, requests without a response
    /// included, with `end` saying the capture ended. Idempotent.
    pub fn finish(&mut self, ts: Timestamp) {
        if self.finished {
            return;
        }
        let end = End {
            cause: EndCause::CaptureEnded,
            by: None,
            ts,
            frame: None,
        };
        let end = self.reset_end.unwrap_or(end);
        for dir in [Dir::ToServer, Dir::ToClient] {
            self.end_half(dir, end);
        }
        self.flush_all(end);
        self.finished = true;
    }

    // ----- driving -----

    fn feed(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        let mut rest = bytes;
        let mut stalled = 0;
        while !rest.is_empty() {
            let n = self.step(dir, ts, frame, rest).min(rest.len());
            rest = &rest[n..];
            if n == 0 {
                // Zero-byte steps only change state; a few in a row are
                // normal, many would be a bug: drop the input then.
                stalled += 1;
                debug_assert!(stalled < 16, "http parser stalled");
                if stalled >= 16 {
                    return;
                }
            } else {
                stalled = 0;
            }
        }
    }

    /// Consumes a prefix of `bytes` (possibly empty, if the state changed).
    fn step(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) -> usize {
        let d = dir.index();
        match self.halves[d].state {
            State::Dormant | State::Ignore | State::Closed => bytes.len(),
            State::Start(m) => self.step_start(dir, m, ts, frame, bytes),
            State::Seek => self.step_seek(dir, ts, frame, bytes),
            State::Head(kind) => self.step_head(dir, kind, ts, frame, bytes),
            State::Body(framing) => self.step_body(dir, framing, ts, frame, bytes),
            State::Hold => {
                let h = &mut self.halves[d];
                if h.hold_at.is_none() {
                    h.hold_at = Some((ts, frame));
                }
                let room = self.limits.max_head.saturating_sub(h.buf.len());
                if bytes.len() > room {
                    h.hold_gap = true;
                }
                h.buf.extend_from_slice(&bytes[..bytes.len().min(room)]);
                bytes.len()
            }
        }
    }

    fn step_start(
        &mut self,
        dir: Dir,
        mut m: LineMatch,
        ts: Timestamp,
        frame: u64,
        bytes: &[u8],
    ) -> usize {
        if self.halves[dir.index()].head_at.is_none() && bytes.first() != Some(&b'H') {
            if let Some(id) = self.awaiting_simple(dir) {
                self.simple_response(dir, id, ts, frame);
                return 0;
            }
        }
        let h = &mut self.halves[dir.index()];
        let mut cand = 0;
        if h.head_at.is_none() {
            // Empty lines between messages are allowed (RFC 9112 §2.2).
            cand = bytes
                .iter()
                .position(|&b| b != b'\r' && b != b'\n')
                .unwrap_or(bytes.len());
            if cand == bytes.len() {
                return cand;
            }
            h.head_at = Some((ts, frame));
        }
        for &b in &bytes[cand..] {
            match m.feed(b) {
                Step::More => {}
                Step::Match(kind) => {
                    h.state = State::Head(kind);
                    h.scan = Scan::default();
                    // The head step re-reads the candidate from its start.
                    return if h.buf.is_empty() { cand } else { 0 };
                }
                Step::NoMatch => {
                    let first = h.buf.first().copied().unwrap_or(bytes[cand]);
                    self.not_a_start(dir, first);
                    return cand;
                }
            }
        }
        if h.buf.len() + (bytes.len() - cand) > self.limits.max_head {
            let first = h.buf.first().copied().unwrap_or(bytes[cand]);
            self.not_a_start(dir, first);
        } else {
            h.buf.extend_from_slice(&bytes[cand..]);
            h.state = State::Start(m);
        }
        bytes.len()
    }

    /// Bytes where a message should start are not one.
    fn not_a_start(&mut self, dir: Dir, first: u8) {
        let sniffing = self.halves[dir.index()].role.is_none() && !self.is_http;
        let h = &mut self.halves[dir.index()];
        if sniffing && (0x14..=0x17).contains(&first) {
            // A TLS record: not HTTP. (Other binary, e.g. a SOCKS
            // handshake, may still lead to HTTP: it is searched.)
            h.buf.clear();
            h.head_at = None;
            h.state = State::Dormant;
        } else {
            h.seek(sniffing.then_some(self.limits.sniff_budget));
        }
    }

    fn step_seek(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) -> usize {
        let want = self.wanted(dir);
        let h = &mut self.halves[dir.index()];
        let take = bytes.len().min(SEEK_STEP);
        let old = h.buf.len();
        h.buf.extend_from_slice(&bytes[..take]);
        h.marks.push((old, ts, frame));
        if h.marks.len() > MAX_MARKS {
            h.marks.drain(..MAX_MARKS / 2);
        }
        match find_start(&h.buf, h.scan.at.min(old), want) {
            Found::At(at, kind) => {
                let start = mark_for(&h.marks, at).unwrap_or((ts, frame));
                h.marks.clear();
                h.state = State::Head(kind);
                h.scan = Scan::default();
                h.head_at = Some(start);
                if at >= old {
                    h.buf.clear();
                    at - old
                } else {
                    h.buf.truncate(old);
                    h.buf.drain(..at);
                    0
                }
            }
            Found::Keep(keep) => {
                h.buf.drain(..keep);
                h.marks.retain_mut(|m| {
                    m.0 = m.0.saturating_sub(keep);
                    true
                });
                // Several marks may now sit at 0: keep the latest.
                let zeros = h.marks.iter().filter(|m| m.0 == 0).count();
                if zeros > 1 {
                    h.marks.drain(..zeros - 1);
                }
                h.scan.at = h.buf.len().saturating_sub(12);
                if let Some(budget) = h.budget {
                    if take as u64 >= budget {
                        h.buf.clear();
                        h.marks.clear();
                        h.state = State::Dormant;
                    } else {
                        h.budget = Some(budget - take as u64);
                    }
                }
                take
            }
        }
    }

    fn step_head(
        &mut self,
        dir: Dir,
        kind: Kind,
        ts: Timestamp,
        frame: u64,
        bytes: &[u8],
    ) -> usize {
        let max = self.limits.max_head;
        let h = &mut self.halves[dir.index()];
        if h.buf.is_empty() {
            // Fast path: the whole head is in this chunk; no copy.
            match head_end(kind, bytes, Scan::default()) {
                Ok(end) if end <= max => {
                    self.on_head(dir, kind, ts, frame, &bytes[..end]);
                    return end;
                }
                Ok(_) => {}
                Err(resume) if bytes.len() <= max => {
                    h.buf.extend_from_slice(bytes);
                    h.scan = resume;
                    return bytes.len();
                }
                Err(_) => {}
            }
            h.buf.extend_from_slice(&bytes[..max.min(bytes.len())]);
            self.abandon_head(dir, kind, None, ts, frame);
            return max.min(bytes.len());
        }
        let old = h.buf.len();
        let take = bytes.len().min(max.saturating_sub(old));
        h.buf.extend_from_slice(&bytes[..take]);
        let from = Scan {
            at: h.scan.at.min(old),
            ..h.scan
        };
        match head_end(kind, &h.buf, from) {
            Ok(end) => {
                let mut head = mem::take(&mut h.buf);
                head.truncate(end);
                self.on_head(dir, kind, ts, frame, &head);
                head.clear();
                let h = &mut self.halves[dir.index()];
                if h.buf.is_empty() {
                    h.buf = head;
                }
                end.saturating_sub(old)
            }
            Err(resume) => {
                h.scan = resume;
                if h.buf.len() >= max {
                    self.abandon_head(dir, kind, None, ts, frame);
                }
                take
            }
        }
    }

    fn step_body(
        &mut self,
        dir: Dir,
        mut framing: Framing,
        ts: Timestamp,
        frame: u64,
        bytes: &[u8],
    ) -> usize {
        let fed = framing.feed(bytes);
        let d = dir.index();
        self.halves[d].state = State::Body(framing);
        let is_request = self.halves[d].role == Some(Kind::Request);
        if let Some(p) = self.pending(self.halves[d].cur) {
            let ex = &mut p.ex;
            if is_request {
                ex.request_body_bytes += fed.body;
                ex.request_end = Some(ts);
                ex.request_last_frame = Some(frame);
            } else {
                ex.response_body_bytes += fed.body;
                ex.response_end = Some(ts);
                ex.response_last_frame = Some(frame);
            }
        }
        match fed.status {
            BodyStatus::More => {}
            BodyStatus::Done => self.message_done(dir),
            BodyStatus::Malformed => {
                if let Some(p) = self.pending(self.halves[d].cur) {
                    p.ex.malformed = true;
                }
                self.message_done(dir);
                self.halves[d].seek(None);
            }
        }
        fed.consumed
    }

    // ----- messages -----

    fn on_head(&mut self, dir: Dir, kind: Kind, ts: Timestamp, frame: u64, bytes: &[u8]) {
        let parsed = match kind {
            Kind::Request => head::parse_request(bytes, &self.limits),
            Kind::Response => head::parse_response(bytes, &self.limits),
        };
        match parsed {
            Some(head) if kind == Kind::Request => self.on_request(dir, head, ts, frame),
            Some(head) => self.on_response(dir, head, ts, frame),
            None => {
                self.halves[dir.index()].buf = bytes.to_vec();
                self.abandon_head(dir, kind, None, ts, frame);
            }
        }
    }

    fn on_request(&mut self, dir: Dir, head: Head, ts: Timestamp, frame: u64) {
        self.set_role(dir, Kind::Request);
        self.unclaimed_orphans = 0;
        self.unclaimed_lost_responses = 0;
        let d = dir.index();
        let (start_ts, start_frame) = self.halves[d].head_at.take().unwrap_or((ts, frame));
        let mut ex = Exchange::new(dir);
        let (mut is_head, mut is_connect, mut simple) = (false, false, false);
        if let StartLine::Request {
            method,
            uri,
            version,
        } = head.line
        {
            is_head = method == "HEAD";
            is_connect = method == "CONNECT";
            ex.method = Some(method);
            ex.uri = Some(uri).filter(|u| !u.is_empty());
            ex.version = version.map(|v| format!("HTTP/1.{v}"));
            if head.simple {
                // HTTP/0.9: a GET line alone, well formed in its version.
                simple = true;
                ex.version = Some(SIMPLE_VERSION.to_string());
            }
        }
        ex.host = head.host;
        ex.user_agent = head.user_agent;
        ex.request_content_type = head.content_type;
        ex.request_content_length = head.content_length;
        ex.request_transfer_encoding = head.transfer_encoding.clone();
        ex.malformed = !simple && (head.malformed || head.bad_length || head.conflicting_length);
        ex.request_start = Some(start_ts);
        ex.request_first_frame = Some(start_frame);
        ex.request_end = Some(ts);
        ex.request_last_frame = Some(frame);
        // RFC 9112 §6.3: chunked wins; a request without a length has no body.
        let framing = if head.chunked {
            Some(Framing::Chunked(Chunk::START))
        } else if head.transfer_encoding.is_some() {
            ex.malformed = true;
            None
        } else {
            head.content_length.filter(|&n| n > 0).map(Framing::Length)
        };
        let wants_hold = is_connect || head.upgrade;
        let id = self.push(Pending {
            id: 0,
            ex,
            req: if framing.is_some() {
                Stage::Open
            } else {
                Stage::Done
            },
            resp: Stage::Absent,
            is_head,
            is_connect,
            simple,
        });
        let h = &mut self.halves[d];
        match framing {
            Some(framing) => {
                h.state = State::Body(framing);
                h.cur = Some(id);
                h.then_hold = wants_hold;
            }
            None if head.bad_length => h.seek(None),
            None if wants_hold => self.enter_hold(dir, id),
            None => h.start(),
        }
        self.flush();
    }

    fn on_response(&mut self, dir: Dir, head: Head, ts: Timestamp, frame: u64) {
        self.set_role(dir, Kind::Response);
        let d = dir.index();
        let (start_ts, start_frame) = self.halves[d].head_at.take().unwrap_or((ts, frame));
        let (version, status, reason) = match head.line {
            StartLine::Response {
                version,
                status,
                reason,
            } => (version, status, reason),
            _ => (1, 0, String::new()),
        };
        if (100..200).contains(&status) && status != 101 {
            let id = match self.awaiting_response() {
                Some(id) => id,
                None => self.push_orphan(dir, Stage::Absent),
            };
            if let Some(p) = self.pending(Some(id)) {
                if p.ex.interim.len() < MAX_INTERIM {
                    p.ex.interim.push(Interim {
                        status,
                        ts: start_ts,
                        frame: start_frame,
                    });
                }
            }
            self.halves[d].start();
            return;
        }
        let id = match self.awaiting_response() {
            Some(id) => id,
            None => {
                self.unclaimed_orphans = self.unclaimed_orphans.saturating_add(1);
                self.push_orphan(dir, Stage::Open)
            }
        };
        let Some(p) = self.pending(Some(id)) else {
            return;
        };
        p.resp = Stage::Open;
        let ex = &mut p.ex;
        ex.status = Some(status);
        ex.reason = Some(reason);
        ex.response_version = Some(format!("HTTP/1.{version}"));
        ex.content_type = head.content_type;
        ex.content_length = head.content_length;
        ex.transfer_encoding = head.transfer_encoding.clone();
        ex.malformed |= head.malformed || head.conflicting_length;
        ex.response_start = Some(start_ts);
        ex.response_first_frame = Some(start_frame);
        ex.response_end = Some(ts);
        ex.response_last_frame = Some(frame);
        let tunnel = status == 101 || (p.is_connect && (200..300).contains(&status));
        let framing = if tunnel || p.is_head || status == 204 || status == 304 {
            None
        } else if head.chunked {
            Some(Framing::Chunked(Chunk::START))
        } else if head.transfer_encoding.is_some() || head.bad_length {
            ex.malformed |= head.bad_length;
            Some(Framing::UntilClose)
        } else {
            match head.content_length {
                Some(0) => None,
                Some(n) => Some(Framing::Length(n)),
                None => Some(Framing::UntilClose),
            }
        };
        if tunnel {
            ex.upgraded = true;
            p.resp = Stage::Done;
            for h in &mut self.halves {
                h.state = State::Ignore;
                h.buf = Vec::new();
                h.marks = Vec::new();
            }
            self.flush();
            return;
        }
        match framing {
            Some(framing) => {
                let h = &mut self.halves[d];
                h.state = State::Body(framing);
                h.cur = Some(id);
            }
            None => {
                p.resp = Stage::Done;
                self.halves[d].start();
            }
        }
        // The request side may be holding bytes for this exchange.
        let req = dir.reverse();
        if self.halves[req.index()].hold == Some(id) {
            self.release_hold(req);
        }
        self.flush();
    }

    /// The HTTP/0.9 request `dir`'s bytes would answer, if the oldest one
    /// waiting is one.
    fn awaiting_simple(&self, dir: Dir) -> Option<u64> {
        if self.halves[dir.index()].role == Some(Kind::Request) {
            return None;
        }
        let id = self.awaiting_response()?;
        let p = self.queue.iter().find(|p| p.id == id)?;
        (p.simple && p.ex.request_dir != dir).then_some(id)
    }

    /// The server's bytes after an HTTP/0.9 request: its response, a body
    /// up to the close with neither status line nor headers.
    fn simple_response(&mut self, dir: Dir, id: u64, ts: Timestamp, frame: u64) {
        self.set_role(dir, Kind::Response);
        let Some(p) = self.pending(Some(id)) else {
            return;
        };
        p.resp = Stage::Open;
        let ex = &mut p.ex;
        ex.response_version = Some(SIMPLE_VERSION.to_string());
        ex.response_start = Some(ts);
        ex.response_first_frame = Some(frame);
        ex.response_end = Some(ts);
        ex.response_last_frame = Some(frame);
        let h = &mut self.halves[dir.index()];
        h.state = State::Body(Framing::UntilClose);
        h.cur = Some(id);
    }

    /// The current body of `dir` ended (by its framing, or abandoned).
    fn message_done(&mut self, dir: Dir) {
        let d = dir.index();
        let cur = self.halves[d].cur.take();
        let is_request = self.halves[d].role == Some(Kind::Request);
        if let Some(p) = self.pending(cur) {
            if is_request {
                p.req = Stage::Done;
            } else {
                p.resp = Stage::Done;
            }
        }
        let h = &mut self.halves[d];
        match (mem::take(&mut h.then_hold), cur) {
            (true, Some(id)) => self.enter_hold(dir, id),
            _ => h.start(),
        }
        self.flush();
    }

    /// A head that cannot be used (gap, close, too long, unparseable):
    /// report what its start line says, keep request/response pairing
    /// aligned, and resynchronise.
    fn abandon_head(&mut self, dir: Dir, kind: Kind, end: Option<End>, ts: Timestamp, frame: u64) {
        let d = dir.index();
        let partial = mem::take(&mut self.halves[d].buf);
        let at = self.halves[d].head_at.take();
        self.lost_message(dir, Some(kind), &partial, at, Some((ts, frame)), end, false);
        let h = &mut self.halves[d];
        if end.is_none() {
            h.seek(None);
        }
    }

    /// Records a message that was (partly) lost: `partial` holds whatever
    /// of its head was seen, `at` when its first byte came.
    #[allow(clippy::too_many_arguments)]
    fn lost_message(
        &mut self,
        dir: Dir,
        kind: Option<Kind>,
        partial: &[u8],
        at: Option<(Timestamp, u64)>,
        last: Option<(Timestamp, u64)>,
        end: Option<End>,
        in_gap: bool,
    ) {
        let kind = match kind.or(self.halves[dir.index()].role) {
            Some(kind) => kind,
            None => return,
        };
        let last = if partial.is_empty() { None } else { last };
        match kind {
            Kind::Request if partial.is_empty() && self.unclaimed_orphans > 0 => {
                // Reassembly reports a hole when later data arrives: the
                // response to the lost request may already be out.
                self.unclaimed_orphans -= 1;
            }
            Kind::Request => {
                let mut ex = Exchange::new(dir);
                // A head the capture's end cut is not reported as the
                // request its first line suggests: it may be anything.
                let cut_by_capture = end.is_some_and(|e| e.cause == EndCause::CaptureEnded);
                let (method, uri) = if cut_by_capture {
                    (None, None)
                } else {
                    head::partial_request(partial, &self.limits)
                };
                ex.method = method;
                ex.uri = uri;
                ex.request_start = at.map(|a| a.0);
                ex.request_first_frame = at.map(|a| a.1);
                ex.request_end = last.map(|a| a.0);
                ex.request_last_frame = last.map(|a| a.1);
                mark_lost(&mut ex, end, in_gap);
                // Its response may have been lost whole before: it is
                // answered (by that unknown response), not waiting.
                let answered = in_gap && partial.is_empty() && self.unclaimed_lost_responses > 0;
                if answered {
                    self.unclaimed_lost_responses -= 1;
                }
                self.push(Pending {
                    id: 0,
                    ex,
                    req: Stage::Done,
                    resp: if answered { Stage::Done } else { Stage::Absent },
                    is_head: false,
                    is_connect: false,
                    simple: false,
                });
            }
            Kind::Response => {
                let status = head::partial_status(partial);
                if status.is_none() && self.awaiting_response().is_none() {
                    if in_gap && partial.is_empty() {
                        self.unclaimed_lost_responses =
                            self.unclaimed_lost_responses.saturating_add(1);
                    }
                    return;
                }
                let id = match self.awaiting_response() {
                    Some(id) => id,
                    None => self.push_orphan(dir, Stage::Done),
                };
                if let Some(p) = self.pending(Some(id)) {
                    p.resp = Stage::Done;
                    let ex = &mut p.ex;
                    ex.status = status;
                    ex.response_start = at.map(|a| a.0);
                    ex.response_first_frame = at.map(|a| a.1);
                    ex.response_end = last.map(|a| a.0);
                    ex.response_last_frame = last.map(|a| a.1);
                    mark_lost(ex, end, in_gap);
                }
            }
        }
        self.flush();
    }

    fn enter_hold(&mut self, dir: Dir, id: u64) {
        let h = &mut self.halves[dir.index()];
        h.state = State::Hold;
        h.buf.clear();
        h.hold = Some(id);
        h.hold_at = None;
        h.hold_gap = false;
        // The response may already be in (and not a tunnel).
        let answered = self
            .queue
            .iter()
            .any(|p| p.id == id && p.resp != Stage::Absent);
        if answered {
            self.release_hold(dir);
        }
    }

    /// The response to a CONNECT/Upgrade request was not a switch: parse
    /// the held bytes as HTTP again.
    fn release_hold(&mut self, dir: Dir) {
        let h = &mut self.halves[dir.index()];
        let held = mem::take(&mut h.buf);
        let (ts, frame) = h.hold_at.take().unwrap_or_default();
        h.hold = None;
        if mem::take(&mut h.hold_gap) {
            h.seek(None);
        } else {
            h.start();
        }
        if !held.is_empty() {
            self.feed(dir, ts, frame, &held);
        }
    }

    /// The FIN, RST or end of capture reaches `dir`'s in-progress message.
    fn end_half(&mut self, dir: Dir, end: End) {
        let d = dir.index();
        match self.halves[d].state {
            State::Body(framing) => {
                if let Some(p) = self.pending(self.halves[d].cur) {
                    let close_delimited = framing == Framing::UntilClose;
                    p.ex.interrupted |= !close_delimited || end.cause == EndCause::CaptureEnded;
                    if close_delimited && end.cause == EndCause::Closed {
                        // The FIN is the body's last "byte": the message is
                        // complete only then (tshark times it there too).
                        p.ex.response_end = Some(end.ts);
                        p.ex.response_last_frame = end.frame.or(p.ex.response_last_frame);
                    }
                    p.ex.end.get_or_insert(end);
                }
                self.message_done(dir);
            }
            State::Head(kind) => {
                let (ts, frame) = (end.ts, end.frame.unwrap_or_default());
                self.abandon_head(dir, kind, Some(end), ts, frame);
            }
            State::Start(_) if self.halves[d].head_at.is_some() => {
                let (ts, frame) = (end.ts, end.frame.unwrap_or_default());
                let partial = mem::take(&mut self.halves[d].buf);
                let at = self.halves[d].head_at.take();
                let kind = if partial.starts_with(b"HTTP/") {
                    Kind::Response
                } else {
                    Kind::Request
                };
                if self.halves[d].role.is_some() {
                    self.lost_message(
                        dir,
                        Some(kind),
                        &partial,
                        at,
                        Some((ts, frame)),
                        Some(end),
                        false,
                    );
                }
            }
            _ => {}
        }
        let h = &mut self.halves[d];
        h.state = State::Closed;
        h.buf = Vec::new();
        h.marks = Vec::new();
        // Nothing more can come from a closed server side.
        let server_side = match (h.role, self.halves[1 - d].role) {
            (Some(kind), _) => kind == Kind::Response,
            (None, Some(peer)) => peer == Kind::Request,
            (None, None) => dir == Dir::ToClient,
        };
        // A RST does not answer the requests still waiting: the side that
        // sent it may carry on (see `reset`); the end of the conversation
        // does that.
        if server_side && end.cause != EndCause::Reset {
            for p in self.queue.iter_mut() {
                if p.resp == Stage::Absent && p.req != Stage::Absent {
                    p.resp = Stage::Done;
                    p.ex.end.get_or_insert(end);
                }
            }
            self.flush();
        }
    }

    // ----- queue -----

    fn push(&mut self, mut p: Pending) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        p.id = id;
        self.queue.push_back(p);
        while self.queue.len() > self.limits.max_pending {
            if let Some(p) = self.queue.pop_front() {
                self.sink.exchange(p.ex);
            }
        }
        id
    }

    /// A response (or interim) with no request to match: the capture
    /// started late, or the request was lost.
    fn push_orphan(&mut self, response_dir: Dir, resp: Stage) -> u64 {
        self.push(Pending {
            id: 0,
            ex: Exchange::new(response_dir.reverse()),
            req: Stage::Absent,
            resp,
            is_head: false,
            is_connect: false,
            simple: false,
        })
    }

    /// The oldest exchange still waiting for its final response.
    fn awaiting_response(&self) -> Option<u64> {
        self.queue
            .iter()
            .find(|p| {
                p.resp == Stage::Absent && (p.req != Stage::Absent || !p.ex.interim.is_empty())
            })
            .map(|p| p.id)
    }

    fn pending(&mut self, id: Option<u64>) -> Option<&mut Pending> {
        let id = id?;
        self.queue.iter_mut().rev().find(|p| p.id == id)
    }

    /// Emits complete exchanges from the front of the queue.
    fn flush(&mut self) {
        while let Some(p) = self.queue.front() {
            if p.resp != Stage::Done || p.req == Stage::Open {
                break;
            }
            if let Some(p) = self.queue.pop_front() {
                self.sink.exchange(p.ex);
            }
        }
    }

    fn flush_all(&mut self, end: End) {
        while let Some(mut p) = self.queue.pop_front() {
            if p.req == Stage::Open || p.resp == Stage::Open {
                p.ex.interrupted = true;
                p.ex.end.get_or_insert(end);
            }
            if p.resp == Stage::Absent && p.req != Stage::Absent {
                p.ex.end.get_or_insert(end);
            }
            self.sink.exchange(p.ex);
        }
    }

    // ----- roles -----

    fn wanted(&self, dir: Dir) -> Option<Kind> {
        let d = dir.index();
        self.halves[d].role.or(match self.halves[1 - d].role {
            Some(Kind::Request) => Some(Kind::Response),
            Some(Kind::Response) => Some(Kind::Request),
            None => None,
        })
    }

    fn set_role(&mut self, dir: Dir, kind: Kind) {
        let d = dir.index();
        self.is_http = true;
        self.halves[d].role = Some(kind);
        let other = match kind {
            Kind::Request => Kind::Response,
            Kind::Response => Kind::Request,
        };
        let peer = &mut self.halves[1 - d];
        peer.role.get_or_insert(other);
        match peer.state {
            // The other direction was given up on too early: HTTP it is.
            State::Dormant => peer.seek(None),
            State::Seek => peer.budget = None,
            _ => {}
        }
    }

    fn peer_of(&self, dir: Dir) -> Peer {
        match self.request_dir() {
            Some(req) if req == dir => Peer::Client,
            Some(_) => Peer::Server,
            None if dir == Dir::ToServer => Peer::Client,
            None => Peer::Server,
        }
    }
}

impl<S: ExchangeSink> StreamSink for Parser<S> {
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        let h = &mut self.halves[dir.index()];
        if h.state.is_closed() && mem::take(&mut h.reset) && !self.finished {
            h.start();
        }
        if self.halves[dir.index()].sleeps() {
            return;
        }
        self.feed(dir, ts, frame, bytes);
    }

    fn gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64) {
        let d = dir.index();
        if len == 0 {
            return;
        }
        match self.halves[d].state {
            State::Dormant | State::Ignore | State::Closed => {}
            State::Start(_) => {
                let partial = mem::take(&mut self.halves[d].buf);
                let at = self.halves[d].head_at.take();
                let kind = (!partial.is_empty()).then(|| {
                    if partial.starts_with(b"HTTP/") {
                        Kind::Response
                    } else {
                        Kind::Request
                    }
                });
                self.lost_message(dir, kind, &partial, at, Some((ts, frame)), None, true);
                let sniffing = self.halves[d].role.is_none() && !self.is_http;
                self.halves[d].seek(sniffing.then_some(self.limits.sniff_budget));
            }
            State::Head(kind) => {
                let partial = mem::take(&mut self.halves[d].buf);
                let at = self.halves[d].head_at.take();
                self.lost_message(dir, Some(kind), &partial, at, Some((ts, frame)), None, true);
                self.halves[d].seek(None);
            }
            State::Seek => {
                let h = &mut self.halves[d];
                h.buf.clear();
                h.marks.clear();
                h.scan = Scan::default();
            }
            State::Body(mut framing) => {
                let fed = framing.gap(len);
                self.halves[d].state = State::Body(framing);
                let is_request = self.halves[d].role == Some(Kind::Request);
                let (body, done, rest, lost) = match fed {
                    GapFed::Absorbed { body, done } => (body, done, 0, false),
                    GapFed::Overflow { body, rest } => (body, true, rest, false),
                    GapFed::Lost { body } => (body, true, 0, true),
                };
                if let Some(p) = self.pending(self.halves[d].cur) {
                    p.ex.has_gap = true;
                    if is_request {
                        p.ex.request_body_bytes += body;
                    } else {
                        p.ex.response_body_bytes += body;
                    }
                }
                if done {
                    self.message_done(dir);
                }
                if rest > 0 {
                    // The gap ate the start of the next message too.
                    self.lost_message(dir, None, &[], None, None, None, true);
                }
                if rest > 0 || lost {
                    self.halves[d].seek(None);
                }
            }
            State::Hold => {
                let h = &mut self.halves[d];
                h.hold_gap = true;
                h.buf.clear();
            }
        }
    }

    fn fin(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        if self.halves[dir.index()].state.is_closed() {
            return;
        }
        let end = End {
            cause: EndCause::Closed,
            by: Some(self.peer_of(dir)),
            ts,
            frame: Some(frame),
        };
        self.end_half(dir, end);
        if self.halves.iter().all(|h| h.state.is_closed()) {
            self.flush_all(self.reset_end.unwrap_or(end));
        }
    }

    /// A RST ends the resetting side's stream only: segments the other
    /// side sent before it saw the RST are still on the wire, and a
    /// capture shows them (tshark still dissects a response that arrives
    /// after the client's RST). The reset is what ends the exchanges
    /// left open when the conversation finishes.
    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        let end = End {
            cause: EndCause::Reset,
            by: Some(self.peer_of(dir)),
            ts,
            frame: Some(frame),
        };
        self.reset_end.get_or_insert(end);
        if !self.halves[dir.index()].state.is_closed() {
            self.end_half(dir, end);
            self.halves[dir.index()].reset = true;
        }
        if self.halves.iter().all(|h| h.state.is_closed()) {
            self.flush_all(end);
        }
    }
}

impl State {
    fn is_closed(&self) -> bool {
        matches!(self, State::Closed)
    }
}

fn mark_lost(ex: &mut Exchange, end: Option<End>, in_gap: bool) {
    if in_gap {
        ex.has_gap = true;
    }
    match end {
        Some(end) => {
            ex.interrupted = true;
            ex.end.get_or_insert(end);
        }
        None if !in_gap => ex.malformed = true,
        None => {}
    }
}

/// The time of the bytes at `offset` of a search window.
fn mark_for(marks: &[(usize, Timestamp, u64)], offset: usize) -> Option<(Timestamp, u64)> {
    marks
        .iter()
        .rev()
        .find(|m| m.0 <= offset)
        .or(marks.first())
        .map(|m| (m.1, m.2))
}

/// Where a search of a half's `buf` resumes.
#[derive(Clone, Copy, Debug, Default)]
struct Scan {
    /// The offset to resume at (head end, message start).
    at: usize,
    /// The head's first line is complete, so whether it is an HTTP/0.9
    /// request is decided (it was not). Until then `buf[..at]` holds no
    /// line feed.
    line_done: bool,
}

/// End of a head of `kind` in `buf`: [`find_head_end`], except that an
/// HTTP/0.9 request is its request line alone. Resumes at `from`, so a
/// head arriving in many segments is read once, not once per segment.
fn head_end(kind: Kind, buf: &[u8], from: Scan) -> Result<usize, Scan> {
    let mut line_done = from.line_done || kind == Kind::Response;
    if !line_done {
        // No line feed before `from.at`: the first one after it ends the
        // first line.
        let rest = buf.get(from.at..).unwrap_or_default();
        if let Some(nl) = memchr::memchr(b'\n', rest) {
            line_done = true;
            let line = buf.get(..=from.at + nl).unwrap_or_default();
            if let Some(end) = head::simple_request_end(line) {
                return Ok(end);
            }
        }
    }
    find_head_end(buf, from.at).map_err(|at| Scan { at, line_done })
}

/// End of a head (just past its blank line), or where to resume looking.
fn find_head_end(buf: &[u8], from: usize) -> Result<usize, usize> {
    let mut pos = from;
    while let Some(rel) = buf.get(pos..).and_then(|rest| memchr::memchr(b'\n', rest)) {
        let nl = pos + rel;
        match (buf.get(nl + 1), buf.get(nl + 2)) {
            (None, _) => return Err(nl),
            (Some(b'\n'), _) => return Ok(nl + 2),
            (Some(b'\r'), None) => return Err(nl),
            (Some(b'\r'), Some(b'\n')) => return Ok(nl + 3),
            _ => pos = nl + 1,
        }
    }
    Err(buf.len())
}

#[cfg(test)]
mod test {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_nanos(ms * 1_000_000)
    }

    #[test]
    fn a_response_after_the_servers_reset_answers_the_waiting_request() {
        let mut p: Parser<Vec<Exchange>> = Parser::new(Vec::new());
        p.data(Dir::ToServer, t(0), 0, b"GET /a HTTP/1.1\r\n\r\n");
        p.reset(Dir::ToClient, t(1), 1);
        assert!(p.sink().is_empty(), "the RST answers nothing yet");
        p.data(
            Dir::ToClient,
            t(2),
            2,
            b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
        );
        p.finish(t(3));
        let ex = p.into_sink();
        assert_eq!(ex.len(), 1);
        assert_eq!(
            (ex[0].uri.as_deref(), ex[0].status),
            (Some("/a"), Some(200))
        );
    }

    #[test]
    fn a_reset_still_ends_a_request_left_unanswered() {
        let mut p: Parser<Vec<Exchange>> = Parser::new(Vec::new());
        p.data(Dir::ToServer, t(0), 0, b"GET /a HTTP/1.1\r\n\r\n");
        p.reset(Dir::ToClient, t(1), 1);
        p.finish(t(3));
        let ex = p.into_sink();
        assert_eq!(ex[0].status, None);
        let end = ex[0].end.unwrap();
        assert_eq!((end.cause, end.by), (EndCause::Reset, Some(Peer::Server)));
    }

    /// A request and its response both lost, the response's hole found
    /// first: the next response answers the next request, not the lost one
    /// (see: zeek-http-zero-length-bodies-with-drops in ../shared/corpus).
    #[test]
    fn lost_response_found_before_its_lost_request_keeps_pairing() {
        let mut p: Parser<Vec<Exchange>> = Parser::new(Vec::new());
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
        p.data(Dir::ToServer, t(0), 0, b"GET /a HTTP/1.1\r\n\r\n");
        p.data(Dir::ToClient, t(1), 1, ok);
        p.gap(Dir::ToClient, t(2), 2, 542);
        p.gap(Dir::ToServer, t(3), 3, 1274);
        p.data(Dir::ToServer, t(3), 3, b"GET /c HTTP/1.1\r\n\r\n");
        p.data(Dir::ToClient, t(4), 4, ok);
        p.finish(t(5));
        let got: Vec<_> = p
            .into_sink()
            .into_iter()
            .map(|e| (e.uri, e.status, e.has_gap))
            .collect();
        assert_eq!(
            got,
            [
                (Some("/a".into()), Some(200), false),
                (None, None, true),
                (Some("/c".into()), Some(200), false)
            ]
        );
    }

    #[test]
    fn a_head_cut_by_the_capture_end_has_no_method() {
        let mut p: Parser<Vec<Exchange>> = Parser::new(Vec::new());
        p.data(Dir::ToServer, t(0), 0, b"GET /x HTTP/1.1\r\nHost: a");
        p.finish(t(3));
        let ex = p.into_sink();
        assert_eq!(ex.len(), 1);
        assert_eq!(
            (ex[0].method.as_deref(), ex[0].uri.as_deref()),
            (None, None)
        );
        assert!(ex[0].interrupted);
        assert_eq!(ex[0].end.map(|e| e.cause), Some(EndCause::CaptureEnded));
    }

    /// Heads cut anywhere (a CR and its LF in two segments included) are
    /// read as when whole: the resumed search keeps its place across
    /// segments, for an HTTP/0.9 line as for a full head.
    #[test]
    fn heads_cut_at_every_byte_read_as_whole() {
        let exchanges = |chunks: &[&[u8]]| {
            let mut p: Parser<Vec<Exchange>> = Parser::new(Vec::new());
            for (i, c) in chunks.iter().enumerate() {
                p.data(Dir::ToServer, t(0), i as u64, c);
            }
            p.data(Dir::ToClient, t(1), 99, b"hello");
            p.finish(t(2));
            let got: Vec<_> = p
                .into_sink()
                .into_iter()
                .map(|e| (e.method, e.uri, e.version, e.response_version, e.malformed))
                .collect();
            got
        };
        for head in [
            &b"GET /index.html\r\n"[..],
            b"GET /index.html\n",
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n",
            b"GET /a HTTP/1.1\nHost: x\n\n",
            b"GET /a b\r\n\r\n",
        ] {
            let whole = exchanges(&[head]);
            assert_eq!(whole.len(), 1, "{head:?}");
            for cut in 1..head.len() {
                let (a, b) = head.split_at(cut);
                assert_eq!(exchanges(&[a, b]), whole, "{head:?} cut at {cut}");
            }
            let bytes: Vec<&[u8]> = head.chunks(1).collect();
            assert_eq!(exchanges(&bytes), whole, "{head:?} byte by byte");
        }
    }
}
