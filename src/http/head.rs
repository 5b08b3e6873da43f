//! Message heads: httparse for the grammar, plus the few fields framing and
//! reporting need. Strict first, then progressively lenient (obsolete line
//! folding, invalid header lines, a broken request line with a known
//! method), flagging what needed leniency as malformed.

use super::start::is_known_method;
use super::Limits;

/// Headers tried on the stack before a heap retry.
const STACK_HEADERS: usize = 64;
/// Headers accepted at most (a 64 KiB head holds at most ~16 K).
const MAX_HEADERS: usize = 4096;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Head {
    pub line: StartLine,
    pub host: Option<String>,
    pub user_agent: Option<String>,
    pub content_type: Option<String>,
    pub content_length: Option<u64>,
    /// Content-Length present but unparseable, or a list of different
    /// values in one header.
    pub bad_length: bool,
    /// Several Content-Length headers that disagree: the last one is
    /// `content_length`, as tshark takes it (README, HTTP exchanges).
    pub conflicting_length: bool,
    pub transfer_encoding: Option<String>,
    /// The final transfer coding is `chunked`.
    pub chunked: bool,
    /// An `Upgrade` header is present.
    pub upgrade: bool,
    pub malformed: bool,
    /// An HTTP/0.9 request: its request line is the whole head.
    pub simple: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) enum StartLine {
    #[default]
    Unknown,
    Request {
        method: String,
        uri: String,
        /// Minor version (`HTTP/1.x`); `None` when the line lacks one.
        version: Option<u8>,
    },
    Response {
        version: u8,
        status: u16,
        reason: String,
    },
}

/// Parses a complete request head (through its blank line).
pub(crate) fn parse_request(buf: &[u8], limits: &Limits) -> Option<Head> {
    if simple_request_end(buf) == Some(buf.len()) {
        let uri = first_line(buf)
            .get(SIMPLE_METHOD.len()..)
            .unwrap_or_default();
        return Some(Head {
            line: StartLine::Request {
                method: "GET".into(),
                uri: text(uri, limits.max_uri),
                version: None,
            },
            simple: true,
            ..Head::default()
        });
    }
    let mut config = httparse::ParserConfig::default();
    config.allow_multiple_spaces_in_request_line_delimiters(true);
    if let Some(head) = try_request(&config, buf, limits) {
        return Some(head);
    }
    // Obsolete line folding, which httparse refuses in requests.
    let unfolded = unfold(buf);
    if let Some(mut head) = unfolded
        .as_deref()
        .and_then(|b| try_request(&config, b, limits))
    {
        head.malformed = true;
        return Some(head);
    }
    config.ignore_invalid_headers_in_requests(true);
    if let Some(mut head) = try_request(&config, buf, limits) {
        head.malformed = true;
        return Some(head);
    }
    lenient_request(buf, limits)
}

/// Parses a complete response head (through its blank line).
pub(crate) fn parse_response(buf: &[u8], limits: &Limits) -> Option<Head> {
    let mut config = httparse::ParserConfig::default();
    config
        .allow_spaces_after_header_name_in_responses(true)
        .allow_obsolete_multiline_headers_in_responses(true)
        .allow_multiple_spaces_in_response_status_delimiters(true);
    if let Some(head) = try_response(&config, buf, limits) {
        return Some(head);
    }
    config.ignore_invalid_headers_in_responses(true);
    if let Some(mut head) = try_response(&config, buf, limits) {
        head.malformed = true;
        return Some(head);
    }
    lenient_response(buf, limits)
}

/// The request line's method and URI from the start of a head cut short
/// (by a gap, a close, or the head cap).
pub(crate) fn partial_request(buf: &[u8], limits: &Limits) -> (Option<String>, Option<String>) {
    let line = first_line(buf);
    let mut parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let method = parts
        .next()
        .filter(|m| m.iter().all(|&b| super::start::is_method_byte(b)))
        .map(|m| text(m, 32));
    let uri = method
        .as_ref()
        .and(parts.next())
        .map(|u| text(u, limits.max_uri));
    (method, uri)
}

/// The status code from the start of a response head cut short, or of a
/// status line httparse refused: like tshark, the digits up to the first
/// other byte (`2XX` is 2), when that byte was seen.
pub(crate) fn partial_status(buf: &[u8]) -> Option<u16> {
    if !buf.starts_with(b"HTTP/") {
        return None;
    }
    let code = buf.get(9..)?;
    let digits = code
        .iter()
        .take(3)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || (digits < 3 && code.len() == digits) {
        return None;
    }
    Some(
        code[..digits]
            .iter()
            .fold(0u16, |n, &d| n * 10 + u16::from(d - b'0')),
    )
}

