//! The strace pages in a real browser (headless Chromium over WebDriver):
//! upload through the form, wait for the parse, read the summary, filter
//! the syscall table, click the config-file chip, follow a pause to its
//! line, copy the share link, delete with confirmation. Screenshots land in
//! target/screenshots/strace_*.png.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::serve::{fresh_dir, Server};
use crate::support::webdriver::Browser;

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("sample-captures/strace")
        .join(name)
}

fn shot(browser: &Browser, name: &str) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    browser.screenshot(&dir.join(format!("strace_{name}.png")));
}

/// Uploads `files` through the form on /straces and waits for the summary.
fn upload_through_form(browser: &Browser, base: &str, files: &[PathBuf]) -> String {
    browser.goto(&format!("{base}/straces"));
    let paths: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    browser
        .find("input[type=file]")
        .send_keys(&paths.join("\n"));
    browser.find("form.st-upload button[type=submit]").click();
    browser.wait_until("the parsed summary", Duration::from_secs(30), |b| {
        b.wait_for(".st-cards", Duration::from_millis(200))
            .is_some()
    });
    let url = browser.url();
    let id = url.rsplit('/').next().unwrap().to_string();
    assert_eq!(id.len(), 32, "{url}");
    id
}

#[test]
#[ignore = "needs chromium"]
fn strace_pages_in_a_browser() {
    let dir = fresh_dir("strace-browser");
    let server = Server::start(&dir, &[]);
    let base = server.base.clone();
    let browser = Browser::start();

    // The list page, reached from the header link.
    browser.goto(&format!("{base}/"));
    browser.find("header a[href='/straces']").click();
    browser.find("form.st-upload");
    shot(&browser, "list_empty");

    // Upload app.txt: a program reading conf/app.xml and a child reading child.xml.
    let id = upload_through_form(&browser, &base, &[sample("app.txt")]);
    let text = browser.page_text();
    assert!(text.contains("161 system calls · 2 processes"), "{text}");
    // The strace -c table with meanings: openat 34 calls, 13 errors (app.c.txt).
    let openat = browser.find("table.st-summary a.st-name[title]");
    assert!(!openat.attr("title").unwrap_or_default().is_empty());
    let row = browser
        .find_all("table.st-summary tbody tr")
        .into_iter()
        .find(|r| r.text().contains(" openat "))
        .expect("an openat row");
    assert!(row.text().contains("34 13 openat"), "{}", row.text());
    shot(&browser, "summary");

    // Syscalls: filter by name and failed only, through the form.
    browser.find("nav.st-tabs a[href$='/syscalls']").click();
    browser.find("input[name=syscall]").send_keys("openat");
    browser.find("input[name=failed]").click();
    browser.find("form.st-filter button[type=submit]").click();
    browser.wait_until("the filtered table", Duration::from_secs(10), |b| {
        b.url().contains("syscall=openat") && b.url().contains("failed=1")
    });
    assert_eq!(browser.find("#count").text(), "Calls 1–13 of 13");
    let names: Vec<String> = browser
        .find_all("table.st-calls tbody a.st-name")
        .iter()
        .map(|e| e.text())
        .collect();
    assert_eq!(names.len(), 13);
    assert!(names.iter().all(|n| n == "openat"), "{names:?}");
    let errnos = browser.find_all("table.st-calls tbody .st-errno");
    assert_eq!(errnos.len(), 13);
    assert!(errnos[0].attr("title").unwrap().contains("does not exist"));
    assert_eq!(
        browser.url(),
        format!("{base}/s/{id}/syscalls?syscall=openat&failed=1"),
        "empty form fields are dropped from the address"
    );
    // The header's copy button copies exactly this address.
    browser.find("#copy-link").click();
    browser.wait_until("the copied link", Duration::from_secs(3), |b| {
        b.find("#copy-link").attr("data-copied").as_deref() == Some(b.url().as_str())
    });
    shot(&browser, "syscalls_failed_openat");

    // Files: the configuration chip shows app.xml (and the child's child.xml).
    browser.find("nav.st-tabs a[href$='/files']").click();
    let chip = browser
        .find_all(".st-chip")
        .into_iter()
        .find(|c| c.text() == "configuration files")
        .expect("the config chip");
    chip.click();
    browser.wait_until("the config filter", Duration::from_secs(10), |b| {
        b.url().contains("config=1")
    });
    let paths: Vec<String> = browser
        .find_all("table.st-files td.st-path code")
        .iter()
        .map(|e| e.text())
        .collect();
    assert_eq!(paths.len(), 3, "{paths:?}");
    assert!(paths[0].ends_with("/conf/app.xml"), "{paths:?}");
    assert_eq!(paths[1], "conf/local.xml", "the probe that failed");
    assert!(browser.page_text().contains("ENOENT"));
    shot(&browser, "files_config");

    // Processes: the tree, exit codes and the lifetime chart.
    browser.find("nav.st-tabs a[href$='/processes']").click();
    let tree = browser.find("table.st-tree").text();
    assert!(tree.contains("4897") && tree.contains("4898"), "{tree}");
    assert!(tree.contains("exit 0"));
    assert!(browser.find_all("svg.st-chart rect").len() >= 2);
    shot(&browser, "processes");
    browser
        .find("table.st-tree a[href*='timeline?pid=4898']")
        .click();
    browser.find("svg.st-chart rect.call");
    shot(&browser, "timeline");

    // Pauses: the first one links to its line in the syscall table.
    browser.find("nav.st-tabs a[href$='/pauses']").click();
    let first = browser.find("table.st-pauses tbody tr");
    let first_text = first.text();
    let goto = browser.find("table.st-pauses a.st-goto");
    let line = goto.text().trim_end_matches(" →").to_string();
    shot(&browser, "pauses");
    goto.click();
    browser.wait_until("the focused line", Duration::from_secs(10), |b| {
        b.url().contains("at=")
    });
    let focus = browser.find("table.st-calls tr.focus");
    let focus_text = focus.text();
    assert!(focus_text.starts_with(&line), "{focus_text} / line {line}");
    let syscall = focus
        .text()
        .split_whitespace()
        .nth(3)
        .unwrap_or("")
        .to_string();
    assert!(first_text.contains(&syscall), "{first_text} / {focus_text}");
    shot(&browser, "pause_line");

    // The -ff files of one run, chosen together in the file input.
    let ff: Vec<PathBuf> = ["out.4990", "out.4991", "out.5082"]
        .iter()
        .map(|f| sample(&format!("curl_ff/{f}")))
        .collect();
    let ff_id = upload_through_form(&browser, &base, &ff);
    assert!(browser.page_text().contains("3 processes"));
    browser.goto(&format!("{base}/s/{ff_id}/pauses"));
    // The shell's wait4 is attributed to what it waited for (issue 18):
    // curl's poll ranks first, the wait4 right after it names the child.
    let rows = browser.find_all("table.st-pauses tbody tr");
    let (top, next) = (rows[0].text(), rows[1].text());
    assert!(top.contains("poll") && top.contains("4991"), "{top}");
    assert!(
        next.contains("wait4") && next.contains("4990") && next.contains("waiting for child 4991"),
        "{next}"
    );
    shot(&browser, "ff_pauses");
    browser.goto(&format!("{base}/s/{ff_id}/processes"));
    shot(&browser, "ff_processes");
    browser.goto(&format!("{base}/s/{ff_id}/timeline?pid=4990"));
    shot(&browser, "ff_timeline");

    // A log captured without options: the page says how to capture better.
    let plain_id = upload_through_form(&browser, &base, &[sample("plain.txt")]);
    let hints = browser.find("#hints").text();
    assert!(
        hints.contains("strace -f -tt -T -y -o out.txt PROG"),
        "{hints}"
    );
    assert!(browser.find_all(".st-hint").len() >= 3);
    shot(&browser, "plain_hints");
    browser.goto(&format!("{base}/s/{plain_id}/processes"));
    assert!(browser.find("table.st-tree").text().contains("not traced"));

    // A file that is not strace: the page says why, naming the line.
    let garbage = dir.join("notes.txt");
    std::fs::write(&garbage, "hello\nnot strace at all\n").unwrap();
    browser.goto(&format!("{base}/straces"));
    browser
        .find("input[type=file]")
        .send_keys(&garbage.display().to_string());
    browser.find("form.st-upload button[type=submit]").click();
    browser.wait_until("the failure", Duration::from_secs(30), |b| {
        b.wait_for("#failure", Duration::from_millis(200)).is_some()
    });
    assert!(browser
        .find("#failure")
        .text()
        .starts_with("notes.txt:1: not an strace log"));
    shot(&browser, "failed");

    // Delete, with confirmation.
    browser.goto(&format!("{base}/s/{id}"));
    browser.find("a.st-danger").click();
    shot(&browser, "delete_confirm");
    browser.find("#confirm-delete").click();
    browser.wait_until("the list", Duration::from_secs(10), |b| {
        b.url().ends_with("/straces")
    });
    shot(&browser, "list");
    assert!(!browser.page_text().contains("app.txt"));
    assert_eq!(server.get(&format!("/api/straces/{id}")).status, 404);
}
