//! TLS key logs on the web (README, "TLS"): a key log uploaded with a
//! capture, or added later, decrypts its HTTPS exchanges; it is stored
//! apart with mode 0600, removed with "Remove key log" and with the
//! capture, audited, and no page, JSON, stream or pcap download of the
//! capture ever returns a line of it.

use std::collections::{BTreeSet, VecDeque};
use std::path::PathBuf;

use serde_json::Value;

use crate::support::serve::{fresh_dir, reply, Reply, Server};
use crate::support::shared;

fn sample(name: &str) -> PathBuf {
    shared::samples().join("tls").join(name)
}

const CAPTURE: &str = "tls13-keepalive.pcap";
const KEYS: &str = "tls13-keepalive.keys.txt";

/// A multipart body of (field, file name, content) parts.
fn post_parts(server: &Server, path: &str, parts: &[(&str, &str, &[u8])]) -> Reply {
    let boundary = "----tracedeck-tls-web-7f1e";
    let mut body = Vec::new();
    for (field, name, content) in parts {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .into();
    reply(
        agent
            .post(server.url(path))
            .header(
                "Content-Type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .send(&body[..]),
    )
}

/// The decrypted exchanges of a capture (those marked `tls`).
fn tls_exchanges(server: &Server, id: &str) -> Vec<Value> {
    let page = server.get(&format!("/api/captures/{id}/http?limit=1000"));
    assert_eq!(page.status, 200, "{}", page.text());
    page.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["tls"] == Value::Bool(true))
        .cloned()
        .collect()
}

fn upload(server: &Server, with_keys: bool) -> String {
    let pcap = std::fs::read(sample(CAPTURE)).unwrap();
    let keys = std::fs::read(sample(KEYS)).unwrap();
    let mut parts: Vec<(&str, &str, &[u8])> = vec![("file", CAPTURE, &pcap)];
    if with_keys {
        // The key log comes first: the order of the parts does not matter.
        parts.insert(0, ("keylog", KEYS, &keys));
    }
    let r = post_parts(server, "/api/captures", &parts);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(server.wait(&id)["status"], "done");
    id
}

/// What of a key log must never come back: each line, each client random
/// and secret in hex (either case), and each secret's raw bytes (the
/// client random's raw bytes travel in clear in the ClientHello).
fn secrets_of(text: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        out.push(line.trim().as_bytes().to_vec());
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, random, secret] = words[..] else {
            continue;
        };
        for hex in [random, secret] {
            out.push(hex.to_ascii_lowercase().into_bytes());
            out.push(hex.to_ascii_uppercase().into_bytes());
        }
        let raw: Vec<u8> = (0..secret.len() / 2)
            .map(|i| u8::from_str_radix(&secret[2 * i..2 * i + 2], 16).unwrap())
            .collect();
        out.push(raw);
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Every `href="…"` and `action="…"` of a page that stays on this capture.
fn links(html: &str, id: &str) -> Vec<String> {
    let mut out = Vec::new();
    for attr in ["href=\"", "action=\""] {
        for piece in html.split(attr).skip(1) {
            let Some(end) = piece.find('"') else { continue };
            let link = piece[..end].replace("&amp;", "&");
            let link = link.split('#').next().unwrap_or("").to_string();
            if link.contains(id) && !link.contains("/delete") && !link.contains("/remove") {
                out.push(link);
            }
        }
    }
    out
}

#[test]
fn an_uploaded_key_log_decrypts_and_is_never_served() {
    let data = fresh_dir("tls-web-crawl");
    let server = Server::start(&data, &[]);
    let id = upload(&server, true);
    let decrypted = tls_exchanges(&server, &id);
    assert!(
        decrypted.len() >= 3,
        "HTTPS exchanges appear with the key log: {decrypted:?}"
    );
    assert!(
        decrypted
            .iter()
            .any(|e| e["uri"] == "/missing" && e["status"] == 404),
        "{decrypted:?}"
    );

    // Stored apart, owner-only.
    let keys = data.join("keylogs").join(format!("{id}.keys"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert!(!data.join("captures").join(&id).join("keylog").exists());
    let status = server.get(&format!("/api/captures/{id}/keylog")).json();
    assert!(
        status["keylog"]["sessions"].as_u64().unwrap() >= 1,
        "{status}"
    );
    let sentence = status["decrypted"].as_str().unwrap();
    assert!(
        sentence.starts_with(&format!(
            "{n} of {n} TLS session",
            n = status["keylog"]["sessions"]
        )),
        "{sentence}"
    );
    let page = server.get(&format!("/c/{id}/keylog")).text();
    assert!(page.contains("key log: "), "{page}");
    assert!(page.contains(sentence), "{page}");

    // The followed stream shows the decrypted HTTP, each chunk marked with
    // the records it came from; `tls=raw` shows the records as sent.
    let conv = decrypted[0]["conversation"].as_u64().unwrap();
    let stream = server
        .get(&format!("/api/captures/{id}/conversations/{conv}/stream"))
        .json();
    assert!(
        stream["decrypted_records"].as_u64().unwrap() >= 6,
        "{stream}"
    );
    let chunks = stream["chunks"].as_array().unwrap();
    let first = chunks.iter().find(|c| c["kind"] == "data").unwrap();
    assert_eq!(first["decrypted"], true, "{first}");
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .starts_with("GET / HTTP/1.1\r\n"),
        "{first}"
    );
    let records = &first["tls_records"];
    assert!(records["records"].as_u64().unwrap() >= 1, "{first}");
    assert!(
        records["end"].as_u64() > records["offset"].as_u64(),
        "{first}"
    );
    assert!(chunks
        .iter()
        .any(|c| c["decrypted"] == true && c["text"].as_str().unwrap_or("").contains("404")));
    // A later part of the stream, after the handshake and the first
    // exchange, decrypts too: the decryptor is warmed up from the start.
    let row = server
        .get(&format!("/api/captures/{id}/conversations/{conv}"))
        .json();
    let packets = row["packets_c2s"].as_u64().unwrap() + row["packets_s2c"].as_u64().unwrap();
    let later = (1..packets)
        .rev()
        .map(|from| {
            let part = server
                .get(&format!(
                    "/api/captures/{id}/conversations/{conv}/stream?from={from}"
                ))
                .json();
            (from, part)
        })
        .find(|(_, part)| {
            part["chunks"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c["text"].as_str().unwrap_or("").contains("GET /missing"))
        });
    let (from, part) = later.expect("a later part holds the request for /missing");
    assert!(from > 8, "past the handshake: {from}");
    assert!(part["decrypted_records"].as_u64().unwrap() >= 1, "{part}");
    assert!(part.get("tls_note").is_none(), "{part}");
    let texts: Vec<&str> = part["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["text"].as_str())
        .collect();
    assert!(
        !texts.iter().any(|t| t.contains("GET / HTTP/1.1")),
        "only this part's records: {texts:?}"
    );
    let raw_part = server
        .get(&format!(
            "/api/captures/{id}/conversations/{conv}/stream?from={from}&tls=raw"
        ))
        .json();
    assert!(raw_part.get("decrypted_records").is_none(), "{raw_part}");
    let page = server
        .get(&format!("/c/{id}/conversations/{conv}?stream={from}"))
        .text();
    assert!(page.contains("GET /missing"), "{page}");

    let raw = server
        .get(&format!(
            "/api/captures/{id}/conversations/{conv}/stream?tls=raw"
        ))
        .json();
    assert!(raw.get("decrypted_records").is_none(), "{raw}");
    assert!(raw["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c.get("decrypted").is_none()));
    assert!(!raw.to_string().contains("GET / HTTP/1.1"));
    let page = server.get(&format!("/c/{id}/conversations/{conv}")).text();
    assert!(page.contains("decrypted from "), "{page}");
    assert!(page.contains("GET / HTTP/1.1"), "{page}");
    assert!(page.contains("id=\"tls-switch\""), "{page}");
    let page = server
        .get(&format!("/c/{id}/conversations/{conv}?tls=raw"))
        .text();
    assert!(!page.contains("decrypted from ") && page.contains("id=\"tls-switch\""));

    // Crawl everything reachable from the capture's pages, with the JSON
    // twins, streams (text and hex) and pcap downloads they link to.
    let text = std::fs::read_to_string(sample(KEYS)).unwrap();
    let secrets = secrets_of(&text);
    let mut queue: VecDeque<String> = [
        "/".to_string(),
        "/api/captures".to_string(),
        format!("/c/{id}"),
        format!("/api/captures/{id}"),
        format!("/api/captures/{id}/keylog"),
        format!("/c/{id}/keylog"),
    ]
    .into();
    let mut seen = BTreeSet::new();
    let (mut streams, mut pcaps) = (0, 0);
    while let Some(path) = queue.pop_front() {
        if seen.len() >= 400 || !seen.insert(path.clone()) {
            continue;
        }
        let r = server.get(&path);
        assert!(r.status < 500, "{path}: {}", r.status);
        for s in &secrets {
            assert!(
                !contains(&r.body, s),
                "{path} returned part of the key log ({} bytes)",
                s.len()
            );
        }
        streams += usize::from(path.contains("/stream") || path.contains("view=hex"));
        pcaps += usize::from(path.ends_with("/pcap"));
        let body = r.text();
        for link in links(&body, &id) {
            queue.push_back(link);
        }
        if path.starts_with("/api/") {
            for n in 0..8 {
                queue.push_back(format!("/api/captures/{id}/conversations/{n}/stream"));
                queue.push_back(format!("/api/captures/{id}/conversations/{n}/pcap"));
            }
        }
    }
    assert!(seen.len() > 20, "crawled {}: {seen:?}", seen.len());
    assert!(streams > 0 && pcaps > 0, "{seen:?}");

    // Deleting the capture deletes its key log.
    assert_eq!(server.delete(&format!("/api/captures/{id}")).status, 204);
    assert!(!keys.exists());
    assert!(!data.join("keylogs").join(format!("{id}.json")).exists());
}

#[test]
fn a_key_log_added_later_is_used_and_removing_it_analyzes_again() {
    let data = fresh_dir("tls-web-later");
    let server = Server::start(&data, &[]);
    let id = upload(&server, false);
    assert!(tls_exchanges(&server, &id).is_empty());
    let none = server.get(&format!("/c/{id}/keylog")).text();
    assert!(none.contains("id=\"keylog-none\""), "{none}");

    // Garbage is refused, and nothing is stored.
    let r = server.post_raw(&format!("/api/captures/{id}/keylog"), b"not a key log\n");
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(!data.join("keylogs").join(format!("{id}.keys")).exists());

    let keys = std::fs::read(sample(KEYS)).unwrap();
    let r = server.post_raw(&format!("/api/captures/{id}/keylog"), &keys);
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(server.wait(&id)["status"], "done");
    let decrypted = tls_exchanges(&server, &id);
    assert!(decrypted.len() >= 3, "{decrypted:?}");

    // The form (as a program posts it: no browser headers, no CSRF token
    // needed) replaces it.
    let r = post_parts(
        &server,
        &format!("/c/{id}/keylog"),
        &[("keylog", "keys.txt", &keys)],
    );
    let text = r.text();
    let why = text.split("<p class=\"error\">").nth(1).unwrap_or(&text);
    assert_eq!(r.status, 303, "{}", &why[..why.len().min(300)]);
    assert_eq!(server.wait(&id)["status"], "done");
    assert_eq!(tls_exchanges(&server, &id).len(), decrypted.len());

    let r = server.post_raw(&format!("/api/captures/{id}/keylog/remove"), b"");
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(server.wait(&id)["status"], "done");
    assert!(tls_exchanges(&server, &id).is_empty());
    assert!(!data.join("keylogs").join(format!("{id}.keys")).exists());
    let r = server.post_raw(&format!("/api/captures/{id}/keylog/remove"), b"");
    assert_eq!(r.status, 404, "{}", r.text());

    // Both changes are in the audit log.
    let audit = server.get("/admin/audit").text();
    assert!(audit.contains("keylog add"), "{audit}");
    assert!(audit.contains("keylog remove"), "{audit}");
}

/// The ids of a list's items.
fn ids(server: &Server, path: &str, key: &str) -> BTreeSet<u64> {
    let r = server.get(path);
    assert_eq!(r.status, 200, "{path}: {}", r.text());
    r.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[key].as_u64().unwrap())
        .collect()
}

/// `filter=` with an expression, URL-encoded.
fn filtered(path: &str, expr: &str) -> String {
    let q: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", expr)
        .finish();
    format!("{path}?limit=1000&{q}")
}

#[test]
fn row_predicates_filter_the_stored_rows() {
    let data = fresh_dir("tls-web-rows");
    let server = Server::start(&data, &[]);
    let id = upload(&server, true);
    let convs = format!("/api/captures/{id}/conversations");
    let http = format!("/api/captures/{id}/http");
    let all = server.get(&format!("{convs}?limit=1000"));
    assert_eq!(all.status, 200, "{}", all.text());
    let all = all.json();
    let items = all["items"].as_array().unwrap();
    let tls: BTreeSet<u64> = items
        .iter()
        .filter(|c| c.get("tls_ja4").is_some() || c.get("tls_version").is_some())
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    let every: BTreeSet<u64> = items.iter().map(|c| c["id"].as_u64().unwrap()).collect();
    assert!(!tls.is_empty());
    let sni = items
        .iter()
        .find_map(|c| c["tls_sni"].as_str())
        .unwrap()
        .to_string();
    let ja4 = items
        .iter()
        .find_map(|c| c["tls_ja4"].as_str())
        .unwrap()
        .to_string();
    let with_sni: BTreeSet<u64> = items
        .iter()
        .filter(|c| c["tls_sni"].as_str() == Some(&sni))
        .map(|c| c["id"].as_u64().unwrap())
        .collect();

    // Row predicates alone read the capture's own results: no re-analysis.
    assert_eq!(ids(&server, &filtered(&convs, "tls"), "id"), tls);
    let rest: BTreeSet<u64> = every.difference(&tls).copied().collect();
    assert_eq!(ids(&server, &filtered(&convs, "not tls"), "id"), rest);
    assert_eq!(
        ids(
            &server,
            &filtered(&convs, &format!("sni {}", sni.to_uppercase())),
            "id"
        ),
        with_sni,
        "sni ignores case"
    );
    let fp = ids(
        &server,
        &filtered(&convs, &format!("ja4 {ja4} and decrypted")),
        "id",
    );
    assert!(!fp.is_empty() && fp.is_subset(&tls), "{fp:?}");
    assert!(ids(&server, &filtered(&convs, "sni nowhere.invalid"), "id").is_empty());

    // The same as parameters: `sni=` ignores case, `ja4=` is exact.
    let param = |k: &str, v: &str| {
        let q: String = form_urlencoded::Serializer::new(String::new())
            .append_pair(k, v)
            .finish();
        format!("{convs}?limit=1000&{q}")
    };
    assert_eq!(
        ids(&server, &param("sni", &sni.to_uppercase()), "id"),
        with_sni
    );
    assert!(ids(&server, &param("sni", "nowhere.invalid"), "id").is_empty());
    let with_ja4: BTreeSet<u64> = items
        .iter()
        .filter(|c| c["tls_ja4"].as_str() == Some(&ja4))
        .map(|c| c["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids(&server, &param("ja4", &ja4), "id"), with_ja4);
    if ja4.to_uppercase() != ja4 {
        assert!(
            ids(&server, &param("ja4", &ja4.to_uppercase()), "id").is_empty(),
            "ja4 is exact"
        );
    }
    let both: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("sni", &sni)
        .append_pair("ja4", &ja4)
        .finish();
    let both = format!("{convs}?limit=1000&{both}");
    assert_eq!(
        ids(&server, &both, "id"),
        with_sni.intersection(&with_ja4).copied().collect()
    );
    let page = server.get(&format!("/c/{id}/conversations?sni={}", sni.to_uppercase()));
    assert_eq!(page.status, 200, "{}", page.text());
    // The pcap-filter box keeps the row filters (every one the list takes).
    let page = server.get(&format!("/c/{id}/conversations?sni=a.example&ja4=t13x"));
    for kept in [
        "name=\"sni\" value=\"a.example\"",
        "name=\"ja4\" value=\"t13x\"",
    ] {
        assert!(page.text().contains(kept), "{kept}");
    }
    let bad = server.get(&format!("{convs}?sni=a%00b"));
    assert_eq!(bad.status, 400, "{}", bad.text());

    // The HTTP view: the exchanges of the conversations that pass.
    let decrypted: BTreeSet<u64> = tls_exchanges(&server, &id)
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert!(decrypted.len() >= 3);
    assert_eq!(ids(&server, &filtered(&http, "decrypted"), "id"), decrypted);
    assert_eq!(
        ids(
            &server,
            &filtered(&http, &format!("tls and (sni {sni} or sni b.invalid)")),
            "id"
        ),
        decrypted
    );
    assert!(ids(&server, &filtered(&http, "not decrypted"), "id").is_disjoint(&decrypted));
    // With the other row filters of the page.
    let found = ids(
        &server,
        &format!("{}&status=404", filtered(&http, "decrypted")),
        "id",
    );
    assert_eq!(found.len(), 1, "{found:?}");

    // Errors name the column, in the API and next to the page's box.
    let bad = server.get(&filtered(&convs, "tls or port 443"));
    assert_eq!(bad.status, 400, "{}", bad.text());
    assert!(bad.text().contains("at column 8"), "{}", bad.text());
    let page = server.get(&filtered(&format!("/c/{id}/http"), "sni"));
    assert_eq!(page.status, 200);
    assert!(
        page.text()
            .contains("expected a server name after &#39;sni&#39; (sni example.com) at column 4"),
        "{}",
        page.text()
    );
    let page = server.get(&filtered(&format!("/c/{id}/conversations"), "decrypted"));
    assert_eq!(page.status, 200);

    // Packet primitives still ask for a filtered analysis (POST), the row
    // predicates then filter its rows.
    let expr = "tcp and decrypted";
    let waiting = server.get(&filtered(&http, expr));
    assert_eq!(waiting.status, 409, "{}", waiting.text());
    let post = server.post_json(
        &format!("/api/captures/{id}/analyses"),
        &serde_json::json!({ "filter": expr }),
    );
    assert!(post.status == 202 || post.status == 200, "{}", post.text());
    let location = post.header("location").unwrap().to_string();
    assert_eq!(location, format!("/api/captures/{id}?filter=tcp"));
    assert_eq!(server.wait_finished(&location)["status"], "done");
    assert_eq!(
        ids(&server, &filtered(&http, expr), "id").len(),
        decrypted.len()
    );
}

#[test]
fn the_stream_decrypts_with_the_secrets_inside_a_pcapng() {
    let data = fresh_dir("tls-web-dsb");
    let server = Server::start(&data, &[]);
    let name = "tls13-keepalive-dsb.pcapng";
    let pcapng = std::fs::read(sample(name)).unwrap();
    let r = post_parts(&server, "/api/captures", &[("file", name, &pcapng)]);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(server.wait(&id)["status"], "done");
    let decrypted = tls_exchanges(&server, &id);
    assert!(decrypted.len() >= 3, "{decrypted:?}");
    let conv = decrypted[0]["conversation"].as_u64().unwrap();
    let path = format!("/api/captures/{id}/conversations/{conv}/stream");
    let stream = server.get(&path).json();
    assert!(
        stream["decrypted_records"].as_u64().unwrap_or(0) >= 6,
        "no uploaded key log: the capture's own secrets decrypt it: {stream}"
    );
    let first = stream["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "data")
        .unwrap();
    assert!(
        first["text"]
            .as_str()
            .unwrap()
            .starts_with("GET / HTTP/1.1\r\n"),
        "{first}"
    );
    let raw = server.get(&format!("{path}?tls=raw")).json();
    assert!(raw["decrypted_records"].is_null(), "{raw}");
}
