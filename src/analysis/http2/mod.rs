//! The HTTP/2 analyzer (RFC 9113): its probe (the client preface, or a
//! run of plausible frame headers for a capture that starts mid-
//! connection), and [`Http2`], which follows every stream of a
//! connection and emits each as an exchange of the HTTP table, with its
//! [`StreamFacts`] (stream id, RST_STREAM/GOAWAY end, gRPC). Memory is
//! bounded whatever the input: one frame's kept payload and one header
//! block per direction, a capped number of open streams.

mod frame;
mod grpc;
mod hol;
mod hpack;
mod ladder;
mod resync;
mod stream;
mod window;

use std::collections::{BTreeMap, VecDeque};

use crate::flow::{Dir, StreamSink};
use crate::http::{End, EndCause, Exchange, Peer, StreamEnd};
use crate::time::{Span, Timestamp};

use super::http1::emit_exchange;
use super::protocol::{Context, Emit, Probe, StreamAnalyzer, Tally};
use super::OutputError;

use frame::{flag, At, Frame, FrameHeader, Framer, Kind, DEFAULT_MAX_FRAME, HEADER_LEN, PREFACE};
use hol::Hold;
use hpack::{BlockDecoder, Fields, Trouble};
use stream::Stream;
use window::Windows;

pub use grpc::{status_code as grpc_status_code, status_name as grpc_status_name, Grpc};
/// HPACK's integer and string literal (RFC 7541 §5), for the redactor's
/// look into header blocks.
pub(crate) use hpack::{integer as hpack_integer, string as hpack_string};
pub use ladder::Labeller;
pub use stream::StreamFacts;

/// The name this analyzer registers under (and the name TLS's ALPN `h2`
/// selects it by).
pub const NAME: &str = "h2";

/// Streams followed at once; past it new streams are counted, not
/// followed.
pub const MAX_OPEN_STREAMS: usize = 4096;
/// Largest header block (HEADERS or PUSH_PROMISE and its CONTINUATIONs)
/// decoded; a longer one is a CONTINUATION flood.
pub const MAX_HEADER_BLOCK: usize = 256 * 1024;
/// Streams kept after a RST_STREAM for the frames already in flight
/// (a server's trailers crossing the client's CANCEL), at most this many
/// for at most [`RESET_KEPT_FOR`].
pub const RESET_KEPT: usize = 64;
pub const RESET_KEPT_FOR: Span = Span::from_nanos(1_000_000_000);
/// Connection notes kept.
const MAX_NOTES: usize = 8;

/// Whether a stream starting with `first_bytes` is HTTP/2: the client
/// preface (`Yes` from `PRI `, which no HTTP/1 request starts with), or,
/// for a capture that starts mid-connection, two plausible frame headers
/// one after the other (one when it fills the bytes seen). Text and TLS
/// fail at the first byte (a frame length of 64 KiB or more).
pub fn probe(_dir: Dir, first_bytes: &[u8]) -> Probe {
    let n = first_bytes.len().min(PREFACE.len());
    if first_bytes[..n] == PREFACE[..n] {
        return if n >= 4 { Probe::Yes } else { Probe::NeedMore };
    }
    // A partial header already tells: a length over the default maximum
    // frame size (any non-zero first byte), an unknown type.
    match first_bytes {
        [] => return Probe::NeedMore,
        [b0, ..] if *b0 != 0 => return Probe::No,
        [_, b1, ..] if usize::from(*b1) << 8 > DEFAULT_MAX_FRAME as usize => return Probe::No,
        [_, _, _, kind, ..] if *kind > 9 => return Probe::No,
        _ => {}
    }
    let mut at = 0;
    let mut frames = 0;
    while let Some(raw) = first_bytes.get(at..at + HEADER_LEN) {
        let mut buf = [0; HEADER_LEN];
        buf.copy_from_slice(raw);
        let header = FrameHeader::parse(&buf);
        if !header.is_plausible() {
            return Probe::No;
        }
        frames += 1;
        at += HEADER_LEN + header.len as usize;
        if frames == 2 || at == first_bytes.len() {
            return Probe::Yes;
        }
    }
    Probe::NeedMore
}

