//! Percentiles of one endpoint's durations: exact (every value kept, the
//! nearest-rank percentile the overview uses) up to [`EXACT_LIMIT`] values,
//! a DDSketch with 1% relative accuracy beyond (README, "Endpoints").

use sketches_ddsketch::{Config, DDSketch};

use crate::analysis::report::Percentiles;
use crate::time::Span;

/// Values kept one by one; the next one turns the set into a sketch.
pub const EXACT_LIMIT: usize = 1_000_000;

/// The sketch's relative accuracy.
pub const SKETCH_ALPHA: f64 = 0.01;

/// The durations of one endpoint, as nanoseconds.
#[derive(Clone)]
pub enum Latencies {
    Exact(Vec<i64>),
    Sketch(Box<DDSketch>),
}

impl Default for Latencies {
    fn default() -> Self {
        Latencies::Exact(Vec::new())
    }
}

impl std::fmt::Debug for Latencies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Latencies::Exact(v) => write!(f, "Exact({} values)", v.len()),
            Latencies::Sketch(s) => write!(f, "Sketch({} values)", s.count()),
        }
    }
}

fn new_sketch() -> DDSketch {
    // 2048 bins at 1% cover 1 ns to far past a day: no bin ever collapses.
    DDSketch::new(Config::new(SKETCH_ALPHA, 2048, 1e-9))
}

impl Latencies {
    pub fn push(&mut self, span: Span) {
        let nanos = span.as_nanos();
        match self {
            Latencies::Exact(values) if values.len() < EXACT_LIMIT => values.push(nanos),
            Latencies::Exact(_) => {
                self.make_sketch();
                self.push(span);
            }
            Latencies::Sketch(s) => s.add(nanos as f64),
        }
    }

    /// Adds another endpoint's values (two templates folded into one).
    pub fn merge(&mut self, other: Latencies) {
        match (&mut *self, other) {
            (Latencies::Exact(a), Latencies::Exact(b)) if a.len() + b.len() <= EXACT_LIMIT => {
                a.extend(b);
            }
            (Latencies::Sketch(a), Latencies::Sketch(b)) => merge_sketch(a, &b),
            (_, mut other) => {
                self.make_sketch();
                other.make_sketch();
                if let (Latencies::Sketch(a), Latencies::Sketch(b)) = (&mut *self, &other) {
                    merge_sketch(a, b);
                }
            }
        }
    }

    /// Turns exact values into a sketch of them.
    fn make_sketch(&mut self) {
        if let Latencies::Exact(values) = self {
            let mut sketch = new_sketch();
            for v in values.iter() {
                sketch.add(*v as f64);
            }
            *self = Latencies::Sketch(Box::new(sketch));
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Latencies::Exact(v) => v.len(),
            Latencies::Sketch(s) => s.count(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn is_exact(&self) -> bool {
        matches!(self, Latencies::Exact(_))
    }

    /// p50, p90, p99 and max. Exact: the nearest rank (the smallest value
    /// with at least p of the values at or below it), as the overview's.
    /// Sketch: within 1% of a value at the rank; the max is exact.
    pub fn percentiles(&mut self) -> Percentiles {
        match self {
            Latencies::Exact(values) => {
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
