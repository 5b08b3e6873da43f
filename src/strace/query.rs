//! Views over a [`Trace`]: the syscall table with its filters and sort
//! orders, the `strace -c`-like summary (per syscall and per process), file
//! accesses (with the configuration-file filter), the slowest calls, the
//! pauses, the process tree and per-process timelines. Views are owned,
//! serializable rows ready for a page or a JSON answer.

use serde::{Deserialize, Serialize};

use super::meaning;
use super::model::{flag, FileOp, OpenMode, Rec, Stat, Trace, NONE};
use super::secs;
use crate::time::{Span, Timestamp};

/// Filters and order for [`Trace::syscalls`]. Empty fields do not filter.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Query {
    pub pids: Vec<u32>,
    /// Syscall names (any of them).
    pub names: Vec<String>,
    /// Substring of the arguments, the result or an fd annotation.
    pub contains: Option<String>,
    /// Only calls that returned an error.
    pub failed: bool,
    /// Only calls that failed with this errno (`ENOENT`).
    pub errno: Option<String>,
    /// Only calls at least this long (nanoseconds).
    pub min_duration_ns: Option<i64>,
    pub sort: SortKey,
    /// Reverse the sort order (newest first, or shortest first).
    pub reverse: bool,
    pub offset: usize,
    /// At most this many items (all when `None`).
    pub limit: Option<usize>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    /// Start time, then line (log order when there are no timestamps).
    #[default]
    Time,
    /// Longest first; calls without a duration last.
    Duration,
}

/// A page of results: the count before paging, and the items.
#[derive(Clone, Debug, Serialize)]
pub struct Page<T> {
    pub total: usize,
    pub items: Vec<T>,
}

/// One system call, resolved for display.
#[derive(Clone, Debug, Serialize)]
pub struct SyscallView {
    /// Position in the kept table (stable for a parsed trace).
    pub index: usize,
    pub file: String,
    pub line: u32,
    pub pid: u32,
    #[serde(serialize_with = "secs::ts")]
    pub ts: Option<Timestamp>,
    pub syscall: String,
    pub args: String,
    /// The text after `= ` (value, errno and its text, annotations).
    pub result: String,
    pub retval: Option<i64>,
    pub errno: Option<String>,
    /// What the errno means, in one line.
    pub errno_meaning: Option<&'static str>,
    #[serde(serialize_with = "secs::span")]
    pub duration: Option<Span>,
    /// The `-y` annotation of the returned fd (`/etc/hosts`, `TCP:[...]`).
    pub fd_path: Option<String>,
    /// Never returned (`= ?`), never resumed or detached.
    pub returned: bool,
    pub unfinished: bool,
    pub meaning: Option<&'static str>,
}

/// One line of the `strace -c`-like summary.
#[derive(Clone, Debug, Serialize)]
pub struct SummaryRow {
    pub syscall: String,
    /// Calls that returned (what `strace -c` counts).
    pub calls: u64,
    pub errors: u64,
    /// Calls that never returned (`exit_group`, killed mid-call, ...).
    pub unreturned: u64,
    /// Sum of `-T` durations (null without `-T`).
    #[serde(serialize_with = "secs::span")]
    pub total_time: Option<Span>,
    #[serde(serialize_with = "secs::span")]
    pub avg_time: Option<Span>,
    /// Share of all timed calls' time, in percent.
    pub percent_time: Option<f64>,
    pub meaning: Option<&'static str>,
}

/// The summary of one process.
#[derive(Clone, Debug, Serialize)]
pub struct ProcessSummary {
    pub pid: u32,
    pub calls: u64,
    pub errors: u64,
    #[serde(serialize_with = "secs::span")]
    pub total_time: Option<Span>,
    pub rows: Vec<SummaryRow>,
}

/// Filters for [`Trace::files`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct FileQuery {
    /// Only configuration files (see [`is_config_path`]).
    pub config_only: bool,
    /// Only failed lookups.
    pub failed_only: bool,
    /// Only lookups that failed with ENOENT (what the program searched for).
    pub enoent_only: bool,
    pub pid: Option<u32>,
    pub contains: Option<String>,
}

