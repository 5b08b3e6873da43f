//! The first hour on a phone and with odd inputs (issue 18's web items):
//! every page of a capture and of an strace log fits 390 px and its chart
//! text is readable there; the overview's timeline and histogram say what
//! they show. Real `tracedeck serve`, Chromium where the layout matters.

use std::path::{Path, PathBuf};

use crate::support::serve::{fresh_dir, Server};
use crate::support::webdriver::Browser;

/// A phone's viewport width, CSS pixels.
const PHONE: u32 = 390;
/// The smallest chart text a phone user is asked to read, CSS pixels.
const MIN_TEXT_PX: f64 = 11.0;

fn sample(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-captures")
        .join(rel)
}

/// Uploads `file` to `api` ("/api/captures" or "/api/straces") and waits
/// until it is processed; the new id.
fn upload(s: &Server, api: &str, file: &str) -> String {
    let bytes = std::fs::read(sample(file)).unwrap();
    let name = Path::new(file).file_name().unwrap().to_str().unwrap();
    let r = s.post_files(api, &[(name, &bytes)]);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    let st = s.wait_finished(&format!("{api}/{id}"));
    assert_eq!(st["status"], "done", "{st}");
    id
}

/// What the page at the current width measures: the document's width,
/// and every SVG text drawn smaller than [`MIN_TEXT_PX`] (its rendered
/// size is the computed font size times the scale of the SVG's viewBox).
const MEASURE: &str = r#"
const small = [];
for (const t of document.querySelectorAll('svg text')) {
  const r = t.getBoundingClientRect();
  if (r.width === 0 && r.height === 0) continue;
  const m = t.getScreenCTM();
  const scale = m ? Math.hypot(m.a, m.b) : 1;
  const px = parseFloat(getComputedStyle(t).fontSize) * scale;
  if (px < 11) small.push(px.toFixed(1) + 'px: ' + t.textContent.slice(0, 40));
}
return {width: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
        client: document.documentElement.clientWidth,
        texts: document.querySelectorAll('svg text').length,
        small: small.slice(0, 5)};
"#;

/// Opens `path` at phone width and returns what does not fit.
fn phone_problems(b: &Browser, s: &Server, path: &str, shot: &str) -> Vec<String> {
    b.goto(&s.url(path));
    let m = b.script(MEASURE);
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    b.screenshot_full(&dir.join(format!("phone-{shot}.png")));
    let mut problems = Vec::new();
    assert_eq!(m["viewport"], PHONE, "{path}: the window is not phone-wide");
    // Headless Chromium draws a classic scrollbar (a phone's overlays the
    // page): the page must fit what is left beside it, so nothing scrolls
    // sideways at all.
    let width = m["width"].as_u64().unwrap_or(u64::MAX);
    let client = m["client"].as_u64().unwrap_or(0);
    if width > client.min(u64::from(PHONE)) {
        problems.push(format!("{path}: {width} px wide in {client} px"));
    }
    for small in m["small"].as_array().into_iter().flatten() {
        problems.push(format!("{path}: SVG text under {MIN_TEXT_PX} px: {small}"));
    }
    problems
}

#[test]
#[ignore = "needs chromium"]
fn every_page_fits_a_phone_and_its_chart_text_is_readable() {
    let dir = fresh_dir("firsthour-phone");
    let s = Server::start(&dir, &[]);
    // A long name: the home list must not cut it to "b_fl…".
    let bytes = std::fs::read(sample("api/http-loopback.pcap")).unwrap();
    let r = s.post_files(
        "/api/captures",
        &[("a_long_capture_name_from_production_box_17.pcap", &bytes)],
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let cap = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.wait(&cap)["status"], "done");
    let slow = upload(&s, "/api/captures", "flask-slow.pcap");
    let st = upload(&s, "/api/straces", "strace/app.txt");
    let st2 = upload(&s, "/api/straces", "strace/curl_loop.txt");

    let b = Browser::start();
    b.window_size(PHONE, 800);
    let mut pages = vec![
        ("/".to_string(), "home".to_string()),
        ("/straces".to_string(), "straces".to_string()),
    ];
    for (id, tag) in [(&cap, "cap"), (&slow, "slow")] {
        for (view, what) in [
            ("", "overview"),
            ("/conversations", "conversations"),
            ("/http", "http"),
            ("/dns", "dns"),
            ("/conversations/0", "conversation0"),
            ("/conversations/1", "conversation1"),
        ] {
            pages.push((format!("/c/{id}{view}"), format!("{tag}-{what}")));
        }
    }
    for (id, tag) in [(&st, "app"), (&st2, "curl")] {
        for view in [
            "",
            "/syscalls",
            "/files",
            "/processes",
            "/pauses",
            "/timeline",
        ] {
            let what = if view.is_empty() { "/summary" } else { view };
            pages.push((
                format!("/s/{id}{view}"),
                format!("strace-{tag}-{}", &what[1..]),
            ));
        }
    }
    let mut problems = Vec::new();
    for (path, shot) in &pages {
        problems.extend(phone_problems(&b, &s, path, shot));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The HTTP table keeps its most important number at phone width.
    b.goto(&s.url(&format!("/c/{slow}/http")));
    let total = b.script(
        "const th = [...document.querySelectorAll('#exchanges thead th')]
           .find(h => h.textContent.trim().startsWith('total'));
         if (!th) return 'no total column';
         const r = th.getBoundingClientRect();
         return r.width > 0 && r.right <= document.documentElement.clientWidth ? 'shown'
           : 'hidden at ' + r.left + '..' + r.right;",
    );
    assert_eq!(total, "shown");
    // The capture's long name is there in full: wrapped, or on hover.
    b.goto(&s.url("/"));
    let name = b.script(
        "const a = [...document.querySelectorAll('table.captures td.name a')]
           .find(a => a.textContent.includes('production_box'));
         if (!a) return 'no such row';
         const cell = a.closest('td');
         return cell.scrollWidth <= cell.clientWidth ? 'whole' : 'cut, title ' + a.title;",
    );
    assert!(
        name == "whole" || name == "cut, title a_long_capture_name_from_production_box_17.pcap",
        "{name}"
    );
}
