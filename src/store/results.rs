//! Writing one analysis's results: a fresh SQLite file filled inside one
//! transaction, then renamed into place; only then is the capture marked
//! `done`. A crash at any point leaves either the old state or the new
//! one, never half of the results. The file is left in WAL mode: the
//! pages' sort indexes are added to it afterwards, while it is read
//! ([`super::SqliteStore::build_indexes`]).
//!
//! Packets are buffered per conversation and written as packed chunks
//! ([`super::packets`]), each keyed by the place of its first packet in
//! the conversation (so a page of packets is one seek), or, for a
//! conversation of a few packets, in its own row; the buffers together
//! never exceed [`MAX_BUFFERED`], so memory stays bounded however many
//! packets a conversation has. The rows are written by a thread of their own
//! ([`writer`]), beside the analysis.

mod http_stats;
mod writer;

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use http_stats::HttpTally;
use rusqlite::{params, Connection};
use serde::Serialize;
use writer::RowWriter;

use super::schema::{results_tables, INLINE_RECORDS, RESULTS_VERSION};
use super::sqlite::Inner;
use super::{io_err, packets, CaptureId, Error, Result, ResultsWriter};
use crate::analysis::report::{self, CaptureDoc, CaptureRow, ConversationRow};
use crate::analysis::{CaptureSummary, Output, OutputError};
use crate::flow::{Conversation, PacketInfo};

/// Hashes conversation ids (small sequential integers) by themselves.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        // Spread the bits: hashbrown uses the top 7 bits as a tag.
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

type IdMap<V> = HashMap<u64, V, std::hash::BuildHasherDefault<IdHasher>>;

/// A conversation's packets are written once this many bytes are buffered.
const CHUNK_BYTES: usize = 64 * packets::RECORD_LEN * 16;
/// All conversations' buffered packets together, at most.
const MAX_BUFFERED: usize = 64 << 20;

/// One HTTP exchange as the API lists it: the `http` item of
/// `analyze --json` ([`report::ExchangeRow`], flattened) plus its `id`, the
/// exchange's place in the capture's results (pages link to it).
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct ExchangeRow {
    pub id: u64,
    #[serde(flatten)]
    pub row: report::ExchangeRow,
}

impl From<crate::analysis::HttpExchange> for ExchangeRow {
    fn from(h: crate::analysis::HttpExchange) -> Self {
        ExchangeRow {
            id: 0,
            row: report::ExchangeRow::from(h),
        }
    }
}

/// One DNS lookup as the API lists it: the `dns` item of `analyze --dns
/// --json` plus its `id`, its place in the capture's results.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct DnsLookupRow {
    pub id: u64,
    #[serde(flatten)]
    pub row: report::DnsRow,
}

/// Gzip uploads are decompressed while analyzed; this finishes the copy.
pub(crate) struct Decompressed {
    pub tmp: PathBuf,
    pub dest: PathBuf,
    pub upload: PathBuf,
    /// Set by the copying reader once every byte is written and synced.
    pub complete: Arc<AtomicBool>,
}

/// The SQLite [`ResultsWriter`].
pub(crate) struct SqliteResults {
    /// While the analysis runs: the writer thread, which owns the
    /// connection.
    rows: Option<RowWriter>,
    /// After the writer thread is done: the connection back, to finish.
    conn: Option<Connection>,
    id: CaptureId,
    tmp_path: PathBuf,
    final_path: PathBuf,
    inner: Arc<Inner>,
    /// Per live conversation: the place of the first buffered packet, and
    /// the buffered records.
    buffers: IdMap<(u64, Vec<u8>)>,
    buffered: usize,
    /// Per live conversation with chunks written: its packets written.
    written: IdMap<u64>,
    /// Conversations by how they ended (the summary's `ends`), counted as
    /// they are stored rather than by a scan at the end.
    ends: BTreeMap<String, u64>,
    error: Option<Error>,
    cancelled: Arc<AtomicBool>,
    decompressed: Option<Decompressed>,
    exchanges: u64,
    /// DNS lookups stored (each one's `id` is its arrival order).
    dns_rows: u64,
    /// The summary's HTTP counts of the exchanges stored so far.
    http: HttpTally,
    /// The endpoints and the comparison's digest of the rows stored so far.
    endpoints: crate::analysis::diff::Tallies,
    /// The most conversations, exchanges and lookups stored together.
    max_rows: u64,
    /// The analysis was stopped at `max_rows`.
    capped: bool,
}

