//! Any bytes, as one or two strace logs: the parser must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use tracedeck::strace::{self, FileQuery, ParseOptions, Query, SortKey};

fuzz_target!(|data: &[u8]| {
    let opts = ParseOptions {
        max_line_len: 4096,
        top_k: 8,
        ..ParseOptions::default()
    };
    // Split at the first NUL into two inputs to exercise the merge.
    let inputs: Vec<(String, &[u8])> = match data.iter().position(|b| *b == 0) {
        Some(p) => vec![("a.101".into(), &data[..p]), ("a.102".into(), &data[p + 1..])],
        None => vec![("log".into(), data)],
    };
    if let Ok(t) = strace::parse_files_with(inputs, &opts) {
        let _ = t.summary();
        let _ = t.summary_by_process();
        let _ = t.files(&FileQuery::default());
        let _ = t.pauses(5);
        let _ = t.process_tree();
        let _ = t.syscalls(&Query {
            sort: SortKey::Duration,
            contains: Some("a".into()),
            ..Query::default()
        });
        for p in t.pids() {
            let _ = t.timeline(p);
        }
    }
});
