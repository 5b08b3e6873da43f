//! TCP reassembly of one direction of a conversation (a `HalfStream`):
//! sequence tracking with wraparound, out-of-order buffering under caps,
//! duplicate and overlap removal, and gaps for bytes that will never come.
//!
//! Policy (documented in README): the first copy of a byte wins. Bytes
//! already delivered are never replaced by a retransmission with different
//! content, and a buffered out-of-order segment keeps its bytes when a
//! later one overlaps it. A hole becomes a gap when the receiver
//! acknowledges past it (the segment was on the wire but not in the
//! capture), when a buffer cap is hit, or when the conversation ends.

use std::collections::BTreeMap;

use super::stream::{Dir, StreamSink};
use crate::time::Timestamp;

/// Limits on what reassembly may hold in memory.
#[derive(Clone, Copy, Debug)]
pub struct ReassemblyLimits {
    /// Out-of-order bytes buffered per direction before the hole is declared a gap.
    pub max_buffered_per_dir: usize,
    /// Out-of-order segments buffered per direction.
    pub max_segments_per_dir: usize,
}

impl Default for ReassemblyLimits {
    fn default() -> Self {
        ReassemblyLimits {
            max_buffered_per_dir: 1 << 20,
            max_segments_per_dir: 1024,
        }
    }
}

/// Something reassembly noticed about a direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct HalfStats {
    /// Payload bytes delivered in order (each byte once).
    pub delivered: u64,
    /// Bytes declared missing.
    pub gap_bytes: u64,
    pub gaps: u64,
    /// Segments whose payload had been seen before, entirely or in part.
    pub retransmissions: u64,
    /// Segments that arrived ahead of a hole.
    pub out_of_order: u64,
    /// Holes dropped because a buffer cap was hit.
    pub buffer_overflows: u64,
}

struct Pending {
    data: Vec<u8>,
    /// Bytes past `data` that the segment carried but the snaplen cut.
    missing_tail: u32,
    ts: Timestamp,
    frame: u64,
}

impl Pending {
    fn len(&self) -> u64 {
        self.data.len() as u64 + u64::from(self.missing_tail)
    }
}

/// What let buffered segments go.
#[derive(Clone, Copy)]
enum Release {
    /// The packet at this time and frame filled the hole before them: the
    /// bytes became whole then.
    Filled(Timestamp, u64),
    /// The hole was declared a gap: the bytes were whole when they arrived,
    /// and carry their own time.
    AfterGap,
}

/// One direction's reassembly state.
#[derive(Default)]
pub struct HalfStream {
    /// Sequence number of stream offset 0 (the first data byte).
    base: Option<u32>,
    /// Stream offset of the next byte to deliver.
    next: u64,
    /// Out-of-order segments by stream offset.
    pending: BTreeMap<u64, Pending>,
    buffered: usize,
    /// Stream offset just past the FIN, once seen.
    fin_at: Option<u64>,
    fin_sent: bool,
    closed: bool,
    /// A RST from this side was the last word: later segments are ignored
    /// unless one of them brings new bytes or a SYN ([`HalfStream::revives`]).
    reset: bool,
    pub stats: HalfStats,
}

impl HalfStream {
    /// Stream offset of sequence number `seq`, relative to `next`
    /// (RFC 9293 modular comparison: within ±2^31 of the expected byte).
    fn offset_of(&self, seq: u32) -> i64 {
        let base = self.base.unwrap_or(seq);
        let next_seq = base.wrapping_add(self.next as u32);
        self.next as i64 + i64::from(seq.wrapping_sub(next_seq) as i32)
    }

    /// Whether a SYN or data has fixed the sequence base.
    pub fn is_synchronised(&self) -> bool {
        self.base.is_some()
    }

    /// Whether this direction is over: its FIN delivered in order, a reset,
    /// or `finish`.
    pub fn has_ended(&self) -> bool {
        self.fin_sent || self.closed || self.reset
    }

    /// Whether a RST from this side is the last thing it did.
    #[inline]
    pub fn is_reset(&self) -> bool {
        self.reset
    }

