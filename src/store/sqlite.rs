//! `SqliteStore`: the embedded default store.
//!
//! Layout of the data directory:
//!
//! ```text
//! tracedeck.db                 index of captures (WAL mode)
//! staging/*.part               uploads in progress (emptied at startup)
//! captures/ID/capture          the capture (decompressed if uploaded gzipped)
//! captures/ID/upload.gz        a gzip upload until its analysis has stored `capture`
//! captures/ID/results.db       analysis results (written as results.db.tmp, then renamed)
//! ```
//!
//! Each capture's results live in a database of their own, so analyses run
//! in parallel without contending for one writer, a finished analysis
//! appears with one rename, and deleting a capture is removing a directory.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, Row};

use super::keyset;
use super::lock;
use super::packets;
use super::page;
use super::results::{Decompressed, SqliteResults};
use super::schema::{self, PACKET_RECORDS, RESULTS_VERSION};
use super::stop;
use super::tables;
use super::{
    indexing, io_err, Analysis, CaptureId, CaptureMeta, DnsLookupRow, Error, ExchangeRow,
    IndexBuild, NewCapture, Page, Result, Status, Store, MAX_FILTERED_VIEWS,
};
use crate::analysis::report::{self, ConvQuery, ConversationRow, DnsQuery, HttpQuery, Query};
use crate::flow::{PacketInfo, Proto};
use crate::time::Timestamp;

/// Captures whose idle read connections are kept.
const OPEN_RESULTS: usize = 32;
/// Idle read connections kept per capture.
const IDLE_PER_CAPTURE: usize = 4;
/// Idle read connections kept in all: with [`READ_CACHE_KIB`] each, what
/// the pool holds resident stays small however many captures are read.
const IDLE_IN_ALL: usize = 16;
/// The page cache of one read connection (SQLite's default, said
/// explicitly: README, "Limits"); no memory-mapped I/O, so what a reader
/// holds is this cache and nothing else.
const READ_CACHE_KIB: u32 = 2048;

/// Row counts of filtered tables kept per capture: counting a million
/// rows is the dearest part of a page, and results never change.
const TOTALS_PER_CAPTURE: usize = 256;

/// Idle read-only connections to results databases, per capture, and the
/// row counts already made. A capture's entry is dropped when its results
/// change or go (new analysis, delete); a connection handed out before
/// that is not taken back (its generation is older).
#[derive(Default)]
pub(crate) struct ReadPool {
    next_generation: u64,
    captures: HashMap<CaptureId, PoolEntry>,
}

struct PoolEntry {
    generation: u64,
    idle: Vec<Connection>,
    /// Row count by the counting query's SQL and parameters.
    totals: HashMap<String, u64>,
    /// Per count being made: the gate its other askers wait at, so a
    /// burst of readers of a fresh capture counts once, not once each.
    counting: HashMap<String, Arc<Mutex<()>>>,
}

impl ReadPool {
    /// An idle connection if there is one, and the capture's generation.
    fn take(&mut self, id: &CaptureId) -> (u64, Option<Connection>) {
        if !self.captures.contains_key(id) {
            if self.captures.len() >= OPEN_RESULTS {
                if let Some(k) = self.captures.keys().next().copied() {
                    self.captures.remove(&k);
                }
            }
            self.next_generation += 1;
            self.captures.insert(
                *id,
                PoolEntry {
                    generation: self.next_generation,
                    idle: Vec::new(),
                    totals: HashMap::new(),
                    counting: HashMap::new(),
                },
            );
        }
        match self.captures.get_mut(id) {
            Some(e) => (e.generation, e.idle.pop()),
            None => (0, None),
        }
    }

    fn give_back(&mut self, id: &CaptureId, generation: u64, conn: Connection) {
        let idle: usize = self.captures.values().map(|e| e.idle.len()).sum();
        if idle >= IDLE_IN_ALL {
            return;
        }
        if let Some(e) = self.captures.get_mut(id) {
            if e.generation == generation && e.idle.len() < IDLE_PER_CAPTURE {
                e.idle.push(conn);
            }
        }
    }

    fn total(&self, id: &CaptureId, generation: u64, key: &str) -> Option<u64> {
        let e = self.captures.get(id)?;
        (e.generation == generation)
            .then(|| e.totals.get(key).copied())
            .flatten()
    }

    /// The gate of count `key`: whoever holds it makes the count.
    fn count_gate(&mut self, id: &CaptureId, generation: u64, key: &str) -> Arc<Mutex<()>> {
        match self.captures.get_mut(id) {
            Some(e) if e.generation == generation => {
                if e.counting.len() >= TOTALS_PER_CAPTURE {
                    e.counting.clear();
                }
                e.counting.entry(key.to_string()).or_default().clone()
            }
            _ => Arc::default(),
        }
    }

    fn keep_total(&mut self, id: &CaptureId, generation: u64, key: String, total: u64) {
        if let Some(e) = self.captures.get_mut(id) {
            if e.generation == generation {
                if e.totals.len() >= TOTALS_PER_CAPTURE {
                    e.totals.clear();
                }
                e.counting.remove(&key);
                e.totals.insert(key, total);
            }
        }
    }

    fn forget(&mut self, id: &CaptureId) {
        self.captures.remove(id);
    }
}

/// A read connection borrowed from the pool; it goes back when dropped.
struct Reader<'p> {
    conn: Option<Connection>,
    /// Registered with the request's stop switch while borrowed.
    watched: Option<stop::Watched>,
    id: CaptureId,
    generation: u64,
    pool: &'p Mutex<ReadPool>,
}

impl std::ops::Deref for Reader<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        // Only `drop` takes it out.
        match &self.conn {
            Some(c) => c,
            None => unreachable!("a Reader's connection is taken only when it is dropped"),
        }
    }
}

impl Reader<'_> {
    /// The rows `count_sql` counts, counted once per capture's results:
    /// readers asking for a count being made wait for it.
    fn total(&self, count_sql: &str, args: &[Value]) -> Result<u64> {
        let key = format!("{count_sql}\u{0}{args:?}");
        let gate = {
            let mut pool = lock(self.pool);
            if let Some(n) = pool.total(&self.id, self.generation, &key) {
                return Ok(n);
            }
            pool.count_gate(&self.id, self.generation, &key)
        };
        let _counting = lock(&gate);
        // A reader stopped while it waited (its deadline, its client gone)
        // does not make the count the one before it gave up on.
        if stop::stopped() {
            return Err(Error::Stopped);
        }
        if let Some(n) = lock(self.pool).total(&self.id, self.generation, &key) {
            return Ok(n);
        }
        let n: i64 = self.query_row(count_sql, params_from_iter(args.iter()), |r| r.get(0))?;
        let n = n.max(0) as u64;
        lock(self.pool).keep_total(&self.id, self.generation, key, n);
        Ok(n)
    }
}

impl Drop for Reader<'_> {
    fn drop(&mut self) {
        self.watched = None;
        if let Some(conn) = self.conn.take() {
            lock(self.pool).give_back(&self.id, self.generation, conn);
        }
    }
}

/// Shared state of the store (also held by running result writers).
pub(crate) struct Inner {
    root: PathBuf,
    index: Mutex<Connection>,
    readers: Mutex<ReadPool>,
    cancels: Mutex<HashMap<CaptureId, Arc<AtomicBool>>>,
    /// Most bytes a gzip upload may inflate to (`--max-capture`).
    max_capture: AtomicU64,
    /// Most result rows one analysis stores ([`MAX_RESULT_ROWS`]).
    pub(crate) max_results: AtomicU64,
}

/// Result rows (conversations, HTTP exchanges and DNS lookups together)
/// one capture's analysis stores at most: past it the analysis stops
/// reading, keeps what it has and says so in a warning (README, "Limits").
pub const MAX_RESULT_ROWS: u64 = 50_000_000;

/// The embedded store: a data directory with SQLite databases.
#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

impl Inner {
    fn capture_dir(&self, id: &CaptureId) -> PathBuf {
        self.root.join("captures").join(id.to_string())
    }

