//! Endpoints from hand-made exchange rows: templates of real-looking
//! traffic, the counters, and the percentiles against brute force.

use super::*;
use crate::time::Span;

fn ex(method: &str, host: &str, uri: &str) -> ExchangeRow {
    ExchangeRow {
        method: Some(method.into()),
        host: Some(host.into()),
        uri: Some(uri.into()),
        status: Some(200),
        ..ExchangeRow::default()
    }
}

/// (method, target) → the template it must end up in, for a mix of REST
/// API calls, hashed static assets, GraphQL POSTs and search URLs.
const TRAFFIC: &[(&str, &str, &str)] = &[
    // REST, numbers and UUIDs.
    ("GET", "/api/v1/users/1042", "/api/v1/users/{id}"),
    ("GET", "/api/v1/users/77", "/api/v1/users/{id}"),
    ("PUT", "/api/v1/users/77", "/api/v1/users/{id}"),
    ("GET", "/api/v2/users/5", "/api/v2/users/{id}"),
    (
        "GET",
        "/api/v1/users/1042/orders?page=2&per_page=50",
        "/api/v1/users/{id}/orders",
    ),
    (
        "GET",
        "/api/v1/users/9/orders?page=1",
        "/api/v1/users/{id}/orders",
    ),
    (
        "GET",
        "/api/v1/orders/3fa85f64-5717-4562-b3fc-2c963f66afa6",
        "/api/v1/orders/{uuid}",
    ),
    (
        "DELETE",
        "/api/v1/orders/123e4567-e89b-12d3-a456-426614174000",
        "/api/v1/orders/{uuid}",
    ),
    ("GET", "/api/v1/health", "/api/v1/health"),
    (
        "GET",
        "/api/v1/reports/2026-12-01/summary",
        "/api/v1/reports/{date}/summary",
    ),
    (
        "GET",
        "/api/v1/reports/2026-12-02/summary",
        "/api/v1/reports/{date}/summary",
    ),
    (
        "GET",
        "/api/v1/accounts/ann@example.com",
        "/api/v1/accounts/{email}",
    ),
    // Names between literals: folded (three or more).
    ("GET", "/repos/alice/settings", "/repos/{name}/settings"),
    ("GET", "/repos/bob/settings", "/repos/{name}/settings"),
    ("GET", "/repos/carol/settings", "/repos/{name}/settings"),
    // Static assets with content hashes.
    (
        "GET",
        "/static/js/main.4f2a9c1e.js",
        "/static/js/main.{hash}.js",
    ),
    (
        "GET",
        "/static/js/main.77b01d3a.js",
        "/static/js/main.{hash}.js",
    ),
    (
        "GET",
        "/static/css/app-8d2f1a0e9b.css",
        "/static/css/app-{hash}.css",
    ),
    ("GET", "/static/img/logo.svg", "/static/img/logo.svg"),
    ("GET", "/favicon.ico", "/favicon.ico"),
    // GraphQL: one path, one endpoint per method.
    ("POST", "/graphql", "/graphql"),
    ("POST", "/graphql", "/graphql"),
    ("GET", "/graphql?query=%7Bme%7D", "/graphql"),
    // Search: the query dropped, its keys kept.
    ("GET", "/search?q=red+shoes&sort=price&page=3", "/search"),
    ("GET", "/search?q=hats&lang=de", "/search"),
    ("GET", "/s/aGVsbG8tV29ybGQtMjAyNi0xMg", "/s/{hash}"),
];

#[test]
fn real_looking_traffic_gets_the_templates_written_out() {
    let rows: Vec<ExchangeRow> = TRAFFIC
        .iter()
        .map(|(m, uri, _)| ex(m, "shop.example", uri))
        .collect();
    let set = endpoints(&rows, &Options::default());
    for ((method, uri, want), row) in TRAFFIC.iter().zip(&rows) {
        let i = set
            .endpoint_of(row)
            .expect("every exchange has an endpoint");
        let got = &set.rows[i];
        assert_eq!(got.template, *want, "{method} {uri}");
        assert_eq!(got.method.as_deref(), Some(*method));
    }
    let find = |m: &str, t: &str| {
        set.rows
            .iter()
            .find(|r| r.method.as_deref() == Some(m) && r.template == t)
            .unwrap_or_else(|| panic!("{m} {t}"))
    };
    assert_eq!(find("POST", "/graphql").count, 2);
    assert_eq!(find("GET", "/search").query_keys, "lang,page,q,sort");
    assert_eq!(
        find("GET", "/api/v1/users/{id}/orders").query_keys,
        "page,per_page"
    );
    assert_eq!(find("GET", "/api/v1/users/{id}").rule, "{id}: a number");
    assert_eq!(find("GET", "/favicon.ico").rule, "literal");
    assert_eq!(
        find("GET", "/repos/{name}/settings").rule,
        "{name}: 3 values at segment 2"
    );
    // Every exchange is in exactly one endpoint.
    assert_eq!(
        set.rows.iter().map(|r| r.count).sum::<u64>(),
        rows.len() as u64
    );
}

#[test]
fn hosts_are_apart_and_case_blind() {
    let rows = [
        ex("GET", "A.example", "/x"),
        ex("GET", "a.example", "/x"),
        ex("GET", "b.example", "/x"),
    ];
    let set = endpoints(&rows, &Options::default());
    assert_eq!(set.rows.len(), 2);
    assert_eq!(set.rows[0].count, 2);
    assert_eq!(set.rows[0].host.as_deref(), Some("a.example"));
}

