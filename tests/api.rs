//! `tracedeck serve` driven over HTTP: the real binary on 127.0.0.1:0 with
//! a data directory of its own per test.
//!
//! The sample capture (sample-captures/api/http-loopback.pcap, made by the
//! script beside it) holds five TCP conversations between curl and
//! python's http.server, 61 packets; tshark's conversation table for it:
//!
//! ```text
//! id client port  frames  bytes  duration  request
//! 0  46598        13      1169   0.0135    GET /index.html  -> 200
//! 1  46602        12      1414   0.0008    GET /missing     -> 404
//! 2  46616        12      21 kB  0.0059    GET /big.txt     -> 200
//! 3  46618        12      1419   0.0057    GET /also-missing -> 404
//! 4  46630        12      1459   0.0007    DELETE /index.html -> 501
//! ```

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::serve::{fresh_dir, Server};
use crate::support::wait::wait_until;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-captures/api")
        .join(name)
}

/// Uploads a sample (multipart, as a browser form does) and returns the
/// new capture's id.
fn upload(server: &Server, file: &str) -> String {
    let bytes = std::fs::read(sample(file)).unwrap();
    let r = server.post_files("/api/captures", &[(file, &bytes)]);
    assert_eq!(r.status, 201, "{}", r.text());
    let j = r.json();
    let id = j["id"].as_str().unwrap().to_string();
    assert_eq!(j["url"], format!("/c/{id}"));
    id
}

fn ids(list: &Value) -> Vec<u64> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_u64().unwrap())
        .collect()
}

