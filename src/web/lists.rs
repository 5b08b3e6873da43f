//! The tables of a capture: conversations, HTTP exchanges, DNS lookups. Sorted,
//! filtered and paged by the store (one page of rows per request, however
//! large the capture); the query string is the same as the JSON twin's.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};

use super::error::Error;
use super::extract::filtered_view;
use super::fmt;
use super::kit::{sort_mark, CapHead, Chip, FilterBox, PageResult, Pager, Query};
use super::pages::{endpoints, status_class};
use super::params::{self, Params};
use super::{blocking, AppState};
use crate::analysis::report::{
    self, Cell, ConvQuery, ConversationRow, ExchangeRow, Kind, Row, Unit,
};
use crate::store::{CaptureId, DnsLookupRow as StoredLookup, ExchangeRow as StoredExchange};
use crate::time::{Span, Timestamp};

/// A column a page shows: a column of the table's definition, whether
/// its cell opens the row, and whether it is the row's figure that counts
/// (drawn bold, red when slow).
pub struct Shown {
    name: &'static str,
    link: bool,
    strong: bool,
}

impl Shown {
    /// The column's name.
    pub(crate) fn name(&self) -> &'static str {
        self.name
    }
}

pub(crate) const fn col(name: &'static str) -> Shown {
    Shown {
        name,
        link: false,
        strong: false,
    }
}

pub(crate) const fn link(name: &'static str) -> Shown {
    Shown {
        name,
        link: true,
        strong: false,
    }
}

pub(crate) const fn strong(name: &'static str) -> Shown {
    Shown {
        name,
        link: false,
        strong: true,
    }
}

/// The conversation page's columns, in order (any column of
/// [`ConversationRow`]'s definition can be listed).
const CONV_SHOWN: &[Shown] = &[
    link("id"),
    col("proto"),
    col("client"),
    link("server"),
    col("start"),
    strong("duration"),
    col("packets"),
    col("bytes"),
    col("state"),
    col("http_exchanges"),
];

/// The HTTP page's columns, in order (any column of [`ExchangeRow`]'s).
const HTTP_SHOWN: &[Shown] = &[
    col("request_start"),
    col("client"),
    col("method"),
    col("host"),
    link("uri"),
    col("status"),
    strong("total_time"),
    col("server_time"),
    col("response_body_bytes"),
    col("wait"),
];

/// A column header: sorts on click when its column sorts.
pub struct Head {
    pub label: &'static str,
    /// Where a click sorts (none for columns that do not sort).
    pub href: Option<String>,
    /// `▲`, `▼` or nothing.
    pub mark: &'static str,
    /// CSS class (width, alignment).
    pub class: String,
    pub title: String,
}

/// One cell, formatted.
#[derive(Default)]
pub struct CellView {
    pub class: String,
    /// Hover text: the exact value.
    pub title: String,
    pub text: String,
    /// The row's link, on the columns that open the row.
    pub href: Option<String>,
    /// The cell is a badge with this class.
    pub badge: Option<String>,
}

/// One row, formatted.
pub struct RowView {
    pub class: String,
    pub cells: Vec<CellView>,
}

/// The headers of a page's table; `prefix` makes the CSS classes
/// (`c-time`, `h-addr`).
pub(crate) fn heads<R: Row>(
    shown: &[Shown],
    prefix: &str,
    q: &report::Query<R>,
    state_q: &Query,
    path: &str,
) -> Vec<Head> {
    shown
        .iter()
        .filter_map(|s| R::column(s.name))
        .map(|(i, c)| {
            let class = if c.kind.is_numeric() {
                format!("{prefix}-{} num", c.look_word())
            } else {
                format!("{prefix}-{}", c.look_word())
            };
            match c.sort {
                Some(default) => {
                    let active = q.sort.column() == Some(i);
                    let (mark, next) = sort_mark(active, q.order, default);
                    Head {
                        label: c.title,
                        href: Some(
                            state_q
                                .href(path, &[("sort", c.name), ("order", next), ("offset", "")]),
                        ),
                        mark,
                        class,
                        title: format!("{} — click to sort", c.help),
                    }
                }
                None => Head {
                    label: c.title,
                    href: None,
                    mark: "",
                    class,
                    title: c.help.to_string(),
                },
            }
        })
        .collect()
}

