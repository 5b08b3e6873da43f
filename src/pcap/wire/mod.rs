//! Checked views over header bytes: one way to read a field of a link,
//! network, transport or capture-file header, and one error when the bytes
//! are not there or contradict themselves.
//!
//! Each header is a `Packet<T: AsRef<[u8]>>` (or a header-named type) that
//! wraps a buffer without copying it. `new_unchecked` wraps, `check_len`
//! validates, and `new_checked` does both. Once `check_len` has passed, no
//! accessor can panic: every range an accessor reads lies inside what
//! `check_len` proved is there. Field positions are named byte ranges in a
//! private `mod field` per header, so no accessor carries a bare number.
//!
//! Unlike a sending stack, a capture holds headers cut by the snaplen: a
//! view checks what its accessors need, and the decoders decide how much of
//! a cut packet still counts (see "Fidelity" in the README).

use std::fmt;
use std::ops::Range;

/// Declares a view: a struct wrapping a buffer (plus any fixed context the
/// fields need, such as a byte order), with `new_unchecked` and
/// `new_checked`. The view's own `check_len` says what must be there.
macro_rules! view {
    ($(#[$doc:meta])* $name:ident $(, $extra:ident: $ty:ty)?) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
            $($extra: $ty,)?
        }

        impl<T: AsRef<[u8]>> $name<T> {
            /// Wraps `buffer` without checking it: call `check_len` before
            /// any accessor.
            #[inline]
            pub const fn new_unchecked(buffer: T $(, $extra: $ty)?) -> $name<T> {
                $name { buffer $(, $extra)? }
            }

            /// Wraps `buffer` and checks it.
            #[inline]
            pub fn new_checked(buffer: T $(, $extra: $ty)?) -> $crate::pcap::wire::Result<$name<T>> {
                let view = $name::new_unchecked(buffer $(, $extra)?);
                view.check_len()?;
                Ok(view)
            }
        }
    };
}

pub mod erspan;
pub mod etag;
pub mod ethernet;
pub mod geneve;
pub mod gre;
pub mod gtp;
pub mod ieee80211;
pub mod ipv4;
pub mod ipv4_options;
pub mod ipv6;
pub mod loopback;
pub mod mpls;
pub mod nflog;
pub mod nsh;
pub mod ppp;
pub mod pppoe;
pub mod savefile;
pub mod sll;
pub mod tcp;
pub mod udp;
pub mod vxlan;

/// A field's byte range inside its header.
pub type Field = Range<usize>;

/// Which header a reading error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Header {
    Ethernet,
    Vlan,
    Sll,
    Sll2,
    Loopback,
    Nflog,
    NflogTlv,
    Radiotap,
    Ieee80211,
    LlcSnap,
    Ppp,
    CiscoHdlc,
    Pppoe,
    Mpls,
    ETag,
    Nsh,
    Ipv4,
    Ipv6,
    Ipv6Extension,
    Tcp,
    Udp,
    Gre,
    Erspan,
    Vxlan,
    Geneve,
    Gtp,
    PcapFile,
    PcapRecord,
    PcapngBlock,
}

impl Header {
    /// Whether the header belongs to the link layer (below IP).
    pub fn is_link(self) -> bool {
        !matches!(
            self,
            Header::Ipv4
                | Header::Ipv6
                | Header::Ipv6Extension
                | Header::Tcp
                | Header::Udp
                | Header::Gre
                | Header::Erspan
                | Header::Vxlan
                | Header::Geneve
                | Header::Gtp
                | Header::PcapFile
                | Header::PcapRecord
                | Header::PcapngBlock
        )
    }

    /// Whether the header is a transport header (TCP, UDP).
    pub fn is_transport(self) -> bool {
        matches!(self, Header::Tcp | Header::Udp)
    }

    fn name(self) -> &'static str {
        match self {
            Header::Ethernet => "Ethernet",
            Header::Vlan => "802.1Q tag",
            Header::Sll => "Linux cooked (SLL)",
            Header::Sll2 => "Linux cooked v2 (SLL2)",
            Header::Loopback => "BSD loopback",
            Header::Nflog => "NFLOG",
            Header::NflogTlv => "NFLOG TLV",
            Header::Radiotap => "radiotap",
            Header::Ieee80211 => "802.11",
            Header::LlcSnap => "LLC/SNAP",
            Header::Ppp => "PPP",
            Header::CiscoHdlc => "Cisco HDLC",
            Header::Pppoe => "PPPoE",
            Header::Mpls => "MPLS",
            Header::ETag => "802.1BR E-Tag",
            Header::Nsh => "NSH",
            Header::Ipv4 => "IPv4",
            Header::Ipv6 => "IPv6",
            Header::Ipv6Extension => "IPv6 extension",
            Header::Tcp => "TCP",
            Header::Udp => "UDP",
            Header::Gre => "GRE",
            Header::Erspan => "ERSPAN",
            Header::Vxlan => "VXLAN",
            Header::Geneve => "Geneve",
            Header::Gtp => "GTP-U",
            Header::PcapFile => "pcap file",
            Header::PcapRecord => "pcap record",
            Header::PcapngBlock => "pcapng block",
        }
    }
}

