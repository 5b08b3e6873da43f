//! What reassembly hands to protocol analyzers: ordered bytes per
//! direction, holes, and the ends of each side. Analyzers never see packets
//! (Zeek's `NextStream` / `NextUndelivered` split).

use crate::time::Timestamp;

/// Direction of a byte stream within a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dir {
    /// From the side believed to be the client (it sent the SYN, or the
    /// port heuristic says so).
    ToServer,
    ToClient,
}

impl Dir {
    pub fn reverse(self) -> Dir {
        match self {
            Dir::ToServer => Dir::ToClient,
            Dir::ToClient => Dir::ToServer,
        }
    }

    /// 0 for `ToServer`, 1 for `ToClient`: an index for per-direction arrays.
    pub fn index(self) -> usize {
        match self {
            Dir::ToServer => 0,
            Dir::ToClient => 1,
        }
    }
}

/// Receives one conversation's reassembled streams, in capture order.
///
/// `ts` is the capture time of the packet that made the bytes deliverable
/// (for in-order data, the packet that carried them; for data held behind
/// a hole, the packet that filled the hole), `frame` its 0-based index.
pub trait StreamSink {
    /// In-order bytes of one direction.
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]);
    /// `len` bytes of one direction that will never be delivered (lost,
    /// cut by the snaplen, or dropped over a buffer limit).
    fn gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64);
    /// The side sending `dir` closed its half (FIN) after all its data.
    fn fin(&mut self, dir: Dir, ts: Timestamp, frame: u64);
    /// The side sending `dir` reset the connection.
    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64);
    /// The bytes of `dir` delivered next, at `ts`, fill a hole that bytes
    /// buffered behind it waited on since `since` (when the first of them
    /// arrived): a receiver could read none of them before. Only a hole
    /// a later segment filled (a retransmission, or reordering), never
    /// one declared a gap. Most analyzers need not know.
    fn held(&mut self, _dir: Dir, _since: Timestamp, _ts: Timestamp) {}
}
