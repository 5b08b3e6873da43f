//! The SQL of a results table, derived from its row definition
//! ([`crate::analysis::report::table`]): the DDL, its indexes, the insert,
//! the select list and the reading of a row, the ORDER BY of a sort key
//! and the WHERE of a query's filters. Nothing here names a column of a
//! particular table.
//!
//! How kinds are stored: numbers, times (epoch ns), durations (ns) and
//! booleans as INTEGER; text, words and lists as TEXT; an address as its
//! text plus a `NAME_key` BLOB that sorts numerically (IPv4 as IPv6-mapped,
//! then the port). A table whose rows have no `id` column gets an
//! `id INTEGER PRIMARY KEY` (the stored order) in front.

use std::borrow::Cow;
use std::net::{IpAddr, SocketAddr};

use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

use super::endpoints::{ENDPOINT_GROUP, ENDPOINT_GROUPS};
use super::Result;
use crate::analysis::report::{
    Cell, Cond, ConvWhere, ConversationRow, FilterOp, Kind, Order, Query, Row, SortKey,
};

/// A sortable key for an address: the IPv6(-mapped) address then the port,
/// big-endian, so `ORDER BY` sorts numerically.
pub(crate) fn addr_key(a: &SocketAddr) -> [u8; 18] {
    let v6 = match a.ip() {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    };
    let mut k = [0u8; 18];
    k[..16].copy_from_slice(&v6.octets());
    k[16..].copy_from_slice(&a.port().to_be_bytes());
    k
}

/// Whether the table stores its own `id` in front of the row's columns.
fn has_own_id<R: Row>() -> bool {
    R::column("id").is_none()
}

/// `CREATE TABLE` for rows of `R`.
pub(crate) fn ddl<R: Row>() -> String {
    let mut cols: Vec<String> = Vec::new();
    if has_own_id::<R>() {
        cols.push("id INTEGER PRIMARY KEY".into());
    }
    for c in R::COLUMNS {
        let sql_type = match c.kind {
            Kind::Int | Kind::Time | Kind::Span | Kind::Bool => "INTEGER",
            Kind::Addr | Kind::Text | Kind::Word | Kind::List => "TEXT",
        };
        let null = if c.nullable { "" } else { " NOT NULL" };
        if c.name == "id" {
            cols.push("id INTEGER PRIMARY KEY".into());
            continue;
        }
        cols.push(format!("{} {sql_type}{null}", c.name));
        if c.kind == Kind::Addr {
            cols.push(format!("{}_key BLOB{null}", c.name));
        }
    }
    format!(
        "CREATE TABLE {} (\n    {}\n);\n",
        R::TABLE,
        cols.join(",\n    ")
    )
}

/// The expression a column sorts by.
pub(crate) fn sort_expr<R: Row>(i: usize) -> String {
    let c = &R::COLUMNS[i];
    match c.kind {
        Kind::Addr => format!("{}_key", c.name),
        _ => c.name.to_string(),
    }
}

/// One index of a results table: its name, and the statement that makes
/// it if it is not there yet.
#[derive(Clone, Debug)]
pub(crate) struct Index {
    pub name: String,
    pub sql: String,
}

impl Index {
    pub(crate) fn new(name: String, on: String) -> Index {
        let sql = format!("CREATE INDEX IF NOT EXISTS {name} ON {on};");
        Index { name, sql }
    }
}

/// Makes each of `indexes` that is not there yet (the tests' tables; the
/// results' are made one at a time by [`super::indexing`]).
#[cfg(test)]
pub(crate) fn create_indexes(conn: &Connection, indexes: &[Index]) -> Result<()> {
    for index in indexes {
        conn.execute_batch(&index.sql)?;
    }
    Ok(())
}

