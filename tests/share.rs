//! Share links (issue 17, README "Share links") against the real server:
//! a strict link of sample-captures/secrets/ opens without signing in and
//! every view reachable from it (pages, JSON twins, streams, hex, packet
//! lists, pcap downloads) shows no secret, no real address and not the
//! capture's ID, with the owner's statuses and timings; an expired link
//! is 410, a revoked, forged or tampered one 404; another user can neither
//! make, list nor revoke links of the capture; a share form post needs its
//! CSRF token and this origin. The Chromium test does the same through
//! the pages, as people would, with screenshots in target/screenshots/.

use std::collections::{BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use tracedeck::redact::ProfileName;
use tracedeck::store::auth::AuthStore;
use tracedeck::store::shares::NewShare;
use tracedeck::time::Timestamp;

use crate::auth::{add_user, send, sign_in};
use crate::support::serve::{fresh_dir, Reply, Server};
use crate::support::wait::wait_until;
use crate::support::webdriver::Browser;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-captures")
        .join(name)
}

/// What no shared answer may contain: the secrets of
/// sample-captures/secrets/make.sh, the address it was made on, and the
/// one in the upload's file name.
const FORBIDDEN: [&str; 3] = ["SECRET", "127.0.0.1", "10.1.2.3"];

/// A server with users ann and bob, ann signed in; `file` uploaded by ann
/// and analyzed. Returns the server, ann's cookie and the capture's ID.
fn anns_capture(name: &str, file: &str) -> (Server, String, String) {
    let data = fresh_dir(name);
    add_user(&data, "ann", false);
    add_user(&data, "bob", false);
    let s = Server::start(&data, &[]);
    let ann = sign_in(&s, "ann");
    let bytes = std::fs::read(sample(file)).unwrap();
    let r = send(
        &s,
        "POST",
        "/api/captures?name=secrets-10.1.2.3.pcapng",
        &[("Cookie", &ann)],
        Some(("application/octet-stream", &bytes)),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    wait_until("the analysis", Duration::from_secs(60), || {
        let st = get_as(&s, &ann, &format!("/api/captures/{id}"));
        st.json()["status"] == "done"
    });
    (s, ann, id)
}

/// `GET path` as the holder of `cookie`.
pub(crate) fn get_as(s: &Server, cookie: &str, path: &str) -> Reply {
    send(s, "GET", path, &[("Cookie", cookie)], None)
}

/// Makes a link through the JSON API as the holder of `cookie`.
fn make_link(s: &Server, cookie: &str, id: &str, body: &str) -> Reply {
    send(
        s,
        "POST",
        &format!("/api/captures/{id}/shares"),
        &[("Cookie", cookie)],
        Some(("application/json", body.as_bytes())),
    )
}

/// The path of a made link (`/share/TOKEN`).
pub(crate) fn link_path(r: &Reply) -> String {
    assert_eq!(r.status, 201, "{}", r.text());
    r.header("location").unwrap().to_string()
}

/// Links of an HTML answer (`href` and `src`), unescaped.
pub(crate) fn links_in(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "src=\"", "action=\""] {
        for part in html.split(attr).skip(1) {
            if let Some(end) = part.find('"') {
                out.push(part[..end].replace("&amp;", "&"));
            }
        }
    }
    out
}

/// Asserts an answer under a share link holds nothing it must not; a
/// capture file is analyzed, and its conversations must not name the real
/// address either (a byte search would find checksums that spell it).
fn assert_clean(path: &str, body: &[u8], id: &str) {
    let text = String::from_utf8_lossy(body);
    for bad in FORBIDDEN.iter().copied().chain([id]) {
        assert!(!text.contains(bad), "{path} shows {bad:?}:\n{text}");
    }
    let is_capture = body.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a])
        || body.starts_with(&[0x4d, 0x3c, 0xb2, 0xa1])
        || body.starts_with(&[0xd4, 0xc3, 0xb2, 0xa1]);
    if is_capture {
        let file =
            std::env::temp_dir().join(format!("tracedeck-share-{}.pcap", std::process::id()));
        std::fs::write(&file, body).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tracedeck"))
            .arg("analyze")
            .arg(&file)
            .arg("--json")
            .output()
            .unwrap();
        let json = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && json.contains("\"client\""),
            "{path}: {json}"
        );
        assert!(
            !json.contains("127.0.0.1"),
            "{path} names the real address:\n{json}"
        );
    }
}

