//! Recognising where an HTTP message starts.
//!
//! Two tools: [`LineMatch`], fed one byte at a time at a place where a
//! message is expected (a stream's first byte, the end of the previous
//! message), decides after a few bytes whether the line is a request or
//! status line; [`find_start`] searches arbitrary bytes (after a capture
//! gap, or a stream picked up mid-body) for the next plausible message
//! start: `METHOD SP URI SP HTTP/1.d` + line end, or `HTTP/1.d NNN`.

/// What a message start looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Request,
    Response,
}

/// Methods accepted even when the rest of the request line is broken
/// (tshark's heuristic knows them too).
const KNOWN_METHODS: &[&[u8]] = &[
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"CONNECT",
    b"OPTIONS",
    b"TRACE",
    b"PATCH",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"SEARCH",
    b"REPORT",
    b"MKACTIVITY",
    b"CHECKOUT",
    b"MERGE",
    b"M-SEARCH",
    b"NOTIFY",
    b"SUBSCRIBE",
    b"UNSUBSCRIBE",
    b"PURGE",
    b"CCM_POST",
];

/// Longest method token accepted when looking for a message start.
const MAX_METHOD: usize = 24;

pub(crate) fn is_known_method(m: &[u8]) -> bool {
    KNOWN_METHODS.contains(&m)
}

/// Bytes of a method token as we accept them when sniffing: upper-case
/// letters, digits, `-` and `_` (real methods are upper case; this keeps
/// lower-case text protocols out).
pub(crate) fn is_method_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_'
}

fn is_uri_byte(b: u8) -> bool {
    b > b' ' && b != 0x7f
}

/// A status line as tshark accepts one where a message starts: any
/// version (`HTTP/2.0 200`), and a code of which only the first digit
/// must be one (`2XX`).
const STATUS_PATTERN: &[u8; 10] = b"HTTP/#.# #";
const VERSION_PATTERN: &[u8; 8] = b"HTTP/1.#";

/// Incremental classification of one line expected to start a message.
#[derive(Clone, Copy, Debug)]
pub(crate) struct LineMatch {
    /// Matched length of [`STATUS_PATTERN`]; `None` once impossible.
    status: Option<u8>,
    req: Req,
    method: [u8; MAX_METHOD],
    method_len: u8,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Req {
    Method,
    Uri {
        len: u32,
    },
    Version {
        matched: u8,
    },
    /// A known method followed by a space or line end.
    Known,
    Dead,
}

/// Outcome of feeding one byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    More,
    Match(Kind),
    NoMatch,
}

impl LineMatch {
    /// A matcher that only looks for `want` (or either, for `None`).
    pub(crate) fn new(want: Option<Kind>) -> Self {
        LineMatch {
            status: (want != Some(Kind::Request)).then_some(0),
            req: if want == Some(Kind::Response) {
                Req::Dead
            } else {
                Req::Method
            },
            method: [0; MAX_METHOD],
            method_len: 0,
        }
    }

    pub(crate) fn feed(&mut self, b: u8) -> Step {
        if let Some(matched) = self.status {
            let want = STATUS_PATTERN[usize::from(matched)];
            let ok = if want == b'#' {
                b.is_ascii_digit()
            } else {
                b == want
            };
            self.status = ok.then_some(matched + 1);
            if self.status == Some(STATUS_PATTERN.len() as u8) {
                return Step::Match(Kind::Response);
            }
        }
        self.req = match self.req {
            Req::Method => self.method_byte(b),
            Req::Uri { len } if is_uri_byte(b) => Req::Uri { len: len + 1 },
            Req::Uri { len } if b == b' ' && len > 0 => Req::Version { matched: 0 },
            Req::Version { matched } if usize::from(matched) < VERSION_PATTERN.len() => {
                let want = VERSION_PATTERN[usize::from(matched)];
                let ok = if want == b'#' {
                    b.is_ascii_digit()
                } else {
                    b == want
                };
                if ok {
                    Req::Version {
                        matched: matched + 1,
                    }
                } else {
                    Req::Dead
                }
            }
            Req::Version { .. } if b == b'\r' || b == b'\n' => return Step::Match(Kind::Request),
            _ => Req::Dead,
        };
        if self.req == Req::Known {
            return Step::Match(Kind::Request);
        }
        if self.status.is_none() && self.req == Req::Dead {
            Step::NoMatch
        } else {
            Step::More
        }
    }

