//! The summary page: counts, capture hints, the `strace -c`-like table
//! (overall and per process), messages and unparsed lines.

use super::*;

// ---------------------------------------------------------------- summary

pub struct SumRow {
    pub syscall: String,
    pub meaning: &'static str,
    pub percent: String,
    pub seconds: String,
    pub usecs: String,
    pub calls: u64,
    pub errors: u64,
    pub unreturned: u64,
    pub href: String,
    pub errors_href: String,
}

fn sum_rows(id: &StraceId, rows: &[SummaryRow], pid: Option<u32>) -> Vec<SumRow> {
    rows.iter()
        .map(|r| {
            let f = SyscallFilter {
                pids: pid.into_iter().collect(),
                names: vec![r.syscall.clone()],
                ..SyscallFilter::default()
            };
            let failed = SyscallFilter {
                failed: true,
                ..f.clone()
            };
            SumRow {
                meaning: r.meaning.unwrap_or(""),
                percent: r.percent_time.map_or("-".into(), |p| format!("{p:.2}")),
                seconds: secs6(r.total_time),
                usecs: r
                    .avg_time
                    .map_or("-".into(), |a| (a.as_nanos() / 1000).to_string()),
                calls: r.calls,
                errors: r.errors,
                unreturned: r.unreturned,
                href: url(&format!("/s/{id}/syscalls"), &f.pairs()),
                errors_href: url(&format!("/s/{id}/syscalls"), &failed.pairs()),
                syscall: r.syscall.clone(),
            }
        })
        .collect()
}

pub struct ProcSum {
    pub pid: u32,
    pub argv: String,
    pub calls: u64,
    pub errors: u64,
    pub time: String,
    pub rows: Vec<SumRow>,
}

pub struct UnparsedRow {
    pub file: String,
    pub line: u32,
    pub text: String,
}

/// The summary of a parsed upload.
pub struct SummaryView {
    pub cards: Vec<(String, String, String)>,
    pub time_base: &'static str,
    pub span: String,
    pub hints: Vec<Hint>,
    /// The better capture commands the hints give, once each.
    pub commands: Vec<String>,
    pub rows: Vec<SumRow>,
    pub total_calls: u64,
    pub total_errors: u64,
    pub total_seconds: String,
    pub procs: Vec<ProcSum>,
    pub unparsed: Vec<UnparsedRow>,
    pub unparsed_count: u64,
    pub notes: Vec<String>,
    pub tables: usize,
    pub dropped: u64,
}

/// Most unparsed lines listed on the page (all are in the JSON twin).
const UNPARSED_SHOWN: usize = 200;

fn summary_view(id: &StraceId, t: &Trace) -> SummaryView {
    let summary = t.summary();
    let files = t.files(&Default::default());
    let config = files.iter().filter(|f| f.config).count();
    let failed: u64 = summary.iter().map(|r| r.errors).sum();
    let base = format!("/s/{id}");
    let span = t.span().map_or(String::new(), |(s, e)| {
        format!(
            "{} to {} ({})",
            clock(Some(s), t.time_base),
            clock(Some(e), t.time_base),
            fmt::span_text(e.since(s))
        )
    });
    let argv_of = |pid: u32| {
        t.processes
            .iter()
            .find(|p| p.pid == pid)
            .and_then(|p| p.argv())
            .map(|a| a.join(" "))
            .unwrap_or_default()
    };
    SummaryView {
        cards: vec![
            (
                "system calls".into(),
                t.syscall_count.to_string(),
                format!("{base}/syscalls"),
            ),
            (
                "failed".into(),
                failed.to_string(),
                format!("{base}/syscalls?failed=1"),
            ),
            (
                "processes".into(),
                t.processes.len().to_string(),
                format!("{base}/processes"),
            ),
            (
                "files touched".into(),
                files.len().to_string(),
                format!("{base}/files"),
            ),
            (
                "config files".into(),
                config.to_string(),
                format!("{base}/files?config=1"),
            ),
            if t.features.durations {
                (
                    "time in syscalls".into(),
                    fmt::span_text(t.total_syscall_time()),
                    format!("{base}/pauses"),
                )
            } else {
                (
                    "time in syscalls (needs -T)".into(),
                    "–".into(),
                    format!("{base}/pauses"),
                )
            },
        ],
        time_base: time_base_text(t.time_base),
        span,
        hints: t.hints.clone(),
        commands: t.hints.iter().fold(Vec::new(), |mut v, h| {
            if !v.contains(&h.command) {
                v.push(h.command.clone());
            }
            v
        }),
        total_calls: summary.iter().map(|r| r.calls).sum(),
        total_errors: failed,
        total_seconds: secs6(Some(t.total_syscall_time())),
        rows: sum_rows(id, &summary, None),
        procs: t
            .summary_by_process()
            .into_iter()
            .map(|p| ProcSum {
                argv: argv_of(p.pid),
                pid: p.pid,
                calls: p.calls,
                errors: p.errors,
                time: dur(p.total_time),
                rows: sum_rows(id, &p.rows, Some(p.pid)),
            })
            .collect(),
        unparsed: t
            .unparsed
            .iter()
            .take(UNPARSED_SHOWN)
            .map(|u| UnparsedRow {
                file: t
                    .inputs
                    .get(u.input as usize)
                    .map_or(String::new(), |i| i.name.clone()),
                line: u.line,
                text: u.text.clone(),
            })
            .collect(),
        unparsed_count: t.unparsed_count,
        notes: t.notes.iter().take(100).cloned().collect(),
        tables: t.tables.len(),
        dropped: t.syscalls_dropped,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "strace_summary.html")]
pub struct SummaryPage {
    head: StraceHead,
    s: StraceStatus,
    percent: String,
    busy: bool,
    view: Option<SummaryView>,
}

/// `GET /s/ID`: status while parsing (or why it failed), then the summary.
pub async fn summary(
    State(state): State<AppState>,
    _: Checked<NoParams>,
    id: StraceId,
) -> PageResult<SummaryPage> {
    let meta = blocking(&state, move |s| s.strace(&id)).await?;
    let s = with_progress(&state, meta);
    let busy = matches!(s.meta.status, Status::Queued | Status::Analyzing);
    let share = format!("/s/{id}");
    let json = format!("/api/straces/{id}/summary");
    let (head, view) = if s.meta.status == Status::Done {
        let (share, json) = (share.clone(), json.clone());
        with_trace(&state, id, move |t| {
            Ok((
                trace_head(&id, t, "summary", share, json),
                Some(summary_view(&id, t)),
            ))
        })
        .await?
    } else {
        (
            Head::with(
                &id,
                &s.meta.name,
                "summary",
                format!("/api/straces/{id}"),
                TraceFacts {
                    share,
                    files: s.meta.files.iter().map(|f| f.name.clone()).collect(),
                    syscalls: 0,
                    processes: 0,
                    ready: false,
                },
            ),
            None,
        )
    };
    Ok(SummaryPage {
        percent: format!("{:.0}", s.progress * 100.0),
        busy,
        head,
        s,
        view,
    })
}
