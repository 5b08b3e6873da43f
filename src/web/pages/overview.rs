//! A capture's overview: progress while it is analyzed, then the summary
//! a person reads first (counts, HTTP by status and its latency histogram,
//! the conversation timeline, the slowest exchanges and the longest
//! conversations).

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};

use super::status_class;
use crate::analysis::report::{CaptureDoc, ConversationRow, Percentiles};
use crate::store::{Bucket, CaptureId, ConvQuery, ExchangeRow, HttpQuery, HttpSort, Status};
use crate::time::{Span, Timestamp};
use crate::web::api::{with_progress, CaptureStatus};
use crate::web::extract::{filtered_view, Checked, FilterOnly};
use crate::web::fmt::{self, Human};
use crate::web::kit::{CapHead, FilterBox, PageResult, Query};
use crate::web::params::Params;
use crate::web::svg::{self, ErrorMark, Svg};
use crate::web::{blocking, AppState};

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
    /// Exchanges by who they waited on, in [`WAITS`] order (none when the
    /// stored summary predates the counts).
    pub waits: Vec<(&'static str, u64)>,
    /// Conversations a RST ended or refused.
    pub reset: u64,
    pub refused: u64,
}

/// Who an exchange waited on, as the verdict mix lists them.
const WAITS: [&str; 4] = ["server", "network", "client", "transfer"];

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
    pub fn from_doc(doc: Option<&CaptureDoc>) -> Summary {
        let Some(CaptureDoc {
            capture: c,
            http: h,
            ends,
        }) = doc
        else {
            return Summary::default();
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
            let n = h.by_class.get(k).copied().unwrap_or(0);
            if n > 0 {
                let filter = if k == "no_response" { "none" } else { k };
                classes.push((filter.to_string(), label.to_string(), n));
            }
        }
        let percentiles = ["p50", "p90", "p99", "max"]
            .into_iter()
            .map(|p| {
                let pick = |q: &Percentiles| match p {
                    "p50" => q.p50,
                    "p90" => q.p90,
                    "p99" => q.p99,
                    _ => q.max,
                };
                (
                    p,
                    fmt::dur(&pick(&h.total_time)),
                    fmt::dur(&pick(&h.server_time)),
                )
            })
            .collect();
        let mut protocols: Vec<(String, u64)> =
            c.protocols.iter().map(|(k, v)| (k.clone(), *v)).collect();
        protocols.sort_by_key(|p| std::cmp::Reverse(p.1));
        Summary {
            format: match c.format {
                crate::pcap::Format::Pcap => "pcap",
                crate::pcap::Format::Pcapng => "pcapng",
            }
            .to_string(),
            compressed: c.compressed,
            packets: c.packets,
            matched: c.matched,
            first_ts: c.first_ts,
            last_ts: c.last_ts,
            duration: Some(c.duration),
            link_types: c
                .link_types
                .iter()
                .map(|&d| link_type_name(u64::from(d)))
                .collect(),
            warnings: c.warnings.clone(),
            conversations: c.conversations,
            protocols,
            exchanges: h.exchanges,
            classes,
            percentiles,
            histogram: h.histogram.clone(),
            waits: WAITS
                .into_iter()
                .map(|w| (w, h.by_wait.get(w).copied().unwrap_or(0)))
                .filter(|_| !h.by_wait.is_empty())
                .collect(),
            reset: ends.get("reset").copied().unwrap_or(0),
            refused: ends.get("refused").copied().unwrap_or(0),
        }
    }
}

/// A row of the overview's "slowest exchanges".
pub struct SlowExchange {
    pub e: ExchangeRow,
    pub href: String,
    pub total: Human,
    pub server: Human,
    pub status_class: &'static str,
}

/// A status class of the overview's HTTP panel, linking to its exchanges.
pub struct ClassLink {
    /// The class as the status filter spells it (also its CSS class).
    pub class: String,
    pub label: String,
    pub count: u64,
    pub href: String,
}

