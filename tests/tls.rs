//! TLS metadata on the captures of sample-captures/tls (made by its
//! make.sh with curl, openssl and python3's ssl on loopback): what each
//! conversation's TLS summary says, and the same facts against tshark.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tracedeck::analysis::tls::{Resumption, Side, TlsSummary, Validity};
use tracedeck::analysis::{self, Options, Output, OutputError};
use tracedeck::flow::Conversation;
use tracedeck::pcap::Reader;

use crate::support::{need, shared};

fn sample(name: &str) -> PathBuf {
    shared::samples().join("tls").join(name)
}

/// Each TCP conversation's client port and TLS summary, by conversation id.
#[derive(Default)]
struct Summaries(BTreeMap<u64, (u16, Arc<TlsSummary>)>);

impl Output for Summaries {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError> {
        if let Some(tls) = &conv.app.tls {
            self.0.insert(conv.id, (conv.client.port(), tls.clone()));
        }
        Ok(())
    }
}

fn analyze(path: &Path) -> Summaries {
    let mut reader = Reader::open(path).unwrap();
    let mut out = Summaries::default();
    analysis::analyze(&mut reader, &Options::default(), &mut out).unwrap();
    out
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
        ]
    );
    for t in &s {
        assert_eq!(t.version, Some("TLS 1.2"));
        assert_eq!(t.alpn.as_deref(), Some("http/1.1"));
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

/// `tshark -T fields` output: one line per packet, fields tab-separated.
fn tshark_fields(path: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = need::tool("tshark");
    cmd.args(["-n", "-r"])
        .arg(path)
        .args(["-Y", filter, "-T", "fields"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
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
    for name in [
        "tls13-keepalive.pcap",
        "tls12-suites.pcap",
        "tls-resumed.pcap",
        "tls13-hrr.pcap",
        "tls-failures.pcap",
    ] {
        let path = sample(name);
        let ours: BTreeMap<u16, Arc<TlsSummary>> = analyze(&path).0.into_values().collect();
        // The ClientHello's SNI, by client port.
        let mut theirs: BTreeMap<u16, Vec<String>> = BTreeMap::new();
        for row in tshark_fields(
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
        for row in tshark_fields(
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
        for row in tshark_fields(
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
