//! GTP-U header view (3GPP TS 29.281 §5): 8 fixed bytes (flags, message
//! type, length, TEID), 4 optional ones (sequence number, N-PDU number,
//! next extension header type) when any of the E, S or PN flags is set,
//! then a chain of extension headers, then the user's packet (a G-PDU).

use super::{be16, be32, need, Field, Header, Result};

mod field {
    use super::Field;

    /// Version (3 bits), protocol type, spare, E, S and PN flags.
    pub const FLAGS: usize = 0;
    pub const MESSAGE_TYPE: usize = 1;
    /// Bytes after the first 8.
    pub const LENGTH: Field = 2..4;
    pub const TEID: Field = 4..8;
    /// The next extension header's type, last of the optional 4 bytes.
    pub const NEXT_EXTENSION: usize = 11;
}

pub const BASE_LEN: usize = field::TEID.end;
/// The fixed header and the optional word.
const OPTIONAL_LEN: usize = field::NEXT_EXTENSION + 1;
/// GTP-U's port (both ends).
pub const PORT: u16 = 2152;
/// The message type that carries a user's packet.
pub const G_PDU: u8 = 0xff;

const VERSION_1: u8 = 1;
const PROTOCOL_TYPE_GTP: u8 = 0x10;
/// E, S and PN: any of them makes the optional word present.
const OPTIONAL_FLAGS: u8 = 0x07;
/// Most extension headers followed (each takes 4 bytes or more, so a
/// chain within a 64 KiB datagram ends anyway; this bounds the work).
const MAX_EXTENSIONS: usize = 64;

/// A read-only view of a GTP-U header and what it carries. The extension
/// chain is walked once, by `new_checked`, which keeps where it ends.
#[derive(Clone, Copy, Debug)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
    /// Fixed header, optional word and extension headers.
    header_len: usize,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps `buffer` after checking the version and protocol type, and
    /// that the extension chain lies inside the buffer.
    #[inline]
    pub fn new_checked(buffer: T) -> Result<Packet<T>> {
        let header_len = header_len(buffer.as_ref())?;
        Ok(Packet { buffer, header_len })
    }

    #[inline]
    pub fn message_type(&self) -> u8 {
        self.buffer.as_ref()[field::MESSAGE_TYPE]
    }

    /// The tunnel endpoint identifier.
    #[inline]
    pub fn teid(&self) -> u32 {
        be32(&self.buffer.as_ref()[field::TEID])
    }
}

/// Where the headers of the GTP-U message `b` end and its packet starts.
fn header_len(b: &[u8]) -> Result<usize> {
    need(Header::Gtp, b, BASE_LEN)?;
    let flags = b[field::FLAGS];
    if flags >> 5 != VERSION_1 || flags & PROTOCOL_TYPE_GTP == 0 {
        return Err(super::Error::malformed(
            Header::Gtp,
            "GTP version is not 1 with protocol type GTP",
        ));
    }
    if flags & OPTIONAL_FLAGS == 0 {
        return Ok(BASE_LEN);
    }
    need(Header::Gtp, b, OPTIONAL_LEN)?;
    let mut next = b[field::NEXT_EXTENSION];
    let mut at = OPTIONAL_LEN;
    for _ in 0..MAX_EXTENSIONS {
        if next == 0 {
            return Ok(at);
        }
        // A length in 4-byte words, the content, the next type last.
        let words = usize::from(*b.get(at).ok_or_else(|| cut(at + 1, b.len()))?);
        if words == 0 {
            return Err(super::Error::malformed(
                Header::Gtp,
                "GTP extension header of length 0",
            ));
        }
        let end = at + 4 * words;
        need(Header::Gtp, b, end)?;
        next = b[end - 1];
        at = end;
    }
    Err(super::Error::malformed(
        Header::Gtp,
        "too many GTP extension headers",
    ))
}

fn cut(needed: usize, available: usize) -> super::Error {
    super::Error::truncated(Header::Gtp, needed, available)
}

impl<'a, T: AsRef<[u8]> + ?Sized> Packet<&'a T> {
    /// The packet carried, cut to the length field (what follows is
    /// padding or another GTP message).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let b = self.buffer.as_ref();
        let start = self.header_len;
        let end = BASE_LEN + usize::from(be16(&b[field::LENGTH]));
        b.get(start..end.max(start))
            .unwrap_or(&b[start.min(b.len())..])
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn teid_extensions_and_payload() {
        // Plain G-PDU, TEID 0x1234, 1 byte of payload and a padding byte.
        let b = [0x30, 0xff, 0, 1, 0, 0, 0x12, 0x34, 0x45, 0];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(
            (p.message_type(), p.teid(), p.payload()),
            (G_PDU, 0x1234, &[0x45][..])
        );
        // E flag: the optional word, one PDU session container (type 0x85).
        let b = [
            0x34, 0xff, 0, 9, 0, 0, 0, 7, 0, 0, 0, 0x85, 1, 0x10, 0x05, 0, 0x45,
        ];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!((p.teid(), p.payload()), (7, &[0x45][..]));
        for len in 0..16 {
            assert!(Packet::new_checked(&b[..len]).is_err(), "{len}");
        }
        // A zero-length extension, and version 2 (GTP-C), are refused.
        let mut bad = b;
        bad[12] = 0;
        assert!(Packet::new_checked(&bad[..]).is_err());
        let mut v2 = b;
        v2[0] = 0x48;
        assert!(Packet::new_checked(&v2[..]).is_err());
    }

    #[test]
    fn a_length_past_the_buffer_keeps_what_is_there() {
        let b = [0x30, 0xff, 0, 200, 0, 0, 0, 1, 0x45, 0x00];
        let p = Packet::new_checked(&b[..]).unwrap();
        assert_eq!(p.payload(), &[0x45, 0][..]);
        let b = [0x30, 0xff, 0, 0, 0, 0, 0, 1, 0x45];
        assert_eq!(Packet::new_checked(&b[..]).unwrap().payload(), &[] as &[u8]);
    }
}
