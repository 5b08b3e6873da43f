//! Background analysis: a fixed pool of worker threads takes capture IDs
//! from a queue, runs the analysis pipeline on each, and reports progress
//! that the status endpoint reads. However many uploads arrive, at most
//! `workers` analyses run at once; the rest wait `queued`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use crate::analysis::{self, Options, Output, OutputError};
use crate::flow::{Conversation, PacketInfo};
use crate::pcap::Reader;
use crate::store::lock;
use crate::store::{self, CaptureId, ResultsWriter, Store};

use super::queue::Queue;

/// Progress of one running analysis.
#[derive(Debug)]
pub struct Progress {
    /// Bytes of the stored upload read so far.
    consumed: Arc<AtomicU64>,
    size: u64,
    records: AtomicU64,
}

impl Progress {
    /// Fraction of the file read, 0..1 (never 1 before the results are in).
    pub fn fraction(&self) -> f64 {
        if self.size == 0 {
            return 0.0;
        }
        (self.consumed.load(Ordering::Relaxed) as f64 / self.size as f64).min(0.99)
    }

    /// Packet records read so far.
    pub fn packets(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }
}

/// The queue and the progress of running analyses.
pub struct Jobs {
    queue: Queue,
    running: Mutex<HashMap<CaptureId, Arc<Progress>>>,
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jobs").finish_non_exhaustive()
    }
}

impl Jobs {
    /// Starts `workers` threads analyzing what is queued on `store`.
    pub fn start(store: Arc<dyn Store>, workers: usize) -> Arc<Jobs> {
        Arc::new_cyclic(|jobs: &Weak<Jobs>| {
            let jobs = jobs.clone();
            Jobs {
                // Nothing is queued before `start` returns, so a worker
                // always finds its `Jobs`.
                queue: Queue::start("analysis", workers, move |id| {
                    if let Some(jobs) = jobs.upgrade() {
                        run(&*store, &jobs, id);
                    }
                }),
                running: Mutex::new(HashMap::new()),
            }
        })
    }

    /// Queues a capture for analysis.
    pub fn submit(&self, id: CaptureId) {
        self.queue.submit(id);
    }

    /// Progress of the capture, if it is being analyzed now.
    pub fn progress(&self, id: &CaptureId) -> Option<Arc<Progress>> {
        lock(&self.running).get(id).cloned()
    }
}

/// Forwards results to the writer and counts progress.
struct Tracked<'a> {
    writer: &'a mut dyn ResultsWriter,
    progress: &'a Progress,
}

impl Output for Tracked<'_> {
    fn conversation(&mut self, conv: &Conversation) -> Result<(), OutputError> {
        self.writer.conversation(conv)
    }

    fn packet(&mut self, conv: &Conversation, packet: &PacketInfo) -> Result<(), OutputError> {
        self.writer.packet(conv, packet)
    }

    fn exchange(&mut self, exchange: analysis::HttpExchange) -> Result<(), OutputError> {
        self.writer.exchange(exchange)
    }

    fn progress(&mut self, bytes: u64, records: u64) -> Result<bool, OutputError> {
        self.progress.records.store(records, Ordering::Relaxed);
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

/// Why an analysis ended without results, in words for the uploader.
fn analyze_one(store: &dyn Store, jobs: &Jobs, id: CaptureId) -> Result<(), String> {
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
    let progress = Arc::new(Progress {
        consumed: work.consumed.clone(),
        size: work.size,
        records: AtomicU64::new(0),
    });
    lock(&jobs.running).insert(id, progress.clone());
    let mut writer = work.writer;
    let filter = match work.filter.as_deref().map(crate::filter::parse).transpose() {
        Ok(f) => f,
        Err(e) => return Err(format!("the filter expression is not valid: {e}")),
    };
    let mut reader = Reader::new(work.input).map_err(|e| e.to_string())?;
    let opts = Options {
        packets: true,
        filter,
        ..Options::default()
    };
    let summary = {
        let mut out = Tracked {
            writer: writer.as_mut(),
            progress: &progress,
        };
        analysis::analyze(&mut reader, &opts, &mut out)
            .map_err(|e| format!("{e} (after {} packet records)", e.records_read))?
    };
    drop(reader);
    let read_s = started.elapsed().as_secs_f64();
    progress.records.store(summary.packets, Ordering::Relaxed);
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

fn run(store: &dyn Store, jobs: &Jobs, id: CaptureId) {
    let started = std::time::Instant::now();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        analyze_one(store, jobs, id)
    }));
    lock(&jobs.running).remove(&id);
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(message)) => Some(message),
        Err(_) => Some("the analysis hit an internal error (a bug; see the server log)".into()),
    };
    match failure {
        None => tracing::info!(
            "capture {id}: analyzed in {:.3} s",
            started.elapsed().as_secs_f64()
        ),
        Some(message) => {
            tracing::warn!("capture {id}: failed: {message}");
            // A capture deleted meanwhile has no row to mark.
            if let Err(e) = store.fail(&id, &message) {
                tracing::error!("capture {id}: cannot record failure: {e}");
            }
        }
    }
}
