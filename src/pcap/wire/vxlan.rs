//! VXLAN header view (RFC 7348 §5): 8 bytes, a flags byte and a 24-bit
//! VXLAN Network Identifier, then an Ethernet frame.

use super::{be32, need, Field, Header, Result};

mod field {
    use super::Field;

    /// The VNI (high 24 bits) and a reserved byte.
    pub const VNI: Field = 4..8;
}

pub const HEADER_LEN: usize = field::VNI.end;

/// The IANA port, and the Linux kernel's default (Flannel, Cilium).
pub const PORT: u16 = 4789;
pub const PORT_LINUX: u16 = 8472;

view! {
    /// A read-only view of a VXLAN header and the frame it carries.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Vxlan, self.buffer.as_ref(), HEADER_LEN)
    }

    #[inline]
    pub fn vni(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::VNI]) >> 8
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The inner Ethernet frame.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HEADER_LEN..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn vni_and_payload() {
        let b = [0x08, 0, 0, 0, 0, 0, 42, 0, 0xaa];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.vni(), p.payload()), (42, &[0xaa][..]));
        assert!(Packet::new_checked(&b[..7]).is_err());
    }
}
