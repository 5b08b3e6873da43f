//! Share links (README, "Share links"): each is its own capability token
//! for one saved view of one upload, kept in `auth.db` next to the
//! accounts. Only the SHA-256 of a link's token is stored, like API
//! tokens; each link has its own random Crypto-PAn key, so the pseudonyms
//! of two links cannot be joined.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

use super::auth::{digest, AuthStore, Error, Result};
use super::lock;
use crate::redact::cryptopan::KEY_LEN;
use crate::redact::ProfileName;
use crate::time::Timestamp;

/// Bytes of randomness in a share token.
const TOKEN_BYTES: usize = 32;
/// Characters of a share token: 32 bytes in unpadded base64url.
pub const TOKEN_LEN: usize = 43;

/// The shares table, added by schema version 1 of `auth.db`.
const SCHEMA_V1: &str = "
CREATE TABLE IF NOT EXISTS shares (
    number INTEGER PRIMARY KEY AUTOINCREMENT,
    hash TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    upload TEXT NOT NULL,
    owner TEXT,
    view TEXT NOT NULL,
    profile TEXT NOT NULL,
    key BLOB NOT NULL,
    created_ns INTEGER NOT NULL,
    expires_ns INTEGER NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0,
    last_used_ns INTEGER,
    views INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS shares_by_upload ON shares(kind, upload, created_ns);
";

/// Brings `auth.db` to the schema version this build reads (`PRAGMA
/// user_version`): 0 has accounts only, 1 adds share links.
pub(super) fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < 1 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V1} PRAGMA user_version = 1; COMMIT;"
        ))?;
    }
    Ok(())
}

/// The profile's name as a share link stores it.
pub fn profile_name(p: ProfileName) -> &'static str {
    match p {
        ProfileName::Strict => "strict",
        ProfileName::Headers => "headers",
        ProfileName::Addresses => "addresses",
    }
}

/// Whether `text` is shaped like a share token (43 base64url characters
/// that decode to 32 bytes): anything else is refused before a lookup.
pub fn is_token(text: &str) -> bool {
    text.len() == TOKEN_LEN
        && URL_SAFE_NO_PAD
            .decode(text)
            .is_ok_and(|b| b.len() == TOKEN_BYTES)
}

/// A link to be made.
#[derive(Clone, Debug)]
pub struct NewShare {
    /// `capture` or `strace`, and the upload's ID.
    pub kind: String,
    pub upload: String,
    /// Who made it (none on an open server).
    pub owner: Option<String>,
    /// The view it opens: a path under the upload, with its query.
    pub view: String,
    pub profile: ProfileName,
    pub expires: Timestamp,
}

/// A stored link (never its token).
#[derive(Clone, Debug, Serialize)]
pub struct Share {
    /// The link's number, for the list and revocation.
    pub number: i64,
    #[serde(skip)]
    pub kind: String,
    #[serde(skip)]
    pub upload: String,
    pub owner: Option<String>,
    pub view: String,
    #[serde(serialize_with = "serialize_profile")]
    pub profile: ProfileName,
    #[serde(skip)]
    pub key: [u8; KEY_LEN],
    pub created: Timestamp,
    pub expires: Timestamp,
    pub revoked: bool,
    pub last_used: Option<Timestamp>,
    pub views: u64,
}

fn serialize_profile<S: serde::Serializer>(
    p: &ProfileName,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(profile_name(*p))
}

impl Share {
    /// `live`, `expired` or `revoked`, at `now`.
    pub fn state(&self, now: Timestamp) -> &'static str {
        if self.revoked {
            "revoked"
        } else if self.expires <= now {
            "expired"
        } else {
            "live"
        }
    }
}

/// What a token opens.
#[derive(Clone, Debug)]
pub enum Opened {
    Live(Share),
    /// Past its expiry (a revoked or unknown token opens nothing).
    Expired(Share),
}

const COLUMNS: &str = "number, kind, upload, owner, view, profile, key, created_ns, expires_ns, \
                       revoked, last_used_ns, views";

