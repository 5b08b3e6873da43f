//! Reading and decoding captures: pcap and pcapng containers (optionally
//! gzip-compressed), link layers, IPv4/IPv6, TCP and UDP.
//!
//! Pure functions over bytes: this module knows nothing of HTTP or the web.

mod frame;

pub use frame::{Frame, LinkType};
