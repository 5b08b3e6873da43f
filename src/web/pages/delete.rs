//! Deleting a capture: the confirmation page and the deletion itself.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;

use crate::store::CaptureId;
use crate::web::fmt::{self, Human};
use crate::web::kit::{CapHead, PageResult};
use crate::web::{blocking, AppState};

#[derive(Template, WebTemplate)]
#[template(path = "delete.html")]
pub struct DeletePage {
    head: CapHead,
    size: Human,
}

/// `GET /c/ID/delete`: asks for confirmation.
pub async fn delete_confirm(
    State(state): State<AppState>,
    id: CaptureId,
) -> PageResult<DeletePage> {
    let meta = blocking(&state, move |s| s.capture(&id)).await?;
    Ok(DeletePage {
        head: CapHead::new(&id, &meta.name, "delete", format!("/api/captures/{id}")),
        size: fmt::bytes(&meta.size),
    })
}