#[test]
fn errors_are_counted_by_class() {
    let mut rows = vec![ex("GET", "h", "/a"); 2];
    rows.push(ExchangeRow {
        status: Some(404),
        ..ex("GET", "h", "/a")
    });
    rows.push(ExchangeRow {
        status: Some(503),
        wait: Wait::Server,
        ..ex("GET", "h", "/a")
    });
    rows.push(ExchangeRow {
        status: None,
        ..ex("GET", "h", "/a")
    });
    rows.push(ExchangeRow {
        status: None,
        interrupted: true,
        verdict: "no response: connection reset by the server 5.0 ms after the request".into(),
        ..ex("GET", "h", "/a")
    });
    rows.push(ExchangeRow {
        status: Some(200),
        interrupted: true,
        stream_end: Some("RST_STREAM CANCEL from the client".into()),
        ..ex("GET", "h", "/a")
    });
    let set = endpoints(&rows, &Options::default());
    let r = &set.rows[0];
    assert_eq!(
        (
            r.count,
            r.status_4xx,
            r.status_5xx,
            r.no_response,
            r.reset,
            r.errors
        ),
        (7, 1, 1, 1, 2, 5)
    );
    assert_eq!((r.wait_server, r.wait_unknown), (1, 6));
    assert!((r.error_share() - 5.0 / 7.0).abs() < 1e-12);
}

/// A generated endpoint with known distributions: total times 1..=1000 ms
/// uniformly (p50 = 500 ms, p90 = 900 ms, p99 = 990 ms, max = 1 s by the
/// nearest rank), server times a tenth of them, bodies of 10 bytes each
/// way, timestamps one a second.
#[test]
fn percentiles_of_a_known_distribution() {
    let ms = 1_000_000;
    let rows: Vec<ExchangeRow> = (1..=1000i64)
        .map(|i| {
            // Shuffled: 7 is coprime with 1000.
            let v = (i * 7) % 1000 + 1;
            ExchangeRow {
                total_time: Some(Span::from_nanos(v * ms)),
                server_time: Some(Span::from_nanos(v * ms / 10)),
                request_body_bytes: 10,
                response_body_bytes: 10,
                request_start: Some(Timestamp::from_nanos(i * 1_000_000_000)),
                ..ex("GET", "h", &format!("/items/{i}"))
            }
        })
        .collect();
    let set = endpoints(&rows, &Options::default());
    assert_eq!(set.rows.len(), 1);
    let r = &set.rows[0];
    let s = |n: i64| Some(Span::from_nanos(n));
    assert_eq!(
        (r.total_p50, r.total_p90, r.total_p99, r.total_max),
        (s(500 * ms), s(900 * ms), s(990 * ms), s(1000 * ms))
    );
    assert_eq!(
        (r.server_p50, r.server_p99, r.server_max),
        (s(50 * ms), s(99 * ms), s(100 * ms))
    );
    assert_eq!((r.request_bytes, r.response_bytes), (10_000, 10_000));
    assert_eq!(r.percentiles, precision::EXACT);
    assert_eq!(r.first_seen, Some(Timestamp::from_nanos(1_000_000_000)));
    assert_eq!(
        r.last_seen,
        Some(Timestamp::from_nanos(1000 * 1_000_000_000))
    );
}

#[test]
fn split_and_rename_follow_the_options() {
    let rows = [
        ex("GET", "h", "/repos/alice/settings"),
        ex("GET", "h", "/repos/bob/settings"),
        ex("GET", "h", "/repos/carol/settings"),
        ex("GET", "h", "/users/1"),
        ex("GET", "h", "/users/2"),
    ];
    let split = Options {
        split: vec!["/repos/{name}/settings".into(), "/users/{id}".into()],
        ..Options::default()
    };
    let set = endpoints(&rows, &split);
    let mut templates: Vec<&str> = set.rows.iter().map(|r| r.template.as_str()).collect();
    templates.sort_unstable();
    assert_eq!(
        templates,
        [
            "/repos/alice/settings",
            "/repos/bob/settings",
            "/repos/carol/settings",
            "/users/1",
            "/users/2"
        ]
    );
    assert!(set.rows.iter().all(|r| r.rule.contains("split")));
    for row in &rows {
        let i = set.endpoint_of(row).unwrap();
        assert_eq!(Some(set.rows[i].template.as_str()), row.uri.as_deref());
    }

    let rename = Options {
        rename: vec![
            ("/repos/{name}/settings".into(), "/settings".into()),
            ("/users/{id}".into(), "/settings".into()),
        ],
        ..Options::default()
    };
    let set = endpoints(&rows, &rename);
    assert_eq!(set.rows.len(), 1);
    assert_eq!(set.rows[0].template, "/settings");
    assert_eq!(set.rows[0].count, 5);
    assert!(set.rows[0].rule.contains("renamed from /users/{id}"));
}

#[test]
fn exchanges_without_a_request_have_their_own_endpoint() {
    let rows = [ExchangeRow {
        status: Some(200),
        ..ExchangeRow::default()
    }];
    let set = endpoints(&rows, &Options::default());
    assert_eq!(set.rows[0].template, NO_TARGET);
    assert_eq!(set.rows[0].method, None);
}

#[test]
fn an_empty_host_is_no_host() {
    let mut rows = vec![ex("GET", "", "/a/1"), ex("GET", "", "/a/2")];
    rows[1].host = None;
    let set = endpoints(&rows, &Options::default());
    assert_eq!(set.rows.len(), 1);
    assert_eq!(set.rows[0].host, None);
    assert_eq!(set.rows[0].count, 2);
}
