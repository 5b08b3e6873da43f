//! The builder: turns classified lines into the model, one line at a time.
//!
//! It owns the state a log needs across lines: which process an unprefixed
//! line belongs to (`-f` to stderr drops the `[pid N]` prefix while only
//! one process is alive), the `<unfinished ...>` half of each process's
//! current call, lines cut by a spliced `strace: Process N attached` or by
//! program output, `-r` accumulation and `-t` midnight wraps, and an
//! `strace -c` table being read. Statistics, files and pauses are updated
//! as calls complete, so they cover every call even when the syscall table
//! is capped.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use rustc_hash::FxHashMap;

use super::line::{self, Body, End, Line, RetVal, Ts};
use super::model::*;
use super::table::{self, Col, SummaryTable};
use super::text;
use super::ParseOptions;

const DAY_NS: i64 = 86_400_000_000_000;
const MAX_PENDING_LINE: usize = 64 * 1024;
const MAX_PENDING_ARGS: usize = 64 * 1024;
const MAX_ARGV: usize = 256;
const MAX_ARGV_BYTES: usize = 16 * 1024;
const MAX_EXECS: usize = 64;
const MAX_UNPARSED: usize = 1000;
const MAX_NOTES: usize = 200;
const MAX_SIGNALS: usize = 100_000;
const MAX_PATH: usize = 4096;
const MAX_TAIL: usize = 256;

/// Non-blank lines read before a file with nothing understood is rejected.
pub(crate) const SNIFF_LINES: u64 = 64;

struct PendingCall {
    name: u16,
    args: Vec<u8>,
    ts: i64,
    line: u32,
    input: u16,
}

#[derive(Default)]
struct ProcState {
    pending: Option<PendingCall>,
    last_end: Option<i64>,
    last_name: u16,
    last_dur_known: bool,
    alive: bool,
    seen: bool,
    from_clone: bool,
    /// Index of the process whose clone/fork returned this one.
    parent: Option<u32>,
}

struct PendingLine {
    bytes: Vec<u8>,
    line: u32,
    joins: u8,
}

struct TableState {
    cols: Vec<Col>,
    table: SummaryTable,
}

#[derive(Default)]
pub(crate) struct InputState {
    implicit: Option<u32>,
    saw_prefix: bool,
    pid_from_name: Option<u32>,
    tod_offset: i64,
    last_ts: Option<i64>,
    rel_acc: i64,
    pending: Option<PendingLine>,
    table: Option<TableState>,
    title: Option<String>,
    pub understood: u64,
    pub nonblank: u64,
    pub first_unparsed: Option<(u32, String)>,
}

/// What a call returned, detached from the line it came from.
struct Outcome<'a> {
    value: RetVal,
    errno: &'a [u8],
    tail: &'a [u8],
    duration: Option<i64>,
    injected: bool,
    returned: bool,
}

pub(crate) struct Builder {
    opts: ParseOptions,
    pub trace: Trace,
    pub inputs: Vec<InputState>,
    procs: Vec<ProcState>,
    // The interning maps use Fx, a fast hash that a crafted log can make
    // collide: its keys are bounded (at most 64K names), so that slows a
    // lookup but cannot grow memory.
    pid_map: FxHashMap<u32, u32>,
    /// Statistics per (process, syscall name): a map, not a per-process
    /// vector, so memory follows the pairs seen, not processes x names.
    proc_stats: FxHashMap<(u32, u16), Stat>,
    name_map: FxHashMap<Box<[u8]>, u16>,
    /// What each interned name means to the builder, by name id.
    info: Vec<NameInfo>,
    errno_map: FxHashMap<Box<[u8]>, u16>,
    path_map: FxHashMap<Box<str>, u32>,
    slow: TopK<SlowRec>,
    gaps: TopK<GapRec>,
    alive_count: usize,
    sole_alive: Option<u32>,
    tod_fraction_seen: bool,
    tod_seen: bool,
}

impl Builder {
    pub fn new(opts: ParseOptions) -> Self {
        let mut b = Builder {
            slow: TopK::new(opts.top_k),
            gaps: TopK::new(opts.top_k),
            opts,
            trace: Trace::default(),
            inputs: Vec::new(),
            procs: Vec::new(),
            pid_map: FxHashMap::default(),
            proc_stats: FxHashMap::default(),
            name_map: FxHashMap::default(),
            info: Vec::new(),
            errno_map: FxHashMap::default(),
            path_map: FxHashMap::default(),
            alive_count: 0,
            sole_alive: None,
            tod_fraction_seen: false,
            tod_seen: false,
        };
        // errno id 0 means "no errno".
        b.trace.errnos.push(String::new());
        b
    }

    pub fn add_input(&mut self, name: &str) -> u16 {
        let pid_from_name = pid_from_file_name(name);
        self.trace.inputs.push(Input {
            name: name.to_string(),
            pid_from_name,
            ..Input::default()
        });
        self.inputs.push(InputState {
            pid_from_name,
            ..InputState::default()
        });
        (self.inputs.len() - 1) as u16
    }

