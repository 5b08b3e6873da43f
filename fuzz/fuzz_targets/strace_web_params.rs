#![no_main]
//! Query strings of the strace views as a hostile client sends them:
//! parsing answers a filter or a message, never panics; a parsed filter
//! written back into a URL parses to the same filter (share links are
//! faithful); and the filter runs on a small trace without panicking,
//! whatever its offset, limit or `at`.
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use tracedeck::strace::{self, Trace};
use tracedeck::web::params::Params;
use tracedeck::web::strace::params::{
    url, FileFilter, PauseFilter, SyscallFilter, FILE_PARAMS, PAUSE_PARAMS, SYSCALL_PARAMS,
};

const LOG: &str = "101 12:00:00.000100 openat(AT_FDCWD, \"/etc/app.xml\", O_RDONLY) = 3 <0.000010>\n\
101 12:00:00.000200 read(3, \"<a/>\", 4096) = 4 <0.000005>\n\
101 12:00:00.000300 access(\"conf/local.xml\", R_OK) = -1 ENOENT (No such file or directory) <0.000004>\n\
101 12:00:00.000400 wait4(-1,  <unfinished ...>\n\
102 12:00:00.000500 +++ exited with 0 +++\n\
101 12:00:00.100400 <... wait4 resumed>NULL, 0, NULL) = 102 <0.100000>\n\
101 12:00:00.100500 +++ exited with 0 +++\n";

fn trace() -> &'static Trace {
    static T: OnceLock<Trace> = OnceLock::new();
    T.get_or_init(|| strace::parse_str("out.txt", LOG).expect("the fixture parses"))
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(p) = Params::parse(Some(&text), SYSCALL_PARAMS) {
        if let Ok(f) = SyscallFilter::parse(&p) {
            let reparse = |f: &SyscallFilter| {
                let again = url("", &f.pairs());
                let p = Params::parse(Some(again.trim_start_matches('?')), SYSCALL_PARAMS)
                    .expect("a written filter parses");
                SyscallFilter::parse(&p).expect("and is valid")
            };
            // Seconds pass through f64: equal to the nanosecond but for
            // durations past 2^53 ns (~104 days), and stable after one trip.
            let f2 = reparse(&f);
            assert_eq!(
                SyscallFilter { min_duration: None, ..f2.clone() },
                SyscallFilter { min_duration: None, ..f.clone() }
            );
            assert_eq!(reparse(&f2), f2);
            let t = trace();
            let page = t.syscalls(&f.query(true));
            assert!(page.items.len() <= f.limit as usize);
            if let Some((input, line)) = f.at {
                let _ = t.position(&f.query(false), input, line);
            }
        }
    }
    if let Ok(p) = Params::parse(Some(&text), FILE_PARAMS) {
        if let Ok(f) = FileFilter::parse(&p) {
            let again = url("", &f.pairs());
            let p2 = Params::parse(Some(again.trim_start_matches('?')), FILE_PARAMS)
                .expect("a written filter parses");
            assert_eq!(FileFilter::parse(&p2).expect("and is valid"), f);
            let _ = trace().files(&f.query());
        }
    }
    if let Ok(p) = Params::parse(Some(&text), PAUSE_PARAMS) {
        if let Ok(f) = PauseFilter::parse(&p) {
            let again = url("", &f.pairs());
            let p2 = Params::parse(Some(again.trim_start_matches('?')), PAUSE_PARAMS)
                .expect("a written filter parses");
            assert_eq!(PauseFilter::parse(&p2).expect("and is valid"), f);
        }
    }
});
