//! Throughput of `http::Parser` alone on an in-memory keep-alive
//! conversation: N exchanges (default 100 000) of realistic requests and
//! responses (Content-Length and chunked bodies), cut into 1448-byte
//! segments and delivered in capture order.
//!
//! `cargo bench --bench http` prints MB/s. With `TRACEDECK_BENCH_PCAP=FILE`
//! it also writes the same conversation as a pcap (Ethernet/IPv4/TCP) so a
//! peer tool can be timed on the same input (bench/http.sh does that with
//! tshark); `TRACEDECK_BENCH_EXCHANGES=N` changes the count.

use std::io::Write;
use std::time::Instant;

use tracedeck::flow::{Dir, StreamSink};
use tracedeck::http::{Exchange, ExchangeSink, Parser};
use tracedeck::Timestamp;

const MSS: usize = 1448;

/// One segment: direction and byte range in that direction's stream.
struct Segment {
    dir: Dir,
    start: usize,
    end: usize,
}

struct Conversation {
    streams: [Vec<u8>; 2],
    segments: Vec<Segment>,
}

/// A deterministic xorshift generator (no dependency, same data each run).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

fn build(exchanges: usize) -> Conversation {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut streams = [Vec::new(), Vec::new()];
    let mut segments = Vec::new();
    let mut segment = |streams: &mut [Vec<u8>; 2], dir: Dir, bytes: &[u8]| {
        let s = &mut streams[dir.index()];
        let base = s.len();
        s.extend_from_slice(bytes);
        let mut at = base;
        while at < s.len() {
            let end = (at + MSS).min(s.len());
            segments.push(Segment {
                dir,
                start: at,
                end,
            });
            at = end;
        }
    };
    let body = vec![b'x'; 64 * 1024];
    for i in 0..exchanges {
        let kind = rng.below(10);
        let request = format!(
            "GET /api/v1/items/{i}?fields=name,price&page={} HTTP/1.1\r\n\
             Host: shop.example.com\r\n\
             User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n\
             Accept: application/json, text/plain, */*\r\n\
             Accept-Encoding: gzip, deflate, br\r\n\
             Accept-Language: en-US,en;q=0.9\r\n\
             Cookie: session=0123456789abcdef0123456789abcdef; theme=dark\r\n\
             Connection: keep-alive\r\n\r\n",
            i % 7
        );
        segment(&mut streams, Dir::ToServer, request.as_bytes());
        let mut response = Vec::new();
        let len = match kind {
            0..=5 => 100 + rng.below(900) as usize,
            6..=8 => 1000 + rng.below(7000) as usize,
            _ => 0,
        };
        let head =
            "HTTP/1.1 200 OK\r\nServer: nginx/1.24.0\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\
                    Content-Type: application/json; charset=utf-8\r\nCache-Control: no-cache\r\n\
                    Connection: keep-alive\r\n";
        if kind == 9 {
            response.extend_from_slice(head.as_bytes());
            response.extend_from_slice(b"Transfer-Encoding: chunked\r\n\r\n");
            for _ in 0..4 {
                let n = 200 + rng.below(1800) as usize;
                response.extend_from_slice(format!("{n:x}\r\n").as_bytes());
                response.extend_from_slice(&body[..n]);
                response.extend_from_slice(b"\r\n");
            }
            response.extend_from_slice(b"0\r\n\r\n");
        } else {
            response.extend_from_slice(format!("{head}Content-Length: {len}\r\n\r\n").as_bytes());
            response.extend_from_slice(&body[..len]);
        }
        segment(&mut streams, Dir::ToClient, &response);
    }
    Conversation { streams, segments }
}

struct Count(usize);

impl ExchangeSink for Count {
    fn exchange(&mut self, ex: Exchange) {
        if ex.status == Some(200) {
            self.0 += 1;
        }
    }
}

fn parse(conv: &Conversation) -> usize {
    let mut parser = Parser::new(Count(0));
    for (i, seg) in conv.segments.iter().enumerate() {
        let bytes = &conv.streams[seg.dir.index()][seg.start..seg.end];
        parser.data(
            seg.dir,
            Timestamp::from_nanos(i as i64 * 10_000),
            i as u64,
            bytes,
        );
    }
    parser.finish(Timestamp::from_nanos(conv.segments.len() as i64 * 10_000));
    parser.into_sink().0
}

