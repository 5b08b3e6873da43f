//! One definition per table. A row type declares its columns once, with
//! the [`table!`](crate::table) macro: name, what the column holds
//! ([`Kind`], [`Unit`]), its header and help text, whether it sorts (and
//! which way by default), which query parameter filters it, and how to
//! read its value. Everything else derives from that list: the store's DDL,
//! insert and select, the sort keys and filters of [`Query`](super::Query),
//! the API's JSON (the row's serde derive, in declaration order), the CLI
//! table and the HTML table headers.
//!
//! Values cross layers as [`Cell`]s, so the store maps a column to SQL
//! from its kind without knowing the row type, and the core never sees SQL.

use std::borrow::Cow;
use std::net::SocketAddr;

use super::query::Order;
use crate::flow::{Proto, State};
use crate::http::Wait;
use crate::time::{Span, Timestamp};

/// What a column holds: decides how it is stored, compared and shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A whole number: a count, an id, a frame number, a status code.
    Int,
    /// A point in capture time (stored as epoch nanoseconds, shown
    /// relative to the capture's start).
    Time,
    /// A duration (stored as nanoseconds, seconds in JSON).
    Span,
    /// An `ip:port` endpoint; sorts numerically, not as text.
    Addr,
    /// Free text (a method, a URI, a reason phrase).
    Text,
    /// One of a fixed set of words (`tcp`, `closed`, `server`).
    Word,
    Bool,
    /// A comma-separated list of numbers (interim statuses).
    List,
}

impl Kind {
    /// Whether cells of this kind are numbers (right-aligned in tables).
    pub fn is_numeric(self) -> bool {
        matches!(self, Kind::Int | Kind::Time | Kind::Span)
    }
}

/// What a number counts, for people: tables format by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    None,
    Bytes,
    Packets,
    /// A frame number (1-based on screens, as Wireshark shows them; 0-based
    /// in JSON, as the rest of the API).
    Frame,
    /// Seconds (for [`Kind::Time`] and [`Kind::Span`]).
    Seconds,
}

/// How a query parameter filters a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterOp {
    /// Equal to the value (a number, or text compared exactly).
    Equal,
    /// Text equal ignoring ASCII case.
    EqualNoCase,
    /// A host name, equal ignoring ASCII case; [`NO_HOST`] keeps the rows
    /// without one (no Host header or `:authority`, or an empty one).
    Host,
    /// The value upper-cased, then equal (HTTP methods).
    EqualUpper,
    /// Text containing the value.
    Contains,
    /// A duration at least this many seconds.
    AtLeast,
    /// A duration below this many seconds (strictly: a histogram bar's
    /// upper edge is the next bar's lower one).
    Below,
    /// HTTP status terms: codes, classes, ranges, `none`
    /// ([`StatusFilter`](super::StatusFilter)).
    Status,
    /// gRPC status terms: codes, names, ranges, `error`
    /// ([`StatusFilter::grpc`](super::StatusFilter::grpc)).
    GrpcStatus,
}

impl FilterOp {
    /// Whether the text compares ignoring ASCII case (the store indexes
    /// the column `COLLATE NOCASE`).
    pub fn ignores_case(self) -> bool {
        matches!(self, FilterOp::EqualNoCase | FilterOp::Host)
    }
}

/// What `host=` says for "no host": an exchange without a Host header (an
/// HTTP/1.0 request) or `:authority`, or with an empty one, and the
/// endpoint of such exchanges. Parentheses, as [`NO_TARGET`] has them: no
/// DNS name or address is spelt so.
///
/// [`NO_TARGET`]: crate::analysis::endpoints::NO_TARGET
pub const NO_HOST: &str = "(no host)";

/// A query parameter that filters a column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FilterSpec {
    /// The parameter's name in URLs (`status`, `path`, `min_total_time`).
    pub param: &'static str,
    pub op: FilterOp,
}

/// One column of a table.
pub struct Column<R: 'static> {
    /// The JSON field, the `sort=` value and the stored column's name.
    pub name: &'static str,
    pub kind: Kind,
    /// Whether a row may lack the value (an `Option` field).
    pub nullable: bool,
    pub unit: Unit,
    /// A word for the column's look on pages (its CSS class); by default
    /// the kind's (`time`, `addr`, `n`) or, for text, the name.
    pub look: Option<&'static str>,
    /// Header on web pages.
    pub title: &'static str,
    /// Header in the CLI's text tables (narrow).
    pub short: &'static str,
    /// What the column means, in a few words (header hover text).
    pub help: &'static str,
    /// Sortable, and in which order a first click sorts.
    pub sort: Option<Order>,
    /// The store keeps an index for sorting on it (big tables sort fast).
    pub indexed: bool,
    pub filter: Option<FilterSpec>,
    /// A second parameter that keeps values below it (`max_total_time`),
    /// so that `filter` and it select a range.
    pub upper: Option<&'static str>,
    /// Part of the row's JSON; `false` for totals derived from other
    /// columns, stored so that they sort.
    pub json: bool,
    /// The cell of a row.
    pub get: for<'a> fn(&'a R) -> Cell<'a>,
}

