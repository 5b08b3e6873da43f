//! strace logs from strace itself: every log of ../shared/strace-samples
//! when it is there (else the project's own sample-captures/strace/)
//! parses with no unexpected unparsed line; and the edge cases of those
//! samples kept in tests/data/strace/ have the structure they are about.

use std::collections::BTreeMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use tracedeck::strace::{self, Trace};

use crate::support::shared::{crate_root, samples, shared};

fn parse(paths: &[PathBuf]) -> strace::Result<Trace> {
    let inputs = paths
        .iter()
        .map(|p| {
            (
                p.display().to_string(),
                BufReader::new(fs::File::open(p).unwrap()),
            )
        })
        .collect();
    strace::parse_files(inputs)
}

/// One of the edge-case logs copied from ../shared/strace-samples.
fn edge_case(name: &str) -> Trace {
    let p = crate_root().join("tests/data/strace").join(name);
    parse(&[p]).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Files that are not strace output at all (the `--tips` ASCII art alone,
/// a table of counts).
const NOT_STRACE: &[&str] = &["true__tips_stderr.txt", "curl_ff.counts.txt"];

/// Parses every `*.txt` log of `dir` and every `-ff` set of `dir/<ff>`
/// (files `stem.PID`, merged by time): nothing left unparsed, every pid
/// of a set found. Returns how many traces were checked.
fn parse_all(dir: &Path, ff: &str) -> usize {
    let mut checked = 0;
    let mut names: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    for p in names {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if !name.ends_with(".txt") || name == "COMMANDS.txt" {
            continue;
        }
        let r = parse(std::slice::from_ref(&p));
        if NOT_STRACE.contains(&name.as_str()) {
            assert!(
                matches!(r, Err(strace::Error::NotStrace { line: 1, .. })),
                "{name}"
            );
            continue;
        }
        let t = r.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(t.unparsed_count, 0, "{name}: {:?}", t.unparsed);
        checked += 1;
    }
    let mut groups: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new();
    for e in fs::read_dir(dir.join(ff)).unwrap() {
        let p = e.unwrap().path();
        let stem = p.file_stem().unwrap().to_string_lossy().into_owned();
        groups.entry(stem).or_default().push(p);
    }
    for (stem, mut files) in groups {
        files.sort();
        let t = parse(&files).unwrap_or_else(|e| panic!("{ff}/{stem}: {e}"));
        assert_eq!(t.unparsed_count, 0, "{ff}/{stem}: {:?}", t.unparsed);
        assert_eq!(t.pids().len(), files.len(), "{ff}/{stem}");
        // Every child has its parent (threads included).
        assert!(t.processes[1..]
            .iter()
            .all(|p| p.parent == Some(t.processes[0].pid)));
        checked += 1;
    }
    checked
}

#[test]
fn every_sample_parses_with_nothing_unexpected_left_over() {
    match shared("strace-samples") {
        Some(dir) => {
            let checked = parse_all(&dir, "ff");
            assert!(checked > 60, "{checked} logs in {}", dir.display());
        }
        None => {
            let checked = parse_all(&samples().join("strace"), "curl_ff");
            assert!(checked >= 10, "{checked} logs in sample-captures/strace");
        }
    }
}

#[test]
fn splices_kills_and_restarts() {
    let t = edge_case("killchild__f_stderr_splice.txt");
    assert_eq!(t.pids(), vec![4674, 4675, 4676, 4677]);
    let by = |pid| t.processes.iter().find(|p| p.pid == pid).unwrap();
    assert_eq!(by(4675).killed_by.as_deref(), Some("SIGKILL"));
    assert_eq!(by(4677).killed_by.as_deref(), Some("SIGSEGV"));
    assert_eq!(by(4676).exit_code, Some(3));
    assert_eq!(by(4674).exit_code, Some(0));
    assert!(t.processes[1..].iter().all(|p| p.parent == Some(4674)));
    let s = t.summary();
    let row = |n: &str| s.iter().find(|r| r.syscall == n).unwrap().clone();
    assert_eq!(
        (row("clone").calls, row("wait4").calls, row("wait4").errors),
        (3, 4, 1)
    );
    assert_eq!(row("restart_syscall").errors, 1);
}

#[test]
fn threads_and_exec_from_a_thread() {
    {
        let t = edge_case("threads__f_stderr.txt");
        assert_eq!(t.processes.len(), 3);
        assert!(t.processes[1..].iter().all(|p| p.is_thread));
    }
    {
        let t = edge_case("execthread__f.txt");
        let leader = &t.processes[0];
        assert_eq!(leader.argv().unwrap(), ["true"]);
        assert!(t.processes[1].superseded);
        let s = t.summary();
        assert_eq!(s.iter().find(|r| r.syscall == "execve").unwrap().calls, 2);
    }
}

#[test]
fn hints_for_open_filter_and_attach() {
    {
        let t = edge_case("app__f_e_open.txt");
        assert_eq!(t.syscall_count, 0);
        assert!(t.hints.iter().any(|h| h.code == "open_filter"));
    }
    {
        let t = edge_case("attach_sleep__p_tt_stderr.txt");
        assert_eq!(t.pids(), vec![26362]);
        assert!(t.processes[0].detached);
        assert!(t.features.attached_first);
        assert!(!t.hints.is_empty());
        assert!(t.hints.iter().all(|h| h.command.ends_with("-p PID")));
    }
    {
        let t = edge_case("ls__c.txt");
        assert_eq!(t.syscall_count, 0);
        assert_eq!(t.tables[0].total.as_ref().unwrap().calls, 145);
    }
    {
        let t = edge_case("sh_bg_wait__f_r.txt");
        assert!(t.hints.iter().any(|h| h.code == "relative_only"));
        // -r without -T: a call's duration comes from its unfinished and
        // resumed halves.
        let slowest = t.slowest(1);
        assert_eq!(slowest.len(), 1);
        assert_eq!(
            (slowest[0].syscall.as_str(), slowest[0].line),
            ("rt_sigsuspend", 56)
        );
        assert!(slowest[0].duration.as_nanos() > 0, "{slowest:?}");
    }
}
