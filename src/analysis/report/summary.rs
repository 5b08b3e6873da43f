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
/// Summaries stored before [`histogram_edges`] chose edges from the data
/// have these.
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

/// Bucket edges for a histogram of durations from `min` to `max`
/// nanoseconds: ascending, the first at or below `min`, the last above
/// `max`, so bucket `i` holds `[edges[i], edges[i + 1])`. Spread data gets
/// log-spaced 1-2-5 edges (`1 ms, 2 ms, 5 ms, …`); data within a small
/// ratio gets evenly spaced round edges instead, so that at least five
/// bars show when the values differ, and values that are all equal fall
/// in one narrow bar rather than in a wide fixed one.
pub fn histogram_edges(min: i64, max: i64) -> Vec<i64> {
    let (min, max) = (min.max(0), max.max(min.max(0)));
    let mut log = vec![if min == 0 {
        0
    } else {
        round_125_at_or_below(min)
    }];
    while let Some(&last) = log.last() {
        if last > max || log.len() > 64 {
            break;
        }
        log.push(if last == 0 { 1 } else { next_125(last) });
    }
    if log.len() > 6 {
        return log;
    }
    // Evenly spaced: the widest round step that still gives six or more
    // buckets; equal values get a step of about a hundredth of them.
    let range = max - min;
    let mut step = round_125_at_or_below((max / 100).max(1000));
    if range > 0 {
        step = round_125_at_or_below(range);
        while step > 1 && buckets_of(min, max, step) < 6 {
            step = previous_125(step);
        }
    }
    let lo = min / step * step;
    let n = buckets_of(min, max, step);
    (0..=n).map(|i| lo + i * step).collect()
}

/// Buckets of width `step`, on multiples of it, that cover `min..=max`.
fn buckets_of(min: i64, max: i64, step: i64) -> i64 {
    max / step - min / step + 1
}

/// The largest of 1, 2, 5, 10, 20, … at or below `v` (1 for `v` < 1).
fn round_125_at_or_below(v: i64) -> i64 {
    let mut r = 1i64;
    while next_125(r) <= v {
        r = next_125(r);
    }
    r
}

/// The largest power of ten at or below `v` (1 for `v` < 10).
fn decade(v: i64) -> i64 {
    let mut p = 1i64;
    while p.saturating_mul(10) <= v {
        p *= 10;
    }
    p
}

/// The 1-2-5 value after `v` (which is one).
fn next_125(v: i64) -> i64 {
    let p = decade(v);
    match v / p {
        1 => 2 * p,
        2 => 5 * p,
        _ => p.saturating_mul(10),
    }
}

/// The 1-2-5 value before `v` (which is one, above 1).
fn previous_125(v: i64) -> i64 {
    let p = decade(v);
    match v / p {
        5 => 2 * p,
        2 => p,
        _ => (p / 2).max(1),
    }
}

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
    /// `total_time` of the exchanges that have one, bucketed by edges
    /// chosen from its range ([`histogram_edges`]; older summaries:
    /// [`HISTOGRAM_EDGES_NS`]).
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
    fn histogram_edges_follow_the_data() {
        const MS: i64 = 1_000_000;
        // Every exchange took 2.002 s: one narrow bar, not "< 5 s".
        let e = histogram_edges(2_002 * MS, 2_002 * MS);
        assert_eq!(e, vec![2_000 * MS, 2_020 * MS]);
        // Spread over decades: 1-2-5 edges from below the least to past the most.
        let e = histogram_edges(3 * MS / 2, 3_000 * MS);
        assert_eq!(e.first(), Some(&MS));
        assert_eq!(e.last(), Some(&(5_000 * MS)));
        assert!(e.contains(&(200 * MS)) && e.contains(&(500 * MS)));
        // Close values: evenly spaced round edges, at least five bars.
        let e = histogram_edges(100 * MS, 300 * MS);
        assert!(e.len() > 5, "{e:?}");
        assert!(e.windows(2).all(|w| w[1] - w[0] == e[1] - e[0]), "{e:?}");
        // Any range: ascending, covering both ends, five to about twenty bars.
        for (lo, hi) in [
            (0, 0),
            (0, 10),
            (1, 7),
            (999, 1_050),
            (2_001 * MS, 2_010 * MS),
            (90 * MS, 110 * MS),
            (5 * MS, 60_000 * MS),
            (1_000, 3_600_000 * MS),
        ] {
            let e = histogram_edges(lo, hi);
            assert!(e.windows(2).all(|w| w[0] < w[1]), "{lo}..{hi}: {e:?}");
            assert!(e[0] <= lo && *e.last().unwrap() > hi, "{lo}..{hi}: {e:?}");
            let bars = e.len() - 1;
            assert!(lo == hi || bars >= 5, "{lo}..{hi}: {bars} bars");
            assert!(bars <= 40, "{lo}..{hi}: {bars} bars");
        }
    }

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