impl SqliteResults {
    pub(crate) fn create(
        inner: Arc<Inner>,
        id: CaptureId,
        tmp_path: PathBuf,
        final_path: PathBuf,
        cancelled: Arc<AtomicBool>,
        decompressed: Option<Decompressed>,
    ) -> Result<SqliteResults> {
        match std::fs::remove_file(&tmp_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(format!("removing {}", tmp_path.display()))(e)),
        }
        let conn = Connection::open(&tmp_path)?;
        // Derived data, written once by one connection and renamed into
        // place only when complete: no journal, no syncs until the one at
        // the end, no file locking per statement. The page cache stays
        // small while rows go in, so their pages are written out on the
        // writer thread as it goes rather than all at the commit.
        conn.execute_batch(
            "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA page_size = 8192;
             PRAGMA locking_mode = EXCLUSIVE;",
        )?;
        conn.execute_batch(&results_tables())?;
        conn.execute_batch("BEGIN")?;
        Ok(SqliteResults {
            rows: Some(RowWriter::start(conn, id.to_string())?),
            conn: None,
            id,
            tmp_path,
            final_path,
            buffers: IdMap::default(),
            buffered: 0,
            written: IdMap::default(),
            ends: BTreeMap::new(),
            error: None,
            cancelled,
            decompressed,
            exchanges: 0,
            dns_rows: 0,
            endpoints: Default::default(),
            http: HttpTally::default(),
            max_rows: inner.max_results.load(Ordering::Relaxed),
            capped: false,
            inner,
        })
    }

    fn conn(&self) -> Result<&Connection> {
        self.conn
            .as_ref()
            .ok_or_else(|| Error::Corrupt("results database already closed".into()))
    }

    fn note(&mut self, r: Result<()>) {
        if let Err(e) = r {
            if self.error.is_none() {
                self.error = Some(e);
            }
        }
    }

    fn rows(&mut self) -> Result<&mut RowWriter> {
        self.rows
            .as_mut()
            .ok_or_else(|| Error::Corrupt("results database already closed".into()))
    }

    fn flush(&mut self, conv: u64) -> Result<()> {
        if let Some((first, data)) = self.buffers.remove(&conv) {
            self.buffered -= data.len();
            self.written
                .insert(conv, first + (data.len() / packets::RECORD_LEN) as u64);
            self.rows()?.chunk(conv, first, data)?;
        }
        Ok(())
    }

    fn flush_all(&mut self) -> Result<()> {
        let convs: Vec<u64> = self.buffers.keys().copied().collect();
        for conv in convs {
            self.flush(conv)?;
        }
        Ok(())
    }

    /// Stores a conversation that has ended, with its packets still
    /// buffered: in its own row when they are all there and few
    /// ([`INLINE_RECORDS`]), else as its last chunk.
    fn insert_conversation(&mut self, c: &Conversation) -> Result<()> {
        *self.ends.entry(c.state.as_str().to_string()).or_default() += 1;
        let row = ConversationRow::from(c);
        self.endpoints.conversation(&row);
        // A buffer starting at packet 0 holds every packet: none went out
        // in a chunk before.
        let inline = matches!(self.buffers.get(&c.id),
            Some((0, data)) if data.len() <= INLINE_RECORDS * packets::RECORD_LEN);
        let records = if inline {
            self.buffers.remove(&c.id).map(|(_, data)| {
                self.buffered -= data.len();
                data
            })
        } else {
            self.flush(c.id)?;
            None
        };
        self.written.remove(&c.id);
        self.rows()?.conversation(row, records)
    }

    fn insert_exchange(&mut self, row: report::ExchangeRow) -> Result<()> {
        let id = self.exchanges;
        self.exchanges += 1;
        self.http.add(&row);
        let group = self.endpoints.exchange(&row);
        self.rows()?.exchange(id, row, group)
    }

    fn finish(&mut self, summary: &CaptureSummary) -> Result<String> {
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let mut clock = PhaseClock::start();
        self.flush_all()?;
        if let Some(rows) = self.rows.take() {
            self.conn = Some(rows.finish()?);
        }
        clock.lap("last rows");
        let ends = std::mem::take(&mut self.ends);
        let endpoints = std::mem::take(&mut self.endpoints);
        let tally = std::mem::take(&mut self.http);
        let conn = self.conn()?;
        super::endpoints::write(conn, endpoints)?;
        clock.lap("endpoints");
        // The summary's sorts run in memory with a larger cache. The
        // pages' indexes follow once the results are shown
        // (`SqliteStore::build_indexes`).
        conn.execute_batch("PRAGMA cache_size = -65536;")?;
        let http = tally.finish(conn)?;
        clock.lap("HTTP stats");
        let mut capture = CaptureRow::from(summary);
        if self.decompressed.is_some() {
            capture.compressed = true;
        }
        if self.capped {
            capture.warnings.push(format!(
                "the analysis stopped at the cap of {} result rows (conversations, HTTP \
                 exchanges and DNS lookups) per capture: packets after {} are not analyzed",
                self.max_rows, summary.packets
            ));
        }
        let text = serde_json::to_string(&CaptureDoc {
            capture,
            http,
            ends,
        })
        .map_err(|e| Error::Corrupt(format!("summary: {e}")))?;
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('summary', ?1)",
            params![text],
        )?;
        conn.pragma_update(None, "user_version", RESULTS_VERSION)?;
        conn.execute_batch("COMMIT")?;
        // In WAL mode the pages' indexes can be added while readers read.
        let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::Corrupt(format!(
                "results database stays in journal mode {mode}, not WAL"
            )));
        }
        if let Some(conn) = self.conn.take() {
            conn.close().map_err(|(_, e)| Error::Sqlite(e))?;
        }
        clock.lap("commit");
        let file = File::open(&self.tmp_path).map_err(io_err("reopening results"))?;
        file.sync_all().map_err(io_err("syncing results"))?;
        clock.lap("sync");
        tracing::info!("capture {}: results stored: {}", self.id, clock.laps);
        if let Some(d) = &self.decompressed {
            if !d.complete.load(Ordering::SeqCst) {
                return Err(Error::Corrupt(
                    "the decompressed copy of the upload is incomplete".into(),
                ));
            }
            std::fs::rename(&d.tmp, &d.dest).map_err(io_err("storing decompressed capture"))?;
        }
        // The write-ahead log of results this replaces must not be read as
        // this file's (its frames are pages of the old one).
        for suffix in ["-wal", "-shm"] {
            let mut side = self.final_path.clone().into_os_string();
            side.push(suffix);
            match std::fs::remove_file(&side) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(format!("removing {side:?}"))(e)),
            }
        }
        std::fs::rename(&self.tmp_path, &self.final_path).map_err(io_err("storing results"))?;
        if let Some(parent) = self.final_path.parent() {
            if let Ok(dir) = File::open(parent) {
                let _ = dir.sync_all();
            }
        }
        if let Some(d) = &self.decompressed {
            let _ = std::fs::remove_file(&d.upload);
        }
        Ok(text)
    }
}

