//! `tracedeck strace FILE... [--json]`: parse one or several strace logs
//! (several are merged by time, as `strace -ff` writes them) and print the
//! summary, processes, capture hints and slowest calls, or the JSON object
//! of the README's "strace logs" section.

use std::fs::File;
use std::io::{BufReader, Write};
use std::path::PathBuf;

use anyhow::Context;
use serde_json::{json, Value};
use tracedeck::strace::{
    self, group_by_path, FileQuery, Page, ParseOptions, Query, SyscallView, Trace,
};

const EXAMPLES: &str = "\
Examples:
  strace -f -tt -T -o out.txt ./app && tracedeck strace out.txt
  tracedeck strace out.txt --pid 4242 --failed          the calls of one process that failed
  tracedeck strace trace.* --syscall openat,connect --json";

#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct Args {
    /// strace output files (`-o out.txt`, or every `prefix.PID` of `-ff`)
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Print one JSON object instead of tables
    #[arg(long)]
    json: bool,
    /// How many of the slowest calls and pauses to list
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// List the calls of these processes (comma list) instead of the summary
    #[arg(long, value_name = "PID", value_delimiter = ',')]
    pid: Vec<u32>,
    /// List the calls of these syscalls (comma list: openat,connect) instead of the summary
    #[arg(long, value_name = "NAME", value_delimiter = ',')]
    syscall: Vec<String>,
    /// List the calls that returned an error instead of the summary
    #[arg(long)]
    failed: bool,
    /// With --pid, --syscall or --failed: calls to list (0 = all)
    #[arg(long, default_value_t = 100)]
    limit: usize,
}

impl Args {
    /// The syscall table's query (the web's filters), when a filter is given.
    fn query(&self) -> Option<Query> {
        let filtered = !self.pid.is_empty() || !self.syscall.is_empty() || self.failed;
        filtered.then(|| Query {
            pids: self.pid.clone(),
            names: self.syscall.clone(),
            failed: self.failed,
            limit: (self.limit > 0).then_some(self.limit),
            ..Query::default()
        })
    }
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let mut inputs = Vec::new();
    for path in &args.files {
        let f = File::open(path).with_context(|| format!("{}: cannot open", path.display()))?;
        inputs.push((
            path.display().to_string(),
            BufReader::with_capacity(256 << 10, f),
        ));
    }
    let query = args.query();
    // Without a filter the CLI lists no individual calls: keep none, so
    // memory stays small whatever the size of the log.
    let opts = ParseOptions {
        max_syscalls: if query.is_some() {
            ParseOptions::default().max_syscalls
        } else {
            0
        },
        ..ParseOptions::default()
    };
    let trace = strace::parse_files_with(inputs, &opts)?;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    if let Some(query) = query {
        if trace.syscalls_dropped > 0 {
            eprintln!(
                "tracedeck: warning: only the first {} calls were kept; {} later ones are not searched",
                opts.max_syscalls, trace.syscalls_dropped
            );
        }
        let page = trace.syscalls(&query);
        if args.json {
            serde_json::to_writer_pretty(&mut out, &page)?;
            writeln!(out)?;
        } else {
            print_calls(&mut out, &trace, &page)?;
        }
    } else if args.json {
        serde_json::to_writer_pretty(&mut out, &to_json(&trace, args.top))?;
        writeln!(out)?;
    } else {
        print_human(&mut out, &trace, args.top)?;
    }
    Ok(())
}

fn secs(ns: Option<i64>) -> Value {
    ns.map_or(Value::Null, |n| json!(n as f64 / 1e9))
}

/// The `strace --json` object (README, "strace logs"), plus extra keys.
pub fn to_json(t: &Trace, top: usize) -> Value {
    let processes: Vec<Value> = t
        .processes
        .iter()
        .map(|p| {
            json!({
                "pid": p.pid,
                "parent": p.parent,
                "argv": p.argv().map(<[String]>::to_vec).unwrap_or_default(),
                "exit_code": p.exit_code,
                "killed_by": p.killed_by,
                "core_dumped": p.core_dumped,
                "is_thread": p.is_thread,
                "untraced": p.untraced,
                "detached": p.detached,
                "superseded": p.superseded,
                "execs": p.execs.iter().map(|e| json!({
                    "path": e.path, "argv": e.argv, "error": e.error,
                    "ts": secs(e.ts_ns), "line": e.line,
                })).collect::<Vec<_>>(),
                "start": secs(p.start_ns),
                "end": secs(p.end_ns),
                "syscalls": p.syscalls,
                "signals": p.signals,
            })
        })
        .collect();
    let unparsed: Vec<Value> = t
        .unparsed
        .iter()
        .map(|u| json!({"file": t.inputs.get(u.input as usize).map(|i| i.name.as_str()), "line": u.line, "text": u.text}))
        .collect();
    let files = t.files(&FileQuery::default());
    json!({
        "syscalls": t.syscall_count,
        "pids": t.pids(),
        "processes": processes,
        "summary": t.summary(),
        "summary_by_process": t.summary_by_process(),
        // Grouped by path as the files page and its JSON (`paths`) show
        // them; `files` keeps the accesses one by one (INTERFACES.md).
        "file_paths": group_by_path(files.clone()),
        "files": files,
        "slowest": t.slowest(top),
        "pauses": t.pauses(top),
        "hints": t.hints,
        "tables": t.tables,
        "signals": t.signals,
        "time_base": t.time_base,
        "inputs": t.inputs,
        "notes": t.notes,
        "unparsed_count": t.unparsed_count,
        "unparsed": unparsed,
    })
}

