//! The filter seam of the capture agent, driven through the library with a
//! hand-written filter ("tcp port P"): in the kernel, rejected packets
//! never reach the ring; in user space they are counted as rejected.
//! Root only: ignored unless asked for, and failing when not root.

#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use tracedeck::capture::{
    self, BpfInsn, Config, FilterPlacement, LinkKind, Observer, PacketFilter, Started,
};
use tracedeck::pcap::{decode, Frame, Reader, Transport};

/// "tcp port P" over IPv4, for Ethernet frames.
struct TcpPort {
    port: u16,
    in_kernel: bool,
}

fn ports(frame: &Frame<'_>) -> Option<(u16, u16)> {
    match decode(frame).ok()?.transport {
        Transport::Tcp(t) => Some((t.src_port, t.dst_port)),
        _ => None,
    }
}

impl PacketFilter for TcpPort {
    fn compile(&self, link: LinkKind) -> Result<Vec<BpfInsn>, String> {
        if !self.in_kernel || link != LinkKind::Ethernet {
            return Err("this test filter stays in user space".into());
        }
        let i = |code, jt, jf, k| BpfInsn { code, jt, jf, k };
        let p = u32::from(self.port);
        Ok(vec![
            i(0x28, 0, 0, 12),      // 0: ldh [12]            ethertype
            i(0x15, 0, 10, 0x800),  // 1: jeq IPv4, else -> 12
            i(0x30, 0, 0, 23),      // 2: ldb [23]            protocol
            i(0x15, 0, 8, 6),       // 3: jeq TCP, else -> 12
            i(0x28, 0, 0, 20),      // 4: ldh [20]            fragment offset
            i(0x45, 6, 0, 0x1fff),  // 5: jset -> 12
            i(0xb1, 0, 0, 14),      // 6: ldxb 4*([14]&0xf)   IP header length
            i(0x48, 0, 0, 14),      // 7: ldh [x+14]          source port
            i(0x15, 2, 0, p),       // 8: jeq P -> 11
            i(0x48, 0, 0, 16),      // 9: ldh [x+16]          destination port
            i(0x15, 0, 1, p),       // 10: jeq P -> 11, else -> 12
            i(0x06, 0, 0, 262_144), // 11: ret #262144
            i(0x06, 0, 0, 0),       // 12: ret #0
        ])
    }

    fn matches(&self, frame: &Frame<'_>) -> bool {
        ports(frame).is_some_and(|(s, d)| s == self.port || d == self.port)
    }
}

struct Ready(mpsc::Sender<()>);
impl Observer for Ready {
    fn started(&mut self, _info: &Started) {
        let _ = self.0.send(());
    }
}

/// An echo server on the host's loopback; returns its port.
fn echo_server() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut buf = [0u8; 64];
            if let Ok(n) = s.read(&mut buf) {
                let _ = s.write_all(&buf[..n]);
            }
        }
    });
    port
}

fn talk(port: u16) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(b"ping").unwrap();
    let mut buf = [0u8; 4];
    s.read_exact(&mut buf).unwrap();
}

/// Captures on lo while talking to two echo servers, keeping one's port.
fn run(name: &str, in_kernel: bool) -> (capture::Summary, usize, u16) {
    let (keep, other) = (echo_server(), echo_server());
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("capture-seam-{name}"));
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("f.pcap");
    let mut config = Config::new("lo", &out);
    config.max_duration = Some(Duration::from_millis(1500));
    let (tx, rx) = mpsc::channel();
    let cap = thread::spawn(move || {
        let filter = TcpPort {
            port: keep,
            in_kernel,
        };
        capture::run(&config, Some(&filter), &mut Ready(tx))
    });
    rx.recv_timeout(Duration::from_secs(10))
        .expect("capture started");
    for _ in 0..5 {
        talk(keep);
        talk(other);
    }
    let summary = cap.join().unwrap().unwrap();
    let mut reader = Reader::open(&out).unwrap();
    let mut n = 0;
    while let Some(frame) = reader.next_frame().unwrap() {
        let (s, d) = ports(&frame).expect("a TCP packet");
        assert!(
            s == keep || d == keep,
            "packet {s} -> {d} passed a filter for port {keep}"
        );
        n += 1;
    }
    assert_eq!(n as u64, summary.stats.packets);
    (summary, n, keep)
}

#[test]
#[ignore = "needs root"]
fn kernel_filter_keeps_other_ports_out_of_the_ring() {
    crate::support::need::root();
    let (summary, n, _) = run("kernel", true);
    assert_eq!(summary.filter, FilterPlacement::Kernel);
    // 5 connections of at least 8 packets each (handshake, data, echo, acks, close).
    assert!(n >= 40, "{n} packets");
    assert_eq!(summary.stats.filtered_in_user, 0);
    // Rejected packets never reach the ring, so the kernel counted only ours.
    assert_eq!(
        summary.stats.kernel_received,
        summary.stats.packets + summary.stats.kernel_dropped
    );
}

#[test]
#[ignore = "needs root"]
fn user_space_filter_when_it_does_not_compile() {
    crate::support::need::root();
    let (summary, n, _) = run("user", false);
    assert!(matches!(summary.filter, FilterPlacement::UserSpace { .. }));
    assert!(n >= 40, "{n} packets");
    // The other port's 5 connections were copied out, then rejected.
    assert!(summary.stats.filtered_in_user >= 40, "{:?}", summary.stats);
    assert_eq!(
        summary.stats.kernel_received,
        summary.stats.packets + summary.stats.filtered_in_user + summary.stats.kernel_dropped
    );
}
