//! Which bytes of an HTTP/1.x connection a profile masks: a byte-at-a-time
//! scanner over both directions of one connection that reports, per
//! direction, the stream offsets to mask.
//!
//! Only values are masked, never framing: start lines keep their method,
//! path, query keys and version; heads keep header names, CRLFs and the
//! values that frame a message (Content-Length, Transfer-Encoding,
//! Content-Type); chunked bodies keep their size lines. So a masked
//! stream parses into the same exchanges with the same lengths. How a
//! message is framed is decided from its head as the analysis parses it
//! (`http::head`, lenient rules included), by the analysis's rules. What the
//! scanner cannot parse (not HTTP, a tunnel after CONNECT or an upgrade,
//! bytes after a gap) is masked whole when the profile says
//! `mask_other_payload`, and after a gap whenever the profile masks any
//! value: where the framing is lost, nothing is assumed safe. There the
//! scan searches for the next message start as the analysis does, and
//! scans from it as HTTP again.

use std::collections::VecDeque;

use super::h2_mask::H2Scan;
pub use super::mask_set::MaskSet;
use super::profile::Profile;
pub use super::query::{mask_query, QueryScan};
use crate::analysis::{Probe, BUILTIN, MAX_PROBE_BYTES};
use crate::flow::Dir;
use crate::http::head::{self as http_head, StartLine};
use crate::http::start::{find_start, is_method_byte, Found};
use crate::http::Limits;

/// Header values longer than this are not read for framing (they are
/// still masked when their name says so).
const MAX_VALUE_KEPT: usize = 256;
/// A header name longer than this matches no sensitive name.
const MAX_NAME_KEPT: usize = 64;
/// Mask ranges one connection may hold (16 bytes each): past it, the
/// rest of the connection is masked and no longer scanned, the same
/// fail-closed rule as the rewriter's out-of-order budget.
pub const MAX_MASK_RANGES: usize = 1 << 16;
/// The HTTP/2 analyzer's name in the registry (its probe is asked).
const HTTP2: &str = "h2";
/// A first token longer than this is not an HTTP method or version.
const MAX_TOKEN: usize = 24;
/// The client preface after its start line `PRI * HTTP/2.0` (RFC 9113
/// §3.4): `\r\nSM\r\n\r\n`.
const PREFACE_AFTER_START_LINE: u64 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
    /// Not HTTP from here on (a tunnel, an upgrade).
    Opaque,
}

