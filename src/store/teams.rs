//! Teams (README, "Teams"): named groups of users, kept in `auth.db`
//! beside the accounts. An upload may belong to one team besides its
//! owner; the team's members then read it, and only its owner (or an
//! admin) changes, deletes or shares it. [`AuthStore::access`] is the one
//! answer to "what may this user do with this upload".

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use super::auth::{is_valid_name, AuthStore, Error, Result};
use super::lock;
use crate::time::Timestamp;

/// The teams tables and the owners' team column, added by schema version 2
/// of `auth.db`. Members are names, not references to `users`: a user
/// signed in by a trusted proxy has no local account.
const SCHEMA_V2: &str = "
CREATE TABLE IF NOT EXISTS teams (
    name TEXT PRIMARY KEY NOT NULL,
    created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS team_members (
    team TEXT NOT NULL REFERENCES teams(name) ON DELETE CASCADE,
    user TEXT NOT NULL,
    added_ns INTEGER NOT NULL,
    PRIMARY KEY (team, user)
);
CREATE INDEX IF NOT EXISTS team_members_by_user ON team_members(user, team);
ALTER TABLE owners ADD COLUMN team TEXT;
CREATE INDEX IF NOT EXISTS owners_by_team ON owners(kind, team, created_ns);
";

/// Takes `auth.db` from schema version 1 (share links) to 2 (teams).
pub(super) fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version < 2 {
        conn.execute_batch(&format!(
            "BEGIN; {SCHEMA_V2} PRAGMA user_version = 2; COMMIT;"
        ))?;
    }
    Ok(())
}

/// A team and who is in it, as `tracedeck team list` shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Team {
    pub name: String,
    pub created: Timestamp,
    /// Member names, sorted.
    pub members: Vec<String>,
}

/// What a user may do with one upload, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Nothing: not even that it exists.
    None,
    /// Read it everywhere, as a member of its team.
    Read,
    /// Also change its team, delete it and share it: its owner (or an admin).
    Manage,
}

/// Who owns an upload and the team it belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ownership {
    pub owner: String,
    pub team: Option<String>,
}

fn check_name(name: &str) -> Result<()> {
    if is_valid_name(name) {
        Ok(())
    } else {
        Err(Error::BadName(name.to_string()))
    }
}

impl AuthStore {
    pub fn add_team(&self, name: &str) -> Result<()> {
        check_name(name)?;
        let inserted = lock(&self.conn).execute(
            "INSERT OR IGNORE INTO teams (name, created_ns) VALUES (?1, ?2)",
            params![name, Timestamp::now().as_nanos()],
        )?;
        if inserted == 0 {
            return Err(Error::TeamExists(name.to_string()));
        }
        Ok(())
    }

    /// Removes a team and its memberships. Its uploads stay with their
    /// owners and belong to no team from then on.
    pub fn remove_team(&self, name: &str) -> Result<()> {
        let mut conn = lock(&self.conn);
        let tx = conn.transaction()?;
        let removed = tx.execute("DELETE FROM teams WHERE name = ?1", params![name])?;
        if removed == 0 {
            return Err(Error::NoTeam(name.to_string()));
        }
        tx.execute(
            "UPDATE owners SET team = NULL WHERE team = ?1",
            params![name],
        )?;
        tx.commit()?;
        Ok(())
    }

    pub fn add_member(&self, team: &str, user: &str) -> Result<()> {
        check_name(user)?;
        let conn = lock(&self.conn);
        if !team_exists(&conn, team)? {
            return Err(Error::NoTeam(team.to_string()));
        }
        let inserted = conn.execute(
            "INSERT OR IGNORE INTO team_members (team, user, added_ns) VALUES (?1, ?2, ?3)",
            params![team, user, Timestamp::now().as_nanos()],
        )?;
        if inserted == 0 {
            return Err(Error::AlreadyMember(user.to_string(), team.to_string()));
        }
        Ok(())
    }

    /// Takes `user` out of `team`: their next request no longer reads the
    /// team's uploads (nothing is cached).
    pub fn remove_member(&self, team: &str, user: &str) -> Result<()> {
        let conn = lock(&self.conn);
        if !team_exists(&conn, team)? {
            return Err(Error::NoTeam(team.to_string()));
        }
        let removed = conn.execute(
            "DELETE FROM team_members WHERE team = ?1 AND user = ?2",
            params![team, user],
        )?;
        if removed == 0 {
            return Err(Error::NotMember(user.to_string(), team.to_string()));
        }
        Ok(())
    }

