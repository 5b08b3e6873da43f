//! DNS lookups against tshark's answers: on sample-captures/dns/ (dig,
//! dnsmasq and a slow, failing, silent and truncating upstream; tshark's
//! view stored beside each capture by its make.sh) and on the corpus
//! captures whose truth has a `dns` list (TRUTH_FORMAT.md).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;
use tracedeck::analysis::report::DnsRow;
use tracedeck::analysis::{
    self, dns_rcode_name, dns_type_name, HttpExchange, Options, Output, OutputError,
};
use tracedeck::flow::{Conversation, Proto};
use tracedeck::pcap::Reader;

use crate::support::need;
use crate::support::shared::{samples, shared};

#[derive(Default)]
struct Lookups {
    rows: Vec<DnsRow>,
    convs: BTreeMap<u64, Conversation>,
    exchanges: Vec<HttpExchange>,
}

impl Output for Lookups {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError> {
        self.convs.insert(conv.id, conv.clone());
        Ok(())
    }
    fn dns(&mut self, lookup: DnsRow) -> Result<(), OutputError> {
        self.rows.push(lookup);
        Ok(())
    }
    fn exchange(&mut self, exchange: HttpExchange) -> Result<(), OutputError> {
        self.exchanges.push(exchange);
        Ok(())
    }
}

fn lookups(path: &Path) -> Lookups {
    let mut out = Lookups::default();
    let mut reader = Reader::open(path).unwrap();
    analysis::analyze(&mut reader, &Options::default(), &mut out).unwrap();
    out
}

/// One DNS message as both sides describe it: frame (1-based), whether a
/// response, ID, name, type, rcode (responses), answer count (responses).
type Message = (u64, bool, u16, String, String, Option<String>, u64);

/// Our rows as the messages they were made of (retransmitted copies of a
/// query have no frame of their own: their count is returned apart).
fn our_messages(rows: &[DnsRow]) -> (Vec<Message>, u64) {
    let mut out = Vec::new();
    let mut retransmits = 0;
    for r in rows {
        retransmits += r.retransmits;
        let base = (r.query_id, r.name.clone(), r.qtype.clone());
        if let Some(f) = r.query_frame {
            out.push((
                f + 1,
                false,
                base.0,
                base.1.clone(),
                base.2.clone(),
                None,
                0,
            ));
        }
        if let Some(f) = r.response_frame {
            out.push((
                f + 1,
                true,
                base.0,
                base.1,
                base.2,
                r.rcode.clone(),
                r.answer_count,
            ));
        }
    }
    out.sort();
    (out, retransmits)
}

/// tshark also decodes the DNS message an ICMP error quotes; we do not
/// (the quote is no lookup of its own). Such a message is a copy of one
/// sent earlier: the tshark messages missing from ours that are not.
fn unexplained<'a>(theirs: &'a [Message], mine: &[Message]) -> Vec<&'a Message> {
    let same = |o: &Message, m: &Message| {
        (o.1, o.2, &o.3, &o.4, &o.5, o.6) == (m.1, m.2, &m.3, &m.4, &m.5, m.6)
    };
    theirs
        .iter()
        .filter(|m| !mine.contains(m))
        .filter(|m| !mine.iter().any(|o| o.0 < m.0 && same(o, m)))
        .collect()
}

