//! Keyset pagination of a results table: the SQL that seeks just past a
//! row (the `after=` id of a page's next link) in the sort order.
//!
//! The store reads the sort value of that row itself, so a cursor is only
//! a row id: it carries no value (a shared, redacted view shows other
//! values than the stored ones) and cannot be forged into another type.
//! A sorted column's rows split into bands that each read as one index
//! range: the rows with a value, in (value, id) order, and the rows
//! without one (NULL sorts first ascending, last descending), in id order.
//! A page reads the rest of the cursor's band, then the bands after it,
//! so no band condition needs an OR that would stop the seek.

use rusqlite::types::Value;

use crate::analysis::report::{Order, Row, SortKey};

/// Writes a band's condition; its argument binds a value and returns the
/// placeholder that stands for it.
type Condition<'a> = &'a dyn Fn(&mut dyn FnMut(Value) -> String) -> String;

/// The conditions of the bands left after the row `after_id` whose sort
/// value is `after_value` (read with [`sort_value_sql`]), in the order
/// they are read, each with its parameters numbered from `args.len() + 1`
/// (a band's values are pushed onto its own copy of `args`).
pub(crate) fn bands<R: Row>(
    sort: SortKey<R>,
    order: Order,
    after_id: u64,
    after_value: &Value,
    args: &[Value],
) -> Vec<(String, Vec<Value>)> {
    let (past, past_or_at) = match order {
        Order::Asc => (">", ">="),
        Order::Desc => ("<", "<="),
    };
    let id = Value::Integer(i64::try_from(after_id).unwrap_or(i64::MAX));
    let band = |cond: Condition<'_>| {
        let mut own = args.to_vec();
        let sql = cond(&mut |v| {
            own.push(v);
            format!("?{}", own.len())
        });
        (sql, own)
    };
    let Some(i) = sort.column() else {
        return vec![band(&|arg| format!("id {past} {}", arg(id.clone())))];
    };
    let expr = super::tables::sort_expr::<R>(i);
    let valued_after = || {
        band(&|arg| {
            let (v, id) = (arg(after_value.clone()), arg(id.clone()));
            format!("{expr} {past_or_at} {v} AND ({expr} {past} {v} OR id {past} {id})")
        })
    };
    let nulls_after = || band(&|arg| format!("{expr} IS NULL AND id {past} {}", arg(id.clone())));
    let all_valued = || band(&|_| format!("{expr} IS NOT NULL"));
    let all_nulls = || band(&|_| format!("{expr} IS NULL"));
    match (after_value, order) {
        (Value::Null, Order::Asc) => vec![nulls_after(), all_valued()],
        (Value::Null, Order::Desc) => vec![nulls_after()],
        (_, Order::Asc) => vec![valued_after()],
        (_, Order::Desc) => vec![valued_after(), all_nulls()],
    }
}

/// The query of the sort value of one row (`?1`: its id); none when
/// sorted by id.
pub(crate) fn sort_value_sql<R: Row>(sort: SortKey<R>) -> Option<String> {
    let expr = super::tables::sort_expr::<R>(sort.column()?);
    Some(format!("SELECT {expr} FROM {} WHERE id = ?1", R::TABLE))
}
