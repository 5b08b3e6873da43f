//! Parser errors: the column and what was expected; and agreement with
//! tcpdump on which expressions are accepted at all.

use tracedeck::filter::parse;

use crate::support::need;
fn err(expr: &str) -> (usize, String) {
    match parse(expr) {
        Ok(f) => panic!("{expr:?} parsed as {:?}", f.expr()),
        Err(e) => (e.column, e.message),
    }
}

#[test]
fn issue_7_missing_primitive_after_and() {
    let e = parse("port 80 and").unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected a primitive after 'and' at column 12"
    );
    assert_eq!(e.column, 12);
}

#[test]
fn errors_name_the_column_and_what_was_expected() {
    let cases: &[(&str, usize, &str)] = &[
        ("port 80 or", 11, "expected a primitive after 'or'"),
        ("not", 4, "expected a primitive after 'not'"),
        (
            "host",
            5,
            "expected a host, network, port or protocol after 'host'",
        ),
        (
            "tcp port",
            9,
            "expected a host, network, port or protocol after 'port'",
        ),
        ("(tcp or udp", 12, "expected ')' after 'udp'"),
        (
            "tcp or udp)",
            11,
            "expected 'and', 'or' or the end of the expression, found ')'",
        ),
        (
            "tcp[13] & 2",
            12,
            "expected a comparison (=, !=, <, <=, >, >=) after '2'",
        ),
        ("tcp[13 = 2", 8, "expected ']', found '='"),
        ("ip[0:3] = 1", 6, "data size must be 1, 2, or 4"),
        (
            "1.2.3.4",
            1,
            "expected a qualifier (host, net, port, ...) before '1.2.3.4'",
        ),
        (
            "tcp and 80",
            9,
            "expected a qualifier (host, net, port, ...) before '80'",
        ),
        ("port 70000", 6, "illegal port number 70000 > 65535"),
        ("port nosuchservice", 6, "unknown port 'nosuchservice'"),
        ("udp port http", 10, "port 'http' is tcp"),
        (
            "net 10.1.2.3/8",
            5,
            "non-network bits set in \"10.1.2.3/8\"",
        ),
        ("net 10.0.0.0/33", 5, "mask length must be <= 32"),
        ("host 10.0.0.0/8", 6, "Mask syntax for networks only"),
        (
            "net 192.168.1.1 mask 255.255.255.0",
            5,
            "non-network bits set in \"192.168.1.1 mask 255.255.255.0\"",
        ),
        ("host fe80::/10", 6, "Mask syntax for networks only"),
        ("ip host ::1", 9, "'ip' modifier applied to ip6 host"),
        ("tcp host 1.2.3.4", 10, "'tcp' modifier applied to host"),
        ("icmp port 80", 11, "illegal qualifier of 'port'"),
        (
            "src 00:11:22:33:44:55",
            5,
            "ethernet address used in non-ether expression",
        ),
        ("port 1.2.3.4", 6, "'port' modifier applied to ip host"),
        ("ip proto \\nosuch", 10, "unknown ip proto 'nosuch'"),
        ("ether proto \\nosuch", 13, "unknown ether proto 'nosuch'"),
        (
            "ip broadcast",
            4,
            "netmask not known, so 'ip broadcast' not supported",
        ),
        ("tcp[0] / 0 = 1", 8, "division by zero"),
        ("tcp[0] % 0 = 1", 8, "modulus by zero"),
        ("vlan 5000", 6, "VLAN tag 5000 greater than maximum 4095"),
        (
            "host example.com",
            6,
            "unknown host 'example.com' (tracedeck does not resolve names)",
        ),
        ("port 08", 6, "number 08 contains non-octal digit"),
        ("port 80 $", 9, "unexpected character '$'"),
        ("ether", 1, "link layer applied in wrong context"),
        ("mpls", 1, "'mpls' is not supported by tracedeck's filter"),
        ("src or port 80", 8, "expected 'dst', found 'port'"),
        (
            "len-1 > 5",
            1,
            "expected a qualifier (host, net, port, ...) before 'len-1'",
        ),
        ("héllo", 2, "unexpected character 'é'"),
        ("port 80 and héllo", 14, "unexpected character 'é'"),
    ];
    let mut wrong = Vec::new();
    for &(expr, col, msg) in cases {
        let (c, m) = err(expr);
        if c != col || m != msg {
            wrong.push(format!(
                "{expr:?}: got column {c} {m:?}, want column {col} {msg:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}tcp{}", "(".repeat(1000), ")".repeat(1000));
    assert!(parse(&deep)
        .unwrap_err()
        .message
        .contains("nested too deeply"));
    let long = vec!["tcp"; 5000].join(" and ");
    assert!(parse(&long).unwrap_err().message.contains("too long"));
    // The longest accepted chain parses, evaluates and compiles.
    let ok = vec!["port 80"; 1300].join(" or ");
    let f = parse(&ok).unwrap();
    let frame = tracedeck::pcap::Frame {
        index: 0,
        offset: 0,
        ts: None,
        link_type: tracedeck::pcap::LinkType::ETHERNET,
        interface: 0,
        orig_len: 60,
        data: &[0; 60],
    };
    assert!(!f.matches(&frame));
    assert!(tracedeck::filter::bpf::compile(&f, tracedeck::filter::bpf::Target::Ethernet).is_err());
}

/// Expressions whose acceptance does not depend on the link type: ours
/// accepts exactly those tcpdump accepts (checked with `tcpdump -d` on an
/// Ethernet capture).
#[test]
#[ignore = "needs tcpdump"]
fn accepts_what_tcpdump_accepts() {
    need::tool("tcpdump");
    let file = crate::support::shared::samples().join("filter/lo.pcap");
    let exprs = [
        "1.2.3.4",
        "tcp and 80",
        "net 10/8",
        "net 10",
        "host 10.1",
        "len-1>5",
        "port 80 and (8080 or 443)",
        "host 1.2.3.4 and (5.6.7.8 or tcp)",
        "port 80 or (8080)",
        "(port 80) or 8080",
        "tcp or (udp and 53)",
        "tcp[13]&2!=0",
        "tcp [ 13 ] & 2 != 0",
        "ip[0:3] = 1",
        "ether[0:4]=0",
        "ip proto tcp",
        "ip proto \\tcp",
        "not not not tcp",
        "! ! tcp",
        "src and dst host 1.2.3.4",
        "dst or src port 80",
        "src or port 80",
        "tcp src port 80",
        "ip src 1.2.3.4",
        "ether src 1:2:3:4:5:6",
        "ether src host 1:2:3:4:5:6",
        "ether 1:2:3:4:5:6",
        "net 192.168.0.0 mask 255.255.0.0",
        "net 192.168 mask 255.255.0.0",
        "net 10 mask 255.0.0.0",
        "host ::1",
        "ip6 net fe80::/10",
        "net fe80::1/10",
        "portrange 100-200",
        "portrange http-https",
        "port 0x50",
        "port 0120",
        "len = 0x40",
        "vlan 100 and vlan 200",
        "tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn",
        "icmp[icmptype] != icmp-echo and icmp[icmptype] != icmp-echoreply",
        "(tcp[13] & 2) != 0",
        "((tcp))",
        "()",
        "tcp and",
        "and tcp",
        "tcp tcp",
        "port",
        "less",
        "less 10 and greater 5",
        "ip[0] & 0xf0 >> 4 = 4",
        "1 + 2 * 3 = 7",
        "(1 + 2) * 3 = 9",
        "0 = 0",
        "tcp[0] / 0 = 1",
        "ip and not 1.2.3.4",
        "host 1.2.3.4 or not 5.6.7.8",
        "src 1.2.3.4 or dst 5.6.7.8",
        "inbound",
        "broadcast or multicast",
        "ip multicast",
        "ip6 multicast or ip6 broadcast",
    ];
    let mut wrong = Vec::new();
    for e in exprs {
        let out = need::tool("tcpdump")
            .arg("-d")
            .arg("-r")
            .arg(&file)
            .arg(e)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        // Link-type-specific refusals and "rejects all packets" are not
        // syntax; they are compared by the conformance test.
        let theirs = out.status.success()
            || stderr.contains("rejects all packets")
            || stderr.contains("not supported on");
        let ours = parse(e);
        if theirs != ours.is_ok() {
            wrong.push(format!(
                "{e:?}: tcpdump {}, ours {:?}",
                if theirs { "accepts" } else { "rejects" },
                ours.err()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