fn hex_id(s: &str) -> u16 {
    u16::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

#[test]
fn sample_lookups_match_tshark() {
    let pcap = samples().join("dns/lookups.pcap");
    let tsv = std::fs::read_to_string(samples().join("dns/lookups.tshark.tsv")).unwrap();
    let ours = lookups(&pcap);
    let (mine, retransmits) = our_messages(&ours.rows);
    assert_eq!(
        retransmits, 0,
        "each retry of dig and dnsmasq uses a new port"
    );
    let mut theirs = Vec::new();
    let mut times = BTreeMap::new();
    for line in tsv.lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let frame: u64 = f[0].parse().unwrap();
        let response = f[4] == "1";
        let qtype = dns_type_name(f[6].parse().unwrap());
        let (rcode, answers) = if response {
            (
                Some(dns_rcode_name(f[7].parse().unwrap())),
                f[8].parse().unwrap(),
            )
        } else {
            (None, 0)
        };
        if !f[9].is_empty() {
            times.insert(frame, f[9].to_string());
        }
        theirs.push((
            frame,
            response,
            hex_id(f[3]),
            f[5].into(),
            qtype,
            rcode,
            answers,
        ));
    }
    theirs.sort();
    // Every message tshark decodes, we read alike (but the quote in the
    // ICMP error that dig's closed port sent back to dnsmasq).
    let missing = unexplained(&theirs, &mine);
    assert!(missing.is_empty(), "not as tshark: {missing:?}");
    // Ours alone: DNS over TCP on port 5300 (dnsmasq to the upstream),
    // which tshark decodes only on port 53. We claim by content.
    for m in mine.iter().filter(|m| !theirs.contains(m)) {
        let row = ours
            .rows
            .iter()
            .find(|r| {
                r.query_frame.map(|f| f + 1) == Some(m.0)
                    || r.response_frame.map(|f| f + 1) == Some(m.0)
            })
            .unwrap();
        assert_eq!(
            (row.transport, row.server.port()),
            (Proto::Tcp, 5300),
            "{m:?}"
        );
    }
    // dns.time, to the capture's microsecond.
    for r in &ours.rows {
        let Some(frame) = r.response_frame else {
            continue;
        };
        let Some(time) = r.response_time else {
            continue;
        };
        if let Some(t) = times.get(&(frame + 1)) {
            assert_eq!(
                &format!("{:.6}000", time.as_secs_f64()),
                t,
                "frame {}",
                frame + 1
            );
        }
    }
    // The cases the sample was made for.
    let count = |f: &dyn Fn(&DnsRow) -> bool| ours.rows.iter().filter(|r| f(r)).count();
    assert_eq!(count(&|r| r.rcode.as_deref() == Some("NXDOMAIN")), 2);
    assert_eq!(count(&|r| r.rcode.as_deref() == Some("SERVFAIL")), 2);
    assert_eq!(
        count(&|r| r.status == "unanswered" && r.name == "drop.test"),
        3
    );
    assert_eq!(count(&|r| r.tc && r.transport == Proto::Udp), 4);
    assert_eq!(
        count(&|r| r.name == "big.test" && r.transport == Proto::Tcp && r.answer_count == 40),
        2
    );
    assert!(
        ours.rows.iter().all(|r| r.note.is_none()),
        "{:?}",
        ours.rows
    );
    // Each retry over TCP names the truncated answer it retried: same
    // client, same server, over UDP.
    let retries: Vec<&DnsRow> = ours
        .rows
        .iter()
        .filter(|r| r.transport == Proto::Tcp && r.name == "big.test")
        .collect();
    assert_eq!(retries.len(), 2);
    for r in retries {
        let of = r.retry_of.unwrap_or_else(|| panic!("{r:?}"));
        assert!(
            ours.rows.iter().any(|t| t.conversation == of
                && t.tc
                && t.transport == Proto::Udp
                && t.client.ip() == r.client.ip()
                && t.server.ip() == r.server.ip()),
            "{r:?}"
        );
    }
    assert_eq!(count(&|r| r.retry_of.is_some()), 2);
}

/// The first exchange of a connection made just after the client's
/// lookup of its Host gives the lookup's time in its verdict; the second
/// exchange of the connection does not (sample-captures/dns/make_http.sh:
/// dig, then curl with two requests).
#[test]
fn dns_time_before_connecting_is_in_the_first_verdict() {
    let ours = lookups(&samples().join("dns/dns-then-http.pcap"));
    let dig = ours
        .rows
        .iter()
        .find(|r| r.name == "ok.test" && r.server.port() == 53)
        .unwrap();
    let took = dig.response_time.unwrap();
    assert!(took.as_nanos() >= 30_000_000, "{took}");
    let [first, second] = ours.exchanges.as_slice() else {
        panic!("{:?}", ours.exchanges);
    };
    assert_eq!(first.exchange.uri.as_deref(), Some("/first"));
    assert!(
        first
            .verdict
            .text
            .ends_with(&format!("; DNS {took} before connecting")),
        "{}",
        first.verdict.text
    );
    assert!(
        !second.verdict.text.contains("DNS"),
        "{}",
        second.verdict.text
    );
}

