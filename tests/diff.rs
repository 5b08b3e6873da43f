//! `tracedeck diff BASELINE INCIDENT` on sample-captures/diff (made by its
//! make.sh: in the incident GET /api/orders/{id} sleeps 0.25 s and answers
//! 503 for every fourth order, /health is not asked for, POST
//! /api/checkout is new, two connections to :8472 are refused).

use std::process::{Command, Output};
use std::time::Duration;

use serde_json::Value;

use crate::auth::{add_user, create_token};
use crate::support::serve::{fresh_dir, reply, Reply, Server};
use crate::support::shared::samples;

fn diff(extra: &[&str]) -> Output {
    let dir = samples().join("diff");
    Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .arg("diff")
        .arg(dir.join("baseline.pcap"))
        .arg(dir.join("incident.pcap"))
        .args(extra)
        .output()
        .expect("run tracedeck")
}

fn json(extra: &[&str]) -> Value {
    let mut args = vec!["--json"];
    args.extend_from_slice(extra);
    let out = diff(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn endpoint<'a>(doc: &'a Value, method: &str, template: &str) -> &'a Value {
    doc["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["method"] == method && e["template"] == template)
        .unwrap_or_else(|| panic!("no endpoint {method} {template}: {doc:#}"))
}

#[test]
fn the_slow_failing_endpoint_is_the_top_change() {
    let doc = json(&[]);
    let orders = &doc["endpoints"][0];
    assert_eq!(orders["method"], "GET");
    assert_eq!(orders["template"], "/api/orders/{id}");
    assert_eq!(orders["host"], "127.0.0.1:8471");
    assert_eq!(orders["presence"], "both");
    let (base, incident) = (&orders["base"], &orders["incident"]);
    assert_eq!(
        (base["count"].as_u64(), incident["count"].as_u64()),
        (Some(20), Some(20))
    );
    // Orders 4, 8, 12, 16 and 20 answered 503.
    assert_eq!(incident["rate_5xx"].as_f64(), Some(0.25));
    assert_eq!(incident["error_rate"].as_f64(), Some(0.25));
    assert_eq!(base["error_rate"].as_f64(), Some(0.0));
    assert_eq!(orders["error_rate_delta"].as_f64(), Some(0.25));
    // The server slept 0.25 s before every answer; on loopback the
    // baseline answered within a few milliseconds.
    let p99 = |s: &Value| s["p99"].as_f64().unwrap();
    assert!(p99(incident) >= 0.25 && p99(incident) < 0.5, "{orders:#}");
    assert!(p99(base) < 0.05, "{orders:#}");
    let ratio = orders["p99_ratio"].as_f64().unwrap();
    assert!((ratio - p99(incident) / p99(base)).abs() < 1e-6 * ratio);
    // Its score: log2 of the p99 ratio (both over 1 ms) + 20 × 0.25.
    let score = orders["score"].as_f64().unwrap();
    let expected = (p99(incident) / p99(base).max(0.001)).log2() + 5.0;
    assert!((score - expected).abs() < 1e-6, "{score} vs {expected}");

    let top = &doc["top"][0];
    assert_eq!(top["section"], "endpoint");
    let sentence = top["sentence"].as_str().unwrap();
    assert_eq!(sentence, orders["sentence"].as_str().unwrap());
    assert!(
        sentence.starts_with("GET /api/orders/{id}: p99 "),
        "{sentence}"
    );
    assert!(sentence.ends_with("×), 5xx 0% → 25%"), "{sentence}");
    assert!(sentence.contains(" ms → 25"), "{sentence}");
}

#[test]
fn new_and_vanished_endpoints_and_unchanged_ones() {
    let doc = json(&[]);
    let health = endpoint(&doc, "GET", "/health");
    assert_eq!(health["presence"], "vanished");
    assert_eq!(health["base"]["count"], 5);
    assert!(health["incident"].is_null());
    assert_eq!(
        health["sentence"],
        "GET /health: gone from the incident (5 requests in the baseline)"
    );
    let checkout = endpoint(&doc, "POST", "/api/checkout");
    assert_eq!(checkout["presence"], "new");
    assert_eq!(checkout["incident"]["count"], 3);
    assert!(checkout["sentence"]
        .as_str()
        .unwrap()
        .starts_with("POST /api/checkout: new in the incident, 3 requests, p99 "));
    let users = endpoint(&doc, "GET", "/api/users/{id}");
    assert_eq!(users["presence"], "both");
    assert_eq!(users["error_rate_delta"].as_f64(), Some(0.0));
}

#[test]
fn status_codes_that_appeared() {
    let doc = json(&[]);
    let statuses: Vec<(Value, u64, u64)> = doc["statuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["status"].clone(),
                s["base"].as_u64().unwrap(),
                s["incident"].as_u64().unwrap(),
            )
        })
        .collect();
    // 35 exchanges in the baseline (20 orders, 10 users, 5 health), 33 in
    // the incident (20 orders, 10 users, 3 checkouts).
    assert_eq!(
        statuses,
        [
            (Value::from(503), 0, 5),
            (Value::from(201), 0, 3),
            (Value::from(200), 35, 25)
        ]
    );
    assert_eq!(
        doc["statuses"][0]["sentence"],
        "503 appeared: 5 responses (15% of the incident's exchanges)"
    );
}

