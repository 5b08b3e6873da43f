//! The endpoints of a capture, stored with the rest of its results
//! (README, "Endpoints"): the `endpoints` table (one [`EndpointRow`] per
//! endpoint, sorted and paged as the other tables), the timeline (heatmap
//! and p50/p99 lines) and the comparison's [`Digest`] as JSON documents in
//! `meta`. The results writer counts the rows into the analysis'
//! [`Tallies`] as it stores them, so the endpoints and compare pages only
//! read. Each stored exchange carries the endpoint group it went to
//! (`http.endpoint_group`, indexed) and the `endpoint_groups` table says
//! the method, host and template of each group's endpoint: the HTTP
//! view's `template=` is an indexed condition (README, "Endpoints").

use rusqlite::{params, Connection, OptionalExtension};
use serde::de::DeserializeOwned;

use super::tables::{self, Index};
use super::{Error, Result};
use crate::analysis::diff::{Digest, Tallies};
use crate::analysis::endpoints::Timeline;
use crate::analysis::report::{EndpointRow, ExchangeRow, Row};

/// The `http` column of each exchange's endpoint group.
pub(crate) const ENDPOINT_GROUP: &str = "endpoint_group";
/// The table of the groups: per group, its endpoint's method, host and
/// template (what the HTTP view's filters match).
pub(crate) const ENDPOINT_GROUPS: &str = "endpoint_groups";

/// The group column and table, made with the other tables.
pub(crate) fn group_tables() -> String {
    format!(
        "ALTER TABLE {http} ADD COLUMN {ENDPOINT_GROUP} INTEGER;
         CREATE TABLE {ENDPOINT_GROUPS} (
             {ENDPOINT_GROUP} INTEGER PRIMARY KEY,
             method TEXT,
             host TEXT,
             template TEXT NOT NULL
         );\n",
        http = <ExchangeRow as Row>::TABLE
    )
}

/// Their indexes, made with the others once the rows are in.
pub(crate) fn group_indexes() -> Vec<Index> {
    let http = <ExchangeRow as Row>::TABLE;
    vec![
        Index::new(
            format!("{http}_by_{ENDPOINT_GROUP}"),
            format!("{http}({ENDPOINT_GROUP})"),
        ),
        Index::new(
            format!("{ENDPOINT_GROUPS}_by_template"),
            format!("{ENDPOINT_GROUPS}(template)"),
        ),
    ]
}

/// The `meta` key of the timeline document.
const TIMELINE_KEY: &str = "endpoint_timeline";
/// The `meta` key of the comparison's digest.
const DIGEST_KEY: &str = "compare_digest";

fn write_doc(conn: &Connection, key: &str, doc: &impl serde::Serialize) -> Result<()> {
    let text = serde_json::to_string(doc).map_err(|e| Error::Corrupt(format!("{key}: {e}")))?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        params![key, text],
    )?;
    Ok(())
}

/// A stored document (its default when the results have none).
fn read_doc<T: DeserializeOwned + Default>(conn: &Connection, key: &str) -> Result<T> {
    let text: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = ?1", params![key], |r| {
            r.get(0)
        })
        .optional()?;
    match text {
        None => Ok(T::default()),
        Some(t) => serde_json::from_str(&t).map_err(|e| Error::Corrupt(format!("{key}: {e}"))),
    }
}

/// Writes the endpoint rows, each group's endpoint, the timeline and the
/// digest of the rows counted.
pub(crate) fn write(conn: &Connection, tallies: Tallies) -> Result<()> {
    let t = tallies.finish();
    let sql = tables::insert_sql::<EndpointRow>();
    for (i, row) in t.endpoints.rows.iter().enumerate() {
        tables::insert(conn, &sql, row, Some(i as u64))?;
    }
    let mut stmt = conn.prepare(&format!(
        "INSERT INTO {ENDPOINT_GROUPS} ({ENDPOINT_GROUP}, method, host, template) \
         VALUES (?1, ?2, ?3, ?4)"
    ))?;
    for (group, endpoint) in t.endpoints.groups() {
        let Some(row) = t.endpoints.rows.get(endpoint) else {
            continue;
        };
        stmt.execute(params![
            i64::from(group.0),
            row.method,
            row.host,
            row.template
        ])?;
    }
    drop(stmt);
    write_doc(conn, TIMELINE_KEY, &t.timeline)?;
    write_doc(conn, DIGEST_KEY, &t.digest)
}

/// The stored timeline.
pub(crate) fn read_timeline(conn: &Connection) -> Result<Timeline> {
    read_doc(conn, TIMELINE_KEY)
}

/// The stored digest.
pub(crate) fn read_digest(conn: &Connection) -> Result<Digest> {
    read_doc(conn, DIGEST_KEY)
}

/// Every stored exchange, in stored order, to `f`.
pub(crate) fn each_exchange(conn: &Connection, f: &mut dyn FnMut(&ExchangeRow)) -> Result<()> {
    let sql = format!(
        "SELECT {} FROM http ORDER BY id",
        tables::select_list::<ExchangeRow>()
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let (_, row) = tables::read::<ExchangeRow>(r)?;
        f(&row);
    }
    Ok(())
}
