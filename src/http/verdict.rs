//! "Where did the time go": a plain-language verdict per exchange.
//!
//! An exchange's time splits into three parts, each owned by one side:
//! the client sending its request (`request_end - request_start`, long
//! only for uploads or a stalled client), the server thinking
//! (`response_start - request_end`, time to first byte) and the response
//! travelling (`response_end - response_start`). The largest part is the
//! verdict; TCP facts of the exchange's time window (retransmissions,
//! gaps, zero windows) decide whether that part was the network's fault or
//! a side not keeping up. Missing responses are explained from how the
//! connection ended.

use serde::Serialize;

use super::{EndCause, Exchange, Peer};
use crate::time::{Span, Timestamp};

/// TCP trouble in one direction during an exchange (counted by the
/// caller over the exchange's time window; zeros when unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct TcpFacts {
    /// Segments resent by this direction's sender.
    pub retransmissions: u32,
    /// Holes in this direction's stream (lost, not captured).
    pub gaps: u32,
    /// Zero receive windows advertised by this direction's sender (it
    /// could not take more data from the other side).
    pub zero_windows: u32,
}

impl TcpFacts {
    fn losses(&self) -> u32 {
        self.retransmissions.saturating_add(self.gaps)
    }
}

/// TCP facts of both directions of an exchange.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ExchangeFacts {
    /// Packets the client sent.
    pub client: TcpFacts,
    /// Packets the server sent.
    pub server: TcpFacts,
}

/// Who or what the exchange mostly waited on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Wait {
    /// The server: slow to answer, or it cut the exchange.
    Server,
    /// The client: slow to send or to read, or it cut the exchange.
    Client,
    /// Packet loss: retransmissions or gaps in the slow part.
    Network,
    /// Moving the response body, with no sign of trouble (large body or
    /// slow link).
    Transfer,
    /// Not enough seen to say.
    #[default]
    Unknown,
}

impl Wait {
    /// The name as the JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Wait::Server => "server",
            Wait::Client => "client",
            Wait::Network => "network",
            Wait::Transfer => "transfer",
            Wait::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Wait> {
        [
            Wait::Server,
            Wait::Client,
            Wait::Network,
            Wait::Transfer,
            Wait::Unknown,
        ]
        .into_iter()
        .find(|w| w.as_str() == s)
    }
}

/// The verdict on one exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Verdict {
    pub wait: Wait,
    /// One sentence, e.g. "server took 2.003 s to send the first byte
    /// after the request was complete".
    pub text: String,
    /// The span the sentence is about, when there is one.
    #[serde(serialize_with = "opt_span")]
    pub span: Option<Span>,
}

fn opt_span<S: serde::Serializer>(span: &Option<Span>, s: S) -> Result<S::Ok, S::Error> {
    match span {
        Some(span) => s.serialize_f64(span.as_secs_f64()),
        None => s.serialize_none(),
    }
}

/// Judges where `ex`'s time went, given the TCP facts of its window.
pub fn judge(ex: &Exchange, facts: &ExchangeFacts) -> Verdict {
    if ex.method.is_none() && ex.request_start.is_none() {
        return no_request(ex);
    }
    // An HTTP/0.9 response has no status line: it is there when it began.
    let simple = ex.response_version.as_deref() == Some("HTTP/0.9") && ex.response_start.is_some();
    if ex.status.is_none() && !simple {
        return no_response(ex, facts);
    }
    let parts = [
        (Part::Request, ex.request_time()),
        (Part::Server, ex.server_time()),
        (Part::Transfer, ex.transfer_time()),
    ];
    // The largest known part; ties go to the earlier one.
    let mut best: Option<(Part, Span)> = None;
    for (part, span) in parts {
        if let Some(span) = span {
            if best.is_none_or(|(_, b)| span > b) {
                best = Some((part, span));
            }
        }
    }
    let Some((part, span)) = best else {
        return verdict(Wait::Unknown, "timing incomplete".into(), None);
    };
    let mut v = match part {
        Part::Request => request_part(ex, facts, span),
        Part::Server => server_part(facts, span),
        Part::Transfer => transfer_part(ex, facts, span),
    };
    if ex.interrupted {
        if let Some(end) = ex.end {
            v.text
                .push_str(&format!("; cut short: {}", ended(end.cause, end.by)));
        }
    }
    if simple {
        v.text.push_str("; HTTP/0.9 response (no status line)");
    }
    v
}