    /// Feeds one line (without its newline).
    pub fn feed(&mut self, input: u16, bytes: &[u8], line_no: u32, truncated: bool) {
        let ii = input as usize;
        {
            let inp = &mut self.trace.inputs[ii];
            inp.lines += 1;
            inp.bytes += bytes.len() as u64 + 1;
        }
        if truncated {
            let name = self.trace.inputs[ii].name.clone();
            self.note(format!(
                "{name}:{line_no}: line longer than {} bytes, cut",
                self.opts.max_line_len
            ));
        }
        if self.table_line(input, bytes, line_no) {
            return;
        }
        let parsed = line::parse(bytes);
        let st = &mut self.inputs[ii];
        if parsed.body == Body::Unknown {
            if let Some(p) = st.pending.take() {
                let mut joined = p.bytes;
                joined.extend_from_slice(bytes);
                self.incomplete_or_handle(input, joined, p.line, p.joins.saturating_add(1));
                return;
            }
        }
        if !matches!(
            parsed.body,
            Body::Attached { .. } | Body::Detached { .. } | Body::Note | Body::Blank
        ) {
            if let Some(p) = st.pending.take() {
                self.unparsed(input, p.line, &p.bytes);
            }
        }
        if parsed.body == Body::Incomplete {
            self.incomplete_or_handle(input, bytes.to_vec(), line_no, 0);
        } else {
            self.handle(input, line_no, bytes, parsed);
        }
    }

    /// A line that may still be cut: parse it whole, or keep it pending
    /// until its continuation arrives.
    fn incomplete_or_handle(&mut self, input: u16, bytes: Vec<u8>, line_no: u32, joins: u8) {
        let parsed = line::parse(&bytes);
        if parsed.body != Body::Incomplete {
            self.handle(input, line_no, &bytes, parsed);
            return;
        }
        let (head, msg) = match line::split_spliced(&bytes) {
            Some((h, m)) => (h, Some(m)),
            None => (bytes.as_slice(), None),
        };
        if joins >= 8 || head.len() > MAX_PENDING_LINE {
            self.unparsed(input, line_no, head);
        } else {
            self.inputs[input as usize].pending = Some(PendingLine {
                bytes: head.to_vec(),
                line: line_no,
                joins,
            });
        }
        if let Some(msg) = msg {
            let msg_line = line::parse(msg);
            self.handle(input, line_no, msg, msg_line);
        }
    }

    fn table_line(&mut self, input: u16, bytes: &[u8], line_no: u32) -> bool {
        let ii = input as usize;
        if let Some(ts) = self.inputs[ii].table.as_mut() {
            if table::is_separator(bytes) {
                self.inputs[ii].understood += 1;
                self.inputs[ii].nonblank += 1;
                return true;
            }
            if let Some(row) = table::row(&ts.cols, bytes) {
                if row.syscall == "total" {
                    ts.table.total = Some(row);
                    self.finish_table(input);
                } else {
                    ts.table.rows.push(row);
                }
                self.inputs[ii].understood += 1;
                self.inputs[ii].nonblank += 1;
                return true;
            }
            self.finish_table(input);
        }
        if table::is_title(bytes) {
            let st = &mut self.inputs[ii];
            st.title = Some(text::lossy(text::trim(bytes), 200));
            st.understood += 1;
            st.nonblank += 1;
            return true;
        }
        if bytes.len() < 300
            && memchr::memchr(b'(', bytes).is_none()
            && memchr::memmem::find(bytes, b"calls").is_some()
        {
            if let Some(cols) = table::header(bytes) {
                let st = &mut self.inputs[ii];
                st.understood += 1;
                st.nonblank += 1;
                st.table = Some(TableState {
                    cols,
                    table: SummaryTable {
                        input,
                        line: line_no,
                        title: st.title.take(),
                        ..SummaryTable::default()
                    },
                });
                return true;
            }
        }
        false
    }

    fn finish_table(&mut self, input: u16) {
        if let Some(ts) = self.inputs[input as usize].table.take() {
            self.trace.tables.push(ts.table);
        }
    }

    fn note(&mut self, msg: String) {
        if self.trace.notes.len() < MAX_NOTES {
            self.trace.notes.push(msg);
        }
    }

    fn unparsed(&mut self, input: u16, line_no: u32, bytes: &[u8]) {
        let st = &mut self.inputs[input as usize];
        st.nonblank += 1;
        let text = text::lossy(bytes, 200);
        if st.first_unparsed.is_none() {
            st.first_unparsed = Some((line_no, text.clone()));
        }
        self.trace.unparsed_count += 1;
        if self.trace.unparsed.len() < MAX_UNPARSED {
            self.trace.unparsed.push(Unparsed {
                input,
                line: line_no,
                text,
            });
        }
    }

