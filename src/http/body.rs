//! Message body framing (RFC 9112 §6.3 and §7.1): how many bytes after a
//! head belong to the message. Counts decoded body bytes; keeps none.

/// Longest chunk-size line (size plus extensions) accepted.
const MAX_CHUNK_LINE: u32 = 4096;
/// Longest trailer section accepted.
const MAX_TRAILER: u32 = 64 * 1024;

/// How a body is delimited, and how far into it we are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    /// Content-Length: this many bytes remain.
    Length(u64),
    /// Transfer-Encoding: chunked.
    Chunked(Chunk),
    /// Ends when the sender closes the connection.
    UntilClose,
}

/// Position inside a chunked body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chunk {
    /// Reading a chunk-size line: hex value so far, digits seen, whether
    /// the hex part has ended (extension or whitespace), line length.
    Size {
        value: u64,
        digits: u8,
        ended: bool,
        line: u32,
    },
    /// Chunk data bytes remaining.
    Data(u64),
    /// The CRLF after chunk data; `cr` once the CR is seen.
    DataEnd { cr: bool },
    /// Trailer section: length of the current line, total bytes read.
    Trailer { line: u32, total: u32 },
}

impl Chunk {
    pub(crate) const START: Chunk = Chunk::Size {
        value: 0,
        digits: 0,
        ended: false,
        line: 0,
    };
}

/// Result of feeding bytes to a [`Framing`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fed {
    /// Input bytes that belong to this message.
    pub consumed: usize,
    /// Decoded body bytes among them.
    pub body: u64,
    pub status: BodyStatus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BodyStatus {
    /// More body to come.
    More,
    /// The body ended within the input.
    Done,
    /// Chunked framing broke; the message ends here.
    Malformed,
}

/// Result of a gap inside a body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GapFed {
    /// The whole gap was body; `done` if it ended the body exactly.
    Absorbed { body: u64, done: bool },
    /// The body ended inside the gap; `rest` bytes of the gap belong to
    /// whatever followed it.
    Overflow { body: u64, rest: u64 },
    /// The gap hit framing bytes (chunk sizes, trailers): the body's end
    /// is unknown.
    Lost { body: u64 },
}

impl Framing {
    /// Consumes the prefix of `bytes` that belongs to this body.
    pub(crate) fn feed(&mut self, bytes: &[u8]) -> Fed {
        match self {
            Framing::Length(remaining) => {
                let take = (*remaining).min(bytes.len() as u64);
                *remaining -= take;
                Fed {
                    consumed: take as usize,
                    body: take,
                    status: if *remaining == 0 {
                        BodyStatus::Done
                    } else {
                        BodyStatus::More
                    },
                }
            }
            Framing::UntilClose => Fed {
                consumed: bytes.len(),
                body: bytes.len() as u64,
                status: BodyStatus::More,
            },
            Framing::Chunked(chunk) => feed_chunked(chunk, bytes),
        }
    }

    /// Accounts for `len` bytes that were never captured.
    pub(crate) fn gap(&mut self, len: u64) -> GapFed {
        match self {
            Framing::Length(remaining) => {
                if len <= *remaining {
                    *remaining -= len;
                    GapFed::Absorbed {
                        body: len,
                        done: *remaining == 0,
                    }
                } else {
                    let body = *remaining;
                    *remaining = 0;
                    GapFed::Overflow {
                        body,
                        rest: len - body,
                    }
                }
            }
            Framing::UntilClose => GapFed::Absorbed {
                body: len,
                done: false,
            },
            Framing::Chunked(Chunk::Data(remaining)) if len <= *remaining => {
                *remaining -= len;
                if *remaining == 0 {
                    *self = Framing::Chunked(Chunk::DataEnd { cr: false });
                }
                GapFed::Absorbed {
                    body: len,
                    done: false,
                }
            }
            Framing::Chunked(Chunk::Data(remaining)) => GapFed::Lost { body: *remaining },
            Framing::Chunked(_) => GapFed::Lost { body: 0 },
        }
    }
}

