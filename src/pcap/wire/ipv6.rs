//! IPv6 header view (RFC 8200 §3) and views of its extension headers
//! (RFC 8200 §4, AH in RFC 4302 §2).

use std::net::Ipv6Addr;

use super::{be16, be32, need, Error, Field, Header, Result};

mod field {
    use super::Field;

    pub const VER_TC_FLOW: usize = 0;
    pub const LENGTH: Field = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
}

/// Fields shared by every extension header, and the fragment header's own.
mod ext_field {
    use super::Field;

    pub const NXT_HDR: usize = 0;
    pub const LENGTH: usize = 1;
    pub const FRAG_OFF_M: Field = 2..4;
    pub const FRAG_IDENT: Field = 4..8;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

pub const HOP_BY_HOP: u8 = 0;
pub const ROUTING: u8 = 43;
pub const FRAGMENT: u8 = 44;
pub const AUTHENTICATION: u8 = 51;
pub const DESTINATION_OPTIONS: u8 = 60;
pub const MOBILITY: u8 = 135;
pub const HIP: u8 = 139;
pub const SHIM6: u8 = 140;

/// Length of the fragment header.
pub const FRAGMENT_HEADER_LEN: usize = ext_field::FRAG_IDENT.end;
/// The part of an extension header that says what follows and how long it is.
const EXT_HEADER_MIN: usize = ext_field::LENGTH + 1;

view! {
    /// A read-only view of an IPv6 packet as captured.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the fixed header was captured and says version 6. The
    /// payload length may pass the captured bytes (a snaplen cut).
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Ipv6, self.buffer.as_ref(), HEADER_LEN)?;
        if self.version() != 6 {
            return Err(Error::malformed(Header::Ipv6, "version is not 6"));
        }
        Ok(())
    }

    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_TC_FLOW] >> 4
    }

    /// Length of everything after the fixed header. A jumbogram (or
    /// segmentation offload) writes 0 here; the captured bytes after the
    /// fixed header stand in for it then.
    #[inline]
    pub fn payload_len(&self) -> usize {
        let data = self.buffer.as_ref();
        match be16(&data[field::LENGTH]) {
            0 => data.len() - HEADER_LEN,
            len => usize::from(len),
        }
    }

    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[field::NXT_HDR]
    }

    #[inline]
    pub fn src_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    #[inline]
    pub fn dst_addr(&self) -> Ipv6Addr {
        addr(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// Length of the packet (fixed header plus payload length).
    #[inline]
    pub fn total_len(&self) -> usize {
        HEADER_LEN + self.payload_len()
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The packet's captured bytes: link-layer padding after the payload
    /// length is left out.
    #[inline]
    pub fn datagram(&self) -> &'a [u8] {
        let data = self.buffer.as_ref();
        &data[..self.total_len().min(data.len())]
    }
}

/// Whether `next_header` names an extension header this module reads
/// through (hop-by-hop, routing, fragment, destination options, AH,
/// mobility, HIP, shim6).
#[inline]
pub fn is_extension(next_header: u8) -> bool {
    matches!(
        next_header,
        HOP_BY_HOP
            | ROUTING
            | FRAGMENT
            | AUTHENTICATION
            | DESTINATION_OPTIONS
            | MOBILITY
            | HIP
            | SHIM6
    )
}

view! {
    /// A read-only view of one extension header, of kind `kind` (the next
    /// header value that announced it).
    ExtHeader, kind: u8
}

impl<T: AsRef<[u8]>> ExtHeader<T> {
    /// Checks that the fields this view reads were captured: the next
    /// header and length bytes, and for a fragment header its 8 bytes. The
    /// rest of a longer header (its options) is skipped, never read, so it
    /// need not be there; the caller checks the chain against the payload
    /// length.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let needed = if self.kind == FRAGMENT {
            FRAGMENT_HEADER_LEN
        } else {
            EXT_HEADER_MIN
        };
        need(Header::Ipv6Extension, self.buffer.as_ref(), needed)
    }

    #[inline]
    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[ext_field::NXT_HDR]
    }

    /// The header's length in bytes: 8-byte units not counting the first
    /// for most, 4-byte units not counting the first two for AH, and a
    /// fixed 8 for the fragment header.
    #[inline]
    pub fn header_len(&self) -> usize {
        let units = usize::from(self.buffer.as_ref()[ext_field::LENGTH]);
        match self.kind {
            FRAGMENT => FRAGMENT_HEADER_LEN,
            AUTHENTICATION => (units + 2) * 4,
            _ => (units + 1) * 8,
        }
    }

    /// For a fragment header: (identification, offset in bytes, more).
    #[inline]
    pub fn fragment(&self) -> Option<(u32, u32, bool)> {
        if self.kind != FRAGMENT {
            return None;
        }
        let data = self.buffer.as_ref();
        let word = be16(&data[ext_field::FRAG_OFF_M]);
        Some((
            be32(&data[ext_field::FRAG_IDENT]),
            u32::from(word >> 3) * 8,
            word & 1 != 0,
        ))
    }
}