/// Indexes, built once after the rows are in: one per indexed sort
/// column, one per filtered column (NOCASE where the filter ignores case),
/// and for a status filter one with each indexed sort column behind it,
/// so a filtered, sorted page reads only index pages.
pub(crate) fn indexes<R: Row>() -> Vec<Index> {
    let t = R::TABLE;
    let mut out = Vec::new();
    for (i, c) in R::COLUMNS.iter().enumerate() {
        if c.indexed {
            out.push(Index::new(
                format!("{t}_by_{}", c.name),
                format!("{t}({})", sort_expr::<R>(i)),
            ));
        }
        let Some(f) = c.filter else { continue };
        if c.indexed {
            continue;
        }
        let collate = if f.op.ignores_case() {
            " COLLATE NOCASE"
        } else {
            ""
        };
        // An equality filter never keeps a row without a value, so the
        // index leaves those out (SQLite still uses it for `x = ?`): on a
        // capture without TLS or HTTP/2 it is empty and costs nothing.
        let partial = if c.nullable && matches!(f.op, FilterOp::Equal | FilterOp::EqualNoCase) {
            format!(" WHERE {} IS NOT NULL", c.name)
        } else {
            String::new()
        };
        out.push(Index::new(
            format!("{t}_by_{}", c.name),
            format!("{t}({}{collate}){partial}", c.name),
        ));
        if f.op == FilterOp::Status {
            for (j, s) in R::COLUMNS.iter().enumerate().filter(|(_, s)| s.indexed) {
                out.push(Index::new(
                    format!("{t}_by_{}_{}", c.name, s.name),
                    format!("{t}({}, {})", c.name, sort_expr::<R>(j)),
                ));
            }
        }
    }
    out
}

/// Whether [`indexes`] makes an index whose first column is the filtered
/// column `filter` and whose order within one of its values is the sort
/// column `sort` (`None`: the stored order, which every index keeps last).
pub(crate) fn index_leads_with<R: Row>(filter: usize, sort: Option<usize>) -> bool {
    let c = &R::COLUMNS[filter];
    let Some(f) = c.filter else {
        return c.indexed && sort.is_none_or(|s| s == filter);
    };
    let own = c.indexed || !f.op.ignores_case();
    match sort {
        None => own,
        Some(s) if s == filter => own,
        Some(s) => !c.indexed && f.op == FilterOp::Status && R::COLUMNS[s].indexed,
    }
}

/// Stored column names, in insert order.
fn stored_names<R: Row>() -> Vec<String> {
    let mut names = Vec::new();
    if has_own_id::<R>() {
        names.push("id".to_string());
    }
    for c in R::COLUMNS {
        names.push(c.name.to_string());
        if c.kind == Kind::Addr {
            names.push(format!("{}_key", c.name));
        }
    }
    names
}

/// `INSERT` of one row (with the table's own id first when it has one).
pub(crate) fn insert_sql<R: Row>() -> String {
    insert_sql_with::<R>(&[])
}

/// [`insert_sql`] with columns of the store's own after the row's (bound
/// by [`insert_with`]).
pub(crate) fn insert_sql_with<R: Row>(extra: &[&str]) -> String {
    let mut names = stored_names::<R>();
    names.extend(extra.iter().map(|n| n.to_string()));
    let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
    format!(
        "INSERT INTO {} ({}) VALUES ({})",
        R::TABLE,
        names.join(", "),
        marks.join(", ")
    )
}

fn value(cell: Cell<'_>) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Int(n) => Value::Integer(n),
        Cell::Bool(b) => Value::Integer(i64::from(b)),
        Cell::Text(t) => Value::Text(t.into_owned()),
    }
}

/// Binds one cell, borrowing its text.
fn bind(stmt: &mut rusqlite::Statement<'_>, at: usize, cell: &Cell<'_>) -> Result<()> {
    match cell {
        Cell::Null => stmt.raw_bind_parameter(at, rusqlite::types::Null)?,
        Cell::Int(n) => stmt.raw_bind_parameter(at, n)?,
        Cell::Bool(b) => stmt.raw_bind_parameter(at, i64::from(*b))?,
        Cell::Text(t) => stmt.raw_bind_parameter(at, t.as_ref())?,
    }
    Ok(())
}

/// Inserts `row` with `sql` (the table's [`insert_sql`], made once by the
/// caller: a row is written per conversation and per exchange, so nothing
/// here allocates per row but the cells' own text); `own_id` is the stored
/// id of tables that keep one.
pub(crate) fn insert<R: Row>(
    conn: &Connection,
    sql: &str,
    row: &R,
    own_id: Option<u64>,
) -> Result<()> {
    insert_with(conn, sql, row, own_id, &[])
}

/// [`insert`] with the values of the extra columns of
/// [`insert_sql_with`].
pub(crate) fn insert_with<R: Row>(
    conn: &Connection,
    sql: &str,
    row: &R,
    own_id: Option<u64>,
    extra: &[&dyn rusqlite::ToSql],
) -> Result<()> {
    let mut stmt = conn.prepare_cached(sql)?;
    insert_into(&mut stmt, row, own_id, extra)
}

