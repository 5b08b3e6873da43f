//! Head-of-line blocking behind a lost segment (issue 14): when a
//! retransmission fills a hole in one direction's TCP stream, the frames
//! in the bytes it releases (its own and those that arrived after the
//! hole and waited) reach the receiver's HTTP/2 layer only then, whatever
//! stream they belong to. Reassembly says when that happens and since
//! when the bytes waited ([`crate::flow::StreamSink::held`]); a [`Hold`]
//! notes the streams with frames in them, and the analyzer gives each
//! its [`LossHold`] once the packet's bytes are read.

use crate::http::{LossHold, Peer};
use crate::time::{Span, Timestamp};

/// A hole filled sooner than this after bytes arrived behind it is
/// reordering, not a loss: tshark's threshold for calling a segment
/// out-of-order rather than a retransmission when it knows no RTT.
pub const MIN_HOLD: Span = Span::from_nanos(3_000_000);
/// Streams named per hold at most (bounded memory); more still count.
const MAX_NAMED: usize = 128;

/// The bytes one filled hole released, being read.
pub struct Hold {
    /// The sender of the lost segment.
    pub sender: Peer,
    /// How long the bytes behind the hole waited.
    pub span: Span,
    /// The streams with frames in the released bytes, in order seen.
    streams: Vec<u32>,
    /// Streams past [`MAX_NAMED`] (counted once per run of their frames:
    /// an unnamed stream interleaved with others may count again).
    unnamed: u32,
    /// The unnamed stream whose frame came last.
    last_unnamed: u32,
}

impl Hold {
    /// A hole `sender`'s segment at `until` filled, bytes behind it
    /// waiting since `since`; `None` for reordering ([`MIN_HOLD`]).
    pub fn new(sender: Peer, since: Timestamp, until: Timestamp) -> Option<Hold> {
        let span = until.since(since);
        (span >= MIN_HOLD).then(|| Hold {
            sender,
            span,
            streams: Vec::new(),
            unnamed: 0,
            last_unnamed: 0,
        })
    }

    /// A frame (or a piece of one) of stream `id` in the released bytes.
    pub fn frame(&mut self, id: u32) {
        if id == 0 || id == self.last_unnamed || self.streams.contains(&id) {
            return;
        }
        if self.streams.len() < MAX_NAMED {
            self.streams.push(id);
        } else {
            self.unnamed = self.unnamed.saturating_add(1);
            self.last_unnamed = id;
        }
    }

    /// The streams held, and what each is told: the hold, with how many
    /// streams shared it.
    pub fn finish(self) -> (Vec<u32>, impl Fn(&mut Option<LossHold>)) {
        let count = (self.streams.len() as u32).saturating_add(self.unnamed);
        let (sender, span) = (self.sender, self.span);
        let tell = move |held: &mut Option<LossHold>| match held {
            Some(h) => h.add(sender, span, count),
            None => *held = Some(LossHold::new(sender, span, count)),
        };
        (self.streams, tell)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn ms(n: i64) -> Timestamp {
        Timestamp::from_nanos(n * 1_000_000)
    }

    #[test]
    fn reordering_is_no_hold() {
        assert!(Hold::new(Peer::Server, ms(10), ms(12)).is_none());
        assert!(Hold::new(Peer::Server, ms(10), ms(13)).is_some());
    }

    #[test]
    fn each_stream_counts_once_and_learns_how_many_shared_the_hold() {
        let mut hold = Hold::new(Peer::Server, ms(0), ms(212)).unwrap();
        for id in [1, 1, 3, 0, 5, 3, 1] {
            hold.frame(id);
        }
        let (streams, tell) = hold.finish();
        assert_eq!(streams, [1, 3, 5]);
        let mut held = None;
        tell(&mut held);
        let h = held.unwrap();
        assert_eq!(
            (h.streams, h.longest, h.count),
            (3, ms(212).since(ms(0)), 1)
        );
    }
}
