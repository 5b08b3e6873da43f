//! Reading lines from an input in bounded memory: a line longer than the
//! cap is cut, the rest of it skipped, and the cut reported, so one absurd
//! line cannot make the parser allocate without bound.

use std::io::{self, BufRead};

pub(crate) struct LineReader<R> {
    inner: R,
    buf: Vec<u8>,
    max: usize,
    line_no: u32,
    done: bool,
}

/// One line, without its `\n`.
pub(crate) struct RawLine<'a> {
    pub bytes: &'a [u8],
    pub line_no: u32,
    /// The line was longer than the cap; `bytes` holds its head.
    pub truncated: bool,
}

impl<R: BufRead> LineReader<R> {
    pub fn new(inner: R, max: usize) -> Self {
        LineReader {
            inner,
            buf: Vec::new(),
            max: max.max(16),
            line_no: 0,
            done: false,
        }
    }

    pub fn next_line(&mut self) -> io::Result<Option<RawLine<'_>>> {
        if self.done {
            return Ok(None);
        }
        self.buf.clear();
        let mut truncated = false;
        let mut any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                self.done = true;
                if !any {
                    return Ok(None);
                }
                break;
            }
            any = true;
            let (chunk, used, end) = match memchr::memchr(b'\n', avail) {
                Some(p) => (&avail[..p], p + 1, true),
                None => (avail, avail.len(), false),
            };
            let room = self.max - self.buf.len();
            if chunk.len() > room {
                self.buf.extend_from_slice(&chunk[..room]);
                truncated = true;
            } else {
                self.buf.extend_from_slice(chunk);
            }
            self.inner.consume(used);
            if end {
                break;
            }
        }
        self.line_no = self.line_no.saturating_add(1);
        Ok(Some(RawLine {
            bytes: &self.buf,
            line_no: self.line_no,
            truncated,
        }))
    }
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn caps_long_lines_and_keeps_counting() {
        let data = format!("short\n{}\nlast", "x".repeat(100));
        let mut r = LineReader::new(io::BufReader::with_capacity(16, data.as_bytes()), 32);
        let l = r.next_line().unwrap().unwrap();
        assert_eq!((l.bytes, l.line_no, l.truncated), (&b"short"[..], 1, false));
        let l = r.next_line().unwrap().unwrap();
        assert_eq!((l.bytes.len(), l.line_no, l.truncated), (32, 2, true));
        let l = r.next_line().unwrap().unwrap();
        assert_eq!((l.bytes, l.line_no), (&b"last"[..], 3));
        assert!(r.next_line().unwrap().is_none());
    }
}
