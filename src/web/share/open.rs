//! Opening a share link: `/share/TOKEN` goes to the view the link saved;
//! `/share/TOKEN/…` answers a capture page or JSON twin over the link's
//! [`SharedStore`], or the whole capture redacted; for a link of an
//! strace log, one of its pages or JSON twins over [`SharedStraces`]. An unknown, forged or
//! revoked token is the same 404 as any unknown address; an expired one is
//! 410, saying when it expired.

use std::sync::Arc;

use askama::Template;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use tower::ServiceExt;

use super::paths::{hide_filter, saved_filter, without_filter, Kind, Target, FILTER_STAND_IN};
use super::store::SharedStore;
use super::strace_store::SharedStraces;
use crate::redact::rewrite::redact_capture;
use crate::redact::{Profile, Redactor};
use crate::store::shares::{profile_name, Opened, Share};
use crate::store::{CaptureId, Status, Store, StraceId};
use crate::time::Timestamp;
use crate::web::auth::Viewer;
use crate::web::fmt::{self, Human};
use crate::web::kit::PageError;
use crate::web::{api, blocking, lists, off_thread, pages, reanalysis, strace, AppState, Error};

/// Largest page or JSON answer rewritten; a larger one is refused.
const MAX_ANSWER: usize = 64 << 20;

/// The capture pages and JSON twins a link reaches (the same handlers as
/// the owner's), and nothing else.
fn capture_views() -> Router<AppState> {
    Router::new()
        .route("/c/{id}", get(pages::capture))
        .route("/c/{id}/conversations", get(lists::conversations))
        .route("/c/{id}/conversations/{n}", get(pages::conversation))
        .route("/c/{id}/http", get(lists::http))
        .route("/c/{id}/dns", get(lists::dns))
        .route("/c/{id}/endpoints", get(pages::endpoints))
        .route("/c/{id}/analyses", post(reanalysis::form_compute))
        .route("/api/captures/{id}", get(api::status))
        .route("/api/captures/{id}/conversations", get(api::conversations))
        .route(
            "/api/captures/{id}/conversations/{n}",
            get(api::conversation),
        )
        .route(
            "/api/captures/{id}/conversations/{n}/packets",
            get(api::packets),
        )
        .route(
            "/api/captures/{id}/conversations/{n}/stream",
            get(api::stream),
        )
        .route("/api/captures/{id}/conversations/{n}/pcap", get(api::pcap))
        .route("/api/captures/{id}/http", get(api::http))
        .route("/api/captures/{id}/dns", get(api::dns))
        .route("/api/captures/{id}/endpoints", get(pages::endpoints_api))
        .fallback(pages::not_found)
}

async fn not_found() -> Response {
    pages::not_found().await.into_response()
}

#[derive(Template)]
#[template(path = "share_gone.html")]
struct GonePage {
    expired: Human,
}

/// 410: the link is past its expiry.
fn gone(share: &Share) -> Response {
    let page = GonePage {
        expired: fmt::when(&Some(share.expires)),
    };
    match page.render() {
        Ok(html) => (
            StatusCode::GONE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            html,
        )
            .into_response(),
        Err(_) => StatusCode::GONE.into_response(),
    }
}

/// `GET /share/TOKEN[/…]`; `POST /share/TOKEN/analyses` computes a
/// filtered link's view.
pub async fn open(State(state): State<AppState>, viewer: Viewer, req: Request) -> Response {
    let path = req.uri().path().to_string();
    let query = req.uri().query().map(str::to_string);
    let Some(after) = path.strip_prefix("/share/") else {
        return not_found().await;
    };
    let token = after.split('/').next().unwrap_or("").to_string();
    let rest = after[token.len()..].to_string();
    let now = Timestamp::now();
    let opened = off_thread(state.auth.store.clone(), {
        let token = token.clone();
        move |s| {
            s.open_share(&token, now)
                .map_err(|e| Error::Internal(e.to_string()))
        }
    })
    .await;
    let share = match opened {
        Ok(Some(Opened::Live(share))) => share,
        Ok(Some(Opened::Expired(share))) => return gone(&share),
        Ok(None) => return not_found().await,
        Err(e) => return PageError::from(e).into_response(),
    };
    let Some(kind) = Kind::of(&share.kind) else {
        return not_found().await;
    };
    count_view(&viewer, &share, now).await;
    let filter = if kind.is_capture() {
        saved_filter(&share.view)
    } else {
        None
    };
    if rest.is_empty() {
        let view = without_filter(&share.view);
        return Redirect::to(&format!("/share/{token}{view}")).into_response();
    }
    let hidden = kind.hidden_columns(share.profile);
    if let Some(why) = kind.refusal(query.as_deref(), &hidden) {
        let e = Error::BadRequest(why);
        return if rest.starts_with("/api") {
            e.into_response()
        } else {
            PageError::from(e).into_response()
        };
    }
    let id = &share.upload;
    let child = match &filter {
        Some(f) => filtered_id(&state, id, f).await,
        None => None,
    };
    let Some(shared) = shared_state(&state, kind, &share, filter.clone(), child) else {
        return not_found().await;
    };
    let hiding = Hiding {
        child: child.map(|c| c.to_string()),
        filter,
    };
    if req.method() == Method::POST {
        return match (&hiding.filter, rest.as_str()) {
            (Some(f), "/analyses") => {
                let form = compute_form(kind, &share, id, f);
                let uri = format!("/c/{id}/analyses");
                let answer = inner_answer(&shared, &viewer, kind, Method::POST, &uri, form).await;
                outward_answer(kind, answer, &token, id, &share, &hiding).await
            }
            _ => not_found().await,
        };
    }
    match kind.target(&rest, id) {
        None => not_found().await,
        // The whole capture is more than a filtered link shows.
        Some(Target::Capture) if hiding.filter.is_some() => not_found().await,
        Some(Target::Capture) => match id.parse() {
            Ok(capture) => whole_capture(&shared, capture).await,
            Err(_) => not_found().await,
        },
        Some(Target::Inner(inner)) => {
            let q = {
                let mut pairs = form_urlencoded::Serializer::new(query.clone().unwrap_or_default());
                if let Some(f) = &hiding.filter {
                    pairs.append_pair("filter", f);
                }
                pairs.finish()
            };
            let uri = if q.is_empty() {
                inner
            } else {
                format!("{inner}?{q}")
            };
            let answer =
                inner_answer(&shared, &viewer, kind, Method::GET, &uri, String::new()).await;
            outward_answer(kind, answer, &token, id, &share, &hiding).await
        }
    }
}

