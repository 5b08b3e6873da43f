//! The conversation table against tshark's, on every capture of
//! sample-captures/ (truth files made by sample-captures/truth.py) and of
//! ../shared/corpus (the sample captures again when it is absent). Prints
//! how many captures matched; deliberate differences are named in `KNOWN`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use tracedeck::analysis::{self, Options, Output};
use tracedeck::flow::{Conversation, Dir, Proto};
use tracedeck::pcap::Reader;

use crate::support::shared::{samples, shared};

/// Captures where we differ from tshark on purpose, and why.
const KNOWN: &[(&str, &str)] = &[];

#[derive(Default)]
struct Collect(Vec<Conversation>);

impl Output for Collect {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), analysis::OutputError> {
        self.0.push(conv.clone());
        Ok(())
    }
}

fn epoch_ns(v: &Value) -> i64 {
    let s = v.as_str().unwrap_or("0");
    let (secs, frac) = s.split_once('.').unwrap_or((s, "0"));
    let frac = format!("{frac:0<9}");
    secs.parse::<i64>().unwrap() * 1_000_000_000 + frac[..9].parse::<i64>().unwrap()
}

/// Compares one capture; returns the differences found.
fn compare(path: &Path, truth: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let mut out = Collect::default();
    let result = Reader::open(path)
        .map_err(|e| e.to_string())
        .and_then(|mut r| {
            analysis::analyze(&mut r, &Options::default(), &mut out).map_err(|e| e.to_string())
        });
    let tshark_failed = truth["packet_count"].is_null();
    match (&result, tshark_failed) {
        (Err(_), true) => return diffs,
        (Err(e), false) => {
            // tshark read part of it: we must too (a damaged tail is a warning).
            diffs.push(format!(
                "we failed ({e}) where tshark read {} packets",
                truth["packet_count"]
            ));
            return diffs;
        }
        (Ok(_), true) => diffs.push("tshark rejected the file, we read it".into()),
        _ => {}
    }
    let mut convs = out.0;
    convs.sort_by_key(|c| c.id);
    for (proto, key) in [(Proto::Tcp, "tcp_streams"), (Proto::Udp, "udp_streams")] {
        let ours: Vec<&Conversation> = convs.iter().filter(|c| c.proto == proto).collect();
        let theirs = truth[key].as_array().cloned().unwrap_or_default();
        if ours.len() != theirs.len() {
            diffs.push(format!(
                "{key}: {} conversations, tshark {}",
                ours.len(),
                theirs.len()
            ));
        }
        for (c, t) in ours.iter().zip(theirs.iter()) {
            let a = t["a"].as_str().unwrap_or("").to_string();
            let a_port = t["a_port"].as_u64().unwrap_or(0) as u16;
            let a_is_client = c.client.ip().to_string() == a && c.client.port() == a_port;
            let a_is_server = c.server.ip().to_string() == a && c.server.port() == a_port;
            if !a_is_client && !a_is_server {
                diffs.push(format!(
                    "{key}[{}]: endpoints {} / {} vs tshark {}:{}",
                    c.id, c.client, c.server, a, a_port
                ));
                continue;
            }
            let (ab, ba) = if a_is_client {
                (Dir::ToServer, Dir::ToClient)
            } else {
                (Dir::ToClient, Dir::ToServer)
            };
            let got = (
                c.dirs[ab.index()].packets,
                c.dirs[ba.index()].packets,
                c.dirs[ab.index()].bytes,
                c.dirs[ba.index()].bytes,
            );
            let want = (
                t["frames_a_to_b"].as_u64().unwrap_or(0),
                t["frames_b_to_a"].as_u64().unwrap_or(0),
                t["bytes_a_to_b"].as_u64().unwrap_or(0),
                t["bytes_b_to_a"].as_u64().unwrap_or(0),
            );
            if got != want {
                diffs.push(format!(
                    "{key}[{}] {}<->{}: frames/bytes {:?}, tshark {:?}",
                    c.id, c.client, c.server, got, want
                ));
            }
            let start = c.start.map(|s| s.as_nanos()).unwrap_or(0);
            let want_start = epoch_ns(&t["first_epoch"]);
            // Compare to the microsecond: tshark's epoch strings carry 9 decimals.
            if (start - want_start).abs() >= 1_000 {
                diffs.push(format!(
                    "{key}[{}]: start {start}, tshark {want_start}",
                    c.id
                ));
            }
            let dur = c.duration().as_nanos();
            let want_dur = (t["duration"].as_f64().unwrap_or(0.0) * 1e9).round() as i64;
            if (dur - want_dur).abs() >= 1_000 {
                diffs.push(format!(
                    "{key}[{}]: duration {dur} ns, tshark {want_dur} ns",
                    c.id
                ));
            }
        }
    }
    diffs
}

/// Compares every capture in `dir` that has a truth file; returns how
/// many there were.
pub(crate) fn compare_dir(dir: &Path) -> usize {
    let mut results: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".truth.json") {
            continue;
        }
        let truth_path = dir.join(format!("{name}.truth.json"));
        let Ok(text) = std::fs::read_to_string(&truth_path) else {
            continue;
        };
        let truth: Value = serde_json::from_str(&text).unwrap();
        results.insert(name, compare(&path, &truth));
    }
    let matched = results.values().filter(|d| d.is_empty()).count();
    let mut unexpected = Vec::new();
    for (name, diffs) in &results {
        if diffs.is_empty() {
            continue;
        }
        match KNOWN.iter().find(|(k, _)| k == name) {
            Some((_, why)) => eprintln!("known difference {name}: {why}"),
            None => {
                for d in diffs {
                    unexpected.push(format!("{name}: {d}"));
                }
            }
        }
    }
    eprintln!(
        "{}: conversation tables of {matched} of {} captures match tshark exactly",
        dir.display(),
        results.len()
    );
    assert!(
        unexpected.is_empty(),
        "differences from tshark:\n{}",
        unexpected.join("\n")
    );
    results.len()
}

#[test]
fn sample_conversation_tables_match_tshark() {
    let n = compare_dir(&samples());
    assert!(
        n >= 8,
        "expected the sample captures' truth files, found {n}"
    );
}

#[test]
fn corpus_conversation_tables_match_tshark() {
    match shared("corpus/captures") {
        Some(dir) => assert_eq!(
            compare_dir(&dir),
            61,
            "the corpus has 61 captures with truth files"
        ),
        None => assert!(compare_dir(&samples()) >= 8),
    }
}
