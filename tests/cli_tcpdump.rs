//! The command line shaped like tcpdump (issue 18): `analyze -r FILE EXPR`,
//! per-table `--sort`, warnings on stderr, examples in `--help`, capture's
//! short options and `-D`, one size syntax, strace filters, the progress line.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_tracedeck"))
}

fn sample(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-captures")
        .join(name)
        .display()
        .to_string()
}

fn run(args: &[&str]) -> Output {
    bin().args(args).output().expect("run tracedeck")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    out
}

fn json(args: &[&str]) -> Value {
    serde_json::from_slice(&ok(args).stdout).expect("valid JSON")
}

#[test]
fn read_flag_and_trailing_expression_filter_like_tcpdump() {
    let file = sample("http-server-404.pcap");
    let expr = "tcp[tcpflags] & tcp-syn != 0";
    let with_flag = json(&["analyze", &file, "--json", "--filter", expr]);
    assert_eq!(with_flag["capture"]["matched"], 4);
    let words: Vec<&str> = expr.split(' ').collect();
    let mut tcpdump_form = vec!["analyze", "-r", &file, "--json"];
    tcpdump_form.extend(&words);
    assert_eq!(json(&tcpdump_form), with_flag);
    let mut operand_form = vec!["analyze", &file];
    operand_form.extend(&words);
    operand_form.push("--json");
    assert_eq!(json(&operand_form), with_flag);

    let table = stdout(&ok(&["analyze", "-r", &file, "port", "8080", "and", "tcp"]));
    assert!(
        table.contains("filter \"port 8080 and tcp\" matched 24 of 24 packets"),
        "{table}"
    );
    let none = json(&["analyze", "-r", &file, "udp", "--json"]);
    assert_eq!(none["capture"]["matched"], 0);
}

