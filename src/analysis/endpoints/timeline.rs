//! Endpoints over time (README, "Endpoints"): a status × latency heatmap
//! (capture time across, log-scale total-time buckets up, the overview
//! histogram's edges; errors counted apart) and, for the busiest endpoints,
//! the p50 and p99 of total time in each time column. Made once from one
//! [`Sample`] per exchange.

use serde::{Deserialize, Serialize};

use super::latency::nearest_rank;
use crate::analysis::report::HISTOGRAM_EDGES_NS;
use crate::time::{Span, Timestamp};

/// Time columns of the heatmap and the lines.
pub const COLUMNS: usize = 48;
/// Endpoints (the busiest) that get a p50/p99 line.
pub const SERIES: usize = 12;

/// What the timeline needs of one exchange: 24 bytes, one per timed
/// exchange of the capture.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    pub at: Timestamp,
    /// Total time, nanoseconds; [`Sample::NO_RESPONSE`] without one.
    total_ns: i64,
    /// Index of its endpoint in the set's rows.
    pub endpoint: u32,
    /// A 4xx, a 5xx, no response or a reset.
    pub error: bool,
}

impl Sample {
    /// `total_ns` of an exchange without a response.
    const NO_RESPONSE: i64 = i64::MIN;

    pub fn new(endpoint: u32, at: Timestamp, total: Option<Span>, error: bool) -> Sample {
        Sample {
            at,
            total_ns: total.map_or(Sample::NO_RESPONSE, Span::as_nanos),
            endpoint,
            error,
        }
    }

    /// None: no response.
    pub fn total(&self) -> Option<Span> {
        (self.total_ns != Sample::NO_RESPONSE).then(|| Span::from_nanos(self.total_ns))
    }
}

/// Counts per (time column, latency row).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Heatmap {
    /// Capture time of the first column's left edge, nanoseconds.
    pub start_ns: i64,
    /// Width of a column, nanoseconds (at least 1).
    pub step_ns: i64,
    pub columns: usize,
    /// Upper edges of the latency rows (the last row is open above the
    /// last edge); a row past those holds exchanges without a response.
    pub edges_ns: Vec<i64>,
    /// `ok[column][row]`: exchanges without an error.
    pub ok: Vec<Vec<u32>>,
    /// `errors[column][row]`: 4xx, 5xx, no response, reset.
    pub errors: Vec<Vec<u32>>,
}

impl Heatmap {
    /// Latency rows, the no-response row included.
    pub fn rows(&self) -> usize {
        self.edges_ns.len() + 2
    }

    /// The row of a total time (`None`: the no-response row).
    pub fn row_of(&self, total: Option<Span>) -> usize {
        match total {
            None => self.edges_ns.len() + 1,
            Some(t) => self
                .edges_ns
                .iter()
                .position(|&e| t.as_nanos() < e)
                .unwrap_or(self.edges_ns.len()),
        }
    }
}

/// One endpoint's line: per time column, its exchanges and the p50/p99
/// of their total times (None where it had none).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// Index of the endpoint in the set's rows.
    pub endpoint: usize,
    /// The endpoint's method, host and template (filled in by
    /// [`Tally::finish`](super::Tally::finish)).
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub host: Option<String>,
    #[serde(default)]
    pub template: String,
    pub count: Vec<u32>,
    pub p50_ns: Vec<Option<i64>>,
    pub p99_ns: Vec<Option<i64>>,
}

/// The heatmap and the lines of a capture.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Timeline {
    pub heatmap: Heatmap,
    pub series: Vec<Series>,
}

/// The timeline of `samples` (any order); `endpoints` is the number of
/// rows of the set, most exchanges first, so the first [`SERIES`] get
/// lines.
pub fn timeline(samples: &[Sample], endpoints: usize) -> Timeline {
    let first = samples.iter().map(|s| s.at.as_nanos()).min();
    let last = samples.iter().map(|s| s.at.as_nanos()).max();
    let (Some(first), Some(last)) = (first, last) else {
        return Timeline::default();
    };
    let span = last.saturating_sub(first);
    // The last sample falls inside the last column.
    let step = (span / COLUMNS as i64 + 1).max(1);
    let edges = HISTOGRAM_EDGES_NS.to_vec();
    let rows = edges.len() + 2;
    let mut heatmap = Heatmap {
        start_ns: first,
        step_ns: step,
        columns: COLUMNS,
        edges_ns: edges,
        ok: vec![vec![0; rows]; COLUMNS],
        errors: vec![vec![0; rows]; COLUMNS],
    };
    let lines = endpoints.min(SERIES);
    let mut values: Vec<Vec<Vec<i64>>> = vec![vec![Vec::new(); COLUMNS]; lines];
    for s in samples {
        let col = ((s.at.as_nanos() - first) / step).clamp(0, COLUMNS as i64 - 1) as usize;
        let total = s.total();
        let row = heatmap.row_of(total);
        let cells = if s.error {
            &mut heatmap.errors
        } else {
            &mut heatmap.ok
        };
        cells[col][row] += 1;
        if let (Some(line), Some(t)) = (values.get_mut(s.endpoint as usize), total) {
            line[col].push(t.as_nanos());
        }
    }
    let series = values
        .into_iter()
        .enumerate()
        .map(|(endpoint, cols)| line_of(endpoint, cols))
        .collect();
    Timeline { heatmap, series }
}

