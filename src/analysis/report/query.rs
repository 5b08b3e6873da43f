//! Typed queries over a table of rows: the sort key is a column of the
//! row's definition (never a column name from a URL), filters are parsed
//! values of the columns that declare one. The store turns a [`Query`]
//! into SQL; the CLI applies the same types in memory.

use std::marker::PhantomData;
use std::str::FromStr;

use super::conversations::ConvWhere;
use super::table::{Cell, FilterOp, FilterSpec, Kind, Row};
use crate::time::Span;

/// The most rows one list call returns.
pub const MAX_LIMIT: u32 = 10_000;
/// Largest offset or id a query takes.
pub const MAX_OFFSET: u64 = 1 << 40;

/// A query parameter that cannot be used, with a message for the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct QueryError(pub String);

/// At most 40 characters of a parameter, for an error message.
pub fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// Sort direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Order {
    Asc,
    Desc,
}

impl Order {
    /// The name as the `order` parameter spells it.
    pub fn name(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }
}

impl FromStr for Order {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Order, QueryError> {
        match s {
            "asc" => Ok(Order::Asc),
            "desc" => Ok(Order::Desc),
            _ => Err(QueryError(format!(
                "order must be 'asc' or 'desc', not '{}'",
                shown(s)
            ))),
        }
    }
}

/// What a list is sorted by: a sortable column of `R`, or the order rows
/// were stored in (`id`; for tables whose rows have an `id` column, the
/// same thing).
pub struct SortKey<R: Row> {
    column: Option<usize>,
    _row: PhantomData<fn() -> R>,
}

impl<R: Row> Clone for SortKey<R> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<R: Row> Copy for SortKey<R> {}
impl<R: Row> PartialEq for SortKey<R> {
    fn eq(&self, other: &Self) -> bool {
        self.column == other.column
    }
}
impl<R: Row> Eq for SortKey<R> {}
impl<R: Row> std::fmt::Debug for SortKey<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SortKey({})", self.name())
    }
}

impl<R: Row> SortKey<R> {
    /// Stored order.
    pub const ID: SortKey<R> = SortKey {
        column: None,
        _row: PhantomData,
    };

    /// The sort key of a column name known at build time.
    ///
    /// # Panics
    /// If `R` has no sortable column of that name: a programming error
    /// that every test run meets, never input.
    pub fn of(name: &str) -> SortKey<R> {
        match name.parse() {
            Ok(k) => k,
            Err(e) => panic!("{}: {e}", R::TABLE),
        }
    }

    /// The column sorted on (`None`: stored order).
    pub fn column(self) -> Option<usize> {
        self.column
    }

    /// The name as the `sort` parameter and the JSON field spell it.
    pub fn name(self) -> &'static str {
        self.column.map_or("id", |i| R::COLUMNS[i].name)
    }

    /// Sizes and durations read best largest first; names and times in order.
    pub fn default_order(self) -> Order {
        self.column
            .and_then(|i| R::COLUMNS[i].sort)
            .unwrap_or(Order::Asc)
    }

    /// Every sortable name, stored order first.
    pub fn names() -> Vec<&'static str> {
        let mut names = Vec::new();
        if R::column("id").is_none() {
            names.push("id");
        }
        names.extend(
            R::COLUMNS
                .iter()
                .filter(|c| c.sort.is_some())
                .map(|c| c.name),
        );
        names
    }
}

impl<R: Row> FromStr for SortKey<R> {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<Self, QueryError> {
        match R::column(s) {
            Some((i, c)) if c.sort.is_some() => Ok(SortKey {
                column: Some(i),
                _row: PhantomData,
            }),
            None if s == "id" => Ok(SortKey::ID),
            _ => Err(QueryError(format!(
                "cannot sort by '{}': use one of {}",
                shown(s),
                SortKey::<R>::names().join(", ")
            ))),
        }
    }
}

/// One term of a status filter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StatusMatch {
    /// Codes `lo..=hi` (an exact code is `lo == hi`).
    Range(u16, u16),
    /// Requests that saw no response.
    NoResponse,
}

