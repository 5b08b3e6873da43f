//! HTTP/1.x exchange extraction from reassembled TCP streams.
//!
//! One [`Parser`] per TCP conversation receives both byte streams through
//! [`crate::flow::StreamSink`] and emits one [`Exchange`] per request (and
//! per response whose request was never seen) into an [`ExchangeSink`].
//! HTTP is recognised by content, on any port: a direction whose first
//! bytes are not an HTTP message start is left alone (a few KiB of text
//! are searched at most; binary such as TLS is dropped on its first byte).
//!
//! Heads are parsed with `httparse`; body framing (Content-Length,
//! chunked, close-delimited, bodiless responses), pipelining, interim 1xx
//! responses, Upgrade/CONNECT tunnels and resynchronisation after capture
//! gaps are this module's (RFC 9112 §6 for framing). Payload bytes are not
//! kept: only the head being parsed is buffered, up to
//! [`Limits::max_head`].
//!
//! ```
//! use tracedeck::flow::{Dir, StreamSink};
//! use tracedeck::http::{Exchange, Parser};
//! use tracedeck::Timestamp;
//!
//! let mut parser: Parser<Vec<Exchange>> = Parser::new(Vec::new());
//! let t = Timestamp::from_nanos;
//! parser.data(Dir::ToServer, t(0), 0, b"GET / HTTP/1.1\r\nHost: a\r\n\r\n");
//! parser.data(Dir::ToClient, t(5), 1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi");
//! parser.finish(t(9));
//! let exchanges = parser.into_sink();
//! assert_eq!(exchanges[0].status, Some(200));
//! assert_eq!(exchanges[0].response_body_bytes, 2);
//! ```

mod body;
pub(crate) mod head;
mod parser;
pub(crate) mod start;
pub mod verdict;

pub use parser::Parser;
pub use start::{opening, Opening};
pub use verdict::{
    add_dns_time, judge, judge_stream, ExchangeFacts, GrpcWait, LossHold, Stall, StreamEnd,
    StreamWait, TcpFacts, Verdict, Wait,
};

use crate::flow::Dir;
use crate::time::{Span, Timestamp};
use serde::Serialize;

/// Caps that keep a parser's memory bounded whatever the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Longest message head (start line and headers) buffered; a longer
    /// head is malformed and the stream resynchronises.
    pub max_head: usize,
    /// Requests waiting for their responses; past it the oldest is
    /// reported without a response.
    pub max_pending: usize,
    /// Bytes of a direction searched for a first HTTP message before the
    /// direction is put to sleep (woken if the other direction turns out
    /// to be HTTP).
    pub sniff_budget: u64,
    /// Longest URI kept on an [`Exchange`] (longer ones are truncated).
    pub max_uri: usize,
    /// Longest header value kept on an [`Exchange`].
    pub max_value: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_head: 64 * 1024,
            max_pending: 128,
            sniff_budget: 8 * 1024,
            max_uri: 8 * 1024,
            max_value: 1024,
        }
    }
}

/// Which end of the connection did something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Peer {
    Client,
    Server,
}

/// What ended an exchange that its messages' framing did not end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EndCause {
    /// A RST.
    Reset,
    /// A FIN.
    Closed,
    /// The capture (or the conversation's tracking) ended first.
    CaptureEnded,
}

/// How and when an exchange was cut off by its connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct End {
    pub cause: EndCause,
    /// Who sent the RST or FIN (`None` for [`EndCause::CaptureEnded`]).
    pub by: Option<Peer>,
    #[serde(serialize_with = "ser::ts")]
    pub ts: Timestamp,
    pub frame: Option<u64>,
}

/// An interim (1xx other than 101) response seen before the final one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Interim {
    pub status: u16,
    /// Time of its first byte.
    #[serde(serialize_with = "ser::ts")]
    pub ts: Timestamp,
    pub frame: u64,
}