/// Builds the analyzer (the registry's constructor).
pub fn new() -> Box<dyn StreamAnalyzer> {
    Box::<Http2>::default()
}

/// How far one direction got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Side {
    /// Nothing seen yet.
    Fresh,
    /// In the client preface: this many bytes of it seen.
    Preface(usize),
    Frames,
    /// After a gap: looking for the next frame boundary (module
    /// `resync`), this many bytes skipped so far.
    Resync(u64),
    /// Broken framing: the rest of the direction is not read.
    Stopped,
}

/// A header block being gathered (HEADERS or PUSH_PROMISE, then
/// CONTINUATIONs until END_HEADERS).
struct Block {
    stream: u32,
    /// The stream a PUSH_PROMISE promises.
    promised: Option<u32>,
    end_stream: bool,
    bytes: Vec<u8>,
    overflow: bool,
    first: At,
}

/// The HTTP/2 analyzer of one TCP conversation.
pub struct Http2 {
    sides: [Side; 2],
    framers: [Framer; 2],
    /// Bytes held while a direction resyncs after a gap.
    held: [Vec<u8>; 2],
    hpack: [BlockDecoder; 2],
    blocks: [Option<Block>; 2],
    /// The direction the client sends in, once known.
    client: Option<Dir>,
    /// Largest frame each direction may send (the other side's
    /// SETTINGS_MAX_FRAME_SIZE).
    max_frame: [u32; 2],
    /// Flow-control windows each direction's sender is bound by.
    windows: [Windows; 2],
    /// DATA payload bytes each direction has sent.
    data_sent: [u64; 2],
    /// Where the data of the DATA frame each direction is sending lies in
    /// its payload (the pad length byte and the padding left out).
    data_span: [(u32, u32); 2],
    /// Whether the stream of that DATA frame reads its data (a gRPC
    /// call counts its messages): the others are not looked up for every
    /// piece of every frame.
    data_read: [bool; 2],
    /// Streams boxed: the map moves small pointers, not exchanges.
    streams: BTreeMap<u32, Box<Stream>>,
    /// Streams ended by RST_STREAM, and when: frames still in flight on
    /// them are theirs, not a new stream's.
    reset: VecDeque<(Timestamp, Box<Stream>)>,
    /// Highest stream id seen, per parity (even, odd): a lower id not in
    /// `streams` is a closed stream.
    max_id: [u32; 2],
    done: Vec<(Exchange, StreamFacts)>,
    /// Per direction, the bytes a retransmission released after a hole,
    /// while they are read (module `hol`).
    holds: [Option<Hold>; 2],
    notes: Vec<String>,
    confirmed: bool,
    tally: Tally,
}

impl Default for Http2 {
    fn default() -> Self {
        Http2 {
            sides: [Side::Fresh; 2],
            framers: Default::default(),
            held: Default::default(),
            hpack: [BlockDecoder::new(false), BlockDecoder::new(false)],
            blocks: [None, None],
            client: None,
            max_frame: [DEFAULT_MAX_FRAME; 2],
            windows: Default::default(),
            data_sent: [0; 2],
            data_span: [(0, 0); 2],
            data_read: [false; 2],
            streams: BTreeMap::new(),
            reset: VecDeque::new(),
            max_id: [0; 2],
            done: Vec::new(),
            holds: [None, None],
            notes: Vec::new(),
            confirmed: false,
            tally: Tally::default(),
        }
    }
}

fn peer_of(is_client: bool) -> Peer {
    if is_client {
        Peer::Client
    } else {
        Peer::Server
    }
}

fn peer(is_client: bool) -> &'static str {
    if is_client {
        "client"
    } else {
        "server"
    }
}