/// A cell as every column of its kind looks; `special` may replace it
/// for the columns that need their own look.
pub(crate) fn cell_view<R: Row>(
    row: &R,
    shown: &Shown,
    href: &str,
    capture_start: Option<Timestamp>,
    special: fn(&R, &str) -> Option<CellView>,
) -> CellView {
    let Some((_, c)) = R::column(shown.name) else {
        return CellView::default();
    };
    let mut v = special(row, c.name).unwrap_or_else(|| {
        let cell = (c.get)(row);
        let int = cell.as_int();
        let human = |h: fmt::Human| CellView {
            class: "num".into(),
            title: h.full,
            text: h.text,
            ..CellView::default()
        };
        match (c.kind, c.unit) {
            (Kind::Time, _) => human(fmt::rel(&int.map(Timestamp::from_nanos), &capture_start)),
            (Kind::Span, _) => human(fmt::dur(&int.map(Span::from_nanos))),
            (Kind::Int, Unit::Bytes) => human(fmt::bytes(&int.map_or(0, |n| n.max(0) as u64))),
            (Kind::Int, Unit::Frame) => CellView {
                class: "num".into(),
                // A frame number is a name, as in Wireshark: "1422", no separator.
                text: int.map_or(String::new(), |n| (n.max(0) as u64 + 1).to_string()),
                ..CellView::default()
            },
            (Kind::Int, _) => CellView {
                class: "num".into(),
                text: int.map_or(String::new(), |n| fmt::count(&(n.max(0) as u64))),
                ..CellView::default()
            },
            (Kind::Word, _) => CellView {
                badge: Some(c.name.to_string()),
                text: text_of(&cell),
                ..CellView::default()
            },
            (Kind::Addr, _) => CellView {
                class: "addr".into(),
                title: text_of(&cell),
                text: text_of(&cell),
                ..CellView::default()
            },
            _ => CellView {
                class: c.name.to_string(),
                text: text_of(&cell),
                ..CellView::default()
            },
        }
    });
    if shown.strong {
        v.class.push_str(" dur");
    }
    if shown.link {
        v.href = Some(href.to_string());
    }
    v
}

fn text_of(cell: &Cell<'_>) -> String {
    match cell {
        Cell::Null => String::new(),
        Cell::Int(n) => n.to_string(),
        Cell::Bool(b) => b.to_string(),
        Cell::Text(t) => t.to_string(),
    }
}

/// Conversation cells with a look of their own.
fn conv_special(r: &ConversationRow, name: &str) -> Option<CellView> {
    let num = |text: String, title: String| CellView {
        class: "num".into(),
        title,
        text,
        ..CellView::default()
    };
    match name {
        "packets" => Some(num(
            fmt::count(&r.packets()),
            format!("{} → · {} ←", r.packets_c2s, r.packets_s2c),
        )),
        "bytes" => {
            let b = fmt::bytes(&r.bytes());
            Some(num(
                b.text,
                format!("{}: {} → · {} ←", b.full, r.bytes_c2s, r.bytes_s2c),
            ))
        }
        // Most conversations carry none: a blank reads faster than zeros.
        "http_exchanges" if r.http_exchanges == 0 => Some(num(String::new(), String::new())),
        _ => None,
    }
}

