//! Tokens of the pcap-filter language, split the way libpcap's scanner
//! (`scanner.l`) splits them: longest match, keywords before identifiers,
//! dotted numbers (`10.1`) as partial IPv4 addresses, `==` as `=`, `&&`/`||`
//! as `and`/`or`, and the named constants (`tcpflags`, `icmp-echo`, ...) as
//! numbers.

use super::services;
use super::ParseError;

/// A keyword of the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kw {
    Dst,
    Src,
    Host,
    Gateway,
    Net,
    Mask,
    Port,
    Portrange,
    Proto,
    Protochain,
    /// `ether`, `link`, `fddi`, `tr`, `wlan`, `ppp`, `slip`.
    Link,
    Ip,
    Ip6,
    Arp,
    Rarp,
    Tcp,
    Udp,
    Sctp,
    Icmp,
    Icmp6,
    Igmp,
    Igrp,
    Pim,
    Vrrp,
    Carp,
    Ah,
    Esp,
    Less,
    Greater,
    Broadcast,
    Multicast,
    And,
    Or,
    Not,
    Len,
    Inbound,
    Outbound,
    Vlan,
    /// A libpcap keyword this implementation does not support.
    Unsupported(&'static str),
}

/// Punctuation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sym {
    LParen,
    RParen,
    LBracket,
    RBracket,
    Colon,
    Plus,
    Minus,
    Star,
    Slash,
    Percent,
    Amp,
    Pipe,
    Caret,
    Shl,
    Shr,
    Gt,
    Ge,
    Lt,
    Le,
    Eq,
    Ne,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum TokKind {
    /// A number (decimal, 0x hex, leading-0 octal) or a named constant.
    Num(u32),
    /// Dotted decimal with 2 to 4 parts: a (possibly partial) IPv4 address.
    Hid(String),
    /// An IPv6 address.
    Hid6(String),
    /// A MAC address.
    Eid([u8; 6]),
    /// A name (host, service, protocol) or a `\`-escaped word.
    Id(String),
    Kw(Kw),
    Sym(Sym),
    End,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub kind: TokKind,
    /// Byte offset of the token in the source.
    pub start: usize,
    /// The source text of the token.
    pub text: String,
}

/// Upper bound on tokens, so hostile input cannot make the parser allocate
/// without limit (a filter is typed by a person).
const MAX_TOKENS: usize = 4096;

pub(crate) fn tokenize(src: &str) -> Result<Vec<Token>, ParseError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if out.len() >= MAX_TOKENS {
            return Err(ParseError::at(src, i, "filter expression is too long"));
        }
        let start = i;
        let two = bytes.get(i..i + 2);
        let (kind, len) = match two {
            Some(b">=") => (TokKind::Sym(Sym::Ge), 2),
            Some(b"<=") => (TokKind::Sym(Sym::Le), 2),
            Some(b"!=") => (TokKind::Sym(Sym::Ne), 2),
            Some(b"==") => (TokKind::Sym(Sym::Eq), 2),
            Some(b"<<") => (TokKind::Sym(Sym::Shl), 2),
            Some(b">>") => (TokKind::Sym(Sym::Shr), 2),
            Some(b"&&") => (TokKind::Kw(Kw::And), 2),
            Some(b"||") => (TokKind::Kw(Kw::Or), 2),
            _ => match c {
                b'(' => (TokKind::Sym(Sym::LParen), 1),
                b')' => (TokKind::Sym(Sym::RParen), 1),
                b'[' => (TokKind::Sym(Sym::LBracket), 1),
                b']' => (TokKind::Sym(Sym::RBracket), 1),
                b':' if bytes.get(i + 1) == Some(&b':') => word(src, i)?,
                b':' => (TokKind::Sym(Sym::Colon), 1),
                b'+' => (TokKind::Sym(Sym::Plus), 1),
                b'-' => (TokKind::Sym(Sym::Minus), 1),
                b'*' => (TokKind::Sym(Sym::Star), 1),
                b'/' => (TokKind::Sym(Sym::Slash), 1),
                b'%' => (TokKind::Sym(Sym::Percent), 1),
                b'&' => (TokKind::Sym(Sym::Amp), 1),
                b'|' => (TokKind::Sym(Sym::Pipe), 1),
                b'^' => (TokKind::Sym(Sym::Caret), 1),
                b'>' => (TokKind::Sym(Sym::Gt), 1),
                b'<' => (TokKind::Sym(Sym::Lt), 1),
                b'=' => (TokKind::Sym(Sym::Eq), 1),
                b'!' => (TokKind::Kw(Kw::Not), 1),
                b'\\' => {
                    // `\word`: the word is a name even if it is a keyword.
                    let mut j = i + 1;
                    while j < bytes.len()
                        && !matches!(bytes[j], b' ' | b'!' | b'(' | b')' | b'\n' | b'\t')
                    {
                        j += 1;
                    }
                    if j == i + 1 {
                        return Err(ParseError::at(src, i, "expected a name after '\\'"));
                    }
                    (TokKind::Id(src[i + 1..j].to_string()), j - i)
                }
                c if c.is_ascii_alphanumeric() => word(src, i)?,
                _ => {
                    let ch = src[i..].chars().next().unwrap_or('?');
                    return Err(ParseError::at(
                        src,
                        i,
                        &format!("unexpected character '{ch}'"),
                    ));
                }
            },
        };
        out.push(Token {
            kind,
            start,
            text: src[start..start + len].to_string(),
        });
        i += len;
    }
    out.push(Token {
        kind: TokKind::End,
        start: src.len(),
        text: String::new(),
    });
    Ok(out)
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')
}

