//! The analyzer over hand-made connections: streams become exchanges,
//! their ends are named, and hostile input stays bounded.

use loona_hpack::Encoder;

use super::*;

fn at(n: u64) -> Timestamp {
    Timestamp::from_nanos(n as i64 * 1_000_000)
}

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn headers(enc: &mut Encoder<'_>, fields: &[(&str, &str)]) -> Vec<u8> {
    enc.encode(fields.iter().map(|(n, v)| (n.as_bytes(), v.as_bytes())))
}

const SETTINGS: u8 = 4;
const HEADERS: u8 = 1;
const DATA: u8 = 0;
const RST: u8 = 3;
const GOAWAY: u8 = 7;
const CONT: u8 = 9;

fn run(events: &[(Dir, Vec<u8>)]) -> Http2 {
    let mut h2 = Http2::default();
    for (i, (dir, bytes)) in events.iter().enumerate() {
        h2.data(*dir, at(i as u64), i as u64, bytes);
    }
    h2.finish(at(events.len() as u64));
    h2
}

fn request(enc: &mut Encoder<'_>, path: &str) -> Vec<u8> {
    headers(
        enc,
        &[
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "example.test"),
            (":path", path),
        ],
    )
}

#[test]
fn streams_become_exchanges() {
    let (mut c, mut s) = (Encoder::new(), Encoder::new());
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(SETTINGS, 0, 0, b""));
    hello.extend(frame(HEADERS, 0x5, 1, &request(&mut c, "/a")));
    let req3 = frame(HEADERS, 0x5, 3, &request(&mut c, "/b"));
    let resp1 = frame(
        HEADERS,
        0x4,
        1,
        &headers(
            &mut s,
            &[(":status", "200"), ("content-type", "text/plain")],
        ),
    );
    let body1 = frame(DATA, 0x1, 1, b"hello");
    let resp3 = frame(HEADERS, 0x5, 3, &headers(&mut s, &[(":status", "404")]));
    let h2 = run(&[
        (Dir::ToServer, hello),
        (Dir::ToClient, frame(SETTINGS, 0, 0, b"")),
        (Dir::ToServer, req3),
        (Dir::ToClient, resp1),
        (Dir::ToClient, resp3),
        (Dir::ToClient, body1),
    ]);
    assert!(h2.tally().confirmed);
    assert!(h2.notes.is_empty(), "{:?}", h2.notes);
    let got: Vec<_> = h2
        .done
        .iter()
        .map(|(e, f)| {
            (
                f.stream_id,
                e.uri.as_deref(),
                e.status,
                e.response_body_bytes,
                e.interrupted,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (3, Some("/b"), Some(404), 0, false),
            (1, Some("/a"), Some(200), 5, false)
        ]
    );
    let (a, _) = &h2.done[1];
    assert_eq!(
        a.host.as_deref(),
        Some("example.test"),
        "from the dynamic table"
    );
    assert_eq!(a.content_type.as_deref(), Some("text/plain"));
    assert_eq!((a.request_start, a.request_end), (Some(at(0)), Some(at(0))));
    assert_eq!(
        (a.response_start, a.response_end),
        (Some(at(3)), Some(at(5)))
    );
}

