//! The strace parser against logs made by running real strace (see
//! sample-captures/strace/make.sh), against strace's own `-c` tables for
//! the same runs, and over ../shared/strace-samples when it exists.

use std::collections::BTreeMap;
use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use tracedeck::strace::{self, FileQuery, PauseKind, Query, SortKey, Trace};

fn samples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/strace")
}

fn parse(paths: &[PathBuf]) -> strace::Result<Trace> {
    let inputs = paths
        .iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, BufReader::new(fs::File::open(p).unwrap()))
        })
        .collect();
    strace::parse_files(inputs)
}

fn sample(name: &str) -> Trace {
    parse(&[samples().join(name)]).unwrap()
}

/// Our per-syscall calls/errors must equal strace's own `-c` table,
/// printed by `-C` at the end of the same run.
fn assert_matches_own_table(t: &Trace) {
    assert_eq!(t.tables.len(), 1, "one -C table");
    let table = &t.tables[0];
    let ours: BTreeMap<String, (u64, u64)> = t
        .summary()
        .into_iter()
        .filter(|r| r.calls > 0)
        .map(|r| (r.syscall, (r.calls, r.errors)))
        .collect();
    let theirs: BTreeMap<String, (u64, u64)> = table
        .rows
        .iter()
        .map(|r| (r.syscall.clone(), (r.calls, r.errors)))
        .collect();
    assert_eq!(ours, theirs);
    let total = table.total.as_ref().unwrap();
    assert_eq!(ours.values().map(|v| v.0).sum::<u64>(), total.calls);
    assert_eq!(ours.values().map(|v| v.1).sum::<u64>(), total.errors);
}

fn paths_of(t: &Trace, q: &FileQuery) -> Vec<(u32, String, Option<i64>, Option<String>)> {
    t.files(q)
        .into_iter()
        .map(|f| (f.pid, f.path, f.result, f.error))
        .collect()
}

#[test]
fn ls_single_process() {
    let t = sample("ls.txt");
    assert_matches_own_table(&t);
    assert_eq!(t.syscall_count, 146);
    assert_eq!(t.pids(), vec![4892]);
    let p = &t.processes[0];
    assert_eq!(p.argv().unwrap(), ["ls", "dir"]);
    assert_eq!((p.exit_code, p.killed_by.as_deref()), (Some(0), None));
    assert_eq!(t.unparsed_count, 0);
    assert!(t.hints.is_empty(), "{:?}", t.hints);
    // ls opened the directory it was given (relative path resolved by -y).
    let dir = t.files(&FileQuery {
        contains: Some("strace-work/dir".into()),
        ..FileQuery::default()
    });
    assert!(dir
        .iter()
        .any(|f| f.syscall == "openat" && f.result == Some(3)));
    let slow = t.slowest(1);
    assert_eq!((slow[0].syscall.as_str(), slow[0].line), ("execve", 1));
    assert_eq!(slow[0].duration.as_nanos(), 152_000);
}

#[test]
fn config_xml_parent_and_child() {
    let t = sample("app.txt");
    assert_matches_own_table(&t);
    assert_eq!(t.pids(), vec![4897, 4898]);
    assert_eq!(t.processes[1].parent, Some(4897));
    assert_eq!(t.processes[1].argv().unwrap(), ["cat", "conf/child.xml"]);
    assert!(t.processes.iter().all(|p| p.exit_code == Some(0)));
    let config = paths_of(
        &t,
        &FileQuery {
            config_only: true,
            ..FileQuery::default()
        },
    );
    assert_eq!(
        config,
        vec![
            (
                4897,
                "/tmp/tracedeck-strace-work/conf/app.xml".into(),
                Some(3),
                None
            ),
            (4897, "conf/local.xml".into(), None, Some("ENOENT".into())),
            (
                4898,
                "/tmp/tracedeck-strace-work/conf/child.xml".into(),
                Some(3),
                None
            ),
        ]
    );
    let probes = t.files(&FileQuery {
        enoent_only: true,
        ..FileQuery::default()
    });
    assert!(probes.iter().any(|f| f.path == "/etc/ld.so.preload"));
    assert_eq!(t.slowest(1)[0].syscall, "wait4");
    let tree = t.process_tree();
    assert_eq!((tree[1].pid, tree[1].depth), (4898, 1));
}

