//! IPv4 header view (RFC 791 §3.1).

use std::net::Ipv4Addr;

use super::{be16, need, Error, Field, Header, Result};

mod field {
    use super::Field;

    pub const VER_IHL: usize = 0;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLG_OFF: Field = 6..8;
    pub const PROTOCOL: usize = 9;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Length of the header without options.
pub const HEADER_LEN: usize = field::DST_ADDR.end;

const MORE_FRAGMENTS: u16 = 0x2000;
const FRAGMENT_OFFSET: u16 = 0x1fff;

view! {
    /// A read-only view of an IPv4 datagram as captured.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the whole header (options included) was captured and
    /// that its lengths agree: IHL of at least 20 bytes, total length of at
    /// least IHL. The version is checked right after the fixed part, so a
    /// datagram of another version is named as such rather than by a length
    /// that means nothing for it. The total length may pass the captured
    /// bytes: a snaplen-cut datagram still counts its full length.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        need(Header::Ipv4, data, HEADER_LEN)?;
        if self.version() != 4 {
            return Err(Error::malformed(Header::Ipv4, "version is not 4"));
        }
        let header_len = self.header_len();
        if header_len < HEADER_LEN {
            return Err(Error::malformed(
                Header::Ipv4,
                "header length under 20 bytes",
            ));
        }
        need(Header::Ipv4, data, header_len)?;
        if self.total_len() < header_len {
            return Err(Error::malformed(
                Header::Ipv4,
                "total length smaller than header length",
            ));
        }
        Ok(())
    }

    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_IHL] >> 4
    }

    /// Header length in bytes (IHL × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::VER_IHL] & 0x0f) * 4
    }

    /// Total length of the datagram. Segmentation offload writes 0 here;
    /// the captured length stands in for it then.
    #[inline]
    pub fn total_len(&self) -> usize {
        let data = self.buffer.as_ref();
        match be16(&data[field::LENGTH]) {
            0 => data.len(),
            len => usize::from(len),
        }
    }

    #[inline]
    pub fn ident(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::IDENT])
    }

    #[inline]
    pub fn more_frags(&self) -> bool {
        be16(&self.buffer.as_ref()[field::FLG_OFF]) & MORE_FRAGMENTS != 0
    }

    /// Offset of this fragment's data in the datagram, in bytes.
    #[inline]
    pub fn frag_offset(&self) -> u32 {
        u32::from(be16(&self.buffer.as_ref()[field::FLG_OFF]) & FRAGMENT_OFFSET) * 8
    }

    #[inline]
    pub fn protocol(&self) -> u8 {
        self.buffer.as_ref()[field::PROTOCOL]
    }

    #[inline]
    pub fn src_addr(&self) -> Ipv4Addr {
        addr(&self.buffer.as_ref()[field::SRC_ADDR])
    }

    #[inline]
    pub fn dst_addr(&self) -> Ipv4Addr {
        addr(&self.buffer.as_ref()[field::DST_ADDR])
    }

    /// End of the datagram's captured bytes: the total length, or less when
    /// the snaplen cut it; link-layer padding after it is left out.
    #[inline]
    fn captured_end(&self) -> usize {
        self.total_len().min(self.buffer.as_ref().len())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The datagram's captured bytes, header included.
    #[inline]
    pub fn datagram(&self) -> &'a [u8] {
        &self.buffer.as_ref()[..self.captured_end()]
    }

    /// The captured bytes after the header.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.header_len()..self.captured_end()]
    }
}

#[inline]
fn addr(bytes: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::pcap::wire::Problem;

    /// 24-byte header (one option word), total length 28, fragment id 7
    /// at offset 16 with more to come, UDP, then 4 bytes of payload and 2
    /// of link padding.
    const DATAGRAM: [u8; 30] = [
        0x46, 0, 0, 28, 0, 7, 0x20, 2, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2, // fixed
        1, 1, 1, 0, // options
        b'd', b'a', b't', b'a', 0, 0,
    ];

    #[test]
    fn fields() {
        let p = Packet::new_checked(&DATAGRAM[..]).unwrap();
        assert_eq!((p.version(), p.header_len(), p.total_len()), (4, 24, 28));
        assert_eq!((p.ident(), p.more_frags(), p.frag_offset()), (7, true, 16));
        assert_eq!(p.protocol(), 17);
        assert_eq!(p.src_addr(), Ipv4Addr::new(10, 0, 0, 1));
        assert_eq!(p.dst_addr(), Ipv4Addr::new(10, 0, 0, 2));
        assert_eq!(p.payload(), b"data");
        assert_eq!(p.datagram().len(), 28);
    }

    #[test]
    fn truncated_at_every_length() {
        for len in 0..DATAGRAM.len() {
            let r = Packet::new_checked(&DATAGRAM[..len]);
            if len < 24 {
                let e = r.unwrap_err();
                assert_eq!(e.header, Header::Ipv4);
                assert!(matches!(e.problem, Problem::Truncated { .. }), "{len}");
            } else {
                // The payload may be cut: it counts, the accessors stay in bounds.
                let p = r.unwrap();
                assert_eq!(p.payload(), &b"data"[..(len - 24).min(4)]);
                assert_eq!(p.total_len(), 28);
            }
        }
    }

    #[test]
    fn overlong_and_bad_lengths() {
        let mut b = DATAGRAM;
        b[0] = 0x4f; // IHL 60 in a 30-byte buffer
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err().problem,
            Problem::Truncated {
                needed: 60,
                available: 30
            }
        );
        b[0] = 0x44; // IHL 16
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err().problem,
            Problem::Malformed("header length under 20 bytes")
        );
        let mut b = DATAGRAM;
        b[3] = 20; // total length under IHL
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err().problem,
            Problem::Malformed("total length smaller than header length")
        );
        let mut b = DATAGRAM;
        b[0] = 0x61; // version 6, and an IHL that would be wrong too
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err().problem,
            Problem::Malformed("version is not 4")
        );
    }

    #[test]
    fn zero_total_length_means_captured_length() {
        let mut b = DATAGRAM;
        b[2] = 0;
        b[3] = 0;
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.total_len(), 30);
        assert_eq!(p.payload(), b"data\0\0");
    }

    #[test]
    fn overlong_total_length_is_a_snaplen_cut() {
        let mut b = DATAGRAM;
        b[2] = 0x05; // 1308 bytes on the wire
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.total_len(), 1308);
        assert_eq!(p.payload(), b"data\0\0");
    }
}
