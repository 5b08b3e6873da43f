//! TLS metadata on the captures of sample-captures/tls (made by its
//! make.sh with curl, openssl and python3's ssl on loopback): what each
//! conversation's TLS summary says, and the same facts against tshark.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracedeck::analysis::tls::{KeyLog, Resumption, Side, TlsSummary, Validity};
use tracedeck::analysis::{self, HttpExchange, Options, Output, OutputError};
use tracedeck::flow::Conversation;
use tracedeck::pcap::Reader;

use crate::support::{need, shared};

/// The captures of sample-captures/tls compared with tshark.
const CAPTURES: [&str; 6] = [
    "tls13-keepalive.pcap",
    "tls12-suites.pcap",
    "tls-resumed.pcap",
    "tls13-hrr.pcap",
    "tls10-11.pcap",
    "tls-failures.pcap",
];

fn sample(name: &str) -> PathBuf {
    shared::samples().join("tls").join(name)
}

/// Each TCP conversation's client port and TLS summary, by conversation
/// id, and the HTTP exchanges.
#[derive(Default)]
struct Summaries(BTreeMap<u64, (u16, Arc<TlsSummary>)>, Vec<HttpExchange>);

impl Output for Summaries {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError> {
        if let Some(tls) = &conv.app.tls {
            self.0.insert(conv.id, (conv.client.port(), tls.clone()));
        }
        Ok(())
    }

    fn exchange(&mut self, exchange: HttpExchange) -> Result<(), OutputError> {
        self.1.push(exchange);
        Ok(())
    }
}

fn analyze_with(path: &Path, keylog: Option<&Path>) -> (Summaries, Vec<String>) {
    let mut reader = Reader::open(path).unwrap();
    let mut out = Summaries::default();
    let keylog = keylog.map(|k| {
        Arc::new(KeyLog::parse(
            &std::fs::read_to_string(k).unwrap(),
            "keys.txt",
        ))
    });
    let opts = Options {
        keylog,
        ..Options::default()
    };
    let summary = analysis::analyze(&mut reader, &opts, &mut out).unwrap();
    (out, summary.warnings)
}

fn analyze(path: &Path) -> Summaries {
    analyze_with(path, None).0
}

fn keys_of(name: &str) -> PathBuf {
    sample(&format!("{}.keys.txt", name.split('.').next().unwrap()))
}

/// The TLS summaries of a capture, in conversation order.
fn summaries(path: &Path) -> Vec<Arc<TlsSummary>> {
    analyze(path).0.into_values().map(|(_, t)| t).collect()
}

#[test]
fn tls13_keep_alive_handshake_facts() {
    let s = summaries(&sample("tls13-keepalive.pcap"));
    assert_eq!(s.len(), 1);
    let t = &s[0];
    assert_eq!(t.version, Some("TLS 1.3"));
    assert_eq!(t.client_version, Some("TLS 1.3"));
    assert_eq!(t.sni.as_deref(), Some("tracedeck.test"));
    assert_eq!(t.alpn_offered, ["h2", "http/1.1"], "curl's offer");
    assert_eq!(t.cipher.as_deref(), Some("TLS_AES_256_GCM_SHA384"));
    assert!(!t.hello_retry);
    assert_eq!(t.resumption, None);
    assert!(
        t.certificates.is_empty(),
        "TLS 1.3 certificates are encrypted"
    );
    let ja4 = t.ja4.as_deref().unwrap();
    assert!(ja4.starts_with("t13d") && ja4.contains("h2_"), "{ja4}");
    let sh = t.server_hello_time().unwrap();
    let hs = t.handshake_time().unwrap();
    assert!(sh.as_nanos() > 0 && hs >= sh, "{sh} {hs}");
    assert!(t.first_app_data.is_some());
    assert_eq!(t.failure, None);
    assert!(t.notes.is_empty(), "{:?}", t.notes);
}

