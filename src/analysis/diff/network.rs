//! The network's share, per server endpoint: handshake RTT (median, p90)
//! and retransmission rate of its TCP conversations in both captures.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::{score, words, Digest};
use crate::time::Span;

/// One server's TCP conversations in one capture.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NetworkSide {
    pub conversations: u64,
    /// Of the conversations whose handshake was seen.
    pub rtt_p50: Option<Span>,
    pub rtt_p90: Option<Span>,
    /// Retransmitted segments per packet, both ways.
    pub retransmission_rate: f64,
}

/// One server endpoint in both captures.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NetworkChange {
    pub server: SocketAddr,
    pub base: Option<NetworkSide>,
    pub incident: Option<NetworkSide>,
    /// incident / baseline median RTT.
    pub rtt_ratio: Option<f64>,
    pub score: f64,
    pub sentence: String,
}

/// Every TCP server of either capture, most changed first.
pub(super) fn compare(base: &Digest, incident: &Digest) -> Vec<NetworkChange> {
    let sides =
        |d: &Digest| -> BTreeMap<SocketAddr, NetworkSide> { d.network.iter().cloned().collect() };
    let mut out: Vec<NetworkChange> = super::pair_up(sides(base), sides(incident))
        .into_iter()
        .map(|(server, b, i)| change(server, b, i))
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.server.cmp(&b.server))
    });
    out
}

fn change(
    server: SocketAddr,
    base: Option<NetworkSide>,
    incident: Option<NetworkSide>,
) -> NetworkChange {
    let (score, sentence) = match (&base, &incident) {
        (Some(b), Some(i)) => {
            let rtt = score::latency(b.rtt_p50, i.rtt_p50);
            let retrans = score::rate(b.retransmission_rate, i.retransmission_rate);
            let mut parts = Vec::new();
            if rtt >= score::NOTABLE {
                let mut p = format!(
                    "handshake RTT median {} → {}",
                    words::span(b.rtt_p50),
                    words::span(i.rtt_p50)
                );
                if let Some(r) = score::ratio(b.rtt_p50, i.rtt_p50) {
                    p.push_str(&format!(" ({})", words::ratio(r)));
                }
                parts.push(p);
            }
            if (i.retransmission_rate - b.retransmission_rate).abs() >= score::NOTABLE_RATE {
                parts.push(format!(
                    "retransmissions {} → {}",
                    words::percent(b.retransmission_rate),
                    words::percent(i.retransmission_rate)
                ));
            }
            let sentence = if parts.is_empty() {
                format!("{server}: no notable change in the network")
            } else {
                format!("{server}: {}", parts.join(", "))
            };
            (rtt + retrans, sentence)
        }
        // A server in one capture only: its conversations are counted by
        // the endpoints and failures; the network's share has nothing to compare.
        (None, _) => (0.0, format!("{server}: only in the incident")),
        (_, None) => (0.0, format!("{server}: only in the baseline")),
    };
    NetworkChange {
        rtt_ratio: match (&base, &incident) {
            (Some(b), Some(i)) => score::ratio(b.rtt_p50, i.rtt_p50),
            _ => None,
        },
        server,
        base,
        incident,
        score,
        sentence,
    }
}