/// `404,5xx,500-599,none`: any of the terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusFilter(pub Vec<StatusMatch>);

const MAX_STATUS_TERMS: usize = 32;

/// Status terms separated by commas: `word` reads the special words of
/// the kind (a class, `none`, `error`), `code` a single code; `a-b` is a
/// range of codes. `what` names the parameter in messages.
fn status_terms(
    s: &str,
    what: &str,
    bad: impl Fn(&str) -> QueryError,
    code: impl Fn(&str) -> Option<u16>,
    word: impl Fn(&str) -> Option<Result<StatusMatch, QueryError>>,
) -> Result<StatusFilter, QueryError> {
    let mut terms = Vec::new();
    for t in s.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        if terms.len() == MAX_STATUS_TERMS {
            return Err(QueryError(format!(
                "{what} takes at most {MAX_STATUS_TERMS} terms"
            )));
        }
        let m = if let Some(m) = word(t) {
            m?
        } else if let Some((a, b)) = t.split_once('-') {
            let (lo, hi) = (
                code(a).ok_or_else(|| bad(t))?,
                code(b).ok_or_else(|| bad(t))?,
            );
            if lo > hi {
                return Err(QueryError(format!(
                    "{what} range '{}' runs backwards",
                    shown(t)
                )));
            }
            StatusMatch::Range(lo, hi)
        } else {
            let c = code(t).ok_or_else(|| bad(t))?;
            StatusMatch::Range(c, c)
        };
        terms.push(m);
    }
    if terms.is_empty() {
        return Err(bad(s));
    }
    Ok(StatusFilter(terms))
}

impl FromStr for StatusFilter {
    type Err = QueryError;
    fn from_str(s: &str) -> Result<StatusFilter, QueryError> {
        let bad = |term: &str| {
            QueryError(format!(
                "status '{}' is not a code (404), a class (5xx), a range (500-599) or 'none'",
                shown(term)
            ))
        };
        let code = |t: &str| -> Option<u16> {
            let t = t.trim();
            if t.is_empty() || t.len() > 3 || !t.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            t.parse::<u16>().ok().filter(|c| (100..=999).contains(c))
        };
        let word = |t: &str| {
            if t.eq_ignore_ascii_case("none") {
                return Some(Ok(StatusMatch::NoResponse));
            }
            if t.len() != 3 || !t.get(1..).is_some_and(|r| r.eq_ignore_ascii_case("xx")) {
                return None;
            }
            let d = t.as_bytes()[0];
            if !(b'1'..=b'9').contains(&d) {
                return Some(Err(bad(t)));
            }
            let lo = u16::from(d - b'0') * 100;
            Some(Ok(StatusMatch::Range(lo, lo + 99)))
        };
        status_terms(s, "status", bad, code, word)
    }
}

impl StatusFilter {
    /// gRPC status terms (`grpc=UNAVAILABLE,4`): a code (14), a name in any
    /// case (`unavailable`), a range (`1-16`) or `error` (every status but
    /// OK). Rows without a grpc-status never match.
    pub fn grpc(s: &str) -> Result<StatusFilter, QueryError> {
        let bad = |term: &str| {
            QueryError(format!(
                "grpc status '{}' is not a code (14), a name (UNAVAILABLE), a range (1-16) or 'error'",
                shown(term)
            ))
        };
        let code = |t: &str| -> Option<u16> {
            let t = t.trim();
            if !t.is_empty() && t.len() <= 5 && t.bytes().all(|b| b.is_ascii_digit()) {
                return t.parse().ok();
            }
            crate::analysis::grpc_status_code(t).and_then(|c| u16::try_from(c).ok())
        };
        let word = |t: &str| {
            t.eq_ignore_ascii_case("error")
                .then_some(Ok(StatusMatch::Range(1, u16::MAX)))
        };
        status_terms(s, "grpc status", bad, code, word)
    }

    /// Whether an exchange with this final status (None: no response)
    /// passes the filter.
    pub fn matches(&self, status: Option<u16>) -> bool {
        self.0.iter().any(|m| match (m, status) {
            (StatusMatch::Range(lo, hi), Some(code)) => (*lo..=*hi).contains(&code),
            (StatusMatch::NoResponse, None) => true,
            _ => false,
        })
    }
}