/// Scans a word starting at `i` (an alphanumeric byte) and classifies it.
fn word(src: &str, i: usize) -> Result<(TokKind, usize), ParseError> {
    let bytes = src.as_bytes();
    let mut j = i;
    while j < bytes.len() && is_word_byte(bytes[j]) {
        j += 1;
    }
    let full = &src[i..j];
    if full.starts_with(':') {
        // Only an IPv6 address (`::1`) starts with ':'.
        return match full.parse::<std::net::Ipv6Addr>() {
            Ok(_) => Ok((TokKind::Hid6(full.to_string()), full.len())),
            Err(_) => Err(ParseError::at(
                src,
                i,
                &format!("invalid IPv6 address '{full}'"),
            )),
        };
    }
    if full.contains(':') {
        if let Some(mac) = parse_mac(full) {
            return Ok((TokKind::Eid(mac), full.len()));
        }
        if full.parse::<std::net::Ipv6Addr>().is_ok() {
            return Ok((TokKind::Hid6(full.to_string()), full.len()));
        }
        // Not an address: the word ends before the first ':' (as in
        // `ether[0:4]`).
        j = i + full.find(':').unwrap_or(full.len());
    }
    // An identifier ends with an alphanumeric or '.'; trailing '-'/'_' are
    // separate tokens.
    while j > i + 1 && matches!(bytes[j - 1], b'-' | b'_') {
        j -= 1;
    }
    let w = &src[i..j];
    let len = w.len();
    if let Some(mac) = parse_mac(w) {
        return Ok((TokKind::Eid(mac), len));
    }
    if let Some(n) = parse_num(w) {
        return match n {
            Ok(v) => Ok((TokKind::Num(v), len)),
            Err(msg) => Err(ParseError::at(src, i, &msg)),
        };
    }
    if is_hid(w) {
        return Ok((TokKind::Hid(w.to_string()), len));
    }
    if let Some(k) = keyword(w) {
        return Ok((TokKind::Kw(k), len));
    }
    if let Some(v) = services::named_constant(w) {
        return Ok((TokKind::Num(v), len));
    }
    Ok((TokKind::Id(w.to_string()), len))
}

/// `{N}`: decimal, `0x` hex or leading-`0` octal; `None` if `w` is not
/// shaped like a number, `Some(Err)` if it is but does not fit.
fn parse_num(w: &str) -> Option<Result<u32, String>> {
    let (digits, radix) = if let Some(h) = w.strip_prefix("0x").or_else(|| w.strip_prefix("0X")) {
        if h.is_empty() || !h.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        (h, 16)
    } else {
        if w.is_empty() || !w.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        if w.len() > 1 && w.starts_with('0') {
            if !w.bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return Some(Err(format!("number {w} contains non-octal digit")));
            }
            (&w[1..], 8)
        } else {
            (w, 10)
        }
    };
    Some(u32::from_str_radix(digits, radix).map_err(|_| format!("number {w} overflows 32 bits")))
}

