//! The HTML pages of strace uploads: thin handlers over the same views as
//! the JSON API ([`super::api`]), rendered with askama (auto-escaped).
//! Every link a page holds (next page, sort, filter chip, "go to line") is
//! computed here from the page's own filter, so URLs stay share links.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

use super::api::{
    check_pid, file_page, input_index, parse_timeline, pause_list, process_rows, syscall_page,
};
use super::params::{
    self, url, FileFilter, PauseFilter, PauseKindFilter, SyscallFilter, FILE_PARAMS, PAUSE_PARAMS,
    SYSCALL_PARAMS,
};
use super::svg::{self, Chart, Lane};
use super::{blocking, strace_id, upload, with_progress, with_trace, StraceStatus};
use crate::store::{CaptureId, Order, Status};
use crate::strace::{meaning, Hint, PauseKind, SortKey, SummaryRow, TimeBase, Trace};
use crate::time::{Span, Timestamp};
use crate::web::error::Error;
use crate::web::pages::PageError;
use crate::web::params::Params;
use crate::web::AppState;

type PageResult<T> = Result<T, PageError>;

/// Longest argument text shown in a table cell (the rest is in its title).
const ARGS_SHOWN: usize = 160;

// ---------------------------------------------------------------- formatting

/// A time as the log counts it: time of day for `-t`/`-tt`/`-ttt` (UTC for
/// `-ttt`), seconds from the start for `-r`.
fn clock(ts: Option<Timestamp>, base: TimeBase) -> String {
    let Some(ts) = ts else {
        return String::new();
    };
    let ns = ts.as_nanos();
    match base {
        TimeBase::Relative | TimeBase::None => format!("+{:.6}", ns as f64 / 1e9),
        TimeBase::TimeOfDay | TimeBase::Epoch => {
            let day_ns = 86_400 * 1_000_000_000i64;
            let (days, rest) = (ns.div_euclid(day_ns), ns.rem_euclid(day_ns));
            let secs = rest / 1_000_000_000;
            let us = rest % 1_000_000_000 / 1000;
            let text = format!(
                "{:02}:{:02}:{:02}.{us:06}",
                secs / 3600,
                secs / 60 % 60,
                secs % 60
            );
            if base == TimeBase::TimeOfDay && days > 0 {
                format!("+{days}d {text}")
            } else {
                text
            }
        }
    }
}

fn dur(d: Option<Span>) -> String {
    d.map_or_else(String::new, |d| d.to_string())
}

fn secs6(d: Option<Span>) -> String {
    d.map_or_else(|| "-".into(), |d| format!("{:.6}", d.as_secs_f64()))
}

fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut s: String = text.chars().take(max).collect();
    s.push('…');
    s
}

fn time_base_text(b: TimeBase) -> &'static str {
    match b {
        TimeBase::None => "no timestamps",
        TimeBase::TimeOfDay => "time of day (-t/-tt)",
        TimeBase::Epoch => "seconds since the epoch (-ttt), shown as UTC",
        TimeBase::Relative => "relative (-r), from the first line",
    }
}

/// The link to a call's line in the syscall table, in the context of its
/// process (the page that holds it, marked).
fn line_href(id: &CaptureId, pid: Option<u32>, input: u16, line: u32) -> String {
    let f = SyscallFilter {
        pids: pid.into_iter().collect(),
        at: Some((input, line)),
        ..SyscallFilter::default()
    };
    format!(
        "{}#c{input}-{line}",
        url(&format!("/s/{id}/syscalls"), &f.pairs())
    )
}

/// A filter form sends every field, empty or not (`?pid=&syscall=openat`):
/// such a request is redirected to the short form of the same filter, so
/// the address bar always holds a clean share link.
fn canonical(path: &str, raw: Option<&str>, pairs: &[(&str, String)]) -> Option<Response> {
    let raw = raw.unwrap_or("");
    let want = url(path, pairs);
    let have = if raw.is_empty() {
        path.to_string()
    } else {
        format!("{path}?{raw}")
    };
    (have != want).then(|| Redirect::to(&want).into_response())
}

// ---------------------------------------------------------------- the frame

/// What every page of one upload shows above its content.
pub struct Head {
    pub id: String,
    pub name: String,
    /// The active tab.
    pub tab: &'static str,
    /// This page's address (its share link).
    pub share: String,
    /// Its JSON twin.
    pub json: String,
    pub files: Vec<String>,
    pub syscalls: u64,
    pub processes: usize,
    /// Parsed: the view tabs lead somewhere.
    pub ready: bool,
}

