//! Redaction (issue 17, README "Redacted sharing"): a redacted capture, a
//! redacted stream and a redacted per-conversation pcap carry no secret of
//! sample-captures/secrets/, and analyse to the same conversation table
//! and HTTP exchanges (addresses mapped, query values masked) as the
//! original. See: issue 17.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use tracedeck::analysis::follow::{ChunkKind, Ends, StreamBuilder};
use tracedeck::analysis::report::{ConversationRow, ExchangeRow};
use tracedeck::analysis::{self, HttpExchange, Options, Output, OutputError};
use tracedeck::flow::{Conversation, PacketInfo};
use tracedeck::pcap::at_offset::RecordFile;
use tracedeck::pcap::Reader;
use tracedeck::redact::rewrite::redact_capture;
use tracedeck::redact::{views, Profile, ProfileName, Redactor};

use crate::support::need;
use crate::support::serve::fresh_dir;
use crate::support::shared::{captures_under, samples, shared};

const KEY: [u8; 32] = [0x5a; 32];
/// What the sample's traffic carries (headers, query, bodies).
const PAYLOAD_SECRETS: [&str; 5] = ["SECRET1", "SECRET2", "SECRET3", "SECRET4", "SECRET5"];
/// The pcapng capture comment.
const COMMENT_SECRET: &str = "SECRET6";

fn inputs() -> Vec<PathBuf> {
    let dir = samples().join("secrets");
    vec![dir.join("secrets.pcap"), dir.join("secrets.pcapng")]
}

#[derive(Default)]
struct Collected {
    conversations: Vec<ConversationRow>,
    exchanges: Vec<ExchangeRow>,
    packets: BTreeMap<u64, Vec<PacketInfo>>,
    conv_protos: BTreeMap<u64, (tracedeck::flow::Proto, Ends)>,
}

impl Output for Collected {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError> {
        self.conversations.push(ConversationRow::from(conv));
        self.conv_protos.insert(
            conv.id,
            (
                conv.proto,
                Ends {
                    client: conv.client,
                    server: conv.server,
                },
            ),
        );
        Ok(())
    }
    fn packet(&mut self, conv: &Conversation, p: &PacketInfo) -> Result<(), OutputError> {
        self.packets.entry(conv.id).or_default().push(*p);
        Ok(())
    }
    fn exchange(&mut self, e: HttpExchange) -> Result<(), OutputError> {
        self.exchanges.push(ExchangeRow::from(e));
        Ok(())
    }
}

fn analyze(path: &Path) -> Collected {
    try_analyze(path).unwrap_or_else(|| panic!("{}: analysis failed", path.display()))
}

/// None when the analysis refuses the file (a broken sample).
fn try_analyze(path: &Path) -> Option<Collected> {
    let mut reader = Reader::open(path).ok()?;
    let mut out = Collected::default();
    let opts = Options {
        packets: true,
        ..Options::default()
    };
    analysis::analyze(&mut reader, &opts, &mut out).ok()?;
    out.conversations.sort_by_key(|c| c.id);
    out.exchanges.sort_by_key(|e| {
        (
            e.conversation,
            e.request_start,
            e.response_start,
            e.request_first_frame,
            e.response_first_frame,
        )
    });
    Some(out)
}

fn assert_no_secret(what: &str, bytes: &[u8], secrets: &[&str]) {
    for s in secrets {
        assert!(
            !bytes.windows(s.len()).any(|w| w == s.as_bytes()),
            "{what}: {s} is still there"
        );
    }
}

fn redacted_file(input: &Path, r: &Redactor, name: &str) -> PathBuf {
    let file_name = input.file_name().unwrap().to_str().unwrap();
    let out = fresh_dir(&format!("redact-{name}-{file_name}")).join(file_name);
    let mut file = std::fs::File::create(&out).unwrap();
    redact_capture(r, input, &mut file).unwrap();
    out
}

/// The rows the owner sees, as a share link with `r` shows them.
fn mapped(r: &Redactor, mut owner: Collected) -> Collected {
    owner
        .conversations
        .iter_mut()
        .for_each(|c| views::conversation_row(r, c));
    owner
        .exchanges
        .iter_mut()
        .for_each(|e| views::exchange_row(r, e));
    owner
}

/// A Host naming an IP address is masked in the bytes (a pseudonym would
/// not fit its length) and pseudonymised in rows: compare the rest.
fn without_hosts(rows: &mut [ExchangeRow]) -> Vec<Option<String>> {
    rows.iter_mut().map(|e| e.host.take()).collect()
}

