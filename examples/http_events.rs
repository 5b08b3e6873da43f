//! Dev aid: runs `http::Parser` over stream events written by
//! `bench/http_events.py` and prints one JSON object per exchange.
//!
//! usage: cargo run --example http_events < events.txt

use std::collections::BTreeMap;
use std::io::BufRead;

use tracedeck::flow::{Dir, StreamSink};
use tracedeck::http::{judge, Exchange, Parser};
use tracedeck::Timestamp;

fn main() {
    let mut parsers: BTreeMap<u64, Parser<Vec<Exchange>>> = BTreeMap::new();
    let mut last = Timestamp::ZERO;
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let f: Vec<&str> = line.split(' ').collect();
        let [stream, frame, epoch, op, dir, arg] = f[..] else {
            continue;
        };
        let (Ok(stream), Ok(frame), Ok(epoch)) = (
            stream.parse::<u64>(),
            frame.parse::<u64>(),
            epoch.parse::<f64>(),
        ) else {
            continue;
        };
        let ts = Timestamp::from_secs_f64(epoch);
        last = last.max(ts);
        let dir = if dir == "0" {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let p = parsers
            .entry(stream)
            .or_insert_with(|| Parser::new(Vec::new()));
        match op {
            "d" => p.data(dir, ts, frame, &hex(arg)),
            "g" => p.gap(dir, ts, frame, arg.parse().unwrap_or(0)),
            "f" => p.fin(dir, ts, frame),
            "r" => p.reset(dir, ts, frame),
            _ => {}
        }
    }
    for (stream, mut p) in parsers {
        p.finish(last);
        for ex in p.into_sink() {
            let verdict = judge(&ex, &Default::default());
            let mut v = serde_json::to_value(&ex).unwrap_or_default();
            v["tcp_stream"] = serde_json::json!(stream);
            v["verdict"] = serde_json::to_value(&verdict).unwrap_or_default();
            println!("{v}");
        }
    }
}

fn hex(s: &str) -> Vec<u8> {
    s.as_bytes()
        .chunks(2)
        .filter_map(|c| u8::from_str_radix(std::str::from_utf8(c).ok()?, 16).ok())
        .collect()
}
