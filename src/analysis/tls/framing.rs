//! TLS record framing of one direction: cuts a reassembled byte stream
//! into records (RFC 8446 §5.1, RFC 5246 §6.2) without trusting it.
//! Handshake, alert and change_cipher_spec records are handed over whole;
//! application data is only counted and skipped, so a long encrypted
//! stream costs no copy and no memory. A record kept whole is handed over
//! from the segment that holds all of its body, uncopied; one spread over
//! segments is gathered in a buffer of the record's length, allocated when
//! its first part comes and freed when the record is handed over (or
//! passed to the next record starting in the same segment): a direction
//! between records (an idle one) holds no buffer, and one stopped inside a
//! record at most that record. A header that cannot be a TLS
//! record stops the framing for good. After a gap the framer looks for the
//! next record in what follows (at most [`RESYNC_WINDOW`] bytes): a header
//! of the version the stream has used, whose record either ends where a
//! second such header starts or ends with the bytes seen so far (a record
//! sent on its own). Random ciphertext rarely fits that, and a record
//! found wrongly does not decrypt; without a record that fits, the
//! direction stays unread.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

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

/// Bytes searched for a record after a gap before giving up.
pub const RESYNC_WINDOW: usize = 4 * (MAX_RECORD_LEN + HEADER_LEN);

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
    /// The first record after a gap: the bytes lost before it (the gap
    /// and what was skipped to find the record).
    pub lost_before: Option<u64>,
}

/// A gap the framing resumed after.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Resumed {
    /// Stream offset where bytes went missing.
    pub gap_at: u64,
    /// Stream offset of the record it resumed at.
    pub record_at: u64,
    /// Frame that carried that record's first byte.
    pub frame: u64,
}

