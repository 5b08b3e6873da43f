//! Query parameters of the strace views, parsed strictly (as
//! [`crate::web::params`] does for captures) into typed filters, and
//! written back into URLs: a page's links (next page, another sort, a
//! filter chip) are its own filter with one thing changed.

use crate::store::Order;
use crate::strace::{FileQuery, Query, SortKey};
use crate::time::Span;
use crate::web::extract::FromQuery;
use crate::web::params::{ParamError, Params};

/// Names the syscall table takes.
pub const SYSCALL_PARAMS: &[&str] = &[
    "pid",
    "syscall",
    "contains",
    "failed",
    "errno",
    "min_duration",
    "sort",
    "order",
    "limit",
    "offset",
    "at",
];
/// Names the file list takes.
pub const FILE_PARAMS: &[&str] = &[
    "config", "failed", "enoent", "pid", "contains", "limit", "offset",
];
/// Names the pause list takes.
pub const PAUSE_PARAMS: &[&str] = &["kind", "pid", "limit"];
/// Names of plain paged lists (processes, unparsed lines, timelines).
pub const PAGE_PARAMS: &[&str] = &["limit", "offset"];

/// Most pids or syscall names in one filter.
const MAX_LIST: usize = 64;
/// Rows a syscall page shows unless told.
pub const SYSCALL_LIMIT: u32 = 100;
/// Rows a file page shows unless told.
pub const FILE_LIMIT: u32 = 200;
/// Pauses shown unless told, and at most (the parser keeps this many of each kind).
pub const PAUSE_LIMIT: u32 = 50;
pub const PAUSE_MAX: u32 = 1000;

fn shown(s: &str) -> String {
    let mut out: String = s.chars().take(40).collect();
    if s.chars().count() > 40 {
        out.push('…');
    }
    out
}

/// `1`/`true` or `0`/`false`; absent is false.
fn flag(p: &Params, name: &str) -> Result<bool, ParamError> {
    match p.get(name) {
        None | Some("0") | Some("false") => Ok(false),
        Some("1") | Some("true") | Some("on") => Ok(true),
        Some(v) => Err(ParamError(format!(
            "{name} must be 1 or 0, not '{}'",
            shown(v)
        ))),
    }
}

fn pid_list(p: &Params) -> Result<Vec<u32>, ParamError> {
    let Some(v) = p.get("pid") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for part in v.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let ok = part.len() <= 10 && part.bytes().all(|b| b.is_ascii_digit());
        match part.parse::<u32>() {
            Ok(n) if ok => out.push(n),
            _ => {
                return Err(ParamError(format!(
                    "pid must be process ids separated by commas, such as 101,102, not '{}'",
                    shown(part)
                )))
            }
        }
    }
    if out.len() > MAX_LIST {
        return Err(ParamError(format!("pid lists at most {MAX_LIST} ids")));
    }
    Ok(out)
}

fn one_pid(p: &Params) -> Result<Option<u32>, ParamError> {
    let pids = pid_list(p)?;
    match pids.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        _ => Err(ParamError("pid takes one process id here".into())),
    }
}

fn names(p: &Params) -> Result<Vec<String>, ParamError> {
    let Some(v) = p.get("syscall") else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for part in v.split([',', ' ']).map(str::trim).filter(|s| !s.is_empty()) {
        let ok = part.len() <= 64
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(ParamError(format!(
                "syscall must be names separated by commas, such as openat,read, not '{}'",
                shown(part)
            )));
        }
        if !out.iter().any(|n| n == part) {
            out.push(part.to_string());
        }
    }
    if out.len() > MAX_LIST {
        return Err(ParamError(format!(
            "syscall lists at most {MAX_LIST} names"
        )));
    }
    Ok(out)
}

fn errno(p: &Params) -> Result<Option<String>, ParamError> {
    let Some(v) = p.get("errno") else {
        return Ok(None);
    };
    let ok = v.len() <= 32
        && v.starts_with(|c: char| c.is_ascii_uppercase())
        && v.bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_');
    if !ok {
        return Err(ParamError(format!(
            "errno must be a name such as ENOENT, not '{}'",
            shown(v)
        )));
    }
    Ok(Some(v.to_string()))
}

