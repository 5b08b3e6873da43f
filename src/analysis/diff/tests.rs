//! The comparison of hand-made rows, with every answer written out.

use super::*;
use crate::analysis::report::{ConversationRow, ExchangeRow};
use crate::flow::State;
use crate::time::Span;

fn ms(n: i64) -> Span {
    Span::from_nanos(n * 1_000_000)
}

fn exchange(method: &str, path: &str, status: u16, total: Span) -> ExchangeRow {
    ExchangeRow {
        method: Some(method.into()),
        uri: Some(path.into()),
        host: Some("api.example".into()),
        status: Some(status),
        total_time: Some(total),
        ..ExchangeRow::default()
    }
}

/// `n` TCP conversations to `server`, each with `packets` packets.
fn conversations(
    server: &str,
    n: usize,
    state: State,
    rtt: Option<Span>,
    retransmissions: u64,
) -> Vec<ConversationRow> {
    (0..n)
        .map(|_| ConversationRow {
            server: server.parse().unwrap(),
            state,
            handshake_rtt: rtt,
            retransmissions,
            packets_c2s: 10,
            packets_s2c: 10,
            ..ConversationRow::example()
        })
        .collect()
}

/// Baseline: orders answer in 20 ms (one in 30 ms), users in 2 ms,
/// /health is asked three times; handshakes take 1 ms, nothing is
/// retransmitted. Incident: orders take 300 ms and two of ten answer
/// 503, /health is gone, POST /api/checkout is new, handshakes take 4 ms,
/// one segment in twenty is retransmitted, and two connections to :8472
/// are refused.
fn sides() -> (
    Vec<ExchangeRow>,
    Vec<ConversationRow>,
    Vec<ExchangeRow>,
    Vec<ConversationRow>,
) {
    let mut base = Vec::new();
    for i in 0..10 {
        base.push(exchange(
            "GET",
            "/api/orders",
            200,
            ms(if i == 3 { 30 } else { 20 }),
        ));
    }
    for _ in 0..5 {
        base.push(exchange("GET", "/api/users", 200, ms(2)));
    }
    for _ in 0..3 {
        base.push(exchange("GET", "/health", 200, ms(1)));
    }
    let mut incident = Vec::new();
    for i in 0..10 {
        let status = if i % 5 == 4 { 503 } else { 200 };
        incident.push(exchange("GET", "/api/orders", status, ms(300)));
    }
    for _ in 0..5 {
        incident.push(exchange("GET", "/api/users", 200, ms(2)));
    }
    for _ in 0..3 {
        incident.push(exchange("POST", "/api/checkout", 201, ms(5)));
    }
    let base_convs = conversations("127.0.0.1:8471", 3, State::Closed, Some(ms(1)), 0);
    let mut incident_convs = conversations("127.0.0.1:8471", 5, State::Closed, Some(ms(4)), 1);
    incident_convs.extend(conversations("127.0.0.1:8472", 2, State::Refused, None, 0));
    (base, base_convs, incident, incident_convs)
}

