//! Share links of strace logs (issue 17, README "Share links") against
//! the real server, with a log made here by real strace: a program with
//! `--password SECRET7` on its command line and SECRET8 in its
//! environment connects to 127.0.0.1. A strict and an `addresses` link
//! open without signing in; every page and JSON twin reachable from them
//! shows neither secret, nor the address, nor the upload's ID or file
//! name, and the syscall counts and durations are the owner's. Another
//! user can neither make nor list links of the log.

use std::collections::{BTreeSet, VecDeque};
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::auth::{add_user, send, sign_in};
use crate::share::{get_as, link_path, links_in};
use crate::support::need;
use crate::support::serve::{fresh_dir, Reply, Server};
use crate::support::wait::wait_until;

/// What no shared answer may hold: the secrets, the address the program
/// connected to, and the words of the log's file name.
const FORBIDDEN: [&str; 3] = ["SECRET", "127.0.0.1", "prod-billing"];

/// The program traced: connects to `--host`:`--port` and says hello.
const CLIENT: &str = r#"
import socket, sys
args = sys.argv[1:]
host, port = args[args.index("--host") + 1], int(args[args.index("--port") + 1])
s = socket.create_connection((host, port))
s.sendall(b"hello")
s.close()
"#;

/// An strace log of [`CLIENT`] (`strace -f -tt -T -s 200 -v`: `-v` shows
/// the environment, so its values must be masked).
fn traced_log(dir: &Path) -> Vec<u8> {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let server = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        conn.read_to_end(&mut got).unwrap();
        got
    });
    let script = dir.join("client.py");
    std::fs::write(&script, CLIENT).unwrap();
    // Apart from the script: Python lists the script's directory.
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let log = out_dir.join("prod-billing.strace");
    need::tool("python3");
    let out = need::tool("strace")
        .args(["-f", "-tt", "-T", "-s", "200", "-v", "-o"])
        .arg(&log)
        .arg("python3")
        .arg(&script)
        .args(["--password", "SECRET7", "--host", "127.0.0.1", "--port"])
        .arg(&port)
        .env("APP_TOKEN", "SECRET8")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    assert_eq!(server.join().unwrap(), b"hello");
    let text = std::fs::read(&log).unwrap();
    let shown = String::from_utf8_lossy(&text);
    for must in ["SECRET7", "SECRET8", "inet_addr(\"127.0.0.1\")"] {
        assert!(shown.contains(must), "the log lacks {must}:\n{shown}");
    }
    text
}

/// A server with users ann and bob; ann's upload of the log, parsed.
/// Returns the server, ann's cookie and the upload's ID.
fn anns_log(name: &str) -> (Server, String, String) {
    let data = fresh_dir(name);
    add_user(&data, "ann", false);
    add_user(&data, "bob", false);
    let dir = data.with_extension("log-dir");
    std::fs::create_dir_all(&dir).unwrap();
    let log = traced_log(&dir);
    let s = Server::start(&data, &[]);
    let ann = sign_in(&s, "ann");
    let boundary = "----tracedeck-share-strace";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
         filename=\"prod-billing.strace\"\r\nContent-Type: text/plain\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(&log);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let r = send(
        &s,
        "POST",
        "/api/straces",
        &[("Cookie", &ann)],
        Some((&format!("multipart/form-data; boundary={boundary}"), &body)),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    wait_until("the parse", Duration::from_secs(60), || {
        get_as(&s, &ann, &format!("/api/straces/{id}")).json()["status"] == "done"
    });
    (s, ann, id)
}

fn make_link(s: &Server, cookie: &str, id: &str, body: &str) -> Reply {
    send(
        s,
        "POST",
        &format!("/api/straces/{id}/shares"),
        &[("Cookie", cookie)],
        Some(("application/json", body.as_bytes())),
    )
}

fn assert_clean(path: &str, body: &[u8], id: &str) {
    let text = String::from_utf8_lossy(body);
    for bad in FORBIDDEN.iter().copied().chain([id]) {
        assert!(!text.contains(bad), "{path} shows {bad:?}:\n{text}");
    }
}

/// Every address reachable from `start` without signing in: the link's
/// saved view, each tab and JSON twin, and the links of every page.
fn crawl(s: &Server, start: &str, id: &str) -> BTreeSet<String> {
    let first = send(s, "GET", start, &[], None);
    assert_eq!(first.status, 303, "{}", first.text());
    let mut queue: VecDeque<String> =
        VecDeque::from([first.header("location").unwrap().to_string()]);
    for tail in [
        "/summary",
        "/syscalls",
        "/files",
        "/processes",
        "/pauses",
        "/api",
        "/api/summary",
        "/api/syscalls?limit=1000",
        "/api/files",
        "/api/processes",
        "/api/pauses",
        "/api/unparsed",
    ] {
        queue.push_back(format!("{start}{tail}"));
    }
    let procs = send(s, "GET", &format!("{start}/api/processes"), &[], None).json();
    for p in procs["items"].as_array().unwrap() {
        queue.push_back(format!("{start}/api/timeline?pid={}", p["pid"]));
    }
    let mut seen = BTreeSet::new();
    while let Some(path) = queue.pop_front() {
        let path = path.split('#').next().unwrap_or("").to_string();
        if !seen.insert(path.clone()) || seen.len() > 300 {
            continue;
        }
        let r = send(s, "GET", &path, &[], None);
        assert!(
            r.status == 200 || r.status == 303,
            "{path}: {} {}",
            r.status,
            r.text()
        );
        assert_clean(&path, &r.body, id);
        if let Some(to) = r.header("location") {
            assert!(to.starts_with(start), "{path} sends to {to}");
            queue.push_back(to.to_string());
        }
        if r.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
        {
            let text = r.text();
            assert!(
                !text.contains("method=\"post\""),
                "{path} has a form that posts"
            );
            for l in links_in(&text) {
                assert!(
                    !l.starts_with("/s/") && !l.starts_with("/api/"),
                    "{path} links to {l}"
                );
                if l.starts_with(start) {
                    queue.push_back(l);
                }
            }
        }
    }
    seen
}

