//! Writing captured frames as classic pcap (with the `pcap-file` crate), and
//! rotating through a ring of files.
//!
//! Records reach the file only whole: pcap-file encodes each record into a
//! buffer, and the buffer goes to the file at record boundaries, so a file
//! read at any moment (or left by a crash) holds the header and complete
//! records. A failed write is cut back to the last complete record.
//!
//! Ring naming (`--ring N`), newest first: `FILE` is the file being written,
//! `FILE.1` the one finished before it, and so on up to `FILE.{N-1}`, the
//! oldest. On rotation every file moves up one number and the oldest is
//! deleted, like logrotate.

use std::cell::RefCell;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};

use crate::pcap::{Frame, LinkType};

/// Size of the pcap file header.
pub const FILE_HEADER_LEN: u64 = 24;
/// Size of a pcap record header.
pub const RECORD_HEADER_LEN: u64 = 16;
/// Buffered bytes that trigger a write to the file.
const FLUSH_AT: usize = 256 * 1024;

/// The buffer pcap-file writes into; we drain it to the file between records.
#[derive(Clone, Default)]
struct SharedBuf(Rc<RefCell<Vec<u8>>>);

impl Write for SharedBuf {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn to_io(err: pcap_file::PcapError) -> io::Error {
    match err {
        pcap_file::PcapError::IoError(e) => e,
        other => io::Error::new(io::ErrorKind::InvalidData, other.to_string()),
    }
}

/// One pcap file being written (nanosecond timestamps, native byte order).
pub struct PcapFile {
    path: PathBuf,
    file: File,
    pcap: PcapWriter<SharedBuf>,
    buf: SharedBuf,
    /// Bytes already in the file (always a record boundary).
    committed: u64,
    records: u64,
}

impl PcapFile {
    /// Creates (or truncates) `path` and writes the file header to it at once.
    pub fn create(path: &Path, link: LinkType, snaplen: u32) -> io::Result<PcapFile> {
        let file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(path)?;
        let buf = SharedBuf::default();
        let header = PcapHeader {
            snaplen,
            datalink: DataLink::from(link.0),
            ts_resolution: TsResolution::NanoSecond,
            endianness: Endianness::native(),
            ..PcapHeader::default()
        };
        let pcap = PcapWriter::with_header(buf.clone(), header).map_err(to_io)?;
        let mut out = PcapFile {
            path: path.to_path_buf(),
            file,
            pcap,
            buf,
            committed: 0,
            records: 0,
        };
        out.flush()?;
        Ok(out)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Bytes the file will hold once flushed.
    pub fn len_bytes(&self) -> u64 {
        self.committed + self.buf.0.borrow().len() as u64
    }

    /// Records written (flushed or buffered).
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Appends one record; `frame.data` must fit the snaplen given at creation.
    pub fn write(&mut self, frame: &Frame<'_>) -> io::Result<()> {
        let nanos = frame.ts.map_or(0, |t| t.as_nanos()).max(0) as u64;
        let packet = PcapPacket::new(
            Duration::from_nanos(nanos),
            frame.orig_len.max(frame.data.len() as u32),
            frame.data,
        );
        self.pcap.write_packet(&packet).map_err(to_io)?;
        self.records += 1;
        if self.buf.0.borrow().len() >= FLUSH_AT {
            self.flush()?;
        }
        Ok(())
    }

    /// Writes the buffered records; on failure cuts the file back to its
    /// last complete record so it stays valid.
    pub fn flush(&mut self) -> io::Result<()> {
        let mut buf = self.buf.0.borrow_mut();
        if buf.is_empty() {
            return Ok(());
        }
        match self.file.write_all(&buf) {
            Ok(()) => {
                self.committed += buf.len() as u64;
                buf.clear();
                Ok(())
            }
            Err(err) => {
                buf.clear();
                let _ = self.file.set_len(self.committed);
                Err(err)
            }
        }
    }

    /// Flushes, syncs and closes the file; returns its size.
    pub fn finish(mut self) -> io::Result<u64> {
        self.flush()?;
        self.file.sync_data()?;
        Ok(self.committed)
    }
}

/// Whether a frame went into the output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Written {
    Yes,
    /// The size cap is reached and there is no ring to rotate into.
    Full,
}

/// The output of one capture: a single capped file, or a ring of them.
pub struct Output {
    base: PathBuf,
    ring: u32,
    max_size: u64,
    link: LinkType,
    snaplen: u32,
    current: Option<PcapFile>,
    /// Files this run created (including the current one).
    files_started: u32,
}

/// The path of ring slot `i` (0 is the file being written).
pub fn ring_path(base: &Path, i: u32) -> PathBuf {
    if i == 0 {
        return base.to_path_buf();
    }
    let mut name = base.as_os_str().to_os_string();
    name.push(format!(".{i}"));
    PathBuf::from(name)
}

impl Output {
    /// Opens the first file. `ring` is the number of files (1: no rotation);
    /// a ring also deletes `FILE.1 .. FILE.{ring-1}` left by an earlier run,
    /// since rotation would overwrite them anyway.
    pub fn create(
        base: &Path,
        ring: u32,
        max_size: u64,
        link: LinkType,
        snaplen: u32,
    ) -> io::Result<Output> {
        let ring = ring.max(1);
        if FILE_HEADER_LEN + RECORD_HEADER_LEN + u64::from(snaplen) > max_size {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("size cap {max_size} cannot hold one record of snaplen {snaplen}"),
            ));
        }
        let first = PcapFile::create(base, link, snaplen)?;
        for i in 1..ring {
            match fs::remove_file(ring_path(base, i)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(Output {
            base: base.to_path_buf(),
            ring,
            max_size,
            link,
            snaplen,
            current: Some(first),
            files_started: 1,
        })
    }

    /// Size of the file being written.
    pub fn file_len(&self) -> u64 {
        self.current.as_ref().map_or(0, PcapFile::len_bytes)
    }

    /// Files this run created so far.
    pub fn files_started(&self) -> u32 {
        self.files_started
    }

    /// Writes `frame` (stamping its `index` and `offset` in the file), rotating first
    /// if the record would push the current file over the cap.
    pub fn write(&mut self, frame: &Frame<'_>) -> io::Result<Written> {
        let need = RECORD_HEADER_LEN + frame.data.len() as u64;
        let Some(cur) = self.current.as_ref() else {
            return Ok(Written::Full);
        };
        if cur.len_bytes() + need > self.max_size && cur.records() > 0 {
            if self.ring <= 1 {
                return Ok(Written::Full);
            }
            self.rotate()?;
        }
        let Some(cur) = self.current.as_mut() else {
            return Ok(Written::Full);
        };
        let frame = Frame {
            index: cur.records(),
            offset: cur.len_bytes(),
            ..*frame
        };
        cur.write(&frame)?;
        Ok(Written::Yes)
    }

    /// Pushes buffered records to the file (the status line and the disk guard see real sizes).
    pub fn flush(&mut self) -> io::Result<()> {
        match self.current.as_mut() {
            Some(cur) => cur.flush(),
            None => Ok(()),
        }
    }

    /// Starts the next file of the ring now (`--rotate-every`), unless the
    /// current one holds no packet yet or there is no ring. Returns whether
    /// it rotated.
    pub fn rotate_if_used(&mut self) -> io::Result<bool> {
        let used = self.current.as_ref().is_some_and(|cur| cur.records() > 0);
        if !used || self.ring <= 1 {
            return Ok(false);
        }
        self.rotate()?;
        Ok(true)
    }

    fn rotate(&mut self) -> io::Result<()> {
        if let Some(cur) = self.current.take() {
            cur.finish()?;
        }
        let existing = self.files_started.min(self.ring);
        for i in (1..existing).rev() {
            let from = ring_path(&self.base, i);
            if i + 1 >= self.ring {
                fs::remove_file(&from)?;
            } else {
                fs::rename(&from, ring_path(&self.base, i + 1))?;
            }
        }
        fs::rename(&self.base, ring_path(&self.base, 1))?;
        self.current = Some(PcapFile::create(&self.base, self.link, self.snaplen)?);
        self.files_started = self.files_started.saturating_add(1);
        Ok(())
    }

    /// Closes the current file; returns the files this run left, oldest first.
    pub fn finish(mut self) -> io::Result<Vec<PathBuf>> {
        if let Some(cur) = self.current.take() {
            cur.finish()?;
        }
        let kept = self.files_started.min(self.ring);
        Ok((0..kept).rev().map(|i| ring_path(&self.base, i)).collect())
    }
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::time::Timestamp;

    fn frame(data: &[u8], ts: i64) -> Frame<'_> {
        Frame {
            index: 0,
            offset: 0,
            ts: Some(Timestamp::from_nanos(ts)),
            link_type: LinkType::ETHERNET,
            interface: 0,
            orig_len: data.len() as u32 + 10,
            data,
        }
    }