/// The stored TSV is still what tshark says.
#[test]
#[ignore = "needs tshark"]
fn sample_truth_is_tshark_s() {
    let pcap = samples().join("dns/lookups.pcap");
    let out = need::tool("tshark")
        .arg("-r")
        .arg(&pcap)
        .args([
            "-Y",
            "dns",
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-E",
            "occurrence=f",
        ])
        .args(
            [
                "frame.number",
                "udp.stream",
                "tcp.stream",
                "dns.id",
                "dns.flags.response",
                "dns.qry.name",
                "dns.qry.type",
                "dns.flags.rcode",
                "dns.count.answers",
                "dns.time",
                "dns.retransmission",
                "dns.flags.truncated",
            ]
            .iter()
            .flat_map(|f| ["-e", f]),
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let stored = std::fs::read(samples().join("dns/lookups.tshark.tsv")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&stored)
    );
}

/// Compares one corpus capture's `dns` list; returns the differences.
fn compare_corpus(path: &Path, truth: &Value) -> Vec<String> {
    let Some(list) = truth["dns"].as_array().filter(|l| !l.is_empty()) else {
        return Vec::new();
    };
    let ours = lookups(path);
    let (mine, retransmits) = our_messages(&ours.rows);
    let capped = list.len() >= 500;
    let mut theirs = Vec::new();
    for m in list {
        let response = m["is_response"].as_bool().unwrap_or(false);
        theirs.push((
            m["frame"].as_u64().unwrap_or(0),
            response,
            hex_id(m["id"].as_str().unwrap_or("0")),
            m["qname"].as_str().unwrap_or("<Root>").to_string(),
            m["qtype"]
                .as_u64()
                .map_or(String::new(), |t| dns_type_name(t as u16)),
            m["rcode"]
                .as_u64()
                .filter(|_| response)
                .map(|r| dns_rcode_name(r as u8)),
            if response {
                m["answers"].as_u64().unwrap_or(0)
            } else {
                0
            },
        ));
    }
    let mut diffs = Vec::new();
    let missing = unexplained(&theirs, &mine);
    // A retransmitted query is a count on its first copy's row.
    let unexplained = missing.len().saturating_sub(retransmits as usize);
    if unexplained > 0 {
        diffs.push(format!(
            "{unexplained} tshark messages not ours: {missing:?}"
        ));
    }
    if !capped {
        let last = theirs.iter().map(|m| m.0).max().unwrap_or(0);
        // mDNS (port 5353) is multicast DNS to tshark, not in its `dns`
        // list; we read it as DNS.
        let mdns: Vec<u64> = ours
            .rows
            .iter()
            .filter(|r| r.server.port() == 5353 || r.client.port() == 5353)
            .flat_map(|r| [r.query_frame, r.response_frame])
            .flatten()
            .map(|f| f + 1)
            .collect();
        let extra: Vec<_> = mine
            .iter()
            .filter(|m| m.0 <= last && !theirs.contains(m) && !mdns.contains(&m.0))
            .collect();
        if !extra.is_empty() {
            diffs.push(format!("ours, not tshark's: {extra:?}"));
        }
    }
    diffs
}

#[test]
fn corpus_lookups_match_tshark() {
    let Some(dir) = shared("corpus/captures") else {
        eprintln!("no ../shared/corpus: the sample test covers DNS");
        return;
    };
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !name.ends_with(".truth.json") {
            continue;
        }
        let truth: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        if truth["dns"].as_array().is_none_or(|l| l.is_empty()) {
            continue;
        }
        let capture = dir.join(name.trim_end_matches(".truth.json"));
        checked += 1;
        let diffs = compare_corpus(&capture, &truth);
        if !diffs.is_empty() {
            failures.push(format!("{name}: {}", diffs.join("; ")));
        }
    }
    eprintln!(
        "DNS: {} of {checked} corpus captures match tshark",
        checked - failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
}