/// The line of any one endpoint (`endpoint`: its index in the set's rows)
/// in the time columns of `h`, from the start and total time of each of
/// its exchanges that had a response (any order): what [`timeline`] makes
/// for the busiest endpoints, for an endpoint the user picks.
pub fn series_in(
    h: &Heatmap,
    endpoint: usize,
    exchanges: impl IntoIterator<Item = (Timestamp, Span)>,
) -> Series {
    let mut cols: Vec<Vec<i64>> = vec![Vec::new(); h.columns];
    if let Some(last) = h.columns.checked_sub(1) {
        for (at, total) in exchanges {
            let col = at.as_nanos().saturating_sub(h.start_ns) / h.step_ns.max(1);
            let col = usize::try_from(col.max(0)).unwrap_or(last).min(last);
            cols[col].push(total.as_nanos());
        }
    }
    line_of(endpoint, cols)
}

/// Counts, p50 and p99 per column of one endpoint's total times.
fn line_of(endpoint: usize, mut cols: Vec<Vec<i64>>) -> Series {
    let mut line = Series {
        endpoint,
        ..Series::default()
    };
    for v in &mut cols {
        v.sort_unstable();
        line.count.push(u32::try_from(v.len()).unwrap_or(u32::MAX));
        line.p50_ns.push(nearest_rank(v, 0.50));
        line.p99_ns.push(nearest_rank(v, 0.99));
    }
    line
}

#[cfg(test)]
mod test {
    use super::*;

    fn at(s: i64, ms: i64, endpoint: u32, error: bool) -> Sample {
        Sample::new(
            endpoint,
            Timestamp::from_nanos(s * 1_000_000_000),
            (ms >= 0).then_some(Span::from_nanos(ms * 1_000_000)),
            error,
        )
    }

    #[test]
    fn a_picked_endpoints_line_is_the_one_the_timeline_draws() {
        let samples: Vec<Sample> = (0..200)
            .map(|i| at(i / 4, (i * 37) % 900, (i % 3) as u32, false))
            .collect();
        let t = timeline(&samples, 3);
        for e in 0..3u32 {
            let mine = samples
                .iter()
                .filter(|s| s.endpoint == e)
                .filter_map(|s| Some((s.at, s.total()?)));
            assert_eq!(
                series_in(&t.heatmap, e as usize, mine),
                t.series[e as usize]
            );
        }
    }

    #[test]
    fn samples_land_in_their_time_column_and_latency_row() {
        // 0..=47 s: one column a second; a slow period from 30 s.
        let mut samples = Vec::new();
        for s in 0..48 {
            let ms = if s >= 30 { 2500 } else { 30 };
            samples.push(at(s, ms, 0, false));
            samples.push(at(s, ms * 2, 0, false));
        }
        samples.push(at(40, -1, 1, true));
        let t = timeline(&samples, 2);
        let h = &t.heatmap;
        assert_eq!(h.columns, COLUMNS);
        assert_eq!(h.step_ns, 979_166_667, "47 s over 48 columns, rounded up");
        // 30 ms is under the 50 ms edge, 60 ms under 100 ms.
        let row_50 = h.edges_ns.iter().position(|&e| e == 50_000_000).unwrap();
        assert_eq!(h.ok[0][row_50], 1);
        assert_eq!(h.ok[0][row_50 + 1], 1);
        assert_eq!(
            h.errors[40..].iter().map(|c| c[h.rows() - 1]).sum::<u32>(),
            1
        );
        let total: u32 = h.ok.iter().chain(&h.errors).flatten().sum();
        assert_eq!(total, 97);
        let line = &t.series[0];
        assert_eq!(line.p50_ns[0], Some(30_000_000));
        assert_eq!(line.p99_ns[0], Some(60_000_000));
        assert_eq!(line.p50_ns[COLUMNS - 1], Some(2_500_000_000));
        assert_eq!(t.series.len(), 2);
        assert_eq!(
            t.series[1].count.iter().sum::<u32>(),
            0,
            "no time, no point"
        );
    }

    #[test]
    fn a_sample_is_24_bytes() {
        assert_eq!(std::mem::size_of::<Sample>(), 24);
        let s = Sample::new(3, Timestamp::from_nanos(5), None, true);
        assert_eq!(s.total(), None);
        let s = Sample::new(
            3,
            Timestamp::from_nanos(5),
            Some(Span::from_nanos(0)),
            false,
        );
        assert_eq!(s.total(), Some(Span::from_nanos(0)));
    }

    #[test]
    fn nothing_makes_an_empty_timeline() {
        assert_eq!(timeline(&[], 0), Timeline::default());
    }
}
