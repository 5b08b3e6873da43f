//! Upload IDs: 128 random bits, written as 32 lowercase hex digits. A link
//! is how an upload is shared, so an ID must not be guessable; and an ID
//! from a URL is parsed strictly before it can name anything on disk.
//!
//! One ID type per kind of upload ([`CaptureId`], [`StraceId`]): the same
//! text form, but a capture's ID can never be passed where a strace log's
//! is meant.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::marker::PhantomData;
use std::str::FromStr;

/// A kind of upload, naming its IDs.
pub trait IdKind: 'static {
    /// What the ID names, in words (`capture`, `strace log`).
    const NOUN: &'static str;
}

/// Marks [`CaptureId`].
#[derive(Debug)]
pub enum Capture {}

/// Marks [`StraceId`].
#[derive(Debug)]
pub enum Strace {}

impl IdKind for Capture {
    const NOUN: &'static str = "capture";
}

impl IdKind for Strace {
    const NOUN: &'static str = "strace log";
}

/// The ID of one upload of kind `K`.
pub struct Id<K: IdKind> {
    bytes: [u8; 16],
    kind: PhantomData<fn() -> K>,
}

/// The ID of a stored capture.
pub type CaptureId = Id<Capture>;
/// The ID of a stored strace upload.
pub type StraceId = Id<Strace>;

impl<K: IdKind> Id<K> {
    pub(crate) const fn from_bytes(bytes: [u8; 16]) -> Id<K> {
        Id {
            bytes,
            kind: PhantomData,
        }
    }

    /// A new random ID from the operating system's generator.
    pub fn random() -> std::io::Result<Id<K>> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(Id::from_bytes(b))
    }
}

// Written out rather than derived: a derive would ask the same of `K`,
// which is only a marker.
impl<K: IdKind> Clone for Id<K> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<K: IdKind> Copy for Id<K> {}

impl<K: IdKind> PartialEq for Id<K> {
    fn eq(&self, other: &Self) -> bool {
        self.bytes == other.bytes
    }
}

impl<K: IdKind> Eq for Id<K> {}

impl<K: IdKind> Hash for Id<K> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.bytes.hash(state);
    }
}

impl<K: IdKind> PartialOrd for Id<K> {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl<K: IdKind> Ord for Id<K> {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes.cmp(&other.bytes)
    }
}

impl<K: IdKind> fmt::Display for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.bytes {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl<K: IdKind> fmt::Debug for Id<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {self}", K::NOUN)
    }
}

/// The text is not 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an upload id")]
pub struct BadId;

impl<K: IdKind> FromStr for Id<K> {
    type Err = BadId;

    fn from_str(s: &str) -> Result<Id<K>, BadId> {
        let s = s.as_bytes();
        if s.len() != 32 {
            return Err(BadId);
        }
        let digit = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            _ => Err(BadId),
        };
        let mut out = [0u8; 16];
        for (i, pair) in s.chunks_exact(2).enumerate() {
            out[i] = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Ok(Id::from_bytes(out))
    }
}

impl<K: IdKind> serde::Serialize for Id<K> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let id = CaptureId::random().unwrap();
        let text = id.to_string();
        assert_eq!(text.len(), 32);
        assert_eq!(text.parse::<CaptureId>(), Ok(id));
        assert_ne!(CaptureId::random().unwrap(), id);
        for bad in [
            "",
            "../../etc/passwd",
            "0123456789ABCDEF0123456789abcdef",
            "0123456789abcdef0123456789abcde",
            "0123456789abcdef0123456789abcdef0",
            "0123456789abcdef0123456789abcdeg",
        ] {
            assert_eq!(bad.parse::<CaptureId>(), Err(BadId), "{bad}");
        }
    }

    #[test]
    fn kinds_share_the_text_form() {
        let s: StraceId = "0123456789abcdef0123456789abcdef".parse().unwrap();
        assert_eq!(s.to_string(), "0123456789abcdef0123456789abcdef");
        assert_eq!(
            format!("{s:?}"),
            "strace log 0123456789abcdef0123456789abcdef"
        );
    }
}
