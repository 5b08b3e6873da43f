//! Keyset pagination of a results table: the SQL that seeks just past a
//! [`Cursor`] in the sort order, and the cursor of a page's last row.
//!
//! A sorted column's rows split into bands that each read as one index
//! range: the rows with a value, in (value, id) order, and the rows
//! without one (NULL sorts first ascending, last descending), in id order.
//! A page reads the rest of the cursor's band, then the bands after it,
//! so no band condition needs an OR that would stop the seek.

use rusqlite::types::Value;

use super::tables;
use crate::analysis::report::{Cell, Cursor, Kind, Order, Row, SortKey, SortValue};

/// The cursor just after `row` (stored id `own_id` for tables that keep
/// their own id) in `sort`'s order: the `next` link of a page that ends
/// with it.
pub fn cursor_after<R: Row>(sort: SortKey<R>, row: &R, own_id: u64) -> Cursor {
    let id = R::column("id")
        .and_then(|(_, c)| match (c.get)(row) {
            Cell::Int(n) => u64::try_from(n).ok(),
            _ => None,
        })
        .unwrap_or(own_id);
    let value = match sort.column() {
        None => SortValue::Null,
        Some(i) => {
            let c = &R::COLUMNS[i];
            match (c.get)(row) {
                Cell::Null => SortValue::Null,
                Cell::Int(n) => SortValue::Int(n),
                Cell::Bool(b) => SortValue::Int(i64::from(b)),
                Cell::Text(t) if c.kind == Kind::Addr => SortValue::Key(
                    t.parse()
                        .map_or_else(|_| t.as_bytes().to_vec(), |a| tables::addr_key(&a).to_vec()),
                ),
                Cell::Text(t) => SortValue::Text(t.into_owned()),
            }
        }
    };
    Cursor { value, id }
}

fn bound(v: &SortValue) -> Value {
    match v {
        SortValue::Null => Value::Null,
        SortValue::Int(n) => Value::Integer(*n),
        SortValue::Text(t) => Value::Text(t.clone()),
        SortValue::Key(k) => Value::Blob(k.clone()),
    }
}

/// The conditions of the bands left after `after`, in the order they are
/// read, each with its parameters numbered from `args.len() + 1` (a band's
/// values are pushed onto its own copy of `args`).
pub(crate) fn bands<R: Row>(
    sort: SortKey<R>,
    order: Order,
    after: &Cursor,
    args: &[Value],
) -> Vec<(String, Vec<Value>)> {
    let (past, past_or_at) = match order {
        Order::Asc => (">", ">="),
        Order::Desc => ("<", "<="),
    };
    let id = Value::Integer(i64::try_from(after.id).unwrap_or(i64::MAX));
    let band = |cond: &dyn Fn(&mut dyn FnMut(Value) -> String) -> String| {
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
    let expr = tables::sort_expr::<R>(i);
    let nullable = R::COLUMNS[i].nullable;
    let valued_after = |v: &SortValue| {
        let v = bound(v);
        band(&|arg| {
            let (v, id) = (arg(v.clone()), arg(id.clone()));
            format!("{expr} {past_or_at} {v} AND ({expr} {past} {v} OR id {past} {id})")
        })
    };
    let nulls_after = || band(&|arg| format!("{expr} IS NULL AND id {past} {}", arg(id.clone())));
    let all_valued = || band(&|_| format!("{expr} IS NOT NULL"));
    let all_nulls = || band(&|_| format!("{expr} IS NULL"));
    match (&after.value, order, nullable) {
        (SortValue::Null, _, false) => vec![all_valued()],
        (SortValue::Null, Order::Asc, true) => vec![nulls_after(), all_valued()],
        (SortValue::Null, Order::Desc, true) => vec![nulls_after()],
        (v, _, false) => vec![valued_after(v)],
        (v, Order::Asc, true) => vec![valued_after(v)],
        (v, Order::Desc, true) => vec![valued_after(v), all_nulls()],
    }
}
