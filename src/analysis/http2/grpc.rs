//! gRPC over an HTTP/2 stream: service and method from `:path`, the
//! status and message from the trailers, `grpc-timeout`, and the
//! length-prefixed messages counted each way (gRPC's PROTOCOL-HTTP2 doc).

use serde::Serialize;

use crate::http::GrpcWait;
use crate::time::Span;

use super::hpack::Fields;

/// What a gRPC call showed.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Grpc {
    pub service: String,
    pub method: String,
    /// `grpc-status` of the trailers (or of a trailers-only response).
    pub status: Option<u32>,
    pub message: Option<String>,
    /// `grpc-timeout` as sent, e.g. `1S`, `250m`.
    pub timeout: Option<String>,
    /// Messages client to server and back; `None` when the framing of
    /// the messages was lost (a DATA frame not seen whole).
    pub requests: Option<u64>,
    pub responses: Option<u64>,
    #[serde(skip)]
    counters: [Counter; 2],
}

/// Where one direction is in its message framing.
#[derive(Clone, Debug, Default, PartialEq)]
struct Counter {
    messages: u64,
    /// Prefix bytes of the next message seen so far (0..5).
    prefix: [u8; 5],
    have: usize,
    /// Body bytes left in the current message.
    remaining: u64,
    lost: bool,
}

impl Counter {
    fn feed(&mut self, seen: &[u8], len: u64) {
        let mut bytes = seen;
        while !bytes.is_empty() && !self.lost {
            if self.remaining > 0 {
                let n = self.remaining.min(bytes.len() as u64);
                self.remaining -= n;
                bytes = &bytes[n as usize..];
                continue;
            }
            self.prefix[self.have] = bytes[0];
            self.have += 1;
            bytes = &bytes[1..];
            if self.have == 5 {
                self.messages += 1;
                self.have = 0;
                let p = self.prefix;
                self.remaining = u64::from(u32::from_be_bytes([p[1], p[2], p[3], p[4]]));
            }
        }
        let unseen = len.saturating_sub(seen.len() as u64);
        if unseen > 0 {
            if unseen <= self.remaining {
                self.remaining -= unseen;
            } else {
                self.lost = true;
            }
        }
    }

    fn count(&self) -> Option<u64> {
        (!self.lost).then_some(self.messages)
    }
}

/// Name of a gRPC status code (grpc's doc/statuscodes.md).
pub fn status_name(code: u32) -> Option<&'static str> {
    Some(match code {
        0 => "OK",
        1 => "CANCELLED",
        2 => "UNKNOWN",
        3 => "INVALID_ARGUMENT",
        4 => "DEADLINE_EXCEEDED",
        5 => "NOT_FOUND",
        6 => "ALREADY_EXISTS",
        7 => "PERMISSION_DENIED",
        8 => "RESOURCE_EXHAUSTED",
        9 => "FAILED_PRECONDITION",
        10 => "ABORTED",
        11 => "OUT_OF_RANGE",
        12 => "UNIMPLEMENTED",
        13 => "INTERNAL",
        14 => "UNAVAILABLE",
        15 => "DATA_LOSS",
        16 => "UNAUTHENTICATED",
        _ => return None,
    })
}

/// The status code a name stands for (`UNAVAILABLE` -> 14), any case.
pub fn status_code(name: &str) -> Option<u32> {
    (0..=16).find(|&code| status_name(code).is_some_and(|n| n.eq_ignore_ascii_case(name)))
}

impl Grpc {
    /// A gRPC call, if the request's content type says so.
    pub fn from_request(fields: &Fields) -> Option<Grpc> {
        let content_type = fields.get("content-type")?;
        if !content_type.starts_with("application/grpc") {
            return None;
        }
        let path = fields.get(":path").unwrap_or("");
        let (service, method) = path
            .strip_prefix('/')
            .and_then(|p| p.rsplit_once('/'))
            .unwrap_or(("", ""));
        Some(Grpc {
            service: service.to_string(),
            method: method.to_string(),
            timeout: fields.get("grpc-timeout").map(str::to_string),
            ..Grpc::default()
        })
    }