impl Http2 {
    /// The connection an HTTP/1.1 `Upgrade: h2c` request switched to: the
    /// request is stream 1's, its response comes as HTTP/2 (RFC 7540
    /// §3.2); both sides start from their prefaces.
    pub fn after_upgrade(request: &Exchange) -> Http2 {
        let client = request.request_dir;
        let mut stream = Stream::new(1, client);
        stream.upgraded_from(request);
        let mut h2 = Http2 {
            client: Some(client),
            max_id: [0, 1],
            ..Http2::default()
        };
        h2.streams.insert(1, Box::new(stream));
        h2
    }

    fn note(&mut self, note: String) {
        tracing::debug!(%note, "http2");
        if self.notes.len() < MAX_NOTES && !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }

    fn client(&self) -> Dir {
        self.client.unwrap_or(Dir::ToServer)
    }

    fn is_client(&self, dir: Dir) -> bool {
        dir == self.client()
    }

    /// A direction's first bytes: the preface, a server's SETTINGS, or a
    /// capture that started mid-connection.
    fn start(&mut self, dir: Dir, bytes: &[u8]) {
        let d = dir.index();
        let n = bytes.len().min(PREFACE.len());
        if bytes[..n] == PREFACE[..n] {
            self.client = Some(dir);
            self.sides[d] = Side::Preface(0);
            self.hpack[d] = BlockDecoder::new(true);
            self.started_fresh(dir);
            return;
        }
        self.sides[d] = Side::Frames;
        let starts_with_settings = bytes.len() >= HEADER_LEN
            && bytes[3] == 4
            && bytes[4] & flag::ACK == 0
            && bytes[5..9] == [0; 4];
        if starts_with_settings && self.client != Some(dir) {
            // A server's connection preface (RFC 9113 §3.4).
            self.hpack[d] = BlockDecoder::new(true);
            self.started_fresh(dir);
        } else {
            self.note("capture starts mid-connection (no preface): header fields that refer to earlier ones are unknown".into());
        }
    }

    /// The windows a sender is bound by are known once it was seen from
    /// its start (its preface or first SETTINGS): they start from RFC
    /// 9113's defaults, so DATA sent before the peer's SETTINGS arrive
    /// (curl's first 64 KiB of an upload) can stall too.
    fn started_fresh(&mut self, dir: Dir) {
        self.windows[dir.index()].known = true;
    }

    fn bytes(&mut self, dir: Dir, ts: Timestamp, frame: u64, mut bytes: &[u8]) {
        let d = dir.index();
        if self.sides[d] == Side::Fresh {
            self.start(dir, bytes);
        }
        if let Side::Preface(have) = self.sides[d] {
            let take = (PREFACE.len() - have).min(bytes.len());
            if bytes[..take] != PREFACE[have..have + take] {
                self.note("a broken client preface".into());
                self.sides[d] = Side::Stopped;
                return;
            }
            bytes = &bytes[take..];
            self.sides[d] = if have + take == PREFACE.len() {
                self.confirmed = true;
                Side::Frames
            } else {
                Side::Preface(have + take)
            };
        }
        let resumed;
        let bytes: &[u8] = match self.sides[d] {
            Side::Resync(skipped) => match self.resync(dir, skipped, bytes) {
                Some(found) => {
                    resumed = found;
                    &resumed
                }
                None => return,
            },
            _ => bytes,
        };
        if self.sides[d] != Side::Frames || bytes.is_empty() {
            return;
        }
        let mut framer = std::mem::take(&mut self.framers[d]);
        framer.push(At { ts, frame }, bytes, &mut |f| self.frame(dir, f));
        self.framers[d] = framer;
    }

