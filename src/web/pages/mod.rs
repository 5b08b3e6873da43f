//! The capture pages, one file each: the home page with the upload area
//! and the capture list, a capture's overview, one conversation, and
//! deletion (uploads and deletions themselves are the pipeline's: `web/pipeline/routes.rs`); the conversation and HTTP tables are in `web/lists.rs`. Thin
//! handlers over the same store calls as the API, server-rendered with
//! askama (auto-escaped). Every page's state is in its URL; the little
//! JavaScript there is (upload progress, copy link) lives in `static/`.
//!
//! This file holds what only capture pages share and the static files;
//! what every page shares is in [`super::kit`].

mod compare;
mod conversation;
mod delete;
pub(crate) mod endpoints;
mod home;
mod overview;

pub use compare::{api_compare, compare_page};
pub use conversation::conversation;
pub use delete::delete_confirm;
pub use endpoints::{api as endpoints_api, page as endpoints};
pub use home::home;
pub use overview::capture;

use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Response};

use super::error::Error;
use super::kit::PageError;

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

/// `GET /static/NAME`: the stylesheets, scripts and icon, built into the
/// binary.
pub async fn static_file(Path(name): Path<String>) -> Response {
    let (mime, body) = match name.as_str() {
        "style.css" => (
            "text/css; charset=utf-8",
            include_str!("../../../static/style.css"),
        ),
        "app.js" => (
            "text/javascript; charset=utf-8",
            include_str!("../../../static/app.js"),
        ),
        "strace.css" => (
            "text/css; charset=utf-8",
            include_str!("../../../static/strace.css"),
        ),
        "favicon.svg" => ("image/svg+xml", include_str!("../../../static/favicon.svg")),
        _ => return PageError::from(Error::NotFound("file".into())).into_response(),
    };
    ([(header::CONTENT_TYPE, mime)], body).into_response()
}

/// Any other path.
pub async fn not_found() -> PageError {
    PageError::from(Error::NotFound("page".into()))
}