/// `{N}.{N}`, `{N}.{N}.{N}` or `{N}.{N}.{N}.{N}`.
fn is_hid(w: &str) -> bool {
    let parts: Vec<&str> = w.split('.').collect();
    (2..=4).contains(&parts.len()) && parts.iter().all(|p| parse_num(p).is_some())
}

fn parse_mac(w: &str) -> Option<[u8; 6]> {
    let hex_pair = |s: &str| -> Option<u8> {
        if s.is_empty() || s.len() > 2 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u8::from_str_radix(s, 16).ok()
    };
    for sep in [':', '-', '.'] {
        let parts: Vec<&str> = w.split(sep).collect();
        if parts.len() == 6 {
            let mut mac = [0u8; 6];
            for (m, p) in mac.iter_mut().zip(&parts) {
                *m = hex_pair(p)?;
            }
            return Some(mac);
        }
    }
    // xxxx.xxxx.xxxx
    let parts: Vec<&str> = w.split('.').collect();
    if parts.len() == 3
        && parts
            .iter()
            .all(|p| p.len() == 4 && p.bytes().all(|b| b.is_ascii_hexdigit()))
    {
        let mut mac = [0u8; 6];
        for (k, p) in parts.iter().enumerate() {
            mac[2 * k] = hex_pair(&p[..2])?;
            mac[2 * k + 1] = hex_pair(&p[2..])?;
        }
        return Some(mac);
    }
    None
}

fn keyword(w: &str) -> Option<Kw> {
    Some(match w {
        "dst" => Kw::Dst,
        "src" => Kw::Src,
        "host" => Kw::Host,
        "gateway" => Kw::Gateway,
        "net" => Kw::Net,
        "mask" => Kw::Mask,
        "port" => Kw::Port,
        "portrange" => Kw::Portrange,
        "proto" => Kw::Proto,
        "protochain" => Kw::Protochain,
        "ether" | "link" | "fddi" | "tr" | "wlan" | "ppp" | "slip" => Kw::Link,
        "ip" => Kw::Ip,
        "ip6" => Kw::Ip6,
        "arp" => Kw::Arp,
        "rarp" => Kw::Rarp,
        "tcp" => Kw::Tcp,
        "udp" => Kw::Udp,
        "sctp" => Kw::Sctp,
        "icmp" => Kw::Icmp,
        "icmp6" => Kw::Icmp6,
        "igmp" => Kw::Igmp,
        "igrp" => Kw::Igrp,
        "pim" => Kw::Pim,
        "vrrp" => Kw::Vrrp,
        "carp" => Kw::Carp,
        "ah" => Kw::Ah,
        "esp" => Kw::Esp,
        "less" => Kw::Less,
        "greater" => Kw::Greater,
        "broadcast" => Kw::Broadcast,
        "multicast" => Kw::Multicast,
        "and" => Kw::And,
        "or" => Kw::Or,
        "not" => Kw::Not,
        "len" | "length" => Kw::Len,
        "inbound" => Kw::Inbound,
        "outbound" => Kw::Outbound,
        "vlan" => Kw::Vlan,
        "byte" | "atalk" | "aarp" | "decnet" | "lat" | "sca" | "moprc" | "mopdl" | "iso"
        | "esis" | "es-is" | "isis" | "is-is" | "l1" | "l2" | "iih" | "lsp" | "snp" | "csnp"
        | "psnp" | "clnp" | "stp" | "ipx" | "netbeui" | "radio" | "mpls" | "pppoed" | "pppoes"
        | "geneve" | "lane" | "llc" | "ifindex" | "on" | "ifname" | "rnr" | "rulenum"
        | "reason" | "rset" | "ruleset" | "srnr" | "subrulenum" | "action" | "type" | "subtype"
        | "direction" | "dir" | "address1" | "addr1" | "address2" | "addr2" | "address3"
        | "addr3" | "address4" | "addr4" | "ra" | "ta" | "vpi" | "vci" | "oam" | "oamf4"
        | "oamf4ec" | "oamf4sc" | "sc" | "ilmic" | "metac" | "bcc" | "connectmsg"
        | "metaconnect" | "fisu" | "lssu" | "lsu" | "msu" | "hfisu" | "hlssu" | "hmsu" | "sio"
        | "opc" | "dpc" | "sls" | "hsio" | "hopc" | "hdpc" | "hsls" => {
            Kw::Unsupported(static_name(w))
        }
        _ => return None,
    })
}

