//! The CLI's text tables: a list of columns of a table's definition
//! (src/analysis/report), each with a width, an alignment and a look,
//! printed under the columns' short headers. The values come from the
//! definition's cells, so a column added there is one line here.

use std::io::Write;

use tracedeck::analysis::report::{Cell, Row};
use tracedeck::{Span, Timestamp};

/// How wide a column is.
#[derive(Clone, Copy)]
pub enum Width {
    /// Exactly this many characters (longer values are not cut).
    Fixed(usize),
    /// As wide as the widest value of every `Fit` column, at least 6:
    /// client and server addresses line up.
    Fit,
}

#[derive(Clone, Copy)]
pub enum Align {
    Left,
    Right,
}

/// How a cell is written.
#[derive(Clone, Copy)]
pub enum Look<R> {
    /// As stored: numbers and words as they are, `-` when missing.
    Plain,
    /// A time as seconds after the capture's first packet, µs precision.
    Relative,
    /// A duration as seconds, µs precision.
    Seconds,
    /// A duration for people (`1.2 ms`).
    Human,
    /// Written by the table's own function (row, capture start).
    Own(fn(&R, Option<Timestamp>) -> String),
}

/// One column of a text table.
pub struct TextCol<R> {
    /// The column of the definition.
    pub name: &'static str,
    pub width: Width,
    pub align: Align,
    pub look: Look<R>,
    /// Printed before the column (none before the first).
    pub sep: &'static str,
}

impl<R: Row> TextCol<R> {
    pub const fn new(name: &'static str, width: usize, align: Align) -> Self {
        TextCol {
            name,
            width: Width::Fixed(width),
            align,
            look: Look::Plain,
            sep: " ",
        }
    }

    pub const fn look(mut self, look: Look<R>) -> Self {
        self.look = look;
        self
    }

    pub const fn fit(mut self) -> Self {
        self.width = Width::Fit;
        self
    }

    pub const fn sep(mut self, sep: &'static str) -> Self {
        self.sep = sep;
        self
    }
}

fn plain(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Null => "-".into(),
        Cell::Int(n) => n.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Text(t) => t.to_string(),
    }
}

/// The text of one cell; `get` is the column's getter (`None`: the
/// definition has no such column).
fn text<R: Row>(
    col: &TextCol<R>,
    get: Option<for<'a> fn(&'a R) -> Cell<'a>>,
    row: &R,
    first: Option<Timestamp>,
) -> String {
    let cell = || get.map_or(Cell::Null, |g| g(row));
    match col.look {
        Look::Plain => plain(&cell()),
        Look::Relative => match (cell().as_int(), first) {
            (Some(t), Some(f)) => format!("{:.6}", Timestamp::from_nanos(t).since(f).as_secs_f64()),
            _ => "-".into(),
        },
        Look::Seconds => cell().as_int().map_or("-".into(), |n| {
            format!("{:.6}", Span::from_nanos(n).as_secs_f64())
        }),
        Look::Human => cell()
            .as_int()
            .map_or("-".into(), |n| Span::from_nanos(n).to_string()),
        Look::Own(f) => f(row, first),
    }
}

fn pad(w: &mut impl Write, text: &str, width: usize, align: Align) -> std::io::Result<()> {
    match align {
        Align::Left => write!(w, "{text:<width$}"),
        Align::Right => write!(w, "{text:>width$}"),
    }
}

/// Prints the header line and one line per row. Rows are written as they
/// are formatted (a first pass measures only the `Fit` columns), so
/// `--limit 0` on millions of rows holds no text but one line's.
pub fn print<R: Row>(
    w: &mut impl Write,
    cols: &[TextCol<R>],
    rows: &[R],
    first: Option<Timestamp>,
) -> std::io::Result<()> {
    let defs: Vec<_> = cols
        .iter()
        .map(|c| R::column(c.name).map(|(_, d)| d))
        .collect();
    let getters: Vec<_> = defs.iter().map(|d| d.map(|d| d.get)).collect();
    let fit = cols
        .iter()
        .zip(&getters)
        .filter(|(c, _)| matches!(c.width, Width::Fit))
        .flat_map(|(c, g)| {
            rows.iter()
                .map(move |r| text(c, *g, r, first).chars().count())
        })
        .max()
        .unwrap_or(0)
        .max(6);
    let line = |cell: &mut dyn FnMut(usize, &TextCol<R>) -> String,
                out: &mut dyn Write|
     -> std::io::Result<()> {
        let mut out = out;
        for (i, c) in cols.iter().enumerate() {
            if i > 0 {
                out.write_all(c.sep.as_bytes())?;
            }
            let width = match c.width {
                Width::Fixed(n) => n,
                Width::Fit => fit,
            };
            pad(&mut out, &cell(i, c), width, c.align)?;
        }
        writeln!(out)
    };
    line(
        &mut |i, c| defs[i].map_or(c.name, |d| d.short).to_string(),
        w,
    )?;
    for row in rows {
        line(&mut |i, c| text(c, getters[i], row, first), w)?;
    }
    Ok(())
}
