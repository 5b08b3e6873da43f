//! The owner's side of share links: make one from the view at hand (the
//! "Share" form of every capture page, or `POST /api/captures/ID/shares`),
//! list a capture's links with their use, and revoke one. Only who may see
//! the capture (its owner, an admin, the local user of an open server) gets
//! this far: the capture's ID extractor answers 404 to anyone else.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};

use super::paths::saved_view;
use crate::redact::ProfileName;
use crate::store::auth::AuthStore;
use crate::store::id::Capture;
use crate::store::shares::{profile_name, NewShare, Share};
use crate::store::{CaptureId, IdKind};
use crate::time::Timestamp;
use crate::web::auth::{behind_tls, Viewer};
use crate::web::fmt::{self, Human};
use crate::web::kit::PageResult;
use crate::web::{blocking, off_thread, AppState, Error};

/// Days a link lives unless asked otherwise.
const DEFAULT_DAYS: u32 = 7;
/// The longest, unless `serve --share-max-days` says otherwise.
const DEFAULT_MAX_DAYS: u32 = 30;
const DAY_NS: i64 = 86_400 * 1_000_000_000;

/// What the Share form (and the JSON twin's body) asks for.
#[derive(Debug, Default, Deserialize)]
pub struct ShareRequest {
    /// The address of the view to share (a capture page or its JSON twin);
    /// none: the overview.
    view: Option<String>,
    /// `strict` (the default), `headers` or `addresses`.
    profile: Option<String>,
    /// Days until the link expires.
    days: Option<u32>,
}

async fn store_call<T, F>(viewer: &Viewer, f: F) -> Result<T, Error>
where
    T: Send + 'static,
    F: FnOnce(&AuthStore) -> crate::store::auth::Result<T> + Send + 'static,
{
    off_thread(viewer.auth.store.clone(), move |s| {
        f(s).map_err(|e| Error::Internal(e.to_string()))
    })
    .await
}

/// A made link: its token (shown once) and where it opens.
struct Made {
    token: String,
    share: Share,
}

/// Checks the request, stores the link and audits it.
async fn make(viewer: &Viewer, id: CaptureId, req: ShareRequest) -> Result<Made, Error> {
    let profile: ProfileName = req
        .profile
        .as_deref()
        .unwrap_or("strict")
        .parse()
        .map_err(|_| Error::BadRequest("profile must be strict, headers or addresses".into()))?;
    let capture = id.to_string();
    let at = req.view.unwrap_or_else(|| format!("/c/{capture}"));
    let view = saved_view(&at, &capture)
        .ok_or_else(|| Error::BadRequest("view is not a page of this capture".into()))?;
    let max = viewer
        .auth
        .config
        .share_max_days
        .unwrap_or(DEFAULT_MAX_DAYS);
    let days = req.days.unwrap_or(DEFAULT_DAYS).clamp(1, max.max(1));
    let expires = Timestamp::from_nanos(
        Timestamp::now()
            .as_nanos()
            .saturating_add(i64::from(days) * DAY_NS),
    );
    let new = NewShare {
        kind: Capture::NOUN.to_string(),
        upload: capture.clone(),
        owner: viewer.name().map(str::to_string),
        view,
        profile,
        expires,
    };
    let (token, share) = store_call(viewer, move |s| s.create_share(&new)).await?;
    viewer
        .auth
        .audit(
            "share",
            viewer.name().map(str::to_string),
            viewer.client,
            format!(
                "{} {capture}: link {} ({}, {days} days)",
                Capture::NOUN,
                share.number,
                profile_name(profile)
            ),
        )
        .await;
    Ok(Made { token, share })
}

