//! The endpoints of a capture (README, "Endpoints"): `/c/ID/endpoints`
//! (the status × latency heatmap, p50/p99 lines of the busiest endpoints,
//! and the endpoint table, sortable by every column; an endpoint opens the
//! HTTP view filtered to it) and its JSON twin `/api/captures/ID/endpoints`.
//! Narrowed by method, host or template (an endpoint's count links to
//! that view of it), the lines are those of the endpoints shown, whichever
//! they are: any endpoint's p50/p99 over time.
//!
//! The endpoints are made during the analysis and stored, so the page is
//! one read. A user's corrections live in the URL: `rename=OLD=>NEW` and
//! `split=TEMPLATE` (several joined by `;`); such a view is made again
//! from the stored exchanges, on each request.

use std::cmp::Ordering;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{RawQuery, State};
use axum::Json;
use serde::Serialize;

use crate::analysis::endpoints::{series_in, Builder, Options, Series, Tally, Timeline};
use crate::analysis::report::{
    Cell, EndpointKey, EndpointQuery, EndpointRow, ExchangeRow, HttpQuery, Order, Row, SortKey,
    MAX_LIMIT, NO_HOST,
};
use crate::store::{self, CaptureId, ExchangeRow as StoredExchange, Page, Store};
use crate::time::Timestamp;
use crate::web::error::Error;
use crate::web::extract::{filtered_view, FromQuery, Resolved};
use crate::web::kit::{CapHead, FilterBox, PageResult, Pager, Query};
use crate::web::lists::{
    capture_start, cell_view, col, heads, link, strong, CellView, Head, RowView, Shown,
};
use crate::web::params::{ParamError, Params};
use crate::web::svg::{self, Svg};
use crate::web::{blocking, AppState};

/// Names the endpoint page and API take.
pub const ENDPOINT_PARAMS: &[&str] = &[
    "sort", "order", "limit", "offset", "filter", "method", "host", "template", "rename", "split",
];

/// Longest `rename` or `split` value.
const MAX_EDIT_LEN: usize = 4096;

/// What an endpoint view asks for: a page of the table and the user's
/// corrections to the templates.
#[derive(Clone, Debug)]
pub struct EndpointView {
    pub q: EndpointQuery,
    pub options: Options,
}

impl EndpointView {
    pub fn from_params(p: &Params) -> Result<EndpointView, ParamError> {
        let d = EndpointQuery::default();
        let (limit, offset) = p.page(d.limit)?;
        let sort = p.parsed("sort")?.unwrap_or(d.sort);
        let order = p.parsed::<Order>("order")?.unwrap_or(sort.default_order());
        let q = EndpointQuery {
            sort,
            order,
            limit,
            offset,
            after: None,
            filters: Vec::new(),
        }
        .with_filters(|k| p.get(k))
        .map_err(|e| ParamError(e.0))?;
        Ok(EndpointView {
            q,
            options: options(p)?,
        })
    }
}

/// `rename=OLD=>NEW;OLD2=>NEW2` and `split=T1;T2`.
pub fn options(p: &Params) -> Result<Options, ParamError> {
    let value = |k: &str| -> Result<&str, ParamError> {
        let v = p.get(k).unwrap_or("");
        if v.len() > MAX_EDIT_LEN {
            return Err(ParamError(format!(
                "{k} is longer than {MAX_EDIT_LEN} bytes"
            )));
        }
        Ok(v)
    };
    Options::parse(value("rename")?, value("split")?).map_err(ParamError)
}

/// A page of endpoints and the timeline, as the JSON twin answers.
#[derive(Serialize)]
pub struct EndpointsDoc {
    pub total: u64,
    pub items: Vec<EndpointRow>,
    pub timeline: Timeline,
}

/// Reads (or, with corrections, makes again) one view's endpoints. The
/// lines are the busiest endpoints', or, when the table is narrowed by
/// method, host or template, those of the first endpoints shown. Each
/// line's `endpoint` is the endpoint's place in the view's whole set
/// (stored order), whatever page shows it.
fn fetch(s: &dyn Store, id: &CaptureId, view: &EndpointView) -> store::Result<EndpointsDoc> {
    if view.options != Options::default() {
        return regrouped_doc(s, id, view);
    }
    let page = s.endpoints(id, &view.q)?;
    let mut doc = EndpointsDoc {
        total: page.total,
        items: page.items,
        timeline: s.endpoint_timeline(id)?,
    };
    if !view.q.filters.is_empty() {
        doc.timeline.series = shown_lines(s, id, &doc)?;
    }
    Ok(doc)
}