/// Adds the client's DNS lookup that came just before its connection
/// (`took`: query to response) to the verdict of the connection's first
/// exchange: "DNS 120.0 ms before connecting".
pub fn add_dns_time(v: &mut Verdict, took: Span) {
    v.text.push_str(&format!("; DNS {took} before connecting"));
}

/// What an HTTP/2 stream adds to its verdict: the frame that ended it,
/// flow-control stalls each way and time spent behind other streams
/// (README "HTTP/2"). Filled by the HTTP/2 analyzer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StreamWait {
    pub ended: Option<StreamEnd>,
    /// The client's DATA held by the server's flow-control window.
    pub request_stall: Option<Stall>,
    /// The server's DATA held by the client's flow-control window.
    pub response_stall: Option<Stall>,
    /// Time the response's DATA waited while other streams' DATA went
    /// out on the connection, and how many bytes of it.
    pub behind: Option<(Span, u64)>,
    /// A gRPC call's status and deadline.
    pub grpc: Option<GrpcWait>,
    /// Frames that arrived but waited behind a lost segment.
    pub held: Option<LossHold>,
}

/// Head-of-line blocking: time a stream's frames waited behind a hole in
/// the TCP stream until a retransmission filled it (they had reached the
/// receiver, which could read none of them), with the other streams
/// that waited behind the same hole.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LossHold {
    /// The side whose segment was lost.
    pub sender: Peer,
    /// The longest hold.
    pub longest: Span,
    /// Streams with frames behind that hole, this one included.
    pub streams: u32,
    /// Holds in all, and their time in all.
    pub count: u32,
    pub total: Span,
}

impl LossHold {
    /// A first hold.
    pub fn new(sender: Peer, span: Span, streams: u32) -> LossHold {
        LossHold {
            sender,
            longest: span,
            streams,
            count: 1,
            total: span,
        }
    }

    /// One more hold of the stream.
    pub fn add(&mut self, sender: Peer, span: Span, streams: u32) {
        self.count = self.count.saturating_add(1);
        self.total = Span::from_nanos(self.total.as_nanos().saturating_add(span.as_nanos()));
        if span > self.longest {
            *self = LossHold {
                sender,
                longest: span,
                streams,
                ..*self
            };
        }
    }

    /// "3 streams held 212.0 ms behind one retransmitted segment of the
    /// server's".
    fn describe(&self) -> String {
        let who = match self.streams {
            1 => String::new(),
            n => format!("{n} streams "),
        };
        let side = match self.sender {
            Peer::Client => "client",
            Peer::Server => "server",
        };
        let more = match self.count {
            1 => String::new(),
            n => format!(" ({n} holds, {} in all)", self.total),
        };
        format!(
            "{who}held {} behind one retransmitted segment of the {side}'s{more}",
            self.longest
        )
    }
}

/// What the verdict of a gRPC call needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GrpcWait {
    /// `grpc-status` of the trailers.
    pub status: Option<u32>,
    /// `grpc-timeout` of the request, as a span.
    pub timeout: Option<Span>,
}

/// gRPC's DEADLINE_EXCEEDED status code.
const DEADLINE_EXCEEDED: u32 = 4;

