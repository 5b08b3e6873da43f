//! `Frame`: one capture record as every reader (files and the live agent)
//! hands it downstream.

use crate::time::Timestamp;

/// A link-layer header type: the LINKTYPE_/DLT number from the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LinkType(pub u32);

impl LinkType {
    pub const NULL: LinkType = LinkType(0);
    pub const ETHERNET: LinkType = LinkType(1);
    /// DLT_RAW as some BSDs number it.
    pub const RAW_12: LinkType = LinkType(12);
    /// DLT_RAW on OpenBSD.
    pub const RAW_14: LinkType = LinkType(14);
    pub const RAW: LinkType = LinkType(101);
    pub const LOOP: LinkType = LinkType(108);
    pub const LINUX_SLL: LinkType = LinkType(113);
    pub const IPV4: LinkType = LinkType(228);
    pub const IPV6: LinkType = LinkType(229);
    pub const NFLOG: LinkType = LinkType(239);
    pub const LINUX_SLL2: LinkType = LinkType(276);
}

impl LinkType {
    /// A short human name, as tshark's capinfos would say it.
    pub fn name(self) -> &'static str {
        match self {
            LinkType::NULL => "BSD loopback",
            LinkType::ETHERNET => "Ethernet",
            LinkType::RAW_12 | LinkType::RAW_14 | LinkType::RAW => "raw IP",
            LinkType::LOOP => "OpenBSD loopback",
            LinkType::LINUX_SLL => "Linux cooked v1",
            LinkType::IPV4 => "raw IPv4",
            LinkType::IPV6 => "raw IPv6",
            LinkType::NFLOG => "Linux NFLOG",
            LinkType::LINUX_SLL2 => "Linux cooked v2",
            LinkType(127) => "802.11 radiotap",
            LinkType(9) => "PPP",
            LinkType(50) => "PPP in HDLC framing",
            LinkType(104) => "Cisco HDLC",
            LinkType(219) => "MPLS",
            _ => "unsupported",
        }
    }
}

/// One packet record, borrowed from the reader's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// 0-based record number among packet records, in file order.
    pub index: u64,
    /// Byte offset of the record's block/header in the (decompressed) file,
    /// so a view can read the bytes back later.
    pub offset: u64,
    /// `None` for records that carry no time (pcapng Simple Packet Blocks).
    pub ts: Option<Timestamp>,
    pub link_type: LinkType,
    /// Interface number (pcapng IDB index within its section; 0 for pcap).
    pub interface: u32,
    /// Length of the packet on the wire.
    pub orig_len: u32,
    /// The captured bytes (`caplen` of them), starting at the link header.
    pub data: &'a [u8],
}
