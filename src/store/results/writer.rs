//! The thread that writes an analysis's rows into its results database,
//! so SQLite's inserts run beside the analysis instead of inside it.
//!
//! The analysis side ([`RowWriter`]) gathers rows into batches and hands
//! them over a bounded channel: at most [`BATCHES_IN_FLIGHT`] batches of at
//! most [`BATCH_ROWS`] rows or [`BATCH_BYTES`] bytes of packet chunks wait,
//! so a slow disk slows the analysis down instead of growing memory.
//! Written batches go back to the analysis side to be filled again, and
//! rows travel in them unboxed: no allocation and free per row or batch
//! (with mimalloc returning freed pages at once, those cost the writer a
//! tenth of its time on a capture of 3 M one-packet conversations).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use rusqlite::{params, Connection};

use super::super::endpoints::ENDPOINT_GROUP;
use super::super::schema::PACKET_RECORDS;
use super::super::{tables, Error, Result};
use crate::analysis::endpoints::GroupId;
use crate::analysis::report::{self, ConversationRow};

/// Rows in one batch, at most.
const BATCH_ROWS: usize = 1024;
/// Bytes of packet chunks in one batch, at most (about).
const BATCH_BYTES: usize = 1 << 20;
/// Batches handed over and not yet written, at most.
const BATCHES_IN_FLIGHT: usize = 8;

/// Rows for the writer thread, a vector per table, so each row is copied
/// at its own size (an enum of them moved every row at the size of the
/// largest, an HTTP exchange's). Rows are not boxed: a batch's vectors
/// are reused, so a row costs a copy, not an allocation.
#[derive(Default)]
struct Batch {
    /// Each with its packet records, when it keeps them in its row
    /// ([`super::super::schema::INLINE_RECORDS`]).
    conversations: Vec<(ConversationRow, Option<Vec<u8>>)>,
    /// Each with its id and its endpoint group (`http.endpoint_group`).
    exchanges: Vec<(u64, report::ExchangeRow, u32)>,
    dns: Vec<(u64, report::DnsRow)>,
    /// Conversation, its packet that comes first, packet records.
    chunks: Vec<(u64, u64, Vec<u8>)>,
    /// Bytes of packet records in the batch.
    bytes: usize,
}

impl Batch {
    fn rows(&self) -> usize {
        self.conversations.len() + self.exchanges.len() + self.dns.len() + self.chunks.len()
    }

    fn is_full(&self) -> bool {
        self.rows() >= BATCH_ROWS || self.bytes >= BATCH_BYTES
    }

    fn clear(&mut self) {
        self.conversations.clear();
        self.exchanges.clear();
        self.dns.clear();
        self.chunks.clear();
        self.bytes = 0;
    }
}

/// The analysis's side of the writer thread.
pub(super) struct RowWriter {
    batch: Batch,
    to_thread: Option<SyncSender<Batch>>,
    /// Written batches, empty, to fill again.
    written: Receiver<Batch>,
    thread: Option<JoinHandle<Result<Connection>>>,
    /// Tells the thread to stop writing (the results are abandoned).
    abandon: Arc<AtomicBool>,
}

impl RowWriter {
    /// Starts the thread; it writes into `conn`, inside the transaction the
    /// caller has begun.
    /// `label` names the capture in the log.
    pub(super) fn start(conn: Connection, label: String) -> Result<RowWriter> {
        let (to_thread, batches) = sync_channel(BATCHES_IN_FLIGHT);
        // At most the batches in flight, plus the one being written, come
        // back: unbounded in type only.
        let (give_back, written) = channel();
        let abandon = Arc::new(AtomicBool::new(false));
        let stop = abandon.clone();
        let thread = std::thread::Builder::new()
            .name("results-writer".into())
            .spawn(move || write_batches(conn, &batches, &give_back, &stop, &label))
            .map_err(|e| Error::Io {
                context: "starting the results writer thread".into(),
                source: e,
            })?;
        Ok(RowWriter {
            batch: Batch::default(),
            to_thread: Some(to_thread),
            written,
            thread: Some(thread),
            abandon,
        })
    }

    /// A conversation's row, with its packet records when it keeps them
    /// in the row.
    pub(super) fn conversation(
        &mut self,
        row: ConversationRow,
        records: Option<Vec<u8>>,
    ) -> Result<()> {
        self.batch.bytes += records.as_ref().map_or(0, Vec::len);
        self.batch.conversations.push((row, records));
        self.sent_if_full()
    }

