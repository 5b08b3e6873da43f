//! Reading and decoding captures: pcap and pcapng containers (optionally
//! gzip-compressed), link layers, IPv4/IPv6, TCP and UDP.
//!
//! Pure functions over bytes: this module knows nothing of HTTP or the web.

pub mod at_offset;
pub mod decode;
pub mod defrag;
mod feed;
mod frame;
pub mod link;
mod reader;
pub mod tunnel;
pub mod wire;

pub use decode::{decode, DecodeIssue, Packet, Transport};
pub use frame::{Frame, LinkType};
pub use reader::{format_of, Error, Format, Reader, Warning, MAX_RECORD_LEN};
