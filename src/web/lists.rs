//! The two tables of a capture: conversations and HTTP exchanges. Sorted,
//! filtered and paged by the store (one page of rows per request, however
//! large the capture); the query string is the same as the JSON twin's.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};

use super::error::Error;
use super::extract::filtered_view;
use super::fmt::{self, Human};
use super::kit::{sort_mark, CapHead, Chip, Col, FilterBox, PageResult, Pager, Query};
use super::pages::status_class;
use super::params::{self, Params};
use super::{blocking, AppState};
use crate::analysis::report::ConversationRow;
use crate::store::{CaptureId, ConvQuery, ConvSort, ExchangeRow, HttpQuery, HttpSort, Order};
use crate::time::Timestamp;

fn order_name(o: Order) -> &'static str {
    match o {
        Order::Asc => "asc",
        Order::Desc => "desc",
    }
}

/// One conversation row, formatted.
pub struct ConvItem {
    pub r: ConversationRow,
    pub href: String,
    pub class: String,
    pub start: Human,
    pub duration: Human,
    pub packets: String,
    pub bytes: Human,
    pub http: String,
}

impl ConvItem {
    /// `suffix` is added to the row's link (`?filter=…` in a filtered view).
    pub fn new(
        r: ConversationRow,
        base: &str,
        suffix: &str,
        capture_start: Option<Timestamp>,
    ) -> ConvItem {
        let class = format!(
            "proto-{} state-{}{}",
            r.proto,
            r.state,
            if r.duration.as_nanos() >= 1_000_000_000 {
                " slow"
            } else {
                ""
            }
        );
        ConvItem {
            href: format!("{base}/conversations/{}{suffix}", r.id),
            class,
            start: fmt::rel(&r.start, &capture_start),
            duration: fmt::span(&r.duration),
            packets: fmt::count(&(r.packets_c2s + r.packets_s2c)),
            bytes: fmt::bytes(&(r.bytes_c2s + r.bytes_s2c)),
            http: if r.http_exchanges == 0 {
                String::new()
            } else {
                fmt::count(&r.http_exchanges)
            },
            r,
        }
    }
}

/// (sort key, header, CSS class, hover text) of the conversation table.
const CONV_COLS: &[(ConvSort, &str, &str, &str)] = &[
    (ConvSort::Id, "#", "c-id num", "conversation number"),
    (ConvSort::Proto, "proto", "c-proto", "transport protocol"),
    (
        ConvSort::Client,
        "client",
        "c-addr",
        "the side that opened the connection",
    ),
    (
        ConvSort::Server,
        "server",
        "c-addr",
        "the side that was connected to",
    ),
    (
        ConvSort::Start,
        "start",
        "c-time num",
        "first packet, from the start of the capture",
    ),
    (
        ConvSort::Duration,
        "duration",
        "c-time num",
        "first to last packet",
    ),
    (ConvSort::Packets, "packets", "c-n num", "frames both ways"),
    (
        ConvSort::Bytes,
        "bytes",
        "c-n num",
        "original frame lengths both ways",
    ),
    (
        ConvSort::State,
        "state",
        "c-state",
        "how the conversation ended",
    ),
    (ConvSort::HttpExchanges, "HTTP", "c-n num", "HTTP exchanges"),
];

#[derive(Template, WebTemplate)]
#[template(path = "conversations.html")]
pub struct ConversationsPage {
    head: CapHead,
    path: String,
    cols: Vec<Col>,
    rows: Vec<ConvItem>,
    pager: Pager,
    f: FilterBox,
}

