//! Redacting captured packets in two passes, so that every copy of a byte
//! (a retransmission, an out-of-order segment) is masked alike.
//!
//! Pass one ([`Scanner`]) reads the TCP segments in capture order, puts
//! each direction's bytes in sequence order and runs the
//! [`HttpMasker`] over them: the result is, per connection and direction,
//! the stream offsets to mask. Pass two ([`Masks::redact_frame`]) reads the
//! same frames again in the same order and rewrites each in place through
//! [`packet::redact_frame`], mapping a segment's sequence number to its
//! stream offset. Both passes find a segment's connection and offset with
//! the same [`Locator`], so they agree without keeping anything per frame.
//!
//! The flow module's reassembler is not reused here: it hands analyzers
//! delivered bytes without their sequence numbers, and this module must
//! address bytes by sequence number to rewrite packets. Bytes that reach
//! no scan (before a connection's first sequence number) are masked
//! whenever the profile masks values.
//!
//! [`redact_capture`] runs both passes over a whole file (`tracedeck
//! redact`); `views` runs them over one conversation's packets.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;

use super::http_mask::{HttpMasker, MaskSet};
use super::packet::{self, Segment};
use super::writer::Writer;
use super::{Redactor, FILL};
use crate::flow::Dir;
use crate::pcap::decode::tcp_flags;
use crate::pcap::{Format, LinkType, Reader};

/// Out-of-order bytes held per direction before the hole is given up as a
/// gap (the bytes after it are then scanned as lost framing: masked).
const MAX_PENDING_BYTES: usize = 4 << 20;

/// Out-of-order bytes held across all connections: past it, the
/// connection that adds more scans past its holes at once, so a capture of
/// many broken connections cannot hold [`MAX_PENDING_BYTES`] for each.
const MAX_PENDING_TOTAL: usize = 64 << 20;

/// A stream position: the sequence number at a stream offset. Offsets of
/// later segments are found from the last position, so streams longer
/// than 4 GiB (sequence numbers wrap) keep counting.
#[derive(Clone, Copy, Debug)]
struct Cursor {
    seq: u32,
    offset: u64,
}

impl Cursor {
    /// The stream offset of sequence number `seq` (None: before offset 0).
    fn offset_of(&mut self, seq: u32) -> Option<u64> {
        let delta = i64::from(seq.wrapping_sub(self.seq) as i32);
        let offset = u64::try_from(self.offset as i64 + delta).ok()?;
        if offset > self.offset {
            *self = Cursor { seq, offset };
        }
        Some(offset)
    }
}

#[derive(Clone, Copy, Debug)]
struct ConnMeta {
    /// The side that sent the SYN, or the first segment.
    client: SocketAddr,
    /// The client's SYN sequence number, when one was seen.
    syn: Option<u32>,
    /// Where each direction's stream starts (offset 0).
    cursors: [Option<Cursor>; 2],
}

/// Finds a segment's connection (a new one when a 4-tuple is reused with
/// a new SYN) and its direction and stream offset. Deterministic, so both
/// passes agree.
#[derive(Default)]
struct Locator {
    current: HashMap<(SocketAddr, SocketAddr), usize>,
    conns: Vec<ConnMeta>,
}

/// Where a segment's payload sits.
#[derive(Clone, Copy, Debug)]
struct Located {
    conn: usize,
    dir: Dir,
    /// Stream offset of the first payload byte (None: before the start).
    offset: Option<u64>,
}

impl Locator {
    fn locate(&mut self, seg: &Segment) -> Located {
        let key = if seg.src <= seg.dst {
            (seg.src, seg.dst)
        } else {
            (seg.dst, seg.src)
        };
        let is_syn = seg.flags & tcp_flags::SYN != 0;
        let opens = is_syn && seg.flags & tcp_flags::ACK == 0;
        let existing = self.current.get(&key).copied();
        let conn = match existing {
            Some(i) if !(opens && self.conns[i].syn.is_some_and(|s| s != seg.seq)) => i,
            _ => {
                self.conns.push(ConnMeta {
                    client: seg.src,
                    syn: None,
                    cursors: [None, None],
                });
                let i = self.conns.len() - 1;
                self.current.insert(key, i);
                i
            }
        };
        let meta = &mut self.conns[conn];
        if opens && meta.syn.is_none() {
            meta.syn = Some(seg.seq);
            meta.client = seg.src;
        }
        let dir = if seg.src == meta.client {
            Dir::ToServer
        } else {
            Dir::ToClient
        };
        let first = seg.seq.wrapping_add(u32::from(is_syn));
        let cursor = meta.cursors[dir.index()].get_or_insert(Cursor {
            seq: first,
            offset: 0,
        });
        if is_syn && cursor.offset == 0 {
            // A SYN (or its retransmission) fixes where the stream starts.
            cursor.seq = first;
        }
        let offset = cursor.offset_of(first);
        Located { conn, dir, offset }
    }
}

