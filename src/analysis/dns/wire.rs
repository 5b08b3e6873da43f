//! A checked reader of DNS messages (RFC 1035 section 4): the header, the
//! first question and the answer section as short text. Hostile input
//! gives an error naming the offset, never a panic: compression pointers
//! may only point backwards and are followed a bounded number of times,
//! names stop at 255 bytes, and section counts are bounded by what the
//! message can hold, so memory stays bounded whatever the counts claim.

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Size of the fixed header.
pub const HEADER_LEN: usize = 12;
/// Answers kept as text per message (the count is kept whole).
pub const MAX_ANSWER_TEXTS: usize = 8;
/// Longest name in presentation form we keep (255 wire bytes, escaped).
const MAX_NAME_WIRE: usize = 255;
/// Compression pointers followed per name.
const MAX_POINTERS: usize = 64;
/// Smallest resource record: a root name (1), type, class, TTL, length.
const MIN_RR_LEN: usize = 11;
/// Smallest question: a root name, type, class.
const MIN_QUESTION_LEN: usize = 5;

/// What is wrong with a message, and where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("DNS message offset {offset}: {what}")]
pub struct WireError {
    pub offset: usize,
    pub what: &'static str,
}

fn err<T>(offset: usize, what: &'static str) -> Result<T, WireError> {
    Err(WireError { offset, what })
}

/// The fixed header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Header {
    pub id: u16,
    /// A response (QR set).
    pub response: bool,
    pub opcode: u8,
    pub truncated: bool,
    pub rcode: u8,
    pub questions: u16,
    pub answers: u16,
    pub authorities: u16,
    pub additionals: u16,
}

impl Header {
    pub fn parse(msg: &[u8]) -> Result<Header, WireError> {
        if msg.len() < HEADER_LEN {
            return err(msg.len(), "shorter than the 12-byte header");
        }
        let word = |i: usize| u16::from_be_bytes([msg[i], msg[i + 1]]);
        let flags = word(2);
        Ok(Header {
            id: word(0),
            response: flags & 0x8000 != 0,
            opcode: ((flags >> 11) & 0xf) as u8,
            truncated: flags & 0x0200 != 0,
            rcode: (flags & 0xf) as u8,
            questions: word(4),
            answers: word(6),
            authorities: word(8),
            additionals: word(10),
        })
    }

    /// Whether the counts fit in a message of `len` bytes at all.
    fn counts_fit(&self, len: usize) -> bool {
        let records = usize::from(self.answers)
            + usize::from(self.authorities)
            + usize::from(self.additionals);
        usize::from(self.questions) * MIN_QUESTION_LEN + records * MIN_RR_LEN
            <= len.saturating_sub(HEADER_LEN)
    }
}

/// The first question of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Question {
    /// In presentation form without the final dot (`<Root>` for the root,
    /// as tshark shows it); bytes outside printable ASCII as `\DDD`.
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
}

/// A message as far as the lookup table needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub header: Header,
    pub question: Option<Question>,
    /// The answer section in short text (`A 192.0.2.1`, `CNAME x.example`),
    /// at most [`MAX_ANSWER_TEXTS`].
    pub answers: Vec<String>,
    /// Set when the answers could not all be read (the header and question
    /// are still good).
    pub note: Option<WireError>,
}

/// Reads a whole message (one UDP payload, or one TCP message without its
/// length prefix).
pub fn parse(msg: &[u8]) -> Result<Message, WireError> {
    let header = Header::parse(msg)?;
    if !header.counts_fit(msg.len()) {
        return err(4, "section counts larger than the message can hold");
    }
    let mut at = HEADER_LEN;
    let mut question = None;
    for i in 0..header.questions {
        let (name, next) = read_name(msg, at)?;
        let fixed = msg.get(next..next + 4).ok_or(WireError {
            offset: next,
            what: "question cut before its type and class",
        })?;
        if i == 0 {
            question = Some(Question {
                name,
                qtype: u16::from_be_bytes([fixed[0], fixed[1]]),
                qclass: u16::from_be_bytes([fixed[2], fixed[3]]),
            });
        }
        at = next + 4;
    }
    let mut answers = Vec::new();
    let mut note = None;
    for _ in 0..header.answers {
        match read_answer(msg, at) {
            Ok((text, next)) => {
                if answers.len() < MAX_ANSWER_TEXTS {
                    answers.push(text);
                }
                at = next;
            }
            Err(e) => {
                note = Some(e);
                break;
            }
        }
    }
    Ok(Message {
        header,
        question,
        answers,
        note,
    })
}