/// What must be the owner's numbers in a summary answer.
fn numbers(summary: &Value) -> Value {
    let keep = [
        "syscalls",
        "pids",
        "processes",
        "start",
        "end",
        "syscall_time",
        "summary",
        "summary_by_process",
        "unparsed_count",
    ];
    keep.iter()
        .map(|k| (k.to_string(), summary[k].clone()))
        .collect()
}

/// `(syscall, pid, ts, duration, retval, errno)` of every listed call.
fn calls(list: &Value) -> Vec<[Value; 6]> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ["syscall", "pid", "ts", "duration", "retval", "errno"].map(|k| c[k].clone()))
        .collect()
}

#[test]
#[ignore = "needs strace and python3"]
fn strace_links_show_the_owners_numbers_and_no_secret() {
    let (s, ann, id) = anns_log("share-strace");
    let owners_summary = get_as(&s, &ann, &format!("/api/straces/{id}/summary")).json();
    let owners_calls = get_as(&s, &ann, &format!("/api/straces/{id}/syscalls?limit=5000")).json();
    assert!(owners_calls["total"].as_u64().unwrap() > 50);
    assert!(
        owners_calls.to_string().contains("SECRET7"),
        "the owner sees it"
    );

    for profile in ["strict", "addresses"] {
        let link = link_path(&make_link(
            &s,
            &ann,
            &id,
            &format!(r#"{{"view": "/s/{id}/syscalls?syscall=connect", "profile": "{profile}"}}"#),
        ));
        let first = send(&s, "GET", &link, &[], None);
        assert_eq!(
            first.header("location"),
            Some(format!("{link}/syscalls?syscall=connect").as_str())
        );
        let seen = crawl(&s, &link, &id);
        for must in [
            "/syscalls",
            "/files",
            "/processes",
            "/pauses",
            "/api/timeline",
        ] {
            assert!(
                seen.iter().any(|p| p.contains(must)),
                "{profile}: {must} not reached: {seen:?}"
            );
        }
        let shared = send(&s, "GET", &format!("{link}/api/summary"), &[], None).json();
        assert_eq!(numbers(&shared), numbers(&owners_summary), "{profile}");
        let shared_calls = send(
            &s,
            "GET",
            &format!("{link}/api/syscalls?limit=5000"),
            &[],
            None,
        )
        .json();
        assert_eq!(calls(&shared_calls), calls(&owners_calls), "{profile}");
        // The connect is there, to a pseudonym, port kept.
        let connect = send(
            &s,
            "GET",
            &format!("{link}/api/syscalls?syscall=connect"),
            &[],
            None,
        )
        .json();
        let args = connect["items"].to_string();
        assert!(args.contains("sin_addr=inet_addr("), "{profile}: {args}");
        // A search runs over the redacted text: the secret is not found.
        let probe = send(
            &s,
            "GET",
            &format!("{link}/api/syscalls?contains=SECRET7"),
            &[],
            None,
        );
        assert_eq!(probe.json()["total"], 0, "{profile}");
    }

    // Another user can neither make nor list links of ann's log.
    let bob = sign_in(&s, "bob");
    assert_eq!(make_link(&s, &bob, &id, "{}").status, 404);
    for path in [
        format!("/s/{id}/shares"),
        format!("/api/straces/{id}/shares"),
    ] {
        assert_eq!(
            send(&s, "GET", &path, &[("Cookie", &bob)], None).status,
            404,
            "{path}"
        );
    }
    // Ann's list shows both links; her page carries the Share box.
    let listed = get_as(&s, &ann, &format!("/api/straces/{id}/shares")).json();
    assert_eq!(listed["total"], 2);
    let page = get_as(&s, &ann, &format!("/s/{id}/syscalls")).text();
    assert!(
        page.contains(&format!("action=\"/s/{id}/shares?csrf=")),
        "no Share box: {page}"
    );
    // Revoked through the owner's list: the link opens nothing.
    let list = get_as(&s, &ann, &format!("/s/{id}/shares")).text();
    let action = links_in(&list)
        .into_iter()
        .find(|l| l.starts_with(&format!("/s/{id}/shares/1/revoke?csrf=")))
        .unwrap_or_else(|| panic!("no revoke form: {list}"));
    let r = send(
        &s,
        "POST",
        &action,
        &[("Cookie", &ann)],
        Some(("application/x-www-form-urlencoded", b"")),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    let states: Vec<Value> = get_as(&s, &ann, &format!("/api/straces/{id}/shares")).json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["state"].clone())
        .collect();
    assert_eq!(states, ["live", "revoked"]);
}