#[test]
fn tls12_suites_and_the_certificate_in_clear() {
    let s = summaries(&sample("tls12-suites.pcap"));
    let suites: Vec<_> = s.iter().map(|t| t.cipher.clone().unwrap()).collect();
    assert_eq!(
        suites,
        [
            "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
            "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA",
            "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256",
            "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA",
        ]
    );
    for (i, t) in s.iter().enumerate() {
        assert_eq!(t.version, Some("TLS 1.2"));
        // The last one is openssl s_client's, which offers no ALPN.
        let alpn = if i == 5 { None } else { Some("http/1.1") };
        assert_eq!(t.alpn.as_deref(), alpn);
        assert!(t.handshake_time().is_some() && t.first_app_data.is_some());
        assert_eq!(t.alert(), None, "an encrypted close_notify is not shown");
        assert_eq!(t.failure, None);
        let [cert] = &t.certificates[..] else {
            panic!("one self-signed certificate: {:?}", t.certificates)
        };
        assert!(
            cert.subject.contains("CN=tracedeck.test"),
            "{}",
            cert.subject
        );
        assert_eq!(cert.subject, cert.issuer);
        assert_eq!(
            cert.sans,
            ["tracedeck.test", "www.tracedeck.test", "127.0.0.1"]
        );
        // make.sh makes it valid for 10 days.
        assert_eq!(cert.validity, Validity::Expiring);
    }
}

#[test]
fn resumed_sessions_are_named() {
    let s = summaries(&sample("tls-resumed.pcap"));
    let found: Vec<_> = s.iter().map(|t| (t.version, t.resumption)).collect();
    assert_eq!(
        found,
        [
            (Some("TLS 1.2"), None),
            (Some("TLS 1.2"), Some(Resumption::SessionId)),
            (Some("TLS 1.3"), None),
            (Some("TLS 1.3"), Some(Resumption::Psk)),
        ]
    );
    assert!(s[1].certificates.is_empty(), "no certificate on resumption");
}

#[test]
fn hello_retry_request() {
    let s = summaries(&sample("tls13-hrr.pcap"));
    assert_eq!(s.len(), 1);
    assert!(s[0].hello_retry);
    assert_eq!(s[0].version, Some("TLS 1.3"));
    assert!(s[0].handshake_time().is_some());
    assert_eq!(s[0].failure, None);
}

#[test]
fn failures_are_named_in_a_sentence() {
    let s = summaries(&sample("tls-failures.pcap"));
    assert_eq!(s.len(), 2);
    let no_suite = &s[0];
    let alert = no_suite.alert().unwrap();
    assert_eq!(
        (alert.from, alert.name(), alert.fatal),
        (Side::Server, "handshake_failure", Some(true))
    );
    let sentence = no_suite.failure.as_deref().unwrap();
    assert!(
        sentence.starts_with("server sent handshake_failure ")
            && sentence.ends_with(" after ClientHello"),
        "{sentence}"
    );
    let untrusted = &s[1];
    let alert = untrusted.alert().unwrap();
    assert_eq!((alert.from, alert.name()), (Side::Client, "unknown_ca"));
    assert!(untrusted
        .failure
        .as_deref()
        .unwrap()
        .starts_with("client sent unknown_ca "));
}

/// IANA suite names of the samples as tshark's field shows them (a number).
fn suite_number(name: &str) -> String {
    let known = [
        ("TLS_AES_128_GCM_SHA256", 0x1301),
        ("TLS_AES_256_GCM_SHA384", 0x1302),
        ("TLS_CHACHA20_POLY1305_SHA256", 0x1303),
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f),
        ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xc030),
        ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca8),
        ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc013),
        ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0xc027),
        ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xc014),
        ("TLS_RSA_WITH_AES_128_CBC_SHA", 0x002f),
        ("TLS_RSA_WITH_AES_256_CBC_SHA", 0x0035),
    ];
    known
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, id)| format!("0x{id:04x}"))
        .unwrap_or_else(|| name.to_string())
}