/// Values of the head that decide what follows it.
#[derive(Clone, Debug, Default)]
struct Head {
    is_response: bool,
    status: u16,
    method_is_head: bool,
    method_is_connect: bool,
    /// `PRI * HTTP/2.0`: the HTTP/2 preface, binary frames follow.
    method_is_pri: bool,
    content_type: Option<Vec<u8>>,
    /// `Upgrade: h2c`: after a 101, HTTP/2 frames follow.
    upgrade_h2c: bool,
    in_trailers: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HeaderKind {
    /// Host: masked when it names an IP address and addresses are
    /// pseudonymised (decided at the end of the value).
    Host,
    Upgrade,
    Other,
}

#[derive(Clone, Debug)]
enum State {
    /// Before a message (CRLFs between messages are skipped).
    Start,
    /// The first token of a start line.
    Token(Vec<u8>),
    /// A request target.
    Target(QueryScan),
    /// The rest of a start line (request version, or status and reason).
    StartRest(Vec<u8>),
    LineStart,
    /// A CR at the start of a line: the head ends at its LF.
    HeadEnd,
    Name(Vec<u8>),
    Value {
        kind: HeaderKind,
        masked: bool,
        /// Still in the whitespace after the colon (kept).
        leading: bool,
        kept: Vec<u8>,
    },
    Body {
        left: u64,
        masked: bool,
    },
    ChunkSize {
        size: u64,
        digits: bool,
        masked: bool,
    },
    ChunkData {
        left: u64,
        masked: bool,
    },
    ChunkDataEnd {
        masked: bool,
    },
    /// The rest of the stream: masked or not.
    Rest {
        masked: bool,
    },
    /// A direction's first bytes, not HTTP/1: held (from `seek_start`)
    /// until the HTTP/2 probe decides.
    Probing(Vec<u8>),
    /// HTTP/2 frames (after the client preface, or an upgrade to h2c).
    Http2(Box<H2Scan>),
    /// Framing lost (after a gap, or a stream picked up mid-message):
    /// bytes are masked or not, and searched for the next message start
    /// as the analysis searches (`http::start::find_start`).
    Lost {
        masked: bool,
    },
}

#[derive(Clone, Debug)]
struct DirScan {
    state: State,
    head: Head,
    /// The last header value was masked (so is an obs-fold continuation).
    last_masked: bool,
    /// The last header's kind: an obs-fold continuation goes on with its
    /// value, as the analysis reads it (a folded Host is read whole).
    last_kind: HeaderKind,
    /// The byte before this one was a CR inside a header value.
    pending_cr: bool,
    /// The head being scanned, as sent (up to the analysis's longest
    /// head), for the analysis's head parser.
    raw: Vec<u8>,
    raw_over: bool,
    offset: u64,
    masks: MaskSet,
    /// While `Lost`: bytes searched for a message start, from `seek_start`.
    seek: Vec<u8>,
    seek_start: u64,
}

impl Default for DirScan {
    fn default() -> Self {
        DirScan {
            state: State::Start,
            head: Head::default(),
            last_masked: false,
            last_kind: HeaderKind::Other,
            pending_cr: false,
            raw: Vec::new(),
            raw_over: false,
            offset: 0,
            masks: MaskSet::default(),
            seek: Vec::new(),
            seek_start: 0,
        }
    }
}

/// Scans one connection's two streams, fed in delivery order.
#[derive(Clone, Debug, Default)]
pub struct HttpMasker {
    dirs: [DirScan; 2],
    /// Whether each request not yet answered was HEAD or CONNECT.
    pending: VecDeque<(bool, bool)>,
    /// The client sent the HTTP/2 preface: the server's frames follow
    /// without one.
    http2: bool,
    /// Past [`MAX_MASK_RANGES`]: everything from here on is masked.
    capped: bool,
}

impl HttpMasker {
    /// Scans the next `bytes` of direction `dir`.
    pub fn data(&mut self, profile: &Profile, dir: Dir, bytes: &[u8]) {
        if !profile.touches_payload() || self.capped {
            let d = &mut self.dirs[dir.index()];
            d.offset += bytes.len() as u64;
            return;
        }
        self.scan(profile, dir, bytes);
        self.cap();
    }

    /// Past the cap on mask ranges, masks both directions from where they
    /// are to the end.
    fn cap(&mut self) {
        let held: usize = self.dirs.iter().map(|d| d.masks.ranges().len()).sum();
        if held > MAX_MASK_RANGES {
            self.capped = true;
            for d in &mut self.dirs {
                d.masks.push(d.offset..u64::MAX);
                d.state = State::Rest { masked: true };
                d.seek = Vec::new();
            }
        }
    }

    fn scan(&mut self, profile: &Profile, dir: Dir, bytes: &[u8]) {
        let mut replayed: Vec<u8>;
        let mut rest = bytes;
        let mut at = 0;
        while at < rest.len() {
            let d = &mut self.dirs[dir.index()];
            let first = rest[at];
            if matches!(d.state, State::Start) && d.offset == 0 && !is_http1_start_byte(first) {
                // Binary from a direction's first byte: HTTP/2 frames (a
                // server's SETTINGS may come before the client preface),
                // or other payload, as the analysis's probe decides.
                d.state = State::Probing(Vec::new());
                d.seek_start = 0;
            }
            // Bytes held while the probe decides or a message start is
            // searched for come back to be scanned again from where it is.
            let held = match d.state {
                State::Probing(_) => Some(self.probe(profile, dir, &rest[at..])),
                State::Lost { masked } => Some(self.seek(dir, masked, &rest[at..])),
                _ => None,
            };
            match held {
                Some(Some(replay)) => {
                    replayed = replay;
                    rest = &replayed;
                    at = 0;
                    continue;
                }
                Some(None) => return,
                None => {}
            }
            let d = &mut self.dirs[dir.index()];
            if let State::Http2(scan) = &mut d.state {
                scan.data(profile, d.offset, &rest[at..], &mut d.masks);
                d.offset += (rest.len() - at) as u64;
                return;
            }
            let masked = self.step(profile, dir, rest[at]);
            let d = &mut self.dirs[dir.index()];
            if masked {
                d.masks.push(d.offset..d.offset + 1);
            }
            d.offset += 1;
            at += 1;
        }
    }

