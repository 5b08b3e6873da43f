//! `ConnAnalyzer`: what runs on one conversation's payload. For TCP, the
//! [`Selector`] (the stream analyzer chosen by content) and the
//! conversation's [`TroubleLog`], shared by whichever analyzer runs; for
//! UDP, the datagram analyzer that claimed the flow.

use crate::flow::{AppFacts, Conversation, Dir, PacketInfo, StreamSink};
use crate::time::Timestamp;

use super::protocol::{Context, DatagramAnalyzer, Emit, StreamAnalyzer, Tally};
use super::registry::Registry;
use super::select::{Selector, UNKNOWN};
use super::tls::KeyLog;
use super::trouble::TroubleLog;
use super::OutputError;

/// A UDP conversation has no TCP trouble.
static NO_TROUBLE: TroubleLog = TroubleLog::new();

/// The per-conversation analyzer.
pub struct ConnAnalyzer {
    app: App,
    /// Input arrived since the last `drain`: most packets (bare ACKs)
    /// bring none, and then draining costs one test.
    fed: bool,
}

enum App {
    Stream {
        trouble: TroubleLog,
        selector: Selector,
    },
    Datagram {
        name: &'static str,
        analyzer: Box<dyn DatagramAnalyzer>,
    },
}

impl ConnAnalyzer {
    /// For a TCP conversation: its analyzer is chosen by the probes.
    pub fn stream(registry: &'static Registry) -> ConnAnalyzer {
        ConnAnalyzer {
            app: App::Stream {
                trouble: TroubleLog::default(),
                selector: Selector::probing(registry),
            },
            fed: false,
        }
    }

    /// For a UDP conversation, at its first datagram: the first datagram
    /// analyzer whose probe claims it, if any.
    pub fn claim_datagrams(
        registry: &'static Registry,
        conv: &Conversation,
        dir: Dir,
        payload: &[u8],
    ) -> Option<ConnAnalyzer> {
        let entry = registry
            .datagrams
            .iter()
            .find(|e| (e.probe)(conv, dir, payload))?;
        Some(ConnAnalyzer {
            app: App::Datagram {
                name: entry.name,
                analyzer: (entry.new)(),
            },
            fed: false,
        })
    }

    /// One UDP datagram's payload.
    pub fn datagram(&mut self, dir: Dir, ts: Timestamp, frame: u64, payload: &[u8]) {
        self.fed = true;
        if let App::Datagram { analyzer, .. } = &mut self.app {
            analyzer.datagram(dir, ts, frame, payload);
        }
    }

    /// Records the TCP trouble a packet shows.
    #[inline]
    pub fn packet(&mut self, packet: &PacketInfo) {
        if let App::Stream { trouble, .. } = &mut self.app {
            trouble.packet(packet);
        }
    }

    /// The conversation ends for its analyzer (what is still open is
    /// reported as unanswered or cut).
    pub fn finish(&mut self, ts: Timestamp) {
        self.fed = true;
        match &mut self.app {
            App::Stream { selector, .. } => selector.finish(ts),
            App::Datagram { analyzer, .. } => analyzer.finish(ts),
        }
    }

    /// Hands every record completed so far to `emit`.
    #[inline]
    pub fn drain(
        &mut self,
        conv: &Conversation,
        keys: &KeyLog,
        emit: &mut dyn Emit,
    ) -> Result<(), OutputError> {
        if !std::mem::take(&mut self.fed) {
            return Ok(());
        }
        match &mut self.app {
            App::Stream { trouble, selector } => {
                let cx = Context {
                    conv,
                    trouble: &*trouble,
                    keys,
                };
                selector.drain(&cx, emit)
            }
            App::Datagram { analyzer, .. } => {
                let cx = Context {
                    conv,
                    trouble: &NO_TROUBLE,
                    keys,
                };
                analyzer.drain(&cx, emit)
            }
        }
    }

    /// What the conversation's analyzer found, for [`Conversation::app`].
    pub fn facts(&self) -> AppFacts {
        let tls = match &self.app {
            App::Stream { selector, .. } => selector.tls(),
            App::Datagram { .. } => None,
        };
        let (
            protocol,
            Tally {
                records, reversed, ..
            },
        ) = match &self.app {
            App::Stream { selector, .. } => (selector.protocol(), selector.tally()),
            App::Datagram { name, analyzer } => {
                let tally = analyzer.tally();
                let found = tally.confirmed || tally.records > 0;
                (if found { *name } else { UNKNOWN }, tally)
            }
        };
        AppFacts {
            protocol: Some(protocol),
            records,
            reversed,
            tls,
        }
    }
}

impl StreamSink for ConnAnalyzer {
    #[inline]
    fn data(&mut self, dir: Dir, ts: Timestamp, frame: u64, bytes: &[u8]) {
        self.fed = true;
        if let App::Stream { selector, .. } = &mut self.app {
            selector.data(dir, ts, frame, bytes);
        }
    }

    fn gap(&mut self, dir: Dir, ts: Timestamp, frame: u64, len: u64) {
        self.fed = true;
        if let App::Stream { trouble, selector } = &mut self.app {
            trouble.gap(ts, dir);
            selector.gap(dir, ts, frame, len);
        }
    }

    fn fin(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        self.fed = true;
        if let App::Stream { selector, .. } = &mut self.app {
            selector.fin(dir, ts, frame);
        }
    }

    fn reset(&mut self, dir: Dir, ts: Timestamp, frame: u64) {
        self.fed = true;
        if let App::Stream { selector, .. } = &mut self.app {
            selector.reset(dir, ts, frame);
        }
    }

    fn held(&mut self, dir: Dir, since: Timestamp, ts: Timestamp) {
        if let App::Stream { selector, .. } = &mut self.app {
            selector.held(dir, since, ts);
        }
    }
}
