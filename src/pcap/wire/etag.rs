//! IEEE 802.1BR E-Tag view: the 6 bytes after its ethertype (PCP, DEI,
//! ingress and destination E-CIDs), then the ethertype of what follows.

use super::{be16, need, Field, Header, Result};

mod field {
    use super::Field;

    /// Reserved (2 bits), GRP (2 bits) and E-CID base (12 bits).
    pub const ECID_BASE: Field = 2..4;
    pub const ETHERTYPE: Field = 6..8;
}

pub const TAG_LEN: usize = field::ETHERTYPE.end;
pub const ETHERTYPE: u16 = 0x893f;

view! {
    /// A read-only view of an E-Tag and what follows it.
    Tag
}

impl<T: AsRef<[u8]>> Tag<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::ETag, self.buffer.as_ref(), TAG_LEN)
    }

    /// The destination E-CID base (the port of the extender).
    #[inline]
    pub fn ecid_base(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::ECID_BASE]) & 0x0fff
    }

    #[inline]
    pub fn ethertype(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::ETHERTYPE])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Tag<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[TAG_LEN..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn fields_and_cut() {
        let b = [0, 0, 0x10, 0x05, 0, 0, 0x08, 0x00, 0x45];
        let t = Tag::new_checked(&b[..]).unwrap();
        assert_eq!(
            (t.ecid_base(), t.ethertype(), t.payload()),
            (5, 0x0800, &[0x45][..])
        );
        assert!(Tag::new_checked(&b[..7]).is_err());
    }
}
