//! Status codes of both captures: how many responses had each, and which
//! appeared or vanished.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{score, words, Digest};

/// One status code (or no response) in both captures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusChange {
    /// Absent: exchanges without a response.
    pub status: Option<u16>,
    pub base: u64,
    pub incident: u64,
    /// Of all exchanges of each capture.
    pub base_share: f64,
    pub incident_share: f64,
    pub score: f64,
    /// Only for a code that appeared or vanished.
    pub sentence: Option<String>,
}

impl StatusChange {
    /// `503`, or `no response`.
    pub fn label(&self) -> String {
        self.status
            .map_or_else(|| "no response".to_string(), |s| s.to_string())
    }

    pub fn appeared(&self) -> bool {
        self.base == 0 && self.incident > 0
    }

    pub fn vanished(&self) -> bool {
        self.base > 0 && self.incident == 0
    }
}

/// Every status of either capture, most changed first.
pub(super) fn compare(base: &Digest, incident: &Digest) -> Vec<StatusChange> {
    let counts =
        |d: &Digest| -> BTreeMap<Option<u16>, u64> { d.statuses.iter().copied().collect() };
    let (b, i) = (counts(base), counts(incident));
    let share = |n: u64, all: u64| if all == 0 { 0.0 } else { n as f64 / all as f64 };
    let mut codes: Vec<Option<u16>> = b.keys().chain(i.keys()).copied().collect();
    codes.sort_unstable();
    codes.dedup();
    let mut out: Vec<StatusChange> = codes
        .into_iter()
        .map(|status| {
            let nb = b.get(&status).copied().unwrap_or(0);
            let ni = i.get(&status).copied().unwrap_or(0);
            let mut c = StatusChange {
                status,
                base: nb,
                incident: ni,
                base_share: share(nb, base.exchanges),
                incident_share: share(ni, incident.exchanges),
                score: score::count(nb, ni),
                sentence: None,
            };
            c.sentence = sentence(&c);
            c
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.status.cmp(&b.status))
    });
    out
}

fn sentence(c: &StatusChange) -> Option<String> {
    let what = if c.status.is_some() {
        "response"
    } else {
        "exchange"
    };
    let many = if c.status.is_some() {
        "responses"
    } else {
        "exchanges"
    };
    if c.appeared() {
        Some(format!(
            "{} appeared: {} ({} of the incident's exchanges)",
            c.label(),
            words::plural(c.incident, what, many),
            words::percent(c.incident_share)
        ))
    } else if c.vanished() {
        Some(format!(
            "{} vanished: {} in the baseline, none in the incident",
            c.label(),
            words::plural(c.base, what, many)
        ))
    } else {
        None
    }
}
