//! The capture kind of upload: one pcap or pcapng file per upload; its job
//! runs the analysis pipeline over the stored file and commits the
//! results to the store, counting packets for the progress report.

use std::path::PathBuf;
use std::sync::Arc;

use super::indexer::Indexer;
use super::{Kind, Pipeline, Progress, Received, Routes, Running};
use crate::analysis::{self, Options, Output, OutputError};
use crate::flow::{Conversation, PacketInfo};
use crate::pcap::Reader;
use crate::store::{
    self, CaptureId, CaptureMeta, Id, InflationCap, NewCapture, ResultsWriter, Store,
};
use crate::web::error::Error;
use crate::web::keylog::{self, KeyLogs, Outcome};
use crate::web::AppState;

/// Capture analyses over a [`Store`], decrypting TLS with the captures'
/// key logs.
pub struct Analysis {
    store: Arc<dyn Store>,
    keylogs: Arc<KeyLogs>,
    /// Builds the page indexes of the results stored.
    indexer: Indexer,
}

impl Analysis {
    pub fn new(store: Arc<dyn Store>, keylogs: Arc<KeyLogs>) -> Analysis {
        Analysis {
            indexer: Indexer::start(store.clone()),
            store,
            keylogs,
        }
    }

    /// The capture's analysis with `filter`, created (queued) if new.
    pub fn filtered(&self, id: &CaptureId, filter: &str) -> store::Result<(CaptureMeta, bool)> {
        self.store.filtered(id, filter)
    }
}

impl Routes for Analysis {
    fn pipeline(state: &AppState) -> &Pipeline<Analysis> {
        &state.captures
    }
    const PAGES: &'static str = "/c";
    const API: &'static str = "/api/captures";
    const LIST: &'static str = "/";
}

impl Kind for Analysis {
    type Of = store::id::Capture;
    type Meta = CaptureMeta;
    const WORKER: &'static str = "analysis";
    const MANY_FILES: bool = false;
    const CRASHED: &'static str = "the analysis hit an internal error (a bug; see the server log)";

    fn empty(_name: &str) -> String {
        "the upload is empty: send a pcap or pcapng file".into()
    }

    fn no_file() -> &'static str {
        "the multipart upload has no field named 'file'"
    }

    const SIDE_PART: Option<(&'static str, u64)> = Some((keylog::FIELD, keylog::MAX_LEN));

    fn attach(&self, meta: &CaptureMeta, side: Vec<u8>) -> Result<(), Error> {
        keylog::attach(&self.keylogs, &meta.id, &side).map(|_| ())
    }

    fn staging_path(&self) -> store::Result<PathBuf> {
        self.store.staging_path()
    }

    fn register(&self, files: Vec<(PathBuf, Received)>) -> store::Result<CaptureMeta> {
        let Some((path, r)) = files.into_iter().next() else {
            return Err(store::Error::NotFound("uploaded file".into()));
        };
        self.store.add_capture(
            &path,
            NewCapture {
                name: r.name,
                size: r.size,
                sha256: r.sha256,
                gzip: r.gzip,
            },
        )
    }

    fn id_of(meta: &CaptureMeta) -> CaptureId {
        meta.id
    }

    fn delete(&self, id: &CaptureId) -> store::Result<()> {
        self.store.delete_capture(id)?;
        self.keylogs.remove(id)?;
        Ok(())
    }

    fn recover(&self) -> store::Result<Vec<CaptureId>> {
        self.store.recover()
    }

    fn is_rework(&self, id: &CaptureId) -> bool {
        matches!(self.store.parent_of(id), Ok(Some(_)))
    }

    fn process(&self, id: CaptureId, running: &Running<'_, Self::Of>) -> Result<(), String> {
        analyze_one(&*self.store, &self.keylogs, running, id)?;
        self.indexer.submit(id);
        Ok(())
    }

    fn fail(&self, id: &Id<Self::Of>, message: &str) -> store::Result<()> {
        self.store.fail(id, message)
    }

    fn store_error(e: store::Error) -> Error {
        Error::from(e)
    }
}

