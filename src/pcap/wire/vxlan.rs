//! VXLAN header view (RFC 7348 §5): 8 bytes, a flags byte and a 24-bit
//! VXLAN Network Identifier, then an Ethernet frame. VXLAN-GPE (the
//! Generic Protocol Extension, draft-ietf-nvo3-vxlan-gpe) keeps the layout
//! and names what follows in its fourth byte.

use super::{be32, need, Field, Header, Result};

mod field {
    use super::Field;

    pub const FLAGS: usize = 0;
    /// VXLAN-GPE's next protocol.
    pub const NEXT_PROTOCOL: usize = 3;
    /// The VNI (high 24 bits) and a reserved byte.
    pub const VNI: Field = 4..8;
}

pub const HEADER_LEN: usize = field::VNI.end;

/// The IANA port, and the Linux kernel's default (Flannel, Cilium).
pub const PORT: u16 = 4789;
pub const PORT_LINUX: u16 = 8472;
/// VXLAN-GPE's IANA port.
pub const PORT_GPE: u16 = 4790;

/// VXLAN's (and VXLAN-GPE's) flag saying the VNI is valid.
pub const I_FLAG: u8 = 0x08;
/// VXLAN-GPE's flag saying the next-protocol byte is set.
pub const GPE_P_FLAG: u8 = 0x04;

/// VXLAN-GPE's next protocols (what follows the header).
pub const GPE_IPV4: u8 = 1;
pub const GPE_IPV6: u8 = 2;
pub const GPE_ETHERNET: u8 = 3;
pub const GPE_NSH: u8 = 4;
pub const GPE_MPLS: u8 = 5;

view! {
    /// A read-only view of a VXLAN header and the frame it carries.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Vxlan, self.buffer.as_ref(), HEADER_LEN)
    }

    /// The flags byte ([`I_FLAG`], [`GPE_P_FLAG`]).
    #[inline]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    /// VXLAN-GPE's next protocol ([`GPE_IPV4`] ...).
    #[inline]
    pub fn next_protocol(&self) -> u8 {
        self.buffer.as_ref()[field::NEXT_PROTOCOL]
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