/// Exchange cells with a look of their own.
fn http_special(e: &ExchangeRow, name: &str) -> Option<CellView> {
    match name {
        "status" => Some(CellView {
            class: "num".into(),
            title: e.reason.clone().unwrap_or_default(),
            text: e.status.map_or("–".into(), |s| s.to_string()),
            badge: Some(format!("status {}", status_class(e.status))),
            ..CellView::default()
        }),
        "wait" => {
            let word = wait_word(e.wait, e.total_time);
            Some(CellView {
                title: e.verdict.clone(),
                badge: (!word.is_empty()).then(|| format!("wait w-{word}")),
                text: word.to_string(),
                ..CellView::default()
            })
        }
        "uri" => Some(CellView {
            class: "uri".into(),
            title: e.uri.clone().unwrap_or_default(),
            text: e.uri.clone().unwrap_or_else(|| "(no request seen)".into()),
            ..CellView::default()
        }),
        "host" => Some(CellView {
            class: "host".into(),
            title: e.host.clone().unwrap_or_default(),
            text: e.host.clone().unwrap_or_default(),
            ..CellView::default()
        }),
        _ => None,
    }
}

/// A conversation row: its cells and its colours (protocol, how it
/// ended, slow).
fn conv_row(
    r: &ConversationRow,
    base: &str,
    suffix: &str,
    capture_start: Option<Timestamp>,
) -> RowView {
    let href = format!("{base}/conversations/{}{suffix}", r.id);
    RowView {
        class: format!(
            "proto-{} state-{}{}",
            r.proto,
            r.state,
            if r.duration.as_nanos() >= 1_000_000_000 {
                " slow"
            } else {
                ""
            }
        ),
        cells: CONV_SHOWN
            .iter()
            .map(|s| cell_view(r, s, &href, capture_start, conv_special))
            .collect(),
    }
}

/// An exchange row: opens its conversation at the exchange.
fn http_row(
    e: &StoredExchange,
    base: &str,
    suffix: &str,
    capture_start: Option<Timestamp>,
) -> RowView {
    let href = format!(
        "{base}/conversations/{}{suffix}#x{}",
        e.row.conversation, e.id
    );
    RowView {
        class: status_class(e.row.status).to_string(),
        cells: HTTP_SHOWN
            .iter()
            .map(|s| cell_view(&e.row, s, &href, capture_start, http_special))
            .collect(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "conversations.html")]
pub struct ConversationsPage {
    head: CapHead,
    path: String,
    cols: Vec<Head>,
    rows: Vec<RowView>,
    pager: Pager,
    f: FilterBox,
}

/// A capture's first timestamp, from its stored summary.
pub(crate) async fn capture_start(
    state: &AppState,
    id: crate::store::CaptureId,
) -> Result<(String, Option<Timestamp>), Error> {
    let meta = blocking(state, move |s| s.capture(&id)).await?;
    let start = meta.summary.as_ref().and_then(|s| s.capture.first_ts);
    Ok((meta.name, start))
}

/// `GET /c/ID/conversations`: the conversation table, sortable by any
/// column (duration, longest first, by default).
pub async fn conversations(
    State(state): State<AppState>,
    id: CaptureId,
    RawQuery(raw): RawQuery,
) -> PageResult<ConversationsPage> {
    let p = Params::parse(raw.as_deref(), params::CONV_PARAMS).map_err(Error::from)?;
    let q: ConvQuery = params::conv_query(&p).map_err(Error::from)?;
    let (name, start) = capture_start(&state, id).await?;
    let (results, mut fbox) =
        filtered_view(&state, id, &p, &format!("/c/{id}/conversations")).await?;
    let qq = q.clone();
    let page = match results {
        Some(v) => blocking(&state, move |s| s.conversations(&v, &qq)).await?,
        None => crate::store::Page {
            total: 0,
            items: Vec::new(),
        },
    };
    let base = format!("/c/{id}");
    let path = format!("{base}/conversations");
    let d = ConvQuery::default();
    let mut state_q = Query::default();
    state_q.push("filter", fbox.text.trim());
    for k in ConvQuery::filter_params() {
        state_q.push(k, p.get(k).unwrap_or(""));
    }
    if q.sort != d.sort || q.order != q.sort.default_order() {
        state_q.push("sort", q.sort.name());
        state_q.push("order", q.order.name());
    }
    if q.limit != d.limit {
        state_q.push("limit", q.limit.to_string());
    }
    if q.offset > 0 {
        state_q.push("offset", q.offset.to_string());
    }
    let cols = heads(CONV_SHOWN, "c", &q, &state_q, &path);
    let pager = keyset_pager(&state_q, &path, &q, &page, |r| r.id);
    let json = json_twin(&state_q, &format!("/api/captures/{id}/conversations"), &q);
    let mut sq = Query::default();
    sq.push("filter", fbox.text.trim());
    let suffix = sq.href("", &[]);
    fbox.clear = state_q.href(&path, &[("filter", ""), ("offset", "")]);
    fbox.keep = state_q
        .0
        .iter()
        .filter(|(k, _)| {
            ["sort", "order", "limit"].contains(k) || ConvQuery::filter_params().any(|p| p == *k)
        })
        .cloned()
        .collect();
    if let Some(c) = &mut fbox.compute {
        c.back = state_q.href(&path, &[]);
    }
    Ok(ConversationsPage {
        head: CapHead::new(&id, &name, "conversations", json).keeping(fbox.kept()),
        path,
        cols,
        rows: page
            .items
            .iter()
            .map(|r| conv_row(r, &base, &suffix, start))
            .collect(),
        pager,
        f: fbox,
    })
}

/// Exchanges faster than this in all get no wait badge: whoever waited,
/// the wait is not worth a look (the HTTP page says so).
pub const WAIT_BADGE_MIN: Span = Span::from_nanos(1_000_000);

/// The `wait` of an exchange as a word for a badge (none below
/// [`WAIT_BADGE_MIN`] in total).
pub fn wait_word(w: crate::http::Wait, total: Option<Span>) -> &'static str {
    use crate::http::Wait::*;
    if total.is_some_and(|t| t < WAIT_BADGE_MIN) {
        return "";
    }
    match w {
        Server => "server",
        Client => "client",
        Network => "network",
        Transfer => "transfer",
        Unknown => "",
    }
}