#[test]
fn curl_loop_pause_on_wait4_ranks_first() {
    let t = sample("curl_loop.txt");
    assert_matches_own_table(&t);
    assert_eq!(t.pids(), vec![4911, 4912, 4948]);
    assert_eq!(t.processes[1].parent, Some(4911));
    assert_eq!(t.processes[2].parent, Some(4911));
    let slow = t.slowest(4);
    assert_eq!(
        (slow[0].pid, slow[0].syscall.as_str(), slow[0].line),
        (4911, "wait4", 771)
    );
    assert_eq!(slow[0].duration.as_nanos(), 2_025_540_000);
    assert_eq!((slow[1].syscall.as_str(), slow[1].line), ("wait4", 210));
    assert!(slow[2..].iter().all(|s| s.syscall == "poll"));
    // Pauses attribute the shell's wait4 to what it waited for (issue 18):
    // a curl's 1 s poll ranks first, the wait4 right after it, naming it.
    let pauses = t.pauses(3);
    assert_eq!(pauses[0].kind, PauseKind::Syscall);
    assert_eq!(pauses[0].syscall, "poll");
    assert!([4912, 4948].contains(&pauses[0].pid), "{pauses:?}");
    assert!(pauses[0].duration.as_nanos() >= 1_000_000_000);
    assert_eq!(pauses[1].syscall, "wait4");
    assert_eq!(pauses[1].waiting_for, Some(pauses[0].pid));
    assert!(pauses[1].duration.as_nanos() >= 2_000_000_000);
    // Filter: the slow polls of the first curl, longest first.
    let polls = t.syscalls(&Query {
        pids: vec![4912],
        names: vec!["poll".into()],
        min_duration_ns: Some(100_000_000),
        sort: SortKey::Duration,
        ..Query::default()
    });
    assert_eq!(polls.total, 3);
    assert_eq!(polls.items[0].line, 714);
    assert!(polls.items[0].args.contains("POLLIN"));
    // Failed calls by errno; argument substring.
    let connects = t.syscalls(&Query {
        names: vec!["connect".into()],
        failed: true,
        ..Query::default()
    });
    assert_eq!(connects.total, 6);
    let tcp = t.syscalls(&Query {
        errno: Some("EINPROGRESS".into()),
        ..Query::default()
    });
    assert_eq!(
        tcp.items.iter().map(|s| s.line).collect::<Vec<_>>(),
        [689, 1247]
    );
    assert!(
        tcp.items[0].args.starts_with("5<socket:["),
        "{}",
        tcp.items[0].args
    );
    let port = t.syscalls(&Query {
        contains: Some("htons(35567)".into()),
        ..Query::default()
    });
    assert_eq!(port.total, 6);
    assert!(t.hints.is_empty(), "{:?}", t.hints);
}

#[test]
fn curl_loop_ff_files_merge_by_time() {
    let dir = samples().join("curl_ff");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let t = parse(&files).unwrap();
    assert_eq!(t.pids(), vec![4990, 4991, 5082]);
    assert_eq!(t.processes[1].parent, Some(4990));
    assert_eq!(t.processes[2].parent, Some(4990));
    assert_eq!(t.unparsed_count, 0);
    // Every call start, per name, as counted by awk in make.sh.
    let counts = fs::read_to_string(samples().join("curl_ff.counts.txt")).unwrap();
    let expected: BTreeMap<String, u64> = counts
        .lines()
        .map(|l| {
            let (n, c) = l.split_once(' ').unwrap();
            (n.to_string(), c.parse().unwrap())
        })
        .collect();
    let ours: BTreeMap<String, u64> = t
        .summary()
        .into_iter()
        .map(|r| (r.syscall, r.calls + r.unreturned))
        .collect();
    assert_eq!(ours, expected);
    let slow = t.slowest(2);
    assert_eq!((slow[0].pid, slow[0].syscall.as_str()), (4990, "wait4"));
    assert!(slow[0].duration.as_nanos() > 2_000_000_000);
    // Merged by time: the kept calls come back in time order across files.
    let all = t.syscalls(&Query::default());
    assert!(all.items.windows(2).all(|w| w[0].ts <= w[1].ts));
    let first_curl = all.items.iter().position(|s| s.pid == 4991).unwrap();
    assert!(all.items[..first_curl].iter().all(|s| s.pid == 4990));
}

#[test]
fn plain_strace_gets_hints() {
    let t = sample("plain.txt");
    assert_eq!(t.unparsed_count, 0);
    assert_eq!(t.processes.len(), 3);
    // No pid prefix: the pid comes from the process's own set_tid_address.
    assert_eq!(t.pids(), vec![5105, 5106, 5107]);
    assert!(t.processes[1..]
        .iter()
        .all(|p| p.untraced && p.parent == Some(5105)));
    let codes: Vec<&str> = t.hints.iter().map(|h| h.code.as_str()).collect();
    assert_eq!(
        codes,
        ["no_follow", "no_timestamps", "no_durations", "no_fd_paths"]
    );
    assert_eq!(t.hints[0].command, "strace -f -tt -T -y -o out.txt PROG");
    assert!(t.slowest(1).is_empty());
}

