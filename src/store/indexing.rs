//! Building a results database's page indexes after it is shown.
//!
//! A results file is stored without indexes, in WAL mode, so the capture
//! is `done` as soon as its rows are in. The sort and filter indexes of the
//! pages are then added here, one transaction each, while readers go on
//! reading their snapshot: until an index is there its sorts scan the
//! table (SQLite's top-N sort), after it they read the index. A crash
//! midway leaves the indexes made so far; the rest are made at the next
//! start.

use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

use rusqlite::{Connection, OpenFlags};

use super::schema::results_indexes;
use super::tables::Index;
use super::{io_err, Result};

/// What one build did.
#[derive(Debug, Default, PartialEq)]
pub struct IndexBuild {
    /// Indexes made.
    pub made: usize,
    /// Indexes still missing: the results went away or were replaced
    /// midway, or the disk had no room for them.
    pub left: usize,
    /// Seconds it took.
    pub secs: f64,
    /// Why it stopped with indexes left, in words for the log.
    pub stopped: Option<&'static str>,
}

/// The indexes of [`results_indexes`] the database lacks.
fn missing(conn: &Connection) -> Result<Vec<Index>> {
    let mut stmt = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'index'")?;
    let have = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<HashSet<String>>>()?;
    Ok(results_indexes()
        .into_iter()
        .filter(|i| !have.contains(&i.name))
        .collect())
}

/// Whether the results database at `path` lacks any of its indexes.
pub(crate) fn lacks_indexes(path: &Path) -> Result<bool> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.execute_batch("PRAGMA busy_timeout = 5000;")?;
    Ok(!missing(&conn)?.is_empty())
}

/// Makes the indexes the results database at `path` lacks, one at a time,
/// while `go_on` says so (it is asked before each: the capture may have
/// been deleted or analyzed again). Stops, keeping what it made, when the
/// disk's free space would fall under `room(bytes)`'s floor: the indexes
/// take up to about half the size of the rows.
pub(crate) fn build_missing(
    path: &Path,
    go_on: &dyn Fn() -> bool,
    room: &dyn Fn(u64) -> bool,
) -> Result<IndexBuild> {
    let started = Instant::now();
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    // Sorting in memory is much faster than spilling to temporary files.
    conn.execute_batch("PRAGMA busy_timeout = 5000; PRAGMA cache_size = -65536;")?;
    let todo = missing(&conn)?;
    let mut built = IndexBuild {
        left: todo.len(),
        ..IndexBuild::default()
    };
    if todo.is_empty() {
        return Ok(built);
    }
    let size = std::fs::metadata(path)
        .map_err(io_err(format!("reading the size of {}", path.display())))?
        .len();
    for index in &todo {
        if !go_on() {
            built.stopped = Some("the capture was deleted or analyzed again");
            break;
        }
        if !room(size / 2) {
            built.stopped = Some("the disk would fall under its free-space floor");
            break;
        }
        conn.execute_batch(&index.sql)?;
        built.made += 1;
        built.left -= 1;
    }
    // The log goes back to empty once no reader holds an older snapshot;
    // if one does, its pages are moved by a later checkpoint.
    let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
    built.secs = started.elapsed().as_secs_f64();
    Ok(built)
}

#[cfg(test)]
mod test {
    use std::cell::Cell;

    use super::*;
    use crate::store::schema::results_tables;

    #[test]
    fn a_build_stops_keeping_what_it_made_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("results.db");
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(&results_tables()).unwrap();
        drop(conn);
        let all = results_indexes().len();
        assert!(lacks_indexes(&path).unwrap());
        let asked = Cell::new(0);
        let twice = || {
            asked.set(asked.get() + 1);
            asked.get() <= 2
        };
        let b = build_missing(&path, &twice, &|_| true).unwrap();
        assert_eq!((b.made, b.left), (2, all - 2));
        assert_eq!(b.stopped, Some("the capture was deleted or analyzed again"));
        let b = build_missing(&path, &|| true, &|_| false).unwrap();
        assert_eq!((b.made, b.left), (0, all - 2));
        assert_eq!(
            b.stopped,
            Some("the disk would fall under its free-space floor")
        );
        let b = build_missing(&path, &|| true, &|_| true).unwrap();
        assert_eq!((b.made, b.left, b.stopped), (all - 2, 0, None));
        assert!(!lacks_indexes(&path).unwrap());
    }
}
