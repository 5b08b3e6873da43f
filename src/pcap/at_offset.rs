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

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_IDB: u32 = 0x0000_0001;
const PCAPNG_EPB: u32 = 0x0000_0006;
const PCAPNG_SPB: u32 = 0x0000_0003;
/// How many leading blocks are examined for interface descriptions.
const MAX_LEADING_BLOCKS: usize = 4096;

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
        big_endian: bool,
        link_type: LinkType,
    },
    Pcapng {
        big_endian: bool,
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

fn u32_at(b: &[u8], at: usize, big_endian: bool) -> u32 {
    let mut w = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        w.copy_from_slice(s);
    }
    if big_endian {
        u32::from_be_bytes(w)
    } else {
        u32::from_le_bytes(w)
    }
}

fn u16_at(b: &[u8], at: usize, big_endian: bool) -> u16 {
    let mut w = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        w.copy_from_slice(s);
    }
    if big_endian {
        u16::from_be_bytes(w)
    } else {
        u16::from_le_bytes(w)
    }
}

impl RecordFile {
    /// Opens `path` and learns its layout (byte order, link types).
    pub fn open(path: &Path) -> Result<RecordFile> {
        let file = File::open(path).map_err(|source| Error::Io { offset: 0, source })?;
        let mut head = [0u8; 24];
        let n = read_full(&file, 0, &mut head)?;
        let layout = match head.get(..4) {
            Some([0xd4, 0xc3, 0xb2, 0xa1]) | Some([0x4d, 0x3c, 0xb2, 0xa1]) if n == 24 => {
                Layout::Pcap {
                    big_endian: false,
                    link_type: LinkType(u32_at(&head, 20, false) & 0x0fff_ffff),
                }
            }
            Some([0xa1, 0xb2, 0xc3, 0xd4]) | Some([0xa1, 0xb2, 0x3c, 0x4d]) if n == 24 => {
                Layout::Pcap {
                    big_endian: true,
                    link_type: LinkType(u32_at(&head, 20, true) & 0x0fff_ffff),
                }
            }
            Some([0x0a, 0x0d, 0x0d, 0x0a]) if n >= 12 => leading_interfaces(&file)?,
            _ => return Err(Error::NotACapture),
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
            Layout::Pcap {
                big_endian,
                link_type,
            } => {
                let mut h = [0u8; 16];
                if read_full(&self.file, offset, &mut h)? < 16 {
                    return Err(bad("the file ends inside the record header"));
                }
                let caplen = u32_at(&h, 8, *big_endian) as usize;
                let orig_len = u32_at(&h, 12, *big_endian);
                if caplen > MAX_RECORD_LEN {
                    return Err(bad("the record length is past the limit"));
                }
                buf.resize(caplen, 0);
                if read_full(&self.file, offset + 16, buf)? < caplen {
                    return Err(bad("the file ends inside the record"));
                }
                Ok(RecordAt {
                    link_type: *link_type,
                    orig_len,
                    caplen,
                })
            }
            Layout::Pcapng {
                big_endian,
                interfaces,
            } => {
                let be = *big_endian;
                let mut h = [0u8; 28];
                let n = read_full(&self.file, offset, &mut h)?;
                if n < 12 {
                    return Err(bad("the file ends inside the block header"));
                }
                let block_type = u32_at(&h, 0, be);
                let block_len = u32_at(&h, 4, be) as usize;
                if !(12..=MAX_RECORD_LEN + 64).contains(&block_len) {
                    return Err(bad("the block length is out of bounds"));
                }
                let (if_id, caplen, orig_len, data_at) = match block_type {
                    PCAPNG_EPB if n == 28 => (
                        u32_at(&h, 8, be),
                        u32_at(&h, 20, be) as usize,
                        u32_at(&h, 24, be),
                        28usize,
                    ),
                    PCAPNG_SPB => {
                        let orig = u32_at(&h, 8, be);
                        (0, (orig as usize).min(block_len - 16), orig, 12usize)
                    }
                    _ => return Err(bad("not a packet block")),
                };
                if data_at + caplen > block_len.saturating_sub(4) {
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

/// Walks the blocks before the first packet and collects the interfaces.
fn leading_interfaces(file: &File) -> Result<Layout> {
    let mut h = [0u8; 12];
    read_full(file, 0, &mut h)?;
    let big_endian = match u32_at(&h, 8, false) {
        0x1A2B_3C4D => false,
        m if m.swap_bytes() == 0x1A2B_3C4D => true,
        _ => return Err(Error::NotACapture),
    };
    let mut interfaces = Vec::new();
    let mut offset = 0u64;
    for _ in 0..MAX_LEADING_BLOCKS {
        if read_full(file, offset, &mut h)? < 12 {
            break;
        }
        let block_type = u32_at(&h, 0, big_endian);
        let block_len = u32_at(&h, 4, big_endian) as u64;
        if block_len < 12 || block_len > (MAX_RECORD_LEN + 64) as u64 {
            return Err(Error::BadRecord {
                offset,
                what: "the block length is out of bounds".into(),
            });
        }
        match block_type {
            PCAPNG_IDB => {
                interfaces.push(LinkType(u32::from(u16_at(&h, 8, big_endian))));
            }
            PCAPNG_SHB if offset != 0 => break,
            PCAPNG_EPB | PCAPNG_SPB | 0x2 => break,
            _ => {}
        }
        offset += block_len;
    }
    Ok(Layout::Pcapng {
        big_endian,
        interfaces,
    })
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
    fn pcapng_enhanced_packets() {
        let mut shb = Vec::new();
        shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        let mut file = ng_block(PCAPNG_SHB, &shb);
        let mut idb = Vec::new();
        idb.extend_from_slice(&113u16.to_le_bytes());
        idb.extend_from_slice(&[0, 0]);
        idb.extend_from_slice(&0u32.to_le_bytes());
        file.extend(ng_block(PCAPNG_IDB, &idb));
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&[0; 8]);
        epb.extend_from_slice(&3u32.to_le_bytes());
        epb.extend_from_slice(&60u32.to_le_bytes());
        epb.extend_from_slice(b"abc");
        let at = file.len() as u64;
        file.extend(ng_block(PCAPNG_EPB, &epb));
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
    fn garbage_is_not_a_capture() {
        let path = write_tmp("c.bin", b"PK\x03\x04 not a capture at all, really");
        assert!(matches!(RecordFile::open(&path), Err(Error::NotACapture)));
    }
}