    fn method_byte(&mut self, b: u8) -> Req {
        let len = usize::from(self.method_len);
        let method = &self.method[..len];
        if (b == b' ' || b == b'\r' || b == b'\n') && is_known_method(method) {
            // A known method: decided without waiting for the version.
            return Req::Known;
        }
        if b == b' ' && len > 0 {
            return Req::Uri { len: 0 };
        }
        let first_ok = len > 0 || b.is_ascii_uppercase();
        if len < MAX_METHOD && first_ok && is_method_byte(b) {
            self.method[len] = b;
            self.method_len += 1;
            Req::Method
        } else {
            Req::Dead
        }
    }
}

/// How the bytes at a place where a message should start look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Opening {
    /// A request or status line.
    Message,
    /// Not decided by these bytes.
    Undecided,
    /// Not a message start: the byte at `at` ruled it out.
    NotMessage { at: usize },
}

/// Classifies `line` (a stream's first bytes, empty lines skipped) as the
/// parser does at a message boundary.
pub fn opening(line: &[u8]) -> Opening {
    let mut m = LineMatch::new(None);
    for (at, &b) in line.iter().enumerate() {
        match m.feed(b) {
            Step::More => {}
            Step::Match(_) => return Opening::Message,
            Step::NoMatch => return Opening::NotMessage { at },
        }
    }
    Opening::Undecided
}

/// A message start found by [`find_start`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Found {
    /// A message starts at this offset.
    At(usize, Kind),
    /// Nothing yet; bytes before this offset can be dropped (the rest may
    /// be the beginning of a start line).
    Keep(usize),
}

/// Longest request line prefix (method, URI) kept while searching.
pub(crate) const MAX_SEEK_LINE: usize = 8 * 1024;

/// Searches `buf[from..]` for a message start of kind `want` (or either),
/// anywhere (not only at line starts: a body need not end with a newline).
pub(crate) fn find_start(buf: &[u8], from: usize, want: Option<Kind>) -> Found {
    let finder = memchr::memmem::Finder::new(b"HTTP/1.");
    let mut pos = from;
    while let Some(rel) = buf.get(pos..).and_then(|rest| finder.find(rest)) {
        let at = pos + rel;
        let after = &buf[at + VERSION_PATTERN.len() - 1..];
        // `after` starts at the version digit.
        let (Some(&digit), Some(&next)) = (after.first(), after.get(1)) else {
            return Found::Keep(keep_from(buf, at));
        };
        if !digit.is_ascii_digit() {
            pos = at + 1;
            continue;
        }
        if want != Some(Kind::Request) && next == b' ' {
            match after.get(2..5) {
                None => return Found::Keep(keep_from(buf, at)),
                Some(code) if code.iter().all(u8::is_ascii_digit) => {
                    return Found::At(at, Kind::Response)
                }
                Some(_) => {}
            }
        }
        if want != Some(Kind::Response)
            && (next == b'\r' || next == b'\n')
            && at > 0
            && buf[at - 1] == b' '
        {
            if let Some(start) = request_line_start(buf, at - 1) {
                return Found::At(start, Kind::Request);
            }
        }
        pos = at + 1;
    }
    // Keep what could be the start of a line not yet complete: back to the
    // last newline, at most MAX_SEEK_LINE, and at least a partial "HTTP/1.".
    let tail_start = buf.len().saturating_sub(VERSION_PATTERN.len());
    Found::Keep(keep_from(buf, tail_start))
}

/// Where a not-yet-decided candidate line starting before `at` begins.
fn keep_from(buf: &[u8], at: usize) -> usize {
    let line_start = memchr::memrchr(b'\n', &buf[..at]).map_or(0, |nl| nl + 1);
    line_start.max(at.saturating_sub(MAX_SEEK_LINE))
}

