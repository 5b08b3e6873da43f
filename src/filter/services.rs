//! Built-in name tables: service names for ports, IP protocol names,
//! Ethernet type names and the named constants of the language
//! (`tcpflags`, `tcp-syn`, `icmp-echo`, ...). No `/etc/services` lookup: the
//! port table follows Debian's netbase `/etc/services`, which is what
//! tcpdump sees on the machines this was checked on.

/// Which transport protocols a service name is registered for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServiceProto {
    Tcp,
    Udp,
    /// Registered for both with the same number: libpcap then checks TCP,
    /// UDP and SCTP, as for a numeric port.
    Any,
}

/// `(name, port, protocols)`, aliases included.
const SERVICES: &[(&str, u16, ServiceProto)] = {
    use ServiceProto::{Any, Tcp, Udp};
    &[
        ("ftp-data", 20, Tcp),
        ("ftp", 21, Tcp),
        ("ssh", 22, Tcp),
        ("telnet", 23, Tcp),
        ("smtp", 25, Tcp),
        ("domain", 53, Any),
        ("bootps", 67, Udp),
        ("bootpc", 68, Udp),
        ("tftp", 69, Udp),
        ("gopher", 70, Tcp),
        ("finger", 79, Tcp),
        ("http", 80, Tcp),
        ("www", 80, Tcp),
        ("kerberos", 88, Any),
        ("kerberos5", 88, Any),
        ("krb5", 88, Any),
        ("pop3", 110, Tcp),
        ("pop-3", 110, Tcp),
        ("sunrpc", 111, Any),
        ("auth", 113, Tcp),
        ("nntp", 119, Tcp),
        ("ntp", 123, Udp),
        ("netbios-ns", 137, Udp),
        ("netbios-dgm", 138, Udp),
        ("netbios-ssn", 139, Tcp),
        ("imap2", 143, Tcp),
        ("imap", 143, Tcp),
        ("snmp", 161, Any),
        ("snmp-trap", 162, Any),
        ("snmptrap", 162, Any),
        ("bgp", 179, Tcp),
        ("ldap", 389, Any),
        ("https", 443, Any),
        ("microsoft-ds", 445, Tcp),
        ("submissions", 465, Tcp),
        ("smtps", 465, Tcp),
        ("ssmtp", 465, Tcp),
        ("isakmp", 500, Udp),
        ("syslog", 514, Any),
        ("submission", 587, Tcp),
        ("ldaps", 636, Any),
        ("domain-s", 853, Any),
        ("rsync", 873, Tcp),
        ("imaps", 993, Tcp),
        ("pop3s", 995, Tcp),
        ("socks", 1080, Tcp),
        ("openvpn", 1194, Any),
        ("nfs", 2049, Any),
        ("mysql", 3306, Tcp),
        ("ms-wbt-server", 3389, Tcp),
        ("sip", 5060, Any),
        ("sip-tls", 5061, Any),
        ("mdns", 5353, Udp),
        ("postgresql", 5432, Tcp),
        ("x11", 6000, Tcp),
        ("redis", 6379, Tcp),
        ("http-alt", 8080, Tcp),
        ("webcache", 8080, Tcp),
    ]
};

pub(crate) fn service(name: &str) -> Option<(u16, ServiceProto)> {
    SERVICES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, p, proto)| (p, proto))
}

/// IP protocol numbers by name (`ip proto \tcp`), as in `/etc/protocols`.
pub(crate) fn ip_protocol(name: &str) -> Option<u32> {
    Some(match name {
        "ip" | "IP" => 0,
        "icmp" | "ICMP" => 1,
        "igmp" | "IGMP" => 2,
        "ipencap" | "IP-ENCAP" => 4,
        "tcp" | "TCP" => 6,
        "egp" | "EGP" => 8,
        "igp" | "IGP" => 9,
        "udp" | "UDP" => 17,
        "ipv6" | "IPv6" => 41,
        "ipv6-route" | "IPv6-Route" => 43,
        "ipv6-frag" | "IPv6-Frag" => 44,
        "rsvp" | "RSVP" => 46,
        "gre" | "GRE" => 47,
        "esp" | "IPSEC-ESP" => 50,
        "ah" | "IPSEC-AH" => 51,
        "ipv6-icmp" | "IPv6-ICMP" => 58,
        "ipv6-nonxt" | "IPv6-NoNxt" => 59,
        "ipv6-opts" | "IPv6-Opts" => 60,
        "eigrp" | "EIGRP" => 88,
        "ospf" | "OSPFIGP" => 89,
        "ipip" | "IPIP" => 94,
        "pim" | "PIM" => 103,
        "vrrp" | "VRRP" => 112,
        "l2tp" | "L2TP" => 115,
        "sctp" | "SCTP" => 132,
        "udplite" | "UDPLite" => 136,
        _ => return None,
    })
}

