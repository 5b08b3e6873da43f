//! Where the tests' inputs are: this checkout's sample-captures/, and the
//! optional `../shared` directory next to it (public captures with
//! tshark's answers, strace samples; `TRACEDECK_SHARED` points elsewhere).
//! A test over `../shared` runs on the sample captures when it is absent.

use std::path::{Path, PathBuf};

pub fn crate_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn samples() -> PathBuf {
    crate_root().join("sample-captures")
}

/// `../shared/<sub>` (or `$TRACEDECK_SHARED/<sub>`), when it is a directory.
pub fn shared(sub: &str) -> Option<PathBuf> {
    let root = std::env::var_os("TRACEDECK_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate_root().join("../shared"));
    let dir = root.join(sub);
    dir.is_dir().then_some(dir)
}

/// The captures (pcap, pcapng, gzip) under `dir`, recursively, sorted.
pub fn captures_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.contains(".pcap") && !n.ends_with(".json") && !n.ends_with(".md")
            }) {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out
}
