//! The progress line of a long read (`analyze` on a 20 GB gzip capture):
//! on stderr, only when stderr is a terminal, redrawn at most a few times a
//! second, and cleared at the end.
//!
//! The position is the bytes of the file as stored (compressed, for a
//! gzip capture) that the reader took, over the file's size: a gzip file's
//! decompressed size is unknown until its end.

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tracedeck::capture::Bytes;

/// The shortest time between two redraws.
const REDRAW_EVERY: Duration = Duration::from_millis(250);

/// A file whose reads are counted, for the progress line.
pub struct Counted {
    file: File,
    read: Arc<AtomicU64>,
}

impl Counted {
    /// Wraps `file`; `read` counts its bytes taken so far.
    pub fn new(file: File) -> (Counted, Arc<AtomicU64>) {
        let read = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            file,
            read: Arc::clone(&read),
        };
        (counted, read)
    }
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Draws `reading FILE: 45% (9 GB of 20 GB), 12000000 records`.
pub struct ProgressLine<W: Write> {
    out: W,
    /// Whether to draw at all (stderr is a terminal).
    enabled: bool,
    name: String,
    total_len: u64,
    read: Arc<AtomicU64>,
    last_drawn: Option<Instant>,
}

impl<W: Write> ProgressLine<W> {
    pub fn new(out: W, enabled: bool, name: String, total_len: u64, read: Arc<AtomicU64>) -> Self {
        ProgressLine {
            out,
            enabled,
            name,
            total_len,
            read,
            last_drawn: None,
        }
    }

    /// The line for `records` read so far.
    fn line(&self, records: u64) -> String {
        let read = self.read.load(Ordering::Relaxed).min(self.total_len);
        let percent = (read as f64 * 100.0 / self.total_len.max(1) as f64).floor();
        format!(
            "reading {}: {percent:.0}% ({} of {}), {records} records",
            self.name,
            Bytes(read),
            Bytes(self.total_len)
        )
    }

    /// Redraws the line at `now` unless it was drawn less than
    /// `REDRAW_EVERY` ago. A terminal that cannot be written to is not a
    /// reason to stop the analysis: the error is ignored.
    pub fn update(&mut self, records: u64, now: Instant) {
        if !self.enabled
            || self
                .last_drawn
                .is_some_and(|t| now.duration_since(t) < REDRAW_EVERY)
        {
            return;
        }
        let line = self.line(records);
        let _ = write!(self.out, "\r\x1b[K{line}");
        let _ = self.out.flush();
        self.last_drawn = Some(now);
    }

    /// Erases the line, if one was drawn.
    pub fn clear(&mut self) {
        if self.last_drawn.take().is_some() {
            let _ = write!(self.out, "\r\x1b[K");
            let _ = self.out.flush();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(enabled: bool, read: u64) -> ProgressLine<Vec<u8>> {
        let count = Arc::new(AtomicU64::new(read));
        ProgressLine::new(
            Vec::new(),
            enabled,
            "big.pcap.gz".into(),
            20_000_000_000,
            count,
        )
    }

    #[test]
    fn draws_at_most_every_quarter_second_and_clears() {
        let mut p = line(true, 9_000_000_000);
        let t0 = Instant::now();
        p.update(65_536, t0);
        p.update(131_072, t0 + Duration::from_millis(100));
        p.update(196_608, t0 + Duration::from_millis(300));
        p.clear();
        let text = String::from_utf8(p.out).unwrap();
        assert_eq!(
            text,
            "\r\x1b[Kreading big.pcap.gz: 45% (9 GB of 20 GB), 65536 records\
             \r\x1b[Kreading big.pcap.gz: 45% (9 GB of 20 GB), 196608 records\
             \r\x1b[K"
        );
    }

    #[test]
    fn silent_when_not_a_terminal() {
        let mut p = line(false, 1);
        p.update(65_536, Instant::now());
        p.clear();
        assert!(p.out.is_empty());
    }

    #[test]
    fn counts_the_bytes_read() {
        let file = File::open(file!()).unwrap();
        let len = file.metadata().unwrap().len();
        let (mut counted, read) = Counted::new(file);
        io::copy(&mut counted, &mut io::sink()).unwrap();
        assert_eq!(read.load(Ordering::Relaxed), len);
    }
}
