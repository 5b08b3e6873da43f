//! The JSON API of strace uploads (`/api/straces/...`), and the views both
//! it and the pages compute from a parsed trace: each page's JSON twin
//! answers exactly the rows the page shows.

use std::collections::{HashMap, VecDeque};

use axum::extract::{RawQuery, State};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use serde_json::json;

use super::params::{
    FileFilter, PauseFilter, PauseKindFilter, SyscallFilter, PAGE_PARAMS, PAUSE_MAX,
};
use super::{blocking, with_progress, with_trace, StraceStatus};
use crate::store::StraceId;
use crate::strace::{
    group_by_path, FileGroup, FileView, Pause, PauseKind, SyscallView, TimelineItem, Trace,
    TreeNode,
};
use crate::web::auth::{visible_straces, Viewer};
use crate::web::error::{Error, Result};
use crate::web::extract::{Checked, NoParams, Paged};
use crate::web::params::{ParamError, Params};
use crate::web::AppState;

/// A page of rows, with where it starts.
#[derive(Clone, Debug, Serialize)]
pub struct Listing<T> {
    pub total: usize,
    pub offset: usize,
    pub items: Vec<T>,
}

impl<T> Listing<T> {
    /// The page `offset..offset + limit` of a whole list.
    fn page(all: Vec<T>, offset: u64, limit: u32) -> Listing<T> {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        Listing {
            total: all.len(),
            offset,
            items: all.into_iter().skip(offset).take(limit as usize).collect(),
        }
    }
}

/// The syscall table for a filter; with `at`, the page holding that call.
#[derive(Debug, Serialize)]
pub struct SyscallPage {
    pub total: usize,
    pub offset: usize,
    pub items: Vec<SyscallView>,
    /// The call `at` named, when the filters match it.
    pub focus: Option<usize>,
}

/// Index of an input file by name.
pub fn input_index(t: &Trace, name: &str) -> u16 {
    t.inputs
        .iter()
        .position(|i| i.name == name)
        .and_then(|i| u16::try_from(i).ok())
        .unwrap_or(0)
}

pub fn syscall_page(t: &Trace, f: &mut SyscallFilter) -> SyscallPage {
    let mut focus_pos = None;
    if let Some((input, line)) = f.at {
        if let Some(pos) = t.position(&f.query(false), input, line) {
            let limit = f.limit.max(1) as usize;
            f.offset = (pos / limit * limit) as u64;
            focus_pos = Some(pos);
        }
    }
    let page = t.syscalls(&f.query(true));
    let offset = usize::try_from(f.offset).unwrap_or(usize::MAX);
    SyscallPage {
        total: page.total,
        offset,
        focus: focus_pos.map(|p| p - offset),
        items: page.items,
    }
}

/// The files view: paths with every access to them grouped (what the
/// page lists), and the accesses one by one under the list's old keys.
#[derive(Clone, Debug, Serialize)]
pub struct FilePage {
    /// Accesses one by one, `limit` and `offset` counting accesses.
    #[serde(flatten)]
    pub accesses: Listing<FileView>,
    /// One row per path, `limit` and `offset` counting paths.
    pub paths: Listing<FileGroup>,
}

pub fn file_page(t: &Trace, f: &FileFilter) -> FilePage {
    let all = t.files(&f.query());
    let offset = usize::try_from(f.offset).unwrap_or(usize::MAX);
    let accesses = Listing {
        total: all.len(),
        offset,
        items: all
            .iter()
            .skip(offset)
            .take(f.limit as usize)
            .cloned()
            .collect(),
    };
    FilePage {
        accesses,
        paths: Listing::page(group_by_path(all), f.offset, f.limit),
    }
}

/// A process in tree order with its times and the signals it received.
#[derive(Clone, Debug, Serialize)]
pub struct ProcessRow {
    #[serde(flatten)]
    pub node: TreeNode,
    /// Seconds (as the log's timestamps count).
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub duration: Option<f64>,
    #[serde(skip)]
    pub start_ns: Option<i64>,
    #[serde(skip)]
    pub end_ns: Option<i64>,
    pub core_dumped: bool,
    /// Signals delivered to it, in order (at most 20).
    pub signals: Vec<String>,
}