fn share_of(r: &Row) -> rusqlite::Result<Share> {
    let profile: String = r.get(5)?;
    let key: Vec<u8> = r.get(6)?;
    let bad = |what: &str| {
        rusqlite::Error::FromSqlConversionFailure(
            6,
            rusqlite::types::Type::Blob,
            format!("share {what}").into(),
        )
    };
    Ok(Share {
        number: r.get(0)?,
        kind: r.get(1)?,
        upload: r.get(2)?,
        owner: r.get(3)?,
        view: r.get(4)?,
        profile: profile.parse().map_err(|_| bad("profile"))?,
        key: key.try_into().map_err(|_| bad("key"))?,
        created: Timestamp::from_nanos(r.get(7)?),
        expires: Timestamp::from_nanos(r.get(8)?),
        revoked: r.get(9)?,
        last_used: r.get::<_, Option<i64>>(10)?.map(Timestamp::from_nanos),
        views: u64::try_from(r.get::<_, i64>(11)?).unwrap_or(0),
    })
}

/// Nanoseconds in a UTC day: a view is audited once per link and day.
const DAY_NS: i64 = 86_400 * 1_000_000_000;

impl AuthStore {
    /// Stores a new link with a fresh token and key; returns the token
    /// (shown once) and the link.
    pub fn create_share(&self, new: &NewShare) -> Result<(String, Share)> {
        let mut raw = [0u8; TOKEN_BYTES];
        getrandom::fill(&mut raw).map_err(|e| Error::Random(e.to_string()))?;
        let token = URL_SAFE_NO_PAD.encode(raw);
        let mut key = [0u8; KEY_LEN];
        getrandom::fill(&mut key).map_err(|e| Error::Random(e.to_string()))?;
        let created = Timestamp::now();
        let conn = lock(&self.conn);
        conn.execute(
            "INSERT INTO shares (hash, kind, upload, owner, view, profile, key, created_ns,
                                 expires_ns)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                digest(&token),
                new.kind,
                new.upload,
                new.owner,
                new.view,
                profile_name(new.profile),
                &key[..],
                created.as_nanos(),
                new.expires.as_nanos()
            ],
        )?;
        let share = Share {
            number: conn.last_insert_rowid(),
            kind: new.kind.clone(),
            upload: new.upload.clone(),
            owner: new.owner.clone(),
            view: new.view.clone(),
            profile: new.profile,
            key,
            created,
            expires: new.expires,
            revoked: false,
            last_used: None,
            views: 0,
        };
        Ok((token, share))
    }

    /// The link a token opens at `now`: none for a malformed, unknown or
    /// revoked token.
    pub fn open_share(&self, token: &str, now: Timestamp) -> Result<Option<Opened>> {
        if !is_token(token) {
            return Ok(None);
        }
        let share = lock(&self.conn)
            .query_row(
                &format!("SELECT {COLUMNS} FROM shares WHERE hash = ?1 AND revoked = 0"),
                params![digest(token)],
                share_of,
            )
            .optional()?;
        Ok(share.map(|s| {
            if s.expires <= now {
                Opened::Expired(s)
            } else {
                Opened::Live(s)
            }
        }))
    }

    /// Counts a view of link `number` at `now`; true when it is the
    /// link's first view of that UTC day (the one the audit log records).
    pub fn share_viewed(&self, number: i64, now: Timestamp) -> Result<bool> {
        let conn = lock(&self.conn);
        let last: Option<i64> = conn
            .query_row(
                "SELECT last_used_ns FROM shares WHERE number = ?1",
                params![number],
                |r| r.get(0),
            )
            .optional()?
            .flatten();
        conn.execute(
            "UPDATE shares SET views = views + 1, last_used_ns = ?2 WHERE number = ?1",
            params![number, now.as_nanos()],
        )?;
        Ok(last.is_none_or(|l| l.div_euclid(DAY_NS) != now.as_nanos().div_euclid(DAY_NS)))
    }

    /// The links of one upload, newest first.
    pub fn shares_of(&self, kind: &str, upload: &str) -> Result<Vec<Share>> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM shares WHERE kind = ?1 AND upload = ?2
             ORDER BY created_ns DESC, number DESC"
        ))?;
        let rows = stmt.query_map(params![kind, upload], share_of)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Revokes link `number` of this upload; false when the upload has no
    /// such link.
    pub fn revoke_share(&self, kind: &str, upload: &str, number: i64) -> Result<bool> {
        let n = lock(&self.conn).execute(
            "UPDATE shares SET revoked = 1 WHERE kind = ?1 AND upload = ?2 AND number = ?3",
            params![kind, upload, number],
        )?;
        Ok(n > 0)
    }

    /// Forgets every link of a deleted upload.
    pub(super) fn forget_shares(conn: &Connection, kind: &str, upload: &str) -> Result<()> {
        conn.execute(
            "DELETE FROM shares WHERE kind = ?1 AND upload = ?2",
            params![kind, upload],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn new_share(expires: Timestamp) -> NewShare {
        NewShare {
            kind: "capture".into(),
            upload: "0123456789abcdef0123456789abcdef".into(),
            owner: Some("ann".into()),
            view: "/http?status=5xx".into(),
            profile: ProfileName::Strict,
            expires,
        }
    }

    #[test]
    fn tokens_open_their_link_until_expiry_or_revocation() {
        let dir = tempfile::tempdir().unwrap();
        let s = AuthStore::open(dir.path()).unwrap();
        let now = Timestamp::now();
        let later = Timestamp::from_nanos(now.as_nanos() + DAY_NS);
        let (token, share) = s.create_share(&new_share(later)).unwrap();
        assert!(is_token(&token), "{token}");
        let (other, second) = s.create_share(&new_share(later)).unwrap();
        assert_ne!(token, other);
        assert_ne!(share.key, second.key, "one key per link");

        let Some(Opened::Live(found)) = s.open_share(&token, now).unwrap() else {
            panic!("live link not found");
        };
        assert_eq!(
            (found.number, found.view.as_str()),
            (share.number, "/http?status=5xx")
        );
        assert_eq!(found.key, share.key);
        assert!(matches!(
            s.open_share(&token, later).unwrap(),
            Some(Opened::Expired(_))
        ));

        assert!(s.share_viewed(share.number, now).unwrap(), "first view");
        assert!(!s.share_viewed(share.number, now).unwrap(), "same day");
        let listed = s.shares_of("capture", &share.upload).unwrap();
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[1].views, 2);

        assert!(!s.revoke_share("capture", "another", share.number).unwrap());
        assert!(s
            .revoke_share("capture", &share.upload, share.number)
            .unwrap());
        assert!(s.open_share(&token, now).unwrap().is_none());
        assert_eq!(listed[1].state(now), "live");
    }

    #[test]
    fn removing_the_owner_revokes_their_links() {
        let dir = tempfile::tempdir().unwrap();
        let s = AuthStore::open(dir.path()).unwrap();
        s.add_user("ann", "password", false).unwrap();
        let now = Timestamp::now();
        let later = Timestamp::from_nanos(now.as_nanos() + DAY_NS);
        let (token, _) = s.create_share(&new_share(later)).unwrap();
        let mut bobs = new_share(later);
        bobs.owner = Some("bob".into());
        let (kept, _) = s.create_share(&bobs).unwrap();
        s.remove_user("ann").unwrap();
        assert!(s.open_share(&token, now).unwrap().is_none());
        assert!(s.open_share(&kept, now).unwrap().is_some());
    }

    #[test]
    fn garbage_tokens_are_refused_before_a_lookup() {
        let dir = tempfile::tempdir().unwrap();
        let s = AuthStore::open(dir.path()).unwrap();
        let now = Timestamp::now();
        for bad in [
            "",
            "short",
            &"A".repeat(44),
            &"!".repeat(43),
            // 43 characters whose last one carries bits past 32 bytes.
            &format!("{}B", "A".repeat(42)),
            "0123456789abcdef0123456789abcdef",
        ] {
            assert!(!is_token(bad), "{bad:?}");
            assert!(s.open_share(bad, now).unwrap().is_none());
        }
        assert!(s.open_share(&"A".repeat(43), now).unwrap().is_none());
    }

    #[test]
    fn the_schema_is_migrated_once() {
        let dir = tempfile::tempdir().unwrap();
        drop(AuthStore::open(dir.path()).unwrap());
        let s = AuthStore::open(dir.path()).unwrap();
        let v: i64 = lock(&s.conn)
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        // Later versions (2: teams) build on this one.
        assert!(v >= 1, "{v}");
    }
}
