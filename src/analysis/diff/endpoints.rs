//! Endpoints side by side: each (method, host, URL template) of either
//! capture with its count, error rates and latency percentiles in both,
//! the deltas and ratios, and its "most changed" score and sentence.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{score, words};
use crate::analysis::report::endpoints::precision;
use crate::analysis::report::EndpointRow;
use crate::time::Span;

/// What identifies an endpoint in both captures.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct EndpointKey {
    pub method: Option<String>,
    pub host: Option<String>,
    pub template: String,
}

impl EndpointKey {
    /// `GET /api/orders/{id}`.
    pub fn label(&self) -> String {
        format!(
            "{} {}",
            self.method.as_deref().unwrap_or("?"),
            self.template
        )
    }
}

/// One endpoint in one capture. Rates are fractions of `count`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EndpointSide {
    pub count: u64,
    /// 4xx, 5xx, no response and reset together.
    pub error_rate: f64,
    pub rate_4xx: f64,
    pub rate_5xx: f64,
    pub rate_no_response: f64,
    pub rate_reset: f64,
    /// Of the total time (request's first byte to response's last byte).
    pub p50: Option<Span>,
    pub p99: Option<Span>,
    /// Whether the percentiles are exact (beyond a million values they
    /// come from a sketch within 1%).
    pub exact: bool,
}

/// Whether an endpoint is in both captures or only one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Presence {
    Both,
    /// Only in the incident.
    New,
    /// Only in the baseline.
    Vanished,
}

impl Presence {
    pub fn as_str(self) -> &'static str {
        match self {
            Presence::Both => "both",
            Presence::New => "new",
            Presence::Vanished => "vanished",
        }
    }
}

/// One endpoint of the comparison.
#[derive(Clone, Debug, Serialize)]
pub struct EndpointChange {
    #[serde(flatten)]
    pub key: EndpointKey,
    pub presence: Presence,
    pub base: Option<EndpointSide>,
    pub incident: Option<EndpointSide>,
    /// incident / baseline (absent unless both have a value).
    pub count_ratio: Option<f64>,
    pub p50_ratio: Option<f64>,
    pub p99_ratio: Option<f64>,
    /// incident − baseline.
    pub p50_delta: Option<Span>,
    pub p99_delta: Option<Span>,
    /// incident − baseline, as a fraction (0.041 is 4.1 points).
    pub error_rate_delta: f64,
    pub score: f64,
    pub sentence: String,
}

/// One capture's endpoint rows (as the endpoint table has them), by key.
pub(super) fn side(rows: &[EndpointRow]) -> BTreeMap<EndpointKey, EndpointSide> {
    rows.iter()
        .map(|row| {
            let key = EndpointKey {
                method: row.method.clone(),
                host: row.host.clone(),
                template: row.template.clone(),
            };
            let n = row.count.max(1) as f64;
            let side = EndpointSide {
                count: row.count,
                error_rate: row.errors as f64 / n,
                rate_4xx: row.status_4xx as f64 / n,
                rate_5xx: row.status_5xx as f64 / n,
                rate_no_response: row.no_response as f64 / n,
                rate_reset: row.reset as f64 / n,
                p50: row.total_p50,
                p99: row.total_p99,
                exact: row.percentiles == precision::EXACT,
            };
            (key, side)
        })
        .collect()
}

/// Both captures' endpoints, most changed first.
pub(super) fn compare(
    base: BTreeMap<EndpointKey, EndpointSide>,
    incident: BTreeMap<EndpointKey, EndpointSide>,
) -> Vec<EndpointChange> {
    let mut out: Vec<EndpointChange> = super::pair_up(base, incident)
        .into_iter()
        .map(|(key, b, i)| change(key, b, i))
        .collect();
    out.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.key.cmp(&b.key)));
    out
}

fn change(
    key: EndpointKey,
    base: Option<EndpointSide>,
    incident: Option<EndpointSide>,
) -> EndpointChange {
    let presence = match (&base, &incident) {
        (Some(_), Some(_)) => Presence::Both,
        (None, _) => Presence::New,
        (_, None) => Presence::Vanished,
    };
    let zero = EndpointSide::default();
    let (b, i) = (
        base.as_ref().unwrap_or(&zero),
        incident.as_ref().unwrap_or(&zero),
    );
    let delta = |x: Option<Span>, y: Option<Span>| match (x, y) {
        (Some(x), Some(y)) => Some(Span::from_nanos(y.as_nanos().saturating_sub(x.as_nanos()))),
        _ => None,
    };
    let count_ratio = (b.count > 0 && i.count > 0).then(|| i.count as f64 / b.count as f64);
    let score = score::latency(b.p99, i.p99)
        + score::rate(b.error_rate, i.error_rate)
        + score::count(b.count, i.count);
    let sentence = sentence(&key, presence, b, i);
    EndpointChange {
        presence,
        count_ratio,
        p50_ratio: score::ratio(b.p50, i.p50),
        p99_ratio: score::ratio(b.p99, i.p99),
        p50_delta: delta(b.p50, i.p50),
        p99_delta: delta(b.p99, i.p99),
        error_rate_delta: i.error_rate - b.error_rate,
        score,
        sentence,
        key,
        base,
        incident,
    }
}

/// Error classes as the sentences name them.
fn classes(s: &EndpointSide) -> [(&'static str, f64); 4] {
    [
        ("5xx", s.rate_5xx),
        ("4xx", s.rate_4xx),
        ("no response", s.rate_no_response),
        ("reset", s.rate_reset),
    ]
}

/// "GET /api/orders/{id}: p99 12.0 ms → 260.3 ms (22×), 5xx 0% → 25%":
/// the parts that changed notably, or "no notable change".
fn sentence(key: &EndpointKey, presence: Presence, b: &EndpointSide, i: &EndpointSide) -> String {
    let label = key.label();
    match presence {
        Presence::New => {
            let mut s = format!(
                "{label}: new in the incident, {}, p99 {}",
                words::plural(i.count, "request", "requests"),
                words::span(i.p99)
            );
            if i.error_rate > 0.0 {
                s.push_str(&format!(", errors {}", words::percent(i.error_rate)));
            }
            return s;
        }
        Presence::Vanished => {
            return format!(
                "{label}: gone from the incident ({} in the baseline)",
                words::plural(b.count, "request", "requests")
            );
        }
        Presence::Both => {}
    }
    let mut parts = Vec::new();
    if score::latency(b.p99, i.p99) >= score::NOTABLE {
        let mut p = format!("p99 {} → {}", words::span(b.p99), words::span(i.p99));
        if let Some(r) = score::ratio(b.p99, i.p99) {
            p.push_str(&format!(" ({})", words::ratio(r)));
        }
        parts.push(p);
    }
    for ((name, before), (_, after)) in classes(b).into_iter().zip(classes(i)) {
        if (after - before).abs() >= score::NOTABLE_RATE {
            parts.push(format!(
                "{name} {} → {}",
                words::percent(before),
                words::percent(after)
            ));
        }
    }
    if score::count(b.count, i.count) >= score::NOTABLE {
        parts.push(format!("requests {} → {}", b.count, i.count));
    }
    if parts.is_empty() {
        format!("{label}: no notable change")
    } else {
        format!("{label}: {}", parts.join(", "))
    }
}
