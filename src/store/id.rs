//! Capture IDs: 128 random bits, written as 32 lowercase hex digits. A link
//! is how a capture is shared, so an ID must not be guessable; and an ID
//! from a URL is parsed strictly before it can name anything on disk.

use std::fmt;
use std::str::FromStr;

/// The ID of a stored capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaptureId([u8; 16]);

impl CaptureId {
    pub(crate) const fn from_bytes(b: [u8; 16]) -> CaptureId {
        CaptureId(b)
    }

    /// A new random ID from the operating system's generator.
    pub fn random() -> std::io::Result<CaptureId> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b).map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(CaptureId(b))
    }
}

impl fmt::Display for CaptureId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

/// The text is not 32 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a capture id")]
pub struct BadId;

impl FromStr for CaptureId {
    type Err = BadId;

    fn from_str(s: &str) -> Result<CaptureId, BadId> {
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
        Ok(CaptureId(out))
    }
}

impl serde::Serialize for CaptureId {
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
}
