//! Background parsing of strace uploads: a [`Queue`] of threads takes
//! upload IDs from a queue, streams each upload's logs through the parser
//! (gzip-compressed logs are read through a decompressor) and stores the
//! model, or the parser's message naming the file and the line.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufRead, BufReader};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use serde_json::json;

use crate::store::{self, CaptureId, StraceStore};
use crate::store::{lock, Counting};
use crate::strace::{self, FileQuery, Trace};
use crate::web::queue::Queue;

/// The queue and the progress of running parses.
pub struct StraceJobs {
    queue: Queue,
    /// Bytes read so far and in all, per running parse.
    running: Mutex<HashMap<CaptureId, (Arc<AtomicU64>, u64)>>,
}

impl std::fmt::Debug for StraceJobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StraceJobs").finish_non_exhaustive()
    }
}

impl StraceJobs {
    /// Starts `workers` threads parsing what is queued on `store`.
    pub fn start(store: Arc<dyn StraceStore>, workers: usize) -> Arc<StraceJobs> {
        Arc::new_cyclic(|jobs: &Weak<StraceJobs>| {
            let jobs = jobs.clone();
            StraceJobs {
                // Nothing is queued before `start` returns, so a worker
                // always finds its `StraceJobs`.
                queue: Queue::start("strace", workers, move |id| {
                    if let Some(jobs) = jobs.upgrade() {
                        run(&*store, &jobs, id);
                    }
                }),
                running: Mutex::new(HashMap::new()),
            }
        })
    }

    /// Queues an upload for parsing.
    pub fn submit(&self, id: CaptureId) {
        self.queue.submit(id);
    }

    /// Fraction of the upload read, if it is being parsed now (never 1).
    pub fn progress(&self, id: &CaptureId) -> Option<f64> {
        lock(&self.running).get(id).map(|(read, size)| {
            if *size == 0 {
                0.0
            } else {
                (read.load(Ordering::Relaxed) as f64 / *size as f64).min(0.99)
            }
        })
    }
}

/// Opens a stored log, through a decompressor when it is gzip.
fn open_log(path: &std::path::Path, count: Arc<AtomicU64>) -> std::io::Result<Box<dyn BufRead>> {
    let mut file = BufReader::with_capacity(
        256 << 10,
        Counting {
            inner: File::open(path)?,
            count,
        },
    );
    let gzip = file.fill_buf()?.starts_with(&[0x1f, 0x8b]);
    Ok(if gzip {
        Box::new(BufReader::with_capacity(
            256 << 10,
            flate2::bufread::MultiGzDecoder::new(file),
        ))
    } else {
        Box::new(file)
    })
}

/// The counts kept in the index, for lists and status answers.
pub fn summary(t: &Trace) -> serde_json::Value {
    let failed: u64 = t.summary().iter().map(|r| r.errors).sum();
    let config = t.files(&FileQuery {
        config_only: true,
        ..FileQuery::default()
    });
    let mut config_paths: Vec<&str> = config.iter().map(|f| f.path.as_str()).collect();
    config_paths.dedup();
    config_paths.truncate(20);
    let span = t.span();
    json!({
        "syscalls": t.syscall_count,
        "failed": failed,
        "processes": t.processes.len(),
        "pids": t.pids().into_iter().take(100).collect::<Vec<_>>(),
        "files": t.files(&FileQuery::default()).len(),
        "config_files": config_paths,
        "unparsed": t.unparsed_count,
        "hints": t.hints.len(),
        "time_base": t.time_base,
        "start": span.map(|(s, _)| s.as_secs_f64()),
        "end": span.map(|(_, e)| e.as_secs_f64()),
        "syscall_time": t.total_syscall_time().as_secs_f64(),
    })
}

fn parse_one(store: &dyn StraceStore, jobs: &StraceJobs, id: CaptureId) -> Result<(), String> {
    let inputs = match store.begin_parse(&id) {
        Ok(i) => i,
        Err(store::Error::NotFound(_)) => return Ok(()),
        Err(e) => {
            tracing::error!("strace {id}: cannot start parsing: {e}");
            return Err("the stored logs could not be opened (see the server log)".into());
        }
    };
    let read = Arc::new(AtomicU64::new(0));
    lock(&jobs.running).insert(id, (read.clone(), inputs.size));
    let mut logs: Vec<(String, Box<dyn BufRead>)> = Vec::with_capacity(inputs.files.len());
    for (name, path) in &inputs.files {
        let log = open_log(path, read.clone()).map_err(|e| {
            tracing::error!("strace {id}: opening {}: {e}", path.display());
            format!("{name}: the stored log could not be read (see the server log)")
        })?;
        logs.push((name.clone(), log));
    }
    let trace = strace::parse_files(logs).map_err(|e| e.to_string())?;
    let counts = summary(&trace);
    match store.finish_parse(&id, trace, &counts) {
        Ok(()) | Err(store::Error::Cancelled) => Ok(()),
        Err(e) => {
            tracing::error!("strace {id}: storing the model failed: {e}");
            Err("the parsed log could not be stored (see the server log)".into())
        }
    }
}

fn run(store: &dyn StraceStore, jobs: &StraceJobs, id: CaptureId) {
    let started = std::time::Instant::now();
    let outcome =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse_one(store, jobs, id)));
    lock(&jobs.running).remove(&id);
    let failure = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(message)) => Some(message),
        Err(_) => Some("parsing hit an internal error (a bug; see the server log)".into()),
    };
    match failure {
        None => tracing::info!(
            "strace {id}: parsed in {:.3} s",
            started.elapsed().as_secs_f64()
        ),
        Some(message) => {
            tracing::warn!("strace {id}: failed: {message}");
            if let Err(e) = store.fail(&id, &message) {
                tracing::error!("strace {id}: cannot record failure: {e}");
            }
        }
    }
}