    /// Takes `bytes` in the `Probing` state (masked as other payload until
    /// decided): once the HTTP/2 probe answers, the scan goes back to the
    /// direction's start and the bytes are returned, to be scanned again
    /// as frames or as lost framing.
    fn probe(&mut self, profile: &Profile, dir: Dir, bytes: &[u8]) -> Option<Vec<u8>> {
        let d = &mut self.dirs[dir.index()];
        let State::Probing(seen) = &mut d.state else {
            return None;
        };
        if profile.mask_other_payload {
            d.masks.push(d.offset..d.offset + bytes.len() as u64);
        }
        d.offset += bytes.len() as u64;
        seen.extend_from_slice(bytes);
        let http2 = BUILTIN.stream(HTTP2).map(|entry| (entry.probe)(dir, seen));
        let next = match http2 {
            Some(Probe::Yes) => {
                self.http2 = true;
                State::Http2(Box::new(H2Scan::new(0)))
            }
            Some(Probe::NeedMore) if seen.len() < MAX_PROBE_BYTES => return None,
            _ => State::Lost {
                masked: profile.mask_other_payload,
            },
        };
        let replay = std::mem::take(seen);
        d.state = next;
        d.masks.truncate(d.seek_start);
        d.offset = d.seek_start;
        Some(replay)
    }

    /// Takes `bytes` in the `Lost` state: when a message start turns up,
    /// the scan goes back to it and the bytes from there are returned, to
    /// be scanned again as HTTP.
    fn seek(&mut self, dir: Dir, masked: bool, bytes: &[u8]) -> Option<Vec<u8>> {
        let d = &mut self.dirs[dir.index()];
        if d.seek.is_empty() {
            d.seek_start = d.offset;
        }
        if masked {
            d.masks.push(d.offset..d.offset + bytes.len() as u64);
        }
        d.offset += bytes.len() as u64;
        d.seek.extend_from_slice(bytes);
        match find_start(&d.seek, 0, None) {
            Found::At(at, _) => {
                let start = d.seek_start + at as u64;
                d.masks.truncate(start);
                d.offset = start;
                d.state = State::Start;
                let replay = d.seek.split_off(at);
                d.seek.clear();
                Some(replay)
            }
            Found::Keep(keep) => {
                d.seek.drain(..keep.min(d.seek.len()));
                d.seek_start = d.offset - d.seek.len() as u64;
                None
            }
        }
    }

    /// Enters the `Lost` state at the current offset.
    fn lose(d: &mut DirScan, masked: bool) {
        d.state = State::Lost { masked };
        d.seek.clear();
    }

    /// `len` bytes of direction `dir` were never seen: the framing is
    /// lost, so the rest is masked whenever the profile masks values.
    pub fn gap(&mut self, profile: &Profile, dir: Dir, len: u64) {
        let d = &mut self.dirs[dir.index()];
        d.offset += len;
        if !self.capped {
            Self::lose(d, profile.masks_values());
        }
    }

    /// Stream bytes scanned (or skipped as a gap) in direction `dir`.
    pub fn offset(&self, dir: Dir) -> u64 {
        self.dirs[dir.index()].offset
    }

    pub fn masks(&self, dir: Dir) -> &MaskSet {
        &self.dirs[dir.index()].masks
    }

    pub fn into_masks(self) -> [MaskSet; 2] {
        let [a, b] = self.dirs;
        [a.masks, b.masks]
    }

