//! The view state sticks (issue 18): a `?filter=` applied on one page is
//! kept by the tabs, the JSON twins and the overview, and a filter that
//! matches nothing says what the capture has instead. Plain GETs of the
//! pages against a real `tracedeck serve`.

use std::path::Path;
use std::time::Duration;

use crate::support::serve::{fresh_dir, Reply, Server};
use crate::support::wait::wait_until;
use crate::support::webdriver::Browser;

/// A served capture, analyzed, and its analyses with the filters these
/// tests use computed (a GET shows them, only a POST starts them):
/// (server, capture id).
fn served(name: &str) -> (Server, String) {
    let dir = fresh_dir(&format!("sticky-{name}"));
    let s = Server::start(&dir, &[]);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/api/http-loopback.pcap");
    let bytes = std::fs::read(file).unwrap();
    let r = s.post_files("/api/captures", &[("http-loopback.pcap", &bytes)]);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.wait(&id)["status"], "done");
    for filter in ["tcp", "port 1"] {
        let body = serde_json::json!({ "filter": filter });
        let r = s.post_json(&format!("/api/captures/{id}/analyses"), &body);
        assert!(r.status == 202 || r.status == 200, "{}", r.text());
        let location = r.header("location").unwrap().to_string();
        assert_eq!(s.wait_finished(&location)["status"], "done");
    }
    (s, id)
}

/// The page at `path` once its filtered analysis is no longer running.
fn settled(s: &Server, path: &str) -> Reply {
    let mut page = s.get(path);
    wait_until(
        &format!("{path} to show its filtered analysis"),
        Duration::from_secs(60),
        || {
            page = s.get(path);
            !page.text().contains("id=\"filter-pending\"")
        },
    );
    assert_eq!(page.status, 200, "{path}: {}", page.text());
    page
}

/// Every `href="…"` of a page.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| h.replace("&amp;", "&").replace("&#38;", "&"))
        .collect()
}

#[test]
fn the_filter_sticks_to_every_tab_and_json_link() {
    let (s, id) = served("tabs");
    for path in [
        format!("/c/{id}?filter=tcp"),
        format!("/c/{id}/conversations?filter=tcp"),
        format!("/c/{id}/http?filter=tcp&status=4xx"),
        format!("/c/{id}/conversations/0?filter=tcp"),
    ] {
        let page = settled(&s, &path);
        let html = page.text();
        let hrefs = links(&html);
        for tab in ["", "/conversations", "/http"] {
            let want = format!("/c/{id}{tab}?filter=tcp");
            assert!(hrefs.contains(&want), "{path}: no tab link {want}");
        }
        let json: Vec<&String> = hrefs.iter().filter(|h| h.starts_with("/api/")).collect();
        assert!(!json.is_empty(), "{path}: no JSON link");
        for h in json {
            assert!(h.contains("filter=tcp"), "{path}: {h} drops the filter");
        }
        if !path.contains("/conversations/") {
            assert!(html.contains("value=\"tcp\""), "{path}: no filter box");
        }
    }
    // The HTTP page's JSON twin answers what the page shows.
    let page = settled(&s, &format!("/c/{id}/http?filter=tcp&status=4xx"));
    let json = links(&page.text())
        .into_iter()
        .find(|h| h.starts_with("/api/captures/"))
        .unwrap();
    assert_eq!(s.get(&json).json()["total"], 2, "{json}");
    // The overview's JSON twin takes the filter too.
    let st = s.get(&format!("/api/captures/{id}?filter=tcp"));
    assert_eq!(st.status, 200, "{}", st.text());
    assert_eq!(st.json()["summary"]["capture"]["matched"], 61);
}

#[test]
fn a_filter_that_matches_nothing_suggests_what_there_is() {
    let (s, id) = served("nothing");
    for path in [
        format!("/c/{id}?filter=port+1"),
        format!("/c/{id}/http?filter=port+1"),
        format!("/c/{id}/conversations?filter=port+1"),
    ] {
        let html = settled(&s, &path).text();
        assert!(html.contains("id=\"filter-nothing\""), "{path}");
        assert!(html.contains("host 127.0.0.1"), "{path}");
        assert!(!html.contains("No exchange matches"), "{path}");
        assert!(
            !html.contains("0 of 0"),
            "{path}: an empty table under the hint"
        );
    }
    // A filter that does not parse is fixed where it is shown, not carried on.
    let html = s.get(&format!("/c/{id}/conversations?filter=port")).text();
    assert!(html.contains("id=\"filter-error\""));
    assert!(links(&html).contains(&format!("/c/{id}/http")));
}

