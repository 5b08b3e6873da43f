//! The pages in a real headless Chromium, used as a person would: the real
//! `tracedeck serve` binary on a free loopback port with its own data
//! directory; upload through the file input, wait for the analysis, sort,
//! filter, open a conversation, copy the link into a fresh browser, delete.
//!
//! Ignored unless asked for (`--include-ignored`), and failing when
//! chromium/chromedriver are not installed; CI installs Debian's `chromium`
//! and `chromium-driver`. Screenshots of every page go to
//! target/screenshots/.
//!
//! sample-captures/keepalive-mixed.pcap (see its .truth.json): one
//! keep-alive connection (GET / 200, GET /moved 301, GET /nope 404,
//! GET /error 500, POST /items 201, HEAD / 200, GET /cached 304,
//! GET /chunked 200; 327 ms), an HTTP/1.0 one (GET /http10; 0.7 ms) and one
//! the client resets mid-response (GET /big; 202 ms).

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::serve::{fresh_dir, Server};
use crate::support::webdriver::Browser;

fn shots() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots")
}

fn texts(b: &Browser, css: &str) -> Vec<String> {
    b.find_all(css).iter().map(|e| e.text()).collect()
}

/// Full-precision seconds from the `title` of duration cells ("0.327017000 s").
fn durations(b: &Browser) -> Vec<f64> {
    b.find_all("#conversations td.dur")
        .iter()
        .map(|e| {
            let t = e.attr("title").unwrap_or_default();
            t.trim_end_matches(" s")
                .parse::<f64>()
                .unwrap_or_else(|_| panic!("duration title {t:?}"))
        })
        .collect()
}