/// Every address reachable from `start` (a share link) without signing
/// in: the links of its pages, the JSON twins, and per conversation the
/// stream, packets, hex view and pcap; each answer is checked. Returns the
/// addresses fetched.
fn crawl(s: &Server, start: &str, id: &str) -> BTreeSet<String> {
    let first = send(s, "GET", start, &[], None);
    assert_eq!(first.status, 303, "{}", first.text());
    let saved = first.header("location").unwrap().to_string();
    let mut queue: VecDeque<String> =
        VecDeque::from([saved, format!("{start}/overview"), format!("{start}/api")]);
    // A filtered link shows less than the whole capture.
    let whole = format!("{start}/capture.pcap");
    match send(s, "GET", &whole, &[], None).status {
        404 => {}
        _ => queue.push_back(whole),
    }
    let convs = send(s, "GET", &format!("{start}/api/conversations"), &[], None).json();
    for c in convs["items"].as_array().unwrap() {
        let n = c["id"].as_u64().unwrap();
        for tail in ["", "/stream", "/packets", "/pcap"] {
            queue.push_back(format!("{start}/api/conversations/{n}{tail}"));
        }
        queue.push_back(format!("{start}/conversations/{n}?view=hex"));
    }
    let mut seen = BTreeSet::new();
    while let Some(path) = queue.pop_front() {
        let path = path.split('#').next().unwrap_or("").to_string();
        if !seen.insert(path.clone()) || seen.len() > 400 {
            continue;
        }
        let r = send(s, "GET", &path, &[], None);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        assert_clean(&path, &r.body, id);
        let html = r
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html"));
        if html {
            let text = r.text();
            assert!(
                !text.contains("method=\"post\""),
                "{path} has a form that posts"
            );
            for l in links_in(&text) {
                assert!(
                    !l.starts_with("/c/") && !l.starts_with("/api/"),
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

/// `(status, total_time, server_time, http_time)` of every exchange of a
/// JSON list, in its order.
fn timings(list: &Value) -> Vec<(Value, Value, Value, Value)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["status"].clone(),
                e["total_time"].clone(),
                e["server_time"].clone(),
                e["http_time"].clone(),
            )
        })
        .collect()
}

#[test]
fn a_strict_link_shows_the_owners_numbers_and_no_secret() {
    let (s, ann, id) = anns_capture("share-strict", "secrets/secrets.pcapng");
    let link = link_path(&make_link(
        &s,
        &ann,
        &id,
        &format!(r#"{{"view": "/c/{id}/http?sort=total_time&order=desc&host=127.0.0.1"}}"#),
    ));
    let first = send(&s, "GET", &link, &[], None);
    assert_eq!(
        first.header("location"),
        Some(format!("{link}/http?sort=total_time&order=desc").as_str()),
        "the saved view, without its host filter"
    );
    let seen = crawl(&s, &link, &id);
    for must in [
        "/http",
        "/dns",
        "/conversations",
        "/api/http",
        "capture.pcap",
        "view=hex",
    ] {
        assert!(
            seen.iter().any(|p| p.contains(must)),
            "{must} not reached: {seen:?}"
        );
    }

    let owners = get_as(&s, &ann, &format!("/api/captures/{id}/http"));
    let shared = send(&s, "GET", &format!("{link}/api/http"), &[], None);
    assert_eq!(timings(&shared.json()), timings(&owners.json()));
    assert!(!timings(&owners.json()).is_empty());
    for n in 0..3 {
        let path = format!("/conversations/{n}/stream");
        let owners = get_as(&s, &ann, &format!("/api/captures/{id}{path}")).json();
        let shared = send(&s, "GET", &format!("{link}/api{path}"), &[], None).json();
        for k in ["bytes_c2s", "bytes_s2c", "unreadable_packets", "truncated"] {
            assert_eq!(shared[k], owners[k], "{path} {k}");
        }
        assert!(
            owners["bytes_c2s"].as_u64().unwrap() > 0,
            "{path}: {owners}"
        );
        let chunks = |v: &Value| v["chunks"].as_array().map_or(0, Vec::len);
        assert_eq!(chunks(&shared), chunks(&owners), "{path}");
    }
    let owners = get_as(&s, &ann, &format!("/api/captures/{id}")).json();
    let shared = send(&s, "GET", &format!("{link}/api"), &[], None).json();
    assert_eq!(shared["summary"]["http"], owners["summary"]["http"]);
    assert_eq!(shared["id"], "shared");

    // Viewers may sort and page, not filter by what the link hides, nor
    // sort by a hidden column (its order is the real values' order).
    for probe in [
        "/http?host=127.0.0.1",
        "/http?path=%2Faccount",
        "/api/http?filter=host+127.0.0.1",
        "/http?sort=client",
        "/api/conversations?sort=server&order=desc",
        "/api/http?sort=uri",
        "/dns?sort=name",
    ] {
        let r = send(&s, "GET", &format!("{link}{probe}"), &[], None);
        assert_eq!(r.status, 400, "{probe}: {}", r.text());
        assert_clean(probe, &r.body, &id);
    }
    let sorted = send(
        &s,
        "GET",
        &format!("{link}/api/http?sort=total_time"),
        &[],
        None,
    );
    assert_eq!(sorted.status, 200, "{}", sorted.text());
    let page = send(&s, "GET", &format!("{link}/conversations"), &[], None).text();
    assert!(
        !page.contains("sort=client") && page.contains("sort=bytes"),
        "hidden columns' headers sort nothing: {page}"
    );
}

#[test]
fn a_filtered_link_applies_the_owners_filter_never_shows_it_and_computes_it() {
    let (s, ann, id) = anns_capture("share-filtered", "secrets/secrets.pcap");
    let filter = "host+127.0.0.1+and+not+port+48286";
    let link = link_path(&make_link(
        &s,
        &ann,
        &id,
        &format!(r#"{{"view": "/c/{id}/http?filter={filter}&sort=total_time"}}"#),
    ));
    let first = send(&s, "GET", &link, &[], None);
    assert_eq!(
        first.header("location"),
        Some(format!("{link}/http?sort=total_time").as_str()),
        "the saved view, its filter not shown"
    );
    // Not computed yet: the page offers Compute, the JSON says 409.
    let page = send(&s, "GET", &format!("{link}/http"), &[], None);
    assert_eq!(page.status, 200, "{}", page.text());
    assert_clean("http", &page.body, &id);
    let text = page.text();
    assert!(text.contains("filtered by the link's owner"), "{text}");
    let action = form_action(&text, &format!("{link}/analyses?csrf="));
    let api = send(&s, "GET", &format!("{link}/api/http"), &[], None);
    assert_eq!(api.status, 409, "{}", api.text());
    assert_clean("api/http", &api.body, &id);
    assert_eq!(
        send(&s, "GET", &format!("{link}/capture.pcap"), &[], None).status,
        404,
        "a filtered link does not give the whole capture"
    );
    // Only the link's own filter, with the page's CSRF token, computes.
    let form = ("application/x-www-form-urlencoded", &b"filter=port+1"[..]);
    let browser = [("Sec-Fetch-Site", "same-origin")];
    let no_token = send(
        &s,
        "POST",
        &format!("{link}/analyses"),
        &browser,
        Some(form),
    );
    assert_eq!(no_token.status, 403, "{}", no_token.text());
    let r = send(&s, "POST", &action, &browser, Some(form));
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        r.header("location"),
        Some(format!("{link}/http?sort=total_time").as_str())
    );
    wait_until("the filtered analysis", Duration::from_secs(60), || {
        send(&s, "GET", &format!("{link}/api/http"), &[], None).status == 200
    });
    let owners = get_as(
        &s,
        &ann,
        &format!("/api/captures/{id}/http?filter={filter}"),
    );
    assert_eq!(owners.status, 200, "{}", owners.text());
    let shared = send(&s, "GET", &format!("{link}/api/http"), &[], None);
    assert_eq!(timings(&shared.json()), timings(&owners.json()));
    assert!(!timings(&owners.json()).is_empty());
    let unfiltered = get_as(&s, &ann, &format!("/api/captures/{id}/conversations")).json();
    let shared_convs = send(&s, "GET", &format!("{link}/api/conversations"), &[], None).json();
    assert!(
        shared_convs["total"].as_u64() < unfiltered["total"].as_u64(),
        "the filter applies: {shared_convs} vs {unfiltered}"
    );
    let seen = crawl(&s, &link, &id);
    assert!(
        seen.iter().any(|p| p.contains("/conversations/")),
        "{seen:?}"
    );
    // Another filter still cannot be asked for.
    let r = send(
        &s,
        "GET",
        &format!("{link}/api/http?filter=port+80"),
        &[],
        None,
    );
    assert_eq!(r.status, 400, "{}", r.text());
}

#[test]
fn expired_revoked_forged_and_tampered_links_open_nothing() {
    let (s, ann, id) = anns_capture("share-ends", "secrets/secrets.pcap");
    let link = link_path(&make_link(&s, &ann, &id, "{}"));
    assert_eq!(
        send(&s, "GET", &format!("{link}/overview"), &[], None).status,
        200
    );

    // Tampered, forged, garbage: the same 404 as any unknown address.
    let unknown = get_as(&s, &ann, "/no-such-page");
    let token = link.trim_start_matches("/share/");
    let mut tampered = token.to_string().into_bytes();
    tampered[10] = if tampered[10] == b'A' { b'B' } else { b'A' };
    let tampered = String::from_utf8(tampered).unwrap();
    for bad in [
        format!("/share/{tampered}/overview"),
        format!("/share/{}", "A".repeat(43)),
        format!("/share/{id}"),
        "/share/%00%ff../../etc/passwd".to_string(),
        format!("{link}/delete"),
        format!("{link}/api/../../c/{id}"),
    ] {
        let r = send(&s, "GET", &bad, &[], None);
        assert_eq!(r.status, 404, "{bad}: {}", r.text());
        let signed_in = send(&s, "GET", &bad, &[("Cookie", &ann)], None);
        assert_eq!(signed_in.text(), unknown.text(), "{bad}");
    }
    let r = send(
        &s,
        "POST",
        &format!("{link}/overview"),
        &[],
        Some(("text/plain", b"x")),
    );
    assert!(r.status == 405 || r.status == 404, "{}", r.status);

    // Expired: made through the store with an expiry in the past.
    let store = AuthStore::open(&s.data).unwrap();
    let past = Timestamp::from_nanos(Timestamp::now().as_nanos() - 1_000_000_000);
    let (old, _) = store
        .create_share(&NewShare {
            kind: "capture".into(),
            upload: id.clone(),
            owner: Some("ann".into()),
            view: "/overview".into(),
            profile: ProfileName::Strict,
            expires: past,
        })
        .unwrap();
    let r = send(&s, "GET", &format!("/share/{old}/http"), &[], None);
    assert_eq!(r.status, 410, "{}", r.text());
    assert!(r.text().contains("expired on"), "{}", r.text());

    // Revoked through the owner's list (its form carries the CSRF token).
    let list = get_as(&s, &ann, &format!("/c/{id}/shares"));
    assert_eq!(list.status, 200);
    let action = form_action(&list.text(), "/shares/1/revoke?csrf=");
    let r = send(
        &s,
        "POST",
        &action,
        &[("Cookie", &ann)],
        Some(("application/x-www-form-urlencoded", b"")),
    );
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(
        send(&s, "GET", &format!("{link}/overview"), &[], None).status,
        404
    );
    let listed = get_as(&s, &ann, &format!("/api/captures/{id}/shares")).json();
    let states: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["expired", "revoked"]);
    assert!(listed["items"][1]["views"].as_u64().unwrap() >= 1);
    assert!(
        !listed.to_string().contains(token),
        "the list never shows a token"
    );
    let events: Vec<String> = store
        .audit_log(100)
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    for event in ["share", "share-view", "share-revoke"] {
        assert!(events.iter().any(|e| e == event), "{event}: {events:?}");
    }
    let views = events.iter().filter(|e| *e == "share-view").count();
    assert_eq!(views, 1, "one line per link and day: {events:?}");
}

/// The first form action of `html` that contains `part`.
fn form_action(html: &str, part: &str) -> String {
    links_in(html)
        .into_iter()
        .find(|l| l.contains(part))
        .unwrap_or_else(|| panic!("no form action with {part}: {html}"))
}

#[test]
fn only_the_owner_makes_lists_and_revokes_and_forms_need_their_token() {
    let (s, ann, id) = anns_capture("share-owner", "secrets/secrets.pcap");
    let link = link_path(&make_link(
        &s,
        &ann,
        &id,
        r#"{"profile": "headers", "days": 400}"#,
    ));
    let listed = get_as(&s, &ann, &format!("/api/captures/{id}/shares")).json();
    let item = &listed["items"][0];
    let days = (item["expires"].as_f64().unwrap() - item["created"].as_f64().unwrap()) / 86_400.0;
    assert!(
        (days - 30.0).abs() < 0.01,
        "cut to --share-max-days: {days}"
    );
    assert_eq!(item["profile"], "headers");

    let bob = sign_in(&s, "bob");
    assert_eq!(make_link(&s, &bob, &id, "{}").status, 404);
    for path in [
        format!("/c/{id}/shares"),
        format!("/api/captures/{id}/shares"),
    ] {
        assert_eq!(
            send(&s, "GET", &path, &[("Cookie", &bob)], None).status,
            404,
            "{path}"
        );
    }
    // Bob's own CSRF token, on ann's link.
    let page = get_as(&s, &bob, "/").text();
    let csrf = page.split("csrf=").nth(1).unwrap()[..64].to_string();
    let r = send(
        &s,
        "POST",
        &format!("/c/{id}/shares/1/revoke?csrf={csrf}"),
        &[("Cookie", &bob)],
        Some(("application/x-www-form-urlencoded", b"")),
    );
    assert_eq!(r.status, 404, "{}", r.text());
    assert_eq!(
        send(&s, "GET", &format!("{link}/overview"), &[], None).status,
        200
    );

    // Ann's form post without its token, or from another origin: refused.
    let form = b"profile=strict&days=7";
    let ctype = "application/x-www-form-urlencoded";
    let r = send(
        &s,
        "POST",
        &format!("/c/{id}/shares"),
        &[("Cookie", &ann)],
        Some((ctype, form)),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let page = get_as(&s, &ann, &format!("/c/{id}")).text();
    let action = form_action(&page, "/shares?csrf=");
    let r = send(
        &s,
        "POST",
        &action,
        &[("Cookie", &ann), ("Origin", "http://evil.example")],
        Some((ctype, form)),
    );
    assert_eq!(r.status, 403, "{}", r.text());
    let r = send(
        &s,
        "POST",
        &action,
        &[("Cookie", &ann)],
        Some((ctype, form)),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("/share/"), "{}", r.text());
    // Anonymous: sign in first.
    assert_eq!(make_link(&s, "x=y", &id, "{}").status, 401);
}

#[test]
fn a_key_log_never_leaves_with_the_redacted_capture() {
    let (s, ann, id) = anns_capture("share-keylog", "tls/tls13-keepalive-dsb.pcapng");
    let link = link_path(&make_link(&s, &ann, &id, "{}"));
    let r = send(&s, "GET", &format!("{link}/capture.pcap"), &[], None);
    assert_eq!(r.status, 200);
    assert!(r.body.len() > 100);
    assert!(
        !r.body.windows(14).any(|w| w == b"TRAFFIC_SECRET"),
        "the key log reached the download"
    );
    assert_clean("capture.pcap", &r.body, &id);
}

#[test]
#[ignore = "needs chromium and chromedriver"]
fn chromium_makes_a_strict_link_and_a_fresh_session_sees_no_secret() {
    let data = fresh_dir("share-browser");
    add_user(&data, "ann", false);
    let s = Server::start(&data, &[]);
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    let owner = Browser::start();
    owner.goto(&s.url("/login"));
    owner.find("#name").send_keys("ann");
    owner.find("#password").send_keys("ann-password");
    owner.find("#sign-in").click();
    owner.wait_until("signed in", Duration::from_secs(20), |b| {
        b.page_text().contains("Signed in as ann")
    });
    let pcap = sample("secrets/secrets.pcapng");
    owner.find("#file").send_keys(pcap.to_str().unwrap());
    owner.wait_until("the capture page", Duration::from_secs(60), |b| {
        b.url().contains("/c/") && b.wait_for(".stats", Duration::ZERO).is_some()
    });
    let capture = owner.url();
    let id = capture.split("/c/").nth(1).unwrap()[..32].to_string();
    owner.goto(&format!("{capture}/http"));
    let cells = "return Array.from(document.querySelectorAll('#exchanges td'))\
                 .filter(td => !/addr|uri|host/.test(td.className))\
                 .map(td => td.textContent.trim() + '|' + (td.title || ''));";
    let owners_cells = owner.script(cells);
    owner.find("#share summary").click();
    owner.screenshot(&shots.join("share-form.png"));
    owner.find("#create-share").click();
    owner.wait_until("the new link", Duration::from_secs(20), |b| {
        b.wait_for("#share-url", Duration::ZERO).is_some()
    });
    owner.screenshot_full(&shots.join("share-created.png"));
    let url = owner.find("#share-url").attr("value").unwrap();
    assert!(url.contains("/share/"), "{url}");
    owner.goto(&format!("{capture}/shares"));
    assert!(
        owner.page_text().contains("strict"),
        "{}",
        owner.page_text()
    );
    owner.screenshot_full(&shots.join("share-list.png"));
    drop(owner);

    let fresh = Browser::start();
    fresh.goto(&url);
    fresh.wait_until("the shared HTTP view", Duration::from_secs(20), |b| {
        b.url().contains("/http") && b.wait_for("#share-note", Duration::ZERO).is_some()
    });
    assert_eq!(
        fresh.script(cells),
        owners_cells,
        "statuses and timings as the owner's"
    );
    fresh.screenshot_full(&shots.join("share-http.png"));
    let start = url.split(&s.base).nth(1).unwrap().to_string();
    let mut queue = VecDeque::from([url.clone()]);
    let mut seen = BTreeSet::new();
    let links = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);";
    while let Some(page) = queue.pop_front() {
        let page = page.split('#').next().unwrap_or("").to_string();
        if !seen.insert(page.clone()) || seen.len() > 150 {
            continue;
        }
        fresh.goto(&page);
        let html = fresh
            .script("return document.documentElement.outerHTML;")
            .as_str()
            .unwrap_or("")
            .to_string();
        assert_clean(&page, html.as_bytes(), &id);
        for l in fresh.script(links).as_array().cloned().unwrap_or_default() {
            let l = l.as_str().unwrap_or("").to_string();
            if l.starts_with(&s.url(&start)) && !l.ends_with(".pcap") && !l.contains("/pcap") {
                queue.push_back(l);
            }
        }
    }
    assert!(seen.len() > 5, "{seen:?}");
    fresh.goto(&url);
    fresh.find("a[href*='/conversations/']").click();
    fresh.wait_until("a shared conversation", Duration::from_secs(20), |b| {
        b.url().contains("/conversations/")
    });
    fresh.screenshot_full(&shots.join("share-conversation.png"));
    fresh.window_size(390, 844);
    fresh.goto(&url);
    fresh.screenshot_full(&shots.join("share-http-390.png"));
    // The downloads, fetched as the viewer would (no cookie).
    for path in [
        format!("{start}/capture.pcap"),
        format!("{start}/api/conversations/1/pcap"),
    ] {
        let r = send(&s, "GET", &path, &[], None);
        assert_eq!(r.status, 200, "{path}");
        assert_clean(&path, &r.body, &id);
    }
}