    fn step(&mut self, profile: &Profile, dir: Dir, b: u8) -> bool {
        let peer_speaks_http2 = self.http2;
        let d = &mut self.dirs[dir.index()];
        let state = std::mem::replace(&mut d.state, State::Start);
        let in_head = match state {
            State::Start => {
                d.raw.clear();
                d.raw_over = false;
                b.is_ascii_uppercase()
            }
            State::Token(_)
            | State::Target(_)
            | State::StartRest(_)
            | State::LineStart
            | State::HeadEnd
            | State::Name(_)
            | State::Value { .. } => !d.head.in_trailers,
            _ => false,
        };
        if in_head {
            if d.raw.len() < Limits::default().max_head {
                d.raw.push(b);
            } else {
                d.raw_over = true;
            }
        }
        let (next, masked) = match state {
            State::Start if b == b'\r' || b == b'\n' => (State::Start, false),
            State::Start if peer_speaks_http2 && !b.is_ascii_uppercase() => {
                // A server's frames after a client's preface.
                let mut scan = Box::new(H2Scan::new(0));
                scan.data(profile, d.offset, &[b], &mut d.masks);
                (State::Http2(scan), false)
            }
            State::Start if b.is_ascii_uppercase() => {
                d.head = Head::default();
                (State::Token(vec![b]), false)
            }
            State::Start => opaque(profile),
            State::Token(mut t) => {
                if b == b' ' {
                    if t.starts_with(b"HTTP/") {
                        d.head.is_response = true;
                        (State::StartRest(Vec::new()), false)
                    } else {
                        d.head.method_is_head = t == b"HEAD";
                        d.head.method_is_connect = t == b"CONNECT";
                        d.head.method_is_pri = t == b"PRI";
                        (State::Target(QueryScan::Path), false)
                    }
                } else if b == b'\n' {
                    // A start line of one token (`TRACE/HTTP/1.1`): the
                    // analysis reads on, so the scan does too.
                    d.head.is_response = t.starts_with(b"HTTP/");
                    self.start_line_done(dir, b"")
                } else if (t.len() < MAX_TOKEN && is_token_byte(b)) || b == b'\r' {
                    t.push(b);
                    (State::Token(t), false)
                } else {
                    // Not a start line after all: its first bytes, kept
                    // so far, are masked with the rest.
                    if profile.mask_other_payload {
                        d.masks.push(d.offset - t.len() as u64..d.offset);
                    }
                    opaque(profile)
                }
            }
            State::Target(mut q) => match b {
                b' ' => (State::StartRest(Vec::new()), false),
                b'\n' => self.start_line_done(dir, b""),
                _ => {
                    let m = profile.mask_query && q.step(b);
                    (State::Target(q), m)
                }
            },
            State::StartRest(mut rest) => {
                if b == b'\n' {
                    self.start_line_done(dir, &rest)
                } else {
                    if rest.len() < MAX_TOKEN {
                        rest.push(b);
                    }
                    (State::StartRest(rest), false)
                }
            }
            State::LineStart => match b {
                b'\r' => (State::HeadEnd, false),
                b'\n' => self.head_done(profile, dir),
                b' ' | b'\t' => {
                    let masked = d.last_masked;
                    (
                        State::Value {
                            kind: d.last_kind,
                            masked,
                            leading: true,
                            kept: Vec::new(),
                        },
                        false,
                    )
                }
                _ => (State::Name(vec![b]), false),
            },
            State::HeadEnd => {
                if b == b'\n' {
                    self.head_done(profile, dir)
                } else {
                    (State::Name(vec![b]), false)
                }
            }
            State::Name(mut name) => match b {
                b':' => {
                    let kind = header_kind(&name);
                    let masked = name.len() <= MAX_NAME_KEPT && profile.masks_header(&name);
                    d.last_masked = masked;
                    d.last_kind = kind;
                    (
                        State::Value {
                            kind,
                            masked,
                            leading: true,
                            kept: Vec::new(),
                        },
                        false,
                    )
                }
                b'\n' => (State::LineStart, false),
                _ => {
                    if name.len() <= MAX_NAME_KEPT {
                        name.push(b);
                    }
                    (State::Name(name), false)
                }
            },
            State::Value {
                kind,
                masked,
                leading,
                mut kept,
            } => {
                if b == b'\n' {
                    take_value(&mut d.head, kind, &kept);
                    if kind == HeaderKind::Host
                        && profile.pseudonymise_addresses
                        && is_ip_literal(kept.trim_ascii())
                    {
                        // `kept` holds the value from its first byte after the colon.
                        let end = d.offset - u64::from(d.pending_cr);
                        let value_len = kept.trim_ascii_start().len() as u64;
                        d.masks.push(end - value_len..end);
                    }
                    d.pending_cr = false;
                    (State::LineStart, false)
                } else if b == b'\r' {
                    d.pending_cr = true;
                    (
                        State::Value {
                            kind,
                            masked,
                            leading,
                            kept,
                        },
                        false,
                    )
                } else {
                    d.pending_cr = false;
                    let leading = leading && (b == b' ' || b == b'\t');
                    if kind != HeaderKind::Other && kept.len() < MAX_VALUE_KEPT {
                        kept.push(b);
                    }
                    (
                        State::Value {
                            kind,
                            masked,
                            leading,
                            kept,
                        },
                        masked && !leading,
                    )
                }
            }
            State::Body { left, masked } => {
                let next = if left <= 1 {
                    State::Start
                } else {
                    State::Body {
                        left: left - 1,
                        masked,
                    }
                };
                (next, masked)
            }
            State::ChunkSize {
                size,
                digits,
                masked,
            } => {
                if b == b'\n' {
                    if size == 0 {
                        d.head.in_trailers = true;
                        (State::LineStart, false)
                    } else {
                        (State::ChunkData { left: size, masked }, false)
                    }
                } else {
                    let (size, digits) = match (digits, (b as char).to_digit(16)) {
                        (true, Some(v)) => {
                            (size.saturating_mul(16).saturating_add(u64::from(v)), true)
                        }
                        _ => (size, false),
                    };
                    (
                        State::ChunkSize {
                            size,
                            digits,
                            masked,
                        },
                        false,
                    )
                }
            }
            State::ChunkData { left, masked } => {
                let next = if left <= 1 {
                    State::ChunkDataEnd { masked }
                } else {
                    State::ChunkData {
                        left: left - 1,
                        masked,
                    }
                };
                (next, masked)
            }
            State::ChunkDataEnd { masked } => {
                if b == b'\n' {
                    (
                        State::ChunkSize {
                            size: 0,
                            digits: true,
                            masked,
                        },
                        false,
                    )
                } else {
                    (State::ChunkDataEnd { masked }, false)
                }
            }
            State::Rest { masked } => (State::Rest { masked }, masked),
            // `data` hands HTTP/2 bytes to the frame scan, and probed
            // bytes to `probe`, never here.
            State::Http2(scan) => (State::Http2(scan), false),
            State::Probing(seen) => (State::Probing(seen), false),
            // `data` hands `Lost` bytes to `seek`, never here.
            State::Lost { masked } => (State::Lost { masked }, masked),
        };
        self.dirs[dir.index()].state = next;
        masked
    }