    fn handle(&mut self, input: u16, line_no: u32, raw: &[u8], l: Line<'_>) {
        let ii = input as usize;
        match l.body {
            Body::Blank => return,
            Body::Unknown | Body::Incomplete => return self.unparsed(input, line_no, raw),
            _ => {}
        }
        self.inputs[ii].understood += 1;
        self.inputs[ii].nonblank += 1;
        match l.body {
            Body::Attached { pid } => return self.attached(input, pid, line_no),
            Body::Detached { pid } => {
                self.trace.features.attach_messages = true;
                if let Some(&p) = self.pid_map.get(&pid) {
                    self.trace.processes[p as usize].detached = true;
                    self.end_proc(p, NONE);
                }
                return;
            }
            Body::Note | Body::Personality => {
                let name = self.trace.inputs[ii].name.clone();
                return self.note(format!(
                    "{name}:{line_no}: {}",
                    text::lossy(text::trim(raw), 300)
                ));
            }
            Body::Stack => {
                self.trace.stack_lines += 1;
                return;
            }
            Body::Dump => return,
            _ => {}
        }
        let ts = self.resolve_ts(input, l.ts);
        let p = self.proc_for(input, l.pid, ts, line_no);
        {
            let proc_ = &mut self.trace.processes[p as usize];
            if ts != NONE {
                if proc_.start_ns.is_none() {
                    proc_.start_ns = Some(ts);
                }
                proc_.end_ns = Some(ts);
            }
        }
        match l.body {
            Body::Call { name, args, end } => {
                let name = self.intern_name(name);
                self.call(p, name, args, end, ts, input, line_no);
            }
            Body::Resumed { name, args, end } => {
                let name = self.intern_name(name);
                self.resumed(p, name, args, end, ts, input, line_no);
            }
            Body::Signal { sig } | Body::Stopped { sig } => {
                let stopped = matches!(l.body, Body::Stopped { .. });
                self.trace.processes[p as usize].signals += 1;
                if self.trace.signals.len() < MAX_SIGNALS {
                    let pid = self.trace.processes[p as usize].pid;
                    self.trace.signals.push(Signal {
                        pid,
                        signal: text::lossy(sig, 32),
                        stopped,
                        ts_ns: opt(ts),
                        input,
                        line: line_no,
                    });
                } else {
                    self.trace.signals_dropped += 1;
                }
            }
            Body::Exited(code) => {
                self.trace.features.exit_lines += 1;
                self.trace.processes[p as usize].exit_code = Some(code);
                self.end_proc(p, ts);
            }
            Body::Killed { sig, core } => {
                self.trace.features.exit_lines += 1;
                let proc_ = &mut self.trace.processes[p as usize];
                proc_.killed_by = Some(text::lossy(sig, 32));
                proc_.core_dumped = core;
                self.end_proc(p, ts);
            }
            Body::Superseded(by) => {
                // The thread `by` ran execve; it now carries this pid.
                if let Some(&t) = self.pid_map.get(&by) {
                    if t != p {
                        let moved = self.procs[t as usize].pending.take();
                        if let Some(m) = moved {
                            if let Some(old) = self.procs[p as usize].pending.replace(m) {
                                self.flush_pending(p, old);
                            }
                        }
                        self.trace.processes[t as usize].superseded = true;
                        self.end_proc(t, ts);
                    }
                }
            }
            _ => {}
        }
    }

    fn attached(&mut self, input: u16, pid: u32, line_no: u32) {
        self.trace.features.attach_messages = true;
        let ii = input as usize;
        if self.pid_map.contains_key(&pid) {
            return;
        }
        let st = &self.inputs[ii];
        // Spliced into an unprefixed line of the (still unnamed) process
        // that is cloning: that process comes first.
        let cut_unprefixed = st
            .pending
            .as_ref()
            .is_some_and(|p| line::parse(&p.bytes).pid.is_none());
        if cut_unprefixed && st.implicit.is_none() && !st.saw_prefix && st.pid_from_name.is_none() {
            let i = self.new_proc(0, input, line_no, NONE, true);
            self.inputs[ii].implicit = Some(i);
        }
        let st = &self.inputs[ii];
        if st.implicit.is_none() && !st.saw_prefix && self.trace.processes.is_empty() {
            let i = self.new_proc(pid, input, line_no, NONE, true);
            self.inputs[ii].implicit = Some(i);
            self.trace.features.attached_first = true;
            return;
        }
        self.new_proc(pid, input, line_no, NONE, true);
    }

    fn resolve_ts(&mut self, input: u16, ts: Ts) -> i64 {
        let st = &mut self.inputs[input as usize];
        let base = self.trace.time_base;
        let (t, kind) = match ts {
            Ts::None => return NONE,
            Ts::TimeOfDay(ns) => {
                self.tod_seen = true;
                if ns % 1_000_000_000 != 0 {
                    self.tod_fraction_seen = true;
                }
                let mut t = ns.saturating_add(st.tod_offset);
                if let Some(last) = st.last_ts {
                    if t.saturating_add(DAY_NS / 2) < last {
                        st.tod_offset = st.tod_offset.saturating_add(DAY_NS);
                        t = t.saturating_add(DAY_NS);
                    }
                }
                (t, TimeBase::TimeOfDay)
            }
            Ts::Epoch(ns) => (ns, TimeBase::Epoch),
            Ts::Relative(d) => {
                st.rel_acc = st.rel_acc.saturating_add(d);
                (st.rel_acc, TimeBase::Relative)
            }
        };
        st.last_ts = Some(t);
        if base == TimeBase::None {
            self.trace.time_base = kind;
        }
        self.trace.features.timestamps = true;
        t
    }

