//! The stream offsets to mask in one direction of a connection: what the
//! scan of pass one finds and what pass two (or a stream view) applies.

use std::ops::Range;

/// Stream offsets to mask in one direction, sorted and coalesced.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MaskSet {
    ranges: Vec<Range<u64>>,
}

impl MaskSet {
    pub fn push(&mut self, r: Range<u64>) {
        if r.is_empty() {
            return;
        }
        if let Some(last) = self.ranges.last_mut() {
            if r.start <= last.end && r.start >= last.start {
                last.end = last.end.max(r.end);
                return;
            }
            if r.start < last.start {
                // Rare (a retroactive range): keep the list sorted.
                self.ranges.push(r);
                self.ranges.sort_by_key(|r| r.start);
                self.coalesce();
                return;
            }
        }
        self.ranges.push(r);
    }

    fn coalesce(&mut self) {
        let mut out: Vec<Range<u64>> = Vec::with_capacity(self.ranges.len());
        for r in self.ranges.drain(..) {
            match out.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => out.push(r),
            }
        }
        self.ranges = out;
    }

    /// Forgets every mask at or after `at` (bytes about to be scanned
    /// again).
    pub(super) fn truncate(&mut self, at: u64) {
        while self.ranges.last().is_some_and(|r| r.start >= at) {
            self.ranges.pop();
        }
        if let Some(last) = self.ranges.last_mut() {
            last.end = last.end.min(at);
        }
    }

    pub fn ranges(&self) -> &[Range<u64>] {
        &self.ranges
    }

    /// Masks the bytes of `buf`, which sit at stream offset `at`.
    pub fn apply(&self, at: u64, buf: &mut [u8], fill: u8) {
        let end = at + buf.len() as u64;
        let first = self.ranges.partition_point(|r| r.end <= at);
        for r in self.ranges[first..].iter().take_while(|r| r.start < end) {
            let from = (r.start.max(at) - at) as usize;
            let to = (r.end.min(end) - at) as usize;
            buf[from..to].fill(fill);
        }
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn mask_sets_apply_at_any_offset() {
        let mut s = MaskSet::default();
        s.push(2..4);
        s.push(4..5);
        s.push(8..9);
        s.push(0..1);
        assert_eq!(s.ranges(), &[0..1, 2..5, 8..9]);
        let mut buf = *b"abcdef";
        s.apply(3, &mut buf, b'x');
        assert_eq!(&buf, b"xxcdex");
    }
}
