//! The typed records protocol analyzers emit, and the inner packets a
//! tunnel analyzer hands back. Adding a record type: a variant here, an
//! [`Output`] method (with a default that ignores it) and its arm in
//! [`Record::deliver`].

use crate::pcap::LinkType;
use crate::time::Timestamp;

use super::http1::HttpExchange;
use super::report::DnsRow;
use super::{Output, OutputError};

/// One finished finding of an analyzer.
// Records pass one at a time from an analyzer to the output, never kept in
// bulk: boxing the large HTTP variant would cost an allocation per exchange.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug)]
pub enum Record {
    /// An HTTP/1.x request and its response.
    Http(HttpExchange),
    /// A DNS query and its response.
    Dns(DnsRow),
}

impl Record {
    /// Hands the record to the output method of its type.
    pub fn deliver(self, out: &mut dyn Output) -> Result<(), OutputError> {
        match self {
            Record::Http(exchange) => out.exchange(exchange),
            Record::Dns(lookup) => out.dns(lookup),
        }
    }
}

/// A packet found inside a conversation's payload (a tunnel's), to be
/// decoded from its link header like a captured frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InnerPacket {
    /// How `data` starts (Ethernet for VXLAN, raw IP for GRE or IP-in-IP).
    pub link_type: LinkType,
    /// Capture time and 0-based index of the frame that carried it.
    pub ts: Timestamp,
    pub frame: u64,
    pub data: Vec<u8>,
}