#[test]
fn child_killed_by_signal() {
    let t = sample("killed.txt");
    assert_matches_own_table(&t);
    assert_eq!(t.pids(), vec![5111, 5112, 5113]);
    let by_pid = |pid| t.processes.iter().find(|p| p.pid == pid).unwrap();
    assert_eq!(by_pid(5111).exit_code, Some(3));
    assert_eq!(by_pid(5112).killed_by.as_deref(), Some("SIGTERM"));
    assert_eq!(by_pid(5112).exit_code, None);
    assert_eq!(by_pid(5113).exit_code, Some(0));
    assert!(t
        .signals
        .iter()
        .any(|s| s.pid == 5112 && s.signal == "SIGTERM"));
    assert_eq!(t.slowest(1)[0].syscall, "wait4");
}

#[test]
fn not_strace_is_an_error_naming_file_and_line() {
    let err = strace::parse_str("notes.md", "# Title\n\nsome prose\nmore prose\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "notes.md:1: not an strace log (no system call, signal or exit line found; line 1 reads \"# Title\")"
    );
    let err = strace::parse_str("empty.txt", "").unwrap_err();
    assert_eq!(err.to_string(), "empty.txt: empty file, no strace output");
    let junk: String = (0..100).map(|i| format!("junk {i}\n")).collect();
    assert!(matches!(
        strace::parse_str("junk", &(junk + "brk(NULL) = 0\n")),
        Err(strace::Error::NotStrace { line: 1, .. })
    ));
}

#[test]
fn spliced_and_paired_lines() {
    let log = "\
clone(child_stack=NULL, flags=SIGCHLDstrace: Process 11 attached
, child_tidptr=0x7f) = 11
[pid    11] read(0,  <unfinished ...>
[pid    10] wait4(-1,  <unfinished ...>
[pid    11] <... read resumed>\"x\", 1) = 1
[pid    11] write(1, \"hi\\n\", 3hi
) = 3
[pid    11] exit_group(0)            = ?
[pid    11] +++ exited with 0 +++
<... wait4 resumed>[{WIFEXITED(s) && WEXITSTATUS(s) == 0}], 0, NULL) = 11
--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=11} ---
exit_group(0) = ?
+++ exited with 0 +++
";
    let t = strace::parse_str("splice.txt", log).unwrap();
    assert_eq!(t.unparsed_count, 0, "{:?}", t.unparsed);
    assert_eq!(t.pids(), vec![10, 11]);
    assert_eq!(t.syscall_count, 6);
    assert_eq!(t.processes[1].parent, Some(10));
    let s = t.summary();
    let row = |n: &str| s.iter().find(|r| r.syscall == n).unwrap();
    assert_eq!(
        (
            row("read").calls,
            row("wait4").calls,
            row("exit_group").unreturned
        ),
        (1, 1, 2)
    );
    let wait = t.syscalls(&Query {
        names: vec!["wait4".into()],
        ..Query::default()
    });
    assert_eq!(
        (wait.items[0].pid, wait.items[0].line, wait.items[0].retval),
        (10, 4, Some(11))
    );
    assert!(wait.items[0].args.contains("WIFEXITED"));
}

#[test]
fn model_round_trips_through_serde() {
    let t = sample("curl_loop.txt");
    let json = serde_json::to_string(&t).unwrap();
    let back: Trace = serde_json::from_str(&json).unwrap();
    assert_eq!(back.syscall_count, t.syscall_count);
    assert_eq!(
        serde_json::to_value(back.summary()).unwrap(),
        serde_json::to_value(t.summary()).unwrap()
    );
    let q = Query {
        names: vec!["poll".into()],
        ..Query::default()
    };
    assert_eq!(
        back.syscalls(&q).items[3].args,
        t.syscalls(&q).items[3].args
    );
}

#[test]
fn cli_json_and_bad_input() {
    let exe = env!("CARGO_BIN_EXE_tracedeck");
    let out = std::process::Command::new(exe)
        .args(["strace", "--json"])
        .arg(samples().join("app.txt"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["syscalls"], 161);
    assert_eq!(v["pids"], serde_json::json!([4897, 4898]));
    assert_eq!(v["processes"][1]["parent"], 4897);
    assert_eq!(
        v["processes"][1]["argv"],
        serde_json::json!(["cat", "conf/child.xml"])
    );
    assert_eq!(v["processes"][0]["exit_code"], 0);
    let openat = v["summary"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["syscall"] == "openat")
        .unwrap();
    assert_eq!(
        (openat["calls"].as_u64(), openat["errors"].as_u64()),
        (Some(34), Some(13))
    );
    assert!(openat["total_time"].as_f64().unwrap() > 0.0);
    let app = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"].as_str().unwrap().ends_with("conf/app.xml"))
        .unwrap();
    assert_eq!(
        (
            app["syscall"].as_str(),
            app["pid"].as_u64(),
            app["result"].as_i64()
        ),
        (Some("openat"), Some(4897), Some(3))
    );
    assert_eq!(v["slowest"][0]["syscall"], "wait4");
    assert_eq!(v["slowest"][0]["line"], 40);

    let out = std::process::Command::new(exe)
        .args(["strace"])
        .arg(samples().join("make.sh"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("make.sh:1: not an strace log"), "{err}");
}
