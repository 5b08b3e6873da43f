//! HTTP/2 framing (RFC 9113 §4): the client preface, the 9-byte frame
//! header, frame types and flags, error code names, and [`Framer`], which
//! cuts one direction's byte stream into frames with bounded memory.

use crate::time::Timestamp;

/// The client connection preface (RFC 9113 §3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
/// Length of a frame header.
pub const HEADER_LEN: usize = 9;
/// SETTINGS_MAX_FRAME_SIZE's initial value (RFC 9113 §6.5.2).
pub const DEFAULT_MAX_FRAME: u32 = 16_384;
/// Payload bytes of one frame kept for its handler; the rest of a longer
/// frame is counted, not kept.
pub const MAX_KEPT: usize = 64 * 1024;

/// Frame flags (RFC 9113 §6).
pub mod flag {
    pub const END_STREAM: u8 = 0x1;
    pub const ACK: u8 = 0x1;
    pub const END_HEADERS: u8 = 0x4;
    pub const PADDED: u8 = 0x8;
    pub const PRIORITY: u8 = 0x20;
}

/// Frame types (RFC 9113 §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Data,
    Headers,
    Priority,
    RstStream,
    Settings,
    PushPromise,
    Ping,
    GoAway,
    WindowUpdate,
    Continuation,
    /// An extension frame type: ignored, as RFC 9113 §4.1 asks.
    Other(u8),
}

impl Kind {
    pub fn from_byte(b: u8) -> Kind {
        match b {
            0 => Kind::Data,
            1 => Kind::Headers,
            2 => Kind::Priority,
            3 => Kind::RstStream,
            4 => Kind::Settings,
            5 => Kind::PushPromise,
            6 => Kind::Ping,
            7 => Kind::GoAway,
            8 => Kind::WindowUpdate,
            9 => Kind::Continuation,
            other => Kind::Other(other),
        }
    }
}

/// A parsed frame header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameHeader {
    /// Payload length.
    pub len: u32,
    pub kind: Kind,
    pub flags: u8,
    /// Stream identifier (the reserved bit cleared).
    pub stream: u32,
}

impl FrameHeader {
    pub fn parse(b: &[u8; HEADER_LEN]) -> FrameHeader {
        FrameHeader {
            len: u32::from_be_bytes([0, b[0], b[1], b[2]]),
            kind: Kind::from_byte(b[3]),
            flags: b[4],
            stream: u32::from_be_bytes([b[5], b[6], b[7], b[8]]) & 0x7fff_ffff,
        }
    }

    pub fn has(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }

    /// Whether this header is one a conforming peer could send with the
    /// default settings: a known type on the right kind of stream, of a
    /// length its type allows. Used to recognise a stream caught without
    /// its preface.
    pub fn is_plausible(&self) -> bool {
        if self.len > DEFAULT_MAX_FRAME {
            return false;
        }
        let on_stream = self.stream != 0;
        match self.kind {
            Kind::Data | Kind::Headers | Kind::Continuation | Kind::PushPromise => on_stream,
            Kind::Priority => on_stream && self.len == 5,
            Kind::RstStream => on_stream && self.len == 4,
            Kind::Settings => {
                !on_stream && self.len.is_multiple_of(6) && self.flags & !flag::ACK == 0
            }
            Kind::Ping => !on_stream && self.len == 8 && self.flags & !flag::ACK == 0,
            Kind::GoAway => !on_stream && self.len >= 8,
            Kind::WindowUpdate => self.len == 4,
            Kind::Other(_) => false,
        }
    }
}

/// Name of an HTTP/2 error code (RFC 9113 §7).
pub fn error_name(code: u32) -> String {
    let name = match code {
        0x0 => "NO_ERROR",
        0x1 => "PROTOCOL_ERROR",
        0x2 => "INTERNAL_ERROR",
        0x3 => "FLOW_CONTROL_ERROR",
        0x4 => "SETTINGS_TIMEOUT",
        0x5 => "STREAM_CLOSED",
        0x6 => "FRAME_SIZE_ERROR",
        0x7 => "REFUSED_STREAM",
        0x8 => "CANCEL",
        0x9 => "COMPRESSION_ERROR",
        0xa => "CONNECT_ERROR",
        0xb => "ENHANCE_YOUR_CALM",
        0xc => "INADEQUATE_SECURITY",
        0xd => "HTTP_1_1_REQUIRED",
        other => return format!("error 0x{other:x}"),
    };
    name.to_string()
}

