//! The TCP and HTTP edge cases of sample-captures/tcpedge/ (made by its
//! make.py with scapy) against tshark: conversations and HTTP exchanges
//! compared with the stored truth files, the stored truth checked against
//! tshark itself, and the facts each capture is there for.
//! See: issue 15 (data after a RST, the 30 s linger, HTTP parsing).

use std::path::PathBuf;

use serde_json::Value;
use tracedeck::analysis::{self, Options};
use tracedeck::flow::State;
use tracedeck::pcap::Reader;

use crate::http_vs_tshark::Collect;
use crate::support::need;
use crate::support::shared::samples;

fn edges() -> PathBuf {
    samples().join("tcpedge")
}

fn analyze(name: &str) -> Collect {
    let mut out = Collect::default();
    let mut reader = Reader::open(&edges().join(name)).unwrap();
    analysis::analyze(&mut reader, &Options::default(), &mut out).unwrap();
    out.convs.sort_by_key(|c| c.id);
    out
}

#[test]
fn issue_15_edge_conversations_match_tshark() {
    assert_eq!(crate::corpus::compare_dir(&edges()), 11);
}

/// Every request tshark reports is found with its status. Deliberate
/// differences (README, HTTP exchanges): a status line after a leading
/// space or a junk line is found (tshark sees no response: 2 exchanges), a
/// folded `Transfer-Encoding: chunked` is unfolded (tshark reads that
/// response to the close and gives it to the next request: 1 exchange with
/// other times), `chunked, identity` is read to the close as RFC 9112
/// says (tshark sees no response), and a folded Content-Length, a space
/// before its colon and `5, 5` are read (tshark reads those responses to the
/// close and gives them to the next request: 3 exchanges with other times).
/// Requests tshark does not report at all
/// (HTTP/0.9, the one after an urgent byte, a head cut by the capture's
/// end) are not counted here; `http_edges_tshark_does_not_see` checks them.
#[test]
fn issue_15_edge_http_matches_tshark() {
    let counts = crate::http_vs_tshark::compare_dir(&edges(), false);
    assert_eq!(counts, (26, 26, 22));
}