/// A card of "what failed": a count that links to its rows.
pub struct FailureCard {
    pub count: u64,
    pub label: &'static str,
    pub href: String,
    /// CSS class of the figure when it is not zero.
    pub class: &'static str,
}

/// One part of the verdict mix: who the exchanges waited on.
pub struct WaitShare {
    pub wait: &'static str,
    pub count: u64,
    /// Share of the exchanges, `60%`.
    pub percent: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "capture.html")]
pub struct CapturePage {
    head: CapHead,
    c: CaptureStatus,
    percent: String,
    done: bool,
    busy: bool,
    /// The (filtered) results are there to show.
    ready: bool,
    /// The overview's own address (the filter box submits to it).
    path: String,
    f: FilterBox,
    s: Summary,
    size: Human,
    created: Human,
    duration: Human,
    first: Human,
    histogram: Svg,
    timeline: Svg,
    /// The same timeline drawn for a phone's width.
    timeline_phone: Svg,
    timeline_shown: usize,
    classes: Vec<ClassLink>,
    failures: Vec<FailureCard>,
    waits: Vec<WaitShare>,
    slowest: Vec<SlowExchange>,
    slowest_all: String,
    longest: Vec<ConversationRow>,
}

/// Conversations drawn on the overview's timeline.
const TIMELINE_ROWS: u32 = 40;
/// Failed exchanges marked on one conversation's row of the timeline.
const FAILED_MARKS: u32 = 200;

