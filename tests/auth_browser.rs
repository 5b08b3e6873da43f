//! Accounts and cross-origin writes in a real headless Chromium (issue
//! 17): a person signs in, uploads, sees only their own captures, and
//! signs out; a page served from another local origin (another port)
//! cannot delete or plant a capture with a form post or a text/plain
//! fetch, while the server's own delete form still works.
//!
//! Ignored unless asked for (`--include-ignored`), and failing when
//! chromium/chromedriver are not installed.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::Duration;

use crate::support::serve::{fresh_dir, Server};
use crate::support::webdriver::Browser;

fn sample() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/api/http-loopback.pcap")
}

/// Serves `html` to every request on a free loopback port (the other
/// origin); returns its address.
fn other_origin(html: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(mut tcp) = tcp else { continue };
            let mut reader = BufReader::new(tcp.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let _ = write!(
                tcp,
                "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{html}",
                html.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn a_page_on_another_local_origin_cannot_delete_or_upload() {
    let server = Server::start(&fresh_dir("auth-browser-csrf"), &[]);
    let r = server.post_raw(
        "/api/captures?name=victim.pcap",
        &std::fs::read(sample()).unwrap(),
    );
    assert_eq!(r.status, 201);
    let id = r.json()["id"].as_str().unwrap().to_string();
    server.wait(&id);
    let target = &server.base;
    let attacker = other_origin(format!(
        r#"<!doctype html><title>loading</title>
<iframe name="sink"></iframe>
<form id="del" method="post" action="{target}/c/{id}/delete" target="sink"></form>
<form id="up" method="post" action="{target}/upload" enctype="text/plain" target="sink">
<input name="file" value="planted"></form>
<script>
fetch("{target}/api/captures?name=planted.pcap", {{method: "POST", mode: "no-cors",
  headers: {{"Content-Type": "text/plain"}}, body: "planted"}})
  .catch(() => null)
  .finally(() => {{
    document.getElementById("del").submit();
    setTimeout(() => {{ document.getElementById("up").submit(); }}, 300);
    setTimeout(() => {{ document.title = "sent"; }}, 1500);
  }});
</script>"#
    ));
    let b = Browser::start();
    b.goto(&attacker);
    b.wait_until("the other origin's writes", Duration::from_secs(20), |b| {
        b.title() == "sent"
    });
    let list = server.get("/api/captures").json();
    assert_eq!(list["total"], 1, "nothing planted: {list}");
    assert_eq!(
        server.get(&format!("/api/captures/{id}")).status,
        200,
        "not deleted"
    );

    // The server's own form still deletes.
    b.goto(&server.url(&format!("/c/{id}/delete")));
    b.find("#confirm-delete").click();
    b.wait_until("the home page", Duration::from_secs(10), |b| {
        !b.url().contains("/c/")
    });
    assert_eq!(server.get(&format!("/api/captures/{id}")).status, 404);
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn a_person_signs_in_and_sees_only_their_captures() {
    let data = fresh_dir("auth-browser-login");
    for name in ["ann", "bob"] {
        let pw = data.with_extension(format!("{name}.pw"));
        std::fs::write(&pw, format!("{name}-password\n")).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tracedeck"))
            .args(["user", "add", name, "--password-file"])
            .arg(&pw)
            .arg("--data-dir")
            .arg(&data)
            .output()
            .unwrap();
        assert!(out.status.success());
    }
    let server = Server::start(&data, &[]);
    let b = Browser::start();
    let sign_in = |name: &str| {
        b.goto(&server.url("/"));
        b.wait_until("the login page", Duration::from_secs(10), |b| {
            b.url().contains("/login")
        });
        b.find("#name").send_keys(name);
        b.find("#password").send_keys(&format!("{name}-password"));
        b.find("#sign-in").click();
        let signed_in = format!("Signed in as {name}");
        b.wait_until(&signed_in, Duration::from_secs(20), |b| {
            b.page_text().contains(&signed_in)
        });
        assert!(!b.url().contains("/login"), "{}", b.url());
    };
    sign_in("ann");
    b.find("#file").send_keys(sample().to_str().unwrap());
    b.wait_until("the capture's page", Duration::from_secs(30), |b| {
        b.url().contains("/c/")
    });
    let capture = b.url();
    b.goto(&server.url("/"));
    assert!(b.page_text().contains("http-loopback.pcap"));
    b.find("#sign-out").click();
    b.wait_until("signed out", Duration::from_secs(10), |b| {
        b.url().contains("/login")
    });

    sign_in("bob");
    assert!(!b.page_text().contains("http-loopback.pcap"));
    b.goto(&capture);
    assert!(b.page_text().contains("404"), "{}", b.page_text());
}