fn try_request(config: &httparse::ParserConfig, buf: &[u8], limits: &Limits) -> Option<Head> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    let mut req = httparse::Request::new(&mut stack);
    match config.parse_request(&mut req, buf) {
        Ok(httparse::Status::Complete(_)) => Some(request_head(&req, limits)),
        Err(httparse::Error::TooManyHeaders) => {
            let mut heap = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut req = httparse::Request::new(&mut heap);
            match config.parse_request(&mut req, buf) {
                Ok(httparse::Status::Complete(_)) => Some(request_head(&req, limits)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn request_head(req: &httparse::Request<'_, '_>, limits: &Limits) -> Head {
    let mut head = Head {
        line: StartLine::Request {
            method: req
                .method
                .map(|m| text(m.as_bytes(), 32))
                .unwrap_or_default(),
            uri: req
                .path
                .map(|p| text(p.as_bytes(), limits.max_uri))
                .unwrap_or_default(),
            version: req.version,
        },
        ..Head::default()
    };
    fill_headers(&mut head, req.headers, limits);
    head
}

fn try_response(config: &httparse::ParserConfig, buf: &[u8], limits: &Limits) -> Option<Head> {
    let mut stack = [httparse::EMPTY_HEADER; STACK_HEADERS];
    let mut resp = httparse::Response::new(&mut stack);
    match config.parse_response(&mut resp, buf) {
        Ok(httparse::Status::Complete(_)) => Some(response_head(&resp, limits)),
        Err(httparse::Error::TooManyHeaders) => {
            let mut heap = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut resp = httparse::Response::new(&mut heap);
            match config.parse_response(&mut resp, buf) {
                Ok(httparse::Status::Complete(_)) => Some(response_head(&resp, limits)),
                _ => None,
            }
        }
        _ => None,
    }
}

fn response_head(resp: &httparse::Response<'_, '_>, limits: &Limits) -> Head {
    let mut head = Head {
        line: StartLine::Response {
            version: resp.version.unwrap_or(1),
            status: resp.code.unwrap_or(0),
            reason: resp
                .reason
                .map(|r| text(r.as_bytes(), limits.max_value))
                .unwrap_or_default(),
        },
        ..Head::default()
    };
    fill_headers(&mut head, resp.headers, limits);
    head
}

/// A request line httparse refused ("GET /x", "OPTIONS", "GET / HTTP/1.")
/// that starts with a known method: what tshark still calls a request.
fn lenient_request(buf: &[u8], limits: &Limits) -> Option<Head> {
    let line = first_line(buf);
    let mut parts = line.split(|&b| b == b' ').filter(|p| !p.is_empty());
    let method = parts.next().filter(|m| is_known_method(m))?;
    let uri = parts.next().unwrap_or_default();
    let version = parts.next().and_then(|v| match v {
        [b'H', b'T', b'T', b'P', b'/', b'1', b'.', d] if d.is_ascii_digit() => Some(d - b'0'),
        _ => None,
    });
    let mut head = Head {
        line: StartLine::Request {
            method: text(method, 32),
            uri: text(uri, limits.max_uri),
            version,
        },
        malformed: true,
        ..Head::default()
    };
    lenient_headers(&mut head, buf, limits);
    Some(head)
}

fn lenient_response(buf: &[u8], limits: &Limits) -> Option<Head> {
    let status = partial_status(buf)?;
    let version = match buf.get(5..8) {
        Some([b'1', b'.', d]) if d.is_ascii_digit() => d - b'0',
        _ => 1,
    };
    let line = first_line(buf);
    let reason = line.get(13..).unwrap_or_default();
    let mut head = Head {
        line: StartLine::Response {
            version,
            status,
            reason: text(reason, limits.max_value),
        },
        malformed: true,
        ..Head::default()
    };
    lenient_headers(&mut head, buf, limits);
    Some(head)
}

/// Headers after a start line httparse refused, best effort.
fn lenient_headers(head: &mut Head, buf: &[u8], limits: &Limits) {
    let rest = match memchr::memchr(b'\n', buf) {
        Some(nl) => &buf[nl + 1..],
        None => return,
    };
    let unfolded = unfold(rest);
    let rest = unfolded.as_deref().unwrap_or(rest);
    let mut headers = vec![httparse::EMPTY_HEADER; MAX_HEADERS];
    if let Ok(httparse::Status::Complete((_, parsed))) = httparse::parse_headers(rest, &mut headers)
    {
        fill_headers(head, parsed, limits);
    }
}

fn fill_headers(head: &mut Head, headers: &[httparse::Header<'_>], limits: &Limits) {
    let mut lengths: Option<u64> = None;
    for h in headers {
        let mut this_header: Option<u64> = None;
        let name = h.name.as_bytes();
        let value = trim(h.value);
        if name.eq_ignore_ascii_case(b"host") {
            head.host
                .get_or_insert_with(|| text(value, limits.max_value));
        } else if name.eq_ignore_ascii_case(b"user-agent") {
            head.user_agent
                .get_or_insert_with(|| text(value, limits.max_value));
        } else if name.eq_ignore_ascii_case(b"content-type") {
            head.content_type
                .get_or_insert_with(|| text(value, limits.max_value));
        } else if name.eq_ignore_ascii_case(b"content-length") {
            // RFC 9110 §8.6: a list of identical values is one value.
            for part in value.split(|&b| b == b',') {
                match (parse_decimal(trim(part)), this_header) {
                    (Some(n), None) => this_header = Some(n),
                    (Some(n), Some(m)) if n == m => {}
                    _ => head.bad_length = true,
                }
            }
            if let Some(n) = this_header {
                head.conflicting_length |= lengths.is_some_and(|m| m != n);
                lengths = Some(n);
            }
        } else if name.eq_ignore_ascii_case(b"transfer-encoding") {
            let te = head.transfer_encoding.get_or_insert_with(String::new);
            if te.len() < limits.max_value {
                if !te.is_empty() {
                    te.push_str(", ");
                }
                te.push_str(&text(value, limits.max_value));
            }
            head.chunked = value
                .rsplit(|&b| b == b',')
                .next()
                .is_some_and(|last| trim(last).eq_ignore_ascii_case(b"chunked"));
        } else if name.eq_ignore_ascii_case(b"upgrade") {
            head.upgrade = true;
        }
    }
    if head.bad_length {
        head.content_length = None;
    } else {
        head.content_length = lengths;
    }
}

/// A Content-Length value; a leading `+` is taken as tshark takes it.
fn parse_decimal(digits: &[u8]) -> Option<u64> {
    let digits = digits.strip_prefix(b"+").unwrap_or(digits);
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &d| {
        if d.is_ascii_digit() {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        } else {
            None
        }
    })
}

/// A copy with obsolete line folding (CRLF followed by SP/HT) replaced by
/// spaces, or `None` when there is none.
fn unfold(buf: &[u8]) -> Option<Vec<u8>> {
    let folded = |i: usize| matches!(buf.get(i + 1), Some(b' ' | b'\t'));
    let has_fold = memchr::memchr_iter(b'\n', buf).any(|i| i > 0 && folded(i));
    if !has_fold {
        return None;
    }
    let mut out = buf.to_vec();
    for i in memchr::memchr_iter(b'\n', buf) {
        // Not the blank line ending the head, and followed by whitespace.
        if folded(i) && i + 2 < buf.len() {
            out[i] = b' ';
            if i > 0 && out[i - 1] == b'\r' {
                out[i - 1] = b' ';
            }
        }
    }
    Some(out)
}

/// The start of an HTTP/0.9 request line (RFC 1945 §4.1, Simple-Request:
/// `GET` SP Request-URI CRLF).
const SIMPLE_METHOD: &[u8] = b"GET ";

/// Where an HTTP/0.9 request ends, when `buf` starts with one: just past
/// its line end.
pub(crate) fn simple_request_end(buf: &[u8]) -> Option<usize> {
    let nl = memchr::memchr(b'\n', buf)?;
    let line = &buf[..nl];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let uri = line.strip_prefix(SIMPLE_METHOD)?;
    let is_uri = !uri.is_empty() && uri.iter().all(|&b| b > b' ' && b != 0x7f);
    is_uri.then_some(nl + 1)
}

fn first_line(buf: &[u8]) -> &[u8] {
    let end = memchr::memchr(b'\n', buf).unwrap_or(buf.len());
    let line = &buf[..end];
    line.strip_suffix(b"\r").unwrap_or(line)
}

fn trim(mut v: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = v {
        v = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// Lossy UTF-8 text, at most `max` bytes (cut on a character boundary).
pub(crate) fn text(bytes: &[u8], max: usize) -> String {
    let s = String::from_utf8_lossy(&bytes[..bytes.len().min(max.saturating_add(4))]);
    if s.len() <= max {
        return s.into_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod test {
    use super::*;

    fn req(s: &str) -> Head {
        parse_request(s.as_bytes(), &Limits::default()).unwrap_or_default()
    }

    fn line(h: &Head) -> (String, String, Option<u8>) {
        match &h.line {
            StartLine::Request {
                method,
                uri,
                version,
            } => (method.clone(), uri.clone(), *version),
            _ => Default::default(),
        }
    }

    #[test]
    fn status_codes_read_as_tshark_reads_them() {
        assert_eq!(partial_status(b"HTTP/1.1 2XX OK"), Some(2));
        assert_eq!(partial_status(b"HTTP/1.1 404 Not"), Some(404));
        // Cut inside the code: not known yet.
        assert_eq!(partial_status(b"HTTP/1.1 40"), None);
        assert_eq!(partial_status(b"HTTP/1.1 OK"), None);
        assert_eq!(parse_decimal(b"+5"), Some(5));
        assert_eq!(parse_decimal(b"+"), None);
    }

    #[test]
    fn request_fields() {
        let h = req("POST /up HTTP/1.1\r\nHost: a:80\r\nContent-Length: 5, 5\r\nUser-Agent:  curl/8 \r\nContent-Type: text/plain\r\n\r\n");
        assert_eq!(line(&h), ("POST".into(), "/up".into(), Some(1)));
        assert_eq!(h.host.as_deref(), Some("a:80"));
        assert_eq!(h.user_agent.as_deref(), Some("curl/8"));
        assert_eq!(h.content_length, Some(5));
        assert!(!h.malformed);
    }

    #[test]
    fn contradictory_lengths_and_chunked() {
        // Like tshark: of two headers that disagree, the last one counts.
        let h = req("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n");
        assert!(h.conflicting_length && !h.bad_length);
        assert_eq!(h.content_length, Some(6));
        let h = req("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n");
        assert!(h.bad_length);
        assert_eq!(h.content_length, None);
        let h =
            req("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n\r\n");
        assert!(h.chunked);
        assert_eq!(h.transfer_encoding.as_deref(), Some("gzip, Chunked"));
    }

    #[test]
    fn folded_request_header() {
        let h = req("GET / HTTP/1.1\r\nUser-Agent: a\r\n b\r\nHost: h\r\n\r\n");
        assert_eq!(h.user_agent.as_deref(), Some("a   b"));
        assert_eq!(h.host.as_deref(), Some("h"));
        assert!(h.malformed);
    }

    #[test]
    fn broken_request_lines_with_known_methods() {
        assert_eq!(
            line(&req("GET /HTTP/1.1\r\nHost: h\r\n\r\n")).1,
            "/HTTP/1.1"
        );
        let h = req("OPTIONS\r\nHost: h\r\n\r\n");
        assert_eq!(line(&h), ("OPTIONS".into(), "".into(), None));
        assert_eq!(h.host.as_deref(), Some("h"));
        assert_eq!(line(&req("GET / HTTP/1.\r\n\r\n")).1, "/");
        assert_eq!(
            parse_request(b"FOO/ HTTP/1.1\r\n\r\n", &Limits::default()),
            None
        );
    }

    #[test]
    fn responses() {
        let h = parse_response(
            b"HTTP/1.0 404 Not Found\r\nContent-Type: text/html\r\nBad Header\r\n\r\n",
            &Limits::default(),
        )
        .unwrap_or_default();
        assert_eq!(
            h.line,
            StartLine::Response {
                version: 0,
                status: 404,
                reason: "Not Found".into()
            }
        );
        assert_eq!(h.content_type.as_deref(), Some("text/html"));
        assert!(h.malformed);
        assert_eq!(partial_status(b"HTTP/1.1 503 Se"), Some(503));
    }

    #[test]
    fn text_is_capped_on_char_boundary() {
        assert_eq!(text("héllo".as_bytes(), 2), "h");
        assert_eq!(text(b"abc", 10), "abc");
    }
}
