//! Pipeline tests: analyzers registered for a test, fed from small
//! captures built here (raw-IP link type, hand-made IPv4 headers).

use std::io::Cursor;

use super::*;
use crate::flow::StreamSink;
use crate::pcap::LinkType;

const A: [u8; 4] = [10, 0, 0, 1];
const B: [u8; 4] = [10, 0, 0, 2];

fn ipv4(src: [u8; 4], dst: [u8; 4], protocol: u8, transport: &[u8]) -> Vec<u8> {
    let total = (20 + transport.len()) as u16;
    let mut p = vec![0x45, 0];
    p.extend_from_slice(&total.to_be_bytes());
    p.extend_from_slice(&[0, 0, 0x40, 0, 64, protocol, 0, 0]);
    p.extend_from_slice(&src);
    p.extend_from_slice(&dst);
    p.extend_from_slice(transport);
    p
}

fn udp(src: ([u8; 4], u16), dst: ([u8; 4], u16), payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&src.1.to_be_bytes());
    t.extend_from_slice(&dst.1.to_be_bytes());
    t.extend_from_slice(&((8 + payload.len()) as u16).to_be_bytes());
    t.extend_from_slice(&[0, 0]);
    t.extend_from_slice(payload);
    ipv4(src.0, dst.0, decode::PROTO_UDP, &t)
}

fn tcp(src: ([u8; 4], u16), dst: ([u8; 4], u16), seq: u32, flags: u8, payload: &[u8]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(&src.1.to_be_bytes());
    t.extend_from_slice(&dst.1.to_be_bytes());
    t.extend_from_slice(&seq.to_be_bytes());
    t.extend_from_slice(&0u32.to_be_bytes());
    t.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
    t.extend_from_slice(payload);
    ipv4(src.0, dst.0, decode::PROTO_TCP, &t)
}