/// A path a process opened, stat-ed, accessed or executed.
#[derive(Clone, Debug, Serialize)]
pub struct FileView {
    pub path: String,
    pub syscall: String,
    pub op: FileOp,
    pub pid: u32,
    /// The returned value (an fd for opens) when the call returned one.
    pub result: Option<i64>,
    pub error: Option<String>,
    pub error_meaning: Option<&'static str>,
    #[serde(serialize_with = "secs::ts")]
    pub ts: Option<Timestamp>,
    pub file: String,
    pub line: u32,
    pub config: bool,
    /// What an open asked for: `read`, `write`, `create` (comma-separated;
    /// empty for stat, access and exec).
    pub access: String,
    #[serde(skip)]
    pub mode: OpenMode,
}

/// Every access to one path, as the files page lists them.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FileGroup {
    pub path: String,
    pub accesses: u64,
    pub failed: u64,
    /// Union of what its opens asked for: `read`, `write`, `create`
    /// (comma-separated, as [`FileView::access`]).
    #[serde(rename = "access", serialize_with = "mode_words")]
    pub mode: OpenMode,
    /// The syscalls that touched it, in first-seen order.
    pub syscalls: Vec<String>,
    pub pids: Vec<u32>,
    pub config: bool,
    /// The first access (the one a link opens).
    pub first: Option<FileView>,
    /// The first error, if one failed.
    pub error: Option<String>,
    pub error_meaning: Option<&'static str>,
}

fn mode_words<S: serde::Serializer>(mode: &OpenMode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(mode.words())
}

/// Groups accesses by path, in order of each path's first access.
pub fn group_by_path(views: Vec<FileView>) -> Vec<FileGroup> {
    let mut index: std::collections::HashMap<String, usize> = Default::default();
    let mut out: Vec<FileGroup> = Vec::new();
    for v in views {
        let i = *index.entry(v.path.clone()).or_insert_with(|| {
            out.push(FileGroup {
                path: v.path.clone(),
                config: true,
                ..FileGroup::default()
            });
            out.len() - 1
        });
        let g = &mut out[i];
        g.accesses += 1;
        g.mode = OpenMode(g.mode.0 | v.mode.0);
        g.config &= v.config;
        if !g.syscalls.contains(&v.syscall) {
            g.syscalls.push(v.syscall.clone());
        }
        if !g.pids.contains(&v.pid) {
            g.pids.push(v.pid);
        }
        if v.error.is_some() {
            g.failed += 1;
            if g.error.is_none() {
                g.error = v.error.clone();
                g.error_meaning = v.error_meaning;
            }
        }
        if g.first.is_none() {
            g.first = Some(v);
        }
    }
    out
}