pub fn process_rows(t: &Trace) -> Vec<ProcessRow> {
    let mut by_pid: HashMap<u32, VecDeque<usize>> = HashMap::new();
    for (i, p) in t.processes.iter().enumerate() {
        by_pid.entry(p.pid).or_default().push_back(i);
    }
    let mut signals: HashMap<u32, Vec<String>> = HashMap::new();
    for s in &t.signals {
        let list = signals.entry(s.pid).or_default();
        if list.len() < 20 {
            list.push(if s.stopped {
                format!("stopped by {}", s.signal)
            } else {
                s.signal.clone()
            });
        }
    }
    t.process_tree()
        .into_iter()
        .map(|node| {
            let p = by_pid
                .get_mut(&node.pid)
                .and_then(VecDeque::pop_front)
                .and_then(|i| t.processes.get(i));
            let (start_ns, end_ns) = p.map_or((None, None), |p| (p.start_ns, p.end_ns));
            let secs = |ns: Option<i64>| ns.map(|n| n as f64 / 1e9);
            ProcessRow {
                start: secs(start_ns),
                end: secs(end_ns),
                duration: match (start_ns, end_ns) {
                    (Some(s), Some(e)) => Some(e.saturating_sub(s) as f64 / 1e9),
                    _ => None,
                },
                start_ns,
                end_ns,
                core_dumped: p.is_some_and(|p| p.core_dumped),
                signals: signals.get(&node.pid).cloned().unwrap_or_default(),
                node,
            }
        })
        .collect()
}

pub fn pause_list(t: &Trace, f: &PauseFilter) -> Vec<Pause> {
    t.pauses(PAUSE_MAX as usize)
        .into_iter()
        .filter(|p| match f.kind {
            PauseKindFilter::All => true,
            PauseKindFilter::Syscall => p.kind == PauseKind::Syscall,
            PauseKindFilter::Gap => p.kind == PauseKind::Gap,
        })
        .filter(|p| f.pid.is_none_or(|pid| p.pid == pid))
        .take(f.limit as usize)
        .collect()
}

/// `pid` of a timeline: required.
fn timeline_pid(p: &Params) -> std::result::Result<u32, ParamError> {
    let v = p
        .get("pid")
        .ok_or_else(|| ParamError("pid is required: the process to draw".into()))?;
    v.parse::<u32>()
        .ok()
        .filter(|_| v.len() <= 10 && v.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| ParamError(format!("pid must be a process id, not '{v}'")))
}

pub fn parse_timeline(q: Option<&str>) -> Result<(u32, u32, u64)> {
    let mut allowed = PAGE_PARAMS.to_vec();
    allowed.push("pid");
    let p = Params::parse(q, &allowed)?;
    let (limit, offset) = p.page(1000)?;
    Ok((timeline_pid(&p)?, limit, offset))
}

/// `pid` must name a process of the trace.
pub fn check_pid(t: &Trace, pid: u32) -> Result<()> {
    if t.processes.iter().any(|p| p.pid == pid) {
        Ok(())
    } else {
        Err(Error::NotFound(format!("process {pid}")))
    }
}

/// `GET /api/straces`: the ones the viewer may see, newest first.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Checked(Paged { limit, offset }): Checked<Paged<50>>,
) -> Result<impl IntoResponse> {
    let page = visible_straces(&state, &viewer, limit, offset).await?;
    let items: Vec<StraceStatus> = page
        .items
        .into_iter()
        .map(|m| with_progress(&state, m))
        .collect();
    Ok(Json(json!({ "total": page.total, "items": items })))
}

/// `GET /api/straces/ID`.
pub async fn status(
    State(state): State<AppState>,
    _: Checked<NoParams>,
    id: StraceId,
) -> Result<impl IntoResponse> {
    let meta = blocking(&state, move |s| s.strace(&id)).await?;
    Ok(Json(with_progress(&state, meta)))
}

