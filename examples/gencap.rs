//! Generates a realistic synthetic capture for benchmarks: many HTTP/1.1
//! keep-alive connections interleaved in time, 1500-byte MTU (1448-byte
//! segments with timestamps option room), delayed ACKs, a little loss
//! (retransmitted later) and reordering, mixed status codes, FIN teardown.
//!
//! ```text
//! cargo run --release --example gencap -- OUT.pcap [--bytes 1G] [--conversations N]
//!     [--requests-per-conn 20] [--parallel 200] [--seed 1]
//! ```
//! Stops at whichever of --bytes / --conversations comes first. Prints the
//! number of packets, conversations and HTTP exchanges written.

use std::fs::File;
use std::io::{BufWriter, Write};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }
}

struct Writer {
    out: BufWriter<File>,
    bytes: u64,
    packets: u64,
}

const MSS: usize = 1448;

impl Writer {
    #[allow(clippy::too_many_arguments)]
    fn segment(
        &mut self,
        ts_us: u64,
        c: &Conn,
        to_server: bool,
        seq: u32,
        ack: u32,
        flags: u8,
        payload: &[u8],
    ) {
        let (src, dst, sport, dport) = if to_server {
            (c.client_ip, c.server_ip, c.client_port, 8080u16)
        } else {
            (c.server_ip, c.client_ip, 8080u16, c.client_port)
        };
        let tcp_len = 32; // 20 + timestamps option (12)
        let ip_len = 20 + tcp_len + payload.len();
        let frame_len = 14 + ip_len;
        let mut rec = Vec::with_capacity(16 + frame_len);
        rec.extend_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        rec.extend_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        rec.extend_from_slice(&(frame_len as u32).to_le_bytes());
        rec.extend_from_slice(&(frame_len as u32).to_le_bytes());
        rec.extend_from_slice(&[0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00]);
        rec.extend_from_slice(&[
            0x45,
            0,
            (ip_len >> 8) as u8,
            ip_len as u8,
            0,
            0,
            0x40,
            0,
            64,
            6,
            0,
            0,
        ]);
        rec.extend_from_slice(&src.to_be_bytes());
        rec.extend_from_slice(&dst.to_be_bytes());
        rec.extend_from_slice(&sport.to_be_bytes());
        rec.extend_from_slice(&dport.to_be_bytes());
        rec.extend_from_slice(&seq.to_be_bytes());
        rec.extend_from_slice(&ack.to_be_bytes());
        rec.extend_from_slice(&[0x80, flags, 0x01, 0xf5, 0, 0, 0, 0]);
        rec.extend_from_slice(&[1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]);
        rec.extend_from_slice(payload);
        self.out.write_all(&rec).expect("write");
        self.bytes += rec.len() as u64;
        self.packets += 1;
    }
}

struct Conn {
    client_ip: u32,
    server_ip: u32,
    client_port: u16,
    cseq: u32,
    sseq: u32,
    requests_left: u32,
    /// Time of this connection's next event, in µs.
    at: u64,
    opened: bool,
}

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;
const FIN: u8 = 0x01;

