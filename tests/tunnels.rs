//! Tunnels, PPP and HDLC link types and IP edge cases, on the samples of
//! sample-captures/tunnels/ (made by its make.py): conversations keyed by
//! the innermost headers, each naming the tunnel that carried it, compared
//! with tshark's `-z conv,tcp -z conv,udp` tables.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use tracedeck::analysis::{self, CaptureSummary, Options, Output};
use tracedeck::flow::{Conversation, Dir, Proto};
use tracedeck::pcap::Reader;

use crate::support::need;
use crate::support::shared::samples;

#[derive(Default)]
struct Collect(Vec<Conversation>);

impl Output for Collect {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), analysis::OutputError> {
        self.0.push(conv.clone());
        Ok(())
    }
}

fn dir() -> PathBuf {
    samples().join("tunnels")
}

fn analyze(path: &Path) -> (CaptureSummary, Vec<Conversation>) {
    let mut out = Collect::default();
    let mut reader = Reader::open(path).unwrap();
    let summary = analysis::analyze(&mut reader, &Options::default(), &mut out).unwrap();
    let mut convs = out.0;
    convs.sort_by_key(|c| c.id);
    (summary, convs)
}

fn tunnel_of(convs: &[Conversation], client: &str) -> Option<String> {
    let client: SocketAddr = client.parse().unwrap();
    let conv = convs.iter().find(|c| c.client == client).unwrap();
    conv.tunnel.map(|t| t.to_string())
}

/// Each client's conversation names its tunnel as `want` says.
fn assert_tunnels(convs: &[Conversation], cases: &[(&str, String)]) {
    for (client, want) in cases {
        assert_eq!(
            tunnel_of(convs, client).as_deref(),
            Some(want.as_str()),
            "{client}"
        );
    }
}

/// Packets of the conversations that came through a tunnel.
fn tunnelled_packets(convs: &[Conversation]) -> u64 {
    convs
        .iter()
        .filter(|c| c.tunnel.is_some())
        .map(|c| c.packets())
        .sum()
}

#[test]
fn conversations_name_the_tunnel_that_carried_them() {
    let (summary, convs) = analyze(&dir().join("tunnels.pcap"));
    assert_eq!(convs.len(), 52, "22 TCP, 22 inner UDP, 8 outer UDP");
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let outer = "192.0.2.1→192.0.2.2";
    let cases = [
        ("172.16.1.1:40001", format!("vxlan vni 42 {outer}")),
        ("172.16.2.1:50002", format!("geneve vni 7 {outer}")),
        ("[fd00:3::1]:40003", format!("geneve vni 8 {outer}")),
        ("172.16.4.1:40004", format!("gre {outer}")),
        ("[fd00:5::1]:40005", format!("gre key 77 {outer}")),
        ("172.16.6.1:40006", format!("nvgre vsid 4660 {outer}")),
        ("172.16.7.1:40007", format!("erspan-i {outer}")),
        ("172.16.8.1:40008", format!("erspan-ii session 100 {outer}")),
        (
            "172.16.9.1:40009",
            format!("erspan-iii session 200 {outer}"),
        ),
        ("172.16.10.1:40010", format!("4in4 {outer}")),
        ("[fd00:11::1]:40011", format!("6in4 {outer}")),
        ("172.16.12.1:40012", "4in6 2001:db8::1→2001:db8::2".into()),
        ("[fd00:13::1]:40013", "6in6 2001:db8::1→2001:db8::2".into()),
        (
            "172.16.21.1:40021",
            format!("vxlan vni 9 {outer} / gre 10.9.0.1→10.9.0.2"),
        ),
        (
            "172.16.22.1:50022",
            format!("gre {outer} / 4in4 10.8.0.1→10.8.0.2"),
        ),
    ];
    assert_tunnels(&convs, &cases);
    // MPLS labels and a PPPoE session name the path, without endpoints.
    for (client, want) in [
        ("172.16.14.1:40014", "mpls labels 100/200"),
        ("[fd00:15::1]:50015", "mpls labels 300"),
        ("172.16.16.1:40016", "pppoe session 0x0011"),
        ("[fd00:17::1]:40017", "pppoe session 0x0011"),
    ] {
        assert_eq!(tunnel_of(&convs, client).as_deref(), Some(want), "{client}");
    }
    // The other Ethernet shims carry IP straight through: no tunnel.
    for client in ["172.16.18.1:40018", "172.16.20.1:40020"] {
        assert_eq!(tunnel_of(&convs, client), None, "{client}");
    }
    // The outer VXLAN flow is a conversation of its own, as in tshark.
    assert_eq!(tunnel_of(&convs, "192.0.2.1:33333"), None);
    let inner = tunnelled_packets(&convs);
    assert_eq!(inner, 19 * 10, "every packet of the 19 tunnels found");
}