#[test]
#[ignore = "needs tshark"]
fn sni_version_suite_and_alerts_match_tshark() {
    let (mut compared, mut matched) = (0, 0);
    let mut differences = Vec::new();
    for name in CAPTURES {
        let path = sample(name);
        let ours: BTreeMap<u16, Arc<TlsSummary>> = analyze(&path).0.into_values().collect();
        // The ClientHello's SNI, by client port.
        let mut theirs: BTreeMap<u16, Vec<String>> = BTreeMap::new();
        for row in need::tshark_fields(
            &path,
            "tls.handshake.type == 1",
            &["tcp.srcport", "tls.handshake.extensions_server_name"],
        ) {
            let port: u16 = row[0].parse().unwrap();
            // After a HelloRetryRequest the client says it again.
            let e = theirs.entry(port).or_default();
            if !e.iter().any(|f| f.starts_with("sni=")) {
                e.push(format!("sni={}", row[1]));
            }
        }
        // The (last) ServerHello: suite and the version chosen.
        for row in need::tshark_fields(
            &path,
            "tls.handshake.type == 2",
            &[
                "tcp.dstport",
                "tls.handshake.ciphersuite",
                "tls.handshake.extensions.supported_version",
                "tls.handshake.version",
            ],
        ) {
            let port: u16 = row[0].parse().unwrap();
            let version = if row[2].is_empty() { &row[3] } else { &row[2] };
            let e = theirs.entry(port).or_default();
            e.retain(|f| !f.starts_with("suite=") && !f.starts_with("version="));
            e.push(format!("suite={}", row[1]));
            e.push(format!("version={version}"));
        }
        for row in need::tshark_fields(
            &path,
            "tls.alert_message.desc",
            &["tcp.srcport", "tcp.dstport", "tls.alert_message.desc"],
        ) {
            let (src, dst): (u16, u16) = (row[0].parse().unwrap(), row[1].parse().unwrap());
            let client = if theirs.contains_key(&src) { src } else { dst };
            let side = if client == src { "client" } else { "server" };
            theirs
                .entry(client)
                .or_default()
                .push(format!("alert={side}:{}", row[2]));
        }
        for (port, mut want) in theirs {
            compared += 1;
            let Some(t) = ours.get(&port) else {
                differences.push(format!("{name} port {port}: no TLS summary"));
                continue;
            };
            let mut got = vec![format!("sni={}", t.sni.clone().unwrap_or_default())];
            if let Some(c) = &t.cipher {
                got.push(format!("suite={}", suite_number(c)));
            }
            if let Some(v) = t.version {
                let hex = match v {
                    "TLS 1.3" => "0x0304",
                    "TLS 1.2" => "0x0303",
                    "TLS 1.1" => "0x0302",
                    "TLS 1.0" => "0x0301",
                    _ => v,
                };
                got.push(format!("version={hex}"));
            }
            for a in t.alerts.iter().filter(|a| !a.is_encrypted()) {
                let code = alert_code(a.name());
                got.push(format!("alert={}:{code}", a.from.as_str()));
            }
            got.sort();
            want.sort();
            if got == want {
                matched += 1;
            } else {
                differences.push(format!("{name} port {port}: ours {got:?}, tshark {want:?}"));
            }
        }
    }
    println!(
        "TLS handshakes matching tshark (SNI, version, suite, alerts): {matched} of {compared}"
    );
    assert!(compared >= 10, "compared only {compared}");
    assert!(differences.is_empty(), "{differences:#?}");
}

/// tshark shows alert descriptions as numbers.
fn alert_code(name: &str) -> u8 {
    match name {
        "close_notify" => 0,
        "handshake_failure" => 40,
        "unknown_ca" => 48,
        other => panic!("alert {other} not in the test's table"),
    }
}

#[test]
fn the_conversation_page_and_api_show_tls() {
    use crate::support::serve::{fresh_dir, Server};
    let data = fresh_dir("tls-page");
    let server = Server::start(&data, &[]);
    let bytes = std::fs::read(sample("tls-failures.pcap")).unwrap();
    let reply = server.post_raw("/api/captures?name=tls-failures.pcap", &bytes);
    let id = reply.json()["id"].as_str().unwrap().to_string();
    server.wait(&id);
    let convs = server.get(&format!("/api/captures/{id}/conversations?sort=id"));
    let rows = convs.json()["items"].clone();
    assert_eq!(rows[0]["tls_alert"], "server: handshake_failure", "{rows}");
    assert_eq!(rows[1]["tls_alert"], "client: unknown_ca", "{rows}");
    assert_eq!(rows[1]["tls_version"], "TLS 1.2");
    let page = server.get(&format!("/c/{id}/conversations/0")).text();
    assert!(page.contains("<h2>TLS</h2>"), "{page}");
    assert!(page.contains("server sent handshake_failure "), "{page}");
    assert!(page.contains("tracedeck.test"));
    // A conversation without TLS has no such section.
    let data = fresh_dir("tls-page-plain");
    let server = Server::start(&data, &[]);
    let bytes = std::fs::read(shared::samples().join("keepalive-mixed.pcap")).unwrap();
    let reply = server.post_raw("/api/captures?name=plain.pcap", &bytes);
    let id = reply.json()["id"].as_str().unwrap().to_string();
    server.wait(&id);
    let page = server.get(&format!("/c/{id}/conversations/0")).text();
    assert!(!page.contains("<h2>TLS</h2>"));
    let convs = server
        .get(&format!("/api/captures/{id}/conversations"))
        .text();
    assert!(!convs.contains("tls_"), "{convs}");
}

