//! Conformance with tcpdump: for every sample capture and every expression
//! of the list, the number of frames `Filter::matches` accepts equals the
//! number of packets `tcpdump -r FILE EXPR` prints.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use crate::support::filters::*;
use crate::support::need;

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

/// Captures not compared, and why; every other capture must be (those
/// of ../shared/corpus only when it is there).
const NOT_COMPARED: &[(&str, &str)] = &[
    ("empty.pcap", "no packets: both refuse the file"),
    (
        "libpcap-pcap-truncated-hdr-23.pcap",
        "the file header is cut short: both refuse the file",
    ),
    (
        "arkime-80211http.pcap",
        "802.11 radiotap (link type 127): the filter does not evaluate it",
    ),
    (
        "ppp.pcap",
        "PPP (link type 9): the filter does not evaluate it",
    ),
    (
        "ppp-hdlc.pcap",
        "PPP in HDLC framing (link type 50): the filter does not evaluate it",
    ),
    (
        "chdlc.pcap",
        "Cisco HDLC (link type 104): the filter does not evaluate it",
    ),
    (
        "zeek-nflog-http.pcap",
        "NFLOG (link type 239): the filter does not evaluate it",
    ),
    (
        "derived-dlt14-payload-synack.pcap",
        "tcpdump: unknown data link type 14 (we read it as raw IP)",
    ),
    (
        "hadrielk-be-test202.pcapng",
        "tcpdump stops at an interface whose link type differs from the first one's",
    ),
    (
        "zeek-ldap-modify-request.pcapng",
        "tcpdump stops at an interface whose snapshot length differs from the first one's",
    ),
];

/// The frames of a capture and a file tcpdump reads with as many packets,
/// or why they cannot be compared.
fn comparable(path: &std::path::Path) -> Result<(std::path::PathBuf, Vec<OwnedFrame>), String> {
    let frames = read_capture(path)?;
    if let Some(f) = frames.iter().find(|f| !supported_link_type(f.link_type)) {
        return Err(format!("link type {} not evaluated", f.link_type));
    }
    let readable = tcpdump_readable(path).ok_or("cannot decompress it for tcpdump")?;
    match tcpdump_count(&readable, "") {
        Some(n) if n == frames.len() as u64 => Ok((readable, frames)),
        other => Err(format!(
            "tcpdump reads {other:?} packets, we read {}",
            frames.len()
        )),
    }
}

#[test]
#[ignore = "needs tcpdump"]
fn match_counts_equal_tcpdump() {
    assert!(EXPRESSIONS.len() >= 60);
    need::tool("tcpdump");
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
    let mut not_compared = Vec::new();
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let why_not = match comparable(path) {
            Ok(job) => {
                jobs.push(job);
                continue;
            }
            Err(why) => why,
        };
        if !NOT_COMPARED.iter().any(|(n, _)| *n == name) {
            not_compared.push(format!("{name}: {why_not}"));
        }
    }
    assert!(
        not_compared.is_empty(),
        "captures not compared with tcpdump (add them to NOT_COMPARED with the reason if that is right):\n{}",
        not_compared.join("\n")
    );
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
    assert_eq!(
        checked.load(Ordering::Relaxed),
        jobs.len() * EXPRESSIONS.len()
    );
    assert!(
        mismatches.is_empty(),
        "match counts differ from tcpdump:\n{}",
        mismatches.join("\n")
    );
}
