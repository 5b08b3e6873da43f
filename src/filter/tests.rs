//! Unit tests: evaluation on hand-made frames for the cases tcpdump is
//! particular about (fragments, IPv6 extension headers, VLAN tags,
//! truncation, loopback byte order), each checked against the BPF path too.

use super::bpf::{self, Target};
use super::parse;
use crate::pcap::{Frame, LinkType};

fn frame(lt: LinkType, data: &[u8]) -> Frame<'_> {
    Frame {
        index: 0,
        offset: 0,
        ts: None,
        link_type: lt,
        interface: 0,
        orig_len: data.len() as u32,
        data,
    }
}

/// `expr` on an Ethernet frame, user space and BPF agreeing.
fn eth(expr: &str, data: &[u8]) -> bool {
    let f = parse(expr).unwrap();
    let want = f.matches(&frame(LinkType::ETHERNET, data));
    if let Ok(prog) = bpf::compile(&f, Target::Ethernet) {
        assert_eq!(
            bpf::run(&prog, data, data.len() as u32, 0) != 0,
            want,
            "{expr}"
        );
    }
    want
}

const ETH_IP4: [u8; 14] = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x08, 0x00];
const ETH_IP6: [u8; 14] = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 2, 0x86, 0xdd];

/// IPv4 header (20 bytes) + 20 bytes of transport with ports 1234 -> 80.
fn ipv4_tcp(frag: u16) -> Vec<u8> {
    let mut p = ETH_IP4.to_vec();
    let [f0, f1] = frag.to_be_bytes();
    p.extend_from_slice(&[
        0x45, 0, 0, 40, 0, 1, f0, f1, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ]);
    p.extend_from_slice(&[
        0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff, 0, 0, 0, 0,
    ]);
    p
}

fn ipv6(next: u8, payload: &[u8]) -> Vec<u8> {
    let mut p = ETH_IP6.to_vec();
    let len = (payload.len() as u16).to_be_bytes();
    p.extend_from_slice(&[0x60, 0, 0, 0, len[0], len[1], next, 64]);
    p.extend_from_slice(&[0; 15]);
    p.push(1); // ::1
    p.extend_from_slice(&[0; 15]);
    p.push(2); // ::2
    p.extend_from_slice(payload);
    p
}

const TCP_1234_80: [u8; 20] = [
    0x04, 0xd2, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x12, 0xff, 0xff, 0, 0, 0, 0,
];

#[test]
fn port_skips_non_first_fragments_but_tcp_does_not() {
    let first = ipv4_tcp(0x2000); // MF, offset 0
    let later = ipv4_tcp(0x0005); // offset 40
    assert!(eth("port 80", &first));
    assert!(!eth("port 80", &later));
    assert!(eth("tcp", &later));
    assert!(eth("tcp[13] & tcp-syn != 0", &first));
    assert!(!eth("tcp[13] & tcp-syn != 0", &later));
    // `!=` is negated inside the protocol check: a later fragment is not TCP
    // data, so it matches neither the test nor its negation.
    assert!(!eth("tcp[13] & tcp-syn = 0", &later));
    assert!(eth("ip[6:2] & 0x1fff != 0", &later));
}

#[test]
fn ipv6_ports_only_right_after_the_fixed_header() {
    let direct = ipv6(6, &TCP_1234_80);
    let mut frag = vec![6, 0, 0, 0, 0, 0, 0, 1];
    frag.extend_from_slice(&TCP_1234_80);
    let behind_frag = ipv6(44, &frag);
    assert!(eth("port 80", &direct));
    assert!(eth("tcp src port 1234", &direct));
    assert!(!eth("port 80", &behind_frag));
    // ... while `tcp` looks behind one fragment header.
    assert!(eth("tcp", &behind_frag));
    assert!(eth("ip6 proto 6", &behind_frag));
    assert!(!eth("ip", &direct));
    assert!(eth("host ::1 and dst host ::2", &direct));
    assert!(eth("ip6 net ::/120", &direct));
    assert!(!eth("ip6 net ff00::/8", &direct));
}

#[test]
fn vlan_moves_later_primitives_only() {
    let mut tagged = ETH_IP4[..12].to_vec();
    tagged.extend_from_slice(&[0x81, 0x00, 0x00, 0x64, 0x08, 0x00]); // VLAN 100, IPv4
    tagged.extend_from_slice(&ipv4_tcp(0)[14..]);
    assert!(!eth("ip", &tagged), "ip does not look past the tag");
    assert!(eth("vlan and ip", &tagged));
    assert!(eth("vlan 100 and tcp port 80", &tagged));
    assert!(!eth("vlan 200", &tagged));
    assert!(eth("ip or vlan", &tagged));
    // After `vlan`, even an `or` branch is read 4 bytes further on.
    assert!(!eth("vlan or ip", &ipv4_tcp(0)));
    let f = parse("vlan").unwrap();
    assert!(
        bpf::compile(&f, Target::Ethernet).is_err(),
        "live sockets strip tags"
    );
}