    /// The parent and filter of a filtered view (`None` for an upload).
    fn view_of(&self, id: &CaptureId) -> Result<Option<(CaptureId, String)>> {
        let row: Option<(Option<String>, Option<String>)> = lock(&self.index)
            .query_row(
                "SELECT parent, filter FROM captures WHERE id = ?1",
                params![id.to_string()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        Ok(match row {
            Some((Some(parent), Some(filter))) => parent.parse().ok().map(|p| (p, filter)),
            _ => None,
        })
    }

    /// The stored capture file a capture's results point into.
    fn capture_file(&self, id: &CaptureId) -> Result<PathBuf> {
        let owner = self.view_of(id)?.map_or(*id, |(parent, _)| parent);
        Ok(self.capture_dir(&owner).join("capture"))
    }

    /// Removes a capture's row-less leftovers: cancels its analysis, drops
    /// its open reader, deletes its directory.
    fn forget(&self, id: &CaptureId) -> Result<()> {
        if let Some(flag) = lock(&self.cancels).remove(id) {
            flag.store(true, Ordering::Relaxed);
        }
        lock(&self.readers).forget(id);
        let dir = self.capture_dir(id);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(format!("removing {}", dir.display()))(e)),
        }
    }

    pub(crate) fn mark_done(&self, id: &CaptureId, summary: &str) -> Result<()> {
        lock(&self.cancels).remove(id);
        lock(&self.readers).forget(id);
        let changed = lock(&self.index).execute(
            "UPDATE captures SET status = 'done', error = NULL, summary = ?2, results_version = ?3
             WHERE id = ?1 AND status = 'analyzing'",
            params![id.to_string(), summary, RESULTS_VERSION],
        )?;
        if changed == 0 {
            // Deleted while it was being analyzed.
            let _ = std::fs::remove_dir_all(self.capture_dir(id));
            return Err(Error::Cancelled);
        }
        Ok(())
    }
}

/// Which file is at `path` (device and inode): results analyzed again
/// are a new file renamed over the old one.
fn file_identity(path: &Path) -> Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(io_err(format!("reading {}", path.display())))?;
    Ok((meta.dev(), meta.ino()))
}

fn meta_from_row(r: &Row<'_>) -> rusqlite::Result<(String, CaptureMeta)> {
    let id_text: String = r.get(0)?;
    let status: String = r.get(5)?;
    let summary: Option<String> = r.get(7)?;
    let meta = CaptureMeta {
        id: id_text.parse().unwrap_or(CaptureId::from_bytes([0; 16])),
        name: r.get(1)?,
        size: r.get::<_, i64>(2)?.max(0) as u64,
        sha256: r.get(3)?,
        created: Timestamp::from_nanos(r.get(4)?),
        status: Status::parse(&status).unwrap_or(Status::Failed),
        error: r.get(6)?,
        summary: summary.and_then(|s| serde_json::from_str(&s).ok()),
    };
    Ok((id_text, meta))
}

const META_COLUMNS: &str = "id, name, size, sha256, created_ns, status, error, summary";

/// At startup: marks the uploads of `table` whose work was interrupted, or
/// was done by an older version (`version_column` below `version`), for a
/// re-run, and returns every queued one, oldest first.
pub(crate) fn requeue_unfinished<K: super::IdKind>(
    conn: &Connection,
    table: &str,
    version_column: &str,
    version: i64,
) -> Result<Vec<super::Id<K>>> {
    conn.execute(
        &format!(
            "UPDATE {table} SET status = 'queued' WHERE status = 'analyzing'
                OR (status = 'done' AND {version_column} < ?1)"
        ),
        params![version],
    )?;
    let mut stmt = conn.prepare(&format!(
        "SELECT id FROM {table} WHERE status = 'queued' ORDER BY created_ns"
    ))?;
    let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let mut out = Vec::new();
    for id in ids {
        if let Ok(id) = id?.parse() {
            out.push(id);
        }
    }
    Ok(out)
}

/// Counts bytes read from a stored upload, for progress.
pub(crate) struct Counting<R> {
    pub(crate) inner: R,
    pub(crate) count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// The inflated bytes of an upload went past `--max-capture`: the read
/// error a [`Capped`] reader fails with, found again by [`InflationCap::find`].
#[derive(Debug, thiserror::Error)]
pub enum InflationCap {
    #[error("the upload inflates past the --max-capture limit of {limit} bytes (gzip bomb?)")]
    Limit { limit: u64 },
    /// The decompressed copy would leave less than the disk floor free
    /// ([`crate::capture::Space::floor`]); sizes in bytes.
    #[error(
        "disk full: {:.1} GB free, this upload needs about {:.1} GB",
        *free as f64 / 1e9,
        *needs as f64 / 1e9
    )]
    DiskFull { free: u64, needs: u64 },
}

impl InflationCap {
    /// The cap that stopped a read, anywhere in `e`'s chain of sources.
    pub(crate) fn find<'e>(e: &'e (dyn std::error::Error + 'static)) -> Option<&'e InflationCap> {
        let mut next = Some(e);
        while let Some(e) = next {
            if let Some(cap) = e.downcast_ref::<InflationCap>() {
                return Some(cap);
            }
            let inner = e
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref());
            if let Some(cap) = inner.and_then(|i| i.downcast_ref::<InflationCap>()) {
                return Some(cap);
            }
            next = e.source();
        }
        None
    }
}

/// Passes on at most `limit` inflated bytes, counted in `inflated` (shared
/// by the files of one upload); one more fails the read with
/// [`InflationCap`], so whatever is written from it stops there too.
pub(crate) struct Capped<R> {
    pub(crate) inner: R,
    pub(crate) inflated: Arc<AtomicU64>,
    pub(crate) limit: u64,
    /// Where the inflated copy is written, checked as it grows.
    pub(crate) room: Option<Room>,
}

/// Inflated bytes between two looks at the free space.
const ROOM_CHECK_EVERY: u64 = 64 << 20;

/// The free-space check of a decompressed copy: every
/// [`ROOM_CHECK_EVERY`] inflated bytes, the file system of `dir` must keep
/// its floor free, or the read fails with [`InflationCap::DiskFull`].
pub(crate) struct Room {
    pub(crate) dir: PathBuf,
    /// Compressed bytes read so far, and in all: the inflation so far,
    /// scaled to the whole upload, estimates what the copy will need.
    pub(crate) consumed: Arc<AtomicU64>,
    pub(crate) compressed: u64,
    pub(crate) next_check: u64,
}

impl Room {
    fn check(&mut self, inflated: u64) -> std::io::Result<()> {
        if inflated < self.next_check {
            return Ok(());
        }
        self.next_check = inflated + ROOM_CHECK_EVERY;
        let Ok(space) = crate::capture::free_space(&self.dir) else {
            return Ok(()); // Unknown: a failing write still says so.
        };
        let consumed = self.consumed.load(Ordering::Relaxed);
        match short_of_room(space, inflated, consumed, self.compressed) {
            Some(needs) => Err(std::io::Error::other(InflationCap::DiskFull {
                free: space.avail,
                needs,
            })),
            None => Ok(()),
        }
    }
}

/// The bytes a decompressed copy still needs (estimated from the ratio so
/// far), if `space` cannot take the next stretch of it above its floor.
fn short_of_room(
    space: crate::capture::Space,
    inflated: u64,
    consumed: u64,
    compressed: u64,
) -> Option<u64> {
    let ratio = inflated as f64 / consumed.max(1) as f64;
    let needs = (compressed.saturating_sub(consumed) as f64 * ratio) as u64;
    let next = needs.min(ROOM_CHECK_EVERY);
    (space.avail < space.floor().saturating_add(next)).then_some(needs)
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let left = self
            .limit
            .saturating_sub(self.inflated.load(Ordering::Relaxed));
        // One byte past the limit tells "exactly at the limit" from "over".
        let want = buf.len().min(
            usize::try_from(left)
                .unwrap_or(usize::MAX)
                .saturating_add(1),
        );
        let n = self.inner.read(&mut buf[..want])?;
        let total = self.inflated.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        if total > self.limit {
            return Err(std::io::Error::other(InflationCap::Limit {
                limit: self.limit,
            }));
        }
        if let Some(room) = self.room.as_mut() {
            room.check(total)?;
        }
        Ok(n)
    }
}

