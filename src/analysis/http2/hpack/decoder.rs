//! HPACK decoding (RFC 7541): integers, string literals (Huffman by
//! `httlib-huffman`'s table-driven decoder), the static table and a
//! bounded dynamic table. Written here because `loona-hpack` builds its
//! Huffman table as nested hash maps for every Huffman string, which made
//! header blocks most of an HTTP/2 capture's analysis time (bench/h2.sh);
//! its error texts are kept, so notes read as before.

use std::collections::VecDeque;
use std::fmt;

use httlib_huffman::DecoderSpeed;

/// RFC 7541 §4.1: what an entry costs beyond its name and value.
const ENTRY_OVERHEAD: usize = 32;
/// RFC 7541 §6.1 (SETTINGS_HEADER_TABLE_SIZE's default, RFC 9113 §6.5.2).
const DEFAULT_TABLE_SIZE: usize = 4096;
/// Octets an integer may take; more is an error (as `loona-hpack`: the
/// value then always fits 32 bits).
const INTEGER_OCTETS: usize = 5;

/// Why a block did not decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    IndexOutOfBounds,
    IntegerTooLong,
    IntegerCut,
    StringCut,
    Huffman,
    TableSizeOverLimit,
    SizeUpdateAtEnd,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::IndexOutOfBounds => "Header index out of bounds",
            Error::IntegerTooLong => {
                "Integer decoding error: Too many octets in the integer encoding"
            }
            Error::IntegerCut => "Integer decoding error: Not enough octets in the buffer",
            Error::StringCut => "String decoding error: Not enough octets in the buffer",
            Error::Huffman => "String decoding error: Huffman decoder error: Invalid padding",
            Error::TableSizeOverLimit => "Dynamic table size exceeds the maximum size",
            Error::SizeUpdateAtEnd => "Dynamic table size update at the end of a header block",
        })
    }
}

/// A dynamic table entry: name and value.
type Entry = (Box<[u8]>, Box<[u8]>);

/// One direction's decoding context: the dynamic table and scratch room
/// for Huffman-coded strings.
pub struct Decoder {
    table: VecDeque<Entry>,
    size: usize,
    max_size: usize,
    /// Largest table a size update may ask for.
    limit: usize,
    name: Vec<u8>,
    value: Vec<u8>,
}

impl Decoder {
    /// A fresh context whose table size updates may go up to `limit`.
    pub fn new(limit: usize) -> Decoder {
        Decoder {
            table: VecDeque::new(),
            size: 0,
            max_size: DEFAULT_TABLE_SIZE,
            limit,
            name: Vec::new(),
            value: Vec::new(),
        }
    }

    /// Decodes one whole header block, handing each field to `field` in
    /// order; on an error the fields before it were handed over.
    pub fn decode(
        &mut self,
        block: &[u8],
        mut field: impl FnMut(&[u8], &[u8]),
    ) -> Result<(), Error> {
        let mut at = 0;
        let mut last_was_size_update = false;
        while let Some(&first) = block.get(at) {
            let rest = &block[at..];
            last_was_size_update = false;
            at += if first & 0x80 != 0 {
                let (index, used) = integer(rest, 7)?;
                let (name, value) = self.entry(index)?;
                field(name, value);
                used
            } else if first & 0x40 != 0 {
                let used = self.literal(rest, 6)?;
                field(&self.name, &self.value);
                self.insert();
                used
            } else if first & 0x20 != 0 {
                let (size, used) = integer(rest, 5)?;
                if size > self.limit {
                    return Err(Error::TableSizeOverLimit);
                }
                self.max_size = size;
                self.evict();
                last_was_size_update = true;
                used
            } else {
                // Without indexing (0000) or never indexed (0001).
                let used = self.literal(rest, 4)?;
                field(&self.name, &self.value);
                used
            };
        }
        if last_was_size_update {
            return Err(Error::SizeUpdateAtEnd);
        }
        Ok(())
    }

    /// A literal field (name indexed or literal, value literal) into
    /// `self.name` and `self.value`; returns the octets it took.
    fn literal(&mut self, buf: &[u8], prefix: u8) -> Result<usize, Error> {
        let (index, mut used) = integer(buf, prefix)?;
        let mut name = std::mem::take(&mut self.name);
        name.clear();
        if index == 0 {
            used += string(buf.get(used..).unwrap_or_default(), &mut name)?;
        } else {
            match self.entry(index) {
                Ok((n, _)) => name.extend_from_slice(n),
                Err(e) => {
                    self.name = name;
                    return Err(e);
                }
            }
        }
        self.name = name;
        self.value.clear();
        used += string(buf.get(used..).unwrap_or_default(), &mut self.value)?;
        Ok(used)
    }