    fn proc_for(&mut self, input: u16, pid: Option<u32>, ts: i64, line_no: u32) -> u32 {
        let ii = input as usize;
        let p = match pid {
            Some(pid) => {
                self.trace.features.pid_prefix = true;
                self.inputs[ii].saw_prefix = true;
                if let Some(&i) = self.pid_map.get(&pid) {
                    i
                } else {
                    match self.inputs[ii].implicit {
                        Some(i)
                            if self.trace.processes[i as usize].pid == 0
                                && self.procs[i as usize].alive =>
                        {
                            self.trace.processes[i as usize].pid = pid;
                            self.pid_map.insert(pid, i);
                            i
                        }
                        _ => self.new_proc(pid, input, line_no, ts, true),
                    }
                }
            }
            None => {
                if let Some(pid) = self.inputs[ii].pid_from_name {
                    match self.pid_map.get(&pid) {
                        Some(&i) => i,
                        None => self.new_proc(pid, input, line_no, ts, true),
                    }
                } else if let Some(i) = self.inputs[ii]
                    .saw_prefix
                    .then(|| self.sole_alive())
                    .flatten()
                {
                    i
                } else if let Some(i) = self.inputs[ii].implicit {
                    i
                } else {
                    let i = self.new_proc(0, input, line_no, ts, true);
                    self.inputs[ii].implicit = Some(i);
                    i
                }
            }
        };
        let ps = &mut self.procs[p as usize];
        if !ps.seen {
            ps.seen = true;
            let proc_ = &self.trace.processes[p as usize];
            if proc_.exit_code.is_none() && proc_.killed_by.is_none() && !ps.alive {
                ps.alive = true;
                self.alive_count += 1;
                self.sole_alive = None;
            }
            let proc_ = &mut self.trace.processes[p as usize];
            proc_.input = input;
            proc_.first_line = line_no;
        }
        p
    }

    fn sole_alive(&mut self) -> Option<u32> {
        if self.alive_count != 1 {
            return None;
        }
        if self.sole_alive.is_none() {
            self.sole_alive = self.procs.iter().rposition(|p| p.alive).map(|i| i as u32);
        }
        self.sole_alive
    }

    fn new_proc(&mut self, pid: u32, input: u16, line_no: u32, ts: i64, seen: bool) -> u32 {
        let i = self.trace.processes.len() as u32;
        self.trace.processes.push(Process {
            pid,
            input,
            first_line: line_no,
            start_ns: opt(ts),
            end_ns: opt(ts),
            ..Process::default()
        });
        self.procs.push(ProcState {
            alive: seen,
            seen,
            from_clone: !seen,
            ..ProcState::default()
        });
        if seen {
            self.alive_count += 1;
            self.sole_alive = None;
        }
        if pid != 0 {
            self.pid_map.insert(pid, i);
        }
        i
    }

    fn end_proc(&mut self, p: u32, ts: i64) {
        if let Some(pending) = self.procs[p as usize].pending.take() {
            self.flush_pending(p, pending);
        }
        let ps = &mut self.procs[p as usize];
        if ps.alive {
            ps.alive = false;
            self.alive_count -= 1;
            self.sole_alive = None;
        }
        if ts != NONE {
            self.trace.processes[p as usize].end_ns = Some(ts);
        }
    }

    fn intern_name(&mut self, name: &[u8]) -> u16 {
        if let Some(&id) = self.name_map.get(name) {
            return id;
        }
        if self.trace.names.len() >= u16::MAX as usize - 1 {
            let id = intern_overflow(&mut self.trace.names, &mut self.name_map);
            if self.trace.stats.len() < self.trace.names.len() {
                self.trace.stats.push(Stat::default());
            }
            return id;
        }
        let id = self.trace.names.len() as u16;
        let s = text::lossy(name, 64);
        self.info.push(NameInfo::of(&s));
        self.trace.names.push(s);
        self.trace.stats.push(Stat::default());
        self.name_map.insert(name.into(), id);
        id
    }

    fn intern_errno(&mut self, e: &[u8]) -> u16 {
        if e.is_empty() {
            return 0;
        }
        if let Some(&id) = self.errno_map.get(e) {
            return id;
        }
        if self.trace.errnos.len() >= u16::MAX as usize - 1 {
            return intern_overflow(&mut self.trace.errnos, &mut self.errno_map);
        }
        let id = self.trace.errnos.len() as u16;
        self.trace.errnos.push(text::lossy(e, 64));
        self.errno_map.insert(e.into(), id);
        id
    }

    fn intern_path(&mut self, p: &str) -> u32 {
        if let Some(&id) = self.path_map.get(p) {
            return id;
        }
        let id = self.trace.paths.len() as u32;
        self.trace.paths.push(p.to_string());
        self.path_map.insert(p.into(), id);
        id
    }

