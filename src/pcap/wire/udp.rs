//! UDP header view (RFC 768).

use super::{be16, need, Field, Header, Result};

mod field {
    use super::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
}

/// Length of the header.
pub const HEADER_LEN: usize = field::CHECKSUM.end;

view! {
    /// A read-only view of a UDP datagram as captured.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the header was captured. The length field is not
    /// trusted here: see [`Packet::datagram_len`].
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Udp, self.buffer.as_ref(), HEADER_LEN)
    }

    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::DST_PORT])
    }

    /// The length field, header included.
    #[inline]
    pub fn len_field(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::LENGTH])
    }

    /// The datagram's length, header included, in an IP payload of
    /// `ip_payload_len` bytes: the length field, as tshark's `udp.length`,
    /// unless it is 0 (jumbograms) or nonsense (under 8, past the IP
    /// payload), when the IP payload length stands in.
    #[inline]
    pub fn datagram_len(&self, ip_payload_len: u32) -> u32 {
        let len = u32::from(self.len_field());
        if (HEADER_LEN as u32..=ip_payload_len).contains(&len) {
            len
        } else {
            ip_payload_len
        }
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The captured payload of a datagram of `datagram_len` bytes.
    #[inline]
    pub fn payload(&self, datagram_len: u32) -> &'a [u8] {
        let data = self.buffer.as_ref();
        let end = (datagram_len as usize).clamp(HEADER_LEN, data.len().max(HEADER_LEN));
        data.get(HEADER_LEN..end).unwrap_or(&[])
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::pcap::wire::Problem;

    const DNS: [u8; 14] = [0x30, 0x39, 0, 53, 0, 12, 0, 0, b'a', b'b', b'c', b'd', 0, 0];

    #[test]
    fn fields_and_payload() {
        let p = Packet::new_checked(&DNS[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port(), p.len_field()), (12345, 53, 12));
        assert_eq!(p.datagram_len(14), 12);
        assert_eq!(p.payload(12), b"abcd");
    }

    #[test]
    fn truncated_at_every_length() {
        for len in 0..DNS.len() {
            let r = Packet::new_checked(&DNS[..len]);
            if len < HEADER_LEN {
                assert_eq!(
                    r.unwrap_err().problem,
                    Problem::Truncated {
                        needed: 8,
                        available: len
                    }
                );
            } else {
                assert_eq!(r.unwrap().payload(12), &DNS[8..len.min(12)]);
            }
        }
    }

    #[test]
    fn nonsense_length_falls_back_to_ip() {
        let mut b = DNS;
        b[5] = 200; // past the IP payload
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.datagram_len(14), 14);
        b[5] = 3; // under the header
        assert_eq!(Packet::new_checked(&b[..]).unwrap().datagram_len(14), 14);
        b[5] = 0; // a jumbogram
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap().datagram_len(9000),
            9000
        );
        // An IP length under the header leaves no payload, and no panic.
        assert_eq!(Packet::new_checked(&b[..]).unwrap().payload(3), b"");
    }
}
