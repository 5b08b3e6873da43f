//! The WebDriver harness itself works here: a headless Chromium opens a
//! page, reads its text, clicks, and takes a screenshot.

use crate::support::webdriver::Browser;

#[test]
#[ignore = "needs chromium"]
fn chromium_opens_a_page_and_clicks() {
    let browser = Browser::start();
    browser.goto("data:text/html,<title>t</title><button id=b onclick=\"document.getElementById('o').textContent='clicked'\">go</button><p id=o>waiting</p>");
    assert_eq!(browser.title(), "t");
    assert_eq!(browser.find("#o").text(), "waiting");
    browser.find("#b").click();
    assert_eq!(browser.find("#o").text(), "clicked");
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("harness.png");
    browser.screenshot(&shot);
    let png = std::fs::read(&shot).unwrap();
    assert_eq!(&png[1..4], b"PNG");
}
