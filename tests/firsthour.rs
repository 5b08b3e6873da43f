//! The first hour on a phone and with odd inputs (issue 18's web items):
//! every page of a capture and of an strace log fits 390 px and its chart
//! text is readable there; the overview's timeline and histogram say what
//! they show. Real `tracedeck serve`, Chromium where the layout matters.

use std::path::{Path, PathBuf};

use crate::support::need;
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

/// Uploads sample `file` to `api` ("/api/captures" or "/api/straces") and
/// waits until it is processed; the new id.
fn upload(s: &Server, api: &str, file: &str) -> String {
    upload_path(s, api, &sample(file))
}

/// Uploads the file at `path` to `api` and waits until it is processed.
fn upload_path(s: &Server, api: &str, path: &Path) -> String {
    let bytes = std::fs::read(path).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
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
const cut = [];
for (const e of document.querySelectorAll('header.top *')) {
  const r = e.getBoundingClientRect();
  if (r.width > 0 && (r.right > document.documentElement.clientWidth + 0.5 || r.left < -0.5))
    cut.push("the header's " + (e.id || e.className || e.tagName) + ' ' + r.left.toFixed(0) + '..' + r.right.toFixed(0));
}
// The phone drawings of the ladder and the timeline fit the screen
// whole: their labels never scroll out of sight.
for (const svg of document.querySelectorAll('svg.ladder, svg.timeline')) {
  const r = svg.getBoundingClientRect();
  if (r.width === 0) continue;
  if (!svg.classList.contains('phone')) cut.push('wide ' + svg.getAttribute('class') + ' shown');
  else if (r.right > document.documentElement.clientWidth + 0.5)
    cut.push(svg.getAttribute('class') + ' ' + r.left.toFixed(0) + '..' + r.right.toFixed(0));
}
return {width: document.documentElement.scrollWidth,
        cut: cut.slice(0, 5),
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
    for cut in m["cut"].as_array().into_iter().flatten() {
        problems.push(format!("{path}: {cut} is cut off"));
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

/// The page at `path` of `s`, as text.
fn page(s: &Server, path: &str) -> String {
    let r = s.get(path);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.text()
}

/// The markup of the page's chart of that class.
fn chart<'a>(html: &'a str, class: &str) -> &'a str {
    html.split(&format!("class=\"chart {class}\""))
        .nth(1)
        .and_then(|rest| rest.split("</svg>").next())
        .unwrap_or_else(|| panic!("no {class} chart"))
}

#[test]
fn the_timeline_colours_failures_and_the_histogram_follows_the_data() {
    let dir = fresh_dir("firsthour-overview");
    let s = Server::start(&dir, &[]);
    // 1 5xx and 2 4xx exchanges: their conversations are coloured by
    // status class and each failed exchange is a tick.
    let id = upload(&s, "/api/captures", "api/http-loopback.pcap");
    let html = page(&s, &format!("/c/{id}"));
    let timeline = chart(&html, "timeline");
    assert_eq!(
        timeline.matches("class=\"mark s5\"").count(),
        1,
        "{timeline}"
    );
    assert_eq!(timeline.matches("class=\"mark s4\"").count(), 2);
    assert!(timeline.contains("class=\"bar s5\""));
    assert!(timeline.contains("class=\"bar ok\""));
    assert!(
        !timeline.contains("bar slow"),
        "colour no longer means duration"
    );
    assert!(html.contains("id=\"timeline-legend\""));
    // Every exchange of flask-slow took about 2.00 s: no one wide "< 5 s"
    // bar, but bars a few milliseconds wide.
    let slow = upload(&s, "/api/captures", "flask-slow.pcap");
    let html = page(&s, &format!("/c/{slow}"));
    let histogram = chart(&html, "histogram");
    assert!(!histogram.contains("&lt; 5 s"), "{histogram}");
    assert!(histogram.contains("exchanges took 2.0") || histogram.contains("exchange took 2.0"));
    let summary = &s.get(&format!("/api/captures/{slow}")).json()["summary"]["http"];
    let buckets = summary["histogram"].as_array().unwrap();
    assert!(buckets.len() > 5, "{summary}");
}

#[test]
fn empty_damaged_and_failed_captures_say_so_in_the_list() {
    let dir = fresh_dir("firsthour-odd");
    let s = Server::start(&dir, &[]);
    // A pcap header and nothing after it.
    let header: Vec<u8> = [
        &0xa1b2_c3d4u32.to_le_bytes()[..],
        &2u16.to_le_bytes(),
        &4u16.to_le_bytes(),
        &[0; 8],
        &65535u32.to_le_bytes(),
        &1u32.to_le_bytes(),
    ]
    .concat();
    let r = s.post_files("/api/captures", &[("header-only.pcap", &header)]);
    assert_eq!(r.status, 201, "{}", r.text());
    let empty = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.wait(&empty)["status"], "done");
    let html = page(&s, &format!("/c/{empty}"));
    assert!(html.contains("id=\"no-packets\""), "{html}");
    assert!(
        !html.contains("aria-label=\"what failed\""),
        "no zero cards"
    );
    // A capture cut mid-record is read with a warning.
    let cut = upload(&s, "/api/captures", "broken/cut-mid-record.pcap");
    // Garbage fails.
    let r = s.post_files("/api/captures", &[("garbage.bin", &[7u8; 4096])]);
    let failed = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.wait(&failed)["status"], "failed");

    let home = page(&s, "/");
    let row = |id: &str| {
        home.split("<tr>")
            .find(|r| r.contains(&format!("/c/{id}\"")))
            .unwrap_or_else(|| panic!("no row for {id}"))
            .to_string()
    };
    assert!(row(&empty).contains("no packets"), "{}", row(&empty));
    assert!(row(&cut).contains("1 warning"), "{}", row(&cut));
    let failed_row = row(&failed);
    assert!(failed_row.contains("row-error"), "{failed_row}");
    // Dismissing the failed upload removes it (the form carries its CSRF token).
    let action = failed_row
        .split("class=\"dismiss\"")
        .next()
        .and_then(|before| before.rsplit("action=\"").next())
        .and_then(|rest| rest.split('"').next())
        .expect("a dismiss form")
        .replace("&amp;", "&");
    assert!(
        action.starts_with(&format!("/c/{failed}/delete")),
        "{action}"
    );
    let r = s.post_raw(&action, b"");
    assert!(
        r.status == 303 || r.status == 200,
        "{}: {}",
        r.status,
        r.text()
    );
    assert_eq!(s.get(&format!("/api/captures/{failed}")).status, 404);
    assert!(!page(&s, "/").contains(&failed));
}