fn dur(s: Option<tracedeck::Span>) -> String {
    s.map_or_else(|| "-".to_string(), |s| format!("{:.6}", s.as_secs_f64()))
}

/// The calls a filter selected, in log order, one a line as strace wrote them.
fn print_calls(out: &mut impl Write, t: &Trace, page: &Page<SyscallView>) -> anyhow::Result<()> {
    let names: Vec<&str> = t.inputs.iter().map(|i| i.name.as_str()).collect();
    writeln!(
        out,
        "{}: {} of {} syscalls match",
        names.join(", "),
        page.total,
        t.syscall_count
    )?;
    for c in &page.items {
        let ts = c.ts.map_or_else(
            || "-".to_string(),
            |ts| format!("{:.6}", ts.as_nanos() as f64 / 1e9),
        );
        let took = c
            .duration
            .map_or_else(String::new, |d| format!(" <{:.6}>", d.as_secs_f64()));
        writeln!(
            out,
            "{:>7} {ts:>17} {}({}) = {}{took}  [{}:{}]",
            c.pid, c.syscall, c.args, c.result, c.file, c.line
        )?;
    }
    if page.items.len() < page.total {
        writeln!(
            out,
            "... {} more (use --limit 0 for all)",
            page.total - page.items.len()
        )?;
    }
    Ok(())
}

fn print_human(out: &mut impl Write, t: &Trace, top: usize) -> anyhow::Result<()> {
    let names: Vec<&str> = t.inputs.iter().map(|i| i.name.as_str()).collect();
    writeln!(
        out,
        "{}: {} syscalls, {} processes, time base {:?}",
        names.join(", "),
        t.syscall_count,
        t.processes.len(),
        t.time_base
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "{:>6} {:>11} {:>11} {:>9} {:>9}  {:<20} meaning",
        "% time", "seconds", "usecs/call", "calls", "errors", "syscall"
    )?;
    let rows = t.summary();
    let (mut calls, mut errors) = (0, 0);
    for r in &rows {
        calls += r.calls;
        errors += r.errors;
        writeln!(
            out,
            "{:>6} {:>11} {:>11} {:>9} {:>9}  {:<20} {}",
            r.percent_time
                .map_or("-".to_string(), |p| format!("{p:.2}")),
            dur(r.total_time),
            r.avg_time
                .map_or("-".to_string(), |a| format!("{}", a.as_nanos() / 1000)),
            r.calls,
            if r.errors > 0 {
                r.errors.to_string()
            } else {
                String::new()
            },
            r.syscall,
            r.meaning.unwrap_or("")
        )?;
    }
    writeln!(
        out,
        "{:>6} {:>11} {:>11} {:>9} {:>9}  total",
        "100.00",
        dur(Some(t.total_syscall_time())),
        "",
        calls,
        errors
    )?;
    writeln!(out)?;
    writeln!(out, "processes:")?;
    for n in t.process_tree() {
        let end = match (&n.exit_code, &n.killed_by) {
            (_, Some(sig)) => format!("killed by {sig}"),
            (Some(c), None) => format!("exit {c}"),
            _ if n.untraced => "not traced".to_string(),
            _ if n.superseded => "became the execve caller".to_string(),
            _ if n.detached => "detached".to_string(),
            (None, None) => "no exit seen".to_string(),
        };
        writeln!(
            out,
            "  {:indent$}{}{} {} [{}] {} syscalls",
            "",
            if n.pid == 0 {
                "?".to_string()
            } else {
                n.pid.to_string()
            },
            if n.is_thread { " (thread)" } else { "" },
            n.argv.join(" "),
            end,
            n.syscalls,
            indent = n.depth * 2
        )?;
    }
    let config = t.files(&FileQuery {
        config_only: true,
        ..FileQuery::default()
    });
    if !config.is_empty() {
        writeln!(out)?;
        writeln!(out, "configuration files:")?;
        for f in config.iter().take(50) {
            let res = f
                .error
                .clone()
                .unwrap_or_else(|| f.result.map_or("?".into(), |r| r.to_string()));
            writeln!(
                out,
                "  {:>7} {:<12} {} = {}  (line {})",
                f.pid, f.syscall, f.path, res, f.line
            )?;
        }
    }
    if !t.hints.is_empty() {
        writeln!(out)?;
        writeln!(out, "capture hints:")?;
        for h in &t.hints {
            writeln!(out, "  - {}", h.message)?;
        }
        writeln!(out, "  better: {}", t.hints[0].command)?;
    }
    let slow = t.slowest(top);
    if !slow.is_empty() {
        writeln!(out)?;
        writeln!(out, "slowest calls:")?;
        for s in slow {
            writeln!(
                out,
                "  {:>10.6}s  pid {:<7} {:<16} {}:{}",
                s.duration.as_secs_f64(),
                s.pid,
                s.syscall,
                s.file,
                s.line
            )?;
        }
    }
    if t.unparsed_count > 0 {
        writeln!(out)?;
        writeln!(out, "{} unparsed lines:", t.unparsed_count)?;
        for u in t.unparsed.iter().take(10) {
            let name = t
                .inputs
                .get(u.input as usize)
                .map_or("?", |i| i.name.as_str());
            writeln!(out, "  {name}:{}: {}", u.line, u.text)?;
        }
    }
    Ok(())
}
