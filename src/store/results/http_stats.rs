//! The HTTP figures of a capture's summary ([`HttpStats`]): counts kept as
//! the exchanges are stored, then the percentiles and the histogram from
//! one sorted walk of each duration column. The results have no index yet
//! when the summary is made (they come after it is shown), so each walk
//! is one scan and one sort, where a query per figure would be a scan each.

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::super::Result;
use crate::analysis::report::{self, Bucket, ExchangeRow, HttpStats, Percentiles};
use crate::time::Span;

/// Status classes, in the summary's words.
const CLASSES: [&str; 7] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other", "no_response"];

/// What the summary counts of the exchanges stored so far.
pub(super) struct HttpTally {
    by_class: BTreeMap<String, u64>,
    by_wait: BTreeMap<String, u64>,
    exchanges: u64,
    /// Exchanges with a `total_time`, and its least and greatest.
    total_times: u64,
    total_range: Option<(i64, i64)>,
    /// Exchanges with a `server_time`.
    server_times: u64,
}

impl Default for HttpTally {
    fn default() -> HttpTally {
        HttpTally {
            by_class: CLASSES.iter().map(|c| (c.to_string(), 0)).collect(),
            by_wait: BTreeMap::new(),
            exchanges: 0,
            total_times: 0,
            total_range: None,
            server_times: 0,
        }
    }
}

impl HttpTally {
    pub(super) fn add(&mut self, row: &ExchangeRow) {
        self.exchanges += 1;
        let class = match row.status {
            None => "no_response",
            Some(s @ 100..=599) => CLASSES[usize::from(s / 100 - 1)],
            Some(_) => "other",
        };
        *self.by_class.entry(class.to_string()).or_default() += 1;
        *self
            .by_wait
            .entry(row.wait.as_str().to_string())
            .or_default() += 1;
        if let Some(t) = row.total_time {
            let t = t.as_nanos();
            self.total_times += 1;
            self.total_range = Some(match self.total_range {
                None => (t, t),
                Some((lo, hi)) => (lo.min(t), hi.max(t)),
            });
        }
        if row.server_time.is_some() {
            self.server_times += 1;
        }
    }

    /// The figures, reading the durations back from the `http` table.
    pub(super) fn finish(self, conn: &Connection) -> Result<HttpStats> {
        let mut histogram = match self.total_range {
            Some((min, max)) => Histogram::new(&report::histogram_edges(min, max)),
            None => Histogram::default(),
        };
        let total_time = percentiles(conn, "total_time", self.total_times, |v| histogram.add(v))?;
        let server_time = percentiles(conn, "server_time", self.server_times, |_| {})?;
        Ok(HttpStats {
            exchanges: self.exchanges,
            by_class: self.by_class,
            total_time,
            server_time,
            histogram: histogram.buckets,
            by_wait: self.by_wait,
        })
    }
}

/// The latency histogram with edges chosen from the data's range: a
/// first empty bucket below the least value (it gives the first bar its
/// lower edge), then one bucket per edge; filled in ascending order.
#[derive(Default)]
struct Histogram {
    buckets: Vec<Bucket>,
    /// The bucket the last value fell in.
    at: usize,
}

impl Histogram {
    fn new(edges: &[i64]) -> Histogram {
        let buckets = edges
            .iter()
            .map(|&e| Bucket {
                below: Some(Span::from_nanos(e)),
                count: 0,
            })
            .collect();
        Histogram { buckets, at: 1 }
    }

    /// Counts `v`, which is at least every value counted before.
    fn add(&mut self, v: i64) {
        let last = self.buckets.len().saturating_sub(1);
        while self.at < last
            && self.buckets[self.at]
                .below
                .is_some_and(|b| v >= b.as_nanos())
        {
            self.at += 1;
        }
        if let Some(b) = self.buckets.get_mut(self.at) {
            b.count += 1;
        }
    }
}

/// The nearest-rank p50/p90/p99/max of `column` over its `n` values (the
/// smallest value with at least p of them at or below it), walking them
/// in ascending order and handing each to `each`.
fn percentiles(
    conn: &Connection,
    column: &str,
    n: u64,
    mut each: impl FnMut(i64),
) -> Result<Percentiles> {
    if n == 0 {
        return Ok(Percentiles::default());
    }
    let rank = |p: f64| ((p * n as f64).ceil() as u64).clamp(1, n) - 1;
    let ranks = [rank(0.50), rank(0.90), rank(0.99), rank(1.0)];
    let mut found = [None; 4];
    // `column` is one of two constants above, never user input.
    let mut stmt = conn.prepare(&format!(
        "SELECT {column} FROM http WHERE {column} IS NOT NULL ORDER BY {column}"
    ))?;
    let mut rows = stmt.query([])?;
    let mut at = 0u64;
    while let Some(row) = rows.next()? {
        let v: i64 = row.get(0)?;
        each(v);
        for (slot, &r) in found.iter_mut().zip(&ranks) {
            if r == at {
                *slot = Some(Span::from_nanos(v));
            }
        }
        at += 1;
    }
    let [p50, p90, p99, max] = found;
    Ok(Percentiles { p50, p90, p99, max })
}
