//! The model built from a log: processes, system calls (kept in a compact
//! form: fixed-size records plus one text arena), per-syscall and
//! per-process statistics, file accesses, the slowest calls and the
//! user-space gaps. Everything here is plain data and serde-serializable,
//! so a store can keep a parsed trace and serve it later.
//!
//! Times are nanoseconds in `i64` (`*_ns` fields); [`Trace`] accessors hand
//! them out as [`Timestamp`] and [`Span`].

use serde::{Deserialize, Serialize};

use super::table::SummaryTable;
use crate::time::{Span, Timestamp};

/// "No value" for the `i64` time fields of compact records.
pub(crate) const NONE: i64 = i64::MIN;

/// What the timestamps of a log count from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeBase {
    /// No timestamps (captured without `-t`, `-tt`, `-ttt` or `-r`).
    #[default]
    None,
    /// `-t`/`-tt`: time of day; the log has no date, so times count from
    /// midnight of the first day (a wrap past midnight adds a day).
    TimeOfDay,
    /// `-ttt`: seconds since the epoch.
    Epoch,
    /// `-r` only: times count from the first line.
    Relative,
}

/// One input file.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Input {
    pub name: String,
    pub lines: u64,
    pub bytes: u64,
    /// From a `-ff` file name (`prefix.PID`): the pid of its unprefixed lines.
    pub pid_from_name: Option<u32>,
}

/// A process (or thread) seen in the log.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Process {
    /// 0 when the log never names it (a single process traced without `-f`).
    pub pid: u32,
    /// The pid whose clone/fork/vfork returned this one.
    pub parent: Option<u32>,
    /// Created with `CLONE_THREAD`.
    pub is_thread: bool,
    pub execs: Vec<Exec>,
    pub execs_dropped: u32,
    pub exit_code: Option<i32>,
    pub killed_by: Option<String>,
    pub core_dumped: bool,
    /// `+++ superseded by execve in pid N +++` ended this thread.
    pub superseded: bool,
    /// strace let go of it (`-p` then Ctrl-C).
    pub detached: bool,
    /// Known only from its parent's clone/fork result: never traced.
    pub untraced: bool,
    pub start_ns: Option<i64>,
    pub end_ns: Option<i64>,
    pub input: u16,
    pub first_line: u32,
    /// System call lines (an unfinished/resumed pair counts once).
    pub syscalls: u64,
    pub signals: u32,
}

impl Process {
    pub fn start(&self) -> Option<Timestamp> {
        self.start_ns.map(Timestamp::from_nanos)
    }
    pub fn end(&self) -> Option<Timestamp> {
        self.end_ns.map(Timestamp::from_nanos)
    }
    /// The command line of the last successful execve, else the last one tried.
    pub fn argv(&self) -> Option<&[String]> {
        self.execs
            .iter()
            .rev()
            .find(|e| e.error.is_none())
            .or(self.execs.last())
            .map(|e| e.argv.as_slice())
    }
}

/// One execve (or execveat), successful or not.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Exec {
    pub ts_ns: Option<i64>,
    pub path: String,
    pub argv: Vec<String>,
    /// strace cut the array (`...`) or we capped it.
    pub argv_truncated: bool,
    pub error: Option<String>,
    pub input: u16,
    pub line: u32,
}

/// Flags of a compact syscall record.
pub(crate) mod flag {
    /// Never returned and never resumed (process gone, log cut).
    pub const UNFINISHED: u16 = 1;
    /// Built from an `<unfinished ...>` / `resumed>` pair.
    pub const PAIRED: u16 = 2;
    /// A `resumed>` line with no unfinished half.
    pub const RESUMED_ONLY: u16 = 4;
    /// `<detached ...>`.
    pub const DETACHED: u16 = 8;
    /// Returned (what `strace -c` counts).
    pub const RETURNED: u16 = 16;
    /// The return value is printed in hex.
    pub const HEX: u16 = 32;
    /// `ret` holds a number.
    pub const HAS_RET: u16 = 64;
    /// Duration measured from the unfinished and resumed timestamps (no -T).
    pub const DUR_FROM_TS: u16 = 128;
    pub const INJECTED: u16 = 256;
}

