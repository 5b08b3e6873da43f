//! Persistence of uploads and analysis results.
//!
//! Everything the server keeps lives behind the [`Store`] trait, so a
//! server database and object storage can replace the embedded default
//! ([`SqliteStore`]: a data directory with one SQLite index of captures and,
//! per capture, the stored file and a results database). All SQL lives in
//! this module; callers pass typed queries ([`ConvQuery`], [`HttpQuery`])
//! whose sort keys are enums, never column names from a user.
//!
//! Calls block (file and database I/O): async code calls them through
//! `spawn_blocking`.

pub mod auth;
mod endpoints;
pub mod id;
mod indexing;
mod keyset;
mod packets;
mod page;
mod results;
mod schema;
pub mod shares;
mod sqlite;
mod stop;
mod straces;
mod tables;
pub mod teams;

/// Locks a mutex, carrying on past a poisoned one: the state behind every
/// lock in the store and the workers (SQLite handles, queues, progress
/// maps) stays consistent when a holder panics.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

use std::io::Read;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use serde::Serialize;

use crate::analysis::report::ConversationRow;
use crate::analysis::{CaptureSummary, Output};
use crate::flow::PacketInfo;
use crate::time::Timestamp;

pub use crate::analysis::report::{
    ConvQuery, DnsQuery, EndpointQuery, HttpQuery, Order, QueryError, StatusFilter, StatusMatch,
    MAX_LIMIT,
};
pub use id::{CaptureId, Id, IdKind, StraceId};
/// A sort key of the conversation table.
pub type ConvSort = crate::analysis::report::SortKey<ConversationRow>;
/// A sort key of the HTTP exchange table.
pub type HttpSort = crate::analysis::report::SortKey<crate::analysis::report::ExchangeRow>;
pub use crate::analysis::report::{Bucket, CaptureDoc, HttpStats, Percentiles, HISTOGRAM_EDGES_NS};
pub use indexing::IndexBuild;
pub use results::{DnsLookupRow, ExchangeRow};
pub(crate) use sqlite::{Capped, Counting, InflationCap};
pub use sqlite::{SqliteStore, MAX_RESULT_ROWS};
pub use stop::{stopped as stop_requested, Stop};
pub use straces::{SqliteStraces, StraceFile, StraceInputs, StraceMeta, StraceStore};

/// What went wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No such capture (or conversation): unknown, malformed or deleted.
    #[error("{0} not found")]
    NotFound(String),
    /// The upload has no results (yet): it is queued, analyzing or failed.
    /// `upload` names it (`capture 0123…`).
    #[error("{upload} is {status}: it has no results")]
    NotReady { upload: String, status: Status },
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("{context}: {source}")]
    Io {
        context: String,
        source: std::io::Error,
    },
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    /// The analysis was stopped (the capture was deleted meanwhile).
    #[error("analysis cancelled")]
    Cancelled,
    /// A request's reads were stopped ([`Stop`]): past its deadline, or
    /// its client went away.
    #[error("the request was stopped before it finished")]
    Stopped,
}

pub type Result<T> = std::result::Result<T, Error>;

