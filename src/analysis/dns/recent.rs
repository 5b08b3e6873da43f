//! The lookups each client was answered lately: the verdict of an HTTP
//! exchange says how long the client's DNS lookup took when it came just
//! before the connection, and a lookup over TCP names the truncated (TC)
//! answer it retried (README, "DNS lookups"). Bounded: a few lookups per
//! client, a few thousand clients, the latest truncated answers.

use std::collections::VecDeque;
use std::net::IpAddr;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::analysis::report::DnsRow;
use crate::flow::Proto;
use crate::time::{Span, Timestamp};

/// How long before a connection its lookup's answer may have come: a
/// client connects as soon as it has an address, so an answer older than
/// this was not what the connection waited for.
pub const JUST_BEFORE: Span = Span::from_nanos(1_000_000_000);
/// Lookups kept per client (the latest).
const PER_CLIENT: usize = 16;
/// Clients kept; past it the table starts over.
const MAX_CLIENTS: usize = 4096;
/// Conversations whose first exchange was judged, kept to leave the
/// later ones of a connection alone; past it the set starts over.
const MAX_JUDGED: usize = 65_536;
/// How long after a truncated answer its retry over TCP may start.
pub const RETRY_WITHIN: Span = Span::from_nanos(5_000_000_000);
/// Truncated answers kept (the latest).
const MAX_TRUNCATED: usize = 256;

/// A truncated answer over UDP, waiting for its retry over TCP.
struct Truncated {
    client: IpAddr,
    server: IpAddr,
    name: String,
    qtype: String,
    at: Timestamp,
    conversation: u64,
}

/// One answered lookup.
struct Answered {
    at: Timestamp,
    took: Span,
    /// The name asked about, lower case, without the root's dot.
    name: String,
    /// Addresses in the answer (A and AAAA records).
    addrs: Vec<IpAddr>,
}

/// Recent lookups by client address.
#[derive(Default)]
pub struct RecentLookups {
    by_client: FxHashMap<IpAddr, VecDeque<Answered>>,
    /// Conversations whose first exchange was already looked at.
    judged: FxHashSet<u64>,
    truncated: VecDeque<Truncated>,
}

impl RecentLookups {
    /// Keeps an answered lookup (one without a query or a response says
    /// nothing about a wait); a lookup over TCP that retries a truncated
    /// answer gets its `retry_of`.
    pub fn note(&mut self, row: &mut DnsRow) {
        let (Some(asked), Some(took)) = (row.query_time, row.response_time) else {
            return;
        };
        let answered = Timestamp::from_nanos(asked.as_nanos().saturating_add(took.as_nanos()));
        self.link_retry(row, asked, answered);
        if row.answer_count == 0 {
            return;
        }
        let addrs = row
            .answers
            .split("; ")
            .filter_map(|a| {
                let (kind, value) = a.split_once(' ')?;
                matches!(kind, "A" | "AAAA")
                    .then(|| value.parse().ok())
                    .flatten()
            })
            .collect();
        if self.by_client.len() >= MAX_CLIENTS && !self.by_client.contains_key(&row.client.ip()) {
            self.by_client.clear();
        }
        let kept = self.by_client.entry(row.client.ip()).or_default();
        if kept.len() == PER_CLIENT {
            kept.pop_front();
        }
        kept.push_back(Answered {
            at: answered,
            took,
            name: normal_name(&row.name),
            addrs,
        });
    }

    /// A truncated answer over UDP waits for its retry; a lookup over TCP
    /// of the same name and type, between the same client and server,
    /// soon after it is one.
    fn link_retry(&mut self, row: &mut DnsRow, asked: Timestamp, answered: Timestamp) {
        let client = row.client.ip();
        match row.transport {
            Proto::Udp if row.tc => {
                if self.truncated.len() == MAX_TRUNCATED {
                    self.truncated.pop_front();
                }
                self.truncated.push_back(Truncated {
                    client,
                    server: row.server.ip(),
                    name: normal_name(&row.name),
                    qtype: row.qtype.clone(),
                    at: answered,
                    conversation: row.conversation,
                });
            }
            Proto::Tcp if !self.truncated.is_empty() => {
                let name = normal_name(&row.name);
                let found = self.truncated.iter().rposition(|t| {
                    t.client == client
                        && t.server == row.server.ip()
                        && t.qtype == row.qtype
                        && t.name == name
                        && t.at <= asked
                        && asked.since(t.at) <= RETRY_WITHIN
                });
                if let Some(t) = found.and_then(|i| self.truncated.remove(i)) {
                    row.retry_of = Some(t.conversation);
                }
            }
            _ => {}
        }
    }

