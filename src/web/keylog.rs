//! TLS key logs on the server (README, "TLS"): a capture's key log comes
//! with its upload (multipart part `keylog`) or later ("Add key log"), and
//! a new analysis decrypts with it. A key log is a secret: it is kept apart
//! from the capture (`DATA_DIR/keylogs/ID.keys`, mode 0600, in a 0700
//! directory), read only by the analysis, never served, logged, shared or
//! put in a download; the pages show counts only. "Remove key log" deletes
//! it and analyses again without it; deleting the capture deletes it.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use askama::Template;
use askama_web::WebTemplate;
use axum::body::Body;
use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Json;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::analysis::tls::{Decrypted, KeyLog, TlsSummary};
use crate::store::{self, CaptureId, Status};
use crate::time::Timestamp;
use crate::web::auth::Viewer;
use crate::web::error::{Error, Result};
use crate::web::fmt::{self, Human};
use crate::web::kit::{CapHead, PageResult};
use crate::web::{blocking, off_thread, AppState};

/// Largest key log accepted: about 100,000 TLS 1.3 sessions.
pub const MAX_LEN: u64 = 64 << 20;

/// The multipart field that carries a key log, on the upload and here.
pub const FIELD: &str = "keylog";

/// How a key log's text is named in analysis warnings (never its file name,
/// which the uploader chose).
const SOURCE: &str = "key log";

/// What came of decrypting with a key log, counted over the analysis's
/// conversations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// Conversations with a TLS handshake.
    pub tls: u64,
    pub decrypted: u64,
    /// Sessions whose client random the key log does not have.
    pub no_key: u64,
    /// Sessions with a key that did not decrypt, an unsupported suite, or
    /// no handshake in the capture (their notes say which).
    pub failed: u64,
}

impl Outcome {
    /// Counts one conversation's TLS facts.
    pub fn count(&mut self, tls: &TlsSummary) {
        if tls.client_hello.is_none() && tls.version.is_none() {
            return;
        }
        self.tls += 1;
        match tls.decrypted {
            Decrypted::Yes => self.decrypted += 1,
            Decrypted::NoKey => self.no_key += 1,
            Decrypted::Failed => self.failed += 1,
            Decrypted::NotTried => {}
        }
    }

    /// "12 of 14 TLS sessions decrypted; 2 had no key".
    pub fn sentence(&self) -> String {
        let mut s = format!(
            "{} of {} TLS session{} decrypted",
            self.decrypted,
            self.tls,
            if self.tls == 1 { "" } else { "s" }
        );
        if self.no_key > 0 {
            s.push_str(&format!("; {} had no key", self.no_key));
        }
        if self.failed > 0 {
            s.push_str(&format!(
                "; {} could not be decrypted (the conversation's TLS notes say why)",
                self.failed
            ));
        }
        s
    }
}

/// What may be shown of a stored key log: counts, never lines.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// Secrets read (key log lines used).
    pub secrets: u64,
    /// TLS sessions (client randoms) they are for.
    pub sessions: u64,
    /// When it was added, nanoseconds since the epoch.
    pub added_ns: i64,
    /// Lines that could not be read, by number (never their text).
    pub warnings: Vec<String>,
    /// From the last analysis that used it.
    pub outcome: Option<Outcome>,
}

impl Info {
    /// "key log: 28 secrets for 14 sessions".
    pub fn counts(&self) -> String {
        format!(
            "key log: {} secret{} for {} session{}",
            self.secrets,
            if self.secrets == 1 { "" } else { "s" },
            self.sessions,
            if self.sessions == 1 { "" } else { "s" }
        )
    }
}

/// Why a key log could not be stored or read.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("key log record {path}: {source}")]
    Record {
        path: PathBuf,
        source: serde_json::Error,
    },
}

type StoreResult<T> = std::result::Result<T, StoreError>;

impl From<StoreError> for store::Error {
    fn from(e: StoreError) -> store::Error {
        match e {
            StoreError::Io { context, source } => store::Error::Io { context, source },
            StoreError::Record { .. } => store::Error::Corrupt(e.to_string()),
        }
    }
}

fn io(context: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { context, source }
}

/// The key logs of the server's captures, one file each, in a directory
/// of their own.
#[derive(Debug)]
pub struct KeyLogs {
    dir: PathBuf,
}

/// Creates (or truncates) `path` readable by its owner only.
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o.open(path)
}