/// Given the space before " HTTP/1.d" at `sp`, finds `METHOD SP URI` before
/// it and returns where the method starts.
fn request_line_start(buf: &[u8], sp: usize) -> Option<usize> {
    let line = &buf[..sp];
    let uri_start = memchr::memrchr(b' ', line)? + 1;
    let uri = &line[uri_start..];
    if uri.is_empty() || !uri.iter().all(|&b| is_uri_byte(b)) {
        return None;
    }
    let method_end = uri_start - 1;
    let run = line[..method_end]
        .iter()
        .rev()
        .take_while(|&&b| is_method_byte(b))
        .count();
    let run_start = method_end - run;
    // A body may end right before the method ("...xyzGET /"): prefer the
    // longest known method that ends the run.
    let known = (1..=run.min(MAX_METHOD))
        .rev()
        .find(|&n| is_known_method(&line[method_end - n..method_end]));
    match known {
        Some(n) => Some(method_end - n),
        None if run > 0 && run <= MAX_METHOD && line[run_start].is_ascii_uppercase() => {
            Some(run_start)
        }
        None => None,
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn classify(line: &[u8], want: Option<Kind>) -> (Step, usize) {
        let mut m = LineMatch::new(want);
        for (i, &b) in line.iter().enumerate() {
            match m.feed(b) {
                Step::More => continue,
                step => return (step, i + 1),
            }
        }
        (Step::More, line.len())
    }

    #[test]
    fn line_matcher_decides_early() {
        assert_eq!(
            classify(b"GET / HTTP/1.1\r\n", None),
            (Step::Match(Kind::Request), 4)
        );
        assert_eq!(
            classify(b"HTTP/1.1 200 OK\r\n", None),
            (Step::Match(Kind::Response), 10)
        );
        // tshark's status lines: any version, a code that starts with a digit.
        assert_eq!(
            classify(b"HTTP/2.0 200 OK\r\n", None),
            (Step::Match(Kind::Response), 10)
        );
        assert_eq!(
            classify(b"HTTP/1.1 2XX OK\r\n", None),
            (Step::Match(Kind::Response), 10)
        );
        assert_eq!(classify(b"HTTP/1.1 OK\r\n", None), (Step::NoMatch, 10));
        assert_eq!(
            classify(b"HEAD / HTTP/1.1\r\n", None),
            (Step::Match(Kind::Request), 5)
        );
        assert_eq!(
            classify(b"BREW /pot HTTP/1.1\r\n", None),
            (Step::Match(Kind::Request), 19)
        );
        assert_eq!(classify(b"BREW /pot\r\n", None), (Step::NoMatch, 10));
        assert_eq!(classify(b"\x16\x03\x01", None), (Step::NoMatch, 1));
        assert_eq!(classify(b"SSH-2.0-OpenSSH", None), (Step::NoMatch, 6));
        assert_eq!(classify(b"ehlo x\r\n", None), (Step::NoMatch, 1));
        assert_eq!(
            classify(b"GET / HTTP/1.1", Some(Kind::Response)).0,
            Step::NoMatch
        );
        assert_eq!(
            classify(b"HTTP/1.1 200", Some(Kind::Request)).0,
            Step::NoMatch
        );
    }

    #[test]
    fn search_finds_starts_mid_line() {
        let buf = b"\x00\x01binaryHTTP/1.1 200 OK\r\n";
        assert_eq!(find_start(buf, 0, None), Found::At(8, Kind::Response));
        let buf = b"junk}GET /a?b HTTP/1.1\r\nHost: x\r\n";
        assert_eq!(find_start(buf, 0, None), Found::At(5, Kind::Request));
        let buf = b"xyzGET /a HTTP/1.0\n";
        assert_eq!(find_start(buf, 0, None), Found::At(3, Kind::Request));
        let buf = b"text FOO /a HTTP/1.0\n";
        assert_eq!(
            find_start(buf, 0, Some(Kind::Request)),
            Found::At(5, Kind::Request)
        );
        assert_eq!(find_start(buf, 0, Some(Kind::Response)), Found::Keep(0));
    }

    #[test]
    fn search_keeps_undecided_tails() {
        // A status line cut after "HTTP/1.1 2": keep from the candidate.
        assert_eq!(find_start(b"abc\nxxHTTP/1.1 2", 0, None), Found::Keep(4));
        // A request line whose version is not yet complete.
        assert_eq!(find_start(b"a\nGET /x HTT", 0, None), Found::Keep(2));
        assert_eq!(find_start(b"HTTP/1.1 2xx nope", 0, None), Found::Keep(0));
    }
}
