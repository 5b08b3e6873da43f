//! Random access to single records of a stored (uncompressed) capture:
//! given the byte offset a [`Reader`](super::Reader) reported for a frame,
//! read that record back. Views that need payload bytes (stream, download)
//! use this instead of keeping payloads anywhere.
//!
//! The interface table of a pcapng file is taken from the blocks before its
//! first packet. A file whose later sections describe new interfaces is
//! read with those leading interfaces; a record naming an interface not
//! described there is an error rather than a guess.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::Path;

use super::frame::LinkType;
use super::reader::MAX_RECORD_LEN;
use super::wire::savefile::{
    self, Block, EnhancedPacket, PcapHeader, PcapRecord, BLOCK_ENHANCED_PACKET,
    BLOCK_INTERFACE_DESCRIPTION, BLOCK_PACKET, BLOCK_SECTION_HEADER, BLOCK_SIMPLE_PACKET, EPB_DATA,
    MIN_BLOCK_LEN, PCAP_HEADER_LEN, RECORD_HEADER_LEN, SPB_DATA,
};
use super::wire::Order;

/// How many leading blocks are examined for interface descriptions.
const MAX_LEADING_BLOCKS: usize = 4096;
/// The largest block a packet of [`MAX_RECORD_LEN`] bytes takes, options
/// included.
const MAX_BLOCK_LEN: usize = MAX_RECORD_LEN + 64;
/// A block's trailing copy of its length.
const BLOCK_TRAILER_LEN: usize = 4;
/// Bytes first searched before a pcap record for the one before it (the
/// search widens, up to [`PREVIOUS_MAX_LEN`]).
pub const PREVIOUS_WINDOW: usize = 4096;
/// The largest record found before another: libpcap's snapshot length cap
/// (256 KiB). A longer one is not searched for, so that a failed search
/// costs a bounded read, not one of [`MAX_RECORD_LEN`].
pub const PREVIOUS_MAX_LEN: usize = 256 << 10;
/// The record before another is at most this many seconds apart from it
/// (a header-like run of bytes inside a payload seldom is).
const PREVIOUS_MAX_SECS: u32 = 86_400;

/// Why a record cannot be read back.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("read failed at byte {offset}: {source}")]
    Io { offset: u64, source: std::io::Error },
    #[error("not an uncompressed pcap or pcapng file")]
    NotACapture,
    #[error("no record at byte {offset}: {what}")]
    BadRecord { offset: u64, what: String },
}

pub type Result<T> = std::result::Result<T, Error>;

#[derive(Clone, Debug)]
enum Layout {
    Pcap {
        order: Order,
        link_type: LinkType,
    },
    Pcapng {
        order: Order,
        interfaces: Vec<LinkType>,
    },
}

/// One record read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordAt {
    pub link_type: LinkType,
    pub orig_len: u32,
    /// Captured bytes now in the caller's buffer.
    pub caplen: usize,
}

/// A capture file opened for reads at record offsets.
#[derive(Debug)]
pub struct RecordFile {
    file: File,
    layout: Layout,
}

impl RecordFile {
    /// Opens `path` and learns its layout (byte order, link types).
    pub fn open(path: &Path) -> Result<RecordFile> {
        let file = File::open(path).map_err(|source| Error::Io { offset: 0, source })?;
        let mut head = [0u8; PCAP_HEADER_LEN];
        let n = read_full(&file, 0, &mut head)?;
        let head = &head[..n];
        let layout = if let Some(order) = savefile::pcap_order(head) {
            let header = PcapHeader::new_checked(head, order).map_err(|_| Error::NotACapture)?;
            Layout::Pcap {
                order,
                link_type: LinkType(header.link_type()),
            }
        } else if head.len() >= MIN_BLOCK_LEN && head.starts_with(&[0x0a, 0x0d, 0x0d, 0x0a]) {
            leading_interfaces(&file, head)?
        } else {
            return Err(Error::NotACapture);
        };
        Ok(RecordFile { file, layout })
    }

