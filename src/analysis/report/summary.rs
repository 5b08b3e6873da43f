//! What a finished analysis stores about a capture as a whole: the
//! `capture` object of `analyze --json` and the HTTP figures of the
//! overview (status classes, percentiles, latency histogram), as one typed
//! document ([`CaptureDoc`]) that the store keeps and the pages read.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::CaptureRow;
use crate::time::Span;

/// The stored summary of an analysed capture.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CaptureDoc {
    pub capture: CaptureRow,
    pub http: HttpStats,
    /// Conversations by how they ended (`reset`, `refused`, …; the
    /// `state` column), for the overview's cards.
    #[serde(default)]
    pub ends: BTreeMap<String, u64>,
}

/// Upper edges of the latency histogram's buckets, nanoseconds (1-2-5
/// steps from 100 µs to 60 s); a last bucket holds everything slower.
pub const HISTOGRAM_EDGES_NS: &[i64] = &[
    100_000,
    200_000,
    500_000,
    1_000_000,
    2_000_000,
    5_000_000,
    10_000_000,
    20_000_000,
    50_000_000,
    100_000_000,
    200_000_000,
    500_000_000,
    1_000_000_000,
    2_000_000_000,
    5_000_000_000,
    10_000_000_000,
    20_000_000_000,
    60_000_000_000,
];

/// One bar of the latency histogram: exchanges with `total_time` below
/// `below` (and at or above the previous bucket's); `below` is `None` for
/// the last, open bucket.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Bucket {
    pub below: Option<Span>,
    pub count: u64,
}

/// p50/p90/p99/max of a duration over the exchanges that have it.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Percentiles {
    pub p50: Option<Span>,
    pub p90: Option<Span>,
    pub p99: Option<Span>,
    pub max: Option<Span>,
}

/// HTTP figures of a capture's summary.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct HttpStats {
    pub exchanges: u64,
    /// `1xx` .. `5xx`, `other` and `no_response`.
    pub by_class: BTreeMap<String, u64>,
    pub total_time: Percentiles,
    pub server_time: Percentiles,
    /// `total_time` of the exchanges that have one, bucketed
    /// ([`HISTOGRAM_EDGES_NS`]).
    #[serde(default)]
    pub histogram: Vec<Bucket>,
    /// Exchanges by who they waited on (`server`, `network`, `client`,
    /// `transfer`, `unknown`; the `wait` column).
    #[serde(default)]
    pub by_wait: BTreeMap<String, u64>,
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::time::Timestamp;

    #[test]
    fn the_stored_document_reads_back_as_written() {
        let doc = CaptureDoc {
            capture: CaptureRow {
                format: crate::pcap::Format::Pcapng,
                compressed: true,
                link_types: vec![1, 276],
                packets: 61,
                first_ts: Some(Timestamp::from_nanos(1_795_761_279_046_995_000)),
                last_ts: Some(Timestamp::from_nanos(1_795_761_279_473_123_456)),
                duration: Span::from_nanos(426_128_456),
                warnings: vec!["cut short".into()],
                matched: None,
                protocols: [("tcp".to_string(), 61)].into_iter().collect(),
                conversations: 3,
            },
            http: HttpStats {
                exchanges: 2,
                by_class: [("2xx".to_string(), 2)].into_iter().collect(),
                total_time: Percentiles {
                    p50: Some(Span::from_nanos(960_000)),
                    ..Percentiles::default()
                },
                server_time: Percentiles::default(),
                histogram: vec![Bucket {
                    below: Some(Span::from_nanos(100_000)),
                    count: 2,
                }],
                by_wait: [("server".to_string(), 2)].into_iter().collect(),
            },
            ends: [("reset".to_string(), 1)].into_iter().collect(),
        };
        let text = serde_json::to_string(&doc).unwrap();
        let back: CaptureDoc = serde_json::from_str(&text).unwrap();
        // Times go through seconds as f64: equal to the JSON's precision,
        // and the document written again is the same text.
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        assert_eq!(back.capture.packets, 61);
        assert!(serde_json::from_str::<CaptureDoc>("{\"capture\":{}}").is_err());
    }
}