    /// Whether this segment shows the side carrying on after its RST: a
    /// SYN (the stale-state dance: challenge ACK, RST, SYN retry) or bytes
    /// past everything delivered. tshark keeps following such a stream.
    #[inline]
    pub fn revives(&self, seq: u32, syn: bool, payload_len: u32) -> bool {
        if !self.reset || self.closed {
            return false;
        }
        syn || (payload_len > 0 && self.offset_of(seq) + i64::from(payload_len) > self.next as i64)
    }

    /// Takes the stream up again after a RST (see [`HalfStream::revives`]).
    pub fn revive(&mut self) {
        self.reset = false;
    }

    /// A SYN from this side: data starts at `seq + 1`. A base guessed from
    /// an earlier segment (a stale connection's challenge ACK) gives way
    /// while nothing has been delivered from it.
    pub fn syn(&mut self, seq: u32) {
        let data_seq = seq.wrapping_add(1);
        let untouched = self.next == 0 && self.pending.is_empty() && self.fin_at.is_none();
        if self.base.is_none() || (untouched && self.base != Some(data_seq)) {
            self.base = Some(data_seq);
        }
    }

    /// Handles one segment of this direction.
    #[allow(clippy::too_many_arguments)]
    pub fn segment(
        &mut self,
        dir: Dir,
        seq: u32,
        syn: bool,
        fin: bool,
        payload: &[u8],
        payload_len: u32,
        ts: Timestamp,
        frame: u64,
        limits: &ReassemblyLimits,
        sink: &mut dyn StreamSink,
    ) {
        if self.closed || self.reset {
            return;
        }
        let data_seq = if syn { seq.wrapping_add(1) } else { seq };
        if self.base.is_none() {
            // Mid-stream start: the first segment seen defines offset 0.
            self.base = Some(data_seq);
        }
        let start = self.offset_of(data_seq);
        let len = i64::from(payload_len);
        if fin {
            let at = (start + len).max(0) as u64;
            if self.fin_at.is_none() {
                self.fin_at = Some(at);
            }
        }
        if len > 0 {
            let end = start + len;
            let next = self.next as i64;
            if end <= next {
                self.stats.retransmissions += 1;
            } else {
                // Trim what was already delivered.
                let skip = (next - start).max(0);
                if skip > 0 {
                    self.stats.retransmissions += 1;
                }
                let (data, missing) = split_captured(payload, payload_len, skip as u64);
                let at = (start + skip) as u64;
                if at == self.next {
                    if !self.pending.is_empty() {
                        let end = at + data.len() as u64 + u64::from(missing);
                        self.filled(dir, end, ts, sink);
                    }
                    self.deliver(dir, data, missing, ts, frame, sink);
                    self.drain(dir, Release::Filled(ts, frame), sink);
                } else {
                    self.stats.out_of_order += 1;
                    self.buffer(at, data, missing, ts, frame);
                    if self.buffered > limits.max_buffered_per_dir
                        || self.pending.len() > limits.max_segments_per_dir
                    {
                        self.stats.buffer_overflows += 1;
                        self.skip_hole(dir, ts, frame, sink);
                    }
                }
            }
        }
        self.maybe_fin(dir, ts, frame, sink);
    }

    /// The other side acknowledged up to `ack`: bytes below it that we never
    /// saw will not come.
    pub fn acked(
        &mut self,
        dir: Dir,
        ack: u32,
        ts: Timestamp,
        frame: u64,
        sink: &mut dyn StreamSink,
    ) {
        if self.base.is_none() || self.closed || self.reset {
            return;
        }
        let mut upto = self.offset_of(ack);
        if let Some(fin_at) = self.fin_at {
            // The FIN takes one sequence number but is no data.
            upto = upto.min(fin_at as i64);
        }
        while upto > self.next as i64 {
            let hole_end = match self.pending.first_key_value() {
                Some((&at, _)) => (at as i64).min(upto),
                None => upto,
            };
            if hole_end <= self.next as i64 {
                break;
            }
            let len = (hole_end - self.next as i64) as u64;
            self.gap(dir, len, ts, frame, sink);
            self.drain(dir, Release::AfterGap, sink);
        }
        self.maybe_fin(dir, ts, frame, sink);
    }