/// A view with renames or splits: its endpoints made again from the
/// stored exchanges, once, and the lines from the same pass.
fn regrouped_doc(
    s: &dyn Store,
    id: &CaptureId,
    view: &EndpointView,
) -> store::Result<EndpointsDoc> {
    let mut tally = Tally::new(view.options.clone());
    s.each_exchange(id, &mut |row| {
        tally.add(row);
    })?;
    let mut tallied = tally.finish_all();
    let (total, shown) = page_of(&tallied.set.rows, &view.q);
    if !view.q.filters.is_empty() {
        let first: Vec<usize> = shown.iter().take(svg::LINES).copied().collect();
        tallied.timeline.series = tallied.lines(&first);
    }
    let items = shown
        .iter()
        .filter_map(|&i| tallied.set.rows.get(i).cloned())
        .collect();
    Ok(EndpointsDoc {
        total,
        items,
        timeline: tallied.timeline,
    })
}

/// The lines of the first [`svg::LINES`] stored endpoints of `doc`: the
/// stored line of a busy one, else one made from its stored exchanges
/// (an indexed read) in the heatmap's columns.
fn shown_lines(s: &dyn Store, id: &CaptureId, doc: &EndpointsDoc) -> store::Result<Vec<Series>> {
    let shown: Vec<&EndpointRow> = doc.items.iter().take(svg::LINES).collect();
    let mut places: Option<Vec<Option<usize>>> = None;
    let mut lines = Vec::new();
    for (i, row) in shown.iter().enumerate() {
        let stored =
            doc.timeline.series.iter().find(|l| {
                l.template == row.template && l.method == row.method && l.host == row.host
            });
        if let Some(line) = stored {
            lines.push(line.clone());
            continue;
        }
        let places = match &mut places {
            Some(p) => p,
            None => places.insert(stored_places(s, id, &shown)?),
        };
        let key = EndpointKey {
            templates: vec![row.template.clone()],
            method: row.method.clone(),
            host: row.host.clone().filter(|h| !h.is_empty()),
        };
        let mut scan = HttpQuery {
            limit: MAX_LIMIT,
            ..HttpQuery::default()
        }
        .of_endpoint(key);
        let mut times = Vec::new();
        loop {
            let page = s.exchanges(id, &scan)?;
            let got = page.items.len();
            scan.after = page.items.last().map(|e| e.id);
            times.extend(page.items.iter().filter_map(|e| {
                let r = &e.row;
                Some((r.request_start.or(r.response_start)?, r.total_time?))
            }));
            if got < MAX_LIMIT as usize || scan.after.is_none() {
                break;
            }
        }
        let place = places.get(i).copied().flatten().unwrap_or(usize::MAX);
        let mut line = series_in(&doc.timeline.heatmap, place, times);
        line.method.clone_from(&row.method);
        line.host.clone_from(&row.host);
        line.template.clone_from(&row.template);
        lines.push(line);
    }
    Ok(lines)
}

/// The place of each of `rows` among the stored endpoints (their stored
/// order: the set's, most exchanges first), read until all are found.
fn stored_places(
    s: &dyn Store,
    id: &CaptureId,
    rows: &[&EndpointRow],
) -> store::Result<Vec<Option<usize>>> {
    let mut places = vec![None; rows.len()];
    let mut q = EndpointQuery {
        sort: SortKey::ID,
        order: Order::Asc,
        limit: MAX_LIMIT,
        ..EndpointQuery::default()
    };
    let mut at = 0;
    loop {
        let page = s.endpoints(id, &q)?;
        let got = page.items.len();
        for e in &page.items {
            for (place, row) in places.iter_mut().zip(rows) {
                let same =
                    e.method == row.method && e.host == row.host && e.template == row.template;
                if same && place.is_none() {
                    *place = Some(at);
                }
            }
            at += 1;
        }
        if got < MAX_LIMIT as usize || places.iter().all(Option::is_some) {
            return Ok(places);
        }
        q.offset += u64::from(MAX_LIMIT);
    }
}

