//! Filtered re-analyses, started only by an explicit POST (README, "The
//! web app"): `POST /api/captures/ID/analyses` and the pages' "Compute"
//! button. A GET of a filtered view shows what is stored and never starts
//! one. Each goes to the capture pipeline's re-analysis queue, under its
//! per-user and per-capture limits.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Deserialize;

use super::api::{with_progress, CaptureStatus};
use super::auth::Viewer;
use super::error::{Error, Result};
use super::kit::{FilterBox, PageResult, Query};
use super::params::{self, Params};
use super::AppState;
use crate::store::{CaptureId, CaptureMeta, Status};

/// The body of `POST /api/captures/ID/analyses`.
#[derive(Deserialize)]
pub struct ComputeBody {
    filter: String,
}

/// Where the status of capture `id`'s analysis with `filter` is read.
fn status_url(id: &CaptureId, filter: &str) -> String {
    let mut q = Query::default();
    q.push("filter", filter);
    q.href(&format!("/api/captures/{id}"), &[])
}

/// The checked filter of a compute request: one that parses, not empty.
fn checked_filter(given: &str) -> Result<String> {
    let raw = form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", given)
        .finish();
    let p = Params::only(Some(&raw), &["filter"]);
    params::filter_param(&p)?.ok_or_else(|| Error::BadRequest("filter is empty".into()))
}

/// Who a pending re-analysis counts against: the signed-in user, else the
/// client's address.
fn claimant(viewer: &Viewer) -> String {
    viewer.name().map_or_else(
        || format!("client {}", viewer.client),
        |n| format!("user {n}"),
    )
}

/// Finds capture `id`'s analysis with `filter`, or queues it.
async fn compute_view(
    state: &AppState,
    viewer: &Viewer,
    id: CaptureId,
    filter: String,
) -> Result<CaptureMeta> {
    let f = filter.clone();
    let found = super::blocking(state, move |s| s.find_filtered(&id, &f)).await?;
    if let Some(meta) = found {
        return Ok(meta);
    }
    state
        .captures
        .rework(&claimant(viewer), id, move |k| {
            k.filtered(&id, &filter).map_err(Error::from)
        })
        .await
}

/// `POST /api/captures/ID/analyses` with `{"filter": "port 80"}`: 202 and
/// the progress while it is queued or running, 200 once it is done (its
/// results are then read with `?filter=` on every list); either way
/// `Location` is its status. 429 past the pending limits; 409 with the
/// reason if it was asked for before and failed.
pub async fn compute(
    State(state): State<AppState>,
    viewer: Viewer,
    id: CaptureId,
    Json(body): Json<ComputeBody>,
) -> Result<Response> {
    let filter = checked_filter(&body.filter)?;
    let location = status_url(&id, &filter);
    let meta = compute_view(&state, &viewer, id, filter).await?;
    let code = match meta.status {
        Status::Done => StatusCode::OK,
        // Asked for before, and it failed: the same filter fails again.
        Status::Failed => {
            return Err(Error::Conflict(
                meta.error
                    .unwrap_or_else(|| "the filtered analysis failed".into()),
            ))
        }
        Status::Queued | Status::Analyzing => StatusCode::ACCEPTED,
    };
    let st: CaptureStatus = with_progress(&state, meta);
    let mut resp = (code, Json(st)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `POST /c/ID/analyses` (the "Compute" button; form fields `filter` and
/// `back`, the page to return to): queues the analysis and goes back to
/// the page, which then shows its progress.
pub async fn form_compute(
    State(state): State<AppState>,
    viewer: Viewer,
    id: CaptureId,
    body: String,
) -> PageResult<Redirect> {
    let p = Params::only(Some(&body), &["filter", "back"]);
    let filter = checked_filter(p.get("filter").unwrap_or(""))?;
    let own = format!("/c/{id}");
    let back = match p.get("back") {
        // Only a page of this capture: never a redirect elsewhere.
        Some(b)
            if b.strip_prefix(&own).is_some_and(|rest| {
                rest.is_empty() || rest.starts_with('/') || rest.starts_with('?')
            }) && !b.contains('\\') =>
        {
            b.to_string()
        }
        _ => {
            let mut q = Query::default();
            q.push("filter", filter.as_str());
            q.href(&own, &[])
        }
    };
    compute_view(&state, &viewer, id, filter).await?;
    Ok(Redirect::to(&back))
}

/// A conversation page of a filtered view with no results yet: the
/// Compute button (409: never computed) or the analysis's progress (202,
/// refreshing itself), as the list pages show them, instead of a bare
/// error page.
#[derive(Template, WebTemplate)]
#[template(path = "filter_wait.html")]
struct WaitPage {
    status: u16,
    number: u64,
    f: FilterBox,
    /// The conversation list with the same filter.
    list: String,
}

/// The [`WaitPage`] of conversation `number` of capture `id`: 409 with
/// the Compute button `f` has, else 202 with its progress.
pub(crate) fn waiting_page(id: &CaptureId, number: u64, f: FilterBox) -> Response {
    let status = if f.compute.is_some() {
        StatusCode::CONFLICT
    } else {
        StatusCode::ACCEPTED
    };
    let mut q = Query::default();
    q.push("filter", f.text.trim());
    let page = WaitPage {
        status: status.as_u16(),
        number,
        list: q.href(&format!("/c/{id}/conversations"), &[]),
        f,
    };
    (status, page).into_response()
}
