//! The command line as a user runs it: exit codes, messages, JSON.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tracedeck"))
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-captures")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run tracedeck")
}

fn analyze_json(name: &str) -> Value {
    let path = sample(name);
    let out = run(&["analyze", path.to_str().unwrap(), "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("valid JSON")
}

fn truth(name: &str) -> Value {
    let text = std::fs::read_to_string(sample(&format!("{name}.truth.json"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn the_404_demo_shows_tsharks_numbers() {
    let doc = analyze_json("http-server-404.pcap");
    let truth = truth("http-server-404.pcap");
    assert_eq!(doc["capture"]["format"], "pcap");
    assert_eq!(doc["capture"]["link_types"], serde_json::json!([1]));
    assert_eq!(doc["capture"]["packets"], truth["packet_count"]);
    let convs = doc["conversations"].as_array().unwrap();
    let streams = truth["tcp_streams"].as_array().unwrap();
    assert_eq!((convs.len(), streams.len()), (2, 2));
    for (c, t) in convs.iter().zip(streams) {
        assert_eq!(c["proto"], "tcp");
        assert_eq!(c["state"], "closed");
        assert!(c["server"].as_str().unwrap().ends_with(":8080"), "{c}");
        assert_eq!(
            c["client"],
            format!("{}:{}", t["a"].as_str().unwrap(), t["a_port"])
        );
        assert_eq!(c["packets_c2s"], t["frames_a_to_b"], "{c}");
        assert_eq!(c["packets_s2c"], t["frames_b_to_a"], "{c}");
        assert_eq!(c["bytes_c2s"], t["bytes_a_to_b"], "{c}");
        assert_eq!(c["bytes_s2c"], t["bytes_b_to_a"], "{c}");
        assert!(
            c["payload_c2s"].as_u64().unwrap() > 70,
            "a GET request line and headers"
        );
    }
}

#[test]
fn gzip_and_cooked_captures_read_the_same_conversation() {
    let plain = analyze_json("http-server-404.pcap");
    let gz = analyze_json("http-server-404.pcap.gz");
    assert_eq!(gz["capture"]["compressed"], true);
    assert_eq!(plain["conversations"], gz["conversations"]);
    for (file, link) in [("any-sll.pcap", 113), ("any-sll2.pcap", 276)] {
        let doc = analyze_json(file);
        assert_eq!(doc["capture"]["link_types"], serde_json::json!([link]));
        assert_eq!(doc["conversations"].as_array().unwrap().len(), 1, "{file}");
    }
}

#[test]
fn truncated_capture_is_a_warning_not_an_error() {
    let doc = analyze_json("broken/cut-mid-record.pcap");
    let warnings = doc["capture"]["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("cut short")),
        "{warnings:?}"
    );
    let whole = truth("keepalive-mixed.pcap");
    let all = whole["packet_count"].as_u64().unwrap();
    assert_eq!(
        doc["capture"]["packets"].as_u64().unwrap(),
        all - 1,
        "all but the cut record"
    );
}

#[test]
fn bad_inputs_exit_1_with_one_line_naming_the_file() {
    for (name, needle) in [
        ("broken/empty.pcap", "empty"),
        ("broken/garbage.bin", "not a pcap or pcapng file"),
        ("broken/strace.txt", "plain text"),
        (
            "broken/huge-record.pcap",
            "record 1 at byte 24 claims 4294967280 bytes",
        ),
    ] {
        let path = sample(name);
        let out = run(&["analyze", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(err.contains(path.to_str().unwrap()), "{name}: {err}");
        assert!(err.contains(needle), "{name}: {err}");
        assert!(out.stdout.is_empty());
    }
    let out = run(&["analyze", "/nonexistent/x.pcap"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn bad_usage_exits_2() {
    assert_eq!(run(&["analyze"]).status.code(), Some(2));
    assert_eq!(
        run(&["analyze", "x", "--sort", "nonsense"]).status.code(),
        Some(2)
    );
}

#[test]
fn table_is_sorted_by_duration_longest_first() {
    let path = sample("keepalive-mixed.pcap");
    let out = run(&["analyze", path.to_str().unwrap()]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let durations: Vec<f64> = text
        .lines()
        .filter(|l| l.trim_start().starts_with(|c: char| c.is_ascii_digit()) && l.contains(" tcp "))
        .map(|l| l.split_whitespace().nth(5).unwrap().parse().unwrap())
        .collect();
    assert_eq!(durations.len(), 3, "{text}");
    assert!(durations.windows(2).all(|w| w[0] >= w[1]), "{durations:?}");
    assert!(text.contains("127.0.0.1:8081"));
}

#[test]
fn filter_counts_like_tcpdump_and_reports_column_of_errors() {
    let path = sample("http-server-404.pcap");
    let p = path.to_str().unwrap();
    let doc = analyze_json("http-server-404.pcap");
    let all = doc["capture"]["packets"].as_u64().unwrap();
    for (expr, want, convs) in [
        ("port 8080", all, 2),
        ("tcp[tcpflags] & tcp-syn != 0", 4, 2),
        ("udp or port 9", 0, 0),
    ] {
        let out = run(&["analyze", p, "--json", "--filter", expr]);
        assert!(out.status.success(), "{expr}");
        let d: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(d["capture"]["matched"].as_u64(), Some(want), "{expr}");
        assert_eq!(
            d["conversations"].as_array().unwrap().len(),
            convs,
            "{expr}"
        );
    }
    let out = run(&["analyze", p, "-f", "port 80 and"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("expected a primitive after 'and' at column 12"),
        "{err}"
    );
}

#[test]
fn issue_3_flask_sleep_shows_two_seconds_of_server_time() {
    let doc = analyze_json("flask-slow.pcap");
    let http = doc["http"].as_array().unwrap();
    assert_eq!(http.len(), 3);
    for e in http {
        assert_eq!(e["method"], "GET");
        assert_eq!(e["uri"], "/hello");
        assert_eq!(e["status"], 200);
        let server = e["server_time"].as_f64().unwrap();
        assert!((2.0..2.1).contains(&server), "{e}");
        assert_eq!(e["wait"], "server");
        assert!(
            e["verdict"]
                .as_str()
                .unwrap()
                .starts_with("server took 2.0"),
            "{e}"
        );
        // total = request start to last response byte; http.time = from request end.
        assert!(e["total_time"].as_f64().unwrap() >= server);
    }
}

#[test]
fn issue_3_every_framing_case_on_one_keep_alive_connection() {
    let doc = analyze_json("keepalive-mixed.pcap");
    let rows: Vec<(String, String, Option<u64>)> = doc["http"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["method"].as_str().unwrap().to_string(),
                e["uri"].as_str().unwrap().to_string(),
                e["status"].as_u64(),
            )
        })
        .collect();
    let want = [
        ("GET", "/", 200),
        ("GET", "/moved", 301),
        ("GET", "/nope", 404),
        ("GET", "/error", 500),
        ("POST", "/items", 201),
        ("HEAD", "/", 200),
        ("GET", "/cached", 304),
        ("GET", "/chunked", 200),
        ("GET", "/http10", 200),
        ("GET", "/big", 200),
    ];
    let want: Vec<(String, String, Option<u64>)> = want
        .iter()
        .map(|(m, u, s)| (m.to_string(), u.to_string(), Some(*s)))
        .collect();
    assert_eq!(rows, want);
    let http = doc["http"].as_array().unwrap();
    assert_eq!(http[4]["request_body_bytes"], 26, "POST body");
    assert_eq!(http[5]["response_body_bytes"], 0, "HEAD has no body");
    assert_eq!(http[7]["response_body_bytes"], 48, "chunked body, decoded");
    assert_eq!(
        http[8]["interrupted"], false,
        "close-delimited body ends at FIN"
    );
    assert_eq!(http[9]["interrupted"], true);
    assert!(
        http[9]["verdict"]
            .as_str()
            .unwrap()
            .contains("reset by the client"),
        "{}",
        http[9]
    );
    let convs = doc["conversations"].as_array().unwrap();
    assert_eq!(convs[0]["http_exchanges"], 8);
    assert_eq!(convs[2]["state"], "reset");
}

#[test]
fn http_table_filters_by_status() {
    let path = sample("keepalive-mixed.pcap");
    let out = run(&[
        "analyze",
        path.to_str().unwrap(),
        "--http",
        "--status",
        "4xx,500-599",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("10 HTTP exchanges, 2 shown after filters"),
        "{text}"
    );
    assert!(
        text.contains("/nope") && text.contains("/error") && !text.contains("/moved"),
        "{text}"
    );
    let out = run(&[
        "analyze",
        path.to_str().unwrap(),
        "--http",
        "--status",
        "6xx0",
    ]);
    assert_eq!(out.status.code(), Some(1));
}
