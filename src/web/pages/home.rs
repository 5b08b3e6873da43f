//! The home page: the upload area and the latest captures the viewer
//! may see.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use super::overview::Summary;
use crate::store::Status;
use crate::web::api::{with_progress, CaptureStatus};
use crate::web::auth::{visible_captures, Viewer};
use crate::web::extract::{Checked, NoParams};
use crate::web::fmt::{self, Human};
use crate::web::kit::PageResult;
use crate::web::AppState;

/// One row of the capture list.
pub struct CaptureItem {
    pub c: CaptureStatus,
    pub size: Human,
    pub packets: String,
    pub duration: Human,
    pub created: Human,
    /// What the analysis warned about (a cut-short last packet, …).
    pub warnings: Vec<String>,
    /// Analysed, and the file held no packets.
    pub empty: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct Home {
    captures: Vec<CaptureItem>,
    total: u64,
    max_upload_mib: u64,
    /// Teams the viewer may give the upload to (`team_pick.html`).
    teams: Vec<String>,
}

/// `GET /`: the upload area and the latest captures.
pub async fn home(
    State(state): State<AppState>,
    viewer: Viewer,
    _: Checked<NoParams>,
) -> PageResult<Home> {
    let page = visible_captures(&state, &viewer, 100, 0).await?;
    let captures = page
        .items
        .into_iter()
        .map(|m| {
            let c = with_progress(&state, m);
            let sum = Summary::from_doc(c.meta.summary.as_ref());
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
                empty: done && sum.packets == 0,
                warnings: sum.warnings,
                c,
            }
        })
        .collect();
    Ok(Home {
        captures,
        total: page.total,
        max_upload_mib: state.max_upload >> 20,
        teams: viewer.teams_to_pick().await?,
    })
}