#[inline]
fn addr(bytes: &[u8]) -> Ipv6Addr {
    let mut octets = [0u8; 16];
    octets.copy_from_slice(bytes);
    Ipv6Addr::from(octets)
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::pcap::wire::Problem;

    /// ::1 to ::2, payload length 16: a hop-by-hop header (8 bytes), then
    /// a fragment header (8 bytes) announcing UDP.
    fn packet() -> Vec<u8> {
        let mut b = vec![0x60, 0, 0, 0, 0, 16, HOP_BY_HOP, 64];
        b.extend_from_slice(&[0; 15]);
        b.push(1);
        b.extend_from_slice(&[0; 15]);
        b.push(2);
        b.extend_from_slice(&[FRAGMENT, 0, 1, 4, 0, 0, 0, 0]);
        b.extend_from_slice(&[17, 0, 0x05, 0x01, 0xde, 0xad, 0xbe, 0xef]);
        b
    }

    #[test]
    fn fields() {
        let b = packet();
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.version(), p.payload_len(), p.next_header()), (6, 16, 0));
        assert_eq!(p.src_addr(), "::1".parse::<Ipv6Addr>().unwrap());
        assert_eq!(p.dst_addr(), "::2".parse::<Ipv6Addr>().unwrap());
        let hop = ExtHeader::new_checked(&b[40..], HOP_BY_HOP).unwrap();
        assert_eq!((hop.next_header(), hop.header_len()), (FRAGMENT, 8));
        assert_eq!(hop.fragment(), None);
        let frag = ExtHeader::new_checked(&b[48..], FRAGMENT).unwrap();
        assert_eq!((frag.next_header(), frag.header_len()), (17, 8));
        assert_eq!(frag.fragment(), Some((0xdead_beef, 0xa0 * 8, true)));
    }

    #[test]
    fn truncated_at_every_length() {
        let b = packet();
        for len in 0..HEADER_LEN {
            let e = Packet::new_checked(&b[..len]).unwrap_err();
            assert_eq!(
                e.problem,
                Problem::Truncated {
                    needed: 40,
                    available: len
                }
            );
        }
        for len in 0..FRAGMENT_HEADER_LEN {
            let r = ExtHeader::new_checked(&b[48..48 + len], FRAGMENT);
            assert!(r.is_err(), "{len}");
            let r = ExtHeader::new_checked(&b[40..40 + len], HOP_BY_HOP);
            assert_eq!(r.is_ok(), len >= 2, "{len}");
        }
    }

    #[test]
    fn version_and_zero_length() {
        let mut b = packet();
        b[0] = 0x40;
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err().problem,
            Problem::Malformed("version is not 6")
        );
        b[0] = 0x60;
        b[5] = 0;
        b.extend_from_slice(&[0; 4]);
        assert_eq!(Packet::new_checked(&b[..]).unwrap().payload_len(), 20);
    }

    #[test]
    fn authentication_header_counts_4_byte_units() {
        let ah = [6, 4, 0, 0];
        let h = ExtHeader::new_checked(&ah[..], AUTHENTICATION).unwrap();
        assert_eq!((h.next_header(), h.header_len()), (6, 24));
        assert!(is_extension(AUTHENTICATION) && !is_extension(6));
    }
}
