//! PPP frame view (RFC 1661 §2, with RFC 1662's address and control bytes
//! when present and a protocol field compressed to one byte when odd), and
//! the Cisco HDLC header (address, control, ethertype).

use super::{be16, need, Field, Header, Result};

mod field {
    /// RFC 1662's all-stations address and unnumbered-information control.
    pub const ADDRESS: u8 = 0xff;
    pub const CONTROL: u8 = 0x03;
    pub const ADDRESS_CONTROL_LEN: usize = 2;
}

mod hdlc_field {
    use super::Field;

    pub const ADDRESS: usize = 0;
    pub const PROTOCOL: Field = 2..4;
}

/// PPP protocol numbers of IPv4 and IPv6.
pub const PROTO_IPV4: u16 = 0x0021;
pub const PROTO_IPV6: u16 = 0x0057;

/// Cisco HDLC header length, and its unicast and broadcast addresses.
pub const HDLC_HEADER_LEN: usize = hdlc_field::PROTOCOL.end;
pub const HDLC_UNICAST: u8 = 0x0f;
pub const HDLC_BROADCAST: u8 = 0x8f;

view! {
    /// A read-only view of a PPP frame.
    Frame
}

impl<T: AsRef<[u8]>> Frame<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        let b = self.buffer.as_ref();
        let at = self.protocol_at();
        need(Header::Ppp, b, at + 1)?;
        need(Header::Ppp, b, self.header_len())
    }

    /// Where the protocol field starts (after address and control, if any).
    fn protocol_at(&self) -> usize {
        match self.buffer.as_ref() {
            [field::ADDRESS, field::CONTROL, ..] => field::ADDRESS_CONTROL_LEN,
            _ => 0,
        }
    }

    /// Whether the protocol field is compressed to one (odd) byte.
    fn is_compressed(&self) -> bool {
        self.buffer
            .as_ref()
            .get(self.protocol_at())
            .is_some_and(|b| b & 1 == 1)
    }

    #[inline]
    pub fn header_len(&self) -> usize {
        self.protocol_at() + if self.is_compressed() { 1 } else { 2 }
    }

    #[inline]
    pub fn protocol(&self) -> u16 {
        let b = self.buffer.as_ref();
        let at = self.protocol_at();
        if self.is_compressed() {
            u16::from(b[at])
        } else {
            be16(&b[at..at + 2])
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Frame<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[self.header_len()..]
    }
}

/// Whether `data` starts like a Cisco HDLC frame (DLT 50 carries either).
pub fn is_cisco_hdlc(data: &[u8]) -> bool {
    matches!(data.first(), Some(&(HDLC_UNICAST | HDLC_BROADCAST)))
}

view! {
    /// A read-only view of a Cisco HDLC header and its payload.
    CiscoHdlc
}

impl<T: AsRef<[u8]>> CiscoHdlc<T> {
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::CiscoHdlc, self.buffer.as_ref(), HDLC_HEADER_LEN)
    }

    pub fn address(&self) -> u8 {
        self.buffer.as_ref()[hdlc_field::ADDRESS]
    }

    /// An ethertype.
    #[inline]
    pub fn protocol(&self) -> u16 {
        be16(&self.buffer.as_ref()[hdlc_field::PROTOCOL])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> CiscoHdlc<&'a T> {
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.buffer.as_ref()[HDLC_HEADER_LEN..]
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn framings() {
        let full = [0xff, 0x03, 0x00, 0x21, 0x45];
        let f = Frame::new_checked(&full[..]).unwrap();
        assert_eq!((f.protocol(), f.payload()), (PROTO_IPV4, &[0x45][..]));
        let bare = [0x00, 0x57, 0x60];
        let f = Frame::new_checked(&bare[..]).unwrap();
        assert_eq!((f.protocol(), f.payload()), (PROTO_IPV6, &[0x60][..]));
        let compressed = [0x21, 0x45];
        let f = Frame::new_checked(&compressed[..]).unwrap();
        assert_eq!((f.protocol(), f.payload()), (PROTO_IPV4, &[0x45][..]));
        for cut in [
            &[][..],
            &[0xff, 0x03][..],
            &[0xff, 0x03, 0x00][..],
            &[0x00][..],
        ] {
            assert!(Frame::new_checked(cut).is_err(), "{cut:?}");
        }
    }

    #[test]
    fn cisco_hdlc() {
        let b = [0x0f, 0x00, 0x08, 0x00, 0x45];
        assert!(is_cisco_hdlc(&b));
        let h = CiscoHdlc::new_checked(&b[..]).unwrap();
        assert_eq!(
            (h.address(), h.protocol(), h.payload()),
            (0x0f, 0x0800, &[0x45][..])
        );
        assert!(CiscoHdlc::new_checked(&b[..3]).is_err());
    }
}