    #[allow(clippy::too_many_arguments)]
    fn call(
        &mut self,
        p: u32,
        name: u16,
        args: &[u8],
        end: End<'_>,
        ts: i64,
        input: u16,
        line_no: u32,
    ) {
        match end {
            End::Unfinished => {
                let call = PendingCall {
                    name,
                    args: cap(args, MAX_PENDING_ARGS).to_vec(),
                    ts,
                    line: line_no,
                    input,
                };
                if let Some(old) = self.procs[p as usize].pending.replace(call) {
                    self.flush_pending(p, old);
                }
            }
            End::Detached => self.emit(p, name, args, None, ts, 0, flag::DETACHED, input, line_no),
            End::Return(r) => {
                let out = outcome(&r);
                self.emit(p, name, args, Some(out), ts, 0, 0, input, line_no)
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn resumed(
        &mut self,
        p: u32,
        name: u16,
        args: &[u8],
        end: End<'_>,
        ts: i64,
        input: u16,
        line_no: u32,
    ) {
        let pending = match self.procs[p as usize].pending.take() {
            Some(pc) if pc.name == name => Some(pc),
            Some(other) => {
                self.flush_pending(p, other);
                None
            }
            None => None,
        };
        let args = strip_unfinished_marker(args);
        let Some(mut pc) = pending else {
            // A resumed half without its start (attached mid-call, or -ff split).
            match end {
                End::Return(r) => {
                    let out = outcome(&r);
                    self.emit(
                        p,
                        name,
                        args,
                        Some(out),
                        ts,
                        0,
                        flag::RESUMED_ONLY,
                        input,
                        line_no,
                    )
                }
                End::Detached | End::Unfinished => self.emit(
                    p,
                    name,
                    args,
                    None,
                    ts,
                    0,
                    flag::RESUMED_ONLY | flag::DETACHED,
                    input,
                    line_no,
                ),
            }
            return;
        };
        let room = MAX_PENDING_ARGS.saturating_sub(pc.args.len());
        pc.args.extend_from_slice(cap(args, room));
        match end {
            End::Unfinished => self.procs[p as usize].pending = Some(pc),
            End::Detached => self.emit(
                p,
                name,
                &pc.args,
                None,
                pc.ts,
                0,
                flag::PAIRED | flag::DETACHED,
                pc.input,
                pc.line,
            ),
            End::Return(r) => {
                let mut out = outcome(&r);
                let mut flags = flag::PAIRED;
                if out.duration.is_none() && ts != NONE && pc.ts != NONE && ts >= pc.ts {
                    out.duration = Some(ts - pc.ts);
                    flags |= flag::DUR_FROM_TS;
                }
                self.emit(
                    p,
                    name,
                    &pc.args,
                    Some(out),
                    pc.ts,
                    0,
                    flags,
                    pc.input,
                    pc.line,
                )
            }
        }
    }

    fn flush_pending(&mut self, p: u32, pc: PendingCall) {
        self.emit(
            p,
            pc.name,
            &pc.args,
            None,
            pc.ts,
            0,
            flag::UNFINISHED,
            pc.input,
            pc.line,
        );
    }

    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        p: u32,
        name: u16,
        args: &[u8],
        out: Option<Outcome<'_>>,
        ts: i64,
        _reserved: i64,
        mut flags: u16,
        input: u16,
        line_no: u32,
    ) {
        self.trace.syscall_count += 1;
        self.trace.processes[p as usize].syscalls += 1;
        let (ret, errno, dur, returned, tail) = match &out {
            Some(o) => {
                let ret = match o.value {
                    RetVal::Num(v) => {
                        flags |= flag::HAS_RET;
                        v
                    }
                    RetVal::Hex(v) => {
                        flags |= flag::HAS_RET | flag::HEX;
                        v as i64
                    }
                    _ => 0,
                };
                if o.injected {
                    flags |= flag::INJECTED;
                }
                if o.returned {
                    flags |= flag::RETURNED;
                }
                (
                    ret,
                    self.intern_errno(o.errno),
                    o.duration,
                    o.returned,
                    o.tail,
                )
            }
            None => (0, 0, None, false, &b""[..]),
        };
        if out
            .as_ref()
            .is_some_and(|o| o.duration.is_some() && flags & flag::DUR_FROM_TS == 0)
        {
            self.trace.features.durations = true;
        }
        // Statistics.
        let bump = |s: &mut Stat| {
            if returned {
                s.calls += 1;
                if errno != 0 {
                    s.errors += 1;
                }
            } else {
                s.unreturned += 1;
            }
            if let Some(d) = dur {
                s.time_ns = s.time_ns.saturating_add(d);
                s.timed += 1;
            }
        };
        if let Some(s) = self.trace.stats.get_mut(name as usize) {
            bump(s);
        }
        bump(self.proc_stats.entry((p, name)).or_default());
        // Slowest calls and gaps.
        if let Some(d) = dur {
            self.slow.push(
                d,
                SlowRec {
                    dur: d,
                    ts,
                    proc_: p,
                    name,
                    input,
                    line: line_no,
                },
            );
        }
        if ts != NONE {
            let ps = &mut self.procs[p as usize];
            if let Some(prev_end) = ps.last_end {
                let gap = ts - prev_end;
                if gap > 0 {
                    let g = GapRec {
                        gap,
                        from: prev_end,
                        proc_: p,
                        before: ps.last_name,
                        after: name,
                        input,
                        line: line_no,
                        includes_call: !ps.last_dur_known,
                    };
                    self.gaps.push(gap, g);
                }
            }
            let ps = &mut self.procs[p as usize];
            ps.last_end = Some(ts.saturating_add(dur.unwrap_or(0).max(0)));
            ps.last_name = name;
            ps.last_dur_known = dur.is_some();
        }
        // What this call means for processes and files.
        let info = self.info.get(name as usize).copied().unwrap_or_default();
        match info.kind {
            NameKind::Open => self.trace.features.open_calls += 1,
            NameKind::OpenAt => self.trace.features.openat_calls += 1,
            _ => {}
        }
        let is_open = matches!(
            info.kind,
            NameKind::Open | NameKind::OpenAt | NameKind::Creat
        );
        let is_clone = info.kind == NameKind::Clone;
        let is_self_pid = info.kind == NameKind::SelfPid;
        let file_spec = info.file;
        let ret_num = (flags & flag::HAS_RET != 0).then_some(ret);
        // An unnamed process learns its pid from its own thread id.
        if is_self_pid && self.trace.processes[p as usize].pid == 0 {
            if let Some(own) = ret_num.filter(|r| *r > 0 && *r <= u32::MAX as i64) {
                if let std::collections::hash_map::Entry::Vacant(e) = self.pid_map.entry(own as u32)
                {
                    e.insert(p);
                    self.trace.processes[p as usize].pid = own as u32;
                }
            }
        }
        if is_clone {
            if let Some(child) = ret_num.filter(|r| *r > 0 && *r <= u32::MAX as i64) {
                let thread = memchr::memmem::find(args, b"CLONE_THREAD").is_some();
                self.child(p, child as u32, thread, input, line_no, ts);
            }
        }
        let has_ann = {
            let n = tail.iter().take_while(|b| b.is_ascii_digit()).count();
            n > 0 && tail.get(n) == Some(&b'<')
        };
        if has_ann {
            self.trace.features.fd_annotations = true;
        } else if is_open && ret_num.is_some_and(|r| r >= 0) {
            self.trace.features.unannotated_fd = true;
        }
        if let Some((path_i, dirfd_i, op)) = file_spec {
            let ret_tail = if has_ann { tail } else { &b""[..] };
            self.file(
                p, name, args, path_i, dirfd_i, op, ret_num, errno, ret_tail, ts, input, line_no,
            );
        }
        // The compact record.
        if self.trace.recs.len() < self.opts.max_syscalls {
            let text_start = self.trace.arena.len() as u64;
            let (args_len, tail_len) = if self.trace.arena.len() < self.opts.max_arena_bytes {
                let a = push_lossy(&mut self.trace.arena, args, self.opts.max_arg_len);
                let t = push_lossy(&mut self.trace.arena, tail, MAX_TAIL);
                (a, t)
            } else {
                (0, 0)
            };
            self.trace.recs.push(Rec {
                ts,
                dur: dur.unwrap_or(NONE),
                ret,
                text: text_start,
                args_len,
                tail_len,
                line: line_no,
                proc_: p,
                name,
                errno,
                input,
                flags,
            });
        } else {
            self.trace.syscalls_dropped += 1;
        }
    }

    fn child(&mut self, parent: u32, child: u32, thread: bool, input: u16, line_no: u32, ts: i64) {
        self.trace.features.forks += 1;
        let c = match self.pid_map.get(&child) {
            Some(&c) if c != parent => c,
            Some(_) => return,
            None => self.new_proc(child, input, line_no, ts, false),
        };
        // The parent's pid may not be known yet (unprefixed stderr log):
        // resolved in finish().
        if self.procs[c as usize].parent.is_none() {
            self.procs[c as usize].parent = Some(parent);
        }
        self.trace.processes[c as usize].is_thread = thread;
    }

    #[allow(clippy::too_many_arguments)]
    fn file(
        &mut self,
        p: u32,
        name: u16,
        args: &[u8],
        path_i: usize,
        dirfd_i: Option<usize>,
        op: FileOp,
        ret: Option<i64>,
        errno: u16,
        ret_tail: &[u8],
        ts: i64,
        input: u16,
        line_no: u32,
    ) {
        let mut path_arg = None;
        let mut dirfd_arg = None;
        let mut flags_arg: &[u8] = b"";
        for (i, a) in text::split_args(args).enumerate() {
            if Some(i) == dirfd_i {
                dirfd_arg = Some(a);
            }
            if i == path_i {
                path_arg = Some(a);
            }
            if i == path_i + 1 {
                flags_arg = a;
                break;
            }
        }
        let access = if op == FileOp::Open {
            OpenMode::of_open(self.trace.name(name), flags_arg)
        } else {
            OpenMode::default()
        };
        let Some((path, _)) = path_arg.and_then(text::unquote_cow) else {
            return;
        };
        if path.is_empty() {
            return;
        }
        let mut full = path;
        if full.first() != Some(&b'/') {
            let ret_ann = (!ret_tail.is_empty())
                .then(|| text::annotation(ret_tail))
                .flatten();
            let base = match ret_ann {
                Some(a) if op == FileOp::Open && a.first() == Some(&b'/') => {
                    full = a.into();
                    None
                }
                _ => dirfd_arg.and_then(text::annotation),
            };
            if let Some(mut dir) = base.filter(|d| d.first() == Some(&b'/')) {
                if dir.last() != Some(&b'/') {
                    dir.push(b'/');
                }
                dir.extend_from_slice(&full);
                full = dir.into();
            }
        }
        if op == FileOp::Exec {
            self.exec(p, args, path_i, &full, ret, errno, ts, input, line_no);
        }
        if self.trace.files.len() >= self.opts.max_files {
            self.trace.files_dropped += 1;
            return;
        }
        let path = match std::str::from_utf8(&full) {
            Ok(p) if p.len() <= MAX_PATH => self.intern_path(p),
            _ => {
                let p = text::lossy(&full, MAX_PATH);
                self.intern_path(&p)
            }
        };
        self.trace.files.push(FileRec {
            path,
            name,
            errno,
            op,
            access,
            proc_: p,
            ret,
            ts,
            line: line_no,
            input,
        });
    }

    #[allow(clippy::too_many_arguments)]
    fn exec(
        &mut self,
        p: u32,
        args: &[u8],
        path_i: usize,
        path: &[u8],
        ret: Option<i64>,
        errno: u16,
        ts: i64,
        input: u16,
        line_no: u32,
    ) {
        let argv_arg = text::split_args(args).nth(path_i + 1).unwrap_or(b"");
        let (items, mut truncated) = text::string_array(argv_arg, MAX_ARGV).unwrap_or_default();
        let mut argv = Vec::new();
        let mut bytes = 0;
        for it in items {
            bytes += it.len();
            if bytes > MAX_ARGV_BYTES {
                truncated = true;
                break;
            }
            argv.push(text::lossy(&it, MAX_ARGV_BYTES));
        }
        let error = if errno != 0 {
            self.trace.errno_name(errno).map(str::to_string)
        } else if ret.is_some_and(|r| r < 0) {
            Some("error".to_string())
        } else {
            None
        };
        let proc_ = &mut self.trace.processes[p as usize];
        if proc_.execs.len() >= MAX_EXECS {
            proc_.execs_dropped += 1;
            return;
        }
        proc_.execs.push(Exec {
            ts_ns: opt(ts),
            path: text::lossy(path, MAX_PATH),
            argv,
            argv_truncated: truncated,
            error,
            input,
            line: line_no,
        });
    }

    /// Ends the inputs: flushes cut lines, unfinished calls and open tables.
    pub fn finish(mut self) -> Trace {
        for i in 0..self.inputs.len() {
            if let Some(p) = self.inputs[i].pending.take() {
                self.unparsed(i as u16, p.line, &p.bytes);
            }
            self.finish_table(i as u16);
        }
        for p in 0..self.procs.len() {
            if let Some(pc) = self.procs[p].pending.take() {
                self.flush_pending(p as u32, pc);
            }
        }
        for i in 0..self.procs.len() {
            if let Some(par) = self.procs[i].parent {
                // 0 names the unnamed process (a log without pids).
                self.trace.processes[i].parent = Some(self.trace.processes[par as usize].pid);
            }
            if self.procs[i].from_clone && !self.procs[i].seen {
                self.trace.processes[i].untraced = true;
            }
        }
        let f = &mut self.trace.features;
        f.untraced_children = self
            .procs
            .iter()
            .filter(|p| p.from_clone && !p.seen)
            .count() as u64;
        f.time_of_day_seconds_only = self.tod_seen && !self.tod_fraction_seen;
        let mut ps: Vec<(u32, u16, Stat)> = self
            .proc_stats
            .into_iter()
            .map(|((p, n), s)| (p, n, s))
            .collect();
        ps.sort_by_key(|(p, n, _)| (*p, *n));
        self.trace.proc_stats = ps;
        self.trace.slow = self.slow.into_sorted();
        self.trace.gaps = self.gaps.into_sorted();
        self.trace
    }
}

fn opt(ts: i64) -> Option<i64> {
    (ts != NONE).then_some(ts)
}

fn outcome<'a>(r: &line::Ret<'a>) -> Outcome<'a> {
    Outcome {
        value: r.value,
        errno: r.errno,
        tail: r.tail,
        duration: r.duration,
        injected: r.injected,
        returned: r.returned(),
    }
}