/// A system call, compact: 56 bytes plus its text in the arena.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct Rec {
    pub ts: i64,
    pub dur: i64,
    pub ret: i64,
    pub text: u64,
    pub args_len: u32,
    pub tail_len: u32,
    pub line: u32,
    pub proc_: u32,
    pub name: u16,
    pub errno: u16,
    pub input: u16,
    pub flags: u16,
}

/// Counters for one syscall name (or one name in one process).
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stat {
    /// Calls that returned (what `strace -c` counts).
    pub calls: u64,
    pub errors: u64,
    /// Calls that never returned (`= ?`, unfinished, detached).
    pub unreturned: u64,
    /// Sum of known durations.
    pub time_ns: i64,
    /// Calls whose duration is known.
    pub timed: u64,
}

/// What a file syscall does with its path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileOp {
    Open,
    Stat,
    Access,
    Exec,
    Other,
}

/// What an open asked to do with its file, from its flags (`O_WRONLY`,
/// `O_RDWR`, `O_CREAT`; `creat` writes and creates): bits of
/// [`OpenMode::READ`], [`OpenMode::WRITE`], [`OpenMode::CREATE`]. Empty for
/// calls that only look at a path (stat, access, exec).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OpenMode(pub u8);

impl OpenMode {
    pub const READ: u8 = 1;
    pub const WRITE: u8 = 2;
    pub const CREATE: u8 = 4;

    /// The access an open's flags argument (`O_WRONLY|O_CREAT|O_TRUNC`)
    /// asks for; `creat` is an open for writing that creates.
    pub fn of_open(syscall: &str, flags: &[u8]) -> OpenMode {
        if syscall == "creat" {
            return OpenMode(OpenMode::WRITE | OpenMode::CREATE);
        }
        let has = |flag: &[u8]| {
            flags
                .split(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
                .any(|word| word == flag)
        };
        let mut bits = if has(b"O_WRONLY") {
            OpenMode::WRITE
        } else if has(b"O_RDWR") {
            OpenMode::READ | OpenMode::WRITE
        } else {
            OpenMode::READ
        };
        if has(b"O_CREAT") || has(b"O_TMPFILE") {
            bits |= OpenMode::CREATE;
        }
        OpenMode(bits)
    }

    /// `read`, `write, create`, … (empty for none).
    pub fn words(self) -> &'static str {
        const WORDS: [&str; 8] = [
            "",
            "read",
            "write",
            "read, write",
            "create",
            "read, create",
            "write, create",
            "read, write, create",
        ];
        WORDS[usize::from(self.0 & 7)]
    }

    pub fn reads(self) -> bool {
        self.0 & OpenMode::READ != 0
    }

    pub fn writes(self) -> bool {
        self.0 & OpenMode::WRITE != 0
    }

    pub fn creates(self) -> bool {
        self.0 & OpenMode::CREATE != 0
    }
}

/// A path a process opened, stat-ed, accessed or executed.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct FileRec {
    pub path: u32,
    pub name: u16,
    pub errno: u16,
    pub op: FileOp,
    /// Stored models written before it read as none.
    #[serde(default)]
    pub access: OpenMode,
    pub proc_: u32,
    pub ret: Option<i64>,
    pub ts: i64,
    pub line: u32,
    pub input: u16,
}

/// One of the slowest calls, kept even when the syscall table is capped.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct SlowRec {
    pub dur: i64,
    pub ts: i64,
    pub proc_: u32,
    pub name: u16,
    pub input: u16,
    pub line: u32,
}

/// Time a process spent between two syscalls (in user space, or not
/// traced), kept for the largest gaps.
#[derive(Clone, Copy, Debug, Serialize, Deserialize)]
pub(crate) struct GapRec {
    pub gap: i64,
    /// End of the previous call (its start when its duration is unknown).
    pub from: i64,
    pub proc_: u32,
    pub before: u16,
    pub after: u16,
    pub input: u16,
    /// Line of the call after the gap.
    pub line: u32,
    /// The previous call's duration was unknown, so the gap includes it.
    pub includes_call: bool,
}

/// A signal delivered to a process.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Signal {
    pub pid: u32,
    pub signal: String,
    /// `--- stopped by SIG ---` rather than a delivery.
    pub stopped: bool,
    pub ts_ns: Option<i64>,
    pub input: u16,
    pub line: u32,
}