#[test]
fn issue_17_redacted_captures_keep_every_number_and_no_secret() {
    for input in inputs() {
        let original = std::fs::read(&input).unwrap();
        assert!(
            original.windows(7).any(|w| w == b"SECRET3"),
            "{}: the sample must carry its secrets",
            input.display()
        );
        for name in [
            ProfileName::Strict,
            ProfileName::Headers,
            ProfileName::Addresses,
        ] {
            let r = Redactor::new(Profile::named(name), &KEY);
            let out = redacted_file(&input, &r, &format!("{name:?}"));
            let bytes = std::fs::read(&out).unwrap();
            let what = format!("{} ({name:?})", out.display());
            assert_no_secret(&what, &bytes, &[COMMENT_SECRET]);
            if name != ProfileName::Addresses {
                assert_no_secret(&what, &bytes, &PAYLOAD_SECRETS);
            }
            if name != ProfileName::Headers {
                assert_no_secret(&what, &bytes, &["127.0.0.1"]);
                assert!(!bytes.windows(4).any(|w| w == [127, 0, 0, 1]), "{what}");
            }

            let mut want = mapped(&r, analyze(&input));
            let mut got = analyze(&out);
            assert_eq!(got.conversations, want.conversations, "{what}");
            assert_eq!(got.exchanges.len(), 4, "{what}");
            let (got_hosts, want_hosts) = (
                without_hosts(&mut got.exchanges),
                without_hosts(&mut want.exchanges),
            );
            assert_eq!(got.exchanges, want.exchanges, "{what}");
            for (g, w) in got_hosts.iter().zip(&want_hosts) {
                let (g, w) = (g.as_deref().unwrap(), w.as_deref().unwrap());
                if name == ProfileName::Headers {
                    assert_eq!(g, "127.0.0.1:8093");
                } else {
                    assert_eq!(g, "x".repeat(g.len()), "{what}: Host in the bytes");
                    assert_eq!(w, r.socket("127.0.0.1:8093".parse().unwrap()).to_string());
                }
            }
        }
    }
}

/// Captures whose HTTP rides in IP fragments: a value-masking profile
/// masks fragments whole (their stream position is unknown), so their
/// exchanges are lost (README, "Redacted sharing").
const FRAGMENTED_HTTP: [&str; 2] = [
    "arkime-socks5-http-302-frag.pcap",
    "zeek-ipv4-fragmented-4.pcap",
];

/// Tunnels whose outer datagrams came in IP fragments: the rewriter masks
/// such fragments' payload whole (it does not reassemble), so the copy
/// has no tunnelled conversations (README, "Redacted sharing").
const FRAGMENTED_TUNNELS: [&str; 2] = ["fragmented.pcap", "fragmented-twice.pcap"];

/// Captures whose application layer the rewriter does not read value by
/// value (TLS records; HTTP/2 header blocks, masked whole): `strict` masks
/// that payload, so their TLS facts and HTTP/2 exchanges are lost in the
/// rewritten file (README, "Redacted sharing"); `addresses` keeps them.
fn payload_masked_whole(owner: &Collected) -> bool {
    owner
        .conversations
        .iter()
        .any(|c| c.tls_version.is_some() || c.tls_notes.is_some() || c.tls_sni.is_some())
        || owner.exchanges.iter().any(|e| e.http_version == Some(2))
}

