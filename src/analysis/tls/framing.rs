//! TLS record framing of one direction: cuts a reassembled byte stream
//! into records (RFC 8446 §5.1, RFC 5246 §6.2) without trusting it.
//! Handshake, alert and change_cipher_spec records are handed over whole;
//! application data is only counted and skipped, so a long encrypted
//! stream costs no copy and no memory. A header that cannot be a TLS
//! record, or a gap, stops the framing for good: resynchronising on
//! random ciphertext would invent records.

use crate::time::Timestamp;

/// Content types (RFC 8446 §5.1).
pub const CHANGE_CIPHER_SPEC: u8 = 20;
pub const ALERT: u8 = 21;
pub const HANDSHAKE: u8 = 22;
pub const APPLICATION_DATA: u8 = 23;
const HEARTBEAT: u8 = 24;

/// Header: type (1), legacy version (2), length (2).
pub const HEADER_LEN: usize = 5;
/// Largest record body any TLS version allows: 2^14 plus 2048 bytes of
/// expansion (RFC 5246 §6.2.3; TLS 1.3 allows 2^14 + 256).
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;

/// Whether `header` (at least [`HEADER_LEN`] bytes) is a plausible TLS
/// record header: a known type, version 3.0 to 3.4, a legal length.
pub fn is_record_header(header: &[u8]) -> bool {
    match header {
        [ty, 3, minor, hi, lo, ..] => {
            (CHANGE_CIPHER_SPEC..=HEARTBEAT).contains(ty)
                && *minor <= 4
                && usize::from(u16::from_be_bytes([*hi, *lo])) <= MAX_RECORD_LEN
        }
        _ => false,
    }
}

/// One record as it arrived: where it started, its type and, unless it
/// is application data (skipped unseen), its body.
#[derive(Debug)]
pub struct RecordEvent<'a> {
    pub content_type: u8,
    /// Legacy version from the header (part of the AEAD's additional data).
    pub version: u16,
    /// Stream offset of the record's header in its direction, and the
    /// body's length.
    pub offset: u64,
    pub len: usize,
    /// Capture time and frame of the segment that carried its first byte.
    pub ts: Timestamp,
    pub frame: u64,
    /// ... and of the segment that carried its last byte.
    pub end_ts: Timestamp,
    pub end_frame: u64,
    /// The body, for every type but application data (unless
    /// [`Framer::keep_all`] is set).
    pub body: Option<&'a [u8]>,
}

/// Why a direction's framing stopped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Broken {
    /// Bytes that are no TLS record header (at this stream offset).
    NotARecord { offset: u64 },
    /// A header announcing a body longer than TLS allows.
    TooLong { offset: u64, len: usize },
    /// Bytes were lost: record boundaries are unknown from here on.
    Gap { offset: u64 },
}

impl std::fmt::Display for Broken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Broken::NotARecord { offset } => {
                write!(f, "bytes at stream offset {offset} are not a TLS record")
            }
            Broken::TooLong { offset, len } => write!(
                f,
                "record at stream offset {offset} claims {len} bytes, more than TLS allows ({MAX_RECORD_LEN})"
            ),
            Broken::Gap { offset } => write!(
                f,
                "bytes missing at stream offset {offset}: records after it were not read"
            ),
        }
    }
}

/// The framer of one direction.
#[derive(Debug, Default)]
pub struct Framer {
    /// Header bytes gathered so far.
    header: [u8; HEADER_LEN],
    header_len: usize,
    /// The record being read, once its header is complete.
    body: Option<Body>,
    /// Stream offset of the next byte.
    offset: u64,
    broken: Option<Broken>,
    /// Keep application data records too (to decrypt them).
    pub keep_all: bool,
}

#[derive(Debug)]
struct Body {
    content_type: u8,
    version: u16,
    len: usize,
    ts: Timestamp,
    frame: u64,
    /// Bytes of the body seen so far.
    have: usize,
    /// Kept bytes (empty for application data).
    kept: Vec<u8>,
    keep: bool,
}

impl Framer {
    /// Why the framing stopped, if it did.
    pub fn broken(&self) -> Option<&Broken> {
        self.broken.as_ref()
    }

    /// Whether the stream stopped inside a record (its header or body).
    pub fn is_inside_record(&self) -> bool {
        self.broken.is_none() && (self.header_len > 0 || self.body.is_some())
    }

    /// Bytes lost: nothing more is framed in this direction.
    pub fn gap(&mut self) {
        if self.broken.is_none() {
            self.broken = Some(Broken::Gap {
                offset: self.offset,
            });
        }
    }

    /// Skips `n` bytes that are not TLS records (an SSLv2-compatible
    /// hello before the records start).
    pub fn skip(&mut self, n: usize) -> usize {
        self.offset += n as u64;
        n
    }