/// One of the slowest calls.
#[derive(Clone, Debug, Serialize)]
pub struct SlowCall {
    pub pid: u32,
    pub syscall: String,
    #[serde(serialize_with = "secs::span_req")]
    pub duration: Span,
    #[serde(serialize_with = "secs::ts")]
    pub ts: Option<Timestamp>,
    pub file: String,
    pub line: u32,
    pub meaning: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PauseKind {
    /// Time inside one system call (waiting on the kernel: wait4, poll, read...).
    Syscall,
    /// Time between two calls of one process: user space (or untraced).
    Gap,
}

/// A pause: a long call or a long gap between calls, ranked by length.
#[derive(Clone, Debug, Serialize)]
pub struct Pause {
    pub kind: PauseKind,
    pub pid: u32,
    #[serde(serialize_with = "secs::span_req")]
    pub duration: Span,
    #[serde(serialize_with = "secs::ts")]
    pub start: Option<Timestamp>,
    /// The slow call, or the call that ends the gap.
    pub syscall: String,
    /// For a gap: the call before it.
    pub after_syscall: Option<String>,
    pub file: String,
    pub line: u32,
    /// For a gap: the previous call's duration was unknown (no `-T`), so
    /// the gap includes it.
    pub includes_call_time: bool,
    /// A wait for a child (wait4, waitpid, waitid) whose time is a child's
    /// own pause: that child. The wait is then listed right after the
    /// child's pause, which is the cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub waiting_for: Option<u32>,
}

/// The calls that wait for a child process to change state.
fn waits_for_child(syscall: &str) -> bool {
    matches!(syscall, "wait4" | "waitpid" | "waitid" | "wait3")
}

/// Puts each wait for a child right after the child's longest pause that
/// overlaps it, naming the child: the parent's wait is the child's pause
/// seen from outside, so the child's pause is the cause and ranks first.
fn attribute_waits(pauses: Vec<Pause>, parent_of: &dyn Fn(u32) -> Option<u32>) -> Vec<Pause> {
    let span = |p: &Pause| {
        p.start.map(|s| {
            (
                s.as_nanos(),
                s.as_nanos().saturating_add(p.duration.as_nanos()),
            )
        })
    };
    let cause_of = |w: &Pause| -> Option<usize> {
        if w.kind != PauseKind::Syscall || !waits_for_child(&w.syscall) {
            return None;
        }
        let (ws, we) = span(w)?;
        pauses
            .iter()
            .enumerate()
            .filter(|(_, p)| parent_of(p.pid) == Some(w.pid))
            .filter(|(_, p)| span(p).is_some_and(|(s, e)| s < we && e > ws))
            .max_by_key(|(_, p)| p.duration)
            .map(|(i, _)| i)
    };
    let causes: Vec<Option<usize>> = pauses.iter().map(cause_of).collect();
    let mut waits_on: Vec<Vec<usize>> = vec![Vec::new(); pauses.len()];
    for (w, c) in causes.iter().enumerate() {
        if let Some(c) = *c {
            waits_on[c].push(w);
        }
    }
    let mut placed = vec![false; pauses.len()];
    let mut order = Vec::with_capacity(pauses.len());
    for i in 0..pauses.len() {
        if causes[i].is_some() || placed[i] {
            continue;
        }
        // The pause, then the waits on it, then the waits on those (a
        // shell waiting on a make waiting on a compiler).
        let mut next = vec![i];
        while let Some(p) = next.pop() {
            if !placed[p] {
                order.push(p);
                placed[p] = true;
                next.extend(waits_on[p].iter().rev());
            }
        }
    }
    order.extend((0..pauses.len()).filter(|i| !placed[*i]));
    let cause_pid: Vec<Option<u32>> = causes
        .iter()
        .map(|c| c.and_then(|c| pauses.get(c)).map(|p| p.pid))
        .collect();
    let mut slots: Vec<Option<Pause>> = pauses.into_iter().map(Some).collect();
    order
        .into_iter()
        .filter_map(|i| {
            let mut p = slots.get_mut(i)?.take()?;
            p.waiting_for = cause_pid[i];
            Some(p)
        })
        .collect()
}

/// A process in tree order, with its depth.
#[derive(Clone, Debug, Serialize)]
pub struct TreeNode {
    pub pid: u32,
    pub parent: Option<u32>,
    pub depth: usize,
    pub is_thread: bool,
    pub argv: Vec<String>,
    pub exit_code: Option<i32>,
    pub killed_by: Option<String>,
    pub untraced: bool,
    pub detached: bool,
    pub superseded: bool,
    pub syscalls: u64,
}

/// One call on a process timeline.
#[derive(Clone, Debug, Serialize)]
pub struct TimelineItem {
    #[serde(serialize_with = "secs::span_req")]
    pub offset: Span,
    #[serde(serialize_with = "secs::span")]
    pub duration: Option<Span>,
    pub syscall: String,
    pub line: u32,
    pub failed: bool,
}

/// `.xml .conf .cfg .ini .yaml .yml .json .toml .properties .env` (and a
/// bare `.env` file name).
pub fn is_config_path(path: &str) -> bool {
    let base = path.rsplit('/').next().unwrap_or(path);
    let Some((_, ext)) = base.rsplit_once('.') else {
        return false;
    };
    matches!(
        ext.to_ascii_lowercase().as_str(),
        "xml" | "conf" | "cfg" | "ini" | "yaml" | "yml" | "json" | "toml" | "properties" | "env"
    )
}

fn ts_opt(ns: i64) -> Option<Timestamp> {
    (ns != NONE).then(|| Timestamp::from_nanos(ns))
}

impl Trace {
    fn view(&self, index: usize, r: &Rec) -> SyscallView {
        let name = self.name(r.name).to_string();
        let tail = self.rec_tail(r);
        let fd_path = if tail.starts_with(|c: char| c.is_ascii_digit()) {
            super::text::annotation(tail.as_bytes())
                .map(|a| String::from_utf8_lossy(&a).into_owned())
        } else {
            None
        };
        SyscallView {
            index,
            file: self.input_name(r.input).to_string(),
            line: r.line,
            pid: self.pid_of(r.proc_),
            ts: ts_opt(r.ts),
            meaning: meaning::syscall(&name),
            syscall: name,
            args: self.rec_args(r).to_string(),
            result: tail.to_string(),
            retval: (r.flags & flag::HAS_RET != 0).then_some(r.ret),
            errno: self.errno_name(r.errno).map(str::to_string),
            errno_meaning: self.errno_name(r.errno).and_then(meaning::errno),
            duration: (r.dur != NONE).then(|| Span::from_nanos(r.dur)),
            fd_path,
            returned: r.flags & flag::RETURNED != 0,
            unfinished: r.flags & (flag::UNFINISHED | flag::DETACHED) != 0,
        }
    }