    pub fn trailers(&mut self, fields: &Fields) {
        if let Some(status) = fields.get("grpc-status").and_then(|s| s.parse().ok()) {
            self.status = Some(status);
        }
        if let Some(message) = fields.get("grpc-message") {
            self.message = Some(percent_decoded(message));
        }
    }

    pub fn data(&mut self, from_client: bool, seen: &[u8], len: u64) {
        self.counters[usize::from(!from_client)].feed(seen, len);
    }

    /// The direction's message framing is lost (bytes missing).
    pub fn lose(&mut self, from_client: bool) {
        self.counters[usize::from(!from_client)].lost = true;
    }

    /// What the verdict needs: the status and the deadline.
    pub fn wait(&self) -> GrpcWait {
        GrpcWait {
            status: self.status,
            timeout: self.timeout.as_deref().and_then(timeout_span),
        }
    }

    pub fn finish(mut self) -> Grpc {
        self.requests = self.counters[0].count();
        self.responses = self.counters[1].count();
        self
    }
}

/// `grpc-timeout` as a span: at most 8 digits and a unit (H, M, S, m,
/// u, n), gRPC's PROTOCOL-HTTP2 doc.
pub fn timeout_span(value: &str) -> Option<Span> {
    let unit = value.chars().next_back()?;
    let digits = &value[..value.len() - unit.len_utf8()];
    if digits.is_empty() || digits.len() > 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: i64 = digits.parse().ok()?;
    let nanos_per = match unit {
        'H' => 3_600_000_000_000,
        'M' => 60_000_000_000,
        'S' => 1_000_000_000,
        'm' => 1_000_000,
        'u' => 1_000,
        'n' => 1,
        _ => return None,
    };
    // 99999999H does not fit i64 nanoseconds: it saturates.
    Some(Span::from_nanos(n.saturating_mul(nanos_per)))
}

/// `grpc-message` is percent-encoded.
fn percent_decoded(s: &str) -> String {
    let bytes: Vec<u8> = form_urlencoded::parse(format!("m={}", s.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[cfg(test)]
mod test {
    use super::*;

    fn fields(pairs: &[(&'static str, &str)]) -> Fields {
        Fields {
            fields: pairs.iter().map(|&(n, v)| (n, v.to_string())).collect(),
            count: pairs.len(),
            incomplete: false,
        }
    }

    #[test]
    fn a_call_is_named_and_counted() {
        let mut g = Grpc::from_request(&fields(&[
            (":path", "/helloworld.Greeter/SayHello"),
            ("content-type", "application/grpc"),
            ("grpc-timeout", "1S"),
        ]))
        .unwrap();
        assert_eq!(
            (g.service.as_str(), g.method.as_str()),
            ("helloworld.Greeter", "SayHello")
        );
        g.data(true, b"\x00\x00\x00\x00\x02hi", 7);
        // Two messages, the second cut across frames.
        g.data(false, b"\x00\x00\x00\x00\x01a\x00\x00", 8);
        g.data(false, b"\x00\x00\x00", 3);
        g.trailers(&fields(&[
            ("grpc-status", "14"),
            ("grpc-message", "no%20backend"),
        ]));
        let g = g.finish();
        assert_eq!((g.requests, g.responses), (Some(1), Some(2)));
        assert_eq!(g.status, Some(14));
        assert_eq!(status_name(14), Some("UNAVAILABLE"));
        assert_eq!(status_code("unavailable"), Some(14));
        assert_eq!(status_code("OK"), Some(0));
        assert_eq!(status_code("NOPE"), None);
        assert_eq!(g.message.as_deref(), Some("no backend"));
    }

    #[test]
    fn timeouts_read_as_spans() {
        assert_eq!(timeout_span("500m"), Some(Span::from_nanos(500_000_000)));
        assert_eq!(timeout_span("2S"), Some(Span::from_nanos(2_000_000_000)));
        assert_eq!(
            timeout_span("99999999H").map(|s| s.as_nanos() > 0),
            Some(true)
        );
        for bad in ["", "m", "123456789S", "5x", "-5S", "5é"] {
            assert_eq!(timeout_span(bad), None, "{bad}");
        }
    }

    #[test]
    fn not_grpc() {
        assert!(
            Grpc::from_request(&fields(&[(":path", "/"), ("content-type", "text/html")])).is_none()
        );
    }
}
