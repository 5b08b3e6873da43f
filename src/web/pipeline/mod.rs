//! The upload pipeline, one for every kind of upload: the body streams to
//! staging files (hashed, counted against `--max-upload`), a complete
//! upload is registered and queued, a fixed pool of worker threads
//! processes the queue, running jobs report their progress, and an upload
//! can be deleted.
//!
//! What differs between captures and strace logs (how many files one
//! upload holds, what a job does with them, where the results go) is a
//! [`Kind`]: [`capture::Analysis`] and [`strace::Parse`].

pub mod capture;
mod indexer;
mod pace;
pub use pace::Pace;
mod queue;
mod rework;
mod routes;
pub mod strace;
mod upload;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use axum::extract::Request;

use super::error::{Error, Result};
use super::off_thread;
use crate::store::{self, lock, Id, IdKind};
use queue::Queue;
pub use rework::ReworkLimits;
pub use routes::{api_delete, api_upload, form_delete, form_upload, Routes};
pub(crate) use upload::is_multipart;
pub use upload::Received;

/// What one kind of upload is, and what processing it means.
pub trait Kind: Send + Sync + 'static {
    /// The kind of its IDs.
    type Of: IdKind;
    /// The stored upload as lists and status answers show it.
    type Meta: Send + 'static;
    /// Prefix of the worker threads' names.
    const WORKER: &'static str;
    /// Whether one upload may hold several files (every multipart field
    /// named `file`), or only the first.
    const MANY_FILES: bool;
    /// What a panicking job is reported as, in words for the uploader.
    const CRASHED: &'static str;

    /// Why the upload (file `name`) is refused as empty.
    fn empty(name: &str) -> String;
    /// Why a multipart upload without a `file` field is refused.
    fn no_file() -> &'static str;
    /// A multipart field kept in memory beside the files (a capture's TLS
    /// key log), and its largest size.
    const SIDE_PART: Option<(&'static str, u64)> = None;
    /// Stores the side part of an upload just registered; `Err` refuses
    /// the upload (it is then deleted).
    fn attach(&self, _meta: &Self::Meta, _side: Vec<u8>) -> Result<()> {
        Ok(())
    }

    /// Looks at a complete staged file before it is registered; `Err`
    /// refuses the whole upload (a capture sent as an strace log).
    fn check_file(&self, _path: &std::path::Path, _file: &Received) -> Result<()> {
        Ok(())
    }

    /// A fresh path where an incoming file may be written.
    fn staging_path(&self) -> store::Result<PathBuf>;
    /// Registers a complete upload, moving its staged files into place.
    fn register(&self, files: Vec<(PathBuf, Received)>) -> store::Result<Self::Meta>;
    fn id_of(meta: &Self::Meta) -> Id<Self::Of>;
    fn delete(&self, id: &Id<Self::Of>) -> store::Result<()>;
    /// At startup: every upload whose processing must run (again).
    fn recover(&self) -> store::Result<Vec<Id<Self::Of>>>;
    /// Whether `id` is a re-analysis of an upload (its job goes to the
    /// re-analysis queue), not an upload.
    fn is_rework(&self, _id: &Id<Self::Of>) -> bool {
        false
    }
    /// Processes one upload; `Err` is the reason for the uploader.
    fn process(
        &self,
        id: Id<Self::Of>,
        running: &Running<'_, Self::Of>,
    ) -> std::result::Result<(), String>;
    /// Marks the upload `failed` with a message for a person.
    fn fail(&self, id: &Id<Self::Of>, message: &str) -> store::Result<()>;
    /// Maps a store error to the answer a request gets.
    fn store_error(e: store::Error) -> Error;
}

/// Progress of one running job.
#[derive(Debug)]
pub struct Progress {
    /// Bytes of the stored upload read so far.
    consumed: Arc<AtomicU64>,
    size: u64,
    records: AtomicU64,
}

impl Progress {
    /// Fraction of the upload read, 0..1 (never 1 before the results are in).
    pub fn fraction(&self) -> f64 {
        if self.size == 0 {
            return 0.0;
        }
        (self.consumed.load(Ordering::Relaxed) as f64 / self.size as f64).min(0.99)
    }

    /// Records (packets) read so far.
    pub fn records(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    pub(crate) fn set_records(&self, n: u64) {
        self.records.store(n, Ordering::Relaxed);
    }
}

/// A job's handle on the table of running jobs.
pub struct Running<'a, K: IdKind> {
    id: Id<K>,
    table: &'a Mutex<HashMap<Id<K>, Arc<Progress>>>,
}

impl<K: IdKind> Running<'_, K> {
    /// The job has opened its input (`size` bytes, `consumed` counting
    /// what is read): from now on the status shows its progress.
    pub fn started(&self, consumed: Arc<AtomicU64>, size: u64) -> Arc<Progress> {
        let progress = Arc::new(Progress {
            consumed,
            size,
            records: AtomicU64::new(0),
        });
        lock(self.table).insert(self.id, progress.clone());
        progress
    }
}

/// One kind's queues (uploads, and re-analyses apart), workers and
/// running jobs.
pub struct Pipeline<K: Kind> {
    kind: Arc<K>,
    queue: Queue<K::Of>,
    rework: Queue<K::Of>,
    claims: rework::Claims<K::Of>,
    running: Mutex<HashMap<Id<K::Of>, Arc<Progress>>>,
}