fn parse_size(s: &str) -> u64 {
    let s = s.trim();
    let (num, mult) = match s.chars().last() {
        Some('G') | Some('g') => (&s[..s.len() - 1], 1u64 << 30),
        Some('M') | Some('m') => (&s[..s.len() - 1], 1u64 << 20),
        Some('K') | Some('k') => (&s[..s.len() - 1], 1u64 << 10),
        _ => (s, 1),
    };
    num.parse::<u64>().expect("size") * mult
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let out_path = args
        .get(1)
        .expect("usage: gencap OUT.pcap [--bytes 1G] [--conversations N] ...");
    let mut target_bytes = 1u64 << 30;
    let mut max_convs = u64::MAX;
    let mut per_conn = 20u32;
    let mut parallel = 200usize;
    let mut seed = 1u64;
    let mut i = 2;
    while i + 1 < args.len() {
        let v = &args[i + 1];
        match args[i].as_str() {
            "--bytes" => target_bytes = parse_size(v),
            "--conversations" => max_convs = v.parse().expect("number"),
            "--requests-per-conn" => per_conn = v.parse().expect("number"),
            "--parallel" => parallel = v.parse().expect("number"),
            "--seed" => seed = v.parse().expect("number"),
            other => panic!("unknown option {other}"),
        }
        i += 2;
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ seed.wrapping_mul(0x2545_f491_4f6c_dd1d));
    let file = File::create(out_path).expect("create output");
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 20, file),
        bytes: 24,
        packets: 0,
    };
    w.out
        .write_all(&[
            0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0,
            0,
        ])
        .expect("header");
    let body_pool: Vec<u8> = (0..300_000u32)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz0123456789\n"[(i % 37) as usize])
        .collect();
    let mut conns: Vec<Conn> = Vec::new();
    let mut made = 0u64;
    let mut exchanges = 0u64;
    let mut now = 1_700_000_000_000_000u64;
    let new_conn = |made: u64, now: u64, rng: &mut Rng, per_conn: u32| Conn {
        client_ip: 0x0a00_0000 | ((made / 60000) as u32 & 0xffff) << 8 | (1 + (made % 200) as u32),
        server_ip: 0x0a01_0001,
        client_port: 1024 + (made % 60000) as u16,
        cseq: rng.next() as u32,
        sseq: rng.next() as u32,
        requests_left: 1 + rng.below(u64::from(per_conn) * 2) as u32,
        at: now + rng.below(2000),
        opened: false,
    };
    while w.bytes < target_bytes {
        while conns.len() < parallel && made < max_convs {
            conns.push(new_conn(made, now, &mut rng, per_conn));
            made += 1;
        }
        if conns.is_empty() {
            break;
        }
        // Advance the connection whose next event is earliest.
        let (idx, _) = conns
            .iter()
            .enumerate()
            .min_by_key(|(_, c)| c.at)
            .expect("nonempty");
        let c = &mut conns[idx];
        now = now.max(c.at);
        let rtt = 200 + rng.below(300);
        if !c.opened {
            let isn_c = c.cseq;
            let isn_s = c.sseq;
            w.segment(now, c, true, isn_c, 0, SYN, &[]);
            w.segment(
                now + rtt,
                c,
                false,
                isn_s,
                isn_c.wrapping_add(1),
                SYN | ACK,
                &[],
            );
            w.segment(
                now + 2 * rtt,
                c,
                true,
                isn_c.wrapping_add(1),
                isn_s.wrapping_add(1),
                ACK,
                &[],
            );
            c.cseq = isn_c.wrapping_add(1);
            c.sseq = isn_s.wrapping_add(1);
            c.opened = true;
            c.at = now + 2 * rtt + rng.below(1000);
            continue;
        }
        if c.requests_left == 0 {
            w.segment(now, c, true, c.cseq, c.sseq, FIN | ACK, &[]);
            w.segment(
                now + rtt,
                c,
                false,
                c.sseq,
                c.cseq.wrapping_add(1),
                FIN | ACK,
                &[],
            );
            w.segment(
                now + 2 * rtt,
                c,
                true,
                c.cseq.wrapping_add(1),
                c.sseq.wrapping_add(1),
                ACK,
                &[],
            );
            conns.swap_remove(idx);
            continue;
        }
        // One exchange: request, server think time, response in segments.
        let path_n = rng.below(1000);
        let status = match rng.below(100) {
            0..=84 => 200,
            85..=92 => 404,
            93..=96 => 304,
            _ => 500,
        };
        let req = format!(
            "GET /api/items/{path_n}?page=2 HTTP/1.1\r\nHost: shop.example:8080\r\nUser-Agent: gencap/1.0\r\nAccept: */*\r\n\r\n"
        );
        w.segment(now, c, true, c.cseq, c.sseq, PSH | ACK, req.as_bytes());
        c.cseq = c.cseq.wrapping_add(req.len() as u32);
        let slow = rng.chance(20);
        let think = 500 + rng.below(if slow { 2_000_000 } else { 20_000 });
        let mut t = now + rtt / 2 + think;
        let body_len = match status {
            304 => 0,
            404 | 500 => 20 + rng.below(200) as usize,
            _ => {
                let big = rng.chance(100);
                200 + rng.below(if big { 290_000 } else { 30_000 }) as usize
            }
        };
        let head = format!(
            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {body_len}\r\nServer: gen\r\n\r\n"
        );
        let mut response = head.into_bytes();
        response.extend_from_slice(&body_pool[..body_len]);
        let mut segs: Vec<(u32, std::ops::Range<usize>)> = Vec::new();
        let mut off = 0;
        while off < response.len() {
            let end = (off + MSS).min(response.len());
            segs.push((c.sseq.wrapping_add(off as u32), off..end));
            off = end;
        }
        // Emission order: sequence order with occasional neighbour swaps.
        let mut order: Vec<usize> = (0..segs.len()).collect();
        for k in 0..order.len().saturating_sub(1) {
            if rng.chance(5) {
                order.swap(k, k + 1);
            }
        }
        let mut delivered = vec![false; segs.len()];
        let mut lost = Vec::new();
        // The receiver's cumulative ACK: up to the first segment it lacks.
        let contiguous = |delivered: &[bool]| match delivered.iter().position(|d| !d) {
            Some(i) => segs[i].0,
            None => c.sseq.wrapping_add(response.len() as u32),
        };
        for (n, &k) in order.iter().enumerate() {
            let (seq, ref range) = segs[k];
            if rng.chance(5) {
                lost.push(k);
            } else {
                let flags = ACK | if range.end == response.len() { PSH } else { 0 };
                w.segment(t, c, false, seq, c.cseq, flags, &response[range.clone()]);
                delivered[k] = true;
            }
            if n % 2 == 1 {
                w.segment(t + 40, c, true, c.cseq, contiguous(&delivered), ACK, &[]);
            }
            t += 12 + rng.below(40);
        }
        for k in lost {
            t += rtt;
            let (seq, ref range) = segs[k];
            w.segment(t, c, false, seq, c.cseq, ACK, &response[range.clone()]);
            delivered[k] = true;
        }
        c.sseq = c.sseq.wrapping_add(response.len() as u32);
        w.segment(t + 40, c, true, c.cseq, c.sseq, ACK, &[]);
        exchanges += 1;
        c.requests_left -= 1;
        let idle = rng.chance(50);
        c.at = t + 100 + rng.below(if idle { 1_000_000 } else { 5_000 });
    }
    // Close whatever is still open so every exchange is complete.
    for c in conns.iter() {
        if c.opened {
            let t = c.at.max(now);
            w.segment(t, c, true, c.cseq, c.sseq, FIN | ACK, &[]);
            w.segment(
                t + 300,
                c,
                false,
                c.sseq,
                c.cseq.wrapping_add(1),
                FIN | ACK,
                &[],
            );
        }
    }
    w.out.flush().expect("flush");
    println!(
        "{out_path}: {} bytes, {} packets, {made} conversations, {exchanges} HTTP exchanges",
        w.bytes, w.packets
    );
}
