//! `Spool`: the rows of `analyze --json`, serialized on a thread of their
//! own while the analysis runs, and written back in key order at the end.
//!
//! The analysis hands rows over in the order they finish; the document
//! wants them by id (conversations) or by request start (exchanges). This
//! is an external merge sort: serialized rows collect in memory up to
//! `MEMORY_LIMIT`, are then sorted and written as one run to an unnamed
//! temporary file, and at the end the runs and the rows still in memory
//! are merged, each run read front to back. Memory stays bounded however
//! many rows a capture has (a port scan makes millions of conversations).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::fs::FileExt;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use serde::Serialize;

/// Where a row goes: ordered by the first number, then the second; equal
/// keys keep the order the rows came in.
pub type Key = (i64, u64);

/// Serialized bytes held in memory before they go to the temporary file.
const MEMORY_LIMIT: usize = 16 << 20;
/// Serialized rows are kept in blocks of about this size.
const BLOCK: usize = 1 << 20;
/// Rows handed to the thread at a time.
const BATCH: usize = 256;
/// Batches waiting for the thread at most.
const QUEUED: usize = 16;
/// Read buffer per run while merging.
const RUN_BUFFER: usize = 64 << 10;
/// Bytes in front of each row in a run: its key and its length.
const ROW_HEADER: usize = 20;

/// Rows on their way to the document.
pub struct Spool<T> {
    batch: Vec<(Key, T)>,
    to_thread: Option<SyncSender<Vec<(Key, T)>>>,
    thread: JoinHandle<io::Result<Rows>>,
}

impl<T: Send + 'static> Spool<T> {
    /// Starts the serializing thread; `convert` turns a row into its JSON
    /// shape there.
    pub fn start<R, F>(convert: F) -> io::Result<Self>
    where
        R: Serialize,
        F: Fn(T) -> R + Send + 'static,
    {
        let (to_thread, from_spool) = mpsc::sync_channel(QUEUED);
        let thread = thread::Builder::new()
            .name("json-rows".into())
            .spawn(move || serialize_rows(from_spool, convert))?;
        Ok(Spool {
            batch: Vec::with_capacity(BATCH),
            to_thread: Some(to_thread),
            thread,
        })
    }

    /// Adds a row; its place in the output is the order of `key`. An
    /// error means the serializing thread stopped (`finish` says why).
    pub fn push(&mut self, key: Key, row: T) -> io::Result<()> {
        self.batch.push((key, row));
        if self.batch.len() == BATCH {
            self.send();
            if self.to_thread.is_none() {
                return Err(io::Error::other("the JSON serializing thread stopped"));
            }
        }
        Ok(())
    }

    fn send(&mut self) {
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        if let Some(to_thread) = &self.to_thread {
            // A failed send means the thread stopped on an error, which
            // `finish` reports.
            if to_thread.send(batch).is_err() {
                self.to_thread = None;
            }
        }
    }

    /// Waits for the thread and returns the rows, ready to be written.
    pub fn finish(mut self) -> io::Result<Rows> {
        if !self.batch.is_empty() {
            self.send();
        }
        drop(self.to_thread.take());
        let mut rows = self
            .thread
            .join()
            .map_err(|_| io::Error::other("the JSON serializing thread panicked"))??;
        rows.sort_memory();
        Ok(rows)
    }
}

/// One row in memory: its key and where its bytes are.
struct Entry {
    key: Key,
    block: u32,
    from: u32,
    len: u32,
}

/// Serialized rows: sorted runs in the temporary file, the rest in memory.
pub struct Rows {
    /// In memory: full blocks, then the one being filled. A row never
    /// straddles two.
    blocks: Vec<Vec<u8>>,
    index: Vec<Entry>,
    in_memory: usize,
    /// Emptied blocks, for reuse after a spill.
    spare: Vec<Vec<u8>>,
    file: Option<File>,
    /// Byte ranges of the runs in `file`, in the order they were written.
    runs: Vec<(u64, u64)>,
    spilled: u64,
}

impl Rows {
    fn new() -> Self {
        Rows {
            blocks: Vec::new(),
            index: Vec::new(),
            in_memory: 0,
            spare: Vec::new(),
            file: None,
            runs: Vec::new(),
            spilled: 0,
        }
    }

