//! The pause page: long calls and long user-space gaps, ranked.

use super::*;

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
    /// A wait for a child whose own pause is the cause: the child's pid.
    pub waiting_for: Option<u32>,
}

#[derive(Template, WebTemplate)]
#[template(path = "strace_pauses.html")]
pub struct PausesPage {
    head: StraceHead,
    chips: Vec<Chip>,
    rows: Vec<PauseRow>,
    no_times: bool,
    multi_input: bool,
}

/// `GET /s/ID/pauses`: the slowest calls and the longest gaps, ranked.
pub async fn pauses(
    State(state): State<AppState>,
    id: StraceId,
    Checked(f): Checked<PauseFilter>,
) -> PageResult<PausesPage> {
    Ok(with_trace(&state, id, move |t| {
        let path = format!("/s/{id}/pauses");
        let list = pause_list(t, &f);
        let longest = list.first().map_or(1, |p| p.duration.as_nanos().max(1));
        let rows = list
            .iter()
            .enumerate()
            .map(|(i, p)| PauseRow {
                rank: i + 1,
                duration: fmt::span_text(p.duration),
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
                waiting_for: p.waiting_for,
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
                class: "",
                label: "all pauses".into(),
                href: kind_link(PauseKindFilter::All),
                on: f.kind == PauseKindFilter::All,
            },
            Chip {
                class: "",
                label: "waiting in a system call".into(),
                href: kind_link(PauseKindFilter::Syscall),
                on: f.kind == PauseKindFilter::Syscall,
            },
            Chip {
                class: "",
                label: "busy in user space (between calls)".into(),
                href: kind_link(PauseKindFilter::Gap),
                on: f.kind == PauseKindFilter::Gap,
            },
        ];
        Ok(PausesPage {
            head: trace_head(
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
