//! What an analysis reports, in the shapes `analyze --json` prints and the
//! API lists (README, "What the numbers mean"): one definition per table
//! ([`table`]), the rows of each table ([`ConversationRow`],
//! [`ExchangeRow`]), the capture object, and the queries over the tables
//! ([`Query`]). One place, so the CLI, the store and the web answer alike.

use serde::Serialize;

use super::CaptureSummary;
use crate::time::{Span, Timestamp};

mod conversations;
mod dns;
pub mod endpoints;
mod exchanges;
mod query;
mod summary;
pub mod table;

pub use conversations::{ConvWhere, ConversationRow};
pub use dns::{status as dns_status, DnsRow};
pub use endpoints::EndpointRow;
pub use exchanges::ExchangeRow;
pub use query::{
    shown, Cond, EndpointKey, Filter, Order, Query, QueryError, SortKey, StatusFilter, StatusMatch,
    MAX_LIMIT, MAX_OFFSET,
};
pub use summary::{
    histogram_edges, Bucket, CaptureDoc, HttpStats, Percentiles, HISTOGRAM_EDGES_NS,
};
pub use table::{
    Cell, CellError, CellValue, Column, FilterOp, FilterSpec, Kind, Row, Unit, NO_HOST,
};

/// A page of the conversation table.
pub type ConvQuery = Query<ConversationRow>;
/// A filtered page of the HTTP exchange table.
pub type HttpQuery = Query<ExchangeRow>;
/// A filtered page of the DNS lookup table.
pub type DnsQuery = Query<DnsRow>;
/// A page of the endpoint table.
pub type EndpointQuery = Query<EndpointRow>;

impl Default for Query<ConversationRow> {
    /// Longest first, 50 rows.
    fn default() -> Self {
        Query::sorted(SortKey::of("duration"), 50)
    }
}

impl Default for Query<ExchangeRow> {
    /// In request order, 50 rows.
    fn default() -> Self {
        Query::sorted(SortKey::of("request_start"), 50)
    }
}

impl Default for Query<EndpointRow> {
    /// Most exchanges first, 50 rows.
    fn default() -> Self {
        Query::sorted(SortKey::of("count"), 50)
    }
}

impl Default for Query<DnsRow> {
    /// In query order, 50 rows.
    fn default() -> Self {
        Query::sorted(SortKey::of("query_time"), 50)
    }
}

/// The `capture` object of `analyze --json`.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct CaptureRow {
    pub format: crate::pcap::Format,
    pub compressed: bool,
    pub link_types: Vec<u32>,
    pub packets: u64,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub duration: Span,
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
