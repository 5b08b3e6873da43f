//! The JSON shapes of INTERFACES.md (`analyze --json` and the API's list
//! items), built from the analysis types. One place, so the CLI and the
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