    /// Looks for the next frame boundary after a gap in `bytes` and what
    /// was held before them; returns the bytes from the boundary on once
    /// found (the direction is read again from there).
    fn resync(&mut self, dir: Dir, skipped: u64, bytes: &[u8]) -> Option<Vec<u8>> {
        let d = dir.index();
        let mut buf = std::mem::take(&mut self.held[d]);
        buf.extend_from_slice(bytes);
        let max_id = self.max_id[0].max(self.max_id[1]);
        match resync::find(&buf, max_id) {
            resync::Boundary::At(at) => {
                let skipped = skipped + at as u64;
                self.sides[d] = Side::Frames;
                self.note(format!(
                    "the {}'s frames were found again {skipped} bytes after a gap (two frame headers in a row that fit); header fields that refer to earlier ones are unknown from there on",
                    peer(self.is_client(dir))
                ));
                buf.drain(..at);
                Some(buf)
            }
            resync::Boundary::NeedMore(at) => {
                buf.drain(..at);
                self.sides[d] = Side::Resync(skipped + at as u64);
                self.held[d] = buf;
                None
            }
        }
    }

    fn frame(&mut self, dir: Dir, f: Frame<'_>) {
        let d = dir.index();
        let h = f.header;
        if let Some(hold) = &mut self.holds[d] {
            // Frames of the exchange (not PRIORITY on an idle stream).
            if matches!(
                h.kind,
                Kind::Headers | Kind::Continuation | Kind::Data | Kind::PushPromise
            ) {
                hold.frame(h.stream);
            }
        }
        self.expire_reset(f.last.ts);
        // A frame's first piece (DATA comes in pieces; others whole).
        if f.offset == 0 {
            if h.len > self.max_frame[d] {
                self.note(format!(
                    "a {:?} frame of {} bytes, over the maximum frame size {}",
                    h.kind, h.len, self.max_frame[d]
                ));
            }
            if self.blocks[d].is_some() && h.kind != Kind::Continuation {
                self.note("a header block cut off by another frame".into());
                self.blocks[d] = None;
                self.hpack[d].lose();
            }
        }
        match h.kind {
            Kind::Headers | Kind::PushPromise => self.block_start(dir, &f),
            Kind::Continuation => self.continuation(dir, &f),
            Kind::Data => self.data_frame(dir, &f),
            Kind::RstStream => {
                let code = be32(f.payload).unwrap_or(0);
                let is_client = self.is_client(dir);
                if let Some(mut s) = self.streams.remove(&h.stream) {
                    let after = s
                        .exchange
                        .request_start
                        .map(|t| format!(" after {:.3} s", f.last.ts.since(t).as_secs_f64()))
                        .unwrap_or_default();
                    let what = format!(
                        "RST_STREAM {} from the {}",
                        frame::error_name(code),
                        peer(is_client)
                    );
                    s.facts.end = Some(format!("{what}{after}"));
                    s.facts.wait.ended = Some(StreamEnd {
                        by: peer_of(is_client),
                        what,
                        after_request: s.exchange.request_end.map(|t| f.last.ts.since(t)),
                        at: Some(f.last.ts),
                    });
                    if is_client {
                        s.request_frame(f.first, f.last);
                    } else {
                        s.response_frame(f.first, f.last);
                    }
                    self.keep_reset(f.last.ts, s);
                }
            }
            Kind::GoAway => self.goaway(dir, &f),
            Kind::WindowUpdate => self.window_update(dir, &f),
            Kind::Settings if !h.has(flag::ACK) => {
                let sender = dir.reverse();
                for setting in f.payload.chunks_exact(6) {
                    let id = u16::from_be_bytes([setting[0], setting[1]]);
                    let value = be32(&setting[2..]).unwrap_or(0);
                    if id == 5 {
                        // SETTINGS_MAX_FRAME_SIZE: what the other side may send.
                        self.max_frame[sender.index()] = value.max(DEFAULT_MAX_FRAME);
                    }
                    if id == 4 {
                        // SETTINGS_INITIAL_WINDOW_SIZE: the other side's
                        // stream windows.
                        let client = self.client();
                        let open = sending(&mut self.streams, client, sender);
                        self.windows[sender.index()].initial_window(value, f.last.ts, open);
                    }
                }
            }
            _ => {}
        }
    }

