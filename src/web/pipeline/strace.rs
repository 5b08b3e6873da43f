//! The strace kind of upload: one or several logs per upload (`strace -ff`
//! writes one per process); its job streams the logs through the parser
//! (gzip-compressed logs through a decompressor) and stores the model, or
//! the parser's message naming the file and the line.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use serde_json::json;

use super::capture::why_stopped;
use super::{Kind, Pipeline, Received, Routes, Running};
use crate::pcap;
use crate::store::{self, Capped, Counting, Status, StraceFile, StraceId, StraceMeta, StraceStore};
use crate::strace::{self, FileQuery, Trace};
use crate::web::error::Error;
use crate::web::AppState;

/// strace log parses over a [`StraceStore`].
pub struct Parse {
    store: Arc<dyn StraceStore>,
    /// Most bytes the gzip logs of one upload may inflate to, together.
    max_capture: u64,
}

impl Parse {
    pub fn new(store: Arc<dyn StraceStore>, max_capture: u64) -> Parse {
        Parse { store, max_capture }
    }
}

impl Routes for Parse {
    fn pipeline(state: &AppState) -> &Pipeline<Parse> {
        &state.straces
    }
    const PAGES: &'static str = "/s";
    const API: &'static str = "/api/straces";
    const LIST: &'static str = "/straces";
}

impl Kind for Parse {
    type Of = store::id::Strace;
    type Meta = StraceMeta;
    const WORKER: &'static str = "strace";
    const MANY_FILES: bool = true;
    const CRASHED: &'static str = "parsing hit an internal error (a bug; see the server log)";

    fn empty(name: &str) -> String {
        format!("{name}: the file is empty: send the output of strace -o")
    }

    fn no_file() -> &'static str {
        "the upload has no file: send each log in a multipart field named 'file'"
    }

    /// A pcap or pcapng file (or a gzip of one) is refused by its magic
    /// number, with the page it belongs on, before it is stored.
    fn check_file(&self, path: &Path, file: &Received) -> Result<(), Error> {
        let Some(format) = capture_format(path, file.gzip) else {
            return Ok(());
        };
        let what = match (format, file.gzip) {
            (pcap::Format::Pcap, false) => "a pcap packet capture",
            (pcap::Format::Pcap, true) => "a gzip-compressed pcap packet capture",
            (pcap::Format::Pcapng, false) => "a pcapng packet capture",
            (pcap::Format::Pcapng, true) => "a gzip-compressed pcapng packet capture",
        };
        Err(Error::BadRequest(format!(
            "{}: this is {what}, not an strace log: upload it on the captures page (/) or to /api/captures",
            file.name
        )))
    }

    fn staging_path(&self) -> store::Result<PathBuf> {
        self.store.staging_path()
    }

    fn register(&self, files: Vec<(PathBuf, Received)>) -> store::Result<StraceMeta> {
        let files = files
            .into_iter()
            .map(|(path, r)| {
                let file = StraceFile {
                    name: r.name,
                    size: r.size,
                    sha256: r.sha256,
                };
                (path, file)
            })
            .collect();
        self.store.add_strace(files)
    }

    fn id_of(meta: &StraceMeta) -> StraceId {
        meta.id
    }

    fn delete(&self, id: &StraceId) -> store::Result<()> {
        self.store.delete_strace(id)
    }

    fn recover(&self) -> store::Result<Vec<StraceId>> {
        self.store.recover()
    }

    fn process(&self, id: StraceId, running: &Running<'_, Self::Of>) -> Result<(), String> {
        parse_one(&*self.store, running, id, self.max_capture)
    }

    fn fail(&self, id: &StraceId, message: &str) -> store::Result<()> {
        self.store.fail(id, message)
    }

    fn store_error(e: store::Error) -> Error {
        match e {
            store::Error::NotFound(_) => Error::NotFound("strace log".into()),
            store::Error::NotReady { status, .. } => Error::Conflict(match status {
                Status::Failed => "parsing this strace log failed: it has no results".into(),
                other => format!("the strace log is {other}: results are not ready yet"),
            }),
            other => Error::Internal(other.to_string()),
        }
    }
}

/// The capture format of the file at `path` by its first bytes (inflated
/// first when `gzip`), or `None` when it is not a capture or unreadable
/// (the parser then reports what it finds).
fn capture_format(path: &Path, gzip: bool) -> Option<pcap::Format> {
    let file = File::open(path).ok()?;
    let mut head = Vec::with_capacity(4);
    let read = if gzip {
        flate2::read::MultiGzDecoder::new(file)
            .take(4)
            .read_to_end(&mut head)
    } else {
        file.take(4).read_to_end(&mut head)
    };
    read.ok()?;
    pcap::format_of(&head)
}

/// Opens a stored log, through a decompressor when it is gzip, whose
/// output counts into `inflated` against `max_capture`.
fn open_log(
    path: &std::path::Path,
    count: Arc<AtomicU64>,
    inflated: &Arc<AtomicU64>,
    max_capture: u64,
) -> std::io::Result<Box<dyn BufRead>> {
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
            Capped {
                inner: flate2::bufread::MultiGzDecoder::new(file),
                inflated: inflated.clone(),
                limit: max_capture,
                room: None,
            },
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

fn parse_one(
    store: &dyn StraceStore,
    running: &Running<'_, store::id::Strace>,
    id: StraceId,
    max_capture: u64,
) -> Result<(), String> {
    let inputs = match store.begin_parse(&id) {
        Ok(i) => i,
        Err(store::Error::NotFound(_)) => return Ok(()),
        Err(e) => {
            tracing::error!("strace {id}: cannot start parsing: {e}");
            return Err("the stored logs could not be opened (see the server log)".into());
        }
    };
    let read = Arc::new(AtomicU64::new(0));
    running.started(read.clone(), inputs.size);
    let inflated = Arc::new(AtomicU64::new(0));
    let mut logs: Vec<(String, Box<dyn BufRead>)> = Vec::with_capacity(inputs.files.len());
    for (name, path) in &inputs.files {
        let log = open_log(path, read.clone(), &inflated, max_capture).map_err(|e| {
            tracing::error!("strace {id}: opening {}: {e}", path.display());
            format!("{name}: the stored log could not be read (see the server log)")
        })?;
        logs.push((name.clone(), log));
    }
    let trace = strace::parse_files(logs).map_err(|e| why_stopped(&e, e.to_string()))?;
    let counts = summary(&trace);
    match store.finish_parse(&id, trace, &counts) {
        Ok(()) | Err(store::Error::Cancelled) => Ok(()),
        Err(e) => {
            tracing::error!("strace {id}: storing the model failed: {e}");
            Err("the parsed log could not be stored (see the server log)".into())
        }
    }
}