    /// The kept system calls that match `q`, sorted and paged.
    pub fn syscalls(&self, q: &Query) -> Page<SyscallView> {
        let hits = self.matching(q);
        let total = hits.len();
        let items = hits
            .iter()
            .skip(q.offset)
            .take(q.limit.unwrap_or(usize::MAX))
            .map(|&i| self.view(i as usize, &self.recs[i as usize]))
            .collect();
        Page { total, items }
    }

    /// Where the call at `line` of input `input` (its index in
    /// [`Trace::inputs`]) stands among the calls `q` matches, in `q`'s
    /// order, paging aside: the offset of the page that shows it.
    pub fn position(&self, q: &Query, input: u16, line: u32) -> Option<usize> {
        self.matching(q).iter().position(|&i| {
            let r = &self.recs[i as usize];
            r.input == input && r.line == line
        })
    }

    /// Indexes of the kept calls that match `q`, in `q`'s order.
    fn matching(&self, q: &Query) -> Vec<u32> {
        let names: Vec<u16> = q
            .names
            .iter()
            .filter_map(|n| self.names.iter().position(|m| m == n).map(|i| i as u16))
            .collect();
        if !q.names.is_empty() && names.is_empty() {
            return Vec::new();
        }
        let errno = match &q.errno {
            Some(e) => match self.errnos.iter().position(|m| m == e) {
                Some(i) if i > 0 => Some(i as u16),
                _ => return Vec::new(),
            },
            None => None,
        };
        let finder = q
            .contains
            .as_deref()
            .filter(|c| !c.is_empty())
            .map(memchr::memmem::Finder::new);
        let mut hits: Vec<u32> = Vec::new();
        for (i, r) in self.recs.iter().enumerate() {
            if !q.pids.is_empty() && !q.pids.contains(&self.pid_of(r.proc_)) {
                continue;
            }
            if !names.is_empty() && !names.contains(&r.name) {
                continue;
            }
            if q.failed && r.errno == 0 {
                continue;
            }
            if errno.is_some_and(|e| e != r.errno) {
                continue;
            }
            if let Some(min) = q.min_duration_ns {
                if r.dur == NONE || r.dur < min {
                    continue;
                }
            }
            if let Some(f) = &finder {
                let start = r.text as usize;
                let end = start + r.args_len as usize + r.tail_len as usize;
                let hay = self.arena.as_bytes().get(start..end).unwrap_or(b"");
                if f.find(hay).is_none() {
                    continue;
                }
            }
            hits.push(i as u32);
        }
        let key_time = |i: &u32| {
            let r = &self.recs[*i as usize];
            (r.ts, r.input, r.line)
        };
        match q.sort {
            SortKey::Time => hits.sort_by_key(key_time),
            SortKey::Duration => hits.sort_by_key(|i| {
                let r = &self.recs[*i as usize];
                (std::cmp::Reverse(r.dur), r.ts, r.line)
            }),
        }
        if q.reverse {
            hits.reverse();
        }
        hits
    }