/// Copies every byte read to a file; at the end of the input, flushes and
/// syncs it and sets `complete`.
struct Tee<R> {
    inner: R,
    out: Option<BufWriter<File>>,
    complete: Arc<AtomicBool>,
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n == 0 {
            if let Some(out) = self.out.take() {
                let file = out.into_inner().map_err(|e| e.into_error())?;
                file.sync_all()?;
                self.complete.store(true, Ordering::SeqCst);
            }
        } else if let Some(out) = self.out.as_mut() {
            out.write_all(&buf[..n])?;
        }
        Ok(n)
    }
}

fn remove_if_exists(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io_err(format!("removing {}", path.display()))(e)),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the data directory at `root`, brings its
    /// schema up to date and clears what an interrupted run left behind:
    /// staged uploads, half-written results, directories of deleted captures.
    pub fn open(root: &Path) -> Result<SqliteStore> {
        for dir in ["staging", "captures"] {
            std::fs::create_dir_all(root.join(dir))
                .map_err(io_err(format!("creating {}", root.join(dir).display())))?;
        }
        let mut conn = Connection::open(root.join("tracedeck.db"))?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;",
        )?;
        schema::migrate(&mut conn)?;
        let store = SqliteStore {
            inner: Arc::new(Inner {
                root: root.to_path_buf(),
                index: Mutex::new(conn),
                readers: Mutex::new(ReadPool::default()),
                cancels: Mutex::new(HashMap::new()),
                max_capture: AtomicU64::new(u64::MAX),
                max_results: AtomicU64::new(MAX_RESULT_ROWS),
            }),
        };
        store.clean()?;
        Ok(store)
    }

    /// Caps what a gzip upload may inflate to (README, "Limits"); past it
    /// the analysis fails with [`InflationCap`]. Unlimited until set.
    pub fn set_max_capture(&self, bytes: u64) {
        self.inner.max_capture.store(bytes, Ordering::Relaxed);
    }

    /// Sets the cap on result rows per capture (`--max-results`; default
    /// [`MAX_RESULT_ROWS`]).
    pub fn set_max_results(&self, rows: u64) {
        self.inner.max_results.store(rows, Ordering::Relaxed);
    }

    fn clean(&self) -> Result<()> {
        let staging = self.inner.root.join("staging");
        if let Ok(entries) = std::fs::read_dir(&staging) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
        let known: std::collections::HashSet<String> = {
            let conn = lock(&self.inner.index);
            let mut stmt = conn.prepare("SELECT id FROM captures")?;
            let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
            ids.collect::<rusqlite::Result<_>>()?
        };
        let captures = self.inner.root.join("captures");
        if let Ok(entries) = std::fs::read_dir(&captures) {
            for e in entries.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !known.contains(&name) {
                    let _ = std::fs::remove_dir_all(e.path());
                    continue;
                }
                for tmp in ["results.db.tmp", "capture.tmp"] {
                    let _ = std::fs::remove_file(e.path().join(tmp));
                }
            }
        }
        Ok(())
    }

    fn status_of(&self, id: &CaptureId) -> Result<Status> {
        let status: Option<String> = lock(&self.inner.index)
            .query_row(
                "SELECT status FROM captures WHERE id = ?1",
                params![id.to_string()],
                |r| r.get(0),
            )
            .optional()?;
        let status = status.ok_or_else(|| Error::NotFound(format!("capture {id}")))?;
        Ok(Status::parse(&status).unwrap_or(Status::Failed))
    }

    /// A read-only connection to the results database of a `done`
    /// capture, from the pool (a fresh one when none is idle): readers of
    /// one capture never wait for each other.
    fn results(&self, id: &CaptureId) -> Result<Reader<'_>> {
        let status = self.status_of(id)?;
        if status != Status::Done {
            return Err(Error::NotReady {
                upload: format!("{id:?}"),
                status,
            });
        }
        let (generation, idle) = lock(&self.inner.readers).take(id);
        let conn = match idle {
            Some(c) => c,
            None => {
                let path = self.inner.capture_dir(id).join("results.db");
                let conn = Connection::open_with_flags(
                    &path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                // In WAL mode a reader waits, rarely and briefly, for
                // another connection rebuilding the log's index or
                // checkpointing (the page indexes are added while it reads).
                conn.execute_batch(&format!(
                    "PRAGMA cache_size = -{READ_CACHE_KIB}; PRAGMA mmap_size = 0; \
                     PRAGMA busy_timeout = 2000;"
                ))?;
                conn
            }
        };
        Ok(Reader {
            watched: stop::watch(conn.get_interrupt_handle()),
            conn: Some(conn),
            id: *id,
            generation,
            pool: &self.inner.readers,
        })
    }

    fn conversation_proto(conn: &Connection, conv: u64) -> Result<Proto> {
        let proto: Option<String> = conn
            .query_row(
                "SELECT proto FROM conversations WHERE id = ?1",
                params![i64::try_from(conv).unwrap_or(-1)],
                |r| r.get(0),
            )
            .optional()?;
        let proto = proto.ok_or_else(|| Error::NotFound(format!("conversation {conv}")))?;
        Proto::parse(&proto)
            .ok_or_else(|| Error::Corrupt(format!("conversation {conv} has protocol {proto:?}")))
    }

    /// Calls `f` with each packet of the conversation in capture order,
    /// from its `from`th packet (0: the first) on, until it returns
    /// `Ok(false)`. Reads the records kept in the conversation's row, or
    /// seeks to the chunk holding packet `from`, so the work is what `f`
    /// takes, not what comes before: returns the packet records decoded.
    fn each_packet(
        conn: &Connection,
        conv: u64,
        from: u64,
        mut f: impl FnMut(&PacketInfo) -> Result<bool>,
    ) -> Result<u64> {
        let conv_key = i64::try_from(conv).unwrap_or(-1);
        let inline: Option<Option<Vec<u8>>> = conn
            .prepare_cached(&format!(
                "SELECT {PACKET_RECORDS} FROM conversations WHERE id = ?1"
            ))?
            .query_row(params![conv_key], |r| r.get(0))
            .optional()?;
        if let Some(Some(data)) = inline {
            let skip = usize::try_from(from)
                .unwrap_or(usize::MAX)
                .saturating_mul(packets::RECORD_LEN)
                .min(data.len());
            return Self::each_record(conv, from, &data[skip..], &mut f).map(|(n, _)| n);
        }
        let start: i64 = conn
            .prepare_cached(
                "SELECT first_packet FROM packet_chunks WHERE conversation = ?1 \
                 AND first_packet <= ?2 ORDER BY first_packet DESC LIMIT 1",
            )?
            .query_row(
                params![conv_key, i64::try_from(from).unwrap_or(i64::MAX)],
                |r| r.get(0),
            )
            .optional()?
            .unwrap_or(0);
        let mut stmt = conn.prepare_cached(
            "SELECT first_packet, data FROM packet_chunks WHERE conversation = ?1 \
             AND first_packet >= ?2 ORDER BY first_packet",
        )?;
        let mut rows = stmt.query(params![conv_key, start])?;
        let mut decoded = 0;
        while let Some(row) = rows.next()? {
            if stop::stopped() {
                return Err(Error::Stopped);
            }
            let first = u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0);
            let data = row
                .get_ref(1)?
                .as_blob()
                .map_err(|e| Error::Corrupt(format!("packet chunk: {e}")))?;
            let skip = usize::try_from(from.saturating_sub(first))
                .unwrap_or(usize::MAX)
                .saturating_mul(packets::RECORD_LEN)
                .min(data.len());
            let (n, more) = Self::each_record(conv, first, &data[skip..], &mut f)?;
            decoded += n;
            if !more {
                return Ok(decoded);
            }
        }
        Ok(decoded)
    }

    /// Calls `f` with each record of `data` (packets of conversation
    /// `conv` from its `first`th, for the error) until it returns
    /// `Ok(false)`: the records decoded, and whether `f` wants more.
    fn each_record(
        conv: u64,
        first: u64,
        data: &[u8],
        f: &mut impl FnMut(&PacketInfo) -> Result<bool>,
    ) -> Result<(u64, bool)> {
        let records = packets::decode(data).ok_or_else(|| {
            Error::Corrupt(format!(
                "packet records of conversation {conv} from packet {first}"
            ))
        })?;
        let mut decoded = 0;
        for p in records {
            decoded += 1;
            if !f(&p)? {
                return Ok((decoded, false));
            }
        }
        Ok((decoded, true))
    }

    /// [`Self::packet_page`] on a capture's results, for tests that check
    /// the work a page costs.
    #[cfg(test)]
    pub(crate) fn packet_page_work(
        &self,
        id: &CaptureId,
        conv: u64,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<PacketInfo>, u64)> {
        let conn = self.results(id)?;
        Self::packet_page(&conn, conv, limit, offset)
    }

    /// A page of the conversation's packets and the records decoded for it.
    fn packet_page(
        conn: &Connection,
        conv: u64,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<PacketInfo>, u64)> {
        let mut items = Vec::new();
        if limit == 0 {
            return Ok((items, 0));
        }
        let decoded = Self::each_packet(conn, conv, offset, |p| {
            items.push(*p);
            Ok(items.len() < limit as usize)
        })?;
        Ok((items, decoded))
    }
}

