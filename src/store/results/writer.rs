//! The thread that writes an analysis's rows into its results database,
//! so SQLite's inserts run beside the analysis instead of inside it.
//!
//! The analysis side ([`RowWriter`]) gathers rows into batches and hands
//! them over a bounded channel: at most [`BATCHES_IN_FLIGHT`] batches of at
//! most [`BATCH_ROWS`] rows or [`BATCH_BYTES`] bytes of packet chunks wait,
//! so a slow disk slows the analysis down instead of growing memory.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread::JoinHandle;

use rusqlite::{params, Connection};

use super::super::endpoints::ENDPOINT_GROUP;
use super::super::{tables, Error, Result};
use crate::analysis::endpoints::GroupId;
use crate::analysis::report::{self, ConversationRow};

/// Rows in one batch, at most.
const BATCH_ROWS: usize = 1024;
/// Bytes of packet chunks in one batch, at most (about).
const BATCH_BYTES: usize = 1 << 20;
/// Batches handed over and not yet written, at most.
const BATCHES_IN_FLIGHT: usize = 8;

/// One row for the writer thread.
enum Write {
    /// Rows are boxed: they are hundreds of bytes, a chunk's header is not.
    Conversation(Box<ConversationRow>),
    Exchange {
        id: u64,
        row: Box<report::ExchangeRow>,
        /// Its endpoint group (`http.endpoint_group`).
        group: u32,
    },
    Dns {
        id: u64,
        row: Box<report::DnsRow>,
    },
    Chunk {
        conversation: u64,
        first_packet: u64,
        data: Vec<u8>,
    },
}

/// The analysis's side of the writer thread.
pub(super) struct RowWriter {
    batch: Vec<Write>,
    batch_bytes: usize,
    to_thread: Option<SyncSender<Vec<Write>>>,
    thread: Option<JoinHandle<Result<Connection>>>,
    /// Tells the thread to stop writing (the results are abandoned).
    abandon: Arc<AtomicBool>,
}

impl RowWriter {
    /// Starts the thread; it writes into `conn`, inside the transaction the
    /// caller has begun.
    pub(super) fn start(conn: Connection) -> Result<RowWriter> {
        let (to_thread, batches) = sync_channel(BATCHES_IN_FLIGHT);
        let abandon = Arc::new(AtomicBool::new(false));
        let stop = abandon.clone();
        let thread = std::thread::Builder::new()
            .name("results-writer".into())
            .spawn(move || write_batches(conn, &batches, &stop))
            .map_err(|e| Error::Io {
                context: "starting the results writer thread".into(),
                source: e,
            })?;
        Ok(RowWriter {
            batch: Vec::with_capacity(BATCH_ROWS),
            batch_bytes: 0,
            to_thread: Some(to_thread),
            thread: Some(thread),
            abandon,
        })
    }

    pub(super) fn conversation(&mut self, row: ConversationRow) -> Result<()> {
        self.push(Write::Conversation(Box::new(row)), 0)
    }

    pub(super) fn exchange(
        &mut self,
        id: u64,
        row: report::ExchangeRow,
        group: GroupId,
    ) -> Result<()> {
        self.push(
            Write::Exchange {
                id,
                row: Box::new(row),
                group: group.0,
            },
            0,
        )
    }

    pub(super) fn dns(&mut self, id: u64, row: report::DnsRow) -> Result<()> {
        self.push(
            Write::Dns {
                id,
                row: Box::new(row),
            },
            0,
        )
    }

    /// Packet records of a conversation, the first of them its
    /// `first_packet`th packet.
    pub(super) fn chunk(
        &mut self,
        conversation: u64,
        first_packet: u64,
        data: Vec<u8>,
    ) -> Result<()> {
        let len = data.len();
        self.push(
            Write::Chunk {
                conversation,
                first_packet,
                data,
            },
            len,
        )
    }

    fn push(&mut self, write: Write, bytes: usize) -> Result<()> {
        self.batch.push(write);
        self.batch_bytes += bytes;
        if self.batch.len() >= BATCH_ROWS || self.batch_bytes >= BATCH_BYTES {
            self.send()?;
        }
        Ok(())
    }

    fn send(&mut self) -> Result<()> {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH_ROWS));
        self.batch_bytes = 0;
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
        if !self.batch.is_empty() {
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
    batches: &Receiver<Vec<Write>>,
    abandon: &AtomicBool,
) -> Result<Connection> {
    let conversation_sql = tables::insert_sql::<ConversationRow>();
    let exchange_sql = tables::insert_sql_with::<report::ExchangeRow>(&[ENDPOINT_GROUP]);
    let dns_sql = tables::insert_sql::<report::DnsRow>();
    while let Ok(batch) = batches.recv() {
        if abandon.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        for write in batch {
            match write {
                Write::Conversation(row) => tables::insert(&conn, &conversation_sql, &*row, None)?,
                Write::Exchange { id, row, group } => {
                    tables::insert_with(&conn, &exchange_sql, &*row, Some(id), &[i64::from(group)])?
                }
                Write::Dns { id, row } => tables::insert(&conn, &dns_sql, &*row, Some(id))?,
                Write::Chunk {
                    conversation,
                    first_packet,
                    data,
                } => {
                    conn.prepare_cached(
                        "INSERT INTO packet_chunks (conversation, first_packet, data) \
                         VALUES (?1, ?2, ?3)",
                    )?
                    .execute(params![
                        report::table::int(conversation),
                        report::table::int(first_packet),
                        data
                    ])?;
                }
            }
        }
    }
    Ok(conn)
}
