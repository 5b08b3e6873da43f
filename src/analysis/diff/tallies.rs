//! One tally of a capture's rows as they come: its endpoints (and their
//! timeline) and the comparison's [`Digest`]. The store counts the rows
//! into one as it stores them, `tracedeck diff` as it analyzes each
//! capture, [`Capture::of_rows`](super::Capture::of_rows) over rows at
//! hand.

use super::digest::{Digest, Digester};
use crate::analysis::endpoints::{EndpointSet, GroupId, Options, Tally, Timeline};
use crate::analysis::report::{ConversationRow, ExchangeRow};
use crate::analysis::{HttpExchange, Output, OutputError};
use crate::flow::Conversation;

/// The endpoints, timeline and digest of the rows counted so far.
#[derive(Debug, Default)]
pub struct Tallies {
    endpoints: Tally,
    digest: Digester,
}

/// What [`Tallies::finish`] makes.
#[derive(Debug, Default)]
pub struct Tallied {
    pub endpoints: EndpointSet,
    /// Empty when made [`Tallies::without_timeline`].
    pub timeline: Timeline,
    pub digest: Digest,
}

impl Tallies {
    pub fn new(options: Options) -> Tallies {
        Tallies {
            endpoints: Tally::new(options),
            digest: Digester::default(),
        }
    }

    /// Without the timeline (the comparison has no use for it): no
    /// sample is kept per exchange.
    pub fn without_timeline(options: Options) -> Tallies {
        Tallies {
            endpoints: Tally::without_timeline(options),
            digest: Digester::default(),
        }
    }

    /// Counts an exchange; answers the endpoint group it went to
    /// ([`EndpointSet::endpoint_of_group`]).
    pub fn exchange(&mut self, row: &ExchangeRow) -> GroupId {
        self.digest.exchange(row);
        self.endpoints.add(row)
    }

    pub fn conversation(&mut self, row: &ConversationRow) {
        self.digest.conversation(row);
    }

    pub fn finish(self) -> Tallied {
        let (endpoints, timeline) = self.endpoints.finish();
        Tallied {
            endpoints,
            timeline,
            digest: self.digest.finish(),
        }
    }

    /// The tally of all of a capture's rows at once.
    pub fn of(
        exchanges: &[ExchangeRow],
        conversations: &[ConversationRow],
        options: &Options,
    ) -> Tallied {
        let mut t = Tallies::without_timeline(options.clone());
        exchanges.iter().for_each(|r| {
            t.exchange(r);
        });
        conversations.iter().for_each(|r| t.conversation(r));
        t.finish()
    }
}

/// Counts an analysis' rows as they come (the rows are not kept).
impl Output for Tallies {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError> {
        Tallies::conversation(self, &ConversationRow::from(conv));
        Ok(())
    }

    fn exchange(&mut self, exchange: HttpExchange) -> Result<(), OutputError> {
        Tallies::exchange(self, &ExchangeRow::from(exchange));
        Ok(())
    }
}