    /// Appends one serialized row.
    fn add(&mut self, key: Key, row: &impl Serialize) -> io::Result<()> {
        if self.blocks.last().is_none_or(|b| b.len() >= BLOCK) {
            let fresh = self
                .spare
                .pop()
                .unwrap_or_else(|| Vec::with_capacity(BLOCK + BLOCK / 4));
            self.blocks.push(fresh);
        }
        let block_no = self.blocks.len() - 1;
        let block = &mut self.blocks[block_no];
        let from = block.len();
        serde_json::to_writer(&mut *block, row)?;
        let len = block.len() - from;
        let (Ok(from), Ok(len), Ok(block_no)) = (
            u32::try_from(from),
            u32::try_from(len),
            u32::try_from(block_no),
        ) else {
            return Err(io::Error::other("a JSON row of over 4 GB"));
        };
        self.in_memory += len as usize;
        self.index.push(Entry {
            key,
            block: block_no,
            from,
            len,
        });
        if self.in_memory > MEMORY_LIMIT {
            self.spill()?;
        }
        Ok(())
    }

    fn bytes(&self, e: &Entry) -> &[u8] {
        let from = e.from as usize;
        &self.blocks[e.block as usize][from..from + e.len as usize]
    }

    fn sort_memory(&mut self) {
        // Stable: equal keys stay in arrival order.
        self.index.sort_by_key(|e| e.key);
    }

    /// Writes the rows in memory, sorted, as one run of the file.
    fn spill(&mut self) -> io::Result<()> {
        self.sort_memory();
        if self.file.is_none() {
            self.file = Some(temporary_file()?);
        }
        let start = self.spilled;
        if let Some(file) = &self.file {
            let mut out = BufWriter::with_capacity(RUN_BUFFER, file);
            for e in &self.index {
                let mut header = [0u8; ROW_HEADER];
                header[..8].copy_from_slice(&e.key.0.to_le_bytes());
                header[8..16].copy_from_slice(&e.key.1.to_le_bytes());
                header[16..].copy_from_slice(&e.len.to_le_bytes());
                out.write_all(&header)?;
                out.write_all(self.bytes(e))?;
                self.spilled += (ROW_HEADER + e.len as usize) as u64;
            }
            out.flush()?;
        }
        self.runs.push((start, self.spilled));
        self.index.clear();
        self.in_memory = 0;
        for mut block in self.blocks.drain(..) {
            block.clear();
            self.spare.push(block);
        }
        Ok(())
    }

    /// Writes the rows in key order as the elements of a JSON array
    /// (without brackets).
    pub fn write_to(&self, w: &mut dyn Write) -> io::Result<()> {
        self.write_where(w, &|_| true)
    }

    /// As [`Rows::write_to`], only the rows whose key passes `keep`.
    pub fn write_where(&self, w: &mut dyn Write, keep: &dyn Fn(Key) -> bool) -> io::Result<()> {
        let mut runs = Vec::with_capacity(self.runs.len());
        if let Some(file) = &self.file {
            for &(pos, end) in &self.runs {
                runs.push(RunReader::new(file, pos, end));
            }
        }
        // Sources: the runs in the order they were written, then memory;
        // on equal keys the earlier source wins, which keeps arrival order.
        let memory = runs.len();
        let mut next_in_memory = 0;
        let mut heads = BinaryHeap::new();
        for (i, run) in runs.iter_mut().enumerate() {
            if let Some(key) = run.advance()? {
                heads.push(Reverse((key, i)));
            }
        }
        if let Some(e) = self.index.first() {
            heads.push(Reverse((e.key, memory)));
        }
        let mut first = true;
        while let Some(Reverse((key, source))) = heads.pop() {
            let wanted = keep(key);
            if wanted && !first {
                w.write_all(b",")?;
            }
            first &= !wanted;
            if source == memory {
                if wanted {
                    w.write_all(self.bytes(&self.index[next_in_memory]))?;
                }
                next_in_memory += 1;
                if let Some(e) = self.index.get(next_in_memory) {
                    heads.push(Reverse((e.key, memory)));
                }
            } else {
                let run = &mut runs[source];
                if wanted {
                    w.write_all(&run.row)?;
                }
                if let Some(key) = run.advance()? {
                    heads.push(Reverse((key, source)));
                }
            }
        }
        Ok(())
    }
}