    /// Every team with its members, by name.
    pub fn teams(&self) -> Result<Vec<Team>> {
        let conn = lock(&self.conn);
        let mut stmt = conn.prepare_cached(
            "SELECT t.name, t.created_ns, m.user FROM teams t
             LEFT JOIN team_members m ON m.team = t.name ORDER BY t.name, m.user",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })?;
        let mut teams: Vec<Team> = Vec::new();
        for row in rows {
            let (name, created, member) = row?;
            if teams.last().is_none_or(|t| t.name != name) {
                teams.push(Team {
                    name,
                    created: Timestamp::from_nanos(created),
                    members: Vec::new(),
                });
            }
            if let (Some(team), Some(member)) = (teams.last_mut(), member) {
                team.members.push(member);
            }
        }
        Ok(teams)
    }

    /// Names of the teams `user` is in, sorted.
    pub fn teams_of(&self, user: &str) -> Result<Vec<String>> {
        let conn = lock(&self.conn);
        let mut stmt =
            conn.prepare_cached("SELECT team FROM team_members WHERE user = ?1 ORDER BY team")?;
        let names = stmt
            .query_map(params![user], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(names)
    }

    /// The owner and team of upload `id` of kind `kind`, if it has an owner.
    pub fn ownership(&self, kind: &str, id: &str) -> Result<Option<Ownership>> {
        Ok(lock(&self.conn)
            .query_row(
                "SELECT user, team FROM owners WHERE kind = ?1 AND id = ?2",
                params![kind, id],
                |r| {
                    Ok(Ownership {
                        owner: r.get(0)?,
                        team: r.get(1)?,
                    })
                },
            )
            .optional()?)
    }

    /// What `user` (not an admin: admins manage everything) may do with
    /// upload `id`: manage it if it is theirs, read it if they are in its
    /// team, nothing otherwise (an upload with no owner included).
    pub fn access(&self, kind: &str, id: &str, user: &str) -> Result<Access> {
        let row: Option<(bool, bool)> = lock(&self.conn)
            .query_row(
                "SELECT o.user = ?3,
                        EXISTS (SELECT 1 FROM team_members m WHERE m.team = o.team AND m.user = ?3)
                 FROM owners o WHERE o.kind = ?1 AND o.id = ?2",
                params![kind, id, user],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((true, _)) => Access::Manage,
            Some((false, true)) => Access::Read,
            _ => Access::None,
        })
    }

    /// Puts upload `id` in `team` (None: in no team). The team must exist;
    /// the upload must have an owner (one made while the server was open
    /// has none).
    pub fn set_team(&self, kind: &str, id: &str, team: Option<&str>) -> Result<()> {
        let conn = lock(&self.conn);
        if let Some(team) = team {
            if !team_exists(&conn, team)? {
                return Err(Error::NoTeam(team.to_string()));
            }
        }
        let changed = conn.execute(
            "UPDATE owners SET team = ?3 WHERE kind = ?1 AND id = ?2",
            params![kind, id, team],
        )?;
        if changed == 0 {
            return Err(Error::NoOwner(format!("{kind} {id}")));
        }
        Ok(())
    }

    /// IDs of the uploads of kind `kind` that `user` owns or reads as a
    /// team member, newest first, and how many there are.
    pub fn visible_ids(
        &self,
        kind: &str,
        user: &str,
        limit: u32,
        offset: u64,
    ) -> Result<(u64, Vec<String>)> {
        const VISIBLE: &str = "FROM owners WHERE kind = ?1 AND (user = ?2 OR team IN
             (SELECT team FROM team_members WHERE user = ?2))";
        let conn = lock(&self.conn);
        let total: i64 = conn.query_row(
            &format!("SELECT count(*) {VISIBLE}"),
            params![kind, user],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT id {VISIBLE} ORDER BY created_ns DESC, id LIMIT ?3 OFFSET ?4"
        ))?;
        let ids = stmt
            .query_map(
                params![kind, user, limit, i64::try_from(offset).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok((u64::try_from(total).unwrap_or(0), ids))
    }
}

fn team_exists(conn: &Connection, team: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM teams WHERE name = ?1")?
        .exists(params![team])?)
}

#[cfg(test)]
mod test {
    use super::super::auth::test::store;
    use super::*;