/// [`insert_with`] by a statement prepared from the table's
/// [`insert_sql_with`] and held by the caller (the results writer: no
/// statement cache lookup per row).
pub(crate) fn insert_into<R: Row>(
    stmt: &mut rusqlite::Statement<'_>,
    row: &R,
    own_id: Option<u64>,
    extra: &[&dyn rusqlite::ToSql],
) -> Result<()> {
    let mut at = 1;
    if has_own_id::<R>() {
        let id = crate::analysis::report::table::int(own_id.unwrap_or(0));
        stmt.raw_bind_parameter(at, id)?;
        at += 1;
    }
    for c in R::COLUMNS {
        let cell = (c.get)(row);
        bind(stmt, at, &cell)?;
        at += 1;
        if c.kind == Kind::Addr {
            match &cell {
                Cell::Text(t) => match t.parse::<SocketAddr>() {
                    Ok(a) => stmt.raw_bind_parameter(at, &addr_key(&a)[..])?,
                    Err(_) => stmt.raw_bind_parameter(at, t.as_bytes())?,
                },
                _ => stmt.raw_bind_parameter(at, rusqlite::types::Null)?,
            }
            at += 1;
        }
    }
    for v in extra {
        stmt.raw_bind_parameter(at, v)?;
        at += 1;
    }
    stmt.raw_execute()?;
    Ok(())
}

/// The select list of a row (the table's own id first, when it has one):
/// every column in order, so the fields come first whether or not the JSON
/// shows them (the derived totals after them are not read back).
pub(crate) fn select_list<R: Row>() -> String {
    select_list_of::<R>("")
}

/// [`select_list`] with each column named `{table}.{column}` (`table`
/// empty: unqualified).
pub(crate) fn select_list_of<R: Row>(table: &str) -> String {
    let dot = if table.is_empty() { "" } else { "." };
    let own = has_own_id::<R>().then_some("id");
    own.into_iter()
        .chain(R::COLUMNS.iter().map(|c| c.name))
        .map(|name| format!("{table}{dot}{name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn cell(v: ValueRef<'_>) -> Cell<'static> {
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(n) => Cell::Int(n),
        ValueRef::Real(f) => Cell::Int(f as i64),
        ValueRef::Text(t) | ValueRef::Blob(t) => {
            Cell::Text(Cow::Owned(String::from_utf8_lossy(t).into_owned()))
        }
    }
}

/// Reads a row selected with [`select_list`]: its own id (0 for tables
/// without one) and the row.
pub(crate) fn read<R: Row>(r: &rusqlite::Row<'_>) -> rusqlite::Result<(u64, R)> {
    let offset = usize::from(has_own_id::<R>());
    let own = if offset == 1 {
        r.get::<_, i64>(0)?.max(0) as u64
    } else {
        0
    };
    let mut failed: Option<rusqlite::Error> = None;
    let row = R::from_cells(&mut |i| match r.get_ref(i + offset) {
        Ok(v) => cell(v),
        Err(e) => {
            failed.get_or_insert(e);
            Cell::Null
        }
    });
    if let Some(e) = failed {
        return Err(e);
    }
    let row = row.map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(offset, rusqlite::types::Type::Text, Box::new(e))
    })?;
    Ok((own, row))
}

/// `ORDER BY` of a sort key, ties broken by the stored order.
pub(crate) fn order_by<R: Row>(sort: SortKey<R>, order: Order) -> String {
    let dir = match order {
        Order::Asc => "ASC",
        Order::Desc => "DESC",
    };
    match sort.column() {
        Some(i) => format!("ORDER BY {} {dir}, id {dir}", sort_expr::<R>(i)),
        None => format!("ORDER BY id {dir}"),
    }
}

/// `WHERE` of a query's filters (empty without any), its parameters
/// appended to `args` (numbered from `args.len() + 1`).
pub(crate) fn where_clause<R: Row>(q: &Query<R>, args: &mut Vec<Value>) -> String {
    let wheres: Vec<String> = q
        .filters
        .iter()
        .map(|f| cond_sql(R::COLUMNS[f.column].name, &f.cond, args))
        .collect();
    if wheres.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", wheres.join(" AND "))
    }
}