/// Forwards results to the writer, counts progress and what came of
/// decrypting TLS.
struct Tracked<'a> {
    writer: &'a mut dyn ResultsWriter,
    progress: &'a Progress,
    decrypted: Outcome,
}

impl Output for Tracked<'_> {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError> {
        if let Some(tls) = &conv.app.tls {
            self.decrypted.count(tls);
        }
        self.writer.conversation(conv)
    }

    fn packet(&mut self, conv: &Conversation, packet: &PacketInfo) -> Result<(), OutputError> {
        self.writer.packet(conv, packet)
    }

    fn exchange(&mut self, exchange: analysis::HttpExchange) -> Result<(), OutputError> {
        self.writer.exchange(exchange)
    }

    fn dns(&mut self, lookup: analysis::report::DnsRow) -> Result<(), OutputError> {
        self.writer.dns(lookup)
    }

    fn progress(&mut self, bytes: u64, records: u64) -> Result<bool, OutputError> {
        self.progress.set_records(records);
        self.writer.progress(bytes, records)
    }
}

/// CPU time this thread has used, seconds (Linux; 0 elsewhere).
fn thread_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}

/// The uploader's reason for a failed read: the `--max-capture` cap when
/// it is what stopped the read, else `otherwise`.
pub(super) fn why_stopped(e: &(dyn std::error::Error + 'static), otherwise: String) -> String {
    InflationCap::find(e).map_or(otherwise, |cap| cap.to_string())
}

/// Why an analysis ended without results, in words for the uploader.
fn analyze_one(
    store: &dyn Store,
    keylogs: &KeyLogs,
    running: &Running<'_, store::id::Capture>,
    id: CaptureId,
) -> Result<(), String> {
    let started = std::time::Instant::now();
    let cpu_before = thread_cpu_s();
    let work = match store.begin_analysis(&id) {
        Ok(w) => w,
        Err(store::Error::NotFound(_)) => return Ok(()),
        Err(e) => {
            tracing::error!("capture {id}: cannot start analysis: {e}");
            return Err("the stored capture could not be opened (see the server log)".into());
        }
    };
    let progress = running.started(work.consumed.clone(), work.size);
    let mut writer = work.writer;
    let filter = match work.filter.as_deref().map(crate::filter::parse).transpose() {
        Ok(f) => f,
        Err(e) => return Err(format!("the filter expression is not valid: {e}")),
    };
    let keys = keylogs.for_analysis(id, work.parent).map_err(|e| {
        tracing::error!("capture {id}: {e}");
        "the capture's key log could not be read (see the server log)".to_string()
    })?;
    let mut reader = Reader::new(work.input).map_err(|e| why_stopped(&e, e.to_string()))?;
    let opts = Options {
        packets: true,
        filter,
        keylog: keys.keylog,
        ..Options::default()
    };
    let (summary, decrypted) = {
        let mut out = Tracked {
            writer: writer.as_mut(),
            progress: &progress,
            decrypted: Outcome::default(),
        };
        let summary = analysis::analyze(&mut reader, &opts, &mut out).map_err(|e| {
            why_stopped(&e, format!("{e} (after {} packet records)", e.records_read))
        })?;
        (summary, out.decrypted)
    };
    drop(reader);
    let read_s = started.elapsed().as_secs_f64();
    progress.set_records(summary.packets);
    // Recorded before the results are visible, so that a capture shown
    // as done has its key log's outcome.
    if let Some(upload) = keys.record_for {
        if let Err(e) = keylogs.set_outcome(&upload, decrypted) {
            tracing::error!("capture {id}: recording what the key log decrypted: {e}");
        }
    }
    match writer.commit(&summary) {
        Ok(()) => {
            tracing::info!(
                "capture {id}: read and analyzed in {read_s:.3} s, results stored in {:.3} s, \
                 worker CPU {:.3} s",
                started.elapsed().as_secs_f64() - read_s,
                thread_cpu_s() - cpu_before
            );
            Ok(())
        }
        Err(store::Error::Cancelled) => Ok(()),
        Err(e) => {
            tracing::error!("capture {id}: storing results failed: {e}");
            Err("the results could not be stored (see the server log)".into())
        }
    }
}
