//! `Feed`: the bytes of a capture, read ahead on their own thread.
//!
//! Copying a file out of the page cache (and inflating it, when it is
//! gzip-compressed) costs about as much as analysing it. A reader thread
//! does that work on another core while the analysis runs, handing over
//! fixed-size chunks through a bounded channel; the consumer gives each
//! chunk back when it is done with it, so a long file reuses a handful of
//! buffers. Each chunk leaves `HEADROOM` bytes free in front of its data,
//! where the consumer places the unread tail of the previous chunk (a
//! record cut by the chunk boundary) without copying the new data.

use std::io::{self, Read};
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};
use std::thread::{self, JoinHandle};

/// Free space in front of each chunk's data, for the tail of the previous
/// chunk. A record longer than this falls back to a copy.
pub(super) const HEADROOM: usize = 64 << 10;
/// Bytes of file per chunk.
const CHUNK: usize = 256 << 10;
/// Filled chunks waiting for the consumer at most.
const IN_FLIGHT: usize = 4;

/// What the reader thread hands over.
pub(super) enum Chunk {
    /// `buf[HEADROOM..HEADROOM + len]` holds the next `len` bytes of the file.
    Data { buf: Vec<u8>, len: usize },
    /// The file ended.
    End,
    /// Reading failed; the file ends here.
    Failed(io::Error),
}

pub(super) struct Feed {
    filled: Receiver<Chunk>,
    spent: Sender<Vec<u8>>,
    ended: bool,
    thread: Option<JoinHandle<()>>,
}

impl Feed {
    /// Starts reading `src` ahead. gzip is recognised here, by its magic
    /// bytes, so that inflating also happens on the reader thread; returns
    /// whether the input was compressed.
    pub(super) fn start(mut src: Box<dyn Read + Send>) -> io::Result<(Feed, bool)> {
        let mut magic = [0u8; 2];
        let mut got = 0;
        while got < magic.len() {
            match src.read(&mut magic[got..]) {
                Ok(0) => break,
                Ok(n) => got += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        let whole = io::Cursor::new(magic[..got].to_vec()).chain(src);
        let compressed = magic[..got] == [0x1f, 0x8b];
        let src: Box<dyn Read + Send> = if compressed {
            Box::new(flate2::read::MultiGzDecoder::new(whole))
        } else {
            Box::new(whole)
        };
        let (filled_tx, filled) = mpsc::sync_channel(IN_FLIGHT);
        let (spent, spent_rx) = mpsc::channel();
        let thread = thread::Builder::new()
            .name("capture-reader".into())
            .spawn(move || read_ahead(src, filled_tx, spent_rx))?;
        Ok((
            Feed {
                filled,
                spent,
                ended: false,
                thread: Some(thread),
            },
            compressed,
        ))
    }

    /// The next chunk; `End` forever once the file has ended or failed.
    pub(super) fn next(&mut self) -> Chunk {
        if self.ended {
            return Chunk::End;
        }
        let chunk = self.filled.recv().unwrap_or(Chunk::End);
        if !matches!(chunk, Chunk::Data { .. }) {
            self.ended = true;
        }
        chunk
    }

    /// Gives a buffer back for reuse. Buffers of another size (the
    /// consumer grew one for a long record) are dropped instead.
    pub(super) fn give_back(&self, buf: Vec<u8>) {
        if buf.len() == HEADROOM + CHUNK {
            // The reader thread may have stopped already: then the buffer
            // is simply freed.
            let _ = self.spent.send(buf);
        }
    }
}

impl Drop for Feed {
    /// Stops the reader thread and waits for it, so that no thread outlives
    /// its reader: closing the channel makes its next hand-over fail.
    fn drop(&mut self) {
        let (_, closed) = mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.filled, closed));
        if let Some(thread) = self.thread.take() {
            // A panic there has nothing left to report to.
            let _ = thread.join();
        }
    }
}

/// The reader thread: fills chunks until the file ends, reading fails or
/// the consumer goes away.
fn read_ahead(mut src: Box<dyn Read + Send>, filled: SyncSender<Chunk>, spent: Receiver<Vec<u8>>) {
    loop {
        let mut buf = spent
            .try_recv()
            .unwrap_or_else(|_| vec![0; HEADROOM + CHUNK]);
        let mut len = 0;
        let mut failure = None;
        // Fill the chunk whole: a short chunk then always means the end.
        while len < CHUNK {
            match src.read(&mut buf[HEADROOM + len..]) {
                Ok(0) => break,
                Ok(n) => len += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        let full = len == CHUNK;
        if len > 0 && filled.send(Chunk::Data { buf, len }).is_err() {
            return;
        }
        if let Some(e) = failure {
            let _ = filled.send(Chunk::Failed(e));
            return;
        }
        if !full {
            let _ = filled.send(Chunk::End);
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(feed: &mut Feed) -> (Vec<u8>, Option<io::Error>) {
        let mut all = Vec::new();
        loop {
            match feed.next() {
                Chunk::Data { buf, len } => {
                    all.extend_from_slice(&buf[HEADROOM..HEADROOM + len]);
                    feed.give_back(buf);
                }
                Chunk::End => return (all, None),
                Chunk::Failed(e) => return (all, Some(e)),
            }
        }
    }

    #[test]
    fn hands_over_every_byte_in_order() {
        let data: Vec<u8> = (0..3 * CHUNK + 123).map(|i| (i % 251) as u8).collect();
        let (mut feed, compressed) = Feed::start(Box::new(io::Cursor::new(data.clone()))).unwrap();
        assert!(!compressed);
        let (all, failure) = drain(&mut feed);
        assert!(failure.is_none());
        assert_eq!(all, data);
        assert!(matches!(feed.next(), Chunk::End));
    }

    #[test]
    fn empty_and_one_byte_inputs() {
        let (mut feed, _) = Feed::start(Box::new(io::empty())).unwrap();
        assert!(drain(&mut feed).0.is_empty());
        let (mut feed, compressed) = Feed::start(Box::new(io::Cursor::new(vec![0x1f]))).unwrap();
        assert!(!compressed);
        assert_eq!(drain(&mut feed).0, vec![0x1f]);
    }

    #[test]
    fn a_read_error_ends_the_feed_after_the_bytes_before_it() {
        struct FailAfter(usize);
        impl Read for FailAfter {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0 == 0 {
                    return Err(io::Error::other("disk on fire"));
                }
                let n = self.0.min(buf.len()).min(1000);
                buf[..n].fill(7);
                self.0 -= n;
                Ok(n)
            }
        }
        let (mut feed, _) = Feed::start(Box::new(FailAfter(CHUNK + 10))).unwrap();
        let (all, failure) = drain(&mut feed);
        assert_eq!(all.len(), CHUNK + 10);
        assert_eq!(failure.unwrap().to_string(), "disk on fire");
    }
}
