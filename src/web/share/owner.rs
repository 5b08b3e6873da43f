//! The owner's side of share links: make one from the view at hand (the
//! "Share" form of every capture and strace page, or `POST
//! /api/captures/ID/shares`, `POST /api/straces/ID/shares`), list an
//! upload's links with their use, and revoke one. Only who may see the
//! upload (its owner, an admin, the local user of an open server) gets
//! this far: the upload's ID extractor answers 404 to anyone else.

use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Json};
use serde::{Deserialize, Serialize};

use super::paths::{Kind, CAPTURE, STRACE};
use crate::redact::ProfileName;
use crate::store::auth::AuthStore;
use crate::store::id::{Capture, Strace};
use crate::store::shares::{profile_name, NewShare, Share};
use crate::store::{Id, IdKind};
use crate::time::Timestamp;
use crate::web::auth::{behind_tls, Viewer};
use crate::web::fmt::{self, Human};
use crate::web::kit::PageResult;
use crate::web::{off_thread, AppState, Error};

/// A kind of upload a link can share.
pub(crate) trait Shareable: IdKind + Sized {
    fn kind() -> &'static Kind;
    /// The upload's name as its owner sees it (a store call).
    fn name(state: &AppState, id: &Id<Self>) -> Result<String, Error>;
}

impl Shareable for Capture {
    fn kind() -> &'static Kind {
        &CAPTURE
    }
    fn name(state: &AppState, id: &Id<Self>) -> Result<String, Error> {
        Ok(state.store.capture(id)?.name)
    }
}

impl Shareable for Strace {
    fn kind() -> &'static Kind {
        &STRACE
    }
    fn name(state: &AppState, id: &Id<Self>) -> Result<String, Error> {
        Ok(state.strace_store.strace(id)?.name)
    }
}

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
async fn make<K: Shareable>(viewer: &Viewer, id: Id<K>, req: ShareRequest) -> Result<Made, Error> {
    let kind = K::kind();
    let profile: ProfileName = req
        .profile
        .as_deref()
        .unwrap_or("strict")
        .parse()
        .map_err(|_| Error::BadRequest("profile must be strict, headers or addresses".into()))?;
    let upload = id.to_string();
    let at = req
        .view
        .unwrap_or_else(|| format!("{}/{upload}", kind.page));
    let view = kind
        .saved_view(&at, &upload, &kind.hidden_columns(profile))
        .ok_or_else(|| Error::BadRequest(format!("view is not a page of this {}", K::NOUN)))?;
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
        kind: K::NOUN.to_string(),
        upload: upload.clone(),
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
                "{} {upload}: link {} ({}, {days} days)",
                K::NOUN,
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
    /// The upload's page (`/c/ID`, `/s/ID`) and what it is.
    at: String,
    noun: &'static str,
    url: String,
    profile: &'static str,
    expires: Human,
}

/// `POST /c/ID/shares`, `POST /s/ID/shares`: makes the link and shows
/// it, once.
pub async fn create<K: Shareable>(
    viewer: Viewer,
    id: Id<K>,
    headers: HeaderMap,
    Form(req): Form<ShareRequest>,
) -> PageResult<CreatedPage> {
    let made = make(&viewer, id, req).await?;
    Ok(CreatedPage {
        at: format!("{}/{id}", K::kind().page),
        noun: K::NOUN,
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

/// `POST /api/captures/ID/shares`, `POST /api/straces/ID/shares` with
/// `{"view", "profile", "days"}` (each optional): 201 with the link.
pub(crate) async fn api_create<K: Shareable>(
    viewer: Viewer,
    id: Id<K>,
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
    at: String,
    noun: &'static str,
    name: String,
    shares: Vec<ListedShare>,
}

async fn shares_of<K: Shareable>(viewer: &Viewer, id: Id<K>) -> Result<Vec<Share>, Error> {
    let upload = id.to_string();
    store_call(viewer, move |s| s.shares_of(K::NOUN, &upload)).await
}

/// `GET /c/ID/shares`, `GET /s/ID/shares`: the upload's links, newest
/// first.
pub async fn list<K: Shareable>(
    State(state): State<AppState>,
    viewer: Viewer,
    id: Id<K>,
) -> PageResult<ListPage> {
    let name = off_thread(Arc::new(state), move |s| K::name(s, &id)).await?;
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
        at: format!("{}/{id}", K::kind().page),
        noun: K::NOUN,
        name,
        shares,
    })
}

/// `GET /api/captures/ID/shares`, `GET /api/straces/ID/shares`.
pub(crate) async fn api_list<K: Shareable>(viewer: Viewer, id: Id<K>) -> Result<Response, Error> {
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

/// `POST /c/ID/shares/N/revoke`, `POST /s/ID/shares/N/revoke`: the link
/// opens nothing from now on.
pub async fn revoke<K: Shareable>(
    viewer: Viewer,
    id: Id<K>,
    Path((_, n)): Path<(String, String)>,
) -> Result<Response, crate::web::kit::PageError> {
    let not_found = || Error::NotFound("share link".into());
    let number: i64 = n.parse().map_err(|_| not_found())?;
    let upload = id.to_string();
    let revoked = store_call(&viewer, {
        let upload = upload.clone();
        move |s| s.revoke_share(K::NOUN, &upload, number)
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
            format!("{} {upload}: link {number}", K::NOUN),
        )
        .await;
    Ok(Redirect::to(&format!("{}/{upload}/shares", K::kind().page)).into_response())
}
