//! Shared by the filter tests: reading captures, the list of captures,
//! tcpdump as the reference, and the expressions checked.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use tracedeck::pcap::{Frame, LinkType, Reader};

use super::shared::{captures_under, samples, shared};

pub struct OwnedFrame {
    pub link_type: u32,
    pub orig_len: u32,
    pub data: Vec<u8>,
}

impl OwnedFrame {
    pub fn frame(&self, index: u64) -> Frame<'_> {
        Frame {
            index,
            offset: 0,
            ts: None,
            link_type: LinkType(self.link_type),
            interface: 0,
            orig_len: self.orig_len,
            data: &self.data,
        }
    }
}

/// Every packet record of a pcap or pcapng file (gzip allowed), read with
/// the engine's reader, up to the first damaged record.
pub fn read_capture(path: &Path) -> Result<Vec<OwnedFrame>, String> {
    let mut reader = Reader::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut frames = Vec::new();
    while let Ok(Some(f)) = reader.next_frame() {
        frames.push(OwnedFrame {
            link_type: f.link_type.0,
            orig_len: f.orig_len,
            data: f.data.to_vec(),
        });
    }
    Ok(frames)
}

/// Captures under sample-captures/ (recursively) and, when present,
/// ../shared/corpus/captures/.
pub fn capture_files() -> Vec<PathBuf> {
    let mut out = captures_under(&samples());
    if let Some(corpus) = shared("corpus/captures") {
        out.extend(captures_under(&corpus));
    }
    out
}

/// `tcpdump --count -nr FILE EXPR`: the number of packets tcpdump prints
/// (it counts what it read before any error, as `| wc -l` would).
pub fn tcpdump_count(path: &Path, expr: &str) -> Option<u64> {
    let out = Command::new("tcpdump")
        .arg("--count")
        .arg("-nr")
        .arg(path)
        .arg(expr)
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout);
    // No count at all: tcpdump refused the expression for this link type
    // ("expression rejects all packets", "no VLAN support ..."): it prints
    // nothing, i.e. 0 packets.
    Some(
        s.split_whitespace()
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(0),
    )
}

/// Link types the filter evaluates.
pub fn supported_link_type(lt: u32) -> bool {
    matches!(lt, 0 | 1 | 12 | 14 | 101 | 108 | 113 | 228 | 229 | 276)
}

