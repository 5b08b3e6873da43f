//! Geneve header view (RFC 8926 §3.4): 8 fixed bytes (version, options
//! length, protocol type, 24-bit VNI) and variable options.

use super::{be16, be32, need, Field, Header, Result};

mod field {
    use super::Field;

    /// Version (2 bits) and options length in 4-byte words (6 bits).
    pub const VER_OPT_LEN: usize = 0;
    pub const PROTOCOL: Field = 2..4;
    pub const VNI: Field = 4..8;
    pub const OPT_LEN_MASK: u8 = 0x3f;
}

pub const BASE_LEN: usize = field::VNI.end;
pub const PORT: u16 = 6081;

view! {
    /// A read-only view of a Geneve header and what it carries.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        need(Header::Geneve, b, BASE_LEN)?;
        if b[field::VER_OPT_LEN] >> 6 != 0 {
            return Err(super::Error::malformed(
                Header::Geneve,
                "Geneve version is not 0",
            ));
        }
        need(Header::Geneve, b, self.header_len())
    }

    /// The ethertype of what follows (0x6558 for Ethernet).
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::PROTOCOL])
    }

    #[inline]
    pub fn vni(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::VNI]) >> 8
    }

    /// Header length, options included.
    #[inline]
    pub fn header_len(&self) -> usize {
        let words = self.buffer.as_ref()[field::VER_OPT_LEN] & field::OPT_LEN_MASK;
        BASE_LEN + 4 * usize::from(words)
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
    fn options_are_skipped() {
        let mut b = vec![0x01, 0, 0x08, 0x00, 0, 1, 0, 0];
        b.extend_from_slice(&[0x01, 0x02, 0x03, 0x01]);
        b.push(0x45);
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.protocol(), p.vni(), p.header_len()), (0x0800, 256, 12));
        assert_eq!(p.payload(), &[0x45]);
        for len in 0..12 {
            assert!(Packet::new_checked(&b[..len]).is_err(), "{len}");
        }
        b[0] = 0x40;
        assert!(Packet::new_checked(&b[..]).is_err());
    }
}