/// A pcap file of raw IP packets, one per millisecond.
fn capture(packets: &[Vec<u8>]) -> Reader {
    let mut f = Vec::new();
    f.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    f.extend_from_slice(&2u16.to_le_bytes());
    f.extend_from_slice(&4u16.to_le_bytes());
    f.extend_from_slice(&[0; 8]);
    f.extend_from_slice(&65535u32.to_le_bytes());
    f.extend_from_slice(&LinkType::RAW.0.to_le_bytes());
    for (i, p) in packets.iter().enumerate() {
        f.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        f.extend_from_slice(&(i as u32 * 1000).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(&(p.len() as u32).to_le_bytes());
        f.extend_from_slice(p);
    }
    Reader::new(Cursor::new(f)).expect("a pcap")
}

/// Everything an analysis hands out.
#[derive(Default)]
struct Collect {
    conversations: Vec<Conversation>,
    exchanges: Vec<HttpExchange>,
    /// Fail the n-th `exchange` call (1-based).
    fail_exchange: Option<usize>,
    fail_conversations: bool,
}

impl Output for Collect {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError> {
        if self.fail_conversations {
            return Err(OutputError::new(
                "storing a conversation",
                "database is locked",
            ));
        }
        self.conversations.push(conv.clone());
        Ok(())
    }

    fn exchange(&mut self, exchange: HttpExchange) -> Result<(), OutputError> {
        self.exchanges.push(exchange);
        if Some(self.exchanges.len()) == self.fail_exchange {
            let disk = std::io::Error::other("disk full");
            return Err(OutputError::new("storing an exchange", disk));
        }
        Ok(())
    }
}

fn run(
    registry: &'static Registry,
    packets: &[Vec<u8>],
    out: &mut Collect,
) -> Result<CaptureSummary, Error> {
    let opts = Options {
        registry,
        ..Options::default()
    };
    analyze(&mut capture(packets), &opts, out)
}

// ----- a datagram analyzer -----

/// Counts the datagrams of flows to port 7 (echo), each a record.
#[derive(Default)]
struct EchoCounter {
    bytes: [u64; 2],
    datagrams: u64,
}

impl DatagramAnalyzer for EchoCounter {
    fn datagram(&mut self, dir: crate::flow::Dir, _: Timestamp, _: u64, payload: &[u8]) {
        self.bytes[dir.index()] += payload.len() as u64;
        self.datagrams += 1;
    }

    fn drain(&mut self, _: &Context<'_>, _: &mut dyn Emit) -> Result<(), OutputError> {
        Ok(())
    }

    fn tally(&self) -> Tally {
        Tally {
            confirmed: self.bytes[0] == self.bytes[1],
            records: self.datagrams,
            reversed: 0,
        }
    }
}

static ECHO: Registry = Registry {
    streams: &[],
    datagrams: &[DatagramEntry {
        name: "echo",
        probe: |conv, _, _| conv.server.port() == 7,
        new: || Box::new(EchoCounter::default()),
    }],
};

#[test]
fn udp_datagrams_reach_the_analyzer_that_claims_their_flow() {
    let packets = [
        udp((A, 40000), (B, 7), b"ping"),
        udp((B, 7), (A, 40000), b"ping"),
        udp((A, 40001), (B, 53), b"not echo"),
        udp((A, 40000), (B, 7), b"again"),
        udp((B, 7), (A, 40000), b"again"),
    ];
    let mut out = Collect::default();
    run(&ECHO, &packets, &mut out).unwrap();
    let echo = &out.conversations[0];
    assert_eq!(echo.server.port(), 7);
    assert_eq!(echo.app.protocol, Some("echo"));
    assert_eq!(echo.app.records, 4);
    let other = &out.conversations[1];
    assert_eq!(
        other.app,
        crate::flow::AppFacts::default(),
        "unclaimed: no analyzer ran"
    );
    // The built-in registry claims no UDP flow.
    let mut out = Collect::default();
    run(&BUILTIN, &packets, &mut out).unwrap();
    assert!(out.conversations.iter().all(|c| c.app.protocol.is_none()));
}

// ----- a tunnel: a stream analyzer handing inner packets back -----

/// "TUNL" then packets, each a 2-byte length and a raw IPv4 packet.
#[derive(Default)]
struct Tunnel {
    buf: Vec<u8>,
    found: Vec<InnerPacket>,
    records: u64,
}

impl StreamSink for Tunnel {
    fn data(&mut self, _: crate::flow::Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        let mut at = if self.buf.starts_with(b"TUNL") { 4 } else { 0 };
        while let Some(len) = self.buf.get(at..at + 2) {
            let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
            let Some(packet) = self.buf.get(at + 2..at + 2 + len) else {
                break;
            };
            self.found.push(InnerPacket {
                link_type: LinkType::RAW,
                ts,
                frame,
                data: packet.to_vec(),
            });
            at += 2 + len;
        }
        self.buf.drain(..at);
    }
    fn gap(&mut self, _: crate::flow::Dir, _: Timestamp, _: u64, _: u64) {}
    fn fin(&mut self, _: crate::flow::Dir, _: Timestamp, _: u64) {}
    fn reset(&mut self, _: crate::flow::Dir, _: Timestamp, _: u64) {}
}

impl StreamAnalyzer for Tunnel {
    fn finish(&mut self, _: Timestamp) {}

    fn drain(&mut self, _: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError> {
        for packet in self.found.drain(..) {
            self.records += 1;
            emit.inner_packet(packet);
        }
        Ok(())
    }

    fn tally(&self) -> Tally {
        Tally {
            confirmed: true,
            records: self.records,
            reversed: 0,
        }
    }
}

static TUNNEL: Registry = Registry {
    streams: &[
        StreamEntry {
            name: "tunnel",
            probe: |_, bytes| match bytes.get(..4) {
                Some(b"TUNL") => Probe::Yes,
                Some(_) => Probe::No,
                None if b"TUNL".starts_with(bytes) => Probe::NeedMore,
                None => Probe::No,
            },
            new: || Box::new(Tunnel::default()),
        },
        StreamEntry {
            name: "http",
            probe: http1::probe,
            new: http1::new,
        },
    ],
    datagrams: &[],
};

fn framed(packets: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"TUNL".to_vec();
    for p in packets {
        out.extend_from_slice(&(p.len() as u16).to_be_bytes());
        out.extend_from_slice(p);
    }
    out
}

#[test]
fn packets_a_tunnel_hands_back_become_conversations_of_their_own() {
    use crate::pcap::decode::tcp_flags::{ACK, PSH, SYN};
    let inner_a = udp(
        ([192, 168, 0, 1], 50000),
        ([192, 168, 0, 2], 3000),
        b"inside",
    );
    let inner_b = udp(
        ([192, 168, 0, 2], 3000),
        ([192, 168, 0, 1], 50000),
        b"reply",
    );
    let get = tcp(
        ([172, 16, 0, 1], 3333),
        ([172, 16, 0, 2], 80),
        1,
        PSH | ACK,
        b"GET / HTTP/1.1\r\n\r\n",
    );
    let carried = framed(&[inner_a.clone(), inner_b, get]);
    let (head, tail) = carried.split_at(3);
    let packets = [
        tcp((A, 40000), (B, 4789), 100, SYN, b""),
        // The magic split: the probe holds the first bytes until it can tell.
        tcp((A, 40000), (B, 4789), 101, ACK, head),
        tcp((A, 40000), (B, 4789), 104, ACK, tail),
    ];
    let mut out = Collect::default();
    let summary = run(&TUNNEL, &packets, &mut out).unwrap();
    let tunnel = out
        .conversations
        .iter()
        .find(|c| c.server.port() == 4789)
        .expect("the tunnel");
    assert_eq!(tunnel.app.protocol, Some("tunnel"));
    assert_eq!(tunnel.app.records, 3);
    let inner = out
        .conversations
        .iter()
        .find(|c| c.server.port() == 3000)
        .expect("the inner UDP flow");
    assert_eq!(inner.packets(), 2);
    assert_eq!(
        inner.dirs[0].bytes,
        inner_a.len() as u64,
        "inner length counted"
    );
    // The inner TCP segment went through the probes: HTTP found inside.
    assert_eq!(out.exchanges.len(), 1);
    assert_eq!(out.exchanges[0].server.port(), 80);
    assert_eq!(summary.conversations, 3);
    assert_eq!(summary.packets, 3, "records of the file, not inner packets");
}

// ----- an analyzer handing decoded bytes to an inner analyzer -----

/// "XOR1", then bytes xored with 0x20; the decoded bytes go to an inner
/// analyzer chosen by the probes (as TLS will pass decrypted bytes on).
struct Xor {
    inner: Selector,
    magic_seen: [usize; 2],
}

impl StreamSink for Xor {
    fn data(&mut self, dir: crate::flow::Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        let skip = 4usize
            .saturating_sub(self.magic_seen[dir.index()])
            .min(bytes.len());
        self.magic_seen[dir.index()] += skip;
        let decoded: Vec<u8> = bytes[skip..].iter().map(|b| b ^ 0x20).collect();
        self.inner.data(dir, ts, frame, &decoded);
    }
    fn gap(&mut self, dir: crate::flow::Dir, ts: Timestamp, frame: u64, len: u64) {
        self.inner.gap(dir, ts, frame, len);
    }
    fn fin(&mut self, dir: crate::flow::Dir, ts: Timestamp, frame: u64) {
        self.inner.fin(dir, ts, frame);
    }
    fn reset(&mut self, dir: crate::flow::Dir, ts: Timestamp, frame: u64) {
        self.inner.reset(dir, ts, frame);
    }
}

impl StreamAnalyzer for Xor {
    fn finish(&mut self, ts: Timestamp) {
        self.inner.finish(ts);
    }

    fn drain(&mut self, cx: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError> {
        self.inner.drain(cx, emit)
    }

    fn tally(&self) -> Tally {
        Tally {
            confirmed: true,
            ..self.inner.tally()
        }
    }
}

static XOR: Registry = Registry {
    streams: &[StreamEntry {
        name: "xor",
        probe: |_, bytes| match bytes.get(..4) {
            Some(b"XOR1") => Probe::Yes,
            _ => Probe::No,
        },
        new: || {
            Box::new(Xor {
                inner: Selector::probing(&BUILTIN),
                magic_seen: [0; 2],
            })
        },
    }],
    datagrams: &[],
};

#[test]
fn an_analyzer_hands_decoded_bytes_to_an_inner_one() {
    use crate::pcap::decode::tcp_flags::{ACK, PSH};
    let encode = |text: &[u8]| {
        let mut out = b"XOR1".to_vec();
        out.extend(text.iter().map(|b| b ^ 0x20));
        out
    };
    let request = encode(b"GET /inner HTTP/1.1\r\nHost: x\r\n\r\n");
    let response = encode(b"HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n");
    let packets = [
        tcp((A, 40000), (B, 9999), 1, PSH | ACK, &request),
        tcp((B, 9999), (A, 40000), 1, PSH | ACK, &response),
    ];
    let mut out = Collect::default();
    run(&XOR, &packets, &mut out).unwrap();
    assert_eq!(out.exchanges.len(), 1);
    let e = &out.exchanges[0].exchange;
    assert_eq!((e.uri.as_deref(), e.status), (Some("/inner"), Some(418)));
    let conv = &out.conversations[0];
    assert_eq!(conv.app.protocol, Some("xor"));
    assert_eq!(conv.app.records, 1);
    // The same bytes without the outer analyzer: nothing recognised.
    let mut out = Collect::default();
    run(&BUILTIN, &packets, &mut out).unwrap();
    assert!(out.exchanges.is_empty());
    assert_eq!(out.conversations[0].app.protocol, Some("unknown"));
}

// ----- an output that fails -----

#[test]
fn an_output_error_stops_the_analysis_with_that_error() {
    use crate::pcap::decode::tcp_flags::{ACK, PSH};
    let mut packets = Vec::new();
    for i in 0..5u16 {
        let port = 40000 + i;
        packets.push(tcp(
            (A, port),
            (B, 80),
            1,
            PSH | ACK,
            b"GET / HTTP/1.1\r\n\r\n",
        ));
        packets.push(tcp(
            (B, 80),
            (A, port),
            1,
            PSH | ACK,
            b"HTTP/1.1 204 No Content\r\n\r\n",
        ));
    }
    let mut out = Collect {
        fail_exchange: Some(2),
        ..Collect::default()
    };
    let err = run(&BUILTIN, &packets, &mut out).expect_err("the output failed");
    assert!(matches!(err.source, Failure::Output(_)), "{err:?}");
    assert_eq!(err.to_string(), "storing an exchange: disk full");
    assert_eq!(
        err.records_read, 4,
        "stopped at the packet that completed it"
    );
    assert_eq!(out.exchanges.len(), 2, "nothing more was handed out");
    assert!(out.conversations.is_empty());

    // Failing at the end: open conversations are handed out then.
    let mut out = Collect {
        fail_conversations: true,
        ..Collect::default()
    };
    let err = run(&BUILTIN, &packets, &mut out).expect_err("the output failed");
    assert_eq!(
        err.to_string(),
        "storing a conversation: database is locked"
    );
    assert_eq!(err.records_read, 10);
    assert_eq!(out.exchanges.len(), 5);
}
