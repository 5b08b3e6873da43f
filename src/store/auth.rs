//! Accounts and who owns what (README, "Accounts and sharing"): users with
//! argon2id password hashes, browser sessions, API tokens, the owner of
//! each upload, and the audit log, in `auth.db` of the data directory
//! (teams: `store::teams`).
//!
//! Session and token secrets are 256 random bits; only their SHA-256 is
//! stored, so a copy of the database opens nothing.

use std::path::Path;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::lock;
use crate::time::Timestamp;

/// File name of the accounts database in the data directory.
pub const AUTH_DB: &str = "auth.db";

/// What went wrong with accounts.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("accounts database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("opening {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error("creating {path}: {source}")]
    Dir {
        path: String,
        source: std::io::Error,
    },
    #[error("user {0:?} already exists")]
    UserExists(String),
    #[error("no user {0:?}")]
    NoUser(String),
    #[error("no token {0:?} (`tracedeck token list` shows the IDs)")]
    NoToken(String),
    #[error("token ID {0:?} names more than one token: give more of it")]
    AmbiguousToken(String),
    #[error("{0:?} is not a usable user name: 1 to 64 letters, digits, '.', '_', '-' or '@'")]
    BadName(String),
    #[error("team {0:?} already exists")]
    TeamExists(String),
    #[error("no team {0:?} (`tracedeck team list` shows them)")]
    NoTeam(String),
    #[error("{0:?} is already in team {1:?}")]
    AlreadyMember(String, String),
    #[error("{0:?} is not in team {1:?}")]
    NotMember(String, String),
    #[error("{0} has no owner (it was uploaded while the server was open)")]
    NoOwner(String),
    #[error("password hashing: {0}")]
    Hash(String),
    #[error("random numbers: {0}")]
    Random(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// What an API token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Create uploads, nothing else (the capture agent's).
    Upload,
    /// Read what its user may see; change nothing.
    Read,
    /// Everything its user may do in a browser.
    Admin,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Upload => "upload",
            Scope::Read => "read",
            Scope::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Scope> {
        [Scope::Upload, Scope::Read, Scope::Admin]
            .into_iter()
            .find(|x| x.as_str() == s)
    }
}

/// A signed-in person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    pub name: String,
    /// Sees every upload and the audit log.
    pub admin: bool,
}

/// One line of the audit log.
#[derive(Clone, Debug, Serialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// `login`, `login-failed`, `upload`, `delete`, `refused`, …
    pub event: String,
    pub user: Option<String>,
    /// The client's address.
    pub client: String,
    pub detail: String,
}

/// An account, as `tracedeck user list` shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub name: String,
    pub admin: bool,
    pub created: Timestamp,
    /// Live API tokens of the account.
    pub tokens: u64,
}

/// An API token, as `tracedeck token list` shows it: never its secret.
#[derive(Clone, Debug, Serialize)]
pub struct TokenInfo {
    /// The first [`TOKEN_ID_LEN`] hex digits of the secret's SHA-256: names
    /// the token without opening anything.
    pub id: String,
    pub user: String,
    pub scope: Scope,
    pub created: Timestamp,
    pub expires: Option<Timestamp>,
    /// The last request it signed, to the minute ([`TOKEN_USE_STEP`]).
    pub last_used: Option<Timestamp>,
}

/// Hex digits of a token's hash shown as its ID.
pub const TOKEN_ID_LEN: usize = 12;