#[test]
fn strace_files_are_grouped_and_written_files_are_not_config() {
    let dir = fresh_dir("firsthour-files");
    let s = Server::start(&dir, &[]);
    let log = "100  10:00:00.000001 openat(AT_FDCWD, \"/etc/app/app.conf\", O_RDONLY) = 3 <0.000010>\n\
               100  10:00:00.000100 openat(AT_FDCWD, \"/srv/out/report.json\", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 4 <0.000010>\n\
               100  10:00:00.000200 read(3, \"x\"..., 208486) = 208486 <0.000020>\n\
               100  10:00:00.000300 openat(AT_FDCWD, \"/srv/out/report.json\", O_RDONLY) = 5 <0.000010>\n\
               100  10:00:00.000400 exit_group(0) = ?\n\
               100  10:00:00.000500 +++ exited with 0 +++\n";
    let r = s.post_files("/api/straces", &[("run.txt", log.as_bytes())]);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(
        s.wait_finished(&format!("/api/straces/{id}"))["status"],
        "done"
    );
    let html = page(&s, &format!("/s/{id}/files"));
    let report: Vec<&str> = html
        .split("<tr")
        .filter(|r| r.contains("<code>/srv/out/report.json</code>"))
        .collect();
    assert_eq!(report.len(), 1, "one row per path: {html}");
    for badge in ["read", "write", "create"] {
        assert!(
            report[0].contains(&format!("st-access {badge}")),
            "{}",
            report[0]
        );
    }
    assert!(
        !report[0].contains("config"),
        "a written file is not config"
    );
    // The JSON twin groups the same way, and keeps the accesses one by
    // one under its old keys.
    let twin = s.get(&format!("/api/straces/{id}/files")).json();
    let paths = twin["paths"]["items"].as_array().expect("paths");
    let report: Vec<_> = paths
        .iter()
        .filter(|p| p["path"] == "/srv/out/report.json")
        .collect();
    assert_eq!(report.len(), 1, "{twin}");
    assert_eq!(report[0]["access"], "read, write, create", "{twin}");
    assert_eq!(report[0]["accesses"], 2);
    assert_eq!(report[0]["config"], false);
    assert_eq!(twin["paths"]["total"], 2, "{twin}");
    let flat = twin["items"].as_array().expect("items");
    assert_eq!(
        flat.iter()
            .filter(|v| v["path"] == "/srv/out/report.json")
            .count(),
        2,
        "{twin}"
    );
    assert_eq!(twin["total"], 3);
    let config = page(&s, &format!("/s/{id}/files?config=1"));
    assert!(config.contains("/etc/app/app.conf"));
    assert!(
        !config.contains("<code>/srv/out/report.json</code>"),
        "{config}"
    );
    // The read's size in binary units, exact on hover.
    let calls = page(&s, &format!("/s/{id}/syscalls"));
    assert!(
        calls.contains("title=\"208486 bytes\">203.6 KiB"),
        "{calls}"
    );
    // exit_group never returns: counted as one call, not "0 +1".
    let summary = page(&s, &format!("/s/{id}"));
    let row = summary
        .split("<tr>")
        .find(|r| r.contains(">exit_group<"))
        .expect("an exit_group row");
    assert!(row.contains("st-unreturned"), "{row}");
    assert!(!row.contains("+1"), "{row}");
}