/// Where and when a byte of the stream arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct At {
    pub ts: Timestamp,
    pub frame: u64,
}

/// A frame as the [`Framer`] hands it over: whole, or for DATA, one
/// piece per data call (its payload is never gathered into a buffer).
#[derive(Debug)]
pub struct Frame<'a> {
    pub header: FrameHeader,
    /// The payload, or its first [`MAX_KEPT`] bytes; for DATA, the bytes
    /// of this piece.
    pub payload: &'a [u8],
    /// Where this piece starts in the frame's payload (0 but for DATA).
    pub offset: u32,
    /// This piece holds the frame's last byte (always but for DATA).
    pub complete: bool,
    /// The data call that delivered the header's first byte.
    pub first: At,
    /// The data call that delivered this piece (the frame's last byte
    /// once `complete`).
    pub last: At,
}

impl Frame<'_> {
    /// Whether the payload was cut to [`MAX_KEPT`] bytes.
    pub fn is_truncated(&self) -> bool {
        self.offset == 0 && self.complete && self.payload.len() < self.header.len as usize
    }
}

enum State {
    Header {
        buf: [u8; HEADER_LEN],
        have: usize,
        first: Option<At>,
    },
    Payload {
        header: FrameHeader,
        remaining: u64,
        kept: Vec<u8>,
        first: At,
    },
    /// A DATA frame's payload, handed over piece by piece.
    Data {
        header: FrameHeader,
        remaining: u32,
        first: At,
    },
}

/// Cuts one direction's bytes into frames. Memory: one frame's kept
/// payload at most (none for DATA).
pub struct Framer {
    state: State,
}

impl Default for Framer {
    fn default() -> Self {
        Framer {
            state: State::Header {
                buf: [0; HEADER_LEN],
                have: 0,
                first: None,
            },
        }
    }
}

impl Framer {
    /// Feeds bytes delivered at `at`; calls `on_frame` for every frame
    /// they complete.
    pub fn push(&mut self, at: At, mut bytes: &[u8], on_frame: &mut dyn FnMut(Frame<'_>)) {
        while !bytes.is_empty() {
            match &mut self.state {
                State::Header { buf, have, first } => {
                    let start = *first.get_or_insert(at);
                    if *have == 0 && bytes.len() >= HEADER_LEN {
                        // The common case: a whole frame in this chunk is
                        // handed over without a copy.
                        let mut raw = [0; HEADER_LEN];
                        raw.copy_from_slice(&bytes[..HEADER_LEN]);
                        let header = FrameHeader::parse(&raw);
                        let end = HEADER_LEN + header.len as usize;
                        if let Some(payload) = bytes.get(HEADER_LEN..end) {
                            *first = None;
                            on_frame(Frame {
                                header,
                                payload: if header.kind == Kind::Data {
                                    payload
                                } else {
                                    &payload[..payload.len().min(MAX_KEPT)]
                                },
                                offset: 0,
                                complete: true,
                                first: start,
                                last: at,
                            });
                            bytes = &bytes[end..];
                            continue;
                        }
                    }
                    let take = (HEADER_LEN - *have).min(bytes.len());
                    buf[*have..*have + take].copy_from_slice(&bytes[..take]);
                    *have += take;
                    bytes = &bytes[take..];
                    if *have < HEADER_LEN {
                        return;
                    }
                    let header = FrameHeader::parse(buf);
                    self.state = if header.kind == Kind::Data && header.len > 0 {
                        State::Data {
                            header,
                            remaining: header.len,
                            first: start,
                        }
                    } else {
                        State::Payload {
                            header,
                            remaining: u64::from(header.len),
                            kept: Vec::new(),
                            first: start,
                        }
                    };
                }
                State::Payload {
                    remaining, kept, ..
                } => {
                    let take = (*remaining).min(bytes.len() as u64) as usize;
                    let room = MAX_KEPT.saturating_sub(kept.len()).min(take);
                    kept.extend_from_slice(&bytes[..room]);
                    *remaining -= take as u64;
                    bytes = &bytes[take..];
                }
                State::Data {
                    header,
                    remaining,
                    first,
                } => {
                    let take = (*remaining as usize).min(bytes.len());
                    *remaining -= take as u32;
                    let complete = *remaining == 0;
                    on_frame(Frame {
                        header: *header,
                        payload: &bytes[..take],
                        offset: header.len - *remaining - take as u32,
                        complete,
                        first: *first,
                        last: at,
                    });
                    bytes = &bytes[take..];
                    if complete {
                        *self = Framer::default();
                    }
                    continue;
                }
            }
            if let State::Payload {
                header,
                remaining: 0,
                kept,
                first,
            } = &self.state
            {
                on_frame(Frame {
                    header: *header,
                    payload: kept,
                    offset: 0,
                    complete: true,
                    first: *first,
                    last: at,
                });
                *self = Framer::default();
            }
        }
    }

    #[cfg(test)]
    /// Whether the framer is between frames.
    pub fn is_idle(&self) -> bool {
        matches!(self.state, State::Header { have: 0, .. })
    }
}

/// A frame's bytes, for tests.
#[cfg(test)]
pub fn encode(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend(payload);
    f
}

#[cfg(test)]
mod test {
    use super::*;