/// The expressions the conformance and BPF tests check (grammar coverage).
pub const EXPRESSIONS: &[&str] = &[
    "",
    // protocol abbreviations
    "ip",
    "ip6",
    "arp",
    "rarp",
    "tcp",
    "udp",
    "icmp",
    "icmp6",
    "sctp",
    "igmp",
    // ports and services
    "port 80",
    "port http",
    "port domain",
    "port 53",
    "port 5353",
    "src port 80",
    "dst port 80",
    "tcp port 80",
    "udp port 53",
    "tcp dst port 80 or 8080",
    "port 80 or 443 or 8080",
    "port ssh or port https",
    "port 80 and (8080 or 443 or 59856)",
    "src or dst port 18080",
    "src and dst port 5353",
    "portrange 1-1023",
    "tcp portrange 8000-19000",
    "udp dst portrange 50-60",
    "not port 80",
    "! port 22 && tcp",
    "udp port 15353 or 15354",
    // hosts and nets
    "host 127.0.0.1",
    "host ::1",
    "host localhost",
    "src host 127.0.0.1",
    "dst host ::1",
    "host 192.150.187.43",
    "src host 141.142.228.5 and dst port 80",
    "ip host 192.168.0.51",
    "arp host 141.142.220.1",
    "ip6 host 2001:6f8:900:7c0::2",
    "host 192.168.0.51 and not 74.125.232.121",
    "host 208.80.152.3 or 141.142.220.118",
    "src 141.142.220.118 and dst 208.80.152.3",
    "net 127",
    "net 127.0.0.0/8",
    "net 10.0.0.0 mask 255.0.0.0",
    "net 192.168",
    "dst net 192.168.0.0/16",
    "net 141.142.220.0/24 and udp",
    "host 141.142",
    "net ::/0",
    "ip6 net fe80::/10",
    "net 2001:6f8::/32",
    "net 0.0.0.0/0",
    // link layer
    "ether host 00:00:00:00:00:00",
    "ether src 00:30:48:bd:3e:c4",
    "ether dst ff:ff:ff:ff:ff:ff",
    "ether host 00:17:f2:d7:cf:65 and ip6",
    "broadcast",
    "multicast",
    "ether broadcast",
    "ether multicast",
    "ip multicast",
    "ip6 multicast",
    "ether proto 0x0800",
    "ether proto \\arp",
    "ether proto \\ip6",
    "ether[0] & 1 != 0",
    "ether[12:2] = 0x0800",
    // proto
    "ip proto \\tcp",
    "ip proto 17",
    "ip6 proto 6",
    "ip6 proto \\udp",
    "proto 6",
    "proto \\icmp",
    "ip proto 47",
    // lengths
    "less 100",
    "greater 1000",
    "len > 200",
    "len <= 60",
    "len - 14 > 100",
    "len % 2 = 0",
    "length >= 1500",
    // byte offsets and arithmetic
    "tcp[13] & 2 != 0",
    "tcp[tcpflags] & (tcp-syn|tcp-fin) != 0",
    "tcp[tcpflags] == tcp-ack",
    "tcp[tcpflags] & tcp-rst != 0",
    "tcp[tcpflags] & tcp-push != 0 and port 80",
    "ip[0] & 0xf > 5",
    "ip[0] & 0xf = 5",
    "ip[2:2] > 500",
    "ip[6:2] & 0x3fff != 0",
    "ip[6:2] & 0x1fff != 0 or ip[6] & 0x20 != 0",
    "ip[8] < 64",
    "udp[4:2] > 100",
    "udp[0:2] = 53 or udp[2:2] = 53",
    "icmp[icmptype] == icmp-echo",
    "icmp[icmptype] = icmp-echoreply",
    "icmp6[icmp6type] = icmp6-echo",
    "icmp6[0] = 128 or icmp6[0] = 129",
    "icmp6[icmp6type] = icmp6-neighborsolicit",
    "tcp[12] >> 4 > 5",
    "(tcp[12] & 0xf0) >> 2 > 20",
    "tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420",
    "ip[2:2] - ((ip[0]&0xf)<<2) - ((tcp[12]&0xf0)>>2) != 0",
    "ip6[6] = 17",
    "ip6[40:2] = 80 or ip6[42:2] = 80",
    "arp[6:2] = 1",
    "ip[9] * 2 = 12",
    "ip[0] | 0x40 = 0x45",
    "ip[8] / 2 > 10",
    "ip[1] ^ 0xff = 0xff",
    "tcp[0:2] * 1 = 80 or tcp[2:2] + 0 = 80",
    "0 - ip[8] = 0xffffffc0",
    "ip and -ip[8] = 0xffffffc0",
    "ip[0] + tcp[0] = 69",
    "ip[0] = tcp[0]",
    "ip[ip[0] & 0xf] = 0",
    "tcp[100:4] != 0",
    "ether[1500] = 0 or tcp",
    // vlan
    "vlan",
    "vlan and ip",
    "vlan 0",
    "vlan 100",
    "vlan and vlan and tcp",
    "vlan and tcp port 80",
    "ip or vlan",
    "not vlan",
    "vlan or ip",
    // direction (Linux cooked only)
    "inbound",
    "outbound",
    // combinations
    "tcp and (port 80 or port 443) and not host 127.0.0.1",
    "(tcp or udp) and not ip6",
    "ip and not tcp and not udp",
    "not (tcp or udp)",
    "tcp or udp and icmp",
    "ip6 and tcp",
    "ip and ip6",
    "not tcp and not udp and not icmp and not icmp6 and not arp",
    "host 192.150.187.43 and (tcp or udp) and 141.142.228.5",
    "ether host 1:2:3:4:5:6 or ip",
];