    fn block_start(&mut self, dir: Dir, f: &Frame<'_>) {
        let d = dir.index();
        let h = f.header;
        let mut p = f.payload;
        let mut pad = 0;
        if h.has(flag::PADDED) {
            pad = usize::from(p.first().copied().unwrap_or(0));
            p = p.get(1..).unwrap_or_default();
        }
        let mut promised = None;
        if h.kind == Kind::Headers && h.has(flag::PRIORITY) {
            p = p.get(5..).unwrap_or_default();
        }
        if h.kind == Kind::PushPromise {
            promised = be32(p).map(|id| id & 0x7fff_ffff);
            p = p.get(4..).unwrap_or_default();
        }
        let fragment = if f.is_truncated() {
            None
        } else {
            p.get(..p.len().saturating_sub(pad))
        };
        self.blocks[d] = Some(Block {
            stream: h.stream,
            promised,
            end_stream: h.kind == Kind::Headers && h.has(flag::END_STREAM),
            bytes: fragment.unwrap_or_default().to_vec(),
            overflow: fragment.is_none(),
            first: f.first,
        });
        if h.has(flag::END_HEADERS) {
            self.block_end(dir, f.last);
        }
    }

    fn continuation(&mut self, dir: Dir, f: &Frame<'_>) {
        let d = dir.index();
        let Some(block) = self.blocks[d].as_mut() else {
            return self.note("a CONTINUATION frame without a header block".into());
        };
        if block.stream != f.header.stream {
            self.blocks[d] = None;
            self.hpack[d].lose();
            return self.note("a CONTINUATION frame on another stream".into());
        }
        if f.is_truncated() || block.bytes.len() + f.payload.len() > MAX_HEADER_BLOCK {
            block.overflow = true;
            block.bytes = Vec::new();
        } else if !block.overflow {
            block.bytes.extend_from_slice(f.payload);
        }
        if f.header.has(flag::END_HEADERS) {
            self.block_end(dir, f.last);
        }
    }

    fn block_end(&mut self, dir: Dir, last: At) {
        let d = dir.index();
        let Some(block) = self.blocks[d].take() else {
            return;
        };
        let fields = if block.overflow {
            self.hpack[d].lose();
            self.note(format!(
                "a header block over {MAX_HEADER_BLOCK} bytes (a CONTINUATION flood?) was skipped"
            ));
            Fields {
                incomplete: true,
                ..Fields::default()
            }
        } else {
            let (fields, trouble) = self.hpack[d].decode(&block.bytes);
            if let Some(trouble) = trouble {
                self.note(match trouble {
                    Trouble::Damaged(why) => format!(
                        "a header block did not decode ({why}): fields that refer to earlier ones are unknown from there on"
                    ),
                    Trouble::TooManyFields => {
                        format!("a header block of over {} fields", hpack::MAX_FIELDS)
                    }
                });
            } else {
                self.confirmed = true;
            }
            fields
        };
        if self.client.is_none() && block.promised.is_none() {
            // Clients open odd streams (RFC 9113 §5.1.1).
            self.client = Some(if block.stream % 2 == 1 {
                dir
            } else {
                dir.reverse()
            });
        }
        let is_client = self.is_client(dir);
        let first = block.first;
        if let Some(promised) = block.promised {
            if let Some(s) = self.open(promised) {
                s.request_frame(first, last);
                s.request_headers(&fields);
                s.request_done = true;
            }
            return;
        }
        let sent = self.data_sent[d];
        let Some(s) = self.open(block.stream) else {
            return;
        };
        if is_client {
            s.request_frame(first, last);
            s.request_headers(&fields);
            s.request_done |= block.end_stream;
        } else {
            s.response_frame(first, last);
            s.response_headers(&fields, first);
            s.response_turn(sent, 0, last.ts);
            s.response_done |= block.end_stream;
        }
        self.close_if_done(block.stream);
    }

