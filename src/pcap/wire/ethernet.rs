//! Ethernet II frame view (IEEE 802.3 §3.2.6) and the 802.1Q / 802.1ad
//! tag view that may follow its addresses.

use super::{be16, need, Field, Header, Result};

mod field {
    use super::Field;

    /// After the destination and source addresses.
    pub const ETHERTYPE: Field = 12..14;
}

mod tag_field {
    use super::Field;

    pub const TCI: Field = 0..2;
    pub const ETHERTYPE: Field = 2..4;
}

/// Length of the header (addresses and ethertype).
pub const HEADER_LEN: usize = field::ETHERTYPE.end;
/// Length of a VLAN tag after the ethertype that announced it.
pub const TAG_LEN: usize = tag_field::ETHERTYPE.end;

pub const ETHERTYPE_VLAN: u16 = 0x8100;
pub const ETHERTYPE_QINQ: u16 = 0x88a8;
pub const ETHERTYPE_QINQ_OLD: u16 = 0x9100;

/// Whether `ethertype` announces a VLAN tag (802.1Q, 802.1ad, or the
/// pre-standard QinQ value).
#[inline]
pub fn is_vlan(ethertype: u16) -> bool {
    matches!(
        ethertype,
        ETHERTYPE_VLAN | ETHERTYPE_QINQ | ETHERTYPE_QINQ_OLD
    )
}

view! {
    /// A read-only view of an Ethernet II frame.
    Frame
}

impl<T: AsRef<[u8]>> Frame<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Ethernet, self.buffer.as_ref(), HEADER_LEN)
    }

    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::ETHERTYPE])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

view! {
    /// A read-only view of a VLAN tag: its control word and the ethertype of
    /// what follows.
    VlanTag
}

impl<T: AsRef<[u8]>> VlanTag<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Vlan, self.buffer.as_ref(), TAG_LEN)
    }

    /// The VLAN identifier (low 12 bits of the control word).
    #[inline]
    pub fn vlan_id(&self) -> u16 {
        be16(&self.buffer.as_ref()[tag_field::TCI]) & 0x0fff
    }

    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(&self.buffer.as_ref()[tag_field::ETHERTYPE])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> VlanTag<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[TAG_LEN..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn frame_then_tag() {
        let mut f = vec![0xff; 12];
        f.extend_from_slice(&[0x81, 0x00, 0x20, 0x05, 0x08, 0x00, 0x45]);
        let eth = Frame::new_checked(&f[..]).unwrap();
        assert!(is_vlan(eth.ethertype()));
        let tag = VlanTag::new_checked(eth.payload()).unwrap();
        assert_eq!((tag.vlan_id(), tag.ethertype()), (5, 0x0800));
        assert_eq!(tag.payload(), [0x45]);
    }

    #[test]
    fn truncated_at_every_length() {
        let f = [0u8; 18];
        for len in 0..f.len() {
            assert_eq!(Frame::new_checked(&f[..len]).is_ok(), len >= 14, "{len}");
            assert_eq!(VlanTag::new_checked(&f[..len]).is_ok(), len >= 4, "{len}");
        }
    }
}
