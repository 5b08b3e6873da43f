//! Finding frames again after a capture gap. The bytes lost may end in
//! the middle of a frame, so the next frame header is not where the
//! stream resumes. A boundary is taken only where two frame headers in a
//! row fit (the second where the first one's length puts it), each one a
//! conforming peer could send with the default settings (a known type on
//! the right kind of stream, a length its type allows, at most 16 KiB)
//! and each on stream 0 or near the streams already seen. Random payload
//! passes that by chance about once in 10^9 offsets; when it does, the
//! frames after it are wrong, but never silently: every resync leaves a
//! note on the connection's exchanges, which are marked as having a gap.

use super::frame::{FrameHeader, HEADER_LEN};

/// How far above the highest stream id seen a resynced frame's id may be.
const NEW_STREAMS: u32 = 1000;

/// What a look at the bytes after a gap found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boundary {
    /// A frame starts at this offset.
    At(usize),
    /// Nothing before this offset can start a frame; a candidate here
    /// (or a header cut by the end of `buf`) needs more bytes. Whoever
    /// holds the bytes drops those before it, so at most one frame's
    /// worth (16 KiB and two headers) is ever held beyond one delivery.
    NeedMore(usize),
}

fn header_at(buf: &[u8], at: usize) -> Option<FrameHeader> {
    let raw: &[u8; HEADER_LEN] = buf.get(at..at + HEADER_LEN)?.try_into().ok()?;
    Some(FrameHeader::parse(raw))
}

/// The first offset of `buf` where two plausible frame headers follow
/// one another; `max_id` is the highest stream id seen so far.
pub fn find(buf: &[u8], max_id: u32) -> Boundary {
    let fits = |h: &FrameHeader| {
        h.is_plausible() && (h.stream == 0 || h.stream <= max_id.saturating_add(NEW_STREAMS))
    };
    for at in 0..buf.len() {
        let Some(first) = header_at(buf, at) else {
            return Boundary::NeedMore(at);
        };
        if !fits(&first) {
            continue;
        }
        let next = at + HEADER_LEN + first.len as usize;
        match header_at(buf, next) {
            Some(second) if fits(&second) => return Boundary::At(at),
            Some(_) => {}
            None => return Boundary::NeedMore(at),
        }
    }
    Boundary::NeedMore(buf.len())
}

#[cfg(test)]
mod test {
    use super::*;

    use crate::analysis::http2::frame::encode as frame;

    #[test]
    fn the_next_two_frames_mark_the_boundary() {
        // The tail of a DATA frame cut by the gap, then DATA and HEADERS.
        let mut buf = b"\xff\xfe\x00\x01junk of a lost frame".to_vec();
        let start = buf.len();
        buf.extend(frame(0, 0, 5, b"hello"));
        buf.extend(frame(1, 4, 7, b"\x82"));
        assert_eq!(find(&buf, 5), Boundary::At(start));
        // Only one header so far: wait for the second.
        assert_eq!(
            find(&buf[..start + 14], 5),
            Boundary::NeedMore(start),
            "not taken on one header"
        );
    }

    #[test]
    fn far_stream_ids_and_text_are_not_boundaries() {
        let mut buf = frame(0, 0, 900_000, b"x");
        buf.extend(frame(0, 0, 900_001, b"y"));
        assert_eq!(
            find(&buf, 3),
            Boundary::NeedMore(buf.len() - (HEADER_LEN - 1))
        );
        assert_eq!(find(&[b'a'; 4000], 3), Boundary::NeedMore(4000 - 8));
    }
}