impl Head {
    fn new(id: &CaptureId, t: &Trace, tab: &'static str, share: String, json: String) -> Head {
        Head {
            id: id.to_string(),
            name: match t.inputs.as_slice() {
                [one] => one.name.clone(),
                [first, rest @ ..] => format!("{} +{}", first.name, rest.len()),
                [] => "strace".into(),
            },
            tab,
            share,
            json,
            files: t.inputs.iter().map(|i| i.name.clone()).collect(),
            syscalls: t.syscall_count,
            processes: t.processes.len(),
            ready: true,
        }
    }
}

/// Previous / next links of a paged table.
pub struct Pager {
    pub from: usize,
    pub to: usize,
    pub total: usize,
    pub prev: Option<String>,
    pub next: Option<String>,
}

fn pager(
    total: usize,
    offset: usize,
    shown: usize,
    limit: usize,
    link: impl Fn(u64) -> String,
) -> Pager {
    Pager {
        from: if shown == 0 { 0 } else { offset + 1 },
        to: offset + shown,
        total,
        prev: (offset > 0).then(|| link(offset.saturating_sub(limit) as u64)),
        next: (offset + shown < total).then(|| link((offset + limit) as u64)),
    }
}

/// A filter chip: a link that is on or off.
pub struct Chip {
    pub label: String,
    pub href: String,
    pub on: bool,
}

// ---------------------------------------------------------------- list and upload

#[derive(Template, WebTemplate)]
#[template(path = "strace_list.html")]
pub struct ListPage {
    straces: Vec<(StraceStatus, String, String)>,
    max_upload_mib: u64,
}

/// `GET /straces`: the upload form and the latest uploads.
pub async fn list(State(state): State<AppState>, RawQuery(q): RawQuery) -> PageResult<ListPage> {
    Params::parse(q.as_deref(), &[]).map_err(Error::from)?;
    let page = blocking(&state, |s| s.straces(100, 0)).await?;
    Ok(ListPage {
        straces: page
            .items
            .into_iter()
            .map(|m| {
                let count = |key: &str| {
                    m.summary
                        .as_ref()
                        .and_then(|s| s[key].as_u64())
                        .map_or(String::new(), |n| n.to_string())
                };
                let (calls, procs) = (count("syscalls"), count("processes"));
                (with_progress(&state, m), calls, procs)
            })
            .collect(),
        max_upload_mib: state.max_upload >> 20,
    })
}

/// `POST /straces`: the form's upload; on to the new upload's page.
pub async fn upload(State(state): State<AppState>, req: Request) -> PageResult<Redirect> {
    let meta = upload::receive(&state, None, req).await?;
    state.straces.jobs.submit(meta.id);
    Ok(Redirect::to(&format!("/s/{}", meta.id)))
}

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

