//! Baseline vs incident: two captures' endpoint rows and [`Digest`]s in,
//! their differences out, sorted by "most changed" (README, "Baseline vs
//! incident"). Endpoints side by side, status codes that appeared or
//! vanished, failed conversations per server, the network's share per
//! server, and a sentence for each of the top changes. Pure: the CLI
//! makes its [`Capture`]s as it analyzes, the web reads the ones the
//! analysis stored.

mod digest;
mod endpoints;
mod failures;
mod network;
mod score;
mod statuses;
mod tallies;
#[cfg(test)]
mod tests;
pub mod text;
pub mod words;

pub use digest::{Digest, Digester};
pub use endpoints::{EndpointChange, EndpointKey, EndpointSide, Presence};
pub use failures::{Failed, FailureChange};
pub use network::{NetworkChange, NetworkSide};
pub use score::{COUNT_WEIGHT, ERROR_WEIGHT, LATENCY_FLOOR, NOTABLE, NOTABLE_RATE};
pub use statuses::StatusChange;
pub use tallies::{Tallied, Tallies};

use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::analysis::endpoints::Options as EndpointOptions;
use crate::analysis::report::{ConversationRow, EndpointRow, ExchangeRow};

/// What a comparison reads of one capture.
#[derive(Clone, Debug, Default)]
pub struct Capture {
    /// Its endpoint table (templates inferred over this capture alone).
    pub endpoints: Vec<EndpointRow>,
    pub digest: Digest,
}

impl Capture {
    /// From all of a capture's rows at once.
    pub fn of_rows(
        exchanges: &[ExchangeRow],
        conversations: &[ConversationRow],
        options: &EndpointOptions,
    ) -> Capture {
        let t = Tallies::of(exchanges, conversations, options);
        Capture {
            endpoints: t.endpoints.rows,
            digest: t.digest,
        }
    }
}

/// Most sentences in [`Comparison::top`].
pub const TOP_CHANGES: usize = 8;

/// What differs between a baseline and an incident; every list is most
/// changed first.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// The sentences of the most changed rows of every list (at most
    /// [`TOP_CHANGES`], each scoring at least [`NOTABLE`]).
    pub top: Vec<TopChange>,
    pub endpoints: Vec<EndpointChange>,
    pub statuses: Vec<StatusChange>,
    pub failures: Vec<FailureChange>,
    pub network: Vec<NetworkChange>,
}

/// Which list a top change comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    Endpoint,
    Status,
    Failure,
    Network,
}

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Section::Endpoint => "endpoint",
            Section::Status => "status",
            Section::Failure => "failure",
            Section::Network => "network",
        }
    }
}

/// One of the top changes, in a sentence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TopChange {
    pub section: Section,
    pub score: f64,
    pub sentence: String,
}

/// Compares `incident` with `base`.
pub fn compare(base: &Capture, incident: &Capture) -> Comparison {
    let endpoints = endpoints::compare(
        endpoints::side(&base.endpoints),
        endpoints::side(&incident.endpoints),
    );
    let statuses = statuses::compare(&base.digest, &incident.digest);
    let failures = failures::compare(&base.digest, &incident.digest);
    let network = network::compare(&base.digest, &incident.digest);
    let mut top: Vec<TopChange> = Vec::new();
    let mut add = |section, score: f64, sentence: &str| {
        if score >= NOTABLE {
            top.push(TopChange {
                section,
                score,
                sentence: sentence.to_string(),
            });
        }
    };
    for e in &endpoints {
        add(Section::Endpoint, e.score, &e.sentence);
    }
    for s in &statuses {
        if let Some(sentence) = &s.sentence {
            add(Section::Status, s.score, sentence);
        }
    }
    for f in &failures {
        add(Section::Failure, f.score, &f.sentence);
    }
    for n in &network {
        add(Section::Network, n.score, &n.sentence);
    }
    top.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.sentence.cmp(&b.sentence))
    });
    top.truncate(TOP_CHANGES);
    Comparison {
        top,
        endpoints,
        statuses,
        failures,
        network,
    }
}

/// Every key of either map with its value on each side.
fn pair_up<K: Ord, V>(
    base: BTreeMap<K, V>,
    mut incident: BTreeMap<K, V>,
) -> Vec<(K, Option<V>, Option<V>)> {
    let mut out: Vec<(K, Option<V>, Option<V>)> = Vec::new();
    for (key, b) in base {
        let i = incident.remove(&key);
        out.push((key, Some(b), i));
    }
    out.extend(incident.into_iter().map(|(key, i)| (key, None, Some(i))));
    out
}

/// How the endpoints of a comparison are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum EndpointOrder {
    /// Highest score first: the order [`compare`] answers.
    #[default]
    MostChanged,
    /// Most requests in the incident first (then in the baseline).
    Requests,
    /// Largest p99 ratio first; endpoints without one last.
    P99Ratio,
    /// Largest rise of the error rate first.
    ErrorRate,
    /// By method, host and template.
    Name,
}

impl EndpointOrder {
    pub const ALL: [EndpointOrder; 5] = [
        EndpointOrder::MostChanged,
        EndpointOrder::Requests,
        EndpointOrder::P99Ratio,
        EndpointOrder::ErrorRate,
        EndpointOrder::Name,
    ];

    /// The name a URL carries (`sort=changed`).
    pub fn name(self) -> &'static str {
        match self {
            EndpointOrder::MostChanged => "changed",
            EndpointOrder::Requests => "requests",
            EndpointOrder::P99Ratio => "p99",
            EndpointOrder::ErrorRate => "errors",
            EndpointOrder::Name => "name",
        }
    }

    /// What a person reads.
    pub fn label(self) -> &'static str {
        match self {
            EndpointOrder::MostChanged => "most changed",
            EndpointOrder::Requests => "requests",
            EndpointOrder::P99Ratio => "p99 ratio",
            EndpointOrder::ErrorRate => "error rate rise",
            EndpointOrder::Name => "name",
        }
    }

    pub fn parse(name: &str) -> Option<EndpointOrder> {
        EndpointOrder::ALL.into_iter().find(|o| o.name() == name)
    }
}

impl Comparison {
    /// Reorders the endpoints (ties keep the key order).
    pub fn sort_endpoints(&mut self, by: EndpointOrder) {
        let count = |s: &Option<EndpointSide>| s.as_ref().map_or(0, |s| s.count);
        self.endpoints.sort_by(|a, b| {
            let first = match by {
                EndpointOrder::MostChanged => b.score.total_cmp(&a.score),
                EndpointOrder::Requests => {
                    (count(&b.incident), count(&b.base)).cmp(&(count(&a.incident), count(&a.base)))
                }
                EndpointOrder::P99Ratio => match (a.p99_ratio, b.p99_ratio) {
                    (Some(x), Some(y)) => y.total_cmp(&x),
                    (x, y) => y.is_some().cmp(&x.is_some()),
                },
                EndpointOrder::ErrorRate => b.error_rate_delta.total_cmp(&a.error_rate_delta),
                EndpointOrder::Name => std::cmp::Ordering::Equal,
            };
            first.then_with(|| a.key.cmp(&b.key))
        });
    }
}