#[test]
fn refused_connections_in_the_incident_only() {
    let doc = json(&[]);
    let failures = doc["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 1, "{failures:?}");
    assert_eq!(failures[0]["server"], "127.0.0.1:8472");
    assert_eq!(failures[0]["base"]["refused"], 0);
    assert_eq!(failures[0]["incident"]["refused"], 2);
    assert_eq!(
        failures[0]["sentence"],
        "127.0.0.1:8472: 2 connections failed in the incident (2 refused), none in the baseline"
    );
    // The network's share: the API server's handshakes in both captures.
    let api = doc["network"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["server"] == "127.0.0.1:8471")
        .unwrap();
    assert_eq!(api["base"]["conversations"], 35);
    assert_eq!(api["incident"]["conversations"], 33);
    assert!(api["base"]["rtt_p50"].as_f64().unwrap() < 0.01);
    assert_eq!(api["incident"]["retransmission_rate"].as_f64(), Some(0.0));
}

#[test]
fn the_text_report_has_the_same_sentences() {
    let doc = json(&[]);
    let out = diff(&[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let top = doc["top"].as_array().unwrap();
    assert!(top.len() >= 5, "{top:?}");
    for (i, t) in top.iter().enumerate() {
        let line = format!("  {}. {}\n", i + 1, t["sentence"].as_str().unwrap());
        assert!(text.contains(&line), "{line:?} missing from:\n{text}");
    }
    for heading in [
        "Top changes:",
        "Endpoints:",
        "Status codes:",
        "Failed conversations:",
        "Network, per server:",
    ] {
        assert!(text.contains(heading), "{heading} missing from:\n{text}");
    }
    assert!(
        text.contains("GET /api/orders/{id}  127.0.0.1:8471  both      20 "),
        "{text}"
    );
}

#[test]
fn a_filter_applies_to_both_captures() {
    let doc = json(&["--filter", "port 8471"]);
    assert_eq!(doc["failures"].as_array().map(Vec::len), Some(0));
    assert!(doc["network"]
        .as_array()
        .unwrap()
        .iter()
        .all(|n| n["server"] == "127.0.0.1:8471"));
    assert_eq!(doc["endpoints"][0]["template"], "/api/orders/{id}");
}

#[test]
fn a_missing_capture_is_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["diff", "no-such-baseline.pcap", "no-such-incident.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no-such-baseline.pcap"), "{err}");
    let out = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["diff", "a.pcap", "b.pcap", "--filter", "port"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad filter"));
}

fn sample_bytes(name: &str) -> Vec<u8> {
    std::fs::read(samples().join("diff").join(name)).unwrap()
}

/// Uploads the baseline and the incident (with `auth` headers); their IDs.
fn upload_pair(s: &Server, auth: &[(&str, &str)]) -> (String, String) {
    let ids: Vec<String> = ["baseline.pcap", "incident.pcap"]
        .into_iter()
        .map(|name| {
            let r = get_or_post(
                s,
                &format!("/api/captures?name={name}"),
                auth,
                Some(&sample_bytes(name)),
            );
            assert_eq!(r.status, 201, "{}", r.text());
            r.json()["id"].as_str().unwrap().to_string()
        })
        .collect();
    (ids[0].clone(), ids[1].clone())
}

fn get_or_post(s: &Server, path: &str, auth: &[(&str, &str)], body: Option<&[u8]>) -> Reply {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    let url = s.url(path);
    reply(match body {
        Some(bytes) => {
            let mut r = agent.post(&url);
            for (k, v) in auth {
                r = r.header(*k, *v);
            }
            r.header("Content-Type", "application/vnd.tcpdump.pcap")
                .send(bytes)
        }
        None => {
            let mut r = agent.get(&url);
            for (k, v) in auth {
                r = r.header(*k, *v);
            }
            r.call()
        }
    })
}

#[test]
fn the_api_and_the_page_say_what_the_cli_says() {
    let s = Server::start(&fresh_dir("diff-api"), &[]);
    let (base, incident) = upload_pair(&s, &[]);
    for id in [&base, &incident] {
        assert_eq!(s.wait(id)["status"], "done");
    }
    let api = s.get(&format!("/api/compare?base={base}&incident={incident}"));
    assert_eq!(api.status, 200, "{}", api.text());
    let api = api.json();
    let cli = json(&[]);
    assert_eq!(api["top"], cli["top"]);
    assert_eq!(api["endpoints"], cli["endpoints"]);
    assert_eq!(api["statuses"], cli["statuses"]);
    assert_eq!(api["failures"], cli["failures"]);
    assert_eq!(api["network"], cli["network"]);

    let page = s.get(&format!("/compare?base={base}&incident={incident}"));
    assert_eq!(page.status, 200);
    let html = page.text();
    let top = cli["top"][0]["sentence"].as_str().unwrap();
    assert!(html.contains(top), "{top} missing from the page");
    assert!(
        html.contains(&format!(
            "/c/{incident}/http?method=GET&#38;host=127.0.0.1%3A8471&#38;template=%2Fapi%2Forders%2F%7Bid%7D"
        )),
        "{html}"
    );
    // Another order, the same rows.
    let by_name = s
        .get(&format!(
            "/api/compare?base={base}&incident={incident}&sort=name"
        ))
        .json();
    let first: Vec<&Value> = by_name["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["template"])
        .collect();
    assert_eq!(
        first,
        [
            "/api/orders/{id}",
            "/api/users/{id}",
            "/health",
            "/api/checkout"
        ]
    );

    // Renames and splits in the address: the API says what the CLI says
    // with the same flags, the page keeps them in its links and says that
    // its address is its share link.
    let (rename, split) = ("/api/orders/{id}=>/orders", "/api/users/{id}");
    let edited = s
        .get(&format!(
            "/api/compare?base={base}&incident={incident}&rename=%2Fapi%2Forders%2F%7Bid%7D%3D%3E%2Forders&split=%2Fapi%2Fusers%2F%7Bid%7D"
        ))
        .json();
    let cli_edited = json(&["--rename", rename, "--split", split]);
    assert_eq!(edited["endpoints"], cli_edited["endpoints"]);
    assert_eq!(edited["top"], cli_edited["top"]);
    assert!(endpoint(&edited, "GET", "/orders")["sentence"]
        .as_str()
        .unwrap()
        .starts_with("GET /orders: p99"));
    assert!(edited["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["template"] != "/api/users/{id}"));
    let page = s
        .get(&format!(
            "/compare?base={base}&incident={incident}&rename=%2Fapi%2Forders%2F%7Bid%7D%3D%3E%2Forders"
        ))
        .text();
    assert!(page.contains("id=\"share-note\""), "{page}");
    assert!(
        page.contains("/http?rename=%2Fapi%2Forders%2F%7Bid%7D%3D%3E%2Forders&#38;method=GET&#38;host=127.0.0.1%3A8471&#38;template=%2Forders"),
        "{page}"
    );

    // The home page offers the pair.
    let home = s.get("/").text();
    assert!(home.contains("id=\"compare-pick\""), "{home}");

    for (query, status) in [
        (format!("base={base}"), 400),
        (format!("base={base}&incident={incident}&sort=loudest"), 400),
        (
            format!("base={base}&incident=0123456789abcdef0123456789abcdef"),
            404,
        ),
        (format!("base=nonsense&incident={incident}"), 404),
    ] {
        assert_eq!(
            s.get(&format!("/api/compare?{query}")).status,
            status,
            "{query}"
        );
        assert_eq!(
            s.get(&format!("/compare?{query}")).status,
            status,
            "{query}"
        );
    }
}

#[test]
fn another_users_capture_is_not_found() {
    let data = fresh_dir("diff-owners");
    add_user(&data, "ann", false);
    add_user(&data, "bob", false);
    let s = Server::start(&data, &[]);
    let ann = format!("Bearer {}", create_token(&data, "ann", "admin"));
    let bob = format!("Bearer {}", create_token(&data, "bob", "admin"));
    let (ann_base, ann_incident) = upload_pair(&s, &[("Authorization", &ann)]);
    let (_, bob_incident) = upload_pair(&s, &[("Authorization", &bob)]);
    crate::support::wait::wait_until("the analyses", Duration::from_secs(60), || {
        [&ann_base, &ann_incident].iter().all(|id| {
            get_or_post(
                &s,
                &format!("/api/captures/{id}"),
                &[("Authorization", &ann)],
                None,
            )
            .json()["status"]
                == "done"
        })
    });
    let own = format!("base={ann_base}&incident={ann_incident}");
    let r = get_or_post(
        &s,
        &format!("/api/compare?{own}"),
        &[("Authorization", &ann)],
        None,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let theirs = format!("base={ann_base}&incident={bob_incident}");
    for path in [
        format!("/api/compare?{theirs}"),
        format!("/compare?{theirs}"),
    ] {
        let r = get_or_post(&s, &path, &[("Authorization", &ann)], None);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
    }
    // Signed out: nothing.
    assert_ne!(s.get(&format!("/api/compare?{own}")).status, 200);
}