impl<K: Kind> std::fmt::Debug for Pipeline<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("kind", &K::WORKER)
            .finish_non_exhaustive()
    }
}

impl<K: Kind> Pipeline<K> {
    /// Starts `workers` threads processing uploads and one thread
    /// processing re-analyses, and queues again every job a previous run
    /// left unfinished.
    pub fn start(kind: K, workers: usize, limits: ReworkLimits) -> store::Result<Arc<Pipeline<K>>> {
        let pending = kind.recover()?;
        let kind = Arc::new(kind);
        let pipeline = Arc::new_cyclic(|me: &Weak<Pipeline<K>>| {
            let (me, again) = (me.clone(), me.clone());
            Pipeline {
                kind: kind.clone(),
                // Nothing is queued before `start` returns, so a worker
                // always finds its pipeline.
                queue: Queue::start(K::WORKER, workers, move |id| {
                    if let Some(me) = me.upgrade() {
                        me.run(id);
                    }
                }),
                rework: Queue::start("rework", 1, move |id| {
                    rework::lower_thread_priority();
                    if let Some(me) = again.upgrade() {
                        me.run(id);
                        me.claims.finished(&id);
                    }
                }),
                claims: rework::Claims::new(limits),
                running: Mutex::new(HashMap::new()),
            }
        });
        for id in pending {
            tracing::info!("{id:?}: queued again after restart");
            if pipeline.kind.is_rework(&id) {
                pipeline.rework.submit(id);
            } else {
                pipeline.submit(id);
            }
        }
        Ok(pipeline)
    }

    pub fn kind(&self) -> &K {
        &self.kind
    }

    /// Queues an upload for processing.
    pub fn submit(&self, id: Id<K::Of>) {
        self.queue.submit(id);
    }

    /// Queues the re-analysis `user` asked for of upload `of`: `create`
    /// makes it (returning it, and whether it is new) off the async
    /// threads. Refused (429) past the pending limits; a re-analysis that
    /// exists already is not queued again.
    pub async fn rework(
        &self,
        user: &str,
        of: Id<K::Of>,
        create: impl FnOnce(&K) -> Result<(K::Meta, bool)> + Send + 'static,
    ) -> Result<K::Meta> {
        let ticket = self.claims.claim(user, of)?;
        let queue = self.rework.handle();
        let (meta, new) = off_thread(self.kind.clone(), create).await?;
        if new {
            let id = K::id_of(&meta);
            ticket.bind(id);
            queue.submit(id);
        }
        Ok(meta)
    }

    /// Progress of the upload, if it is being processed now.
    pub fn progress(&self, id: &Id<K::Of>) -> Option<Arc<Progress>> {
        lock(&self.running).get(id).cloned()
    }

    /// Receives one upload (its body as a multipart form or raw), registers
    /// it and queues it. An upload that breaks off, is empty or runs over
    /// `limit` bytes leaves nothing behind.
    pub async fn upload(
        &self,
        limit: u64,
        pace: Pace,
        name_param: Option<String>,
        req: Request,
    ) -> Result<K::Meta> {
        let (mut staged, side) = upload::receive(&self.kind, limit, pace, name_param, req).await?;
        let files: Vec<(PathBuf, Received)> = staged
            .iter()
            .map(|(s, r)| (s.path.clone(), r.clone()))
            .collect();
        let queue = self.queue.handle();
        // Registered and queued in one task on the blocking pool, which
        // runs to its end even if the client goes away meanwhile: a
        // registered upload is always queued, and its staged files are
        // removed only if it was not registered.
        off_thread(self.kind.clone(), move |k| {
            for (path, file) in &files {
                k.check_file(path, file)?;
            }
            let meta = k.register(files).map_err(K::store_error)?;
            // The files have been moved into the upload's directory.
            for (s, _) in staged.iter_mut() {
                s.kept = true;
            }
            if let Some(side) = side {
                if let Err(e) = k.attach(&meta, side) {
                    if let Err(d) = k.delete(&K::id_of(&meta)) {
                        tracing::error!("removing an upload refused for its side part: {d}");
                    }
                    return Err(e);
                }
            }
            queue.submit(K::id_of(&meta));
            Ok(meta)
        })
        .await
    }

    /// Deletes the upload and everything made from it.
    pub async fn delete(&self, id: Id<K::Of>) -> Result<()> {
        off_thread(self.kind.clone(), move |k| {
            k.delete(&id).map_err(K::store_error)
        })
        .await
    }

    fn run(&self, id: Id<K::Of>) {
        let started = std::time::Instant::now();
        let running = Running {
            id,
            table: &self.running,
        };
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.kind.process(id, &running)
        }));
        lock(&self.running).remove(&id);
        let failure = match outcome {
            Ok(Ok(())) => None,
            Ok(Err(message)) => Some(message),
            Err(_) => Some(K::CRASHED.to_string()),
        };
        match failure {
            None => tracing::info!(
                "{id:?}: processed in {:.3} s",
                started.elapsed().as_secs_f64()
            ),
            Some(message) => {
                tracing::warn!("{id:?}: failed: {message}");
                // An upload deleted meanwhile has no row to mark.
                if let Err(e) = self.kind.fail(&id, &message) {
                    tracing::error!("{id:?}: cannot record failure: {e}");
                }
            }
        }
    }
}