    /// Entry `index` of the static table (1–61), then the dynamic one.
    fn entry(&self, index: usize) -> Result<(&[u8], &[u8]), Error> {
        if let Some(&(name, value)) = index.checked_sub(1).and_then(|i| STATIC.get(i)) {
            return Ok((name.as_bytes(), value.as_bytes()));
        }
        index
            .checked_sub(STATIC.len() + 1)
            .and_then(|i| self.table.get(i))
            .map(|(n, v)| (&n[..], &v[..]))
            .ok_or(Error::IndexOutOfBounds)
    }

    /// Adds the field just decoded to the dynamic table (RFC 7541 §4.4:
    /// one larger than the table empties it).
    fn insert(&mut self) {
        self.size += self.name.len() + self.value.len() + ENTRY_OVERHEAD;
        self.table
            .push_front((self.name.as_slice().into(), self.value.as_slice().into()));
        self.evict();
    }

    fn evict(&mut self) {
        while self.size > self.max_size {
            match self.table.pop_back() {
                Some((n, v)) => self.size -= n.len() + v.len() + ENTRY_OVERHEAD,
                None => self.size = 0,
            }
        }
    }
}

/// RFC 7541 §5.1: an integer with a `prefix`-bit prefix; its value and
/// the octets it took.
pub(crate) fn integer(buf: &[u8], prefix: u8) -> Result<(usize, usize), Error> {
    let mask = u8::MAX >> (8 - prefix);
    let first = *buf.first().ok_or(Error::IntegerCut)? & mask;
    if first < mask {
        return Ok((usize::from(first), 1));
    }
    let mut value = usize::from(mask);
    for (i, &b) in buf.iter().enumerate().skip(1) {
        value += usize::from(b & 0x7f) << (7 * (i - 1));
        if b & 0x80 == 0 {
            return Ok((value, i + 1));
        }
        if i + 1 == INTEGER_OCTETS {
            return Err(Error::IntegerTooLong);
        }
    }
    Err(Error::IntegerCut)
}

/// RFC 7541 §5.2: a string literal appended to `out`; the octets it took.
pub(crate) fn string(buf: &[u8], out: &mut Vec<u8>) -> Result<usize, Error> {
    let (len, used) = integer(buf, 7)?;
    let raw = used
        .checked_add(len)
        .and_then(|end| buf.get(used..end))
        .ok_or(Error::StringCut)?;
    if buf[0] & 0x80 != 0 {
        httlib_huffman::decode(raw, out, DecoderSpeed::FourBits).map_err(|_| Error::Huffman)?;
    } else {
        out.extend_from_slice(raw);
    }
    Ok(used + len)
}

/// RFC 7541 Appendix A.
const STATIC: [(&str, &str); 61] = [
    (":authority", ""),
    (":method", "GET"),
    (":method", "POST"),
    (":path", "/"),
    (":path", "/index.html"),
    (":scheme", "http"),
    (":scheme", "https"),
    (":status", "200"),
    (":status", "204"),
    (":status", "206"),
    (":status", "304"),
    (":status", "400"),
    (":status", "404"),
    (":status", "500"),
    ("accept-charset", ""),
    ("accept-encoding", "gzip, deflate"),
    ("accept-language", ""),
    ("accept-ranges", ""),
    ("accept", ""),
    ("access-control-allow-origin", ""),
    ("age", ""),
    ("allow", ""),
    ("authorization", ""),
    ("cache-control", ""),
    ("content-disposition", ""),
    ("content-encoding", ""),
    ("content-language", ""),
    ("content-length", ""),
    ("content-location", ""),
    ("content-range", ""),
    ("content-type", ""),
    ("cookie", ""),
    ("date", ""),
    ("etag", ""),
    ("expect", ""),
    ("expires", ""),
    ("from", ""),
    ("host", ""),
    ("if-match", ""),
    ("if-modified-since", ""),
    ("if-none-match", ""),
    ("if-range", ""),
    ("if-unmodified-since", ""),
    ("last-modified", ""),
    ("link", ""),
    ("location", ""),
    ("max-forwards", ""),
    ("proxy-authenticate", ""),
    ("proxy-authorization", ""),
    ("range", ""),
    ("referer", ""),
    ("refresh", ""),
    ("retry-after", ""),
    ("server", ""),
    ("set-cookie", ""),
    ("strict-transport-security", ""),
    ("transfer-encoding", ""),
    ("user-agent", ""),
    ("vary", ""),
    ("via", ""),
    ("www-authenticate", ""),
];

#[cfg(test)]
mod test {
    use super::*;

