//! Linux cooked capture headers: SLL (LINKTYPE_LINUX_SLL) and SLL2
//! (LINKTYPE_LINUX_SLL2), as tcpdump.org's link-layer header types page
//! describes them.

use super::{be16, need, Field, Header, Result};

mod field {
    use super::Field;

    /// After the packet type, ARPHRD type, address length and address.
    pub const PROTOCOL: Field = 14..16;
}

mod v2_field {
    use super::Field;

    pub const PROTOCOL: Field = 0..2;
    /// The last field, after the reserved word, interface index, ARPHRD
    /// type, packet type and address length.
    pub const ADDR: Field = 12..20;
}

/// Length of an SLL header.
pub const HEADER_LEN: usize = field::PROTOCOL.end;
/// Length of an SLL2 header.
pub const V2_HEADER_LEN: usize = v2_field::ADDR.end;

view! {
    /// A read-only view of an SLL (v1) header and what follows.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Sll, self.buffer.as_ref(), HEADER_LEN)
    }

    /// The protocol of the payload: an ethertype for IP.
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::PROTOCOL])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

view! {
    /// A read-only view of an SLL2 header and what follows.
    Packet2
}

impl<T: AsRef<[u8]>> Packet2<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Sll2, self.buffer.as_ref(), V2_HEADER_LEN)
    }

    /// The protocol of the payload: an ethertype for IP.
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(&self.buffer.as_ref()[v2_field::PROTOCOL])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet2<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[V2_HEADER_LEN..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn both_versions_at_every_length() {
        let mut v1 = vec![0u8; 14];
        v1.extend_from_slice(&[0x86, 0xdd, 0x60]);
        let mut v2 = vec![0x08, 0x00];
        v2.extend_from_slice(&[0; 18]);
        v2.push(0x45);
        let p = Packet::new_checked(&v1[..]).unwrap();
        assert_eq!((p.protocol(), p.payload()), (0x86dd, &[0x60][..]));
        let p = Packet2::new_checked(&v2[..]).unwrap();
        assert_eq!((p.protocol(), p.payload()), (0x0800, &[0x45][..]));
        for len in 0..v1.len() {
            assert_eq!(Packet::new_checked(&v1[..len]).is_ok(), len >= 16);
        }
        for len in 0..v2.len() {
            assert_eq!(Packet2::new_checked(&v2[..len]).is_ok(), len >= 20);
        }
    }
}