    /// How long the lookup took that `client` made just before connecting
    /// to `server` at `connected` (of `host`, or answering with the
    /// server's address); only for a conversation's first exchange.
    pub fn before_connecting(
        &mut self,
        conversation: u64,
        client: IpAddr,
        server: IpAddr,
        host: Option<&str>,
        connected: Timestamp,
    ) -> Option<Span> {
        if self.by_client.is_empty() {
            return None;
        }
        if self.judged.len() >= MAX_JUDGED {
            self.judged.clear();
        }
        if !self.judged.insert(conversation) {
            return None;
        }
        let host = host.map(|h| normal_name(strip_port(h)));
        self.by_client
            .get(&client)?
            .iter()
            .rev()
            .filter(|a| a.at <= connected && connected.since(a.at) <= JUST_BEFORE)
            .find(|a| host.as_deref() == Some(a.name.as_str()) || a.addrs.contains(&server))
            .map(|a| a.took)
    }
}

fn normal_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// `example.com:8080` → `example.com`; `[::1]:80` → `::1`.
fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn t(ms: i64) -> Timestamp {
        Timestamp::from_nanos(ms * 1_000_000)
    }

    fn lookup(name: &str, answers: &str, asked_ms: i64, took_ms: i64) -> DnsRow {
        DnsRow {
            client: "10.0.0.1:5353".parse().unwrap(),
            name: name.to_string(),
            answers: answers.to_string(),
            answer_count: answers.split("; ").count() as u64,
            query_time: Some(t(asked_ms)),
            response_time: Some(Span::from_nanos(took_ms * 1_000_000)),
            ..DnsRow::default()
        }
    }

    #[test]
    fn a_lookup_just_before_the_connection_is_found_by_host_or_address() {
        let client: IpAddr = "10.0.0.1".parse().unwrap();
        let server: IpAddr = "192.0.2.7".parse().unwrap();
        let mut recent = RecentLookups::default();
        recent.note(&mut lookup(
            "Example.COM.",
            "CNAME web.example.com; A 192.0.2.7",
            0,
            120,
        ));
        recent.note(&mut lookup("other.test", "A 192.0.2.9", 10, 5));
        let took = |r: &mut RecentLookups, conv, host, at| {
            r.before_connecting(conv, client, server, host, t(at))
        };
        let ms120 = Some(Span::from_nanos(120_000_000));
        assert_eq!(took(&mut recent, 1, Some("example.com:8080"), 125), ms120);
        // Only a connection's first exchange.
        assert_eq!(took(&mut recent, 1, Some("example.com"), 126), None);
        // By the answer's address when the Host names something else.
        assert_eq!(took(&mut recent, 2, Some("192.0.2.7"), 200), ms120);
        // Not before the answer, not long after it.
        assert_eq!(took(&mut recent, 3, Some("example.com"), 100), None);
        assert_eq!(took(&mut recent, 4, Some("example.com"), 2_000), None);
        // Another client's lookup says nothing.
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        assert_eq!(
            recent.before_connecting(5, other, server, Some("example.com"), t(125)),
            None
        );
    }

    #[test]
    fn unanswered_lookups_are_not_kept_and_memory_is_bounded() {
        let mut recent = RecentLookups::default();
        let mut row = lookup("a.test", "A 192.0.2.1", 0, 1);
        row.response_time = None;
        recent.note(&mut row);
        assert!(recent.by_client.is_empty());
        for i in 0..100 {
            recent.note(&mut lookup("a.test", "A 192.0.2.1", i, 1));
        }
        assert_eq!(
            recent.by_client.values().map(VecDeque::len).sum::<usize>(),
            PER_CLIENT
        );
        assert_eq!(strip_port("[::1]:80"), "::1");
        assert_eq!(strip_port("::1"), "::1");
    }

    #[test]
    fn a_tcp_lookup_names_the_truncated_answer_it_retried() {
        let mut recent = RecentLookups::default();
        let mut tc = lookup("big.test", "TXT (300 bytes)", 0, 10);
        (tc.tc, tc.conversation, tc.qtype) = (true, 3, "TXT".into());
        recent.note(&mut tc);
        let retry = |name: &str, asked_ms| {
            let mut r = lookup(name, "TXT (900 bytes)", asked_ms, 10);
            (r.transport, r.conversation, r.qtype) = (Proto::Tcp, 9, "TXT".into());
            r
        };
        let mut other = retry("small.test", 20);
        recent.note(&mut other);
        assert_eq!(other.retry_of, None);
        let mut late = retry("big.test", 6_000);
        recent.note(&mut late);
        assert_eq!(late.retry_of, None);
        let mut r = retry("BIG.test", 20);
        recent.note(&mut r);
        assert_eq!(r.retry_of, Some(3));
        // One retry per truncated answer.
        let mut again = retry("big.test", 30);
        recent.note(&mut again);
        assert_eq!(again.retry_of, None);
    }
}