/// "(grpc-timeout 500.0 ms: past the deadline)" for a call that took
/// `took`.
fn deadline_note(timeout: Option<Span>, took: Option<Span>) -> String {
    match (timeout, took) {
        (Some(t), Some(took)) if took >= t => format!("(grpc-timeout {t}: past the deadline)"),
        (Some(t), Some(_)) => format!("(grpc-timeout {t}: before the deadline)"),
        (Some(t), None) => format!("(grpc-timeout {t})"),
        (None, _) => "(no grpc-timeout sent)".to_string(),
    }
}

/// A frame that ended a stream before END_STREAM did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamEnd {
    /// The side that sent it.
    pub by: Peer,
    /// e.g. "RST_STREAM CANCEL from the client".
    pub what: String,
    /// Time from the request's last frame before it (the frame may itself
    /// be the client's last).
    pub after_request: Option<Span>,
    /// When the frame came.
    pub at: Option<Timestamp>,
}

/// Time a sender waited on a window its peer kept at zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stall {
    pub total: Span,
    pub count: u32,
    /// The connection's window (else the stream's).
    pub connection: bool,
    /// The last stall was still on when the capture ended.
    pub open_at_end: bool,
}

impl Stall {
    /// "stalled 340.0 ms waiting for the client's WINDOW_UPDATE (3
    /// stalls)": the receiver kept the window closed.
    fn describe(&self, receiver: &str) -> String {
        let window = if self.connection {
            "connection WINDOW_UPDATE"
        } else {
            "WINDOW_UPDATE"
        };
        let often = if self.count > 1 {
            format!(" ({} stalls)", self.count)
        } else {
            String::new()
        };
        let open = match (self.open_at_end, self.count) {
            (false, _) => "",
            (true, 1) => ", still blocked when the capture ended",
            (true, _) => ", the last still blocked when the capture ended",
        };
        format!(
            "stalled {} waiting for the {receiver}'s {window}{often}{open}",
            self.total
        )
    }
}

/// [`judge`] for an HTTP/2 stream: a stream reset or refused is named
/// with the frame that ended it, and flow control or other streams take
/// the blame for the part of the time they held: a part at least half
/// spent on a zero window waited on the receiver that kept it closed.
pub fn judge_stream(ex: &Exchange, facts: &ExchangeFacts, w: &StreamWait) -> Verdict {
    let mut v = judge_stream_time(ex, facts, w);
    let Some(grpc) = w.grpc else {
        return v;
    };
    let start = ex.request_start;
    if grpc.status == Some(DEADLINE_EXCEEDED) {
        // The status came with the response's last frame (the trailers).
        let took = start.zip(ex.response_end).map(|(a, b)| b.since(a));
        let after = took.map_or(String::new(), |t| format!(" after {t}"));
        v.wait = Wait::Server;
        v.text = format!(
            "gRPC DEADLINE_EXCEEDED{after} {}",
            deadline_note(grpc.timeout, took)
        );
        v.span = took;
    } else if let (
        Some(
            end @ StreamEnd {
                by: Peer::Client, ..
            },
        ),
        None,
        Some(_),
    ) = (&w.ended, grpc.status, grpc.timeout)
    {
        // A call the client gave up on: its deadline, next to the time.
        let took = start.zip(end.at).map(|(a, b)| b.since(a));
        v.text = format!("{} {}", v.text, deadline_note(grpc.timeout, took));
    }
    v
}