    /// Reads the record at `offset` into `buf` (replacing its contents).
    pub fn read_at(&self, offset: u64, buf: &mut Vec<u8>) -> Result<RecordAt> {
        let bad = |what: &str| Error::BadRecord {
            offset,
            what: what.to_string(),
        };
        match &self.layout {
            Layout::Pcap { order, link_type } => {
                let mut h = [0u8; RECORD_HEADER_LEN];
                let n = read_full(&self.file, offset, &mut h)?;
                let record = PcapRecord::new_checked(&h[..n], *order)
                    .map_err(|_| bad("the file ends inside the record header"))?;
                let caplen = record.captured_len() as usize;
                if caplen > MAX_RECORD_LEN {
                    return Err(bad("the record length is past the limit"));
                }
                buf.resize(caplen, 0);
                if read_full(&self.file, offset + RECORD_HEADER_LEN as u64, buf)? < caplen {
                    return Err(bad("the file ends inside the record"));
                }
                Ok(RecordAt {
                    link_type: *link_type,
                    orig_len: record.orig_len(),
                    caplen,
                })
            }
            Layout::Pcapng { order, interfaces } => {
                let mut h = [0u8; EPB_DATA];
                let n = read_full(&self.file, offset, &mut h)?;
                let h = &h[..n];
                let block = Block::new_checked(h, *order)
                    .map_err(|_| bad("the file ends inside the block header"))?;
                let block_len = block.block_len() as usize;
                if !(MIN_BLOCK_LEN..=MAX_BLOCK_LEN).contains(&block_len) {
                    return Err(bad("the block length is out of bounds"));
                }
                let (if_id, caplen, orig_len, data_at) = match block.block_type() {
                    BLOCK_ENHANCED_PACKET => {
                        let epb = EnhancedPacket::new_checked(h, *order)
                            .map_err(|_| bad("not a packet block"))?;
                        (
                            epb.interface_id(),
                            epb.captured_len() as usize,
                            epb.orig_len(),
                            EPB_DATA,
                        )
                    }
                    BLOCK_SIMPLE_PACKET => {
                        let orig = block.simple_packet_orig_len();
                        // The block holds the packet up to the snaplen.
                        let room = block_len.saturating_sub(SPB_DATA + BLOCK_TRAILER_LEN);
                        (0, (orig as usize).min(room), orig, SPB_DATA)
                    }
                    _ => return Err(bad("not a packet block")),
                };
                if data_at + caplen > block_len.saturating_sub(BLOCK_TRAILER_LEN) {
                    return Err(bad("the packet is longer than its block"));
                }
                let link_type = *interfaces.get(if_id as usize).ok_or_else(|| {
                    bad("the packet names an interface not described at the start of the file")
                })?;
                buf.resize(caplen, 0);
                if read_full(&self.file, offset + data_at as u64, buf)? < caplen {
                    return Err(bad("the file ends inside the block"));
                }
                Ok(RecordAt {
                    link_type,
                    orig_len,
                    caplen,
                })
            }
        }
    }
}

impl RecordFile {
    /// The offset of the packet record before the one at `offset` (in a
    /// pcapng file, skipping blocks that hold no packet), or `None` at the
    /// first one. A pcap record has no link back: the one before is the
    /// nearest record header that ends exactly at `offset` with a time
    /// near this record's.
    pub fn previous(&self, offset: u64) -> Result<Option<u64>> {
        match &self.layout {
            Layout::Pcap { order, .. } => self.previous_pcap(*order, offset),
            Layout::Pcapng { order, .. } => self.previous_block(*order, offset),
        }
    }

