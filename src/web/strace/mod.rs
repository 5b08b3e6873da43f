//! The strace-log side of the web app: upload one or several logs, parse
//! them in the background, and explore the model on pages under `/s/ID`
//! (summary, syscalls, files, processes with timelines, pauses), each with
//! its JSON twin under `/api/straces/ID`. Every filter lives in the URL, so
//! a page's address is its share link.
//!
//! [`router`] holds every route; uploads, parsing and deletion go through
//! the strace [`super::pipeline::Pipeline`] of [`AppState`].

mod api;
mod pages;
pub mod params;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post};
use axum::Router;
use serde::Serialize;

use super::error::Error;
use super::pipeline::{api_delete, api_upload, form_delete, form_upload, strace::Parse, Kind};
use super::{off_thread, AppState};
use crate::store::{self, Status, StraceId, StraceMeta, StraceStore};
use crate::strace::Trace;

/// An upload with its live progress, as `GET /api/straces/ID` answers.
#[derive(Serialize)]
pub struct StraceStatus {
    #[serde(flatten)]
    pub meta: StraceMeta,
    /// Fraction of the logs parsed, 0..1.
    pub progress: f64,
    /// The HTML view.
    pub url: String,
}

fn with_progress(state: &AppState, meta: StraceMeta) -> StraceStatus {
    let progress = match meta.status {
        Status::Done => 1.0,
        Status::Analyzing => state
            .straces
            .progress(&meta.id)
            .map_or(0.0, |p| p.fraction()),
        Status::Queued | Status::Failed => 0.0,
    };
    StraceStatus {
        url: format!("/s/{}", meta.id),
        meta,
        progress,
    }
}

/// A store error in the words of strace uploads.
fn store_error(e: store::Error) -> Error {
    Parse::store_error(e)
}

/// Runs a strace store call on the blocking pool.
async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&dyn StraceStore) -> store::Result<T> + Send + 'static,
{
    off_thread(state.strace_store.clone(), move |s| {
        f(s).map_err(store_error)
    })
    .await
}

/// Loads the parsed model of a `done` upload and computes a view of it on
/// the blocking pool.
async fn with_trace<T, F>(state: &AppState, id: StraceId, f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&Trace) -> Result<T, Error> + Send + 'static,
{
    off_thread(state.strace_store.clone(), move |s| {
        let trace = s.trace(&id).map_err(store_error)?;
        f(&trace)
    })
    .await
}

/// The reading routes a share link of an upload reaches (`web::share`
/// runs them over its redacting store): the pages and JSON twins, and
/// nothing that uploads, deletes or lists other uploads.
pub(crate) fn shared_views() -> Router<AppState> {
    Router::new()
        .route("/s/{id}", get(pages::summary))
        .route("/s/{id}/syscalls", get(pages::syscalls))
        .route("/s/{id}/files", get(pages::files))
        .route("/s/{id}/processes", get(pages::processes))
        .route("/s/{id}/pauses", get(pages::pauses))
        .route("/s/{id}/timeline", get(pages::timeline))
        .route("/api/straces/{id}", get(api::status))
        .route("/api/straces/{id}/summary", get(api::summary))
        .route("/api/straces/{id}/syscalls", get(api::syscalls))
        .route("/api/straces/{id}/files", get(api::files))
        .route("/api/straces/{id}/processes", get(api::processes))
        .route("/api/straces/{id}/pauses", get(api::pauses))
        .route("/api/straces/{id}/timeline", get(api::timeline))
        .route("/api/straces/{id}/unparsed", get(api::unparsed))
}

/// Every strace route, pages and API, to merge into the app's router: the
/// reading views and what uploads, lists and deletes.
pub fn router() -> Router<AppState> {
    shared_views()
        .route(
            "/straces",
            get(pages::list)
                .post(form_upload::<Parse>)
                .layer(DefaultBodyLimit::disable()),
        )
        .route(
            "/s/{id}/delete",
            get(pages::confirm_delete).post(form_delete::<Parse>),
        )
        .route(
            "/api/straces",
            post(api_upload::<Parse>)
                .layer(DefaultBodyLimit::disable())
                .get(api::list),
        )
        .route("/api/straces/{id}", delete(api_delete::<Parse>))
}
