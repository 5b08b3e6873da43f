//! The HTML pages of strace uploads: thin handlers over the same views as
//! the JSON API ([`super::api`]), rendered with askama (auto-escaped).
//! Every link a page holds (next page, sort, filter chip, "go to line") is
//! computed here from the page's own filter, so URLs stay share links.
//! This file holds what every page shares (formatting, the frame, links)
//! and the small pages; each view has a file of its own.

mod files;
mod pauses;
mod processes;
mod summary;
mod syscalls;

pub use files::files;
pub use pauses::pauses;
pub use processes::{processes, timeline};
pub use summary::summary;
pub use syscalls::syscalls;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Redirect, Response};

use super::api::{check_pid, input_index, parse_timeline, pause_list, process_rows, syscall_page};
use super::params::{self, url, FileFilter, PauseFilter, PauseKindFilter, SyscallFilter};
use super::{blocking, with_progress, with_trace, StraceStatus};
use crate::store::{Order, Status, StraceId};
use crate::strace::{meaning, Hint, PauseKind, SortKey, SummaryRow, TimeBase, Trace};
use crate::time::{Span, Timestamp};
use crate::web::auth::{visible_straces, Viewer};
use crate::web::extract::{Checked, NoParams};
use crate::web::fmt;
use crate::web::kit::{Chip, Head, PageResult, Pager};
use crate::web::svg::{self, Lane, Svg};
use crate::web::AppState;

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
    d.map_or_else(String::new, fmt::span_text)
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
fn line_href(id: &StraceId, pid: Option<u32>, input: u16, line: u32) -> String {
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

/// What the header of an strace page adds to the kit's [`Head`].
pub struct TraceFacts {
    /// This page's address (its share link).
    pub share: String,
    pub files: Vec<String>,
    pub syscalls: u64,
    pub processes: usize,
    /// Parsed: the view tabs lead somewhere.
    pub ready: bool,
}

/// The header of an strace page.
type StraceHead = Head<TraceFacts>;

/// The header of a page of a parsed upload.
fn trace_head(
    id: &StraceId,
    t: &Trace,
    tab: &'static str,
    share: String,
    json: String,
) -> StraceHead {
    let name = match t.inputs.as_slice() {
        [one] => one.name.clone(),
        [first, rest @ ..] => format!("{} +{}", first.name, rest.len()),
        [] => "strace".into(),
    };
    let facts = TraceFacts {
        share,
        files: t.inputs.iter().map(|i| i.name.clone()).collect(),
        syscalls: t.syscall_count,
        processes: t.processes.len(),
        ready: true,
    };
    Head::with(id, &name, tab, json, facts)
}

/// Previous / next links of a paged table of `total` rows.
fn pager(
    total: usize,
    offset: usize,
    shown: usize,
    limit: usize,
    link: impl Fn(u64) -> String,
) -> Pager {
    let limit = u32::try_from(limit).unwrap_or(u32::MAX);
    Pager::linked(offset as u64, limit, shown, total as u64, link)
}

// ---------------------------------------------------------------- list and upload

#[derive(Template, WebTemplate)]
#[template(path = "strace_list.html")]
pub struct ListPage {
    straces: Vec<(StraceStatus, String, String)>,
    max_upload_mib: u64,
    /// Teams the viewer may give the upload to (`team_pick.html`).
    teams: Vec<String>,
}

/// `GET /straces`: the upload form and the latest uploads.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    _: Checked<NoParams>,
) -> PageResult<ListPage> {
    let page = visible_straces(&state, &viewer, 100, 0).await?;
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
        teams: viewer.teams_to_pick().await?,
    })
}

// ---------------------------------------------------------------- delete

#[derive(Template, WebTemplate)]
#[template(path = "strace_delete.html")]
pub struct DeletePage {
    id: String,
    name: String,
    files: usize,
    size: fmt::Human,
}

/// `GET /s/ID/delete`: asks before deleting.
pub async fn confirm_delete(State(state): State<AppState>, id: StraceId) -> PageResult<DeletePage> {
    let meta = blocking(&state, move |s| s.strace(&id)).await?;
    Ok(DeletePage {
        id: id.to_string(),
        name: meta.name,
        files: meta.files.len(),
        size: fmt::bytes(&meta.size),
    })
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