fn main() {
    let exchanges: usize = std::env::var("TRACEDECK_BENCH_EXCHANGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let conv = build(exchanges);
    let bytes: usize = conv.streams.iter().map(Vec::len).sum();
    if let Ok(path) = std::env::var("TRACEDECK_BENCH_PCAP") {
        if let Err(err) = write_pcap(&conv, &path) {
            eprintln!("http bench: cannot write {path}: {err}");
        }
    }
    let mut best = f64::MAX;
    for _ in 0..5 {
        let start = Instant::now();
        let n = parse(&conv);
        let secs = start.elapsed().as_secs_f64();
        assert_eq!(n, exchanges, "every exchange parsed");
        best = best.min(secs);
    }
    println!(
        "http parser: {exchanges} exchanges, {} segments, {:.1} MB in {:.3} s (best of 5): {:.0} MB/s, {:.2} M exchanges/s",
        conv.segments.len(),
        bytes as f64 / 1e6,
        best,
        bytes as f64 / 1e6 / best,
        exchanges as f64 / 1e6 / best
    );
}

/// The conversation as a classic pcap: handshake, then one TCP segment per
/// `Segment`, 10 µs apart, each acknowledged implicitly (no pure ACKs).
fn write_pcap(conv: &Conversation, path: &str) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
    out.write_all(&2u16.to_le_bytes())?;
    out.write_all(&4u16.to_le_bytes())?;
    out.write_all(&[0; 8])?;
    out.write_all(&65535u32.to_le_bytes())?;
    out.write_all(&1u32.to_le_bytes())?;
    let ports = [(40000u16, 8080u16), (8080, 40000)];
    let addrs = [
        ([10, 0, 0, 1], [10, 0, 0, 2]),
        ([10, 0, 0, 2], [10, 0, 0, 1]),
    ];
    let isn = [1000u32, 5000u32];
    let mut n = 0u64;
    let mut packet = |out: &mut std::io::BufWriter<std::fs::File>,
                      d: usize,
                      seq: u32,
                      ack: u32,
                      flags: u8,
                      payload: &[u8]|
     -> std::io::Result<()> {
        let mut p = Vec::with_capacity(54 + payload.len());
        p.extend_from_slice(&[2, 0, 0, 0, 0, 2 - d as u8, 2, 0, 0, 0, 0, 1 + d as u8, 8, 0]);
        let total = (40 + payload.len()) as u16;
        p.extend_from_slice(&[0x45, 0]);
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&[0, 0, 0x40, 0, 64, 6, 0, 0]);
        p.extend_from_slice(&addrs[d].0);
        p.extend_from_slice(&addrs[d].1);
        p.extend_from_slice(&ports[d].0.to_be_bytes());
        p.extend_from_slice(&ports[d].1.to_be_bytes());
        p.extend_from_slice(&seq.to_be_bytes());
        p.extend_from_slice(&ack.to_be_bytes());
        p.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        p.extend_from_slice(payload);
        let t = n * 10;
        n += 1;
        out.write_all(&((t / 1_000_000) as u32 + 1_700_000_000).to_le_bytes())?;
        out.write_all(&((t % 1_000_000) as u32).to_le_bytes())?;
        out.write_all(&(p.len() as u32).to_le_bytes())?;
        out.write_all(&(p.len() as u32).to_le_bytes())?;
        out.write_all(&p)
    };
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH: u8 = 0x08;
    packet(&mut out, 0, isn[0], 0, SYN, &[])?;
    packet(&mut out, 1, isn[1], isn[0] + 1, SYN | ACK, &[])?;
    packet(&mut out, 0, isn[0] + 1, isn[1] + 1, ACK, &[])?;
    let mut sent = [0usize; 2];
    for seg in &conv.segments {
        let d = seg.dir.index();
        let seq = isn[d].wrapping_add(1).wrapping_add(seg.start as u32);
        sent[d] = seg.end;
        let ack = isn[1 - d].wrapping_add(1).wrapping_add(sent[1 - d] as u32);
        let bytes = &conv.streams[d][seg.start..seg.end];
        packet(&mut out, d, seq, ack, ACK | PSH, bytes)?;
    }
    out.flush()
}
