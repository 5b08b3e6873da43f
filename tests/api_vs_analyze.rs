//! The web API and the CLI give the same rows (issue 12): every sample
//! capture uploaded to `tracedeck serve` lists, page by page, the
//! conversations and HTTP exchanges `tracedeck analyze --json` prints,
//! field by field (the API's exchanges carry an `id` besides). A capture
//! analyze refuses is a failed upload.

use std::path::Path;
use std::process::Command;

use serde_json::{Map, Value};

use crate::support::serve::{fresh_dir, Server};
use crate::support::shared::{captures_under, samples};

/// Small, so that even the sample captures span several pages.
const PAGE: usize = 4;

/// `tracedeck analyze --json FILE`: the document, or None when it refuses
/// the file (exit status 1).
fn analyze_json(path: &Path) -> Option<Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["analyze", "--json"])
        .arg(path)
        .output()
        .unwrap();
    match out.status.code() {
        Some(0) => Some(
            serde_json::from_slice(&out.stdout)
                .unwrap_or_else(|e| panic!("{}: analyze --json is not JSON: {e}", path.display())),
        ),
        Some(1) => None,
        other => panic!(
            "{}: analyze exited with {other:?}: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// Every row of `/api/captures/ID/<table>?sort=id`, read `PAGE` at a time;
/// checks `total` on every page.
fn all_rows(server: &Server, id: &str, table: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    loop {
        let path = format!(
            "/api/captures/{id}/{table}?sort=id&order=asc&limit={PAGE}&offset={}",
            rows.len()
        );
        let reply = server.get(&path);
        assert_eq!(reply.status, 200, "{path}: {}", reply.text());
        let page = reply.json();
        let items = page["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{path}: {page}"));
        let total = page["total"]
            .as_u64()
            .unwrap_or_else(|| panic!("{path}: {page}"));
        rows.extend(items.iter().cloned());
        if items.len() < PAGE {
            assert_eq!(rows.len() as u64, total, "{path}: rows read vs total");
            return rows;
        }
    }
}

/// The fields of `ours` (an API row) that differ from `cli`'s, by name.
fn differences(ours: &Map<String, Value>, cli: &Map<String, Value>) -> Vec<String> {
    let mut names: Vec<&String> = ours.keys().chain(cli.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|k| ours.get(*k) != cli.get(*k))
        .map(|k| format!("{k}: api {:?}, analyze {:?}", ours.get(k), cli.get(k)))
        .collect()
}

/// Compares one table row by row; returns what differs, one line each.
fn compare_rows(capture: &str, table: &str, api: &[Value], cli: &[Value]) -> Vec<String> {
    let mut diffs = Vec::new();
    if api.len() != cli.len() {
        diffs.push(format!(
            "{capture} {table}: api {} rows, analyze {}",
            api.len(),
            cli.len()
        ));
    }
    // The API numbers exchanges in the order the analysis finished them
    // (a reset HTTP/2 stream waits up to a second for frames in flight);
    // analyze --json lists them by request start, then conversation, ties
    // in that same finishing order. Put the API's rows in analyze's order.
    let mut api: Vec<&Value> = api.iter().collect();
    if table == "http" {
        let start = |r: &Value| {
            let t = |k: &str| r[k].as_f64();
            t("request_start").or_else(|| t("response_start"))
        };
        api.sort_by(|a, b| {
            let key = |r: &Value| (start(r), r["conversation"].as_u64(), r["id"].as_u64());
            let (ka, kb) = (key(a), key(b));
            ka.partial_cmp(&kb).unwrap_or(std::cmp::Ordering::Equal)
        });
        let mut ids: Vec<u64> = api.iter().filter_map(|r| r["id"].as_u64()).collect();
        ids.sort_unstable();
        assert!(
            ids.iter().copied().eq(0..api.len() as u64),
            "{capture}: http ids are not 0..{}: {ids:?}",
            api.len()
        );
    }
    for (n, (a, c)) in api.into_iter().zip(cli).enumerate() {
        let (Some(a), Some(c)) = (a.as_object(), c.as_object()) else {
            diffs.push(format!("{capture} {table}[{n}]: not objects: {a} / {c}"));
            continue;
        };
        let mut a = a.clone();
        if table == "http" {
            a.remove("id");
        }
        for d in differences(&a, c) {
            diffs.push(format!("{capture} {table}[{n}] {d}"));
        }
    }
    diffs
}

#[test]
fn issue_12_api_rows_equal_analyze_json_for_every_sample_capture() {
    let captures = captures_under(&samples());
    assert!(captures.len() >= 15, "{captures:?}");
    let server = Server::start(&fresh_dir("api-vs-analyze"), &[]);
    let (mut compared, mut refused, mut rows) = (0, 0, 0);
    let mut diffs = Vec::new();
    for path in &captures {
        let name = path.strip_prefix(samples()).unwrap().display().to_string();
        let bytes = std::fs::read(path).unwrap();
        let up = server.post_raw(
            &format!("/api/captures?name={}", name.replace('/', "_")),
            &bytes,
        );
        let cli = analyze_json(path);
        // A file analyze refuses is refused at the upload (400) or fails
        // in the analysis.
        let id = match up.status {
            201 => up.json()["id"].as_str().unwrap().to_string(),
            400 if cli.is_none() => {
                refused += 1;
                continue;
            }
            other => panic!("{name}: upload answered {other}: {}", up.text()),
        };
        let finished = server.wait(&id);
        let Some(cli) = cli else {
            assert_eq!(
                finished["status"], "failed",
                "{name}: analyze refuses it: {finished}"
            );
            refused += 1;
            continue;
        };
        assert_eq!(finished["status"], "done", "{name}: {finished}");
        for table in ["conversations", "http"] {
            let api = all_rows(&server, &id, table);
            let cli = cli[table]
                .as_array()
                .unwrap_or_else(|| panic!("{name}: no {table}"));
            rows += api.len();
            diffs.extend(compare_rows(&name, table, &api, cli));
        }
        compared += 1;
    }
    assert!(
        diffs.is_empty(),
        "the API and analyze --json differ:\n{}",
        diffs.join("\n")
    );
    // broken/empty.pcap and broken/huge-record.pcap are refused by both.
    assert_eq!(refused, 2, "captures refused");
    assert_eq!(compared + refused, captures.len());
    assert!(rows > 100, "{rows} rows compared");
}