#[test]
fn rst_stream_and_goaway_name_the_end() {
    let mut c = Encoder::new();
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(HEADERS, 0x5, 1, &request(&mut c, "/slow")));
    hello.extend(frame(HEADERS, 0x5, 3, &request(&mut c, "/never")));
    let h2 = run(&[
        (Dir::ToServer, hello),
        (Dir::ToServer, frame(RST, 0, 1, &8u32.to_be_bytes())),
        (
            Dir::ToClient,
            frame(GOAWAY, 0, 0, &[0, 0, 0, 1, 0, 0, 0, 2]),
        ),
    ]);
    let mut h2 = h2;
    // A reset stream is kept a while for frames in flight: it is done
    // after the GOAWAY's.
    h2.done.sort_by_key(|(_, f)| f.stream_id);
    let ends: Vec<_> = h2
        .done
        .iter()
        .map(|(_, f)| f.end.clone().unwrap_or_default())
        .collect();
    assert_eq!(ends[0], "RST_STREAM CANCEL from the client after 0.001 s");
    assert_eq!(
        ends[1],
        "GOAWAY INTERNAL_ERROR from the server (last stream 1): not processed, safe to retry"
    );
    assert!(h2.done.iter().all(|(e, _)| e.interrupted));
    let verdicts: Vec<_> = h2
        .done
        .iter()
        .map(|(e, f)| crate::http::judge_stream(e, &Default::default(), &f.wait))
        .collect();
    assert_eq!(verdicts[0].wait, crate::http::Wait::Client);
    assert_eq!(
        verdicts[0].text,
        "no response: RST_STREAM CANCEL from the client 1.0 ms after the request"
    );
    assert_eq!(verdicts[1].wait, crate::http::Wait::Server);
    assert!(verdicts[1]
        .text
        .ends_with("safe to retry 2.0 ms after the request"));
}

const WINDOW_UPDATE: u8 = 8;

/// A gRPC call whose client cancels at its deadline while the server's
/// DEADLINE_EXCEEDED trailers are in flight: the trailers are the reset
/// stream's, no new stream; a second later the stream is done, and a
/// late frame on it starts nothing.
#[test]
fn frames_in_flight_after_rst_stream_stay_on_their_stream() {
    let (mut c, mut s) = (Encoder::new(), Encoder::new());
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(
        HEADERS,
        0x5,
        1,
        &headers(
            &mut c,
            &[
                (":method", "POST"),
                (":path", "/demo.Echo/Slow"),
                ("content-type", "application/grpc"),
                ("grpc-timeout", "500m"),
            ],
        ),
    ));
    let trailers = frame(
        HEADERS,
        0x5,
        1,
        &headers(
            &mut s,
            &[
                (":status", "200"),
                ("content-type", "application/grpc"),
                ("grpc-status", "4"),
            ],
        ),
    );
    let ms = |n: i64| Timestamp::from_nanos(n * 1_000_000);
    let mut h2 = Http2::default();
    h2.data(Dir::ToServer, ms(0), 0, &hello);
    h2.data(Dir::ToClient, ms(1), 1, &frame(SETTINGS, 0, 0, b""));
    h2.data(
        Dir::ToServer,
        ms(501),
        2,
        &frame(RST, 0, 1, &8u32.to_be_bytes()),
    );
    h2.data(Dir::ToClient, ms(502), 3, &trailers);
    assert!(h2.done.is_empty(), "kept for frames in flight");
    let ping = frame(6, 0, 0, &[0; 8]);
    h2.data(Dir::ToClient, ms(1600), 4, &ping);
    assert_eq!(h2.done.len(), 1, "done a second after its reset");
    h2.data(Dir::ToClient, ms(1700), 5, &frame(DATA, 0x1, 1, b"late"));
    h2.finish(ms(1800));
    assert_eq!(h2.done.len(), 1, "no new stream");
    let (e, f) = &h2.done[0];
    assert_eq!(e.status, Some(200));
    assert_eq!(f.grpc.as_ref().and_then(|g| g.status), Some(4));
    assert_eq!(
        f.end.as_deref(),
        Some("RST_STREAM CANCEL from the client after 0.501 s")
    );
    let v = crate::http::judge_stream(e, &Default::default(), &f.wait);
    assert_eq!(
        v.text,
        "gRPC DEADLINE_EXCEEDED after 502.0 ms (grpc-timeout 500.0 ms: past the deadline)"
    );
}

