//! The file page: paths touched, with the configuration-file and ENOENT chips.

use super::super::api::file_page;
use super::*;

// ---------------------------------------------------------------- files

/// One path and every access to it (the page groups by path; its JSON
/// twin has the same groups under `paths`).
pub struct FileRow {
    pub path: String,
    pub config: bool,
    /// `read`, `write`, `create` as the opens asked.
    pub reads: bool,
    pub writes: bool,
    pub creates: bool,
    /// The syscalls that touched it: `openat ×3, newfstatat`.
    pub calls: String,
    pub meaning: &'static str,
    pub pids: String,
    pub accesses: u64,
    pub failed: u64,
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
    head: StraceHead,
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
    id: StraceId,
    Checked(f): Checked<FileFilter>,
    RawQuery(q): RawQuery,
) -> PageResult<Response> {
    if let Some(to) = canonical(&format!("/s/{id}/files"), q.as_deref(), &f.pairs()) {
        return Ok(to);
    }
    Ok(with_trace(&state, id, move |t| Ok(files_page(&id, t, f)))
        .await?
        .into_response())
}

fn files_page(id: &StraceId, t: &Trace, f: FileFilter) -> FilesPage {
    let path = format!("/s/{id}/files");
    let share = url(&path, &f.pairs());
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
            class: "",
            label: "all files".into(),
            href: link(&only(false, false, false)),
            on: !f.config && !f.failed && !f.enoent,
        },
        Chip {
            class: "",
            label: "configuration files".into(),
            href: link(&only(!f.config, f.failed, f.enoent)),
            on: f.config,
        },
        Chip {
            class: "",
            label: "failed".into(),
            href: link(&only(f.config, !f.failed, false)),
            on: f.failed,
        },
        Chip {
            class: "",
            label: "not found (ENOENT): what it searched for".into(),
            href: link(&only(f.config, false, !f.enoent)),
            on: f.enoent,
        },
    ];
    let groups = file_page(t, &f).paths;
    let offset = groups.offset;
    let rows: Vec<FileRow> = groups
        .items
        .iter()
        .filter_map(|g| {
            let v = g.first.as_ref()?;
            let calls = g.syscalls.join(", ");
            Some(FileRow {
                path: g.path.clone(),
                config: g.config,
                reads: g.mode.reads(),
                writes: g.mode.writes(),
                creates: g.mode.creates(),
                meaning: match g.syscalls.as_slice() {
                    [one] => meaning::syscall(one).unwrap_or(""),
                    _ => "",
                },
                calls,
                pids: g
                    .pids
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                accesses: g.accesses,
                failed: g.failed,
                result: v.result.map_or(String::new(), |r| r.to_string()),
                error: g.error.clone().unwrap_or_default(),
                error_meaning: g.error_meaning.unwrap_or(""),
                time: clock(v.ts, t.time_base),
                line: v.line,
                line_href: line_href(id, Some(v.pid), input_index(t, &v.file), v.line),
            })
        })
        .collect();
    let pg = pager(groups.total, offset, rows.len(), f.limit as usize, |off| {
        link(&FileFilter {
            offset: off,
            ..base.clone()
        })
    });
    FilesPage {
        head: trace_head(
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
