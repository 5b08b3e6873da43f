//! The syscall table page: filters, sort, paging, and the marked line.

use super::*;

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
    /// What it returned: a byte count in KiB/MiB with the exact number
    /// on hover, anything else as strace wrote it.
    pub result: fmt::Human,
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
    head: StraceHead,
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
    id: StraceId,
    Checked(f): Checked<SyscallFilter>,
    RawQuery(q): RawQuery,
) -> PageResult<Response> {
    if let Some(to) = canonical(&format!("/s/{id}/syscalls"), q.as_deref(), &f.pairs()) {
        return Ok(to);
    }
    let page = with_trace(&state, id, move |t| Ok(syscalls_page(&id, t, f))).await?;
    Ok(page.into_response())
}

fn syscalls_page(id: &StraceId, t: &Trace, f: SyscallFilter) -> SyscallsPage {
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
                result: byte_count(&v.syscall, v.retval, errno.is_empty()).unwrap_or_else(|| {
                    fmt::Human {
                        text: v.result.clone(),
                        full: String::new(),
                    }
                }),
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
            class: "",
            label: "all calls".into(),
            href: link(&SyscallFilter {
                failed: false,
                errno: None,
                ..base.clone()
            }),
            on: !f.failed && f.errno.is_none(),
        },
        Chip {
            class: "",
            label: "failed only".into(),
            href: link(&SyscallFilter {
                failed: true,
                ..base.clone()
            }),
            on: f.failed && f.errno.is_none(),
        },
        Chip {
            class: "",
            label: "ENOENT".into(),
            href: link(&SyscallFilter {
                failed: true,
                errno: Some("ENOENT".into()),
                ..base.clone()
            }),
            on: f.errno.as_deref() == Some("ENOENT"),
        },
        Chip {
            class: "",
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
        head: trace_head(
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

/// The calls whose return value counts bytes moved.
fn returns_bytes(syscall: &str) -> bool {
    matches!(
        syscall,
        "read"
            | "write"
            | "pread64"
            | "pwrite64"
            | "readv"
            | "writev"
            | "preadv"
            | "pwritev"
            | "preadv2"
            | "pwritev2"
            | "recvfrom"
            | "sendto"
            | "recvmsg"
            | "sendmsg"
            | "sendfile"
            | "sendfile64"
            | "splice"
            | "tee"
            | "copy_file_range"
            | "getdents64"
            | "getrandom"
    )
}

/// A successful byte-moving call's result of 1 KiB or more, human-sized.
fn byte_count(syscall: &str, retval: Option<i64>, ok: bool) -> Option<fmt::Human> {
    let n = u64::try_from(retval?).ok()?;
    (ok && n >= 1024 && returns_bytes(syscall)).then(|| fmt::kib(n))
}