/// What is wrong with a header's bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The buffer ends before the `needed` bytes the header takes.
    Truncated { needed: usize, available: usize },
    /// A field contradicts the others (a length under the minimum, a wrong
    /// version).
    Malformed(&'static str),
}

/// A header that cannot be read: which header, where it starts, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{header} header at byte {offset}: {problem}")]
pub struct Error {
    pub header: Header,
    /// Byte offset of the header's start in the buffer the reading began
    /// from (the frame, or the record); a view alone reports 0 and its
    /// caller moves the error with [`Error::at`].
    pub offset: usize,
    pub problem: Problem,
}

impl Error {
    pub fn truncated(header: Header, needed: usize, available: usize) -> Error {
        Error {
            header,
            offset: 0,
            problem: Problem::Truncated { needed, available },
        }
    }

    pub fn malformed(header: Header, what: &'static str) -> Error {
        Error {
            header,
            offset: 0,
            problem: Problem::Malformed(what),
        }
    }

    /// The same error for a header that starts `base` bytes further on.
    #[must_use]
    pub fn at(self, base: usize) -> Error {
        Error {
            offset: self.offset + base,
            ..self
        }
    }
}

impl fmt::Display for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Problem::Truncated { needed, available } => {
                write!(f, "cut short ({available} of {needed} bytes)")
            }
            Problem::Malformed(what) => f.write_str(what),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// `Ok` when `buffer` holds at least `needed` bytes of `header`.
#[inline]
pub fn need(header: Header, buffer: &[u8], needed: usize) -> Result<()> {
    if buffer.len() < needed {
        Err(Error::truncated(header, needed, buffer.len()))
    } else {
        Ok(())
    }
}

/// Byte order of multi-byte fields: network headers are big-endian,
/// capture-file headers are in the order of the machine that wrote them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Big,
    Little,
}

impl Order {
    /// Reads a 2-byte field (`bytes` is the field's range of a checked view).
    #[inline(always)]
    pub fn u16(self, bytes: &[u8]) -> u16 {
        let word = [bytes[0], bytes[1]];
        match self {
            Order::Big => u16::from_be_bytes(word),
            Order::Little => u16::from_le_bytes(word),
        }
    }

    /// Reads a 4-byte field (`bytes` is the field's range of a checked view).
    #[inline(always)]
    pub fn u32(self, bytes: &[u8]) -> u32 {
        let word = [bytes[0], bytes[1], bytes[2], bytes[3]];
        match self {
            Order::Big => u32::from_be_bytes(word),
            Order::Little => u32::from_le_bytes(word),
        }
    }
}

/// Reads a big-endian (network order) 2-byte field.
#[inline(always)]
pub fn be16(bytes: &[u8]) -> u16 {
    Order::Big.u16(bytes)
}

/// Reads a big-endian (network order) 4-byte field.
#[inline(always)]
pub fn be32(bytes: &[u8]) -> u32 {
    Order::Big.u32(bytes)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn error_names_header_position_and_cause() {
        let e = Error::truncated(Header::Tcp, 20, 7).at(34);
        assert_eq!(
            e.to_string(),
            "TCP header at byte 34: cut short (7 of 20 bytes)"
        );
        let e = Error::malformed(Header::Ipv4, "version is not 4").at(14);
        assert_eq!(e.to_string(), "IPv4 header at byte 14: version is not 4");
    }

    #[test]
    fn byte_orders() {
        assert_eq!(Order::Big.u16(&[1, 2]), 0x0102);
        assert_eq!(Order::Little.u16(&[1, 2]), 0x0201);
        assert_eq!(be32(&[1, 2, 3, 4]), 0x0102_0304);
        assert_eq!(Order::Little.u32(&[1, 2, 3, 4]), 0x0403_0201);
    }

    #[test]
    fn need_reports_what_is_missing() {
        assert_eq!(need(Header::Udp, &[0; 8], 8), Ok(()));
        assert_eq!(
            need(Header::Udp, &[0; 5], 8),
            Err(Error::truncated(Header::Udp, 8, 5))
        );
    }
}