/// Every endpoint of a capture: the stored rows, or, with renames or
/// splits, rows made again from the stored exchanges.
pub fn all_endpoints(
    s: &dyn Store,
    id: &CaptureId,
    options: &Options,
) -> store::Result<Vec<EndpointRow>> {
    if *options != Options::default() {
        let mut builder = Builder::new(options.clone());
        s.each_exchange(id, &mut |row| {
            builder.add(row);
        })?;
        return Ok(builder.finish().rows);
    }
    let mut q = EndpointQuery {
        limit: MAX_LIMIT,
        ..EndpointQuery::default()
    };
    let mut rows = Vec::new();
    loop {
        let page = s.endpoints(id, &q)?;
        let got = page.items.len();
        rows.extend(page.items);
        if got < MAX_LIMIT as usize {
            return Ok(rows);
        }
        q.offset += u64::from(MAX_LIMIT);
    }
}

/// The page `q` asks for of rows made in memory: filtered, sorted as the
/// store sorts (missing values first ascending), cut. Answers the number
/// of rows that pass and the indexes in `rows` of those on the page.
fn page_of(rows: &[EndpointRow], q: &EndpointQuery) -> (u64, Vec<usize>) {
    let mut kept: Vec<usize> = (0..rows.len()).filter(|&i| q.matches(&rows[i])).collect();
    if let Some(c) = q.sort.column() {
        let get = EndpointRow::COLUMNS[c].get;
        kept.sort_by(|&a, &b| {
            let o = cmp_cells(&get(&rows[a]), &get(&rows[b]));
            if q.order == Order::Desc {
                o.reverse()
            } else {
                o
            }
        });
    }
    let total = kept.len() as u64;
    let page = kept
        .into_iter()
        .skip(usize::try_from(q.offset).unwrap_or(usize::MAX))
        .take(q.limit as usize)
        .collect();
    (total, page)
}

fn cmp_cells(a: &Cell<'_>, b: &Cell<'_>) -> Ordering {
    match (a, b) {
        (Cell::Null, Cell::Null) => Ordering::Equal,
        (Cell::Null, _) => Ordering::Less,
        (_, Cell::Null) => Ordering::Greater,
        (Cell::Text(x), Cell::Text(y)) => x.cmp(y),
        _ => a.as_int().cmp(&b.as_int()),
    }
}

/// `GET /api/captures/ID/endpoints`.
pub async fn api(
    State(state): State<AppState>,
    _: CaptureId,
    RawQuery(raw): RawQuery,
    Resolved(id): Resolved,
) -> Result<Json<EndpointsDoc>, Error> {
    let p = Params::parse(raw.as_deref(), ENDPOINT_PARAMS)?;
    let view = EndpointView::from_params(&p)?;
    Ok(Json(blocking(&state, move |s| fetch(s, &id, &view)).await?))
}

/// The page's columns, in order (any column of [`EndpointRow`]'s).
const ENDPOINT_SHOWN: &[Shown] = &[
    col("method"),
    col("host"),
    link("template"),
    col("count"),
    col("errors"),
    col("status_4xx"),
    col("status_5xx"),
    col("no_response"),
    col("reset"),
    col("server_p50"),
    col("server_p99"),
    col("total_p50"),
    col("total_p90"),
    strong("total_p99"),
    col("total_max"),
    col("response_bytes"),
    col("wait_server"),
    col("wait_network"),
    col("wait_client"),
    col("wait_transfer"),
    col("percentiles"),
    col("rule"),
];

/// The HTTP view of one endpoint's exchanges in the capture at `base`
/// (`/c/ID`): its method, host and template (`template=`, matched by the
/// same inference as the endpoint table), and `keep` (the filter, renames
/// and splits of the view the link is on, so the template names the same
/// exchanges there).
pub fn http_href(
    base: &str,
    method: Option<&str>,
    host: Option<&str>,
    template: &str,
    keep: &Query,
) -> String {
    line_href(&format!("{base}/http"), method, host, template, keep)
}

/// An endpoint's method, host and template as the filters of the HTTP
/// view and of this page read them: each said, also when absent (`none`
/// for no method, [`NO_HOST`] for no host), so that a link of an endpoint
/// without one keeps only that endpoint's exchanges, not the template's
/// on every host (README, "Endpoints").
fn push_key(q: &mut Query, method: Option<&str>, host: Option<&str>, template: &str) {
    q.push("method", method.unwrap_or("none"));
    q.push("host", host.filter(|h| !h.is_empty()).unwrap_or(NO_HOST));
    q.push("template", template);
}