/// One request and its response, either of which may be missing.
///
/// Times are the `ts` of the `data()` calls that delivered the first and
/// last byte of each message (head through end of body); frames likewise.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Exchange {
    /// The direction that carried the request (`ToClient` when the flow
    /// layer guessed the roles the wrong way round).
    pub request_dir: Dir,

    pub method: Option<String>,
    pub uri: Option<String>,
    /// Request version, e.g. `HTTP/1.1`.
    pub version: Option<String>,
    pub host: Option<String>,
    pub user_agent: Option<String>,
    pub request_content_type: Option<String>,
    pub request_content_length: Option<u64>,
    pub request_transfer_encoding: Option<String>,
    /// Decoded request body length (for chunked: sum of chunk sizes;
    /// bytes lost in capture gaps count when the framing covers them).
    pub request_body_bytes: u64,
    #[serde(serialize_with = "ser::opt_ts")]
    pub request_start: Option<Timestamp>,
    #[serde(serialize_with = "ser::opt_ts")]
    pub request_end: Option<Timestamp>,
    pub request_first_frame: Option<u64>,
    pub request_last_frame: Option<u64>,

    /// Final status (`None` when no final response was seen).
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub response_version: Option<String>,
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
    pub transfer_encoding: Option<String>,
    pub response_body_bytes: u64,
    /// First byte of the final response head (after any interim 1xx).
    #[serde(serialize_with = "ser::opt_ts")]
    pub response_start: Option<Timestamp>,
    #[serde(serialize_with = "ser::opt_ts")]
    pub response_end: Option<Timestamp>,
    pub response_first_frame: Option<u64>,
    pub response_last_frame: Option<u64>,
    /// Interim responses (100 Continue, 103 Early Hints, ...), at most 8.
    pub interim: Vec<Interim>,

    /// A message was cut short (its framing said more was to come).
    pub interrupted: bool,
    /// Bytes of this exchange were lost in a capture gap.
    pub has_gap: bool,
    /// A head or chunked body did not parse; fields are best effort.
    pub malformed: bool,
    /// The connection switched protocols (101, or CONNECT answered 2xx)
    /// after this exchange; nothing after it was parsed as HTTP.
    pub upgraded: bool,
    /// Set when the connection, not the framing, ended the exchange.
    pub end: Option<End>,
}

impl Exchange {
    /// An exchange with nothing seen yet.
    pub fn new(request_dir: Dir) -> Self {
        Exchange {
            request_dir,
            method: None,
            uri: None,
            version: None,
            host: None,
            user_agent: None,
            request_content_type: None,
            request_content_length: None,
            request_transfer_encoding: None,
            request_body_bytes: 0,
            request_start: None,
            request_end: None,
            request_first_frame: None,
            request_last_frame: None,
            status: None,
            reason: None,
            response_version: None,
            content_type: None,
            content_length: None,
            transfer_encoding: None,
            response_body_bytes: 0,
            response_start: None,
            response_end: None,
            response_first_frame: None,
            response_last_frame: None,
            interim: Vec::new(),
            interrupted: false,
            has_gap: false,
            malformed: false,
            upgraded: false,
            end: None,
        }
    }

    /// Time to first byte: `response_start - request_end`.
    pub fn server_time(&self) -> Option<Span> {
        Some(self.response_start?.since(self.request_end?))
    }

    /// `response_end - request_start`.
    pub fn total_time(&self) -> Option<Span> {
        Some(self.response_end?.since(self.request_start?))
    }

    /// `response_end - response_start`: how long the response took to
    /// arrive once it started.
    pub fn transfer_time(&self) -> Option<Span> {
        Some(self.response_end?.since(self.response_start?))
    }

    /// `request_end - request_start`: how long the client took to send
    /// its request (matters for uploads).
    pub fn request_time(&self) -> Option<Span> {
        Some(self.request_end?.since(self.request_start?))
    }

    /// tshark's `http.time`: `response_end - request_end`.
    pub fn http_time(&self) -> Option<Span> {
        Some(self.response_end?.since(self.request_end?))
    }
}

/// Where a [`Parser`] puts the exchanges it completes, in request order.
pub trait ExchangeSink {
    fn exchange(&mut self, exchange: Exchange);
}

impl ExchangeSink for Vec<Exchange> {
    fn exchange(&mut self, exchange: Exchange) {
        self.push(exchange);
    }
}

impl<S: ExchangeSink + ?Sized> ExchangeSink for &mut S {
    fn exchange(&mut self, exchange: Exchange) {
        (**self).exchange(exchange);
    }
}

/// Adapts a closure into an [`ExchangeSink`].
pub struct FnSink<F>(pub F);

impl<F: FnMut(Exchange)> ExchangeSink for FnSink<F> {
    fn exchange(&mut self, exchange: Exchange) {
        (self.0)(exchange);
    }
}

/// Timestamps as JSON seconds since the epoch (README, "What the numbers mean").
mod ser {
    use crate::time::Timestamp;
    use serde::Serializer;

    pub fn ts<S: Serializer>(ts: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(ts.as_secs_f64())
    }

    pub fn opt_ts<S: Serializer>(ts: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match ts {
            Some(ts) => s.serialize_f64(ts.as_secs_f64()),
            None => s.serialize_none(),
        }
    }
}
