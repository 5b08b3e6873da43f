//! The process tree with its lifetime chart, and one process's timeline.

use super::*;

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
    head: StraceHead,
    rows: Vec<ProcRow>,
    chart: Option<Svg>,
    lanes_cut: usize,
}

fn outcome(r: &super::super::api::ProcessRow) -> (String, &'static str) {
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
    _: Checked<NoParams>,
    id: StraceId,
) -> PageResult<ProcessesPage> {
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
                        (Some(s), Some(t0)) => {
                            format!("+{}", fmt::span_text(Span::from_nanos(s - t0)))
                        }
                        _ => String::new(),
                    },
                    duration: match (r.start_ns, r.end_ns) {
                        (Some(s), Some(e)) => fmt::span_text(Span::from_nanos(e - s)),
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
            head: trace_head(
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
    head: StraceHead,
    pid: u32,
    argv: String,
    calls: usize,
    chart: Option<Svg>,
    longest: Vec<LongCall>,
    others: Vec<(u32, String, bool)>,
}

/// `GET /s/ID/timeline?pid=P`: one process's calls over time.
pub async fn timeline(
    State(state): State<AppState>,
    id: StraceId,
    RawQuery(q): RawQuery,
) -> PageResult<TimelinePage> {
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
                offset: format!("+{}", fmt::span_text(i.offset)),
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
            head: trace_head(
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
