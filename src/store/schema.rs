//! Database schemas and their versions.
//!
//! The index database (`tracedeck.db`: one row per capture) is migrated in
//! place: `MIGRATIONS[i]` takes `user_version` i to i + 1. A results
//! database is derived data: one whose `RESULTS_VERSION` is older than this
//! build's is not migrated but re-made by analyzing the capture again.

use rusqlite::Connection;

use super::tables::{self, Index};
use super::{Error, Result};
use crate::analysis::report::{ConversationRow, DnsRow, EndpointRow, ExchangeRow};

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
/// 3: tables derived from the row definitions; columns named as the JSON
/// fields.
/// 4: conversations carry the tunnel that carried them.
/// 5: packet chunks keyed by (conversation, first_packet), the place of
/// their first packet in the conversation, so a page of packets is one
/// seek; no separate index.
/// 6: http rows carry the HTTP/2 stream and gRPC columns.
/// 7: conversations carry the TLS facts, http rows the `tls` marker.
/// 8: the `dns` table of lookups.
/// 9: the `endpoints` table and the endpoint timeline in `meta`.
/// 10: HTTP/2 verdicts name flow-control stalls, waits behind other
/// streams and resets; indexes for the gRPC and HTTP/2 filters; the
/// overview's histogram edges chosen from the data.
/// 11: packet records carry the sender's window scale (45 bytes), so pages
/// show Wireshark's calculated window.
/// Also 11: conversations store whether they carry TLS and whether it was
/// decrypted (the `tls` and `decrypted` filter predicates).
/// Also 11: dns rows name the truncated answer a TCP lookup retried
/// (`retry_of`); an HTTP verdict gives the DNS time just before its
/// connection.
/// Also 12: http rows carry their endpoint group (`endpoint_group`,
/// indexed) and the `endpoint_groups` table its endpoint, so `template=`
/// is an indexed condition.
/// Also 12: conversations behind an MPLS label stack or in a PPPoE session
/// name it in `tunnel` (`mpls labels 100/200`, `pppoe session 0x0011`).
/// Also 12: HTTP/2 flow-control windows are followed from the sender's
/// start (curl's first stall before the server's SETTINGS is found);
/// stall verdicts name the WINDOW_UPDATE waited for.
/// 13: a conversation of at most [`INLINE_RECORDS`] packets keeps their
/// records in its own row (`conversations.packet_records`) instead of a
/// `packet_chunks` row; indexes of equality filters on nullable columns
/// (`sni`, `ja4`, `stream`, ...) leave out the rows without a value;
/// `endpoint_groups` loses its unread `endpoint` column.
pub const RESULTS_VERSION: i64 = 13;

/// The column of a conversation's packet records when they are few
/// ([`INLINE_RECORDS`]); NULL when they are in `packet_chunks`.
pub(crate) const PACKET_RECORDS: &str = "packet_records";

/// Packets of a conversation kept in its own row, at most: a scan or a
/// SYN flood stores one row per conversation, not two, while the rows of
/// long conversations stay small for the scans of the table.
pub(crate) const INLINE_RECORDS: usize = 4;

/// Tables of a results database, created empty before the analysis writes.
pub fn results_tables() -> String {
    [
        "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);\n".to_string(),
        tables::ddl::<ConversationRow>(),
        format!("ALTER TABLE conversations ADD COLUMN {PACKET_RECORDS} BLOB;\n"),
        "CREATE TABLE packet_chunks (
            conversation INTEGER NOT NULL,
            first_packet INTEGER NOT NULL,
            data BLOB NOT NULL,
            PRIMARY KEY (conversation, first_packet)
        ) WITHOUT ROWID;\n"
            .to_string(),
        tables::ddl::<ExchangeRow>(),
        tables::ddl::<DnsRow>(),
        tables::ddl::<EndpointRow>(),
        super::endpoints::group_tables(),
    ]
    .concat()
}

/// Indexes of a results database, built once after the rows are in (much
/// faster than maintaining them row by row). Sorts without an index here
/// still work, by a scan. Lists select the page's ids from an index first
/// and fetch the rows after, so a filtered sort touches only index pages
/// (`http?status=5xx` on a million exchanges: ~3 ms instead of ~50 ms).
///
/// They are built after the results are shown, in the background
/// ([`super::indexing`]): on a capture of 3 M conversations they take 5 s,
/// as long as its whole analysis in the CLI.
pub fn results_indexes() -> Vec<Index> {
    [
        tables::indexes::<ConversationRow>(),
        tables::indexes::<ExchangeRow>(),
        tables::indexes::<DnsRow>(),
        tables::indexes::<EndpointRow>(),
        super::endpoints::group_indexes(),
    ]
    .concat()
}

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
        results.execute_batch(&results_tables()).unwrap();
        tables::create_indexes(&results, &results_indexes()).unwrap();
    }
}