#[test]
fn pages_have_an_icon_and_links_without_empty_parameters() {
    let (s, id) = served("small");
    let icon = s.get("/static/favicon.svg");
    assert_eq!(icon.status, 200);
    assert_eq!(icon.header("content-type"), Some("image/svg+xml"));
    for path in [
        "/".to_string(),
        format!("/c/{id}"),
        format!("/c/{id}/conversations?sort=bytes"),
        format!("/c/{id}/http?status=4xx&method=&host=&path="),
        format!("/c/{id}/conversations/1"),
    ] {
        let page = settled(&s, &path);
        let html = page.text();
        assert!(html.contains("href=\"/static/favicon.svg\""), "{path}");
        for h in links(&html) {
            let query = h.split_once('?').map_or("", |(_, q)| q);
            let query = query.split('#').next().unwrap_or("");
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                assert!(!pair.ends_with('='), "{path}: {h} has an empty {pair}");
            }
        }
    }
}

#[test]
fn a_conversation_pcap_is_named_after_its_capture() {
    let (s, id) = served("pcap");
    let r = s.get(&format!("/api/captures/{id}/conversations/2/pcap"));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"http-loopback-conversation-2.pcap\"")
    );
}

#[test]
#[ignore = "needs chromium"]
fn in_a_browser_the_filter_follows_the_tabs_and_forms_send_no_empty_fields() {
    let (s, id) = served("browser");
    let b = Browser::start();
    let shots = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    b.goto(&s.url(&format!("/c/{id}/http")));
    b.find("#f-filter").send_keys("tcp");
    b.find("#f-status").send_keys("4xx");
    b.find("#apply").click();
    b.wait_until("the filtered HTTP page", Duration::from_secs(30), |b| {
        b.url().contains("filter=tcp") && b.wait_for("#exchanges", Duration::ZERO).is_some()
    });
    let url = b.url();
    for empty in [
        "method=",
        "host=",
        "path=",
        "min_total_time=",
        "max_total_time=",
    ] {
        assert!(!url.contains(empty), "{url}");
    }
    assert!(url.contains("status=4xx"), "{url}");
    b.find(".tabs a[href*='/conversations']").click();
    b.wait_until("the filtered conversations", Duration::from_secs(30), |b| {
        b.url().contains("/conversations?filter=tcp")
    });
    b.find(".tabs a:first-child").click();
    b.wait_until("the filtered overview", Duration::from_secs(30), |b| {
        b.wait_for(".stats", Duration::ZERO).is_some()
    });
    assert!(
        b.url().ends_with(&format!("/c/{id}?filter=tcp")),
        "{}",
        b.url()
    );
    assert_eq!(b.find("#f-filter").attr("value").as_deref(), Some("tcp"));
    for (w, h) in [(1440, 1000), (390, 900)] {
        b.window_size(w, h);
        b.screenshot_full(&shots.join(format!("sticky-overview-{w}.png")));
    }
}

#[test]
fn the_overview_leads_with_what_failed_and_who_waited() {
    let (s, id) = served("cards");
    let html = settled(&s, &format!("/c/{id}")).text();
    let hrefs = links(&html);
    for status in ["5xx", "4xx", "none"] {
        let want = format!("/c/{id}/http?status={status}");
        assert!(hrefs.contains(&want), "no card linking {want}");
    }
    let cards = html
        .split("aria-label=\"what failed\"")
        .nth(1)
        .and_then(|rest| rest.split("</section>").next())
        .unwrap_or_else(|| panic!("no failure cards"));
    assert!(cards.contains("<span class=\"v\">1</span><span class=\"k\">5xx responses"));
    assert!(cards.contains("<span class=\"v\">2</span><span class=\"k\">4xx responses"));
    assert!(cards.contains("<span class=\"v\">0</span><span class=\"k\">reset / refused"));
    assert!(html.contains("id=\"verdict-mix\""));
    // The counts behind them are in the stored summary (its JSON twin).
    let summary = &s.get(&format!("/api/captures/{id}")).json()["summary"];
    let waited: u64 = summary["http"]["by_wait"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n.as_u64().unwrap())
        .sum();
    assert_eq!(waited, 5);
    assert_eq!(summary["ends"]["closed"], 5, "{summary}");
}