/// What a filter keeps, by its column's [`FilterOp`].
#[derive(Clone, Debug, PartialEq)]
pub enum Cond {
    Status(StatusFilter),
    /// Equal to the cell (a number, or text as given).
    Equal(Cell<'static>),
    /// Text equal ignoring ASCII case.
    EqualNoCase(String),
    Contains(String),
    /// At least this value (a number or a duration in nanoseconds).
    AtLeast(i64),
    /// Below this value (a duration in nanoseconds), strictly.
    Below(i64),
    /// On a conversation id: that conversation passes (the row predicates
    /// of a filter expression). A cell alone cannot tell: the store
    /// answers it, and in memory [`ConvWhere::matches`] does.
    Conversation(Box<ConvWhere>),
    /// Any of these words (`None`: no value), as `rcode=NXDOMAIN,none`.
    AnyOf(Vec<Option<String>>),
    /// An HTTP exchange whose endpoint, as the analysis grouped it, has
    /// one of these templates (the HTTP view's `template=`, renames
    /// undone). A cell alone cannot tell: the store answers it by the
    /// group it stored with each exchange.
    Templates(Vec<String>),
    /// The exchanges of one endpoint: [`Cond::Templates`] narrowed to the
    /// groups of its method and host, so that the store reads only them
    /// (the endpoints page's line of an endpoint).
    Endpoint(Box<EndpointKey>),
}

/// An endpoint as [`Cond::Endpoint`] names it.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointKey {
    /// Its templates as the analysis inferred them (renames undone).
    pub templates: Vec<String>,
    /// `None`: the exchanges had none (an empty host is none).
    pub method: Option<String>,
    pub host: Option<String>,
}

impl Cond {
    /// Whether a row's cell passes.
    pub fn matches(&self, cell: &Cell<'_>) -> bool {
        match (self, cell) {
            (Cond::Status(f), Cell::Int(n)) => f.matches(u16::try_from(*n).ok()),
            (Cond::Status(f), Cell::Null) => f.matches(None),
            (Cond::Equal(want), c) => want == c,
            (Cond::EqualNoCase(want), Cell::Text(t)) => want.eq_ignore_ascii_case(t),
            (Cond::Contains(part), Cell::Text(t)) => t.contains(part.as_str()),
            (Cond::AtLeast(min), Cell::Int(n)) => n >= min,
            (Cond::Below(max), Cell::Int(n)) => n < max,
            (Cond::AnyOf(words), Cell::Text(t)) => words.iter().flatten().any(|w| w == t),
            (Cond::AnyOf(words), Cell::Null) => words.contains(&None),
            _ => false,
        }
    }
}

/// One filter of a query: a column and what it keeps.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// Index into the row's columns.
    pub column: usize,
    /// The query parameter that set it (a column may take two: a range's
    /// lower and upper edge).
    pub param: &'static str,
    pub cond: Cond,
}

/// Longest text a filter of each kind takes.
fn max_len(op: FilterOp) -> usize {
    match op {
        FilterOp::EqualUpper => 32,
        FilterOp::Contains => 2048,
        _ => 255,
    }
}

