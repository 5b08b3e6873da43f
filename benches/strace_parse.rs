//! Parses a generated strace log (~1 GB by default; `STRACE_BENCH_MB` to
//! change) and prints MB/s and peak RSS, next to `wc -l` and `grep -c` run
//! on the same file in the same run. Run: `cargo bench --bench strace_parse`.
//!
//! Two passes: the default limits (up to 2 M calls kept for the syscall
//! table) and the CLI's (no calls kept: statistics, files, pauses only).
//! Peak RSS is reset between passes (`/proc/self/clear_refs`).

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::process::Command;
use std::time::Instant;

use tracedeck::strace::{self, ParseOptions};

fn generate(path: &str, target: u64) -> std::io::Result<(u64, u64)> {
    let mut w = BufWriter::with_capacity(1 << 20, File::create(path)?);
    let mut bytes = 0u64;
    let mut calls = 0u64;
    let base = 5 * 3600 + 12 * 60;
    let mut us: u64 = 0;
    let mut i: u64 = 0;
    while bytes < target {
        let pid = 1000 + (i % 40) as u32;
        let t = |us: u64| {
            format!(
                "{:02}:{:02}:{:02}.{:06}",
                (base + us / 1_000_000) / 3600 % 24,
                (base + us / 1_000_000) / 60 % 60,
                (base + us / 1_000_000) % 60,
                us % 1_000_000
            )
        };
        let mut chunk = String::with_capacity(1024);
        use std::fmt::Write as _;
        let _ = writeln!(chunk, "{pid} {} openat(AT_FDCWD</srv/app>, \"conf/app{}.xml\", O_RDONLY|O_CLOEXEC) = 3</srv/app/conf/app{}.xml> <0.000011>", t(us), i % 97, i % 97);
        let _ = writeln!(chunk, "{pid} {} read(3</srv/app/conf/app{}.xml>, \"<app><port>8080</port><name>demo\\n\"..., 4096) = 512 <0.000007>", t(us + 11), i % 97);
        let _ = writeln!(chunk, "{pid} {} newfstatat(AT_FDCWD</srv/app>, \"/etc/missing{}\", 0x7ffd5e0c7f60, 0) = -1 ENOENT (No such file or directory) <0.000005>", t(us + 20), i % 13);
        let _ = writeln!(chunk, "{pid} {} mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f4bacc99000 <0.000009>", t(us + 30));
        let _ = writeln!(chunk, "{pid} {} poll([{{fd=5<TCP:[127.0.0.1:40000->127.0.0.1:8080]>, events=POLLIN}}], 1, 1000 <unfinished ...>", t(us + 40));
        let _ = writeln!(
            chunk,
            "{} {} close(3</srv/app/conf/app{}.xml>) = 0 <0.000004>",
            pid + 1000,
            t(us + 45),
            i % 97
        );
        let _ = writeln!(
            chunk,
            "{pid} {} <... poll resumed>) = 1 ([{{fd=5, revents=POLLIN}}]) <0.000300>",
            t(us + 340)
        );
        let _ = writeln!(
            chunk,
            "{pid} {} close(3</srv/app/conf/app{}.xml>) = 0 <0.000004>",
            t(us + 350),
            i % 97
        );
        calls += 7;
        us += 400;
        i += 1;
        w.write_all(chunk.as_bytes())?;
        bytes += chunk.len() as u64;
    }
    w.flush()?;
    Ok((bytes, calls))
}

fn peak_rss_mb() -> f64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds used by this process (precise, from schedstat).
fn cpu_secs() -> f64 {
    std::fs::read_to_string("/proc/self/schedstat")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .next()
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |ns| ns / 1e9)
}

/// CPU seconds used by waited-for children (clock ticks of 10 ms).
fn children_cpu_secs() -> f64 {
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = s.rsplit_once(')').map_or("", |(_, a)| a);
    let f: Vec<f64> = after
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    // After the name: state(skipped, not numeric) ... cutime is field 16, cstime 17
    // (1-based in proc(5)); numeric fields here start at field 4.
    match (f.get(16 - 4), f.get(17 - 4)) {
        (Some(u), Some(s)) => (u + s) / 100.0,
        _ => 0.0,
    }
}