/// Looking for a record after a gap.
#[derive(Debug, Default)]
struct Resync {
    /// Stream offset of the gap, and of `buf[0]`.
    gap_at: u64,
    start: u64,
    /// Bytes after the gap not yet framed.
    buf: Vec<u8>,
    /// Where each pushed chunk starts in `buf`, with its time and frame.
    marks: Vec<(usize, Timestamp, u64)>,
    /// Positions of `buf` before this one are judged: no record there, or
    /// a header in `waiting`.
    scanned: usize,
    /// Headers that fit but whose record's end was not in `buf` yet, by
    /// the `buf` length that decides them: (that length, position). Each
    /// byte is looked at once, however the stream is cut into segments.
    waiting: BinaryHeap<Reverse<(usize, usize)>>,
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
    /// The record version the stream uses (after a gap, a record must
    /// have it).
    version: Option<[u8; 2]>,
    resync: Option<Resync>,
    /// Bytes lost before the next record handed over.
    lost_before: Option<u64>,
    /// Gaps the framing resumed after.
    pub resumed: Vec<Resumed>,
    /// The buffer of a record just handed over, for the next one gathered
    /// in the same segment (a stream's records mostly end mid-segment);
    /// freed when the segment is done.
    spare: Vec<u8>,
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
    /// Kept bytes gathered from several segments (empty for application
    /// data, and for a body handed over from one segment).
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
        self.broken.is_none()
            && self.resync.is_none()
            && (self.header_len > 0 || self.body.is_some())
    }

    /// `len` bytes lost: the record they were in is dropped and the next
    /// one looked for in what follows (once the stream has shown its
    /// record version).
    pub fn gap(&mut self, len: u64) {
        if self.broken.is_some() {
            return;
        }
        let at = self.offset
            + match &self.body {
                Some(b) => b.have as u64,
                None => self.header_len as u64,
            };
        let Some(resync) = &mut self.resync else {
            if self.version.is_none() {
                self.broken = Some(Broken::Gap { offset: at });
                return;
            }
            self.header_len = 0;
            self.body = None;
            self.resync = Some(Resync {
                gap_at: at,
                start: at.saturating_add(len),
                ..Resync::default()
            });
            return;
        };
        // A second gap while searching: start again after it.
        resync.start = resync
            .start
            .saturating_add(resync.buf.len() as u64)
            .saturating_add(len);
        resync.buf.clear();
        resync.marks.clear();
        resync.scanned = 0;
        resync.waiting.clear();
    }

    /// Why the direction is unread after its last gap, if it is.
    pub fn unresumed_gap(&self) -> Option<Broken> {
        self.resync
            .as_ref()
            .map(|r| Broken::Gap { offset: r.gap_at })
    }

    /// Looks for a record in the bytes after a gap; frames from it on
    /// when found.
    fn resync(
        &mut self,
        ts: Timestamp,
        frame: u64,
        bytes: &[u8],
        on_record: &mut dyn FnMut(RecordEvent<'_>) -> bool,
    ) {
        let Some(mut r) = self.resync.take() else {
            return;
        };
        let version = self.version.unwrap_or([3, 3]);
        r.marks.push((r.buf.len(), ts, frame));
        r.buf.extend_from_slice(bytes);
        let fits = |h: &[u8]| is_record_header(h) && h[1..3] == version && h[0] != HEARTBEAT;
        let len = r.buf.len();
        // Whether the header at `i` starts a record: the next header fits,
        // or the record ends with the bytes seen so far; Err: not known
        // until `buf` is as long as the value.
        let judge = |buf: &[u8], i: usize| -> Result<bool, usize> {
            let h = &buf[i..];
            let next = i + HEADER_LEN + usize::from(u16::from_be_bytes([h[3], h[4]]));
            match buf.get(next..next + HEADER_LEN) {
                Some(n) => Ok(fits(n)),
                None if next == buf.len() => Ok(true),
                None if next < buf.len() => Err(next + HEADER_LEN),
                None => Err(next),
            }
        };
        let mut found = None;
        while let Some(&Reverse((decided_at, i))) = r.waiting.peek() {
            if decided_at > len {
                break;
            }
            r.waiting.pop();
            match judge(&r.buf, i) {
                Ok(true) => found = Some(found.map_or(i, |f: usize| f.min(i))),
                Ok(false) => {}
                Err(at) => r.waiting.push(Reverse((at, i))),
            }
        }
        for i in r.scanned..len.saturating_sub(HEADER_LEN - 1) {
            if found.is_some_and(|f| f < i) {
                break;
            }
            if !fits(&r.buf[i..]) {
                continue;
            }
            match judge(&r.buf, i) {
                Ok(true) => found = Some(found.map_or(i, |f: usize| f.min(i))),
                Ok(false) => {}
                Err(at) => r.waiting.push(Reverse((at, i))),
            }
        }
        r.scanned = r.scanned.max(len.saturating_sub(HEADER_LEN - 1));
        let Some(i) = found else {
            if r.buf.len() > RESYNC_WINDOW {
                // Keep the tail a header could start in.
                let drop = r.buf.len() - (HEADER_LEN - 1);
                r.buf.drain(..drop);
                r.start += drop as u64;
                r.marks = vec![(0, ts, frame)];
                r.scanned = 0;
                r.waiting.clear();
            }
            self.resync = Some(r);
            return;
        };
        let (_, ts, frame) = r
            .marks
            .iter()
            .rev()
            .find(|m| m.0 <= i)
            .copied()
            .unwrap_or((0, ts, frame));
        let record_at = r.start + i as u64;
        self.offset = record_at;
        self.lost_before = Some(record_at - r.gap_at);
        self.resumed.push(Resumed {
            gap_at: r.gap_at,
            record_at,
            frame,
        });
        // The rest goes through the framing, each part with its segment's
        // time and frame.
        let mut marks = r.marks.iter().peekable();
        let mut at = i;
        let mut current = (ts, frame);
        while at < r.buf.len() {
            while let Some(m) = marks.next_if(|m| m.0 <= at) {
                current = (m.1, m.2);
            }
            let end = marks.peek().map_or(r.buf.len(), |m| m.0);
            self.push(current.0, current.1, &r.buf[at..end], on_record);
            at = end;
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
        bytes: &[u8],
        on_record: &mut dyn FnMut(RecordEvent<'_>) -> bool,
    ) {
        if self.resync.is_some() {
            return self.resync(ts, frame, bytes, on_record);
        }
        self.push_records(ts, frame, bytes, on_record);
        // Nothing is kept between segments but the record being gathered.
        self.spare = Vec::new();
    }

    fn push_records(
        &mut self,
        ts: Timestamp,
        frame: u64,
        mut bytes: &[u8],
        on_record: &mut dyn FnMut(RecordEvent<'_>) -> bool,
    ) {
        while !bytes.is_empty() && self.broken.is_none() && self.resync.is_none() {
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
            if body.keep && body.have == 0 && take == body.len {
                // All of the body is here: handed over from the segment.
                let (whole, rest) = bytes.split_at(take);
                body.have = take;
                bytes = rest;
                self.finish_record_from(ts, frame, Some(whole), on_record);
                continue;
            }
            if body.keep {
                if body.kept.capacity() == 0 {
                    // Once, to the record's length: no copy as it grows.
                    body.kept = std::mem::take(&mut self.spare);
                    body.kept.clear();
                    body.kept.reserve_exact(body.len);
                }
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
        self.version = Some([h[1], h[2]]);
        let keep = h[0] != APPLICATION_DATA || self.keep_all;
        self.body = Some(Body {
            content_type: h[0],
            version: u16::from_be_bytes([h[1], h[2]]),
            len,
            ts,
            frame,
            have: 0,
            kept: Vec::new(),
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
        self.finish_record_from(end_ts, end_frame, None, on_record);
    }

    /// Hands the record over, its body from `whole` when given (else from
    /// what was gathered).
    fn finish_record_from(
        &mut self,
        end_ts: Timestamp,
        end_frame: u64,
        whole: Option<&[u8]>,
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
                body: body.keep.then_some(whole.unwrap_or(body.kept.as_slice())),
                lost_before: self.lost_before.take(),
            });
            if body.kept.capacity() > 0 {
                self.spare = body.kept;
            }
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
    fn kept_records_come_out_whole_from_one_segment_or_many() {
        let stream = b"\x17\x03\x03\x00\x03abc\x17\x03\x03\x00\x02xy\x17\x03\x03\x00\x04wxyz";
        for cut in 0..stream.len() {
            for cut2 in cut..stream.len() {
                let mut f = Framer {
                    keep_all: true,
                    ..Framer::default()
                };
                let mut out = Vec::new();
                for c in [&stream[..cut], &stream[cut..cut2], &stream[cut2..]] {
                    f.push(Timestamp::ZERO, 0, c, &mut |r| {
                        out.push(r.body.map(<[u8]>::to_vec));
                        false
                    });
                }
                let want = [&b"abc"[..], b"xy", b"wxyz"].map(|b| Some(b.to_vec()));
                assert_eq!(out, want, "cut at {cut} and {cut2}");
            }
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
    fn a_gap_before_any_record_stops_the_framing() {
        let mut f = Framer::default();
        f.push(Timestamp::ZERO, 0, b"\x16\x03\x01\x00", &mut |_| false);
        f.gap(3);
        let mut n = 0;
        f.push(Timestamp::ZERO, 1, b"\x16\x03\x01\x00\x00", &mut |_| {
            n += 1;
            false
        });
        assert_eq!(n, 0);
        // Where the bytes went missing: inside the first header.
        assert_eq!(f.broken(), Some(&Broken::Gap { offset: 4 }));
    }

    /// Offset, frame and lost bytes of each record framed after a gap.
    fn after_gap(chunks: &[&[u8]]) -> (Vec<(u64, u64, Option<u64>)>, Framer) {
        let mut f = Framer::default();
        let mut out = Vec::new();
        f.push(
            Timestamp::ZERO,
            0,
            b"\x17\x03\x03\x00\x02ab\x17\x03\x03\x00\x04cd",
            &mut |r| {
                out.push((r.offset, r.frame, r.lost_before));
                false
            },
        );
        f.gap(10);
        for (i, c) in chunks.iter().enumerate() {
            f.push(Timestamp::ZERO, i as u64 + 1, c, &mut |r| {
                out.push((r.offset, r.frame, r.lost_before));
                false
            });
        }
        (out, f)
    }

    #[test]
    fn after_a_gap_framing_resumes_at_two_headers_in_a_row() {
        // The gap took the rest of the second record (2 bytes) and 8 more;
        // then come 3 bytes of a lost record's tail, and two records.
        let (recs, f) = after_gap(&[b"xyz\x17\x03\x03\x00\x01q\x17\x03", b"\x03\x00\x01r"]);
        assert_eq!(recs[1..], [(27, 1, Some(13)), (33, 2, None)]);
        assert_eq!(
            f.resumed,
            vec![Resumed {
                gap_at: 14,
                record_at: 27,
                frame: 1
            }]
        );
        assert!(f.broken().is_none() && f.unresumed_gap().is_none());
    }

    #[test]
    fn the_search_finds_the_same_record_however_the_bytes_are_cut() {
        // A header whose length points past a later cut waits for it; a
        // fitting header before the real records is passed over.
        let bytes: &[u8] = b"xyz\x17\x03\x03\x00\x09ab\x17\x03\x03\x00\x01q\x17\x03\x03\x00\x01r";
        let (whole, _) = after_gap(&[bytes]);
        let single: Vec<&[u8]> = bytes.chunks(1).collect();
        let (byte_by_byte, f) = after_gap(&single);
        assert_eq!(whole.len(), byte_by_byte.len());
        for (a, b) in whole.iter().zip(&byte_by_byte) {
            assert_eq!((a.0, a.2), (b.0, b.2), "{whole:?} {byte_by_byte:?}");
        }
        assert_eq!(f.resumed.len(), 1);
    }

    #[test]
    fn a_record_ending_with_its_segment_resumes_too() {
        let (recs, _) = after_gap(&[b"\x17\x03\x03\x00\x03abc"]);
        assert_eq!(recs[1..], [(24, 1, Some(10))]);
        // Another version, or ciphertext that only looks like a header,
        // does not.
        let (recs, f) = after_gap(&[b"\x17\x03\x01\x00\x03abc", b"\x17\x03\x03\x00\x09ab"]);
        assert_eq!(recs.len(), 1);
        assert_eq!(f.unresumed_gap(), Some(Broken::Gap { offset: 14 }));
    }

    #[test]
    fn the_search_is_bounded() {
        let junk = vec![0u8; RESYNC_WINDOW + 100];
        let (_, f) = after_gap(&[&junk, &junk]);
        let r = f.resync.as_ref().unwrap();
        assert!(r.buf.len() < HEADER_LEN, "{}", r.buf.len());
    }

    /// Heap bytes a framer holds between segments.
    fn held(f: &Framer) -> usize {
        f.body.as_ref().map_or(0, |b| b.kept.capacity()) + f.spare.capacity()
    }

    #[test]
    fn a_framer_holds_a_buffer_only_while_gathering_a_record() {
        let mut f = Framer::default();
        let mut bodies = Vec::new();
        let mut on_record = |r: RecordEvent<'_>| {
            bodies.push(r.body.map(<[u8]>::to_vec));
            false
        };
        // A 16000-byte handshake record: its header alone needs nothing,
        // its body the record's length.
        let mut record = b"\x16\x03\x03\x3e\x80".to_vec();
        record.extend((0..16000u32).map(|i| i as u8));
        f.push(Timestamp::ZERO, 0, &record[..5], &mut on_record);
        assert_eq!(held(&f), 0);
        for c in record[5..].chunks(1448) {
            f.push(Timestamp::ZERO, 1, c, &mut on_record);
            assert!(held(&f) <= 16000, "{}", held(&f));
        }
        // Handed over, the buffer is gone; one in a single segment needs none.
        assert_eq!(held(&f), 0);
        f.push(Timestamp::ZERO, 2, &record, &mut on_record);
        assert_eq!(held(&f), 0);
        assert_eq!(
            bodies,
            [Some(record[5..].to_vec()), Some(record[5..].to_vec())]
        );
    }
}
