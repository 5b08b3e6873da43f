//! Keyset cursors: where the next page of a sorted table starts (`after=`,
//! README "Limits"). A cursor is the sort value and the id of the last row
//! shown, so the store seeks to it in an index instead of counting past
//! every row before it: a deep page costs what the first one does.
//!
//! The text form is opaque to users (they follow the `next` link):
//! `n.ID` (no value), `iN.ID` (a number), `tB64.ID` (text), `kB64.ID`
//! (an address's sort key), base64url without padding.

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

use super::query::{shown, QueryError};

/// Longest cursor text accepted.
const MAX_CURSOR_LEN: usize = 1024;

/// The sort value of the row a page starts after, as the store compares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SortValue {
    Null,
    Int(i64),
    Text(String),
    /// The sortable key of an address column.
    Key(Vec<u8>),
}

/// A page starts just after the row sorting at `value` with stored `id`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub value: SortValue,
    pub id: u64,
}

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            SortValue::Null => write!(f, "n")?,
            SortValue::Int(n) => write!(f, "i{n}")?,
            SortValue::Text(t) => write!(f, "t{}", URL_SAFE_NO_PAD.encode(t))?,
            SortValue::Key(k) => write!(f, "k{}", URL_SAFE_NO_PAD.encode(k))?,
        }
        write!(f, ".{}", self.id)
    }
}

impl FromStr for Cursor {
    type Err = QueryError;

    fn from_str(s: &str) -> Result<Cursor, QueryError> {
        let bad = || {
            QueryError(format!(
                "after must be the cursor of a page's next link, not '{}'",
                shown(s)
            ))
        };
        if s.len() > MAX_CURSOR_LEN {
            return Err(bad());
        }
        let (value, id) = s.rsplit_once('.').ok_or_else(bad)?;
        let id: u64 = id.parse().map_err(|_| bad())?;
        if id > super::query::MAX_OFFSET {
            return Err(bad());
        }
        let decode = |b64: &str| URL_SAFE_NO_PAD.decode(b64).map_err(|_| bad());
        let value = match value.split_at_checked(1) {
            Some(("n", "")) => SortValue::Null,
            Some(("i", n)) => SortValue::Int(n.parse().map_err(|_| bad())?),
            Some(("t", b64)) => SortValue::Text(String::from_utf8(decode(b64)?).map_err(|_| bad())?),
            Some(("k", b64)) => SortValue::Key(decode(b64)?),
            _ => return Err(bad()),
        };
        Ok(Cursor { value, id })
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        for value in [
            SortValue::Null,
            SortValue::Int(-42),
            SortValue::Int(i64::MAX),
            SortValue::Text("GET /a.b?c=d".into()),
            SortValue::Key(vec![0, 255, 7]),
        ] {
            let c = Cursor { value, id: 12 };
            assert_eq!(c.to_string().parse::<Cursor>(), Ok(c.clone()));
        }
        assert_eq!(Cursor::from_str("i5.9").unwrap().value, SortValue::Int(5));
        for bad in ["", "5", "x1.2", "i.2", "iz.2", "n.-1", "t!!.3", "n1.2", "i1.2.3x"] {
            assert!(bad.parse::<Cursor>().is_err(), "{bad}");
        }
        assert!("n.1".repeat(400).parse::<Cursor>().is_err());
    }
}