    /// The stream `id`, opened if it is new; `None` for a closed one or
    /// past [`MAX_OPEN_STREAMS`].
    fn open(&mut self, id: u32) -> Option<&mut Stream> {
        if id == 0 {
            return None;
        }
        let parity = (id % 2) as usize;
        if !self.streams.contains_key(&id) {
            if id <= self.max_id[parity] {
                return self.reset_stream(id);
            }
            self.max_id[parity] = id;
            if self.streams.len() >= MAX_OPEN_STREAMS {
                self.note(format!(
                    "over {MAX_OPEN_STREAMS} open streams: later ones not followed"
                ));
                return None;
            }
            let client = self.client();
            self.streams.insert(id, Box::new(Stream::new(id, client)));
        }
        self.streams.get_mut(&id).map(|s| &mut **s)
    }

    /// A followed stream: open, or reset a moment ago.
    fn followed(&mut self, id: u32) -> Option<&mut Stream> {
        if self.streams.contains_key(&id) {
            return self.streams.get_mut(&id).map(|s| &mut **s);
        }
        self.reset_stream(id)
    }

    fn reset_stream(&mut self, id: u32) -> Option<&mut Stream> {
        self.reset
            .iter_mut()
            .find(|(_, s)| s.facts.stream_id == id)
            .map(|(_, s)| &mut **s)
    }

    /// A stream a RST_STREAM ended at `ts`: kept a while for the frames
    /// in flight.
    fn keep_reset(&mut self, ts: Timestamp, s: Box<Stream>) {
        self.reset.push_back((ts, s));
        while self.reset.len() > RESET_KEPT {
            if let Some((_, s)) = self.reset.pop_front() {
                self.done.push(s.into_parts());
            }
        }
    }

    /// Reset streams older than [`RESET_KEPT_FOR`] at `now` are done.
    fn expire_reset(&mut self, now: Timestamp) {
        while let Some((at, _)) = self.reset.front() {
            if now.since(*at) <= RESET_KEPT_FOR {
                return;
            }
            if let Some((_, s)) = self.reset.pop_front() {
                self.done.push(s.into_parts());
            }
        }
    }

    /// A WINDOW_UPDATE from `dir`'s side: more room for the other.
    fn window_update(&mut self, dir: Dir, f: &Frame<'_>) {
        let Some(increment) = be32(f.payload).map(|n| n & 0x7fff_ffff) else {
            return;
        };
        let sender = dir.reverse();
        let ts = f.last.ts;
        if f.header.stream == 0 {
            let client = self.client();
            let open = sending(&mut self.streams, client, sender);
            self.windows[sender.index()].connection_update(increment, ts, open);
        } else if let Some(s) = self.streams.get_mut(&f.header.stream) {
            self.windows[sender.index()].stream_update(
                &mut s.windows[sender.index()],
                increment,
                ts,
            );
        }
    }

    fn close_if_done(&mut self, id: u32) {
        if self.streams.get(&id).is_some_and(|s| s.is_done()) {
            if let Some(s) = self.streams.remove(&id) {
                self.done.push(s.into_parts());
            }
        }
    }

