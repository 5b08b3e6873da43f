//! One HTTP/2 stream as an exchange: what its HEADERS, DATA and
//! RST_STREAM frames say, turned into an [`http::Exchange`] plus the
//! stream's own facts ([`StreamFacts`]: its id, how it ended, gRPC).

use serde::Serialize;

use crate::flow::Dir;
use crate::http::{Exchange, Stall, StreamWait};
use crate::time::{Span, Timestamp};

use super::frame::At;
use super::grpc::Grpc;
use super::hpack::Fields;
use super::window::{Scope, StreamWindow};

/// What an HTTP/2 stream adds to an exchange.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct StreamFacts {
    pub stream_id: u32,
    /// How the stream ended when END_STREAM did not end it, e.g.
    /// "RST_STREAM CANCEL from the client after 1.200 s".
    pub end: Option<String>,
    /// What made the exchange's fields partial (a mid-stream capture, a
    /// damaged header block).
    pub note: Option<String>,
    pub grpc: Option<Grpc>,
    /// What the verdict needs: the frame that ended the stream, stalls.
    #[serde(skip)]
    pub wait: StreamWait,
}

/// A stream being followed.
pub struct Stream {
    pub exchange: Exchange,
    pub facts: StreamFacts,
    /// END_STREAM seen from the client, from the server.
    pub request_done: bool,
    pub response_done: bool,
    /// Boxed: most streams are not gRPC.
    grpc: Option<Box<Grpc>>,
    /// Flow control per sending direction (indexed by [`Dir::index`]).
    pub windows: [StreamWindow; 2],
    /// Server-to-client DATA bytes of the whole connection when this
    /// stream last sent a response frame, and when that was.
    response_mark: Option<(u64, Timestamp)>,
    /// Time its response waited while other streams' DATA went out, and
    /// those bytes.
    behind: (Span, u64),
}

impl Stream {
    pub fn new(id: u32, client: Dir) -> Stream {
        let mut exchange = Exchange::new(client);
        exchange.version = Some("HTTP/2".to_string());
        Stream {
            exchange,
            facts: StreamFacts {
                stream_id: id,
                ..StreamFacts::default()
            },
            request_done: false,
            response_done: false,
            grpc: None,
            windows: Default::default(),
            response_mark: None,
            behind: (Span::ZERO, 0),
        }
    }

    pub fn is_done(&self) -> bool {
        self.request_done && self.response_done
    }

    /// Stream 1 of an `Upgrade: h2c`: the HTTP/1.1 request it answers.
    pub fn upgraded_from(&mut self, request: &Exchange) {
        let e = &mut self.exchange;
        e.method.clone_from(&request.method);
        e.uri.clone_from(&request.uri);
        e.version.clone_from(&request.version);
        e.host.clone_from(&request.host);
        e.user_agent.clone_from(&request.user_agent);
        e.request_content_type
            .clone_from(&request.request_content_type);
        e.request_body_bytes = request.request_body_bytes;
        e.request_start = request.request_start;
        e.request_end = request.request_end;
        e.request_first_frame = request.request_first_frame;
        e.request_last_frame = request.request_last_frame;
        self.request_done = true;
        self.facts.note = Some("upgraded from HTTP/1.1 (h2c)".into());
    }

    /// A frame of the request (HEADERS, CONTINUATION, DATA, PUSH_PROMISE).
    pub fn request_frame(&mut self, first: At, last: At) {
        let e = &mut self.exchange;
        if e.request_start.is_none() {
            e.request_start = Some(first.ts);
            e.request_first_frame = Some(first.frame);
        }
        e.request_end = Some(last.ts);
        e.request_last_frame = Some(last.frame);
    }

    pub fn response_frame(&mut self, first: At, last: At) {
        let e = &mut self.exchange;
        if e.response_start.is_none() {
            e.response_start = Some(first.ts);
            e.response_first_frame = Some(first.frame);
        }
        e.response_end = Some(last.ts);
        e.response_last_frame = Some(last.frame);
    }