#[test]
fn https_exchanges_with_a_key_log() {
    // (capture, exchanges decrypted).
    for (name, want) in [
        ("tls13-keepalive.pcap", 3),
        ("tls12-suites.pcap", 6),
        ("tls-resumed.pcap", 4),
        ("tls13-hrr.pcap", 1),
        ("tls-failures.pcap", 0),
    ] {
        let (out, warnings) = analyze_with(&sample(name), Some(&keys_of(name)));
        assert!(warnings.is_empty(), "{name}: {warnings:?}");
        assert_eq!(out.1.len(), want, "{name}");
        assert!(
            out.1.iter().all(|e| e.tls && e.exchange.status.is_some()),
            "{name}"
        );
    }
    // TLS 1.3's ALPN and certificate are in the encrypted handshake.
    let (out, _) = analyze_with(
        &sample("tls13-keepalive.pcap"),
        Some(&keys_of("tls13-keepalive")),
    );
    let (_, t) = out.0.values().next().unwrap();
    assert_eq!(t.alpn.as_deref(), Some("http/1.1"));
    assert!(t.certificates[0].subject.contains("tracedeck.test"));
}

#[test]
fn the_key_log_in_the_capture_and_undecryptable_sessions() {
    // editcap --inject-secrets: no key log given, the capture has one.
    let (out, warnings) = analyze_with(&sample("tls13-keepalive-dsb.pcapng"), None);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(out.1.len(), 3);
    // Another session's keys: this one has none.
    let (out, _) = analyze_with(
        &sample("tls13-keepalive.pcap"),
        Some(&keys_of("tls12-suites")),
    );
    assert!(out.1.is_empty());
    let (_, t) = out.0.values().next().unwrap();
    let note = t
        .notes
        .iter()
        .find(|n| n.starts_with("not decrypted: no key for this session (client random "));
    assert!(note.is_some(), "{:?}", t.notes);
    // A key log with garbage lines: warned about by line, the rest used.
    let dir = crate::support::serve::fresh_dir("tls-garbage-keys");
    let keys = dir.join("keys.txt");
    let good = std::fs::read_to_string(keys_of("tls13-keepalive")).unwrap();
    std::fs::write(&keys, format!("garbage here\n{good}CLIENT_RANDOM 00 11\n")).unwrap();
    let (out, warnings) = analyze_with(&sample("tls13-keepalive.pcap"), Some(&keys));
    assert_eq!(out.1.len(), 3);
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("keys.txt line 1: "));
    assert!(warnings[1].starts_with("keys.txt line 7: "));
}