    /// A piece of a DATA frame: its data goes to the stream's gRPC
    /// message counter as it comes; the frame counts once complete.
    fn data_frame(&mut self, dir: Dir, f: &Frame<'_>) {
        let h = f.header;
        let d = dir.index();
        if f.offset == 0 {
            self.data_span[d] = if h.has(flag::PADDED) {
                let pad = u32::from(f.payload.first().copied().unwrap_or(0));
                (1, h.len.saturating_sub(pad))
            } else {
                (0, h.len)
            };
            self.data_read[d] = self.followed(h.stream).is_some_and(|s| s.reads_data());
        }
        let (start, end) = self.data_span[d];
        let is_client = self.is_client(dir);
        // This piece's share of the data, padding left out.
        let from = start.saturating_sub(f.offset) as usize;
        let to = (end.saturating_sub(f.offset) as usize).min(f.payload.len());
        if let Some(piece) = f.payload.get(from..to).filter(|p| !p.is_empty()) {
            if self.data_read[d] {
                if let Some(s) = self.followed(h.stream) {
                    s.data_piece(is_client, piece);
                }
            }
        }
        if !f.complete {
            return;
        }
        let len = u64::from(end.saturating_sub(start));
        let sent = self.data_sent[d];
        self.data_sent[d] = sent.saturating_add(len);
        let ended = h.has(flag::END_STREAM);
        if self.open(h.stream).is_none() {
            // A closed stream's DATA still spends the connection window.
            self.windows[d].data(None, h.len, ended, f.last.ts);
            return;
        }
        // The stream may be a reset one, kept outside `streams`.
        let mut windows = self.windows[d];
        let Some(s) = self.followed(h.stream) else {
            return;
        };
        windows.data(Some(&mut s.windows[d]), h.len, ended, f.last.ts);
        if is_client {
            s.request_frame(f.first, f.last);
            s.request_done |= ended;
        } else {
            s.response_frame(f.first, f.last);
            s.response_turn(sent, len, f.last.ts);
            s.response_done |= ended;
        }
        s.data(is_client, len);
        self.windows[d] = windows;
        self.close_if_done(h.stream);
    }

    fn goaway(&mut self, dir: Dir, f: &Frame<'_>) {
        let last_id = be32(f.payload).map(|id| id & 0x7fff_ffff).unwrap_or(0);
        let code = f.payload.get(4..).and_then(be32).unwrap_or(0);
        let is_client = self.is_client(dir);
        let text = format!(
            "GOAWAY {} from the {} (last stream {last_id})",
            frame::error_name(code),
            peer(is_client)
        );
        let refused = format!("{text}: not processed, safe to retry");
        if code != 0 {
            self.note(text.clone());
        }
        // Streams the sender's peer opened above `last_id` were not processed.
        let peer_parity = if is_client { 0 } else { 1 };
        let cut: Vec<u32> = self
            .streams
            .keys()
            .copied()
            .filter(|&id| id > last_id && id % 2 == peer_parity)
            .collect();
        for id in cut {
            if let Some(mut s) = self.streams.remove(&id) {
                s.facts.end = Some(refused.clone());
                s.facts.wait.ended = Some(StreamEnd {
                    by: peer_of(is_client),
                    what: refused.clone(),
                    after_request: s.exchange.request_end.map(|t| f.last.ts.since(t)),
                    at: Some(f.last.ts),
                });
                self.done.push(s.into_parts());
            }
        }
    }

    /// The bytes a filled hole released in `dir` are read: every stream
    /// with frames in them learns it waited.
    fn end_hold(&mut self, dir: Dir) {
        let Some(hold) = self.holds[dir.index()].take() else {
            return;
        };
        let (ids, tell) = hold.finish();
        for id in ids {
            if let Some(s) = self.followed(id) {
                tell(&mut s.facts.wait.held);
            } else if let Some((_, facts)) = self.done.iter_mut().find(|(_, f)| f.stream_id == id) {
                tell(&mut facts.wait.held);
            }
        }
    }

    /// Ends every open stream (a TCP reset, the end of the capture).
    fn end_all(&mut self, end: End) {
        for (_, s) in std::mem::take(&mut self.reset) {
            self.done.push(s.into_parts());
        }
        for (_, mut s) in std::mem::take(&mut self.streams) {
            if !s.is_done() {
                s.exchange.interrupted = true;
                s.exchange.end = Some(end);
            }
            self.done.push(s.into_parts());
        }
    }
}

