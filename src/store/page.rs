//! How a list page picks its row ids and fetches its rows, when the plain
//! `WHERE ... ORDER BY ... LIMIT` would scan.
//!
//! A filter that is a set of values (`status=404,5xx,none`, `rcode=
//! NXDOMAIN,SERVFAIL`) keeps rows from several ranges of its index, so
//! SQLite reads them all and sorts them in a temporary B-tree. Here such a
//! filter becomes one arm per value (a range such as `5xx` is read as the
//! values that occur in it, one seek each; at most [`MAX_ARMS`]), each arm
//! an ordered seek in the (filter column, sort column) index, merged by a
//! `UNION ALL ... ORDER BY` that stops at the page's end. The count is the
//! sum of the arms' counts (the values are distinct, the arms disjoint).
//!
//! An unfiltered page in stored order whose ids have no gaps (results are
//! written once, so they have none) seeks to its first id instead of
//! counting `offset` rows. Rows are fetched by id, [`FETCH_BATCH`] per
//! statement, in the page's order.

use std::collections::BTreeSet;

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, OptionalExtension};

use super::tables;
use super::Result;
use crate::analysis::report::{Cond, Order, Query, Row, StatusMatch};

/// Most arms (index seeks) a set filter is split into; past it (a range
/// with more distinct values), the plain query.
pub(crate) const MAX_ARMS: usize = 32;

/// Row ids fetched per statement.
pub(crate) const FETCH_BATCH: usize = 100;

/// A set filter split into one equality per value (`Value::Null`: the rows
/// without one), all on `column`.
#[derive(Debug)]
pub(crate) struct Arms {
    column: &'static str,
    values: Vec<Value>,
}

impl Arms {
    /// The arms of `q`, when its only filter is a set whose column leads an
    /// index with the sort column behind it; `None` otherwise (the plain
    /// query then). Ranges are read as the values in them, one seek each.
    pub(crate) fn of<R: Row>(conn: &Connection, q: &Query<R>) -> Result<Option<Arms>> {
        let [f] = q.filters.as_slice() else {
            return Ok(None);
        };
        if !tables::index_leads_with::<R>(f.column, q.sort.column()) {
            return Ok(None);
        }
        let column = R::COLUMNS[f.column].name;
        let mut values: BTreeSet<Key> = BTreeSet::new();
        match &f.cond {
            Cond::Status(set) => {
                for m in &set.0 {
                    match *m {
                        StatusMatch::NoResponse => {
                            values.insert(Key::Null);
                        }
                        StatusMatch::Range(lo, hi) if lo == hi => {
                            values.insert(Key::Int(i64::from(lo)));
                        }
                        StatusMatch::Range(lo, hi) => {
                            let left = MAX_ARMS.saturating_sub(values.len());
                            let Some(found) = values_in(conn, R::TABLE, column, lo, hi, left)?
                            else {
                                return Ok(None);
                            };
                            values.extend(found.into_iter().map(Key::Int));
                        }
                    }
                }
            }
            Cond::AnyOf(words) => {
                values.extend(words.iter().map(|w| match w {
                    Some(w) => Key::Text(w.clone()),
                    None => Key::Null,
                }));
            }
            _ => return Ok(None),
        }
        if values.len() > MAX_ARMS {
            return Ok(None);
        }
        Ok(Some(Arms {
            column,
            values: values.into_iter().map(Key::into_value).collect(),
        }))
    }

    /// The condition of arm `i`, its value bound as `?{at}`.
    fn cond(&self, i: usize, at: usize) -> String {
        match self.values[i] {
            Value::Null => format!("{} IS NULL", self.column),
            _ => format!("{} = ?{at}", self.column),
        }
    }

    /// The rows the arms keep, counted: the sum of each arm's count.
    pub(crate) fn count_sql<R: Row>(&self) -> (String, Vec<Value>) {
        let mut args = Vec::new();
        let mut terms = vec!["0".to_string()];
        for (i, v) in self.values.iter().enumerate() {
            if *v != Value::Null {
                args.push(v.clone());
            }
            terms.push(format!(
                "(SELECT count(*) FROM {} WHERE {})",
                R::TABLE,
                self.cond(i, args.len())
            ));
        }
        (format!("SELECT {}", terms.join(" + ")), args)
    }