/// A page of a table as the JSON API answers it: `next` is the cursor of
/// the page after it (give it as `after=`), while there are more rows.
#[derive(serde::Serialize)]
pub struct Listing<T> {
    pub total: u64,
    pub items: Vec<T>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<u64>,
}

/// The cursor after the last row of `page` (its stored id), when a page
/// follows it; `id` gives a row's stored id.
fn next_cursor<R: Row, T>(
    q: &report::Query<R>,
    page: &crate::store::Page<T>,
    id: impl Fn(&T) -> u64,
) -> Option<u64> {
    let shown = page.items.len() as u64;
    let more = shown == u64::from(q.limit) && q.offset + shown < page.total;
    page.items.last().map(id).filter(|_| more)
}

/// `page` with the cursor of the next one.
pub fn listing<R: Row, T>(
    q: &report::Query<R>,
    page: crate::store::Page<T>,
    id: impl Fn(&T) -> u64,
) -> Listing<T> {
    Listing {
        next: next_cursor(q, &page, id),
        total: page.total,
        items: page.items,
    }
}

/// The pager of a table page: its next link seeks with the cursor after
/// the last row shown (`after=`) and carries the offset the pager counts
/// with; a previous page past [`params::MAX_COUNTED_OFFSET`] has no link
/// (it could only be counted to).
fn keyset_pager<R: Row, T>(
    state_q: &Query,
    path: &str,
    q: &report::Query<R>,
    page: &crate::store::Page<T>,
    id: impl Fn(&T) -> u64,
) -> Pager {
    let limit = q.limit.max(1);
    let shown = page.items.len();
    let mut pager = Pager::new(state_q, path, q.offset, limit, shown, page.total);
    if q.offset.saturating_sub(u64::from(limit)) > params::MAX_COUNTED_OFFSET {
        pager.prev = None;
    }
    pager.next = next_cursor(q, page, id).map(|after| {
        let offset = (q.offset + shown as u64).to_string();
        state_q.href(path, &[("offset", &offset), ("after", &after.to_string())])
    });
    pager
}

/// The address of a page's JSON twin: the page's state and its cursor.
fn json_twin<R: Row>(state_q: &Query, path: &str, q: &report::Query<R>) -> String {
    let after = q.after.map(|a| a.to_string()).unwrap_or_default();
    state_q.href(path, &[("after", &after)])
}