    fn at(n: u64) -> At {
        At {
            ts: Timestamp::from_nanos(n as i64),
            frame: n,
        }
    }

    fn frames_of(chunks: &[&[u8]]) -> Vec<(FrameHeader, Vec<u8>, u64, u64)> {
        let mut framer = Framer::default();
        let mut out = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            framer.push(at(i as u64), c, &mut |f| {
                out.push((f.header, f.payload.to_vec(), f.first.frame, f.last.frame))
            });
        }
        out
    }

    const PING: &[u8] = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00abcdefgh";

    #[test]
    fn frames_are_found_whole_or_in_pieces() {
        let mut two = PING.to_vec();
        two.extend_from_slice(b"\x00\x00\x00\x04\x01\x00\x00\x00\x00");
        let whole = frames_of(&[&two]);
        assert_eq!(whole.len(), 2);
        assert_eq!(whole[0].0.kind, Kind::Ping);
        assert_eq!(whole[0].1, b"abcdefgh");
        assert_eq!(whole[1].0.kind, Kind::Settings);
        assert!(whole[1].0.has(flag::ACK));
        let pieces: Vec<&[u8]> = two.chunks(4).collect();
        let cut = frames_of(&pieces);
        assert_eq!(cut.len(), 2);
        assert_eq!(cut[0].1, b"abcdefgh");
        assert_eq!((cut[0].2, cut[0].3), (0, 4), "first and last chunks");
    }

    #[test]
    fn a_huge_frame_keeps_a_bounded_prefix() {
        let mut framer = Framer::default();
        let mut seen = Vec::new();
        framer.push(at(0), b"\xff\xff\xff\x01\x00\x00\x00\x00\x01", &mut |_| {});
        let chunk = vec![0u8; 1 << 20];
        for i in 0..15 {
            framer.push(at(i), &chunk, &mut |f| seen.push(f.payload.len()));
        }
        let rest = 0xff_ffff - (15 << 20);
        framer.push(at(99), &chunk[..rest], &mut |f| seen.push(f.payload.len()));
        assert!(framer.is_idle());
        assert_eq!(seen, vec![MAX_KEPT]);
    }

    #[test]
    fn data_comes_in_pieces_never_gathered() {
        let mut data = encode(0, 1, 3, &[7; 20]);
        data.extend(PING);
        let mut seen = Vec::new();
        let mut framer = Framer::default();
        for (i, c) in [&data[..4], &data[4..15], &data[15..]].iter().enumerate() {
            framer.push(at(i as u64), c, &mut |f| {
                seen.push((
                    f.header.kind,
                    f.payload.len(),
                    f.offset,
                    f.complete,
                    f.last.frame,
                ))
            });
        }
        assert_eq!(
            seen,
            [
                (Kind::Data, 6, 0, false, 1),
                (Kind::Data, 14, 6, true, 2),
                (Kind::Ping, 8, 0, true, 2),
            ]
        );
        assert!(framer.is_idle());
    }

    #[test]
    fn plausible_headers() {
        let h = |b: &[u8]| FrameHeader::parse(b.try_into().unwrap());
        assert!(h(&PING[..9]).is_plausible());
        assert!(h(b"\x00\x00\x12\x04\x00\x00\x00\x00\x00").is_plausible());
        assert!(!h(b"GET / HTTP/1.1"[..9].try_into().unwrap()).is_plausible());
        assert!(!h(b"\x00\x00\x08\x06\x00\x00\x00\x00\x01").is_plausible());
    }
}