impl<R> Column<R> {
    /// A column with everything but its name, kind and getter at rest:
    /// the `table!` macro fills those in, a definition sets the others.
    pub const fn spec(title: &'static str, help: &'static str) -> Column<R> {
        Column {
            name: "",
            kind: Kind::Int,
            nullable: false,
            unit: Unit::None,
            look: None,
            title,
            short: title,
            help,
            sort: None,
            indexed: false,
            filter: None,
            upper: None,
            json: true,
            get: |_| Cell::Null,
        }
    }

    pub const fn unit(mut self, unit: Unit) -> Self {
        self.unit = unit;
        self
    }

    pub const fn look(mut self, look: &'static str) -> Self {
        self.look = Some(look);
        self
    }

    pub const fn short(mut self, short: &'static str) -> Self {
        self.short = short;
        self
    }

    /// Sortable, first click in `order`.
    pub const fn sorts(mut self, order: Order) -> Self {
        self.sort = Some(order);
        self
    }

    /// Sortable and indexed.
    pub const fn indexed(mut self, order: Order) -> Self {
        self.sort = Some(order);
        self.indexed = true;
        self
    }

    pub const fn filter(mut self, param: &'static str, op: FilterOp) -> Self {
        self.filter = Some(FilterSpec { param, op });
        self
    }

    /// Also filtered from above by `param` ([`FilterOp::Below`]).
    pub const fn filter_below(mut self, param: &'static str) -> Self {
        self.upper = Some(param);
        self
    }

    /// The filters the column takes: its own, then its upper bound's.
    pub fn filters(&self) -> impl Iterator<Item = FilterSpec> {
        let upper = self.upper.map(|param| FilterSpec {
            param,
            op: FilterOp::Below,
        });
        self.filter.into_iter().chain(upper)
    }

    /// Kept out of JSON (a stored total).
    pub const fn no_json(mut self) -> Self {
        self.json = false;
        self
    }

    pub fn is_sortable(&self) -> bool {
        self.sort.is_some()
    }

    /// The column's look word (see [`Column::look`]).
    pub fn look_word(&self) -> &'static str {
        self.look.unwrap_or(match self.kind {
            Kind::Time | Kind::Span => "time",
            Kind::Addr => "addr",
            Kind::Int | Kind::Bool | Kind::List => "n",
            Kind::Text | Kind::Word => self.name,
        })
    }
}

/// One value of one column, as it crosses layers.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Text(Cow<'a, str>),
    Bool(bool),
}

impl Cell<'_> {
    pub fn into_owned(self) -> Cell<'static> {
        match self {
            Cell::Null => Cell::Null,
            Cell::Int(n) => Cell::Int(n),
            Cell::Bool(b) => Cell::Bool(b),
            Cell::Text(t) => Cell::Text(Cow::Owned(t.into_owned())),
        }
    }

    /// The cell as an integer, if it is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Cell::Int(n) => Some(*n),
            Cell::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }
}

/// A stored cell that does not fit its column.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {what}")]
pub struct CellError {
    pub column: &'static str,
    pub what: String,
}

/// A value that a column can hold.
pub trait CellValue: Sized {
    /// The kind of column a field of this type makes.
    const KIND: Kind;
    /// Whether the value may be missing (`Option`).
    const NULLABLE: bool = false;
    fn to_cell(&self) -> Cell<'_>;
    /// Reads the value back; `Err` holds what is wrong with the cell.
    fn from_cell(cell: Cell<'_>) -> Result<Self, String>;
}

fn mismatch(cell: &Cell<'_>, want: &str) -> String {
    format!("expected {want}, found {cell:?}")
}

/// Saturating u64 → stored integer.
pub fn int(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

macro_rules! unsigned_cells {
    ($($t:ty),*) => {$(
        impl CellValue for $t {
            const KIND: Kind = Kind::Int;
            fn to_cell(&self) -> Cell<'_> {
                Cell::Int(int(u64::from(*self)))
            }
            fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
                match cell {
                    // Negative or too large: a damaged row, not a panic.
                    Cell::Int(n) => <$t>::try_from(n).map_err(|_| format!("{n} out of range")),
                    other => Err(mismatch(&other, "an integer")),
                }
            }
        }
    )*};
}

