//! `web::Error`: what a handler can fail with, and the JSON answer each
//! gives. Bad input gets its message and a 4xx; internal failures get a
//! generic message, and their detail goes to `tracing` only.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use crate::store;

/// A handler's failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An unknown or malformed capture ID, conversation or path.
    #[error("{0} not found")]
    NotFound(String),
    /// A query parameter or request body that cannot be used.
    #[error("{0}")]
    BadRequest(String),
    /// The upload is over `--max-upload`.
    #[error("the upload is larger than the {limit}-byte limit of this server (--max-upload)")]
    TooLarge { limit: u64 },
    /// The data directory's file system cannot hold the upload.
    #[error("disk full: {} free, this upload needs about {}", gb(*free), gb(*needs))]
    InsufficientStorage { free: u64, needs: u64 },
    /// No one is signed in (or the credentials are bad).
    #[error("{0}")]
    Unauthorized(String),
    /// Signed in, but this may not be done that way (a token's scope, a
    /// cross-site write, a Host this server does not answer to).
    #[error("{0}")]
    Forbidden(String),
    /// Too many failed sign-ins; try again later.
    #[error("{0}")]
    TooManyRequests(String),
    /// The request is fine but the capture is not ready for it.
    #[error("{0}")]
    Conflict(String),
    /// The request was stopped at its deadline (README, "Limits").
    #[error("{0}")]
    Unavailable(String),
    /// Anything else: a bug, a full disk, a broken database.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn status(&self) -> StatusCode {
        match self {
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::InsufficientStorage { .. } => StatusCode::INSUFFICIENT_STORAGE,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message shown to the client (never internal detail).
    pub fn public_message(&self) -> String {
        match self {
            Error::Internal(detail) => {
                tracing::error!("internal error: {detail}");
                "internal error (details are in the server log)".to_string()
            }
            other => other.to_string(),
        }
    }
}

/// Bytes as decimal gigabytes, one decimal: what `df -H` shows.
fn gb(bytes: u64) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

impl From<store::Error> for Error {
    fn from(e: store::Error) -> Error {
        match e {
            store::Error::NotFound(what) => Error::NotFound(what),
            store::Error::NotReady { status, .. } => Error::Conflict(match status {
                store::Status::Failed => {
                    "the analysis of this capture failed: it has no results".into()
                }
                other => format!("the capture is {other}: results are not ready yet"),
            }),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<super::params::ParamError> for Error {
    fn from(e: super::params::ParamError) -> Error {
        Error::BadRequest(e.0)
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let status = self.status();
        let body = serde_json::json!({ "error": self.public_message() });
        (status, Json(body)).into_response()
    }
}

pub type Result<T> = std::result::Result<T, Error>;
