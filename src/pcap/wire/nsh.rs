//! Network Service Header view (RFC 8300 §2): a 4-byte base header whose
//! length field counts the whole header in 4-byte words, the service path
//! header, context headers, then the packet its next-protocol field names.

use super::{be32, need, Field, Header, Result};

mod field {
    use super::Field;

    /// TTL (low 2 bits) and length in 4-byte words (6 bits).
    pub const TTL_LENGTH: usize = 1;
    pub const NEXT_PROTOCOL: usize = 3;
    /// Service path id (24 bits) and service index (8 bits).
    pub const SERVICE_PATH: Field = 4..8;
    pub const LENGTH_MASK: u8 = 0x3f;
}

pub const MIN_LEN: usize = field::SERVICE_PATH.end;
pub const ETHERTYPE: u16 = 0x894f;

/// Next-protocol values (RFC 8300 §11.2.5).
pub const NEXT_IPV4: u8 = 1;
pub const NEXT_IPV6: u8 = 2;
pub const NEXT_ETHERNET: u8 = 3;
pub const NEXT_NSH: u8 = 4;
pub const NEXT_MPLS: u8 = 5;

view! {
    /// A read-only view of a Network Service Header and what follows.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        need(Header::Nsh, b, MIN_LEN)?;
        if self.header_len() < MIN_LEN {
            return Err(super::Error::malformed(
                Header::Nsh,
                "NSH length under 8 bytes",
            ));
        }
        need(Header::Nsh, b, self.header_len())
    }

    #[inline]
    pub fn header_len(&self) -> usize {
        4 * usize::from(self.buffer.as_ref()[field::TTL_LENGTH] & field::LENGTH_MASK)
    }

    #[inline]
    pub fn next_protocol(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_PROTOCOL]
    }

    /// The service path identifier.
    #[inline]
    pub fn spi(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::SERVICE_PATH]) >> 8
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
    fn md_type_2_without_context() {
        let b = [0x0f, 0xc2, 0x02, NEXT_IPV4, 0, 0, 7, 255, 0x45];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.header_len(), p.next_protocol(), p.spi()), (8, 1, 7));
        assert_eq!(p.payload(), &[0x45]);
        assert!(Packet::new_checked(&b[..7]).is_err());
        let short = [0x0f, 0xc1, 0x02, 1, 0, 0, 7, 255];
        assert!(Packet::new_checked(&short[..]).is_err());
    }
}
