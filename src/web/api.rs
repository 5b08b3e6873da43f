//! The JSON API (README, "The web app"). Each handler parses its path and query,
//! makes one store call (on the blocking pool) and answers JSON.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use super::auth::{visible_captures, Viewer};
use super::error::{Error, Result};
use super::extract::{Checked, ConvNumber, FilterOnly, FromQuery, PacketPage, Paged, Resolved};
use super::lists::listing;
use super::pages::endpoints::{self, TemplateParam};
use super::params::{ParamError, Params};
use super::{blocking, follow, AppState};
use crate::store::{CaptureId, CaptureMeta, ConvQuery, DnsQuery, HttpQuery, Status, Store};

/// Bytes of each direction a stream view returns at most.
pub const STREAM_MAX_PER_DIR: usize = 1 << 20;

/// A capture with its live progress, as `GET /api/captures/ID` answers.
#[derive(Serialize)]
pub struct CaptureStatus {
    #[serde(flatten)]
    pub meta: CaptureMeta,
    /// Fraction of the file analyzed, 0..1.
    pub progress: f64,
    /// Packet records read so far (all of them once `done`).
    pub packets: u64,
    /// The HTML view of the capture.
    pub url: String,
}

/// Adds live progress to a stored capture.
pub fn with_progress(state: &AppState, meta: CaptureMeta) -> CaptureStatus {
    let (progress, packets) = match meta.status {
        Status::Done => (1.0, meta.summary.as_ref().map_or(0, |s| s.capture.packets)),
        Status::Analyzing => state
            .captures
            .progress(&meta.id)
            .map_or((0.0, 0), |p| (p.fraction(), p.records())),
        Status::Queued | Status::Failed => (0.0, 0),
    };
    CaptureStatus {
        url: format!("/c/{}", meta.id),
        meta,
        progress,
        packets,
    }
}

/// `GET /api/captures`: the ones the viewer may see, newest first.
pub async fn list(
    State(state): State<AppState>,
    viewer: Viewer,
    Checked(Paged { limit, offset }): Checked<Paged<50>>,
) -> Result<impl IntoResponse> {
    let page = visible_captures(&state, &viewer, limit, offset).await?;
    let items: Vec<CaptureStatus> = page
        .items
        .into_iter()
        .map(|m| with_progress(&state, m))
        .collect();
    Ok(Json(
        serde_json::json!({ "total": page.total, "items": items }),
    ))
}

/// `GET /api/captures/ID`; with `filter`, the capture analyzed with that
/// pcap-filter expression (202 and the progress until that analysis is
/// done), as the overview's JSON twin.
pub async fn status(
    State(state): State<AppState>,
    _: Checked<FilterOnly>,
    _: CaptureId,
    Resolved(id): Resolved,
) -> Result<impl IntoResponse> {
    let meta = blocking(&state, move |s| s.capture(&id)).await?;
    Ok(Json(with_progress(&state, meta)))
}

/// `GET /api/captures/ID/conversations`; with `filter`, the conversations
/// of the capture analyzed with that pcap-filter expression (202 and the
/// progress until that analysis is done).
pub async fn conversations(
    State(state): State<AppState>,
    _: CaptureId,
    Checked(query): Checked<ConvQuery>,
    Resolved(id): Resolved,
) -> Result<impl IntoResponse> {
    let q = query.clone();
    let page = blocking(&state, move |s| s.conversations(&id, &q)).await?;
    Ok(Json(listing(&query, page, |r| r.id)))
}

/// `GET /api/captures/ID/conversations/N`.
pub async fn conversation(
    State(state): State<AppState>,
    _: CaptureId,
    ConvNumber(n): ConvNumber,
    _: Checked<FilterOnly>,
    Resolved(id): Resolved,
) -> Result<impl IntoResponse> {
    Ok(Json(
        blocking(&state, move |s| s.conversation(&id, n)).await?,
    ))
}

/// `GET /api/captures/ID/http`.
pub async fn http(
    State(state): State<AppState>,
    _: CaptureId,
    Checked(query): Checked<HttpQuery>,
    Checked(TemplateParam(template)): Checked<TemplateParam>,
    Resolved(id): Resolved,
) -> Result<impl IntoResponse> {
    let q = query.clone();
    let page = blocking(&state, move |s| {
        endpoints::exchanges(s, &id, &q, template.as_ref())
    })
    .await?;
    Ok(Json(listing(&query, page, |e| e.id)))
}

/// `GET /api/captures/ID/dns`.
pub async fn dns(
    State(state): State<AppState>,
    _: CaptureId,
    Checked(query): Checked<DnsQuery>,
    Resolved(id): Resolved,
) -> Result<impl IntoResponse> {
    let q = query.clone();
    let page = blocking(&state, move |s| s.dns(&id, &q)).await?;
    Ok(Json(listing(&query, page, |d| d.id)))
}

/// `GET /api/captures/ID/conversations/N/packets`.
pub async fn packets(
    State(state): State<AppState>,
    _: CaptureId,
    ConvNumber(n): ConvNumber,
    Checked(PacketPage { limit, offset }): Checked<PacketPage>,
    Resolved(id): Resolved,
) -> Result<impl IntoResponse> {
    Ok(Json(
        blocking(&state, move |s| s.packets(&id, n, limit, offset)).await?,
    ))
}