    fn previous_pcap(&self, order: Order, offset: u64) -> Result<Option<u64>> {
        let first = PCAP_HEADER_LEN as u64;
        if offset <= first {
            return Ok(None);
        }
        let mut h = [0u8; RECORD_HEADER_LEN];
        let n = read_full(&self.file, offset, &mut h)?;
        let Ok(here) = PcapRecord::new_checked(&h[..n], order) else {
            return Err(Error::BadRecord {
                offset,
                what: "no record header there".into(),
            });
        };
        let (secs, _) = here.timestamp();
        // Scanned from `offset` backwards, each byte once: a window that
        // widens reads only the bytes before the last one (plus a header's
        // worth, so a header across the seam is seen whole).
        let mut scanned_from = offset;
        let mut window = PREVIOUS_WINDOW;
        loop {
            let start = offset
                .saturating_sub((window + RECORD_HEADER_LEN) as u64)
                .max(first);
            let read_end = (scanned_from + RECORD_HEADER_LEN as u64).min(offset);
            let mut bytes = vec![0u8; (read_end - start) as usize];
            let got = read_full(&self.file, start, &mut bytes)?;
            bytes.truncate(got);
            let new = (scanned_from - start) as usize;
            for i in (0..new.min(bytes.len())).rev() {
                let Ok(rec) = PcapRecord::new_checked(&bytes[i..], order) else {
                    continue;
                };
                let at = start + i as u64;
                let end = at + RECORD_HEADER_LEN as u64 + u64::from(rec.captured_len());
                let (s, frac) = rec.timestamp();
                if end == offset && frac < 1_000_000_000 && s.abs_diff(secs) <= PREVIOUS_MAX_SECS {
                    return Ok(Some(at));
                }
            }
            scanned_from = start;
            if start == first || window >= PREVIOUS_MAX_LEN {
                return Ok(None);
            }
            window = (window * 16).min(PREVIOUS_MAX_LEN);
        }
    }

    /// The packet block before `offset`, walking back block by block over
    /// their trailing lengths. The bytes before are read a window
    /// ([`PREVIOUS_WINDOW`]) at a time, so many small blocks cost one read
    /// and not two each: a walk costs about the bytes it walks back over
    /// (a block longer than the window, two reads), which is what a
    /// caller's bound on bytes walked (the stream view's fragment search)
    /// counts.
    fn previous_block(&self, order: Order, offset: u64) -> Result<Option<u64>> {
        let mut at = offset;
        // File bytes from `window_at` on.
        let mut window: Vec<u8> = Vec::new();
        let mut window_at = offset;
        for _ in 0..MAX_LEADING_BLOCKS {
            let Some(from) = at.checked_sub(BLOCK_TRAILER_LEN as u64) else {
                return Ok(None);
            };
            if from < window_at {
                let start = at.saturating_sub(PREVIOUS_WINDOW as u64);
                window.resize((at - start) as usize, 0);
                let got = read_full(&self.file, start, &mut window)?;
                window.truncate(got);
                window_at = start;
            }
            let rel = (from - window_at) as usize;
            let Some(trailer) = window.get(rel..rel + BLOCK_TRAILER_LEN) else {
                return Ok(None);
            };
            let len = order.u32(trailer) as usize;
            if !(MIN_BLOCK_LEN..=MAX_BLOCK_LEN).contains(&len) || len as u64 > at {
                return Ok(None);
            }
            let start = at - len as u64;
            let mut h = [0u8; MIN_BLOCK_LEN];
            let in_window = start
                .checked_sub(window_at)
                .and_then(|rel| window.get(rel as usize..rel as usize + MIN_BLOCK_LEN));
            let n = match in_window {
                Some(bytes) => {
                    h.copy_from_slice(bytes);
                    MIN_BLOCK_LEN
                }
                None => read_full(&self.file, start, &mut h)?,
            };
            let Ok(block) = Block::new_checked(&h[..n], order) else {
                return Ok(None);
            };
            if block.block_len() as usize != len {
                return Ok(None);
            }
            match block.block_type() {
                BLOCK_ENHANCED_PACKET | BLOCK_SIMPLE_PACKET | BLOCK_PACKET => {
                    return Ok(Some(start))
                }
                BLOCK_SECTION_HEADER => return Ok(None),
                _ => at = start,
            }
        }
        Ok(None)
    }
}