    /// A header block from the client: the request's, or its trailers.
    pub fn request_headers(&mut self, fields: &Fields) {
        let e = &mut self.exchange;
        if e.method.is_none() && e.uri.is_none() {
            e.method = fields.get(":method").map(str::to_string);
            e.uri = fields.get(":path").map(str::to_string);
            e.host = fields
                .get(":authority")
                .or(fields.get("host"))
                .map(str::to_string);
            e.user_agent = fields.get("user-agent").map(str::to_string);
            e.request_content_type = fields.get("content-type").map(str::to_string);
            e.request_content_length = fields.get("content-length").and_then(|v| v.parse().ok());
            self.grpc = Grpc::from_request(fields).map(Box::new);
        }
        self.partial(fields);
    }

    /// A header block from the server: interim, final, or trailers.
    pub fn response_headers(&mut self, fields: &Fields, at: At) {
        let e = &mut self.exchange;
        let status = fields.get(":status").and_then(|s| s.parse::<u16>().ok());
        match status {
            Some(s @ 100..=199) if e.interim.len() < 8 => e.interim.push(crate::http::Interim {
                status: s,
                ts: at.ts,
                frame: at.frame,
            }),
            Some(100..=199) => {}
            Some(s) if e.status.is_none() => {
                e.status = Some(s);
                e.response_version = Some("HTTP/2".to_string());
                e.content_type = fields.get("content-type").map(str::to_string);
                e.content_length = fields.get("content-length").and_then(|v| v.parse().ok());
            }
            _ => {}
        }
        if let Some(grpc) = &mut self.grpc {
            grpc.trailers(fields);
        }
        self.partial(fields);
    }

    fn partial(&mut self, fields: &Fields) {
        if fields.incomplete && self.facts.note.is_none() {
            self.facts.note =
                Some("header fields unknown: HPACK state not known (see the connection)".into());
        }
    }

    /// A whole DATA frame of `len` data bytes (padding removed).
    pub fn data(&mut self, from_client: bool, len: u64) {
        if from_client {
            self.exchange.request_body_bytes += len;
        } else {
            self.exchange.response_body_bytes += len;
        }
    }

    /// Whether [`Stream::data_piece`] does anything: only a gRPC call
    /// reads its DATA (to count its messages).
    pub fn reads_data(&self) -> bool {
        self.grpc.is_some()
    }

    /// A piece of a DATA frame's data, as it comes.
    pub fn data_piece(&mut self, from_client: bool, piece: &[u8]) {
        if let Some(grpc) = &mut self.grpc {
            grpc.data(from_client, piece, piece.len() as u64);
        }
    }

    /// Bytes of one direction were lost: its gRPC messages are no longer
    /// counted.
    pub fn lose_messages(&mut self, from_client: bool) {
        if let Some(grpc) = &mut self.grpc {
            grpc.lose(from_client);
        }
    }

    /// A response frame at `at` when the connection's server-to-client
    /// DATA counter stood at `sent` (this frame's own DATA not counted):
    /// DATA of other streams since this stream's last response frame
    /// means it waited behind them.
    pub fn response_turn(&mut self, sent: u64, own: u64, at: Timestamp) {
        if let Some((mark, last)) = self.response_mark {
            let others = sent.saturating_sub(mark);
            if others > 0 {
                let waited = at.since(last).as_nanos();
                self.behind = (
                    Span::from_nanos(self.behind.0.as_nanos().saturating_add(waited)),
                    self.behind.1.saturating_add(others),
                );
            }
        }
        self.response_mark = Some((sent.saturating_add(own), at));
    }

    /// The stream is over: what the exchange looks like.
    pub fn into_parts(mut self) -> (Exchange, StreamFacts) {
        let stall = |w: &StreamWindow| {
            (w.stalls.count > 0).then_some(Stall {
                total: w.stalls.total,
                count: w.stalls.count,
                connection: w.stalls.scope == Scope::Connection,
                open_at_end: w.stalls.open,
            })
        };
        let client = self.exchange.request_dir;
        self.facts.wait.request_stall = stall(&self.windows[client.index()]);
        self.facts.wait.response_stall = stall(&self.windows[client.reverse().index()]);
        if self.behind.1 > 0 {
            self.facts.wait.behind = Some(self.behind);
        }
        if !self.is_done() && self.facts.end.is_some() {
            self.exchange.interrupted = true;
        }
        self.facts.wait.grpc = self.grpc.as_ref().map(|g| g.wait());
        self.facts.grpc = self.grpc.map(|g| g.finish());
        (self.exchange, self.facts)
    }
}
