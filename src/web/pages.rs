//! The HTML pages: thin handlers over the same store calls as the API,
//! server-rendered with askama (auto-escaped). Every page's state is in
//! its URL; the little JavaScript there is (upload progress, copy link)
//! lives in `static/`.
//!
//! This file holds what every page shares (errors, the capture header,
//! links that keep a page's state), the home page, the capture overview,
//! deletion and the static files; `lists.rs` has the conversation and
//! HTTP tables, `conv.rs` one conversation.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

use super::api::{with_progress, CaptureStatus};
use super::error::Error;
use super::fmt::{self, Human};
use super::params::Params;
use super::svg::{self, Svg};
use super::{blocking, capture_id, upload, AppState};
use crate::analysis::report::ConversationRow;
use crate::store::{Bucket, CaptureId, ConvQuery, ExchangeRow, HttpQuery, HttpSort, Order, Status};
use crate::time::{Span, Timestamp};

/// A page that failed: the error's status and message as HTML.
pub struct PageError(Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    status: u16,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = ErrorPage {
            status: status.as_u16(),
            message: self.0.public_message(),
        };
        match page.render() {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(_) => status.into_response(),
        }
    }
}

pub(crate) type PageResult<T> = Result<T, PageError>;

/// What the header of every capture page shows.
pub struct CapHead {
    pub id: String,
    pub name: String,
    /// Which tab is open: overview, conversations, http, conversation.
    pub tab: &'static str,
    /// The JSON twin of the page.
    pub json: String,
}

impl CapHead {
    pub fn new(id: &CaptureId, name: &str, tab: &'static str, json: String) -> CapHead {
        CapHead {
            id: id.to_string(),
            name: name.to_string(),
            tab,
            json,
        }
    }
}

