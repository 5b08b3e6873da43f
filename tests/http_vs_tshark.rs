//! HTTP exchanges against tshark's, on sample-captures/ and ../shared/corpus
//! (the sample captures again when it is absent): the set of (stream,
//! method, uri, status) and the four timestamps (first/last request
//! segment, first/last response segment).
//! Prints the counts; deliberate differences are named in `KNOWN`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tracedeck::analysis::{self, HttpExchange, Options, Output};
use tracedeck::flow::{Conversation, Proto};
use tracedeck::pcap::Reader;

use crate::support::shared::{samples, shared};

/// Captures where our exchanges differ from tshark's on purpose.
const KNOWN: &[(&str, &str)] = &[
    (
        "zeek-http-206_example_b.pcap",
        "tshark gives the first 206 response no status: its reassembly gives up under 56 retransmissions \
         and 52 out-of-order segments; we reassemble that response whole (816896 body bytes, no gap)",
    ),
];

#[derive(Default)]
pub(crate) struct Collect {
    pub(crate) convs: Vec<Conversation>,
    pub(crate) http: Vec<HttpExchange>,
}

impl Output for Collect {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), analysis::OutputError> {
        self.convs.push(conv.clone());
        Ok(())
    }
    fn exchange(&mut self, e: HttpExchange) -> Result<(), analysis::OutputError> {
        self.http.push(e);
        Ok(())
    }
}

fn epoch_ns(v: &Value) -> Option<i64> {
    let s = v.as_str()?;
    let (secs, frac) = s.split_once('.').unwrap_or((s, "0"));
    let frac = format!("{frac:0<9}");
    Some(secs.parse::<i64>().ok()? * 1_000_000_000 + frac[..9].parse::<i64>().ok()?)
}

#[derive(Default, Debug)]
struct Tally {
    tshark: usize,
    ours: usize,
    matched: usize,
    timed: usize,
    diffs: Vec<String>,
}

type Key = (u64, String, String, Option<u16>);

fn compare(path: &Path, truth: &Value) -> Tally {
    let mut t = Tally::default();
    let mut out = Collect::default();
    let analyzed = Reader::open(path)
        .map_err(|e| e.to_string())
        .and_then(|mut r| {
            analysis::analyze(&mut r, &Options::default(), &mut out).map_err(|e| e.to_string())
        });
    if let Err(e) = analyzed {
        if truth["http_exchanges"]
            .as_array()
            .is_some_and(|a| !a.is_empty())
        {
            t.diffs
                .push(format!("we failed ({e}) where tshark found HTTP"));
        }
        return t;
    }
    out.convs.sort_by_key(|c| c.id);
    let stream_of: BTreeMap<u64, u64> = out
        .convs
        .iter()
        .filter(|c| c.proto == Proto::Tcp)
        .enumerate()
        .map(|(i, c)| (c.id, i as u64))
        .collect();
    let mut ours: BTreeMap<Key, Vec<&HttpExchange>> = BTreeMap::new();
    for h in &out.http {
        let e = &h.exchange;
        let Some(m) = &e.method else { continue };
        let u = e.uri.clone().unwrap_or_default();
        let key = (stream_of[&h.conversation], m.clone(), u, e.status);
        ours.entry(key).or_default().push(h);
    }
    t.ours = out
        .http
        .iter()
        .filter(|h| h.exchange.method.is_some())
        .count();
    for ex in truth["http_exchanges"].as_array().into_iter().flatten() {
        let req = &ex["request"];
        // HTTP over UDP (SSDP's M-SEARCH) is not followed: tracedeck reads
        // HTTP from TCP streams only.
        if req.is_null() || ex["tcp_stream"].is_null() {
            continue;
        }
        t.tshark += 1;
        let status = ex["response"]["code"].as_u64().map(|c| c as u16);
        let key = (
            ex["tcp_stream"].as_u64().unwrap_or(0),
            req["method"].as_str().unwrap_or("").to_string(),
            req["uri"].as_str().unwrap_or("").to_string(),
            status,
        );
        // tshark gives no status to a response it did not see complete; we
        // report the status line of a response cut short (marked
        // interrupted or with a gap): look those up under any status.
        let key = if status.is_none() && !ours.contains_key(&key) {
            ours.keys()
                .find(|k| k.0 == key.0 && k.1 == key.1 && k.2 == key.2 && !ours[k].is_empty())
                .cloned()
                .unwrap_or(key)
        } else {
            key
        };
        let Some(list) = ours.get_mut(&key) else {
            t.diffs.push(format!("tshark's {key:?} not found"));
            continue;
        };
        if list.is_empty() {
            t.diffs.push(format!("tshark's {key:?} found fewer times"));
            continue;
        }
        let h = list.remove(0);
        t.matched += 1;
        let e = &h.exchange;
        let resp = &ex["response"];
        let mut pairs = vec![
            (
                "request_start",
                e.request_start,
                epoch_ns(&req["first_segment_epoch"]),
            ),
            ("request_end", e.request_end, epoch_ns(&req["epoch"])),
        ];
        if !resp.is_null() {
            pairs.push((
                "response_start",
                e.response_start,
                epoch_ns(&resp["first_segment_epoch"]),
            ));
            pairs.push(("response_end", e.response_end, epoch_ns(&resp["epoch"])));
        } else if e.status.is_some() && !(e.interrupted || e.has_gap) {
            t.diffs.push(format!(
                "{key:?}: ours is a complete response, tshark saw none"
            ));
        }
        let mut ok = true;
        for (name, got, want) in pairs {
            if got.map(|g| g.as_nanos()) != want {
                ok = false;
                t.diffs
                    .push(format!("{key:?} {name}: ours {got:?}, tshark {want:?}"));
            }
        }
        if let (Some(got), Some(want)) = (e.http_time(), resp["http_time"].as_f64()) {
            if (got.as_secs_f64() - want).abs() > 1e-6 {
                ok = false;
                t.diffs.push(format!(
                    "{key:?} http.time: ours {}, tshark {want}",
                    got.as_secs_f64()
                ));
            }
        }
        if ok {
            t.timed += 1;
        }
    }
    t
}