/// The filters of the syscall table, as the URL gives them.
#[derive(Clone, Debug, PartialEq)]
pub struct SyscallFilter {
    pub pids: Vec<u32>,
    pub names: Vec<String>,
    pub contains: Option<String>,
    pub failed: bool,
    pub errno: Option<String>,
    pub min_duration: Option<Span>,
    pub sort: SortKey,
    pub order: Order,
    pub limit: u32,
    pub offset: u64,
    /// Show the page holding this call (input index, line), marked.
    pub at: Option<(u16, u32)>,
}

impl Default for SyscallFilter {
    fn default() -> Self {
        SyscallFilter {
            pids: Vec::new(),
            names: Vec::new(),
            contains: None,
            failed: false,
            errno: None,
            min_duration: None,
            sort: SortKey::Time,
            order: Order::Asc,
            limit: SYSCALL_LIMIT,
            offset: 0,
            at: None,
        }
    }
}

fn default_order(sort: SortKey) -> Order {
    match sort {
        SortKey::Time => Order::Asc,
        SortKey::Duration => Order::Desc,
    }
}

/// `57` (the first input) or `2:57` (input 2, line 57).
fn at(p: &Params) -> Result<Option<(u16, u32)>, ParamError> {
    let Some(v) = p.get("at") else {
        return Ok(None);
    };
    let bad = || {
        ParamError(format!(
            "at must be a line number, or an input number and a line such as 1:57, not '{}'",
            shown(v)
        ))
    };
    let num = |s: &str| s.len() <= 10 && !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let (input, line) = match v.split_once(':') {
        Some((i, l)) if num(i) && num(l) => (i.parse().map_err(|_| bad())?, l),
        None if num(v) => (0, v),
        _ => return Err(bad()),
    };
    Ok(Some((input, line.parse().map_err(|_| bad())?)))
}

impl SyscallFilter {
    pub fn parse(p: &Params) -> Result<SyscallFilter, ParamError> {
        let (limit, offset) = p.page(SYSCALL_LIMIT)?;
        let sort = match p.get("sort") {
            None | Some("time") => SortKey::Time,
            Some("duration") => SortKey::Duration,
            Some(v) => {
                return Err(ParamError(format!(
                    "cannot sort by '{}': use time or duration",
                    shown(v)
                )))
            }
        };
        let order = match p.get("order") {
            None => default_order(sort),
            Some(v) => v.parse::<Order>().map_err(|e| ParamError(e.to_string()))?,
        };
        Ok(SyscallFilter {
            pids: pid_list(p)?,
            names: names(p)?,
            contains: p.text("contains", 1024)?,
            failed: flag(p, "failed")?,
            errno: errno(p)?,
            min_duration: p.seconds("min_duration")?,
            sort,
            order,
            limit,
            offset,
            at: at(p)?,
        })
    }

    /// The model's query for one page (or, `paged` false, for all matches).
    pub fn query(&self, paged: bool) -> Query {
        Query {
            pids: self.pids.clone(),
            names: self.names.clone(),
            contains: self.contains.clone(),
            failed: self.failed || self.errno.is_some(),
            errno: self.errno.clone(),
            min_duration_ns: self.min_duration.map(|d| d.as_nanos()),
            sort: self.sort,
            reverse: self.order != default_order(self.sort),
            offset: if paged {
                usize::try_from(self.offset).unwrap_or(usize::MAX)
            } else {
                0
            },
            limit: paged.then_some(self.limit as usize),
        }
    }