/// The link as a person pastes it: this server's address as the browser
/// reached it (the guard has checked its Host).
fn absolute(viewer: &Viewer, headers: &HeaderMap, path: &str) -> String {
    let scheme = if behind_tls(viewer, headers) {
        "https"
    } else {
        "http"
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map_or_else(|| viewer.auth.listen.to_string(), str::to_string);
    format!("{scheme}://{host}{path}")
}

#[derive(Template, WebTemplate)]
#[template(path = "share_created.html")]
pub struct CreatedPage {
    id: String,
    url: String,
    profile: &'static str,
    expires: Human,
}

/// `POST /c/ID/shares`: makes the link and shows it, once.
pub async fn create(
    viewer: Viewer,
    id: CaptureId,
    headers: HeaderMap,
    Form(req): Form<ShareRequest>,
) -> PageResult<CreatedPage> {
    let made = make(&viewer, id, req).await?;
    Ok(CreatedPage {
        id: id.to_string(),
        url: absolute(&viewer, &headers, &format!("/share/{}", made.token)),
        profile: profile_name(made.share.profile),
        expires: fmt::when(&Some(made.share.expires)),
    })
}

/// The JSON twin's answer: the link (shown once) and what it is.
#[derive(Serialize)]
struct Created {
    url: String,
    token: String,
    #[serde(flatten)]
    share: Share,
}

/// `POST /api/captures/ID/shares` with `{"view", "profile", "days"}`
/// (each optional): 201 with the link.
pub(crate) async fn api_create(
    viewer: Viewer,
    id: CaptureId,
    headers: HeaderMap,
    Json(req): Json<ShareRequest>,
) -> Result<Response, Error> {
    let made = make(&viewer, id, req).await?;
    let path = format!("/share/{}", made.token);
    let body = Created {
        url: absolute(&viewer, &headers, &path),
        token: made.token,
        share: made.share,
    };
    Ok((StatusCode::CREATED, [(header::LOCATION, path)], Json(body)).into_response())
}

/// One link as the list shows it.
pub struct ListedShare {
    s: Share,
    state: &'static str,
    created: Human,
    expires: Human,
    last_used: Human,
    profile: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "share_list.html")]
pub struct ListPage {
    id: String,
    name: String,
    shares: Vec<ListedShare>,
}

async fn shares_of(viewer: &Viewer, id: CaptureId) -> Result<Vec<Share>, Error> {
    store_call(viewer, move |s| s.shares_of(Capture::NOUN, &id.to_string())).await
}

/// `GET /c/ID/shares`: the capture's links, newest first.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    id: CaptureId,
) -> PageResult<ListPage> {
    let meta = blocking(&state, move |s| s.capture(&id)).await?;
    let now = Timestamp::now();
    let shares = shares_of(&viewer, id)
        .await?
        .into_iter()
        .map(|s| ListedShare {
            state: s.state(now),
            created: fmt::when(&Some(s.created)),
            expires: fmt::when(&Some(s.expires)),
            last_used: fmt::when(&s.last_used),
            profile: profile_name(s.profile),
            s,
        })
        .collect();
    Ok(ListPage {
        id: id.to_string(),
        name: meta.name,
        shares,
    })
}

/// `GET /api/captures/ID/shares`.
pub(crate) async fn api_list(viewer: Viewer, id: CaptureId) -> Result<Response, Error> {
    let now = Timestamp::now();
    let items: Vec<serde_json::Value> = shares_of(&viewer, id)
        .await?
        .into_iter()
        .map(|s| {
            let state = s.state(now);
            let mut v = serde_json::to_value(s).unwrap_or_default();
            if let Some(o) = v.as_object_mut() {
                o.insert("state".into(), state.into());
            }
            v
        })
        .collect();
    Ok(Json(serde_json::json!({ "total": items.len(), "items": items })).into_response())
}

/// `POST /c/ID/shares/N/revoke`: the link opens nothing from now on.
pub async fn revoke(
    viewer: Viewer,
    id: CaptureId,
    Path((_, n)): Path<(String, String)>,
) -> Result<Response, crate::web::kit::PageError> {
    let not_found = || Error::NotFound("share link".into());
    let number: i64 = n.parse().map_err(|_| not_found())?;
    let capture = id.to_string();
    let revoked = store_call(&viewer, {
        let capture = capture.clone();
        move |s| s.revoke_share(Capture::NOUN, &capture, number)
    })
    .await?;
    if !revoked {
        return Err(not_found().into());
    }
    viewer
        .auth
        .audit(
            "share-revoke",
            viewer.name().map(str::to_string),
            viewer.client,
            format!("{} {capture}: link {number}", Capture::NOUN),
        )
        .await;
    Ok(Redirect::to(&format!("/c/{capture}/shares")).into_response())
}