/// Times the steps of storing results, for the server log.
struct PhaseClock {
    at: std::time::Instant,
    laps: String,
}

impl PhaseClock {
    fn start() -> PhaseClock {
        PhaseClock {
            at: std::time::Instant::now(),
            laps: String::new(),
        }
    }

    fn lap(&mut self, what: &str) {
        let now = std::time::Instant::now();
        if !self.laps.is_empty() {
            self.laps.push_str(", ");
        }
        self.laps.push_str(&format!(
            "{what} {:.3} s",
            now.duration_since(self.at).as_secs_f64()
        ));
        self.at = now;
    }
}

impl Output for SqliteResults {
    fn conversation(&mut self, conv: &Conversation) -> std::result::Result<(), OutputError> {
        self.insert_conversation(conv)
            .map_err(|e| OutputError::new(format!("storing conversation {}", conv.id), e))
    }

    fn packet(
        &mut self,
        conv: &Conversation,
        packet: &PacketInfo,
    ) -> std::result::Result<(), OutputError> {
        let written = &self.written;
        let entry = self
            .buffers
            .entry(conv.id)
            .or_insert_with(|| (written.get(&conv.id).copied().unwrap_or(0), Vec::new()));
        let before = entry.1.len();
        packets::encode(packet, &mut entry.1);
        let full = entry.1.len() >= CHUNK_BYTES;
        self.buffered += entry.1.len() - before;
        let r = if full {
            self.flush(conv.id)
        } else if self.buffered > MAX_BUFFERED {
            self.flush_all()
        } else {
            Ok(())
        };
        r.map_err(|e| OutputError::new(format!("storing packets of conversation {}", conv.id), e))
    }