impl Filter {
    /// The filter that query parameter `spec` (of column `column`) with
    /// value `v` asks for.
    fn parse<R: Row>(column: usize, spec: FilterSpec, v: &str) -> Result<Filter, QueryError> {
        let col = &R::COLUMNS[column];
        let name = spec.param;
        let text = || -> Result<String, QueryError> {
            let max = max_len(spec.op);
            if v.len() > max {
                return Err(QueryError(format!("{name} is longer than {max} bytes")));
            }
            if v.chars().any(char::is_control) {
                return Err(QueryError(format!("{name} contains control characters")));
            }
            Ok(v.to_string())
        };
        let cond = match spec.op {
            FilterOp::Status => Cond::Status(v.parse()?),
            FilterOp::GrpcStatus => Cond::Status(StatusFilter::grpc(v)?),
            FilterOp::Equal if col.kind == Kind::Int => match v.parse::<u64>() {
                Ok(n) if n <= MAX_OFFSET => Cond::Equal(Cell::Int(n as i64)),
                _ => {
                    return Err(QueryError(format!(
                        "{name} must be a whole number from 0 to {MAX_OFFSET}, not '{}'",
                        shown(v)
                    )))
                }
            },
            FilterOp::Equal => Cond::Equal(Cell::Text(text()?.into())),
            FilterOp::EqualNoCase => Cond::EqualNoCase(text()?),
            // No host: none stored, or an empty one (as the endpoints
            // group them: one endpoint).
            FilterOp::Host if v == super::table::NO_HOST => {
                Cond::AnyOf(vec![None, Some(String::new())])
            }
            FilterOp::Host => Cond::EqualNoCase(text()?),
            FilterOp::EqualUpper => {
                let list = text()?;
                let mut words = Vec::new();
                for word in list.split(',') {
                    if word.is_empty()
                        || !word
                            .bytes()
                            .all(|b| b.is_ascii_alphabetic() || b == b'-' || b == b'_')
                    {
                        return Err(QueryError(format!(
                            "{name} must be a word such as GET, not '{}'",
                            shown(&list)
                        )));
                    }
                    let word = word.to_ascii_uppercase();
                    words.push((word != "NONE").then_some(word));
                }
                match words.as_slice() {
                    [Some(word)] => Cond::Equal(Cell::Text(word.clone().into())),
                    _ => Cond::AnyOf(words),
                }
            }
            FilterOp::Contains => Cond::Contains(text()?),
            FilterOp::AtLeast | FilterOp::Below => {
                let nanos = match v.parse::<f64>() {
                    Ok(s) if s.is_finite() && (0.0..=1e9).contains(&s) => {
                        Span::from_nanos((s * 1e9).round() as i64).as_nanos()
                    }
                    _ => {
                        return Err(QueryError(format!(
                            "{name} must be a number of seconds such as 0.5, not '{}'",
                            shown(v)
                        )))
                    }
                };
                if spec.op == FilterOp::Below {
                    Cond::Below(nanos)
                } else {
                    Cond::AtLeast(nanos)
                }
            }
        };
        Ok(Filter {
            column,
            param: name,
            cond,
        })
    }
}

/// A sorted, filtered page of a table.
pub struct Query<R: Row> {
    pub sort: SortKey<R>,
    pub order: Order,
    pub limit: u32,
    pub offset: u64,
    /// The stored id of the row the page starts after, in this sort:
    /// the store seeks past it instead of counting `offset` rows
    /// (`offset` then only says where the page is, for its pager).
    pub after: Option<u64>,
    pub filters: Vec<Filter>,
}

impl<R: Row> Clone for Query<R> {
    fn clone(&self) -> Self {
        Query {
            sort: self.sort,
            order: self.order,
            limit: self.limit,
            offset: self.offset,
            after: self.after,
            filters: self.filters.clone(),
        }
    }
}

impl<R: Row> PartialEq for Query<R> {
    fn eq(&self, o: &Self) -> bool {
        (
            self.sort,
            self.order,
            self.limit,
            self.offset,
            &self.after,
            &self.filters,
        ) == (o.sort, o.order, o.limit, o.offset, &o.after, &o.filters)
    }
}

impl<R: Row> std::fmt::Debug for Query<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Query")
            .field("table", &R::TABLE)
            .field("sort", &self.sort)
            .field("order", &self.order)
            .field("limit", &self.limit)
            .field("offset", &self.offset)
            .field("after", &self.after)
            .field("filters", &self.filters)
            .finish()
    }
}

impl<R: Row> Query<R> {
    /// A page of `limit` rows sorted by `sort` in its default order.
    pub fn sorted(sort: SortKey<R>, limit: u32) -> Query<R> {
        Query {
            sort,
            order: sort.default_order(),
            limit,
            offset: 0,
            after: None,
            filters: Vec::new(),
        }
    }

