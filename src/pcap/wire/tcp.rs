//! TCP header view (RFC 9293 §3.1), with the window scale option (RFC
//! 7323 §2).

use super::{be16, be32, need, Error, Field, Header, Result};

mod field {
    use super::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    pub const DATA_OFFSET: usize = 12;
    pub const FLAGS: usize = 13;
    pub const WIN_SIZE: Field = 14..16;
    pub const URGENT: Field = 18..20;
}

/// Length of the header without options.
pub const HEADER_LEN: usize = field::URGENT.end;

const OPT_END: u8 = 0;
const OPT_NOP: u8 = 1;
const OPT_WINDOW_SCALE: u8 = 3;
const WINDOW_SCALE_LEN: usize = 3;
/// RFC 7323 §2.3: a shift count above 14 is used as 14.
const MAX_WINDOW_SCALE: u8 = 14;

view! {
    /// A read-only view of a TCP segment as captured.
    Packet
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Checks that the fixed header was captured and that the data offset
    /// is at least 20 bytes. Options the snaplen cut are allowed: the
    /// segment still counts, [`Packet::options`] is `None` then. Whether
    /// the header fits in the IP payload is the caller's check (the view
    /// does not know the IP length).
    #[inline]
    pub fn check_len(&self) -> Result<()> {
        need(Header::Tcp, self.buffer.as_ref(), HEADER_LEN)?;
        if self.header_len() < HEADER_LEN {
            return Err(Error::malformed(
                Header::Tcp,
                "TCP header length under 20 bytes",
            ));
        }
        Ok(())
    }

    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::SRC_PORT])
    }

    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::DST_PORT])
    }

    #[inline]
    pub fn seq_number(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::SEQ_NUM])
    }

    #[inline]
    pub fn ack_number(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::ACK_NUM])
    }

    /// Header length in bytes (data offset × 4).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.buffer.as_ref()[field::DATA_OFFSET] >> 4) * 4
    }

    /// The flag byte (CWR … FIN); `pcap::decode::tcp_flags` names the bits.
    #[inline]
    pub fn flags(&self) -> u8 {
        self.buffer.as_ref()[field::FLAGS]
    }

    #[inline]
    pub fn window_len(&self) -> u16 {
        be16(&self.buffer.as_ref()[field::WIN_SIZE])
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The option bytes, or `None` when the snaplen cut them.
    #[inline]
    pub fn options(&self) -> Option<&'a [u8]> {
        self.buffer.as_ref().get(HEADER_LEN..self.header_len())
    }

    /// The captured payload: empty when the snaplen cut the header.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        self.buffer.as_ref().get(self.header_len()..).unwrap_or(&[])
    }

    /// The window scale option's shift count, when the options carry a
    /// well-formed one; options that run off their end stop the search.
    pub fn window_scale(&self) -> Option<u8> {
        let mut options = self.options()?;
        while let Some(&kind) = options.first() {
            match kind {
                OPT_END => return None,
                OPT_NOP => options = &options[1..],
                _ => {
                    let len = usize::from(*options.get(1)?);
                    if len < 2 || len > options.len() {
                        return None;
                    }
                    if kind == OPT_WINDOW_SCALE && len == WINDOW_SCALE_LEN {
                        return Some(options[2].min(MAX_WINDOW_SCALE));
                    }
                    options = &options[len..];
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::pcap::wire::Problem;

    /// A SYN from 53248 to 8080 with a 28-byte header: MSS, NOP, window
    /// scale 7, NOP; then 2 payload bytes.
    const SYN: [u8; 30] = [
        0xd0, 0x00, 0x1f, 0x90, 0, 0, 0, 1, 0, 0, 0, 2, 0x70, 0x02, 0xff, 0xff, 0, 0, 0, 0, //
        2, 4, 0x05, 0xb4, 1, 3, 3, 7, //
        b'h', b'i',
    ];

    #[test]
    fn fields() {
        let p = Packet::new_checked(&SYN[..]).unwrap();
        assert_eq!((p.src_port(), p.dst_port()), (53248, 8080));
        assert_eq!((p.seq_number(), p.ack_number()), (1, 2));
        assert_eq!(
            (p.header_len(), p.flags(), p.window_len()),
            (28, 0x02, 0xffff)
        );
        assert_eq!(p.window_scale(), Some(7));
        assert_eq!(p.payload(), b"hi");
    }

    #[test]
    fn truncated_at_every_length() {
        for len in 0..SYN.len() {
            let r = Packet::new_checked(&SYN[..len]);
            if len < HEADER_LEN {
                assert_eq!(
                    r.unwrap_err().problem,
                    Problem::Truncated {
                        needed: 20,
                        available: len
                    }
                );
                continue;
            }
            let p = r.unwrap();
            assert_eq!(p.options().is_some(), len >= 28, "{len}");
            assert_eq!(p.window_scale().is_some(), len >= 28, "{len}");
            assert_eq!(p.payload(), SYN.get(28..len).unwrap_or(&[]));
        }
    }

    #[test]
    fn bad_data_offset() {
        let mut b = SYN;
        b[12] = 0x40;
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap_err().problem,
            Problem::Malformed("TCP header length under 20 bytes")
        );
        b[12] = 0xf0; // 60 bytes in a 30-byte buffer: allowed, options cut
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.options(), p.payload()), (None, &[][..]));
    }

    #[test]
    fn options_that_run_off_the_end() {
        let mut b = SYN;
        b[21] = 40; // MSS claims 40 bytes
        assert_eq!(Packet::new_checked(&b[..]).unwrap().window_scale(), None);
        let mut b = SYN;
        b[21] = 0; // a zero length would loop forever
        assert_eq!(Packet::new_checked(&b[..]).unwrap().window_scale(), None);
        let mut b = SYN;
        b[27] = 200; // clamped
        assert_eq!(
            Packet::new_checked(&b[..]).unwrap().window_scale(),
            Some(14)
        );
        let mut b = SYN;
        b[24] = 0; // end of options before the window scale
        assert_eq!(Packet::new_checked(&b[..]).unwrap().window_scale(), None);
    }
}