/// The SQL of one condition on column `name`.
fn cond_sql(name: &str, cond: &Cond, args: &mut Vec<Value>) -> String {
    let mut arg = |v: Value| {
        args.push(v);
        format!("?{}", args.len())
    };
    match cond {
        Cond::Status(status) => {
            let terms: Vec<String> = status
                .0
                .iter()
                .map(|m| match *m {
                    crate::analysis::report::StatusMatch::Range(lo, hi) if lo == hi => {
                        format!("{name} = {}", arg(Value::Integer(i64::from(lo))))
                    }
                    crate::analysis::report::StatusMatch::Range(lo, hi) => {
                        let lo = arg(Value::Integer(i64::from(lo)));
                        let hi = arg(Value::Integer(i64::from(hi)));
                        format!("{name} BETWEEN {lo} AND {hi}")
                    }
                    crate::analysis::report::StatusMatch::NoResponse => {
                        format!("{name} IS NULL")
                    }
                })
                .collect();
            format!("({})", terms.join(" OR "))
        }
        Cond::Equal(c) => format!("{name} = {}", arg(value(c.clone()))),
        Cond::EqualNoCase(t) => {
            format!("{name} = {} COLLATE NOCASE", arg(Value::Text(t.clone())))
        }
        Cond::Contains(t) => format!("instr({name}, {}) > 0", arg(Value::Text(t.clone()))),
        Cond::AtLeast(n) => format!("{name} >= {}", arg(Value::Integer(*n))),
        Cond::Below(n) => format!("{name} < {}", arg(Value::Integer(*n))),
        Cond::AnyOf(words) => {
            let terms: Vec<String> = words
                .iter()
                .map(|w| match w {
                    Some(w) => format!("{name} = {}", arg(Value::Text(w.clone()))),
                    None => format!("{name} IS NULL"),
                })
                .collect();
            format!("({})", terms.join(" OR "))
        }
        // The endpoint group stored beside each exchange, not the column
        // (`uri`) the filter hangs on.
        Cond::Templates(templates) if templates.is_empty() => "0".to_string(),
        Cond::Templates(templates) => {
            let marks: Vec<String> = templates
                .iter()
                .map(|t| arg(Value::Text(t.clone())))
                .collect();
            format!(
                "{ENDPOINT_GROUP} IN (SELECT {ENDPOINT_GROUP} FROM {ENDPOINT_GROUPS} \
                 WHERE template IN ({}))",
                marks.join(", ")
            )
        }
        Cond::Endpoint(key) if key.templates.is_empty() => "0".to_string(),
        Cond::Endpoint(key) => {
            let marks: Vec<String> = key
                .templates
                .iter()
                .map(|t| arg(Value::Text(t.clone())))
                .collect();
            // As the endpoints compare them: ignoring ASCII case, an empty
            // host the same as none.
            let method = match &key.method {
                Some(m) => format!("method = {} COLLATE NOCASE", arg(Value::Text(m.clone()))),
                None => "method IS NULL".to_string(),
            };
            let host = match key.host.as_deref().filter(|h| !h.is_empty()) {
                Some(h) => format!("host = {} COLLATE NOCASE", arg(Value::Text(h.to_string()))),
                None => "coalesce(host, '') = ''".to_string(),
            };
            format!(
                "{ENDPOINT_GROUP} IN (SELECT {ENDPOINT_GROUP} FROM {ENDPOINT_GROUPS} \
                 WHERE template IN ({}) AND {method} AND {host})",
                marks.join(", ")
            )
        }
        Cond::Conversation(w) => format!(
            "{name} IN (SELECT id FROM {} WHERE {})",
            ConversationRow::TABLE,
            conv_where_sql(w, args)
        ),
    }
}