pub(crate) fn compare_dir(dir: &Path, strict: bool) -> (usize, usize, usize) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut tshark, mut matched, mut timed) = (0, 0, 0);
    let mut unexpected = Vec::new();
    for path in files {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".truth.json") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(dir.join(format!("{name}.truth.json"))) else {
            continue;
        };
        let truth: Value = serde_json::from_str(&text).unwrap();
        let t = compare(&path, &truth);
        tshark += t.tshark;
        matched += t.matched;
        timed += t.timed;
        if !t.diffs.is_empty() {
            match KNOWN.iter().find(|(k, _)| *k == name) {
                Some((_, why)) => eprintln!("known difference {name}: {why}"),
                None => {
                    eprintln!(
                        "{name}: tshark {} ours {} matched {} timed {}",
                        t.tshark, t.ours, t.matched, t.timed
                    );
                    for d in t.diffs.iter().take(5) {
                        eprintln!("    {d}");
                    }
                    unexpected.push(name);
                }
            }
        }
    }
    eprintln!(
        "{}: {matched} of tshark's {tshark} HTTP requests found (method, uri, status), {timed} with all four times and http.time equal",
        dir.display()
    );
    if strict {
        assert!(
            unexpected.is_empty(),
            "HTTP differences from tshark in {unexpected:?}"
        );
    }
    (tshark, matched, timed)
}

fn samples_http_match_tshark() {
    let (tshark, matched, timed) = compare_dir(&samples(), true);
    assert!(tshark >= 20, "the samples hold at least 20 requests");
    assert_eq!((matched, timed), (tshark, tshark));
}

#[test]
fn sample_http_matches_tshark() {
    samples_http_match_tshark();
}

/// A real nginx (sample-captures/http/make.sh): a plain page, a gzip'd
/// chunked text and a 404 as tshark reads them; and its reply to an
/// HTTP/0.9 request (no status line, no headers), which tshark does not
/// see, read as the page's 15 bytes up to nginx's FIN.
#[test]
fn nginx_samples() {
    let dir = samples().join("http");
    assert_eq!(compare_dir(&dir, true), (3, 3, 3));
    assert_eq!(crate::corpus::compare_dir(&dir), 1);
    let mut out = Collect::default();
    let mut reader = Reader::open(&dir.join("nginx-http09.pcap")).unwrap();
    analysis::analyze(&mut reader, &Options::default(), &mut out).unwrap();
    let [ex] = &out.http[..] else {
        panic!("{} exchanges", out.http.len())
    };
    let e = &ex.exchange;
    assert_eq!(
        (
            e.method.as_deref(),
            e.uri.as_deref(),
            e.status,
            e.response_version.as_deref(),
            e.response_body_bytes
        ),
        (Some("GET"), Some("/"), None, Some("HTTP/0.9"), 15)
    );
    assert!(e.response_end >= e.response_start && e.response_start > e.request_end);
}

/// The counts README's "HTTP exchanges" section gives for the corpus.
#[test]
fn corpus_http_matches_tshark() {
    match shared("corpus/captures") {
        Some(dir) => assert_eq!(compare_dir(&dir, true), (1273, 1273, 1273)),
        None => samples_http_match_tshark(),
    }
}