fn strip_unfinished_marker(args: &[u8]) -> &[u8] {
    let t = text::trim(args);
    t.strip_prefix(b"<unfinished ...>").map_or(args, text::trim)
}

fn cap(s: &[u8], max: usize) -> &[u8] {
    &s[..s.len().min(max)]
}

/// Appends at most `max` bytes of `s` (lossy UTF-8), returns the length added.
fn push_lossy(arena: &mut String, s: &[u8], max: usize) -> u32 {
    let before = arena.len();
    let s = cap(s, max);
    match std::str::from_utf8(s) {
        Ok(v) => arena.push_str(v),
        Err(_) => arena.push_str(&text::lossy(s, max)),
    }
    (arena.len() - before) as u32
}

/// Past `u16::MAX - 1` distinct names, everything maps to one `(other)`.
fn intern_overflow(list: &mut Vec<String>, map: &mut FxHashMap<Box<[u8]>, u16>) -> u16 {
    if let Some(&id) = map.get(&b"(other)"[..]) {
        return id;
    }
    let id = list.len() as u16;
    list.push("(other)".to_string());
    map.insert(b"(other)"[..].into(), id);
    id
}

#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum NameKind {
    #[default]
    Plain,
    Open,
    OpenAt,
    Creat,
    Clone,
    /// Returns the caller's own pid or tid.
    SelfPid,
}