/// MPLS label stacks (cut after three labels) and PPPoE sessions, behind
/// a VLAN tag and under GRE too, name the path a conversation took.
#[test]
fn mpls_labels_and_pppoe_sessions_name_the_path() {
    let (summary, convs) = analyze(&dir().join("shims.pcap"));
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    assert_eq!(convs.len(), 18, "a TCP and a UDP conversation per path");
    for (n, want) in [
        (70, "mpls labels 16"),
        (71, "mpls labels 1000/2000/3000"),
        (72, "mpls labels 1/2/3/…"),
        (73, "mpls labels 17/18"),
        (74, "mpls labels 19"),
        (75, "gre 192.0.2.1→192.0.2.2 / mpls labels 20/21"),
        (76, "pppoe session 0x0011"),
        (77, "pppoe session 0xbeef"),
        (78, "pppoe session 0x0002"),
    ] {
        let tcp = if n == 71 || n == 77 {
            format!("[fd00:{n}::1]:400{n}")
        } else {
            format!("172.16.{n}.1:400{n}")
        };
        let udp = tcp.replace(":400", ":500");
        for client in [tcp, udp] {
            assert_eq!(
                tunnel_of(&convs, &client).as_deref(),
                Some(want),
                "{client}"
            );
        }
    }
    for c in convs.iter().filter(|c| c.proto == Proto::Tcp) {
        assert_eq!((c.packets(), c.app.records), (8, 1), "{:?}", c.tunnel);
    }
}

#[test]
fn vxlan_on_the_linux_port_is_opened_without_configuration() {
    let (_, convs) = analyze(&dir().join("vxlan-8472.pcap"));
    assert_eq!(
        tunnel_of(&convs, "172.16.30.1:40030").as_deref(),
        Some("vxlan vni 1 10.244.0.1→10.244.1.1")
    );
}

/// VXLAN-GPE (IPv4, IPv6 and Ethernet inside) and GTP-U (G-PDUs with and
/// without an extension header; an echo exchange is a plain datagram).
#[test]
fn vxlan_gpe_and_gtp_u_are_opened() {
    let (summary, convs) = analyze(&dir().join("udp-tunnels.pcap"));
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let outer = "192.0.2.1→192.0.2.2";
    let gn = "10.100.0.1→10.100.0.2";
    assert_tunnels(
        &convs,
        &[
            ("172.16.80.1:40080", format!("vxlan-gpe vni 50 {outer}")),
            ("[fd00:81::1]:50081", format!("vxlan-gpe vni 51 {outer}")),
            ("172.16.82.1:40082", format!("vxlan-gpe vni 52 {outer}")),
            ("172.16.83.1:40083", format!("gtp-u teid 256 {gn}")),
            ("[fd00:84::1]:50084", format!("gtp-u teid 512 {gn}")),
        ],
    );
    let inner = tunnelled_packets(&convs);
    assert_eq!(inner, 5 * 10);
    // 10 inner conversations, 6 outer VXLAN-GPE flows, one GTP-U flow.
    assert_eq!(convs.len(), 17);
    for c in convs.iter().filter(|c| c.proto == Proto::Tcp) {
        assert_eq!(c.app.records, 1, "{:?}", c.tunnel);
    }
}

