//! Loopback UDP traffic generator for bench/capture.sh: sends fixed-size
//! datagrams to 127.0.0.1 at a fixed rate, for a bounded time and count.
//! It binds the receiving port itself (and never reads) so no ICMP "port
//! unreachable" is added to the traffic. 127.0.0.1 only, by construction.
//!
//! Usage: blaster RATE_PPS SECONDS PAYLOAD_BYTES

use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let (rate, secs, size) = match args[..] {
        [r, s, b] => (r.max(1), s.clamp(1, 60), b.clamp(1, 1400) as usize),
        _ => {
            eprintln!("usage: blaster RATE_PPS SECONDS PAYLOAD_BYTES");
            std::process::exit(2);
        }
    };
    let sink = UdpSocket::bind("127.0.0.1:0").expect("bind sink");
    let dst = sink.local_addr().expect("addr");
    let src = UdpSocket::bind("127.0.0.1:0").expect("bind source");
    src.connect(dst).expect("connect");
    let payload = vec![0x5a; size];
    let total = rate * secs;
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < total {
        let due = ((start.elapsed().as_secs_f64() * rate as f64) as u64).min(total);
        if sent >= due {
            std::thread::sleep(Duration::from_micros(100));
            continue;
        }
        while sent < due {
            if src.send(&payload).is_ok() {
                sent += 1;
            }
        }
        if start.elapsed() > Duration::from_secs(secs + 5) {
            break;
        }
    }
    let took = start.elapsed().as_secs_f64();
    println!("{sent} {took:.3}");
}