/// Reads as much of `buf` as the file holds from `offset`; returns the count.
fn read_full(file: &File, offset: u64, buf: &mut [u8]) -> Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(&mut buf[done..], offset + done as u64) {
            Ok(0) => break,
            Ok(k) => done += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(source) => return Err(Error::Io { offset, source }),
        }
    }
    Ok(done)
}

/// Walks the blocks before the first packet and collects the interfaces;
/// `head` holds the file's first bytes (at least a block's fixed part).
fn leading_interfaces(file: &File, head: &[u8]) -> Result<Layout> {
    let order = savefile::pcapng_order(head).ok_or(Error::NotACapture)?;
    let mut interfaces = Vec::new();
    let mut offset = 0u64;
    let mut h = [0u8; MIN_BLOCK_LEN];
    for _ in 0..MAX_LEADING_BLOCKS {
        let n = read_full(file, offset, &mut h)?;
        let Ok(block) = Block::new_checked(&h[..n], order) else {
            break;
        };
        let block_len = block.block_len() as usize;
        if !(MIN_BLOCK_LEN..=MAX_BLOCK_LEN).contains(&block_len) {
            return Err(Error::BadRecord {
                offset,
                what: "the block length is out of bounds".into(),
            });
        }
        match block.block_type() {
            BLOCK_INTERFACE_DESCRIPTION => {
                interfaces.push(LinkType(u32::from(block.interface_link_type())));
            }
            BLOCK_SECTION_HEADER if offset != 0 => break,
            BLOCK_ENHANCED_PACKET | BLOCK_SIMPLE_PACKET | BLOCK_PACKET => break,
            _ => {}
        }
        offset += block_len as u64;
    }
    Ok(Layout::Pcapng { order, interfaces })
}

#[cfg(test)]
mod test {
    use super::*;
    use crate::pcap::Reader;

    fn write_tmp(name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tracedeck-at-offset-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn pcap_file() -> Vec<u8> {
        let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&65535u32.to_le_bytes());
        f.extend_from_slice(&101u32.to_le_bytes());
        for (i, body) in [&b"first"[..], &b"second record"[..]].iter().enumerate() {
            f.extend_from_slice(&(i as u32).to_le_bytes());
            f.extend_from_slice(&0u32.to_le_bytes());
            f.extend_from_slice(&(body.len() as u32).to_le_bytes());
            f.extend_from_slice(&(body.len() as u32 + 10).to_le_bytes());
            f.extend_from_slice(body);
        }
        f
    }

    fn ng_block(block_type: u32, body: &[u8]) -> Vec<u8> {
        let len = 12 + body.len().div_ceil(4) * 4;
        let mut b = Vec::new();
        b.extend_from_slice(&block_type.to_le_bytes());
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b.extend_from_slice(body);
        b.resize(len - 4, 0);
        b.extend_from_slice(&(len as u32).to_le_bytes());
        b
    }

    #[test]
    fn pcap_records_come_back_by_reader_offset() {
        let path = write_tmp("a.pcap", &pcap_file());
        let mut reader = Reader::open(&path).unwrap();
        let mut offsets = Vec::new();
        while let Some(f) = reader.next_frame().unwrap() {
            offsets.push((f.offset, f.data.to_vec(), f.orig_len));
        }
        let file = RecordFile::open(&path).unwrap();
        let mut buf = Vec::new();
        for (offset, data, orig) in offsets {
            let rec = file.read_at(offset, &mut buf).unwrap();
            assert_eq!(buf, data);
            assert_eq!(rec.orig_len, orig);
            assert_eq!(rec.link_type, LinkType::RAW);
        }
        assert!(file.read_at(10_000, &mut buf).is_err());
    }