    /// The parameters that reproduce this filter (defaults left out).
    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let list = |v: Vec<String>| v.join(",");
        if !self.pids.is_empty() {
            out.push(("pid", list(self.pids.iter().map(u32::to_string).collect())));
        }
        if !self.names.is_empty() {
            out.push(("syscall", self.names.join(",")));
        }
        if let Some(c) = &self.contains {
            out.push(("contains", c.clone()));
        }
        if self.failed {
            out.push(("failed", "1".into()));
        }
        if let Some(e) = &self.errno {
            out.push(("errno", e.clone()));
        }
        if let Some(d) = self.min_duration {
            out.push(("min_duration", seconds_text(d)));
        }
        if self.sort != SortKey::Time {
            out.push(("sort", "duration".into()));
        }
        if self.order != default_order(self.sort) {
            out.push((
                "order",
                match self.order {
                    Order::Asc => "asc".into(),
                    Order::Desc => "desc".into(),
                },
            ));
        }
        if self.limit != SYSCALL_LIMIT {
            out.push(("limit", self.limit.to_string()));
        }
        if self.offset != 0 {
            out.push(("offset", self.offset.to_string()));
        }
        if let Some((input, line)) = self.at {
            out.push(("at", format!("{input}:{line}")));
        }
        out
    }
}

/// Seconds as the URL takes them, without trailing zeros.
pub fn seconds_text(d: Span) -> String {
    let ns = d.as_nanos().max(0);
    let s = format!("{}.{:09}", ns / 1_000_000_000, ns % 1_000_000_000);
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// The filters of the file list.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FileFilter {
    pub config: bool,
    pub failed: bool,
    pub enoent: bool,
    pub pid: Option<u32>,
    pub contains: Option<String>,
    pub limit: u32,
    pub offset: u64,
}

impl FileFilter {
    pub fn parse(p: &Params) -> Result<FileFilter, ParamError> {
        let (limit, offset) = p.page(FILE_LIMIT)?;
        Ok(FileFilter {
            config: flag(p, "config")?,
            failed: flag(p, "failed")?,
            enoent: flag(p, "enoent")?,
            pid: one_pid(p)?,
            contains: p.text("contains", 1024)?,
            limit,
            offset,
        })
    }

    pub fn query(&self) -> FileQuery {
        FileQuery {
            config_only: self.config,
            failed_only: self.failed,
            enoent_only: self.enoent,
            pid: self.pid,
            contains: self.contains.clone(),
        }
    }

    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        for (name, on) in [
            ("config", self.config),
            ("failed", self.failed),
            ("enoent", self.enoent),
        ] {
            if on {
                out.push((name, "1".to_string()));
            }
        }
        if let Some(p) = self.pid {
            out.push(("pid", p.to_string()));
        }
        if let Some(c) = &self.contains {
            out.push(("contains", c.clone()));
        }
        if self.limit != FILE_LIMIT {
            out.push(("limit", self.limit.to_string()));
        }
        if self.offset != 0 {
            out.push(("offset", self.offset.to_string()));
        }
        out
    }
}

/// Which pauses to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PauseKindFilter {
    All,
    /// Time inside a system call.
    Syscall,
    /// Time between calls (user space).
    Gap,
}

/// The filters of the pause list.
#[derive(Clone, Debug, PartialEq)]
pub struct PauseFilter {
    pub kind: PauseKindFilter,
    pub pid: Option<u32>,
    pub limit: u32,
}

impl PauseFilter {
    pub fn parse(p: &Params) -> Result<PauseFilter, ParamError> {
        let kind = match p.get("kind") {
            None | Some("all") => PauseKindFilter::All,
            Some("syscall") => PauseKindFilter::Syscall,
            Some("gap") => PauseKindFilter::Gap,
            Some(v) => {
                return Err(ParamError(format!(
                    "kind must be all, syscall or gap, not '{}'",
                    shown(v)
                )))
            }
        };
        let limit = p
            .whole("limit", 1, u64::from(PAUSE_MAX))?
            .map_or(PAUSE_LIMIT, |l| l as u32);
        Ok(PauseFilter {
            kind,
            pid: one_pid(p)?,
            limit,
        })
    }