#[test]
fn issue_17_every_sample_and_corpus_capture_analyses_alike_after_redaction() {
    let mut files = captures_under(&samples());
    files.extend(shared("corpus/captures").map_or_else(Vec::new, |d| captures_under(&d)));
    let mut compared = 0;
    for input in &files {
        let Some(owner) = try_analyze(input) else {
            continue;
        };
        let file_name = input.file_name().unwrap().to_str().unwrap();
        if FRAGMENTED_TUNNELS.contains(&file_name) {
            continue;
        }
        for name in [ProfileName::Strict, ProfileName::Addresses] {
            if name == ProfileName::Strict
                && (FRAGMENTED_HTTP.contains(&file_name) || payload_masked_whole(&owner))
            {
                continue;
            }
            // An HTTP/2 header block naming an address is masked whole
            // (HPACK), so its exchange's fields are lost in the copy
            // (README, "Redacted sharing"): the test above checks these.
            if name == ProfileName::Addresses
                && owner.exchanges.iter().any(|e| e.http_version == Some(2))
            {
                continue;
            }
            // A pcapng's key log (Decryption Secrets Block) is never
            // written to a redacted copy, so the exchanges it decrypted
            // are not in the copy, as meant.
            if owner.exchanges.iter().any(|e| e.tls) {
                let out = redacted_file(input, &Redactor::new(Profile::named(name), &KEY), "dsb");
                let bytes = std::fs::read(&out).unwrap();
                assert!(
                    !bytes.windows(13).any(|w| w == b"CLIENT_RANDOM")
                        && !bytes.windows(13).any(|w| w == b"TRAFFIC_SECRE"),
                    "{}: a key log left in the redacted copy",
                    input.display()
                );
                continue;
            }
            let r = Redactor::new(Profile::named(name), &KEY);
            let out = redacted_file(input, &r, &format!("all-{name:?}"));
            let what = format!("{} ({name:?})", input.display());
            let mut got = try_analyze(&out).unwrap_or_else(|| panic!("{what}: no analysis"));
            let mut want = mapped(
                &r,
                Collected {
                    conversations: owner.conversations.clone(),
                    exchanges: owner.exchanges.clone(),
                    ..Collected::default()
                },
            );
            if name == ProfileName::Strict {
                // `strict` masks DNS as other payload: the copy has no
                // lookups, so no verdict gives a DNS time.
                for e in &mut want.exchanges {
                    if e.verdict.ends_with(" before connecting") {
                        if let Some(at) = e.verdict.rfind("; DNS ") {
                            e.verdict.truncate(at);
                        }
                    }
                }
            }
            assert_eq!(got.conversations, want.conversations, "{what}");
            // An IP-literal Host is masked in the bytes and pseudonymised
            // in rows; names are kept in both.
            for (g, w) in without_hosts(&mut got.exchanges)
                .iter()
                .zip(without_hosts(&mut want.exchanges))
            {
                if g != &w {
                    let g = g.as_deref().unwrap_or_default();
                    assert_eq!(g, "x".repeat(g.len()), "{what}: Host");
                }
            }
            assert_eq!(got.exchanges, want.exchanges, "{what}");
            compared += 1;
        }
    }
    assert!(
        compared >= 2 * inputs().len(),
        "{compared} redactions compared"
    );
}

/// Every address an analysis of `c` shows: its ends and its tunnel hops'.
fn row_addresses(c: &ConversationRow) -> Vec<IpAddr> {
    let hops = c.tunnel.iter().flat_map(|t| t.split([' ', '→']));
    let mut out: Vec<IpAddr> = hops.filter_map(|w| w.parse().ok()).collect();
    out.extend([c.client.ip(), c.server.ip()]);
    out
}