#[test]
#[ignore = "needs tshark"]
fn decrypted_http_matches_tshark() {
    let (mut compared, mut matched) = (0, 0);
    let mut differences = Vec::new();
    // tls-failures has no HTTP.
    for name in &CAPTURES[..5] {
        let path = sample(name);
        let keys = keys_of(name);
        let mut cmd = need::tool("tshark");
        cmd.args(["-n", "-o"])
            .arg(format!("tls.keylog_file:{}", keys.display()))
            // s_server's ports: no ALPN there to tell tshark it is HTTP.
            .args(["-d", "tls.port==8444,http", "-d", "tls.port==8446,http"])
            .arg("-r")
            .arg(&path)
            .args(["-Y", "http.request || http.response", "-T", "fields"]);
        for f in [
            "tcp.srcport",
            "tcp.dstport",
            "http.request.method",
            "http.request.uri",
            "http.response.code",
            "http.time",
            "http.response_for.uri",
        ] {
            cmd.args(["-e", f]);
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success());
        let (ours, _) = analyze_with(&path, Some(&keys));
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let is_request = !f[2].is_empty();
            let port: u16 = f[if is_request { 0 } else { 1 }].parse().unwrap();
            compared += 1;
            let uri = if is_request { f[3] } else { f[6] };
            let uri_path = uri
                .split_once("://")
                .map_or(uri, |(_, r)| &r[r.find('/').unwrap_or(r.len())..]);
            let found = ours
                .1
                .iter()
                .find(|e| e.client.port() == port && e.exchange.uri.as_deref() == Some(uri_path));
            let Some(e) = found else {
                differences.push(format!("{name}: no exchange for {port} {uri_path}"));
                continue;
            };
            let ok = if is_request {
                e.exchange.method.as_deref() == Some(f[2])
            } else {
                let theirs_ns = (f[5].parse::<f64>().unwrap() * 1e9).round() as i64;
                let ours_ns = e.exchange.http_time().map(|t| t.as_nanos());
                e.exchange.status.map(|s| s.to_string()).as_deref() == Some(f[4])
                    && ours_ns.is_some_and(|n| (n - theirs_ns).abs() <= 1_000)
            };
            if ok {
                matched += 1;
            } else {
                differences.push(format!(
                    "{name} {port} {uri_path}: ours {e:?}, tshark {line}"
                ));
            }
        }
    }
    println!("decrypted HTTP requests and responses matching tshark (method, URI; status, http.time): {matched} of {compared}");
    assert!(compared >= 10, "compared only {compared}");
    assert!(differences.is_empty(), "{differences:#?}");
}

/// `tracedeck analyze` with these arguments: its standard output.
fn cli(args: &[&str]) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .arg("analyze")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn row_predicates_in_the_cli_expression() {
    let pcap = sample("tls12-suites.pcap");
    let keys = keys_of("tls12-suites.pcap");
    let (pcap, keys) = (pcap.to_str().unwrap(), keys.to_str().unwrap());
    let json = |expr: &str| -> serde_json::Value {
        serde_json::from_str(&cli(&[pcap, "--keylog", keys, "--json", expr])).unwrap()
    };
    let count = |doc: &serde_json::Value, key: &str| doc[key].as_array().unwrap().len();
    let all = json("");
    let tls = json("tls");
    assert_eq!(count(&tls, "conversations"), count(&all, "conversations"));
    assert_eq!(
        count(&json("decrypted and tcp"), "http"),
        count(&all, "http")
    );
    let none = json("not decrypted");
    assert_eq!(
        (count(&none, "conversations"), count(&none, "http")),
        (0, 0)
    );
    // The packet part still filters packets.
    let one = all["conversations"][0]["client"].as_str().unwrap();
    let port = one.rsplit(':').next().unwrap();
    let mixed = json(&format!("port {port} and sni tracedeck.test"));
    assert_eq!(count(&mixed, "conversations"), 1, "{mixed}");
    assert_eq!(count(&mixed, "http"), 1, "{mixed}");
    let text = cli(&[pcap, "--keylog", keys, "--http", "sni", "TRACEDECK.TEST"]);
    assert!(
        text.contains(&format!("{} shown", count(&all, "http"))),
        "{text}"
    );

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tracedeck"))
        .args(["analyze", pcap, "tls", "or", "port", "443"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'port' is a packet primitive"), "{err}");
    assert!(err.contains("at column 8"), "{err}");
}

#[test]
fn decryption_resumes_after_a_capture_gap() {
    // tls13-keepalive.pcap without the request for /a and the head of its
    // response (sample-captures/tls/make.sh, step 8).
    let (ours, warnings) = analyze_with(
        &sample("tls13-gap.pcap"),
        Some(&keys_of("tls13-keepalive.pcap")),
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let got: Vec<(Option<&str>, Option<u16>)> = ours
        .1
        .iter()
        .map(|e| (e.exchange.uri.as_deref(), e.exchange.status))
        .collect();
    assert!(got.contains(&(Some("/"), Some(200))), "{got:?}");
    assert!(
        got.contains(&(Some("/missing"), Some(404))),
        "the exchange after the gap: {got:?}"
    );
    let tls = &ours.0.values().next().unwrap().1;
    let notes = tls.notes.join("; ");
    for said in [
        "client: decryption resumed after the gap at the record of frame 18 (1 record lost)",
        "server: decryption resumed after the gap at the record of frame 16 (1 record lost)",
        "client: 106 bytes missing at stream offset 702; records read again from offset 808 (frame 18)",
    ] {
        assert!(notes.contains(said), "{notes}");
    }
}