/// One sorted, filtered page of a results table, with the stored id of
/// each row. The page's ids are picked from an index first and the rows
/// fetched after, so a deep page reads only index pages; a page `after` a
/// cursor seeks to it ([`keyset`]) instead of counting `offset` rows.
fn list<R: report::Row>(conn: &Reader<'_>, q: &Query<R>) -> Result<Page<(u64, R)>> {
    list_with(conn, q, |sql, args| conn.total(sql, args))
}

/// [`list`], its row count from `count(sql, args)`. A set filter is read
/// as merged index seeks and a deep unfiltered page in stored order seeks
/// to its first id ([`page`]); the rows are fetched by id after.
fn list_with<R: report::Row>(
    conn: &Connection,
    q: &Query<R>,
    count: impl FnOnce(&str, &[Value]) -> Result<u64>,
) -> Result<Page<(u64, R)>> {
    let table = R::TABLE;
    let arms = page::Arms::of(conn, q)?;
    let mut args: Vec<Value> = Vec::new();
    let where_sql = match &arms {
        Some(_) => String::new(),
        None => tables::where_clause(q, &mut args),
    };
    let total = match &arms {
        Some(arms) => {
            let (sql, args) = arms.count_sql::<R>();
            count(&sql, &args)?
        }
        None => count(&format!("SELECT count(*) FROM {table} {where_sql}"), &args)?,
    };
    let order = tables::order_by(q.sort, q.order);
    // The ids of a page: those meeting the filter and `band`, a keyset
    // band whose placeholders number into `args`.
    let ids_of = |band: Option<&str>, mut args: Vec<Value>, limit: u32, offset: u64| {
        let sql = match &arms {
            Some(arms) => arms.ids_sql(q, band, &mut args, limit, offset),
            None => {
                let mut conds: Vec<String> = Vec::new();
                if !where_sql.is_empty() {
                    conds.push(where_sql.trim_start_matches("WHERE ").to_string());
                }
                conds.extend(band.map(str::to_string));
                let mut offset = offset;
                // In stored order: no sort column, or the row's own `id`.
                let stored_order = q.sort.column().is_none_or(|i| R::COLUMNS[i].name == "id");
                if conds.is_empty() && stored_order {
                    if let Some(seek) = page::gapless_seek(conn, table, total, q.order, offset)? {
                        conds.push(seek);
                        offset = 0;
                    }
                }
                let filter = if conds.is_empty() {
                    String::new()
                } else {
                    format!("WHERE {}", conds.join(" AND "))
                };
                args.push(Value::Integer(i64::from(limit)));
                args.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
                format!(
                    "SELECT id FROM {table} {filter} {order} LIMIT ?{} OFFSET ?{}",
                    args.len() - 1,
                    args.len()
                )
            }
        };
        let mut stmt = conn.prepare_cached(&sql)?;
        let ids = stmt.query_map(params_from_iter(args.iter()), |r| r.get::<_, i64>(0))?;
        let ids = ids.collect::<rusqlite::Result<Vec<i64>>>()?;
        page::fetch::<R>(conn, &ids)
    };
    let items = match &q.after {
        None => ids_of(None, args, q.limit, q.offset)?,
        Some(after) => {
            let value = match keyset::sort_value_sql(q.sort) {
                None => Some(Value::Null),
                Some(sql) => conn
                    .query_row(&sql, params![i64::try_from(*after).unwrap_or(-1)], |r| {
                        r.get::<_, Value>(0)
                    })
                    .optional()?,
            };
            // A row that is not there: nothing comes after it.
            let bands = value.map_or_else(Vec::new, |v| {
                keyset::bands(q.sort, q.order, *after, &v, &args)
            });
            let mut items = Vec::new();
            for (band, band_args) in bands {
                let left = q.limit.saturating_sub(items.len() as u32);
                if left == 0 {
                    break;
                }
                items.extend(ids_of(Some(&band), band_args, left, 0)?);
            }
            items
        }
    };
    Ok(Page { total, items })
}

impl SqliteStore {
    /// The ID of capture `id`'s analysis with `filter` (derived from both,
    /// so asking twice finds the same one), once `id` is a `done` upload;
    /// and `id` itself.
    fn filtered_id(&self, id: &CaptureId, filter: &str) -> Result<(CaptureId, CaptureMeta)> {
        use sha2::Digest;
        let parent = self.capture(id)?;
        if parent.status != Status::Done {
            return Err(Error::NotReady {
                upload: format!("{id:?}"),
                status: parent.status,
            });
        }
        if self.inner.view_of(id)?.is_some() {
            return Err(Error::NotFound(format!("capture {id}")));
        }
        let digest = sha2::Sha256::new()
            .chain_update(id.to_string())
            .chain_update([0u8])
            .chain_update(filter)
            .finalize();
        let mut bytes = [0u8; 16];
        bytes.copy_from_slice(&digest[..16]);
        Ok((CaptureId::from_bytes(bytes), parent))
    }
}

impl Store for SqliteStore {
    fn staging_path(&self) -> Result<PathBuf> {
        let name = CaptureId::random().map_err(io_err("random name"))?;
        Ok(self.inner.root.join("staging").join(format!("{name}.part")))
    }

    fn add_capture(&self, staged: &Path, new: NewCapture) -> Result<CaptureMeta> {
        let id = CaptureId::random().map_err(io_err("random id"))?;
        let dir = self.inner.capture_dir(&id);
        std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let file = if new.gzip { "upload.gz" } else { "capture" };
        std::fs::rename(staged, dir.join(file))
            .map_err(io_err(format!("storing upload in {}", dir.display())))?;
        let created = Timestamp::now();
        let inserted = lock(&self.inner.index).execute(
            "INSERT INTO captures (id, name, size, sha256, gzip, created_ns, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'queued')",
            params![
                id.to_string(),
                new.name,
                i64::try_from(new.size).unwrap_or(i64::MAX),
                new.sha256,
                new.gzip,
                created.as_nanos()
            ],
        );
        if let Err(e) = inserted {
            let _ = std::fs::remove_dir_all(&dir);
            return Err(e.into());
        }
        Ok(CaptureMeta {
            id,
            name: new.name,
            size: new.size,
            sha256: new.sha256,
            created,
            status: Status::Queued,
            error: None,
            summary: None,
        })
    }