/// Reads one run of the temporary file front to back.
struct RunReader<'f> {
    input: BufReader<FileRange<'f>>,
    /// The row read last.
    row: Vec<u8>,
}

impl<'f> RunReader<'f> {
    fn new(file: &'f File, pos: u64, end: u64) -> Self {
        RunReader {
            input: BufReader::with_capacity(RUN_BUFFER, FileRange { file, pos, end }),
            row: Vec::new(),
        }
    }

    /// Reads the next row into `row` and returns its key; `None` at the
    /// end of the run.
    fn advance(&mut self) -> io::Result<Option<Key>> {
        let mut header = [0u8; ROW_HEADER];
        match self.input.read_exact(&mut header) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
        let word = |at: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&header[at..at + 8]);
            b
        };
        let key = (i64::from_le_bytes(word(0)), u64::from_le_bytes(word(8)));
        let mut len = [0u8; 4];
        len.copy_from_slice(&header[16..]);
        self.row.resize(u32::from_le_bytes(len) as usize, 0);
        self.input.read_exact(&mut self.row)?;
        Ok(Some(key))
    }
}

/// A byte range of a file, read by position (several runs of one file are
/// read at once, so no shared file offset).
struct FileRange<'f> {
    file: &'f File,
    pos: u64,
    end: u64,
}

impl Read for FileRange<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = (self.end - self.pos).min(buf.len() as u64) as usize;
        if want == 0 {
            return Ok(0);
        }
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

fn serialize_rows<T, R, F>(from_spool: Receiver<Vec<(Key, T)>>, convert: F) -> io::Result<Rows>
where
    R: Serialize,
    F: Fn(T) -> R,
{
    let mut rows = Rows::new();
    for batch in from_spool {
        for (key, row) in batch {
            rows.add(key, &convert(row))?;
        }
    }
    Ok(rows)
}

/// A file in the temporary directory that nobody else can open: it has
/// no name (or loses it at once), and vanishes when closed, however the
/// process ends.
fn temporary_file() -> io::Result<File> {
    tempfile::tempfile().map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "creating a temporary file in {}: {e}",
                std::env::temp_dir().display()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(rows: &Rows) -> String {
        let mut out = Vec::new();
        rows.write_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rows_come_back_in_key_order_equal_keys_in_arrival_order() {
        let mut spool = Spool::start(|s: &'static str| s).unwrap();
        for (key, row) in [(3, "c"), (1, "a1"), (2, "b"), (1, "a2"), (-5, "first")] {
            spool.push((key, 0), row).unwrap();
        }
        assert_eq!(
            written(&spool.finish().unwrap()),
            r#""first","a1","a2","b","c""#
        );
        let empty = Spool::<u8>::start(|n| n).unwrap().finish().unwrap();
        assert_eq!(written(&empty), "");
    }

    #[test]
    fn runs_spilled_to_the_file_merge_back_in_order() {
        // ~1 KB rows in a shuffled order: several runs spill, and equal
        // keys (every key twice) must keep their arrival order across runs.
        let n = 3 * MEMORY_LIMIT / 1000;
        let pad = "x".repeat(1000);
        let mut spool = Spool::start(|row: (u64, u32, String)| row).unwrap();
        for copy in 0..2u32 {
            for i in 0..n as u64 {
                let key = (i * 7919) % n as u64;
                spool
                    .push((key as i64, 0), (key, copy, pad.clone()))
                    .unwrap();
            }
        }
        let rows = spool.finish().unwrap();
        assert!(rows.runs.len() >= 4, "only {} runs", rows.runs.len());
        let text = format!("[{}]", written(&rows));
        let back: Vec<(u64, u32, String)> = serde_json::from_str(&text).unwrap();
        assert_eq!(back.len(), 2 * n);
        for (i, pair) in back.chunks(2).enumerate() {
            assert_eq!((pair[0].0, pair[0].1), (i as u64, 0));
            assert_eq!((pair[1].0, pair[1].1), (i as u64, 1));
        }
    }

    #[test]
    fn the_temporary_file_has_no_name_left() {
        use std::os::unix::fs::MetadataExt;
        let file = temporary_file().unwrap();
        assert_eq!(file.metadata().unwrap().nlink(), 0);
        file.write_all_at(b"run", 0).unwrap();
        let mut back = [0u8; 3];
        file.read_exact_at(&mut back, 0).unwrap();
        assert_eq!(&back, b"run");
    }
}
