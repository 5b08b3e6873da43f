//! Header blocks: one direction's HPACK decoding context (RFC 7541, module
//! `decoder`), kept honest when its state is unknown. A stream caught
//! without its start, a damaged block or a bomb makes the context *lost*:
//! from then on each block is decoded alone, and what it refers to in the
//! dynamic table shows as unknown, never as a wrong value.

mod decoder;

use decoder::Decoder;
pub(crate) use decoder::{integer, string};

/// Largest dynamic table a peer may ask for: a table size update beyond
/// it is an HPACK bomb (RFC 7541 §4.2 lets the receiver refuse it).
pub const MAX_TABLE_SIZE: usize = 1 << 20;
/// Fields of one block looked at; past it the block is a bomb.
pub const MAX_FIELDS: usize = 10_000;
/// Longest header value kept.
pub const MAX_VALUE: usize = 1024;

/// The headers of one block this analyzer uses (others are counted).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields {
    /// Known names are static: a field kept costs one allocation.
    pub fields: Vec<(&'static str, String)>,
    /// Fields decoded (kept or not).
    pub count: usize,
    /// Some fields could not be decoded: the dynamic table state is not
    /// known, or the block is damaged.
    pub incomplete: bool,
}

impl Fields {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Names worth keeping.
const KEPT: &[&str] = &[
    ":method",
    ":scheme",
    ":authority",
    ":path",
    ":status",
    "host",
    "user-agent",
    "content-type",
    "content-length",
    "grpc-status",
    "grpc-message",
    "grpc-timeout",
];

/// Why a block could not be decoded in full.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trouble {
    /// The decoder refused the block (an index out of the table, Huffman
    /// garbage, a table size update beyond [`MAX_TABLE_SIZE`]...).
    Damaged(String),
    /// More than [`MAX_FIELDS`] fields.
    TooManyFields,
}

/// One direction's HPACK decoding context.
pub struct BlockDecoder {
    decoder: Decoder,
    /// The dynamic table no longer matches the sender's.
    lost: bool,
}

impl BlockDecoder {
    /// A context from the start of the connection (`known`), or from
    /// somewhere in its middle.
    pub fn new(known: bool) -> BlockDecoder {
        BlockDecoder {
            decoder: bounded_decoder(),
            lost: !known,
        }
    }

    #[cfg(test)]
    pub fn is_lost(&self) -> bool {
        self.lost
    }

    /// Marks the state unknown (a block was not seen whole).
    pub fn lose(&mut self) {
        self.lost = true;
    }

    /// Decodes one whole header block.
    pub fn decode(&mut self, block: &[u8]) -> (Fields, Option<Trouble>) {
        let mut fields = Fields::default();
        let mut too_many = false;
        let keep = |name: &[u8], value: &[u8]| {
            fields.count += 1;
            if fields.count > MAX_FIELDS {
                too_many = true;
                return;
            }
            if let Some(&kept) = KEPT.iter().find(|k| k.as_bytes() == name) {
                let value = &value[..value.len().min(MAX_VALUE)];
                fields
                    .fields
                    .push((kept, String::from_utf8_lossy(value).into_owned()));
            }
        };
        let result = if self.lost {
            // Alone: a fresh table holds only this block's own insertions,
            // which are the newest entries of the real one, so every index
            // it resolves is right; older ones fail.
            bounded_decoder().decode(block, keep)
        } else {
            self.decoder.decode(block, keep)
        };
        let trouble = match result {
            _ if too_many => Some(Trouble::TooManyFields),
            Ok(()) => None,
            Err(e) => Some(Trouble::Damaged(e.to_string())),
        };
        if trouble.is_some() {
            fields.incomplete = true;
            if !self.lost {
                self.lost = true;
                self.decoder = bounded_decoder();
            }
        }
        (fields, trouble)
    }
}

fn bounded_decoder() -> Decoder {
    Decoder::new(MAX_TABLE_SIZE)
}

#[cfg(test)]
mod test {
    use super::*;

    // RFC 7541 C.3.1 and C.3.2: two requests, the second using the
    // dynamic table entry the first added.
    const FIRST: &[u8] = b"\x82\x86\x84\x41\x0fwww.example.com";
    const SECOND: &[u8] = b"\x82\x86\x84\xbe\x58\x08no-cache";

    #[test]
    fn the_dynamic_table_carries_over() {
        let mut d = BlockDecoder::new(true);
        let (a, t) = d.decode(FIRST);
        assert_eq!(t, None);
        assert_eq!(a.get(":authority"), Some("www.example.com"));
        let (b, t) = d.decode(SECOND);
        assert_eq!(t, None);
        assert_eq!(b.get(":authority"), Some("www.example.com"));
        assert_eq!(b.count, 5);
    }

    #[test]
    fn unknown_table_entries_are_unknown_not_wrong() {
        let mut d = BlockDecoder::new(false);
        let (b, t) = d.decode(SECOND);
        assert!(matches!(t, Some(Trouble::Damaged(_))));
        assert!(b.incomplete);
        assert_eq!(b.get(":method"), Some("GET"), "static entries before it");
        assert_eq!(b.get(":authority"), None);
    }

    #[test]
    fn a_table_size_bomb_is_refused() {
        // Size update to 2^32 - 1, then an indexed field.
        let bomb = b"\x3f\xe1\xff\xff\xff\x0f\x82";
        let mut d = BlockDecoder::new(true);
        let (f, t) = d.decode(bomb);
        assert!(t.is_some());
        assert!(d.is_lost());
        assert_eq!(f.count, 0);
    }

    #[test]
    fn huffman_garbage_is_an_error() {
        let mut d = BlockDecoder::new(true);
        let (_, t) = d.decode(b"\x40\x81\xff\x81\xff");
        assert!(t.is_some());
    }

    #[test]
    fn millions_of_fields_stop_at_the_cap() {
        let block = vec![0x82u8; MAX_FIELDS * 3];
        let mut d = BlockDecoder::new(true);
        let (f, t) = d.decode(&block);
        assert_eq!(t, Some(Trouble::TooManyFields));
        assert!(f.fields.len() <= MAX_FIELDS);
    }
}