    pub fn pairs(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        match self.kind {
            PauseKindFilter::All => {}
            PauseKindFilter::Syscall => out.push(("kind", "syscall".into())),
            PauseKindFilter::Gap => out.push(("kind", "gap".into())),
        }
        if let Some(p) = self.pid {
            out.push(("pid", p.to_string()));
        }
        if self.limit != PAUSE_LIMIT {
            out.push(("limit", self.limit.to_string()));
        }
        out
    }
}

/// `path?a=1&b=2` (just `path` without pairs), percent-encoded.
pub fn url(path: &str, pairs: &[(&str, String)]) -> String {
    if pairs.is_empty() {
        return path.to_string();
    }
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    format!("{path}?{}", s.finish())
}

impl FromQuery for SyscallFilter {
    const NAMES: &'static [&'static str] = SYSCALL_PARAMS;
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        SyscallFilter::parse(p)
    }
}

impl FromQuery for FileFilter {
    const NAMES: &'static [&'static str] = FILE_PARAMS;
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        FileFilter::parse(p)
    }
}

impl FromQuery for PauseFilter {
    const NAMES: &'static [&'static str] = PAUSE_PARAMS;
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        PauseFilter::parse(p)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn sys(q: &str) -> Result<SyscallFilter, ParamError> {
        SyscallFilter::parse(&Params::parse(Some(q), SYSCALL_PARAMS)?)
    }

    #[test]
    fn syscall_filters_round_trip_through_the_url() {
        let f = sys(
            "pid=101,102&syscall=openat,read&failed=1&errno=ENOENT&min_duration=0.5\
                     &sort=duration&order=asc&limit=20&offset=40&contains=%2Fetc&at=1:57",
        )
        .unwrap();
        assert_eq!(f.pids, vec![101, 102]);
        assert_eq!(f.names, vec!["openat", "read"]);
        assert_eq!(f.min_duration, Some(Span::from_nanos(500_000_000)));
        assert_eq!(f.at, Some((1, 57)));
        let q = f.query(true);
        assert!(q.reverse, "duration sorts longest first unless order=asc");
        assert_eq!((q.offset, q.limit), (40, Some(20)));
        assert_eq!(q.contains.as_deref(), Some("/etc"));
        let again = url("", &f.pairs());
        assert_eq!(sys(again.trim_start_matches('?')).unwrap(), f);
        assert_eq!(url("/x", &SyscallFilter::default().pairs()), "/x");
        assert_eq!(sys("").unwrap(), SyscallFilter::default());
        assert_eq!(sys("at=57").unwrap().at, Some((0, 57)));
        assert_eq!(seconds_text(Span::from_nanos(1_500_000_000)), "1.5");
        assert_eq!(seconds_text(Span::from_nanos(2_000_000_000)), "2");
        assert_eq!(seconds_text(Span::from_nanos(1000)), "0.000001");
        assert_eq!(seconds_text(Span::from_nanos(0)), "0");
    }

    #[test]
    fn hostile_values_get_clear_messages() {
        for bad in [
            "pid=abc",
            "pid=99999999999",
            "syscall=open%3B",
            "failed=yes",
            "errno=enoent",
            "min_duration=-1",
            "sort=name",
            "order=up",
            "at=1:",
            "at=x",
            "limit=0",
            "bogus=1",
        ] {
            assert!(sys(bad).is_err(), "{bad}");
        }
        assert!(sys("failed=yes").unwrap_err().0.contains("1 or 0"));
        let files = |q: &str| FileFilter::parse(&Params::parse(Some(q), FILE_PARAMS)?);
        assert!(files("pid=1,2").is_err());
        let f = files("config=1&pid=7").unwrap();
        assert!(f.config && f.query().config_only);
        assert_eq!(url("/f", &f.pairs()), "/f?config=1&pid=7");
        let pauses = |q: &str| PauseFilter::parse(&Params::parse(Some(q), PAUSE_PARAMS)?);
        assert!(pauses("kind=nap").is_err());
        assert!(pauses("limit=1001").is_err());
        assert_eq!(pauses("kind=gap").unwrap().kind, PauseKindFilter::Gap);
    }
}