/// The keyword list above as `'static` strings for error messages.
fn static_name(w: &str) -> &'static str {
    const NAMES: &[&str] = &[
        "byte",
        "atalk",
        "aarp",
        "decnet",
        "lat",
        "sca",
        "moprc",
        "mopdl",
        "iso",
        "esis",
        "es-is",
        "isis",
        "is-is",
        "l1",
        "l2",
        "iih",
        "lsp",
        "snp",
        "csnp",
        "psnp",
        "clnp",
        "stp",
        "ipx",
        "netbeui",
        "radio",
        "mpls",
        "pppoed",
        "pppoes",
        "geneve",
        "lane",
        "llc",
        "ifindex",
        "on",
        "ifname",
        "rnr",
        "rulenum",
        "reason",
        "rset",
        "ruleset",
        "srnr",
        "subrulenum",
        "action",
        "type",
        "subtype",
        "direction",
        "dir",
        "address1",
        "addr1",
        "address2",
        "addr2",
        "address3",
        "addr3",
        "address4",
        "addr4",
        "ra",
        "ta",
        "vpi",
        "vci",
        "oam",
        "oamf4",
        "oamf4ec",
        "oamf4sc",
        "sc",
        "ilmic",
        "metac",
        "bcc",
        "connectmsg",
        "metaconnect",
        "fisu",
        "lssu",
        "lsu",
        "msu",
        "hfisu",
        "hlssu",
        "hmsu",
        "sio",
        "opc",
        "dpc",
        "sls",
        "hsio",
        "hopc",
        "hdpc",
        "hsls",
    ];
    NAMES
        .iter()
        .find(|n| **n == w)
        .copied()
        .unwrap_or("keyword")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(s: &str) -> Vec<TokKind> {
        tokenize(s).unwrap().into_iter().map(|t| t.kind).collect()
    }

    #[test]
    fn splits_like_libpcap() {
        use TokKind::*;
        assert_eq!(
            kinds("tcp[13]&2!=0"),
            vec![
                Kw(super::Kw::Tcp),
                Sym(super::Sym::LBracket),
                Num(13),
                Sym(super::Sym::RBracket),
                Sym(super::Sym::Amp),
                Num(2),
                Sym(super::Sym::Ne),
                Num(0),
                End
            ]
        );
        assert_eq!(
            kinds("ether[0:4]")[2..5],
            [Num(0), Sym(super::Sym::Colon), Num(4)]
        );
        assert_eq!(kinds("10.1")[0], Hid("10.1".into()));
        assert_eq!(kinds("fe80::1/64")[0], Hid6("fe80::1".into()));
        assert_eq!(
            kinds("00:11:22:33:44:55")[0],
            Eid([0, 0x11, 0x22, 0x33, 0x44, 0x55])
        );
        assert_eq!(kinds("0x1f 010 tcp-syn")[..3], [Num(31), Num(8), Num(2)]);
        assert_eq!(kinds("8000-8080")[0], Id("8000-8080".into()));
        assert_eq!(kinds("\\tcp")[0], Id("tcp".into()));
        assert_eq!(kinds("a && b || !c")[1], Kw(super::Kw::And));
    }

    #[test]
    fn rejects_bad_numbers_and_characters() {
        assert!(tokenize("port 08").is_err());
        assert!(tokenize("port 99999999999").is_err());
        assert_eq!(tokenize("port 80 $").unwrap_err().column, 9);
    }
}