#[test]
fn truncated_packets_are_rejected_where_bytes_are_missing() {
    let full = ipv4_tcp(0);
    let cut = &full[..14 + 20 + 2]; // source port only
    let f = parse("src port 1234").unwrap();
    let mut fr = frame(LinkType::ETHERNET, cut);
    fr.orig_len = full.len() as u32;
    assert!(f.matches(&fr));
    // The destination port is missing: the whole filter rejects, even
    // though the `or` could have been true.
    let f = parse("dst port 80 or src port 1234").unwrap();
    assert!(!f.matches(&fr));
    // `len` is the wire length, not the captured length.
    assert!(parse("len = 54").unwrap().matches(&fr));
    assert!(parse("greater 54").unwrap().matches(&fr));
    assert!(!parse("less 53").unwrap().matches(&fr));
}

#[test]
fn loopback_and_raw_link_types() {
    let ip = ipv4_tcp(0)[14..].to_vec();
    let mut null_le = vec![2, 0, 0, 0];
    null_le.extend_from_slice(&ip);
    let mut null_be = vec![0, 0, 0, 2];
    null_be.extend_from_slice(&ip);
    for (lt, data, want) in [
        (LinkType::NULL, &null_le, true),
        (LinkType::NULL, &null_be, true),
        (LinkType::LOOP, &null_be, true),
        (LinkType::LOOP, &null_le, false),
        (LinkType::RAW, &ip, true),
        (LinkType::RAW_12, &ip, true),
        (LinkType::IPV4, &ip, true),
        (LinkType::IPV6, &ip, false),
    ] {
        let f = parse("tcp dst port 80 and host 10.0.0.1").unwrap();
        assert_eq!(f.matches(&frame(lt, data)), want, "{lt:?} {data:?}");
    }
    let v6 = ipv6(6, &TCP_1234_80)[14..].to_vec();
    for af in [24u32, 28, 30] {
        let mut d = af.to_le_bytes().to_vec();
        d.extend_from_slice(&v6);
        assert!(parse("ip6 and port 80")
            .unwrap()
            .matches(&frame(LinkType::NULL, &d)));
    }
    // Ethernet-only primitives never match elsewhere (tcpdump refuses them).
    let f = parse("ether host 00:00:00:00:00:01 or ip").unwrap();
    assert!(!f.matches(&frame(LinkType::RAW, &ip)));
    assert!(f.check_link_type(LinkType::RAW).is_err());
    assert!(f.check_link_type(LinkType::ETHERNET).is_ok());
    // Unknown link types match only the empty filter.
    assert!(!parse("ip").unwrap().matches(&frame(LinkType::NFLOG, &ip)));
    assert!(parse("").unwrap().matches(&frame(LinkType::NFLOG, &ip)));
}

#[test]
fn linux_cooked_headers_and_direction() {
    let ip = ipv4_tcp(0)[14..].to_vec();
    let mut sll = vec![0, 4, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
    sll.extend_from_slice(&ip);
    let mut sll2 = vec![
        0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 4, 6, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    sll2.extend_from_slice(&ip);
    for (lt, d) in [(LinkType::LINUX_SLL, &sll), (LinkType::LINUX_SLL2, &sll2)] {
        assert!(parse("tcp port 80 and src host 10.0.0.1")
            .unwrap()
            .matches(&frame(lt, d)));
        assert!(parse("outbound").unwrap().matches(&frame(lt, d)));
        assert!(!parse("inbound").unwrap().matches(&frame(lt, d)));
        assert!(!parse("ip6").unwrap().matches(&frame(lt, d)));
    }
}

#[test]
fn arp_hosts_and_ethernet_addresses() {
    let mut arp = vec![
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 1, 2, 3, 4, 5, 0x08, 0x06,
    ];
    arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1, 0, 1, 2, 3, 4, 5, 192, 168, 0, 1]);
    arp.extend_from_slice(&[0, 0, 0, 0, 0, 0, 192, 168, 0, 2]);
    assert!(eth("host 192.168.0.2", &arp), "host includes ARP");
    assert!(!eth("ip host 192.168.0.2", &arp));
    assert!(eth("arp src host 192.168.0.1", &arp));
    assert!(eth("net 192.168.0.0/24", &arp));
    assert!(eth("broadcast and arp", &arp));
    assert!(eth("ether src 00:01:02:03:04:05", &arp));
    assert!(eth("ether multicast", &arp));
    assert!(eth("arp[7] = 1", &arp));
}

#[test]
fn arithmetic_follows_bpf() {
    let p = ipv4_tcp(0);
    assert!(eth("ip[0] & 0xf = 5", &p));
    assert!(eth("(tcp[12] & 0xf0) >> 2 = 20", &p));
    assert!(eth("tcp[tcpflags] & (tcp-syn|tcp-fin) != 0", &p));
    assert!(eth(
        "ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2) = 0",
        &p
    ));
    assert!(eth("2 - 3 = 0xffffffff", &p), "unsigned wrap");
    // Division by a value that is zero rejects the packet, `or` or not.
    assert!(!eth("ip[8] / ip[1] = 0 or tcp", &p));
    assert!(eth("ip[8] / (ip[1] + 2) = 32", &p));
    assert!(eth("tcp[0:2] = 1234 and tcp[2:2] = 80", &p));
}