/// Writes `bytes` to `path` through a private temporary file and a rename,
/// so a reader never sees half a file.
fn write_private(path: &Path, bytes: &[u8]) -> StoreResult<()> {
    let tmp = path.with_extension("tmp");
    let written = private_file(&tmp).and_then(|mut f| {
        f.write_all(bytes)?;
        f.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(format!("writing {}", path.display()))(e));
    }
    Ok(())
}

fn remove_if_exists(path: &Path) -> StoreResult<bool> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(io(format!("removing {}", path.display()))(e)),
    }
}

impl KeyLogs {
    /// Opens (creating, owner-only) `DATA_DIR/keylogs`.
    pub fn open(data_dir: &Path) -> StoreResult<KeyLogs> {
        let dir = data_dir.join("keylogs");
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            b.mode(0o700);
        }
        b.create(&dir)
            .map_err(io(format!("creating {}", dir.display())))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
                .map_err(io(format!("restricting {}", dir.display())))?;
        }
        Ok(KeyLogs { dir })
    }

    fn keys_path(&self, id: &CaptureId) -> PathBuf {
        self.dir.join(format!("{id}.keys"))
    }

    fn info_path(&self, id: &CaptureId) -> PathBuf {
        self.dir.join(format!("{id}.json"))
    }

    /// Stores `text` as the key log of capture `id`, replacing any other.
    /// `Ok(None)` (nothing stored) when no line of it is a key log line.
    pub fn put(&self, id: &CaptureId, text: &[u8]) -> StoreResult<Option<Info>> {
        let log = KeyLog::parse(&String::from_utf8_lossy(text), SOURCE);
        if log.is_empty() {
            return Ok(None);
        }
        let info = Info {
            secrets: log.secrets() as u64,
            sessions: log.len() as u64,
            added_ns: Timestamp::now().as_nanos(),
            warnings: log.warnings(),
            outcome: None,
        };
        write_private(&self.keys_path(id), text)?;
        self.write_info(id, &info)?;
        Ok(Some(info))
    }

    fn write_info(&self, id: &CaptureId, info: &Info) -> StoreResult<()> {
        let path = self.info_path(id);
        let json = serde_json::to_vec(info).map_err(|source| StoreError::Record {
            path: path.clone(),
            source,
        })?;
        write_private(&path, &json)
    }

    /// The key log of capture `id`, parsed, if it has one.
    pub fn load(&self, id: &CaptureId) -> StoreResult<Option<KeyLog>> {
        let path = self.keys_path(id);
        match std::fs::read(&path) {
            Ok(bytes) => Ok(Some(KeyLog::parse(
                &String::from_utf8_lossy(&bytes),
                SOURCE,
            ))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(format!("reading {}", path.display()))(e)),
        }
    }

    /// What may be shown of capture `id`'s key log, if it has one.
    pub fn info(&self, id: &CaptureId) -> StoreResult<Option<Info>> {
        let path = self.info_path(id);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(format!("reading {}", path.display()))(e)),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StoreError::Record { path, source })
    }

    /// Records what the analysis made of capture `id`'s key log.
    pub fn set_outcome(&self, id: &CaptureId, outcome: Outcome) -> StoreResult<()> {
        if let Some(mut info) = self.info(id)? {
            info.outcome = Some(outcome);
            self.write_info(id, &info)?;
        }
        Ok(())
    }

    /// Deletes capture `id`'s key log; whether it had one.
    pub fn remove(&self, id: &CaptureId) -> StoreResult<bool> {
        let had = remove_if_exists(&self.keys_path(id))?;
        Ok(remove_if_exists(&self.info_path(id))? || had)
    }
}

fn internal(e: StoreError) -> Error {
    tracing::error!("{e}");
    Error::Internal("the key log store failed (see the server log)".into())
}