/// One connection in pass one: the scan and what waits for a hole to fill.
#[derive(Default)]
struct ConnScan {
    masker: HttpMasker,
    pending: [BTreeMap<u64, Vec<u8>>; 2],
    pending_bytes: [usize; 2],
}

impl ConnScan {
    fn segment(&mut self, r: &Redactor, dir: Dir, offset: u64, payload: &[u8], missing: u64) {
        let d = dir.index();
        let next = self.masker.offset(dir);
        let end = offset + payload.len() as u64;
        if end <= next && missing == 0 {
            return; // All seen before: a retransmission.
        }
        if offset > next {
            let replaced = self.pending[d].insert(offset, payload.to_vec());
            self.pending_bytes[d] += payload.len();
            self.pending_bytes[d] -= replaced.map_or(0, |r| r.len());
            if self.pending_bytes[d] > MAX_PENDING_BYTES {
                self.drain(r, dir, true);
            }
            return;
        }
        let fresh = &payload[((next - offset) as usize).min(payload.len())..];
        self.masker.data(r.profile(), dir, fresh);
        if missing > 0 {
            self.masker.gap(r.profile(), dir, missing);
        }
        self.drain(r, dir, false);
    }

    /// Out-of-order bytes held, both directions.
    fn held(&self) -> usize {
        self.pending_bytes[0] + self.pending_bytes[1]
    }

    /// Scans held segments that now follow on; with `force`, skips holes.
    fn drain(&mut self, r: &Redactor, dir: Dir, force: bool) {
        let d = dir.index();
        while let Some(entry) = self.pending[d].first_entry() {
            let offset = *entry.key();
            let next = self.masker.offset(dir);
            if offset > next {
                if !force {
                    return;
                }
                self.masker.gap(r.profile(), dir, offset - next);
            }
            let bytes = entry.remove();
            self.pending_bytes[d] -= bytes.len();
            let next = self.masker.offset(dir);
            let skip = ((next - offset) as usize).min(bytes.len());
            self.masker.data(r.profile(), dir, &bytes[skip..]);
        }
    }
}

/// Pass one: feed every frame, in capture order.
pub struct Scanner<'r> {
    redactor: &'r Redactor,
    locator: Locator,
    conns: Vec<ConnScan>,
    /// Out-of-order bytes held by all connections, at most `max_held`
    /// (plus one segment).
    held: usize,
    max_held: usize,
}

impl<'r> Scanner<'r> {
    pub fn new(redactor: &'r Redactor) -> Scanner<'r> {
        Scanner {
            redactor,
            locator: Locator::default(),
            conns: Vec::new(),
            held: 0,
            max_held: MAX_PENDING_TOTAL,
        }
    }

    pub fn frame(&mut self, link_type: LinkType, data: &[u8]) {
        if !self.redactor.profile().touches_payload() {
            return;
        }
        let Some((seg, payload, missing)) = packet::tcp_segment(link_type, data) else {
            return;
        };
        let at = self.locator.locate(&seg);
        if self.conns.len() < self.locator.conns.len() {
            self.conns
                .resize_with(self.locator.conns.len(), ConnScan::default);
        }
        if let Some(offset) = at.offset {
            if !payload.is_empty() || missing > 0 {
                self.scan(at.conn, at.dir, offset, payload, missing);
            }
        }
    }

    /// One segment of connection `conn`, within the budget of bytes held.
    fn scan(&mut self, conn: usize, dir: Dir, offset: u64, payload: &[u8], missing: u64) {
        let r = self.redactor;
        let Some(c) = self.conns.get_mut(conn) else {
            return;
        };
        let before = c.held();
        c.segment(r, dir, offset, payload, missing);
        self.held = (self.held + c.held()).saturating_sub(before);
        if self.held > self.max_held {
            let held = c.held();
            c.drain(r, Dir::ToServer, true);
            c.drain(r, Dir::ToClient, true);
            self.held = self.held.saturating_sub(held);
        }
    }

    /// Ends pass one: what is still held is scanned past its holes.
    pub fn finish(mut self) -> Masks<'r> {
        let r = self.redactor;
        let masks = self
            .conns
            .iter_mut()
            .map(|c| {
                c.drain(r, Dir::ToServer, true);
                c.drain(r, Dir::ToClient, true);
                std::mem::take(&mut c.masker).into_masks()
            })
            .collect();
        Masks {
            redactor: r,
            locator: Locator::default(),
            masks,
        }
    }
}

