//! What a comparison needs of one capture besides its endpoints, counted
//! as the rows come: exchanges per status code, and per server address its
//! failed conversations and the network's share. The analysis stores one
//! per capture, so a comparison reads two small documents instead of every
//! row of both captures.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::failures::Failed;
use super::network::NetworkSide;
use crate::analysis::endpoints::Latencies;
use crate::analysis::report::{ConversationRow, ExchangeRow};
use crate::flow::{Proto, State};

/// One capture's statuses and servers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Digest {
    /// Every exchange.
    pub exchanges: u64,
    /// Exchanges per final status (`None`: no response), by status.
    pub statuses: Vec<(Option<u16>, u64)>,
    /// Servers with a failed conversation, by address.
    pub failed: Vec<(SocketAddr, Failed)>,
    /// Servers of TCP conversations, by address.
    pub network: Vec<(SocketAddr, NetworkSide)>,
}

/// One server's TCP conversations so far.
#[derive(Debug, Default)]
struct NetworkAcc {
    conversations: u64,
    rtts: Latencies,
    retransmissions: u64,
    packets: u64,
}

/// Counts rows into a [`Digest`].
#[derive(Debug, Default)]
pub struct Digester {
    exchanges: u64,
    statuses: BTreeMap<Option<u16>, u64>,
    failed: BTreeMap<SocketAddr, Failed>,
    network: BTreeMap<SocketAddr, NetworkAcc>,
}

impl Digester {
    pub fn exchange(&mut self, row: &ExchangeRow) {
        self.exchanges += 1;
        *self.statuses.entry(row.status).or_default() += 1;
    }

    pub fn conversation(&mut self, row: &ConversationRow) {
        if matches!(row.state, State::Refused | State::Reset | State::SynSent) {
            let f = self.failed.entry(row.server).or_default();
            match row.state {
                State::Refused => f.refused += 1,
                State::Reset => f.reset += 1,
                _ => f.no_response += 1,
            }
        }
        if row.proto == Proto::Tcp {
            let a = self.network.entry(row.server).or_default();
            a.conversations += 1;
            if let Some(rtt) = row.handshake_rtt {
                a.rtts.push(rtt);
            }
            a.retransmissions += row.retransmissions;
            a.packets += row.packets();
        }
    }

    pub fn finish(self) -> Digest {
        let network = self
            .network
            .into_iter()
            .map(|(server, mut a)| {
                let rtt = a.rtts.percentiles();
                let side = NetworkSide {
                    conversations: a.conversations,
                    rtt_p50: rtt.p50,
                    rtt_p90: rtt.p90,
                    retransmission_rate: if a.packets == 0 {
                        0.0
                    } else {
                        a.retransmissions as f64 / a.packets as f64
                    },
                };
                (server, side)
            })
            .collect();
        Digest {
            exchanges: self.exchanges,
            statuses: self.statuses.into_iter().collect(),
            failed: self.failed.into_iter().collect(),
            network,
        }
    }
}
