//! ERSPAN headers (Cisco's mirrored-port encapsulation over GRE, as
//! draft-foschiano-erspan describes): type II (8 bytes) and type III (12
//! bytes, plus an optional 8-byte platform subheader). Type I has no header
//! of its own: Ethernet follows GRE directly.

use super::{be16, need, Field, Header, Result};

mod field {
    use super::Field;

    /// Version (4 bits) and VLAN (12 bits).
    pub const VER_VLAN: Field = 0..2;
    /// CoS, encapsulation type, truncated flag and session id (10 bits).
    pub const SESSION: Field = 2..4;
    /// Type II: reserved and index; type III: a timestamp.
    pub const TYPE_II_END: usize = 8;
    /// Type III: SGT, then the hardware id and flags word whose lowest bit
    /// says a platform-specific subheader follows.
    pub const TYPE_III_FLAGS: Field = 10..12;
    pub const TYPE_III_END: usize = 12;
    pub const SUBHEADER_LEN: usize = 8;
    pub const SUBHEADER_PRESENT: u16 = 0x0001;
    pub const SESSION_MASK: u16 = 0x03ff;
}

/// The version field of a type II header.
pub const VERSION_II: u8 = 1;
/// The version field of a type III header.
pub const VERSION_III: u8 = 2;

view! {
    /// A read-only view of an ERSPAN type II or III header.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the whole header its version announces was captured.
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        need(Header::Erspan, b, field::SESSION.end)?;
        match self.version() {
            VERSION_II => need(Header::Erspan, b, field::TYPE_II_END),
            VERSION_III => {
                need(Header::Erspan, b, field::TYPE_III_END)?;
                need(Header::Erspan, b, self.header_len())
            }
            _ => Err(super::Error::malformed(
                Header::Erspan,
                "ERSPAN version is not 1 or 2",
            )),
        }
    }

    /// 1 for type II, 2 for type III.
    #[inline]
    pub fn version(&self) -> u8 {
        self.buffer.as_ref()[field::VER_VLAN.start] >> 4
    }

    #[inline]
    pub fn session_id(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::SESSION]) & field::SESSION_MASK
    }

    #[inline]
    pub fn header_len(&self) -> usize {
        if self.version() == VERSION_II {
            return field::TYPE_II_END;
        }
        let flags = be16(&self.buffer.as_ref()[field::TYPE_III_FLAGS]);
        if flags & field::SUBHEADER_PRESENT != 0 {
            field::TYPE_III_END + field::SUBHEADER_LEN
        } else {
            field::TYPE_III_END
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The mirrored Ethernet frame.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn type_ii_and_iii() {
        let ii = [0x10, 0x0a, 0x00, 0x64, 0, 0, 0, 1, 0xaa];
        let p = Packet::new_checked(&ii[..]).unwrap();
        assert_eq!(
            (p.version(), p.session_id(), p.payload()),
            (1, 100, &[0xaa][..])
        );
        let mut iii = vec![0x20, 0, 0x03, 0xff, 0, 0, 0, 5, 0, 0, 0, 1];
        iii.extend_from_slice(&[0; 8]);
        iii.push(0xbb);
        let p = Packet::new_checked(&iii[..]).unwrap();
        assert_eq!((p.version(), p.session_id()), (2, 1023));
        assert_eq!((p.header_len(), p.payload()), (20, &[0xbb][..]));
        for len in 0..20 {
            assert!(Packet::new_checked(&iii[..len]).is_err(), "{len}");
        }
        assert!(Packet::new_checked(&[0x30, 0, 0, 0, 0, 0, 0, 0][..]).is_err());
    }
}