    fn rows(&self, stats: impl Iterator<Item = (u16, Stat)>) -> Vec<SummaryRow> {
        let stats: Vec<(u16, Stat)> = stats.filter(|(_, s)| s.calls + s.unreturned > 0).collect();
        let total: i64 = stats.iter().map(|(_, s)| s.time_ns).sum();
        let mut rows: Vec<SummaryRow> = stats
            .into_iter()
            .map(|(id, s)| {
                let name = self.name(id).to_string();
                let timed = s.timed > 0;
                SummaryRow {
                    meaning: meaning::syscall(&name),
                    syscall: name,
                    calls: s.calls,
                    errors: s.errors,
                    unreturned: s.unreturned,
                    total_time: timed.then(|| Span::from_nanos(s.time_ns)),
                    avg_time: timed.then(|| Span::from_nanos(s.time_ns / s.timed as i64)),
                    percent_time: (timed && total > 0)
                        .then(|| s.time_ns as f64 * 100.0 / total as f64),
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            b.total_time
                .cmp(&a.total_time)
                .then(b.calls.cmp(&a.calls))
                .then(a.syscall.cmp(&b.syscall))
        });
        rows
    }

    /// Per syscall, like `strace -c`: by total time, then calls.
    pub fn summary(&self) -> Vec<SummaryRow> {
        self.rows(self.stats.iter().enumerate().map(|(i, s)| (i as u16, *s)))
    }

    /// The summary of each process, in order of appearance.
    pub fn summary_by_process(&self) -> Vec<ProcessSummary> {
        let mut out: Vec<ProcessSummary> = Vec::new();
        let mut i = 0;
        let ps = &self.proc_stats;
        while i < ps.len() {
            let p = ps[i].0;
            let mut j = i;
            while j < ps.len() && ps[j].0 == p {
                j += 1;
            }
            let rows = self.rows(ps[i..j].iter().map(|(_, n, s)| (*n, *s)));
            let time: i64 = ps[i..j].iter().map(|(_, _, s)| s.time_ns).sum();
            let timed = ps[i..j].iter().any(|(_, _, s)| s.timed > 0);
            out.push(ProcessSummary {
                pid: self.pid_of(p),
                calls: rows.iter().map(|r| r.calls).sum(),
                errors: rows.iter().map(|r| r.errors).sum(),
                total_time: timed.then(|| Span::from_nanos(time)),
                rows,
            });
            i = j;
        }
        out
    }

    /// Paths opened, stat-ed, accessed or executed, in log order.
    pub fn files(&self, q: &FileQuery) -> Vec<FileView> {
        // A file the program writes or creates is its output, not what
        // configures it, whatever its name (and however it reads it back).
        let written: std::collections::HashSet<u32> = self
            .files
            .iter()
            .filter(|f| f.access.writes() || f.access.creates())
            .map(|f| f.path)
            .collect();
        let mut out = Vec::new();
        for f in &self.files {
            let path = self.paths.get(f.path as usize).map_or("", String::as_str);
            let config = is_config_path(path) && !written.contains(&f.path);
            if q.config_only && !config {
                continue;
            }
            let error = self.errno_name(f.errno);
            if q.failed_only && error.is_none() {
                continue;
            }
            if q.enoent_only && error != Some("ENOENT") {
                continue;
            }
            let pid = self.pid_of(f.proc_);
            if q.pid.is_some_and(|p| p != pid) {
                continue;
            }
            if q.contains.as_deref().is_some_and(|c| !path.contains(c)) {
                continue;
            }
            out.push(FileView {
                path: path.to_string(),
                syscall: self.name(f.name).to_string(),
                op: f.op,
                pid,
                result: if error.is_some() { None } else { f.ret },
                error: error.map(str::to_string),
                error_meaning: error.and_then(meaning::errno),
                ts: ts_opt(f.ts),
                file: self.input_name(f.input).to_string(),
                line: f.line,
                config,
                access: f.access.words().to_string(),
                mode: f.access,
            });
        }
        out
    }

    /// The `n` longest calls (durations from `-T`, or from the timestamps
    /// of an unfinished/resumed pair), longest first.
    pub fn slowest(&self, n: usize) -> Vec<SlowCall> {
        self.slow
            .iter()
            .take(n)
            .map(|s| {
                let name = self.name(s.name).to_string();
                SlowCall {
                    pid: self.pid_of(s.proc_),
                    meaning: meaning::syscall(&name),
                    syscall: name,
                    duration: Span::from_nanos(s.dur),
                    ts: ts_opt(s.ts),
                    file: self.input_name(s.input).to_string(),
                    line: s.line,
                }
            })
            .collect()
    }

    /// Long calls and long gaps between calls of one process, ranked
    /// together, longest first.
    pub fn pauses(&self, n: usize) -> Vec<Pause> {
        // Every kept pause is a candidate (a wait's cause may rank below
        // the first `n`); the model keeps only the top few hundred.
        let mut out: Vec<Pause> = self
            .slow
            .iter()
            .map(|s| Pause {
                kind: PauseKind::Syscall,
                pid: self.pid_of(s.proc_),
                duration: Span::from_nanos(s.dur),
                start: ts_opt(s.ts),
                syscall: self.name(s.name).to_string(),
                after_syscall: None,
                file: self.input_name(s.input).to_string(),
                line: s.line,
                includes_call_time: false,
                waiting_for: None,
            })
            .collect();
        out.extend(self.gaps.iter().map(|g| Pause {
            kind: PauseKind::Gap,
            pid: self.pid_of(g.proc_),
            duration: Span::from_nanos(g.gap),
            start: ts_opt(g.from),
            syscall: self.name(g.after).to_string(),
            after_syscall: Some(self.name(g.before).to_string()),
            file: self.input_name(g.input).to_string(),
            line: g.line,
            includes_call_time: g.includes_call,
            waiting_for: None,
        }));
        out.sort_by(|a, b| b.duration.cmp(&a.duration).then(a.line.cmp(&b.line)));
        let parents: std::collections::HashMap<u32, u32> = self
            .processes
            .iter()
            .filter_map(|p| Some((p.pid, p.parent?)))
            .collect();
        let mut out = attribute_waits(out, &|pid| parents.get(&pid).copied());
        out.truncate(n);
        out
    }

    /// Processes in tree order (children after their parent), with depth.
    pub fn process_tree(&self) -> Vec<TreeNode> {
        let n = self.processes.len();
        let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
        let mut roots = Vec::new();
        for (i, p) in self.processes.iter().enumerate() {
            let parent = p.parent.and_then(|pp| {
                // The latest process with that pid that started before this one.
                self.processes[..i].iter().rposition(|q| q.pid == pp)
            });
            match parent {
                Some(j) => children[j].push(i),
                None => roots.push(i),
            }
        }
        let mut out = Vec::with_capacity(n);
        let mut stack: Vec<(usize, usize)> = roots.into_iter().rev().map(|r| (r, 0)).collect();
        while let Some((i, depth)) = stack.pop() {
            let p = &self.processes[i];
            out.push(TreeNode {
                pid: p.pid,
                parent: p.parent,
                depth,
                is_thread: p.is_thread,
                argv: p.argv().map(<[String]>::to_vec).unwrap_or_default(),
                exit_code: p.exit_code,
                killed_by: p.killed_by.clone(),
                untraced: p.untraced,
                detached: p.detached,
                superseded: p.superseded,
                syscalls: p.syscalls,
            });
            for &c in children[i].iter().rev() {
                stack.push((c, depth + 1));
            }
        }
        out
    }

    /// The kept calls of one process, as offsets from its start.
    pub fn timeline(&self, pid: u32) -> Vec<TimelineItem> {
        let procs: Vec<u32> = (0..self.processes.len() as u32)
            .filter(|i| self.processes[*i as usize].pid == pid)
            .collect();
        let start = procs
            .iter()
            .filter_map(|i| self.processes[*i as usize].start_ns)
            .min()
            .unwrap_or(0);
        let mut items: Vec<(i64, u32, TimelineItem)> = self
            .recs
            .iter()
            .filter(|r| r.ts != NONE && procs.contains(&r.proc_))
            .map(|r| {
                (
                    r.ts,
                    r.line,
                    TimelineItem {
                        offset: Span::from_nanos(r.ts - start),
                        duration: (r.dur != NONE).then(|| Span::from_nanos(r.dur)),
                        syscall: self.name(r.name).to_string(),
                        line: r.line,
                        failed: r.errno != 0,
                    },
                )
            })
            .collect();
        items.sort_by_key(|(t, l, _)| (*t, *l));
        items.into_iter().map(|(_, _, i)| i).collect()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn pause(pid: u32, syscall: &str, start_ms: i64, ms: i64) -> Pause {
        Pause {
            kind: PauseKind::Syscall,
            pid,
            duration: Span::from_nanos(ms * 1_000_000),
            start: Some(Timestamp::from_nanos(start_ms * 1_000_000)),
            syscall: syscall.into(),
            after_syscall: None,
            file: String::new(),
            line: 0,
            includes_call_time: false,
            waiting_for: None,
        }
    }

    #[test]
    fn a_wait_for_a_child_follows_the_childs_pause() {
        // The shell (100) waits 2.1 s for its child (101), whose poll
        // took 2 s of it; an unrelated read of 102 took 1 s.
        let pauses = vec![
            pause(100, "wait4", 0, 2_100),
            pause(101, "poll", 50, 2_000),
            pause(102, "read", 0, 1_000),
        ];
        let parent = |pid: u32| (pid == 101).then_some(100);
        let out = attribute_waits(pauses, &parent);
        let order: Vec<(&str, Option<u32>)> = out
            .iter()
            .map(|p| (p.syscall.as_str(), p.waiting_for))
            .collect();
        assert_eq!(
            order,
            vec![("poll", None), ("wait4", Some(101)), ("read", None)]
        );
        // A wait with no child pausing inside it stays where it ranks.
        let out = attribute_waits(
            vec![pause(100, "wait4", 0, 5), pause(7, "read", 0, 1)],
            &parent,
        );
        assert_eq!(out[0].syscall, "wait4");
        assert_eq!(out[0].waiting_for, None);
    }

    #[test]
    fn opens_say_what_they_asked_for() {
        let m = OpenMode::of_open("openat", b"O_WRONLY|O_CREAT|O_TRUNC|O_CLOEXEC");
        assert!(m.writes() && m.creates() && !m.reads());
        assert_eq!(m.words(), "write, create");
        assert_eq!(
            OpenMode::of_open("openat", b"O_RDONLY|O_CLOEXEC").words(),
            "read"
        );
        assert_eq!(OpenMode::of_open("open", b"O_RDWR").words(), "read, write");
        assert_eq!(OpenMode::of_open("creat", b"0644").words(), "write, create");
        assert_eq!(
            OpenMode::of_open("openat", b"O_RDONLY|O_CREATX").words(),
            "read"
        );
    }

    #[test]
    fn config_paths() {
        assert!(is_config_path("/etc/app/app.XML"));
        assert!(is_config_path("conf/db.properties"));
        assert!(is_config_path("/srv/.env"));
        assert!(!is_config_path("/usr/lib/libc.so.6"));
        assert!(!is_config_path("/etc/hosts"));
    }
}