    fn decode(d: &mut Decoder, block: &[u8]) -> Result<Vec<(String, String)>, Error> {
        let mut out = Vec::new();
        d.decode(block, |n, v| {
            out.push((
                String::from_utf8_lossy(n).into_owned(),
                String::from_utf8_lossy(v).into_owned(),
            ))
        })?;
        Ok(out)
    }

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn integers_of_rfc_7541_c1() {
        assert_eq!(integer(&[10], 5), Ok((10, 1)));
        assert_eq!(integer(&[31, 154, 10], 5), Ok((1337, 3)));
        assert_eq!(integer(&[42], 8), Ok((42, 1)));
        assert_eq!(integer(&[31, 154], 5), Err(Error::IntegerCut));
        assert_eq!(
            integer(&[31, 0xff, 0xff, 0xff, 0xff, 0x0f], 5),
            Err(Error::IntegerTooLong)
        );
    }

    // RFC 7541 C.4: three requests with Huffman coding, sharing a table.
    #[test]
    fn requests_with_huffman_of_rfc_7541_c4() {
        let mut d = Decoder::new(1 << 20);
        let first = hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff");
        assert_eq!(
            decode(&mut d, &first).unwrap(),
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com")
            ])
        );
        let second = hex("8286 84be 5886 a8eb 1064 9cbf");
        assert_eq!(
            decode(&mut d, &second).unwrap(),
            pairs(&[
                (":method", "GET"),
                (":scheme", "http"),
                (":path", "/"),
                (":authority", "www.example.com"),
                ("cache-control", "no-cache")
            ])
        );
        let third = hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf");
        assert_eq!(
            decode(&mut d, &third).unwrap(),
            pairs(&[
                (":method", "GET"),
                (":scheme", "https"),
                (":path", "/index.html"),
                (":authority", "www.example.com"),
                ("custom-key", "custom-value")
            ])
        );
        assert_eq!(d.size, 164);
    }

    // RFC 7541 C.6: responses with Huffman coding and a 256-octet table,
    // so entries are evicted.
    #[test]
    fn responses_with_eviction_of_rfc_7541_c6() {
        let mut d = Decoder::new(1 << 20);
        d.max_size = 256;
        let first = hex(
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
             2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
        );
        decode(&mut d, &first).unwrap();
        assert_eq!(d.size, 222);
        let second = hex("4883 640e ffc1 c0bf");
        let fields = decode(&mut d, &second).unwrap();
        assert_eq!(fields[0], (":status".into(), "307".into()));
        assert_eq!(
            fields[3],
            ("location".into(), "https://www.example.com".into())
        );
        assert_eq!(d.size, 222);
        assert_eq!(d.table.len(), 4);
    }

    #[test]
    fn the_same_fields_as_loona_hpack_encodes_them() {
        let mut enc = loona_hpack::Encoder::new();
        let mut d = Decoder::new(1 << 20);
        for round in 0..50 {
            let path = format!("/items/{round}");
            let custom = "v".repeat(round * 40);
            let fields: Vec<(&[u8], &[u8])> = vec![
                (b":method", b"POST"),
                (b":path", path.as_bytes()),
                (b"x-custom", custom.as_bytes()),
                (b"content-type", b"application/grpc"),
            ];
            let block = enc.encode(fields.iter().copied());
            let got = decode(&mut d, &block).unwrap();
            let want: Vec<(String, String)> = fields
                .iter()
                .map(|(n, v)| {
                    (
                        String::from_utf8_lossy(n).into(),
                        String::from_utf8_lossy(v).into(),
                    )
                })
                .collect();
            assert_eq!(got, want, "round {round}");
        }
    }

    #[test]
    fn damaged_blocks_are_errors_not_panics() {
        let mut d = Decoder::new(4096);
        assert_eq!(decode(&mut d, &[0x80]), Err(Error::IndexOutOfBounds));
        assert_eq!(decode(&mut d, &[0xbe]), Err(Error::IndexOutOfBounds));
        assert_eq!(decode(&mut d, &[0x40, 0x85, b'a']), Err(Error::StringCut));
        assert_eq!(
            decode(&mut d, &[0x40, 0x81, 0xff, 0x81, 0xff]),
            Err(Error::Huffman)
        );
        assert_eq!(
            decode(&mut d, &[0x3f, 0xe2, 0x1f]),
            Err(Error::TableSizeOverLimit)
        );
        assert_eq!(decode(&mut d, &[0x82, 0x20]), Err(Error::SizeUpdateAtEnd));
        assert_eq!(decode(&mut d, &[0x40, 0x7f]), Err(Error::IntegerCut));
    }

    #[test]
    fn an_entry_larger_than_the_table_empties_it() {
        let mut d = Decoder::new(4096);
        d.max_size = 64;
        decode(&mut d, b"\x40\x01a\x01b").unwrap();
        assert_eq!(d.table.len(), 1);
        let mut big = b"\x40\x01a\x7f\x21".to_vec();
        big.extend(std::iter::repeat_n(b'x', 160));
        decode(&mut d, &big).unwrap();
        assert_eq!((d.table.len(), d.size), (0, 0));
    }
}
