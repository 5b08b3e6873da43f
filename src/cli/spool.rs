//! `Spool`: the rows of `analyze --json`, serialized on a thread of their
//! own while the analysis runs, and written back in key order at the end.
//!
//! The analysis hands rows over in the order they finish; the document
//! wants them by id (conversations) or by request start (exchanges). The
//! serialized bytes stay in memory up to `MEMORY_LIMIT`, then go to an
//! unnamed temporary file, so a capture with millions of exchanges costs
//! disk, not memory: what stays in memory is a small index entry per row.

use std::fs::File;
use std::io::{self, Write};
use std::os::unix::fs::FileExt;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::{self, JoinHandle};

use serde::Serialize;

/// Serialized bytes held in memory before they go to the temporary file.
const MEMORY_LIMIT: usize = 32 << 20;
/// Serialized rows are kept in blocks of about this size.
const BLOCK: usize = 1 << 20;
/// Rows handed to the thread at a time.
const BATCH: usize = 256;
/// Batches waiting for the thread at most.
const QUEUED: usize = 16;

/// Rows on their way to the document.
pub struct Spool<K, T> {
    batch: Vec<(K, T)>,
    to_thread: Option<SyncSender<Vec<(K, T)>>>,
    thread: JoinHandle<io::Result<Rows<K>>>,
}

impl<K: Ord + Send + 'static, T: Send + 'static> Spool<K, T> {
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

    /// Adds a row; its place in the output is the order of `key` (rows
    /// with equal keys keep the order they came in).
    pub fn push(&mut self, key: K, row: T) {
        self.batch.push((key, row));
        if self.batch.len() == BATCH {
            self.send();
        }
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

    /// Waits for the thread and returns the rows, sorted.
    pub fn finish(mut self) -> io::Result<Rows<K>> {
        if !self.batch.is_empty() {
            self.send();
        }
        drop(self.to_thread.take());
        let mut rows = self
            .thread
            .join()
            .map_err(|_| io::Error::other("the JSON serializing thread panicked"))??;
        // Stable: equal keys stay in arrival order.
        rows.index.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(rows)
    }
}

struct Entry<K> {
    key: K,
    at: u64,
    len: usize,
}

/// Serialized rows: the first `spilled` bytes in the temporary file, the
/// rest in memory, in blocks (a growing `Vec` would briefly hold twice
/// its size, and copy it, each time it grows).
pub struct Rows<K> {
    index: Vec<Entry<K>>,
    file: Option<File>,
    spilled: u64,
    /// Full blocks, then the one being filled. A row never straddles two.
    blocks: Vec<Vec<u8>>,
    in_memory: usize,
    /// Emptied blocks, for reuse: freeing and allocating 32 MB at each
    /// spill would let some allocators hold both for a while.
    spare: Vec<Vec<u8>>,
}

impl<K> Rows<K> {
    fn new() -> Self {
        Rows {
            index: Vec::new(),
            file: None,
            spilled: 0,
            blocks: Vec::new(),
            in_memory: 0,
            spare: Vec::new(),
        }
    }

    /// Appends one serialized row.
    fn add(&mut self, key: K, row: &impl Serialize) -> io::Result<()> {
        let block = match self.blocks.last_mut() {
            Some(b) if b.len() < BLOCK => b,
            _ => {
                let fresh = self
                    .spare
                    .pop()
                    .unwrap_or_else(|| Vec::with_capacity(BLOCK + BLOCK / 4));
                self.blocks.push(fresh);
                self.blocks.last_mut().expect("just pushed")
            }
        };
        let from = block.len();
        serde_json::to_writer(&mut *block, row)?;
        let len = block.len() - from;
        let at = self.spilled + (self.in_memory + from) as u64;
        self.index.push(Entry { key, at, len });
        if block.len() >= BLOCK {
            self.in_memory += block.len();
            if self.in_memory > MEMORY_LIMIT {
                self.spill()?;
            }
        }
        Ok(())
    }

