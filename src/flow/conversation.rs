//! The conversation table: TCP and UDP flows keyed by their 5-tuple, with
//! tshark's counting rules (frames and original-length bytes per
//! direction, a new conversation when a SYN reuses a closed 4-tuple).

use std::net::SocketAddr;

use serde::Serialize;

use super::reassembly::HalfStats;
use super::stream::Dir;
use crate::pcap::tunnel;
use crate::time::{Span, Timestamp};

/// Transport protocol of a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }

    pub fn parse(s: &str) -> Option<Proto> {
        [Proto::Tcp, Proto::Udp]
            .into_iter()
            .find(|p| p.as_str() == s)
    }
}

impl std::fmt::Display for Proto {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a TCP conversation ended, as far as the capture shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// FIN seen from both sides.
    Closed,
    /// FIN from one side only.
    HalfClosed,
    /// A RST ended it.
    Reset,
    /// A SYN answered by a RST: nobody listened.
    Refused,
    /// A SYN with no answer in the capture.
    SynSent,
    /// Handshake seen, no FIN or RST: still open when the capture ended.
    Open,
    /// The capture started after the handshake and saw no end.
    NoSyn,
    /// UDP has no connection state.
    Stateless,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Closed => "closed",
            State::HalfClosed => "half-closed",
            State::Reset => "reset",
            State::Refused => "refused",
            State::SynSent => "syn-sent",
            State::Open => "open",
            State::NoSyn => "no-syn",
            State::Stateless => "stateless",
        }
    }

    pub fn parse(s: &str) -> Option<State> {
        [
            State::Closed,
            State::HalfClosed,
            State::Reset,
            State::Refused,
            State::SynSent,
            State::Open,
            State::NoSyn,
            State::Stateless,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Per-direction counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct DirCounters {
    pub packets: u64,
    /// Sum of original frame lengths.
    pub bytes: u64,
    /// Payload bytes as the IP header states them, retransmissions included
    /// (tshark's sum of `tcp.len`).
    pub payload_wire: u64,
    pub syn: u32,
    pub fin: u32,
    pub rst: u32,
    /// Segments advertising a zero receive window (RST excluded).
    pub zero_windows: u32,
}

/// One row of the conversation table.
#[derive(Clone, Debug, Serialize)]
pub struct Conversation {
    /// Order of the conversation's first packet (tshark's stream index).
    pub id: u64,
    pub proto: Proto,
    pub client: SocketAddr,
    pub server: SocketAddr,
    /// Whether `client` is known from the handshake (else: port heuristic).
    pub roles_from_handshake: bool,
    pub start: Option<Timestamp>,
    pub end: Option<Timestamp>,
    pub first_frame: u64,
    pub last_frame: u64,
    /// Indexed by [`Dir::index`]: 0 client→server, 1 server→client.
    pub dirs: [DirCounters; 2],
    /// Reassembly figures per direction (TCP only).
    pub streams: [HalfStats; 2],
    /// SYN → the client's ACK of the SYN-ACK (tshark's `tcp.analysis.initial_rtt`).
    pub handshake_rtt: Option<Span>,
    pub state: State,
    /// What the protocol analyzer that ran on the payload found.
    pub app: AppFacts,
    /// The tunnels that carried it (its first packet's), outermost first;
    /// its addresses are the innermost headers', as tshark keys it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tunnel: Option<tunnel::Path>,
}

/// A conversation's application-layer facts, from the protocol analyzer
/// that ran on it (see docs/adding-a-protocol.md).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct AppFacts {
    /// The protocol recognised (`"http"`), `"unknown"` when the payload
    /// matched no analyzer, `None` when no analyzer ran (no payload, or a
    /// UDP flow no analyzer claimed).
    pub protocol: Option<&'static str>,
    /// Records the analyzer emitted (HTTP: exchanges).
    pub records: u64,
    /// Of those, the records started by `server` (HTTP: requests that went
    /// from `server` to `client`): all of them means the roles were guessed
    /// wrong.
    pub reversed: u64,
    /// What the TLS analyzer found, when TLS ran on the conversation.
    #[serde(skip)]
    pub tls: Option<std::sync::Arc<crate::analysis::tls::TlsSummary>>,
}

impl Conversation {
    /// A conversation before its first packet is counted: TCP starts as
    /// `no-syn` (the table moves it on as it sees the handshake), UDP is
    /// `stateless`.
    pub fn new(
        id: u64,
        proto: Proto,
        client: SocketAddr,
        server: SocketAddr,
        roles_from_handshake: bool,
    ) -> Conversation {
        Conversation {
            id,
            proto,
            client,
            server,
            roles_from_handshake,
            start: None,
            end: None,
            first_frame: 0,
            last_frame: 0,
            dirs: [DirCounters::default(); 2],
            streams: [HalfStats::default(); 2],
            handshake_rtt: None,
            state: if proto == Proto::Udp {
                State::Stateless
            } else {
                State::NoSyn
            },
            app: AppFacts::default(),
            tunnel: None,
        }
    }

    pub fn duration(&self) -> Span {
        match (self.start, self.end) {
            (Some(s), Some(e)) => e.since(s),
            _ => Span::ZERO,
        }
    }

    /// Exchanges client and server (when content shows the guess was wrong).
    pub fn swap_roles(&mut self) {
        self.app.reversed = self.app.records.saturating_sub(self.app.reversed);
        std::mem::swap(&mut self.client, &mut self.server);
        self.dirs.swap(0, 1);
        self.streams.swap(0, 1);
    }

    pub fn retransmissions(&self) -> u64 {
        self.streams[0].retransmissions + self.streams[1].retransmissions
    }

    pub fn packets(&self) -> u64 {
        self.dirs[0].packets + self.dirs[1].packets
    }

    pub fn bytes(&self) -> u64 {
        self.dirs[0].bytes + self.dirs[1].bytes
    }

    /// Unique payload bytes one way: delivered once by reassembly for TCP,
    /// every datagram's payload for UDP.
    pub fn payload(&self, dir: Dir) -> u64 {
        match self.proto {
            Proto::Tcp => self.streams[dir.index()].delivered,
            Proto::Udp => self.dirs[dir.index()].payload_wire,
        }
    }
}

/// Ports that are servers whatever the other side's port (a mid-stream
/// capture has no SYN to tell).
const SERVER_PORTS: &[u16] = &[
    80, 443, 8080, 8000, 8008, 8443, 8888, 3000, 5000, 9000, 9200, 5432, 3306, 6379, 11211, 27017,
    2375, 53, 123, 161, 514, 1723, 5353, 4000,
];

/// Guesses which endpoint is the server when no handshake says so: a
/// well-known service port, else a port under 1024, else the lower port;
/// on a tie, the destination of the first packet.
pub fn guess_server(first_src: SocketAddr, first_dst: SocketAddr) -> bool {
    let (s, d) = (first_src.port(), first_dst.port());
    let known = |p: u16| SERVER_PORTS.contains(&p);
    match (known(s), known(d)) {
        (true, false) => true,
        (false, true) => false,
        _ => match (s < 1024, d < 1024) {
            (true, false) => true,
            (false, true) => false,
            _ => s < d,
        },
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn server_guess() {
        let a: SocketAddr = "10.0.0.1:53422".parse().unwrap();
        let b: SocketAddr = "10.0.0.2:8080".parse().unwrap();
        assert!(!guess_server(a, b));
        assert!(guess_server(b, a));
        let c: SocketAddr = "10.0.0.3:40000".parse().unwrap();
        let d: SocketAddr = "10.0.0.4:50000".parse().unwrap();
        assert!(guess_server(c, d));
        assert_eq!(State::parse("half-closed"), Some(State::HalfClosed));
    }
}