/// What a filtered link hides besides the upload's ID: the owner's filter
/// and the ID of the capture's analysis with it.
struct Hiding {
    filter: Option<String>,
    child: Option<String>,
}

/// The ID of capture `id`'s analysis with `filter`, once asked for.
async fn filtered_id(state: &AppState, id: &str, filter: &str) -> Option<CaptureId> {
    let capture: CaptureId = id.parse().ok()?;
    let filter = filter.to_string();
    let found = blocking(state, move |s| s.find_filtered(&capture, &filter)).await;
    match found {
        Ok(meta) => meta.map(|m| m.id),
        Err(e) => {
            tracing::error!("finding a shared capture's filtered analysis: {e}");
            None
        }
    }
}

/// The body of the owner's Compute form for the link's filter, returning
/// to the link's saved view.
fn compute_form(kind: &Kind, share: &Share, id: &str, filter: &str) -> String {
    let (path, query) = share.view.split_once('?').unwrap_or((&share.view, ""));
    let back = match kind.target(path, id) {
        Some(Target::Inner(inner)) => inner,
        _ => format!("/c/{id}"),
    };
    let back = if query.is_empty() {
        back
    } else {
        format!("{back}?{query}")
    };
    form_urlencoded::Serializer::new(String::new())
        .append_pair("filter", filter)
        .append_pair("back", &back)
        .finish()
}

/// The app's state with the store of the link's kind replaced by its
/// redacting view of the one upload the link names.
fn shared_state(
    state: &AppState,
    kind: &Kind,
    share: &Share,
    filter: Option<String>,
    child: Option<CaptureId>,
) -> Option<AppState> {
    let redactor = Redactor::new(Profile::named(share.profile), &share.key);
    if !kind.is_capture() {
        let upload: StraceId = share.upload.parse().ok()?;
        let straces =
            SharedStraces::new(state.strace_store.clone(), redactor, upload, share.number);
        return Some(AppState {
            strace_store: Arc::new(straces),
            ..state.clone()
        });
    }
    let capture: CaptureId = share.upload.parse().ok()?;
    Some(AppState {
        store: Arc::new(SharedStore::new(
            state.store.clone(),
            redactor,
            capture,
            filter,
            child,
        )),
        ..state.clone()
    })
}

/// Counts the view; the audit log gets the link's first view of each day.
async fn count_view(viewer: &Viewer, share: &Share, now: Timestamp) {
    let number = share.number;
    let first_today = off_thread(viewer.auth.store.clone(), move |s| {
        s.share_viewed(number, now)
            .map_err(|e| Error::Internal(e.to_string()))
    })
    .await;
    match first_today {
        Ok(true) => {
            viewer
                .auth
                .audit(
                    "share-view",
                    viewer.name().map(str::to_string),
                    viewer.client,
                    format!("{} {}: link {number}", share.kind, share.upload),
                )
                .await
        }
        Ok(false) => {}
        Err(e) => tracing::error!("counting a view of share link {number}: {e}"),
    }
}

/// The owner's handler for `uri`, run over the shared store.
async fn inner_answer(
    shared: &AppState,
    viewer: &Viewer,
    kind: &Kind,
    method: Method,
    uri: &str,
    form: String,
) -> Response {
    let mut req = match Request::builder()
        .method(method)
        .uri(uri)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(form))
    {
        Ok(r) => r,
        Err(_) => return not_found().await,
    };
    req.extensions_mut()
        .insert(Viewer::share_reader(viewer.auth.clone(), viewer.client));
    let views = if !kind.is_capture() {
        strace::shared_views().fallback(pages::not_found)
    } else {
        capture_views()
    };
    match views.with_state(shared.clone()).oneshot(req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}