/// The stored table answers as `analyze --dns` does: filters, the slowest
/// first, and the page.
#[test]
fn api_and_page_list_the_lookups() {
    use crate::support::serve::{fresh_dir, Server};
    let dir = fresh_dir("dns");
    let s = Server::start(&dir, &[]);
    let bytes = std::fs::read(samples().join("dns/lookups.pcap")).unwrap();
    let r = s.post_files("/api/captures", &[("lookups.pcap", &bytes)]);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(s.wait(&id)["status"], "done");

    let all = s.get(&format!("/api/captures/{id}/dns?limit=100")).json();
    let rows = lookups(&samples().join("dns/lookups.pcap")).rows;
    assert_eq!(all["total"], rows.len() as u64);

    let nx = s
        .get(&format!("/api/captures/{id}/dns?rcode=nxdomain"))
        .json();
    assert_eq!(nx["total"], 2, "{nx}");
    assert!(nx["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["rcode"] == "NXDOMAIN" && i["name"] == "nx.test"));

    let slow = s
        .get(&format!(
            "/api/captures/{id}/dns?sort=response_time&limit=2"
        ))
        .json();
    let names: Vec<&str> = slow["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["slow.test", "slow.test"], "{slow}");

    let unanswered = s
        .get(&format!("/api/captures/{id}/dns?status=unanswered"))
        .json();
    assert_eq!(unanswered["total"], 3);
    // A list, as the CLI's --rcode: both failures, and `none` for the
    // unanswered.
    let failed = s
        .get(&format!("/api/captures/{id}/dns?rcode=NXDOMAIN,servfail"))
        .json();
    assert_eq!(failed["total"], 4, "{failed}");
    let or_none = s
        .get(&format!("/api/captures/{id}/dns?rcode=SERVFAIL,none"))
        .json();
    assert_eq!(or_none["total"], 2 + unanswered["total"].as_u64().unwrap());
    let page = s
        .get(&format!("/c/{id}/dns?rcode=NXDOMAIN,SERVFAIL"))
        .text();
    assert!(page.contains("fail.test") && page.contains("nx.test"));
    let bad = s.get(&format!("/api/captures/{id}/dns?rcode=NX%20DOMAIN"));
    assert_eq!(bad.status, 400, "{}", bad.text());

    let page = s.get(&format!("/c/{id}/dns?rcode=SERVFAIL"));
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(
        html.contains("fail.test") && !html.contains("nx.test"),
        "{html}"
    );
    assert!(s
        .get(&format!("/c/{id}"))
        .text()
        .contains(&format!("/c/{id}/dns")));
}

/// `analyze --dns`: the table, its filter and sort, and the JSON list
/// only when asked for.
#[test]
fn analyze_dns_prints_the_lookups() {
    let pcap = samples().join("dns/lookups.pcap");
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tracedeck"))
            .arg("analyze")
            .arg(&pcap)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let failed = run(&["--dns", "--rcode", "nxdomain,SERVFAIL"]);
    assert!(
        failed.contains(": 21 DNS lookups, 4 shown after filters"),
        "{failed}"
    );
    let slowest = run(&["--dns", "--sort", "time", "--limit", "1"]);
    let row = slowest.lines().nth(2).unwrap();
    assert!(
        row.contains("slow.test") && row.contains("1.50"),
        "{slowest}"
    );
    let plain: Value = serde_json::from_str(&run(&["--json"])).unwrap();
    assert!(plain.get("dns").is_none(), "no dns list without --dns");
    let with: Value = serde_json::from_str(&run(&["--json", "--dns"])).unwrap();
    assert_eq!(with["dns"].as_array().map(Vec::len), Some(21));
    assert_eq!(with["conversations"], plain["conversations"]);
}
