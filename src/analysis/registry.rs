//! The registry: the static lists of protocol analyzers, each with the
//! probe that claims a conversation for it and its constructor (in the
//! manner of rusticata's plugin registry). Order matters: on a tie the
//! first listed wins.

use crate::flow::{Conversation, Dir};

use super::protocol::{DatagramAnalyzer, Probe, StreamAnalyzer};
use super::{dns, http1, http2, tls};

/// A TCP stream analyzer.
#[derive(Debug)]
pub struct StreamEntry {
    /// Shown as the conversation's protocol once the analyzer confirmed it.
    pub name: &'static str,
    /// Looks at the first bytes of one direction of a stream. Called again
    /// with more bytes while it answers `NeedMore`.
    pub probe: fn(Dir, &[u8]) -> Probe,
    pub new: fn() -> Box<dyn StreamAnalyzer>,
}

/// A UDP datagram analyzer.
#[derive(Debug)]
pub struct DatagramEntry {
    pub name: &'static str,
    /// Looks at a UDP conversation's first datagram (its ports included):
    /// `true` claims the flow for this analyzer.
    pub probe: fn(&Conversation, Dir, &[u8]) -> bool,
    pub new: fn() -> Box<dyn DatagramAnalyzer>,
}

/// The analyzers an analysis may run.
#[derive(Debug)]
pub struct Registry {
    pub streams: &'static [StreamEntry],
    pub datagrams: &'static [DatagramEntry],
}

/// What `tracedeck analyze` runs.
pub static BUILTIN: Registry = Registry {
    streams: &[
        StreamEntry {
            name: http1::NAME,
            probe: http1::probe,
            new: http1::new,
        },
        // After HTTP/1, which keeps the streams no probe decided (a first
        // gap); HTTP/1's probe never says yes to the client preface or to
        // binary frames.
        StreamEntry {
            name: http2::NAME,
            probe: http2::probe,
            new: http2::new,
        },
        StreamEntry {
            name: tls::NAME,
            probe: tls::probe,
            new: tls::new,
        },
        StreamEntry {
            name: dns::NAME,
            probe: dns::probe_stream,
            new: dns::new_stream,
        },
    ],
    datagrams: &[DatagramEntry {
        name: dns::NAME,
        probe: dns::probe_datagram,
        new: dns::new_datagram,
    }],
};

/// Most stream analyzers a registry may hold (a probe's answers are kept
/// in a bit set).
pub const MAX_STREAM_ANALYZERS: usize = 32;

impl Registry {
    /// The stream analyzer registered as `name` (an inner protocol chosen
    /// by a name, e.g. TLS's ALPN).
    pub fn stream(&self, name: &str) -> Option<&'static StreamEntry> {
        self.streams.iter().find(|e| e.name == name)
    }
}
