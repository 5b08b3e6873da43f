//! A capture of many HTTP/1.1 exchanges over many endpoints with known
//! latency distributions, for bench/endpoints.py (`--exchanges 5000000`) and
//! tests/endpoints.rs (a smaller one, included with `#[path]`).
//!
//! Each exchange is one request segment and one response segment on a
//! keep-alive connection (100 exchanges a connection, opened and closed
//! with a handshake and FINs), so its server time and total time are both
//! the gap the generator drew. Endpoints: `ENDPOINT_KINDS` shapes on four
//! hosts, each with its own distribution (uniform or log-uniform between
//! two bounds, in microseconds); the first gets a third of the exchanges,
//! all on one host, so past three million exchanges its percentiles come
//! from the sketch.
//!
//! Next to `OUT.pcap` it writes `OUT.pcap.expect.tsv`: per endpoint
//! (method, host, template) the count and the nearest-rank p50, p90, p99
//! and max of the values drawn, in nanoseconds.
//!
//! ```text
//! rustc -O --edition 2021 bench/endpoints_gen.rs -o target/bench/endpoints_gen
//! target/bench/endpoints_gen OUT.pcap [EXCHANGES] [SEED]
//! ```

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// xorshift64: the same values for the same seed, everywhere.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How an endpoint's latencies are drawn, in microseconds.
#[derive(Clone, Copy, Debug)]
pub enum Dist {
    Uniform(u64, u64),
    LogUniform(u64, u64),
}

impl Dist {
    pub fn draw(self, rng: &mut Rng) -> u64 {
        match self {
            Dist::Uniform(lo, hi) => lo + rng.below(hi - lo + 1),
            Dist::LogUniform(lo, hi) => {
                let (a, b) = ((lo as f64).ln(), (hi as f64).ln());
                (a + (b - a) * rng.unit()).exp().round() as u64
            }
        }
    }
}

/// One endpoint: how its paths look, the template tracedeck should infer,
/// its share of the exchanges (weights) and its distribution.
pub struct Kind {
    pub method: &'static str,
    /// `{n}` is replaced by a number drawn per exchange, `{u}` by a user
    /// name from a set of 500.
    pub path: &'static str,
    pub template: &'static str,
    pub weight: u64,
    pub dist: Dist,
    /// Per mille of 5xx answers.
    pub errors: u64,
}

pub const HOSTS: [&str; 4] = [
    "api.shop.test",
    "cdn.shop.test",
    "auth.shop.test",
    "search.shop.test",
];

/// Generic resource endpoints per host besides the named kinds.
pub const RESOURCES: usize = 60;

pub fn kinds() -> Vec<Kind> {
    let k = |method, path, template, weight, dist, errors| Kind {
        method,
        path,
        template,
        weight,
        dist,
        errors,
    };
    vec![
        k(
            "GET",
            "/api/users/{n}",
            "/api/users/{id}",
            250,
            Dist::LogUniform(1_000, 2_000_000),
            5,
        ),
        k(
            "GET",
            "/api/users/{u}/orders",
            "/api/users/{name}/orders",
            80,
            Dist::Uniform(5_000, 80_000),
            10,
        ),
        k(
            "POST",
            "/api/orders",
            "/api/orders",
            60,
            Dist::LogUniform(20_000, 900_000),
            40,
        ),
        k(
            "GET",
            "/api/orders/{n}/items",
            "/api/orders/{id}/items",
            60,
            Dist::Uniform(2_000, 30_000),
            0,
        ),
        k("GET", "/health", "/health", 40, Dist::Uniform(50, 400), 0),
        k(
            "POST",
            "/graphql",
            "/graphql",
            50,
            Dist::LogUniform(3_000, 3_000_000),
            20,
        ),
        k(
            "GET",
            "/search?q=x{n}&page=2",
            "/search",
            50,
            Dist::LogUniform(10_000, 500_000),
            0,
        ),
    ]
}

/// What one endpoint should show.
#[derive(Default)]
pub struct Expected {
    pub values_ns: Vec<i64>,
}

/// (method, host, template) → the values drawn.
pub type Expectations = BTreeMap<(String, String, String), Expected>;