/// At most [`RESET_KEPT`] reset streams are kept.
#[test]
fn reset_streams_kept_are_bounded() {
    let mut c = Encoder::new();
    let mut h2 = Http2::default();
    h2.data(Dir::ToServer, at(0), 0, PREFACE);
    for i in 0..100u32 {
        let id = 2 * i + 1;
        let mut bytes = frame(HEADERS, 0x5, id, &request(&mut c, "/x"));
        bytes.extend(frame(RST, 0, id, &8u32.to_be_bytes()));
        h2.data(Dir::ToServer, at(1), 1 + u64::from(i), &bytes);
    }
    assert_eq!(h2.reset.len(), RESET_KEPT);
    assert_eq!(h2.done.len(), 100 - RESET_KEPT);
}

/// A server's 100-byte response to a client whose stream window is 40
/// bytes: two stalls of 100 ms each, ended by the client's
/// WINDOW_UPDATEs; the client is who the stream waited on.
#[test]
fn a_small_client_window_stalls_the_response() {
    let (mut c, mut s) = (Encoder::new(), Encoder::new());
    let mut hello = PREFACE.to_vec();
    // SETTINGS_INITIAL_WINDOW_SIZE = 40.
    hello.extend(frame(SETTINGS, 0, 0, &[0, 4, 0, 0, 0, 40]));
    hello.extend(frame(HEADERS, 0x5, 1, &request(&mut c, "/big")));
    let update = frame(WINDOW_UPDATE, 0, 1, &40u32.to_be_bytes());
    let events: Vec<(Dir, Vec<u8>, u64)> = vec![
        (Dir::ToServer, hello, 0),
        (Dir::ToClient, frame(SETTINGS, 0, 0, b""), 1),
        (
            Dir::ToClient,
            [
                frame(HEADERS, 0x4, 1, &headers(&mut s, &[(":status", "200")])),
                frame(DATA, 0, 1, &[b'a'; 40]),
            ]
            .concat(),
            2,
        ),
        (Dir::ToServer, update.clone(), 102),
        (Dir::ToClient, frame(DATA, 0, 1, &[b'b'; 40]), 103),
        (Dir::ToServer, update, 203),
        (Dir::ToClient, frame(DATA, 0x1, 1, &[b'c'; 20]), 204),
    ];
    let mut h2 = Http2::default();
    for (i, (dir, bytes, t)) in events.iter().enumerate() {
        h2.data(*dir, at(*t), i as u64, bytes);
    }
    h2.finish(at(300));
    let (e, f) = &h2.done[0];
    assert_eq!(e.response_body_bytes, 100);
    let stall = f.wait.response_stall.expect("a stall");
    assert_eq!((stall.count, stall.connection), (2, false));
    assert_eq!(stall.total.as_nanos(), 200_000_000);
    assert_eq!(f.wait.request_stall, None);
    let v = crate::http::judge_stream(e, &Default::default(), &f.wait);
    assert_eq!(v.wait, crate::http::Wait::Client);
    assert_eq!(
        v.text,
        "response body took 202.0 ms to transfer (100 bytes); stalled 200.0 ms waiting for the client's WINDOW_UPDATE (2 stalls)"
    );
}