/// A token's last use is written at most this often, so that a busy agent
/// does not turn every request into a write.
const TOKEN_USE_STEP: Duration = Duration::from_secs(60);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS users (
    name TEXT PRIMARY KEY NOT NULL,
    hash TEXT NOT NULL,
    admin INTEGER NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    hash TEXT PRIMARY KEY NOT NULL,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    expires_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    hash TEXT PRIMARY KEY NOT NULL,
    user TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    expires_ns INTEGER
);
CREATE TABLE IF NOT EXISTS owners (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    user TEXT NOT NULL,
    created_ns INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS owners_by_user ON owners(kind, user, created_ns);
CREATE TABLE IF NOT EXISTS audit (
    at_ns INTEGER NOT NULL,
    event TEXT NOT NULL,
    user TEXT,
    client TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_time ON audit(at_ns);
";

/// Hashed (once, on the first unknown name) and verified against when
/// the user does not exist, so that a wrong name takes as long as a wrong
/// password.
const DECOY_PASSWORD: &str = "tracedeck decoy password";

/// Users, sessions, tokens, owners and the audit log.
pub struct AuthStore {
    pub(super) conn: Mutex<Connection>,
    decoy: OnceLock<String>,
}

/// `n` random bytes as lowercase hex.
fn random_hex(n: usize) -> Result<String> {
    let mut b = vec![0u8; n];
    getrandom::fill(&mut b).map_err(|e| Error::Random(e.to_string()))?;
    Ok(hex(&b))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// What is stored of a session or token secret.
pub(super) fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

fn hash_password(password: &str) -> Result<String> {
    let salt = SaltString::encode_b64(random_hex(16)?.as_bytes())
        .map_err(|e| Error::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash(e.to_string()))
}

fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Whether `name` may name a user: it is shown on pages and in the audit
/// log, and may come from a proxy's header.
pub fn is_valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-@+".contains(&b))
}

/// Secrets of API tokens start with this, so they are easy to spot in a
/// file or a log.
const TOKEN_PREFIX: &str = "tdk_";

impl AuthStore {
    /// Opens (creating if needed) `auth.db` in `dir`.
    pub fn open(dir: &Path) -> Result<AuthStore> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Dir {
            path: dir.display().to_string(),
            source,
        })?;
        let path = dir.join(AUTH_DB);
        let conn = Connection::open(&path).map_err(|source| Error::Open {
            path: path.display().to_string(),
            source,
        })?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON;")?;
        conn.execute_batch(SCHEMA)?;
        migrate(&conn)?;
        super::shares::migrate(&conn)?;
        super::teams::migrate(&conn)?;
        Ok(AuthStore {
            conn: Mutex::new(conn),
            decoy: OnceLock::new(),
        })
    }

    /// Whether any account exists (the server then requires sign-in).
    pub fn has_users(&self) -> Result<bool> {
        let n: i64 = lock(&self.conn).query_row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        Ok(n > 0)
    }

    pub fn add_user(&self, name: &str, password: &str, admin: bool) -> Result<()> {
        if !is_valid_name(name) {
            return Err(Error::BadName(name.to_string()));
        }
        let hash = hash_password(password)?;
        let inserted = lock(&self.conn).execute(
            "INSERT OR IGNORE INTO users (name, hash, admin, created_ns) VALUES (?1, ?2, ?3, ?4)",
            params![name, hash, admin, Timestamp::now().as_nanos()],
        )?;
        if inserted == 0 {
            return Err(Error::UserExists(name.to_string()));
        }
        Ok(())
    }

    /// The user, if the password is theirs. Slow on purpose (argon2id),
    /// as slow for an unknown name.
    pub fn check_password(&self, name: &str, password: &str) -> Result<Option<User>> {
        let row: Option<(String, bool)> = lock(&self.conn)
            .query_row(
                "SELECT hash, admin FROM users WHERE name = ?1",
                params![name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((phc, admin)) if password_matches(password, &phc) => Some(User {
                name: name.to_string(),
                admin,
            }),
            Some(_) => None,
            None => {
                let decoy = self
                    .decoy
                    .get_or_init(|| hash_password(DECOY_PASSWORD).unwrap_or_default());
                password_matches(password, decoy);
                None
            }
        })
    }

    pub fn user(&self, name: &str) -> Result<Option<User>> {
        Ok(lock(&self.conn)
            .query_row(
                "SELECT admin FROM users WHERE name = ?1",
                params![name],
                |r| r.get::<_, bool>(0),
            )
            .optional()?
            .map(|admin| User {
                name: name.to_string(),
                admin,
            }))
    }

    /// A new session for `user`, valid for `ttl`: returns its secret.
    pub fn create_session(&self, user: &str, ttl: Duration) -> Result<String> {
        let secret = random_hex(32)?;
        let expires = Timestamp::now().as_nanos().saturating_add(nanos(ttl));
        let conn = lock(&self.conn);
        conn.execute(
            "DELETE FROM sessions WHERE expires_ns < ?1",
            params![Timestamp::now().as_nanos()],
        )?;
        conn.execute(
            "INSERT INTO sessions (hash, user, expires_ns) VALUES (?1, ?2, ?3)",
            params![digest(&secret), user, expires],
        )?;
        Ok(secret)
    }

    /// The user of a live session.
    pub fn session(&self, secret: &str) -> Result<Option<User>> {
        Ok(lock(&self.conn)
            .query_row(
                "SELECT u.name, u.admin FROM sessions s JOIN users u ON u.name = s.user
                 WHERE s.hash = ?1 AND s.expires_ns > ?2",
                params![digest(secret), Timestamp::now().as_nanos()],
                |r| {
                    Ok(User {
                        name: r.get(0)?,
                        admin: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    pub fn end_session(&self, secret: &str) -> Result<()> {
        lock(&self.conn).execute(
            "DELETE FROM sessions WHERE hash = ?1",
            params![digest(secret)],
        )?;
        Ok(())
    }

    /// A new API token of `user`, valid for `ttl` (or until the user is
    /// removed): returns its secret (shown once).
    pub fn create_token(&self, user: &str, scope: Scope, ttl: Option<Duration>) -> Result<String> {
        if self.user(user)?.is_none() {
            return Err(Error::NoUser(user.to_string()));
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
        let now = Timestamp::now().as_nanos();
        let expires = ttl.map(|t| now.saturating_add(nanos(t)));
        lock(&self.conn).execute(
            "INSERT INTO tokens (hash, user, scope, created_ns, expires_ns)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![digest(&secret), user, scope.as_str(), now, expires],
        )?;
        Ok(secret)
    }

    /// The user and scope of a live API token.
    pub fn token(&self, secret: &str) -> Result<Option<(User, Scope)>> {
        let hash = digest(secret);
        let now = Timestamp::now().as_nanos();
        let conn = lock(&self.conn);
        let row: Option<(String, bool, String)> = conn
            .query_row(
                "SELECT u.name, u.admin, t.scope FROM tokens t JOIN users u ON u.name = t.user
                 WHERE t.hash = ?1 AND (t.expires_ns IS NULL OR t.expires_ns > ?2)",
                params![hash, now],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if row.is_some() {
            conn.execute(
                "UPDATE tokens SET last_used_ns = ?2
                 WHERE hash = ?1 AND (last_used_ns IS NULL OR last_used_ns < ?3)",
                params![hash, now, now.saturating_sub(nanos(TOKEN_USE_STEP))],
            )?;
        }
        Ok(
            row.and_then(|(name, admin, scope)| {
                Some((User { name, admin }, Scope::parse(&scope)?))
            }),
        )
    }

    /// Records `user` as the owner of upload `id` of kind `kind`, and the
    /// team it belongs to (the caller checked that `user` may choose it).
    pub fn set_owner(&self, kind: &str, id: &str, user: &str, team: Option<&str>) -> Result<()> {
        lock(&self.conn).execute(
            "INSERT OR REPLACE INTO owners (kind, id, user, created_ns, team)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![kind, id, user, Timestamp::now().as_nanos(), team],
        )?;
        Ok(())
    }

    /// Forgets the owner of a deleted upload, and its share links.
    pub fn forget_owner(&self, kind: &str, id: &str) -> Result<()> {
        let conn = lock(&self.conn);
        conn.execute(
            "DELETE FROM owners WHERE kind = ?1 AND id = ?2",
            params![kind, id],
        )?;
        AuthStore::forget_shares(&conn, kind, id)
    }

    /// Every account, by name.
    pub fn users(&self) -> Result<Vec<Account>> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached(
            "SELECT u.name, u.admin, u.created_ns,
                    (SELECT count(*) FROM tokens t WHERE t.user = u.name
                      AND (t.expires_ns IS NULL OR t.expires_ns > ?1))
             FROM users u ORDER BY u.name",
        )?;
        let rows = stmt.query_map(params![Timestamp::now().as_nanos()], |r| {
            Ok(Account {
                name: r.get(0)?,
                admin: r.get(1)?,
                created: Timestamp::from_nanos(r.get(2)?),
                tokens: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Removes an account with its sessions, tokens and team memberships,
    /// and revokes the share links it made. Its uploads keep
    /// their owner's name, so only admins see them from then on (a new
    /// account of the same name would see them again: README, "Accounts
    /// and sharing").
    pub fn remove_user(&self, name: &str) -> Result<()> {
        let conn = lock(&self.conn);
        let removed = conn.execute("DELETE FROM users WHERE name = ?1", params![name])?;
        if removed == 0 {
            return Err(Error::NoUser(name.to_string()));
        }
        conn.execute("DELETE FROM team_members WHERE user = ?1", params![name])?;
        // Links the account made go with it: nobody is left to revoke them.
        conn.execute(
            "UPDATE shares SET revoked = 1 WHERE owner = ?1",
            params![name],
        )?;
        Ok(())
    }

    /// A new password for `name`; every session of the account ends (a
    /// password is changed because it may be known to someone else).
    pub fn set_password(&self, name: &str, password: &str) -> Result<()> {
        let hash = hash_password(password)?;
        let conn = lock(&self.conn);
        let changed = conn.execute(
            "UPDATE users SET hash = ?2 WHERE name = ?1",
            params![name, hash],
        )?;
        if changed == 0 {
            return Err(Error::NoUser(name.to_string()));
        }
        conn.execute("DELETE FROM sessions WHERE user = ?1", params![name])?;
        Ok(())
    }

    /// API tokens (of `user`, or everyone's), newest first; expired ones too.
    pub fn tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached(
            "SELECT hash, user, scope, created_ns, expires_ns, last_used_ns FROM tokens
             WHERE ?1 IS NULL OR user = ?1 ORDER BY created_ns DESC, hash",
        )?;
        let rows = stmt.query_map(params![user], |r| {
            let hash: String = r.get(0)?;
            let scope: String = r.get(2)?;
            Ok((
                TokenInfo {
                    id: hash.chars().take(TOKEN_ID_LEN).collect(),
                    user: r.get(1)?,
                    scope: Scope::parse(&scope).unwrap_or(Scope::Read),
                    created: Timestamp::from_nanos(r.get(3)?),
                    expires: r.get::<_, Option<i64>>(4)?.map(Timestamp::from_nanos),
                    last_used: r.get::<_, Option<i64>>(5)?.map(Timestamp::from_nanos),
                },
                Scope::parse(&scope).is_some(),
            ))
        })?;
        // A scope this build does not know is left out rather than shown
        // as another one.
        Ok(rows
            .filter_map(|row| match row {
                Ok((info, true)) => Some(Ok(info)),
                Ok((_, false)) => None,
                Err(e) => Some(Err(e)),
            })
            .collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The ID of the token whose secret is `secret`: lets `token create`
    /// say which one it made.
    pub fn token_id(secret: &str) -> String {
        digest(secret).chars().take(TOKEN_ID_LEN).collect()
    }

    /// Revokes the token whose ID starts with `id` (at least 6 hex digits,
    /// so that a slip of the finger cannot match many): it opens nothing
    /// from then on.
    pub fn revoke_token(&self, id: &str) -> Result<TokenInfo> {
        let id = id.trim().to_ascii_lowercase();
        if id.len() < 6 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(Error::NoToken(id));
        }
        let matches: Vec<TokenInfo> = self
            .tokens(None)?
            .into_iter()
            .filter(|t| t.id.starts_with(&id) || id.starts_with(&t.id))
            .collect();
        let token = match matches.as_slice() {
            [] => return Err(Error::NoToken(id)),
            [one] => one.clone(),
            _ => return Err(Error::AmbiguousToken(id)),
        };
        // The hash is matched by prefix on the full ID shown, which is
        // unique among the matches just checked.
        lock(&self.conn).execute(
            "DELETE FROM tokens WHERE substr(hash, 1, ?2) = ?1",
            params![token.id, TOKEN_ID_LEN as i64],
        )?;
        Ok(token)
    }

    pub fn audit(&self, event: &str, user: Option<&str>, client: &str, detail: &str) -> Result<()> {
        lock(&self.conn).execute(
            "INSERT INTO audit (at_ns, event, user, client, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![Timestamp::now().as_nanos(), event, user, client, detail],
        )?;
        Ok(())
    }

    /// The latest `limit` entries of the audit log, newest first.
    pub fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached(
            "SELECT at_ns, event, user, client, detail FROM audit
             ORDER BY at_ns DESC, rowid DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit], |r| {
            Ok(AuditEntry {
                at: Timestamp::from_nanos(r.get(0)?),
                event: r.get(1)?,
                user: r.get(2)?,
                client: r.get(3)?,
                detail: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }
}

/// Columns added after the first schema, for databases made before them.
fn migrate(conn: &Connection) -> Result<()> {
    let has_last_used: bool = conn
        .prepare("SELECT 1 FROM pragma_table_info('tokens') WHERE name = 'last_used_ns'")?
        .exists([])?;
    if !has_last_used {
        conn.execute_batch("ALTER TABLE tokens ADD COLUMN last_used_ns INTEGER")?;
    }
    Ok(())
}

fn nanos(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
pub(super) mod test {
    use super::*;

    /// A fresh accounts database in a temporary directory.
    pub(in crate::store) fn store() -> (tempfile::TempDir, AuthStore) {
        let dir = tempfile::tempdir().unwrap();
        let s = AuthStore::open(dir.path()).unwrap();
        (dir, s)
    }

    #[test]
    fn passwords_are_checked() {
        let (_d, s) = store();
        assert!(!s.has_users().unwrap());
        s.add_user("ann", "correct horse", false).unwrap();
        assert!(s.has_users().unwrap());
        assert!(matches!(
            s.add_user("ann", "x", false),
            Err(Error::UserExists(_))
        ));
        assert!(matches!(
            s.add_user("a\u{202e}b", "x", false),
            Err(Error::BadName(_))
        ));
        assert_eq!(
            s.check_password("ann", "correct horse").unwrap(),
            Some(User {
                name: "ann".into(),
                admin: false
            })
        );
        assert_eq!(s.check_password("ann", "wrong").unwrap(), None);
        assert_eq!(s.check_password("bob", "correct horse").unwrap(), None);
    }

    #[test]
    fn sessions_expire_and_end() {
        let (_d, s) = store();
        s.add_user("ann", "pw", true).unwrap();
        let live = s.create_session("ann", Duration::from_secs(60)).unwrap();
        let dead = s.create_session("ann", Duration::ZERO).unwrap();
        assert_eq!(s.session(&live).unwrap().map(|u| u.admin), Some(true));
        assert_eq!(s.session(&dead).unwrap(), None);
        assert_eq!(s.session("forged").unwrap(), None);
        s.end_session(&live).unwrap();
        assert_eq!(s.session(&live).unwrap(), None);
    }

    #[test]
    fn tokens_are_hashed_at_rest() {
        let (dir, s) = store();
        s.add_user("ann", "pw", false).unwrap();
        let t = s.create_token("ann", Scope::Upload, None).unwrap();
        let dead = s
            .create_token("ann", Scope::Read, Some(Duration::ZERO))
            .unwrap();
        assert_eq!(s.token(&dead).unwrap(), None);
        assert!(t.starts_with(TOKEN_PREFIX));
        assert_eq!(s.token(&t).unwrap().map(|(_, sc)| sc), Some(Scope::Upload));
        assert_eq!(s.token("tdk_nope").unwrap(), None);
        assert!(s.create_token("bob", Scope::Read, None).is_err());
        drop(s);
        let raw = std::fs::read(dir.path().join(AUTH_DB)).unwrap();
        let wal = std::fs::read(dir.path().join("auth.db-wal")).unwrap_or_default();
        for bytes in [raw, wal] {
            assert!(!bytes.windows(t.len()).any(|w| w == t.as_bytes()));
        }
    }

    #[test]
    fn owners_list_newest_first() {
        let (_d, s) = store();
        s.set_owner("capture", "a", "ann", None).unwrap();
        s.set_owner("capture", "b", "ann", None).unwrap();
        s.set_owner("capture", "c", "bob", None).unwrap();
        s.set_owner("strace log", "d", "ann", None).unwrap();
        let (total, ids) = s.visible_ids("capture", "ann", 10, 0).unwrap();
        assert_eq!(total, 2);
        assert_eq!(ids, ["b", "a"]);
        let bob = |s: &AuthStore| s.ownership("capture", "c").unwrap().map(|o| o.owner);
        assert_eq!(bob(&s).as_deref(), Some("bob"));
        s.forget_owner("capture", "c").unwrap();
        assert_eq!(bob(&s), None);
    }

    #[test]
    fn tokens_are_listed_without_secrets_and_revoked_by_id() {
        let (_d, s) = store();
        s.add_user("ann", "pw", false).unwrap();
        s.add_user("bob", "pw", false).unwrap();
        let a = s.create_token("ann", Scope::Upload, None).unwrap();
        let b = s.create_token("bob", Scope::Read, None).unwrap();
        let list = s.tokens(None).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list
            .iter()
            .all(|t| !a.contains(&t.id) && t.id.len() == TOKEN_ID_LEN));
        assert_eq!(s.tokens(Some("ann")).unwrap().len(), 1);
        assert_eq!(s.tokens(Some("ann")).unwrap()[0].last_used, None);
        assert!(s.token(&a).unwrap().is_some());
        assert!(s.tokens(Some("ann")).unwrap()[0].last_used.is_some());

        let id = AuthStore::token_id(&a);
        assert!(matches!(s.revoke_token("12"), Err(Error::NoToken(_))));
        assert!(matches!(s.revoke_token("zzzzzzzz"), Err(Error::NoToken(_))));
        let gone = s.revoke_token(&id[..8]).unwrap();
        assert_eq!(gone.user, "ann");
        assert_eq!(s.token(&a).unwrap(), None);
        assert!(s.token(&b).unwrap().is_some());
        assert!(matches!(s.revoke_token(&id), Err(Error::NoToken(_))));
    }

    #[test]
    fn removing_an_account_ends_its_sessions_and_tokens() {
        let (_d, s) = store();
        s.add_user("ann", "old password", false).unwrap();
        let cookie = s.create_session("ann", Duration::from_secs(60)).unwrap();
        let token = s.create_token("ann", Scope::Read, None).unwrap();
        s.set_password("ann", "new password").unwrap();
        assert_eq!(
            s.session(&cookie).unwrap(),
            None,
            "a new password ends sessions"
        );
        assert!(s.check_password("ann", "new password").unwrap().is_some());
        assert!(s.check_password("ann", "old password").unwrap().is_none());
        assert_eq!(s.users().unwrap().len(), 1);
        assert_eq!(s.users().unwrap()[0].tokens, 1);
        s.remove_user("ann").unwrap();
        assert_eq!(s.token(&token).unwrap(), None);
        assert!(s.users().unwrap().is_empty());
        assert!(matches!(s.remove_user("ann"), Err(Error::NoUser(_))));
        assert!(matches!(s.set_password("ann", "x"), Err(Error::NoUser(_))));
    }

    #[test]
    fn an_old_database_gains_the_last_used_column() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(AUTH_DB)).unwrap();
        conn.execute_batch(
            "CREATE TABLE tokens (hash TEXT PRIMARY KEY NOT NULL, user TEXT NOT NULL,
             scope TEXT NOT NULL, created_ns INTEGER NOT NULL, expires_ns INTEGER);",
        )
        .unwrap();
        drop(conn);
        let s = AuthStore::open(dir.path()).unwrap();
        assert!(s.tokens(None).unwrap().is_empty());
    }
}
