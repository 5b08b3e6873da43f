//! MPLS label stack entry view (RFC 3032 §2.1): 4 bytes each, the last
//! with its bottom-of-stack bit set.

use super::{be32, need, Header, Result};

/// Length of one label stack entry.
pub const ENTRY_LEN: usize = 4;
const BOTTOM_OF_STACK: u32 = 0x100;

/// Ethertypes of MPLS unicast and multicast.
pub const ETHERTYPE_UNICAST: u16 = 0x8847;
pub const ETHERTYPE_MULTICAST: u16 = 0x8848;

view! {
    /// A read-only view of one label stack entry and what follows it.
    Entry
}

impl<T: AsRef<[u8]>> Entry<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Mpls, self.buffer.as_ref(), ENTRY_LEN)
    }

    fn word(&self) -> u32 {
        be32(&self.buffer.as_ref()[..ENTRY_LEN])
    }

    #[inline]
    pub fn label(&self) -> u32 {
        self.word() >> 12
    }

    #[inline]
    pub fn is_bottom(&self) -> bool {
        self.word() & BOTTOM_OF_STACK != 0
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Entry<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[ENTRY_LEN..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn label_and_bottom() {
        let b = [0x00, 0x06, 0x41, 0x40, 0x45];
        let e = Entry::new_checked(&b[..]).unwrap();
        assert_eq!(
            (e.label(), e.is_bottom(), e.payload()),
            (100, true, &[0x45][..])
        );
        assert!(Entry::new_checked(&b[..3]).is_err());
    }
}
