//! The endpoints of a capture, stored with the rest of its results
//! (README, "Endpoints"): the `endpoints` table (one [`EndpointRow`] per
//! endpoint, sorted and paged as the other tables) and the timeline
//! (heatmap and p50/p99 lines) as one JSON document in `meta`. The results
//! writer counts the exchanges into a [`Tally`] as it stores them, so the
//! page only reads.

use rusqlite::{params, Connection, OptionalExtension};

use super::{tables, Error, Result};
use crate::analysis::endpoints::{Tally, Timeline};
use crate::analysis::report::{EndpointRow, ExchangeRow};

/// The `meta` key of the timeline document.
const TIMELINE_KEY: &str = "endpoint_timeline";

/// Writes the endpoint rows and the timeline of the exchanges counted.
pub(crate) fn write(conn: &Connection, tally: Tally) -> Result<()> {
    let (set, timeline) = tally.finish();
    let sql = tables::insert_sql::<EndpointRow>();
    for (i, row) in set.rows.iter().enumerate() {
        tables::insert(conn, &sql, row, Some(i as u64))?;
    }
    let text = serde_json::to_string(&timeline)
        .map_err(|e| Error::Corrupt(format!("endpoint timeline: {e}")))?;
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)",
        params![TIMELINE_KEY, text],
    )?;
    Ok(())
}

/// The stored timeline.
pub(crate) fn read_timeline(conn: &Connection) -> Result<Timeline> {
    let text: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = ?1",
            params![TIMELINE_KEY],
            |r| r.get(0),
        )
        .optional()?;
    match text {
        None => Ok(Timeline::default()),
        Some(t) => {
            serde_json::from_str(&t).map_err(|e| Error::Corrupt(format!("endpoint timeline: {e}")))
        }
    }
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