    /// The start line ended (`rest`: what followed the first token).
    fn start_line_done(&mut self, dir: Dir, rest: &[u8]) -> (State, bool) {
        let d = &mut self.dirs[dir.index()];
        if d.head.method_is_pri {
            // HTTP/2 with prior knowledge, or after an upgrade.
            self.http2 = true;
            let scan = H2Scan::new(PREFACE_AFTER_START_LINE);
            return (State::Http2(Box::new(scan)), false);
        }
        if d.head.is_response {
            let code = rest.get(..3).and_then(|c| std::str::from_utf8(c).ok());
            d.head.status = code.and_then(|c| c.parse().ok()).unwrap_or(0);
        } else {
            self.pending
                .push_back((d.head.method_is_head, d.head.method_is_connect));
        }
        (State::LineStart, false)
    }

    /// The head (or a chunked body's trailers) ended: what comes next,
    /// decided from the head as the analysis parses it (`http::head`,
    /// lenient rules included) and by the analysis's framing rules (RFC
    /// 9112 §6.3): one way to frame a message.
    fn head_done(&mut self, profile: &Profile, dir: Dir) -> (State, bool) {
        let d = &mut self.dirs[dir.index()];
        if d.head.in_trailers {
            return (State::Start, false);
        }
        let raw = std::mem::take(&mut d.raw);
        let limits = Limits::default();
        let parsed = if d.raw_over {
            None
        } else if d.head.is_response {
            http_head::parse_response(&raw, &limits)
        } else {
            http_head::parse_request(&raw, &limits)
        };
        let Some(parsed) = parsed else {
            // Too long or unreadable: the analysis resynchronises there.
            let masked = profile.masks_values();
            d.state = State::Start;
            Self::lose(d, masked);
            return (State::Lost { masked }, false);
        };
        let mut head = d.head.clone();
        if let StartLine::Response { status, .. } = parsed.line {
            head.status = status;
        }
        head.content_type = parsed.content_type.as_ref().map(|t| t.as_bytes().to_vec());
        let has_coding = parsed.transfer_encoding.is_some();
        let framing = if head.is_response {
            let interim = (100..200).contains(&head.status) && head.status != 101;
            let (was_head, was_connect) = if interim {
                (false, false)
            } else {
                self.pending.pop_front().unwrap_or((false, false))
            };
            if head.status == 101 || (was_connect && (200..300).contains(&head.status)) {
                Framing::Opaque
            } else if interim || head.status == 204 || head.status == 304 || was_head {
                Framing::None
            } else if parsed.chunked {
                Framing::Chunked
            } else if has_coding || parsed.bad_length {
                Framing::UntilClose
            } else {
                match parsed.content_length {
                    Some(n) => Framing::Length(n),
                    None => Framing::UntilClose,
                }
            }
        } else if parsed.chunked {
            Framing::Chunked
        } else if has_coding {
            Framing::None
        } else if parsed.bad_length {
            // The analysis seeks the next message start.
            let masked = profile.masks_values();
            Self::lose(&mut self.dirs[dir.index()], masked);
            return (State::Lost { masked }, false);
        } else {
            parsed.content_length.map_or(Framing::None, Framing::Length)
        };
        let masked = profile.masks_body(head.content_type.as_deref());
        let next = match framing {
            Framing::None | Framing::Length(0) => State::Start,
            Framing::Length(left) => State::Body { left, masked },
            Framing::Chunked => State::ChunkSize {
                size: 0,
                digits: true,
                masked,
            },
            Framing::UntilClose => State::Rest { masked },
            // The head's own last byte stays; what follows it is opaque.
            Framing::Opaque if head.status == 101 && head.upgrade_h2c => {
                self.http2 = true;
                State::Http2(Box::new(H2Scan::new(0)))
            }
            Framing::Opaque => State::Rest {
                masked: profile.mask_other_payload,
            },
        };
        (next, false)
    }
}

/// A byte a message of HTTP/1 may start with (or that precedes one).
fn is_http1_start_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b == b'\r' || b == b'\n'
}