/// One resource record of the answer section as text, and where the next
/// one starts.
fn read_answer(msg: &[u8], at: usize) -> Result<(String, usize), WireError> {
    let (_owner, next) = read_name(msg, at)?;
    let fixed = msg.get(next..next + 10).ok_or(WireError {
        offset: next,
        what: "record cut before its fixed fields",
    })?;
    let rtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let rdlen = usize::from(u16::from_be_bytes([fixed[8], fixed[9]]));
    let start = next + 10;
    let rdata = msg.get(start..start + rdlen).ok_or(WireError {
        offset: start,
        what: "record data cut by the message's end",
    })?;
    let mut text = type_name(rtype);
    text.push(' ');
    match (rtype, rdata.len()) {
        (1, 4) => {
            let _ = write!(
                text,
                "{}",
                Ipv4Addr::new(rdata[0], rdata[1], rdata[2], rdata[3])
            );
        }
        (28, 16) => {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(rdata);
            let _ = write!(text, "{}", Ipv6Addr::from(octets));
        }
        // NS, CNAME, PTR, DNAME: a name.
        (2 | 5 | 12 | 39, _) => text.push_str(&read_name(msg, start)?.0),
        (15, 3..) => {
            let pref = u16::from_be_bytes([rdata[0], rdata[1]]);
            let _ = write!(text, "{pref} {}", read_name(msg, start + 2)?.0);
        }
        _ => {
            let _ = write!(text, "({} bytes)", rdata.len());
        }
    }
    Ok((text, start + rdlen))
}

/// Reads a possibly compressed name at `at`: its presentation form and
/// the offset after it (after the first pointer, when there is one).
pub fn read_name(msg: &[u8], mut at: usize) -> Result<(String, usize), WireError> {
    let mut name = String::new();
    let mut wire_len = 0usize;
    let mut after = None;
    let mut pointers = 0usize;
    loop {
        let Some(&len) = msg.get(at) else {
            return err(at, "name cut by the message's end");
        };
        match len & 0xc0 {
            0x00 if len == 0 => {
                if name.is_empty() {
                    name.push_str("<Root>");
                }
                return Ok((name, after.unwrap_or(at + 1)));
            }
            0x00 => {
                let len = usize::from(len);
                wire_len += len + 1;
                if wire_len > MAX_NAME_WIRE {
                    return err(at, "name longer than 255 bytes");
                }
                let Some(label) = msg.get(at + 1..at + 1 + len) else {
                    return err(at, "label cut by the message's end");
                };
                if !name.is_empty() {
                    name.push('.');
                }
                for &b in label {
                    match b {
                        b'.' | b'\\' => {
                            name.push('\\');
                            name.push(char::from(b));
                        }
                        0x21..=0x7e => name.push(char::from(b)),
                        _ => {
                            let _ = write!(name, "\\{b:03}");
                        }
                    }
                }
                at += 1 + len;
            }
            0xc0 => {
                let Some(&low) = msg.get(at + 1) else {
                    return err(at, "compression pointer cut by the message's end");
                };
                let target = usize::from(u16::from_be_bytes([len & 0x3f, low]));
                // Only backwards: no loop can form, and the count below
                // bounds the work a chain of them costs.
                if target >= at {
                    return err(at, "compression pointer does not point backwards");
                }
                pointers += 1;
                if pointers > MAX_POINTERS {
                    return err(at, "too many compression pointers");
                }
                after.get_or_insert(at + 2);
                at = target;
            }
            _ => return err(at, "label type 0x40/0x80 is not supported"),
        }
    }
}

/// The mnemonic of a record type (`TYPE65280` for ones without one).
pub fn type_name(t: u16) -> String {
    let known = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        35 => "NAPTR",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        251 => "IXFR",
        252 => "AXFR",
        255 => "ANY",
        257 => "CAA",
        _ => return format!("TYPE{t}"),
    };
    known.to_string()
}

/// The mnemonic of a response code (RFC 6895's table).
pub fn rcode_name(rcode: u8) -> String {
    let known = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        _ => return format!("RCODE{rcode}"),
    };
    known.to_string()
}

