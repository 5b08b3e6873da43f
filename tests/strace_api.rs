//! strace uploads through `tracedeck serve`: the real binary on 127.0.0.1:0.
//!
//! The logs in sample-captures/strace/ were made by real strace (see
//! make.sh there); `app.c.txt` is strace's own `-c` table of the app.txt
//! run (159 calls, 16 errors; openat 34 calls, 13 errors). Every count the
//! API answers is checked against `tracedeck strace --json` on the same
//! files, and a few against strace's table itself.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::serve::{fresh_dir, Server};
use serde_json::Value;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-captures/strace")
        .join(name)
}

fn ff_files() -> Vec<PathBuf> {
    ["out.4990", "out.4991", "out.5082"]
        .iter()
        .map(|f| sample(&format!("curl_ff/{f}")))
        .collect()
}

/// `tracedeck strace --json FILES`.
fn cli(files: &[PathBuf]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .arg("strace")
        .arg("--json")
        .args(files)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn upload(s: &Server, files: &[PathBuf]) -> String {
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(p).unwrap(),
            )
        })
        .collect();
    let parts: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let r = s.post_files("/api/straces", &parts);
    assert_eq!(r.status, 201, "{}", r.text());
    let j = r.json();
    let id = j["id"].as_str().unwrap().to_string();
    assert_eq!(j["url"], format!("/s/{id}"));
    assert_eq!(
        r.header("location"),
        Some(format!("/api/straces/{id}").as_str())
    );
    id
}

/// Polls until the upload is parsed (or failed).
fn wait(s: &Server, id: &str) -> Value {
    s.wait_finished(&format!("/api/straces/{id}"))
}

/// (syscall, calls, errors, unreturned) per row.
fn rows(summary: &Value) -> BTreeMap<String, (u64, u64, u64)> {
    summary
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["syscall"].as_str().unwrap().to_string(),
                (
                    r["calls"].as_u64().unwrap(),
                    r["errors"].as_u64().unwrap(),
                    r["unreturned"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

/// What must agree between the API and the CLI for the same files.
fn assert_same_as_cli(s: &Server, id: &str, files: &[PathBuf]) -> Value {
    let want = cli(files);
    let got = s.get(&format!("/api/straces/{id}/summary")).json();
    assert_eq!(got["syscalls"], want["syscalls"]);
    assert_eq!(got["pids"], want["pids"]);
    assert_eq!(rows(&got["summary"]), rows(&want["summary"]));
    assert_eq!(got["hints"], want["hints"]);
    let procs = s.get(&format!("/api/straces/{id}/processes")).json();
    let ends = |list: &Value| -> BTreeMap<u64, (Value, Value, Value)> {
        list.as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["pid"].as_u64().unwrap(),
                    (
                        p["exit_code"].clone(),
                        p["killed_by"].clone(),
                        p["parent"].clone(),
                    ),
                )
            })
            .collect()
    };
    assert_eq!(ends(&procs["items"]), ends(&want["processes"]));
    let files_api = s
        .get(&format!("/api/straces/{id}/files?limit=10000"))
        .json();
    let key = |f: &Value| {
        (
            f["path"].as_str().unwrap().to_string(),
            f["syscall"].as_str().unwrap().to_string(),
            f["pid"].as_u64().unwrap(),
            f["error"].clone(),
            f["line"].as_u64().unwrap(),
        )
    };
    let want_files: Vec<_> = want["files"].as_array().unwrap().iter().map(key).collect();
    let got_files: Vec<_> = files_api["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    assert_eq!(
        files_api["total"].as_u64().unwrap() as usize,
        want_files.len()
    );
    assert_eq!(got_files, want_files);
    let pauses = s.get(&format!("/api/straces/{id}/pauses?limit=20")).json();
    let (got_pauses, want_pauses) = (
        pauses["items"].as_array().unwrap(),
        want["pauses"].as_array().unwrap(),
    );
    assert_eq!(got_pauses.len(), want_pauses.len().min(20));
    for (g, w) in got_pauses.iter().zip(want_pauses) {
        assert_eq!(
            (
                &g["kind"],
                &g["pid"],
                &g["syscall"],
                &g["duration"],
                &g["line"]
            ),
            (
                &w["kind"],
                &w["pid"],
                &w["syscall"],
                &w["duration"],
                &w["line"]
            )
        );
    }
    got
}

