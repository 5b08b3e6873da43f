//! `ConnAnalyzer`: what runs on each TCP conversation's reassembled
//! streams. It forwards the streams to the HTTP parser and keeps a short
//! log of TCP trouble (retransmissions, gaps, zero windows) so each
//! finished exchange gets a verdict from the facts of its own time window.

use std::collections::VecDeque;
use std::net::SocketAddr;

use serde::Serialize;

use crate::flow::{Conversation, Dir, PacketInfo, StreamSink};
use crate::http::{self, Exchange, ExchangeFacts, TcpFacts, Verdict};
use crate::time::Timestamp;

/// How many TCP trouble events a conversation remembers. Older ones are
/// forgotten: they belong to exchanges long finished.
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

/// One HTTP exchange with its place in the capture and its verdict.
#[derive(Clone, Debug, Serialize)]
pub struct HttpExchange {
    /// Id of the conversation that carried it.
    pub conversation: u64,
    /// The side that sent the request.
    pub client: SocketAddr,
    pub server: SocketAddr,
    pub exchange: Exchange,
    pub facts: ExchangeFacts,
    pub verdict: Verdict,
}

/// The per-conversation analyzer.
pub struct ConnAnalyzer {
    http: http::Parser<Vec<Exchange>>,
    events: VecDeque<Event>,
    /// Exchanges handed out so far.
    pub exchanges: u64,
    /// Exchanges whose request went from the flow's "server" to its
    /// "client": the port heuristic guessed the roles wrong.
    pub reversed: u64,
}

impl Default for ConnAnalyzer {
    fn default() -> Self {
        ConnAnalyzer {
            http: http::Parser::new(Vec::new()),
            events: VecDeque::new(),
            exchanges: 0,
            reversed: 0,
        }
    }
}

impl ConnAnalyzer {
    fn note(&mut self, ts: Timestamp, dir: Dir, kind: Trouble) {
        if self.events.len() == MAX_EVENTS {
            self.events.pop_front();
        }
        self.events.push_back(Event { ts, dir, kind });
    }

    /// Records the TCP trouble a packet shows.
    pub fn packet(&mut self, packet: &PacketInfo) {
        let Some(ts) = packet.ts else { return };
        if packet.retransmission {
            self.note(ts, packet.dir, Trouble::Retransmission);
        }
        let rst = packet.tcp_flags & crate::pcap::decode::tcp_flags::RST != 0;
        let syn = packet.tcp_flags & crate::pcap::decode::tcp_flags::SYN != 0;
        if packet.window == 0 && !rst && !syn {
            self.note(ts, packet.dir, Trouble::ZeroWindow);
        }
    }

    /// Ends the conversation for the HTTP parser (what is still open is
    /// reported as unanswered or cut).
    pub fn finish(&mut self, ts: Timestamp) {
        self.http.finish(ts);
    }

    /// Hands every exchange completed so far to `emit`.
    pub fn drain(&mut self, conv: &Conversation, emit: &mut dyn FnMut(HttpExchange)) {
        if self.http.sink().is_empty() {
            return;
        }
        let done: Vec<Exchange> = self.http.sink_mut().drain(..).collect();
        for exchange in done {
            let (client, server) = match exchange.request_dir {
                Dir::ToServer => (conv.client, conv.server),
                Dir::ToClient => {
                    self.reversed += 1;
                    (conv.server, conv.client)
                }
            };
            let facts = self.facts(&exchange);
            let verdict = http::judge(&exchange, &facts);
            self.exchanges += 1;
            emit(HttpExchange {
                conversation: conv.id,
                client,
                server,
                exchange,
                facts,
                verdict,
            });
        }
    }

    /// TCP trouble of each side within the exchange's time window.
    fn facts(&self, ex: &Exchange) -> ExchangeFacts {
        let start = ex.request_start.or(ex.response_start);
        let end = ex.response_end.or(ex.end.map(|e| e.ts)).or(ex.request_end);
        let mut facts = ExchangeFacts::default();
        let (Some(start), Some(end)) = (start, end) else {
            return facts;
        };
        for e in self.events.iter().filter(|e| e.ts >= start && e.ts <= end) {
            let side: &mut TcpFacts = if e.dir == ex.request_dir {
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

impl StreamSink for ConnAnalyzer {
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        self.http.data(dir, ts, frame, bytes);
    }

    fn gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64) {
        self.note(ts, dir, Trouble::Gap);
        self.http.gap(dir, ts, frame, len);
    }

    fn fin(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        self.http.fin(dir, ts, frame);
    }

    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        self.http.reset(dir, ts, frame);
    }
}