/// `GET /c/ID`: progress while analyzing, then the summary a person reads
/// first; with `filter`, the summary of the capture analyzed with it.
pub async fn capture(
    State(state): State<AppState>,
    _: Checked<FilterOnly>,
    id: CaptureId,
    RawQuery(raw): RawQuery,
) -> PageResult<CapturePage> {
    let meta = blocking(&state, move |s| s.capture(&id)).await?;
    let c = with_progress(&state, meta);
    let done = c.meta.status == Status::Done;
    let base = format!("/c/{id}");
    let p = Params::only(raw.as_deref(), &["filter"]);
    // A filtered analysis starts only once the capture's own is done.
    let (results, mut fbox) = if done {
        filtered_view(&state, id, &p, &base).await?
    } else {
        (None, FilterBox::default())
    };
    fbox.clear = base.clone();
    let ready = results.is_some() && fbox.suggest.is_empty();
    let mut fq = Query::default();
    fq.push("filter", fbox.text.trim());
    let (mut longest, mut slowest) = (Vec::new(), Vec::new());
    let (mut histogram, mut timeline, mut timeline_phone) =
        (Svg::default(), Svg::default(), Svg::default());
    let mut s = Summary::default();
    if let (true, Some(v)) = (ready, results) {
        let failed_q = HttpQuery::sorted(HttpSort::of("request_start"), FAILED_MARKS)
            .filter("status", "4xx,5xx,none")
            .map_err(|e| crate::web::Error::Internal(e.to_string()))?;
        let (shown, convs, http, failed) = blocking(&state, move |st| {
            let shown = if v == id { None } else { Some(st.capture(&v)?) };
            let convs = st.conversations(
                &v,
                &ConvQuery {
                    limit: TIMELINE_ROWS,
                    ..ConvQuery::default()
                },
            )?;
            let http = st.exchanges(&v, &HttpQuery::sorted(HttpSort::of("total_time"), 10))?;
            // The failed exchanges of the conversations on the timeline.
            let mut failed = Vec::new();
            for c in &convs.items {
                let q = failed_q.clone().equal_to("conversation", c.id);
                failed.extend(st.exchanges(&v, &q)?.items);
            }
            Ok((shown, convs, http, failed))
        })
        .await?;
        s = Summary::from_doc(shown.as_ref().unwrap_or(&c.meta).summary.as_ref());
        histogram = svg::histogram(&s.histogram, &fq.href(&format!("{base}/http"), &[]));
        let conv_url = |n: u64| fq.href(&format!("{base}/conversations/{n}"), &[]);
        let marks: Vec<ErrorMark> = failed
            .iter()
            .filter_map(|e| {
                let at = e.row.request_start.or(e.row.response_start)?;
                let what = e.row.status.map_or("no response".into(), |s| s.to_string());
                Some(ErrorMark {
                    conversation: e.row.conversation,
                    at,
                    class: status_class(e.row.status),
                    title: format!(
                        "{what}: {} {}",
                        e.row.method.as_deref().unwrap_or(""),
                        e.row.uri.as_deref().unwrap_or("")
                    ),
                })
            })
            .collect();
        let draw = |fit| svg::timeline(&convs.items, &marks, s.first_ts, s.last_ts, &conv_url, fit);
        timeline = draw(svg::Fit::Wide);
        timeline_phone = draw(svg::Fit::Phone);
        longest = convs.items;
        slowest = http
            .items
            .into_iter()
            .filter(|e| e.row.total_time.is_some())
            .map(|e| SlowExchange {
                href: format!("{}#x{}", conv_url(e.row.conversation), e.id),
                total: fmt::dur(&e.row.total_time),
                server: fmt::dur(&e.row.server_time),
                status_class: status_class(e.row.status),
                e,
            })
            .collect();
    }
    let http_path = format!("{base}/http");
    let classes = s
        .classes
        .iter()
        .map(|(class, label, count)| ClassLink {
            href: fq.href(&http_path, &[("status", class)]),
            class: class.clone(),
            label: label.clone(),
            count: *count,
        })
        .collect();
    let by_class = |k: &str| s.classes.iter().find(|c| c.0 == k).map_or(0, |c| c.2);
    let failures = vec![
        FailureCard {
            count: by_class("5xx"),
            label: "5xx responses",
            href: fq.href(&http_path, &[("status", "5xx")]),
            class: "s5",
        },
        FailureCard {
            count: by_class("4xx"),
            label: "4xx responses",
            href: fq.href(&http_path, &[("status", "4xx")]),
            class: "s4",
        },
        FailureCard {
            count: by_class("none"),
            label: "no response",
            href: fq.href(&http_path, &[("status", "none")]),
            class: "s0",
        },
        FailureCard {
            count: s.reset + s.refused,
            label: "reset / refused conversations",
            href: fq.href(
                &format!("{base}/conversations"),
                &[("sort", "state"), ("order", "desc")],
            ),
            class: "s5",
        },
    ];
    let waited: u64 = s.waits.iter().map(|w| w.1).sum();
    let waits = s
        .waits
        .iter()
        .filter(|w| w.1 > 0)
        .map(|&(wait, count)| WaitShare {
            wait,
            count,
            percent: format!("{:.0}%", count as f64 * 100.0 / waited.max(1) as f64),
        })
        .collect();
    let timeline_shown = longest.len();
    longest.truncate(10);
    Ok(CapturePage {
        head: CapHead::new(
            &id,
            &c.meta.name,
            "overview",
            fq.href(&format!("/api/captures/{id}"), &[]),
        )
        .keeping(fbox.kept()),
        percent: format!("{:.0}", c.progress * 100.0),
        busy: matches!(c.meta.status, Status::Queued | Status::Analyzing) || fbox.pending.is_some(),
        done,
        ready,
        slowest_all: fq.href(&http_path, &[("sort", "total_time"), ("order", "desc")]),
        path: base,
        f: fbox,
        size: fmt::bytes(&c.meta.size),
        created: fmt::when(&Some(c.meta.created)),
        duration: fmt::dur(&s.duration),
        first: fmt::when(&s.first_ts),
        s,
        c,
        histogram,
        timeline,
        timeline_phone,
        timeline_shown,
        classes,
        failures,
        waits,
        slowest,
        longest,
    })
}