/// GRE and VXLAN whose outer datagrams came in fragments: opened once
/// the datagram is whole, every packet of both flows found.
#[test]
fn a_tunnel_in_a_fragmented_datagram_is_opened_after_reassembly() {
    let (summary, convs) = analyze(&dir().join("fragmented.pcap"));
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let outer = "192.0.2.1→192.0.2.2";
    assert_tunnels(
        &convs,
        &[
            ("172.16.60.1:40060", format!("gre {outer}")),
            ("172.16.60.1:50060", format!("gre {outer}")),
            ("172.16.61.1:40061", format!("vxlan vni 61 {outer}")),
            ("172.16.61.1:50061", format!("vxlan vni 61 {outer}")),
            ("172.16.63.1:40063", format!("gre {outer}")),
        ],
    );
    let inner = tunnelled_packets(&convs);
    assert_eq!(inner, 3 * 10);
    assert_eq!(summary.protocols.get("other-ip"), None);
    let plain: SocketAddr = "172.16.62.1:40062".parse().unwrap();
    let conv = convs.iter().find(|c| c.client == plain).unwrap();
    assert_eq!((conv.packets(), conv.app.records), (8, 1));
}

/// Follows every inner conversation (172.16.x) of the sample `file`
/// through the API: each stream is one GET and its 200, or ping and pong,
/// with no packet left unreadable. Returns the clients followed.
fn follow_every_inner_conversation(file: &str) -> Vec<String> {
    use crate::support::serve::{fresh_dir, Server};
    let bytes = std::fs::read(dir().join(file)).unwrap();
    let s = Server::start(&fresh_dir("fragment-follow"), &[]);
    let r = s.post_files("/api/captures", &[(file, &bytes)]);
    assert!(r.status < 300, "upload: {}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    s.wait(&id);
    let base = format!("/api/captures/{id}/conversations");
    let convs = s.get(&format!("{base}?limit=1000")).json();
    let mut followed = Vec::new();
    for c in convs["items"].as_array().unwrap() {
        let n = c["id"].as_u64().unwrap();
        let client = c["client"].as_str().unwrap_or_default().to_string();
        if !client.starts_with("172.16.") {
            continue;
        }
        let stream = s.get(&format!("{base}/{n}/stream")).json();
        assert_eq!(stream["unreadable_packets"], 0, "{client}: {stream}");
        let text: String = stream["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["text"].as_str())
            .collect();
        let want = if c["proto"] == "tcp" {
            "GET / HTTP/1.1\r\nHost: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
        } else {
            "pingpong"
        };
        assert_eq!(text, want, "{client} ({})", c["tunnel"]);
        followed.push(client);
    }
    followed.sort();
    followed
}

/// Following conversations whose packets came in IP fragments: outside
/// any tunnel, inside GRE, and carrying GRE or VXLAN (the stream is
/// rebuilt from each packet's fragments, found in the records before it).
#[test]
fn a_conversation_in_fragments_follows_at_any_tunnel_depth() {
    let followed = follow_every_inner_conversation("fragmented.pcap");
    assert_eq!(followed.len(), 8, "{followed:?}");
}

/// Fragments at two depths at once (inner datagrams in fragments, each
/// carried by GRE in outer datagrams in fragments): counted as tshark
/// counts them (`conversation_tables_match_tshark`), and followed, each
/// inner fragment found inside an outer datagram completed from the
/// records before it.
#[test]
fn a_conversation_fragmented_at_two_depths_follows() {
    let (summary, convs) = analyze(&dir().join("fragmented-twice.pcap"));
    assert!(summary.warnings.is_empty(), "{:?}", summary.warnings);
    let gre = "gre 192.0.2.1→192.0.2.2".to_string();
    assert_tunnels(
        &convs,
        &[
            ("172.16.64.1:40064", gre.clone()),
            ("172.16.64.1:50064", gre),
        ],
    );
    assert_eq!(tunnelled_packets(&convs), 10);
    let followed = follow_every_inner_conversation("fragmented-twice.pcap");
    assert_eq!(followed, ["172.16.64.1:40064", "172.16.64.1:50064"]);
}

#[test]
fn an_encapsulation_left_closed_is_a_warning_naming_it() {
    let (summary, convs) = analyze(&dir().join("undecoded.pcap"));
    assert_eq!(
        summary.warnings,
        ["2 undecoded-tunnel packet(s), first at record 1: GRE carrying protocol 0x1234"]
    );
    assert_eq!(summary.protocols.get("undecoded-tunnel"), Some(&2));
    assert_eq!(summary.protocols.get("other-ip"), None);
    assert_eq!(convs.len(), 2);
}

#[test]
fn ppp_and_hdlc_link_types() {
    for (file, convs_want) in [("ppp.pcap", 4), ("ppp-hdlc.pcap", 2), ("chdlc.pcap", 4)] {
        let (summary, convs) = analyze(&dir().join(file));
        assert_eq!(convs.len(), convs_want, "{file}");
        let tcp = convs.iter().filter(|c| c.proto == Proto::Tcp);
        assert!(tcp.clone().count() >= 1, "{file}");
        for c in tcp {
            assert_eq!(c.app.records, 1, "{file}: one HTTP exchange per TCP flow");
        }
        // ppp.pcap opens with an LCP frame: PPP, but not IP.
        let non_ip = u64::from(file == "ppp.pcap");
        assert_eq!(
            summary.protocols.get("non-ip").copied().unwrap_or(0),
            non_ip,
            "{file}"
        );
    }
}

/// One row of a tshark conversation table.
#[derive(Debug, PartialEq)]
struct Row {
    frames_ab: u64,
    bytes_ab: u64,
    frames_ba: u64,
    bytes_ba: u64,
    /// Seconds from the capture's first packet, in tshark's 9 decimals,
    /// and the duration in its 4.
    start: String,
    duration: String,
}

type Table = BTreeMap<(Proto, SocketAddr, SocketAddr), Row>;

fn endpoint(s: &str) -> SocketAddr {
    let (ip, port) = s.rsplit_once(':').unwrap();
    SocketAddr::new(ip.parse::<IpAddr>().unwrap(), port.parse().unwrap())
}

/// `tshark -q -z conv,tcp -z conv,udp`, VXLAN decoded on 8472 too.
fn tshark_conversations(path: &Path) -> Table {
    let out = need::tool("tshark")
        .args([
            "-n",
            "-q",
            "-d",
            "udp.port==8472,vxlan",
            "-z",
            "conv,tcp",
            "-z",
            "conv,udp",
            "-r",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let mut table = Table::new();
    let mut proto = Proto::Tcp;
    for line in text.lines() {
        if line.starts_with("TCP Conversations") {
            proto = Proto::Tcp;
        } else if line.starts_with("UDP Conversations") {
            proto = Proto::Udp;
        }
        let t: Vec<&str> = line.split_whitespace().collect();
        if t.len() != 14 || t[1] != "<->" {
            continue;
        }
        // A <-> B | frames bytes "bytes" (B to A) | A to B | total | start duration
        let n = |i: usize| t[i].parse::<u64>().unwrap();
        table.insert(
            (proto, endpoint(t[0]), endpoint(t[2])),
            Row {
                frames_ba: n(3),
                bytes_ba: n(4),
                frames_ab: n(6),
                bytes_ab: n(7),
                start: t[12].to_string(),
                duration: t[13].to_string(),
            },
        );
    }
    table
}

/// Our conversations in the shape of tshark's table, with A the side
/// tshark puts first (the sender of the conversation's first packet).
fn our_conversations(path: &Path, theirs: &Table) -> Table {
    let (summary, convs) = analyze(path);
    let first = summary.first_ts.unwrap();
    let mut table = Table::new();
    for c in convs {
        let (a, b, ab) = if theirs.contains_key(&(c.proto, c.server, c.client)) {
            (c.server, c.client, Dir::ToClient)
        } else {
            (c.client, c.server, Dir::ToServer)
        };
        let ba = if ab == Dir::ToServer {
            Dir::ToClient
        } else {
            Dir::ToServer
        };
        let start = c.start.unwrap().since(first).as_nanos();
        let dur = c.duration().as_nanos();
        table.insert(
            (c.proto, a, b),
            Row {
                frames_ab: c.dirs[ab.index()].packets,
                bytes_ab: c.dirs[ab.index()].bytes,
                frames_ba: c.dirs[ba.index()].packets,
                bytes_ba: c.dirs[ba.index()].bytes,
                start: format!("{}.{:09}", start / 1_000_000_000, start % 1_000_000_000),
                duration: format!("{:.4}", dur as f64 / 1e9),
            },
        );
    }
    table
}

#[test]
#[ignore = "needs tshark"]
fn conversation_tables_match_tshark() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcap"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    for path in files {
        let theirs = tshark_conversations(&path);
        assert!(!theirs.is_empty(), "{}", path.display());
        let ours = our_conversations(&path, &theirs);
        assert_eq!(ours, theirs, "{}", path.display());
    }
}

#[test]
fn ip_edge_cases_are_keyed_as_tshark_keys_them() {
    let (summary, convs) = analyze(&dir().join("ip-edges.pcap"));
    // LSRR and SSRR: the final destination, not the next hop in the header.
    for n in [50, 51] {
        let client: SocketAddr = format!("172.16.{n}.1:40{n:03}").parse().unwrap();
        let conv = convs.iter().find(|c| c.client == client).unwrap();
        assert_eq!(conv.server, format!("172.16.{n}.2:80").parse().unwrap());
        assert_eq!(conv.packets(), 8);
    }
    // A malformed IP option and a malformed TCP option: TCP still counts.
    for n in [52, 53] {
        let client: SocketAddr = format!("172.16.{n}.1:40{n:03}").parse().unwrap();
        let conv = convs.iter().find(|c| c.client == client).unwrap();
        assert_eq!((conv.packets(), conv.app.records), (8, 1));
    }
    // UDP length fields of 0, 4 and 7: malformed, in no conversation.
    assert_eq!(summary.protocols.get("malformed"), Some(&3));
    assert!(convs
        .iter()
        .all(|c| c.client.ip().to_string() != "172.16.54.1"));
    assert_eq!(convs.len(), 8);
}

/// Following a tunnelled conversation reads its bytes from inside the
/// tunnel: every TCP conversation of tunnels.pcap is one GET and its 200,
/// whatever carried it (VXLAN, Geneve, GRE, ERSPAN, IP-in-IP, nested).
#[test]
fn a_tunnelled_conversation_follows_from_inside_its_tunnel() {
    use crate::support::serve::{fresh_dir, Server};
    let bytes = std::fs::read(dir().join("tunnels.pcap")).unwrap();
    let s = Server::start(&fresh_dir("tunnel-follow"), &[]);
    let r = s.post_files("/api/captures", &[("tunnels.pcap", &bytes)]);
    assert!(r.status < 300, "upload: {}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_string();
    s.wait(&id);
    let base = format!("/api/captures/{id}/conversations");
    let convs = s.get(&format!("{base}?limit=1000")).json();
    let mut followed = 0;
    for c in convs["items"].as_array().unwrap() {
        if c["proto"] != "tcp" {
            continue;
        }
        let n = c["id"].as_u64().unwrap();
        let stream = s.get(&format!("{base}/{n}/stream")).json();
        let text: String = stream["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["text"].as_str())
            .collect();
        assert!(
            text.starts_with("GET / HTTP/1.1") && text.contains("HTTP/1.1 200 OK"),
            "conversation {n} ({}): {text:?}",
            c["tunnel"]
        );
        followed += 1;
    }
    assert!(followed >= 10, "only {followed} TCP conversations");
}