/// A line the parser did not understand.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Unparsed {
    pub input: u16,
    pub line: u32,
    /// The line's start (at most 200 bytes).
    pub text: String,
}

/// What the log reveals about the options it was captured with.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct Features {
    pub pid_prefix: bool,
    pub attach_messages: bool,
    pub timestamps: bool,
    pub time_of_day_seconds_only: bool,
    pub durations: bool,
    pub fd_annotations: bool,
    /// An fd-returning open without a `<path>` annotation.
    pub unannotated_fd: bool,
    pub open_calls: u64,
    pub openat_calls: u64,
    /// clone/fork/vfork calls that returned a child pid.
    pub forks: u64,
    /// Children born in the log that never printed a line.
    pub untraced_children: u64,
    pub exit_lines: u64,
    /// `-p`: the first process was attached, not started.
    pub attached_first: bool,
}

/// A parsed strace log (one or several files merged by time).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Trace {
    pub inputs: Vec<Input>,
    pub time_base: TimeBase,
    pub processes: Vec<Process>,
    /// System call lines (an unfinished/resumed pair counts once).
    pub syscall_count: u64,
    /// Calls not kept in the table because of `ParseOptions::max_syscalls`;
    /// statistics, files and pauses still include them.
    pub syscalls_dropped: u64,
    pub files_dropped: u64,
    pub signals: Vec<Signal>,
    pub signals_dropped: u64,
    pub tables: Vec<SummaryTable>,
    pub unparsed: Vec<Unparsed>,
    pub unparsed_count: u64,
    /// Messages from strace itself (`strace: ...`), and our own notes
    /// (lines cut for length), each with its position.
    pub notes: Vec<String>,
    pub stack_lines: u64,
    pub features: Features,
    /// Advice about the capture options (see [`super::Hint`]).
    pub hints: Vec<super::Hint>,
    pub(crate) names: Vec<String>,
    pub(crate) errnos: Vec<String>,
    pub(crate) paths: Vec<String>,
    pub(crate) recs: Vec<Rec>,
    pub(crate) arena: String,
    pub(crate) stats: Vec<Stat>,
    pub(crate) proc_stats: Vec<(u32, u16, Stat)>,
    pub(crate) files: Vec<FileRec>,
    pub(crate) slow: Vec<SlowRec>,
    pub(crate) gaps: Vec<GapRec>,
}

impl Trace {
    pub(crate) fn name(&self, id: u16) -> &str {
        self.names.get(id as usize).map_or("?", String::as_str)
    }
    pub(crate) fn errno_name(&self, id: u16) -> Option<&str> {
        if id == 0 {
            None
        } else {
            self.errnos.get(id as usize).map(String::as_str)
        }
    }
    pub(crate) fn pid_of(&self, proc_: u32) -> u32 {
        self.processes.get(proc_ as usize).map_or(0, |p| p.pid)
    }
    pub(crate) fn input_name(&self, input: u16) -> &str {
        self.inputs
            .get(input as usize)
            .map_or("?", |i| i.name.as_str())
    }
    pub(crate) fn rec_args(&self, r: &Rec) -> &str {
        let start = r.text as usize;
        self.arena
            .get(start..start + r.args_len as usize)
            .unwrap_or("")
    }
    pub(crate) fn rec_tail(&self, r: &Rec) -> &str {
        let start = r.text as usize + r.args_len as usize;
        self.arena
            .get(start..start + r.tail_len as usize)
            .unwrap_or("")
    }

    /// Distinct pids in order of first appearance (0 = unnamed process).
    pub fn pids(&self) -> Vec<u32> {
        let mut seen = std::collections::HashSet::new();
        self.processes
            .iter()
            .map(|p| p.pid)
            .filter(|p| seen.insert(*p))
            .collect()
    }

    /// First and last timestamp seen.
    pub fn span(&self) -> Option<(Timestamp, Timestamp)> {
        let start = self.processes.iter().filter_map(|p| p.start_ns).min()?;
        let end = self.processes.iter().filter_map(|p| p.end_ns).max()?;
        Some((Timestamp::from_nanos(start), Timestamp::from_nanos(end)))
    }

    /// Time spent in known syscall durations.
    pub fn total_syscall_time(&self) -> Span {
        Span::from_nanos(self.stats.iter().map(|s| s.time_ns).sum())
    }
}