/// Reads one multipart field whole, refusing it past `limit` bytes.
pub(crate) async fn read_field(
    field: &mut axum::extract::multipart::Field<'_>,
    limit: u64,
) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|e| Error::BadRequest(format!("upload broke off: {}", e.body_text())))?
    {
        if bytes.len() as u64 + chunk.len() as u64 > limit {
            return Err(too_large(field.name().unwrap_or("file"), limit));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

fn too_large(what: &str, limit: u64) -> Error {
    Error::BadRequest(format!("the {what} is larger than {} MiB", limit >> 20))
}

/// A request's key log: its multipart field `keylog`, or the raw body.
async fn key_log_of(req: Request) -> Result<Vec<u8>> {
    if !crate::web::pipeline::is_multipart(&req) {
        let mut body = Body::into_data_stream(req.into_body());
        let mut bytes = Vec::new();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| Error::BadRequest(format!("upload broke off: {e}")))?;
            if bytes.len() as u64 + chunk.len() as u64 > MAX_LEN {
                return Err(too_large("key log", MAX_LEN));
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(bytes);
    }
    let mut multipart = Multipart::from_request(req, &()).await.map_err(|e| {
        Error::BadRequest(format!("not a valid multipart upload: {}", e.body_text()))
    })?;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| Error::BadRequest(format!("upload broke off: {}", e.body_text())))?
    {
        if field.name() == Some(FIELD) {
            return read_field(&mut field, MAX_LEN).await;
        }
    }
    Err(Error::BadRequest(format!(
        "the upload has no field named '{FIELD}'"
    )))
}

/// Stores a key log that is already in memory for a capture just
/// registered (the upload's `keylog` part); `Err` refuses the upload.
pub(crate) fn attach(keylogs: &KeyLogs, id: &CaptureId, text: &[u8]) -> Result<Info> {
    match keylogs.put(id, text).map_err(internal)? {
        Some(info) => Ok(info),
        None => Err(no_lines()),
    }
}

fn no_lines() -> Error {
    Error::BadRequest(
        "the key log has no line in the NSS key log format (CLIENT_RANDOM … or \
         *_TRAFFIC_SECRET …, as SSLKEYLOGFILE writes)"
            .into(),
    )
}

/// Whether a capture in `status` may have its key log changed now.
fn may_change(status: Status) -> Result<()> {
    if status == Status::Analyzing {
        return Err(Error::Conflict(
            "the capture is being analyzed: change its key log when the analysis is done".into(),
        ));
    }
    Ok(())
}

/// Re-analyses a done or failed capture whose key log changed; a queued
/// one reads the key log when its analysis starts.
async fn analyze_again(state: &AppState, id: CaptureId) -> Result<()> {
    let again = blocking(state, move |s| match s.capture(&id)?.status {
        Status::Done | Status::Failed => s.reanalyze(&id).map(|()| true),
        _ => Ok(false),
    })
    .await?;
    if again {
        state.captures.submit(id);
    }
    Ok(())
}

/// A capture that may hold a key log: an upload, not a filtered view.
async fn upload_status(state: &AppState, id: CaptureId) -> Result<store::CaptureMeta> {
    blocking(state, move |s| s.capture(&id)).await
}

async fn add(state: &AppState, viewer: &Viewer, id: CaptureId, req: Request) -> Result<Info> {
    may_change(upload_status(state, id).await?.status)?;
    let text = key_log_of(req).await?;
    let info = off_thread(state.keylogs.clone(), move |k| {
        k.put(&id, &text).map_err(internal)?.ok_or_else(no_lines)
    })
    .await?;
    analyze_again(state, id).await?;
    audit(
        viewer,
        "keylog add",
        format!("capture {id}: {}", info.counts()),
    )
    .await;
    Ok(info)
}

async fn remove(state: &AppState, viewer: &Viewer, id: CaptureId) -> Result<bool> {
    may_change(upload_status(state, id).await?.status)?;
    let had = off_thread(state.keylogs.clone(), move |k| {
        k.remove(&id).map_err(internal)
    })
    .await?;
    if had {
        analyze_again(state, id).await?;
        audit(viewer, "keylog remove", format!("capture {id}")).await;
    }
    Ok(had)
}

async fn audit(viewer: &Viewer, event: &'static str, detail: String) {
    let user = viewer.name().map(str::to_string);
    viewer.auth.audit(event, user, viewer.client, detail).await;
}

async fn info_of(state: &AppState, id: CaptureId) -> Result<Option<Info>> {
    off_thread(state.keylogs.clone(), move |k| {
        k.info(&id).map_err(internal)
    })
    .await
}

/// The JSON answer about a capture's key log.
#[derive(Serialize)]
struct KeyLogStatus {
    keylog: Option<Info>,
    /// "12 of 14 TLS sessions decrypted; 2 had no key", once analyzed.
    decrypted: Option<String>,
}

impl KeyLogStatus {
    fn of(info: Option<Info>) -> KeyLogStatus {
        let decrypted = info.as_ref().and_then(|i| i.outcome).map(|o| o.sentence());
        KeyLogStatus {
            keylog: info,
            decrypted,
        }
    }
}

/// `GET /api/captures/ID/keylog`: whether the capture has a key log, and
/// its counts (never its lines).
pub async fn api_status(State(state): State<AppState>, id: CaptureId) -> Result<Response> {
    upload_status(&state, id).await?;
    Ok(Json(KeyLogStatus::of(info_of(&state, id).await?)).into_response())
}

/// `POST /api/captures/ID/keylog`: the key log as the body, or as the
/// multipart field `keylog`; 202 while the capture is analyzed again.
pub async fn api_add(
    State(state): State<AppState>,
    viewer: Viewer,
    id: CaptureId,
    req: Request,
) -> Result<Response> {
    let info = add(&state, &viewer, id, req).await?;
    Ok((StatusCode::ACCEPTED, Json(KeyLogStatus::of(Some(info)))).into_response())
}

/// `POST /api/captures/ID/keylog/remove`: 202 while the capture is
/// analyzed again without it, 404 when it had none.
pub async fn api_remove(
    State(state): State<AppState>,
    viewer: Viewer,
    id: CaptureId,
) -> Result<Response> {
    if !remove(&state, &viewer, id).await? {
        return Err(Error::NotFound(format!("key log of capture {id}")));
    }
    Ok((StatusCode::ACCEPTED, Json(KeyLogStatus::of(None))).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "keylog.html")]
pub struct KeyLogPage {
    head: CapHead,
    status: Status,
    busy: bool,
    info: Option<Info>,
    added: Option<Human>,
}

/// `GET /c/ID/keylog`: the key log's counts and what decrypting with it
/// gave, with the forms to add, replace or remove it.
pub async fn page(State(state): State<AppState>, id: CaptureId) -> PageResult<KeyLogPage> {
    let meta = upload_status(&state, id).await?;
    let info = info_of(&state, id).await?;
    Ok(KeyLogPage {
        head: CapHead::new(
            &id,
            &meta.name,
            "keylog",
            format!("/api/captures/{id}/keylog"),
        ),
        status: meta.status,
        busy: matches!(meta.status, Status::Queued | Status::Analyzing),
        added: info
            .as_ref()
            .map(|i| fmt::when(&Some(Timestamp::from_nanos(i.added_ns)))),
        info,
    })
}

/// `POST /c/ID/keylog`: the "Add key log" form; back to the key log page.
pub async fn form_add(
    State(state): State<AppState>,
    viewer: Viewer,
    id: CaptureId,
    req: Request,
) -> PageResult<Redirect> {
    add(&state, &viewer, id, req).await?;
    Ok(Redirect::to(&format!("/c/{id}/keylog")))
}

/// `POST /c/ID/keylog/remove`: the "Remove key log" form.
pub async fn form_remove(
    State(state): State<AppState>,
    viewer: Viewer,
    id: CaptureId,
) -> PageResult<Redirect> {
    remove(&state, &viewer, id).await?;
    Ok(Redirect::to(&format!("/c/{id}/keylog")))
}

/// Routes of the key log pages and API, to merge into the app's.
pub fn router() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/c/{id}/keylog", get(page).post(form_add))
        .route("/c/{id}/keylog/remove", post(form_remove))
        .route("/api/captures/{id}/keylog", get(api_status).post(api_add))
        .route("/api/captures/{id}/keylog/remove", post(api_remove))
}