    fn tmpdir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("tracedeck-writer-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn one_record_layout() {
        let dir = tmpdir("layout");
        let path = dir.join("a.pcap");
        let mut f = PcapFile::create(&path, LinkType::ETHERNET, 1000).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().len(),
            24,
            "header is on disk at once"
        );
        f.write(&frame(&[1, 2, 3], 1_500_000_001)).unwrap();
        assert_eq!(f.len_bytes(), 24 + 16 + 3);
        assert_eq!(f.finish().unwrap(), 43);
        let bytes = fs::read(&path).unwrap();
        assert_eq!(
            u32::from_ne_bytes(bytes[0..4].try_into().unwrap()),
            0xA1B2_3C4D
        );
        assert_eq!(
            u32::from_ne_bytes(bytes[16..20].try_into().unwrap()),
            1000,
            "snaplen"
        );
        assert_eq!(
            u32::from_ne_bytes(bytes[20..24].try_into().unwrap()),
            1,
            "linktype"
        );
        assert_eq!(
            u32::from_ne_bytes(bytes[24..28].try_into().unwrap()),
            1,
            "ts secs"
        );
        assert_eq!(
            u32::from_ne_bytes(bytes[28..32].try_into().unwrap()),
            500_000_001,
            "ts ns"
        );
        assert_eq!(
            u32::from_ne_bytes(bytes[32..36].try_into().unwrap()),
            3,
            "incl_len"
        );
        assert_eq!(
            u32::from_ne_bytes(bytes[36..40].try_into().unwrap()),
            13,
            "orig_len"
        );
        assert_eq!(&bytes[40..], &[1, 2, 3]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn single_file_stops_at_cap() {
        let dir = tmpdir("cap");
        let path = dir.join("a.pcap");
        let data = [0u8; 60];
        // header 24 + 3 records of 76 = 252 fit in 260; the 4th does not.
        let mut out = Output::create(&path, 1, 260, LinkType::ETHERNET, 100).unwrap();
        for _ in 0..3 {
            assert_eq!(out.write(&frame(&data, 1)).unwrap(), Written::Yes);
        }
        assert_eq!(out.write(&frame(&data, 1)).unwrap(), Written::Full);
        let files = out.finish().unwrap();
        assert_eq!(files, vec![path.clone()]);
        assert_eq!(fs::metadata(&path).unwrap().len(), 252);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn timed_rotation_skips_an_empty_file_and_needs_a_ring() {
        let dir = tmpdir("timed");
        let path = dir.join("t.pcap");
        let data = [0u8; 60];
        let mut out = Output::create(&path, 2, 1 << 20, LinkType::ETHERNET, 100).unwrap();
        assert!(!out.rotate_if_used().unwrap(), "nothing written yet");
        out.write(&frame(&data, 1)).unwrap();
        assert!(out.rotate_if_used().unwrap());
        assert_eq!(out.files_started(), 2);
        assert_eq!(out.file_len(), 24);
        let mut single =
            Output::create(&dir.join("s.pcap"), 1, 1 << 20, LinkType::ETHERNET, 100).unwrap();
        single.write(&frame(&data, 1)).unwrap();
        assert!(!single.rotate_if_used().unwrap(), "no ring to rotate into");
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn ring_keeps_newest_files() {
        let dir = tmpdir("ring");
        let path = dir.join("r.pcap");
        fs::write(ring_path(&path, 2), b"stale").unwrap();
        let data = [0u8; 60];
        // 2 records per file; 9 records -> 5 files started, 3 kept.
        let mut out = Output::create(&path, 3, 24 + 2 * 76, LinkType::ETHERNET, 100).unwrap();
        assert!(!ring_path(&path, 2).exists(), "stale ring file removed");
        for i in 0..9 {
            assert_eq!(
                out.write(&frame(&data, i * 1_000_000_000)).unwrap(),
                Written::Yes
            );
        }
        assert_eq!(out.files_started(), 5);
        let files = out.finish().unwrap();
        assert_eq!(
            files,
            vec![ring_path(&path, 2), ring_path(&path, 1), path.clone()]
        );
        assert!(!ring_path(&path, 3).exists());
        // Newest file holds record 8 alone, .1 holds 6 and 7, .2 holds 4 and 5.
        let first_ts = |p: &Path| {
            let b = fs::read(p).unwrap();
            u32::from_ne_bytes(b[24..28].try_into().unwrap())
        };
        assert_eq!(fs::metadata(&path).unwrap().len(), 24 + 76);
        assert_eq!(first_ts(&path), 8);
        assert_eq!(first_ts(&ring_path(&path, 1)), 6);
        assert_eq!(first_ts(&ring_path(&path, 2)), 4);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn cap_too_small_for_snaplen() {
        let dir = tmpdir("small");
        assert!(Output::create(&dir.join("x"), 1, 100, LinkType::ETHERNET, 1000).is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
