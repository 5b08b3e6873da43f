//! Integration tests of `tracedeck capture` (issue 8).
//!
//! Most need root (CI runs as root): they are `#[ignore = "needs root"]`
//! and fail when not root. Each test that captures gets its own network
//! namespace with only `lo` up, so the traffic in the file is the traffic
//! the test made. tcpdump and tshark check the files.

#![cfg(target_os = "linux")]

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::support::need;
use crate::support::tmpfs::Tmpfs;
use crate::support::wait::wait_until;

const BIN: &str = env!("CARGO_BIN_EXE_tracedeck");

fn tmp(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("capture-{name}"));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A network namespace with `lo` up, deleted on drop; or the host's.
struct Ns {
    name: Option<String>,
}

impl Ns {
    fn new() -> Ns {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "tdcap-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let added = need::tool("ip")
            .args(["netns", "add", &name])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            added,
            "ip netns add {name}: this test needs network namespaces"
        );
        let ns = Ns { name: Some(name) };
        let up = ns
            .cmd("ip")
            .args(["link", "set", "lo", "up"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(up, "cannot bring lo up in {:?}", ns.name);
        ns
    }

    /// The host's own network, for a test that talks to a server of its own.
    fn host() -> Ns {
        Ns { name: None }
    }

    /// `program` run in this namespace; a tool by name must be installed.
    fn cmd(&self, program: &str) -> Command {
        if !program.contains('/') {
            need::tool(program);
        }
        match &self.name {
            Some(ns) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", ns, program]);
                c
            }
            None => Command::new(program),
        }
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        if let Some(ns) = &self.name {
            let _ = Command::new("ip").args(["netns", "del", ns]).status();
        }
    }
}

/// `python3 -m http.server` on a free port, serving a directory with `hello.txt` and `big.bin`.
struct HttpServer {
    child: Child,
    port: u16,
}

impl HttpServer {
    fn start(ns: &Ns, dir: &Path) -> HttpServer {
        let www = dir.join("www");
        fs::create_dir_all(&www).unwrap();
        fs::write(www.join("hello.txt"), "hello from the test\n").unwrap();
        fs::write(www.join("big.bin"), vec![b'x'; 300_000]).unwrap();
        let mut child = ns
            .cmd("python3")
            .args([
                "-u",
                "-m",
                "http.server",
                "0",
                "--bind",
                "127.0.0.1",
                "--directory",
            ])
            .arg(&www)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        // "Serving HTTP on 127.0.0.1 port 39123 (http://127.0.0.1:39123/) ..."
        let port = line
            .split_whitespace()
            .skip_while(|w| *w != "port")
            .nth(1)
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        HttpServer { child, port }
    }

    /// GET with curl (or python3's urllib where curl is missing); 404 is fine.
    fn get(&self, ns: &Ns, path: &str) {
        let url = format!("http://127.0.0.1:{}/{path}", self.port);
        let has_curl = Command::new("curl")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        let st = if has_curl {
            ns.cmd("curl")
                .args(["-s", "-o", "/dev/null", "--max-time", "5", &url])
                .status()
                .unwrap()
        } else {
            const GET: &str = "import sys, urllib.request, urllib.error\ntry: urllib.request.urlopen(sys.argv[1], timeout=5).read()\nexcept urllib.error.HTTPError: pass";
            ns.cmd("python3").args(["-c", GET, &url]).status().unwrap()
        };
        assert!(st.success(), "GET {url}");
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A running process whose stderr is collected; `ready` is the line that says it listens.
struct Running {
    child: Child,
    lines: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    stderr_reader: thread::JoinHandle<()>,
}

impl Running {
    fn spawn(mut cmd: Command, ready: &str) -> Running {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = stderr.clone();
        let err = child.stderr.take().unwrap();
        let stderr_reader = thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                sink.lock().unwrap().push_str(&line);
                sink.lock().unwrap().push('\n');
                let _ = tx.send(line);
            }
        });
        let run = Running {
            child,
            lines: rx,
            stderr,
            stderr_reader,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            match run.lines.recv_timeout(Duration::from_millis(100)) {
                Ok(line) if line.contains(ready) => break,
                _ if Instant::now() > deadline => {
                    panic!("not ready: {}", run.stderr.lock().unwrap())
                }
                _ => {}
            }
        }
        run
    }

    fn interrupt(&self) {
        // SAFETY: sending SIGINT to our own child.
        unsafe { libc::kill(self.child.id() as i32, libc::SIGINT) };
    }

    /// Waits for exit; returns (status, stdout, stderr).
    fn wait(mut self) -> (ExitStatus, String, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(st) = self.child.try_wait().unwrap() {
                break st;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("did not exit: {}", self.stderr.lock().unwrap());
            }
            thread::sleep(Duration::from_millis(20));
        };
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        // The child is gone: its stderr ends, and so does the reader.
        self.stderr_reader.join().expect("stderr reader");
        let err = self.stderr.lock().unwrap().clone();
        (status, out, err)
    }
}

