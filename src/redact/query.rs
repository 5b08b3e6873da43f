//! Query values of a request target: masked in place, keys kept.

/// Where a request target's scan is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueryScan {
    #[default]
    Path,
    Key,
    Value,
    Fragment,
}

impl QueryScan {
    /// Steps over one target byte; true when the byte is a query value (or
    /// fragment) byte, to be masked.
    pub fn step(&mut self, b: u8) -> bool {
        match (*self, b) {
            (QueryScan::Fragment, _) => true,
            (_, b'#') => {
                *self = QueryScan::Fragment;
                false
            }
            (QueryScan::Path, b'?') | (QueryScan::Key | QueryScan::Value, b'&' | b';') => {
                *self = QueryScan::Key;
                false
            }
            (QueryScan::Key, b'=') => {
                *self = QueryScan::Value;
                false
            }
            (QueryScan::Value, _) => true,
            _ => false,
        }
    }
}

/// Masks query values (and any fragment) of a request target, keeping its
/// length: `/a?user=bob&x` becomes `/a?user=xxx&x`.
pub fn mask_query(target: &str, fill: u8) -> String {
    let mut scan = QueryScan::Path;
    let bytes: Vec<u8> = target
        .bytes()
        .map(|b| if scan.step(b) { fill } else { b })
        .collect();
    // Masked runs cover whole characters (they end at ASCII delimiters).
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn query_values_are_masked_in_place() {
        assert_eq!(
            mask_query("/a?user=bob&x&k=é#frag", b'x'),
            "/a?user=xxx&x&k=xx#xxxx"
        );
        assert_eq!(mask_query("/plain", b'x'), "/plain");
    }
}
