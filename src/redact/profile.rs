//! What a redaction hides: which header values, query values and bodies
//! are masked, and whether addresses are pseudonymised. A profile is plain
//! data; the [`Redactor`](super::Redactor) pairs it with a key.

use std::str::FromStr;

/// Headers whose values are always masked when headers are redacted
/// (compared without regard to case).
pub const SENSITIVE_HEADERS: [&str; 5] = [
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
];

/// Headers whose values name client addresses: masked whenever addresses
/// are pseudonymised (a pseudonym would not fit in the same length).
pub const ADDRESS_HEADERS: [&str; 4] = [
    "x-forwarded-for",
    "x-real-ip",
    "forwarded",
    "true-client-ip",
];

/// Media types whose bodies `BodyPolicy::KeepSafeTypes` keeps by default:
/// static assets that carry no user data.
pub const SAFE_BODY_TYPES: [&str; 8] = [
    "image/",
    "font/",
    "audio/",
    "video/",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/wasm",
];

/// The byte that replaces a masked byte: printable, never part of HTTP
/// framing, so a masked head still parses the same.
pub const FILL: u8 = b'x';

/// What happens to HTTP message bodies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BodyPolicy {
    /// Bodies are kept as they are.
    Keep,
    /// Every body byte is masked (chunk framing kept).
    Hidden,
    /// Bodies are masked unless their Content-Type starts with one of
    /// these prefixes (lower case).
    KeepSafeTypes(Vec<String>),
}

/// What one redaction hides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    /// Mask the values of [`SENSITIVE_HEADERS`] and of `extra_headers`.
    pub mask_headers: bool,
    /// More header names to mask (lower case).
    pub extra_headers: Vec<String>,
    /// Mask query-string values in request targets (keys are kept).
    pub mask_query: bool,
    pub bodies: BodyPolicy,
    /// Pseudonymise IP addresses with Crypto-PAn (ports are kept).
    pub pseudonymise_addresses: bool,
    /// Mask TCP/UDP payload that is not HTTP/1.x (or that follows a gap,
    /// where the HTTP framing is lost), instead of keeping it.
    pub mask_other_payload: bool,
}

/// The named profiles of `tracedeck redact --profile` and of share links.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileName {
    /// Everything below: headers, queries, every body, non-HTTP payload,
    /// addresses.
    Strict,
    /// Headers and query values; bodies kept only for safe media types;
    /// addresses kept.
    Headers,
    /// Addresses only.
    Addresses,
}

impl FromStr for ProfileName {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "strict" => Ok(ProfileName::Strict),
            "headers" => Ok(ProfileName::Headers),
            "addresses" => Ok(ProfileName::Addresses),
            other => Err(format!(
                "unknown redaction profile {other:?} (expected strict, headers or addresses)"
            )),
        }
    }
}

impl Profile {
    pub fn named(name: ProfileName) -> Profile {
        match name {
            ProfileName::Strict => Profile {
                mask_headers: true,
                extra_headers: Vec::new(),
                mask_query: true,
                bodies: BodyPolicy::Hidden,
                pseudonymise_addresses: true,
                mask_other_payload: true,
            },
            ProfileName::Headers => Profile {
                mask_headers: true,
                extra_headers: Vec::new(),
                mask_query: true,
                bodies: BodyPolicy::KeepSafeTypes(
                    SAFE_BODY_TYPES.iter().map(|t| t.to_string()).collect(),
                ),
                pseudonymise_addresses: false,
                mask_other_payload: false,
            },
            ProfileName::Addresses => Profile {
                mask_headers: false,
                extra_headers: Vec::new(),
                mask_query: false,
                bodies: BodyPolicy::Keep,
                pseudonymise_addresses: true,
                mask_other_payload: false,
            },
        }
    }