/// The SQL of a condition on the conversations table.
fn conv_where_sql(w: &ConvWhere, args: &mut Vec<Value>) -> String {
    match w {
        ConvWhere::Is(f) => {
            let name = ConversationRow::COLUMNS[f.column].name;
            // A missing value passes no test (as in memory), so `not`
            // keeps the rows without one: SQL's NULL would drop them.
            format!("coalesce({}, 0)", cond_sql(name, &f.cond, args))
        }
        ConvWhere::And(a, b) => format!(
            "({} AND {})",
            conv_where_sql(a, args),
            conv_where_sql(b, args)
        ),
        ConvWhere::Or(a, b) => format!(
            "({} OR {})",
            conv_where_sql(a, args),
            conv_where_sql(b, args)
        ),
        ConvWhere::Not(a) => format!("(NOT {})", conv_where_sql(a, args)),
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::analysis::report::{ConversationRow, ExchangeRow, HttpQuery};

    #[test]
    fn rows_round_trip_through_sqlite() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&ddl::<ConversationRow>()).unwrap();
        conn.execute_batch(&ddl::<ExchangeRow>()).unwrap();
        create_indexes(&conn, &indexes::<ConversationRow>()).unwrap();
        create_indexes(&conn, &indexes::<ExchangeRow>()).unwrap();
        let c = ConversationRow::example();
        insert(&conn, &insert_sql::<ConversationRow>(), &c, None).unwrap();
        let back: (u64, ConversationRow) = conn
            .query_row(
                &format!(
                    "SELECT {} FROM conversations",
                    select_list::<ConversationRow>()
                ),
                [],
                read,
            )
            .unwrap();
        assert_eq!(back.1, c);
        let e = ExchangeRow {
            status: Some(503),
            interim: vec![100],
            method: Some("GET".into()),
            ..ExchangeRow::default()
        };
        let http_sql = insert_sql::<ExchangeRow>();
        insert(&conn, &http_sql, &e, Some(41)).unwrap();
        // Every field at its emptiest must store too.
        insert(&conn, &http_sql, &ExchangeRow::default(), Some(42)).unwrap();
        let q = HttpQuery::default()
            .with_filters(|k| (k == "status").then_some("5xx"))
            .unwrap();
        let mut args = Vec::new();
        let w = where_clause(&q, &mut args);
        let sql = format!(
            "SELECT {} FROM http {w} {}",
            select_list::<ExchangeRow>(),
            order_by(q.sort, q.order)
        );
        let got: (u64, ExchangeRow) = conn
            .query_row(&sql, rusqlite::params_from_iter(args), read)
            .unwrap();
        assert_eq!(got, (41, e));
    }

    /// An endpoint's condition keeps exactly its exchanges: by its
    /// groups' method and host, absent and empty ones alike, case aside.
    #[test]
    fn an_endpoint_keeps_its_groups_exchanges() {
        use crate::analysis::report::EndpointKey;
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&ddl::<ExchangeRow>()).unwrap();
        conn.execute_batch(&super::super::endpoints::group_tables())
            .unwrap();
        let groups: [(Option<&str>, Option<&str>, &str); 5] = [
            (Some("GET"), Some("a.example"), "/x/{id}"),
            (Some("GET"), Some("b.example"), "/x/{id}"),
            (Some("GET"), None, "/x/{id}"),
            (None, None, "/x/{id}"),
            (Some("GET"), Some("a.example"), "/y"),
        ];
        for (g, (method, host, template)) in groups.iter().enumerate() {
            conn.execute(
                "INSERT INTO endpoint_groups (endpoint_group, method, host, template) \
                 VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![g as i64, method, host, template],
            )
            .unwrap();
        }
        // Group g gets g + 1 exchanges.
        let mut id = 0;
        for g in 0..groups.len() {
            for _ in 0..=g {
                insert(
                    &conn,
                    &insert_sql::<ExchangeRow>(),
                    &ExchangeRow::default(),
                    Some(id),
                )
                .unwrap();
                conn.execute(
                    "UPDATE http SET endpoint_group = ?1 WHERE id = ?2",
                    rusqlite::params![g as i64, id as i64],
                )
                .unwrap();
                id += 1;
            }
        }
        let count = |method: Option<&str>, host: Option<&str>| -> i64 {
            let q = HttpQuery::default().of_endpoint(EndpointKey {
                templates: vec!["/x/{id}".into()],
                method: method.map(str::to_string),
                host: host.map(str::to_string),
            });
            let mut args = Vec::new();
            let w = where_clause(&q, &mut args);
            conn.query_row(
                &format!("SELECT count(*) FROM http {w}"),
                rusqlite::params_from_iter(args),
                |r| r.get(0),
            )
            .unwrap()
        };
        assert_eq!(count(Some("GET"), Some("A.Example")), 1);
        assert_eq!(count(Some("get"), Some("b.example")), 2);
        assert_eq!(count(Some("GET"), None), 3);
        assert_eq!(count(Some("GET"), Some("")), 3);
        assert_eq!(count(None, None), 4);
        assert_eq!(count(Some("PUT"), Some("a.example")), 0);
    }

    #[test]
    fn addresses_sort_numerically() {
        let a: SocketAddr = "10.0.0.9:80".parse().unwrap();
        let b: SocketAddr = "10.0.0.10:80".parse().unwrap();
        assert!(addr_key(&a) < addr_key(&b));
    }
}
