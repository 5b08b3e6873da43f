//! BSD loopback header view (LINKTYPE_NULL and LINKTYPE_LOOP): a 4-byte
//! address family before the IP packet.

use super::{need, Field, Header, Order, Result};

mod field {
    use super::Field;

    pub const FAMILY: Field = 0..4;
}

/// Length of the header.
pub const HEADER_LEN: usize = field::FAMILY.end;

view! {
    /// A read-only view of a loopback header and what follows.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Loopback, self.buffer.as_ref(), HEADER_LEN)
    }

    /// The family in network order, as LINKTYPE_LOOP writes it.
    #[inline]
    pub fn family_network_order(&self) -> u32 {
        Order::Big.u32(&self.buffer.as_ref()[field::FAMILY])
    }

    /// The family in the writer's byte order, as LINKTYPE_NULL writes it:
    /// families are small, so a little-endian reading above 0xffff means
    /// the writer was big-endian.
    #[inline]
    pub fn family_writer_order(&self) -> u32 {
        let le = Order::Little.u32(&self.buffer.as_ref()[field::FAMILY]);
        if le > 0xffff {
            le.swap_bytes()
        } else {
            le
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn families_and_lengths() {
        let le = Packet::new_checked(&[30u8, 0, 0, 0, 0x60][..]).unwrap();
        assert_eq!((le.family_writer_order(), le.payload()), (30, &[0x60][..]));
        let be = Packet::new_checked(&[0u8, 0, 0, 2][..]).unwrap();
        assert_eq!(
            (be.family_writer_order(), be.family_network_order()),
            (2, 2)
        );
        for len in 0..4 {
            assert!(Packet::new_checked(&[0u8; 4][..len]).is_err());
        }
    }
}