/// Computed once per distinct syscall name, not per call.
#[derive(Clone, Copy, Default)]
struct NameInfo {
    kind: NameKind,
    file: Option<(usize, Option<usize>, FileOp)>,
}

impl NameInfo {
    fn of(n: &str) -> Self {
        let kind = match n {
            "open" => NameKind::Open,
            "openat" | "openat2" => NameKind::OpenAt,
            "creat" => NameKind::Creat,
            "clone" | "clone3" | "fork" | "vfork" => NameKind::Clone,
            "set_tid_address" | "gettid" | "getpid" => NameKind::SelfPid,
            _ => NameKind::Plain,
        };
        NameInfo {
            kind,
            file: file_arg(n),
        }
    }
}

/// `prefix.PID` as `strace -ff -o prefix` names its files.
pub(crate) fn pid_from_file_name(name: &str) -> Option<u32> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let (_, ext) = base.rsplit_once('.')?;
    if ext.len() < 2 || !ext.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    ext.parse().ok().filter(|p| *p > 0)
}

/// For syscalls that take a path: (index of the path argument, index of
/// the dirfd argument, what the call does).
pub(crate) fn file_arg(name: &str) -> Option<(usize, Option<usize>, FileOp)> {
    use FileOp::*;
    Some(match name {
        "open" | "creat" => (0, None, Open),
        "openat" | "openat2" | "name_to_handle_at" => (1, Some(0), Open),
        "stat" | "lstat" | "stat64" | "lstat64" | "statfs" | "statfs64" | "readlink"
        | "getxattr" | "lgetxattr" | "listxattr" | "llistxattr" => (0, None, Stat),
        "newfstatat" | "fstatat64" | "statx" | "readlinkat" => (1, Some(0), Stat),
        "access" => (0, None, Access),
        "faccessat" | "faccessat2" => (1, Some(0), Access),
        "execve" => (0, None, Exec),
        "execveat" => (1, Some(0), Exec),
        "chdir" | "chroot" | "mkdir" | "rmdir" | "unlink" | "rename" | "link" | "truncate"
        | "chmod" | "chown" | "lchown" | "utime" | "utimes" | "mknod" | "setxattr"
        | "lsetxattr" | "removexattr" | "lremovexattr" | "uselib" | "swapon" | "swapoff"
        | "acct" => (0, None, Other),
        "mkdirat" | "unlinkat" | "renameat" | "renameat2" | "linkat" | "fchmodat" | "fchmodat2"
        | "fchownat" | "utimensat" | "futimesat" | "mknodat" => (1, Some(0), Other),
        "symlink" | "inotify_add_watch" => (1, None, Other),
        "symlinkat" => (2, Some(1), Other),
        _ => return None,
    })
}

