//! Conformance with tcpdump: for every sample capture and every expression
//! of the list, the number of frames `Filter::matches` accepts equals the
//! number of packets `tcpdump -r FILE EXPR` prints.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::support::filters::*;

/// tcpdump (libpcap 1.10) does not read gzip: give it a decompressed copy.
fn tcpdump_readable(path: &std::path::Path) -> Option<std::path::PathBuf> {
    let bytes = std::fs::read(path).ok()?;
    if !bytes.starts_with(&[0x1f, 0x8b]) {
        return Some(path.to_path_buf());
    }
    let mut out = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(&bytes[..]), &mut out)
        .ok()?;
    let name = path
        .file_name()?
        .to_string_lossy()
        .trim_end_matches(".gz")
        .to_string();
    let dest = std::env::temp_dir().join(format!("tracedeck-filter-{}-{name}", std::process::id()));
    std::fs::write(&dest, out).ok()?;
    Some(dest)
}

#[test]
fn match_counts_equal_tcpdump() {
    assert!(EXPRESSIONS.len() >= 60);
    if !tcpdump_available() {
        eprintln!("NOTE: tcpdump not found; filter conformance test skipped");
        return;
    }
    let filters: Vec<_> = EXPRESSIONS
        .iter()
        .map(|e| {
            (
                *e,
                tracedeck::filter::parse(e).unwrap_or_else(|err| panic!("{e:?}: {err}")),
            )
        })
        .collect();
    let files = capture_files();
    assert!(!files.is_empty(), "no captures under sample-captures/");
    let mut jobs = Vec::new();
    for path in &files {
        let frames = match read_capture(path) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("NOTE: skipped {}: {e}", path.display());
                continue;
            }
        };
        if let Some(f) = frames.iter().find(|f| !supported_link_type(f.link_type)) {
            eprintln!(
                "NOTE: skipped {}: link type {} not evaluated",
                path.display(),
                f.link_type
            );
            continue;
        }
        let path = match tcpdump_readable(path) {
            Some(p) => p,
            None => continue,
        };
        let path = &path;
        match tcpdump_count(path, "") {
            Some(n) if n == frames.len() as u64 => jobs.push((path.clone(), frames)),
            other => eprintln!(
                "NOTE: skipped {}: tcpdump reads {other:?} packets, we read {}",
                path.display(),
                frames.len()
            ),
        }
    }
    let checked = AtomicUsize::new(0);
    let mismatches = Mutex::new(Vec::new());
    let next = AtomicUsize::new(0);
    let work: Vec<(usize, usize)> = (0..jobs.len())
        .flat_map(|j| (0..filters.len()).map(move |e| (j, e)))
        .collect();
    std::thread::scope(|s| {
        for _ in 0..3 {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(j, e)) = work.get(i) else { break };
                let (path, frames) = &jobs[j];
                let (expr, filter) = &filters[e];
                let ours = frames
                    .iter()
                    .enumerate()
                    .filter(|(i, f)| filter.matches(&f.frame(*i as u64)))
                    .count();
                let theirs = tcpdump_count(path, expr);
                checked.fetch_add(1, Ordering::Relaxed);
                if theirs != Some(ours as u64) {
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    if let Ok(mut m) = mismatches.lock() {
                        m.push(format!("{name}: {expr:?}: ours {ours}, tcpdump {theirs:?}"));
                    }
                }
            });
        }
    });
    let mismatches = mismatches.into_inner().unwrap_or_default();
    eprintln!(
        "checked {} (capture, expression) pairs over {} captures; {} mismatches",
        checked.load(Ordering::Relaxed),
        jobs.len(),
        mismatches.len()
    );
    assert!(checked.load(Ordering::Relaxed) >= EXPRESSIONS.len());
    assert!(
        mismatches.is_empty(),
        "match counts differ from tcpdump:\n{}",
        mismatches.join("\n")
    );
}