#[test]
fn upload_multipart_and_raw_then_browse() {
    let dir = fresh_dir("browse");
    let s = Server::start(&dir, &[]);
    let id = upload(&s, "http-loopback.pcap");
    let st = s.wait(&id);
    assert_eq!(st["status"], "done", "{st}");
    assert_eq!(st["progress"], 1.0);
    assert_eq!(st["packets"], 61);
    assert_eq!(st["name"], "http-loopback.pcap");
    let cap = &st["summary"]["capture"];
    assert_eq!(cap["packets"], 61);
    assert_eq!(cap["conversations"], 5);
    assert_eq!(cap["link_types"], serde_json::json!([1]));
    assert_eq!(cap["format"], "pcap");
    // HTTP exchanges found by the analysis: 200, 404, 200, 404, 501.
    let http = &st["summary"]["http"];
    assert_eq!(http["exchanges"], 5);
    assert_eq!(http["by_class"]["2xx"], 2);
    assert_eq!(http["by_class"]["4xx"], 2);
    assert_eq!(http["by_class"]["5xx"], 1);
    let h404 = s.get(&format!("/api/captures/{id}/http?status=404")).json();
    assert_eq!(h404["total"], 2);
    let uris: Vec<&str> = h404["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, vec!["/missing", "/also-missing"]);
    assert_eq!(h404["items"][0]["conversation"], 1);
    assert!(h404["items"][0]["verdict"].is_string());
    let h5 = s
        .get(&format!("/api/captures/{id}/http?status=5xx&method=DELETE"))
        .json();
    assert_eq!(h5["total"], 1);
    assert_eq!(h5["items"][0]["status"], 501);
    let sha = st["sha256"].as_str().unwrap();
    assert_eq!(sha.len(), 64);

    // Default: duration, longest first.
    let base = format!("/api/captures/{id}/conversations");
    let by_duration = s.get(&base).json();
    assert_eq!(by_duration["total"], 5);
    assert_eq!(ids(&by_duration), vec![0, 2, 3, 1, 4]);
    assert_eq!(
        ids(&s.get(&format!("{base}?sort=duration&order=asc")).json()),
        vec![4, 1, 3, 2, 0]
    );
    assert_eq!(ids(&s.get(&format!("{base}?sort=bytes")).json())[0], 2);
    assert_eq!(
        ids(&s.get(&format!("{base}?sort=start")).json()),
        vec![0, 1, 2, 3, 4]
    );
    assert_eq!(
        ids(&s.get(&format!("{base}?sort=client&order=desc")).json()),
        vec![4, 3, 2, 1, 0]
    );
    let page = s.get(&format!("{base}?sort=start&limit=2&offset=1")).json();
    assert_eq!(page["total"], 5);
    assert_eq!(ids(&page), vec![1, 2]);
    let first = &by_duration["items"][0];
    assert_eq!(first["client"], "127.0.0.1:46598");
    assert_eq!(first["server"], "127.0.0.1:18931");
    assert_eq!(first["packets_c2s"], 7);
    assert_eq!(first["packets_s2c"], 6);
    assert_eq!(
        first["bytes_c2s"].as_u64().unwrap() + first["bytes_s2c"].as_u64().unwrap(),
        1169
    );
    assert_eq!(first["state"], "closed");
    // Every documented sort key is accepted.
    for key in [
        "id",
        "proto",
        "client",
        "server",
        "start",
        "end",
        "duration",
        "packets",
        "packets_c2s",
        "packets_s2c",
        "bytes",
        "bytes_c2s",
        "bytes_s2c",
        "payload_c2s",
        "payload_s2c",
        "state",
        "http_exchanges",
        "handshake_rtt",
        "retransmissions",
        "gap_bytes_c2s",
        "gap_bytes_s2c",
        "zero_windows",
        "first_frame",
        "last_frame",
    ] {
        let r = s.get(&format!("{base}?sort={key}&order=asc"));
        assert_eq!(r.status, 200, "sort={key}: {}", r.text());
        assert_eq!(r.json()["items"].as_array().unwrap().len(), 5);
    }

    // One conversation, its packets, its stream, its pcap.
    let one = s.get(&format!("{base}/2")).json();
    assert!(one["payload_s2c"].as_u64().unwrap() > 20_000);
    let packets = s.get(&format!("{base}/2/packets")).json();
    assert_eq!(packets["total"], 12);
    let items = packets["items"].as_array().unwrap();
    assert_eq!(items.len(), 12);
    assert_eq!(items[0]["tcp_flags"], 2, "first packet is the SYN");
    assert_eq!(items[0]["dir"], "to_server");
    assert_eq!(items[1]["dir"], "to_client");
    let frames: Vec<u64> = items.iter().map(|p| p["frame"].as_u64().unwrap()).collect();
    assert!(frames.windows(2).all(|w| w[0] < w[1]), "{frames:?}");
    assert_eq!(
        s.get(&format!("{base}/2/packets?limit=5&offset=10")).json()["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    let stream = s.get(&format!("{base}/1/stream")).json();
    let chunks = stream["chunks"].as_array().unwrap();
    assert_eq!(chunks[0]["dir"], "to_server");
    assert!(chunks[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("GET /missing HTTP/1.1\r\n"));
    assert_eq!(chunks[1]["dir"], "to_client");
    assert!(chunks[1]["text"]
        .as_str()
        .unwrap()
        .starts_with("HTTP/1.0 404 File not found"));
    assert_eq!(stream["truncated"], false);
    assert_eq!(stream["bytes_c2s"], 86);
    let big = s.get(&format!("{base}/2/stream")).json();
    assert_eq!(big["bytes_s2c"], one["payload_s2c"]);

    let pcap = s.get(&format!("{base}/2/pcap"));
    assert_eq!(pcap.status, 200);
    assert_eq!(
        pcap.header("content-type"),
        Some("application/vnd.tcpdump.pcap")
    );
    let out = dir.join("conv2.pcap");
    std::fs::write(&out, &pcap.body).unwrap();
    let mut reader = tracedeck::pcap::Reader::open(&out).unwrap();
    let mut n = 0;
    let mut bytes = 0u64;
    while let Some(f) = reader.next_frame().unwrap() {
        n += 1;
        bytes += u64::from(f.orig_len);
    }
    assert_eq!(n, 12);
    assert_eq!(
        bytes,
        one["bytes_c2s"].as_u64().unwrap() + one["bytes_s2c"].as_u64().unwrap()
    );

    // The same capture gzip-compressed, as a raw body.
    let gz = std::fs::read(sample("http-loopback.pcap.gz")).unwrap();
    let r = s.post_raw("/api/captures?name=again.pcap.gz", &gz);
    assert_eq!(r.status, 201, "{}", r.text());
    let id2 = r.json()["id"].as_str().unwrap().to_string();
    let st2 = s.wait(&id2);
    assert_eq!(st2["status"], "done", "{st2}");
    assert_eq!(st2["summary"]["capture"]["compressed"], true);
    assert_eq!(st2["summary"]["capture"]["packets"], 61);
    assert_eq!(st2["size"], gz.len());
    // Offsets refer to the decompressed copy: the stream reads back.
    let stream2 = s
        .get(&format!("/api/captures/{id2}/conversations/1/stream"))
        .json();
    assert_eq!(stream2["bytes_c2s"], 86);
    assert!(!s
        .data
        .join("captures")
        .join(&id2)
        .join("upload.gz")
        .exists());

    let list = s.get("/api/captures").json();
    assert_eq!(list["total"], 2);
    assert_eq!(list["items"][0]["id"], id2.as_str(), "newest first");

    // Delete removes the row and every file.
    assert_eq!(s.delete(&format!("/api/captures/{id}")).status, 204);
    assert_eq!(s.get(&format!("/api/captures/{id}")).status, 404);
    assert_eq!(
        s.get(&format!("/api/captures/{id}/conversations")).status,
        404
    );
    assert_eq!(s.delete(&format!("/api/captures/{id}")).status, 404);
    assert!(!s.data.join("captures").join(&id).exists());
    assert_eq!(s.get("/api/captures").json()["total"], 1);
    assert!(s.staging_is_empty());
}

#[test]
fn bad_input_gets_4xx_and_a_message() {
    let dir = fresh_dir("bad");
    let s = Server::start(&dir, &["--max-upload", "64KiB"]);

    // Garbage is accepted as an upload, then fails with a message naming what it is.
    let r = s.post_raw(
        "/api/captures",
        b"PK\x03\x04 this is really a zip file, honest",
    );
    assert_eq!(r.status, 201);
    let st = s.wait(r.json()["id"].as_str().unwrap());
    assert_eq!(st["status"], "failed");
    let msg = st["error"].as_str().unwrap();
    assert!(msg.contains("not a pcap or pcapng file"), "{msg}");
    assert!(msg.contains("zip archive"), "{msg}");

    // A capture cut in the middle of its file header.
    let pcap = std::fs::read(sample("http-loopback.pcap")).unwrap();
    let r = s.post_raw("/api/captures", &pcap[..10]);
    let st = s.wait(r.json()["id"].as_str().unwrap());
    assert_eq!(st["status"], "failed");
    assert!(st["error"].as_str().unwrap().contains("cut short"), "{st}");
    // Results of a failed capture: 409 with a message.
    let r = s.get(&format!(
        "/api/captures/{}/conversations",
        st["id"].as_str().unwrap()
    ));
    assert_eq!(r.status, 409);
    assert!(r.json()["error"].as_str().unwrap().contains("failed"));

    assert_eq!(s.post_raw("/api/captures", b"").status, 400);

    // Over --max-upload: 413 as JSON, raw and multipart, and nothing kept.
    let big = vec![0u8; 100 << 10];
    let r = s.post_raw("/api/captures", &big);
    assert_eq!(r.status, 413);
    assert!(r.json()["error"].as_str().unwrap().contains("--max-upload"));
    let r = s.post_files("/api/captures", &[("big.pcap", &big)]);
    assert_eq!(r.status, 413);
    assert!(s.staging_is_empty());

    // Hostile query parameters and IDs.
    let good = upload(&s, "http-loopback.pcap");
    s.wait(&good);
    let conv = format!("/api/captures/{good}/conversations");
    for (q, want) in [
        ("limit=-1", "limit must be a whole number"),
        ("limit=100000", "limit must be a whole number"),
        ("sort=;drop", "cannot sort by ';drop'"),
        (
            "sort=duration%3B%20DROP%20TABLE%20conversations",
            "cannot sort by",
        ),
        ("order=sideways", "order must be"),
        ("offset=abc", "offset must be"),
        ("bogus=1", "unknown parameter 'bogus'"),
    ] {
        let r = s.get(&format!("{conv}?{q}"));
        assert_eq!(r.status, 400, "{q}");
        let e = r.json()["error"].as_str().unwrap().to_string();
        assert!(e.contains(want), "{q}: {e}");
    }
    let http = format!("/api/captures/{good}/http");
    for q in [
        "status=abc",
        "status=600-500",
        "min_total_time=-3",
        "method=G%20T",
    ] {
        assert_eq!(s.get(&format!("{http}?{q}")).status, 400, "{q}");
    }
    for path in [
        "/api/captures/0123456789abcdef0123456789abcdef".to_string(),
        "/api/captures/..%2F..%2Fetc%2Fpasswd".to_string(),
        "/api/captures/ZZZ/conversations".to_string(),
        format!("{conv}/999"),
        format!("{conv}/-1/packets"),
        format!("{conv}/99999999999999999999999/stream"),
        format!("{conv}/12/pcap"),
        "/api/nothing-here".to_string(),
    ] {
        let r = s.get(&path);
        assert_eq!(r.status, 404, "{path}: {}", r.text());
        assert!(r.json()["error"].is_string());
    }
    // The server is still up and the good capture intact.
    assert_eq!(s.get(&conv).json()["total"], 5);
}

#[test]
fn broken_off_upload_leaves_nothing() {
    let dir = fresh_dir("broken");
    let s = Server::start(&dir, &[]);
    let addr = s.base.trim_start_matches("http://").to_string();
    let mut conn = TcpStream::connect(&addr).unwrap();
    write!(
        conn,
        "POST /api/captures HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/octet-stream\r\nContent-Length: 1000000\r\n\r\n"
    )
    .unwrap();
    conn.write_all(&[0xd4; 300_000]).unwrap();
    conn.flush().unwrap();
    // Break the connection off once the server is writing the upload down.
    wait_until(
        "the upload to reach staging",
        Duration::from_secs(10),
        || !s.staging_is_empty(),
    );
    drop(conn);
    wait_until(
        "the half-received upload to leave staging",
        Duration::from_secs(10),
        || s.staging_is_empty(),
    );
    assert_eq!(s.get("/api/captures").json()["total"], 0);
}

#[test]
fn restart_keeps_results_and_reruns_interrupted() {
    use tracedeck::analysis::{self, Options};
    use tracedeck::store::{NewCapture, SqliteStore, Store};

    let dir = fresh_dir("restart");
    let first = Server::start(&dir, &[]);
    let id = upload(&first, "http-loopback.pcap");
    assert_eq!(first.wait(&id)["status"], "done");
    let before = first
        .get(&format!("/api/captures/{id}/conversations?sort=bytes"))
        .text();
    drop(first); // SIGKILL

    // An analysis interrupted half-way: started, never committed.
    let interrupted = {
        let store = SqliteStore::open(&dir).unwrap();
        let staged = store.staging_path().unwrap();
        std::fs::copy(sample("http-loopback.pcap"), &staged).unwrap();
        let meta = store
            .add_capture(
                &staged,
                NewCapture {
                    name: "interrupted.pcap".into(),
                    size: 27544,
                    sha256: "0".repeat(64),
                    gzip: false,
                },
            )
            .unwrap();
        let mut work = store.begin_analysis(&meta.id).unwrap();
        let mut reader = tracedeck::pcap::Reader::new(work.input).unwrap();
        let opts = Options {
            packets: true,
            ..Options::default()
        };
        analysis::analyze(&mut reader, &opts, work.writer.as_mut()).unwrap();
        // Simulate the crash: the process dies here; leave a stray temp file too.
        std::mem::forget(work.writer);
        std::fs::write(dir.join("staging").join("stray.part"), b"half").unwrap();
        meta.id.to_string()
    };

    let second = Server::start(&dir, &[]);
    let st = second.get(&format!("/api/captures/{id}")).json();
    assert_eq!(st["status"], "done");
    assert_eq!(st["summary"]["capture"]["conversations"], 5);
    assert_eq!(
        second
            .get(&format!("/api/captures/{id}/conversations?sort=bytes"))
            .text(),
        before
    );
    let again = second.wait(&interrupted);
    assert_eq!(again["status"], "done", "{again}");
    assert_eq!(again["summary"]["capture"]["packets"], 61);
    assert!(second.staging_is_empty());
    assert!(!dir
        .join("captures")
        .join(&interrupted)
        .join("results.db.tmp")
        .exists());
    assert_eq!(second.get("/api/captures").json()["total"], 2);
}

#[test]
fn http_exchanges_filter_and_sort() {
    use tracedeck::analysis::{self, Options};
    use tracedeck::store::{ExchangeRow, NewCapture, SqliteStore, Store};
    use tracedeck::time::{Span, Timestamp};

    let dir = fresh_dir("http");
    let id = {
        let store = SqliteStore::open(&dir).unwrap();
        let staged = store.staging_path().unwrap();
        std::fs::copy(sample("http-loopback.pcap"), &staged).unwrap();
        let meta = store
            .add_capture(
                &staged,
                NewCapture {
                    name: "with-http.pcap".into(),
                    size: 27544,
                    sha256: "0".repeat(64),
                    gzip: false,
                },
            )
            .unwrap();
        let mut work = store.begin_analysis(&meta.id).unwrap();
        let mut reader = tracedeck::pcap::Reader::new(work.input).unwrap();
        let opts = Options {
            packets: true,
            ..Options::default()
        };
        // The capture's own exchanges are left out: only the rows below count.
        struct Nothing;
        impl analysis::Output for Nothing {
            fn conversation(
                &mut self,
                _: &tracedeck::flow::Conversation,
            ) -> Result<(), analysis::OutputError> {
                Ok(())
            }
        }
        let summary = analysis::analyze(&mut reader, &opts, &mut Nothing).unwrap();
        // (conversation, method, uri, host, status, total ms, server ms)
        type Row<'a> = (u64, &'a str, &'a str, &'a str, Option<u16>, i64, i64);
        let rows: &[Row] = &[
            (0, "GET", "/index.html", "a.example", Some(200), 13, 2),
            (1, "GET", "/missing", "a.example", Some(404), 1, 1),
            (2, "GET", "/big.txt", "b.example", Some(200), 6, 1),
            (3, "GET", "/also-missing", "B.example", Some(404), 5, 4),
            (4, "DELETE", "/index.html", "a.example", Some(501), 700, 650),
            (
                4,
                "POST",
                "/api/upload?x=1",
                "a.example",
                Some(503),
                2500,
                2400,
            ),
            (4, "GET", "/hang", "a.example", None, 0, 0),
        ];
        for (i, &(conv, method, uri, host, status, total, server)) in rows.iter().enumerate() {
            let start = Timestamp::from_nanos(1_700_000_000_000_000_000 + i as i64 * 1_000_000);
            let has = status.is_some();
            work.writer.exchange_row(&ExchangeRow {
                id: 0,
                row: tracedeck::analysis::report::ExchangeRow {
                    conversation: conv,
                    client: format!("127.0.0.1:{}", 40000 + conv).parse().unwrap(),
                    server: "127.0.0.1:18931".parse().unwrap(),
                    method: Some(method.into()),
                    uri: Some(uri.into()),
                    host: Some(host.into()),
                    status,
                    request_start: Some(start),
                    request_end: Some(start),
                    response_start: has
                        .then(|| Timestamp::from_nanos(start.as_nanos() + server * 1_000_000)),
                    response_end: has
                        .then(|| Timestamp::from_nanos(start.as_nanos() + total * 1_000_000)),
                    server_time: has.then(|| Span::from_nanos(server * 1_000_000)),
                    total_time: has.then(|| Span::from_nanos(total * 1_000_000)),
                    request_body_bytes: 0,
                    response_body_bytes: 100 * i as u64,
                    content_type: Some("text/html".into()),
                    ..Default::default()
                },
            });
        }
        work.writer.commit(&summary).unwrap();
        meta.id.to_string()
    };
    let s = Server::start(&dir, &[]);
    let st = s.get(&format!("/api/captures/{id}")).json();
    assert_eq!(st["status"], "done");
    let http = &st["summary"]["http"];
    assert_eq!(http["exchanges"], 7);
    assert_eq!(http["by_class"]["2xx"], 2);
    assert_eq!(http["by_class"]["4xx"], 2);
    assert_eq!(http["by_class"]["5xx"], 2);
    assert_eq!(http["by_class"]["no_response"], 1);
    // total_time over the six answered: 1, 5, 6, 13, 700, 2500 ms.
    assert_eq!(http["total_time"]["p50"], 0.006);
    assert_eq!(http["total_time"]["p90"], 2.5);
    assert_eq!(http["total_time"]["max"], 2.5);
    assert_eq!(http["server_time"]["p50"], 0.002);

    let base = format!("/api/captures/{id}/http");
    let uris = |q: &str| -> Vec<String> {
        let j = s.get(&format!("{base}?{q}")).json();
        j["items"]
            .as_array()
            .unwrap_or_else(|| panic!("{q}: {j}"))
            .iter()
            .map(|e| e["uri"].as_str().unwrap().to_string())
            .collect()
    };
    let total = |q: &str| {
        s.get(&format!("{base}?{q}")).json()["total"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(total(""), 7);
    assert_eq!(uris("")[0], "/index.html", "default: request order");
    assert_eq!(total("status=404"), 2);
    assert_eq!(total("status=5xx"), 2);
    assert_eq!(total("status=500-599"), 2);
    assert_eq!(total("status=404,5xx"), 4);
    assert_eq!(total("status=501-502,200"), 3);
    assert_eq!(total("status=none"), 1);
    assert_eq!(total("method=delete"), 1);
    assert_eq!(total("host=b.example"), 2, "host is case-insensitive");
    assert_eq!(uris("path=missing"), vec!["/missing", "/also-missing"]);
    assert_eq!(total("min_total_time=0.5"), 2);
    assert_eq!(
        uris("sort=total_time&limit=2"),
        vec!["/api/upload?x=1", "/index.html"]
    );
    assert_eq!(
        uris("status=4xx&sort=server_time&order=asc"),
        vec!["/missing", "/also-missing"]
    );
    let page = s
        .get(&format!("{base}?sort=status&order=desc&limit=2&offset=1"))
        .json();
    assert_eq!(page["total"], 7);
    assert_eq!(page["items"][0]["status"], 501);
    let e = &s.get(&format!("{base}?status=503")).json()["items"][0];
    assert_eq!(e["method"], "POST");
    assert_eq!(e["total_time"], 2.5);
    assert_eq!(e["server_time"], 2.4);
    assert_eq!(e["conversation"], 4);
    for key in [
        "id",
        "conversation",
        "client",
        "server",
        "method",
        "uri",
        "host",
        "status",
        "request_start",
        "request_end",
        "response_start",
        "response_end",
        "server_time",
        "total_time",
        "request_body_bytes",
        "response_body_bytes",
        "content_type",
    ] {
        assert_eq!(
            s.get(&format!("{base}?sort={key}")).status,
            200,
            "sort={key}"
        );
    }
}

#[test]
fn pages_and_security_headers() {
    let dir = fresh_dir("pages");
    let s = Server::start(&dir, &[]);
    let home = s.get("/");
    assert_eq!(home.status, 200);
    let html = home.text();
    assert!(html.contains("enctype=\"multipart/form-data\""));
    assert!(html.contains("name=\"file\""));
    for r in [&home, &s.get("/api/captures"), &s.get("/api/captures/nope")] {
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"));
    }
    let bytes = std::fs::read(sample("http-loopback.pcap")).unwrap();
    let r = s.post_files("/upload", &[("<script>x</script>.pcap", &bytes)]);
    assert_eq!(r.status, 303, "{}", r.text());
    let location = r.header("location").unwrap().to_string();
    assert!(location.starts_with("/c/"));
    let id = location.trim_start_matches("/c/");
    s.wait(id);
    let page = s.get(&location).text();
    assert!(page.contains("done"));
    assert!(page.contains("127.0.0.1:46598"));
    assert!(
        !page.contains("<script>x</script>"),
        "file names are escaped"
    );
    assert!(s.get("/").text().contains(&location));
    let missing = s.get("/c/0123");
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("<html"));
    let css = s.get("/static/style.css");
    assert_eq!(css.status, 200);
    let mut body = String::new();
    (&css.body[..]).read_to_string(&mut body).unwrap();
    assert!(body.contains("table"));
}

/// Issue 7 in the web app: `filter=` analyzes the stored capture with a
/// pcap-filter expression (only matching packets count, as with
/// `analyze --filter`), caches it, hides it from the list, and deletes it
/// with its capture. A POST starts it (issue 19); a GET reads it.
#[test]
fn filtered_views_are_cached_hidden_and_deleted_with_their_capture() {
    let dir = fresh_dir("filtered");
    let s = Server::start(&dir, &[]);
    let id = upload(&s, "http-loopback.pcap");
    s.wait(&id);
    let path = format!("/api/captures/{id}/conversations?filter=tcp%20port%2046602");
    let first = s.post_json(
        &format!("/api/captures/{id}/analyses"),
        &serde_json::json!({ "filter": "tcp port 46602" }),
    );
    assert!(
        first.status == 202 || first.status == 200,
        "{}",
        first.text()
    );
    let mut done = None;
    wait_until("the filtered analysis", Duration::from_secs(30), || {
        let r = s.get(&path);
        assert!(r.status == 200 || r.status == 202, "{}", r.text());
        done = (r.status == 200).then(|| r.json());
        done.is_some()
    });
    let list = done.unwrap();
    // tcpdump -r http-loopback.pcap 'tcp port 46602' | wc -l: 12.
    assert_eq!(list["total"], 1);
    let c = &list["items"][0];
    assert_eq!(c["client"], "127.0.0.1:46602");
    assert_eq!(
        c["packets_c2s"].as_u64().unwrap() + c["packets_s2c"].as_u64().unwrap(),
        12
    );
    let http = s
        .get(&format!(
            "/api/captures/{id}/http?filter=tcp%20port%2046602"
        ))
        .json();
    assert_eq!(http["total"], 1);
    assert_eq!(http["items"][0]["uri"], "/missing");
    assert_eq!(http["items"][0]["status"], 404);
    let pkts = s
        .get(&format!(
            "/api/captures/{id}/conversations/0/packets?filter=tcp%20port%2046602"
        ))
        .json();
    assert_eq!(pkts["items"].as_array().unwrap().len(), 12);
    // Bad expressions are a 400 naming the column; the list shows only uploads.
    let bad = s.get(&format!(
        "/api/captures/{id}/conversations?filter=tcp%20port"
    ));
    assert_eq!(bad.status, 400);
    assert!(bad.text().contains("column"), "{}", bad.text());
    assert_eq!(s.get("/api/captures").json()["total"], 1);
    let dirs = || std::fs::read_dir(dir.join("captures")).unwrap().count();
    assert_eq!(dirs(), 2, "the capture and its filtered view");
    assert_eq!(s.delete(&format!("/api/captures/{id}")).status, 204);
    assert_eq!(dirs(), 0, "the filtered view goes with its capture");
}

/// Indexes of a results file, by name.
fn index_names(results: &Path) -> Vec<String> {
    let conn =
        rusqlite::Connection::open_with_flags(results, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
        .unwrap();
    let names = stmt.query_map([], |r| r.get(0)).unwrap();
    names.collect::<rusqlite::Result<_>>().unwrap()
}

#[test]
fn page_indexes_follow_the_results_and_a_restart_finishes_them() {
    let dir = fresh_dir("indexes-follow");
    let sorts = [
        "/conversations?sort=duration",
        "/conversations?sort=client&order=asc",
        "/conversations?sort=bytes&limit=2",
        "/http?sort=total_time&status=4xx",
    ];
    let (id, results, pages, all) = {
        let server = Server::start(&dir, &[]);
        let id = server.analyzed("sample.pcap", &sample("http-loopback.pcap"));
        let results = dir.join("captures").join(&id).join("results.db");
        let mut names = Vec::new();
        // They are made in order; the endpoint groups' come last.
        wait_until("the page indexes", Duration::from_secs(30), || {
            names = index_names(&results);
            names.iter().any(|n| n == "endpoint_groups_by_template")
        });
        assert!(names.len() > 30, "{names:?}");
        for made in ["conversations_by_duration", "http_by_status_total_time"] {
            assert!(names.iter().any(|n| n == made), "{made}: {names:?}");
        }
        let pages: Vec<String> = sorts
            .iter()
            .map(|s| server.get(&format!("/api/captures/{id}{s}")).text())
            .collect();
        for page in &pages {
            let items = serde_json::from_str::<Value>(page).unwrap()["items"].clone();
            assert!(items.as_array().is_some_and(|i| !i.is_empty()), "{page}");
        }
        (id, results, pages, names)
    };
    // As a restart midway through a build leaves it.
    let conn = rusqlite::Connection::open(&results).unwrap();
    conn.execute_batch(
        "DROP INDEX conversations_by_duration; DROP INDEX http_by_status_total_time;",
    )
    .unwrap();
    drop(conn);
    assert!(!index_names(&results).contains(&"conversations_by_duration".to_string()));
    let second = Server::start(&dir, &[]);
    // Read while the indexes may or may not be back: the same pages.
    for (sort, page) in sorts.iter().zip(&pages) {
        assert_eq!(
            &second.get(&format!("/api/captures/{id}{sort}")).text(),
            page,
            "{sort}"
        );
    }
    wait_until("the indexes made again", Duration::from_secs(30), || {
        index_names(&results) == all
    });
    for (sort, page) in sorts.iter().zip(&pages) {
        assert_eq!(
            &second.get(&format!("/api/captures/{id}{sort}")).text(),
            page,
            "{sort}"
        );
    }
}
