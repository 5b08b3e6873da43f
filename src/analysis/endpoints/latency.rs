//! Percentiles of one endpoint's durations: exact (every value kept, the
//! nearest-rank percentile the overview uses) up to [`EXACT_LIMIT`] values,
//! a DDSketch with 1% relative accuracy beyond (README, "Endpoints").
//! Exact values are kept as whole microseconds in a `u32` (a pcap's
//! resolution, 4 bytes a value) and widened to nanoseconds only for the
//! answer; the first value that is not (a pcapng's nanoseconds, or over
//! 71 minutes) turns the set into `i64` nanoseconds, so it stays exact.

use sketches_ddsketch::{Config, DDSketch};

use crate::analysis::report::Percentiles;
use crate::time::Span;

/// Values kept one by one; the next one turns the set into a sketch.
pub const EXACT_LIMIT: usize = 1_000_000;

/// The sketch's relative accuracy.
pub const SKETCH_ALPHA: f64 = 0.01;

/// The durations of one endpoint.
#[derive(Clone)]
pub enum Latencies {
    /// Every value, whole microseconds.
    Micros(Vec<u32>),
    /// Every value, nanoseconds.
    Nanos(Vec<i64>),
    Sketch(Box<DDSketch>),
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::Micros(Vec::new())
    }
}

impl std::fmt::Debug for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Latencies::Micros(v) => write!(f, "Micros({} values)", v.len()),
            Latencies::Nanos(v) => write!(f, "Nanos({} values)", v.len()),
            Latencies::Sketch(s) => write!(f, "Sketch({} values)", s.count()),
        }
    }
}

/// A value as whole microseconds, when it is one that fits.
fn as_micros(nanos: i64) -> Option<u32> {
    if nanos % 1000 != 0 {
        return None;
    }
    u32::try_from(nanos / 1000).ok()
}

fn widen(micros: &[u32]) -> Vec<i64> {
    micros.iter().map(|&m| i64::from(m) * 1000).collect()
}

fn new_sketch() -> DDSketch {
    // 2048 bins at 1% cover 1 ns to far past a day: no bin ever collapses.
    DDSketch::new(Config::new(SKETCH_ALPHA, 2048, 1e-9))
}

impl Latencies {
    pub fn push(&mut self, span: Span) {
        let nanos = span.as_nanos();
        if self.len() >= EXACT_LIMIT {
            self.make_sketch();
        }
        match self {
            Latencies::Micros(values) => match as_micros(nanos) {
                Some(m) => values.push(m),
                None => {
                    let mut wide = widen(values);
                    wide.push(nanos);
                    *self = Latencies::Nanos(wide);
                }
            },
            Latencies::Nanos(values) => values.push(nanos),
            Latencies::Sketch(s) => s.add(nanos as f64),
        }
    }

    /// Adds another endpoint's values (two templates folded into one).
    pub fn merge(&mut self, other: Latencies) {
        if self.is_exact() && other.is_exact() && self.len() + other.len() <= EXACT_LIMIT {
            match (&mut *self, other) {
                (Latencies::Micros(a), Latencies::Micros(b)) => a.extend(b),
                (Latencies::Nanos(a), Latencies::Micros(b)) => a.extend(widen(&b)),
                (Latencies::Nanos(a), Latencies::Nanos(b)) => a.extend(b),
                (Latencies::Micros(a), Latencies::Nanos(b)) => {
                    let mut wide = widen(a);
                    wide.extend(b);
                    *self = Latencies::Nanos(wide);
                }
                _ => {}
            }
            return;
        }
        let mut other = other;
        self.make_sketch();
        other.make_sketch();
        if let (Latencies::Sketch(a), Latencies::Sketch(b)) = (&mut *self, &other) {
            merge_sketch(a, b);
        }
    }

    /// Turns exact values into a sketch of them.
    fn make_sketch(&mut self) {
        let mut sketch = new_sketch();
        match self {
            Latencies::Micros(values) => {
                values
                    .iter()
                    .for_each(|&v| sketch.add(f64::from(v) * 1000.0));
            }
            Latencies::Nanos(values) => values.iter().for_each(|&v| sketch.add(v as f64)),
            Latencies::Sketch(_) => return,
        }
        *self = Latencies::Sketch(Box::new(sketch));
    }