/// Each histogram bar of the overview, as (its link, the count it shows).
fn histogram_bars(html: &str) -> Vec<(String, u64)> {
    chart(html, "histogram")
        .split("<a href=\"")
        .skip(1)
        .map(|bar| {
            let href = bar.split('"').next().unwrap().replace("&amp;", "&");
            let count = bar
                .split("<title>")
                .nth(1)
                .and_then(|t| t.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("a bar without its count: {bar}"));
            (href, count)
        })
        .collect()
}

#[test]
fn a_histogram_bar_opens_exactly_the_exchanges_it_counts() {
    let dir = fresh_dir("firsthour-bars");
    let s = Server::start(&dir, &[]);
    for file in [
        "api/http-loopback.pcap",
        "flask-slow.pcap",
        "keepalive-mixed.pcap",
    ] {
        let id = upload(&s, "/api/captures", file);
        let bars = histogram_bars(&page(&s, &format!("/c/{id}")));
        assert!(bars.len() > 1, "{file}: {bars:?}");
        let mut shown = 0;
        for (href, count) in &bars {
            assert!(href.contains("max_total_time="), "{file}: {href}");
            let api = href.replacen(
                &format!("/c/{id}/http"),
                &format!("/api/captures/{id}/http"),
                1,
            );
            let listed = s.get(&api).json();
            assert_eq!(
                listed["total"].as_u64(),
                Some(*count),
                "{file}: {api}: {listed}"
            );
            // The page the bar opens lists the same rows, and its filter box
            // shows the range it came from.
            let html = page(&s, href);
            let table = html
                .split("id=\"exchanges\"")
                .nth(1)
                .and_then(|t| t.split("</table>").next())
                .unwrap_or_else(|| panic!("{file}: no exchange table at {href}"));
            assert_eq!(
                table.matches("<tr class=").count() as u64,
                *count,
                "{file}: {href}"
            );
            assert!(html.contains("name=\"max_total_time\" value=\""), "{file}");
            shown += count;
        }
        let all = s.get(&format!("/api/captures/{id}/http")).json();
        let timed = all["items"]
            .as_array()
            .map(|rows| rows.iter().filter(|r| !r["total_time"].is_null()).count())
            .unwrap_or(0) as u64;
        assert_eq!(shown, timed, "{file}: the bars hold every timed exchange");
    }
}

#[test]
fn a_capture_sent_as_an_strace_log_is_refused_with_where_it_belongs() {
    let dir = fresh_dir("firsthour-strace-capture");
    let s = Server::start(&dir, &[]);
    for (file, what) in [
        ("api/http-loopback.pcap", "this is a pcap packet capture"),
        (
            "api/http-loopback.pcap.gz",
            "this is a gzip-compressed pcap packet capture",
        ),
        ("dumpcap.pcapng", "this is a pcapng packet capture"),
    ] {
        let bytes = std::fs::read(sample(file)).unwrap();
        // Named like a log: the server looks at the bytes, not the name.
        for path in ["/api/straces", "/straces"] {
            let r = s.post_files(path, &[("strace.txt", &bytes)]);
            assert_eq!(r.status, 400, "{file} to {path}: {}", r.text());
            let text = r.text();
            assert!(text.contains(what), "{file} to {path}: {text}");
            assert!(text.contains("captures page"), "{text}");
            assert!(text.len() < 4096, "no binary echoed back: {text}");
        }
        // The raw-body form of the API too.
        let r = s.post_raw("/api/straces?name=log.txt", &bytes);
        assert_eq!(r.status, 400, "{file} raw: {}", r.text());
        assert!(r.text().contains(what), "{}", r.text());
    }
    // A log and a capture in one upload: the whole upload is refused.
    let capture = std::fs::read(sample("api/http-loopback.pcap")).unwrap();
    let log = b"100  10:00:00.000001 getpid() = 100 <0.000001>\n";
    let r = s.post_files(
        "/api/straces",
        &[("run.txt", &log[..]), ("out.pcap", &capture)],
    );
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(
        r.text().contains("out.pcap: this is a pcap"),
        "{}",
        r.text()
    );
    let r = s.post_files("/api/straces", &[("empty.txt", b"")]);
    assert_eq!(r.status, 400);
    assert!(r.text().contains("the file is empty"), "{}", r.text());
    let listed = s.get("/api/straces").json();
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(0),
        "nothing refused was stored: {listed}"
    );
}