/// The stored truth files are what tshark says today.
#[test]
#[ignore = "needs tshark"]
fn issue_15_edge_truth_is_tshark_s() {
    need::tool("tshark");
    let dir = std::env::temp_dir().join(format!("tracedeck-tcpedge-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut names = Vec::new();
    for entry in std::fs::read_dir(edges()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".pcap") {
            std::fs::copy(&path, dir.join(&name)).unwrap();
            names.push(name);
        }
    }
    names.sort();
    let status = need::tool("python3")
        .arg(samples().join("truth.py"))
        .args(&names)
        .current_dir(&dir)
        .status()
        .unwrap();
    assert!(status.success());
    for name in &names {
        let truth = format!("{name}.truth.json");
        let read = |p: PathBuf| -> Value {
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        assert_eq!(
            read(dir.join(&truth)),
            read(edges().join(&truth)),
            "{name}: tshark's answer changed"
        );
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Stale state behind a NAT: challenge ACK, client RST, SYN retry. The
/// connection that follows is the same conversation and its GET is read.
#[test]
fn issue_15_syn_retry_after_a_reset_carries_on() {
    let out = analyze("tcpedge-rst-stale.pcap");
    assert_eq!(out.convs.len(), 1);
    assert_eq!(out.convs[0].state, State::Closed);
    assert_eq!(out.http.len(), 1);
    let e = &out.http[0].exchange;
    assert_eq!(
        (e.uri.as_deref(), e.status),
        (Some("/after-stale"), Some(200))
    );
    assert!(!e.has_gap && !e.interrupted);
}

/// A server RST that did not stop the server: the response after it is
/// the first request's, and the second request is read too.
#[test]
fn issue_15_data_after_a_reset_is_read() {
    let out = analyze("tcpedge-data-after-rst.pcap");
    let got: Vec<_> = out
        .http
        .iter()
        .map(|h| {
            (
                h.exchange.uri.clone().unwrap_or_default(),
                h.exchange.status,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("/first".to_string(), Some(200)),
            ("/second".to_string(), Some(200))
        ]
    );
    assert_eq!(out.convs[0].state, State::Closed);
    assert_eq!(out.convs[0].app.records, 2);
}

/// A RST 77 s after the close and a FIN retransmitted 45 s after it join
/// their conversations (tshark: 80.3 s and 45.1 s).
#[test]
fn issue_15_late_packets_rejoin_their_conversation() {
    let out = analyze("tcpedge-late-rst.pcap");
    let got: Vec<_> = out
        .convs
        .iter()
        .map(|c| {
            (
                c.server.port(),
                c.client.port(),
                c.duration().as_nanos() / 1_000_000,
                c.packets(),
            )
        })
        .collect();
    assert_eq!(got, [(80, 40003, 80_300, 10), (80, 40004, 45_100, 10)]);
    assert_eq!(out.convs[0].state, State::Reset);
    assert_eq!(out.convs[0].app.records, 1);
}

/// `Content-Length: 3` then `Content-Length: 8`: the last one frames the
/// body, as tshark reads it, and the exchange says the head was odd.
#[test]
fn issue_15_duplicate_content_length_takes_the_last() {
    let out = analyze("tcpedge-dup-length.pcap");
    assert_eq!(out.http.len(), 2);
    let dup = &out.http[0].exchange;
    assert_eq!((dup.content_length, dup.response_body_bytes), (Some(8), 8));
    assert!(dup.malformed);
    assert_eq!(out.http[1].exchange.status, Some(200));
}

/// Method, URI, status and verdict of a capture's exchanges, in order.
type Line = (Option<String>, Option<String>, Option<u16>, String);

fn lines(name: &str) -> Vec<Line> {
    analyze(name)
        .http
        .into_iter()
        .map(|h| {
            let e = h.exchange;
            (e.method, e.uri, e.status, h.verdict.text)
        })
        .collect()
}

/// Requests tshark does not report: an HTTP/0.9 request line and its
/// reply (we report both: the reply is the server's bytes up to its FIN,
/// without status line or headers), a request behind an urgent byte (kept
/// inline by the capture, removed by the receiving socket: we find the
/// request after it), and a head the capture's end cut (reported without
/// method or URI).
#[test]
fn http_edges_tshark_does_not_see() {
    let got = lines("tcpedge-http09.pcap");
    assert_eq!(
        (got[0].0.as_deref(), got[0].1.as_deref(), got[0].2),
        (Some("GET"), Some("/old"), None)
    );
    let http09 = &analyze("tcpedge-http09.pcap").http[0];
    let e = &http09.exchange;
    assert_eq!(
        (
            e.version.as_deref(),
            e.response_version.as_deref(),
            e.response_body_bytes,
            e.malformed,
            e.interrupted
        ),
        (Some("HTTP/0.9"), Some("HTTP/0.9"), 17, false, false)
    );
    assert!(
        http09
            .verdict
            .text
            .ends_with("; HTTP/0.9 response (no status line)"),
        "{}",
        http09.verdict.text
    );
    let got = lines("tcpedge-urgent.pcap");
    assert_eq!(
        (got[0].1.as_deref(), got[0].2),
        (Some("/urgent"), Some(200))
    );
    let got = lines("tcpedge-head-cut.pcap");
    assert_eq!(
        got,
        [(
            None,
            None,
            None,
            "request cut by the capture's end".to_string()
        )]
    );
}

/// Plain HTTP inside an established CONNECT tunnel is not parsed, as
/// tshark 4.0 does not parse it either: the CONNECT exchange is the only one.
#[test]
fn connect_tunnel_content_is_left_alone() {
    let out = analyze("tcpedge-connect.pcap");
    assert_eq!(out.http.len(), 1);
    assert!(out.http[0].exchange.upgraded);
}

/// Content-Length headers RFC 9110/9112 allow and tshark does not read
/// (folded, a space before the colon, `5, 5`): the body ends after its 5
/// bytes, in the second segment, and the next exchange is read.
#[test]
fn lenient_content_lengths_frame_the_body() {
    let out = analyze("tcpedge-odd-length.pcap");
    let got: Vec<_> = out
        .http
        .iter()
        .map(|h| (h.exchange.status, h.exchange.response_body_bytes))
        .collect();
    assert_eq!(got, [(Some(200), 5), (Some(200), 4)].repeat(3));
}