#[test]
fn each_sample_log_matches_the_cli() {
    let dir = fresh_dir("strace-api-cli");
    let s = Server::start(&dir, &[]);
    for name in [
        "ls.txt",
        "app.txt",
        "curl_loop.txt",
        "killed.txt",
        "plain.txt",
    ] {
        let files = vec![sample(name)];
        let id = upload(&s, &files);
        let st = wait(&s, &id);
        assert_eq!(st["status"], "done", "{name}: {st}");
        assert_eq!(st["progress"], 1.0);
        assert_eq!(st["name"], name);
        assert_eq!(st["files"][0]["sha256"].as_str().unwrap().len(), 64);
        assert_same_as_cli(&s, &id, &files);
    }
    let list = s.get("/api/straces").json();
    assert_eq!(list["total"], 5);
    assert_eq!(list["items"][0]["name"], "plain.txt", "newest first");
}

#[test]
fn ff_files_in_one_multipart_upload_merge_by_time() {
    let dir = fresh_dir("strace-api-ff");
    let s = Server::start(&dir, &[]);
    let id = upload(&s, &ff_files());
    let st = wait(&s, &id);
    assert_eq!(st["status"], "done", "{st}");
    assert_eq!(st["name"], "out.4990 +2");
    assert_eq!(st["files"].as_array().unwrap().len(), 3);
    assert_eq!(st["summary"]["pids"], serde_json::json!([4990, 4991, 5082]));
    let got = assert_same_as_cli(&s, &id, &ff_files());
    // Every call start, per name, as awk counted them in make.sh.
    let counts = std::fs::read_to_string(sample("curl_ff.counts.txt")).unwrap();
    let want: BTreeMap<String, u64> = counts
        .lines()
        .map(|l| {
            let (n, c) = l.split_once(' ').unwrap();
            (n.to_string(), c.parse().unwrap())
        })
        .collect();
    let ours: BTreeMap<String, u64> = rows(&got["summary"])
        .into_iter()
        .map(|(n, (calls, _, unreturned))| (n, calls + unreturned))
        .collect();
    assert_eq!(ours, want);
    // The pause that matters: curl polling a 2 s server, with bash's
    // wait4 on it right after, attributed to it.
    let pauses = s.get(&format!("/api/straces/{id}/pauses?limit=2")).json();
    let (first, second) = (&pauses["items"][0], &pauses["items"][1]);
    assert_eq!(first["syscall"].as_str(), Some("poll"), "{pauses}");
    assert_eq!(
        (second["pid"].as_u64(), second["syscall"].as_str()),
        (Some(4990), Some("wait4"))
    );
    assert_eq!(second["waiting_for"], first["pid"]);
    assert!(second["duration"].as_f64().unwrap() > 2.0);
    // Time order across the files: the first curl call comes after bash's.
    let calls = s
        .get(&format!("/api/straces/{id}/syscalls?limit=10000"))
        .json();
    let ts: Vec<f64> = calls["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["ts"].as_f64().unwrap())
        .collect();
    assert_eq!(ts.len() as u64, calls["total"].as_u64().unwrap());
    assert!(ts.windows(2).all(|w| w[0] <= w[1]));
    let curl = s
        .get(&format!("/api/straces/{id}/syscalls?pid=4991&limit=1"))
        .json();
    assert_eq!(curl["items"][0]["file"], "out.4991");
}

#[test]
fn raw_upload_then_filters_sort_paging_and_focus() {
    let dir = fresh_dir("strace-api-filters");
    let s = Server::start(&dir, &[]);
    let r = s.post_raw(
        "/api/straces?name=app.txt",
        &std::fs::read(sample("app.txt")).unwrap(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(wait(&s, &id)["status"], "done");
    let q = |query: &str| s.get(&format!("/api/straces/{id}/syscalls?{query}")).json();
    // strace -c for this run (app.c.txt): 159 calls, 16 errors, openat 34/13.
    let all = q("");
    assert_eq!(all["total"], 161, "159 that returned + 2 exit_group");
    assert_eq!(all["items"].as_array().unwrap().len(), 100, "default page");
    assert_eq!(q("syscall=openat")["total"], 34);
    assert_eq!(q("syscall=openat&failed=1")["total"], 13);
    assert_eq!(q("failed=1")["total"], 16);
    assert_eq!(q("syscall=openat,access&failed=1")["total"], 16);
    assert_eq!(q("errno=ENOENT&syscall=access")["total"], 3);
    let enoent = q("syscall=openat&errno=ENOENT&limit=1");
    let item = &enoent["items"][0];
    assert_eq!(item["errno"], "ENOENT");
    assert!(item["errno_meaning"]
        .as_str()
        .unwrap()
        .contains("does not exist"));
    assert!(item["meaning"].as_str().unwrap().len() > 10);
    let xml = q("contains=app.xml");
    assert!(xml["total"].as_u64().unwrap() >= 1);
    assert!(xml["items"].as_array().unwrap().iter().all(|c| c["args"]
        .as_str()
        .unwrap()
        .contains("app.xml")
        || c["result"].as_str().unwrap().contains("app.xml")));
    // Per process: the child's calls only.
    let child = q("pid=4898&limit=10000");
    assert!(child["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["pid"] == 4898));
    let both = q("pid=4897,4898")["total"].as_u64().unwrap();
    assert_eq!(both, 161);
    // Longest first, as the CLI's slowest call.
    let want = cli(&[sample("app.txt")]);
    let slow = q("sort=duration&limit=1");
    assert_eq!(slow["items"][0]["syscall"], want["slowest"][0]["syscall"]);
    assert_eq!(slow["items"][0]["line"], want["slowest"][0]["line"]);
    let asc = q("sort=duration&order=asc&min_duration=0.000001&limit=3");
    let d: Vec<f64> = asc["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["duration"].as_f64().unwrap())
        .collect();
    assert!(
        d.windows(2).all(|w| w[0] <= w[1]) && d[0] >= 0.000001,
        "{d:?}"
    );
    let newest = q("order=desc&limit=1");
    assert_eq!(newest["items"][0]["syscall"], "exit_group");
    // Paging.
    let page = q("limit=10&offset=150");
    assert_eq!(page["total"], 161);
    assert_eq!(page["offset"], 150);
    assert_eq!(page["items"].as_array().unwrap().len(), 10);
    // `at`: the page holding a line (here the slow wait4), marked.
    let line = want["slowest"][0]["line"].as_u64().unwrap();
    let at = q(&format!("at=0:{line}&limit=7"));
    let focus = at["focus"].as_u64().unwrap() as usize;
    assert_eq!(at["offset"].as_u64().unwrap() % 7, 0);
    assert_eq!(at["items"][focus]["line"].as_u64(), Some(line));
    assert_eq!(q("at=0:1&syscall=openat")["focus"], Value::Null);

    // Files: configuration files and what the program searched for.
    let f = |query: &str| s.get(&format!("/api/straces/{id}/files?{query}")).json();
    let config = f("config=1");
    let paths: Vec<&str> = config["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/tmp/tracedeck-strace-work/conf/app.xml",
            "conf/local.xml",
            "/tmp/tracedeck-strace-work/conf/child.xml"
        ]
    );
    assert_eq!(config["items"][0]["result"], 3, "opened as fd 3");
    assert_eq!(config["items"][2]["pid"], 4898, "the child's own config");
    let probes = f("enoent=1&config=1");
    assert_eq!(probes["total"], 1);
    assert_eq!(probes["items"][0]["error"], "ENOENT");
    assert_eq!(f("pid=4898&config=1")["total"], 1);
    assert_eq!(f("limit=5&offset=5")["items"].as_array().unwrap().len(), 5);

    // Processes and timelines.
    let procs = s.get(&format!("/api/straces/{id}/processes")).json();
    assert_eq!(procs["total"], 2);
    assert_eq!(procs["items"][1]["parent"], 4897);
    assert_eq!(procs["items"][1]["depth"], 1);
    let tl = s
        .get(&format!("/api/straces/{id}/timeline?pid=4898"))
        .json();
    assert_eq!(tl["total"], procs["items"][1]["syscalls"]);
    assert_eq!(
        s.get(&format!("/api/straces/{id}/timeline?pid=1")).status,
        404
    );
    let unparsed = s.get(&format!("/api/straces/{id}/unparsed")).json();
    assert_eq!(unparsed["total"], 0);

    // Bad parameters: 400 with a message saying what is accepted.
    for bad in [
        "syscalls?pid=x",
        "syscalls?sort=name",
        "syscalls?order=up",
        "syscalls?limit=0",
        "syscalls?limit=10001",
        "syscalls?at=x",
        "syscalls?failed=yes",
        "syscalls?errno=enoent",
        "syscalls?min_duration=-1",
        "syscalls?bogus=1",
        "syscalls?syscall=a;b",
        "syscalls?pid=1&pid=2",
        "files?config=maybe",
        "files?pid=1,2",
        "pauses?kind=nap",
        "timeline",
        "summary?x=1",
    ] {
        let r = s.get(&format!("/api/straces/{id}/{bad}"));
        assert_eq!(r.status, 400, "{bad}: {}", r.text());
        assert!(r.json()["error"].as_str().unwrap().len() > 10, "{bad}");
    }
    // The HTML pages take the same parameters.
    assert_eq!(s.get(&format!("/s/{id}/syscalls?pid=x")).status, 400);
    let page = s.get(&format!("/s/{id}/syscalls?syscall=openat&failed=1"));
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("Calls 1–13 of 13"), "count shown");
    assert!(html.contains("ENOENT"));
    assert!(html.contains("does not exist"), "errno meaning shown");
    for unknown in [
        "/api/straces/0123456789abcdef0123456789abcdef",
        "/api/straces/nope/summary",
        "/s/0123456789abcdef0123456789abcdef/files",
    ] {
        assert_eq!(s.get(unknown).status, 404, "{unknown}");
    }
}

#[test]
fn garbage_fails_with_the_parsers_message() {
    let dir = fresh_dir("strace-api-garbage");
    let s = Server::start(&dir, &["--max-upload", "64KiB"]);
    let r = s.post_files(
        "/api/straces",
        &[("notes.txt", b"hello\nthis is not strace\n")],
    );
    assert_eq!(r.status, 201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    let st = wait(&s, &id);
    assert_eq!(st["status"], "failed");
    let err = st["error"].as_str().unwrap();
    assert!(err.starts_with("notes.txt:1: not an strace log"), "{err}");
    let page = s.get(&format!("/s/{id}"));
    assert_eq!(page.status, 200);
    assert!(page.text().contains("notes.txt:1: not an strace log"));
    let r = s.get(&format!("/api/straces/{id}/syscalls"));
    assert_eq!(r.status, 409, "{}", r.text());
    // A good log with a bad one: the bad one is named.
    let good = std::fs::read(sample("ls.txt")).unwrap();
    let r = s.post_files(
        "/api/straces",
        &[
            ("ls.txt", &good),
            ("second.bin", &[0u8, 1, 2, 3, 255, b'\n']),
        ],
    );
    let st = wait(&s, r.json()["id"].as_str().unwrap());
    assert!(
        st["error"].as_str().unwrap().starts_with("second.bin:1:"),
        "{st}"
    );
    // Empty, missing and too large uploads: 4xx, and nothing is kept.
    assert_eq!(s.post_raw("/api/straces", b"").status, 400);
    assert_eq!(s.post_files("/api/straces", &[]).status, 400);
    let big = vec![b'x'; 40 << 10];
    let r = s.post_files("/api/straces", &[("a", &big), ("b", &big)]);
    assert_eq!(r.status, 413, "{}", r.text());
    assert!(r.json()["error"].as_str().unwrap().contains("65536"));
    let staging = dir.join("straces/staging");
    assert_eq!(std::fs::read_dir(staging).unwrap().count(), 0);
    assert_eq!(s.get("/api/straces").json()["total"], 2);
}

#[test]
fn gzip_restart_reparse_and_delete() {
    let dir = fresh_dir("strace-api-life");
    let id = {
        let s = Server::start(&dir, &[]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&std::fs::read(sample("killed.txt")).unwrap())
            .unwrap();
        let r = s.post_files("/api/straces", &[("killed.txt.gz", &gz.finish().unwrap())]);
        let id = r.json()["id"].as_str().unwrap().to_string();
        assert_eq!(wait(&s, &id)["status"], "done");
        id
    };
    // As if the server died mid-parse: the next start parses it again.
    let db = rusqlite::Connection::open(dir.join("straces.db")).unwrap();
    db.execute(
        "UPDATE straces SET status = 'analyzing', summary = NULL",
        [],
    )
    .unwrap();
    drop(db);
    let s = Server::start(&dir, &[]);
    let st = wait(&s, &id);
    assert_eq!(st["status"], "done");
    assert_eq!(st["summary"]["pids"], serde_json::json!([5111, 5112, 5113]));
    let procs = s.get(&format!("/api/straces/{id}/processes")).json();
    let killed: Vec<&Value> = procs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["killed_by"] == "SIGTERM")
        .collect();
    assert_eq!(killed.len(), 1);
    assert_eq!(killed[0]["pid"], 5112);
    assert_eq!(killed[0]["signals"], serde_json::json!(["SIGTERM"]));
    // Delete: the confirmation page, then the API; everything goes.
    let confirm = s.get(&format!("/s/{id}/delete"));
    assert!(confirm.text().contains("Delete for good"));
    assert_eq!(s.delete(&format!("/api/straces/{id}")).status, 204);
    assert_eq!(s.get(&format!("/api/straces/{id}")).status, 404);
    assert_eq!(s.get(&format!("/s/{id}")).status, 404);
    assert_eq!(s.delete(&format!("/api/straces/{id}")).status, 404);
    assert!(!dir.join("straces").join(&id).exists());
}
