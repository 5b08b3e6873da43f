//! The protocol-analyzer seam: what a TCP stream analyzer and a UDP
//! datagram analyzer implement, how a probe answers, and where analyzers
//! put what they find (records for the [`Output`](super::Output), inner
//! packets for the flow table). docs/adding-a-protocol.md walks through
//! adding one.

use std::sync::Arc;

use crate::flow::{Conversation, Dir, StreamSink};
use crate::time::Timestamp;

use super::record::{InnerPacket, Record};
use super::tls::{KeyLog, TlsSummary};
use super::trouble::TroubleLog;
use super::OutputError;

/// A probe's answer about the first bytes of a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// This analyzer's protocol (or bytes it must see to stay faithful).
    Yes,
    /// Not this protocol.
    No,
    /// Undecided: show me more bytes.
    NeedMore,
}

/// What an analyzer may look at when it turns its findings into records.
pub struct Context<'a> {
    pub conv: &'a Conversation,
    /// TCP trouble of the conversation (empty for UDP).
    pub trouble: &'a TroubleLog,
    /// TLS secrets known so far (a key log given with the capture, and
    /// those the capture itself carries).
    pub keys: &'a KeyLog,
}

/// Where analyzers put what they find.
pub trait Emit {
    /// A finished record. An error is the output's: stop and return it.
    fn record(&mut self, record: Record) -> Result<(), OutputError>;
    /// A packet carried inside this conversation's payload (a tunnel's):
    /// decoded and put in the flow table as a packet of its own, right
    /// after the packet being analyzed.
    fn inner_packet(&mut self, packet: InnerPacket);
}

/// What an analyzer reports about its conversation when it ends; it
/// becomes the conversation's [`AppFacts`](crate::flow::AppFacts).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// The content proved to be this analyzer's protocol (Zeek's protocol
    /// confirmation): a message parsed.
    pub confirmed: bool,
    /// Records emitted.
    pub records: u64,
    /// Of those, the ones started by the flow's `server` side.
    pub reversed: u64,
}

/// A protocol analyzer over one TCP conversation's two reassembled byte
/// streams (bytes, gaps, FIN and RST per direction, through
/// [`StreamSink`]).
pub trait StreamAnalyzer: StreamSink {
    /// The conversation ends (or the capture does): report what is open.
    fn finish(&mut self, ts: Timestamp);
    /// Hands what was completed so far to `emit`. Called after every
    /// packet of the conversation, so it must be cheap when there is
    /// nothing to hand over.
    fn drain(&mut self, cx: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError>;
    fn tally(&self) -> Tally;
    /// What TLS was seen on the conversation (the TLS analyzer's summary;
    /// an analyzer that runs TLS inside something else forwards it).
    fn tls(&self) -> Option<Arc<TlsSummary>> {
        None
    }
}

/// A protocol analyzer over one UDP conversation's datagrams.
pub trait DatagramAnalyzer {
    fn datagram(&mut self, dir: Dir, ts: Timestamp, frame: u64, payload: &[u8]);
    /// The conversation ends (or the capture does).
    fn finish(&mut self, _ts: Timestamp) {}
    /// As [`StreamAnalyzer::drain`].
    fn drain(&mut self, cx: &Context<'_>, emit: &mut dyn Emit) -> Result<(), OutputError>;
    fn tally(&self) -> Tally;
}