pub fn nearest_rank(sorted: &[i64], p: f64) -> i64 {
    let n = sorted.len();
    let rank = ((p * n as f64).ceil() as usize).clamp(1, n) - 1;
    sorted[rank]
}

struct Pcap {
    out: BufWriter<File>,
    rec: Vec<u8>,
}

/// One side of a connection.
struct Side {
    ip: [u8; 4],
    port: u16,
    seq: u32,
}

impl Pcap {
    fn header(&mut self) -> std::io::Result<()> {
        let mut h = Vec::with_capacity(24);
        h.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        h.extend_from_slice(&2u16.to_le_bytes());
        h.extend_from_slice(&4u16.to_le_bytes());
        h.extend_from_slice(&[0; 8]);
        h.extend_from_slice(&65_535u32.to_le_bytes());
        h.extend_from_slice(&1u32.to_le_bytes());
        self.out.write_all(&h)
    }

    fn segment(
        &mut self,
        ts_us: u64,
        from: &mut Side,
        to: &Side,
        flags: u8,
        payload: &[u8],
    ) -> std::io::Result<()> {
        let ip_len = 20 + 20 + payload.len();
        let frame = 14 + ip_len;
        let r = &mut self.rec;
        r.clear();
        r.extend_from_slice(&((ts_us / 1_000_000) as u32).to_le_bytes());
        r.extend_from_slice(&((ts_us % 1_000_000) as u32).to_le_bytes());
        r.extend_from_slice(&(frame as u32).to_le_bytes());
        r.extend_from_slice(&(frame as u32).to_le_bytes());
        r.extend_from_slice(&[2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0]);
        r.extend_from_slice(&[
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
        r.extend_from_slice(&from.ip);
        r.extend_from_slice(&to.ip);
        r.extend_from_slice(&from.port.to_be_bytes());
        r.extend_from_slice(&to.port.to_be_bytes());
        r.extend_from_slice(&from.seq.to_be_bytes());
        let ack = if flags & 0x10 != 0 { to.seq } else { 0 };
        r.extend_from_slice(&ack.to_be_bytes());
        r.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
        r.extend_from_slice(payload);
        let used = payload.len() as u32 + u32::from(flags & 0x03 != 0);
        from.seq = from.seq.wrapping_add(used);
        self.out.write_all(r)
    }
}

const SYN: u8 = 0x02;
const FIN: u8 = 0x01;
const ACK: u8 = 0x10;
const PSH: u8 = 0x08;

/// Exchanges per connection.
pub const PER_CONNECTION: u64 = 100;

/// Writes `exchanges` exchanges to `path`; answers what each endpoint
/// should show.
pub fn generate(path: &Path, exchanges: u64, seed: u64) -> std::io::Result<Expectations> {
    let kinds = kinds();
    let total_weight: u64 = kinds.iter().map(|k| k.weight).sum::<u64>() + RESOURCES as u64 * 2;
    let mut rng = Rng(seed.max(1));
    let mut pcap = Pcap {
        out: BufWriter::with_capacity(1 << 20, File::create(path)?),
        rec: Vec::with_capacity(2048),
    };
    pcap.header()?;
    let mut expect = Expectations::new();
    let mut now_us: u64 = 1_700_000_000_000_000;
    let mut done = 0u64;
    let mut conn = 0u64;
    let mut req = Vec::with_capacity(256);
    while done < exchanges {
        let host_i = (conn % HOSTS.len() as u64) as usize;
        let host = HOSTS[host_i];
        let mut client = Side {
            ip: [
                10,
                1 + (conn >> 24) as u8 % 200,
                (conn >> 8) as u8,
                conn as u8,
            ],
            port: 1024 + (conn % 60_000) as u16,
            seq: rng.next() as u32,
        };
        let mut server = Side {
            ip: [10, 0, 0, 1 + host_i as u8],
            port: 80,
            seq: rng.next() as u32,
        };
        pcap.segment(now_us, &mut client, &server, SYN, &[])?;
        now_us += 200;
        pcap.segment(now_us, &mut server, &client, SYN | ACK, &[])?;
        now_us += 200;
        pcap.segment(now_us, &mut client, &server, ACK, &[])?;
        let n = PER_CONNECTION.min(exchanges - done);
        for _ in 0..n {
            let pick = rng.below(total_weight);
            // The hot endpoint is one host's, whichever server answers.
            let host = if pick < kinds[0].weight {
                HOSTS[0]
            } else {
                host
            };
            let (method, template, dist, errors, target) = match pick_kind(&kinds, pick) {
                Some(k) => {
                    let target = k
                        .path
                        .replace("{n}", &(1 + rng.below(1_000_000)).to_string())
                        .replace("{u}", &format!("user{}x", rng.below(500)));
                    (k.method, k.template.to_string(), k.dist, k.errors, target)
                }
                None => {
                    // A generic resource: /v2/resN/{id}, GET or PUT.
                    let r = (pick - kinds.iter().map(|k| k.weight).sum::<u64>()) as usize;
                    let method = if r % 2 == 0 { "GET" } else { "PUT" };
                    let res = r / 2;
                    let lo = 500 + 700 * res as u64;
                    (
                        method,
                        format!("/v2/res{res}/{{id}}"),
                        Dist::Uniform(lo, lo * 4),
                        2,
                        format!("/v2/res{res}/{}", 1 + rng.below(100_000)),
                    )
                }
            };
            let latency = dist.draw(&mut rng).max(1);
            let status = if rng.below(1000) < errors {
                "503 Service Unavailable"
            } else {
                "200 OK"
            };
            req.clear();
            write!(req, "{method} {target} HTTP/1.1\r\nHost: {host}\r\n")?;
            if method != "GET" {
                req.extend_from_slice(b"Content-Length: 0\r\n");
            }
            req.extend_from_slice(b"\r\n");
            now_us += 300;
            pcap.segment(now_us, &mut client, &server, ACK | PSH, &req)?;
            now_us += latency;
            let resp = format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
            pcap.segment(now_us, &mut server, &client, ACK | PSH, resp.as_bytes())?;
            expect
                .entry((method.to_string(), host.to_string(), template))
                .or_default()
                .values_ns
                .push(latency as i64 * 1000);
            done += 1;
        }
        now_us += 300;
        pcap.segment(now_us, &mut client, &server, FIN | ACK, &[])?;
        now_us += 200;
        pcap.segment(now_us, &mut server, &client, FIN | ACK, &[])?;
        now_us += 200;
        pcap.segment(now_us, &mut client, &server, ACK, &[])?;
        conn += 1;
    }
    pcap.out.flush()?;
    Ok(expect)
}

fn pick_kind(kinds: &[Kind], mut pick: u64) -> Option<&Kind> {
    for k in kinds {
        if pick < k.weight {
            return Some(k);
        }
        pick -= k.weight;
    }
    None
}

/// `method host template count p50 p90 p99 max` per endpoint, tab-separated.
pub fn write_expectations(path: &Path, expect: &mut Expectations) -> std::io::Result<()> {
    let mut w = BufWriter::new(File::create(path)?);
    for ((method, host, template), e) in expect.iter_mut() {
        e.values_ns.sort_unstable();
        let v = &e.values_ns;
        writeln!(
            w,
            "{method}\t{host}\t{template}\t{}\t{}\t{}\t{}\t{}",
            v.len(),
            nearest_rank(v, 0.5),
            nearest_rank(v, 0.9),
            nearest_rank(v, 0.99),
            v[v.len() - 1]
        )?;
    }
    w.flush()
}

#[allow(dead_code)]
fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(out) = args.first() else {
        eprintln!("usage: endpoints_gen OUT.pcap [EXCHANGES] [SEED]");
        std::process::exit(2);
    };
    let exchanges = args
        .get(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000_000);
    let seed = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let mut expect = generate(Path::new(out), exchanges, seed)?;
    let sidecar = format!("{out}.expect.tsv");
    write_expectations(Path::new(&sidecar), &mut expect)?;
    println!(
        "{exchanges} exchanges in {} endpoints: {out}, {sidecar}",
        expect.len()
    );
    Ok(())
}