/// A capture's first timestamp, from its stored summary.
async fn capture_start(
    state: &AppState,
    id: crate::store::CaptureId,
) -> Result<(String, Option<Timestamp>), Error> {
    let meta = blocking(state, move |s| s.capture(&id)).await?;
    let start = meta
        .summary
        .as_ref()
        .and_then(|s| s["capture"]["first_ts"].as_f64())
        .filter(|f| f.is_finite())
        .map(Timestamp::from_secs_f64);
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
    let (results, mut fbox) = filtered_view(&state, id, &p).await?;
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
    if q.sort != d.sort || q.order != q.sort.default_order() {
        state_q.push("sort", q.sort.name());
        state_q.push("order", order_name(q.order));
    }
    if q.limit != d.limit {
        state_q.push("limit", q.limit.to_string());
    }
    if q.offset > 0 {
        state_q.push("offset", q.offset.to_string());
    }
    let cols = CONV_COLS
        .iter()
        .map(|&(key, label, class, title)| {
            let (mark, next) = sort_mark(key == q.sort, q.order, key.default_order());
            Col {
                label,
                href: state_q.href(
                    &path,
                    &[("sort", key.name()), ("order", next), ("offset", "")],
                ),
                mark,
                class,
                title: format!("{title} — click to sort"),
            }
        })
        .collect();
    let pager = Pager::new(
        &state_q,
        &path,
        q.offset,
        q.limit,
        page.items.len(),
        page.total,
    );
    let json = state_q.href(&format!("/api/captures/{id}/conversations"), &[]);
    let mut sq = Query::default();
    sq.push("filter", fbox.text.trim());
    let suffix = sq.href("", &[]);
    fbox.clear = state_q.href(&path, &[("filter", ""), ("offset", "")]);
    fbox.keep = state_q
        .0
        .iter()
        .filter(|(k, _)| *k == "sort" || *k == "order" || *k == "limit")
        .cloned()
        .collect();
    Ok(ConversationsPage {
        head: CapHead::new(&id, &name, "conversations", json),
        path,
        cols,
        rows: page
            .items
            .into_iter()
            .map(|r| ConvItem::new(r, &base, &suffix, start))
            .collect(),
        pager,
        f: fbox,
    })
}

/// One exchange row, formatted.
pub struct HttpItem {
    pub e: ExchangeRow,
    pub href: String,
    pub start: Human,
    pub total: Human,
    pub server: Human,
    pub body: Human,
    pub status_class: &'static str,
    pub wait: &'static str,
}

/// The `wait` of an exchange as a word for a badge.
pub fn wait_word(w: crate::http::Wait) -> &'static str {
    use crate::http::Wait::*;
    match w {
        Server => "server",
        Client => "client",
        Network => "network",
        Transfer => "transfer",
        Unknown => "",
    }
}

impl HttpItem {
    pub fn new(
        e: ExchangeRow,
        base: &str,
        suffix: &str,
        capture_start: Option<Timestamp>,
    ) -> HttpItem {
        HttpItem {
            href: format!(
                "{base}/conversations/{}{suffix}#x{}",
                e.row.conversation, e.id
            ),
            start: fmt::rel(&e.row.request_start, &capture_start),
            total: fmt::dur(&e.row.total_time),
            server: fmt::dur(&e.row.server_time),
            body: fmt::bytes(&e.row.response_body_bytes),
            status_class: status_class(e.row.status),
            wait: wait_word(e.row.wait),
            e,
        }
    }
}

const HTTP_COLS: &[(HttpSort, &str, &str, &str)] = &[
    (
        HttpSort::RequestStart,
        "start",
        "h-time num",
        "request's first byte, from the start of the capture",
    ),
    (HttpSort::Client, "client", "h-addr", "the client's address"),
    (HttpSort::Method, "method", "h-method", "request method"),
    (HttpSort::Host, "host", "h-host", "Host header"),
    (HttpSort::Uri, "URI", "h-uri", "request target"),
    (
        HttpSort::Status,
        "status",
        "h-status num",
        "response status",
    ),
    (
        HttpSort::TotalTime,
        "total",
        "h-time num",
        "request's first byte to response's last byte",
    ),
    (
        HttpSort::ServerTime,
        "server",
        "h-time num",
        "request's last byte to response's first byte",
    ),
    (
        HttpSort::ResponseBodyBytes,
        "body",
        "h-n num",
        "response body bytes",
    ),
];

