//! `tracedeck serve` under hostile uploads and clients (README, "The web
//! app", Limits): gzip bombs stop at --max-capture, an upload that cannot
//! fit on disk gets 507, stalled clients are disconnected.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::support::serve::{fresh_dir, Server};

/// `--max-capture` of the bomb tests: far below what the bombs inflate to.
const CAP: u64 = 8 << 20;
const CAP_ARG: &str = "8MiB";

/// Gzip of `head` then `zeros_mb` MiB of what `fill` repeats.
fn bomb(head: &[u8], fill: &[u8], mb: usize) -> Vec<u8> {
    let mut gz = GzEncoder::new(Vec::new(), Compression::fast());
    gz.write_all(head).unwrap();
    let block: Vec<u8> = fill.iter().copied().cycle().take(1 << 20).collect();
    for _ in 0..mb {
        gz.write_all(&block).unwrap();
    }
    gz.finish().unwrap()
}

/// Bytes of every file under `dir`.
fn bytes_under(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                bytes_under(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

fn assert_stopped_at_cap(s: &Server, status: &serde_json::Value, upload: usize) {
    assert_eq!(status["status"], "failed", "{status}");
    assert_eq!(
        status["error"],
        format!("the upload inflates past the --max-capture limit of {CAP} bytes (gzip bomb?)"),
    );
    let kept = bytes_under(&s.data);
    assert!(
        kept < upload as u64 + (4 << 20),
        "{kept} bytes left in the data directory for a {upload}-byte upload"
    );
}

#[test]
fn a_gzip_bomb_capture_stops_at_max_capture() {
    // A pcap header (microseconds, Ethernet) and then zeros: 16-byte empty
    // records, a valid capture that inflates without end.
    let mut head = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
    head.extend_from_slice(&[0; 8]);
    head.extend_from_slice(&65535u32.to_le_bytes());
    head.extend_from_slice(&1u32.to_le_bytes());
    let upload = bomb(&head, &[0], 200);
    let s = Server::start(&fresh_dir("limits-bomb"), &["--max-capture", CAP_ARG]);
    let r = s.post_raw("/api/captures?name=zeros.pcap.gz", &upload);
    assert_eq!(r.status, 201, "{}", r.text());
    let status = s.wait(r.json()["id"].as_str().unwrap());
    assert_stopped_at_cap(&s, &status, upload.len());
}

#[test]
fn a_gzip_bomb_strace_log_stops_at_max_capture() {
    let upload = bomb(b"", b"4897  close(3)                = 0\n", 200);
    let s = Server::start(
        &fresh_dir("limits-strace-bomb"),
        &["--max-capture", CAP_ARG],
    );
    let r = s.post_files("/api/straces", &[("out.gz", &upload)]);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let status = s.wait_finished(&format!("/api/straces/{id}"));
    assert_stopped_at_cap(&s, &status, upload.len());
}

#[test]
fn a_capture_exactly_at_max_capture_is_analyzed() {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures");
    let pcap = std::fs::read_dir(&sample)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "pcap"))
        .unwrap();
    let raw = std::fs::read(&pcap).unwrap();
    let upload = bomb(&raw, b"", 0);
    let cap = raw.len().to_string();
    let s = Server::start(&fresh_dir("limits-exact"), &["--max-capture", &cap]);
    let r = s.post_raw("/api/captures?name=exact.pcap.gz", &upload);
    assert_eq!(r.status, 201, "{}", r.text());
    let status = s.wait(r.json()["id"].as_str().unwrap());
    assert_eq!(status["status"], "done", "{status}");
}

/// The address of `s`, for raw TCP clients.
fn addr(s: &Server) -> String {
    s.base.trim_start_matches("http://").to_string()
}

/// Everything the server sends until it closes the connection (or 10 s
/// pass), and how long that took.
fn read_until_closed(conn: &mut TcpStream) -> (String, Duration) {
    let started = Instant::now();
    conn.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match conn.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    (
        String::from_utf8_lossy(&got).into_owned(),
        started.elapsed(),
    )
}

/// A connection that has sent `GET /api/captures` with `header`.
fn get_on_new_connection(s: &Server, header: &str) -> TcpStream {
    let mut conn = TcpStream::connect(addr(s)).unwrap();
    write!(
        conn,
        "GET /api/captures HTTP/1.1\r\nHost: {}\r\n{header}\r\n\r\n",
        addr(s)
    )
    .unwrap();
    conn
}

#[test]
fn an_upload_larger_than_the_free_space_gets_507_at_once() {
    let data = fresh_dir("limits-full");
    let free = tracedeck::capture::free_space(&data).unwrap().avail;
    let s = Server::start(&data, &["--max-upload", "1000TiB"]);
    let declared = free + (1 << 30);
    let mut conn = TcpStream::connect(addr(&s)).unwrap();
    write!(
        conn,
        "POST /api/captures HTTP/1.1\r\nHost: {}\r\nContent-Type: application/octet-stream\r\n\
         Content-Length: {declared}\r\nConnection: close\r\n\r\n",
        addr(&s)
    )
    .unwrap();
    conn.write_all(&[0xd4, 0xc3, 0xb2, 0xa1]).unwrap();
    let (answer, took) = read_until_closed(&mut conn);
    assert!(answer.starts_with("HTTP/1.1 507"), "{answer}");
    assert!(
        answer.contains(" GB free, this upload needs about ") && answer.contains("disk full: "),
        "{answer}"
    );
    assert!(took < Duration::from_secs(5), "answered after {took:?}");
    assert!(s.staging_is_empty());
}

#[test]
fn a_client_stalled_in_its_headers_is_disconnected() {
    let s = Server::start(&fresh_dir("limits-stall"), &["--header-timeout", "1s"]);
    let mut stalled = TcpStream::connect(addr(&s)).unwrap();
    stalled.write_all(b"GET /api/capt").unwrap();
    // Served meanwhile.
    assert_eq!(s.get("/api/captures").status, 200);
    let (_, took) = read_until_closed(&mut stalled);
    assert!(took < Duration::from_secs(4), "still open after {took:?}");
    // On a new connection: the agent's pooled one has been idle past the timeout.
    let (answer, _) = read_until_closed(&mut get_on_new_connection(&s, "Connection: close"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn an_idle_keep_alive_connection_is_closed() {
    let s = Server::start(&fresh_dir("limits-idle"), &["--header-timeout", "1s"]);
    let (answer, took) =
        read_until_closed(&mut get_on_new_connection(&s, "Accept: application/json"));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(took < Duration::from_secs(4), "still open after {took:?}");
}