/// A byte the scanner cannot read as HTTP: it and what follows are
/// masked when the profile masks other payload, until a message start
/// turns up (a stream picked up mid-message).
fn opaque(profile: &Profile) -> (State, bool) {
    let masked = profile.mask_other_payload;
    (State::Lost { masked }, masked)
}

fn header_kind(name: &[u8]) -> HeaderKind {
    let name = name.trim_ascii();
    if name.eq_ignore_ascii_case(b"host") {
        HeaderKind::Host
    } else if name.eq_ignore_ascii_case(b"upgrade") {
        HeaderKind::Upgrade
    } else {
        HeaderKind::Other
    }
}

/// A byte of a start line's first token: a method as the analysis sniffs
/// one (`http::start::is_method_byte`), or `HTTP/1.1`.
fn is_token_byte(b: u8) -> bool {
    is_method_byte(b) || b == b'/' || b == b'.'
}

/// An IPv4 or IPv6 address, with or without a port (`[::1]:80`).
pub(super) fn is_ip_literal(value: &[u8]) -> bool {
    let Ok(v) = std::str::from_utf8(value) else {
        return false;
    };
    v.parse::<std::net::IpAddr>().is_ok()
        || v.parse::<std::net::SocketAddr>().is_ok()
        || v.strip_prefix('[')
            .and_then(|r| r.strip_suffix(']'))
            .is_some_and(|a| a.parse::<std::net::Ipv6Addr>().is_ok())
}

fn take_value(head: &mut Head, kind: HeaderKind, value: &[u8]) {
    let value = value.trim_ascii();
    match kind {
        HeaderKind::Upgrade => head.upgrade_h2c = value.eq_ignore_ascii_case(b"h2c"),
        HeaderKind::Host | HeaderKind::Other => {}
    }
}

#[cfg(test)]
mod test {
    use super::super::profile::{ProfileName, FILL};
    use super::*;

    fn masked(profile: &Profile, parts: &[(Dir, &[u8])]) -> [Vec<u8>; 2] {
        let mut m = HttpMasker::default();
        let mut out = [Vec::new(), Vec::new()];
        for (dir, bytes) in parts {
            m.data(profile, *dir, bytes);
            out[dir.index()].extend_from_slice(bytes);
        }
        for dir in [Dir::ToServer, Dir::ToClient] {
            m.masks(dir).apply(0, &mut out[dir.index()], FILL);
        }
        out
    }

    fn text(b: &[u8]) -> &str {
        std::str::from_utf8(b).unwrap()
    }

    const REQUEST: &[u8] = b"POST /login?user=bob&next=/home HTTP/1.1\r\nHost: a\r\n\
Authorization: Bearer SECRET1\r\nCookie: session=SECRET2\r\n\
Content-Type: application/json\r\nContent-Length: 22\r\n\r\n{\"password\":\"SECRET3\"}";