/// The view state an endpoint's link carries to the HTTP view: the
/// packet filter and the user's renames and splits, as typed.
pub fn link_state(filter: &str, p: &Params) -> Query {
    let mut keep = Query::default();
    keep.push("filter", filter);
    for k in ["rename", "split"] {
        keep.push(k, p.get(k).unwrap_or(""));
    }
    keep
}

/// `template=` of the HTTP view and its API twin: only the exchanges that
/// the endpoint table puts under that template, with the renames and
/// splits of the URL (README, "Endpoints").
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TemplateFilter {
    pub template: String,
    pub options: Options,
}

/// The HTTP view's `template=` (with `rename=` and `split=`), if set.
pub struct TemplateParam(pub Option<TemplateFilter>);

impl FromQuery for TemplateParam {
    const NAMES: &'static [&'static str] = crate::web::params::HTTP_PARAMS;
    fn from_params(p: &Params) -> Result<Self, ParamError> {
        let Some(template) = p.get("template") else {
            return Ok(TemplateParam(None));
        };
        if template.len() > MAX_EDIT_LEN {
            return Err(ParamError(format!(
                "template is longer than {MAX_EDIT_LEN} bytes"
            )));
        }
        Ok(TemplateParam(Some(TemplateFilter {
            template: template.to_string(),
            options: options(p)?,
        })))
    }
}

/// The HTTP view's `template=` filter (None when absent or malformed:
/// [`http_query`] reports a malformed one).
pub fn template_filter(p: &Params) -> Option<TemplateFilter> {
    TemplateParam::from_params(p).ok().and_then(|t| t.0)
}

/// The HTTP view's query, its `template=` checked too (a bad one is the
/// page's error, as a bad status filter is).
pub fn http_query(p: &Params) -> Result<HttpQuery, ParamError> {
    TemplateParam::from_params(p)?;
    crate::web::params::http_query(p)
}

/// The page `q` asks for of the HTTP exchanges, narrowed to one endpoint
/// when `template` is set. Without splits that is an indexed condition:
/// the analysis stored each exchange's endpoint group, and renames only
/// change the names of whole endpoints. With splits the endpoints are
/// inferred again over every exchange (a fold depends on all of a host's
/// paths), then the rows `q` selects are read in its order and those of
/// the endpoint kept.
pub fn exchanges(
    s: &dyn Store,
    id: &CaptureId,
    q: &HttpQuery,
    template: Option<&TemplateFilter>,
) -> store::Result<Page<StoredExchange>> {
    let Some(t) = template else {
        return s.exchanges(id, q);
    };
    if t.options.split.is_empty() {
        let q = q
            .clone()
            .of_templates(t.options.templates_shown_as(&t.template));
        return s.exchanges(id, &q);
    }
    regrouped(s, id, q, t)
}

/// [`exchanges`] of one endpoint, its templates made again from every
/// exchange with the view's splits.
fn regrouped(
    s: &dyn Store,
    id: &CaptureId,
    q: &HttpQuery,
    t: &TemplateFilter,
) -> store::Result<Page<StoredExchange>> {
    let mut builder = Builder::new(t.options.clone());
    s.each_exchange(id, &mut |row| {
        builder.add(row);
    })?;
    let set = builder.finish();
    let ours = |row: &ExchangeRow| {
        set.endpoint_of(row)
            .and_then(|i| set.rows.get(i))
            .is_some_and(|e| e.template == t.template)
    };
    // The scan seeks page by page from the start (every match is counted);
    // the page shown starts after `q.after`, the last row of the page
    // before, as the store's keyset pages do, else at `q.offset`.
    let mut scan = q.clone();
    scan.limit = MAX_LIMIT;
    scan.offset = 0;
    scan.after = None;
    let mut before_cursor = q.after.is_some();
    let (mut total, mut items) = (0u64, Vec::new());
    loop {
        let page = s.exchanges(id, &scan)?;
        let got = page.items.len();
        scan.after = page.items.last().map(|e| e.id);
        for e in page.items.into_iter().filter(|e| ours(&e.row)) {
            total += 1;
            if before_cursor {
                before_cursor = q.after != Some(e.id);
                continue;
            }
            if (q.after.is_some() || total > q.offset) && items.len() < q.limit as usize {
                items.push(e);
            }
        }
        if got < MAX_LIMIT as usize || scan.after.is_none() {
            break;
        }
    }
    Ok(Page { total, items })
}