    /// A reset from this side: flush what is buffered, then report it.
    pub fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64, sink: &mut dyn StreamSink) {
        if self.closed || self.reset {
            return;
        }
        self.flush(dir, ts, frame, sink);
        self.reset = true;
        sink.reset(dir, ts, frame);
    }

    /// End of the conversation: whatever is buffered is delivered behind gaps.
    pub fn finish(&mut self, dir: Dir, ts: Timestamp, frame: u64, sink: &mut dyn StreamSink) {
        if self.closed || self.reset {
            self.closed = true;
            return;
        }
        self.flush(dir, ts, frame, sink);
        self.maybe_fin(dir, ts, frame, sink);
        self.closed = true;
    }

    /// Declares every hole a gap and delivers what was buffered behind
    /// them (a memory cap was hit).
    pub fn give_up_holes(
        &mut self,
        dir: Dir,
        ts: Timestamp,
        frame: u64,
        sink: &mut dyn StreamSink,
    ) {
        if !self.pending.is_empty() {
            self.stats.buffer_overflows += 1;
        }
        self.flush(dir, ts, frame, sink);
    }

    /// Whether any byte of this side has been seen (delivered, buffered
    /// or lost).
    #[inline]
    pub fn has_bytes(&self) -> bool {
        self.next > 0 || !self.pending.is_empty()
    }

    pub fn buffered_bytes(&self) -> usize {
        self.buffered
    }

    fn flush(&mut self, dir: Dir, ts: Timestamp, frame: u64, sink: &mut dyn StreamSink) {
        while !self.pending.is_empty() {
            self.skip_hole(dir, ts, frame, sink);
        }
    }

    fn maybe_fin(&mut self, dir: Dir, ts: Timestamp, frame: u64, sink: &mut dyn StreamSink) {
        if let Some(fin_at) = self.fin_at {
            if !self.fin_sent && self.next >= fin_at && self.pending.is_empty() {
                self.fin_sent = true;
                sink.fin(dir, ts, frame);
            }
        }
    }

    fn deliver(
        &mut self,
        dir: Dir,
        data: &[u8],
        missing: u32,
        ts: Timestamp,
        frame: u64,
        sink: &mut dyn StreamSink,
    ) {
        if !data.is_empty() {
            sink.data(dir, ts, frame, data);
            self.next += data.len() as u64;
            self.stats.delivered += data.len() as u64;
        }
        if missing > 0 {
            self.gap(dir, u64::from(missing), ts, frame, sink);
        }
    }

    fn gap(&mut self, dir: Dir, len: u64, ts: Timestamp, frame: u64, sink: &mut dyn StreamSink) {
        sink.gap(dir, ts, frame, len);
        self.next += len;
        self.stats.gap_bytes += len;
        self.stats.gaps += 1;
    }

    /// An in-order segment at `ts`, ending at stream offset `end`: if it
    /// reaches the buffered segments, it fills the hole they wait behind,
    /// and the sink is told since when the ones it releases (up to the
    /// next hole) waited. A segment short of them (a partial
    /// retransmission) releases nothing and says nothing. The walk is over
    /// the segments [`Self::drain`] then delivers.
    #[cold]
    fn filled(&self, dir: Dir, mut end: u64, ts: Timestamp, sink: &mut dyn StreamSink) {
        let mut since: Option<Timestamp> = None;
        for (&at, p) in &self.pending {
            if at > end {
                break;
            }
            end = end.max(at + p.len());
            since = Some(since.map_or(p.ts, |s| s.min(p.ts)));
        }
        if let Some(since) = since {
            sink.held(dir, since.min(ts), ts);
        }
    }

    /// Declares the hole before the first buffered segment a gap and
    /// delivers what follows it.
    fn skip_hole(&mut self, dir: Dir, ts: Timestamp, frame: u64, sink: &mut dyn StreamSink) {
        if let Some((&at, _)) = self.pending.first_key_value() {
            if at > self.next {
                let len = at - self.next;
                self.gap(dir, len, ts, frame, sink);
            }
        }
        self.drain(dir, Release::AfterGap, sink);
    }

    /// Delivers buffered segments that are now in order.
    fn drain(&mut self, dir: Dir, release: Release, sink: &mut dyn StreamSink) {
        while let Some(entry) = self.pending.first_entry() {
            let at = *entry.key();
            if at > self.next {
                break;
            }
            let seg = entry.remove();
            self.buffered -= seg.data.len();
            let end = at + seg.len();
            if end <= self.next {
                continue;
            }
            let skip = self.next - at;
            let (data, missing) = split_captured(&seg.data, seg.len() as u32, skip);
            let (release_ts, release_frame) = match release {
                Release::Filled(ts, frame) => (ts.max(seg.ts), frame.max(seg.frame)),
                Release::AfterGap => (seg.ts, seg.frame),
            };
            self.deliver(dir, data, missing, release_ts, release_frame, sink);
        }
    }

    /// Stores an out-of-order segment. First copy wins: only the parts not
    /// already buffered are stored, each as its own piece.
    fn buffer(&mut self, at: u64, data: &[u8], missing: u32, ts: Timestamp, frame: u64) {
        let end = at + data.len() as u64 + u64::from(missing);
        let mut cursor = at;
        // Start after any stored segment that covers our beginning.
        if let Some((&prev_at, prev)) = self.pending.range(..=at).next_back() {
            cursor = cursor.max(prev_at + prev.len());
        }
        while cursor < end {
            let next_stored = self
                .pending
                .range(cursor..)
                .next()
                .map(|(&a, p)| (a, a + p.len()));
            let piece_end = match next_stored {
                Some((a, _)) if a < end => a,
                _ => end,
            };
            if piece_end > cursor {
                let skip = cursor - at;
                let (rest, _) = split_captured(data, (end - at) as u32, skip);
                let len = piece_end - cursor;
                let d = &rest[..rest.len().min(len as usize)];
                let missing_here = (len - d.len() as u64) as u32;
                self.buffered += d.len();
                self.pending.insert(
                    cursor,
                    Pending {
                        data: d.to_vec(),
                        missing_tail: missing_here,
                        ts,
                        frame,
                    },
                );
            }
            cursor = match next_stored {
                Some((a, stored_end)) if a < end => stored_end.max(piece_end),
                _ => end,
            };
        }
    }
}

