//! The HTTP figures of a capture's summary ([`HttpStats`]): counts kept as
//! the exchanges are stored, and the two durations' values, whose sorted
//! walk gives the percentiles and the histogram. Up to
//! [`DURATIONS_IN_MEMORY`] values of each are kept in memory; past that
//! they are walked from the `http` table instead (a scan and a sort each:
//! the results have no index yet when the summary is made), so memory
//! stays bounded and the figures exact either way.

use std::collections::BTreeMap;

use rusqlite::Connection;

use super::super::Result;
use crate::analysis::report::{self, Bucket, ExchangeRow, HttpStats, Percentiles};
use crate::time::Span;

/// Status classes, in the summary's words.
const CLASSES: [&str; 7] = ["1xx", "2xx", "3xx", "4xx", "5xx", "other", "no_response"];

/// Values of one duration kept in memory, at most (32 MiB each; a
/// capture of 2 M exchanges spent 2.6 s reading them back from its table).
pub(super) const DURATIONS_IN_MEMORY: usize = 4 << 20;

/// One duration column's values, while they fit in memory.
struct Durations {
    column: &'static str,
    /// How many exchanges have one.
    count: u64,
    /// Every value, nanoseconds; `None` once there were too many.
    values: Option<Vec<i64>>,
    limit: usize,
}

impl Durations {
    fn new(column: &'static str, limit: usize) -> Durations {
        Durations {
            column,
            count: 0,
            values: Some(Vec::new()),
            limit,
        }
    }

    fn add(&mut self, v: Option<Span>) {
        let Some(v) = v else { return };
        self.count += 1;
        if let Some(values) = &mut self.values {
            if values.len() < self.limit {
                values.push(v.as_nanos());
            } else {
                self.values = None;
            }
        }
    }

    /// The percentiles, handing each value to `each` in ascending order.
    fn walk(self, conn: &Connection, each: impl FnMut(i64)) -> Result<Percentiles> {
        match self.values {
            Some(mut values) => {
                values.sort_unstable();
                percentiles(values.into_iter().map(Ok), self.count, each)
            }
            None => {
                // `column` is one of the two constants of `HttpTally`.
                let mut stmt = conn.prepare(&format!(
                    "SELECT {c} FROM http WHERE {c} IS NOT NULL ORDER BY {c}",
                    c = self.column
                ))?;
                let rows = stmt.query_map([], |r| r.get::<_, i64>(0))?;
                percentiles(rows.map(|r| r.map_err(Into::into)), self.count, each)
            }
        }
    }
}

/// What the summary counts of the exchanges stored so far.
pub(super) struct HttpTally {
    /// Exchanges per class of [`CLASSES`].
    by_class: [u64; CLASSES.len()],
    /// Named when the figures are made: no allocation per exchange.
    by_wait: BTreeMap<&'static str, u64>,
    exchanges: u64,
    total_time: Durations,
    /// The least and greatest `total_time`.
    total_range: Option<(i64, i64)>,
    server_time: Durations,
}

impl Default for HttpTally {
    fn default() -> HttpTally {
        HttpTally::with_limit(DURATIONS_IN_MEMORY)
    }
}

impl HttpTally {
    /// A tally keeping at most `limit` values of each duration in memory.
    pub(super) fn with_limit(limit: usize) -> HttpTally {
        HttpTally {
            by_class: [0; CLASSES.len()],
            by_wait: BTreeMap::new(),
            exchanges: 0,
            total_time: Durations::new("total_time", limit),
            total_range: None,
            server_time: Durations::new("server_time", limit),
        }
    }

    pub(super) fn add(&mut self, row: &ExchangeRow) {
        self.exchanges += 1;
        // Places in CLASSES: 1xx..5xx, then other, then no_response.
        let class = match row.status {
            Some(s @ 100..=599) => usize::from(s / 100 - 1),
            Some(_) => 5,
            None => 6,
        };
        self.by_class[class] += 1;
        *self.by_wait.entry(row.wait.as_str()).or_default() += 1;
        if let Some(t) = row.total_time {
            let t = t.as_nanos();
            self.total_range = Some(match self.total_range {
                None => (t, t),
                Some((lo, hi)) => (lo.min(t), hi.max(t)),
            });
        }
        self.total_time.add(row.total_time);
        self.server_time.add(row.server_time);
    }