/// Cells with a look of their own: errors with their share.
fn special(r: &EndpointRow, name: &str) -> Option<CellView> {
    match name {
        "errors" if r.errors > 0 => Some(CellView {
            class: "num bad".into(),
            title: format!("{:.1}% of {} exchanges", r.error_share() * 100.0, r.count),
            text: format!("{} ({:.0}%)", r.errors, r.error_share() * 100.0),
            ..CellView::default()
        }),
        "template" => Some(CellView {
            class: "template".into(),
            title: format!("{} — open its exchanges", r.rule),
            text: r.template.clone(),
            ..CellView::default()
        }),
        _ => None,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "endpoints.html")]
pub struct EndpointsPage {
    head: CapHead,
    f: FilterBox,
    path: String,
    cols: Vec<Head>,
    rows: Vec<RowView>,
    pager: Pager,
    heatmap: Svg,
    lines: Svg,
    /// The form's values, as typed.
    method: String,
    host: String,
    template: String,
    rename: String,
    split: String,
    sort: String,
    order: String,
    error: Option<String>,
    any_filter: bool,
}

/// `GET /c/ID/endpoints`.
pub async fn page(
    State(state): State<AppState>,
    id: CaptureId,
    RawQuery(raw): RawQuery,
) -> PageResult<EndpointsPage> {
    let p = Params::parse(raw.as_deref(), ENDPOINT_PARAMS).map_err(Error::from)?;
    let (name, start) = capture_start(&state, id).await?;
    let typed = |k: &str| p.get(k).unwrap_or("").to_string();
    let base = format!("/c/{id}");
    let path = format!("{base}/endpoints");
    let (view, error) = match EndpointView::from_params(&p) {
        Ok(v) => (v, None),
        Err(e) => (
            EndpointView {
                q: EndpointQuery::default(),
                options: Options::default(),
            },
            Some(e.0),
        ),
    };
    let (results, mut fbox) = filtered_view(&state, id, &p, &path).await?;
    let doc = match (&error, results) {
        (None, Some(v)) => {
            let view = view.clone();
            blocking(&state, move |s| fetch(s, &v, &view)).await?
        }
        _ => EndpointsDoc {
            total: 0,
            items: Vec::new(),
            timeline: Timeline::default(),
        },
    };
    let mut state_q = Query::default();
    state_q.push("filter", fbox.text.trim());
    for k in ["method", "host", "template", "rename", "split"] {
        state_q.push(k, typed(k));
    }
    let q = &view.q;
    let d = EndpointQuery::default();
    if q.sort != d.sort || q.order != q.sort.default_order() {
        state_q.push("sort", q.sort.name());
        state_q.push("order", q.order.name());
    }
    if q.offset > 0 {
        state_q.push("offset", q.offset.to_string());
    }
    let cols = heads(ENDPOINT_SHOWN, "e", q, &state_q, &path);
    let pager = Pager::new(
        &state_q,
        &path,
        q.offset,
        q.limit.max(1),
        doc.items.len(),
        doc.total,
    );
    let json = state_q.href(&format!("/api/captures/{id}/endpoints"), &[]);
    let keep = link_state(fbox.text.trim(), &p);
    let rows = doc
        .items
        .iter()
        .map(|r| endpoint_row(r, &base, &path, &keep, start))
        .collect();
    let hrefs: Vec<String> = doc
        .timeline
        .series
        .iter()
        .map(|s| {
            http_href(
                &base,
                s.method.as_deref(),
                s.host.as_deref(),
                &s.template,
                &keep,
            )
        })
        .collect();
    let heatmap = svg::heatmap(&doc.timeline.heatmap);
    let which = if q.filters.is_empty() {
        "the busiest endpoints"
    } else {
        "the first endpoints shown"
    };
    let lines = svg::endpoint_lines(&doc.timeline.heatmap, &doc.timeline.series, &hrefs, which);
    let any_filter = ["method", "host", "template", "rename", "split"]
        .iter()
        .any(|k| p.get(k).is_some());
    fbox.clear = state_q.href(&path, &[("filter", ""), ("offset", "")]);
    Ok(EndpointsPage {
        head: CapHead::new(&id, &name, "endpoints", json).keeping(fbox.kept()),
        f: fbox,
        cols,
        rows,
        pager,
        heatmap,
        lines,
        method: typed("method"),
        host: typed("host"),
        template: typed("template"),
        rename: typed("rename"),
        split: typed("split"),
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

/// This page narrowed to one endpoint (by its method, host and
/// template, with the view's filter, renames and splits): its line drawn.
pub fn line_href(
    path: &str,
    method: Option<&str>,
    host: Option<&str>,
    template: &str,
    keep: &Query,
) -> String {
    let mut q = keep.clone();
    push_key(&mut q, method, host, template);
    q.href(path, &[])
}

fn endpoint_row(
    r: &EndpointRow,
    base: &str,
    path: &str,
    keep: &Query,
    start: Option<Timestamp>,
) -> RowView {
    let href = http_href(
        base,
        r.method.as_deref(),
        r.host.as_deref(),
        &r.template,
        keep,
    );
    let line = line_href(
        path,
        r.method.as_deref(),
        r.host.as_deref(),
        &r.template,
        keep,
    );
    let mut row = RowView {
        class: if r.status_5xx > 0 || r.reset > 0 {
            "s5".into()
        } else if r.errors > 0 {
            "s4".into()
        } else {
            String::new()
        },
        cells: ENDPOINT_SHOWN
            .iter()
            .map(|s| cell_view(r, s, &href, start, special))
            .collect(),
    };
    // The count opens the endpoint's own view: its p50/p99 line.
    let count = ENDPOINT_SHOWN.iter().position(|s| s.name() == "count");
    if let Some(cell) = count.and_then(|i| row.cells.get_mut(i)) {
        cell.href = Some(line);
        cell.title = format!(
            "{} — draw its p50/p99 over time",
            crate::web::kit::plural(r.count, "exchange")
        );
    }
    row
}

#[cfg(test)]
mod test {
    use super::*;

    fn view(q: &str) -> Result<EndpointView, ParamError> {
        EndpointView::from_params(&Params::parse(Some(q), ENDPOINT_PARAMS)?)
    }

    #[test]
    fn renames_and_splits_come_from_the_url() {
        let v = view("rename=%2Fa%2F%7Bid%7D%3D%3E%2Fa;%2Fb%3D%3E%2Fc&split=%2Fx%2F%7Bname%7D")
            .unwrap();
        assert_eq!(
            v.options.rename,
            [
                ("/a/{id}".to_string(), "/a".to_string()),
                ("/b".into(), "/c".into())
            ]
        );
        assert_eq!(v.options.split, ["/x/{name}"]);
        assert!(view("rename=nothing").is_err());
        assert!(view("rename=%3D%3E%2Fa").is_err());
        assert_eq!(view("sort=total_p99").unwrap().q.order, Order::Desc);
        assert!(view("sort=nope").is_err());
    }

    #[test]
    fn an_endpoint_links_to_its_exchanges() {
        let row = EndpointRow {
            method: Some("GET".into()),
            host: Some("shop.example".into()),
            template: "/users/{id}/orders".into(),
            ..EndpointRow::default()
        };
        let mut keep = Query::default();
        keep.push("split", "/users/{id}");
        let href = http_href(
            "/c/X",
            row.method.as_deref(),
            row.host.as_deref(),
            &row.template,
            &keep,
        );
        assert_eq!(
            href,
            "/c/X/http?split=%2Fusers%2F%7Bid%7D&method=GET&host=shop.example&template=%2Fusers%2F%7Bid%7D%2Forders"
        );
        // Without a method or host (or with an empty host), the link says
        // so: else `template=` would keep the template on every host.
        for host in [None, Some("")] {
            assert_eq!(
                http_href("/c/X", None, host, "/a", &Query::default()),
                "/c/X/http?method=none&host=%28no+host%29&template=%2Fa"
            );
        }
    }

    #[test]
    fn rows_made_in_memory_sort_and_page_as_the_store_does() {
        let rows: Vec<EndpointRow> = (1..=5)
            .map(|n| EndpointRow {
                template: format!("/t{n}"),
                count: n,
                ..EndpointRow::default()
            })
            .collect();
        let q = EndpointQuery {
            limit: 2,
            offset: 1,
            ..EndpointQuery::default()
        };
        let (total, page) = page_of(&rows, &q);
        assert_eq!(total, 5);
        let got: Vec<u64> = page.iter().map(|&i| rows[i].count).collect();
        assert_eq!(got, [4, 3]);
    }
}