    #[test]
    fn each_record_finds_the_one_before() {
        for (name, bytes) in [("prev.pcap", pcap_file()), ("prev.pcapng", pcapng_file())] {
            let path = write_tmp(name, &bytes);
            let mut reader = Reader::open(&path).unwrap();
            let mut offsets = Vec::new();
            while let Some(f) = reader.next_frame().unwrap() {
                offsets.push(f.offset);
            }
            assert_eq!(offsets.len(), 2, "{name}");
            let file = RecordFile::open(&path).unwrap();
            assert_eq!(
                file.previous(offsets[1]).unwrap(),
                Some(offsets[0]),
                "{name}"
            );
            assert_eq!(file.previous(offsets[0]).unwrap(), None, "{name}");
        }
    }

    /// The search widens past its first window (a record of 5,000 and one
    /// of 70,000 bytes) and stops at its bound (a record of 300 KiB is
    /// not found, and the search says so instead of reading on).
    #[test]
    fn the_record_before_is_found_across_widening_windows_up_to_a_bound() {
        let mut f = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        f.extend_from_slice(&[0; 8]);
        f.extend_from_slice(&(1u32 << 20).to_le_bytes());
        f.extend_from_slice(&101u32.to_le_bytes());
        let mut offsets = Vec::new();
        for len in [10usize, 5_000, 70_000, 10, 300 << 10, 10] {
            offsets.push(f.len() as u64);
            f.extend_from_slice(&1u32.to_le_bytes());
            f.extend_from_slice(&0u32.to_le_bytes());
            f.extend_from_slice(&(len as u32).to_le_bytes());
            f.extend_from_slice(&(len as u32).to_le_bytes());
            // Payload bytes that look like nothing: no header inside.
            f.extend(std::iter::repeat_n(0xffu8, len));
        }
        let path = write_tmp("widening.pcap", &f);
        let file = RecordFile::open(&path).unwrap();
        for i in 1..5 {
            assert_eq!(
                file.previous(offsets[i]).unwrap(),
                Some(offsets[i - 1]),
                "record {i}"
            );
        }
        assert_eq!(
            file.previous(offsets[5]).unwrap(),
            None,
            "past PREVIOUS_MAX_LEN"
        );
    }

    /// Between two packets, 3000 small blocks that hold none, and a
    /// packet block longer than the window before them: the walk back
    /// finds the packet before over both (reading the small ones a window
    /// at a time).
    #[test]
    fn the_packet_block_before_is_found_over_many_small_blocks() {
        let mut file = pcapng_file();
        let packet = |body: &[u8]| {
            let mut epb = vec![0u8; 12];
            epb.extend_from_slice(&(body.len() as u32).to_le_bytes());
            epb.extend_from_slice(&(body.len() as u32).to_le_bytes());
            epb.extend_from_slice(body);
            ng_block(BLOCK_ENHANCED_PACKET, &epb)
        };
        let big = file.len() as u64;
        file.extend(packet(&[7; 10_000]));
        for _ in 0..3000 {
            file.extend(ng_block(0x0BAD, &[]));
        }
        let last = file.len() as u64;
        file.extend(packet(b"last"));
        let path = write_tmp("small-blocks.pcapng", &file);
        let f = RecordFile::open(&path).unwrap();
        assert_eq!(f.previous(last).unwrap(), Some(big));
        let mut buf = Vec::new();
        assert_eq!(f.read_at(big, &mut buf).unwrap().caplen, 10_000);
    }

    /// A section header, an interface, two packets with a statistics
    /// block between them.
    fn pcapng_file() -> Vec<u8> {
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        let mut file = ng_block(BLOCK_SECTION_HEADER, &shb);
        let mut idb = Vec::new();
        idb.extend_from_slice(&1u16.to_le_bytes());
        idb.extend_from_slice(&[0; 6]);
        file.extend(ng_block(BLOCK_INTERFACE_DESCRIPTION, &idb));
        for body in [&b"first"[..], b"second"] {
            let mut epb = vec![0u8; 12];
            epb.extend_from_slice(&(body.len() as u32).to_le_bytes());
            epb.extend_from_slice(&(body.len() as u32).to_le_bytes());
            epb.extend_from_slice(body);
            file.extend(ng_block(BLOCK_ENHANCED_PACKET, &epb));
            file.extend(ng_block(5, &[0; 12]));
        }
        file
    }