/// The answer with its links under the share link, and a page without
/// the owner's forms and with the share's note.
async fn outward_answer(
    kind: &Kind,
    resp: Response,
    token: &str,
    id: &str,
    share: &Share,
    hiding: &Hiding,
) -> Response {
    let outward = |text: &str| {
        let mut text = kind.outward(text, token, id);
        if let Some(child) = &hiding.child {
            text = text.replace(child.as_str(), "shared");
        }
        match &hiding.filter {
            Some(f) => hide_filter(&text, f),
            None => text,
        }
    };
    let (mut parts, body) = resp.into_parts();
    if let Some(to) = parts
        .headers
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
    {
        match HeaderValue::from_str(&outward(to)) {
            Ok(v) => {
                parts.headers.insert(header::LOCATION, v);
            }
            Err(_) => return not_found().await,
        }
    }
    let media = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let is_html = media.starts_with("text/html");
    if !is_html && !media.starts_with("application/json") {
        return Response::from_parts(parts, body);
    }
    let bytes = match axum::body::to_bytes(body, MAX_ANSWER).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!("reading a shared answer: {e}");
            return PageError::from(Error::Internal("answer too large".into())).into_response();
        }
    };
    let mut text = outward(&String::from_utf8_lossy(&bytes));
    if is_html {
        let uncomputed = text.contains("id=\"filter-compute\"");
        text = kind.strip_page(&text, &kind.hidden_columns(share.profile));
        if uncomputed {
            text = with_compute_button(&text, token);
        }
        text = with_note(kind, &text, token, share, hiding.filter.is_some());
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(text))
}

/// The note at the top of a shared page: what it is, until when, and (of
/// a capture) the whole capture's redacted download.
fn with_note(kind: &Kind, html: &str, token: &str, share: &Share, filtered: bool) -> String {
    let download = if filtered {
        format!(" · {FILTER_STAND_IN}")
    } else if kind.is_capture() {
        format!(
            " · <a href=\"/share/{token}/capture.pcap\" id=\"redacted-pcap\" download>\
             Download redacted pcap</a>"
        )
    } else {
        String::new()
    };
    let note = format!(
        "\n<div class=\"share-note\" role=\"note\" id=\"share-note\">Shared view, read-only, \
         redacted ({}) · expires {}{download}</div>",
        profile_name(share.profile),
        fmt::when_text(share.expires),
    );
    match html.find("<main>") {
        Some(i) => {
            let at = i + "<main>".len();
            format!("{}{note}{}", &html[..at], &html[at..])
        }
        None => html.to_string(),
    }
}

/// A filtered view not computed yet: the owner's Compute form (gone with
/// every form that posts) becomes one that computes the link's own
/// filter, and only it, without naming it.
fn with_compute_button(html: &str, token: &str) -> String {
    let open = "<section class=\"panel pending\" id=\"filter-compute\">";
    let Some(start) = html.find(open) else {
        return html.to_string();
    };
    let Some(len) = html[start..].find("</section>") else {
        return html.to_string();
    };
    let end = start + len + "</section>".len();
    let button = format!(
        "{open}<form method=\"post\" action=\"/share/{token}/analyses\"><p>The link's owner \
         filtered this view; it has not been computed yet. <button type=\"submit\" \
         id=\"compute-filter\">Compute</button></p></form></section>"
    );
    format!("{}{button}{}", &html[..start], &html[end..])
}

/// `GET /share/TOKEN/capture.pcap`: the whole capture through the
/// rewriter of [`crate::redact`], streamed as it is written.
async fn whole_capture(shared: &AppState, capture: CaptureId) -> Response {
    let store: Arc<dyn Store> = shared.store.clone();
    let found = blocking(shared, move |s| {
        let meta = s.capture(&capture)?;
        Ok((meta.status, s.capture_file(&capture)?))
    })
    .await;
    let file = match found {
        Ok((Status::Done, file)) => file,
        Ok(_) => {
            return PageError::from(Error::Conflict("the capture is not analyzed yet".into()))
                .into_response()
        }
        Err(e) => return PageError::from(e).into_response(),
    };
    let is_pcapng = std::fs::File::open(&file)
        .and_then(|mut f| {
            let mut magic = [0u8; 4];
            std::io::Read::read_exact(&mut f, &mut magic).map(|()| magic)
        })
        .is_ok_and(|m| m == [0x0a, 0x0d, 0x0d, 0x0a]);
    let Some(redactor) = store.redacting().map(|(_, r)| r.clone()) else {
        return not_found().await;
    };
    let body = api::blocking_body("redacted capture download".into(), move |w| {
        redact_capture(&redactor, &file, w)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    let ext = if is_pcapng { "pcapng" } else { "pcap" };
    (
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.tcpdump.pcap".to_string(),
            ),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"shared-capture-redacted.{ext}\""),
            ),
        ],
        body,
    )
        .into_response()
}
