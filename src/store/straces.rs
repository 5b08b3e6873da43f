//! Stored strace uploads: one or several log files per upload, parsed once
//! in the background into a [`Trace`] that is kept (serialized) beside the
//! logs, so every page pages and filters without reading the logs again.
//!
//! Layout under the data directory (apart from the captures):
//!
//! ```text
//! straces.db                   index of strace uploads (WAL mode, own schema version)
//! straces/staging/*.part       uploads in progress (emptied at startup)
//! straces/ID/input-N           the uploaded logs, in upload order
//! straces/ID/trace.json        the parsed model (written as trace.json.tmp, then renamed)
//! ```
//!
//! Life of an upload: `queued` -> `analyzing` -> `done` | `failed`, as for
//! captures; an interrupted parse is queued again at startup, and so is a
//! model written by an older layout ([`MODEL_VERSION`]).

use std::collections::VecDeque;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

use super::lock;
use super::{io_err, Error, Page, Result, Status, StraceId};
use crate::strace::Trace;
use crate::time::Timestamp;

/// Version of the stored model: bump when [`Trace`]'s serialized form
/// changes, so stored uploads are parsed again at the next start.
pub const MODEL_VERSION: i64 = 1;

/// Parsed traces kept in memory for the pages.
const CACHED_TRACES: usize = 4;

/// Steps of `straces.db`, oldest first. Append; never edit.
const MIGRATIONS: &[&str] = &[
    // 1: strace uploads.
    "CREATE TABLE straces (
        id TEXT PRIMARY KEY NOT NULL,
        name TEXT NOT NULL,
        files TEXT NOT NULL,
        size INTEGER NOT NULL,
        created_ns INTEGER NOT NULL,
        status TEXT NOT NULL,
        error TEXT,
        summary TEXT,
        model_version INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX straces_by_created ON straces(created_ns);",
];

/// One uploaded log file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StraceFile {
    /// The file name the uploader gave (`out.txt`, `out.4990` for `-ff`).
    pub name: String,
    pub size: u64,
    /// SHA-256 of its bytes, hex.
    pub sha256: String,
}

/// One strace upload as the list and status views show it.
#[derive(Clone, Debug, Serialize)]
pub struct StraceMeta {
    pub id: StraceId,
    /// The first file's name, with the count of the others (`out.4990 +2`).
    pub name: String,
    pub files: Vec<StraceFile>,
    /// Bytes of all files.
    pub size: u64,
    pub created: Timestamp,
    pub status: Status,
    /// Why parsing failed (naming the file and the line).
    pub error: Option<String>,
    /// Counts once `done` (made by the parser's caller).
    pub summary: Option<serde_json::Value>,
}

/// The logs of an upload, to be parsed: each file's name and stored path.
#[derive(Clone, Debug)]
pub struct StraceInputs {
    pub files: Vec<(String, PathBuf)>,
    /// Bytes of all files.
    pub size: u64,
}

/// Storage of strace uploads and their parsed models.
pub trait StraceStore: Send + Sync {
    /// A fresh path where an incoming log may be written; the caller
    /// removes it if the upload does not complete.
    fn staging_path(&self) -> Result<PathBuf>;
    /// Registers a complete upload (moving the staged files into place),
    /// `queued` for parsing.
    fn add_strace(&self, files: Vec<(PathBuf, StraceFile)>) -> Result<StraceMeta>;
    /// Uploads, newest first.
    fn straces(&self, limit: u32, offset: u64) -> Result<Page<StraceMeta>>;
    fn strace(&self, id: &StraceId) -> Result<StraceMeta>;
    /// Removes the upload and every file of it.
    fn delete_strace(&self, id: &StraceId) -> Result<()>;
    /// At startup: queues interrupted parses (and models of an older
    /// layout) again; returns every upload waiting, oldest first.
    fn recover(&self) -> Result<Vec<StraceId>>;
    /// Marks the upload `analyzing` and returns its files.
    fn begin_parse(&self, id: &StraceId) -> Result<StraceInputs>;
    /// Stores the model and marks the upload `done`, in one step for
    /// readers (who find the model already in memory).
    fn finish_parse(&self, id: &StraceId, trace: Trace, summary: &serde_json::Value) -> Result<()>;
    /// Marks the upload `failed` with a message for a person.
    fn fail(&self, id: &StraceId, message: &str) -> Result<()>;
    /// The parsed model of a `done` upload.
    fn trace(&self, id: &StraceId) -> Result<Arc<Trace>>;
}

/// The embedded [`StraceStore`]: `straces.db` and `straces/` in the data
/// directory.
pub struct SqliteStraces {
    root: PathBuf,
    index: Mutex<Connection>,
    cache: Mutex<VecDeque<(StraceId, Arc<Trace>)>>,
}