/// Ethernet types by name (`ether proto \arp`), as libpcap's table.
pub(crate) fn ether_type(name: &str) -> Option<u32> {
    Some(match name {
        "ip" => 0x0800,
        "ip6" => 0x86dd,
        "arp" => 0x0806,
        "rarp" => 0x8035,
        "aarp" => 0x80f3,
        "atalk" => 0x809b,
        "decnet" => 0x6003,
        "lat" => 0x6004,
        "sca" => 0x6007,
        "moprc" => 0x6002,
        "mopdl" => 0x6001,
        "loopback" => 0x9000,
        _ => return None,
    })
}

/// Words the scanner turns into numbers.
pub(crate) fn named_constant(word: &str) -> Option<u32> {
    Some(match word {
        "icmptype" => 0,
        "icmpcode" => 1,
        "icmp-echoreply" => 0,
        "icmp-unreach" => 3,
        "icmp-sourcequench" => 4,
        "icmp-redirect" => 5,
        "icmp-echo" => 8,
        "icmp-routeradvert" => 9,
        "icmp-routersolicit" => 10,
        "icmp-timxceed" => 11,
        "icmp-paramprob" => 12,
        "icmp-tstamp" => 13,
        "icmp-tstampreply" => 14,
        "icmp-ireq" => 15,
        "icmp-ireqreply" => 16,
        "icmp-maskreq" => 17,
        "icmp-maskreply" => 18,
        "icmp6type" => 0,
        "icmp6code" => 1,
        "icmp6-destinationunreach" => 1,
        "icmp6-packettoobig" => 2,
        "icmp6-timeexceeded" => 3,
        "icmp6-parameterproblem" => 4,
        "icmp6-echo" => 128,
        "icmp6-echoreply" => 129,
        "icmp6-multicastlistenerquery" => 130,
        "icmp6-multicastlistenerreportv1" => 131,
        "icmp6-multicastlistenerdone" => 132,
        "icmp6-routersolicit" => 133,
        "icmp6-routeradvert" => 134,
        "icmp6-neighborsolicit" => 135,
        "icmp6-neighboradvert" => 136,
        "icmp6-redirect" => 137,
        "icmp6-routerrenum" => 138,
        "icmp6-nodeinformationquery" => 139,
        "icmp6-nodeinformationresponse" => 140,
        "icmp6-ineighbordiscoverysolicit" => 141,
        "icmp6-ineighbordiscoveryadvert" => 142,
        "icmp6-multicastlistenerreportv2" => 143,
        "icmp6-homeagentdiscoveryrequest" => 144,
        "icmp6-homeagentdiscoveryreply" => 145,
        "icmp6-mobileprefixsolicit" => 146,
        "icmp6-mobileprefixadvert" => 147,
        "icmp6-certpathsolicit" => 148,
        "icmp6-certpathadvert" => 149,
        "icmp6-multicastrouteradvert" => 151,
        "icmp6-multicastroutersolicit" => 152,
        "icmp6-multicastrouterterm" => 153,
        "tcpflags" => 13,
        "tcp-fin" => 0x01,
        "tcp-syn" => 0x02,
        "tcp-rst" => 0x04,
        "tcp-push" => 0x08,
        "tcp-ack" => 0x10,
        "tcp-urg" => 0x20,
        "tcp-ece" => 0x40,
        "tcp-cwr" => 0x80,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_answer_what_tcpdump_answers() {
        assert_eq!(service("http"), Some((80, ServiceProto::Tcp)));
        assert_eq!(service("domain"), Some((53, ServiceProto::Any)));
        assert_eq!(service("ntp"), Some((123, ServiceProto::Udp)));
        assert_eq!(service("nope"), None);
        assert_eq!(ip_protocol("udp"), Some(17));
        assert_eq!(ether_type("ip6"), Some(0x86dd));
        assert_eq!(named_constant("tcp-ack"), Some(16));
        assert_eq!(named_constant("icmp6-echo"), Some(128));
    }
}