    #[test]
    fn pcapng_enhanced_packets() {
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        let mut file = ng_block(BLOCK_SECTION_HEADER, &shb);
        let mut idb = Vec::new();
        idb.extend_from_slice(&113u16.to_le_bytes());
        idb.extend_from_slice(&[0, 0]);
        idb.extend_from_slice(&0u32.to_le_bytes());
        file.extend(ng_block(BLOCK_INTERFACE_DESCRIPTION, &idb));
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&[0; 8]);
        epb.extend_from_slice(&3u32.to_le_bytes());
        epb.extend_from_slice(&60u32.to_le_bytes());
        epb.extend_from_slice(b"abc");
        let at = file.len() as u64;
        file.extend(ng_block(BLOCK_ENHANCED_PACKET, &epb));
        let path = write_tmp("b.pcapng", &file);
        let mut reader = Reader::open(&path).unwrap();
        let frame_offset = reader.next_frame().unwrap().unwrap().offset;
        assert_eq!(frame_offset, at);
        let rf = RecordFile::open(&path).unwrap();
        let mut buf = Vec::new();
        let rec = rf.read_at(at, &mut buf).unwrap();
        assert_eq!(buf, b"abc");
        assert_eq!(rec.link_type, LinkType::LINUX_SLL);
        assert_eq!(rec.orig_len, 60);
        // The IDB is not a packet.
        assert!(rf.read_at(28, &mut buf).is_err());
    }

    #[test]
    fn records_cut_at_every_length_are_errors() {
        let whole = pcap_file();
        // The second record starts after the file header and the first.
        let second = 24 + 16 + 5;
        for len in second..whole.len() {
            let path = write_tmp(&format!("cut-{len}.pcap"), &whole[..len]);
            let file = RecordFile::open(&path).unwrap();
            let mut buf = Vec::new();
            assert!(file.read_at(24, &mut buf).is_ok());
            assert!(
                matches!(
                    file.read_at(second as u64, &mut buf),
                    Err(Error::BadRecord { .. })
                ),
                "{len}"
            );
        }
        for len in 0..24 {
            let path = write_tmp(&format!("head-{len}.pcap"), &whole[..len]);
            assert!(
                matches!(RecordFile::open(&path), Err(Error::NotACapture)),
                "{len}"
            );
        }
    }

    #[test]
    fn tiny_simple_packet_block_is_an_error() {
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        let mut file = ng_block(BLOCK_SECTION_HEADER, &shb);
        let at = file.len() as u64;
        // A simple packet block of 12 bytes has no room for its length word.
        file.extend_from_slice(&BLOCK_SIMPLE_PACKET.to_le_bytes());
        file.extend_from_slice(&12u32.to_le_bytes());
        file.extend_from_slice(&12u32.to_le_bytes());
        let path = write_tmp("d.pcapng", &file);
        let rf = RecordFile::open(&path).unwrap();
        let mut buf = Vec::new();
        assert!(matches!(
            rf.read_at(at, &mut buf),
            Err(Error::BadRecord { .. })
        ));
        // Past the end: the block header is cut.
        assert!(matches!(
            rf.read_at(at + 4, &mut buf),
            Err(Error::BadRecord { .. })
        ));
    }

    #[test]
    fn garbage_is_not_a_capture() {
        let path = write_tmp("c.bin", b"PK\x03\x04 not a capture at all, really");
        assert!(matches!(RecordFile::open(&path), Err(Error::NotACapture)));
    }
}