/// Runs a peer tool on the file; returns (wall MB/s, CPU MB/s).
fn peer(cmd: &str, args: &[&str], path: &str, mb: f64) -> (f64, f64) {
    let cpu0 = children_cpu_secs();
    let t = Instant::now();
    let out = Command::new(cmd).args(args).arg(path).output();
    let secs = t.elapsed().as_secs_f64();
    let cpu = (children_cpu_secs() - cpu0).max(0.01);
    match out {
        Ok(o) => {
            println!(
                "{:<36} {:>7.0} MB/s wall {:>7.0} MB/s cpu   ({})",
                format!("{cmd} {}", args.join(" ")),
                mb / secs,
                mb / cpu,
                String::from_utf8_lossy(&o.stdout).trim()
            );
            (mb / secs, mb / cpu)
        }
        Err(e) => {
            println!("{cmd}: {e}");
            (0.0, 0.0)
        }
    }
}

/// One parse in this (child) process: prints wall MB/s, CPU MB/s, peak RSS.
fn child(mode: &str, path: &str, calls: u64, peers: (f64, f64)) {
    let opts = match mode {
        "cli" => ParseOptions {
            max_syscalls: 0,
            ..ParseOptions::default()
        },
        _ => ParseOptions::default(),
    };
    let size_mb = std::fs::metadata(path).map_or(0.0, |m| m.len() as f64 / (1 << 20) as f64);
    let cpu0 = cpu_secs();
    let t = Instant::now();
    let f = File::open(path).expect("open");
    let trace = strace::parse_files_with(
        vec![("bench".to_string(), BufReader::with_capacity(256 << 10, f))],
        &opts,
    )
    .expect("parse");
    let secs = t.elapsed().as_secs_f64();
    let cpu = cpu_secs() - cpu0;
    assert_eq!(trace.syscall_count, calls, "every generated call counted");
    assert_eq!(trace.unparsed_count, 0);
    let label = match mode {
        "cli" => "tracedeck (CLI: no calls kept)",
        _ => "tracedeck (default: 2M calls kept)",
    };
    println!(
        "{label:<36} {:>7.0} MB/s wall {:>7.0} MB/s cpu   peak RSS {:.0} MB, {} of {} calls kept; cpu ratio {:.2}x wc -l, {:.2}x grep -c",
        size_mb / secs,
        size_mb / cpu,
        peak_rss_mb(),
        trace.syscall_count - trace.syscalls_dropped,
        trace.syscall_count,
        (size_mb / cpu) / peers.0.max(1e-9),
        (size_mb / cpu) / peers.1.max(1e-9),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--child") {
        let get = |k: usize| args.get(i + k).cloned().unwrap_or_default();
        let peers = (get(4).parse().unwrap_or(0.0), get(5).parse().unwrap_or(0.0));
        child(&get(1), &get(2), get(3).parse().unwrap_or(0), peers);
        return;
    }
    let mb: u64 = std::env::var("STRACE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1024);
    let path = std::env::temp_dir().join("tracedeck-strace-bench.txt");
    let path = path.to_string_lossy().into_owned();
    let t = Instant::now();
    let (bytes, calls) = generate(&path, mb << 20).expect("write the bench log");
    let size_mb = bytes as f64 / (1 << 20) as f64;
    println!(
        "generated {size_mb:.0} MB, {calls} calls in {:.1} s (MB = 2^20 bytes; cpu = CPU time of that process alone)",
        t.elapsed().as_secs_f64()
    );
    let wc = peer("wc", &["-l"], &path, size_mb).1;
    let grep = peer("grep", &["-c", "resumed"], &path, size_mb).1;
    let me = std::env::current_exe().expect("own path");
    for mode in ["default", "cli"] {
        let st = Command::new(&me)
            .args([
                "--child",
                mode,
                &path,
                &calls.to_string(),
                &wc.to_string(),
                &grep.to_string(),
            ])
            .status();
        if !st.is_ok_and(|s| s.success()) {
            println!("{mode}: child failed");
        }
    }
    let _ = std::fs::remove_file(&path);
}
