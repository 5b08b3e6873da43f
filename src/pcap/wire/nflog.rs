//! NFLOG views (LINKTYPE_NFLOG): a 4-byte header, then TLVs whose length
//! and type are in the writer's (little-endian, on every Linux this reads)
//! byte order, padded to 4 bytes.

use super::{need, Error, Field, Header, Order, Result};

mod field {
    use super::Field;

    pub const FAMILY: usize = 0;
    pub const RESOURCE_ID: Field = 2..4;
}

mod tlv_field {
    use super::Field;

    pub const LENGTH: Field = 0..2;
    pub const TYPE: Field = 2..4;
}

/// Length of the NFLOG header.
pub const HEADER_LEN: usize = field::RESOURCE_ID.end;
/// Length of a TLV's length and type.
pub const TLV_HEADER_LEN: usize = tlv_field::TYPE.end;
/// The TLV that carries the packet.
pub const TLV_PAYLOAD: u16 = 9;

view! {
    /// A read-only view of the NFLOG header and its TLVs.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Nflog, self.buffer.as_ref(), HEADER_LEN)
    }

    /// The address family of the logged packets (AF_INET, AF_INET6).
    #[inline]
    pub fn family(&self) -> u8 {
        self.buffer.as_ref()[field::FAMILY]
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The TLVs after the header.
    #[inline]
    pub fn tlvs(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

view! {
    /// A read-only view of one TLV and what follows it.
    Tlv
}

impl<T: AsRef<[u8]>> Tlv<T> {
    /// Checks the length and type, a length that covers them, and the
    /// value's bytes.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        need(Header::NflogTlv, data, TLV_HEADER_LEN)?;
        if self.tlv_len() < TLV_HEADER_LEN {
            return Err(Error::malformed(Header::NflogTlv, "TLV length under 4"));
        }
        need(Header::NflogTlv, data, self.tlv_len())
    }

    /// The TLV's length, its length and type included.
    #[inline]
    pub fn tlv_len(&self) -> usize {
        usize::from(Order::Little.u16(&self.buffer.as_ref()[tlv_field::LENGTH]))
    }

    #[inline]
    pub fn kind(&self) -> u16 {
        Order::Little.u16(&self.buffer.as_ref()[tlv_field::TYPE])
    }

    /// Bytes from this TLV's start to the next one's (padded to 4).
    #[inline]
    pub fn padded_len(&self) -> usize {
        (self.tlv_len() + 3) & !3
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Tlv<&'a T> {
    #[inline]
    pub fn value(&self) -> &'a [u8] {
        &self.buffer.as_ref()[TLV_HEADER_LEN..self.tlv_len()]
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::pcap::wire::Problem;

    #[test]
    fn tlv_fields_and_lengths() {
        let b = [7u8, 0, 9, 0, 0x45, 0x00, 0x00, 0xee];
        let t = Tlv::new_checked(&b[..]).unwrap();
        assert_eq!((t.tlv_len(), t.kind(), t.padded_len()), (7, TLV_PAYLOAD, 8));
        assert_eq!(t.value(), [0x45, 0, 0]);
        for len in 0..7 {
            assert!(matches!(
                Tlv::new_checked(&b[..len]).unwrap_err().problem,
                Problem::Truncated { .. }
            ));
        }
        let short = [2u8, 0, 1, 0];
        assert_eq!(
            Tlv::new_checked(&short[..]).unwrap_err().problem,
            Problem::Malformed("TLV length under 4")
        );
    }

    #[test]
    fn header() {
        let b = [10u8, 0, 0, 0, 8, 0, 1, 0];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.family(), p.tlvs().len()), (10, 4));
        assert!(Packet::new_checked(&b[..3]).is_err());
    }
}