/// Stream 3's response goes out after stream 1's large DATA: its time
/// between HEADERS and DATA is time behind another stream.
#[test]
fn a_response_waits_behind_another_streams_data() {
    let (mut c, mut s) = (Encoder::new(), Encoder::new());
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(HEADERS, 0x5, 1, &request(&mut c, "/big")));
    hello.extend(frame(HEADERS, 0x5, 3, &request(&mut c, "/small")));
    let ok = headers(&mut s, &[(":status", "200")]);
    let ok3 = headers(&mut s, &[(":status", "200")]);
    let events: Vec<(Dir, Vec<u8>, u64)> = vec![
        (Dir::ToServer, hello, 0),
        (
            Dir::ToClient,
            [
                frame(SETTINGS, 0, 0, b""),
                frame(HEADERS, 0x4, 1, &ok),
                frame(HEADERS, 0x4, 3, &ok3),
            ]
            .concat(),
            1,
        ),
        (Dir::ToClient, frame(DATA, 0, 1, &[0; 16_000]), 50),
        (Dir::ToClient, frame(DATA, 0x1, 1, &[0; 16_000]), 100),
        (Dir::ToClient, frame(DATA, 0x1, 3, b"done"), 101),
    ];
    let mut h2 = Http2::default();
    for (i, (dir, bytes, t)) in events.iter().enumerate() {
        h2.data(*dir, at(*t), i as u64, bytes);
    }
    h2.finish(at(300));
    let three = h2
        .done
        .iter()
        .find(|(_, f)| f.stream_id == 3)
        .expect("stream 3");
    assert_eq!(
        three.1.wait.behind,
        Some((crate::time::Span::from_nanos(100_000_000), 32_000))
    );
    let v = crate::http::judge_stream(&three.0, &Default::default(), &three.1.wait);
    assert_eq!(v.wait, crate::http::Wait::Transfer);
    assert!(
        v.text
            .ends_with("behind 32000 bytes of other streams' DATA"),
        "{}",
        v.text
    );
}

#[test]
fn a_mid_stream_capture_is_found_and_partial() {
    // A block that refers to a dynamic table entry never seen.
    let bytes = [
        frame(HEADERS, 0x5, 5, b"\x82\x86\x84\xbe"),
        frame(DATA, 0x1, 5, b"x"),
    ]
    .concat();
    assert_eq!(probe(Dir::ToServer, &bytes), Probe::Yes);
    let h2 = run(&[(Dir::ToServer, bytes)]);
    let (e, f) = &h2.done[0];
    assert_eq!(e.method.as_deref(), Some("GET"));
    assert_eq!(e.host, None, "unknown, not wrong");
    assert!(f.note.as_deref().unwrap_or("").contains("HPACK"));
    assert!(!h2.notes.is_empty());
}

#[test]
fn the_probe_refuses_text_and_tls() {
    assert_eq!(probe(Dir::ToServer, b"GET / HTTP/1.1\r\n"), Probe::No);
    assert_eq!(probe(Dir::ToServer, b"\x16"), Probe::No);
    assert_eq!(probe(Dir::ToServer, b"\x00\x00"), Probe::NeedMore);
    assert_eq!(
        probe(Dir::ToServer, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03"),
        Probe::No
    );
    assert_eq!(probe(Dir::ToServer, b"PRI * HTTP/2.0"), Probe::Yes);
    // HTTP/1 (first in the registry) leaves the preface to this probe.
    assert_ne!(
        crate::analysis::http1::probe(Dir::ToServer, PREFACE),
        Probe::Yes
    );
    assert_eq!(probe(Dir::ToServer, b"PR"), Probe::NeedMore);
    assert_eq!(probe(Dir::ToServer, b"POST / HTTP/1.1"), Probe::No);
}

#[test]
fn large_headers_over_continuation() {
    let mut c = Encoder::new();
    let big = "v".repeat(40_000);
    let block = headers(
        &mut c,
        &[
            (":method", "GET"),
            (":path", "/big"),
            ("x-big", big.as_str()),
        ],
    );
    let mut hello = PREFACE.to_vec();
    let pieces: Vec<&[u8]> = block.chunks(16_000).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let end = if i + 1 == pieces.len() { 0x4 } else { 0 };
        let (kind, flags) = if i == 0 {
            (HEADERS, 0x1 | end)
        } else {
            (CONT, end)
        };
        hello.extend(frame(kind, flags, 1, piece));
    }
    let h2 = run(&[(Dir::ToServer, hello)]);
    assert_eq!(h2.done[0].0.uri.as_deref(), Some("/big"));
}