    #[test]
    fn strict_masks_values_and_bodies_and_keeps_framing() {
        let p = Profile::named(ProfileName::Strict);
        // Split everywhere, to show the scan does not depend on chunking.
        let parts: Vec<(Dir, &[u8])> = REQUEST.chunks(3).map(|c| (Dir::ToServer, c)).collect();
        let [req, _] = masked(&p, &parts);
        assert_eq!(req.len(), REQUEST.len());
        assert_eq!(
            text(&req),
            "POST /login?user=xxx&next=xxxxx HTTP/1.1\r\nHost: a\r\n\
Authorization: xxxxxxxxxxxxxx\r\nCookie: xxxxxxxxxxxxxxx\r\n\
Content-Type: application/json\r\nContent-Length: 22\r\n\r\nxxxxxxxxxxxxxxxxxxxxxx"
        );
    }

    #[test]
    fn chunked_bodies_keep_their_size_lines_and_head_responses_have_none() {
        let p = Profile::named(ProfileName::Strict);
        let [_, resp] = masked(
            &p,
            &[
                (
                    Dir::ToServer,
                    b"HEAD / HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\n\r\n",
                ),
                (
                    Dir::ToClient,
                    b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n\
HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 200 OK\r\nSet-Cookie: a=b\r\nTransfer-Encoding: chunked\r\n\r\n\
3\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
                ),
            ],
        );
        assert_eq!(
            text(&resp),
            "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n\
HTTP/1.1 100 Continue\r\n\r\n\
HTTP/1.1 200 OK\r\nSet-Cookie: xxx\r\nTransfer-Encoding: chunked\r\n\r\n\
3\r\nxxx\r\n0\r\nX-Trailer: t\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
        );
    }

    #[test]
    fn safe_bodies_are_kept_and_non_http_follows_the_profile() {
        let headers = Profile::named(ProfileName::Headers);
        let [_, resp] = masked(
            &headers,
            &[(
                Dir::ToClient,
                b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 3\r\n\r\nPNG",
            )],
        );
        assert!(resp.ends_with(b"\r\n\r\nPNG"));
        let tls: &[u8] = b"\x16\x03\x01\x00\x05hello";
        let [kept, _] = masked(&headers, &[(Dir::ToServer, tls)]);
        assert_eq!(kept, tls);
        let [gone, _] = masked(
            &Profile::named(ProfileName::Strict),
            &[(Dir::ToServer, tls)],
        );
        assert!(gone.iter().all(|&b| b == FILL));
    }

    #[test]
    fn after_a_gap_everything_is_masked_until_a_message_starts() {
        let p = Profile::named(ProfileName::Headers);
        let mut m = HttpMasker::default();
        m.data(&p, Dir::ToServer, b"GET / HTTP/1.1\r\n");
        m.gap(&p, Dir::ToServer, 10);
        m.data(&p, Dir::ToServer, b"Cookie: s\r\n\r\nGET /a?k=");
        assert_eq!(
            m.masks(Dir::ToServer).ranges(),
            std::slice::from_ref(&(26..48))
        );
        m.data(&p, Dir::ToServer, b"v HTTP/1.1\r\nCookie: t\r\n\r\n");
        // The search found the second request (split across two calls)
        // and scanned it as HTTP again: its query value and cookie masked.
        assert_eq!(m.masks(Dir::ToServer).ranges(), &[26..39, 48..49, 68..69]);
        assert_eq!(m.offset(Dir::ToServer), 73);
    }

    #[test]
    fn a_stream_picked_up_mid_body_is_masked_up_to_the_next_response() {
        let p = Profile::named(ProfileName::Strict);
        let [_, resp] = masked(
            &p,
            &[
                (Dir::ToClient, b"E(tail of a body\r\nHTTP/1.1 200 OK\r\n"),
                (
                    Dir::ToClient,
                    b"Set-Cookie: a\r\nContent-Length: 1\r\n\r\nb",
                ),
            ],
        );
        assert_eq!(
            text(&resp),
            "xxxxxxxxxxxxxxxxxxHTTP/1.1 200 OK\r\nSet-Cookie: x\r\nContent-Length: 1\r\n\r\nx"
        );
    }