    /// The SQL of a page's ids (and sort values): the arms merged in the
    /// sort order, each also meeting `band` (a keyset band whose
    /// placeholders number into `args`); `args` gets the arms' values,
    /// `limit` and `offset`.
    pub(crate) fn ids_sql<R: Row>(
        &self,
        q: &Query<R>,
        band: Option<&str>,
        args: &mut Vec<Value>,
        limit: u32,
        offset: u64,
    ) -> String {
        let key = match q.sort.column() {
            Some(i) => tables::sort_expr::<R>(i),
            None => "id".to_string(),
        };
        let mut arms: Vec<String> = (0..self.values.len())
            .map(|i| {
                if self.values[i] != Value::Null {
                    args.push(self.values[i].clone());
                }
                let cond = self.cond(i, args.len());
                let band = band.map(|b| format!(" AND ({b})")).unwrap_or_default();
                format!("SELECT id, {key} FROM {} WHERE {cond}{band}", R::TABLE)
            })
            .collect();
        if arms.is_empty() {
            // No value occurs in the set's ranges: no rows.
            arms.push(format!("SELECT id, {key} FROM {} WHERE 0", R::TABLE));
        }
        let dir = match q.order {
            Order::Asc => "ASC",
            Order::Desc => "DESC",
        };
        args.push(Value::Integer(i64::from(limit)));
        let limit = args.len();
        args.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
        let offset = args.len();
        format!(
            "{} ORDER BY 2 {dir}, 1 {dir} LIMIT ?{limit} OFFSET ?{offset}",
            arms.join(" UNION ALL ")
        )
    }
}

/// The values of a set, ordered and deduplicated (`Null` first).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Null,
    Int(i64),
    Text(String),
}

impl Key {
    fn into_value(self) -> Value {
        match self {
            Key::Null => Value::Null,
            Key::Int(n) => Value::Integer(n),
            Key::Text(t) => Value::Text(t),
        }
    }
}

/// The distinct values of `column` in `lo..=hi`, one index seek each;
/// `None` when there are more than `most`.
fn values_in(
    conn: &Connection,
    table: &str,
    column: &str,
    lo: u16,
    hi: u16,
    most: usize,
) -> Result<Option<Vec<i64>>> {
    let sql = format!(
        "SELECT {column} FROM {table} WHERE {column} >= ?1 AND {column} <= ?2 \
         ORDER BY {column} LIMIT 1"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let hi = i64::from(hi);
    let mut from = i64::from(lo);
    let mut found = Vec::new();
    while from <= hi {
        let next: Option<i64> = stmt.query_row([from, hi], |r| r.get(0)).optional()?;
        let Some(v) = next else { break };
        if found.len() == most {
            return Ok(None);
        }
        found.push(v);
        from = v + 1;
    }
    Ok(Some(found))
}

/// For an unfiltered page in stored order: the condition that seeks to its
/// first row and stands for `offset`, when the table's ids run without a
/// gap (`total` rows from the least id to the greatest).
pub(crate) fn gapless_seek(
    conn: &Connection,
    table: &str,
    total: u64,
    order: Order,
    offset: u64,
) -> Result<Option<String>> {
    if offset == 0 {
        return Ok(None);
    }
    // Apart: SQLite reads one min() or max() as a single seek, both in one
    // select as a scan.
    let sql = format!("SELECT (SELECT min(id) FROM {table}), (SELECT max(id) FROM {table})");
    let (min, max): (Option<i64>, Option<i64>) =
        conn.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let (Some(min), Some(max)) = (min, max) else {
        return Ok(None);
    };
    let span = max.checked_sub(min).and_then(|d| d.checked_add(1));
    if span != i64::try_from(total).ok() {
        return Ok(None);
    }
    let offset = i64::try_from(offset).unwrap_or(i64::MAX);
    Ok(Some(match order {
        Order::Asc => format!("id >= {}", min.saturating_add(offset)),
        Order::Desc => format!("id <= {}", max.saturating_sub(offset)),
    }))
}

/// The rows of `ids`, in that order, [`FETCH_BATCH`] per statement;
/// `read` reads one selected with [`tables::select_list`].
pub(crate) fn fetch<R: Row>(conn: &Connection, ids: &[i64]) -> Result<Vec<(u64, R)>> {
    let mut rows = Vec::with_capacity(ids.len());
    for batch in ids.chunks(FETCH_BATCH) {
        let values: Vec<String> = (1..=batch.len()).map(|i| format!("({i}, ?{i})")).collect();
        let sql = format!(
            "WITH page(pos, id) AS (VALUES {}) SELECT {} FROM page CROSS JOIN {} AS t \
             ON t.id = page.id ORDER BY page.pos",
            values.join(", "),
            tables::select_list_of::<R>("t"),
            R::TABLE
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let got = stmt.query_map(params_from_iter(batch.iter()), tables::read::<R>)?;
        for r in got {
            rows.push(r?);
        }
    }
    Ok(rows)
}