#[test]
fn a_continuation_flood_is_bounded() {
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(HEADERS, 0x1, 1, b"\x82"));
    let filler = vec![0x82u8; 16_000];
    let mut h2 = Http2::default();
    h2.data(Dir::ToServer, at(0), 0, &hello);
    let cont = frame(CONT, 0, 1, &filler);
    for i in 0..200 {
        h2.data(Dir::ToServer, at(1), i, &cont);
        let held = h2.blocks[0].as_ref().map_or(0, |b| b.bytes.len());
        assert!(held <= MAX_HEADER_BLOCK);
    }
    h2.data(Dir::ToServer, at(2), 999, &frame(CONT, 0x4, 1, b""));
    h2.finish(at(3));
    assert!(
        h2.notes.iter().any(|n| n.contains("CONTINUATION flood")),
        "{:?}",
        h2.notes
    );
}

#[test]
fn hpack_bombs_and_absurd_frames_are_noted() {
    let mut hello = PREFACE.to_vec();
    // A table size update to 2^32 - 1 before :method GET.
    hello.extend(frame(HEADERS, 0x5, 1, b"\x3f\xe1\xff\xff\xff\x0f\x82"));
    // A DATA frame announcing 16 MiB, of which a little arrives.
    hello.extend(b"\xff\xff\xff\x00\x00\x00\x00\x00\x03");
    hello.extend(vec![0u8; 100_000]);
    let h2 = run(&[(Dir::ToServer, hello)]);
    assert!(
        h2.notes.iter().any(|n| n.contains("did not decode")),
        "{:?}",
        h2.notes
    );
    assert_eq!(h2.done[0].0.method, None, "unknown, not guessed");
    let mut big = Http2::default();
    let mut bytes = PREFACE.to_vec();
    bytes.extend(b"\xff\xff\xff\x00\x00\x00\x00\x00\x03");
    big.data(Dir::ToServer, at(0), 0, &bytes);
    let chunk = vec![0u8; 1 << 20];
    for i in 0..17 {
        big.data(Dir::ToServer, at(1), i, &chunk);
    }
    big.finish(at(2));
    assert!(
        big.notes
            .iter()
            .any(|n| n.contains("over the maximum frame size")),
        "{:?}",
        big.notes
    );
}

/// A gap in the middle of a server's DATA frame: the frames after it are
/// found again, and the note says so.
#[test]
fn frames_are_found_again_after_a_gap() {
    let mut c = Encoder::new();
    let mut hello = PREFACE.to_vec();
    hello.extend(frame(HEADERS, 0x5, 1, &request(&mut c, "/a")));
    hello.extend(frame(HEADERS, 0x5, 3, &request(&mut c, "/b")));
    let body = frame(DATA, 0, 1, &[b'z'; 100]);
    let mut h2 = Http2::default();
    h2.data(Dir::ToServer, at(0), 0, &hello);
    let mut first = frame(SETTINGS, 0, 0, b"");
    // :status 200 from the static table (index 8).
    first.extend(frame(HEADERS, 0x4, 1, b"\x88"));
    first.extend(&body[..40]);
    h2.data(Dir::ToClient, at(1), 1, &first);
    h2.gap(Dir::ToClient, at(2), 2, 40);
    let mut rest = body[80..].to_vec();
    rest.extend(frame(HEADERS, 0x5, 3, b"\x8d")); // :status 404
    h2.data(Dir::ToClient, at(3), 3, &rest[..25]);
    h2.data(Dir::ToClient, at(4), 4, &rest[25..]);
    h2.data(Dir::ToClient, at(5), 5, &frame(DATA, 0x1, 1, b"end"));
    h2.finish(at(6));
    assert!(
        h2.notes
            .iter()
            .any(|n| n.contains("found again 29 bytes after a gap")),
        "{:?}",
        h2.notes
    );
    let by_id: BTreeMap<u32, &Exchange> = h2.done.iter().map(|(e, f)| (f.stream_id, e)).collect();
    assert_eq!(by_id[&3].status, Some(404));
    assert!(by_id[&1].has_gap);
    assert_eq!(
        by_id[&1].response_end,
        Some(at(5)),
        "stream 1 read to its end"
    );
}
