//! A small W3C WebDriver client for browser tests: starts Debian's
//! `chromedriver` with a headless `chromium`, and drives it the way a
//! person uses a page (navigate, click, type, pick a file, read text, take
//! a screenshot). Blocking, over plain HTTP to 127.0.0.1.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A running chromedriver with one browser session.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    agent: ureq::Agent,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a fresh headless Chromium profile; fails
    /// when either is not installed.
    pub fn start() -> Browser {
        let (chromium, chromedriver) = super::need::chromium();
        let port = free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let base = format!("http://127.0.0.1:{port}");
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let deadline = Instant::now() + Duration::from_secs(20);
        while agent.get(format!("{base}/status")).call().is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = std::env::temp_dir().join(format!("tracedeck-chromium-{port}"));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.display())]
            }
        }}});
        let mut browser = Browser {
            driver,
            base,
            session: String::new(),
            agent,
        };
        let v = browser.send("POST", "/session", Some(caps));
        browser.session = v["sessionId"].as_str().expect("session id").to_string();
        browser
    }

    fn send(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = if path == "/session" {
            format!("{}{path}", self.base)
        } else {
            format!("{}/session/{}{path}", self.base, self.session)
        };
        let resp = match (method, body) {
            ("GET", _) => self.agent.get(&url).call(),
            ("DELETE", _) => self.agent.delete(&url).call(),
            (_, Some(b)) => self.agent.post(&url).send_json(&b),
            (_, None) => self.agent.post(&url).send_json(json!({})),
        };
        let mut resp = resp.unwrap_or_else(|e| panic!("webdriver {method} {path}: {e}"));
        let v: Value = resp.body_mut().read_json().expect("webdriver JSON");
        if let Some(err) = v["value"].get("error") {
            panic!(
                "webdriver {method} {path}: {err}: {}",
                v["value"]["message"]
            );
        }
        v["value"].clone()
    }

    fn try_send(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let resp = match method {
            "GET" => self.agent.get(&url).call(),
            _ => self.agent.post(&url).send_json(body.unwrap_or(json!({}))),
        };
        let mut resp = resp.map_err(|e| e.to_string())?;
        let v: Value = resp.body_mut().read_json().map_err(|e| e.to_string())?;
        match v["value"].get("error") {
            Some(err) => Err(format!("{err}: {}", v["value"]["message"])),
            None => Ok(v["value"].clone()),
        }
    }

    pub fn goto(&self, url: &str) {
        self.send("POST", "/url", Some(json!({ "url": url })));
    }

    pub fn url(&self) -> String {
        self.send("GET", "/url", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn title(&self) -> String {
        self.send("GET", "/title", None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Finds an element by CSS selector, waiting up to 10 s for it.
    pub fn find(&self, css: &str) -> Element<'_> {
        self.wait_for(css, Duration::from_secs(10))
            .unwrap_or_else(|| panic!("no element matches {css:?} on {}", self.url()))
    }

    /// Waits until an element matches `css`.
    pub fn wait_for(&self, css: &str, within: Duration) -> Option<Element<'_>> {
        let deadline = Instant::now() + within;
        loop {
            let found = self.try_send(
                "POST",
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            );
            if let Ok(v) = found {
                if let Some(id) = v[ELEMENT_KEY].as_str() {
                    return Some(Element {
                        browser: self,
                        id: id.to_string(),
                    });
                }
            }
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn find_all(&self, css: &str) -> Vec<Element<'_>> {
        let v = self.send(
            "POST",
            "/elements",
            Some(json!({"using": "css selector", "value": css})),
        );
        v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e[ELEMENT_KEY].as_str())
                    .map(|id| Element {
                        browser: self,
                        id: id.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Waits until `check` is true (polling), or panics with `what`.
    pub fn wait_until(
        &self,
        what: &str,
        within: Duration,
        mut check: impl FnMut(&Browser) -> bool,
    ) {
        let deadline = Instant::now() + within;
        while !check(self) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what} on {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(150));
        }
    }

    pub fn script(&self, js: &str) -> Value {
        self.send(
            "POST",
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
    }

    /// The visible text of the whole page.
    /// The page's rendered text, read in one call: finding `body` and then
    /// asking its text is two, and a page that navigates (a redirect, a
    /// refresh while an analysis runs) in between makes the element stale.
    pub fn page_text(&self) -> String {
        self.script("return document.body ? document.body.innerText : '';")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Resizes the window (CSS pixels), e.g. to a phone's width.
    pub fn window_size(&self, width: u32, height: u32) {
        self.send(
            "POST",
            "/window/rect",
            Some(json!({ "width": width, "height": height })),
        );
    }

    /// The text of an open alert/confirm/prompt dialog, if one is open.
    pub fn alert_text(&self) -> Option<String> {
        self.try_send("GET", "/alert/text", None)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
    }

    /// Saves a PNG screenshot of the whole page (Chromium's full-page
    /// capture through CDP), falling back to the viewport. As wide as the
    /// window: the capture lays the page out without the scrollbar, so a
    /// clip at the client width would cut off its right edge.
    pub fn screenshot_full(&self, path: &Path) {
        let size = self.script(
            "return [window.innerWidth, \
             Math.min(document.documentElement.scrollHeight, 6000)];",
        );
        let (w, h) = (
            size[0].as_f64().unwrap_or(1280.0),
            size[1].as_f64().unwrap_or(900.0),
        );
        let shot = self.try_send(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": "Page.captureScreenshot",
                        "params": {"captureBeyondViewport": true, "format": "png",
                                   "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}}})),
        );
        match shot
            .ok()
            .and_then(|v| v["data"].as_str().map(base64_decode))
        {
            Some(png) if png.len() > 8 => {
                if let Some(dir) = path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                std::fs::write(path, png).expect("write screenshot");
            }
            _ => self.screenshot(path),
        }
    }

    /// Saves a PNG screenshot of the viewport.
    pub fn screenshot(&self, path: &Path) {
        let v = self.send("GET", "/screenshot", None);
        let png = base64_decode(v.as_str().unwrap_or_default());
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        std::fs::write(path, png).expect("write screenshot");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = self.try_send("DELETE", "", None);
            let url = format!("{}/session/{}", self.base, self.session);
            let _ = self.agent.delete(&url).call();
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// An element of the current page.
pub struct Element<'b> {
    browser: &'b Browser,
    id: String,
}

impl Element<'_> {
    pub fn click(&self) {
        self.browser
            .send("POST", &format!("/element/{}/click", self.id), None);
    }

    /// Types into an input; for `<input type=file>` give the file's path.
    pub fn send_keys(&self, text: &str) {
        self.browser.send(
            "POST",
            &format!("/element/{}/value", self.id),
            Some(json!({ "text": text })),
        );
    }

    pub fn clear(&self) {
        self.browser
            .send("POST", &format!("/element/{}/clear", self.id), None);
    }

    pub fn text(&self) -> String {
        self.browser
            .send("GET", &format!("/element/{}/text", self.id), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    pub fn attr(&self, name: &str) -> Option<String> {
        self.browser
            .send(
                "GET",
                &format!("/element/{}/attribute/{name}", self.id),
                None,
            )
            .as_str()
            .map(String::from)
    }
}

/// Standard base64 (the screenshot encoding), without a crate for it.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc = 0u32;
    let mut bits = 0;
    for c in s.bytes().filter_map(val) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}