    /// Frames `bytes`, handing each complete record to `on_record`, which
    /// answers whether records from then on must be kept whole (keys for
    /// them just became known: [`Framer::keep_all`]).
    pub fn push(
        &mut self,
        ts: Timestamp,
        frame: u64,
        mut bytes: &[u8],
        on_record: &mut dyn FnMut(RecordEvent<'_>) -> bool,
    ) {
        while !bytes.is_empty() && self.broken.is_none() {
            let Some(body) = &mut self.body else {
                let take = (HEADER_LEN - self.header_len).min(bytes.len());
                self.header[self.header_len..self.header_len + take]
                    .copy_from_slice(&bytes[..take]);
                self.header_len += take;
                bytes = &bytes[take..];
                if self.header_len == HEADER_LEN {
                    self.start_record(ts, frame);
                    self.finish_empty(ts, frame, on_record);
                }
                continue;
            };
            let take = (body.len - body.have).min(bytes.len());
            if body.keep {
                body.kept.extend_from_slice(&bytes[..take]);
            }
            body.have += take;
            bytes = &bytes[take..];
            if body.have == body.len {
                self.finish_record(ts, frame, on_record);
            }
        }
    }

    fn start_record(&mut self, ts: Timestamp, frame: u64) {
        let at = self.offset;
        self.header_len = 0;
        self.offset += HEADER_LEN as u64;
        let h = self.header;
        let len = usize::from(u16::from_be_bytes([h[3], h[4]]));
        if !is_record_header(&h) {
            self.broken = Some(if len > MAX_RECORD_LEN && h[1] == 3 {
                Broken::TooLong { offset: at, len }
            } else {
                Broken::NotARecord { offset: at }
            });
            return;
        }
        let keep = h[0] != APPLICATION_DATA || self.keep_all;
        self.body = Some(Body {
            content_type: h[0],
            version: u16::from_be_bytes([h[1], h[2]]),
            len,
            ts,
            frame,
            have: 0,
            kept: if keep {
                Vec::with_capacity(len)
            } else {
                Vec::new()
            },
            keep,
        });
    }

    /// A record with an empty body is complete with its header.
    fn finish_empty(
        &mut self,
        ts: Timestamp,
        frame: u64,
        on_record: &mut dyn FnMut(RecordEvent<'_>) -> bool,
    ) {
        if matches!(&self.body, Some(b) if b.len == 0) {
            self.finish_record(ts, frame, on_record);
        }
    }

    fn finish_record(
        &mut self,
        end_ts: Timestamp,
        end_frame: u64,
        on_record: &mut dyn FnMut(RecordEvent<'_>) -> bool,
    ) {
        if let Some(body) = self.body.take() {
            let offset = self.offset.saturating_sub(HEADER_LEN as u64);
            self.offset += body.len as u64;
            self.keep_all |= on_record(RecordEvent {
                content_type: body.content_type,
                version: body.version,
                offset,
                len: body.len,
                end_ts,
                end_frame,
                ts: body.ts,
                frame: body.frame,
                body: body.keep.then_some(body.kept.as_slice()),
            });
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    /// Content type and kept body of each record.
    type Framed = Vec<(u8, Option<Vec<u8>>)>;

    fn frame_all(chunks: &[&[u8]]) -> (Framed, Option<Broken>) {
        let mut f = Framer::default();
        let mut out = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            f.push(Timestamp::from_nanos(i as i64), i as u64, c, &mut |r| {
                out.push((r.content_type, r.body.map(<[u8]>::to_vec)));
                false
            });
        }
        (out, f.broken().cloned())
    }

    #[test]
    fn records_split_anywhere_come_out_whole() {
        let stream = b"\x16\x03\x01\x00\x03abc\x17\x03\x03\x00\x02xy\x15\x03\x03\x00\x02\x02\x28";
        for cut in 0..stream.len() {
            let (recs, broken) = frame_all(&[&stream[..cut], &stream[cut..]]);
            assert_eq!(broken, None);
            assert_eq!(
                recs,
                vec![
                    (22, Some(b"abc".to_vec())),
                    (23, None),
                    (21, Some(vec![2, 40])),
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn garbage_and_oversized_records_stop_the_framing() {
        let (recs, broken) = frame_all(&[b"\x16\x03\x01\x00\x01aGET / HTTP/1.1\r\n"]);
        assert_eq!(recs.len(), 1);
        assert_eq!(broken, Some(Broken::NotARecord { offset: 6 }));
        // A 16 MB "record": refused at its header, nothing buffered.
        let (recs, broken) = frame_all(&[b"\x17\x03\x03\xff\xff"]);
        assert!(recs.is_empty());
        assert_eq!(
            broken,
            Some(Broken::TooLong {
                offset: 0,
                len: 0xffff
            })
        );
    }

    #[test]
    fn a_gap_stops_the_framing() {
        let mut f = Framer::default();
        f.push(Timestamp::ZERO, 0, b"\x16\x03\x01\x00", &mut |_| false);
        f.gap();
        let mut n = 0;
        f.push(Timestamp::ZERO, 1, b"\x16\x03\x01\x00\x00", &mut |_| {
            n += 1;
            false
        });
        assert_eq!(n, 0);
        assert_eq!(f.broken(), Some(&Broken::Gap { offset: 0 }));
    }
}
