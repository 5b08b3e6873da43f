//! The view state sticks (issue 18): a `?filter=` applied on one page is
//! kept by the tabs, the JSON twins and the overview, and a filter that
//! matches nothing says what the capture has instead. Plain GETs of the
//! pages against a real `tracedeck serve`.

use std::path::Path;
use std::time::Duration;

use crate::support::serve::{fresh_dir, Reply, Server};
use crate::support::wait::wait_until;

/// A served capture, analyzed: (server, capture id).
fn served(name: &str) -> (Server, String) {
    let dir = fresh_dir(&format!("sticky-{name}"));
    let s = Server::start(&dir, &[]);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/api/http-loopback.pcap");
    let bytes = std::fs::read(file).unwrap();
    let r = s.post_files("/api/captures", &[("http-loopback.pcap", &bytes)]);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.wait(&id)["status"], "done");
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
    }
}