/// Skips `skip` bytes of a segment whose captured bytes are `captured` and
/// whose real length is `len`; returns the captured rest and how many bytes
/// of the rest were not captured.
fn split_captured(captured: &[u8], len: u32, skip: u64) -> (&[u8], u32) {
    let len = u64::from(len);
    if skip >= len {
        return (&[], 0);
    }
    let data = captured.get(skip as usize..).unwrap_or(&[]);
    let data = &data[..data.len().min((len - skip) as usize)];
    let missing = (len - skip - data.len() as u64) as u32;
    (data, missing)
}

#[cfg(test)]
mod test {
    use super::*;

    #[derive(Default)]
    struct Collect {
        bytes: Vec<u8>,
        gaps: Vec<u64>,
        fins: u32,
        resets: u32,
        held: Vec<(Timestamp, Timestamp)>,
    }

    impl StreamSink for Collect {
        fn data(&mut self, _dir: Dir, _ts: Timestamp, _frame: u64, bytes: &[u8]) {
            self.bytes.extend_from_slice(bytes);
        }
        fn gap(&mut self, _dir: Dir, _ts: Timestamp, _frame: u64, len: u64) {
            self.gaps.push(len);
            self.bytes.extend(std::iter::repeat_n(b'?', len as usize));
        }
        fn fin(&mut self, _dir: Dir, _ts: Timestamp, _frame: u64) {
            self.fins += 1;
        }
        fn reset(&mut self, _dir: Dir, _ts: Timestamp, _frame: u64) {
            self.resets += 1;
        }
        fn held(&mut self, _dir: Dir, since: Timestamp, ts: Timestamp) {
            self.held.push((since, ts));
        }
    }

    fn seg(h: &mut HalfStream, sink: &mut Collect, seq: u32, data: &[u8]) {
        seg_at(h, sink, seq, data, Timestamp::ZERO);
    }

    fn seg_at(h: &mut HalfStream, sink: &mut Collect, seq: u32, data: &[u8], ts: Timestamp) {
        h.segment(
            Dir::ToServer,
            seq,
            false,
            false,
            data,
            data.len() as u32,
            ts,
            0,
            &ReassemblyLimits::default(),
            sink,
        );
    }