/// A page's state as query parameters in a fixed order; links made from
/// it change some and keep the rest, so every link is a share link.
#[derive(Clone, Debug, Default)]
pub struct Query(pub Vec<(&'static str, String)>);

impl Query {
    /// Adds a parameter unless its value is empty.
    pub fn push(&mut self, k: &'static str, v: impl Into<String>) {
        let v = v.into();
        if !v.is_empty() {
            self.0.push((k, v));
        }
    }

    /// `path?…` with `set` replacing (or, with an empty value, removing)
    /// parameters.
    pub fn href(&self, path: &str, set: &[(&'static str, &str)]) -> String {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if !set.iter().any(|(sk, _)| sk == k) {
                ser.append_pair(k, v);
            }
        }
        for (k, v) in set {
            if !v.is_empty() {
                ser.append_pair(k, v);
            }
        }
        let q = ser.finish();
        if q.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{q}")
        }
    }
}

/// Previous/next links of a paged table.
pub struct Pager {
    pub text: String,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    pub fn new(q: &Query, path: &str, offset: u64, limit: u32, shown: usize, total: u64) -> Pager {
        let text = if shown == 0 {
            format!("0 of {}", fmt::count(&total))
        } else {
            format!(
                "{}–{} of {}",
                fmt::count(&(offset + 1)),
                fmt::count(&(offset + shown as u64)),
                fmt::count(&total)
            )
        };
        let prev = (offset > 0).then(|| {
            let p = offset.saturating_sub(u64::from(limit));
            q.href(
                path,
                &[(
                    "offset",
                    &if p == 0 { String::new() } else { p.to_string() },
                )],
            )
        });
        let next = (offset + (shown as u64) < total).then(|| {
            q.href(
                path,
                &[("offset", &(offset + u64::from(limit)).to_string())],
            )
        });
        Pager { text, prev, next }
    }
}

/// Sorting marks for a header: (mark, order a click asks for).
pub fn sort_mark(active: bool, order: Order, default: Order) -> (&'static str, &'static str) {
    let name = |o: Order| match o {
        Order::Asc => "asc",
        Order::Desc => "desc",
    };
    if active {
        match order {
            Order::Asc => ("▲", "desc"),
            Order::Desc => ("▼", "asc"),
        }
    } else {
        ("", name(default))
    }
}

/// The capture summary as the pages read it (from the stored JSON).
#[derive(Default)]
pub struct Summary {
    pub format: String,
    pub compressed: bool,
    pub packets: u64,
    pub matched: Option<u64>,
    pub first_ts: Option<Timestamp>,
    pub last_ts: Option<Timestamp>,
    pub duration: Option<Span>,
    pub link_types: Vec<String>,
    pub warnings: Vec<String>,
    pub conversations: u64,
    pub protocols: Vec<(String, u64)>,
    pub exchanges: u64,
    /// (class name as the status filter spells it, label, count).
    pub classes: Vec<(String, String, u64)>,
    /// (label, total_time, server_time).
    pub percentiles: Vec<(&'static str, Human, Human)>,
    pub histogram: Vec<Bucket>,
}

fn secs(v: &serde_json::Value) -> Option<f64> {
    v.as_f64().filter(|s| s.is_finite())
}

fn link_type_name(dlt: u64) -> String {
    let name = match dlt {
        0 => "BSD loopback",
        1 => "Ethernet",
        12 | 14 | 101 => "raw IP",
        108 => "OpenBSD loopback",
        113 => "Linux cooked (SLL)",
        228 => "raw IPv4",
        229 => "raw IPv6",
        239 => "NFLOG",
        276 => "Linux cooked v2 (SLL2)",
        _ => return format!("DLT {dlt}"),
    };
    format!("{name} ({dlt})")
}

impl Summary {
    pub fn from_json(v: Option<&serde_json::Value>) -> Summary {
        let Some(v) = v else {
            return Summary::default();
        };
        let c = &v["capture"];
        let h = &v["http"];
        let ts = |x: &serde_json::Value| secs(x).map(Timestamp::from_secs_f64);
        let span =
            |x: &serde_json::Value| secs(x).map(|s| Span::from_nanos((s * 1e9).round() as i64));
        let u = |x: &serde_json::Value| x.as_u64().unwrap_or(0);
        let strings = |x: &serde_json::Value| -> Vec<String> {
            x.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let mut classes = Vec::new();
        for (k, label) in [
            ("1xx", "1xx"),
            ("2xx", "2xx"),
            ("3xx", "3xx"),
            ("4xx", "4xx"),
            ("5xx", "5xx"),
            ("no_response", "no response"),
            ("other", "other"),
        ] {
            let n = u(&h["by_class"][k]);
            if n > 0 {
                let filter = if k == "no_response" { "none" } else { k };
                classes.push((filter.to_string(), label.to_string(), n));
            }
        }
        let percentiles = ["p50", "p90", "p99", "max"]
            .into_iter()
            .map(|p| {
                (
                    p,
                    fmt::dur(&span(&h["total_time"][p])),
                    fmt::dur(&span(&h["server_time"][p])),
                )
            })
            .collect();
        let histogram = h["histogram"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|b| Bucket {
                        below: span(&b["below"]),
                        count: u(&b["count"]),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let mut protocols: Vec<(String, u64)> = c["protocols"]
            .as_object()
            .map(|m| m.iter().map(|(k, v)| (k.clone(), u(v))).collect())
            .unwrap_or_default();
        protocols.sort_by_key(|p| std::cmp::Reverse(p.1));
        Summary {
            format: c["format"].as_str().unwrap_or("").to_string(),
            compressed: c["compressed"].as_bool().unwrap_or(false),
            packets: u(&c["packets"]),
            matched: c["matched"].as_u64(),
            first_ts: ts(&c["first_ts"]),
            last_ts: ts(&c["last_ts"]),
            duration: span(&c["duration"]),
            link_types: c["link_types"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|d| d.as_u64())
                        .map(link_type_name)
                        .collect()
                })
                .unwrap_or_default(),
            warnings: strings(&c["warnings"]),
            conversations: u(&c["conversations"]),
            protocols,
            exchanges: u(&h["exchanges"]),
            classes,
            percentiles,
            histogram,
        }
    }
}

/// One row of the capture list.
pub struct CaptureItem {
    pub c: CaptureStatus,
    pub size: Human,
    pub packets: String,
    pub duration: Human,
    pub created: Human,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct Home {
    captures: Vec<CaptureItem>,
    total: u64,
    max_upload_mib: u64,
}

/// `GET /`: the upload area and the latest captures.
pub async fn home(State(state): State<AppState>, RawQuery(q): RawQuery) -> PageResult<Home> {
    Params::parse(q.as_deref(), &[]).map_err(Error::from)?;
    let page = blocking(&state, |s| s.captures(100, 0)).await?;
    let captures = page
        .items
        .into_iter()
        .map(|m| {
            let c = with_progress(&state, m);
            let sum = Summary::from_json(c.meta.summary.as_ref());
            let done = c.meta.status == Status::Done;
            CaptureItem {
                size: fmt::bytes(&c.meta.size),
                packets: if done {
                    fmt::count(&c.packets)
                } else {
                    "–".into()
                },
                duration: if done {
                    fmt::dur(&sum.duration)
                } else {
                    fmt::dur(&None)
                },
                created: fmt::when(&Some(c.meta.created)),
                c,
            }
        })
        .collect();
    Ok(Home {
        captures,
        total: page.total,
        max_upload_mib: state.max_upload >> 20,
    })
}

/// `POST /upload`: the form's upload (without JavaScript); redirects to
/// the capture's page.
pub async fn upload(State(state): State<AppState>, req: Request) -> PageResult<Redirect> {
    let meta = upload::receive(&state, None, req).await?;
    state.jobs.submit(meta.id);
    Ok(Redirect::to(&format!("/c/{}", meta.id)))
}

/// A row of the overview's "slowest exchanges".
pub struct SlowExchange {
    pub e: ExchangeRow,
    pub href: String,
    pub total: Human,
    pub server: Human,
    pub status_class: &'static str,
}

/// CSS class of a status code.
pub fn status_class(s: Option<u16>) -> &'static str {
    match s {
        None => "s0",
        Some(100..=199) => "s1",
        Some(200..=299) => "s2",
        Some(300..=399) => "s3",
        Some(400..=499) => "s4",
        Some(_) => "s5",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "capture.html")]
pub struct CapturePage {
    head: CapHead,
    c: CaptureStatus,
    percent: String,
    done: bool,
    busy: bool,
    s: Summary,
    size: Human,
    created: Human,
    duration: Human,
    first: Human,
    histogram: Svg,
    timeline: Svg,
    timeline_shown: usize,
    slowest: Vec<SlowExchange>,
    longest: Vec<ConversationRow>,
}

/// Conversations drawn on the overview's timeline.
const TIMELINE_ROWS: u32 = 40;

/// `GET /c/ID`: progress while analyzing, then the summary a person reads
/// first.
pub async fn capture(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<CapturePage> {
    Params::parse(q.as_deref(), &[]).map_err(Error::from)?;
    let id = capture_id(&id)?;
    let meta = blocking(&state, move |s| s.capture(&id)).await?;
    let c = with_progress(&state, meta);
    let done = c.meta.status == Status::Done;
    let s = Summary::from_json(c.meta.summary.as_ref());
    let base = format!("/c/{id}");
    let (mut longest, mut slowest) = (Vec::new(), Vec::new());
    let (mut histogram, mut timeline) = (Svg::default(), Svg::default());
    if done {
        let (convs, http) = blocking(&state, move |st| {
            let convs = st.conversations(
                &id,
                &ConvQuery {
                    limit: TIMELINE_ROWS,
                    ..ConvQuery::default()
                },
            )?;
            let http = st.exchanges(&id, &HttpQuery::sorted(HttpSort::of("total_time"), 10))?;
            Ok((convs, http))
        })
        .await?;
        histogram = svg::histogram(&s.histogram, &format!("{base}/http"));
        let conv_url = |n: u64| format!("{base}/conversations/{n}");
        timeline = svg::timeline(&convs.items, s.first_ts, s.last_ts, &conv_url);
        longest = convs.items;
        slowest = http
            .items
            .into_iter()
            .filter(|e| e.row.total_time.is_some())
            .map(|e| SlowExchange {
                href: format!("{base}/conversations/{}#x{}", e.row.conversation, e.id),
                total: fmt::dur(&e.row.total_time),
                server: fmt::dur(&e.row.server_time),
                status_class: status_class(e.row.status),
                e,
            })
            .collect();
    }
    let timeline_shown = longest.len();
    longest.truncate(10);
    Ok(CapturePage {
        head: CapHead::new(&id, &c.meta.name, "overview", format!("/api/captures/{id}")),
        percent: format!("{:.0}", c.progress * 100.0),
        busy: matches!(c.meta.status, Status::Queued | Status::Analyzing),
        done,
        size: fmt::bytes(&c.meta.size),
        created: fmt::when(&Some(c.meta.created)),
        duration: fmt::dur(&s.duration),
        first: fmt::when(&s.first_ts),
        s,
        c,
        histogram,
        timeline,
        timeline_shown,
        slowest,
        longest,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "delete.html")]
pub struct DeletePage {
    head: CapHead,
    size: Human,
}

/// `GET /c/ID/delete`: asks for confirmation.
pub async fn delete_confirm(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResult<DeletePage> {
    let id = capture_id(&id)?;
    let meta = blocking(&state, move |s| s.capture(&id)).await?;
    Ok(DeletePage {
        head: CapHead::new(&id, &meta.name, "delete", format!("/api/captures/{id}")),
        size: fmt::bytes(&meta.size),
    })
}

/// `POST /c/ID/delete`: deletes, then back to the list.
pub async fn delete(State(state): State<AppState>, Path(id): Path<String>) -> PageResult<Redirect> {
    let id = capture_id(&id)?;
    blocking(&state, move |s| s.delete_capture(&id)).await?;
    Ok(Redirect::to("/"))
}

/// `GET /static/NAME`: the stylesheet and scripts, built into the binary.
pub async fn static_file(Path(name): Path<String>) -> Response {
    let (mime, body) = match name.as_str() {
        "style.css" => (
            "text/css; charset=utf-8",
            include_str!("../../static/style.css"),
        ),
        "app.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../../static/app.js"),
        ),
        "strace.css" => (
            "text/css; charset=utf-8",
            include_str!("../../static/strace.css"),
        ),
        _ => return PageError(Error::NotFound("file".into())).into_response(),
    };
    ([(header::CONTENT_TYPE, mime)], body).into_response()
}

/// Any other path.
pub async fn not_found() -> PageError {
    PageError(Error::NotFound("page".into()))
}
