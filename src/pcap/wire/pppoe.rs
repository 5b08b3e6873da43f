//! PPPoE session header view (RFC 2516 §4): version and type, code,
//! session id and length, then a PPP frame (its protocol field first).

use super::{be16, need, Field, Header, Result};

mod field {
    use super::Field;

    pub const VER_TYPE: usize = 0;
    pub const SESSION: Field = 2..4;
    pub const LENGTH: Field = 4..6;
}

pub const HEADER_LEN: usize = field::LENGTH.end;
pub const ETHERTYPE_SESSION: u16 = 0x8864;
const VER_TYPE_1_1: u8 = 0x11;

view! {
    /// A read-only view of a PPPoE session header and its PPP frame.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        need(Header::Pppoe, b, HEADER_LEN)?;
        if b[field::VER_TYPE] != VER_TYPE_1_1 {
            return Err(super::Error::malformed(
                Header::Pppoe,
                "PPPoE version and type are not 1",
            ));
        }
        Ok(())
    }

    #[inline]
    pub fn session_id(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::SESSION])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The PPP frame, cut to the length field (Ethernet pads short ones).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let b = self.buffer.as_ref();
        let len = usize::from(be16(&b[field::LENGTH]));
        let rest = &b[HEADER_LEN..];
        rest.get(..len).unwrap_or(rest)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn session_and_padding() {
        let b = [0x11, 0, 0x12, 0x34, 0, 3, 0, 0x21, 0x45, 0, 0];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            (p.session_id(), p.payload()),
            (0x1234, &[0, 0x21, 0x45][..])
        );
        assert!(Packet::new_checked(&b[..5]).is_err());
        assert!(Packet::new_checked(&[0x21, 0, 0, 0, 0, 0][..]).is_err());
    }
}