#[derive(Template, WebTemplate)]
#[template(path = "http.html")]
pub struct HttpPage {
    head: CapHead,
    f: FilterBox,
    path: String,
    cols: Vec<Col>,
    rows: Vec<HttpItem>,
    pager: Pager,
    chips: Vec<Chip>,
    /// The form's values, as typed.
    status: String,
    method: String,
    host: String,
    uri: String,
    min_total_time: String,
    conversation: String,
    sort: String,
    order: String,
    error: Option<String>,
    any_filter: bool,
}

/// `GET /c/ID/http`: HTTP exchanges, filtered (status, method, host,
/// path, minimum time) and sortable; each row opens its conversation at
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
    // A filter that does not parse is shown next to the box, not as an error page.
    let (q, error) = match params::http_query(&p) {
        Ok(q) => (q, None),
        Err(e) => (
            HttpQuery {
                limit: 0,
                ..HttpQuery::default()
            },
            Some(e.0),
        ),
    };
    let (results, mut fbox) = filtered_view(&state, id, &p).await?;
    let page = if let (None, Some(v)) = (&error, results) {
        let qq = q.clone();
        blocking(&state, move |s| s.exchanges(&v, &qq)).await?
    } else {
        crate::store::Page {
            total: 0,
            items: Vec::new(),
        }
    };
    let mut state_q = Query::default();
    for k in [
        "status",
        "method",
        "host",
        "path",
        "min_total_time",
        "conversation",
    ] {
        state_q.push(k, typed(k));
    }
    let d = HttpQuery::default();
    if q.sort != d.sort || q.order != q.sort.default_order() {
        state_q.push("sort", q.sort.name());
        state_q.push("order", order_name(q.order));
    }
    if q.limit != d.limit && error.is_none() {
        state_q.push("limit", q.limit.to_string());
    }
    if q.offset > 0 {
        state_q.push("offset", q.offset.to_string());
    }
    let cols = HTTP_COLS
        .iter()
        .map(|&(key, label, class, title)| {
            let (mark, next) = sort_mark(key == q.sort, q.order, key.default_order());
            Col {
                label,
                href: state_q.href(
                    &path,
                    &[("sort", key.name()), ("order", next), ("offset", "")],
                ),
                mark,
                class,
                title: format!("{title} — click to sort"),
            }
        })
        .collect();
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
    .collect();
    let pager = Pager::new(
        &state_q,
        &path,
        q.offset,
        q.limit.max(1),
        page.items.len(),
        page.total,
    );
    let json = state_q.href(&format!("/api/captures/{id}/http"), &[]);
    let any_filter = [
        "status",
        "method",
        "host",
        "path",
        "min_total_time",
        "conversation",
    ]
    .iter()
    .any(|k| p.get(k).is_some());
    let mut sq = Query::default();
    sq.push("filter", fbox.text.trim());
    let suffix = sq.href("", &[]);
    fbox.clear = state_q.href(&path, &[("filter", ""), ("offset", "")]);
    Ok(HttpPage {
        head: CapHead::new(&id, &name, "http", json),
        f: fbox,
        cols,
        rows: page
            .items
            .into_iter()
            .map(|e| HttpItem::new(e, &base, &suffix, start))
            .collect(),
        pager,
        chips,
        status: status_now,
        method: typed("method"),
        host: typed("host"),
        uri: typed("path"),
        min_total_time: typed("min_total_time"),
        conversation: typed("conversation"),
        sort: if p.get("sort").is_some() {
            q.sort.name().to_string()
        } else {
            String::new()
        },
        order: if p.get("order").is_some() {
            order_name(q.order).to_string()
        } else {
            String::new()
        },
        path,
        error,
        any_filter,
    })
}