/// Keeps the `k` entries with the largest keys (ties: the earliest).
pub(crate) struct TopK<T> {
    k: usize,
    seq: u64,
    heap: BinaryHeap<Reverse<Keyed<T>>>,
}

struct Keyed<T> {
    key: i64,
    seq: u64,
    item: T,
}

impl<T> PartialEq for Keyed<T> {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl<T> Eq for Keyed<T> {}
impl<T> PartialOrd for Keyed<T> {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Keyed<T> {
    fn cmp(&self, o: &Self) -> Ordering {
        self.key.cmp(&o.key).then(o.seq.cmp(&self.seq))
    }
}

impl<T> TopK<T> {
    pub fn new(k: usize) -> Self {
        TopK {
            k,
            seq: 0,
            heap: BinaryHeap::new(),
        }
    }

    pub fn push(&mut self, key: i64, item: T) {
        if self.k == 0 {
            return;
        }
        self.seq += 1;
        if self.heap.len() >= self.k {
            match self.heap.peek() {
                Some(Reverse(min)) if key > min.key => {
                    self.heap.pop();
                }
                _ => return,
            }
        }
        self.heap.push(Reverse(Keyed {
            key,
            seq: self.seq,
            item,
        }));
    }

    /// Largest first.
    pub fn into_sorted(self) -> Vec<T> {
        let mut v: Vec<Keyed<T>> = self.heap.into_iter().map(|Reverse(k)| k).collect();
        v.sort_by(|a, b| b.cmp(a));
        v.into_iter().map(|k| k.item).collect()
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn top_k_keeps_largest_earliest_first() {
        let mut t = TopK::new(2);
        for (k, v) in [(1, "a"), (5, "b"), (3, "c"), (5, "d"), (0, "e")] {
            t.push(k, v);
        }
        assert_eq!(t.into_sorted(), vec!["b", "d"]);
    }

    #[test]
    fn ff_file_names() {
        assert_eq!(pid_from_file_name("/tmp/ff/out.25887"), Some(25887));
        assert_eq!(pid_from_file_name("trace.txt"), None);
        assert_eq!(pid_from_file_name("trace.1"), None);
    }
}
