//! Database schemas and their versions.
//!
//! The index database (`tracedeck.db`: one row per capture) is migrated in
//! place: `MIGRATIONS[i]` takes `user_version` i to i + 1. A results
//! database is derived data: one whose `RESULTS_VERSION` is older than this
//! build's is not migrated but re-made by analyzing the capture again.

use rusqlite::Connection;

use super::{Error, Result};

/// Steps of the index database, oldest first. Append; never edit.
const MIGRATIONS: &[&str] = &[
    // 1: captures.
    "CREATE TABLE captures (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        gzip INTEGER NOT NULL,
        created_ns INTEGER NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        summary TEXT,
        results_version INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX captures_by_created ON captures(created_ns);",
    // 2: filtered views: a row with a parent is an analysis of the
    // parent's file with a pcap-filter expression (not listed on its own).
    "ALTER TABLE captures ADD COLUMN parent TEXT;
    ALTER TABLE captures ADD COLUMN filter TEXT;
    CREATE INDEX captures_by_parent ON captures(parent);",
];

/// Version of the results database layout this build writes.
/// 2: http rows carry every field of `analyze --json` (version, reason,
/// http_time, interim, interrupted, has_gap, frame numbers, user agent).
pub const RESULTS_VERSION: i64 = 2;

/// Tables of a results database, created empty before the analysis writes.
pub const RESULTS_TABLES: &str = "
    CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
    CREATE TABLE conversations (
        id INTEGER PRIMARY KEY,
        proto TEXT NOT NULL,
        client TEXT NOT NULL,
        server TEXT NOT NULL,
        client_key BLOB NOT NULL,
        server_key BLOB NOT NULL,
        start_ns INTEGER,
        end_ns INTEGER,
        duration_ns INTEGER NOT NULL,
        packets INTEGER NOT NULL,
        packets_c2s INTEGER NOT NULL,
        packets_s2c INTEGER NOT NULL,
        bytes INTEGER NOT NULL,
        bytes_c2s INTEGER NOT NULL,
        bytes_s2c INTEGER NOT NULL,
        payload_c2s INTEGER NOT NULL,
        payload_s2c INTEGER NOT NULL,
        state TEXT NOT NULL,
        http_exchanges INTEGER NOT NULL,
        handshake_rtt_ns INTEGER,
        retransmissions INTEGER NOT NULL,
        gap_bytes_c2s INTEGER NOT NULL,
        gap_bytes_s2c INTEGER NOT NULL,
        zero_windows INTEGER NOT NULL,
        roles_from_handshake INTEGER NOT NULL,
        first_frame INTEGER NOT NULL,
        last_frame INTEGER NOT NULL
    );
    CREATE TABLE packet_chunks (
        conversation INTEGER NOT NULL,
        first_frame INTEGER NOT NULL,
        data BLOB NOT NULL
    );
    CREATE TABLE http (
        id INTEGER PRIMARY KEY,
        conversation INTEGER NOT NULL,
        client TEXT NOT NULL,
        server TEXT NOT NULL,
        client_key BLOB NOT NULL,
        server_key BLOB NOT NULL,
        method TEXT,
        uri TEXT,
        version TEXT,
        host TEXT,
        user_agent TEXT,
        status INTEGER,
        reason TEXT,
        request_start INTEGER,
        request_end INTEGER,
        response_start INTEGER,
        response_end INTEGER,
        server_time INTEGER,
        total_time INTEGER,
        http_time INTEGER,
        request_body_bytes INTEGER NOT NULL,
        response_body_bytes INTEGER NOT NULL,
        content_type TEXT,
        wait TEXT NOT NULL,
        verdict TEXT NOT NULL,
        interim TEXT,
        interrupted INTEGER NOT NULL,
        has_gap INTEGER NOT NULL,
        request_first_frame INTEGER,
        request_last_frame INTEGER,
        response_first_frame INTEGER,
        response_last_frame INTEGER
    );
";

/// Indexes of a results database, built once after the rows are in (much
/// faster than maintaining them row by row). Sorts without an index here
/// still work, by a scan. Lists select the page's ids from an index first
/// and fetch the rows after, so a filtered sort touches only index pages
/// (`http?status=5xx` on a million exchanges: ~3 ms instead of ~50 ms).
pub const RESULTS_INDEXES: &str = "
    CREATE INDEX packet_chunks_by_conv ON packet_chunks(conversation, first_frame);
    CREATE INDEX conv_by_duration ON conversations(duration_ns);
    CREATE INDEX conv_by_start ON conversations(start_ns);
    CREATE INDEX conv_by_bytes ON conversations(bytes);
    CREATE INDEX conv_by_packets ON conversations(packets);
    CREATE INDEX conv_by_client ON conversations(client_key);
    CREATE INDEX conv_by_server ON conversations(server_key);
    CREATE INDEX conv_by_retransmissions ON conversations(retransmissions);
    CREATE INDEX http_by_status_start ON http(status, request_start);
    CREATE INDEX http_by_status_total ON http(status, total_time);
    CREATE INDEX http_by_start ON http(request_start);
    CREATE INDEX http_by_total ON http(total_time);
    CREATE INDEX http_by_server_time ON http(server_time);
    CREATE INDEX http_by_conversation ON http(conversation);
    CREATE INDEX http_by_host ON http(host COLLATE NOCASE);
";

/// Brings the index database to this build's version.
pub fn migrate(conn: &mut Connection) -> Result<()> {
    run_migrations(conn, MIGRATIONS, "the data directory")
}

/// Runs the `steps` a database (`what`, for the error) has not had yet:
/// `steps[i]` takes `user_version` i to i + 1, each in its own transaction.
pub(crate) fn run_migrations(conn: &mut Connection, steps: &[&str], what: &str) -> Result<()> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let known = steps.len() as i64;
    if current > known {
        return Err(Error::Corrupt(format!(
            "{what} was written by a newer tracedeck (schema {current}, this build knows {known})"
        )));
    }
    for (i, step) in steps.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(step)?;
        tx.pragma_update(None, "user_version", i as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn migrates_once_and_refuses_the_future() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, MIGRATIONS.len() as i64);
        conn.pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(migrate(&mut conn), Err(Error::Corrupt(_))));
        let results = Connection::open_in_memory().unwrap();
        results.execute_batch(RESULTS_TABLES).unwrap();
        results.execute_batch(RESULTS_INDEXES).unwrap();
    }
}
