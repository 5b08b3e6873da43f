//! GRE header view: RFC 2784 with the key and sequence number of RFC 2890,
//! and the enhanced GRE of PPTP (RFC 2637 §4.1: version 1, with an
//! acknowledgment number).

use super::{be16, be32, need, Field, Header, Result};

mod field {
    use super::Field;

    pub const FLAGS: usize = 0;
    pub const VERSION: usize = 1;
    pub const PROTOCOL: Field = 2..4;

    /// Flag bits of the first byte.
    pub const CHECKSUM_PRESENT: u8 = 0x80;
    pub const ROUTING_PRESENT: u8 = 0x40;
    pub const KEY_PRESENT: u8 = 0x20;
    pub const SEQ_PRESENT: u8 = 0x10;
    /// Flag bit of the second byte (version 1 only).
    pub const ACK_PRESENT: u8 = 0x80;
    pub const VERSION_MASK: u8 = 0x07;
}

/// Length of the fixed part of the header.
pub const BASE_LEN: usize = field::PROTOCOL.end;
/// Length of each optional word (checksum and offset, key, sequence, ack).
const WORD: usize = 4;

/// Protocol types GRE carries (ethertypes, RFC 7637 for NVGRE's bridging).
pub const PROTO_IPV4: u16 = 0x0800;
pub const PROTO_IPV6: u16 = 0x86dd;
pub const PROTO_BRIDGING: u16 = 0x6558;
pub const PROTO_ERSPAN_II: u16 = 0x88be;
pub const PROTO_ERSPAN_III: u16 = 0x22eb;
pub const PROTO_MPLS: u16 = 0x8847;
pub const PROTO_PPP: u16 = 0x880b;

view! {
    /// A read-only view of a GRE header and what it carries.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks the fixed part and every optional word the flags announce.
    /// Source routing (RFC 1701's R bit, deprecated by RFC 2784) is refused:
    /// its variable list would have to be walked.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        need(Header::Gre, b, BASE_LEN)?;
        if b[field::FLAGS] & field::ROUTING_PRESENT != 0 {
            return Err(super::Error::malformed(Header::Gre, "GRE source routing"));
        }
        need(Header::Gre, b, self.header_len())
    }

    fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// 0 for GRE, 1 for PPTP's enhanced GRE.
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VERSION] & field::VERSION_MASK
    }

    /// The ethertype of what follows.
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::PROTOCOL])
    }

    pub fn has_seq(&self) -> bool {
        self.flags() & field::SEQ_PRESENT != 0
    }

    fn has_ack(&self) -> bool {
        self.version() == 1 && self.buffer.as_ref()[field::VERSION] & field::ACK_PRESENT != 0
    }

    /// Where the key word sits, when there is one.
    fn key_at(&self) -> Option<usize> {
        let flags = self.flags();
        (flags & field::KEY_PRESENT != 0).then(|| {
            let checksum = flags & (field::CHECKSUM_PRESENT | field::ROUTING_PRESENT) != 0;
            BASE_LEN + if checksum { WORD } else { 0 }
        })
    }

    /// The key (RFC 2890), NVGRE's VSID and flow id, or PPTP's payload
    /// length and call id.
    #[inline]
    pub fn key(&self) -> Option<u32> {
        let at = self.key_at()?;
        Some(be32(&self.buffer.as_ref()[at..at + WORD]))
    }

    /// Header length, optional words included.
    #[inline]
    pub fn header_len(&self) -> usize {
        let flags = self.flags();
        let words = [
            flags & (field::CHECKSUM_PRESENT | field::ROUTING_PRESENT) != 0,
            flags & field::KEY_PRESENT != 0,
            flags & field::SEQ_PRESENT != 0,
            self.has_ack(),
        ];
        BASE_LEN + WORD * words.iter().filter(|w| **w).count()
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn plain_keyed_and_sequenced() {
        let plain = [0, 0, 0x08, 0x00, 0x45];
        let p = Packet::new_checked(&plain[..]).unwrap();
        assert_eq!((p.version(), p.protocol(), p.key()), (0, PROTO_IPV4, None));
        assert_eq!(p.payload(), &[0x45]);
        // Checksum, key 0x01020304 and sequence number: 16 bytes.
        let mut full = vec![0xb0, 0, 0x65, 0x58, 0, 0, 0, 0, 1, 2, 3, 4, 0, 0, 0, 9];
        full.push(0xee);
        let p = Packet::new_checked(&full[..]).unwrap();
        assert_eq!(p.key(), Some(0x0102_0304));
        assert!(p.has_seq());
        assert_eq!((p.header_len(), p.payload()), (16, &[0xee][..]));
        for len in 0..16 {
            assert!(Packet::new_checked(&full[..len]).is_err(), "{len}");
        }
    }

    #[test]
    fn pptp_with_ack_and_routing_refused() {
        let pptp = [
            0x30, 0x81, 0x88, 0x0b, 0, 4, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0xff,
        ];
        let p = Packet::new_checked(&pptp[..]).unwrap();
        assert_eq!((p.version(), p.key()), (1, Some(0x0004_0007)));
        assert_eq!(p.payload(), &[0xff]);
        let routed = [0x40, 0, 0x08, 0x00, 0, 0, 0, 0];
        assert!(Packet::new_checked(&routed[..]).is_err());
    }
}
