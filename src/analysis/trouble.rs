//! `TroubleLog`: a TCP conversation's recent transport trouble
//! (retransmissions, gaps, zero windows), kept whatever protocol analyzer
//! runs on it, so a record can be judged by the facts of its own time
//! window.

use std::collections::VecDeque;

use crate::flow::{Dir, PacketInfo};
use crate::http::{ExchangeFacts, TcpFacts};
use crate::pcap::decode::tcp_flags;
use crate::time::Timestamp;

/// How many TCP trouble events a conversation remembers. Older ones are
/// forgotten: they belong to records long finished.
const MAX_EVENTS: usize = 4096;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Trouble {
    Retransmission,
    Gap,
    ZeroWindow,
}

#[derive(Clone, Copy, Debug)]
struct Event {
    ts: Timestamp,
    /// Direction of the packets' sender.
    dir: Dir,
    kind: Trouble,
}

/// The last [`MAX_EVENTS`] trouble events of one TCP conversation.
#[derive(Debug, Default)]
pub struct TroubleLog {
    events: VecDeque<Event>,
}

impl TroubleLog {
    pub const fn new() -> TroubleLog {
        TroubleLog {
            events: VecDeque::new(),
        }
    }

    fn note(&mut self, ts: Timestamp, dir: Dir, kind: Trouble) {
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(Event { ts, dir, kind });
    }

    /// Records the trouble a packet shows.
    pub fn packet(&mut self, packet: &PacketInfo) {
        let Some(ts) = packet.ts else { return };
        if packet.retransmission {
            self.note(ts, packet.dir, Trouble::Retransmission);
        }
        let rst = packet.tcp_flags & tcp_flags::RST != 0;
        let syn = packet.tcp_flags & tcp_flags::SYN != 0;
        if packet.window == 0 && !rst && !syn {
            self.note(ts, packet.dir, Trouble::ZeroWindow);
        }
    }

    /// Records a hole in the stream going `dir`.
    pub fn gap(&mut self, ts: Timestamp, dir: Dir) {
        self.note(ts, dir, Trouble::Gap);
    }

    /// The trouble of each side between `start` and `end` (inclusive);
    /// `client_dir` is the direction the client's packets go.
    pub fn facts(&self, start: Timestamp, end: Timestamp, client_dir: Dir) -> ExchangeFacts {
        let mut facts = ExchangeFacts::default();
        for e in self.events.iter().filter(|e| e.ts >= start && e.ts <= end) {
            let side: &mut TcpFacts = if e.dir == client_dir {
                &mut facts.client
            } else {
                &mut facts.server
            };
            let counter = match e.kind {
                Trouble::Retransmission => &mut side.retransmissions,
                Trouble::Gap => &mut side.gaps,
                Trouble::ZeroWindow => &mut side.zero_windows,
            };
            *counter = counter.saturating_add(1);
        }
        facts
    }
}