/// tshark's calculated window and scale factor of every TCP frame of
/// `path`, by frame number (1-based); the factor is empty on SYNs.
fn tshark_windows(path: &Path) -> std::collections::HashMap<u64, (u64, String)> {
    let fields = [
        "frame.number",
        "tcp.window_size",
        "tcp.window_size_scalefactor",
    ];
    need::tshark_fields(path, "tcp", &fields)
        .into_iter()
        .map(|f| {
            let factor = f.get(2).cloned().unwrap_or_default();
            (f[0].parse().unwrap(), (f[1].parse().unwrap(), factor))
        })
        .collect()
}

#[test]
#[ignore = "needs tshark"]
fn windows_are_scaled_as_wireshark_calculates_them() {
    let dir = fresh_dir("firsthour-windows");
    let s = Server::start(&dir, &[]);
    // The handshake cut off (the scale unknown: -1), and only the SYN-ACK
    // cut off (the client's offer scales its own segments, the server's
    // is unknown), beside whole handshakes with and without scaling.
    let slow = sample("flask-slow.pcap");
    let cut = |name: &str, frames: &str| {
        let out = dir.join(name);
        let done = need::tool("editcap")
            .arg(&slow)
            .arg(&out)
            .arg(frames)
            .status()
            .unwrap();
        assert!(done.success());
        out
    };
    let captures = [
        slow.clone(),
        sample("keepalive-mixed.pcap"),
        sample("tcpedge/tcpedge-connect.pcap"),
        cut("no-handshake.pcap", "1-2"),
        cut("no-syn-ack.pcap", "2"),
    ];
    let mut factors = std::collections::BTreeSet::new();
    for path in &captures {
        let truth = tshark_windows(path);
        let id = upload_path(&s, "/api/captures", path);
        let convs = s
            .get(&format!("/api/captures/{id}/conversations?limit=1000"))
            .json();
        let mut compared = 0;
        for c in convs["items"].as_array().unwrap() {
            let n = c["id"].as_u64().unwrap();
            let packets = s
                .get(&format!(
                    "/api/captures/{id}/conversations/{n}/packets?limit=1000"
                ))
                .json();
            for p in packets["items"].as_array().unwrap() {
                let frame = p["frame"].as_u64().unwrap() + 1;
                let Some((size, factor)) = truth.get(&frame) else {
                    continue;
                };
                assert_eq!(
                    p["window_size"].as_u64(),
                    Some(*size),
                    "{}: frame {frame}: {p}",
                    path.display()
                );
                if !factor.is_empty() {
                    assert_eq!(
                        p["window_scale"].to_string(),
                        *factor,
                        "{}: frame {frame}",
                        path.display()
                    );
                    factors.insert(factor.clone());
                }
                compared += 1;
            }
        }
        assert_eq!(compared, truth.len(), "{}: every TCP frame", path.display());
    }
    for f in ["-1", "-2", "1024"] {
        assert!(
            factors.contains(f),
            "no frame with scale factor {f}: {factors:?}"
        );
    }
    // The conversation page: the calculated window in the list, the
    // scale in words, and the handshake's window on the ladder.
    let id = upload_path(&s, "/api/captures", &slow);
    let html = page(&s, &format!("/c/{id}/conversations/1"));
    assert!(
        html.contains("title=\"window field 64 × scale 1024\">65536<"),
        "{html}"
    );
    assert!(html.contains("client ×1024 · server ×1024"), "{html}");
    assert!(chart(&html, "ladder").contains("SYN · win 65495 · WS ×1024"));
    // The connection whose handshake was cut: the one without a SYN.
    let id = upload_path(&s, "/api/captures", &dir.join("no-handshake.pcap"));
    let convs = s.get(&format!("/api/captures/{id}/conversations")).json();
    let cut = convs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["roles_from_handshake"] == false)
        .unwrap_or_else(|| panic!("a conversation without its handshake: {convs}"));
    let html = page(&s, &format!("/c/{id}/conversations/{}", cut["id"]));
    assert!(html.contains("handshake was not captured"), "{html}");
}