fn migrate(conn: &mut Connection) -> Result<()> {
    super::schema::run_migrations(conn, MIGRATIONS, "straces.db")
}

const META_COLUMNS: &str = "id, name, files, size, created_ns, status, error, summary";

fn meta_from_row(r: &Row<'_>) -> rusqlite::Result<StraceMeta> {
    let id_text: String = r.get(0)?;
    let files: String = r.get(2)?;
    let status: String = r.get(5)?;
    let summary: Option<String> = r.get(7)?;
    Ok(StraceMeta {
        id: id_text.parse().unwrap_or(StraceId::from_bytes([0; 16])),
        name: r.get(1)?,
        files: serde_json::from_str(&files).unwrap_or_default(),
        size: r.get::<_, i64>(3)?.max(0) as u64,
        created: Timestamp::from_nanos(r.get(4)?),
        status: Status::parse(&status).unwrap_or(Status::Failed),
        error: r.get(6)?,
        summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
    })
}

/// `out.4990 +2` for three files.
fn display_name(files: &[StraceFile]) -> String {
    match files {
        [] => "strace".to_string(),
        [one] => one.name.clone(),
        [first, rest @ ..] => format!("{} +{}", first.name, rest.len()),
    }
}

impl SqliteStraces {
    /// Opens (creating if needed) the strace part of the data directory at
    /// `root`, brings its schema up to date and clears what an interrupted
    /// run left behind.
    pub fn open(root: &Path) -> Result<SqliteStraces> {
        let dir = root.join("straces");
        std::fs::create_dir_all(dir.join("staging"))
            .map_err(io_err(format!("creating {}", dir.display())))?;
        let mut conn = Connection::open(root.join("straces.db"))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )?;
        migrate(&mut conn)?;
        let store = SqliteStraces {
            root: dir,
            index: Mutex::new(conn),
            cache: Mutex::new(VecDeque::new()),
        };
        store.clean()?;
        Ok(store)
    }

    fn dir(&self, id: &StraceId) -> PathBuf {
        self.root.join(id.to_string())
    }

    fn clean(&self) -> Result<()> {
        if let Ok(entries) = std::fs::read_dir(self.root.join("staging")) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let known: std::collections::HashSet<String> = {
            let conn = lock(&self.index);
            let mut stmt = conn.prepare("SELECT id FROM straces")?;
            let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
            ids.collect::<rusqlite::Result<_>>()?
        };
        if let Ok(entries) = std::fs::read_dir(&self.root) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if name == "staging" {
                    continue;
                }
                if !known.contains(&name) {
                    let _ = std::fs::remove_dir_all(e.path());
                    continue;
                }
                let _ = std::fs::remove_file(e.path().join("trace.json.tmp"));
            }
        }
        Ok(())
    }

    fn status_of(&self, id: &StraceId) -> Result<Status> {
        let status: Option<String> = lock(&self.index)
            .query_row(
                "SELECT status FROM straces WHERE id = ?1",
                params![id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        let status = status.ok_or_else(|| Error::NotFound(format!("strace {id}")))?;
        Ok(Status::parse(&status).unwrap_or(Status::Failed))
    }

    /// Keeps a model in memory, dropping the least recently used one.
    fn remember(&self, id: &StraceId, trace: Arc<Trace>) {
        let mut cache = lock(&self.cache);
        cache.retain(|(k, _)| k != id);
        if cache.len() >= CACHED_TRACES {
            cache.pop_front();
        }
        cache.push_back((*id, trace));
    }

    fn forget(&self, id: &StraceId) {
        lock(&self.cache).retain(|(k, _)| k != id);
    }
}

impl StraceStore for SqliteStraces {
    fn staging_path(&self) -> Result<PathBuf> {
        let name = StraceId::random().map_err(io_err("random name"))?;
        Ok(self.root.join("staging").join(format!("{name}.part")))
    }

    fn add_strace(&self, files: Vec<(PathBuf, StraceFile)>) -> Result<StraceMeta> {
        let id = StraceId::random().map_err(io_err("random id"))?;
        let dir = self.dir(&id);
        std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let mut kept = Vec::with_capacity(files.len());
        for (i, (staged, file)) in files.into_iter().enumerate() {
            if let Err(e) = std::fs::rename(&staged, dir.join(format!("input-{i}"))) {
                let _ = std::fs::remove_dir_all(&dir);
                return Err(io_err(format!("storing upload in {}", dir.display()))(e));
            }
            kept.push(file);
        }
        let size = kept.iter().map(|f| f.size).sum::<u64>();
        let name = display_name(&kept);
        let files_json = serde_json::to_string(&kept).map_err(|e| Error::Corrupt(e.to_string()))?;
        let created = Timestamp::now();
        let inserted = lock(&self.index).execute(
            "INSERT INTO straces (id, name, files, size, created_ns, status)
             VALUES (?1, ?2, ?3, ?4, ?5, 'queued')",
            params![
                id.to_string(),
                name,
                files_json,
                i64::try_from(size).unwrap_or(i64::MAX),
                created.as_nanos()
            ],
        );
        if let Err(e) = inserted {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e.into());
        }
        Ok(StraceMeta {
            id,
            name,
            files: kept,
            size,
            created,
            status: Status::Queued,
            error: None,
            summary: None,
        })
    }

    fn straces(&self, limit: u32, offset: u64) -> Result<Page<StraceMeta>> {
        let conn = lock(&self.index);
        let total: i64 = conn.query_row("SELECT count(*) FROM straces", [], |r| r.get(0))?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {META_COLUMNS} FROM straces ORDER BY created_ns DESC, id LIMIT ?1 OFFSET ?2"
        ))?;
        let rows = stmt.query_map(
            params![limit, i64::try_from(offset).unwrap_or(i64::MAX)],
            meta_from_row,
        )?;
        Ok(Page {
            total: total.max(0) as u64,
            items: rows.collect::<rusqlite::Result<Vec<_>>>()?,
        })
    }

    fn strace(&self, id: &StraceId) -> Result<StraceMeta> {
        lock(&self.index)
            .query_row(
                &format!("SELECT {META_COLUMNS} FROM straces WHERE id = ?1"),
                params![id.to_string()],
                meta_from_row,
            )
            .optional()?
            .ok_or_else(|| Error::NotFound(format!("strace {id}")))
    }

    fn delete_strace(&self, id: &StraceId) -> Result<()> {
        let changed = lock(&self.index)
            .execute("DELETE FROM straces WHERE id = ?1", params![id.to_string()])?;
        if changed == 0 {
            return Err(Error::NotFound(format!("strace {id}")));
        }
        self.forget(id);
        let dir = self.dir(id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(format!("removing {}", dir.display()))(e)),
        }
    }

    fn recover(&self) -> Result<Vec<StraceId>> {
        super::sqlite::requeue_unfinished(
            &lock(&self.index),
            "straces",
            "model_version",
            MODEL_VERSION,
        )
    }

    fn begin_parse(&self, id: &StraceId) -> Result<StraceInputs> {
        let changed = lock(&self.index).execute(
            "UPDATE straces SET status = 'analyzing', error = NULL, summary = NULL
             WHERE id = ?1 AND status IN ('queued', 'analyzing')",
            params![id.to_string()],
        )?;
        if changed == 0 {
            return Err(Error::NotFound(format!("queued strace {id}")));
        }
        self.forget(id);
        let meta = self.strace(id)?;
        let dir = self.dir(id);
        let files = meta
            .files
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), dir.join(format!("input-{i}"))))
            .collect();
        Ok(StraceInputs {
            files,
            size: meta.size,
        })
    }

    fn finish_parse(&self, id: &StraceId, trace: Trace, summary: &serde_json::Value) -> Result<()> {
        let dir = self.dir(id);
        let tmp = dir.join("trace.json.tmp");
        let write = || -> std::io::Result<()> {
            let mut out = BufWriter::with_capacity(1 << 20, File::create(&tmp)?);
            serde_json::to_writer(&mut out, &trace)?;
            out.flush()?;
            out.into_inner().map_err(|e| e.into_error())?.sync_all()
        };
        if let Err(e) = write() {
            let _ = std::fs::remove_file(&tmp);
            return Err(io_err("writing the parsed trace")(e));
        }
        std::fs::rename(&tmp, dir.join("trace.json"))
            .map_err(io_err("storing the parsed trace"))?;
        let changed = lock(&self.index).execute(
            "UPDATE straces SET status = 'done', error = NULL, summary = ?2, model_version = ?3
             WHERE id = ?1 AND status = 'analyzing'",
            params![id.to_string(), summary.to_string(), MODEL_VERSION],
        )?;
        if changed == 0 {
            // Deleted while it was being parsed.
            let _ = std::fs::remove_dir_all(&dir);
            return Err(Error::Cancelled);
        }
        self.remember(id, Arc::new(trace));
        Ok(())
    }

    fn fail(&self, id: &StraceId, message: &str) -> Result<()> {
        lock(&self.index).execute(
            "UPDATE straces SET status = 'failed', error = ?2, summary = NULL WHERE id = ?1",
            params![id.to_string(), message],
        )?;
        Ok(())
    }

    fn trace(&self, id: &StraceId) -> Result<Arc<Trace>> {
        {
            let mut cache = lock(&self.cache);
            if let Some(pos) = cache.iter().position(|(k, _)| k == id) {
                // Most recently used at the back.
                if let Some(entry) = cache.remove(pos) {
                    let trace = entry.1.clone();
                    cache.push_back(entry);
                    return Ok(trace);
                }
            }
        }
        let status = self.status_of(id)?;
        if status != Status::Done {
            return Err(Error::NotReady {
                upload: format!("{id:?}"),
                status,
            });
        }
        let path = self.dir(id).join("trace.json");
        // Read whole: serde_json parses a slice about twice as fast as a
        // reader, for a moment's copy of the file in memory.
        let bytes = std::fs::read(&path).map_err(io_err(format!("reading {}", path.display())))?;
        let trace: Trace = serde_json::from_slice(&bytes)
            .map_err(|e| Error::Corrupt(format!("{}: {e}", path.display())))?;
        drop(bytes);
        let trace = Arc::new(trace);
        self.remember(id, trace.clone());
        Ok(trace)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn temp_root(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("tracedeck-straces-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn stage(store: &SqliteStraces, text: &str) -> PathBuf {
        let p = store.staging_path().unwrap();
        std::fs::write(&p, text).unwrap();
        p
    }

    fn file(name: &str, size: u64) -> StraceFile {
        StraceFile {
            name: name.into(),
            size,
            sha256: String::new(),
        }
    }

    #[test]
    fn life_of_an_upload_survives_a_restart() {
        let root = temp_root("life");
        let log =
            "101 openat(AT_FDCWD, \"/etc/app.xml\", O_RDONLY) = 3\n101 +++ exited with 0 +++\n";
        let id = {
            let store = SqliteStraces::open(&root).unwrap();
            let a = stage(&store, log);
            let b = stage(&store, log);
            let meta = store
                .add_strace(vec![(a, file("out.1", 10)), (b, file("out.2", 5))])
                .unwrap();
            assert_eq!(meta.name, "out.1 +1");
            assert_eq!(meta.size, 15);
            assert!(matches!(
                store.trace(&meta.id),
                Err(Error::NotReady {
                    status: Status::Queued,
                    ..
                })
            ));
            let inputs = store.begin_parse(&meta.id).unwrap();
            assert_eq!(inputs.files.len(), 2);
            assert_eq!(inputs.files[1].0, "out.2");
            assert_eq!(std::fs::read_to_string(&inputs.files[0].1).unwrap(), log);
            meta.id
            // Dropped while `analyzing`: an interrupted parse.
        };
        let store = SqliteStraces::open(&root).unwrap();
        assert_eq!(store.recover().unwrap(), vec![id]);
        store.begin_parse(&id).unwrap();
        let trace = crate::strace::parse_str("out.1", log).unwrap();
        store
            .finish_parse(&id, trace, &serde_json::json!({"syscalls": 1}))
            .unwrap();
        let meta = store.strace(&id).unwrap();
        assert_eq!(meta.status, Status::Done);
        assert_eq!(meta.summary.unwrap()["syscalls"], 1);
        assert_eq!(store.trace(&id).unwrap().syscall_count, 1);
        // From disk, as after a restart.
        let cold = SqliteStraces::open(&root).unwrap();
        assert_eq!(cold.trace(&id).unwrap().files(&Default::default()).len(), 1);
        assert!(store.recover().unwrap().is_empty());
        assert_eq!(store.straces(10, 0).unwrap().total, 1);
        store.delete_strace(&id).unwrap();
        assert!(matches!(store.strace(&id), Err(Error::NotFound(_))));
        assert!(matches!(store.trace(&id), Err(Error::NotFound(_))));
        assert!(!root.join("straces").join(id.to_string()).exists());
        let _ = std::fs::remove_dir_all(&root);
    }

    #[test]
    fn a_failure_keeps_its_message() {
        let root = temp_root("fail");
        let store = SqliteStraces::open(&root).unwrap();
        let a = stage(&store, "hello\n");
        let meta = store.add_strace(vec![(a, file("x.txt", 6))]).unwrap();
        store.begin_parse(&meta.id).unwrap();
        store.fail(&meta.id, "x.txt:1: not an strace log").unwrap();
        let m = store.strace(&meta.id).unwrap();
        assert_eq!(m.status, Status::Failed);
        assert_eq!(m.error.as_deref(), Some("x.txt:1: not an strace log"));
        let _ = std::fs::remove_dir_all(&root);
    }
}
