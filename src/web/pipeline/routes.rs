//! The handlers every kind of upload has, over its [`Pipeline`]: upload
//! and delete, as JSON API endpoints and as the pages' form posts.

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use serde::Serialize;

use super::{Kind, Pipeline};
use crate::store::Id;
use crate::web::error::Result;
use crate::web::extract::{Checked, FromQuery};
use crate::web::kit::PageResult;
use crate::web::params::{ParamError, Params};
use crate::web::AppState;

/// Where a kind of upload lives in the app.
pub trait Routes: Kind + Sized {
    /// The upload's pipeline in the app's state.
    fn pipeline(state: &AppState) -> &Pipeline<Self>;
    /// Path of an upload's pages (`/c`: `/c/ID`).
    const PAGES: &'static str;
    /// Path of the uploads in the API (`/api/captures`: `/api/captures/ID`).
    const API: &'static str;
    /// The page listing the uploads, where a deletion leads.
    const LIST: &'static str;
}

/// `?name=` of an API upload (for a raw body, which carries no file name).
pub struct NameParam(Option<String>);

impl FromQuery for NameParam {
    // `team=` is the guard's: it records the upload's team with its owner.
    const NAMES: &'static [&'static str] = &["name", "team"];
    fn from_params(p: &Params) -> std::result::Result<Self, ParamError> {
        Ok(NameParam(p.get("name").map(str::to_string)))
    }
}

#[derive(Serialize)]
struct Created {
    id: String,
    url: String,
}

/// `POST /api/captures`, `POST /api/straces`: the body is a multipart
/// form (field `file`, one per log for strace) or the file itself; 201
/// with the new upload's ID and page, its status at `Location`.
pub async fn api_upload<K: Routes>(
    State(state): State<AppState>,
    Checked(NameParam(name)): Checked<NameParam>,
    req: Request,
) -> Result<Response> {
    let meta = K::pipeline(&state)
        .upload(state.max_upload, state.upload_pace, name, req)
        .await?;
    let id = K::id_of(&meta);
    let mut resp = (
        StatusCode::CREATED,
        Json(Created {
            id: id.to_string(),
            url: format!("{}/{id}", K::PAGES),
        }),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("{}/{id}", K::API)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// `DELETE /api/captures/ID`, `DELETE /api/straces/ID`.
pub async fn api_delete<K: Routes>(
    State(state): State<AppState>,
    id: Id<K::Of>,
) -> Result<StatusCode> {
    K::pipeline(&state).delete(id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /upload`, `POST /straces`: the upload form (without JavaScript);
/// on to the new upload's page.
pub async fn form_upload<K: Routes>(
    State(state): State<AppState>,
    req: Request,
) -> PageResult<Redirect> {
    let meta = K::pipeline(&state)
        .upload(state.max_upload, state.upload_pace, None, req)
        .await?;
    Ok(Redirect::to(&format!("{}/{}", K::PAGES, K::id_of(&meta))))
}

/// `POST /c/ID/delete`, `POST /s/ID/delete`: deletes, then back to the list.
pub async fn form_delete<K: Routes>(
    State(state): State<AppState>,
    id: Id<K::Of>,
) -> PageResult<Redirect> {
    K::pipeline(&state).delete(id).await?;
    Ok(Redirect::to(K::LIST))
}