fn capture(ns: &Ns, args: &[&str]) -> Running {
    let mut cmd = ns.cmd(BIN);
    cmd.arg("capture").args(args);
    Running::spawn(cmd, "capturing on")
}

fn tcpdump_writer(ns: &Ns, iface: &str, out: &Path) -> Running {
    let mut cmd = ns.cmd("tcpdump");
    cmd.args(["-i", iface, "-n", "-U", "-Z", "root", "-w"])
        .arg(out);
    Running::spawn(cmd, "listening on")
}

/// `tcpdump -r`: (exit ok, packet lines without their timestamps, link type line).
fn tcpdump_read(path: &Path) -> (bool, Vec<String>, String) {
    let out = need::tool("tcpdump")
        .args(["-nn", "-r"])
        .arg(path)
        .output()
        .unwrap();
    let lines = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split_once(' ').map_or(l, |(_, rest)| rest).to_string())
        .collect();
    (
        out.status.success(),
        lines,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `tshark -r FILE [-Y filter] -T fields -e ...`, one Vec per packet.
fn tshark(path: &Path, display: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = need::tool("tshark");
    cmd.arg("-r")
        .arg(path)
        .args(["-T", "fields", "-E", "separator=|"]);
    if !display.is_empty() {
        cmd.args(["-Y", display]);
    }
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "tshark -r {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('|').map(str::to_string).collect())
        .collect()
}

/// Our reader on the file: (records, link type of the first one, warnings).
fn read_ours(path: &Path) -> (usize, u32, Vec<String>) {
    let mut reader = tracedeck::pcap::Reader::open(path).unwrap();
    let mut count = 0;
    let mut link = None;
    while let Some(frame) = reader.next_frame().unwrap() {
        count += 1;
        link.get_or_insert(frame.link_type.0);
    }
    let warnings = reader.warnings().iter().map(|w| format!("{w:?}")).collect();
    (count, link.unwrap_or(0), warnings)
}

/// The number in "tracedeck: N packets captured".
fn captured(stderr: &str) -> usize {
    stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("tracedeck: ")?
                .split_once(" packets captured")
                .map(|(n, _)| n.to_string())
        })
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary in {stderr}"))
}