    /// Columns of the capture tables (conversations, HTTP, DNS,
    /// endpoints) whose shown values this profile redacts: sorting a
    /// shared table by one would tell the order of the real values.
    pub fn hidden_columns(&self) -> Vec<&'static str> {
        let mut columns = Vec::new();
        if self.pseudonymise_addresses {
            columns.extend([
                "client", "server", "tunnel", "host", "answers", "name", "verdict",
            ]);
        }
        if self.mask_query {
            columns.push("uri");
        }
        columns
    }

    /// Adds header names to mask (any case).
    pub fn with_extra_headers<I: IntoIterator<Item = S>, S: AsRef<str>>(
        mut self,
        names: I,
    ) -> Self {
        self.extra_headers
            .extend(names.into_iter().map(|n| n.as_ref().to_ascii_lowercase()));
        self
    }

    /// Whether any payload byte can be masked (addresses count: a Host or
    /// X-Forwarded-For value can name one): without it, streams and
    /// packets are left as they are.
    pub fn touches_payload(&self) -> bool {
        self.masks_values() || self.pseudonymise_addresses
    }

    /// Whether the profile masks payload values (headers, queries, bodies,
    /// other payload): where HTTP framing is lost (after a gap, in an IP
    /// fragment) such a profile masks everything, since nothing there can
    /// be shown safe.
    pub fn masks_values(&self) -> bool {
        self.mask_headers
            || self.mask_query
            || self.bodies != BodyPolicy::Keep
            || self.mask_other_payload
    }

    /// Whether the value of header `name` is masked.
    pub fn masks_header(&self, name: &[u8]) -> bool {
        let name = trim(name);
        if self.pseudonymise_addresses
            && ADDRESS_HEADERS
                .iter()
                .any(|h| h.as_bytes().eq_ignore_ascii_case(name))
        {
            return true;
        }
        if !self.mask_headers {
            return false;
        }
        SENSITIVE_HEADERS
            .iter()
            .map(|h| h.as_bytes())
            .chain(self.extra_headers.iter().map(|h| h.as_bytes()))
            .any(|h| h.eq_ignore_ascii_case(name))
    }

    /// Whether a body of this Content-Type (None: no header) is masked.
    pub fn masks_body(&self, content_type: Option<&[u8]>) -> bool {
        match &self.bodies {
            BodyPolicy::Keep => false,
            BodyPolicy::Hidden => true,
            BodyPolicy::KeepSafeTypes(safe) => {
                let Some(ct) = content_type.map(|c| trim(c).to_ascii_lowercase()) else {
                    return true;
                };
                !safe.iter().any(|s| ct.starts_with(s.as_bytes()))
            }
        }
    }
}

fn trim(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    let end = b
        .iter()
        .rposition(|c| !c.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &b[start..end]
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn headers_match_without_case_and_extras_count() {
        let p = Profile::named(ProfileName::Headers).with_extra_headers(["X-Session-Token"]);
        assert!(p.masks_header(b"Authorization"));
        assert!(p.masks_header(b"set-cookie "));
        assert!(p.masks_header(b"x-session-token"));
        assert!(!p.masks_header(b"Content-Length"));
        let addresses = Profile::named(ProfileName::Addresses);
        assert!(!addresses.masks_header(b"Cookie"));
        assert!(addresses.masks_header(b"X-Forwarded-For"));
        assert!(!p.masks_header(b"X-Forwarded-For"));
    }

    #[test]
    fn only_safe_media_types_keep_their_bodies() {
        let p = Profile::named(ProfileName::Headers);
        assert!(!p.masks_body(Some(b" image/png")));
        assert!(!p.masks_body(Some(b"Text/CSS; charset=utf-8")));
        assert!(p.masks_body(Some(b"application/json")));
        assert!(p.masks_body(None));
        assert!(Profile::named(ProfileName::Strict).masks_body(Some(b"image/png")));
        assert!(!Profile::named(ProfileName::Addresses).masks_body(None));
    }

    #[test]
    fn profile_names_parse() {
        assert_eq!("strict".parse(), Ok(ProfileName::Strict));
        assert!("loose".parse::<ProfileName>().is_err());
    }
}
