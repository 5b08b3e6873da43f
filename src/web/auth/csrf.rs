//! CSRF tokens: a keyed hash of what a browser's identity is bound to
//! (its session, or nothing on an open server). A page on another origin
//! cannot read one, so a form it posts carries none.
//!
//! Every form that changes something carries the token as the [`PARAM`]
//! query parameter of its action (a multipart upload streams to disk
//! before its fields could be read, so the body cannot carry it). The
//! guard adds it to every `method="post"` form of every page, those to
//! come included, and checks it on every form post from a browser.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The name of the token, as a query parameter or a form field.
pub(crate) const PARAM: &str = "csrf";

/// The token for `bound_to` under `key`.
pub(crate) fn token(key: &[u8; 32], bound_to: &str) -> String {
    let mut h = Sha256::new();
    h.update(b"tracedeck csrf\0");
    h.update(key);
    h.update(bound_to.as_bytes());
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether `given` is `expected`, in constant time.
pub(crate) fn matches(expected: &str, given: &str) -> bool {
    bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn tokens_depend_on_key_and_binding() {
        let (k1, k2) = ([1u8; 32], [2u8; 32]);
        let t = token(&k1, "session-a");
        assert_eq!(t.len(), 64);
        assert!(matches(&t, &token(&k1, "session-a")));
        assert_ne!(t, token(&k2, "session-a"));
        assert_ne!(t, token(&k1, "session-b"));
        assert!(!matches(&t, ""));
    }
}