fn octets(a: IpAddr) -> Vec<u8> {
    match a {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// sample-captures/tunnels/: addresses inside every tunnel, of both IP
/// versions, and in IPv4 source routes are pseudonymised like the outer
/// ones (checksums fixed), so no input address is left in the bytes or in
/// the rows of the redacted copy (the all-captures test above compares
/// their conversation tables and exchanges).
#[test]
fn issue_17_tunnelled_and_source_routed_addresses_leave_no_trace() {
    let files = captures_under(&samples().join("tunnels"));
    assert!(files.len() >= 6, "{files:?}");
    let mut checked = 0;
    for input in files {
        let owner = analyze(&input);
        let mut addrs: BTreeSet<IpAddr> =
            owner.conversations.iter().flat_map(row_addresses).collect();
        // The source-routed datagrams' next hops (make.py's edges()) are
        // in no row: the analysis keys them by their final destination.
        if input.ends_with("ip-edges.pcap") {
            addrs.extend(["10.50.50.254", "10.50.51.254"].map(|a| a.parse::<IpAddr>().unwrap()));
        }
        let original = std::fs::read(&input).unwrap();
        for a in &addrs {
            let o = octets(*a);
            assert!(
                original.windows(o.len()).any(|w| w == o),
                "{}: {a}",
                input.display()
            );
        }
        for name in [ProfileName::Strict, ProfileName::Addresses] {
            let r = Redactor::new(Profile::named(name), &KEY);
            let out = redacted_file(&input, &r, &format!("tunnels-{name:?}"));
            let what = format!("{} ({name:?})", out.display());
            let bytes = std::fs::read(&out).unwrap();
            let got = analyze(&out);
            let shown: BTreeSet<IpAddr> =
                got.conversations.iter().flat_map(row_addresses).collect();
            for a in &addrs {
                let o = octets(*a);
                assert!(
                    !bytes.windows(o.len()).any(|w| w == o),
                    "{what}: {a} in the bytes"
                );
                assert!(!shown.contains(a), "{what}: {a} in a row");
            }
            checked += addrs.len();
        }
    }
    assert!(checked > 100, "{checked} addresses checked");
}

/// sample-captures/h2/ (h2c with prior knowledge, upgraded, with
/// CONTINUATION, GOAWAY, and gRPC): frame headers are kept, so the copy
/// analyses to the same conversation table; header blocks are masked
/// whole under `strict` and `headers` (HPACK), DATA under the body policy,
/// and `addresses` keeps both unless a block names an IP address.
#[test]
fn issue_17_http2_header_blocks_and_data_follow_the_profile() {
    let files = captures_under(&samples().join("h2"));
    assert!(files.len() >= 5, "{files:?}");
    // Header values and DATA payload the samples carry.
    let header_values = ["grpc-python", "text/plain", "application/grpc"];
    let bodies = ["<h1>index</h1>", "upgraded to h2c"];
    let found = |bytes: &[u8], s: &str| bytes.windows(s.len()).any(|w| w == s.as_bytes());
    for input in files {
        let owner = analyze(&input);
        // h2 over TLS (h2-tls.pcap): its records are masked whole, as
        // every TLS capture's (the test above); no HPACK to look into.
        if owner.conversations.iter().any(|c| c.tls) {
            continue;
        }
        let original = std::fs::read(&input).unwrap();
        for name in [
            ProfileName::Strict,
            ProfileName::Headers,
            ProfileName::Addresses,
        ] {
            let r = Redactor::new(Profile::named(name), &KEY);
            let out = redacted_file(&input, &r, &format!("h2-{name:?}"));
            let what = format!("{} ({name:?})", out.display());
            let bytes = std::fs::read(&out).unwrap();
            assert_eq!(bytes.len(), original.len(), "{what}");
            let got = analyze(&out);
            let want = mapped(
                &r,
                Collected {
                    conversations: owner.conversations.clone(),
                    ..Collected::default()
                },
            );
            assert_eq!(got.conversations, want.conversations, "{what}");
            for s in header_values.iter().chain(&bodies) {
                if !found(&original, s) {
                    continue;
                }
                if name == ProfileName::Addresses && header_values.contains(s) {
                    continue; // Kept in a block that names no address.
                }
                let kept = name == ProfileName::Addresses;
                assert_eq!(found(&bytes, s), kept, "{what}: {s}");
            }
            if name != ProfileName::Headers {
                // `:authority` or Host naming the loopback address.
                assert!(!found(&bytes, "127.0.0.1"), "{what}");
            }
        }
    }
}

#[test]
fn issue_17_strict_hides_bodies_and_query_values_but_keeps_safe_assets_for_headers() {
    let input = &inputs()[0];
    let strict = Redactor::new(Profile::named(ProfileName::Strict), &KEY);
    let rows = analyze(&redacted_file(input, &strict, "uris"));
    let uris: Vec<&str> = rows
        .exchanges
        .iter()
        .filter_map(|e| e.uri.as_deref())
        .collect();
    assert!(
        uris.contains(&"/account?token=xxxxxxx&view=xxxx"),
        "{uris:?}"
    );
    let headers = Redactor::new(Profile::named(ProfileName::Headers), &KEY);
    let bytes = std::fs::read(redacted_file(input, &headers, "assets")).unwrap();
    // image/png bodies are kept under `headers`, masked under `strict`.
    assert!(bytes.windows(14).any(|w| w == b"PNG-not-secret"));
    let bytes = std::fs::read(redacted_file(input, &strict, "assets")).unwrap();
    assert!(!bytes.windows(14).any(|w| w == b"PNG-not-secret"));
}

#[test]
fn issue_17_redacted_streams_and_conversation_pcaps_hold_no_secret() {
    let r = Redactor::new(Profile::named(ProfileName::Strict), &KEY);
    for input in inputs() {
        let owner = analyze(&input);
        for (id, packets) in &owner.packets {
            let (proto, ends) = owner.conv_protos[id];
            let file = RecordFile::open(&input).unwrap();
            let mut builder = StreamBuilder::new(file, *id, proto, ends, 1 << 20);
            for p in packets {
                builder.packet(p);
            }
            let mut view = builder.finish();
            let lens: Vec<usize> = view.chunks.iter().map(|c| c.bytes.len()).collect();
            views::stream(&r, &mut view);
            let after: Vec<usize> = view.chunks.iter().map(|c| c.bytes.len()).collect();
            assert_eq!(lens, after, "conversation {id}: lengths kept");
            let text: Vec<u8> = view
                .chunks
                .iter()
                .filter(|c| c.kind == ChunkKind::Data)
                .flat_map(|c| c.bytes.clone())
                .collect();
            assert_no_secret(&format!("stream {id}"), &text, &PAYLOAD_SECRETS);
            let json = serde_json::to_vec(&view).unwrap();
            assert_no_secret(&format!("stream {id} JSON"), &json, &PAYLOAD_SECRETS);

            let mut hex = Vec::new();
            let file = RecordFile::open(&input).unwrap();
            views::conversation_packets(&r, &file, packets, &mut |_, _, bytes| {
                hex.extend_from_slice(bytes)
            })
            .unwrap();
            assert_no_secret(&format!("packets of {id}"), &hex, &PAYLOAD_SECRETS);

            let mut pcap = Vec::new();
            let file = RecordFile::open(&input).unwrap();
            views::export_pcap(&r, file, packets, &mut pcap).unwrap();
            assert_no_secret(&format!("pcap of {id}"), &pcap, &PAYLOAD_SECRETS);
            let path = fresh_dir("redact-conv").join(format!("conv-{id}.pcap"));
            std::fs::write(&path, &pcap).unwrap();
            let got = analyze(&path);
            let want: Vec<ConversationRow> = owner
                .conversations
                .iter()
                .filter(|c| c.id == *id)
                .map(|c| {
                    let mut c = c.clone();
                    views::conversation_row(&r, &mut c);
                    c
                })
                .collect();
            let strip = |c: &ConversationRow| {
                let mut c = c.clone();
                // Alone in its file, the conversation is number 1 from frame 0.
                (c.id, c.first_frame, c.last_frame) = (0, 0, 0);
                c
            };
            assert_eq!(
                got.conversations.iter().map(strip).collect::<Vec<_>>(),
                want.iter().map(strip).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
fn the_redact_command_writes_a_clean_copy_and_refuses_an_unknown_profile() {
    let input = &inputs()[1];
    let out = fresh_dir("redact-cli").join("shared.pcapng");
    let redact = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_tracedeck"))
            .arg("redact")
            .arg(input)
            .arg(&out)
            .args(args)
            .output()
            .unwrap()
    };
    let run = redact(&["--profile", "headers", "--mask-header", "Content-Type"]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let bytes = std::fs::read(&out).unwrap();
    assert_no_secret("redact --profile headers", &bytes, &PAYLOAD_SECRETS);
    assert!(!bytes.windows(16).any(|w| w == b"application/json"));

    let bad = redact(&["--profile", "loose"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown redaction profile"));
}

#[test]
#[ignore = "needs tshark"]
fn tshark_finds_every_checksum_of_a_redacted_capture_right() {
    let r = Redactor::new(Profile::named(ProfileName::Strict), &KEY);
    for input in inputs() {
        let out = redacted_file(&input, &r, "checksums");
        let run = need::tool("tshark")
            .arg("-r")
            .arg(&out)
            .args([
                "-o",
                "tcp.check_checksum:TRUE",
                "-o",
                "ip.check_checksum:TRUE",
                "-T",
                "fields",
                "-e",
                "ip.checksum.status",
                "-e",
                "tcp.checksum.status",
            ])
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let text = String::from_utf8_lossy(&run.stdout);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines.len() > 20, "{}: {text}", out.display());
        // 1 = good (tshark's PROTO_CHECKSUM_E_GOOD), for IP and TCP.
        assert!(
            lines.iter().all(|l| *l == "1\t1"),
            "{}: {text}",
            out.display()
        );
    }
}

#[test]
#[ignore = "needs tshark"]
fn tshark_finds_no_bad_checksum_inside_or_outside_redacted_tunnels() {
    let r = Redactor::new(Profile::named(ProfileName::Strict), &KEY);
    for input in captures_under(&samples().join("tunnels")) {
        let out = redacted_file(&input, &r, "tunnel-checksums");
        let run = need::tool("tshark")
            .arg("-r")
            .arg(&out)
            .args(["-d", "udp.port==8472,vxlan"])
            .args([
                "-o",
                "ip.check_checksum:TRUE",
                "-o",
                "tcp.check_checksum:TRUE",
            ])
            .args(["-o", "udp.check_checksum:TRUE", "-T", "fields"])
            .args(["-e", "ip.checksum.status", "-e", "tcp.checksum.status"])
            .args(["-e", "udp.checksum.status"])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&run.stdout);
        assert!(
            run.status.success() && !text.is_empty(),
            "{}",
            out.display()
        );
        // 2 is tshark's PROTO_CHECKSUM_E_BAD, at any level.
        assert!(!text.contains('2'), "{}: {text}", out.display());
    }
}
