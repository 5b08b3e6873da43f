//! Filter speed: ns per packet of `Filter::matches` (and of our BPF
//! interpreter on the compiled program) over ~100k generated Ethernet
//! frames, next to tcpdump filtering the same frames from a file written
//! to /tmp (`tcpdump -r FILE EXPR -w /dev/null`, whole-process time, and
//! without a filter for reference). Run: `cargo bench --bench filter`.

use std::hint::black_box;
use std::io::Write;
use std::process::Command;
use std::time::{Duration, Instant};

use tracedeck::filter::{bpf, parse};
use tracedeck::pcap::{Frame, LinkType};

const PACKETS: usize = 100_000;

fn packets() -> Vec<Vec<u8>> {
    let mut out = Vec::with_capacity(PACKETS);
    let mut seed: u32 = 12345;
    let mut rnd = || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
        seed >> 8
    };
    for i in 0..PACKETS {
        let r = rnd();
        let mut p = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2];
        let sport = (1024 + r % 60000) as u16;
        let dport: u16 = [80, 443, 8080, 53, 22][(r as usize >> 4) % 5];
        match i % 10 {
            0..=5 => {
                // IPv4 TCP
                p.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 60, 0, 1, 0x40, 0, 64, 6, 0, 0]);
                p.extend_from_slice(&[10, 0, (r % 4) as u8, 1, 10, 0, 0, 2]);
                p.extend_from_slice(&sport.to_be_bytes());
                p.extend_from_slice(&dport.to_be_bytes());
                p.extend_from_slice(&[
                    0,
                    0,
                    0,
                    1,
                    0,
                    0,
                    0,
                    0,
                    0x50,
                    [0x02, 0x10, 0x18, 0x11][(r % 4) as usize],
                    0xff,
                    0xff,
                    0,
                    0,
                    0,
                    0,
                ]);
                p.extend_from_slice(&[0x41; 20]);
            }
            6 | 7 => {
                // IPv4 UDP
                p.extend_from_slice(&[0x08, 0x00, 0x45, 0, 0, 48, 0, 1, 0, 0, 64, 17, 0, 0]);
                p.extend_from_slice(&[10, 0, 0, 3, 8, 8, 8, 8]);
                p.extend_from_slice(&sport.to_be_bytes());
                p.extend_from_slice(&53u16.to_be_bytes());
                p.extend_from_slice(&[0, 28, 0, 0]);
                p.extend_from_slice(&[0; 20]);
            }
            8 => {
                // IPv6 TCP
                p.extend_from_slice(&[0x86, 0xdd, 0x60, 0, 0, 0, 0, 40, 6, 64]);
                p.extend_from_slice(&[0; 15]);
                p.push(1);
                p.extend_from_slice(&[0; 15]);
                p.push(2);
                p.extend_from_slice(&sport.to_be_bytes());
                p.extend_from_slice(&dport.to_be_bytes());
                p.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x10, 0xff, 0xff, 0, 0, 0, 0]);
            }
            _ => {
                // ARP request
                p.extend_from_slice(&[0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1, 0, 0, 0, 0, 0, 1]);
                p.extend_from_slice(&[10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2]);
            }
        }
        out.push(p);
    }
    out
}

fn write_pcap(path: &str, pkts: &[Vec<u8>]) -> std::io::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
    w.write_all(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0])?;
    w.write_all(&65535u32.to_le_bytes())?;
    w.write_all(&1u32.to_le_bytes())?;
    for (i, p) in pkts.iter().enumerate() {
        w.write_all(&(1_700_000_000u32 + i as u32 / 1000).to_le_bytes())?;
        w.write_all(&((i as u32 % 1000) * 1000).to_le_bytes())?;
        w.write_all(&(p.len() as u32).to_le_bytes())?;
        w.write_all(&(p.len() as u32).to_le_bytes())?;
        w.write_all(p)?;
    }
    w.flush()
}

fn best_of<F: FnMut() -> usize>(runs: usize, mut f: F) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut n = 0;
    for _ in 0..runs {
        let t = Instant::now();
        n = f();
        best = best.min(t.elapsed());
    }
    (best, n)
}

fn tcpdump(path: &str, expr: &str) -> Option<(Duration, u64)> {
    let (d, ok) = best_of(3, || {
        Command::new("tcpdump")
            .args(["-r", path, "-w", "/dev/null", expr])
            .output()
            .map_or(0, |o| usize::from(o.status.success()))
    });
    if ok == 0 {
        return None;
    }
    let out = Command::new("tcpdump")
        .args(["--count", "-r", path, expr])
        .output()
        .ok()?;
    let n = String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((d, n))
}

fn ns_per(d: Duration) -> f64 {
    d.as_nanos() as f64 / PACKETS as f64
}

fn main() {
    let pkts = packets();
    let path = "/tmp/tracedeck-filter-bench.pcap";
    let have_tcpdump = write_pcap(path, &pkts).is_ok() && tcpdump(path, "").is_some();
    let frames: Vec<Frame<'_>> = pkts
        .iter()
        .enumerate()
        .map(|(i, p)| Frame {
            index: i as u64,
            offset: 0,
            ts: None,
            link_type: LinkType::ETHERNET,
            interface: 0,
            orig_len: p.len() as u32,
            data: p,
        })
        .collect();
    let base = if have_tcpdump {
        tcpdump(path, "").map(|t| t.0)
    } else {
        None
    };
    println!(
        "{PACKETS} generated Ethernet frames; tcpdump -r FILE -w /dev/null without filter: {}",
        base.map_or("n/a".into(), |d| format!("{:.1} ns/packet", ns_per(d)))
    );
    println!(
        "{:<50} {:>8} {:>12} {:>12} {:>14} {:>8}",
        "expression", "matched", "matches()", "bpf::run", "tcpdump total", "ratio"
    );
    for expr in [
        "tcp port 80",
        "host 10.0.0.1 and not port 22",
        "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
        "udp and dst port 53 or arp",
        "ip6 or (tcp dst port 80 or 8080 or 443)",
        "net 10.0.2.0/24 and greater 60",
    ] {
        let f = parse(expr).expect("bench expression parses");
        let (d, n) = best_of(5, || {
            frames.iter().filter(|fr| f.matches(black_box(fr))).count()
        });
        let prog = bpf::compile(&f, bpf::Target::Ethernet).expect("compiles");
        let (db, nb) = best_of(5, || {
            pkts.iter()
                .filter(|p| bpf::run(&prog, black_box(p), p.len() as u32, 0) != 0)
                .count()
        });
        assert_eq!(n, nb, "{expr}: user space and BPF disagree");
        let (td, ratio) = match have_tcpdump.then(|| tcpdump(path, expr)).flatten() {
            Some((t, tn)) => {
                assert_eq!(tn, n as u64, "{expr}: tcpdump counts {tn}, we count {n}");
                (
                    format!("{:.1} ns", ns_per(t)),
                    format!("{:.3}", d.as_secs_f64() / t.as_secs_f64()),
                )
            }
            None => ("n/a".into(), "n/a".into()),
        };
        println!(
            "{expr:<50} {n:>8} {:>9.1} ns {:>9.1} ns {td:>14} {ratio:>8}",
            ns_per(d),
            ns_per(db)
        );
    }
    println!(
        "ratio = matches() time / tcpdump whole-run time on the same frames (lower is faster)"
    );
}