    #[test]
    fn reorders_and_deduplicates_across_wraparound() {
        let mut h = HalfStream::default();
        let mut sink = Collect::default();
        let isn = u32::MAX - 3;
        h.syn(isn);
        let base = isn.wrapping_add(1);
        seg(&mut h, &mut sink, base.wrapping_add(4), b"efgh");
        seg(&mut h, &mut sink, base, b"abcd");
        seg(&mut h, &mut sink, base.wrapping_add(2), b"cdef"); // retransmission
        seg(&mut h, &mut sink, base.wrapping_add(8), b"ij");
        assert_eq!(sink.bytes, b"abcdefghij");
        assert_eq!(h.stats.retransmissions, 1);
        assert_eq!(h.stats.out_of_order, 1);
    }

    #[test]
    fn a_filled_hole_says_since_when_bytes_waited_behind_it() {
        let mut h = HalfStream::default();
        let mut sink = Collect::default();
        h.syn(99);
        let at = |ms: i64| Timestamp::from_nanos(ms * 1_000_000);
        seg_at(&mut h, &mut sink, 100, b"ab", at(1));
        seg_at(&mut h, &mut sink, 104, b"ef", at(2));
        seg_at(&mut h, &mut sink, 106, b"gh", at(3));
        seg_at(&mut h, &mut sink, 102, b"cd", at(200)); // the retransmission
        seg_at(&mut h, &mut sink, 108, b"ij", at(201));
        assert_eq!(sink.bytes, b"abcdefghij");
        assert_eq!(sink.held, vec![(at(2), at(200))]);
        // A hole declared a gap held nothing a receiver could wait for.
        seg_at(&mut h, &mut sink, 112, b"mn", at(202));
        h.acked(Dir::ToServer, 114, at(203), 0, &mut sink);
        assert_eq!(sink.held.len(), 1);
    }

    /// A retransmission short of the buffered segments releases nothing;
    /// one that fills a hole says since when the segments it releases
    /// waited, not those behind a later hole.
    #[test]
    fn a_hold_is_of_the_segments_a_fill_releases() {
        let mut h = HalfStream::default();
        let mut sink = Collect::default();
        h.syn(99);
        let at = |ms: i64| Timestamp::from_nanos(ms * 1_000_000);
        seg_at(&mut h, &mut sink, 100, b"ab", at(1));
        seg_at(&mut h, &mut sink, 110, b"kl", at(2)); // behind a second hole
        seg_at(&mut h, &mut sink, 106, b"gh", at(3));
        seg_at(&mut h, &mut sink, 102, b"cd", at(200)); // short of "gh"
        assert!(sink.held.is_empty());
        seg_at(&mut h, &mut sink, 104, b"ef", at(300));
        assert_eq!(sink.held, vec![(at(3), at(300))]);
        seg_at(&mut h, &mut sink, 108, b"ij", at(400));
        assert_eq!(sink.held, vec![(at(3), at(300)), (at(2), at(400))]);
        assert_eq!(sink.bytes, b"abcdefghijkl");
    }

    #[test]
    fn ack_past_a_hole_makes_a_gap() {
        let mut h = HalfStream::default();
        let mut sink = Collect::default();
        h.syn(99);
        seg(&mut h, &mut sink, 100, b"ab");
        seg(&mut h, &mut sink, 105, b"fg");
        h.acked(Dir::ToServer, 107, Timestamp::ZERO, 0, &mut sink);
        assert_eq!(sink.bytes, b"ab???fg");
        assert_eq!(sink.gaps, vec![3]);
        // An ACK beyond everything seen: the lost tail is a gap too.
        h.acked(Dir::ToServer, 110, Timestamp::ZERO, 0, &mut sink);
        assert_eq!(sink.gaps, vec![3, 3]);
    }

    #[test]
    fn new_bytes_after_a_reset_revive_the_stream() {
        let mut h = HalfStream::default();
        let mut sink = Collect::default();
        h.syn(99);
        seg(&mut h, &mut sink, 100, b"ab");
        h.reset(Dir::ToServer, Timestamp::ZERO, 0, &mut sink);
        assert!(h.has_ended());
        // A retransmission is no sign of life: still reset, ignored.
        assert!(!h.revives(100, false, 2));
        seg(&mut h, &mut sink, 100, b"ab");
        assert_eq!(h.stats.retransmissions, 0);
        // New bytes are.
        assert!(h.revives(102, false, 2));
        h.revive();
        seg(&mut h, &mut sink, 102, b"cd");
        assert_eq!((sink.bytes.as_slice(), sink.resets), (&b"abcd"[..], 1));
        assert!(!h.has_ended());
    }

