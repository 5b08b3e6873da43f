//! The strace-log side of the web app: upload one or several logs, parse
//! them in the background, and explore the model on pages under `/s/ID`
//! (summary, syscalls, files, processes with timelines, pauses), each with
//! its JSON twin under `/api/straces/ID`. Every filter lives in the URL, so
//! a page's address is its share link.
//!
//! [`router`] holds every route; [`Straces`] is the part of
//! [`AppState`] they use (the store of strace uploads and its parser pool).

mod api;
mod pages;
pub mod params;
mod svg;
mod upload;
mod worker;

use std::path::Path;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;

pub use worker::StraceJobs;

use super::error::Error;
use super::AppState;
use crate::store::{self, CaptureId, SqliteStraces, Status, StraceMeta, StraceStore};
use crate::strace::Trace;

/// The store of strace uploads and the threads that parse them.
#[derive(Clone)]
pub struct Straces {
    pub store: Arc<dyn StraceStore>,
    pub jobs: Arc<StraceJobs>,
}

impl Straces {
    /// Opens the strace store in `data_dir`, starts `workers` parser
    /// threads and queues again every parse a previous run left unfinished.
    pub fn start(data_dir: &Path, workers: usize) -> store::Result<Straces> {
        let store = SqliteStraces::open(data_dir)?;
        let pending = store.recover()?;
        let store: Arc<dyn StraceStore> = Arc::new(store);
        let jobs = StraceJobs::start(store.clone(), workers);
        for id in pending {
            tracing::info!("strace {id}: parse queued again after restart");
            jobs.submit(id);
        }
        Ok(Straces { store, jobs })
    }
}

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
        Status::Analyzing => state.straces.jobs.progress(&meta.id).unwrap_or(0.0),
        Status::Queued | Status::Failed => 0.0,
    };
    StraceStatus {
        url: format!("/s/{}", meta.id),
        meta,
        progress,
    }
}

/// Parses an ID from a URL; anything malformed is "not found".
fn strace_id(text: &str) -> Result<CaptureId, Error> {
    text.parse()
        .map_err(|_| Error::NotFound("strace log".to_string()))
}

/// A store error in the words of strace uploads.
fn store_error(e: store::Error) -> Error {
    match e {
        store::Error::NotFound(_) => Error::NotFound("strace log".into()),
        store::Error::NotReady { status, .. } => Error::Conflict(match status {
            Status::Failed => "parsing this strace log failed: it has no results".into(),
            other => format!("the strace log is {other}: results are not ready yet"),
        }),
        other => Error::Internal(other.to_string()),
    }
}

/// Runs a store call on the blocking pool.
async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&dyn StraceStore) -> store::Result<T> + Send + 'static,
{
    let store = state.straces.store.clone();
    tokio::task::spawn_blocking(move || f(&*store))
        .await
        .map_err(|e| Error::Internal(format!("strace store task: {e}")))?
        .map_err(store_error)
}

/// Loads the parsed model of a `done` upload and computes a view of it on
/// the blocking pool.
async fn with_trace<T, F>(state: &AppState, id: CaptureId, f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&Trace) -> Result<T, Error> + Send + 'static,
{
    let store = state.straces.store.clone();
    tokio::task::spawn_blocking(move || {
        let trace = store.trace(&id).map_err(store_error)?;
        f(&trace)
    })
    .await
    .map_err(|e| Error::Internal(format!("strace view task: {e}")))?
}

/// Every strace route, pages and API, to merge into the app's router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/straces",
            get(pages::list)
                .post(pages::upload)
                .layer(DefaultBodyLimit::disable()),
        )
        .route("/s/{id}", get(pages::summary))
        .route("/s/{id}/syscalls", get(pages::syscalls))
        .route("/s/{id}/files", get(pages::files))
        .route("/s/{id}/processes", get(pages::processes))
        .route("/s/{id}/pauses", get(pages::pauses))
        .route("/s/{id}/timeline", get(pages::timeline))
        .route(
            "/s/{id}/delete",
            get(pages::confirm_delete).post(pages::delete),
        )
        .route(
            "/api/straces",
            post(api::upload)
                .layer(DefaultBodyLimit::disable())
                .get(api::list),
        )
        .route("/api/straces/{id}", get(api::status).delete(api::delete))
        .route("/api/straces/{id}/summary", get(api::summary))
        .route("/api/straces/{id}/syscalls", get(api::syscalls))
        .route("/api/straces/{id}/files", get(api::files))
        .route("/api/straces/{id}/processes", get(api::processes))
        .route("/api/straces/{id}/pauses", get(api::pauses))
        .route("/api/straces/{id}/timeline", get(api::timeline))
        .route("/api/straces/{id}/unparsed", get(api::unparsed))
}