/// `tls=raw` (the followed stream's TLS records as they were sent) or
/// `tls=decrypted` (the default).
pub(crate) fn raw_records(
    p: &crate::web::params::Params,
) -> std::result::Result<bool, crate::web::params::ParamError> {
    match p.get("tls") {
        None | Some("" | "decrypted") => Ok(false),
        Some("raw") => Ok(true),
        Some(_) => Err(crate::web::params::ParamError(
            "tls must be raw or decrypted".into(),
        )),
    }
}

/// The key log conversation `n` of results `view` (of capture `id`)
/// decrypts its followed stream with: none when the raw records are asked
/// for (`?tls=raw`), the conversation carries no TLS, or the capture has
/// no key log.
pub(crate) async fn for_follow(
    state: &AppState,
    id: CaptureId,
    (view, n): (CaptureId, u64),
    raw: bool,
) -> Result<Option<Arc<KeyLog>>> {
    if raw {
        return Ok(None);
    }
    // Only a TLS conversation pays for reading the key log and the
    // capture's first blocks.
    let tls = blocking(state, move |s| Ok(s.conversation(&view, n)?.tls)).await?;
    if !tls {
        return Ok(None);
    }
    let uploaded = off_thread(state.keylogs.clone(), move |k| {
        k.load(&id).map_err(internal)
    })
    .await?;
    // A shared view decrypts nothing; a capture file that cannot be read
    // decrypts with the uploaded key log alone.
    let embedded = blocking(state, move |s| {
        Ok(s.redacting()
            .is_none()
            .then(|| s.capture_file(&id).ok())
            .flatten()
            .and_then(|path| embedded_secrets(&path)))
    })
    .await?;
    Ok(match (uploaded, embedded) {
        (Some(mut keys), Some(text)) => {
            keys.add(&text, EMBEDDED);
            Some(Arc::new(keys))
        }
        (Some(keys), None) => Some(Arc::new(keys)),
        (None, Some(text)) => Some(Arc::new(KeyLog::parse(&text, EMBEDDED))),
        (None, None) => None,
    })
}

