//! Conversations that failed (refused, reset, no answer to the SYN), per
//! server endpoint, where the two captures differ.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::{score, words, Digest};

/// Failed conversations to one server in one capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failed {
    /// A SYN answered by a RST.
    pub refused: u64,
    /// A RST ended it.
    pub reset: u64,
    /// A SYN with no answer.
    pub no_response: u64,
}

impl Failed {
    pub fn total(&self) -> u64 {
        self.refused + self.reset + self.no_response
    }

    fn kinds(&self) -> [Count; 3] {
        [
            ("refused", self.refused),
            ("reset", self.reset),
            ("no response", self.no_response),
        ]
    }
}

/// A kind of failure and how many conversations failed so.
type Count = (&'static str, u64);

/// One server whose failed conversations differ between the captures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailureChange {
    pub server: SocketAddr,
    pub base: Failed,
    pub incident: Failed,
    pub score: f64,
    pub sentence: String,
}

/// The servers whose failures differ, most changed first.
pub(super) fn compare(base: &Digest, incident: &Digest) -> Vec<FailureChange> {
    let failed =
        |d: &Digest| -> BTreeMap<SocketAddr, Failed> { d.failed.iter().copied().collect() };
    let (b, i) = (failed(base), failed(incident));
    let mut servers: Vec<SocketAddr> = b.keys().chain(i.keys()).copied().collect();
    servers.sort_unstable();
    servers.dedup();
    let mut out: Vec<FailureChange> = servers
        .into_iter()
        .filter_map(|server| {
            let fb = b.get(&server).copied().unwrap_or_default();
            let fi = i.get(&server).copied().unwrap_or_default();
            if fb == fi {
                return None;
            }
            let score = fb
                .kinds()
                .iter()
                .zip(fi.kinds())
                .map(|((_, x), (_, y))| score::count(*x, y))
                .sum();
            Some(FailureChange {
                server,
                base: fb,
                incident: fi,
                score,
                sentence: sentence(server, &fb, &fi),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.server.cmp(&b.server))
    });
    out
}

/// "127.0.0.1:8472: 2 refused connections in the incident, none in the
/// baseline", or "10.0.0.5:443: reset 1 → 7".
fn sentence(server: SocketAddr, b: &Failed, i: &Failed) -> String {
    let changed: Vec<(Count, Count)> = b
        .kinds()
        .into_iter()
        .zip(i.kinds())
        .filter(|((_, x), (_, y))| x != y)
        .collect();
    if b.total() == 0 {
        let list: Vec<String> = changed
            .iter()
            .map(|(_, (name, n))| format!("{n} {name}"))
            .collect();
        return format!(
            "{server}: {} failed in the incident ({}), none in the baseline",
            words::plural(i.total(), "connection", "connections"),
            list.join(", ")
        );
    }
    if i.total() == 0 {
        return format!(
            "{server}: {} failed in the baseline, none in the incident",
            words::plural(b.total(), "connection", "connections")
        );
    }
    let list: Vec<String> = changed
        .iter()
        .map(|((name, x), (_, y))| format!("{name} {x} → {y}"))
        .collect();
    format!("{server}: failed connections {}", list.join(", "))
}