fn sum_rows(id: &CaptureId, rows: &[SummaryRow], pid: Option<u32>) -> Vec<SumRow> {
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

fn summary_view(id: &CaptureId, t: &Trace) -> SummaryView {
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
            e.since(s)
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
                    t.total_syscall_time().to_string(),
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
    head: Head,
    s: StraceStatus,
    percent: String,
    busy: bool,
    view: Option<SummaryView>,
}

/// `GET /s/ID`: status while parsing (or why it failed), then the summary.
pub async fn summary(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<SummaryPage> {
    Params::parse(q.as_deref(), &[]).map_err(Error::from)?;
    let id = strace_id(&id)?;
    let meta = blocking(&state, move |s| s.strace(&id)).await?;
    let s = with_progress(&state, meta);
    let busy = matches!(s.meta.status, Status::Queued | Status::Analyzing);
    let share = format!("/s/{id}");
    let json = format!("/api/straces/{id}/summary");
    let (head, view) = if s.meta.status == Status::Done {
        let (share, json) = (share.clone(), json.clone());
        with_trace(&state, id, move |t| {
            Ok((
                Head::new(&id, t, "summary", share, json),
                Some(summary_view(&id, t)),
            ))
        })
        .await?
    } else {
        (
            Head {
                id: id.to_string(),
                name: s.meta.name.clone(),
                tab: "summary",
                share,
                json: format!("/api/straces/{id}"),
                files: s.meta.files.iter().map(|f| f.name.clone()).collect(),
                syscalls: 0,
                processes: 0,
                ready: false,
            },
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

// ---------------------------------------------------------------- syscalls

pub struct CallRow {
    pub anchor: String,
    pub focus: bool,
    pub file: String,
    pub line: u32,
    pub time: String,
    pub pid: u32,
    pub pid_href: String,
    pub syscall: String,
    pub meaning: &'static str,
    pub name_href: String,
    pub args: String,
    pub args_full: String,
    pub result: String,
    pub errno: String,
    pub errno_meaning: &'static str,
    pub duration: String,
    pub failed: bool,
    pub unfinished: bool,
}

/// The values the filter form shows.
pub struct SyscallForm {
    pub pid: String,
    pub syscall: String,
    pub contains: String,
    pub errno: String,
    pub min_duration: String,
    pub failed: bool,
    pub sort: &'static str,
    pub order: &'static str,
    pub limit: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "strace_syscalls.html")]
pub struct SyscallsPage {
    head: Head,
    form: SyscallForm,
    rows: Vec<CallRow>,
    pager: Pager,
    chips: Vec<Chip>,
    sort_time: String,
    sort_duration: String,
    sort_mark_time: &'static str,
    sort_mark_duration: &'static str,
    missing_at: bool,
    unknown_names: Vec<String>,
    dropped: u64,
    multi_input: bool,
}

/// `GET /s/ID/syscalls`: the filterable, sortable, paged syscall table.
pub async fn syscalls(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<Response> {
    let id = strace_id(&id)?;
    let p = Params::parse(q.as_deref(), SYSCALL_PARAMS).map_err(Error::from)?;
    let f = SyscallFilter::parse(&p).map_err(Error::from)?;
    if let Some(to) = canonical(&format!("/s/{id}/syscalls"), q.as_deref(), &f.pairs()) {
        return Ok(to);
    }
    let page = with_trace(&state, id, move |t| Ok(syscalls_page(&id, t, f))).await?;
    Ok(page.into_response())
}

fn syscalls_page(id: &CaptureId, t: &Trace, f: SyscallFilter) -> SyscallsPage {
    let path = format!("/s/{id}/syscalls");
    let share = url(&path, &f.pairs());
    let mut shown = f.clone();
    let page = syscall_page(t, &mut shown);
    let base = SyscallFilter {
        offset: 0,
        at: None,
        ..f.clone()
    };
    let link = |g: &SyscallFilter| url(&path, &g.pairs());
    let rows: Vec<CallRow> = page
        .items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let input = input_index(t, &v.file);
            let errno = v.errno.clone().unwrap_or_default();
            CallRow {
                anchor: format!("c{input}-{}", v.line),
                focus: page.focus == Some(i),
                file: v.file.clone(),
                line: v.line,
                time: clock(v.ts, t.time_base),
                pid: v.pid,
                pid_href: link(&SyscallFilter {
                    pids: vec![v.pid],
                    ..base.clone()
                }),
                meaning: v.meaning.unwrap_or("(no description)"),
                name_href: link(&SyscallFilter {
                    names: vec![v.syscall.clone()],
                    ..base.clone()
                }),
                syscall: v.syscall.clone(),
                args: cut(&v.args, ARGS_SHOWN),
                args_full: if v.args.chars().count() > ARGS_SHOWN {
                    v.args.clone()
                } else {
                    String::new()
                },
                result: v.result.clone(),
                errno_meaning: v.errno_meaning.unwrap_or(""),
                failed: !errno.is_empty(),
                errno,
                duration: dur(v.duration),
                unfinished: v.unfinished,
            }
        })
        .collect();
    let limit = shown.limit as usize;
    let pg = pager(page.total, page.offset, rows.len(), limit, |off| {
        link(&SyscallFilter {
            offset: off,
            ..base.clone()
        })
    });
    let sort_link = |key: SortKey| {
        let order = if f.sort == key {
            // Clicking the active column flips it.
            match f.order {
                Order::Asc => Order::Desc,
                Order::Desc => Order::Asc,
            }
        } else if key == SortKey::Duration {
            Order::Desc
        } else {
            Order::Asc
        };
        link(&SyscallFilter {
            sort: key,
            order,
            ..base.clone()
        })
    };
    let mark = |key: SortKey| match (f.sort == key, f.order) {
        (false, _) => "",
        (true, Order::Asc) => "▲",
        (true, Order::Desc) => "▼",
    };
    let chips = vec![
        Chip {
            label: "all calls".into(),
            href: link(&SyscallFilter {
                failed: false,
                errno: None,
                ..base.clone()
            }),
            on: !f.failed && f.errno.is_none(),
        },
        Chip {
            label: "failed only".into(),
            href: link(&SyscallFilter {
                failed: true,
                ..base.clone()
            }),
            on: f.failed && f.errno.is_none(),
        },
        Chip {
            label: "ENOENT".into(),
            href: link(&SyscallFilter {
                failed: true,
                errno: Some("ENOENT".into()),
                ..base.clone()
            }),
            on: f.errno.as_deref() == Some("ENOENT"),
        },
        Chip {
            label: "slower than 1 ms".into(),
            href: link(&SyscallFilter {
                min_duration: Some(Span::from_nanos(1_000_000)),
                sort: SortKey::Duration,
                order: Order::Desc,
                ..base.clone()
            }),
            on: f.min_duration == Some(Span::from_nanos(1_000_000)),
        },
    ];
    let known = t.summary();
    let unknown_names = f
        .names
        .iter()
        .filter(|n| !known.iter().any(|r| &r.syscall == *n))
        .cloned()
        .collect();
    SyscallsPage {
        head: Head::new(
            id,
            t,
            "syscalls",
            share,
            url(&format!("/api/straces/{id}/syscalls"), &f.pairs()),
        ),
        form: SyscallForm {
            pid: f
                .pids
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(","),
            syscall: f.names.join(","),
            contains: f.contains.clone().unwrap_or_default(),
            errno: f.errno.clone().unwrap_or_default(),
            min_duration: f.min_duration.map(params::seconds_text).unwrap_or_default(),
            failed: f.failed,
            sort: match f.sort {
                SortKey::Time => "time",
                SortKey::Duration => "duration",
            },
            order: match f.order {
                Order::Asc => "asc",
                Order::Desc => "desc",
            },
            limit: if f.limit == params::SYSCALL_LIMIT {
                String::new()
            } else {
                f.limit.to_string()
            },
        },
        missing_at: f.at.is_some() && page.focus.is_none(),
        unknown_names,
        dropped: t.syscalls_dropped,
        multi_input: t.inputs.len() > 1,
        sort_time: sort_link(SortKey::Time),
        sort_duration: sort_link(SortKey::Duration),
        sort_mark_time: mark(SortKey::Time),
        sort_mark_duration: mark(SortKey::Duration),
        chips,
        pager: pg,
        rows,
    }
}

// ---------------------------------------------------------------- files

pub struct FileRow {
    pub path: String,
    pub config: bool,
    pub syscall: String,
    pub meaning: &'static str,
    pub pid: u32,
    pub result: String,
    pub error: String,
    pub error_meaning: &'static str,
    pub time: String,
    pub line: u32,
    pub line_href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "strace_files.html")]
pub struct FilesPage {
    head: Head,
    chips: Vec<Chip>,
    pid: String,
    contains: String,
    config: bool,
    failed: bool,
    enoent: bool,
    rows: Vec<FileRow>,
    pager: Pager,
}

/// `GET /s/ID/files`: paths opened, stat-ed, accessed or executed.
pub async fn files(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<Response> {
    let id = strace_id(&id)?;
    let p = Params::parse(q.as_deref(), FILE_PARAMS).map_err(Error::from)?;
    let f = FileFilter::parse(&p).map_err(Error::from)?;
    if let Some(to) = canonical(&format!("/s/{id}/files"), q.as_deref(), &f.pairs()) {
        return Ok(to);
    }
    Ok(with_trace(&state, id, move |t| Ok(files_page(&id, t, f)))
        .await?
        .into_response())
}

fn files_page(id: &CaptureId, t: &Trace, f: FileFilter) -> FilesPage {
    let path = format!("/s/{id}/files");
    let share = url(&path, &f.pairs());
    let listing = file_page(t, &f);
    let base = FileFilter {
        offset: 0,
        ..f.clone()
    };
    let link = |g: &FileFilter| url(&path, &g.pairs());
    let only = |config: bool, failed: bool, enoent: bool| FileFilter {
        config,
        failed,
        enoent,
        ..base.clone()
    };
    let chips = vec![
        Chip {
            label: "all files".into(),
            href: link(&only(false, false, false)),
            on: !f.config && !f.failed && !f.enoent,
        },
        Chip {
            label: "configuration files".into(),
            href: link(&only(!f.config, f.failed, f.enoent)),
            on: f.config,
        },
        Chip {
            label: "failed".into(),
            href: link(&only(f.config, !f.failed, false)),
            on: f.failed,
        },
        Chip {
            label: "not found (ENOENT): what it searched for".into(),
            href: link(&only(f.config, false, !f.enoent)),
            on: f.enoent,
        },
    ];
    let rows: Vec<FileRow> = listing
        .items
        .iter()
        .map(|v| FileRow {
            path: v.path.clone(),
            config: v.config,
            meaning: meaning::syscall(&v.syscall).unwrap_or(""),
            syscall: v.syscall.clone(),
            pid: v.pid,
            result: v.result.map_or(String::new(), |r| r.to_string()),
            error: v.error.clone().unwrap_or_default(),
            error_meaning: v.error_meaning.unwrap_or(""),
            time: clock(v.ts, t.time_base),
            line: v.line,
            line_href: line_href(id, Some(v.pid), input_index(t, &v.file), v.line),
        })
        .collect();
    let pg = pager(
        listing.total,
        listing.offset,
        rows.len(),
        f.limit as usize,
        |off| {
            link(&FileFilter {
                offset: off,
                ..base.clone()
            })
        },
    );
    FilesPage {
        head: Head::new(
            id,
            t,
            "files",
            share,
            url(&format!("/api/straces/{id}/files"), &f.pairs()),
        ),
        chips,
        pid: f.pid.map_or(String::new(), |p| p.to_string()),
        contains: f.contains.clone().unwrap_or_default(),
        config: f.config,
        failed: f.failed,
        enoent: f.enoent,
        rows,
        pager: pg,
    }
}

// ---------------------------------------------------------------- processes

pub struct ProcRow {
    pub pid: u32,
    /// Indentation class (depth, capped).
    pub indent_class: usize,
    pub depth: usize,
    pub argv: String,
    pub outcome: String,
    pub outcome_class: &'static str,
    pub start: String,
    pub duration: String,
    pub syscalls: u64,
    pub syscalls_href: String,
    pub timeline_href: String,
    pub signals: String,
    pub thread: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "strace_processes.html")]
pub struct ProcessesPage {
    head: Head,
    rows: Vec<ProcRow>,
    chart: Option<Chart>,
    lanes_cut: usize,
}

fn outcome(r: &super::api::ProcessRow) -> (String, &'static str) {
    let n = &r.node;
    match (&n.killed_by, n.exit_code) {
        (Some(sig), _) => (
            format!(
                "killed by {sig}{}",
                if r.core_dumped { " (core dumped)" } else { "" }
            ),
            "killed",
        ),
        (None, Some(0)) => ("exit 0".into(), "ok"),
        (None, Some(c)) => (format!("exit {c}"), "fail"),
        (None, None) if n.untraced => ("not traced".into(), "open"),
        (None, None) if n.superseded => ("replaced by execve in another thread".into(), "open"),
        (None, None) if n.detached => ("detached".into(), "open"),
        (None, None) => ("no exit seen".into(), "open"),
    }
}

/// `GET /s/ID/processes`: the process tree and a lifetime chart.
pub async fn processes(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<ProcessesPage> {
    Params::parse(q.as_deref(), &[]).map_err(Error::from)?;
    let id = strace_id(&id)?;
    Ok(with_trace(&state, id, move |t| {
        let rows = process_rows(t);
        let t0 = rows.iter().filter_map(|r| r.start_ns).min();
        let lanes: Vec<Lane> = rows
            .iter()
            .map(|r| {
                let (text, class) = outcome(r);
                let argv0 = r
                    .node
                    .argv
                    .first()
                    .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
                    .unwrap_or_default();
                Lane {
                    label: cut(
                        &format!("{}{} {argv0}", "  ".repeat(r.node.depth.min(8)), r.node.pid),
                        40,
                    ),
                    start_ns: r.start_ns,
                    end_ns: r.end_ns,
                    class,
                    title: format!("{} {}: {text}", r.node.pid, r.node.argv.join(" ")),
                    href: format!("/s/{id}/timeline?pid={}", r.node.pid),
                }
            })
            .collect();
        let chart = svg::lifetimes(&lanes);
        let out: Vec<ProcRow> = rows
            .iter()
            .map(|r| {
                let (text, class) = outcome(r);
                let n = &r.node;
                ProcRow {
                    pid: n.pid,
                    indent_class: n.depth.min(8),
                    depth: n.depth,
                    argv: n.argv.join(" "),
                    outcome: text,
                    outcome_class: class,
                    start: match (r.start_ns, t0) {
                        (Some(s), Some(t0)) if s == t0 => "0".into(),
                        (Some(s), Some(t0)) => format!("+{}", Span::from_nanos(s - t0)),
                        _ => String::new(),
                    },
                    duration: match (r.start_ns, r.end_ns) {
                        (Some(s), Some(e)) => Span::from_nanos(e - s).to_string(),
                        _ => String::new(),
                    },
                    syscalls: n.syscalls,
                    syscalls_href: format!("/s/{id}/syscalls?pid={}", n.pid),
                    timeline_href: format!("/s/{id}/timeline?pid={}", n.pid),
                    signals: r.signals.join(", "),
                    thread: n.is_thread,
                }
            })
            .collect();
        Ok(ProcessesPage {
            head: Head::new(
                &id,
                t,
                "processes",
                format!("/s/{id}/processes"),
                format!("/api/straces/{id}/processes"),
            ),
            lanes_cut: lanes.len().saturating_sub(svg::MAX_LANES),
            rows: out,
            chart,
        })
    })
    .await?)
}

// ---------------------------------------------------------------- timeline

pub struct LongCall {
    pub syscall: String,
    pub meaning: &'static str,
    pub offset: String,
    pub duration: String,
    pub href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "strace_timeline.html")]
pub struct TimelinePage {
    head: Head,
    pid: u32,
    argv: String,
    calls: usize,
    chart: Option<Chart>,
    longest: Vec<LongCall>,
    others: Vec<(u32, String, bool)>,
}

/// `GET /s/ID/timeline?pid=P`: one process's calls over time.
pub async fn timeline(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<TimelinePage> {
    let id = strace_id(&id)?;
    let (pid, _, _) = parse_timeline(q.as_deref())?;
    Ok(with_trace(&state, id, move |t| {
        check_pid(t, pid)?;
        let items = t.timeline(pid);
        let input = t
            .processes
            .iter()
            .find(|p| p.pid == pid)
            .map_or(0, |p| p.input);
        let link = |line: u32| line_href(&id, Some(pid), input, line);
        let chart = svg::process_timeline(&items, link);
        let mut longest: Vec<_> = items.iter().filter(|i| i.duration.is_some()).collect();
        longest.sort_by_key(|i| std::cmp::Reverse(i.duration));
        let longest = longest
            .into_iter()
            .take(10)
            .map(|i| LongCall {
                meaning: meaning::syscall(&i.syscall).unwrap_or(""),
                syscall: i.syscall.clone(),
                offset: format!("+{}", i.offset),
                duration: dur(i.duration),
                href: link(i.line),
            })
            .collect();
        let mut seen = std::collections::HashSet::new();
        let others = t
            .processes
            .iter()
            .filter(|p| seen.insert(p.pid))
            .take(200)
            .map(|p| {
                let name = p
                    .argv()
                    .and_then(|a| a.first())
                    .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
                    .unwrap_or_default();
                (p.pid, name, p.pid == pid)
            })
            .collect();
        Ok(TimelinePage {
            head: Head::new(
                &id,
                t,
                "processes",
                format!("/s/{id}/timeline?pid={pid}"),
                format!("/api/straces/{id}/timeline?pid={pid}"),
            ),
            argv: t
                .processes
                .iter()
                .find(|p| p.pid == pid)
                .and_then(|p| p.argv())
                .map(|a| a.join(" "))
                .unwrap_or_default(),
            pid,
            calls: items.len(),
            chart,
            longest,
            others,
        })
    })
    .await?)
}

// ---------------------------------------------------------------- pauses

pub struct PauseRow {
    pub rank: usize,
    pub duration: String,
    pub gap: bool,
    pub pid: u32,
    pub syscall: String,
    pub meaning: &'static str,
    pub after: String,
    pub start: String,
    pub line: u32,
    pub file: String,
    pub href: String,
    pub includes_call: bool,
    pub bar: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "strace_pauses.html")]
pub struct PausesPage {
    head: Head,
    chips: Vec<Chip>,
    rows: Vec<PauseRow>,
    no_times: bool,
    multi_input: bool,
}

/// `GET /s/ID/pauses`: the slowest calls and the longest gaps, ranked.
pub async fn pauses(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<PausesPage> {
    let id = strace_id(&id)?;
    let p = Params::parse(q.as_deref(), PAUSE_PARAMS).map_err(Error::from)?;
    let f = PauseFilter::parse(&p).map_err(Error::from)?;
    Ok(with_trace(&state, id, move |t| {
        let path = format!("/s/{id}/pauses");
        let list = pause_list(t, &f);
        let longest = list.first().map_or(1, |p| p.duration.as_nanos().max(1));
        let rows = list
            .iter()
            .enumerate()
            .map(|(i, p)| PauseRow {
                rank: i + 1,
                duration: p.duration.to_string(),
                gap: p.kind == PauseKind::Gap,
                pid: p.pid,
                meaning: meaning::syscall(&p.syscall).unwrap_or(""),
                syscall: p.syscall.clone(),
                after: p.after_syscall.clone().unwrap_or_default(),
                start: clock(p.start, t.time_base),
                line: p.line,
                file: p.file.clone(),
                href: line_href(&id, Some(p.pid), input_index(t, &p.file), p.line),
                includes_call: p.includes_call_time,
                bar: format!(
                    "{:.1}",
                    (p.duration.as_nanos() as f64 / longest as f64 * 100.0).max(0.5)
                ),
            })
            .collect();
        let kind_link =
            |kind: PauseKindFilter| url(&path, &PauseFilter { kind, ..f.clone() }.pairs());
        let chips = vec![
            Chip {
                label: "all pauses".into(),
                href: kind_link(PauseKindFilter::All),
                on: f.kind == PauseKindFilter::All,
            },
            Chip {
                label: "waiting in a system call".into(),
                href: kind_link(PauseKindFilter::Syscall),
                on: f.kind == PauseKindFilter::Syscall,
            },
            Chip {
                label: "busy in user space (between calls)".into(),
                href: kind_link(PauseKindFilter::Gap),
                on: f.kind == PauseKindFilter::Gap,
            },
        ];
        Ok(PausesPage {
            head: Head::new(
                &id,
                t,
                "pauses",
                url(&path, &f.pairs()),
                url(&format!("/api/straces/{id}/pauses"), &f.pairs()),
            ),
            chips,
            rows,
            no_times: t.time_base == TimeBase::None,
            multi_input: t.inputs.len() > 1,
        })
    })
    .await?)
}

// ---------------------------------------------------------------- delete

#[derive(Template, WebTemplate)]
#[template(path = "strace_delete.html")]
pub struct DeletePage {
    id: String,
    name: String,
    files: usize,
    size: u64,
}

/// `GET /s/ID/delete`: asks before deleting.
pub async fn confirm_delete(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult<DeletePage> {
    let id = strace_id(&id)?;
    let meta = blocking(&state, move |s| s.strace(&id)).await?;
    Ok(DeletePage {
        id: id.to_string(),
        name: meta.name,
        files: meta.files.len(),
        size: meta.size,
    })
}

/// `POST /s/ID/delete`: deletes, then back to the list.
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> PageResult<Redirect> {
    let id = strace_id(&id)?;
    blocking(&state, move |s| s.delete_strace(&id)).await?;
    Ok(Redirect::to("/straces"))
}

// ---------------------------------------------------------------- static

/// `GET /static/strace.css`.
pub async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../../static/strace.css"),
    )
}

/// `GET /static/strace.js`.
pub async fn script() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        include_str!("../../../static/strace.js"),
    )
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn clock_times() {
        let ts = Some(Timestamp::from_nanos(
            ((9 * 3600 + 5 * 60 + 7) * 1_000_000_000) + 123_456_789,
        ));
        assert_eq!(clock(ts, TimeBase::TimeOfDay), "09:05:07.123456");
        let next_day = Some(Timestamp::from_nanos(86_400_000_000_000 + 1000));
        assert_eq!(clock(next_day, TimeBase::TimeOfDay), "+1d 00:00:00.000001");
        assert_eq!(
            clock(
                Some(Timestamp::from_nanos(1_500_000_000)),
                TimeBase::Relative
            ),
            "+1.500000"
        );
        assert_eq!(clock(None, TimeBase::Epoch), "");
    }
}
