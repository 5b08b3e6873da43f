//! Share links (README, "Share links"): the owner of a capture or strace
//! log makes a link to the view they are looking at, with a redaction profile and an expiry
//! ([`owner`]); anyone with the link opens that view read-only, without
//! signing in, and every view reachable from it, under `/share/TOKEN/…`
//! ([`open`]).
//!
//! A shared view is the capture's own page or JSON twin, run over a
//! [`store::SharedStore`] that passes every row through the link's
//! redactor and refuses every write and every filter by a hidden value;
//! its answer then has its links put under the share link and its forms
//! taken out ([`paths`]). The token is the only key: the capture's ID
//! never appears in a shared view.

mod open;
mod owner;
mod paths;
mod store;
mod strace_store;

use axum::routing::{get, post};
use axum::Router;

pub(crate) use owner::{api_create, api_list};

use crate::store::id::{Capture, Strace};

use super::AppState;

/// The share routes outside `/api/`: the owner's (create, list, revoke)
/// and the viewer's.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/c/{id}/shares",
            get(owner::list::<Capture>).post(owner::create::<Capture>),
        )
        .route("/c/{id}/shares/{n}/revoke", post(owner::revoke::<Capture>))
        .route(
            "/s/{id}/shares",
            get(owner::list::<Strace>).post(owner::create::<Strace>),
        )
        .route("/s/{id}/shares/{n}/revoke", post(owner::revoke::<Strace>))
        .route(
            "/api/straces/{id}/shares",
            get(api_list::<Strace>).post(api_create::<Strace>),
        )
        .route("/share/{token}", get(open::open))
        .route("/share/{token}/{*rest}", get(open::open).post(open::open))
}