#[test]
#[ignore = "needs chromium"]
fn upload_sort_filter_follow_share_delete() {
    let data = fresh_dir("browser-flow");
    let server = Server::start(&data, &[]);
    let b = Browser::start();
    let shots = shots();

    // Home: nothing yet; upload through the file input, as a person would.
    b.goto(&server.url("/"));
    assert!(b.page_text().contains("No captures yet"));
    b.screenshot_full(&shots.join("home-empty.png"));
    let pcap = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/keepalive-mixed.pcap");
    b.find("#file").send_keys(pcap.to_str().unwrap());
    b.wait_until("the capture page", Duration::from_secs(60), |b| {
        b.url().contains("/c/") && b.wait_for(".stats", Duration::ZERO).is_some()
    });
    let overview = b.url();
    let id = overview.rsplit("/c/").next().unwrap().to_string();
    assert_eq!(id.len(), 32, "{overview}");
    // Each figure next to its label, the capture's duration in human units.
    let labels = texts(&b, ".stat .k");
    let stats = texts(&b, ".stat .v");
    assert_eq!(
        labels[..4],
        ["packets", "duration", "conversations", "HTTP exchanges"],
        "{labels:?}"
    );
    assert_eq!(stats[..4], ["73", "627 ms", "3", "10"], "{stats:?}");
    assert!(b.find("svg.histogram").attr("class").is_some());
    assert_eq!(
        b.find_all("svg.timeline:not(.phone) a").len(),
        3,
        "one bar per conversation"
    );
    // Slowest exchange first, one click away.
    assert!(texts(&b, ".slowest td.uri")[0].contains("GET /chunked"));
    b.screenshot_full(&shots.join("overview.png"));

    // Conversations: longest first by default; click "duration" to flip.
    b.find(".tabs a[href$='/conversations']").click();
    b.wait_until("the conversation table", Duration::from_secs(10), |b| {
        b.wait_for("#conversations", Duration::ZERO).is_some()
    });
    let d = durations(&b);
    assert_eq!(d, vec![0.327017, 0.201516, 0.000715]);
    b.find("th a[data-sort='duration']").click();
    b.wait_until("ascending order", Duration::from_secs(10), |b| {
        b.url().contains("order=asc")
    });
    assert_eq!(durations(&b), vec![0.000715, 0.201516, 0.327017]);
    assert!(b.url().contains("sort=duration"));
    b.find("th a[data-sort='duration']").click();
    b.wait_until("descending order", Duration::from_secs(10), |b| {
        b.url().contains("order=desc")
    });
    assert_eq!(durations(&b), vec![0.327017, 0.201516, 0.000715]);
    // Any column sorts: bytes, largest first.
    b.find("th a[data-sort='bytes']").click();
    b.wait_until("sorted by bytes", Duration::from_secs(10), |b| {
        b.url().contains("sort=bytes")
    });
    let ids = texts(&b, "#conversations tbody td:first-child");
    assert_eq!(ids.len(), 3);
    let states = texts(&b, "#conversations td .state");
    assert!(states.contains(&"reset".to_string()), "{states:?}");
    assert_eq!(b.find_all("#conversations tr.state-reset").len(), 1);
    b.screenshot_full(&shots.join("conversations.png"));

    // The pcap-filter box: only matching packets count, as with
    // `tracedeck analyze --filter "port 38606"` (12 packets: the HTTP/1.0
    // connection); the page offers to compute it (a GET never starts an
    // analysis), then shows progress, then the filtered table.
    b.find("#f-filter").send_keys("port 38606");
    b.find("#apply-filter").click();
    b.wait_until("the compute button", Duration::from_secs(10), |b| {
        b.wait_for("#compute-filter", Duration::ZERO).is_some()
    });
    b.find("#compute-filter").click();
    b.wait_until("the filtered table", Duration::from_secs(30), |b| {
        b.wait_for("#matched", Duration::ZERO).is_some()
    });
    assert!(b.url().contains("filter=port+38606"), "{}", b.url());
    assert_eq!(b.find("#matched").text(), "12 of 73 packets match");
    assert_eq!(texts(&b, "#conversations td.addr")[0], "127.0.0.1:38606");
    assert_eq!(b.find_all("#conversations tbody tr").len(), 1);
    b.screenshot_full(&shots.join("conversations-filtered.png"));
    b.find("#conversations tbody td a").click();
    b.wait_until("the filtered conversation", Duration::from_secs(10), |b| {
        b.wait_for("#filter-note", Duration::ZERO).is_some()
    });
    assert!(texts(&b, ".stream .chunk.c2s pre")
        .join("")
        .contains("GET /http10 HTTP/1.0"));
    assert_eq!(b.find_all(".list.packets tbody tr").len(), 12);
    // A filter that does not parse says where.
    b.goto(&server.url(&format!("/c/{id}/conversations?filter=port")));
    assert!(b.find("#filter-error").text().contains("at column 5"));

    // HTTP: type 404 in the status box.
    b.find(".tabs a[href$='/http']").click();
    let status_box = b.find("#f-status");
    status_box.send_keys("404");
    b.find("#apply").click();
    b.wait_until("the 404 filter", Duration::from_secs(10), |b| {
        b.url().contains("status=404")
    });
    assert_eq!(texts(&b, "#exchanges td.uri"), vec!["/nope"]);
    assert_eq!(texts(&b, "#exchanges td .status"), vec!["404"]);
    // One click on the 5xx chip.
    b.find(".chip[data-chip='5xx']").click();
    b.wait_until("the 5xx chip", Duration::from_secs(10), |b| {
        b.url().contains("status=5xx")
    });
    assert_eq!(texts(&b, "#exchanges td.uri"), vec!["/error"]);
    assert_eq!(texts(&b, "#exchanges td .status"), vec!["500"]);
    // A list and a range in the box, sorted by total time.
    let status_box = b.find("#f-status");
    status_box.clear();
    status_box.send_keys("404, 500-599, 301");
    b.find("#apply").click();
    b.wait_until("the list filter", Duration::from_secs(10), |b| {
        b.url().contains("301")
    });
    b.find("th a[data-sort='total']").click();
    b.wait_until("sorted by total time", Duration::from_secs(10), |b| {
        b.url().contains("sort=total_time")
    });
    let uris = texts(&b, "#exchanges td.uri");
    assert_eq!(uris, vec!["/nope", "/error", "/moved"], "slowest first");
    // A filter that does not parse says why, next to the box.
    b.screenshot_full(&shots.join("http.png"));

    // Copy the link and open it in a fresh browser: the same view.
    b.find("#copy-link").click();
    let copied = b.find("#copy-link").attr("data-copied").unwrap_or_default();
    assert_eq!(copied, b.url());
    {
        let fresh = Browser::start();
        fresh.goto(&copied);
        assert_eq!(texts(&fresh, "#exchanges td.uri"), uris);
        assert_eq!(
            fresh.find("#f-status").attr("value").as_deref(),
            Some("404, 500-599, 301")
        );
        assert!(fresh.find("th.sorted").text().contains("total"));
    }

    // Open the 404's conversation at that exchange.
    b.find("#exchanges td.uri a").click();
    b.wait_until("the conversation page", Duration::from_secs(10), |b| {
        b.url().contains("/conversations/0#x2")
    });
    let stream = texts(&b, ".stream .chunk.c2s pre").join("\n");
    assert!(stream.contains("GET /nope HTTP/1.1"), "{stream}");
    let stream_s2c = texts(&b, ".stream .chunk.s2c pre").join("\n");
    assert!(stream_s2c.contains("HTTP/1.1 404"), "{stream_s2c}");
    let target = b.find("#x2");
    assert!(target.text().contains("GET /nope HTTP/1.1"));
    assert!(target.text().contains("404"));
    assert!(
        b.find_all("svg.ladder a").len() >= 8,
        "one link per exchange"
    );
    let pkts = b.find_all(".list.packets tbody tr");
    assert!(pkts.len() > 20);
    assert_eq!(
        b.find_all(".list.packets tr.syn").len(),
        2,
        "SYN and SYN ACK"
    );
    let pcap_href = b.find("#download-pcap").attr("href").unwrap();
    assert!(pcap_href.ends_with("/conversations/0/pcap"));
    b.screenshot_full(&shots.join("conversation.png"));
    b.screenshot(&shots.join("conversation-top.png"));
    b.script("document.getElementById('stream').scrollIntoView()");
    b.screenshot(&shots.join("conversation-stream.png"));
    b.script("document.getElementById('packets').scrollIntoView()");
    b.screenshot(&shots.join("conversation-packets.png"));
    // Hex view.
    b.find("#view-hex").click();
    b.wait_until("the hex view", Duration::from_secs(10), |b| {
        b.url().contains("view=hex")
    });
    let hex = texts(&b, ".stream .chunk.c2s pre.hex").join("\n");
    assert!(
        hex.contains("00000000  47 45 54 20 2f"),
        "GET / in hex: {hex}"
    );
    b.screenshot(&shots.join("conversation-hex.png"));

    // Phone width.
    b.window_size(390, 844);
    b.goto(&overview);
    b.screenshot_full(&shots.join("overview-phone.png"));
    let wide = b.script(
        "const w = document.documentElement.clientWidth; \
         return [w, document.documentElement.scrollWidth, Array.from(document.querySelectorAll('body *')) \
           .filter(e => e.getBoundingClientRect().right > w + 1).slice(0, 8) \
           .map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))];",
    );
    assert_eq!(wide[0], wide[1], "the page is wider than a phone: {wide}");
    b.goto(&server.url(&format!("/c/{id}/http")));
    b.screenshot(&shots.join("http-phone.png"));
    b.window_size(1280, 900);

    // Home lists it with human units.
    b.goto(&server.url("/"));
    let row = b.find("table.captures tbody tr").text();
    assert!(row.contains("keepalive-mixed.pcap"), "{row}");
    assert!(
        row.contains("137 kB") && row.contains("627 ms") && row.contains("done"),
        "{row}"
    );
    b.screenshot_full(&shots.join("home.png"));

    // Delete from its page, with a confirmation.
    b.goto(&overview);
    b.find("#delete").click();
    b.wait_until("the confirmation", Duration::from_secs(10), |b| {
        b.url().ends_with("/delete")
    });
    b.screenshot(&shots.join("delete.png"));
    b.find("#confirm-delete").click();
    b.wait_until("the home page", Duration::from_secs(10), |b| {
        !b.url().contains("/c/")
    });
    assert!(b.page_text().contains("No captures yet"));
    b.goto(&overview);
    assert!(b.page_text().contains("404"));
}

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in bytes.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A pcap with one TCP connection carrying `request` and `response`
/// (Ethernet, IPv4, client 10.0.0.1:40000, server 10.0.0.2:80).
fn one_exchange_pcap(request: &[u8], response: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&[0; 8]);
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    let (c, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let (cp, sp) = (40000u16, 80u16);
    let (mut cseq, mut sseq) = (1000u32, 5000u32);
    let mut usec = 0u32;
    let mut packet =
        |out: &mut Vec<u8>, from_client: bool, flags: u8, seq: u32, ack: u32, payload: &[u8]| {
            let (src, dst, spt, dpt) = if from_client {
                (c, s, cp, sp)
            } else {
                (s, c, sp, cp)
            };
            let mut ip = vec![0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0];
            let total = (20 + 20 + payload.len()) as u16;
            ip[2..4].copy_from_slice(&total.to_be_bytes());
            ip.extend_from_slice(&src);
            ip.extend_from_slice(&dst);
            let sum = ip
                .chunks(2)
                .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
                .sum::<u32>();
            let sum = !(((sum & 0xffff) + (sum >> 16)) as u16);
            ip[10..12].copy_from_slice(&sum.to_be_bytes());
            let mut tcp = Vec::new();
            tcp.extend_from_slice(&spt.to_be_bytes());
            tcp.extend_from_slice(&dpt.to_be_bytes());
            tcp.extend_from_slice(&seq.to_be_bytes());
            tcp.extend_from_slice(&ack.to_be_bytes());
            tcp.extend_from_slice(&[0x50, flags, 0xff, 0xff, 0, 0, 0, 0]);
            let mut frame = vec![2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00];
            frame.extend_from_slice(&ip);
            frame.extend_from_slice(&tcp);
            frame.extend_from_slice(payload);
            usec += 1000;
            out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
            out.extend_from_slice(&usec.to_le_bytes());
            out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            out.extend_from_slice(&(frame.len() as u32).to_le_bytes());
            out.extend_from_slice(&frame);
        };
    const SYN: u8 = 0x02;
    const ACK: u8 = 0x10;
    const PSH: u8 = 0x08;
    const FIN: u8 = 0x01;
    packet(&mut out, true, SYN, cseq, 0, &[]);
    cseq += 1;
    packet(&mut out, false, SYN | ACK, sseq, cseq, &[]);
    sseq += 1;
    packet(&mut out, true, ACK, cseq, sseq, &[]);
    packet(&mut out, true, PSH | ACK, cseq, sseq, request);
    cseq += request.len() as u32;
    packet(&mut out, false, ACK, sseq, cseq, &[]);
    packet(&mut out, false, PSH | ACK, sseq, cseq, response);
    sseq += response.len() as u32;
    packet(&mut out, true, FIN | ACK, cseq, sseq, &[]);
    cseq += 1;
    packet(&mut out, false, FIN | ACK, sseq, cseq, &[]);
    sseq += 1;
    packet(&mut out, true, ACK, cseq, sseq, &[]);
    out
}

