//! The comparison in a real headless Chromium, as a person gets to it:
//! upload the baseline and the incident of sample-captures/diff from the
//! home page, pick them under the capture list and compare, sort the
//! endpoints by name and back by "most changed", open the top endpoint's
//! exchanges, and open the page's link in a fresh browser (no accounts:
//! a loopback server). Screenshots at 1440 and 390 px go to
//! target/screenshots/.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::serve::{fresh_dir, Server};
use crate::support::shared::samples;
use crate::support::webdriver::Browser;

fn shots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

fn texts(b: &Browser, css: &str) -> Vec<String> {
    b.find_all(css).iter().map(|e| e.text()).collect()
}

/// Clicks the endpoint sort link `label`.
fn sort_by(b: &Browser, label: &str) {
    b.find_all(".sorts a")
        .into_iter()
        .find(|a| a.text() == label)
        .unwrap_or_else(|| panic!("no sort link {label:?}"))
        .click();
}

/// Uploads `name` through the home page's file input; its capture page's URL.
fn upload(b: &Browser, server: &Server, name: &str) -> String {
    b.goto(&server.url("/"));
    let pcap = samples().join("diff").join(name);
    b.find("#file").send_keys(pcap.to_str().unwrap());
    b.wait_until("the capture page", Duration::from_secs(60), |b| {
        b.url().contains("/c/") && b.wait_for(".stats", Duration::ZERO).is_some()
    });
    b.url()
}

#[test]
#[ignore = "needs chromium"]
fn compare_from_the_home_page_sort_open_and_share() {
    let server = Server::start(&fresh_dir("diff-browser"), &[]);
    let b = Browser::start();
    let shots = shots();
    let base = upload(&b, &server, "baseline.pcap");
    let incident = upload(&b, &server, "incident.pcap");
    let id = |url: &str| url.rsplit("/c/").next().unwrap().to_string();
    let (base, incident) = (id(&base), id(&incident));

    // The home page offers the newest as the incident, the one before as
    // the baseline.
    b.goto(&server.url("/"));
    b.window_size(390, 900);
    b.screenshot_full(&shots.join("diff-home-390.png"));
    b.window_size(1440, 900);
    let chosen = |select: &str| {
        b.script(&format!(
            "return document.getElementById('{select}').value;"
        ))
    };
    assert_eq!(chosen("compare-base"), base.as_str());
    assert_eq!(chosen("compare-incident"), incident.as_str());
    b.find("#compare-pick button").click();
    b.wait_until("the compare page", Duration::from_secs(30), |b| {
        b.wait_for("#top-changes", Duration::ZERO).is_some()
    });
    assert!(
        b.url().contains(&format!("base={base}"))
            && b.url().contains(&format!("incident={incident}"))
    );
    let top = texts(&b, "#top-changes li");
    assert!(top[0].starts_with("GET /api/orders/{id}: p99 "), "{top:?}");
    assert!(top[0].ends_with(", 5xx 0% → 25%"), "{top:?}");

    // Sort by name, then back by most changed.
    let first = |b: &Browser| texts(b, "#endpoints-table tbody td.name")[0].clone();
    sort_by(&b, "name");
    b.wait_until("sorted by name", Duration::from_secs(10), |b| {
        b.url().contains("sort=name")
    });
    assert_eq!(
        texts(&b, "#endpoints-table tbody td.name"),
        [
            "GET /api/orders/{id}",
            "GET /api/users/{id}",
            "GET /health",
            "POST /api/checkout"
        ]
    );
    sort_by(&b, "most changed");
    b.wait_until("sorted by most changed", Duration::from_secs(10), |b| {
        !b.url().contains("sort=")
    });
    assert_eq!(first(&b), "GET /api/orders/{id}");
    assert_eq!(b.find(".sorts a.on").text(), "most changed");
    let share = b.url();
    b.screenshot_full(&shots.join("diff-compare-1440.png"));
    b.window_size(390, 900);
    b.screenshot_full(&shots.join("diff-compare-390.png"));
    // Readable at phone width: the page does not scroll sideways (the
    // tables do, inside their frame).
    let overflow = b.script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth;",
    );
    assert!(
        overflow.as_f64().unwrap_or(1.0) <= 0.0,
        "the page is wider than 390 px: {overflow}"
    );
    b.window_size(1440, 900);

    // The top endpoint's exchanges: the incident's HTTP view, five 503s among them.
    b.find("#endpoints-table tbody td.name a").click();
    b.wait_until("the HTTP view", Duration::from_secs(10), |b| {
        b.url().contains(&format!("/c/{incident}/http"))
            && b.wait_for("#exchanges", Duration::ZERO).is_some()
    });
    assert!(
        b.url().contains("method=GET") && b.url().contains("template=%2Fapi%2Forders%2F%7Bid%7D"),
        "{}",
        b.url()
    );
    let uris = texts(&b, "#exchanges td.uri");
    assert_eq!(uris.len(), 20, "{uris:?}");
    assert!(uris.iter().all(|u| u.contains("/api/orders/")), "{uris:?}");
    b.screenshot_full(&shots.join("diff-exchanges.png"));

    // The link in a fresh session: the same comparison.
    let fresh = Browser::start();
    fresh.goto(&share);
    assert_eq!(texts(&fresh, "#top-changes li"), top);
    assert_eq!(
        texts(&fresh, "#endpoints-table tbody td.name")[0],
        "GET /api/orders/{id}"
    );
}
