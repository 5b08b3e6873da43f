//! The one middleware every request passes: the Host allow-list, who the
//! request is from, what a token's scope allows, the cross-site write and
//! CSRF checks, that only an upload's owner (or an admin) changes, deletes
//! or shares it; then, on the way out, the owner and team of a new upload,
//! the audit of uploads and deletions, and the page additions of
//! [`super::inject`].

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};

use super::upload_team::UploadTeam;
use super::viewer::{Via, Who};
use super::{csrf, inject, origin, Auth, Mode, Viewer};
use crate::store::auth::{is_valid_name, Scope, User};
use crate::store::id::{Capture, Strace};
use crate::store::teams::Access;
use crate::store::IdKind;
use crate::web::kit::PageError;
use crate::web::{off_thread, AppState, Error};

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "tracedeck_session";

/// Largest page the guard rewrites; a larger one passes unchanged.
const MAX_PAGE: usize = 64 << 20;

/// Paths open to someone not signed in (a share link's views check its
/// token themselves).
fn is_public(path: &str) -> bool {
    path == "/login" || path.starts_with("/static/") || path.starts_with("/share/")
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The refusal, as a page or as JSON like the rest of the path's answers.
fn refuse(path: &str, e: Error) -> Response {
    if is_api(path) {
        e.into_response()
    } else {
        PageError::from(e).into_response()
    }
}

/// The value of cookie `name`.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The value of query parameter `name`.
fn query_param(req: &Request, name: &str) -> Option<String> {
    let q = req.uri().query()?;
    form_urlencoded::parse(q.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub(crate) async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let mut stale_cookie = false;
    let mut resp = checked(state, req, next, &mut stale_cookie).await;
    if stale_cookie {
        // Whatever the answer, the browser should drop a cookie that opens nothing.
        let clear = format!("{SESSION_COOKIE}=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax");
        if let Ok(v) = HeaderValue::from_str(&clear) {
            resp.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    resp
}

/// The guard's checks, then the request; `stale_cookie` is set when the
/// request carried a session cookie that is not (or no longer) valid.
async fn checked(state: AppState, req: Request, next: Next, stale_cookie: &mut bool) -> Response {
    let auth = state.auth.clone();
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
    let path = req.uri().path().to_string();
    if !origin::is_host_allowed(req.headers(), auth.listen, &auth.config.public_hosts) {
        return refuse(
            &path,
            Error::Forbidden(
                "this server does not answer to that host name (see serve --public-host)".into(),
            ),
        );
    }
    let who = match identify(&auth, req.headers(), client).await {
        Ok((who, stale)) => {
            *stale_cookie = stale;
            who
        }
        Err(e) => return refuse(&path, e),
    };
    let viewer = Viewer {
        who,
        client,
        auth: auth.clone(),
    };
    if let Err(e) = permitted(&viewer, req.method(), &path) {
        if matches!(e, Error::Unauthorized(_)) && !is_api(&path) && req.method() == Method::GET {
            let here = req.uri().path_and_query().map_or("/", |p| p.as_str());
            let mut q = form_urlencoded::Serializer::new(String::new());
            q.append_pair("next", here);
            return Redirect::to(&format!("/login?{}", q.finish())).into_response();
        }
        return refuse(&path, e);
    }
    let writes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if writes {
        if let Some(why) = origin::cross_site_write(req.headers()) {
            let user = viewer.name().map(str::to_string);
            auth.audit("refused", user, client, format!("{why} to {path}"))
                .await;
            return refuse(&path, Error::Forbidden(format!("refused {why}")));
        }
        if !is_api(&path) && is_from_browser(req.headers()) {
            let given = query_param(&req, csrf::PARAM).unwrap_or_default();
            if !csrf::matches(&viewer.csrf_token(), &given) {
                let user = viewer.name().map(str::to_string);
                auth.audit(
                    "refused",
                    user,
                    client,
                    format!("form post to {path} without its CSRF token"),
                )
                .await;
                return refuse(
                    &path,
                    Error::Forbidden("the form has expired: reload the page and try again".into()),
                );
            }
        }
    }
    if let Some((kind, id)) = owners_only(req.method(), &path) {
        match viewer.access_to(kind, id).await {
            Access::Manage => {}
            Access::Read => {
                return refuse(
                    &path,
                    Error::Forbidden(format!(
                        "only the owner of this {kind} (or an admin) may do that"
                    )),
                )
            }
            Access::None => return refuse(&path, Error::NotFound(kind.to_string())),
        }
    }
    let method = req.method().clone();
    let team = UploadTeam::default();
    if is_upload(&method, &path) {
        if let Some(name) = query_param(&req, "team") {
            if let Err(e) = team.choose(&viewer, &name).await {
                return refuse(&path, e);
            }
        }
    }
    let mut req = req;
    req.extensions_mut().insert(viewer.clone());
    req.extensions_mut().insert(team.clone());
    let resp = next.run(req).await;
    if writes {
        if let Some(change) = change_of(&method, &path, &resp) {
            record(&viewer, change, team.chosen()).await;
        }
    }
    add_to_page(resp, &viewer).await
}

/// Whether a browser sent the request (only a browser can be tricked
/// into a cross-site form post; programs carry no ambient credentials).
fn is_from_browser(headers: &HeaderMap) -> bool {
    headers.contains_key(header::ORIGIN)
        || headers.contains_key("sec-fetch-site")
        || cookie(headers, SESSION_COOKIE).is_some()
}

/// Who the request is from, and whether it carried a session cookie that
/// is no longer (or never was) valid.
async fn identify(
    auth: &Arc<Auth>,
    headers: &HeaderMap,
    client: IpAddr,
) -> Result<(Who, bool), Error> {
    if let Some(name) = auth.config.auth_header.as_ref() {
        if let Some(value) = headers.get(name) {
            if !auth.is_trusted_proxy(client) {
                auth.audit(
                    "refused",
                    None,
                    client,
                    format!("{name} from an address not in --trusted-proxy"),
                )
                .await;
                return Err(Error::Forbidden(format!(
                    "{name} is accepted only from a trusted proxy"
                )));
            }
            let user = value.to_str().unwrap_or("").trim().to_string();
            if !is_valid_name(&user) {
                auth.audit(
                    "refused",
                    None,
                    client,
                    format!("{name} names no usable user"),
                )
                .await;
                return Err(Error::Forbidden(format!("{name} names no usable user")));
            }
            let known = off_thread(auth.store.clone(), {
                let user = user.clone();
                move |s| s.user(&user).map_err(|e| Error::Internal(e.to_string()))
            })
            .await?;
            let user = known.unwrap_or(User {
                name: user,
                admin: false,
            });
            return Ok((Who::User(user, Via::Proxy), false));
        }
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let found = off_thread(auth.store.clone(), move |s| {
            s.token(&secret).map_err(|e| Error::Internal(e.to_string()))
        })
        .await?;
        return match found {
            Some((user, scope)) => Ok((Who::User(user, Via::Token(scope)), false)),
            None => {
                auth.audit(
                    "refused",
                    None,
                    client,
                    "unknown or expired API token".into(),
                )
                .await;
                Err(Error::Unauthorized("the API token is not valid".into()))
            }
        };
    }
    if let Some(secret) = cookie(headers, SESSION_COOKIE).map(str::to_string) {
        let found = off_thread(auth.store.clone(), {
            let secret = secret.clone();
            move |s| {
                s.session(&secret)
                    .map_err(|e| Error::Internal(e.to_string()))
            }
        })
        .await?;
        if let Some(user) = found {
            return Ok((Who::User(user, Via::Session(secret)), false));
        }
        auth.audit(
            "refused",
            None,
            client,
            "unknown or expired session cookie".into(),
        )
        .await;
        return Ok((anonymous(auth), true));
    }
    Ok((anonymous(auth), false))
}

fn anonymous(auth: &Auth) -> Who {
    match auth.mode {
        Mode::Open { .. } => Who::Local,
        Mode::Accounts => Who::Anonymous,
    }
}

/// Whether the viewer may make this request at all (what it may see is
/// the ID extractor's question).
fn permitted(viewer: &Viewer, method: &Method, path: &str) -> Result<(), Error> {
    let safe = matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    match &viewer.who {
        Who::Anonymous if !is_public(path) => Err(Error::Unauthorized(
            "sign in first (/login), or send an API token".into(),
        )),
        Who::User(_, Via::Token(Scope::Upload))
            if !(*method == Method::POST
                && (path == "/api/captures" || path == "/api/straces")) =>
        {
            Err(Error::Forbidden("this API token may only upload".into()))
        }
        Who::User(_, Via::Token(Scope::Read)) if !safe => {
            Err(Error::Forbidden("this API token may only read".into()))
        }
        _ => Ok(()),
    }
}

/// The upload a successful write created or deleted.
enum Change {
    Uploaded(&'static str, String),
    Deleted(&'static str, String),
}

/// `/c/ID`, `/api/captures/ID`, `/s/ID`, `/api/straces/ID` (and what
/// follows the ID): the kind and the ID.
fn upload_in(path: &str) -> Option<(&'static str, String)> {
    let (noun, rest) = [
        ("/api/captures/", Capture::NOUN),
        ("/api/straces/", Strace::NOUN),
        ("/c/", Capture::NOUN),
        ("/s/", Strace::NOUN),
    ]
    .into_iter()
    .find_map(|(prefix, noun)| path.strip_prefix(prefix).map(|rest| (noun, rest)))?;
    let id = rest.split('/').next()?;
    (id.len() == 32).then(|| (noun, id.to_string()))
}

/// Whether the request makes a new upload.
fn is_upload(method: &Method, path: &str) -> bool {
    *method == Method::POST
        && matches!(
            path,
            "/upload" | "/straces" | "/api/captures" | "/api/straces"
        )
}

/// The upload a request acts on, when only its owner (or an admin) may:
/// every write but computing a filtered view (which any reader may ask
/// for), and the pages of its share links, team and deletion.
fn owners_only(method: &Method, path: &str) -> Option<(&'static str, String)> {
    let (kind, id) = upload_in(path)?;
    let rest = path.split_once(id.as_str()).map_or("", |(_, rest)| rest);
    let writes = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    let owners_page =
        rest.starts_with("/shares") || matches!(rest, "/team" | "/delete" | "/keylog/remove");
    let owners = if writes {
        rest != "/analyses"
    } else {
        owners_page
    };
    owners.then_some((kind, id))
}

fn change_of(method: &Method, path: &str, resp: &Response) -> Option<Change> {
    let status = resp.status();
    if is_upload(method, path) {
        if status != StatusCode::CREATED && !status.is_redirection() {
            return None;
        }
        let location = resp.headers().get(header::LOCATION)?.to_str().ok()?;
        let (noun, id) = upload_in(location)?;
        return Some(Change::Uploaded(noun, id));
    }
    let deleting = (*method == Method::DELETE && is_api(path))
        || (*method == Method::POST && path.ends_with("/delete"));
    if deleting && (status.is_success() || status.is_redirection()) {
        let (noun, id) = upload_in(path)?;
        return Some(Change::Deleted(noun, id));
    }
    None
}

/// Records the owner (and `team`) of a new upload, forgets a deleted
/// one's, and audits both.
async fn record(viewer: &Viewer, change: Change, team: Option<String>) {
    let user = viewer.name().map(str::to_string);
    let auth = viewer.auth.clone();
    let (event, detail) = match &change {
        Change::Uploaded(noun, id) => match &team {
            Some(team) => ("upload", format!("{noun} {id} for team {team}")),
            None => ("upload", format!("{noun} {id}")),
        },
        Change::Deleted(noun, id) => ("delete", format!("{noun} {id}")),
    };
    let owner = user.clone();
    let stored = off_thread(auth.store.clone(), move |s| {
        let done = match (&change, owner) {
            (Change::Uploaded(noun, id), Some(owner)) => {
                s.set_owner(noun, id, &owner, team.as_deref())
            }
            (Change::Deleted(noun, id), _) => s.forget_owner(noun, id),
            (Change::Uploaded(..), None) => Ok(()),
        };
        done.map_err(|e| Error::Internal(e.to_string()))
    })
    .await;
    if let Err(e) = stored {
        tracing::error!("recording the owner of {detail}: {e}");
    }
    auth.audit(event, user, viewer.client, detail).await;
}

/// A page gets the banner or account bar and its forms' CSRF tokens; any
/// other answer passes unchanged.
async fn add_to_page(resp: Response, viewer: &Viewer) -> Response {
    let is_html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !is_html {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_PAGE).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("reading a page to add the account bar: {e}");
            return (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response();
        }
    };
    let html = String::from_utf8_lossy(&bytes);
    let page = inject::page(&html, viewer);
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn ids_in_paths() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            upload_in(&format!("/c/{id}")),
            Some((Capture::NOUN, id.to_string()))
        );
        assert_eq!(
            upload_in(&format!("/api/straces/{id}")),
            Some((Strace::NOUN, id.to_string()))
        );
        assert_eq!(
            upload_in(&format!("/s/{id}/delete")),
            Some((Strace::NOUN, id.to_string()))
        );
        assert_eq!(upload_in("/c/short"), None);
        assert_eq!(upload_in("/other"), None);
    }

    #[test]
    fn only_owners_change_delete_and_share() {
        let id = "0123456789abcdef0123456789abcdef";
        let owners = |m: Method, p: &str| owners_only(&m, &p.replace("ID", id)).is_some();
        assert!(owners(Method::POST, "/c/ID/delete"));
        assert!(owners(Method::DELETE, "/api/captures/ID"));
        assert!(owners(Method::POST, "/c/ID/shares"));
        assert!(owners(Method::GET, "/c/ID/shares"));
        assert!(owners(Method::GET, "/api/captures/ID/shares"));
        assert!(owners(Method::POST, "/c/ID/shares/3/revoke"));
        assert!(owners(Method::POST, "/c/ID/team"));
        assert!(owners(Method::GET, "/s/ID/team"));
        assert!(owners(Method::GET, "/s/ID/delete"));
        assert!(owners(Method::POST, "/c/ID/keylog"));
        assert!(!owners(Method::GET, "/c/ID/keylog"));
        assert!(!owners(Method::POST, "/c/ID/analyses"));
        assert!(!owners(Method::POST, "/api/captures/ID/analyses"));
        assert!(!owners(Method::GET, "/c/ID"));
        assert!(!owners(
            Method::GET,
            "/api/captures/ID/conversations/1/pcap"
        ));
        assert!(!owners(Method::POST, "/upload"));
    }

    #[test]
    fn cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tracedeck_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
    }
}
