//! "Most changed": the score every row of a comparison is sorted by, in one
//! unit (README, "Baseline vs incident"). One point is a doubling of a
//! latency, five percentage points of error rate, or a fourfold change
//! of a count.

use crate::time::Span;

/// Latencies under this are treated as this, so jitter between two fast
/// answers (80 µs → 300 µs on one host) scores nothing.
pub const LATENCY_FLOOR: Span = Span::from_nanos(1_000_000);

/// Points per unit of error-rate change (a rate is a fraction: 0.05 is 5%).
pub const ERROR_WEIGHT: f64 = 20.0;

/// Points per doubling of a count.
pub const COUNT_WEIGHT: f64 = 0.5;

/// A change scores at least this to earn a sentence among the top changes.
pub const NOTABLE: f64 = 0.5;

/// An error class whose rate moved by this much (a fraction: one
/// percentage point) is named in its endpoint's sentence.
pub const NOTABLE_RATE: f64 = 0.01;

/// `|log2(after / before)|`, both floored at [`LATENCY_FLOOR`]; 0 when
/// either side has no value.
pub fn latency(before: Option<Span>, after: Option<Span>) -> f64 {
    match (before, after) {
        (Some(b), Some(a)) => {
            let floor = LATENCY_FLOOR.as_nanos();
            let (b, a) = (b.as_nanos().max(floor), a.as_nanos().max(floor));
            (a as f64 / b as f64).log2().abs()
        }
        _ => 0.0,
    }
}

/// [`ERROR_WEIGHT`] times the change of a rate.
pub fn rate(before: f64, after: f64) -> f64 {
    ERROR_WEIGHT * (after - before).abs()
}

/// [`COUNT_WEIGHT`] times `|log2((after + 1) / (before + 1))|`: a count
/// that appears from nothing scores by its size too.
pub fn count(before: u64, after: u64) -> f64 {
    COUNT_WEIGHT * ((after as f64 + 1.0) / (before as f64 + 1.0)).log2().abs()
}

/// `after / before`, when both exist and `before` is not zero.
pub fn ratio(before: Option<Span>, after: Option<Span>) -> Option<f64> {
    match (before, after) {
        (Some(b), Some(a)) if b.as_nanos() > 0 => Some(a.as_nanos() as f64 / b.as_nanos() as f64),
        _ => None,
    }
}
