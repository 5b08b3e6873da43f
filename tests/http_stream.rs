//! HTTP/1.x exchanges from scripted stream events: framing, pipelining,
//! interim responses, tunnels, gaps, closes, non-HTTP streams, and
//! independence from how the bytes are chunked.

use tracedeck::flow::{Dir, StreamSink};
use tracedeck::http::{EndCause, Exchange, Parser, Peer};
use tracedeck::Timestamp;

use Dir::{ToClient as C, ToServer as S};

/// One call on the parser; times in milliseconds.
#[derive(Clone, Debug)]
enum Ev {
    Data(Dir, i64, &'static [u8]),
    Gap(Dir, i64, u64),
    Fin(Dir, i64),
    Rst(Dir, i64),
}

fn ms(t: i64) -> Timestamp {
    Timestamp::from_nanos(t * 1_000_000)
}

/// Runs events (frame = event index), chunking each data event with
/// `split`, then `finish` at 1 h.
fn run_split(events: &[Ev], split: &mut dyn FnMut(usize) -> Vec<usize>) -> Vec<Exchange> {
    let mut p: Parser = Parser::new(Vec::new());
    for (frame, ev) in events.iter().enumerate() {
        let frame = frame as u64;
        match *ev {
            Ev::Data(dir, t, bytes) => {
                let mut at = 0;
                for cut in split(bytes.len()) {
                    p.data(dir, ms(t), frame, &bytes[at..cut]);
                    at = cut;
                }
                p.data(dir, ms(t), frame, &bytes[at..]);
            }
            Ev::Gap(dir, t, len) => p.gap(dir, ms(t), frame, len),
            Ev::Fin(dir, t) => p.fin(dir, ms(t), frame),
            Ev::Rst(dir, t) => p.reset(dir, ms(t), frame),
        }
    }
    p.finish(ms(3_600_000));
    p.into_sink()
}

fn run(events: &[Ev]) -> Vec<Exchange> {
    run_split(events, &mut |_| Vec::new())
}

/// Same exchanges whatever the chunking: every single cut point, one
/// byte at a time, and seeded random chunkings.
fn run_checked(events: &[Ev]) -> Vec<Exchange> {
    let whole = run(events);
    let longest = events
        .iter()
        .map(|e| match e {
            Ev::Data(_, _, b) => b.len(),
            _ => 0,
        })
        .max()
        .unwrap_or(0);
    for cut in 1..longest {
        let got = run_split(events, &mut |len| {
            if cut < len {
                vec![cut]
            } else {
                vec![]
            }
        });
        assert_eq!(got, whole, "cut at {cut}");
    }
    let bytewise = run_split(events, &mut |len| (1..len).collect());
    assert_eq!(bytewise, whole, "one byte at a time");
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for round in 0..50 {
        let got = run_split(events, &mut |len| {
            let mut cuts = Vec::new();
            let mut at = 0;
            loop {
                at += 1 + (rng.next() % 40) as usize;
                if at >= len {
                    break;
                }
                cuts.push(at);
            }
            cuts
        });
        assert_eq!(got, whole, "random chunking round {round}");
    }
    whole
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn summary(ex: &Exchange) -> (Option<&str>, Option<&str>, Option<u16>, u64, u64) {
    (
        ex.method.as_deref(),
        ex.uri.as_deref(),
        ex.status,
        ex.request_body_bytes,
        ex.response_body_bytes,
    )
}

#[test]
fn one_get_with_content_length() {
    let ex = run_checked(&[
        Ev::Data(
            S,
            1000,
            b"GET /index.html HTTP/1.1\r\nHost: example.com:8080\r\nUser-Agent: curl/8.5.0\r\n\r\n",
        ),
        Ev::Data(
            C,
            3003,
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 10\r\n\r\n01234",
        ),
        Ev::Data(C, 3010, b"56789"),
        Ev::Fin(S, 4000),
        Ev::Fin(C, 4001),
    ]);
    assert_eq!(ex.len(), 1);
    let e = &ex[0];
    assert_eq!(
        summary(e),
        (Some("GET"), Some("/index.html"), Some(200), 0, 10)
    );
    assert_eq!(e.host.as_deref(), Some("example.com:8080"));
    assert_eq!(e.user_agent.as_deref(), Some("curl/8.5.0"));
    assert_eq!(e.content_type.as_deref(), Some("text/html"));
    assert_eq!(e.content_length, Some(10));
    assert_eq!(e.version.as_deref(), Some("HTTP/1.1"));
    assert_eq!(e.reason.as_deref(), Some("OK"));
    assert_eq!(
        (e.request_start, e.request_end),
        (Some(ms(1000)), Some(ms(1000)))
    );
    assert_eq!(
        (e.response_start, e.response_end),
        (Some(ms(3003)), Some(ms(3010)))
    );
    assert_eq!(
        (e.response_first_frame, e.response_last_frame),
        (Some(1), Some(2))
    );
    assert_eq!(
        e.server_time().map(|s| s.to_string()),
        Some("2.003 s".into())
    );
    assert_eq!(e.total_time().map(|s| s.as_nanos()), Some(2_010_000_000));
    assert!(!e.interrupted && !e.has_gap && !e.malformed);
    assert_eq!(e.end, None);
    assert_eq!(e.request_dir, S);
}

#[test]
fn python_http_server_writes_a_line_per_segment() {
    let ex = run_checked(&[
        Ev::Data(S, 0, b"GET /f HTTP/1.1\r\nHost: 127.0.0.1:8000\r\n\r\n"),
        Ev::Data(C, 5, b"HTTP/1.0 200 OK\r\n"),
        Ev::Data(C, 6, b"Server: SimpleHTTP/0.6 Python/3.12.3\r\n"),
        Ev::Data(C, 7, b"Content-type: application/octet-stream\r\n"),
        Ev::Data(C, 8, b"Content-Length: 3\r\n"),
        Ev::Data(C, 9, b"\r\n"),
        Ev::Data(C, 10, b"abc"),
        Ev::Fin(C, 11),
    ]);
    assert_eq!(ex.len(), 1);
    assert_eq!(summary(&ex[0]), (Some("GET"), Some("/f"), Some(200), 0, 3));
    assert_eq!(ex[0].response_start, Some(ms(5)));
    assert_eq!(ex[0].response_end, Some(ms(10)));
    assert_eq!(ex[0].response_version.as_deref(), Some("HTTP/1.0"));
    assert_eq!(ex[0].end, None);
}

#[test]
fn keep_alive_statuses_post_head_304_chunked_and_close_delimited() {
    let ex = run_checked(&[
        Ev::Data(S, 0, b"GET /a HTTP/1.1\r\nHost: h\r\n\r\n"),
        Ev::Data(C, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"),
        Ev::Data(S, 2, b"GET /old HTTP/1.1\r\nHost: h\r\n\r\n"),
        Ev::Data(C, 3, b"HTTP/1.1 301 Moved Permanently\r\nLocation: /a\r\nContent-Length: 0\r\n\r\n"),
        Ev::Data(S, 4, b"GET /missing HTTP/1.1\r\nHost: h\r\n\r\n"),
        Ev::Data(C, 5, b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found"),
        Ev::Data(S, 6, b"POST /form HTTP/1.1\r\nHost: h\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\na=1&b=2"),
        Ev::Data(C, 7, b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\n\r\noops"),
        Ev::Data(S, 8, b"HEAD /a HTTP/1.1\r\nHost: h\r\n\r\n"),
        Ev::Data(C, 9, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"),
        Ev::Data(S, 10, b"GET /a HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"x\"\r\n\r\n"),
        Ev::Data(C, 11, b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\nContent-Length: 2\r\n\r\n"),
        Ev::Data(S, 12, b"GET /chunked HTTP/1.1\r\nHost: h\r\n\r\n"),
        Ev::Data(C, 13, b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\nWiki\r\n5\r\npedia\r\n"),
        Ev::Data(C, 14, b"E\r\n in\r\n\r\nchunks.\r\n0\r\nX-Trailer: t\r\n\r\n"),
        Ev::Data(S, 15, b"GET /no-content HTTP/1.1\r\nHost: h\r\n\r\n"),
        Ev::Data(C, 16, b"HTTP/1.1 204 No Content\r\n\r\n"),
        Ev::Data(S, 17, b"GET /old-style HTTP/1.0\r\n\r\n"),
        Ev::Data(C, 18, b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil"),
        Ev::Data(C, 19, b" close"),
        Ev::Fin(C, 20),
        Ev::Fin(S, 21),
    ]);
    let got: Vec<_> = ex.iter().map(summary).collect();
    assert_eq!(
        got,
        vec![
            (Some("GET"), Some("/a"), Some(200), 0, 2),
            (Some("GET"), Some("/old"), Some(301), 0, 0),
            (Some("GET"), Some("/missing"), Some(404), 0, 9),
            (Some("POST"), Some("/form"), Some(500), 7, 4),
            (Some("HEAD"), Some("/a"), Some(200), 0, 0),
            (Some("GET"), Some("/a"), Some(304), 0, 0),
            (Some("GET"), Some("/chunked"), Some(200), 0, 23),
            (Some("GET"), Some("/no-content"), Some(204), 0, 0),
            (Some("GET"), Some("/old-style"), Some(200), 0, 11),
        ]
    );
    assert_eq!(ex[6].transfer_encoding.as_deref(), Some("chunked"));
    assert_eq!(
        (ex[6].response_start, ex[6].response_end),
        (Some(ms(13)), Some(ms(14)))
    );
    assert_eq!(ex[3].request_content_length, Some(7));
    let close = &ex[8];
    // A close-delimited body is complete at the FIN (tshark times it there).
    assert_eq!(close.response_end, Some(ms(20)));
    assert!(!close.interrupted);
    assert_eq!(
        close.end.map(|e| (e.cause, e.by)),
        Some((EndCause::Closed, Some(Peer::Server)))
    );
    assert!(ex.iter().all(|e| !e.malformed && !e.has_gap));
}

#[test]
fn close_delimited_body_cut_by_capture_end_is_interrupted() {
    let ex = run(&[
        Ev::Data(S, 0, b"GET / HTTP/1.0\r\n\r\n"),
        Ev::Data(C, 1, b"HTTP/1.0 200 OK\r\n\r\npartial"),
    ]);
    assert_eq!(summary(&ex[0]), (Some("GET"), Some("/"), Some(200), 0, 7));
    assert!(ex[0].interrupted);
    assert_eq!(ex[0].end.map(|e| e.cause), Some(EndCause::CaptureEnded));
}

#[test]
fn expect_100_continue() {
    let ex = run_checked(&[
        Ev::Data(
            S,
            0,
            b"POST /upload HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 6\r\n\r\n",
        ),
        Ev::Data(C, 10, b"HTTP/1.1 100 Continue\r\n\r\n"),
        Ev::Data(S, 20, b"abc"),
        Ev::Data(S, 30, b"def"),
        Ev::Data(C, 530, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(ex.len(), 1);
    let e = &ex[0];
    assert_eq!(summary(e), (Some("POST"), Some("/upload"), Some(201), 6, 0));
    assert_eq!(e.interim.len(), 1);
    assert_eq!(
        (e.interim[0].status, e.interim[0].ts, e.interim[0].frame),
        (100, ms(10), 1)
    );
    assert_eq!(e.request_end, Some(ms(30)));
    assert_eq!(e.response_start, Some(ms(530)));
    assert_eq!(e.server_time().map(|s| s.as_nanos()), Some(500_000_000));
}

#[test]
fn pipelined_requests_with_head_in_the_queue() {
    let ex = run_checked(&[
        Ev::Data(
            S,
            0,
            b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nHEAD /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\n\r\n",
        ),
        Ev::Data(
            C,
            5,
            b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\none\
              HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n\
              HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nthree",
        ),
    ]);
    let got: Vec<_> = ex.iter().map(summary).collect();
    assert_eq!(
        got,
        vec![
            (Some("GET"), Some("/1"), Some(200), 0, 3),
            (Some("HEAD"), Some("/2"), Some(200), 0, 0),
            (Some("GET"), Some("/3"), Some(200), 0, 5),
        ]
    );
    assert_eq!(ex[1].content_length, Some(1000));
}

#[test]
fn upgrade_101_stops_parsing() {
    let ex = run_checked(&[
        Ev::Data(
            S,
            0,
            b"GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        ),
        Ev::Data(
            C,
            1,
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x05hello",
        ),
        Ev::Data(S, 2, b"\x81\x85GET / HTTP/1.1\r\n\r\n"),
        Ev::Data(C, 3, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].status, Some(101));
    assert!(ex[0].upgraded);
}

#[test]
fn upgrade_refused_replays_held_requests() {
    let ex = run_checked(&[
        Ev::Data(
            S,
            0,
            b"GET /a HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n",
        ),
        Ev::Data(
            C,
            1,
            b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\naHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        ),
    ]);
    let got: Vec<_> = ex.iter().map(summary).collect();
    assert_eq!(
        got,
        vec![
            (Some("GET"), Some("/a"), Some(200), 0, 1),
            (Some("GET"), Some("/b"), Some(404), 0, 0),
        ]
    );
    assert!(!ex[0].upgraded);
}

#[test]
fn connect_tunnel_and_refused_connect() {
    let ex = run_checked(&[
        Ev::Data(
            S,
            0,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        ),
        Ev::Data(C, 1, b"HTTP/1.1 200 Connection established\r\n\r\n"),
        Ev::Data(S, 2, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
        Ev::Data(C, 3, b"\x16\x03\x03\x00\x5a\x02"),
    ]);
    assert_eq!(ex.len(), 1);
    assert_eq!(
        summary(&ex[0]),
        (Some("CONNECT"), Some("example.com:443"), Some(200), 0, 0)
    );
    assert!(ex[0].upgraded);

    let ex = run_checked(&[
        Ev::Data(
            S,
            0,
            b"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n",
        ),
        Ev::Data(
            C,
            1,
            b"HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n",
        ),
        Ev::Data(
            S,
            2,
            b"CONNECT example.com:443 HTTP/1.1\r\nProxy-Authorization: Basic eA==\r\n\r\n",
        ),
        Ev::Data(C, 3, b"HTTP/1.1 200 OK\r\n\r\n"),
        Ev::Data(S, 4, b"\x16\x03\x01"),
    ]);
    let got: Vec<_> = ex.iter().map(|e| e.status).collect();
    assert_eq!(got, vec![Some(407), Some(200)]);
}

#[test]
fn response_without_request_and_request_without_response() {
    // Capture started after the first request was sent.
    let ex = run_checked(&[
        Ev::Data(C, 0, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
        Ev::Data(S, 1, b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
    ]);
    assert_eq!(ex.len(), 2);
    assert_eq!(summary(&ex[0]), (None, None, Some(200), 0, 2));
    assert_eq!(ex[0].request_dir, S);
    assert_eq!(summary(&ex[1]), (Some("GET"), Some("/next"), None, 0, 0));
    let end = ex[1].end.map(|e| (e.cause, e.ts));
    assert_eq!(end, Some((EndCause::CaptureEnded, ms(3_600_000))));
}

#[test]
fn reset_by_server_before_response() {
    let ex = run(&[
        Ev::Data(S, 0, b"GET /slow HTTP/1.1\r\nHost: h\r\n\r\n"),
        Ev::Rst(C, 500),
    ]);
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].status, None);
    let end = ex[0].end.map(|e| (e.cause, e.by, e.ts));
    assert_eq!(end, Some((EndCause::Reset, Some(Peer::Server), ms(500))));
    let v = tracedeck::http::judge(&ex[0], &Default::default());
    assert_eq!(
        v.text,
        "no response: connection reset by the server 500.0 ms after the request"
    );
}

#[test]
fn client_resets_mid_response() {
    let ex = run(&[
        Ev::Data(S, 0, b"GET /big HTTP/1.1\r\nHost: h\r\n\r\n"),
        Ev::Data(C, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"),
        Ev::Data(C, 2, &[b'x'; 1448]),
        Ev::Rst(S, 3),
    ]);
    assert_eq!(
        summary(&ex[0]),
        (Some("GET"), Some("/big"), Some(200), 0, 1448)
    );
    assert!(ex[0].interrupted);
    assert_eq!(ex[0].end.map(|e| e.by), Some(Some(Peer::Client)));
}

#[test]
fn roles_reversed_when_the_capture_had_no_syn() {
    // The flow layer guessed wrong: requests travel "ToClient".
    let ex = run_checked(&[
        Ev::Data(C, 0, b"GET /x HTTP/1.1\r\nHost: h\r\n\r\n"),
        Ev::Data(S, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n!"),
        Ev::Fin(S, 2),
    ]);
    assert_eq!(ex.len(), 1);
    assert_eq!(summary(&ex[0]), (Some("GET"), Some("/x"), Some(200), 0, 1));
    assert_eq!(ex[0].request_dir, C);
    assert_eq!(ex[0].end, None);
}

#[test]
fn gap_inside_content_length_body_counts_as_body() {
    let ex = run_checked(&[
        Ev::Data(S, 0, b"GET /a HTTP/1.1\r\n\r\n"),
        Ev::Data(C, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\n\r\n"),
        Ev::Data(C, 2, &[b'a'; 1000]),
        Ev::Gap(C, 3, 1448),
        Ev::Data(C, 4, &[b'a'; 552]),
        Ev::Data(S, 5, b"GET /b HTTP/1.1\r\n\r\n"),
        Ev::Data(C, 6, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nb"),
    ]);
    let got: Vec<_> = ex.iter().map(summary).collect();
    assert_eq!(
        got,
        vec![
            (Some("GET"), Some("/a"), Some(200), 0, 3000),
            (Some("GET"), Some("/b"), Some(200), 0, 1),
        ]
    );
    assert!(ex[0].has_gap && !ex[1].has_gap);
    assert_eq!(ex[0].response_end, Some(ms(4)));
}

#[test]
fn gap_over_a_response_head_resyncs_at_the_next_response() {
    let ex = run_checked(&[
        Ev::Data(S, 0, b"GET /1 HTTP/1.1\r\n\r\n"),
        Ev::Data(C, 1, b"HTTP/1.1 200 OK\r\nContent-Len"),
        Ev::Gap(C, 2, 500),
        Ev::Data(C, 3, b"tail of the lost body"),
        Ev::Data(S, 4, b"GET /2 HTTP/1.1\r\n\r\n"),
        Ev::Data(C, 5, b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
    ]);
    let got: Vec<_> = ex.iter().map(summary).collect();
    assert_eq!(
        got,
        vec![
            (Some("GET"), Some("/1"), Some(200), 0, 0),
            (Some("GET"), Some("/2"), Some(404), 0, 0),
        ]
    );
    assert!(ex[0].has_gap);
    assert_eq!(ex[0].response_start, Some(ms(1)));
}

#[test]
fn gap_over_a_whole_request_keeps_responses_aligned() {
    let ex = run_checked(&[
        Ev::Data(S, 0, b"GET /1 HTTP/1.1\r\n\r\n"),
        Ev::Gap(S, 1, 19),
        Ev::Data(S, 2, b"GET /3 HTTP/1.1\r\n\r\n"),
        Ev::Data(C, 3, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        Ev::Data(C, 4, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
        Ev::Data(C, 5, b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"),
    ]);
    let got: Vec<_> = ex.iter().map(summary).collect();
    assert_eq!(
        got,
        vec![
            (Some("GET"), Some("/1"), Some(200), 0, 0),
            (None, None, Some(201), 0, 0),
            (Some("GET"), Some("/3"), Some(202), 0, 0),
        ]
    );
    assert!(ex[1].has_gap);
}

#[test]
fn gap_then_binary_body_tail_then_next_response_mid_line() {
    let ex = run_checked(&[
        Ev::Data(S, 0, b"GET /img HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n"),
        Ev::Data(
            C,
            1,
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n100\r\n\x89PNG",
        ),
        Ev::Gap(C, 2, 4000),
        Ev::Data(
            C,
            3,
            b"\x00\x01\x02\r\n0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ),
    ]);
    let got: Vec<_> = ex.iter().map(summary).collect();
    assert_eq!(
        got,
        vec![
            (Some("GET"), Some("/img"), Some(200), 0, 256),
            (Some("GET"), Some("/2"), Some(200), 0, 2),
        ]
    );
    assert!(ex[0].has_gap);
}

#[test]
fn capture_started_mid_response_body() {
    // Binary body tail first: that direction sleeps until the client's
    // next request shows this is HTTP, then it resyncs.
    let ex = run_checked(&[
        Ev::Data(C, 0, b"\x00\xffbody tail\x01"),
        Ev::Data(S, 1, b"GET /next HTTP/1.1\r\nHost: h\r\n\r\n"),
        Ev::Data(
            C,
            2,
            b"more tail\x02HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nnext",
        ),
    ]);
    assert_eq!(ex.len(), 1);
    assert_eq!(
        summary(&ex[0]),
        (Some("GET"), Some("/next"), Some(200), 0, 4)
    );
}

#[test]
fn tls_and_other_protocols_are_left_alone() {
    let mut p: Parser = Parser::new(Vec::new());
    p.data(
        S,
        ms(0),
        0,
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03GET / HTTP/1.1\r\n\r\n",
    );
    p.data(
        C,
        ms(1),
        1,
        b"\x16\x03\x03\x00\x5a\x02\x00\x00HTTP/1.1 200 OK\r\n\r\n",
    );
    assert!(p.is_idle());
    assert!(!p.is_http());
    p.finish(ms(2));
    assert!(p.into_sink().is_empty());

    // A text protocol (SMTP): searched for a few KiB, then dropped.
    let mut p: Parser = Parser::new(Vec::new());
    p.data(C, ms(0), 0, b"220 mail.example.com ESMTP Postfix\r\n");
    p.data(S, ms(1), 1, b"EHLO client.example.com\r\n");
    for i in 0..200 {
        p.data(
            S,
            ms(2 + i),
            2,
            b"RCPT TO:<someone@example.com> and a longer line of text\r\n",
        );
    }
    assert!(!p.is_http());
    p.finish(ms(1000));
    assert!(p.into_sink().is_empty());
}

#[test]
fn too_long_head_is_malformed_and_the_stream_recovers() {
    let mut big = b"GET /big HTTP/1.1\r\nX-Junk: ".to_vec();
    big.extend(std::iter::repeat_n(b'j', 70_000));
    big.extend_from_slice(b"\r\n\r\n");
    let big: &'static [u8] = Box::leak(big.into_boxed_slice());
    let ex = run(&[
        Ev::Data(S, 0, big),
        Ev::Data(S, 1, b"GET /ok HTTP/1.1\r\n\r\n"),
        Ev::Data(
            C,
            2,
            b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n\r\n",
        ),
        Ev::Data(C, 3, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
    ]);
    let got: Vec<_> = ex.iter().map(summary).collect();
    assert_eq!(
        got,
        vec![
            (Some("GET"), Some("/big"), Some(431), 0, 0),
            (Some("GET"), Some("/ok"), Some(200), 0, 0),
        ]
    );
    assert!(ex[0].malformed);
}

#[test]
fn exchanges_come_out_as_soon_as_complete() {
    let mut p: Parser = Parser::new(Vec::new());
    p.data(S, ms(0), 0, b"GET / HTTP/1.1\r\n\r\n");
    assert_eq!(p.sink().len(), 0);
    p.data(C, ms(1), 1, b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n");
    assert_eq!(p.sink().len(), 0);
    p.data(C, ms(2), 2, b"x");
    assert_eq!(p.sink().len(), 1);
    assert_eq!(p.request_dir(), Some(S));
    let first = p.sink_mut().drain(..).count();
    assert_eq!(first, 1);
}

#[test]
fn exchange_serializes_times_as_seconds() {
    let ex = run(&[
        Ev::Data(S, 1500, b"GET / HTTP/1.1\r\n\r\n"),
        Ev::Data(C, 2000, b"HTTP/1.1 204 No Content\r\n\r\n"),
    ]);
    let json = serde_json::to_value(&ex[0]).unwrap_or_default();
    assert_eq!(json["request_start"], serde_json::json!(1.5));
    assert_eq!(json["status"], serde_json::json!(204));
    assert_eq!(json["request_dir"], serde_json::json!("to_server"));
}

#[test]
fn request_gap_reported_after_its_response_is_not_a_new_request() {
    // The lost request's response arrives first; the hole in the request
    // stream is only reported when the next request comes.
    let ex = run_checked(&[
        Ev::Data(S, 0, b"GET /1 HTTP/1.1\r\n\r\n"),
        Ev::Data(C, 1, b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"),
        Ev::Data(C, 2, b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
        Ev::Gap(S, 3, 19),
        Ev::Data(S, 3, b"GET /3 HTTP/1.1\r\n\r\n"),
        Ev::Data(C, 4, b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\n\r\n"),
    ]);
    let got: Vec<_> = ex.iter().map(summary).collect();
    assert_eq!(
        got,
        vec![
            (Some("GET"), Some("/1"), Some(200), 0, 0),
            (None, None, Some(201), 0, 0),
            (Some("GET"), Some("/3"), Some(202), 0, 0),
        ]
    );
}

#[test]
fn http_after_a_socks_handshake_is_found() {
    let ex = run_checked(&[
        Ev::Data(S, 0, b"\x05\x01\x00"),
        Ev::Data(C, 1, b"\x05\x00"),
        Ev::Data(S, 2, b"\x05\x01\x00\x03\x0bexample.com\x00\x50"),
        Ev::Data(C, 3, b"\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x50"),
        Ev::Data(S, 4, b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"),
        Ev::Data(
            C,
            5,
            b"HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n",
        ),
    ]);
    let got: Vec<_> = ex.iter().map(summary).collect();
    assert_eq!(got, vec![(Some("GET"), Some("/"), Some(302), 0, 0)]);
    assert_eq!(ex[0].request_start, Some(ms(4)));
}