    /// Moves the full blocks to the temporary file.
    fn spill(&mut self) -> io::Result<()> {
        let file = match &mut self.file {
            Some(f) => f,
            None => self.file.insert(temporary_file()?),
        };
        for mut block in self.blocks.drain(..) {
            file.write_all(&block)?;
            self.spilled += block.len() as u64;
            block.clear();
            self.spare.push(block);
        }
        self.in_memory = 0;
        Ok(())
    }

    /// Writes the rows as the elements of a JSON array (without brackets).
    pub fn write_to(&self, w: &mut dyn Write) -> io::Result<()> {
        // Where each block starts, past the spilled bytes.
        let mut starts = Vec::with_capacity(self.blocks.len());
        let mut at = self.spilled;
        for b in &self.blocks {
            starts.push(at);
            at += b.len() as u64;
        }
        // Spilled rows come back through a window of the file: they are
        // nearly in file order already, so most are found in the last read.
        let mut window = Vec::new();
        let mut window_at = 0u64;
        for (i, e) in self.index.iter().enumerate() {
            if i > 0 {
                w.write_all(b",")?;
            }
            if e.at >= self.spilled {
                let n = starts.partition_point(|&s| s <= e.at) - 1;
                let from = (e.at - starts[n]) as usize;
                w.write_all(&self.blocks[n][from..from + e.len])?;
            } else if let Some(file) = &self.file {
                let end = e.at + e.len as u64;
                if e.at < window_at || end > window_at + window.len() as u64 {
                    let len = (self.spilled - e.at).min(BLOCK as u64).max(e.len as u64);
                    window.resize(len as usize, 0);
                    file.read_exact_at(&mut window, e.at)?;
                    window_at = e.at;
                }
                let from = (e.at - window_at) as usize;
                w.write_all(&window[from..from + e.len])?;
            }
        }
        Ok(())
    }
}

fn serialize_rows<K, T, R, F>(from_spool: Receiver<Vec<(K, T)>>, convert: F) -> io::Result<Rows<K>>
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

/// A file in the temporary directory that nobody else can open: it is
/// unlinked at once, and vanishes when closed, however the process ends.
fn temporary_file() -> io::Result<File> {
    let dir = std::env::temp_dir();
    for attempt in 0..100u32 {
        let path = dir.join(format!(
            "tracedeck-rows-{}-{attempt}-{:x}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        ));
        match File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => {
                std::fs::remove_file(&path)?;
                return Ok(file);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!("creating a temporary file in {}: {e}", dir.display()),
                ))
            }
        }
    }
    Err(io::Error::other(format!(
        "no free temporary file name in {}",
        dir.display()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written<K>(rows: &Rows<K>) -> String {
        let mut out = Vec::new();
        rows.write_to(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rows_come_back_in_key_order_equal_keys_in_arrival_order() {
        let mut spool = Spool::start(|s: &'static str| s).unwrap();
        for (key, row) in [(3, "c"), (1, "a1"), (2, "b"), (1, "a2")] {
            spool.push(key, row);
        }
        assert_eq!(written(&spool.finish().unwrap()), r#""a1","a2","b","c""#);
        let empty = Spool::<u8, u8>::start(|n| n).unwrap().finish().unwrap();
        assert_eq!(written(&empty), "");
    }

    #[test]
    fn rows_past_the_memory_limit_are_read_back_from_the_file() {
        // Rows of ~1 MiB each: the first ones land in the temporary file.
        let big = |n: u32| (n, "x".repeat(1 << 20));
        let mut spool = Spool::start(|row: (u32, String)| row).unwrap();
        let count = (MEMORY_LIMIT >> 20) as u32 + 8;
        for n in (0..count).rev() {
            spool.push(n, big(n));
        }
        let rows = spool.finish().unwrap();
        assert!(rows.spilled > 0, "nothing was spilled");
        let text = format!("[{}]", written(&rows));
        let back: Vec<(u32, String)> = serde_json::from_str(&text).unwrap();
        assert_eq!(back.len(), count as usize);
        assert!(back.iter().enumerate().all(|(i, r)| *r == big(i as u32)));
    }
}