/// The flow-control state of every stream on which `sender` may still
/// send DATA (`client`: the client's direction, as [`Http2::client`]).
fn sending(
    streams: &mut BTreeMap<u32, Box<Stream>>,
    client: Dir,
    sender: Dir,
) -> impl Iterator<Item = &mut window::StreamWindow> {
    streams.values_mut().filter_map(move |s| {
        let done = if sender == client {
            s.request_done
        } else {
            s.response_done
        };
        (!done).then_some(&mut s.windows[sender.index()])
    })
}

fn be32(b: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(..4)?.try_into().ok()?))
}

impl StreamSink for Http2 {
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        if !bytes.is_empty() {
            self.bytes(dir, ts, frame, bytes);
        }
    }

    fn gap(&mut self, dir: Dir, _ts: Timestamp, _frame: u64, len: u64) {
        let d = dir.index();
        match self.sides[d] {
            Side::Stopped => return,
            // Still looking: the skipped bytes were never read anyway.
            Side::Resync(_) => return self.held[d].clear(),
            _ => {}
        }
        // Frame boundaries are lost with the bytes: the next frame is
        // looked for (module `resync`).
        self.sides[d] = Side::Resync(0);
        self.framers[d] = Framer::default();
        self.blocks[d] = None;
        self.hpack[d].lose();
        let from_client = self.is_client(dir);
        for s in self.streams.values_mut() {
            s.exchange.has_gap = true;
            // A DATA frame may have been cut: its messages are not known.
            s.lose_messages(from_client);
        }
        // A reset stream still takes the frames in flight, so its count
        // is as broken.
        for (_, s) in self.reset.iter_mut() {
            s.lose_messages(from_client);
        }
        self.note(format!(
            "{len} bytes missing from the capture in the {}'s frames",
            peer(self.is_client(dir))
        ));
    }

    fn fin(&mut self, _dir: Dir, _ts: Timestamp, _frame: u64) {}

    /// A retransmission fills a hole: the frames in what it releases
    /// waited since `since` (read until the packet's bytes are; the
    /// analysis drains after each packet).
    fn held(&mut self, dir: Dir, since: Timestamp, ts: Timestamp) {
        self.end_hold(dir);
        let sender = peer_of(self.is_client(dir));
        self.holds[dir.index()] = Hold::new(sender, since, ts);
    }

    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        let by = if self.is_client(dir) {
            Peer::Client
        } else {
            Peer::Server
        };
        self.end_all(End {
            cause: EndCause::Reset,
            by: Some(by),
            ts,
            frame: Some(frame),
        });
    }
}

impl StreamAnalyzer for Http2 {
    fn finish(&mut self, ts: Timestamp) {
        self.end_hold(Dir::ToServer);
        self.end_hold(Dir::ToClient);
        // A sender still held by a closed window when the capture stops.
        let client = self.client();
        for sender in [Dir::ToServer, Dir::ToClient] {
            let windows = self.windows[sender.index()];
            for w in sending(&mut self.streams, client, sender) {
                windows.capture_end(w, ts);
            }
        }
        self.end_all(End {
            cause: EndCause::CaptureEnded,
            by: None,
            ts,
            frame: None,
        });
    }

    fn drain(&mut self, cx: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError> {
        self.end_hold(Dir::ToServer);
        self.end_hold(Dir::ToClient);
        if self.done.is_empty() {
            return Ok(());
        }
        let notes = self.notes.join("; ");
        for (exchange, mut stream) in std::mem::take(&mut self.done) {
            if !notes.is_empty() {
                stream.note = Some(match stream.note.take() {
                    Some(n) => format!("{n}; {notes}"),
                    None => notes.clone(),
                });
            }
            emit_exchange(cx, emit, &mut self.tally, exchange, Some(stream))?;
        }
        Ok(())
    }

    fn tally(&self) -> Tally {
        Tally {
            confirmed: self.confirmed,
            ..self.tally
        }
    }
}

#[cfg(test)]
mod tests;