/// `from`: the conversation's packet a stream part starts at (default 0),
/// and `filter`.
pub struct StreamFrom(pub u64, pub bool);

impl FromQuery for StreamFrom {
    const NAMES: &'static [&'static str] = &["from", "filter", "tls"];
    fn from_params(p: &Params) -> std::result::Result<Self, ParamError> {
        Ok(StreamFrom(
            p.whole("from", 0, i64::MAX as u64)?.unwrap_or(0),
            crate::web::keylog::raw_records(p)?,
        ))
    }
}

/// `GET /api/captures/ID/conversations/N/stream[?from=P][&tls=raw]`: one
/// part of the stream (decrypted with the capture's key log unless the raw
/// TLS records are asked for); its `next` is the `from` of the part after it.
pub async fn stream(
    State(state): State<AppState>,
    upload: CaptureId,
    ConvNumber(n): ConvNumber,
    Checked(StreamFrom(from, raw)): Checked<StreamFrom>,
    Resolved(id): Resolved,
) -> Result<impl IntoResponse> {
    let keys = crate::web::keylog::for_follow(&state, upload, (id, n), raw).await?;
    Ok(Json(
        blocking(&state, move |s| {
            follow::stream(s, &id, n, from, STREAM_MAX_PER_DIR, keys)
        })
        .await?,
    ))
}

/// Sends what a blocking writer produces as a streamed body.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Vec<u8>>>,
    buf: Vec<u8>,
    /// Bytes handed to the response so far.
    sent: u64,
}

/// The write error of a [`ChannelWriter`] whose response was dropped.
const CLIENT_GONE: &str = "client went away";

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 << 10 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = std::mem::take(&mut self.buf);
            let len = chunk.len() as u64;
            self.tx
                .blocking_send(Ok(chunk))
                .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, CLIENT_GONE))?;
            self.sent += len;
        }
        Ok(())
    }
}

/// A response body streamed from what `write` produces on the blocking
/// pool, in bounded memory; a failure cuts the stream short (and is
/// logged after `what`), and so does the client going away (the work
/// stops at its next write, logged with the bytes sent).
pub(crate) fn blocking_body<F>(what: String, write: F) -> Body
where
    F: FnOnce(&mut dyn std::io::Write) -> std::result::Result<(), String> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(8);
    tokio::task::spawn_blocking(move || {
        let mut w = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::new(),
            sent: 0,
        };
        let written =
            write(&mut w).and_then(|()| std::io::Write::flush(&mut w).map_err(|e| e.to_string()));
        if tx.is_closed() {
            tracing::info!("{what}: stopped after {} bytes: {CLIENT_GONE}", w.sent);
        } else if let Err(e) = written {
            tracing::error!("{what}: {e}");
            let _ = tx.blocking_send(Err(std::io::Error::other("export failed")));
        }
    });
    let chunks = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    Body::from_stream(chunks)
}

/// `GET /api/captures/ID/conversations/N/pcap`: the conversation's packets
/// as a pcap file, streamed as they are read back.
pub async fn pcap(
    State(state): State<AppState>,
    capture: CaptureId,
    ConvNumber(n): ConvNumber,
    _: Checked<FilterOnly>,
    Resolved(id): Resolved,
) -> Result<Response> {
    // Check first, so a missing conversation is a 404 rather than a cut stream.
    let name = blocking(&state, move |s| {
        s.conversation(&id, n)?;
        Ok(s.capture(&capture)?.name)
    })
    .await?;
    let store: Arc<dyn Store> = state.store.clone();
    let body = blocking_body(
        format!("capture {id} conversation {n}: pcap export"),
        move |w| follow::conversation_pcap(&*store, &id, n, w).map_err(|e| e.to_string()),
    );
    let disposition = format!(
        "attachment; filename=\"{}-conversation-{n}.pcap\"",
        file_stem(&name)
    );
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.tcpdump.pcap".to_string(),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// A capture's name as the start of a download's file name: without its
/// capture extension, only letters, digits, `.`, `-` and `_` (anything
/// else, quotes and path separators first, becomes `_`), at most 80 of
/// them; `capture` when nothing is left.
fn file_stem(name: &str) -> String {
    let mut stem = name;
    for ext in [".gz", ".pcapng", ".pcap", ".cap"] {
        if stem.len() > ext.len() && stem.to_ascii_lowercase().ends_with(ext) {
            stem = &stem[..stem.len() - ext.len()];
        }
    }
    let clean: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(80)
        .collect();
    let clean = clean.trim_matches(|c| c == '.' || c == '_');
    if clean.is_empty() {
        "capture".to_string()
    } else {
        clean.to_string()
    }
}

/// Anything under `/api/` that no route matched.
pub async fn not_found() -> Error {
    Error::NotFound("no such API endpoint".into())
}

#[cfg(test)]
mod test {
    use super::file_stem;

    #[test]
    fn download_names_are_safe() {
        assert_eq!(file_stem("http-loopback.pcap"), "http-loopback");
        assert_eq!(file_stem("dump.PCAPNG.gz"), "dump");
        assert_eq!(file_stem("../etc/\"x\" y.pcap"), "etc__x__y");
        assert_eq!(file_stem("…"), "capture");
        assert_eq!(file_stem(&"a".repeat(200)).len(), 80);
    }
}