/// Pass two: what to mask, per connection and direction.
pub struct Masks<'r> {
    redactor: &'r Redactor,
    locator: Locator,
    masks: Vec<[MaskSet; 2]>,
}

impl Masks<'_> {
    /// Redacts the next frame (the same frames as pass one, in the same
    /// order) in place.
    pub fn redact_frame(&mut self, link_type: LinkType, data: &mut [u8]) {
        let r = self.redactor;
        let touches = r.profile().touches_payload();
        let fail_closed = r.profile().masks_values();
        let (locator, masks) = (&mut self.locator, &self.masks);
        packet::redact_frame(r, link_type, data, &mut |seg, payload| {
            if !touches {
                return;
            }
            let at = locator.locate(seg);
            match (at.offset, masks.get(at.conn)) {
                (Some(offset), Some(m)) => m[at.dir.index()].apply(offset, payload, FILL),
                // Before the stream's first byte: never scanned.
                _ if fail_closed => payload.fill(FILL),
                _ => {}
            }
        });
    }
}

/// Why a capture could not be redacted.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Read {
        path: String,
        source: crate::pcap::Error,
    },
    #[error("writing the redacted capture: {0}")]
    Write(#[from] std::io::Error),
    #[error("writing the redacted capture: {0}")]
    Pcap(String),
    #[error(
        "frame {frame}: link type {found} differs from the file's {first}; a pcap file holds one"
    )]
    MixedLinkTypes { frame: u64, first: u32, found: u32 },
}

pub type Result<T> = std::result::Result<T, Error>;

/// What a whole-file redaction did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rewritten {
    pub frames: u64,
    pub format: Format,
}

/// Redacts the capture at `input` into `out`: pcap stays pcap
/// (nanosecond timestamps); pcapng becomes pcapng with one interface per
/// link type and no options (comments, interface names, hardware are
/// dropped). Every record keeps its timestamp, original length and
/// captured length.
pub fn redact_capture(r: &Redactor, input: &Path, out: &mut dyn Write) -> Result<Rewritten> {
    let path = input.display().to_string();
    let read_err = |source| Error::Read {
        path: path.clone(),
        source,
    };
    let mut scanner = Scanner::new(r);
    let mut reader = Reader::open(input).map_err(read_err)?;
    while let Some(frame) = reader.next_frame().map_err(read_err)? {
        scanner.frame(frame.link_type, frame.data);
    }
    let mut masks = scanner.finish();

    let mut reader = Reader::open(input).map_err(read_err)?;
    let format = reader.format();
    let mut writer = Writer::new(format, out);
    let mut buf = Vec::new();
    let mut frames = 0;
    while let Some(frame) = reader.next_frame().map_err(read_err)? {
        buf.clear();
        buf.extend_from_slice(frame.data);
        masks.redact_frame(frame.link_type, &mut buf);
        let ts = frame.ts.map(|t| t.as_nanos().max(0) as u64);
        writer.record(frame.index, frame.link_type, ts, frame.orig_len, &buf)?;
        frames += 1;
    }
    writer.finish()?;
    Ok(Rewritten { frames, format })
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::redact::{Profile, ProfileName};

    #[test]
    fn out_of_order_bytes_held_across_connections_stay_within_the_budget() {
        let r = Redactor::new(Profile::named(ProfileName::Strict), &[7; 32]);
        let mut s = Scanner::new(&r);
        s.max_held = 10_000;
        s.conns.resize_with(100, ConnScan::default);
        let segment = vec![b'x'; 1000];
        for conn in 0..100 {
            // Each connection's first bytes are missing: everything waits.
            s.scan(conn, Dir::ToServer, 50, &segment, 0);
            assert!(s.held <= s.max_held + segment.len(), "{}", s.held);
            let sum: usize = s.conns.iter().map(ConnScan::held).sum();
            assert_eq!(s.held, sum);
        }
        // A segment sent twice at one offset is held once.
        let mut c = ConnScan::default();
        c.segment(&r, Dir::ToClient, 10, &segment, 0);
        c.segment(&r, Dir::ToClient, 10, &segment, 0);
        assert_eq!(c.held(), segment.len());
    }
}