    #[test]
    fn a_syn_rebases_a_half_that_delivered_nothing() {
        let mut h = HalfStream::default();
        let mut sink = Collect::default();
        // A stale challenge ACK guessed the base...
        seg(&mut h, &mut sink, 777_777, b"");
        // ...the SYN-ACK sets it right.
        h.syn(5000);
        seg(&mut h, &mut sink, 5001, b"hi");
        assert_eq!(sink.bytes, b"hi");
        // Once bytes are delivered, a SYN no longer moves it.
        h.syn(9000);
        seg(&mut h, &mut sink, 5003, b"!");
        assert_eq!(sink.bytes, b"hi!");
    }

    #[test]
    fn fin_waits_for_the_hole() {
        let mut h = HalfStream::default();
        let mut sink = Collect::default();
        h.syn(0);
        let lim = ReassemblyLimits::default();
        h.segment(
            Dir::ToServer,
            3,
            false,
            true,
            b"c",
            1,
            Timestamp::ZERO,
            0,
            &lim,
            &mut sink,
        );
        assert_eq!(sink.fins, 0);
        seg(&mut h, &mut sink, 1, b"ab");
        assert_eq!((sink.bytes.as_slice(), sink.fins), (&b"abc"[..], 1));
    }

    #[test]
    fn buffer_cap_turns_the_hole_into_a_gap() {
        let mut h = HalfStream::default();
        let mut sink = Collect::default();
        let lim = ReassemblyLimits {
            max_buffered_per_dir: 4,
            max_segments_per_dir: 10,
        };
        h.syn(0);
        for (seq, d) in [(3u32, &b"cc"[..]), (5, b"dd"), (7, b"ee")] {
            h.segment(
                Dir::ToServer,
                seq,
                false,
                false,
                d,
                2,
                Timestamp::ZERO,
                0,
                &lim,
                &mut sink,
            );
        }
        assert_eq!(sink.bytes, b"??ccddee");
        assert_eq!(h.stats.buffer_overflows, 1);
        assert_eq!(h.buffered_bytes(), 0);
    }

    #[test]
    fn snaplen_cut_tail_is_a_gap() {
        let mut h = HalfStream::default();
        let mut sink = Collect::default();
        h.syn(0);
        let lim = ReassemblyLimits::default();
        h.segment(
            Dir::ToServer,
            1,
            false,
            false,
            b"ab",
            5,
            Timestamp::ZERO,
            0,
            &lim,
            &mut sink,
        );
        seg(&mut h, &mut sink, 6, b"xy");
        assert_eq!(sink.bytes, b"ab???xy");
    }

    /// Any segmentation, reordering and duplication of a stream gives the
    /// same bytes back.
    #[test]
    fn property_any_segmentation_reassembles() {
        let stream: Vec<u8> = (0..3000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut rng = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            rng
        };
        for _round in 0..200 {
            let isn = next() as u32;
            let mut segs = Vec::new();
            let mut at = 0usize;
            while at < stream.len() {
                let len = 1 + (next() % 400) as usize;
                let end = (at + len).min(stream.len());
                segs.push((at, end));
                if next() % 5 == 0 {
                    segs.push((at, end)); // duplicate
                }
                if next() % 7 == 0 && at > 10 {
                    segs.push((at - 10, end)); // overlapping retransmission
                }
                at = end;
            }
            // Shuffle locally (bounded reordering).
            for i in 0..segs.len() {
                let j = (i + (next() % 6) as usize).min(segs.len() - 1);
                segs.swap(i, j);
            }
            let mut h = HalfStream::default();
            let mut sink = Collect::default();
            h.syn(isn);
            for (s, e) in segs {
                let seq = isn.wrapping_add(1).wrapping_add(s as u32);
                seg(&mut h, &mut sink, seq, &stream[s..e]);
            }
            h.finish(Dir::ToServer, Timestamp::ZERO, 0, &mut sink);
            assert_eq!(sink.bytes, stream);
            assert!(sink.gaps.is_empty());
        }
    }
}