#[test]
fn trailing_expression_and_filter_flag_together_is_a_usage_error() {
    let file = sample("http-server-404.pcap");
    let out = run(&["analyze", "-r", &file, "port", "8080", "--filter", "tcp"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--filter") && err.contains("trailing expression \"port 8080\""),
        "{err}"
    );
    assert!(out.stdout.is_empty());

    let out = run(&["analyze", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("-r FILE"), "{}", stderr(&out));
}

#[test]
fn sort_takes_only_the_chosen_tables_columns() {
    let file = sample("keepalive-mixed.pcap");
    for (args, valid) in [
        (
            vec!["--http", "--sort", "packets"],
            "total-time, server-time, status, start, bytes",
        ),
        (
            vec!["--http", "--sort", "duration"],
            "total-time, server-time, status, start, bytes",
        ),
        (
            vec!["--sort", "server-time"],
            "duration, start, bytes, packets, id",
        ),
        (
            vec!["--sort", "nonsense"],
            "duration, start, bytes, packets, id",
        ),
    ] {
        let mut all = vec!["analyze", &file];
        all.extend(&args);
        let out = run(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(stderr(&out).contains(valid), "{args:?}: {}", stderr(&out));
    }
    for args in [
        vec!["--http", "--sort", "server-time"],
        vec!["--http", "--sort", "start"],
        vec!["--http", "--sort", "bytes"],
        vec!["--sort", "packets"],
        vec!["--sort", "id"],
    ] {
        let mut all = vec!["analyze", &file];
        all.extend(&args);
        ok(&all);
    }
}

#[test]
fn http_sort_by_status_orders_the_rows() {
    let file = sample("keepalive-mixed.pcap");
    let statuses = |sort: &str| -> Vec<u16> {
        stdout(&ok(&["analyze", &file, "--http", "--sort", sort]))
            .lines()
            .skip(2) // the summary line and the header
            .filter_map(|l| l.split_whitespace().nth(4)?.parse().ok())
            .collect()
    };
    let by_status = statuses("status");
    let by_start = statuses("start");
    assert_eq!(by_status.len(), 10);
    assert!(by_status.windows(2).all(|w| w[0] <= w[1]), "{by_status:?}");
    assert_ne!(by_start, by_status, "start order is not status order");
}

#[test]
fn warnings_go_to_stderr_in_every_mode() {
    let file = sample("broken/cut-mid-record.pcap");
    for mode in [vec![], vec!["--http"], vec!["--json"]] {
        let mut args = vec!["analyze", &file];
        args.extend(&mode);
        let out = ok(&args);
        let (o, e) = (stdout(&out), stderr(&out));
        assert!(
            !o.lines().any(|l| l.starts_with("warning")),
            "{mode:?} stdout: {o}"
        );
        assert!(
            e.contains("warning: the last record (at byte 136929) is cut short"),
            "{mode:?} stderr: {e}"
        );
    }
    // The JSON still carries the warning, and stdout is only the JSON.
    let doc = json(&["analyze", &file, "--json"]);
    let table = stdout(&ok(&["analyze", &file]));
    assert!(!table.contains("cut short"), "{table}");
    assert_eq!(doc["capture"]["warnings"].as_array().map(Vec::len), Some(1));
}

#[test]
fn every_subcommand_help_ends_with_examples() {
    for sub in ["analyze", "serve", "capture", "strace"] {
        let help = stdout(&ok(&[sub, "--help"]));
        let examples = help
            .split("Examples:")
            .nth(1)
            .unwrap_or_else(|| panic!("{sub} --help has no examples:\n{help}"));
        let count = examples
            .lines()
            .filter(|l| l.trim_start().contains("tracedeck "))
            .count();
        assert!((2..=3).contains(&count), "{sub}: {count} examples\n{help}");
    }
}

#[test]
fn size_options_take_one_syntax_and_say_so() {
    for (sub, option) in [("serve", "--max-upload"), ("capture", "--max-size")] {
        let help = stdout(&ok(&[sub, "--help"]));
        assert!(
            help.contains("Ki") && help.contains("1000") && help.contains("1024"),
            "{sub} {option} help: {help}"
        );
    }
    let out = run(&["serve", "--max-upload", "4 parsecs"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("KiB"), "{}", stderr(&out));
    let out = run(&["serve", "--max-upload", "0"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&[
        "capture",
        "-i",
        "lo",
        "-w",
        "x.pcap",
        "-C",
        "5",
        "--max-size",
        "5MB",
    ]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "-C and --max-size are one limit"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn capture_lists_interfaces_like_tcpdump() {
    let out = ok(&["capture", "-D"]);
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    for (n, line) in lines.iter().enumerate() {
        assert!(line.starts_with(&format!("{}.", n + 1)), "{text}");
    }
    assert!(
        lines
            .iter()
            .any(|l| l.contains(".lo [") && l.contains("Loopback")),
        "{text}"
    );
    let last = lines.last().copied().unwrap_or_default();
    assert!(last.contains(".any (Pseudo-device"), "{text}");
    let count = std::fs::read_dir("/sys/class/net").unwrap().count();
    assert_eq!(lines.len(), count + 1, "{text}");
}

#[cfg(target_os = "linux")]
#[test]
fn capture_rotation_by_time_needs_a_ring() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.pcap");
    let out = run(&[
        "capture",
        "-i",
        "lo",
        "-w",
        file.to_str().unwrap(),
        "-G",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("-W N"), "{}", stderr(&out));
    assert!(!file.exists());
    let out = run(&["capture", "-i", "99999", "-w", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("capture -D"), "{}", stderr(&out));
}

/// Sends `count` UDP datagrams to 127.0.0.1:`port`, one every `gap`.
fn send_udp(port: u16, count: usize, gap: std::time::Duration) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        for _ in 0..count {
            let _ = sock.send_to(&[7u8; 100], ("127.0.0.1", port));
            std::thread::sleep(gap);
        }
    })
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs root (or CAP_NET_RAW)"]
fn capture_short_options_map_to_the_limits() {
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ring.pcap");
    let port = 40_000 + (std::process::id() % 20_000) as u16;
    let sender = send_udp(port, 30, Duration::from_millis(100));
    let expr = format!("udp port {port}");
    let out = run(&[
        "capture",
        "-i",
        "lo",
        "-w",
        file.to_str().unwrap(),
        "-s",
        "64",
        "-c",
        "25",
        "-C",
        "1",
        "-W",
        "3",
        "-G",
        "1",
        &expr,
    ]);
    sender.join().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("snaplen 64"), "{err}");
    assert!(err.contains("25 packets captured"), "{err}");
    assert!(
        err.contains("3 files"),
        "2.5 s of packets, a file a second: {err}"
    );
    for i in 0..3 {
        let path = if i == 0 {
            file.clone()
        } else {
            PathBuf::from(format!("{}.{i}", file.display()))
        };
        let bytes = std::fs::read(&path).unwrap();
        let snaplen = u32::from_le_bytes(bytes[16..20].try_into().unwrap());
        assert_eq!(snaplen, 64, "{}", path.display());
    }
}

#[test]
fn strace_filters_list_the_matching_calls() {
    let log = sample("strace/app.txt");
    let full = json(&["strace", &log, "--json"]);
    let errors: u64 = full["summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["errors"].as_u64().unwrap())
        .sum();
    assert!(errors > 0);
    // `file_paths` groups `files` by path, as the web files view does.
    let files = full["files"].as_array().unwrap();
    let groups = full["file_paths"].as_array().unwrap();
    let mut distinct: Vec<&str> = files.iter().map(|f| f["path"].as_str().unwrap()).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(groups.len(), distinct.len(), "{groups:?}");
    let grouped: u64 = groups.iter().map(|g| g["accesses"].as_u64().unwrap()).sum();
    assert_eq!(grouped, files.len() as u64);
    assert!(groups.len() < files.len(), "the sample opens a path twice");

    let failed = json(&["strace", &log, "--failed", "--json", "--limit", "0"]);
    assert_eq!(failed["total"].as_u64(), Some(errors));
    let items = failed["items"].as_array().unwrap();
    assert_eq!(items.len() as u64, errors);
    assert!(items.iter().all(|c| c["errno"].is_string()), "{failed}");

    let pid = items[0]["pid"].as_u64().unwrap();
    let pid_text = pid.to_string();
    let one = json(&[
        "strace",
        &log,
        "--pid",
        &pid_text,
        "--syscall",
        "openat,access",
        "--json",
    ]);
    let items = one["items"].as_array().unwrap();
    assert!(!items.is_empty());
    assert!(items.iter().all(|c| c["pid"].as_u64() == Some(pid)
        && ["openat", "access"].contains(&c["syscall"].as_str().unwrap())));

    let text = stdout(&ok(&["strace", &log, "--failed", "--limit", "3"]));
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(format!("{log}: {errors} of {} syscalls match", full["syscalls"]).as_str())
    );
    assert_eq!(
        lines.clone().filter(|l| l.contains(" = -1 E")).count(),
        3,
        "{text}"
    );
    assert!(text.contains(&format!("... {} more", errors - 3)), "{text}");
}

/// A pcap of `packets` small UDP frames: enough records for the progress
/// line (which the analysis reports every 65536 records).
fn big_capture(dir: &Path, packets: u32) -> PathBuf {
    let path = dir.join("big.pcap");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let header: [u32; 6] = [0xa1b2_c3d4, 0x0004_0002, 0, 0, 65535, 1];
    for word in header {
        f.write_all(&word.to_le_bytes()).unwrap();
    }
    for i in 0..packets {
        let mut frame = vec![0u8; 12];
        frame.extend([0x08, 0x00, 0x45, 0, 0, 38, 0, 0, 0, 0, 64, 17, 0, 0]);
        frame.extend([10, 0, 0, 1, 10, 0, 0, 2]);
        frame.extend(((1000 + i % 50) as u16).to_be_bytes());
        frame.extend([0, 9, 0, 18, 0, 0]);
        frame.extend([b'x'; 10]);
        let len = frame.len() as u32;
        for word in [i / 1000, (i % 1000) * 1000, len, len] {
            f.write_all(&word.to_le_bytes()).unwrap();
        }
        f.write_all(&frame).unwrap();
    }
    f.flush().unwrap();
    path
}

#[test]
fn progress_is_silent_when_stderr_is_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let file = big_capture(dir.path(), 140_000);
    let out = ok(&["analyze", "-r", file.to_str().unwrap(), "--limit", "1"]);
    assert!(out.stderr.is_empty(), "{}", stderr(&out));
    assert!(stdout(&out).contains("140000 packets, 50 conversations"));
}

#[cfg(target_os = "linux")]
#[test]
#[ignore = "needs script(1) from util-linux for a terminal"]
fn progress_line_on_a_terminal_is_drawn_and_cleared() {
    let dir = tempfile::tempdir().unwrap();
    let file = big_capture(dir.path(), 140_000);
    let command = format!(
        "{} analyze -r {} --limit 1 >/dev/null",
        env!("CARGO_BIN_EXE_tracedeck"),
        file.display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("run script(1)");
    assert!(out.status.success(), "{}", stderr(&out));
    let tty = stdout(&out);
    assert!(tty.starts_with("\r\x1b[Kreading "), "{tty:?}");
    assert!(tty.contains("records"), "{tty:?}");
    assert!(tty.ends_with("\r\x1b[K"), "{tty:?}");
}
