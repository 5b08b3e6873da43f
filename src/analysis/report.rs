//! The JSON shapes of `analyze --json` and the API's list items (README,
//! "Quick start", "The web app" and "What the numbers mean"), built from
//! the analysis types. One place, so the CLI and the
//! web answer alike.

use serde::Serialize;

use super::CaptureSummary;
use crate::flow::{Conversation, Dir};
use crate::time::{Span, Timestamp};

/// One conversation as `analyze --json` and `/api/.../conversations` show it.
#[derive(Clone, Debug, Serialize)]
pub struct ConversationRow {
    pub id: u64,
    pub proto: &'static str,
    pub client: String,
    pub server: String,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub duration: Span,
    pub packets_c2s: u64,
    pub packets_s2c: u64,
    pub bytes_c2s: u64,
    pub bytes_s2c: u64,
    pub payload_c2s: u64,
    pub payload_s2c: u64,
    pub state: &'static str,
    pub http_exchanges: u64,
    pub handshake_rtt: Option<Span>,
    pub retransmissions: u64,
    pub gap_bytes_c2s: u64,
    pub gap_bytes_s2c: u64,
    pub zero_windows: u64,
    pub roles_from_handshake: bool,
    pub first_frame: u64,
    pub last_frame: u64,
}

impl From<&Conversation> for ConversationRow {
    fn from(c: &Conversation) -> Self {
        let (to_s, to_c) = (Dir::ToServer.index(), Dir::ToClient.index());
        ConversationRow {
            id: c.id,
            proto: c.proto.as_str(),
            client: c.client.to_string(),
            server: c.server.to_string(),
            start: c.start,
            end: c.end,
            duration: c.duration(),
            packets_c2s: c.dirs[to_s].packets,
            packets_s2c: c.dirs[to_c].packets,
            bytes_c2s: c.dirs[to_s].bytes,
            bytes_s2c: c.dirs[to_c].bytes,
            payload_c2s: c.payload(Dir::ToServer),
            payload_s2c: c.payload(Dir::ToClient),
            state: c.state.as_str(),
            http_exchanges: c.http_exchanges,
            handshake_rtt: c.handshake_rtt,
            retransmissions: c.retransmissions(),
            gap_bytes_c2s: c.streams[to_s].gap_bytes,
            gap_bytes_s2c: c.streams[to_c].gap_bytes,
            zero_windows: u64::from(c.dirs[0].zero_windows) + u64::from(c.dirs[1].zero_windows),
            roles_from_handshake: c.roles_from_handshake,
            first_frame: c.first_frame,
            last_frame: c.last_frame,
        }
    }
}

/// The `capture` object of `analyze --json`.
#[derive(Clone, Debug, Serialize)]
pub struct CaptureRow {
    pub format: crate::pcap::Format,
    pub compressed: bool,
    pub link_types: Vec<u32>,
    pub packets: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub duration: Span,
    pub warnings: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched: Option<u64>,
    pub protocols: std::collections::BTreeMap<String, u64>,
    pub conversations: u64,
}

impl From<&CaptureSummary> for CaptureRow {
    fn from(s: &CaptureSummary) -> Self {
        CaptureRow {
            format: s.format,
            compressed: s.compressed,
            link_types: s.link_types.clone(),
            packets: s.packets,
            first_ts: s.first_ts,
            last_ts: s.last_ts,
            duration: s.duration(),
            warnings: s.warnings.clone(),
            matched: s.matched,
            protocols: s.protocols.clone(),
            conversations: s.conversations,
        }
    }
}

/// One HTTP exchange as `analyze --json` and `/api/.../http` show it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ExchangeRow {
    pub conversation: u64,
    pub client: String,
    pub server: String,
    pub method: Option<String>,
    pub uri: Option<String>,
    pub version: Option<String>,
    pub host: Option<String>,
    pub user_agent: Option<String>,
    pub status: Option<u16>,
    pub reason: Option<String>,
    pub request_start: Option<Timestamp>,
    pub request_end: Option<Timestamp>,
    pub response_start: Option<Timestamp>,
    pub response_end: Option<Timestamp>,
    /// response_start - request_end: time to first byte.
    pub server_time: Option<Span>,
    /// response_end - request_start.
    pub total_time: Option<Span>,
    /// response_end - request_end (tshark's `http.time`).
    pub http_time: Option<Span>,
    pub request_body_bytes: u64,
    pub response_body_bytes: u64,
    pub content_type: Option<String>,
    /// Who the exchange waited on: server, client, network, transfer, unknown.
    pub wait: crate::http::Wait,
    /// Where the time went, in one sentence.
    pub verdict: String,
    /// Statuses of interim (1xx) responses before the final one.
    pub interim: Vec<u16>,
    pub interrupted: bool,
    pub has_gap: bool,
    pub request_first_frame: Option<u64>,
    pub request_last_frame: Option<u64>,
    pub response_first_frame: Option<u64>,
    pub response_last_frame: Option<u64>,
}

impl From<super::HttpExchange> for ExchangeRow {
    fn from(h: super::HttpExchange) -> Self {
        let (server_time, total_time, http_time) = (
            h.exchange.server_time(),
            h.exchange.total_time(),
            h.exchange.http_time(),
        );
        let e = h.exchange;
        ExchangeRow {
            conversation: h.conversation,
            client: h.client.to_string(),
            server: h.server.to_string(),
            method: e.method,
            uri: e.uri,
            version: e.version,
            host: e.host,
            user_agent: e.user_agent,
            status: e.status,
            reason: e.reason,
            request_start: e.request_start,
            request_end: e.request_end,
            response_start: e.response_start,
            response_end: e.response_end,
            server_time,
            total_time,
            http_time,
            request_body_bytes: e.request_body_bytes,
            response_body_bytes: e.response_body_bytes,
            content_type: e.content_type,
            wait: h.verdict.wait,
            verdict: h.verdict.text,
            interim: e.interim.iter().map(|i| i.status).collect(),
            interrupted: e.interrupted,
            has_gap: e.has_gap,
            request_first_frame: e.request_first_frame,
            request_last_frame: e.request_last_frame,
            response_first_frame: e.response_first_frame,
            response_last_frame: e.response_last_frame,
        }
    }
}