/// Captures `-i iface` next to tcpdump on the same traffic, stops both with
/// SIGINT, and checks the files hold the same packets.
fn same_as_tcpdump(name: &str, iface: &str) -> (PathBuf, u16) {
    let dir = tmp(name);
    let ns = Ns::new();
    let server = HttpServer::start(&ns, &dir);
    let ours = dir.join("ours.pcap");
    let theirs = dir.join("tcpdump.pcap");
    let cap = capture(&ns, &["-i", iface, "-w", ours.to_str().unwrap()]);
    let td = tcpdump_writer(&ns, iface, &theirs);
    server.get(&ns, "hello.txt");
    server.get(&ns, "nothing-here");
    // Ours drains the kernel's ring when stopped; tcpdump hands a ring
    // block over only when it retires (1 s), and drops it on SIGINT: stop
    // it once its packet-buffered file holds as many packets as ours.
    cap.interrupt();
    let (status, _, stderr) = cap.wait();
    assert!(status.success(), "{stderr}");
    let want = captured(&stderr);
    wait_until(
        &format!("tcpdump's file to hold our {want} packets"),
        Duration::from_secs(10),
        || tcpdump_read(&theirs).1.len() >= want,
    );
    td.interrupt();
    let _ = td.wait();
    assert!(stderr.contains("stopped by SIGINT"), "{stderr}");

    let (ok, ours_lines, ours_head) = tcpdump_read(&ours);
    assert!(ok, "tcpdump -r failed: {ours_head}");
    assert_eq!(
        ours_lines.len(),
        captured(&stderr),
        "the count we print is the count in the file"
    );
    let (their_ok, their_lines, their_head) = tcpdump_read(&theirs);
    assert!(their_ok, "tcpdump's own file: {their_head}");
    assert_eq!(
        ours_head
            .lines()
            .next()
            .unwrap()
            .replace(ours.to_str().unwrap(), "F"),
        their_head
            .lines()
            .next()
            .unwrap()
            .replace(theirs.to_str().unwrap(), "F"),
        "same link type and snaplen"
    );
    // Alone in the namespace: exactly the packets tcpdump saw.
    assert_eq!(ours_lines, their_lines);

    // Our own reader: same count, our link type, no warnings, both conversations.
    let (count, link, warnings) = read_ours(&ours);
    assert_eq!(count, ours_lines.len());
    assert_eq!(link, if iface == "any" { 276 } else { 1 });
    assert!(warnings.is_empty(), "{warnings:?}");
    let json = Command::new(BIN)
        .args(["analyze", "--json"])
        .arg(&ours)
        .output()
        .unwrap();
    assert!(json.status.success());
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["capture"]["packets"].as_u64(), Some(count as u64));
    let server_addr = format!("127.0.0.1:{}", server.port);
    let convs = json["conversations"].as_array().unwrap();
    assert_eq!(
        convs
            .iter()
            .filter(|c| c["server"] == server_addr.as_str() && c["state"] == "closed")
            .count(),
        2,
        "{convs:?}"
    );

    // Both HTTP exchanges decode, with their status codes.
    let port = server.port.to_string();
    let http = tshark(
        &ours,
        &format!("http && tcp.port == {port}"),
        &["ip.src", "ip.dst", "http.request.uri", "http.response.code"],
    );
    let uris: Vec<&str> = http
        .iter()
        .map(|r| r[2].as_str())
        .filter(|u| !u.is_empty())
        .collect();
    let codes: Vec<&str> = http
        .iter()
        .map(|r| r[3].as_str())
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(uris, ["/hello.txt", "/nothing-here"]);
    assert_eq!(codes, ["200", "404"]);
    assert!(http
        .iter()
        .all(|r| r[0] == "127.0.0.1" && r[1] == "127.0.0.1"));
    (ours, server.port)
}

#[test]
#[ignore = "needs root"]
fn lo_capture_matches_tcpdump_and_sigint_leaves_valid_file() {
    need::root();
    let (file, _) = same_as_tcpdump("lo", "lo");
    let (_, _, head) = tcpdump_read(&file);
    assert!(head.contains("link-type EN10MB"), "{head}");
}

#[test]
#[ignore = "needs root"]
fn any_writes_linux_cooked_v2() {
    need::root();
    let (file, port) = same_as_tcpdump("any", "any");
    let (_, _, head) = tcpdump_read(&file);
    assert!(head.contains("LINUX_SLL2"), "{head}");
    let rows = tshark(
        &file,
        &format!("tcp.port == {port}"),
        &[
            "frame.protocols",
            "sll.ifindex",
            "sll.pkttype",
            "ip.src",
            "tcp.srcport",
            "tcp.dstport",
        ],
    );
    assert!(
        rows.len() >= 10,
        "a TCP exchange has at least 10 packets, got {}",
        rows.len()
    );
    let lo_index = fs::read_to_string("/sys/class/net/lo/ifindex").unwrap_or_else(|_| "1".into());
    for r in &rows {
        assert!(r[0].starts_with("sll:ethertype:ip:tcp"), "{r:?}");
        assert_eq!(r[1], lo_index.trim(), "interface index of lo");
        assert_eq!(r[2], "0", "lo's copies arrive as 'to us'");
        assert_eq!(r[3], "127.0.0.1");
        assert!(
            r[4] == port.to_string() || r[5] == port.to_string(),
            "{r:?}"
        );
    }
}