    fn captures(&self, limit: u32, offset: u64) -> Result<Page<CaptureMeta>> {
        let conn = lock(&self.inner.index);
        let total: i64 = conn.query_row(
            "SELECT count(*) FROM captures WHERE parent IS NULL",
            [],
            |r| r.get(0),
        )?;
        let mut stmt = conn.prepare_cached(&format!(
            "SELECT {META_COLUMNS} FROM captures WHERE parent IS NULL
             ORDER BY created_ns DESC, id LIMIT ?1 OFFSET ?2"
        ))?;
        let rows = stmt.query_map(
            params![limit, i64::try_from(offset).unwrap_or(i64::MAX)],
            meta_from_row,
        )?;
        let items = rows
            .map(|r| r.map(|(_, m)| m))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Page {
            total: total as u64,
            items,
        })
    }

    fn capture(&self, id: &CaptureId) -> Result<CaptureMeta> {
        lock(&self.inner.index)
            .query_row(
                &format!("SELECT {META_COLUMNS} FROM captures WHERE id = ?1"),
                params![id.to_string()],
                meta_from_row,
            )
            .optional()?
            .map(|(_, m)| m)
            .ok_or_else(|| Error::NotFound(format!("capture {id}")))
    }

    fn delete_capture(&self, id: &CaptureId) -> Result<()> {
        let children: Vec<CaptureId> = {
            let conn = lock(&self.inner.index);
            let mut stmt = conn.prepare("SELECT id FROM captures WHERE parent = ?1")?;
            let ids = stmt.query_map(params![id.to_string()], |r| r.get::<_, String>(0))?;
            let ids = ids.collect::<rusqlite::Result<Vec<_>>>()?;
            let changed = conn.execute(
                "DELETE FROM captures WHERE id = ?1 OR parent = ?1",
                params![id.to_string()],
            )?;
            if changed == 0 {
                return Err(Error::NotFound(format!("capture {id}")));
            }
            ids.iter().filter_map(|s| s.parse().ok()).collect()
        };
        for child in &children {
            self.inner.forget(child)?;
        }
        self.inner.forget(id)
    }

    fn find_filtered(&self, id: &CaptureId, filter: &str) -> Result<Option<CaptureMeta>> {
        let (view, _) = self.filtered_id(id, filter)?;
        match self.capture(&view) {
            Ok(meta) => Ok(Some(meta)),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn parent_of(&self, id: &CaptureId) -> Result<Option<CaptureId>> {
        Ok(self.inner.view_of(id)?.map(|(parent, _)| parent))
    }

    fn filtered(&self, id: &CaptureId, filter: &str) -> Result<(CaptureMeta, bool)> {
        let (view, parent) = self.filtered_id(id, filter)?;
        if let Ok(meta) = self.capture(&view) {
            return Ok((meta, false));
        }
        let dir = self.inner.capture_dir(&view);
        std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
        let created = Timestamp::now();
        let (inserted, old) = {
            let conn = lock(&self.inner.index);
            let inserted = conn.execute(
                "INSERT OR IGNORE INTO captures
                    (id, name, size, sha256, gzip, created_ns, status, parent, filter)
                 VALUES (?1, ?2, ?3, ?4, 0, ?5, 'queued', ?6, ?7)",
                params![
                    view.to_string(),
                    parent.name,
                    i64::try_from(parent.size).unwrap_or(i64::MAX),
                    parent.sha256,
                    created.as_nanos(),
                    id.to_string(),
                    filter
                ],
            )?;
            let mut stmt = conn.prepare(
                "SELECT id FROM captures WHERE parent = ?1 ORDER BY created_ns DESC, id
                 LIMIT -1 OFFSET ?2",
            )?;
            let ids = stmt.query_map(params![id.to_string(), MAX_FILTERED_VIEWS as i64], |r| {
                r.get::<_, String>(0)
            })?;
            (
                inserted == 1,
                ids.collect::<rusqlite::Result<Vec<String>>>()?,
            )
        };
        for o in old.iter().filter_map(|s| s.parse::<CaptureId>().ok()) {
            lock(&self.inner.index)
                .execute("DELETE FROM captures WHERE id = ?1", params![o.to_string()])?;
            self.inner.forget(&o)?;
        }
        // Of two requests creating the same view at once, one inserts it:
        // only that one queues its analysis.
        Ok((self.capture(&view)?, inserted))
    }

    /// One index at a time, each in its own transaction; stops when the
    /// capture is deleted or its results replaced, or when the disk would
    /// fall under its floor ([`crate::capture::Space::floor`]).
    fn build_indexes(&self, id: &CaptureId) -> Result<IndexBuild> {
        if self.status_of(id)? != Status::Done {
            return Ok(IndexBuild::default());
        }
        let path = self.inner.capture_dir(id).join("results.db");
        let file = file_identity(&path)?;
        let go_on = || {
            matches!(self.status_of(id), Ok(Status::Done))
                && file_identity(&path).is_ok_and(|now| now == file)
        };
        let room = |need: u64| {
            crate::capture::free_space(&self.inner.root).map_or(true, |space| {
                space.avail >= space.floor().saturating_add(need)
            })
        };
        indexing::build_missing(&path, &go_on, &room)
    }

    fn unindexed(&self) -> Result<Vec<CaptureId>> {
        let done: Vec<String> = {
            let conn = lock(&self.inner.index);
            let mut stmt = conn.prepare(
                "SELECT id FROM captures WHERE status = 'done' ORDER BY created_ns DESC",
            )?;
            let ids = stmt.query_map([], |r| r.get::<_, String>(0))?;
            ids.collect::<rusqlite::Result<_>>()?
        };
        let mut lacking = Vec::new();
        for id in done.iter().filter_map(|s| s.parse::<CaptureId>().ok()) {
            let path = self.inner.capture_dir(&id).join("results.db");
            match indexing::lacks_indexes(&path) {
                Ok(false) => {}
                Ok(true) => lacking.push(id),
                // Busy or unreadable: the build looks again, and says why
                // if it cannot.
                Err(e) => {
                    tracing::debug!("capture {id}: checking its indexes: {e}");
                    lacking.push(id);
                }
            }
        }
        Ok(lacking)
    }

    fn recover(&self) -> Result<Vec<CaptureId>> {
        requeue_unfinished(
            &lock(&self.inner.index),
            "captures",
            "results_version",
            RESULTS_VERSION,
        )
    }

    fn begin_analysis(&self, id: &CaptureId) -> Result<Analysis> {
        let dir = self.inner.capture_dir(id);
        let changed = lock(&self.inner.index).execute(
            "UPDATE captures SET status = 'analyzing', error = NULL, summary = NULL
             WHERE id = ?1 AND status IN ('queued', 'analyzing')",
            params![id.to_string()],
        )?;
        if changed == 0 {
            return Err(Error::NotFound(format!("queued capture {id}")));
        }
        lock(&self.inner.readers).forget(id);
        let cancelled = Arc::new(AtomicBool::new(false));
        lock(&self.inner.cancels).insert(*id, cancelled.clone());
        let consumed = Arc::new(AtomicU64::new(0));
        let gz = dir.join("upload.gz");
        let view = self.inner.view_of(id)?;
        let (source, decompressed) = if let Some((parent, _)) = &view {
            std::fs::create_dir_all(&dir).map_err(io_err(format!("creating {}", dir.display())))?;
            (self.inner.capture_dir(parent).join("capture"), None)
        } else if gz.exists() {
            let tmp = dir.join("capture.tmp");
            remove_if_exists(&tmp)?;
            let out = File::create(&tmp).map_err(io_err("creating decompressed copy"))?;
            let complete = Arc::new(AtomicBool::new(false));
            (
                gz.clone(),
                Some((
                    BufWriter::with_capacity(1 << 20, out),
                    Decompressed {
                        tmp,
                        dest: dir.join("capture"),
                        upload: gz,
                        complete,
                    },
                )),
            )
        } else {
            (dir.join("capture"), None)
        };
        let file = File::open(&source).map_err(io_err("opening the stored capture"))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        // No buffer here: the capture reader reads ahead in large chunks
        // of its own, and the gzip decoder buffers its input itself.
        let counting = Counting {
            inner: file,
            count: consumed.clone(),
        };
        let (input, decompressed): (Box<dyn Read + Send>, _) = match decompressed {
            Some((out, d)) => (
                Box::new(Tee {
                    inner: Capped {
                        inner: flate2::read::MultiGzDecoder::new(counting),
                        inflated: Arc::new(AtomicU64::new(0)),
                        limit: self.inner.max_capture.load(Ordering::Relaxed),
                        room: Some(Room {
                            dir: dir.clone(),
                            consumed: consumed.clone(),
                            compressed: size,
                            next_check: 0,
                        }),
                    },
                    out: Some(out),
                    complete: d.complete.clone(),
                }),
                Some(d),
            ),
            None => (Box::new(counting), None),
        };
        let writer = SqliteResults::create(
            self.inner.clone(),
            *id,
            dir.join("results.db.tmp"),
            dir.join("results.db"),
            cancelled,
            decompressed,
        )?;
        Ok(Analysis {
            input,
            size,
            consumed,
            writer: Box::new(writer),
            parent: view.as_ref().map(|(p, _)| *p),
            filter: view.map(|(_, f)| f),
        })
    }

    fn reanalyze(&self, id: &CaptureId) -> Result<()> {
        let changed = lock(&self.inner.index).execute(
            "UPDATE captures SET status = 'queued', error = NULL
             WHERE id = ?1 AND parent IS NULL AND status IN ('done', 'failed')",
            params![id.to_string()],
        )?;
        if changed == 0 {
            if self.inner.view_of(id)?.is_some() {
                return Err(Error::NotFound(format!("capture {id}")));
            }
            return Err(Error::NotReady {
                upload: format!("capture {id}"),
                status: self.status_of(id)?,
            });
        }
        let views: Vec<CaptureId> = {
            let conn = lock(&self.inner.index);
            let mut stmt = conn.prepare("SELECT id FROM captures WHERE parent = ?1")?;
            let ids = stmt.query_map(params![id.to_string()], |r| r.get::<_, String>(0))?;
            let ids = ids.collect::<rusqlite::Result<Vec<_>>>()?;
            conn.execute(
                "DELETE FROM captures WHERE parent = ?1",
                params![id.to_string()],
            )?;
            ids.iter().filter_map(|s| s.parse().ok()).collect()
        };
        for view in &views {
            self.inner.forget(view)?;
        }
        lock(&self.inner.readers).forget(id);
        Ok(())
    }

    fn fail(&self, id: &CaptureId, message: &str) -> Result<()> {
        lock(&self.inner.cancels).remove(id);
        lock(&self.inner.index).execute(
            "UPDATE captures SET status = 'failed', error = ?2, summary = NULL WHERE id = ?1",
            params![id.to_string(), message],
        )?;
        Ok(())
    }

    fn conversations(&self, id: &CaptureId, q: &ConvQuery) -> Result<Page<ConversationRow>> {
        let conn = self.results(id)?;
        let page = list(&conn, q)?;
        Ok(Page {
            total: page.total,
            items: page.items.into_iter().map(|(_, r)| r).collect(),
        })
    }

    fn conversation(&self, id: &CaptureId, conv: u64) -> Result<ConversationRow> {
        let conn = self.results(id)?;
        conn.query_row(
            &format!(
                "SELECT {} FROM conversations WHERE id = ?1",
                tables::select_list::<ConversationRow>()
            ),
            params![i64::try_from(conv).unwrap_or(-1)],
            tables::read::<ConversationRow>,
        )
        .optional()?
        .map(|(_, r)| r)
        .ok_or_else(|| Error::NotFound(format!("conversation {conv}")))
    }

    fn exchanges(&self, id: &CaptureId, q: &HttpQuery) -> Result<Page<ExchangeRow>> {
        let conn = self.results(id)?;
        let page = list(&conn, q)?;
        Ok(Page {
            total: page.total,
            items: page
                .items
                .into_iter()
                .map(|(id, row)| ExchangeRow { id, row })
                .collect(),
        })
    }

    fn dns(&self, id: &CaptureId, q: &DnsQuery) -> Result<Page<DnsLookupRow>> {
        let conn = self.results(id)?;
        let page = list(&conn, q)?;
        Ok(Page {
            total: page.total,
            items: page
                .items
                .into_iter()
                .map(|(id, row)| DnsLookupRow { id, row })
                .collect(),
        })
    }

    fn endpoints(
        &self,
        id: &CaptureId,
        q: &crate::analysis::report::EndpointQuery,
    ) -> Result<Page<crate::analysis::report::EndpointRow>> {
        let conn = self.results(id)?;
        let page = list(&conn, q)?;
        Ok(Page {
            total: page.total,
            items: page.items.into_iter().map(|(_, r)| r).collect(),
        })
    }

    fn endpoint_timeline(&self, id: &CaptureId) -> Result<crate::analysis::endpoints::Timeline> {
        let conn = self.results(id)?;
        super::endpoints::read_timeline(&conn)
    }

    fn compare_digest(&self, id: &CaptureId) -> Result<crate::analysis::diff::Digest> {
        let conn = self.results(id)?;
        super::endpoints::read_digest(&conn)
    }

    fn each_exchange(
        &self,
        id: &CaptureId,
        f: &mut dyn FnMut(&crate::analysis::report::ExchangeRow),
    ) -> Result<()> {
        let conn = self.results(id)?;
        super::endpoints::each_exchange(&conn, f)
    }

    fn packets(
        &self,
        id: &CaptureId,
        conv: u64,
        limit: u32,
        offset: u64,
    ) -> Result<Page<PacketInfo>> {
        let conn = self.results(id)?;
        let total: Option<i64> = conn
            .query_row(
                "SELECT packets FROM conversations WHERE id = ?1",
                params![i64::try_from(conv).unwrap_or(-1)],
                |r| r.get(0),
            )
            .optional()?;
        let total = total.ok_or_else(|| Error::NotFound(format!("conversation {conv}")))?;
        let (items, _) = Self::packet_page(&conn, conv, limit, offset)?;
        Ok(Page {
            total: total.max(0) as u64,
            items,
        })
    }

    fn capture_file(&self, id: &CaptureId) -> Result<PathBuf> {
        self.inner.capture_file(id)
    }

    fn each_packet(
        &self,
        id: &CaptureId,
        conv: u64,
        from: u64,
        f: &mut dyn FnMut(&PacketInfo) -> bool,
    ) -> Result<Proto> {
        let conn = self.results(id)?;
        let proto = Self::conversation_proto(&conn, conv)?;
        Self::each_packet(&conn, conv, from, |p| Ok(f(p)))?;
        Ok(proto)
    }
}

#[cfg(test)]
mod read_pool_test {
    use super::*;

    fn conn() -> Connection {
        Connection::open_in_memory().unwrap()
    }

    #[test]
    fn connections_come_back_unless_the_results_changed() {
        let id: CaptureId = "0123456789abcdef0123456789abcdef".parse().unwrap();
        let mut pool = ReadPool::default();
        let (g, idle) = pool.take(&id);
        assert!(idle.is_none());
        pool.give_back(&id, g, conn());
        pool.give_back(&id, g, conn());
        // Two readers at once each get a connection of their own.
        assert!(pool.take(&id).1.is_some());
        assert!(pool.take(&id).1.is_some());
        assert!(pool.take(&id).1.is_none());
        // Results re-made: a connection to the old file is not taken back.
        pool.forget(&id);
        let (g2, _) = pool.take(&id);
        assert_ne!(g, g2);
        pool.give_back(&id, g, conn());
        assert!(pool.take(&id).1.is_none());
        for _ in 0..IDLE_PER_CAPTURE + 3 {
            pool.give_back(&id, g2, conn());
        }
        let kept = std::iter::from_fn(|| pool.take(&id).1).count();
        assert_eq!(kept, IDLE_PER_CAPTURE);
    }
}

#[cfg(test)]
mod room_test {
    use super::*;
    use crate::capture::Space;

    const GB: u64 = 1_000_000_000;

    #[test]
    fn a_copy_that_would_eat_the_floor_stops_with_its_estimate() {
        let roomy = Space {
            avail: 50 * GB,
            total: 100 * GB,
        };
        // 1 GB read of 2 GB, inflated 10x so far: 10 GB more to come.
        assert_eq!(short_of_room(roomy, 10 * GB, GB, 2 * GB), None);
        let tight = Space {
            avail: (1 << 30) + (32 << 20),
            total: 100 * GB,
        };
        assert_eq!(short_of_room(tight, 10 * GB, GB, 2 * GB), Some(10 * GB));
        // The last stretch: only what is left must fit above the floor.
        assert_eq!(short_of_room(tight, 10 * GB, 2 * GB - 1000, 2 * GB), None);
        let message = InflationCap::DiskFull {
            free: 1_500_000_000,
            needs: 10 * GB,
        }
        .to_string();
        assert_eq!(
            message,
            "disk full: 1.5 GB free, this upload needs about 10.0 GB"
        );
    }
}

#[cfg(test)]
mod keyset_test {
    use super::*;
    use crate::analysis::report::{HttpQuery, Order, SortKey};
    use crate::time::Span;

    /// Exchanges with repeated and missing values in every sorted column.
    pub(super) fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&tables::ddl::<report::ExchangeRow>())
            .unwrap();
        tables::create_indexes(&conn, &tables::indexes::<report::ExchangeRow>()).unwrap();
        let sql = tables::insert_sql::<report::ExchangeRow>();
        for i in 0..97u64 {
            let row = report::ExchangeRow {
                client: format!("10.0.{}.{}:{}", i % 3, i % 7, 1000 + i % 5)
                    .parse()
                    .unwrap(),
                status: (i % 4 != 0).then_some([200, 404, 503][(i % 3) as usize]),
                total_time: (i % 5 != 0).then(|| Span::from_nanos((i % 6) as i64 * 1000)),
                host: (i % 2 == 0).then(|| format!("h{}", i % 4)),
                response_body_bytes: i % 8,
                ..report::ExchangeRow::default()
            };
            tables::insert(&conn, &sql, &row, Some(i)).unwrap();
        }
        conn
    }

    fn page(conn: &Connection, q: &HttpQuery) -> Vec<u64> {
        list_with(conn, q, |sql, args| {
            Ok(conn.query_row(sql, params_from_iter(args.iter()), |r| r.get::<_, i64>(0))? as u64)
        })
        .unwrap()
        .items
        .into_iter()
        .map(|(id, _)| id)
        .collect()
    }

    #[test]
    fn walking_after_cursors_reads_the_same_rows_as_one_page() {
        let conn = table();
        for sort in [
            "id",
            "total_time",
            "status",
            "host",
            "client",
            "response_body_bytes",
        ] {
            for order in [Order::Asc, Order::Desc] {
                for status in [None, Some("5xx,none")] {
                    let mut q = HttpQuery::sorted(SortKey::of(sort), 10_000)
                        .with_filters(|k| (k == "status").then_some(status).flatten())
                        .unwrap();
                    q.order = order;
                    let all = page(&conn, &q);
                    assert!(all.len() > 20, "{sort}");
                    let mut walked = Vec::new();
                    q.limit = 4;
                    loop {
                        let rows = list_with(&conn, &q, |_, _| Ok(0)).unwrap().items;
                        let Some((id, _)) = rows.last() else { break };
                        q.after = Some(*id);
                        walked.extend(rows.iter().map(|(id, _)| *id));
                        assert!(walked.len() <= all.len(), "{sort} {order:?}: no end");
                    }
                    assert_eq!(walked, all, "{sort} {order:?} {status:?}");
                }
            }
        }
    }

    #[test]
    fn a_page_after_a_cursor_seeks_in_an_index() {
        let conn = table();
        let q = HttpQuery::sorted(SortKey::of("total_time"), 10);
        let mut args = Vec::new();
        let _ = tables::where_clause(&q, &mut args);
        for (band, band_args) in keyset::bands(q.sort, q.order, 40, &Value::Integer(3000), &args) {
            let plan: Vec<String> = conn
                .prepare(&format!(
                    "EXPLAIN QUERY PLAN SELECT id FROM http WHERE {band} {}",
                    tables::order_by(q.sort, q.order)
                ))
                .unwrap()
                .query_map(params_from_iter(band_args.iter()), |r| {
                    r.get::<_, String>(3)
                })
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            let plan = plan.join("; ");
            assert!(plan.contains("INDEX http_by_total_time"), "{band}: {plan}");
            assert!(plan.contains("(total_time"), "{band}: no seek: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{band}: sorts: {plan}");
        }
    }
}