    /// The figures (reading the durations back from the `http` table if
    /// there were too many to keep).
    pub(super) fn finish(self, conn: &Connection) -> Result<HttpStats> {
        let mut histogram = match self.total_range {
            Some((min, max)) => Histogram::new(&report::histogram_edges(min, max)),
            None => Histogram::default(),
        };
        let total_time = self.total_time.walk(conn, |v| histogram.add(v))?;
        let server_time = self.server_time.walk(conn, |_| {})?;
        Ok(HttpStats {
            exchanges: self.exchanges,
            by_class: CLASSES
                .iter()
                .zip(self.by_class)
                .map(|(c, n)| (c.to_string(), n))
                .collect(),
            total_time,
            server_time,
            histogram: histogram.buckets,
            by_wait: self
                .by_wait
                .into_iter()
                .map(|(w, n)| (w.to_string(), n))
                .collect(),
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

/// The nearest-rank p50/p90/p99/max of `n` values given in ascending
/// order (the smallest value with at least p of them at or below it),
/// handing each to `each`.
fn percentiles(
    sorted: impl Iterator<Item = Result<i64>>,
    n: u64,
    mut each: impl FnMut(i64),
) -> Result<Percentiles> {
    if n == 0 {
        return Ok(Percentiles::default());
    }
    let rank = |p: f64| ((p * n as f64).ceil() as u64).clamp(1, n) - 1;
    let ranks = [rank(0.50), rank(0.90), rank(0.99), rank(1.0)];
    let mut found = [None; 4];
    for (at, v) in (0u64..).zip(sorted) {
        let v = v?;
        each(v);
        for (slot, &r) in found.iter_mut().zip(&ranks) {
            if r == at {
                *slot = Some(Span::from_nanos(v));
            }
        }
    }
    let [p50, p90, p99, max] = found;
    Ok(Percentiles { p50, p90, p99, max })
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::store::{schema, tables};

    /// A results database holding `rows`, and their tallies with every
    /// duration kept in memory and with none.
    fn stored(rows: &[ExchangeRow]) -> (Connection, HttpTally, HttpTally) {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&schema::results_tables()).unwrap();
        let sql = tables::insert_sql::<ExchangeRow>();
        let (mut kept, mut read_back) = (HttpTally::default(), HttpTally::with_limit(3));
        for (id, row) in rows.iter().enumerate() {
            tables::insert(&conn, &sql, row, Some(id as u64)).unwrap();
            kept.add(row);
            read_back.add(row);
        }
        (conn, kept, read_back)
    }

    #[test]
    fn figures_are_the_same_from_memory_and_from_the_table() {
        // Values spread over the range in no order: steps by large primes.
        let spread = |i: usize, prime: u64, m: u64| (i as u64 * prime) % m;
        let ms = |n: u64| Some(Span::from_nanos(n as i64 * 1_000_000));
        let rows: Vec<ExchangeRow> = (0..501)
            .map(|i| ExchangeRow {
                status: [None, Some(200), Some(404), Some(503), Some(99)][i % 5],
                total_time: (i % 7 != 0)
                    .then(|| ms(1 + spread(i, 7919, 3000)))
                    .flatten(),
                server_time: (i % 3 != 0).then(|| ms(spread(i, 104_729, 900))).flatten(),
                ..ExchangeRow::default()
            })
            .collect();
        let (conn, kept, read_back) = stored(&rows);
        assert!(read_back.total_time.values.is_none(), "past its limit");
        let stats = kept.finish(&conn).unwrap();
        assert_eq!(read_back.finish(&conn).unwrap(), stats);
        // Nearest rank, counted by hand.
        let mut totals: Vec<i64> = rows
            .iter()
            .filter_map(|r| r.total_time.map(Span::as_nanos))
            .collect();
        totals.sort_unstable();
        let n = totals.len();
        let at = |p: f64| Some(Span::from_nanos(totals[(p * n as f64).ceil() as usize - 1]));
        assert_eq!(stats.total_time.p50, at(0.5));
        assert_eq!(stats.total_time.p99, at(0.99));
        assert_eq!(stats.total_time.max, at(1.0));
        assert_eq!(stats.exchanges, 501);
        assert_eq!(stats.by_class["no_response"], 101);
        assert_eq!(stats.by_class["other"], 100);
        assert_eq!(stats.by_class["5xx"], 100);
        let counted: u64 = stats.histogram.iter().map(|b| b.count).sum();
        assert_eq!(counted, n as u64);
        assert_eq!(
            stats.histogram[0].count, 0,
            "the first bar only gives an edge"
        );
        for pair in stats.histogram.windows(2) {
            let (lo, hi) = (pair[0].below.unwrap(), pair[1].below.unwrap());
            let inside = totals
                .iter()
                .filter(|&&t| t >= lo.as_nanos() && t < hi.as_nanos());
            assert_eq!(inside.count() as u64, pair[1].count, "{lo:?}..{hi:?}");
        }
    }

    #[test]
    fn no_durations_no_figures() {
        let (conn, kept, _) = stored(&[ExchangeRow::default()]);
        let stats = kept.finish(&conn).unwrap();
        assert_eq!(stats.exchanges, 1);
        assert_eq!(stats.total_time, Percentiles::default());
        assert!(stats.histogram.is_empty());
    }
}