#[test]
#[ignore = "needs root"]
fn max_packets_stops_with_exactly_that_many() {
    need::root();
    let dir = tmp("maxpackets");
    let ns = Ns::new();
    let server = HttpServer::start(&ns, &dir);
    let out = dir.join("five.pcap");
    let cap = capture(
        &ns,
        &[
            "-i",
            "lo",
            "-w",
            out.to_str().unwrap(),
            "--max-packets",
            "5",
        ],
    );
    server.get(&ns, "hello.txt");
    server.get(&ns, "hello.txt");
    let (status, _, stderr) = cap.wait();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("reached --max-packets 5"), "{stderr}");
    assert!(
        !stderr.contains('\r') && !stderr.contains("dropped by kernel,"),
        "no status line off a terminal"
    );
    let (ok, lines, _) = tcpdump_read(&out);
    assert!(ok);
    assert_eq!(lines.len(), 5);
    assert_eq!(captured(&stderr), 5);
}

#[test]
#[ignore = "needs root"]
fn max_size_caps_the_file() {
    need::root();
    let dir = tmp("maxsize");
    let ns = Ns::new();
    let server = HttpServer::start(&ns, &dir);
    let out = dir.join("capped.pcap");
    let cap = capture(
        &ns,
        &[
            "-i",
            "lo",
            "-w",
            out.to_str().unwrap(),
            "--max-size",
            "20k",
            "--snaplen",
            "2000",
        ],
    );
    for _ in 0..3 {
        server.get(&ns, "big.bin");
    }
    let (status, _, stderr) = cap.wait();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("file reached --max-size 20 kB"), "{stderr}");
    let len = fs::metadata(&out).unwrap().len();
    // Under the cap, and too full for one more full-size record (16 + 2000 bytes).
    assert!(len <= 20_000 && len > 20_000 - 2016, "size {len}");
    let (ok, lines, _) = tcpdump_read(&out);
    assert!(ok);
    assert_eq!(lines.len(), captured(&stderr));
}

#[test]
#[ignore = "needs root"]
fn ring_keeps_the_newest_files() {
    need::root();
    let dir = tmp("ring");
    let ns = Ns::new();
    let server = HttpServer::start(&ns, &dir);
    let out = dir.join("ring.pcap");
    fs::write(dir.join("ring.pcap.2"), b"left by an earlier run").unwrap();
    let cap = capture(
        &ns,
        &[
            "-i",
            "lo",
            "-w",
            out.to_str().unwrap(),
            "--max-size",
            "8k",
            "--ring",
            "3",
            "--snaplen",
            "500",
            "--max-packets",
            "200",
        ],
    );
    while !cap.child_exited() {
        server.get(&ns, "big.bin");
    }
    let (status, _, stderr) = cap.wait();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("reached --max-packets 200"), "{stderr}");
    assert!(
        stderr.contains("older files were rotated out of the ring"),
        "{stderr}"
    );
    assert!(!dir.join("ring.pcap.3").exists());
    let names = ["ring.pcap.2", "ring.pcap.1", "ring.pcap"];
    let mut total = 0;
    let mut last_ts = 0.0f64;
    for name in names {
        let path = dir.join(name);
        let len = fs::metadata(&path).unwrap().len();
        assert!(len <= 8000, "{name} is {len} bytes");
        let (ok, lines, _) = tcpdump_read(&path);
        assert!(ok, "{name} reads");
        assert_eq!(
            read_ours(&path).0,
            lines.len(),
            "our reader agrees on {name}"
        );
        assert!(!lines.is_empty(), "{name} has packets");
        total += lines.len();
        let ts: Vec<f64> = tshark(&path, "", &["frame.time_epoch"])
            .iter()
            .map(|r| r[0].parse().unwrap())
            .collect();
        assert!(ts[0] >= last_ts, "{name} is newer than the file before it");
        last_ts = *ts.last().unwrap();
    }
    // Each file holds up to (8000-24)/(16+500) = 15 full records; 200 packets need more than 3 files.
    assert!(
        total < 200,
        "older packets were dropped with their files ({total})"
    );
    assert_eq!(captured(&stderr), 200);
}