#[cfg(test)]
mod page_test {
    use super::keyset_test::table;
    use super::*;
    use crate::analysis::report::{DnsRow, HttpQuery, Order, SortKey};

    /// The total and ids of the plain query: one WHERE, one ORDER BY.
    fn plain<R: report::Row>(conn: &Connection, q: &Query<R>) -> (u64, Vec<u64>) {
        let mut args = Vec::new();
        let w = tables::where_clause(q, &mut args);
        let table = R::TABLE;
        let total: i64 = conn
            .query_row(
                &format!("SELECT count(*) FROM {table} {w}"),
                params_from_iter(args.iter()),
                |r| r.get(0),
            )
            .unwrap();
        args.push(Value::Integer(i64::from(q.limit)));
        args.push(Value::Integer(q.offset as i64));
        let sql = format!(
            "SELECT id FROM {table} {w} {} LIMIT ?{} OFFSET ?{}",
            tables::order_by(q.sort, q.order),
            args.len() - 1,
            args.len()
        );
        let ids = conn
            .prepare(&sql)
            .unwrap()
            .query_map(params_from_iter(args.iter()), |r| r.get::<_, i64>(0))
            .unwrap()
            .map(|r| r.unwrap() as u64)
            .collect();
        (total as u64, ids)
    }

    fn paged<R: report::Row>(conn: &Connection, q: &Query<R>) -> (u64, Vec<u64>) {
        let page = list_with(conn, q, |sql, args| {
            Ok(conn.query_row(sql, params_from_iter(args.iter()), |r| r.get::<_, i64>(0))? as u64)
        })
        .unwrap();
        let ids = page.items.iter().map(|(id, _)| *id).collect();
        (page.total, ids)
    }

