//! Fills a `tracedeck serve` data directory with one capture holding N
//! synthetic conversations and as many HTTP exchanges, written through the
//! store's own result writer, so the API's query latency can be measured
//! at a scale no upload here could reach quickly (bench/api.sh uses it).
//!
//! ```text
//! cargo run --release --example fill_store -- DATA_DIR CAPTURE.pcap [N]
//! ```
//! CAPTURE.pcap is any small capture (it becomes the stored file; its own
//! packets are analyzed first, then the synthetic rows are added). Prints
//! the capture's id.

use std::net::SocketAddr;

use tracedeck::analysis::{self, Options};
use tracedeck::flow::{AppFacts, Conversation, DirCounters, HalfStats, Proto, State};
use tracedeck::store::{ExchangeRow, NewCapture, SqliteStore, Store};
use tracedeck::time::{Span, Timestamp};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(dir), Some(cap)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: fill_store DATA_DIR CAPTURE.pcap [N]");
        std::process::exit(2);
    };
    let n: u64 = args
        .get(3)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let store = SqliteStore::open(std::path::Path::new(dir)).expect("data dir");
    let staged = store.staging_path().expect("staging");
    std::fs::copy(cap, &staged).expect("copy capture");
    let size = std::fs::metadata(&staged).map(|m| m.len()).unwrap_or(0);
    let meta = store
        .add_capture(
            &staged,
            NewCapture {
                name: format!("synthetic-{n}.pcap"),
                size,
                sha256: "0".repeat(64),
                gzip: false,
            },
        )
        .expect("add");
    let started = std::time::Instant::now();
    let mut work = store.begin_analysis(&meta.id).expect("begin");
    let mut reader = tracedeck::pcap::Reader::new(work.input).expect("capture");
    let opts = Options {
        packets: true,
        ..Options::default()
    };
    let mut summary = analysis::analyze(&mut reader, &opts, work.writer.as_mut()).expect("analyze");
    let base = summary.conversations;
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut rnd = move |m: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % m
    };
    let t0 = 1_700_000_000_000_000_000i64;
    for i in 0..n {
        let id = base + i;
        let start = Timestamp::from_nanos(t0 + i as i64 * 100_000);
        let dur = Span::from_nanos(rnd(5_000_000_000) as i64);
        let client: SocketAddr = format!(
            "10.{}.{}.{}:{}",
            rnd(256),
            rnd(256),
            rnd(256),
            1024 + rnd(60000)
        )
        .parse()
        .expect("addr");
        let server: SocketAddr = "10.0.0.1:8080".parse().expect("addr");
        let pk = 6 + rnd(20);
        let conv = Conversation {
            id,
            proto: Proto::Tcp,
            client,
            server,
            roles_from_handshake: true,
            start: Some(start),
            end: Some(Timestamp::from_nanos(start.as_nanos() + dur.as_nanos())),
            first_frame: id * 10,
            last_frame: id * 10 + pk,
            dirs: [
                DirCounters {
                    packets: pk / 2,
                    bytes: 66 * pk / 2 + 120,
                    ..DirCounters::default()
                },
                DirCounters {
                    packets: pk - pk / 2,
                    bytes: rnd(40_000),
                    ..DirCounters::default()
                },
            ],
            streams: [HalfStats::default(); 2],
            handshake_rtt: Some(Span::from_nanos(rnd(1_000_000) as i64)),
            state: State::Closed,
            app: AppFacts {
                protocol: Some("http"),
                records: 1,
                reversed: 0,
                tls: None,
            },
            tunnel: None,
        };
        work.writer
            .conversation(&conv)
            .expect("store a conversation");
        let status = match rnd(100) {
            0..=84 => 200,
            85..=92 => 404,
            93..=96 => 304,
            _ => 500 + rnd(4) as u16,
        };
        let total = dur.as_nanos() / 2;
        work.writer.exchange_row(&ExchangeRow {
            id: 0,
            row: tracedeck::analysis::report::ExchangeRow {
                conversation: id,
                client,
                server,
                method: Some("GET".into()),
                uri: Some(format!("/api/items/{}?page=2", rnd(1000))),
                host: Some("shop.example:8080".into()),
                status: Some(status),
                request_start: Some(start),
                request_end: Some(start),
                response_start: Some(Timestamp::from_nanos(start.as_nanos() + total / 2)),
                response_end: Some(Timestamp::from_nanos(start.as_nanos() + total)),
                server_time: Some(Span::from_nanos(total / 2)),
                total_time: Some(Span::from_nanos(total)),
                request_body_bytes: 0,
                response_body_bytes: rnd(30_000),
                content_type: Some("application/json".into()),
                ..Default::default()
            },
        });
    }
    summary.conversations += n;
    work.writer.commit(&summary).expect("commit");
    eprintln!(
        "{n} conversations and exchanges stored in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    // serve builds them in the background; a bench wants them there.
    let built = store.build_indexes(&meta.id).expect("indexes");
    eprintln!("{} indexes made in {:.1} s", built.made, built.secs);
    println!("{}", meta.id);
}