impl Running {
    fn child_exited(&self) -> bool {
        // SAFETY: waitid with WNOWAIT only peeks at our child's state.
        unsafe {
            let mut info: libc::siginfo_t = std::mem::zeroed();
            libc::waitid(
                libc::P_PID,
                self.child.id(),
                &mut info,
                libc::WEXITED | libc::WNOHANG | libc::WNOWAIT,
            ) == 0
                && info.si_pid() != 0
        }
    }
}

#[test]
fn missing_interface_is_a_clear_error() {
    let out = Command::new(BIN)
        .args(["capture", "-i", "nosuchif0", "-w", "/tmp/never.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no such interface: nosuchif0"), "{err}");
    assert!(!Path::new("/tmp/never.pcap").exists());
}

#[test]
#[ignore = "needs root"]
fn unwritable_output_is_a_clear_error() {
    need::root();
    let out = Command::new(BIN)
        .args(["capture", "-i", "lo", "-w", "/nonexistent-dir/x.pcap"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent-dir"), "{err}");
}

#[test]
#[ignore = "needs root"]
fn without_cap_net_raw_says_so() {
    need::root();
    let out = need::tool("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--inh-caps=-all",
            BIN,
            "capture",
            "-i",
            "lo",
            "-w",
            "/tmp/x.pcap",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("run as root or grant CAP_NET_RAW"), "{err}");
}

#[test]
fn bad_sizes_and_durations_are_usage_errors() {
    for args in [
        ["--max-size", "12 parsecs"],
        ["--max-duration", "5 fortnights"],
        ["--ring", "1"],
    ] {
        let out = Command::new(BIN)
            .args(["capture", "-i", "lo", "-w", "/tmp/x.pcap"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
    }
    let out = Command::new(BIN)
        .args(["capture", "--help"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("customer data") && help.contains("costs CPU"),
        "{help}"
    );
}

/// A one-connection-at-a-time HTTP server answering each POST with the next
/// status in `answers`; records (headers, body) of each request.
type Requests = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

fn upload_server(answers: Vec<u16>) -> (u16, Requests) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    thread::spawn(move || {
        for (i, stream) in listener.incoming().enumerate() {
            let Ok(mut s) = stream else { continue };
            let mut r = BufReader::new(s.try_clone().unwrap());
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if r.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            log.lock().unwrap().push((head, body));
            let status = answers.get(i).copied().unwrap_or(201);
            let reply = if status == 201 {
                let json = format!(r#"{{"id":"cap{i}","url":"/c/cap{i}"}}"#);
                format!("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}", json.len())
            } else {
                format!(
                    "HTTP/1.1 {status} Nope\r\nContent-Length: 4\r\nConnection: close\r\n\r\nnope"
                )
            };
            let _ = s.write_all(reply.as_bytes());
        }
    });
    (port, seen)
}

#[test]
#[ignore = "needs root"]
fn upload_sends_the_file_and_prints_its_link() {
    need::root();
    // The server lives on the host's loopback, so this capture runs there too;
    // it only needs a few packets: connections refused by a closed port.
    let dir = tmp("upload");
    let (port, seen) = upload_server(vec![503]);
    let closed = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = dir.join("up.pcap");
    let cap = capture(
        &Ns::host(),
        &[
            "-i",
            "lo",
            "-w",
            out.to_str().unwrap(),
            "--max-packets",
            "3",
            "--upload",
            &format!("http://127.0.0.1:{port}/"),
            "--upload-retry-ms",
            "50",
        ],
    );
    for _ in 0..50 {
        if cap.child_exited() {
            break;
        }
        let _ = std::net::TcpStream::connect(("127.0.0.1", closed));
        thread::sleep(Duration::from_millis(20));
    }
    let (status, stdout, stderr) = cap.wait();
    assert!(status.success(), "{stderr}");
    let seen = seen.lock().unwrap();
    let (head, body) = seen
        .iter()
        .rev()
        .find(|(h, _)| h.starts_with("POST"))
        .expect("a POST");
    assert!(head.starts_with("POST /api/captures HTTP/1.1"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/vnd.tcpdump.pcap"),
        "{head}"
    );
    assert_eq!(body, &fs::read(&out).unwrap(), "the body is the file");
    assert!(
        stderr.contains("retrying in"),
        "the 503 was retried: {stderr}"
    );
    assert_eq!(seen.len(), 2, "one 503, then the upload");
    assert_eq!(stdout.trim(), format!("http://127.0.0.1:{port}/c/cap1"));
}

#[test]
fn upload_gives_up_and_keeps_the_file() {
    let dir = tmp("upload-fail");
    let file = dir.join("keep.pcap");
    fs::write(&file, b"not really a pcap").unwrap();
    // A port nobody listens on: bind, note the port, close.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let policy = tracedeck::capture::RetryPolicy {
        attempts: 3,
        first_delay: Duration::from_millis(10),
        timeout: Duration::from_secs(5),
    };
    let mut retries = Vec::new();
    let err = tracedeck::capture::upload_file(
        &format!("http://127.0.0.1:{port}"),
        &file,
        &policy,
        &mut |n, _, wait| retries.push((n, wait)),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with("gave up after 3 tries"),
        "{err}"
    );
    assert_eq!(
        retries,
        [
            (1, Duration::from_millis(10)),
            (2, Duration::from_millis(20))
        ]
    );
    assert!(file.exists());

    let (port, seen) = upload_server(vec![413]);
    let err = tracedeck::capture::upload_file(
        &format!("http://127.0.0.1:{port}"),
        &file,
        &policy,
        &mut |_, _, _| {},
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the server answered 413: nope",
        "413 is not retried"
    );
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[test]
#[ignore = "needs root"]
fn refuses_to_start_under_the_free_space_floor() {
    need::root();
    let dir = tmp("disk-full").join("mnt");
    // 64 MiB: the floor is 5% = 3.2 MiB; leave about 2 MiB free.
    let fs = Tmpfs::mount(&dir, 64, 62 << 20);
    assert!(fs.free() < 64 << 20 >> 4);
    let out = Command::new(BIN)
        .args(["capture", "-i", "lo", "-w"])
        .arg(dir.join("x.pcap"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "refusing to start: free space on {}",
            dir.display()
        )),
        "{err}"
    );
    assert!(err.contains("under the floor of 3.36 MB"), "{err}");
    assert!(!dir.join("x.pcap").exists());
}

#[test]
#[ignore = "needs root"]
fn stops_when_free_space_falls_under_the_floor() {
    need::root();
    let dir = tmp("disk-filling");
    let mnt = dir.join("mnt");
    // 128 MiB: the floor is 6.4 MiB; leave 10 MiB, so about 3.6 MiB may be written.
    let fs = Tmpfs::mount(&mnt, 128, 118 << 20);
    let ns = Ns::new();
    let server = HttpServer::start(&ns, &dir);
    let out = mnt.join("x.pcap");
    let cap = capture(
        &ns,
        &[
            "-i",
            "lo",
            "-w",
            out.to_str().unwrap(),
            "--max-size",
            "50MB",
        ],
    );
    for _ in 0..200 {
        if cap.child_exited() {
            break;
        }
        server.get(&ns, "big.bin");
    }
    let (status, _, stderr) = cap.wait();
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("free space on {} fell to", mnt.display())),
        "{stderr}"
    );
    let len = fs::metadata(&out).unwrap().len();
    assert!(len > 3 << 20 && len < 6 << 20, "wrote {len} bytes");
    assert!(fs.free() > 1 << 20, "the floor kept space free");
    let (ok, lines, _) = tcpdump_read(&out);
    assert!(ok);
    assert_eq!(lines.len(), captured(&stderr));
}

#[test]
#[ignore = "needs root"]
fn status_line_on_a_terminal() {
    need::root();
    let dir = tmp("tty");
    let ns = Ns::new();
    let out = dir.join("tty.pcap");
    let inner = format!(
        "{BIN} capture -i lo -w {} --max-duration 1s --max-size 1MB",
        out.display()
    );
    let run = ns
        .cmd("script")
        .args(["-qec", &inner, "/dev/null"])
        .output()
        .unwrap();
    assert!(run.status.success());
    let text = String::from_utf8_lossy(&run.stdout);
    // "\r\x1b[K0 packets, 0 B, file 24 B / 1 MB, 0:00:00, 0 dropped by kernel"
    // Nothing else on this lo: the numbers are known.
    assert!(
        text.contains("\r\x1b[K0 packets, 0 B, file 24 B / 1 MB, 0:00:00, 0 dropped by kernel"),
        "{text:?}"
    );
    assert!(text.contains("reached --max-duration 0:00:01"), "{text:?}");
}

/// `-f "tcp port A"` while talking to servers on ports A and B: only A's
/// packets are written, and the filter ran in the kernel.
fn filter_excludes_other_port(name: &str, iface: &str) {
    let dir = tmp(name);
    let ns = Ns::new();
    let keep = HttpServer::start(&ns, &dir);
    let other = HttpServer::start(&ns, &dir);
    let out = dir.join("filtered.pcap");
    let expr = format!("tcp port {}", keep.port);
    let cap = capture(
        &ns,
        &["-i", iface, "-f", &expr, "-w", out.to_str().unwrap()],
    );
    for _ in 0..3 {
        keep.get(&ns, "hello.txt");
        other.get(&ns, "hello.txt");
    }
    // No wait: a stop drains what the kernel already holds.
    cap.interrupt();
    let (status, _, stderr) = cap.wait();
    assert!(status.success(), "{stderr}");
    assert!(stderr.contains("the filter runs in the kernel"), "{stderr}");
    let rows = tshark(&out, "", &["tcp.srcport", "tcp.dstport"]);
    assert_eq!(rows.len(), captured(&stderr));
    // Three HTTP/1.0 exchanges of at least 10 packets each, all on port A.
    assert!(rows.len() >= 30, "{} packets", rows.len());
    let a = keep.port.to_string();
    assert!(rows.iter().all(|r| r[0] == a || r[1] == a), "{rows:?}");
    // tcpdump applying the same filter to our file keeps every packet.
    let (ok, lines, _) = tcpdump_read(&out);
    let refiltered = need::tool("tcpdump")
        .args(["-nn", "-r"])
        .arg(&out)
        .arg(&expr)
        .output()
        .unwrap();
    assert!(ok && refiltered.status.success());
    assert_eq!(
        String::from_utf8_lossy(&refiltered.stdout).lines().count(),
        lines.len()
    );
}

#[test]
#[ignore = "needs root"]
fn filter_excludes_other_ports_on_lo() {
    need::root();
    filter_excludes_other_port("filter-lo", "lo");
}

#[test]
#[ignore = "needs root"]
fn filter_excludes_other_ports_on_any() {
    need::root();
    filter_excludes_other_port("filter-any", "any");
}

#[test]
fn bad_filter_names_its_column() {
    let out = Command::new(BIN)
        .args([
            "capture",
            "-i",
            "lo",
            "-f",
            "tcp port eighty",
            "-w",
            "/tmp/never.pcap",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad filter \"tcp port eighty\"") && err.contains("at column 10"),
        "{err}"
    );
}