    pub fn len(&self) -> usize {
        match self {
            Latencies::Micros(v) => v.len(),
            Latencies::Nanos(v) => v.len(),
            Latencies::Sketch(s) => s.count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_exact(&self) -> bool {
        !matches!(self, Latencies::Sketch(_))
    }

    /// p50, p90, p99 and max. Exact: the nearest rank (the smallest value
    /// with at least p of the values at or below it), as the overview's.
    /// Sketch: within 1% of a value at the rank; the max is exact.
    pub fn percentiles(&mut self) -> Percentiles {
        match self {
            Latencies::Micros(values) => {
                values.sort_unstable();
                let at = |p: f64| rank(values, p).map(|m| Span::from_nanos(i64::from(m) * 1000));
                Percentiles {
                    p50: at(0.50),
                    p90: at(0.90),
                    p99: at(0.99),
                    max: at(1.0),
                }
            }
            Latencies::Nanos(values) => {
                values.sort_unstable();
                let at = |p: f64| nearest_rank(values, p).map(Span::from_nanos);
                Percentiles {
                    p50: at(0.50),
                    p90: at(0.90),
                    p99: at(0.99),
                    max: values.last().copied().map(Span::from_nanos),
                }
            }
            Latencies::Sketch(s) => {
                let at = |q: f64| {
                    s.quantile(q)
                        .ok()
                        .flatten()
                        .map(|v| Span::from_nanos(v.round() as i64))
                };
                Percentiles {
                    p50: at(0.50),
                    p90: at(0.90),
                    p99: at(0.99),
                    max: s.max().map(|v| Span::from_nanos(v as i64)),
                }
            }
        }
    }
}

fn merge_sketch(into: &mut DDSketch, from: &DDSketch) {
    // Both sketches come from `new_sketch`: the same configuration, which
    // is the only thing `merge` checks.
    if into.merge(from).is_err() {
        tracing::debug!("endpoint sketches with different configurations were not merged");
    }
}

/// The nearest-rank percentile of sorted values.
pub fn nearest_rank(sorted: &[i64], p: f64) -> Option<i64> {
    rank(sorted, p)
}

fn rank<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
    sorted.get(rank).copied()
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn nearest_rank_on_small_sets() {
        let v = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
        assert_eq!(nearest_rank(&v, 0.5), Some(50));
        assert_eq!(nearest_rank(&v, 0.9), Some(90));
        assert_eq!(nearest_rank(&v, 0.99), Some(100));
        assert_eq!(nearest_rank(&[7], 0.5), Some(7));
        assert_eq!(nearest_rank(&[], 0.5), None);
    }

    #[test]
    fn exact_percentiles_of_one_to_a_thousand() {
        let mut l = Latencies::default();
        for v in (1..=1000).rev() {
            l.push(Span::from_nanos(v));
        }
        let p = l.percentiles();
        assert_eq!(p.p50, Some(Span::from_nanos(500)));
        assert_eq!(p.p90, Some(Span::from_nanos(900)));
        assert_eq!(p.p99, Some(Span::from_nanos(990)));
        assert_eq!(p.max, Some(Span::from_nanos(1000)));
        assert!(l.is_exact());
    }

    #[test]
    fn microseconds_stay_narrow_and_nanoseconds_widen_the_set() {
        let mut l = Latencies::default();
        l.push(Span::from_nanos(2_000));
        l.push(Span::from_nanos(5_000));
        assert!(matches!(l, Latencies::Micros(_)));
        l.push(Span::from_nanos(3_001));
        assert!(matches!(l, Latencies::Nanos(_)));
        let p = l.percentiles();
        assert_eq!(p.p50, Some(Span::from_nanos(3_001)));
        assert_eq!(p.max, Some(Span::from_nanos(5_000)));
        // Past u32 microseconds (71 min), and negative: nanoseconds too.
        let mut l = Latencies::default();
        l.push(Span::from_nanos(5_000_000_000_000));
        assert!(matches!(l, Latencies::Nanos(_)));
        let mut a = Latencies::default();
        a.push(Span::from_nanos(1_000));
        let mut b = Latencies::default();
        b.push(Span::from_nanos(-7));
        a.merge(b);
        assert_eq!(a.percentiles().p50, Some(Span::from_nanos(-7)));
        assert_eq!(a.len(), 2);
    }

    #[test]
    fn merging_exact_sets_stays_exact_below_the_limit() {
        let mut a = Latencies::default();
        let mut b = Latencies::default();
        a.push(Span::from_nanos(1));
        b.push(Span::from_nanos(3));
        b.push(Span::from_nanos(2));
        a.merge(b);
        assert!(a.is_exact());
        assert_eq!(a.len(), 3);
        assert_eq!(a.percentiles().p50, Some(Span::from_nanos(2)));
    }

    /// 2 M values, log-uniform from 1 µs to 10 s: past the limit, a
    /// sketch, and each percentile within 1% of the true one (the sketch
    /// ranks as `q·(n-1)`, the exact one as `⌈q·n⌉`: one rank apart at most,
    /// which for 2 M values spread over seven decades moves the value by far
    /// less than the allowance).
    #[test]
    fn the_sketch_keeps_its_error_bound_on_two_million_values() {
        let n = 2_000_000u64;
        // A fixed permutation of the values (multiplicative hashing), so
        // the order is not sorted.
        let value = |i: u64| {
            let j = (i.wrapping_mul(2_654_435_761) % n) as f64 / n as f64;
            (1e3 * 10f64.powf(7.0 * j)) as i64
        };
        let mut l = Latencies::default();
        let mut all = Vec::with_capacity(n as usize);
        for i in 0..n {
            let v = value(i);
            l.push(Span::from_nanos(v));
            all.push(v);
        }
        assert!(!l.is_exact());
        assert_eq!(l.len(), n as usize);
        all.sort_unstable();
        let got = l.percentiles();
        for (p, q) in [(0.5, got.p50), (0.9, got.p90), (0.99, got.p99)] {
            let want = nearest_rank(&all, p).unwrap() as f64;
            let q = q.unwrap().as_nanos() as f64;
            let err = (q - want).abs() / want;
            assert!(err <= 0.01, "p{p}: sketch {q} vs exact {want}: {err}");
        }
        assert_eq!(got.max, Some(Span::from_nanos(*all.last().unwrap())));
    }
}