fn judge_stream_time(ex: &Exchange, facts: &ExchangeFacts, w: &StreamWait) -> Verdict {
    let has_request = ex.method.is_some() || ex.request_start.is_some();
    if let (Some(end), None, true) = (&w.ended, ex.status, has_request) {
        let span = end.after_request.filter(|s| *s >= Span::ZERO);
        let when = span.map_or(String::new(), |s| format!(" {s} after the request"));
        let wait = match end.by {
            Peer::Client => Wait::Client,
            Peer::Server => Wait::Server,
        };
        return verdict(wait, format!("no response: {}{when}", end.what), span);
    }
    let mut v = judge(ex, facts);
    let chosen = v.span;
    let held = |stall: &Stall, part: Option<Span>| {
        part.filter(|p| chosen == Some(*p) && stall.total.as_nanos() * 2 >= p.as_nanos())
    };
    if let Some(stall) = &w.response_stall {
        if let Some(part) = held(stall, ex.transfer_time()) {
            // The flow-control window explains the transfer: any other
            // guess about it (a delayed-ACK stall) is dropped.
            v.wait = Wait::Client;
            v.text = format!(
                "response body took {part} to transfer ({} bytes)",
                ex.response_body_bytes
            );
        }
        v.text = format!("{}; {}", v.text, stall.describe("client"));
    }
    if let Some(stall) = &w.request_stall {
        if let Some(part) = held(stall, ex.request_time()) {
            v.wait = Wait::Server;
            v.text = format!(
                "client took {part} to send its request ({} body bytes)",
                ex.request_body_bytes
            );
        }
        v.text = format!("{}; {}", v.text, stall.describe("server"));
    }
    if let Some((span, bytes)) = w.behind {
        let transfer = ex.transfer_time();
        if v.wait == Wait::Transfer && transfer.is_some_and(|t| span.as_nanos() * 2 >= t.as_nanos())
        {
            v.text = format!(
                "{}; it waited {span} behind {bytes} bytes of other streams' DATA",
                v.text
            );
        }
    }
    if let Some(held) = &w.held {
        v = held_behind_loss(ex, v, held);
    }
    if let (Some(end), true) = (&w.ended, ex.status.is_some() && ex.interrupted) {
        v.text = format!("{}; cut short: {}", v.text, end.what);
    }
    v
}