    #[test]
    fn set_filters_read_the_rows_of_the_plain_query() {
        let gapped = table();
        gapped
            .execute("DELETE FROM http WHERE id % 10 = 3", [])
            .unwrap();
        for conn in [table(), gapped] {
            for status in [
                None,
                Some("404,5xx,none"),
                Some("2xx"),
                Some("5xx"),
                Some("200,404"),
                Some("none"),
                Some("1xx"),
                Some("100-999"),
                Some("503,none,4xx,404"),
            ] {
                for sort in ["id", "total_time", "status", "host", "client"] {
                    for order in [Order::Asc, Order::Desc] {
                        for (limit, offset) in [(7, 0), (7, 5), (30, 20), (10, 85), (10, 200)] {
                            let mut q = HttpQuery::sorted(SortKey::of(sort), limit)
                                .with_filters(|k| (k == "status").then_some(status).flatten())
                                .unwrap();
                            q.order = order;
                            q.offset = offset;
                            assert_eq!(
                                paged(&conn, &q),
                                plain(&conn, &q),
                                "status={status:?} sort={sort} {order:?} {limit}@{offset}"
                            );
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn deep_pages_in_stored_order_read_the_rows_of_the_plain_query() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&tables::ddl::<ConversationRow>())
            .unwrap();
        let sql = tables::insert_sql::<ConversationRow>();
        for id in 3..80u64 {
            let row = ConversationRow {
                id,
                ..ConversationRow::example()
            };
            tables::insert(&conn, &sql, &row, None).unwrap();
        }
        for gap in [false, true] {
            if gap {
                conn.execute("DELETE FROM conversations WHERE id = 40", [])
                    .unwrap();
            }
            for order in [Order::Asc, Order::Desc] {
                for offset in [0, 1, 20, 75, 76, 77, 200] {
                    let mut q = report::ConvQuery::sorted(SortKey::of("id"), 10);
                    q.order = order;
                    q.offset = offset;
                    let page = list_with(&conn, &q, |sql, args| {
                        let n: i64 =
                            conn.query_row(sql, params_from_iter(args.iter()), |r| r.get(0))?;
                        Ok(n as u64)
                    })
                    .unwrap();
                    let ids: Vec<u64> = page.items.iter().map(|(_, r)| r.id).collect();
                    assert_eq!(ids, plain(&conn, &q).1, "gap {gap} {order:?} @{offset}");
                }
            }
        }
    }

    #[test]
    fn rcode_lists_read_the_rows_of_the_plain_query() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(&tables::ddl::<DnsRow>()).unwrap();
        tables::create_indexes(&conn, &tables::indexes::<DnsRow>()).unwrap();
        let sql = tables::insert_sql::<DnsRow>();
        for i in 0..61u64 {
            let row = DnsRow {
                rcode: [Some("NOERROR"), Some("NXDOMAIN"), None, Some("SERVFAIL")]
                    [(i % 4) as usize]
                    .map(str::to_string),
                qtype: ["A", "AAAA"][(i % 2) as usize].to_string(),
                ..DnsRow::default()
            };
            tables::insert(&conn, &sql, &row, Some(i)).unwrap();
        }
        for rcode in [
            "NXDOMAIN,none",
            "servfail,nxdomain,noerror",
            "none",
            "REFUSED,NXDOMAIN",
        ] {
            for sort in ["id", "rcode", "query_time"] {
                for order in [Order::Asc, Order::Desc] {
                    for (limit, offset) in [(5, 0), (9, 7), (50, 40)] {
                        let mut q = report::DnsQuery::sorted(SortKey::of(sort), limit)
                            .with_filters(|k| (k == "rcode").then_some(rcode))
                            .unwrap();
                        q.order = order;
                        q.offset = offset;
                        assert_eq!(paged(&conn, &q), plain(&conn, &q), "{rcode} {sort}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_set_filter_merges_ordered_index_seeks() {
        let conn = table();
        for (status, sort, index) in [
            ("404,5xx,none", "total_time", "http_by_status_total_time"),
            ("2xx", "total_time", "http_by_status_total_time"),
            ("404,5xx", "id", "http_by_status"),
        ] {
            let q = HttpQuery::sorted(SortKey::of(sort), 10)
                .with_filters(|k| (k == "status").then_some(status))
                .unwrap();
            let arms = page::Arms::of(&conn, &q).unwrap().expect("a set filter");
            let mut args = Vec::new();
            let sql = arms.ids_sql(&q, None, &mut args, 10, 0);
            let plan: Vec<String> = conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(3))
                .unwrap()
                .map(|r| r.unwrap())
                .collect();
            let plan = plan.join("; ");
            if status != "2xx" {
                assert!(plan.contains("MERGE"), "{status}: {plan}");
            }
            assert!(
                plan.contains(&format!("INDEX {index} ")),
                "{status}: {plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{status}: sorts: {plan}");
            assert!(args.len() <= page::MAX_ARMS + 2, "{status}");
        }
    }
}

#[cfg(test)]
mod result_cap_test {
    use super::*;
    use crate::analysis::{self, Options};

    #[test]
    fn an_analysis_past_the_row_cap_stops_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store.set_max_results(1000);
        let staged = store.staging_path().unwrap();
        let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-captures/nano.pcap");
        std::fs::copy(sample, &staged).unwrap();
        let meta = store
            .add_capture(
                &staged,
                NewCapture {
                    name: "nano.pcap".into(),
                    size: 1,
                    sha256: "0".repeat(64),
                    gzip: false,
                },
            )
            .unwrap();
        let mut work = store.begin_analysis(&meta.id).unwrap();
        let mut reader = crate::pcap::Reader::new(work.input).unwrap();
        let summary =
            analysis::analyze(&mut reader, &Options::default(), work.writer.as_mut()).unwrap();
        assert!(work.writer.progress(0, 0).unwrap(), "under the cap");
        for _ in 0..1000 {
            work.writer.exchange_row(&ExchangeRow::default());
        }
        assert!(!work.writer.progress(0, 0).unwrap(), "at the cap: stop");
        work.writer.commit(&summary).unwrap();
        let done = store.capture(&meta.id).unwrap();
        assert_eq!(done.status, Status::Done);
        let warnings = &done.summary.unwrap().capture.warnings;
        assert!(
            warnings
                .iter()
                .any(|w| w.contains("stopped at the cap of 1000 result rows")),
            "{warnings:?}"
        );
    }
}

#[cfg(test)]
mod indexing_test {
    use super::*;
    use crate::analysis::report::{Order, SortKey};
    use crate::analysis::{self, Options};

    /// A store with `sample` analyzed and its results committed.
    fn analyzed(dir: &Path, sample: &str) -> (SqliteStore, CaptureId) {
        let store = SqliteStore::open(dir).unwrap();
        let staged = store.staging_path().unwrap();
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("sample-captures")
            .join(sample);
        std::fs::copy(path, &staged).unwrap();
        let new = NewCapture {
            name: sample.into(),
            size: 1,
            sha256: "0".repeat(64),
            gzip: false,
        };
        let meta = store.add_capture(&staged, new).unwrap();
        analyze_again(&store, &meta.id);
        (store, meta.id)
    }

    fn analyze_again(store: &SqliteStore, id: &CaptureId) {
        let mut work = store.begin_analysis(id).unwrap();
        let mut reader = crate::pcap::Reader::new(work.input).unwrap();
        let opts = Options {
            packets: true,
            ..Options::default()
        };
        let summary = analysis::analyze(&mut reader, &opts, work.writer.as_mut()).unwrap();
        work.writer.commit(&summary).unwrap();
    }

    /// The conversations, each way of each indexed sort.
    fn pages(store: &SqliteStore, id: &CaptureId) -> Vec<Vec<ConversationRow>> {
        let mut all = Vec::new();
        for sort in [
            "client",
            "start",
            "duration",
            "packets",
            "bytes",
            "retransmissions",
        ] {
            for order in [Order::Asc, Order::Desc] {
                let mut q = ConvQuery::sorted(SortKey::of(sort), 1000);
                q.order = order;
                all.push(store.conversations(id, &q).unwrap().items);
            }
        }
        all
    }

    #[test]
    fn results_are_shown_before_their_page_indexes_and_read_the_same_after() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = analyzed(dir.path(), "api/http-loopback.pcap");
        assert_eq!(store.capture(&id).unwrap().status, Status::Done);
        assert_eq!(store.unindexed().unwrap(), vec![id]);
        let before = pages(&store, &id);
        let built = store.build_indexes(&id).unwrap();
        let all = schema::results_indexes().len();
        assert_eq!((built.made, built.left), (all, 0));
        assert!(store.unindexed().unwrap().is_empty());
        // A reader opened before the indexes reads the same rows after.
        assert_eq!(pages(&store, &id), before);
        let again = store.build_indexes(&id).unwrap();
        assert_eq!((again.made, again.left), (0, 0));
    }

    #[test]
    fn results_analyzed_again_never_read_the_old_ones_log() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = analyzed(dir.path(), "api/http-loopback.pcap");
        let results = store.inner.capture_dir(&id).join("results.db");
        // A log of the old file left by a crash midway through a build.
        let log = results.with_extension("db-wal");
        std::fs::write(&log, b"frames of the old results").unwrap();
        store.reanalyze(&id).unwrap();
        analyze_again(&store, &id);
        assert!(!log.exists());
        assert_eq!(store.unindexed().unwrap(), vec![id]);
        assert!(store.build_indexes(&id).unwrap().made > 0);
        assert!(!pages(&store, &id)[0].is_empty());
    }

    #[test]
    fn a_deleted_capture_is_not_indexed() {
        let dir = tempfile::tempdir().unwrap();
        let (store, id) = analyzed(dir.path(), "api/http-loopback.pcap");
        store.delete_capture(&id).unwrap();
        assert!(store.unindexed().unwrap().is_empty());
        assert!(matches!(store.build_indexes(&id), Err(Error::NotFound(_))));
    }
}