/// Where secrets read from the capture itself come from, in warnings.
const EMBEDDED: &str = "the capture's decryption secrets block";

/// The key log a pcapng capture carries in Decryption Secrets Blocks
/// before its first packet (where `editcap --inject-secrets` puts them; the
/// analysis reads them wherever they are), so the followed stream
/// decrypts what the analysis did without reading the whole file.
fn embedded_secrets(path: &Path) -> Option<String> {
    let mut reader = crate::pcap::Reader::open(path).ok()?;
    // Blocks before the first packet are read with it.
    reader.next_frame().ok()?;
    let secrets = reader.take_tls_secrets()?;
    Some(String::from_utf8_lossy(&secrets).into_owned())
}

/// What the capture analysis job needs of the key logs: the key log to
/// decrypt with, and a place for the outcome.
pub(crate) struct ForAnalysis {
    pub keylog: Option<Arc<KeyLog>>,
    /// The upload whose key log it is (`None` for a filtered view, whose
    /// parent's key log is used but whose outcome is not recorded).
    pub record_for: Option<CaptureId>,
}

impl KeyLogs {
    /// The key log an analysis of `id` (a filtered view of `parent`) uses.
    pub(crate) fn for_analysis(
        &self,
        id: CaptureId,
        parent: Option<CaptureId>,
    ) -> StoreResult<ForAnalysis> {
        let owner = parent.unwrap_or(id);
        let keylog = self.load(&owner)?.map(Arc::new);
        Ok(ForAnalysis {
            record_for: (parent.is_none() && keylog.is_some()).then_some(id),
            keylog,
        })
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn keys() -> String {
        let random = "3f2a000000000000000000000000000000000000000000000000000000000001";
        format!(
            "CLIENT_RANDOM {random} {}\nSERVER_TRAFFIC_SECRET_0 {random} {}\nnonsense\n",
            "11".repeat(48),
            "22".repeat(32)
        )
    }

    #[test]
    fn a_key_log_is_private_counted_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let logs = KeyLogs::open(dir.path()).unwrap();
        let id = CaptureId::from_bytes([7; 16]);
        let info = logs.put(&id, keys().as_bytes()).unwrap().unwrap();
        assert_eq!((info.secrets, info.sessions), (2, 1));
        assert_eq!(
            info.warnings,
            ["key log line 3: not LABEL CLIENT_RANDOM SECRET; line ignored"]
        );
        assert_eq!(info.counts(), "key log: 2 secrets for 1 session");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode(&logs.keys_path(&id)), 0o600);
            assert_eq!(mode(&logs.info_path(&id)), 0o600);
            assert_eq!(mode(&dir.path().join("keylogs")), 0o700);
        }
        // The record of it holds no secret.
        let record = std::fs::read_to_string(logs.info_path(&id)).unwrap();
        // Whole secrets, not fragments: a fragment as short as "1111" is
        // in a timestamp now and then.
        let random = "3f2a000000000000000000000000000000000000000000000000000000000001";
        for secret in ["11".repeat(48), "22".repeat(32), random.to_string()] {
            assert!(!record.contains(&secret[..24]), "{record}");
        }
        assert_eq!(logs.load(&id).unwrap().unwrap().len(), 1);
        let outcome = Outcome {
            tls: 14,
            decrypted: 12,
            no_key: 2,
            failed: 0,
        };
        logs.set_outcome(&id, outcome).unwrap();
        assert_eq!(
            logs.info(&id).unwrap().unwrap().outcome.unwrap().sentence(),
            "12 of 14 TLS sessions decrypted; 2 had no key"
        );
        assert!(logs.remove(&id).unwrap());
        assert!(!logs.remove(&id).unwrap());
        assert!(logs.load(&id).unwrap().is_none() && logs.info(&id).unwrap().is_none());
    }

    #[test]
    fn a_file_without_key_log_lines_is_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let logs = KeyLogs::open(dir.path()).unwrap();
        let id = CaptureId::from_bytes([8; 16]);
        assert!(logs.put(&id, b"GET / HTTP/1.1\r\n").unwrap().is_none());
        assert!(logs.info(&id).unwrap().is_none());
        assert_eq!(std::fs::read_dir(&logs.dir).unwrap().count(), 0);
    }
}