unsigned_cells!(u64, u32, u16);

impl CellValue for bool {
    const KIND: Kind = Kind::Bool;
    fn to_cell(&self) -> Cell<'_> {
        Cell::Bool(*self)
    }
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Bool(b) => Ok(b),
            Cell::Int(n) => Ok(n != 0),
            other => Err(mismatch(&other, "a boolean")),
        }
    }
}

impl CellValue for String {
    const KIND: Kind = Kind::Text;
    fn to_cell(&self) -> Cell<'_> {
        Cell::Text(Cow::Borrowed(self))
    }
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Text(t) => Ok(t.into_owned()),
            other => Err(mismatch(&other, "text")),
        }
    }
}

impl CellValue for Timestamp {
    const KIND: Kind = Kind::Time;
    fn to_cell(&self) -> Cell<'_> {
        Cell::Int(self.as_nanos())
    }
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Int(n) => Ok(Timestamp::from_nanos(n)),
            other => Err(mismatch(&other, "nanoseconds")),
        }
    }
}

impl CellValue for Span {
    const KIND: Kind = Kind::Span;
    fn to_cell(&self) -> Cell<'_> {
        Cell::Int(self.as_nanos())
    }
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Int(n) => Ok(Span::from_nanos(n)),
            other => Err(mismatch(&other, "nanoseconds")),
        }
    }
}

impl CellValue for SocketAddr {
    const KIND: Kind = Kind::Addr;
    fn to_cell(&self) -> Cell<'_> {
        Cell::Text(Cow::Owned(self.to_string()))
    }
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Text(t) => t
                .parse()
                .map_err(|_| format!("{t:?} is not an ip:port address")),
            other => Err(mismatch(&other, "an address")),
        }
    }
}

/// Interim statuses: `100,101`, nothing stored when empty.
impl CellValue for Vec<u16> {
    const KIND: Kind = Kind::List;
    const NULLABLE: bool = true;
    fn to_cell(&self) -> Cell<'_> {
        if self.is_empty() {
            return Cell::Null;
        }
        let text: Vec<String> = self.iter().map(u16::to_string).collect();
        Cell::Text(Cow::Owned(text.join(",")))
    }
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Null => Ok(Vec::new()),
            Cell::Text(t) => t
                .split(',')
                .map(|s| s.parse().map_err(|_| format!("{s:?} in list {t:?}")))
                .collect(),
            other => Err(mismatch(&other, "a list")),
        }
    }
}

impl<T: CellValue> CellValue for Option<T> {
    const KIND: Kind = T::KIND;
    const NULLABLE: bool = true;
    fn to_cell(&self) -> Cell<'_> {
        match self {
            Some(v) => v.to_cell(),
            None => Cell::Null,
        }
    }
    fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
        match cell {
            Cell::Null => Ok(None),
            c => T::from_cell(c).map(Some),
        }
    }
}

/// An enum stored as the word its JSON uses.
macro_rules! word_cells {
    ($($t:ty),*) => {$(
        impl CellValue for $t {
            const KIND: Kind = Kind::Word;
            fn to_cell(&self) -> Cell<'_> {
                Cell::Text(Cow::Borrowed(self.as_str()))
            }
            fn from_cell(cell: Cell<'_>) -> Result<Self, String> {
                match cell {
                    Cell::Text(t) => <$t>::parse(&t).ok_or_else(|| format!("unknown value {t:?}")),
                    other => Err(mismatch(&other, "a word")),
                }
            }
        }
    )*};
}

word_cells!(Proto, State, Wait);

/// A row type with one definition of its columns (made by `table!`).
pub trait Row: Sized + 'static {
    /// The stored table's name.
    const TABLE: &'static str;
    /// Every column, fields in declaration order, then derived totals.
    const COLUMNS: &'static [Column<Self>];
    /// Builds a row from its stored cells: `cell(i)` is column `i`'s value
    /// (only the fields, not the derived totals, are asked for).
    fn from_cells(cell: &mut dyn FnMut(usize) -> Cell<'static>) -> Result<Self, CellError>;

    /// The column of this name.
    fn column(name: &str) -> Option<(usize, &'static Column<Self>)> {
        Self::COLUMNS
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }
}