    pub(super) fn exchange(
        &mut self,
        id: u64,
        row: report::ExchangeRow,
        group: GroupId,
    ) -> Result<()> {
        self.batch.exchanges.push((id, row, group.0));
        self.sent_if_full()
    }

    pub(super) fn dns(&mut self, id: u64, row: report::DnsRow) -> Result<()> {
        self.batch.dns.push((id, row));
        self.sent_if_full()
    }

    /// Packet records of a conversation, the first of them its
    /// `first_packet`th packet.
    pub(super) fn chunk(
        &mut self,
        conversation: u64,
        first_packet: u64,
        data: Vec<u8>,
    ) -> Result<()> {
        self.batch.bytes += data.len();
        self.batch.chunks.push((conversation, first_packet, data));
        self.sent_if_full()
    }

    fn sent_if_full(&mut self) -> Result<()> {
        if self.batch.is_full() {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<()> {
        let empty = self.written.try_recv().unwrap_or_default();
        let batch = std::mem::replace(&mut self.batch, empty);
        let sent = match &self.to_thread {
            Some(to_thread) => to_thread.send(batch).is_ok(),
            None => false,
        };
        if sent {
            Ok(())
        } else {
            // The thread has stopped: its result says why.
            Err(self.join().err().unwrap_or_else(|| {
                Error::Corrupt("the results writer stopped before the end".into())
            }))
        }
    }

    fn join(&mut self) -> Result<Connection> {
        self.to_thread = None;
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(Error::Corrupt("the results writer panicked".into()))),
            None => Err(Error::Corrupt("the results writer already stopped".into())),
        }
    }

    /// Writes what is left and gives the connection back, its transaction
    /// still open.
    pub(super) fn finish(mut self) -> Result<Connection> {
        if self.batch.rows() > 0 {
            self.send()?;
        }
        self.join()
    }
}

impl Drop for RowWriter {
    fn drop(&mut self) {
        if self.thread.is_some() {
            self.abandon.store(true, Ordering::Relaxed);
            let _ = self.join();
        }
    }
}

/// The thread's loop: every batch until the channel closes.
fn write_batches(
    conn: Connection,
    batches: &Receiver<Batch>,
    give_back: &Sender<Batch>,
    abandon: &AtomicBool,
    label: &str,
) -> Result<Connection> {
    write_all(&conn, batches, give_back, abandon, label)?;
    Ok(conn)
}

/// Writes every batch with statements prepared once (their lifetime is
/// the connection's borrow, so the connection goes back after).
fn write_all(
    conn: &Connection,
    batches: &Receiver<Batch>,
    give_back: &Sender<Batch>,
    abandon: &AtomicBool,
    label: &str,
) -> Result<()> {
    let mut conversation = conn.prepare(&tables::insert_sql_with::<ConversationRow>(&[
        PACKET_RECORDS,
    ]))?;
    let mut exchange = conn.prepare(&tables::insert_sql_with::<report::ExchangeRow>(&[
        ENDPOINT_GROUP,
    ]))?;
    let mut dns = conn.prepare(&tables::insert_sql::<report::DnsRow>())?;
    let mut chunk = conn.prepare(
        "INSERT INTO packet_chunks (conversation, first_packet, data) VALUES (?1, ?2, ?3)",
    )?;
    let cpu = thread_cpu_s();
    let mut waited = 0.0;
    loop {
        let t = std::time::Instant::now();
        let Ok(mut batch) = batches.recv() else { break };
        waited += t.elapsed().as_secs_f64();
        if abandon.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        for (row, records) in &batch.conversations {
            tables::insert_into(&mut conversation, row, None, &[records])?;
        }
        for (id, row, group) in &batch.exchanges {
            tables::insert_into(&mut exchange, row, Some(*id), &[&i64::from(*group)])?;
        }
        for (id, row) in &batch.dns {
            tables::insert_into(&mut dns, row, Some(*id), &[])?;
        }
        for (conversation, first_packet, data) in &batch.chunks {
            chunk.execute(params![
                report::table::int(*conversation),
                report::table::int(*first_packet),
                data
            ])?;
        }
        batch.clear();
        // The analysis side may have finished and gone: nothing to reuse.
        let _ = give_back.send(batch);
    }
    tracing::info!(
        "capture {label}: results writer CPU {:.3} s, waited for rows {waited:.3} s",
        thread_cpu_s() - cpu
    );
    Ok(())
}

/// CPU time this thread has used, seconds (Linux; 0 elsewhere).
fn thread_cpu_s() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e9)
}