/// A stream held behind a lost segment: the network takes the blame for
/// the part of the time the hold is at least half of (the capture saw
/// the frames only once the retransmission came, so the part looks like
/// the sender's); otherwise the hold is named after the verdict.
fn held_behind_loss(ex: &Exchange, mut v: Verdict, held: &LossHold) -> Verdict {
    let what = held.describe();
    let explains = |part: Option<Span>| {
        part.filter(|p| v.span == Some(*p) && held.longest.as_nanos() * 2 >= p.as_nanos())
    };
    // The capture saw the held frames late: the sender's part of the
    // time grew by the hold.
    let part = match held.sender {
        _ if v.wait == Wait::Network => None,
        Peer::Server => explains(ex.server_time())
            .map(|p| format!("the response started {p} after the request was complete"))
            .or_else(|| {
                explains(ex.transfer_time()).map(|p| {
                    format!(
                        "the response body took {p} to transfer ({} bytes)",
                        ex.response_body_bytes
                    )
                })
            }),
        Peer::Client => {
            explains(ex.request_time()).map(|p| format!("the request took {p} to send"))
        }
    };
    match part {
        Some(part) => {
            v.wait = Wait::Network;
            v.text = format!("{what}: {part}");
        }
        None => v.text = format!("{}; {what}", v.text),
    }
    v
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Part {
    Request,
    Server,
    Transfer,
}

fn request_part(ex: &Exchange, facts: &ExchangeFacts, span: Span) -> Verdict {
    let what = if ex.request_body_bytes > 0 {
        "its request body"
    } else {
        "its request"
    };
    if facts.client.losses() > 0 {
        let text = format!(
            "client took {span} to send {what} ({})",
            retransmissions(facts.client)
        );
        verdict(Wait::Network, text, Some(span))
    } else if facts.server.zero_windows > 0 {
        let text = format!(
            "client took {span} to send {what}: the server's receive window was full {}",
            times(facts.server.zero_windows)
        );
        verdict(Wait::Server, text, Some(span))
    } else {
        verdict(
            Wait::Client,
            format!("client took {span} to send {what}"),
            Some(span),
        )
    }
}

fn server_part(facts: &ExchangeFacts, span: Span) -> Verdict {
    let text = format!("server took {span} to send the first byte after the request was complete");
    if facts.client.losses() > 0 {
        let text = format!("{text} ({} of the request)", retransmissions(facts.client));
        verdict(Wait::Network, text, Some(span))
    } else {
        verdict(Wait::Server, text, Some(span))
    }
}

fn transfer_part(ex: &Exchange, facts: &ExchangeFacts, span: Span) -> Verdict {
    let text = format!(
        "response body took {span} to transfer ({} bytes",
        ex.response_body_bytes
    );
    if facts.server.losses() > 0 {
        let text = format!("{text}, {})", retransmissions(facts.server));
        verdict(Wait::Network, text, Some(span))
    } else if facts.client.zero_windows > 0 {
        let text = format!(
            "{text}): the client's receive window was full {}, it was slow to read",
            times(facts.client.zero_windows)
        );
        verdict(Wait::Client, text, Some(span))
    } else if is_delayed_ack_stall(ex.response_body_bytes, span) {
        // A small body held back ~40 ms (Linux's minimum delayed ACK) or
        // ~200 ms (most other stacks): the server wrote head and body
        // separately, Nagle's algorithm held the body until the client
        // acknowledged the head, and the client delayed that ACK.
        let text = format!(
            "{text}): a delayed-ACK stall: the server wrote headers and body separately and Nagle's \
             algorithm held the body until the client's delayed ACK (TCP_NODELAY or one write fixes it)"
        );
        verdict(Wait::Server, text, Some(span))
    } else {
        verdict(Wait::Transfer, format!("{text})"), Some(span))
    }
}

/// A body that fits one segment but took one delayed-ACK timeout to follow
/// its headers.
fn is_delayed_ack_stall(body_bytes: u64, span: Span) -> bool {
    let ms = span.as_nanos() / 1_000_000;
    body_bytes > 0 && body_bytes <= 1460 && ((38..=48).contains(&ms) || (195..=215).contains(&ms))
}

fn no_response(ex: &Exchange, facts: &ExchangeFacts) -> Verdict {
    let after = |ts: crate::time::Timestamp| {
        ex.request_end
            .map(|req| ts.since(req))
            .filter(|s| *s >= Span::ZERO)
    };
    if let Some(end) = ex.end {
        if ex.method.is_none() && end.cause == EndCause::CaptureEnded {
            // Its head never came whole: method and URI are not known
            // (tshark reports nothing of it).
            return verdict(
                Wait::Unknown,
                "request cut by the capture's end".into(),
                None,
            );
        }
        let span = after(end.ts);
        let when = span.map_or(String::new(), |s| format!(" {s} after the request"));
        let (wait, text) = match (end.cause, end.by) {
            (EndCause::CaptureEnded, _) => (
                Wait::Unknown,
                format!("no response seen before the capture ended{when}"),
            ),
            (cause, by) => (
                match by {
                    Some(Peer::Client) => Wait::Client,
                    Some(Peer::Server) => Wait::Server,
                    None => Wait::Unknown,
                },
                format!("no response: {}{when}", ended(cause, by)),
            ),
        };
        let wait = if facts.server.losses() > 0 && wait == Wait::Unknown {
            Wait::Network
        } else {
            wait
        };
        return verdict(wait, text, span);
    }
    if ex.has_gap {
        return verdict(
            Wait::Network,
            "no response: it was lost in a capture gap".into(),
            None,
        );
    }
    verdict(Wait::Unknown, "no response seen".into(), None)
}

fn no_request(ex: &Exchange) -> Verdict {
    let text = if ex.status.is_none() {
        "request and response lost in capture gaps"
    } else if ex.has_gap {
        "response without its request: the request was lost in a capture gap"
    } else {
        "response without its request: the capture started after the request was sent"
    };
    verdict(Wait::Unknown, text.into(), ex.transfer_time())
}

fn ended(cause: EndCause, by: Option<Peer>) -> String {
    let who = match by {
        Some(Peer::Client) => "the client",
        Some(Peer::Server) => "the server",
        None => "a peer",
    };
    match cause {
        EndCause::Reset => format!("connection reset by {who}"),
        EndCause::Closed => format!("{who} closed the connection"),
        EndCause::CaptureEnded => "the capture ended".into(),
    }
}

fn retransmissions(f: TcpFacts) -> String {
    let mut parts = Vec::new();
    if f.retransmissions > 0 {
        parts.push(plural(f.retransmissions, "retransmission"));
    }
    if f.gaps > 0 {
        parts.push(plural(f.gaps, "lost segment"));
    }
    parts.join(", ")
}

fn plural(n: u32, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn times(n: u32) -> String {
    if n == 1 {
        "once".into()
    } else {
        format!("{n} times")
    }
}

fn verdict(wait: Wait, text: String, span: Option<Span>) -> Verdict {
    Verdict { wait, text, span }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::flow::Dir;
    use crate::http::End;
    use crate::time::Timestamp;

    const MS: i64 = 1_000_000;

    fn ex(req: (i64, i64), resp: Option<(i64, i64)>) -> Exchange {
        let mut ex = Exchange::new(Dir::ToServer);
        ex.method = Some("GET".into());
        ex.request_start = Some(Timestamp::from_nanos(req.0 * MS));
        ex.request_end = Some(Timestamp::from_nanos(req.1 * MS));
        if let Some((a, b)) = resp {
            ex.status = Some(200);
            ex.response_start = Some(Timestamp::from_nanos(a * MS));
            ex.response_end = Some(Timestamp::from_nanos(b * MS));
        }
        ex
    }

    fn no_facts() -> ExchangeFacts {
        ExchangeFacts::default()
    }

    #[test]
    fn slow_server() {
        let v = judge(&ex((0, 1), Some((2004, 2010))), &no_facts());
        assert_eq!(v.wait, Wait::Server);
        assert_eq!(
            v.text,
            "server took 2.003 s to send the first byte after the request was complete"
        );
        assert_eq!(v.span, Some(Span::from_nanos(2003 * MS)));
    }

    #[test]
    fn small_body_after_a_delayed_ack_is_named() {
        let mut e = ex((0, 1), Some((1, 44)));
        e.response_body_bytes = 10;
        let v = judge(&e, &no_facts());
        assert_eq!(v.wait, Wait::Server);
        assert!(
            v.text.starts_with(
                "response body took 43.0 ms to transfer (10 bytes): a delayed-ACK stall"
            ),
            "{}",
            v.text
        );
        e.response_body_bytes = 50_000;
        assert_eq!(judge(&e, &no_facts()).wait, Wait::Transfer);
    }

    #[test]
    fn slow_transfer_with_and_without_loss() {
        let mut e = ex((0, 1), Some((10, 1210)));
        e.response_body_bytes = 5_000_000;
        let v = judge(&e, &no_facts());
        assert_eq!(v.wait, Wait::Transfer);
        assert_eq!(
            v.text,
            "response body took 1.200 s to transfer (5000000 bytes)"
        );
        let facts = ExchangeFacts {
            server: TcpFacts {
                retransmissions: 3,
                ..TcpFacts::default()
            },
            ..no_facts()
        };
        let v = judge(&e, &facts);
        assert_eq!(v.wait, Wait::Network);
        assert_eq!(
            v.text,
            "response body took 1.200 s to transfer (5000000 bytes, 3 retransmissions)"
        );
        let facts = ExchangeFacts {
            client: TcpFacts {
                zero_windows: 2,
                ..TcpFacts::default()
            },
            ..no_facts()
        };
        assert_eq!(judge(&e, &facts).wait, Wait::Client);
    }

    #[test]
    fn slow_upload() {
        let mut e = ex((0, 800), Some((810, 811)));
        e.request_body_bytes = 10_000;
        let v = judge(&e, &no_facts());
        assert_eq!(v.wait, Wait::Client);
        assert_eq!(v.text, "client took 800.0 ms to send its request body");
    }

    #[test]
    fn no_response_reasons() {
        let mut e = ex((0, 100), None);
        e.end = Some(End {
            cause: EndCause::Reset,
            by: Some(Peer::Server),
            ts: Timestamp::from_nanos(600 * MS),
            frame: Some(9),
        });
        let v = judge(&e, &no_facts());
        assert_eq!(v.wait, Wait::Server);
        assert_eq!(
            v.text,
            "no response: connection reset by the server 500.0 ms after the request"
        );
        e.end = Some(End {
            cause: EndCause::CaptureEnded,
            by: None,
            ts: Timestamp::from_nanos(3100 * MS),
            frame: None,
        });
        let v = judge(&e, &no_facts());
        assert_eq!(v.wait, Wait::Unknown);
        assert_eq!(
            v.text,
            "no response seen before the capture ended 3.000 s after the request"
        );
    }

    #[test]
    fn response_without_request() {
        let mut e = Exchange::new(Dir::ToServer);
        e.status = Some(200);
        let v = judge(&e, &no_facts());
        assert_eq!(v.wait, Wait::Unknown);
        assert!(v.text.starts_with("response without its request"));
        e.status = None;
        e.has_gap = true;
        let v = judge(&e, &no_facts());
        assert_eq!(v.text, "request and response lost in capture gaps");
    }

    #[test]
    fn a_stream_stalled_on_the_clients_window_waited_on_the_client() {
        let e = ex((0, 1), Some((2, 502)));
        let w = StreamWait {
            response_stall: Some(Stall {
                total: Span::from_nanos(340 * MS),
                count: 3,
                connection: false,
                open_at_end: false,
            }),
            ..StreamWait::default()
        };
        let v = judge_stream(&e, &no_facts(), &w);
        assert_eq!(v.wait, Wait::Client);
        assert_eq!(
            v.text,
            "response body took 500.0 ms to transfer (0 bytes); stalled 340.0 ms waiting for the client's WINDOW_UPDATE (3 stalls)"
        );
        // A stall that held a small share of the transfer is said, not blamed.
        let short = StreamWait {
            response_stall: Some(Stall {
                total: Span::from_nanos(10 * MS),
                count: 1,
                connection: true,
                open_at_end: false,
            }),
            ..StreamWait::default()
        };
        let v = judge_stream(&e, &no_facts(), &short);
        assert_eq!(v.wait, Wait::Transfer);
        assert!(v
            .text
            .ends_with("stalled 10.0 ms waiting for the client's connection WINDOW_UPDATE"));
    }

    #[test]
    fn an_upload_blocked_when_the_capture_ended_says_so() {
        let mut e = ex((0, 1), None);
        e.request_body_bytes = 65_535;
        let w = StreamWait {
            request_stall: Some(Stall {
                total: Span::from_nanos(2_000 * MS),
                count: 1,
                connection: false,
                open_at_end: true,
            }),
            ..StreamWait::default()
        };
        let v = judge_stream(&e, &no_facts(), &w);
        assert!(
            v.text
                .ends_with("; stalled 2.000 s waiting for the server's WINDOW_UPDATE, still blocked when the capture ended"),
            "{}",
            v.text
        );
    }

    #[test]
    fn a_reset_stream_names_its_frame() {
        let e = ex((0, 1), None);
        let w = StreamWait {
            ended: Some(StreamEnd {
                by: Peer::Client,
                what: "RST_STREAM CANCEL from the client".into(),
                after_request: Some(Span::from_nanos(1200 * MS)),
                at: Some(Timestamp::from_nanos(1201 * MS)),
            }),
            ..StreamWait::default()
        };
        let v = judge_stream(&e, &no_facts(), &w);
        assert_eq!(v.wait, Wait::Client);
        assert_eq!(
            v.text,
            "no response: RST_STREAM CANCEL from the client 1.200 s after the request"
        );
        // A gRPC call the client cancelled: its deadline next to the time.
        let w = StreamWait {
            grpc: Some(GrpcWait {
                status: None,
                timeout: Some(Span::from_nanos(1000 * MS)),
            }),
            ..w
        };
        assert_eq!(
            judge_stream(&e, &no_facts(), &w).text,
            "no response: RST_STREAM CANCEL from the client 1.200 s after the request (grpc-timeout 1.000 s: past the deadline)"
        );
    }

    #[test]
    fn a_grpc_deadline_names_the_timeout() {
        let e = ex((0, 1), Some((502, 502)));
        let mut w = StreamWait {
            grpc: Some(GrpcWait {
                status: Some(4),
                timeout: Some(Span::from_nanos(500 * MS)),
            }),
            ..StreamWait::default()
        };
        let v = judge_stream(&e, &no_facts(), &w);
        assert_eq!(v.wait, Wait::Server);
        assert_eq!(
            v.text,
            "gRPC DEADLINE_EXCEEDED after 502.0 ms (grpc-timeout 500.0 ms: past the deadline)"
        );
        w.grpc = Some(GrpcWait {
            status: Some(4),
            timeout: None,
        });
        assert_eq!(
            judge_stream(&e, &no_facts(), &w).text,
            "gRPC DEADLINE_EXCEEDED after 502.0 ms (no grpc-timeout sent)"
        );
        // Another status keeps the timing verdict.
        w.grpc = Some(GrpcWait {
            status: Some(14),
            timeout: None,
        });
        assert!(judge_stream(&e, &no_facts(), &w)
            .text
            .starts_with("server took"));
    }

    #[test]
    fn a_response_behind_other_streams_is_transfer() {
        let e = ex((0, 1), Some((2, 202)));
        let w = StreamWait {
            behind: Some((Span::from_nanos(150 * MS), 1_000_000)),
            ..StreamWait::default()
        };
        let v = judge_stream(&e, &no_facts(), &w);
        assert_eq!(v.wait, Wait::Transfer);
        assert!(v
            .text
            .ends_with("; it waited 150.0 ms behind 1000000 bytes of other streams' DATA"));
    }

    #[test]
    fn streams_held_behind_a_lost_segment_blame_the_network() {
        let ms = |n: i64| Span::from_nanos(n * MS);
        let held = |span: i64, streams: u32| StreamWait {
            held: Some(LossHold::new(Peer::Server, ms(span), streams)),
            ..StreamWait::default()
        };
        // The response seen 207 ms after the request, 205 of them held.
        let e = ex((0, 0), Some((207, 207)));
        let v = judge_stream(&e, &no_facts(), &held(205, 3));
        assert_eq!(v.wait, Wait::Network);
        assert_eq!(
            v.text,
            "3 streams held 205.0 ms behind one retransmitted segment of the server's: \
             the response started 207.0 ms after the request was complete"
        );
        // A short hold is named, not blamed.
        let v = judge_stream(&e, &no_facts(), &held(50, 1));
        assert_eq!(v.wait, Wait::Server);
        assert!(
            v.text
                .ends_with("; held 50.0 ms behind one retransmitted segment of the server's"),
            "{}",
            v.text
        );
        // Several holds: the longest, and all of them.
        let mut w = held(50, 2);
        if let Some(h) = &mut w.held {
            h.add(Peer::Server, ms(120), 4);
        }
        let v = judge_stream(&e, &no_facts(), &w);
        assert_eq!(
            v.text,
            "4 streams held 120.0 ms behind one retransmitted segment of the server's \
             (2 holds, 170.0 ms in all): the response started 207.0 ms after the request was \
             complete"
        );
    }
}
