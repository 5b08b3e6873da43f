//! strace logs: the parser (every output form strace writes) and the model
//! built from it (processes, syscalls, files, pauses, meanings, hints).
//!
//! ```no_run
//! use tracedeck::strace::{self, Query};
//!
//! let file = std::fs::File::open("out.txt").unwrap();
//! let trace = strace::parse_files(vec![("out.txt".to_string(), std::io::BufReader::new(file))])
//!     .unwrap();
//! println!("{} syscalls in {} processes", trace.syscall_count, trace.processes.len());
//! for row in trace.summary() {
//!     println!("{:<16} {:>6} calls {:>4} errors", row.syscall, row.calls, row.errors);
//! }
//! let failed_opens = trace.syscalls(&Query {
//!     names: vec!["openat".into()],
//!     failed: true,
//!     ..Query::default()
//! });
//! println!("{} failed openat calls", failed_opens.total);
//! ```
//!
//! What is read: lines with no prefix, `PID ` (`-f -o`), `[pid N] ` (`-f`
//! to stderr), `PID<comm> ` (`-Y`); several files merged by time (`-ff -o
//! prefix` gives `prefix.PID`, whose pid comes from the name); `-t`, `-tt`,
//! `-ttt`, `-r` and `-T` in any combination; `-n` and `-i` columns; complete
//! calls, `<unfinished ...>` / `<... NAME resumed>` pairs (paired per pid,
//! counted once, result and duration from the resumed half), resumed
//! halves without a start, errno with text, `= ?`, restart codes, `-y`/`-yy`
//! annotations, signal lines, `+++ exited/killed/superseded +++`, `strace:
//! Process N attached/detached` (also spliced into the middle of a line),
//! program output spliced into a line, `-k` stack frames, `-e read=/write=`
//! hex dumps and `strace -c`/`-C` tables (read as [`SummaryTable`]s, never as
//! calls). Every other line is counted in [`Trace::unparsed`] with its line
//! number; a file with nothing strace-like in its first lines is an
//! [`Error::NotStrace`].
//!
//! Memory: lines are streamed and capped at [`ParseOptions::max_line_len`];
//! the model grows with the calls kept (a 56-byte record plus at most
//! [`ParseOptions::max_arg_len`] bytes of text each, up to
//! [`ParseOptions::max_syscalls`]). Statistics, files, the slowest calls
//! and the pauses always cover every call.

mod build;
mod hints;
mod line;
pub mod meaning;
mod model;
mod query;
mod reader;
mod table;
pub(crate) mod text;

use std::io::{self, BufRead};

pub use hints::{better_command, Hint};
pub use model::{
    Exec, Features, FileOp, Input, OpenMode, Process, Signal, Stat, TimeBase, Trace, Unparsed,
};
pub use query::{
    group_by_path, FileGroup, FileQuery, FileView, Page, Pause, PauseKind, ProcessSummary, Query,
    SlowCall, SortKey, SummaryRow, SyscallView, TimelineItem, TreeNode,
};
pub use table::{SummaryTable, TableRow};

/// Errors reading a log. Each names the file and, where it applies, the line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{file}: read error after line {line}: {source}")]
    Io {
        file: String,
        line: u32,
        #[source]
        source: io::Error,
    },
    #[error("{file}:{line}: not an strace log (no system call, signal or exit line found; line {line} reads {text:?})")]
    NotStrace {
        file: String,
        line: u32,
        text: String,
    },
    #[error("{file}: empty file, no strace output")]
    Empty { file: String },
    #[error("no input files")]
    NoInput,
}

pub type Result<T> = std::result::Result<T, Error>;

/// Limits that keep memory bounded whatever the input.
#[derive(Clone, Debug)]
pub struct ParseOptions {
    /// System calls kept for [`Trace::syscalls`]; later ones still count in
    /// the statistics, files and pauses (default 2,000,000; 0 keeps none).
    pub max_syscalls: usize,
    /// Bytes of argument text kept per call (default 512).
    pub max_arg_len: usize,
    /// Total argument text kept (default 512 MiB).
    pub max_arena_bytes: usize,
    /// Longer lines are cut and noted (default 1 MiB).
    pub max_line_len: usize,
    /// File accesses kept (default 1,000,000).
    pub max_files: usize,
    /// Slowest calls and largest gaps kept (default 1000).
    pub top_k: usize,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_syscalls: 2_000_000,
            max_arg_len: 512,
            max_arena_bytes: 512 << 20,
            max_line_len: 1 << 20,
            max_files: 1_000_000,
            top_k: 1000,
        }
    }
}

/// Parses one or several logs with default limits. Several files are
/// merged by time (lines without a timestamp keep their file's order).
pub fn parse_files<R: BufRead>(inputs: Vec<(String, R)>) -> Result<Trace> {
    parse_files_with(inputs, &ParseOptions::default())
}