pub(crate) fn io_err(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> Error {
    let context = context.into();
    move |source| Error::Io { context, source }
}

/// Filtered views kept per capture.
pub const MAX_FILTERED_VIEWS: usize = 8;

/// Where a capture is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Queued,
    Analyzing,
    Done,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Queued => "queued",
            Status::Analyzing => "analyzing",
            Status::Done => "done",
            Status::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        [
            Status::Queued,
            Status::Analyzing,
            Status::Done,
            Status::Failed,
        ]
        .into_iter()
        .find(|st| st.as_str() == s)
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One stored capture as the list and status views show it.
#[derive(Clone, Debug, Serialize)]
pub struct CaptureMeta {
    pub id: CaptureId,
    /// The file name the uploader gave (or "upload").
    pub name: String,
    /// Bytes as uploaded.
    pub size: u64,
    /// SHA-256 of the uploaded bytes, hex.
    pub sha256: String,
    pub created: Timestamp,
    pub status: Status,
    /// Why the analysis failed, in words for a person.
    pub error: Option<String>,
    /// The capture summary once `done`: `capture` (as `analyze --json`
    /// prints it) and `http` ([`HttpStats`]).
    pub summary: Option<CaptureDoc>,
}

/// A list answer: `{"total": N, "items": [...]}`.
#[derive(Clone, Debug, Serialize)]
pub struct Page<T> {
    pub total: u64,
    pub items: Vec<T>,
}

/// A finished upload, to be registered.
#[derive(Clone, Debug)]
pub struct NewCapture {
    pub name: String,
    pub size: u64,
    pub sha256: String,
    /// The first bytes are gzip's magic: the file is kept decompressed.
    pub gzip: bool,
}

/// Everything an analysis run needs: the capture's bytes and where the
/// results go.
pub struct Analysis {
    /// The capture, decompressed if it was uploaded gzip-compressed.
    pub input: Box<dyn Read + Send>,
    /// Size of the stored upload, for progress.
    pub size: u64,
    /// Bytes of the stored upload read so far (before decompression).
    pub consumed: Arc<AtomicU64>,
    pub writer: Box<dyn ResultsWriter>,
    /// For a filtered view: the pcap-filter expression; only the packets
    /// it matches count (as `analyze --filter`).
    pub filter: Option<String>,
    /// For a filtered view: the capture it filters.
    pub parent: Option<CaptureId>,
}

/// Receives one analysis's results and makes them visible all at once.
pub trait ResultsWriter: Output + Send {
    /// One HTTP exchange given as a row (the analysis hands its exchanges
    /// through `Output::exchange`; this is for rows made elsewhere).
    fn exchange_row(&mut self, e: &ExchangeRow);
    /// Writes everything and marks the capture `done`, in one step: until
    /// this returns, readers see the capture as analyzing.
    fn commit(self: Box<Self>, summary: &CaptureSummary) -> Result<()>;
}

/// The storage behind the server.
pub trait Store: Send + Sync {
    /// A fresh path where an incoming upload may be written; the caller
    /// removes it if the upload does not complete.
    fn staging_path(&self) -> Result<PathBuf>;
    /// Registers a complete upload (moving the staged file into place) and
    /// queues it for analysis.
    fn add_capture(&self, staged: &std::path::Path, new: NewCapture) -> Result<CaptureMeta>;
    /// Captures, newest first.
    fn captures(&self, limit: u32, offset: u64) -> Result<Page<CaptureMeta>>;
    fn capture(&self, id: &CaptureId) -> Result<CaptureMeta>;
    /// Removes the capture and every file of it.
    fn delete_capture(&self, id: &CaptureId) -> Result<()>;
    /// At startup: marks interrupted analyses for a re-run and returns
    /// every capture waiting for analysis, oldest first.
    fn recover(&self) -> Result<Vec<CaptureId>>;
    /// Marks the capture `analyzing` and opens its input and result writer.
    fn begin_analysis(&self, id: &CaptureId) -> Result<Analysis>;
    /// The analysis of a `done` capture's file with a pcap-filter
    /// expression, as a capture of its own (an ID every query takes; it is
    /// not listed and goes when its parent is deleted). Returns it, and
    /// whether it was just created (queued: the caller starts the job).
    /// At most [`MAX_FILTERED_VIEWS`] are kept per capture, the oldest go.
    fn filtered(&self, id: &CaptureId, filter: &str) -> Result<(CaptureMeta, bool)>;
    /// The analysis of a `done` capture with `filter`, if it was ever
    /// asked for ([`Store::filtered`]); never creates one.
    fn find_filtered(&self, id: &CaptureId, filter: &str) -> Result<Option<CaptureMeta>>;
    /// The capture a filtered view was made from; `None` for an upload.
    fn parent_of(&self, id: &CaptureId) -> Result<Option<CaptureId>>;
    /// Marks the capture `failed` with a message for a person.
    fn fail(&self, id: &CaptureId, message: &str) -> Result<()>;
    /// Queues a `done` or `failed` upload for a new analysis (its inputs
    /// changed: a TLS key log came or went) and removes its filtered views,
    /// made from the old inputs. `Conflict`-like `NotReady` while it is
    /// queued or analyzing; the caller starts the job.
    fn reanalyze(&self, id: &CaptureId) -> Result<()>;

    /// Makes the page indexes a `done` capture's results lack: they are
    /// built after the capture is shown, by a background thread
    /// ([`SqliteStore::build_indexes`]).
    fn build_indexes(&self, _id: &CaptureId) -> Result<IndexBuild> {
        Ok(IndexBuild::default())
    }
    /// The `done` captures whose results lack indexes (a build was cut
    /// short by a restart), newest first.
    fn unindexed(&self) -> Result<Vec<CaptureId>> {
        Ok(Vec::new())
    }

    fn conversations(&self, id: &CaptureId, q: &ConvQuery) -> Result<Page<ConversationRow>>;
    fn conversation(&self, id: &CaptureId, conv: u64) -> Result<ConversationRow>;
    fn exchanges(&self, id: &CaptureId, q: &HttpQuery) -> Result<Page<ExchangeRow>>;
    /// DNS lookups, with their stored order as `id`.
    fn dns(&self, id: &CaptureId, q: &DnsQuery) -> Result<Page<DnsLookupRow>>;
    /// Endpoints, made during the analysis (README, "Endpoints").
    fn endpoints(
        &self,
        id: &CaptureId,
        q: &EndpointQuery,
    ) -> Result<Page<crate::analysis::report::EndpointRow>>;
    /// The endpoint heatmap and p50/p99 lines, made during the analysis.
    fn endpoint_timeline(&self, id: &CaptureId) -> Result<crate::analysis::endpoints::Timeline>;
    /// What a comparison reads besides the endpoints, made during the
    /// analysis.
    fn compare_digest(&self, id: &CaptureId) -> Result<crate::analysis::diff::Digest>;
    /// Every HTTP exchange, in stored order, to `f` (endpoints made again
    /// with a user's renames and splits).
    fn each_exchange(
        &self,
        id: &CaptureId,
        f: &mut dyn FnMut(&crate::analysis::report::ExchangeRow),
    ) -> Result<()>;
    /// Packets of one conversation, in capture order.
    fn packets(
        &self,
        id: &CaptureId,
        conv: u64,
        limit: u32,
        offset: u64,
    ) -> Result<Page<PacketInfo>>;
    /// The stored capture file of a capture (a filtered view's: its
    /// parent's), uncompressed, for the views that read packet bytes back.
    fn capture_file(&self, id: &CaptureId) -> Result<PathBuf>;
    /// Calls `f` with each packet of a conversation, in capture order,
    /// from its `from`th packet (0: the first) until it returns `false`;
    /// returns the conversation's protocol.
    fn each_packet(
        &self,
        id: &CaptureId,
        conv: u64,
        from: u64,
        f: &mut dyn FnMut(&PacketInfo) -> bool,
    ) -> Result<crate::flow::Proto>;
    /// For a share link's view of a store (README, "Share links"): the
    /// store beneath, whose rows are not redacted, and the link's
    /// redactor. What reads packet bytes back matches them against the
    /// real rows and passes the bytes through the redactor. None for a
    /// store itself.
    fn redacting(&self) -> Option<(&dyn Store, &crate::redact::Redactor)> {
        None
    }
}