    fn exchange(
        &mut self,
        exchange: crate::analysis::HttpExchange,
    ) -> std::result::Result<(), OutputError> {
        let conversation = exchange.conversation;
        self.insert_exchange(report::ExchangeRow::from(exchange))
            .map_err(|e| {
                OutputError::new(
                    format!("storing an HTTP exchange of conversation {conversation}"),
                    e,
                )
            })
    }

    fn dns(&mut self, lookup: report::DnsRow) -> std::result::Result<(), OutputError> {
        // Stored in arrival order; the table's own `id` is that order.
        let id = self.dns_rows;
        self.dns_rows += 1;
        let conversation = lookup.conversation;
        let stored = self.rows().and_then(|rows| rows.dns(id, lookup));
        stored.map_err(|e| {
            OutputError::new(
                format!("storing a DNS lookup of conversation {conversation}"),
                e,
            )
        })
    }

    fn progress(&mut self, _bytes: u64, _records: u64) -> std::result::Result<bool, OutputError> {
        let conversations: u64 = self.ends.values().sum();
        if conversations + self.exchanges + self.dns_rows >= self.max_rows {
            self.capped = true;
        }
        Ok(self.error.is_none() && !self.cancelled.load(Ordering::Relaxed) && !self.capped)
    }
}

impl ResultsWriter for SqliteResults {
    fn exchange_row(&mut self, e: &ExchangeRow) {
        if self.error.is_some() {
            return;
        }
        let r = self.insert_exchange(e.row.clone());
        self.note(r);
    }

    fn commit(mut self: Box<Self>, summary: &CaptureSummary) -> Result<()> {
        let result = self.finish(summary);
        match result {
            Ok(text) => self.inner.mark_done(&self.id, &text),
            Err(e) => {
                self.rows = None;
                self.conn = None;
                let _ = std::fs::remove_file(&self.tmp_path);
                if let Some(d) = &self.decompressed {
                    let _ = std::fs::remove_file(&d.tmp);
                }
                Err(e)
            }
        }
    }
}

impl Drop for SqliteResults {
    fn drop(&mut self) {
        // Abandoned (error or cancel): leave no half-written file behind
        // (the writer thread is stopped first, so nothing writes after).
        let writing = self.rows.take().is_some();
        if self.conn.take().is_some() || writing {
            let _ = std::fs::remove_file(&self.tmp_path);
            if let Some(d) = &self.decompressed {
                let _ = std::fs::remove_file(&d.tmp);
            }
        }
    }
}