/// Declares a row type and its columns at once. Each field is
/// `name: Type = Column::spec(title, help).…,`; after the fields,
/// `derived { name: |row| expr = Column::spec(…)…, }` adds stored totals
/// that are not part of the JSON. The struct derives `Serialize` with the
/// fields in the order given (that order is the JSON's).
#[macro_export]
macro_rules! table {
    (
        $(#[$meta:meta])*
        pub struct $row:ident in $table:literal {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $col:expr, )*
        }
        derived {
            $( $dname:ident : |$darg:ident| $dexpr:expr => $dcol:expr, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize)]
        pub struct $row {
            $( $(#[$fmeta])* pub $field: $ty, )*
        }

        impl $crate::analysis::report::Row for $row {
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [$crate::analysis::report::Column<Self>] = &[
                $( $crate::analysis::report::Column {
                    name: stringify!($field),
                    kind: <$ty as $crate::analysis::report::CellValue>::KIND,
                    nullable: <$ty as $crate::analysis::report::CellValue>::NULLABLE,
                    get: |r| $crate::analysis::report::CellValue::to_cell(&r.$field),
                    ..$col
                }, )*
                $( $crate::analysis::report::Column {
                    name: stringify!($dname),
                    kind: $crate::analysis::report::Kind::Int,
                    json: false,
                    get: |$darg| $crate::analysis::report::Cell::Int($crate::analysis::report::table::int($dexpr)),
                    ..$dcol
                }, )*
            ];

            fn from_cells(
                cell: &mut dyn FnMut(usize) -> $crate::analysis::report::Cell<'static>,
            ) -> Result<Self, $crate::analysis::report::CellError> {
                let mut _i = 0usize;
                Ok($row {
                    $( $field: {
                        let c = cell(_i);
                        _i += 1;
                        <$ty as $crate::analysis::report::CellValue>::from_cell(c).map_err(
                            |what| $crate::analysis::report::CellError {
                                column: stringify!($field),
                                what,
                            },
                        )?
                    }, )*
                })
            }
        }
    };
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::analysis::report::{ConversationRow, ExchangeRow};

    fn round_trip<R: Row + PartialEq + std::fmt::Debug>(row: &R) {
        let cells: Vec<Cell<'static>> = R::COLUMNS
            .iter()
            .map(|c| (c.get)(row).into_owned())
            .collect();
        let back = R::from_cells(&mut |i| cells[i].clone()).unwrap();
        assert_eq!(&back, row);
    }

    #[test]
    fn rows_survive_their_cells() {
        let mut c = ConversationRow::example();
        round_trip(&c);
        c.handshake_rtt = None;
        c.start = None;
        round_trip(&c);
        let mut e = ExchangeRow::default();
        round_trip(&e);
        e.interim = vec![100, 103];
        e.status = Some(200);
        e.total_time = Some(Span::from_nanos(5));
        round_trip(&e);
    }

    #[test]
    fn names_are_unique_and_json_fields_match_serde() {
        fn check<R: Row + serde::Serialize>(row: &R) {
            let mut names: Vec<&str> = R::COLUMNS.iter().map(|c| c.name).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), R::COLUMNS.len(), "{}", R::TABLE);
            let json = serde_json::to_value(row).unwrap();
            let fields: Vec<&str> = json
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            let declared: Vec<&str> = R::COLUMNS
                .iter()
                .filter(|c| c.json)
                .map(|c| c.name)
                .collect();
            let mut a = fields.clone();
            let mut b = declared.clone();
            a.sort_unstable();
            b.sort_unstable();
            if R::TABLE == "http" && !a.contains(&"stream_id") {
                // HTTP/1.x rows leave out the HTTP/2 columns.
                b.retain(|name| a.contains(name));
            }
            assert_eq!(a, b, "{}", R::TABLE);
        }
        check(&ConversationRow::example());
        check(&ExchangeRow::default());
        // Every optional field present (`tls` is left out of the JSON when
        // false): a decrypted HTTP/2 stream.
        check(&ExchangeRow {
            tls: true,
            ..ExchangeRow::example_http2()
        });
    }

    #[test]
    fn damaged_cells_are_errors_not_panics() {
        let err = ConversationRow::from_cells(&mut |i| {
            if i == 0 {
                Cell::Int(-5)
            } else {
                Cell::Null
            }
        })
        .unwrap_err();
        assert_eq!(err.column, "id");
        assert!(u64::from_cell(Cell::Text("x".into())).is_err());
        assert!(<Vec<u16>>::from_cell(Cell::Text("1,x".into())).is_err());
        assert!(State::from_cell(Cell::Text("nonsense".into())).is_err());
        assert!(SocketAddr::from_cell(Cell::Text("1.2.3.4".into())).is_err());
    }
}