    #[test]
    fn past_the_cap_on_mask_ranges_the_rest_of_the_connection_is_masked() {
        let p = Profile::named(ProfileName::Headers);
        let mut m = HttpMasker::default();
        // Each request adds one range (its cookie value).
        let request = b"GET / HTTP/1.1\r\nCookie: a\r\n\r\n";
        let n = MAX_MASK_RANGES + 1;
        for _ in 0..n {
            m.data(&p, Dir::ToServer, request);
        }
        assert!(m.capped);
        m.data(&p, Dir::ToServer, b"GET /kept-no-more HTTP/1.1\r\n\r\n");
        m.data(&p, Dir::ToClient, b"HTTP/1.1 200 OK\r\n\r\n");
        let end = m.offset(Dir::ToServer);
        let last = m.masks(Dir::ToServer).ranges().last().cloned();
        assert_eq!(last, Some((n * request.len()) as u64..u64::MAX));
        assert!(end > (n * request.len()) as u64);
        assert_eq!(
            m.masks(Dir::ToClient).ranges(),
            std::slice::from_ref(&(0..u64::MAX))
        );
        assert!(m.masks(Dir::ToServer).ranges().len() <= MAX_MASK_RANGES + 2);
    }

    #[test]
    fn folded_values_stay_masked_and_addresses_mask_only_ip_hosts() {
        let p = Profile::named(ProfileName::Headers);
        let [req, _] = masked(
            &p,
            &[(
                Dir::ToServer,
                b"GET / HTTP/1.1\r\nCookie: a=1\r\n  b=2\r\nAccept: */*\r\n\r\n",
            )],
        );
        assert_eq!(
            text(&req),
            "GET / HTTP/1.1\r\nCookie: xxx\r\n  xxx\r\nAccept: */*\r\n\r\n"
        );
        let mut m = HttpMasker::default();
        m.data(
            &Profile::named(ProfileName::Addresses),
            Dir::ToServer,
            REQUEST,
        );
        assert!(m.masks(Dir::ToServer).ranges().is_empty());
        let [req, _] = masked(
            &Profile::named(ProfileName::Addresses),
            &[(
                Dir::ToServer,
                b"GET / HTTP/1.1\r\nHost: 10.0.0.1:80\r\nHost: a.example\r\n\r\n",
            )],
        );
        assert_eq!(
            text(&req),
            "GET / HTTP/1.1\r\nHost: xxxxxxxxxxx\r\nHost: a.example\r\n\r\n"
        );
    }

    #[test]
    fn http2_frames_keep_their_headers_after_a_preface_or_an_upgrade() {
        // A HEADERS frame (literal `cookie: a`, never indexed) on stream 1.
        let headers: &[u8] = b"\x00\x00\x0b\x01\x05\x00\x00\x00\x01\x10\x06cookie\x01a\x82";
        let settings: &[u8] = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00";
        let strict = Profile::named(ProfileName::Strict);
        let prior = [b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", headers].concat();
        let [req, resp] = masked(
            &strict,
            &[(Dir::ToServer, &prior), (Dir::ToClient, settings)],
        );
        assert_eq!(req[..33], prior[..33], "preface and frame header kept");
        assert!(req[33..].iter().all(|&b| b == FILL));
        assert_eq!(resp, settings);
        let upgrade = b"GET / HTTP/1.1\r\nUpgrade: h2c\r\n\r\n";
        let switched = [
            &b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\n\r\n"[..],
            settings,
            headers,
        ]
        .concat();
        let [_, resp] = masked(
            &strict,
            &[(Dir::ToServer, upgrade), (Dir::ToClient, &switched)],
        );
        let body = switched.len() - headers.len() + 9;
        assert_eq!(resp[..body], switched[..body]);
        assert!(resp[body..].iter().all(|&b| b == FILL));
        // A server's SETTINGS before the client preface, then DATA: the
        // probe finds frames, and `headers` masks the body.
        let data: &[u8] = b"\x00\x00\x04\x00\x01\x00\x00\x00\x01body";
        let server = [settings, data].concat();
        let headers_only = Profile::named(ProfileName::Headers);
        let [_, resp] = masked(
            &headers_only,
            &[(Dir::ToClient, &server), (Dir::ToServer, &prior)],
        );
        assert_eq!(resp[..18], server[..18]);
        assert_eq!(&resp[18..], b"xxxx");
        // Not frames: other payload, kept by `headers`.
        let tls: &[u8] = b"\x16\x03\x01\x00\x05hello";
        let [_, resp] = masked(&headers_only, &[(Dir::ToClient, tls)]);
        assert_eq!(resp, tls);
    }
}
