//! The HTML pages: thin handlers over the same store calls as the API.
//! Server-rendered with askama (auto-escaped); no JavaScript needed.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};

use super::api::{with_progress, CaptureStatus};
use super::error::Error;
use super::params::Params;
use super::{blocking, capture_id, upload, AppState};
use crate::analysis::report::ConversationRow;
use crate::store::{ConvQuery, Status};

/// A page that failed: the error's status and message as HTML.
pub struct PageError(Error);

impl From<Error> for PageError {
    fn from(e: Error) -> Self {
        PageError(e)
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage {
    status: u16,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let status = self.0.status();
        let page = ErrorPage {
            status: status.as_u16(),
            message: self.0.public_message(),
        };
        match page.render() {
            Ok(html) => (
                status,
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                html,
            )
                .into_response(),
            Err(_) => status.into_response(),
        }
    }
}

type PageResult<T> = Result<T, PageError>;

#[derive(Template, WebTemplate)]
#[template(path = "home.html")]
pub struct Home {
    captures: Vec<CaptureStatus>,
    max_upload_mib: u64,
}

/// `GET /`: the upload form and the latest captures.
pub async fn home(State(state): State<AppState>) -> PageResult<Home> {
    let page = blocking(&state, |s| s.captures(50, 0)).await?;
    Ok(Home {
        captures: page
            .items
            .into_iter()
            .map(|m| with_progress(&state, m))
            .collect(),
        max_upload_mib: state.max_upload >> 20,
    })
}

/// `POST /upload`: the form's upload; redirects to the capture's page.
pub async fn upload(State(state): State<AppState>, req: Request) -> PageResult<Redirect> {
    let meta = upload::receive(&state, None, req).await?;
    state.jobs.submit(meta.id);
    Ok(Redirect::to(&format!("/c/{}", meta.id)))
}

#[derive(Template, WebTemplate)]
#[template(path = "capture.html")]
pub struct CapturePage {
    c: CaptureStatus,
    percent: String,
    done: bool,
    busy: bool,
    summary: String,
    conversations: Vec<ConversationRow>,
    total_conversations: u64,
}

/// `GET /c/ID`: status while analyzing, then the summary and the longest
/// conversations.
pub async fn capture(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> PageResult<CapturePage> {
    Params::parse(q.as_deref(), &[]).map_err(Error::from)?;
    let id = capture_id(&id)?;
    let meta = blocking(&state, move |s| s.capture(&id)).await?;
    let c = with_progress(&state, meta);
    let done = c.meta.status == Status::Done;
    let (conversations, total_conversations) = if done {
        let page = blocking(&state, move |s| {
            s.conversations(
                &id,
                &ConvQuery {
                    limit: 20,
                    ..ConvQuery::default()
                },
            )
        })
        .await?;
        (page.items, page.total)
    } else {
        (Vec::new(), 0)
    };
    let summary = c
        .meta
        .summary
        .as_ref()
        .and_then(|s| serde_json::to_string_pretty(s).ok())
        .unwrap_or_default();
    Ok(CapturePage {
        percent: format!("{:.0}", c.progress * 100.0),
        busy: matches!(c.meta.status, Status::Queued | Status::Analyzing),
        done,
        summary,
        conversations,
        total_conversations,
        c,
    })
}

/// `GET /static/style.css`.
pub async fn style() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        include_str!("../../static/style.css"),
    )
}

/// Any other path.
pub async fn not_found() -> PageError {
    PageError(Error::NotFound("page".into()))
}