/// Parses a log held in memory (tests, uploads already read).
pub fn parse_str(name: &str, text: &str) -> Result<Trace> {
    parse_files(vec![(name.to_string(), text.as_bytes())])
}

/// [`parse_files`] with explicit limits.
pub fn parse_files_with<R: BufRead>(
    inputs: Vec<(String, R)>,
    opts: &ParseOptions,
) -> Result<Trace> {
    if inputs.is_empty() {
        return Err(Error::NoInput);
    }
    let mut b = build::Builder::new(opts.clone());
    let mut sources = Vec::new();
    for (name, r) in inputs {
        let id = b.add_input(&name);
        sources.push(Source {
            id,
            name,
            reader: reader::LineReader::new(r, opts.max_line_len),
            key: i64::MIN,
            rel: 0,
            checked: false,
        });
    }
    if sources.len() == 1 {
        let s = &mut sources[0];
        loop {
            let line = s.reader.next_line().map_err(|e| io_err(&s.name, 0, e))?;
            let Some(line) = line else { break };
            b.feed(s.id, line.bytes, line.line_no, line.truncated);
            if !s.checked {
                s.checked = sniff(&b, s.id, &s.name, false)?;
            }
        }
        sniff(&b, s.id, &s.name, true)?;
        return Ok(hints::finish(b.finish()));
    }
    merge(&mut b, sources)?;
    Ok(hints::finish(b.finish()))
}

struct Source<R> {
    id: u16,
    name: String,
    reader: reader::LineReader<R>,
    /// Timestamp of the buffered line (or the last one seen), for merging.
    key: i64,
    rel: i64,
    checked: bool,
}

fn io_err(file: &str, line: u32, source: io::Error) -> Error {
    Error::Io {
        file: file.to_string(),
        line,
        source,
    }
}

/// Rejects a file early when nothing in its first lines looks like strace.
/// Returns true once the file has been judged.
fn sniff(b: &build::Builder, id: u16, name: &str, at_end: bool) -> Result<bool> {
    let st = &b.inputs[id as usize];
    if st.understood > 0 {
        return Ok(true);
    }
    if st.nonblank >= build::SNIFF_LINES || (at_end && st.nonblank > 0) {
        let (line, text) = st.first_unparsed.clone().unwrap_or((1, String::new()));
        return Err(Error::NotStrace {
            file: name.to_string(),
            line,
            text,
        });
    }
    if at_end && b.trace.inputs[id as usize].bytes == 0 {
        return Err(Error::Empty {
            file: name.to_string(),
        });
    }
    Ok(false)
}

/// k-way merge of several inputs by the timestamp at the start of each line.
fn merge<R: BufRead>(b: &mut build::Builder, mut sources: Vec<Source<R>>) -> Result<()> {
    // One buffered line per source.
    let mut heads: Vec<Option<(Vec<u8>, u32, bool)>> = Vec::with_capacity(sources.len());
    for s in sources.iter_mut() {
        heads.push(next_head(s)?);
    }
    loop {
        let mut best: Option<usize> = None;
        for (i, h) in heads.iter().enumerate() {
            if h.is_some() && best.is_none_or(|j| sources[i].key < sources[j].key) {
                best = Some(i);
            }
        }
        let Some(i) = best else { break };
        if let Some((bytes, line_no, truncated)) = heads[i].take() {
            let s = &mut sources[i];
            b.feed(s.id, &bytes, line_no, truncated);
            if !s.checked {
                s.checked = sniff(b, s.id, &s.name, false)?;
            }
        }
        heads[i] = next_head(&mut sources[i])?;
        if heads[i].is_none() {
            let s = &sources[i];
            sniff(b, s.id, &s.name, true)?;
        }
    }
    Ok(())
}

fn next_head<R: BufRead>(s: &mut Source<R>) -> Result<Option<(Vec<u8>, u32, bool)>> {
    let line = s.reader.next_line().map_err(|e| io_err(&s.name, 0, e))?;
    let Some(line) = line else { return Ok(None) };
    let parsed = line::parse(line.bytes);
    match parsed.ts {
        line::Ts::TimeOfDay(t) | line::Ts::Epoch(t) => s.key = t,
        line::Ts::Relative(d) => {
            s.rel = s.rel.saturating_add(d);
            s.key = s.rel;
        }
        line::Ts::None => {}
    }
    Ok(Some((line.bytes.to_vec(), line.line_no, line.truncated)))
}

/// Serializes `Option<Timestamp>` / `Option<Span>` as seconds (JSON numbers).
pub(crate) mod secs {
    use crate::time::{Span, Timestamp};
    use serde::Serializer;

    pub fn ts<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_f64(t.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn span<S: Serializer>(t: &Option<Span>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_f64(t.as_secs_f64()),
            None => s.serialize_none(),
        }
    }

    pub fn span_req<S: Serializer>(t: &Span, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(t.as_secs_f64())
    }
}