/// Whether `payload` looks like a DNS message: a header with a standard
/// opcode and exactly one question whose name reads and whose class is
/// one DNS uses, and section counts the message can hold.
pub fn plausible(payload: &[u8]) -> bool {
    let Ok(header) = Header::parse(payload) else {
        return false;
    };
    if header.questions != 1 || !matches!(header.opcode, 0 | 1 | 2 | 4 | 5) {
        return false;
    }
    if !header.counts_fit(payload.len()) {
        return false;
    }
    let Ok((_, next)) = read_name(payload, HEADER_LEN) else {
        return false;
    };
    let Some(fixed) = payload.get(next..next + 4) else {
        return false;
    };
    // The top bit of the class is mDNS's "unicast response" flag.
    let qclass = u16::from_be_bytes([fixed[2], fixed[3]]) & 0x7fff;
    matches!(qclass, 1 | 3 | 4 | 254 | 255)
}

#[cfg(test)]
pub(crate) mod test {
    use super::*;

    /// A message: header fields, one question, then `rest` (answers).
    pub(crate) fn message(id: u16, flags: u16, name: &str, qtype: u16, rest: &[u8]) -> Vec<u8> {
        let answers = u16::from(!rest.is_empty());
        let mut m = Vec::new();
        for w in [id, flags, 1, answers, 0, 0] {
            m.extend_from_slice(&w.to_be_bytes());
        }
        for label in name.split('.').filter(|l| !l.is_empty()) {
            m.push(label.len() as u8);
            m.extend_from_slice(label.as_bytes());
        }
        m.push(0);
        m.extend_from_slice(&qtype.to_be_bytes());
        m.extend_from_slice(&1u16.to_be_bytes());
        m.extend_from_slice(rest);
        m
    }

    /// An A answer whose owner points at the question name.
    pub(crate) fn a_answer(ip: [u8; 4]) -> Vec<u8> {
        let mut r = vec![0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4];
        r.extend_from_slice(&ip);
        r
    }

    #[test]
    fn a_query_and_its_answer_read() {
        let q = message(7, 0x0100, "example.com", 1, &[]);
        assert!(plausible(&q));
        let m = parse(&q).unwrap();
        assert_eq!(m.header.id, 7);
        assert!(!m.header.response);
        let question = m.question.unwrap();
        assert_eq!(question.name, "example.com");
        assert_eq!(question.qtype, 1);

        let r = message(7, 0x8180, "example.com", 1, &a_answer([192, 0, 2, 1]));
        let m = parse(&r).unwrap();
        assert!(m.header.response);
        assert_eq!(m.answers, vec!["A 192.0.2.1"]);
        assert_eq!(m.note, None);
    }

    #[test]
    fn hostile_names_are_errors() {
        // A pointer to itself.
        let mut m = message(1, 0, "a", 1, &[]);
        m.truncate(HEADER_LEN);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert_eq!(
            read_name(&m, HEADER_LEN).unwrap_err().what,
            "compression pointer does not point backwards"
        );
        assert!(!plausible(&m));
        // A label running past the end.
        let mut m = message(1, 0, "a", 1, &[]);
        m.truncate(HEADER_LEN);
        m.push(60);
        m.extend_from_slice(b"abc");
        assert!(parse(&m).is_err());
        // A name longer than 255 bytes.
        let long = ["abcdefghij"; 30].join(".");
        let m = message(1, 0, &long, 1, &[]);
        assert_eq!(parse(&m).unwrap_err().what, "name longer than 255 bytes");
    }

    #[test]
    fn absurd_counts_and_cut_answers() {
        let mut m = message(1, 0x8180, "a.b", 1, &[]);
        m[6] = 0xff; // 65280 answers in a tiny message
        assert!(parse(&m).is_err());
        assert!(!plausible(&m));
        let mut r = message(1, 0x8180, "a.b", 1, &a_answer([1, 2, 3, 4]));
        r.truncate(r.len() - 2);
        let m = parse(&r).unwrap();
        assert!(m.answers.is_empty());
        assert_eq!(m.note.unwrap().what, "record data cut by the message's end");
    }

    #[test]
    fn odd_bytes_are_escaped_and_the_root_is_named() {
        let m = message(1, 0, "", 2, &[]);
        assert_eq!(parse(&m).unwrap().question.unwrap().name, "<Root>");
        let mut m = message(1, 0, "a", 1, &[]);
        m[13] = b'.';
        assert_eq!(parse(&m).unwrap().question.unwrap().name, "\\.");
        assert!(!plausible(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    }
}