/// Issue 5: a capture with markup in its URI, headers and body renders as
/// text; nothing in it becomes an element or runs.
#[test]
#[ignore = "needs chromium"]
fn issue_5_hostile_capture_renders_inert() {
    let request = b"GET /<script>window.pwned=1</script>?q=\"><img src=x onerror=window.pwned=2> HTTP/1.1\r\n\
Host: <svg onload=window.pwned=3>\r\nUser-Agent: x\r\n\r\n";
    let body = b"<script>window.pwned=4</script><iframe src=/></iframe>\xe2\x80\xae";
    let response = [
        format!(
            "HTTP/1.1 404 <b>Not</b> Found\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes(),
        body.to_vec(),
    ]
    .concat();
    let pcap = one_exchange_pcap(request, &response);
    let dir = fresh_dir("browser-xss");
    let server = Server::start(&dir.join("data"), &[]);
    let b = Browser::start();
    b.goto(&server.url("/"));
    // Dropped onto the page, as a person drags a file from their desktop.
    b.script(&format!(
        "const bin = atob('{}'); const u = new Uint8Array(bin.length); \
         for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i); \
         const dt = new DataTransfer(); \
         dt.items.add(new File([u], '<img src=x onerror=window.pwned=5>.pcap')); \
         document.getElementById('drop').dispatchEvent(new DragEvent('dragover', \
           {{dataTransfer: dt, bubbles: true, cancelable: true}})); \
         document.getElementById('drop').dispatchEvent(new DragEvent('drop', \
           {{dataTransfer: dt, bubbles: true, cancelable: true}}));",
        base64(&pcap)
    ));
    b.wait_until("the capture page", Duration::from_secs(60), |b| {
        b.url().contains("/c/") && b.wait_for(".stats", Duration::ZERO).is_some()
    });
    let overview = b.url();
    let id = overview.rsplit("/c/").next().unwrap().to_string();
    let inert = |b: &Browser, page: &str| {
        assert_eq!(b.alert_text(), None, "{page}: a dialog opened");
        let v = b.script(
            "return [typeof window.pwned, \
             document.querySelectorAll(BAD).length, \
             Array.from(document.querySelectorAll(BAD)).map(e => e.outerHTML).join(' ')];"
                .replace("BAD", "'script:not([src=\"/static/app.js\"]), img, iframe, b, svg [onload], [onerror]'")
                .as_str(),
        );
        assert_eq!(v[0], "undefined", "{page}: script ran");
        assert_eq!(v[1], 0, "{page}: capture markup became elements: {}", v[2]);
    };
    inert(&b, "overview");
    assert!(b
        .page_text()
        .contains("<img src=x onerror=window.pwned=5>.pcap"));
    assert!(b
        .page_text()
        .contains("GET /<script>window.pwned=1</script>"));
    b.screenshot_full(&shots().join("hostile-overview.png"));
    b.goto(&server.url(&format!("/c/{id}/http")));
    inert(&b, "http");
    let uri = b.find("#exchanges td.uri").text();
    assert!(
        uri.starts_with("/<script>window.pwned=1</script>?q=\"><img"),
        "{uri}"
    );
    assert_eq!(
        b.find("#exchanges td.host").text(),
        "<svg onload=window.pwned=3>"
    );
    b.screenshot_full(&shots().join("hostile-http.png"));
    b.goto(&server.url(&format!("/c/{id}/conversations/0")));
    inert(&b, "conversation");
    let s2c = texts(&b, ".stream .chunk.s2c pre").join("");
    assert!(
        s2c.contains("<script>window.pwned=4</script><iframe src=/></iframe>\\u{202e}"),
        "{s2c}"
    );
    assert!(b
        .find(".exchange .status")
        .text()
        .contains("404 <b>Not</b> Found"));
    b.screenshot_full(&shots().join("hostile-conversation.png"));
    b.goto(&server.url("/"));
    inert(&b, "home");
}
