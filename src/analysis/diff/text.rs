//! The comparison as tables of text, one per list, with the numbers
//! written as the sentences write them: what `tracedeck diff` prints and
//! the compare page shows, so both say the same.

use super::{words, Comparison, EndpointSide, NetworkSide};

/// One list of the comparison as text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub title: &'static str,
    pub headers: Vec<&'static str>,
    /// In the list's order, one per row of the list.
    pub rows: Vec<Vec<String>>,
}

/// `before → after`, or one value when they are equal.
pub fn arrow(before: String, after: String) -> String {
    if before == after {
        before
    } else {
        format!("{before} → {after}")
    }
}

/// Endpoints, status codes, failed conversations, the network.
pub fn tables(c: &Comparison) -> [Table; 4] {
    [endpoints(c), statuses(c), failures(c), network(c)]
}

fn endpoints(c: &Comparison) -> Table {
    let rows = c
        .endpoints
        .iter()
        .map(|e| {
            let side = |s: Option<&EndpointSide>| s.cloned().unwrap_or_default();
            let (b, i) = (side(e.base.as_ref()), side(e.incident.as_ref()));
            vec![
                e.key.label(),
                e.key.host.clone().unwrap_or_else(|| "–".into()),
                e.presence.as_str().to_string(),
                arrow(b.count.to_string(), i.count.to_string()),
                arrow(words::percent(b.error_rate), words::percent(i.error_rate)),
                arrow(words::span(b.p50), words::span(i.p50)),
                arrow(words::span(b.p99), words::span(i.p99)),
                e.p99_ratio.map_or_else(|| "–".into(), words::ratio),
                format!("{:.2}", e.score),
            ]
        })
        .collect();
    Table {
        title: "Endpoints",
        headers: vec![
            "endpoint", "host", "in", "requests", "errors", "p50", "p99", "p99 ×", "score",
        ],
        rows,
    }
}

fn statuses(c: &Comparison) -> Table {
    let rows = c
        .statuses
        .iter()
        .map(|s| {
            let change = if s.appeared() {
                "appeared"
            } else if s.vanished() {
                "vanished"
            } else {
                ""
            };
            vec![
                s.label(),
                s.base.to_string(),
                s.incident.to_string(),
                arrow(
                    words::percent(s.base_share),
                    words::percent(s.incident_share),
                ),
                change.to_string(),
            ]
        })
        .collect();
    Table {
        title: "Status codes",
        headers: vec!["status", "baseline", "incident", "share", "change"],
        rows,
    }
}

fn failures(c: &Comparison) -> Table {
    let rows = c
        .failures
        .iter()
        .map(|f| {
            let (b, i) = (f.base, f.incident);
            vec![
                f.server.to_string(),
                arrow(b.refused.to_string(), i.refused.to_string()),
                arrow(b.reset.to_string(), i.reset.to_string()),
                arrow(b.no_response.to_string(), i.no_response.to_string()),
            ]
        })
        .collect();
    Table {
        title: "Failed conversations",
        headers: vec!["server", "refused", "reset", "no response"],
        rows,
    }
}

fn network(c: &Comparison) -> Table {
    let rows = c
        .network
        .iter()
        .map(|n| {
            let side = |s: Option<&NetworkSide>| s.cloned().unwrap_or_default();
            let (b, i) = (side(n.base.as_ref()), side(n.incident.as_ref()));
            vec![
                n.server.to_string(),
                arrow(b.conversations.to_string(), i.conversations.to_string()),
                arrow(words::span(b.rtt_p50), words::span(i.rtt_p50)),
                arrow(words::span(b.rtt_p90), words::span(i.rtt_p90)),
                arrow(
                    words::percent(b.retransmission_rate),
                    words::percent(i.retransmission_rate),
                ),
                format!("{:.2}", n.score),
            ]
        })
        .collect();
    Table {
        title: "Network, per server",
        headers: vec![
            "server",
            "conversations",
            "RTT p50",
            "RTT p90",
            "retransmissions",
            "score",
        ],
        rows,
    }
}