/// What a filtered list page shows: its query (a filter that does not
/// parse is shown next to the box, not as an error page: no rows then),
/// the pcap-filter box, the page of rows, and the links' state.
struct Listed<R: Row, T> {
    q: report::Query<R>,
    error: Option<String>,
    fbox: FilterBox,
    page: crate::store::Page<T>,
    state_q: Query,
}

/// Reads a list page's query and fetches its rows with `fetch`; the
/// links keep the pcap filter, the `filters` as typed, and the sort,
/// limit and offset when they are not the default.
async fn list_rows<R, T, F>(
    state: &AppState,
    id: CaptureId,
    p: &Params,
    path: &str,
    filters: &[&'static str],
    parse: fn(&Params) -> Result<report::Query<R>, params::ParamError>,
    fetch: F,
) -> Result<Listed<R, T>, Error>
where
    R: Row,
    report::Query<R>: Default,
    T: Send + 'static,
    F: Fn(
            &dyn crate::store::Store,
            &CaptureId,
            &report::Query<R>,
        ) -> crate::store::Result<crate::store::Page<T>>
        + Send
        + 'static,
{
    let (q, error) = match parse(p) {
        Ok(q) => (q, None),
        Err(e) => (
            report::Query {
                limit: 0,
                ..report::Query::default()
            },
            Some(e.0),
        ),
    };
    let (results, fbox) = filtered_view(state, id, p, path).await?;
    let page = if let (None, Some(v)) = (&error, results) {
        let qq = q.clone();
        blocking(state, move |s| fetch(s, &v, &qq)).await?
    } else {
        crate::store::Page {
            total: 0,
            items: Vec::new(),
        }
    };
    let mut state_q = Query::default();
    state_q.push("filter", fbox.text.trim());
    for &k in filters {
        state_q.push(k, p.get(k).unwrap_or(""));
    }
    let d = report::Query::<R>::default();
    if q.sort != d.sort || q.order != q.sort.default_order() {
        state_q.push("sort", q.sort.name());
        state_q.push("order", q.order.name());
    }
    if q.limit != d.limit && error.is_none() {
        state_q.push("limit", q.limit.to_string());
    }
    if q.offset > 0 {
        state_q.push("offset", q.offset.to_string());
    }
    let mut fbox = fbox;
    if let Some(c) = &mut fbox.compute {
        c.back = state_q.href(path, &[]);
    }
    Ok(Listed {
        q,
        error,
        fbox,
        page,
        state_q,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "http.html")]
pub struct HttpPage {
    head: CapHead,
    f: FilterBox,
    path: String,
    cols: Vec<Head>,
    rows: Vec<RowView>,
    pager: Pager,
    chips: Vec<Chip>,
    /// The form's values, as typed.
    status: String,
    method: String,
    host: String,
    uri: String,
    min_total_time: String,
    max_total_time: String,
    grpc: String,
    /// Filters set from links only (kept by the form as hidden fields).
    hidden: Vec<(&'static str, String)>,
    conversation: String,
    sort: String,
    order: String,
    error: Option<String>,
    any_filter: bool,
}

/// The HTTP page's filters, as the form names them: the first
/// [`HTTP_FIELDS`] have a field of their own, the rest travel in the form
/// as hidden inputs.
const HTTP_FILTERS: [&str; 14] = [
    "status",
    "method",
    "host",
    "path",
    "min_total_time",
    "max_total_time",
    "grpc",
    "conversation",
    "grpc_method",
    "http",
    "stream",
    "template",
    "rename",
    "split",
];
const HTTP_FIELDS: usize = 8;

/// `GET /c/ID/http`: HTTP exchanges, filtered (status, method, host,
/// path, time range) and sortable; each row opens its conversation at
/// that exchange.
pub async fn http(
    State(state): State<AppState>,
    id: CaptureId,
    RawQuery(raw): RawQuery,
) -> PageResult<HttpPage> {
    let p = Params::parse(raw.as_deref(), params::HTTP_PARAMS).map_err(Error::from)?;
    let (name, start) = capture_start(&state, id).await?;
    let typed = |k: &str| p.get(k).unwrap_or("").to_string();
    let base = format!("/c/{id}");
    let path = format!("{base}/http");
    let template = endpoints::template_filter(&p);
    let Listed {
        q,
        error,
        mut fbox,
        page,
        state_q,
    } = list_rows(
        &state,
        id,
        &p,
        &path,
        &HTTP_FILTERS,
        endpoints::http_query,
        move |s, v, q| endpoints::exchanges(s, v, q, template.as_ref()),
    )
    .await?;
    let cols = heads(HTTP_SHOWN, "h", &q, &state_q, &path);
    let status_now = typed("status");
    let chips = [
        ("2xx", "s2"),
        ("3xx", "s3"),
        ("4xx", "s4"),
        ("5xx", "s5"),
        ("none", "s0"),
    ]
    .into_iter()
    .map(|(label, class)| {
        let on = status_now.eq_ignore_ascii_case(label);
        Chip {
            label: if label == "none" {
                "no response"
            } else {
                label
            }
            .into(),
            href: state_q.href(
                &path,
                &[("status", if on { "" } else { label }), ("offset", "")],
            ),
            on,
            class,
        }
    })
    .collect::<Vec<Chip>>();
    let grpc_now = typed("grpc");
    let mut chips = chips;
    if !grpc_now.is_empty() || page.items.iter().any(|e| e.row.grpc_service.is_some()) {
        let on = grpc_now.eq_ignore_ascii_case("error");
        chips.push(Chip {
            label: "gRPC errors".into(),
            href: state_q.href(
                &path,
                &[("grpc", if on { "" } else { "error" }), ("offset", "")],
            ),
            on,
            class: "s5",
        });
    }
    let pager = keyset_pager(&state_q, &path, &q, &page, |e| e.id);
    let json = json_twin(&state_q, &format!("/api/captures/{id}/http"), &q);
    let any_filter = HTTP_FILTERS.iter().any(|k| p.get(k).is_some());
    let mut sq = Query::default();
    sq.push("filter", fbox.text.trim());
    let suffix = sq.href("", &[]);
    fbox.clear = state_q.href(&path, &[("filter", ""), ("offset", "")]);
    Ok(HttpPage {
        head: CapHead::new(&id, &name, "http", json).keeping(fbox.kept()),
        f: fbox,
        cols,
        rows: page
            .items
            .iter()
            .map(|e| http_row(e, &base, &suffix, start))
            .collect(),
        pager,
        chips,
        status: status_now,
        method: typed("method"),
        host: typed("host"),
        uri: typed("path"),
        min_total_time: typed("min_total_time"),
        max_total_time: typed("max_total_time"),
        grpc: grpc_now,
        hidden: HTTP_FILTERS[HTTP_FIELDS..]
            .iter()
            .map(|&k| (k, typed(k)))
            .filter(|(_, v)| !v.is_empty())
            .collect(),
        conversation: typed("conversation"),
        sort: if p.get("sort").is_some() {
            q.sort.name().to_string()
        } else {
            String::new()
        },
        order: if p.get("order").is_some() {
            q.order.name().to_string()
        } else {
            String::new()
        },
        path,
        error,
        any_filter,
    })
}

/// The DNS page's columns, in order (any column of
/// [`DnsRow`](report::DnsRow)'s).
const DNS_SHOWN: &[Shown] = &[
    col("query_time"),
    col("transport"),
    col("client"),
    col("server"),
    link("name"),
    col("qtype"),
    col("rcode"),
    strong("response_time"),
    col("retransmits"),
    col("status"),
    col("retry_of"),
    col("answers"),
];

/// A lookup row: opens its conversation.
fn dns_row(
    d: &StoredLookup,
    base: &str,
    suffix: &str,
    capture_start: Option<Timestamp>,
) -> RowView {
    let href = format!("{base}/conversations/{}{suffix}", d.row.conversation);
    let failed = d.row.rcode.as_deref().is_some_and(|r| r != "NOERROR");
    RowView {
        class: if failed || d.row.response_time.is_none() {
            "s4".into()
        } else {
            String::new()
        },
        cells: DNS_SHOWN
            .iter()
            .map(|s| cell_view(&d.row, s, &href, capture_start, |_, _| None))
            .collect(),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "dns.html")]
pub struct DnsPage {
    head: CapHead,
    f: FilterBox,
    path: String,
    cols: Vec<Head>,
    rows: Vec<RowView>,
    pager: Pager,
    chips: Vec<Chip>,
    /// The form's values, as typed.
    name: String,
    qtype: String,
    rcode: String,
    min_response_time: String,
    hidden: Vec<(&'static str, String)>,
    error: Option<String>,
    any_filter: bool,
}

/// The DNS page's filters, as the form names them.
const DNS_FILTERS: [&str; 6] = [
    "name",
    "type",
    "rcode",
    "status",
    "min_response_time",
    "conversation",
];

/// `GET /c/ID/dns`: DNS lookups, filtered (name, type, rcode, status,
/// minimum response time) and sortable ("slowest lookups": sort by
/// response time); each row opens its conversation.
pub async fn dns(
    State(state): State<AppState>,
    id: CaptureId,
    RawQuery(raw): RawQuery,
) -> PageResult<DnsPage> {
    let p = Params::parse(raw.as_deref(), params::DNS_PARAMS).map_err(Error::from)?;
    let (name, start) = capture_start(&state, id).await?;
    let typed = |k: &str| p.get(k).unwrap_or("").to_string();
    let base = format!("/c/{id}");
    let path = format!("{base}/dns");
    let Listed {
        q,
        error,
        mut fbox,
        page,
        state_q,
    } = list_rows(
        &state,
        id,
        &p,
        &path,
        &DNS_FILTERS,
        params::dns_query,
        |s, v, q| s.dns(v, q),
    )
    .await?;
    let cols = heads(DNS_SHOWN, "d", &q, &state_q, &path);
    let chip = |label: &str, param: &'static str, value: &'static str, class: &'static str| {
        let on = typed(param).eq_ignore_ascii_case(value);
        Chip {
            label: label.into(),
            href: state_q.href(
                &path,
                &[(param, if on { "" } else { value }), ("offset", "")],
            ),
            on,
            class,
        }
    };
    let chips = vec![
        chip("NXDOMAIN", "rcode", "NXDOMAIN", "s4"),
        chip("SERVFAIL", "rcode", "SERVFAIL", "s5"),
        chip("unanswered", "status", "unanswered", "s0"),
        chip("truncated", "status", "truncated", "s3"),
    ];
    let pager = keyset_pager(&state_q, &path, &q, &page, |d| d.id);
    let json = json_twin(&state_q, &format!("/api/captures/{id}/dns"), &q);
    let any_filter = DNS_FILTERS.iter().any(|k| p.get(k).is_some());
    // What the form does not show but keeps.
    let hidden = ["status", "conversation"]
        .into_iter()
        .map(|k| (k, typed(k)))
        .chain(
            ["sort", "order"]
                .into_iter()
                .filter(|k| p.get(k).is_some())
                .map(|k| {
                    let v = if k == "sort" {
                        q.sort.name()
                    } else {
                        q.order.name()
                    };
                    (k, v.to_string())
                }),
        )
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let mut sq = Query::default();
    sq.push("filter", fbox.text.trim());
    let suffix = sq.href("", &[]);
    fbox.clear = state_q.href(&path, &[("filter", ""), ("offset", "")]);
    Ok(DnsPage {
        head: CapHead::new(&id, &name, "dns", json).keeping(fbox.kept()),
        f: fbox,
        cols,
        rows: page
            .items
            .iter()
            .map(|d| dns_row(d, &base, &suffix, start))
            .collect(),
        pager,
        chips,
        name: typed("name"),
        qtype: typed("type"),
        rcode: typed("rcode"),
        min_response_time: typed("min_response_time"),
        hidden,
        path,
        error,
        any_filter,
    })
}