fn compared() -> Comparison {
    let (b, bc, i, ic) = sides();
    let o = EndpointOptions::default();
    compare(
        &Capture::of_rows(&b, &bc, &o),
        &Capture::of_rows(&i, &ic, &o),
    )
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

#[test]
fn endpoints_are_side_by_side_most_changed_first() {
    let c = compared();
    let labels: Vec<(String, Presence)> = c
        .endpoints
        .iter()
        .map(|e| (e.key.label(), e.presence))
        .collect();
    assert_eq!(
        labels,
        [
            ("GET /api/orders".to_string(), Presence::Both),
            // 1.0 each (three requests from or to nothing); ties by key.
            ("GET /health".to_string(), Presence::Vanished),
            ("POST /api/checkout".to_string(), Presence::New),
            ("GET /api/users".to_string(), Presence::Both),
        ]
    );
    let orders = &c.endpoints[0];
    let (b, i) = (
        orders.base.as_ref().unwrap(),
        orders.incident.as_ref().unwrap(),
    );
    assert_eq!((b.count, i.count), (10, 10));
    assert_eq!((b.p50, b.p99), (Some(ms(20)), Some(ms(30))));
    assert_eq!((i.p50, i.p99), (Some(ms(300)), Some(ms(300))));
    assert!(close(i.rate_5xx, 0.2) && close(i.error_rate, 0.2) && close(b.error_rate, 0.0));
    assert!(close(orders.p99_ratio.unwrap(), 10.0));
    assert!(close(orders.p50_ratio.unwrap(), 15.0));
    assert_eq!(orders.p99_delta, Some(ms(270)));
    assert!(close(orders.count_ratio.unwrap(), 1.0));
    assert!(close(orders.error_rate_delta, 0.2));
    // log2(300 / 30) + 20 × 0.2 + 0.
    assert!(close(orders.score, 10f64.log2() + 4.0), "{}", orders.score);
    assert_eq!(
        orders.sentence,
        "GET /api/orders: p99 30.0 ms → 300.0 ms (10×), 5xx 0% → 20%"
    );
    assert!(close(c.endpoints[1].score, 1.0));
    assert_eq!(
        c.endpoints[1].sentence,
        "GET /health: gone from the incident (3 requests in the baseline)"
    );
    assert_eq!(
        c.endpoints[2].sentence,
        "POST /api/checkout: new in the incident, 3 requests, p99 5.0 ms"
    );
    assert!(c.endpoints[2].base.is_none() && c.endpoints[2].p99_ratio.is_none());
    assert_eq!(c.endpoints[3].score, 0.0);
    assert_eq!(c.endpoints[3].sentence, "GET /api/users: no notable change");
}

#[test]
fn status_codes_that_appeared_and_their_shares() {
    let c = compared();
    let rows: Vec<(Option<u16>, u64, u64)> = c
        .statuses
        .iter()
        .map(|s| (s.status, s.base, s.incident))
        .collect();
    // 201: 0.5 × log2(4) = 1.0; 503: 0.5 × log2(3) ≈ 0.79; 200: 0.5 × |log2(14 / 19)| ≈ 0.22.
    assert_eq!(
        rows,
        [(Some(201), 0, 3), (Some(503), 0, 2), (Some(200), 18, 13)]
    );
    assert!(c.statuses[0].appeared() && !c.statuses[2].appeared());
    assert_eq!(
        c.statuses[1].sentence.as_deref(),
        Some("503 appeared: 2 responses (11% of the incident's exchanges)")
    );
    assert!(close(c.statuses[2].base_share, 1.0));
    assert_eq!(c.statuses[2].sentence, None);
}

#[test]
fn failed_conversations_by_server() {
    let c = compared();
    assert_eq!(c.failures.len(), 1, "{:?}", c.failures);
    let f = &c.failures[0];
    assert_eq!(f.server.to_string(), "127.0.0.1:8472");
    assert_eq!(f.base, Failed::default());
    assert_eq!(
        f.incident,
        Failed {
            refused: 2,
            reset: 0,
            no_response: 0
        }
    );
    assert!(close(f.score, 0.5 * 3f64.log2()));
    assert_eq!(
        f.sentence,
        "127.0.0.1:8472: 2 connections failed in the incident (2 refused), none in the baseline"
    );
}

#[test]
fn the_networks_share_per_server() {
    let c = compared();
    let n = &c.network[0];
    assert_eq!(n.server.to_string(), "127.0.0.1:8471");
    let (b, i) = (n.base.as_ref().unwrap(), n.incident.as_ref().unwrap());
    assert_eq!((b.conversations, i.conversations), (3, 5));
    assert_eq!((b.rtt_p50, b.rtt_p90), (Some(ms(1)), Some(ms(1))));
    assert_eq!((i.rtt_p50, i.rtt_p90), (Some(ms(4)), Some(ms(4))));
    // One retransmission per 20 packets.
    assert!(close(i.retransmission_rate, 0.05) && close(b.retransmission_rate, 0.0));
    // log2(4) + 20 × 0.05.
    assert!(close(n.score, 3.0));
    assert_eq!(
        n.sentence,
        "127.0.0.1:8471: handshake RTT median 1.0 ms → 4.0 ms (4.0×), retransmissions 0% → 5.0%"
    );
    let refused = &c.network[1];
    assert_eq!(refused.server.to_string(), "127.0.0.1:8472");
    assert!(refused.base.is_none() && refused.score == 0.0);
}

#[test]
fn the_top_changes_in_sentences() {
    let c = compared();
    let top: Vec<&str> = c.top.iter().map(|t| t.sentence.as_str()).collect();
    assert_eq!(
        top,
        [
            "GET /api/orders: p99 30.0 ms → 300.0 ms (10×), 5xx 0% → 20%",
            "127.0.0.1:8471: handshake RTT median 1.0 ms → 4.0 ms (4.0×), retransmissions 0% → 5.0%",
            // Three at 1.0, by their text.
            "201 appeared: 3 responses (17% of the incident's exchanges)",
            "GET /health: gone from the incident (3 requests in the baseline)",
            "POST /api/checkout: new in the incident, 3 requests, p99 5.0 ms",
            // Two at 0.5 × log2(3) ≈ 0.79.
            "127.0.0.1:8472: 2 connections failed in the incident (2 refused), none in the baseline",
            "503 appeared: 2 responses (11% of the incident's exchanges)",
        ]
    );
    // GET /api/users (0) is under the notable score.
    assert_eq!(c.top[1].section, Section::Network);
}

#[test]
fn a_capture_compared_with_itself_has_no_top_change() {
    let (b, bc, _, _) = sides();
    let side = Capture::of_rows(&b, &bc, &EndpointOptions::default());
    let c = compare(&side, &side);
    assert!(c.top.is_empty(), "{:?}", c.top);
    assert!(c.failures.is_empty());
    assert!(c
        .endpoints
        .iter()
        .all(|e| e.score == 0.0 && e.presence == Presence::Both));
}

#[test]
fn latency_under_the_floor_scores_nothing() {
    assert_eq!(
        score::latency(
            Some(Span::from_nanos(80_000)),
            Some(Span::from_nanos(300_000))
        ),
        0.0
    );
    assert!(close(score::latency(Some(ms(1)), Some(ms(8))), 3.0));
    assert!(close(score::latency(Some(ms(8)), Some(ms(1))), 3.0));
    assert_eq!(score::latency(None, Some(ms(8))), 0.0);
}

#[test]
fn numbers_in_sentences() {
    assert_eq!(words::ratio(10.7), "11×");
    assert_eq!(words::ratio(2.54), "2.5×");
    assert_eq!(words::percent(0.041), "4.1%");
    assert_eq!(words::percent(0.25), "25%");
    assert_eq!(words::percent(0.0), "0%");
    assert_eq!(
        words::span(Some(Span::from_nanos(2_300_000_000))),
        "2.300 s"
    );
}

#[test]
fn endpoints_sort_by_each_order() {
    let mut c = compared();
    let order =
        |c: &Comparison| -> Vec<String> { c.endpoints.iter().map(|e| e.key.label()).collect() };
    let (orders, users, health, checkout) = (
        "GET /api/orders",
        "GET /api/users",
        "GET /health",
        "POST /api/checkout",
    );
    for (by, expected) in [
        (EndpointOrder::Name, [orders, users, health, checkout]),
        (EndpointOrder::Requests, [orders, users, checkout, health]),
        // 10×, then users' 1×; the other two have no ratio.
        (EndpointOrder::P99Ratio, [orders, users, health, checkout]),
    ] {
        c.sort_endpoints(by);
        assert_eq!(order(&c), expected, "{by:?}");
    }
    c.sort_endpoints(EndpointOrder::ErrorRate);
    assert_eq!(order(&c)[0], "GET /api/orders");
    c.sort_endpoints(EndpointOrder::MostChanged);
    assert_eq!(order(&c), order(&compared()));
    assert_eq!(EndpointOrder::parse("p99"), Some(EndpointOrder::P99Ratio));
    assert_eq!(EndpointOrder::parse("nope"), None);
}