/// `GET /api/straces/ID/summary`: the `strace -c`-like table (overall and
/// per process), hints, strace's own tables, notes.
pub async fn summary(
    State(state): State<AppState>,
    _: Checked<NoParams>,
    id: StraceId,
) -> Result<impl IntoResponse> {
    let v = with_trace(&state, id, |t| {
        let span = t.span();
        Ok(json!({
            "syscalls": t.syscall_count,
            "syscalls_kept": t.syscall_count.saturating_sub(t.syscalls_dropped),
            "pids": t.pids(),
            "processes": t.processes.len(),
            "time_base": t.time_base,
            "start": span.map(|(s, _)| s.as_secs_f64()),
            "end": span.map(|(_, e)| e.as_secs_f64()),
            "syscall_time": t.total_syscall_time().as_secs_f64(),
            "summary": t.summary(),
            "summary_by_process": t.summary_by_process(),
            "hints": t.hints,
            "tables": t.tables,
            "inputs": t.inputs,
            "notes": t.notes,
            "unparsed_count": t.unparsed_count,
        }))
    })
    .await?;
    Ok(Json(v))
}

/// `GET /api/straces/ID/syscalls?pid=&syscall=&contains=&failed=1&errno=&min_duration=&sort=&order=&limit=&offset=&at=`.
pub async fn syscalls(
    State(state): State<AppState>,
    id: StraceId,
    Checked(mut f): Checked<SyscallFilter>,
) -> Result<impl IntoResponse> {
    Ok(Json(
        with_trace(&state, id, move |t| Ok(syscall_page(t, &mut f))).await?,
    ))
}

/// `GET /api/straces/ID/files?config=1&failed=1&enoent=1&pid=&contains=&limit=&offset=`:
/// `paths` as the page groups them, `items` the accesses one by one.
pub async fn files(
    State(state): State<AppState>,
    id: StraceId,
    Checked(f): Checked<FileFilter>,
) -> Result<impl IntoResponse> {
    Ok(Json(
        with_trace(&state, id, move |t| Ok(file_page(t, &f))).await?,
    ))
}

/// `GET /api/straces/ID/processes`: the process tree (parents first).
pub async fn processes(
    State(state): State<AppState>,
    id: StraceId,
    Checked(Paged { limit, offset }): Checked<Paged<1000>>,
) -> Result<impl IntoResponse> {
    let v = with_trace(&state, id, move |t| {
        Ok(Listing::page(process_rows(t), offset, limit))
    })
    .await?;
    Ok(Json(v))
}

/// `GET /api/straces/ID/pauses?kind=all|syscall|gap&pid=&limit=`: long
/// calls and long gaps between calls, longest first.
pub async fn pauses(
    State(state): State<AppState>,
    id: StraceId,
    Checked(f): Checked<PauseFilter>,
) -> Result<impl IntoResponse> {
    let v = with_trace(&state, id, move |t| {
        let items = pause_list(t, &f);
        Ok(Listing {
            total: items.len(),
            offset: 0,
            items,
        })
    })
    .await?;
    Ok(Json(v))
}

/// `GET /api/straces/ID/timeline?pid=&limit=&offset=`: one process's calls
/// as offsets from its start.
pub async fn timeline(
    State(state): State<AppState>,
    id: StraceId,
    RawQuery(q): RawQuery,
) -> Result<impl IntoResponse> {
    let (pid, limit, offset) = parse_timeline(q.as_deref())?;
    let v = with_trace(&state, id, move |t| {
        check_pid(t, pid)?;
        Ok(Listing::<TimelineItem>::page(
            t.timeline(pid),
            offset,
            limit,
        ))
    })
    .await?;
    Ok(Json(v))
}

/// `GET /api/straces/ID/unparsed`: lines the parser did not understand.
pub async fn unparsed(
    State(state): State<AppState>,
    id: StraceId,
    Checked(Paged { limit, offset }): Checked<Paged<1000>>,
) -> Result<impl IntoResponse> {
    let v = with_trace(&state, id, move |t| {
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        let items: Vec<_> = t
            .unparsed
            .iter()
            .skip(offset)
            .take(limit as usize)
            .map(|u| {
                json!({
                    "file": t.inputs.get(u.input as usize).map(|i| i.name.as_str()),
                    "line": u.line,
                    "text": u.text,
                })
            })
            .collect();
        Ok(json!({
            "total": t.unparsed_count,
            "kept": t.unparsed.len(),
            "offset": offset,
            "items": items,
        }))
    })
    .await?;
    Ok(Json(v))
}
