//! The house's layers, checked: which top-level module imports which, read
//! from the source. The analysis core (`pcap`, `flow`, `http`, `filter`,
//! `strace`, `analysis`, `redact`, `time`) imports neither `store` nor
//! `web` (nor the CLI or the capture agent); `store` takes from the analysis only its
//! output (the `Output` trait, the summary, the rows of `report`, the
//! conversation and packet records), never its machinery (reassembly,
//! decoding, HTTP parsing, following a stream). `cargo test layers --
//! --nocapture` prints the whole listing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const CORE: &[&str] = &[
    "pcap", "flow", "http", "filter", "strace", "analysis", "redact", "time",
];

/// What `store` may name of the analysis core, as path prefixes.
const STORE_MAY_USE: &[&str] = &[
    "analysis::report",
    // Endpoints are a report over the exchange rows, made as they are stored.
    "analysis::endpoints",
    // The comparison's per-capture digest, tallied like the endpoints.
    "analysis::diff::Digest",
    "analysis::diff::{Digest",
    // The one tally of the rows (endpoints, timeline, digest) the results
    // writer counts the rows into as it stores them: a report over the
    // rows, as the two above.
    "analysis::diff::Tallies",
    // The store's own tests read a sample capture.
    "pcap::Reader::new",
    "analysis::{",
    "analysis::CaptureSummary",
    "analysis::Output",
    "analysis::HttpExchange",
    // A share link's stored profile and key, and the redactor a shared
    // view's store hands to the byte views (README, "Share links").
    "redact::ProfileName",
    "redact::cryptopan::KEY_LEN",
    "redact::Redactor",
    "flow::{",
    "flow::Conversation",
    "flow::PacketInfo",
    "flow::Proto",
    "strace::",
    "time::",
    "store::",
];

/// `crate::X::rest` paths named in a file, as (X, rest-prefix).
fn crate_paths(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':' || c == '{'))
            .unwrap_or(rest.len());
        let path = &rest[..end];
        let top = path.split("::").next().unwrap_or("").to_string();
        if !top.is_empty() {
            out.push((top, path.to_string()));
        }
    }
    out
}

fn walk(dir: &Path, files: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = entry.path();
        if p.is_dir() {
            walk(&p, files);
        } else if p.extension().is_some_and(|e| e == "rs") {
            files.push(p);
        }
    }
}

/// Top-level module of every source file, and the `crate::` paths it names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&src).unwrap_or(&f);
        let module = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .unwrap_or("")
            .trim_end_matches(".rs")
            .to_string();
        let text = std::fs::read_to_string(&f).unwrap_or_default();
        let entry = map.entry(module).or_default();
        for (_, path) in crate_paths(&text) {
            entry.insert(path);
        }
    }
    map
}

#[test]
fn layers_point_one_way() {
    let map = imports();
    assert!(map.contains_key("analysis") && map.contains_key("store"));
    let mut wrong = Vec::new();
    for (module, paths) in map.iter().filter(|(m, _)| *m != "layers") {
        let tops: BTreeSet<&str> = paths
            .iter()
            .filter_map(|p| p.split("::").next())
            .filter(|t| *t != module && map.contains_key(*t))
            .collect();
        println!(
            "{module:>9} -> {}",
            tops.into_iter().collect::<Vec<_>>().join(", ")
        );
        for p in paths {
            let top = p.split("::").next().unwrap_or("");
            if CORE.contains(&module.as_str()) && ["store", "web", "cli", "capture"].contains(&top)
            {
                wrong.push(format!("{module} (analysis core) uses crate::{p}"));
            }
            if module == "store"
                && CORE.contains(&top)
                && !STORE_MAY_USE.iter().any(|ok| p.starts_with(ok))
            {
                wrong.push(format!("store uses analysis machinery: crate::{p}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn the_check_sees_a_wrong_import() {
    let paths = crate_paths("use crate::store::Store;\nlet x = crate::flow::reassembly::X;");
    assert_eq!(
        paths,
        vec![
            ("store".to_string(), "store::Store".to_string()),
            ("flow".to_string(), "flow::reassembly::X".to_string())
        ]
    );
}