    /// The query parameter names of the row's filters.
    pub fn filter_params() -> impl Iterator<Item = &'static str> {
        R::COLUMNS.iter().flat_map(|c| c.filters().map(|f| f.param))
    }

    /// The column taking query parameter `param`, and how it filters.
    fn column_of(param: &str) -> Option<(usize, FilterSpec)> {
        R::COLUMNS
            .iter()
            .enumerate()
            .find_map(|(i, c)| c.filters().find(|f| f.param == param).map(|f| (i, f)))
    }

    /// Sets the filters from query parameters (`get(param)` is the value,
    /// `None` when absent or empty), replacing any set before.
    pub fn with_filters<'a>(
        mut self,
        get: impl Fn(&str) -> Option<&'a str>,
    ) -> Result<Query<R>, QueryError> {
        self.filters.clear();
        for (i, c) in R::COLUMNS.iter().enumerate() {
            for spec in c.filters() {
                if let Some(v) = get(spec.param) {
                    self.filters.push(Filter::parse::<R>(i, spec, v)?);
                }
            }
        }
        Ok(self)
    }

    /// Adds one filter by its parameter name (a programming error, not
    /// input, when no column takes that parameter: the result says so).
    pub fn filter(mut self, param: &str, value: &str) -> Result<Query<R>, QueryError> {
        let Some((i, spec)) = Self::column_of(param) else {
            return Err(QueryError(format!("{} has no filter '{param}'", R::TABLE)));
        };
        self.filters.retain(|f| f.param != spec.param);
        self.filters.push(Filter::parse::<R>(i, spec, value)?);
        Ok(self)
    }

    /// Keeps the rows whose column filtered by `param` equals `n` (a
    /// number known to the caller, so it cannot be malformed). A parameter
    /// no column takes is a programming error, caught by tests.
    pub fn equal_to(mut self, param: &str, n: u64) -> Query<R> {
        let found = Self::column_of(param);
        debug_assert!(found.is_some(), "{} has no filter '{param}'", R::TABLE);
        if let Some((column, spec)) = found {
            self.filters.retain(|f| f.param != spec.param);
            self.filters.push(Filter {
                column,
                param: spec.param,
                cond: Cond::Equal(Cell::Int(super::table::int(n))),
            });
        }
        self
    }

    /// Keeps the rows whose conversation passes `w` (the row's
    /// `conversation` column, or a conversation's own `id`), with the
    /// filters set before.
    pub fn of_conversations(mut self, w: ConvWhere) -> Query<R> {
        let column = R::column("conversation").or_else(|| R::column("id"));
        debug_assert!(column.is_some(), "{} names no conversation", R::TABLE);
        if let Some((column, _)) = column {
            self.filters.push(Filter {
                column,
                param: "filter",
                cond: Cond::Conversation(Box::new(w)),
            });
        }
        self
    }

    /// Keeps the exchanges whose endpoint has one of `templates` (as the
    /// analysis inferred them), with the filters set before.
    pub fn of_templates(mut self, templates: Vec<String>) -> Query<R> {
        if let Some((column, _)) = R::column("uri") {
            self.filters.push(Filter {
                column,
                param: "template",
                cond: Cond::Templates(templates),
            });
        }
        self
    }

    /// Keeps the exchanges of one endpoint (see [`Cond::Endpoint`]), with
    /// the filters set before.
    pub fn of_endpoint(mut self, key: EndpointKey) -> Query<R> {
        if let Some((column, _)) = R::column("uri") {
            self.filters.push(Filter {
                column,
                param: "template",
                cond: Cond::Endpoint(Box::new(key)),
            });
        }
        self
    }

    /// The filter on the column taking parameter `param`, if set.
    pub fn filter_on(&self, param: &str) -> Option<&Cond> {
        self.filters
            .iter()
            .find(|f| f.param == param)
            .map(|f| &f.cond)
    }

    /// Whether a row passes every filter (the in-memory twin of the
    /// store's WHERE clause).
    pub fn matches(&self, row: &R) -> bool {
        self.filters
            .iter()
            .all(|f| f.cond.matches(&(R::COLUMNS[f.column].get)(row)))
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::analysis::report::{ConversationRow, ExchangeRow};

    #[test]
    fn status_terms() {
        let f: StatusFilter = "404, 5xx,500-599,none".parse().unwrap();
        assert_eq!(
            f.0,
            vec![
                StatusMatch::Range(404, 404),
                StatusMatch::Range(500, 599),
                StatusMatch::Range(500, 599),
                StatusMatch::NoResponse
            ]
        );
        for bad in [
            "", "abc", "0xx", "99", "1000", "600-500", "4xx-5xx", "-1", "5x",
        ] {
            assert!(bad.parse::<StatusFilter>().is_err(), "{bad}");
        }
        let many = vec!["200"; 40].join(",");
        assert!(many.parse::<StatusFilter>().is_err());
    }

    #[test]
    fn grpc_status_terms() {
        let f = StatusFilter::grpc("UNAVAILABLE, 4,deadline_exceeded,1-2").unwrap();
        assert_eq!(
            f.0,
            vec![
                StatusMatch::Range(14, 14),
                StatusMatch::Range(4, 4),
                StatusMatch::Range(4, 4),
                StatusMatch::Range(1, 2),
            ]
        );
        let errors = StatusFilter::grpc("error").unwrap();
        assert!(errors.matches(Some(14)) && !errors.matches(Some(0)) && !errors.matches(None));
        assert!(StatusFilter::grpc("ok").unwrap().matches(Some(0)));
        for bad in ["", "UNAVAIL", "5-1", "-1", "1-", "99999999", "5xx", "none"] {
            assert!(StatusFilter::grpc(bad).is_err(), "{bad}");
        }
        assert_eq!(
            StatusFilter::grpc("x").unwrap_err().0,
            "grpc status 'x' is not a code (14), a name (UNAVAILABLE), a range (1-16) or 'error'"
        );
    }

    #[test]
    fn sort_names() {
        let d: SortKey<ConversationRow> = "duration".parse().unwrap();
        assert_eq!((d.name(), d.default_order()), ("duration", Order::Desc));
        let c: SortKey<ConversationRow> = "client".parse().unwrap();
        assert_eq!(c.default_order(), Order::Asc);
        let err = ";drop".parse::<SortKey<ConversationRow>>().unwrap_err();
        assert!(err
            .0
            .starts_with("cannot sort by ';drop': use one of id, proto"));
        // Not sortable, though a column.
        assert!("roles_from_handshake"
            .parse::<SortKey<ConversationRow>>()
            .is_err());
        let id: SortKey<ExchangeRow> = "id".parse().unwrap();
        assert_eq!(id, SortKey::ID);
        assert_eq!(SortKey::<ExchangeRow>::names()[0], "id");
        assert!("DESC".parse::<Order>().is_err());
    }

    #[test]
    fn filters_parse_and_match() {
        let q = Query::<ExchangeRow>::sorted(SortKey::ID, 10)
            .with_filters(|k| match k {
                "status" => Some("5xx,none"),
                "method" => Some("get"),
                "path" => Some("/api"),
                "min_total_time" => Some("0.5"),
                _ => None,
            })
            .unwrap();
        let mut e = ExchangeRow {
            method: Some("GET".into()),
            uri: Some("/api/x".into()),
            status: Some(503),
            total_time: Some(Span::from_nanos(600_000_000)),
            ..ExchangeRow::default()
        };
        assert!(q.matches(&e));
        e.status = Some(200);
        assert!(!q.matches(&e));
        e.status = None;
        assert!(q.matches(&e));
        e.total_time = Some(Span::from_nanos(1));
        assert!(!q.matches(&e));
        let bad = |k: &'static str, v: &'static str| {
            Query::<ExchangeRow>::sorted(SortKey::ID, 10)
                .with_filters(move |p| (p == k).then_some(v))
                .unwrap_err()
                .0
        };
        assert_eq!(
            bad("method", "G;T"),
            "method must be a word such as GET, not 'G;T'"
        );
        assert_eq!(
            bad("min_total_time", "-1"),
            "min_total_time must be a number of seconds such as 0.5, not '-1'"
        );
        assert!(bad("conversation", "x").starts_with("conversation must be a whole number"));
        assert!(bad("host", "a\u{1}b").contains("control characters"));
    }
}