fn feed_chunked(chunk: &mut Chunk, bytes: &[u8]) -> Fed {
    let mut i = 0;
    let mut body = 0u64;
    while i < bytes.len() {
        match chunk {
            Chunk::Data(remaining) => {
                let take = (*remaining).min((bytes.len() - i) as u64);
                *remaining -= take;
                body += take;
                i += take as usize;
                if *remaining == 0 {
                    *chunk = Chunk::DataEnd { cr: false };
                }
                continue;
            }
            Chunk::Size {
                value,
                digits,
                ended,
                line,
            } => {
                let b = bytes[i];
                i += 1;
                *line += 1;
                if *line > MAX_CHUNK_LINE {
                    return malformed(i, body);
                }
                if b == b'\n' {
                    if *digits == 0 {
                        return malformed(i, body);
                    }
                    *chunk = if *value == 0 {
                        Chunk::Trailer { line: 0, total: 0 }
                    } else {
                        Chunk::Data(*value)
                    };
                } else if !*ended && (b as char).is_ascii_hexdigit() {
                    // 16 hex digits fill a u64; more would overflow.
                    if *digits >= 16 {
                        return malformed(i, body);
                    }
                    let nibble = (b as char).to_digit(16).unwrap_or(0) as u64;
                    *value = (*value << 4) | nibble;
                    *digits += 1;
                } else if *digits == 0 && (b == b' ' || b == b'\t') {
                    // Leading whitespace: tolerated (some servers pad).
                } else if *digits > 0 && matches!(b, b';' | b' ' | b'\t' | b'\r') {
                    *ended = true;
                } else if !*ended {
                    return malformed(i, body);
                }
                // Inside an extension: anything up to LF.
            }
            Chunk::DataEnd { cr } => {
                let b = bytes[i];
                i += 1;
                match b {
                    b'\r' if !*cr => *cr = true,
                    b'\n' => *chunk = Chunk::START,
                    _ => return malformed(i, body),
                }
            }
            Chunk::Trailer { line, total } => {
                let b = bytes[i];
                i += 1;
                *total += 1;
                if *total > MAX_TRAILER {
                    return malformed(i, body);
                }
                match b {
                    b'\n' if *line == 0 => {
                        return Fed {
                            consumed: i,
                            body,
                            status: BodyStatus::Done,
                        }
                    }
                    b'\n' => *line = 0,
                    b'\r' => {}
                    _ => *line += 1,
                }
            }
        }
    }
    Fed {
        consumed: i,
        body,
        status: BodyStatus::More,
    }
}

fn malformed(consumed: usize, body: u64) -> Fed {
    Fed {
        consumed,
        body,
        status: BodyStatus::Malformed,
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn run(framing: Framing, input: &[u8]) -> (Fed, Framing) {
        let mut f = framing;
        let fed = f.feed(input);
        (fed, f)
    }

    #[test]
    fn content_length_stops_at_its_end() {
        let (fed, f) = run(Framing::Length(3), b"abcdef");
        assert_eq!(fed.consumed, 3);
        assert_eq!(fed.body, 3);
        assert_eq!(fed.status, BodyStatus::Done);
        assert_eq!(f, Framing::Length(0));
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let input = b"4;name=value\r\nWiki\r\n5 \r\npedia\r\n0\r\nExpires: never\r\n\r\nNEXT";
        let (fed, _) = run(Framing::Chunked(Chunk::START), input);
        assert_eq!(fed.status, BodyStatus::Done);
        assert_eq!(fed.body, 9);
        assert_eq!(&input[fed.consumed..], b"NEXT");
    }

    #[test]
    fn chunked_one_byte_at_a_time() {
        let input = b"1A\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
        let mut f = Framing::Chunked(Chunk::START);
        let mut body = 0;
        for (i, b) in input.iter().enumerate() {
            let fed = f.feed(std::slice::from_ref(b));
            assert_eq!(fed.consumed, 1);
            body += fed.body;
            let last = i + 1 == input.len();
            assert_eq!(fed.status == BodyStatus::Done, last, "byte {i}");
        }
        assert_eq!(body, 26);
    }

    #[test]
    fn chunked_bare_lf_and_bad_size() {
        let (fed, _) = run(Framing::Chunked(Chunk::START), b"2\nab\n0\n\n");
        assert_eq!(
            (fed.status, fed.body, fed.consumed),
            (BodyStatus::Done, 2, 8)
        );
        let (fed, _) = run(Framing::Chunked(Chunk::START), b"zz\r\n");
        assert_eq!(fed.status, BodyStatus::Malformed);
        let (fed, _) = run(Framing::Chunked(Chunk::START), b"11111111111111111\r\n");
        assert_eq!(fed.status, BodyStatus::Malformed);
        let (fed, _) = run(Framing::Chunked(Chunk::START), b"2\r\nabX");
        assert_eq!(fed.status, BodyStatus::Malformed);
    }

    #[test]
    fn gaps_inside_bodies() {
        let mut f = Framing::Length(10);
        assert_eq!(
            f.gap(4),
            GapFed::Absorbed {
                body: 4,
                done: false
            }
        );
        assert_eq!(f.gap(10), GapFed::Overflow { body: 6, rest: 4 });
        let mut f = Framing::Chunked(Chunk::Data(5));
        assert_eq!(
            f.gap(5),
            GapFed::Absorbed {
                body: 5,
                done: false
            }
        );
        let fed = f.feed(b"\r\n0\r\n\r\n");
        assert_eq!(fed.status, BodyStatus::Done);
        let mut f = Framing::Chunked(Chunk::Data(5));
        assert_eq!(f.gap(6), GapFed::Lost { body: 5 });
    }
}