    #[test]
    fn members_read_owners_manage_others_see_nothing() {
        let (_d, s) = store();
        s.add_team("ops").unwrap();
        s.add_member("ops", "ann").unwrap();
        s.add_member("ops", "bob").unwrap();
        s.set_owner("capture", "a", "ann", Some("ops")).unwrap();
        s.set_owner("capture", "b", "ann", None).unwrap();
        s.set_owner("capture", "c", "cat", None).unwrap();
        assert_eq!(s.access("capture", "a", "ann").unwrap(), Access::Manage);
        assert_eq!(s.access("capture", "a", "bob").unwrap(), Access::Read);
        assert_eq!(s.access("capture", "a", "cat").unwrap(), Access::None);
        assert_eq!(s.access("capture", "b", "bob").unwrap(), Access::None);
        assert_eq!(s.access("capture", "zz", "ann").unwrap(), Access::None);
        assert_eq!(
            s.access("strace log", "a", "bob").unwrap(),
            Access::None,
            "kinds do not mix"
        );
        let (total, ids) = s.visible_ids("capture", "bob", 10, 0).unwrap();
        assert_eq!((total, ids), (1, vec!["a".to_string()]));
        let (total, _) = s.visible_ids("capture", "ann", 10, 0).unwrap();
        assert_eq!(total, 2);

        s.remove_member("ops", "bob").unwrap();
        assert_eq!(s.access("capture", "a", "bob").unwrap(), Access::None);
        assert_eq!(s.visible_ids("capture", "bob", 10, 0).unwrap().0, 0);
        assert!(matches!(
            s.remove_member("ops", "bob"),
            Err(Error::NotMember(..))
        ));
    }

    #[test]
    fn teams_round_trip_and_removal_keeps_uploads() {
        let (_d, s) = store();
        assert!(matches!(s.add_team("a b"), Err(Error::BadName(_))));
        s.add_team("ops").unwrap();
        s.add_team("web").unwrap();
        assert!(matches!(s.add_team("ops"), Err(Error::TeamExists(_))));
        s.add_member("ops", "bob").unwrap();
        s.add_member("ops", "ann").unwrap();
        assert!(matches!(
            s.add_member("ops", "ann"),
            Err(Error::AlreadyMember(..))
        ));
        assert!(matches!(s.add_member("nope", "ann"), Err(Error::NoTeam(_))));
        let teams = s.teams().unwrap();
        assert_eq!(teams.len(), 2);
        assert_eq!(teams[0].members, ["ann", "bob"]);
        assert!(teams[1].members.is_empty());
        assert_eq!(s.teams_of("ann").unwrap(), ["ops"]);

        s.set_owner("capture", "a", "ann", Some("ops")).unwrap();
        assert!(matches!(
            s.set_team("capture", "a", Some("nope")),
            Err(Error::NoTeam(_))
        ));
        assert!(matches!(
            s.set_team("capture", "zz", None),
            Err(Error::NoOwner(_))
        ));
        s.remove_team("ops").unwrap();
        assert!(matches!(s.remove_team("ops"), Err(Error::NoTeam(_))));
        assert_eq!(
            s.ownership("capture", "a").unwrap(),
            Some(Ownership {
                owner: "ann".into(),
                team: None
            })
        );
        assert!(s.teams_of("ann").unwrap().is_empty());
        s.set_team("capture", "a", Some("web")).unwrap();
        assert_eq!(
            s.ownership("capture", "a").unwrap().and_then(|o| o.team),
            Some("web".into())
        );
    }

    #[test]
    fn a_version_one_database_gains_teams() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = AuthStore::open(dir.path()).unwrap();
            s.set_owner("capture", "a", "ann", None).unwrap();
        }
        let conn = Connection::open(dir.path().join(super::super::auth::AUTH_DB)).unwrap();
        conn.execute_batch(
            "DROP TABLE team_members; DROP TABLE teams; DROP INDEX owners_by_team;
             ALTER TABLE owners DROP COLUMN team; PRAGMA user_version = 1;",
        )
        .unwrap();
        drop(conn);
        let s = AuthStore::open(dir.path()).unwrap();
        assert_eq!(s.access("capture", "a", "ann").unwrap(), Access::Manage);
        s.add_team("ops").unwrap();
        s.set_team("capture", "a", Some("ops")).unwrap();
    }
}
