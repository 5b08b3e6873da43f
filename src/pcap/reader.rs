//! `Reader`: streams the records of a pcap or pcapng file (optionally
//! gzip-compressed), front to back, in bounded memory.
//!
//! The container is told by its magic bytes, never by the file name. The
//! bytes arrive in chunks read ahead by a [`Feed`]; a record is handed out
//! as a [`Frame`] borrowing from the current chunk, and consumed on the
//! next call. pcapng blocks are
//! parsed by `pcap-parser`; the framing (lengths, bounds, byte order,
//! interfaces and their `if_tsresol`) is checked here first so a hostile
//! length never reaches an allocation.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, Read};
use std::path::Path;

use pcap_parser::pcapng::{Block, SecretsType};

use super::feed::{Chunk, Feed, HEADROOM};
use super::frame::{Frame, LinkType};
use crate::time::Timestamp;

/// The largest record (or pcapng block) accepted. libpcap caps snaplen at
/// 256 KiB for almost every link type; 16 MiB leaves room for odd writers
/// while keeping a corrupt length from asking for gigabytes.
pub const MAX_RECORD_LEN: usize = 16 << 20;

/// A classic pcap header snaplen beyond this is not a capture header.
const MAX_SNAPLEN: u32 = 256 << 20;
/// Most TLS key log bytes kept from Decryption Secrets Blocks.
const MAX_TLS_SECRETS: usize = 64 << 20;

const PCAPNG_SHB: u32 = 0x0A0D_0D0A;
const PCAPNG_BYTE_ORDER_MAGIC: u32 = 0x1A2B_3C4D;
const PCAPNG_OPB: u32 = 0x0000_0002;

/// Which container the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pcap,
    Pcapng,
}

/// What a capture file's first four bytes say: a pcap file (its byte
/// order and timestamp resolution) or a pcapng section header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Magic {
    Pcap {
        big_endian: bool,
        units_per_sec: u64,
    },
    Pcapng,
}

impl Magic {
    fn of(head: [u8; 4]) -> Option<Magic> {
        let pcap = |big_endian, units_per_sec| {
            Some(Magic::Pcap {
                big_endian,
                units_per_sec,
            })
        };
        match head {
            [0xd4, 0xc3, 0xb2, 0xa1] => pcap(false, 1_000_000),
            [0xa1, 0xb2, 0xc3, 0xd4] => pcap(true, 1_000_000),
            [0x4d, 0x3c, 0xb2, 0xa1] => pcap(false, 1_000_000_000),
            [0xa1, 0xb2, 0x3c, 0x4d] => pcap(true, 1_000_000_000),
            [0x0a, 0x0d, 0x0d, 0x0a] => Some(Magic::Pcapng),
            _ => None,
        }
    }
}

/// The capture format that a file starting with `head` is, by its magic
/// number (`None`: not a pcap or pcapng file, or fewer than four bytes).
pub fn format_of(head: &[u8]) -> Option<Format> {
    let magic = Magic::of(head.get(..4)?.try_into().ok()?)?;
    Some(match magic {
        Magic::Pcap { .. } => Format::Pcap,
        Magic::Pcapng => Format::Pcapng,
    })
}

/// A reason the file cannot be read (any further).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("read failed at byte {offset}: {source}")]
    Io { offset: u64, source: io::Error },
    #[error("the file is empty")]
    Empty,
    #[error("not a pcap or pcapng file: first bytes are {shown}{hint}")]
    NotACapture { shown: String, hint: &'static str },
    #[error("the {what} header is cut short: {have} of {need} bytes")]
    TruncatedHeader {
        what: &'static str,
        have: usize,
        need: usize,
    },
    #[error("snaplen {snaplen} in the file header is past any sane bound ({MAX_SNAPLEN} bytes): the file is damaged or not a capture")]
    SnaplenTooLarge { snaplen: u32 },
    #[error("record {number} at byte {offset} claims {len} bytes, past the {MAX_RECORD_LEN}-byte limit: the file is damaged")]
    RecordTooLarge {
        /// 1-based record number, as tshark and Wireshark count frames.
        number: u64,
        offset: u64,
        len: u64,
    },
    #[error("damaged pcapng at byte {offset}: {what}")]
    Malformed { offset: u64, what: String },
}

pub type Result<T> = std::result::Result<T, Error>;

/// Something odd that did not stop the reading.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Warning {
    /// The file ends inside a record: the usual mark of a capture killed
    /// mid-write. Everything before it was read.
    TruncatedRecord { offset: u64, have: u64, need: u64 },
    /// A pcapng packet block names an interface no IDB described.
    UnknownInterface { offset: u64, interface: u32 },
    /// A record's captured length is larger than its original length.
    CaplenOverOrigLen {
        index: u64,
        caplen: u32,
        orig_len: u32,
    },
    /// Obsolete pcapng Packet Blocks (type 2) are skipped.
    SkippedBlocks { kind: &'static str, count: u64 },
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Warning::TruncatedRecord { offset, have, need } => write!(
                f,
                "the last record (at byte {offset}) is cut short: {have} of {need} bytes; \
                 the capture was probably stopped mid-write"
            ),
            Warning::UnknownInterface { offset, interface } => write!(
                f,
                "packet block at byte {offset} names interface {interface}, which no interface block describes; skipped"
            ),
            Warning::CaplenOverOrigLen {
                index,
                caplen,
                orig_len,
            } => write!(
                f,
                "record {} has a captured length ({caplen}) larger than its original length ({orig_len})",
                index + 1
            ),
            Warning::SkippedBlocks { kind, count } => {
                write!(f, "{count} {kind} skipped")
            }
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    link_type: LinkType,
    /// Timestamp units per second (`if_tsresol`), 0 when the IDB's value
    /// cannot be represented.
    units_per_sec: u64,
    ts_offset_secs: i64,
    snaplen: u32,
}

#[derive(Debug)]
enum State {
    Pcap {
        big_endian: bool,
        units_per_sec: u64,
        link_type: LinkType,
    },
    Pcapng {
        big_endian: bool,
        interfaces: Vec<Interface>,
    },
}

/// Streams frames from a capture.
pub struct Reader {
    feed: Feed,
    /// The current chunk from `feed` (or, past a record longer than
    /// `HEADROOM`, a buffer of our own); bytes `start..end` are unread.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    /// File offset (in the decompressed stream) of `buf[start]`.
    pos: u64,
    /// Bytes of the record handed out last, consumed on the next call.
    pending: usize,
    state: State,
    format: Format,
    compressed: bool,
    next_index: u64,
    link_types: BTreeSet<u32>,
    warnings: Vec<Warning>,
    opb_skipped: u64,
    caplen_warnings: u64,
    /// TLS key log text from Decryption Secrets Blocks not yet taken.
    tls_secrets: Vec<u8>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("format", &self.format)
            .field("pos", &self.pos)
            .finish()
    }
}

fn describe_magic(bytes: &[u8]) -> (String, &'static str) {
    let shown: String = bytes
        .iter()
        .take(4)
        .map(|&b| if b.is_ascii_graphic() { b as char } else { '.' })
        .collect();
    let hex: Vec<String> = bytes.iter().take(4).map(|b| format!("{b:02x}")).collect();
    let hint = match bytes {
        [b'P', b'K', ..] => " (a zip archive?)",
        [0x28, 0xb5, 0x2f, 0xfd, ..] => " (zstd-compressed: decompress it first)",
        [b'B', b'Z', b'h', ..] => " (bzip2-compressed: decompress it first)",
        [0xfd, b'7', b'z', b'X', ..] => " (xz-compressed: decompress it first)",
        [0x7f, b'E', b'L', b'F', ..] => " (an executable)",
        [b'%', b'P', b'D', b'F', ..] => " (a PDF document)",
        [b'<', ..] => " (HTML or XML text)",
        [b'{', ..] | [b'[', ..] => " (JSON text?)",
        b if b
            .iter()
            .take(64)
            .all(|c| c.is_ascii_graphic() || c.is_ascii_whitespace()) =>
        {
            " (plain text: an strace log or tcpdump's printed output, not a capture file?)"
        }
        _ => "",
    };
    (format!("'{shown}' ({})", hex.join(" ")), hint)
}

impl Reader {
    /// Opens a capture file.
    pub fn open(path: &Path) -> Result<Reader> {
        let file = File::open(path).map_err(|source| Error::Io { offset: 0, source })?;
        // The reader's own buffer is large: no BufReader copy in between.
        Reader::new(file)
    }

    /// Reads the file header from `src` and prepares to stream records.
    /// The rest of `src` is read ahead on a thread of its own.
    pub fn new<R: Read + Send + 'static>(src: R) -> Result<Reader> {
        let (feed, compressed) =
            Feed::start(Box::new(src)).map_err(|source| Error::Io { offset: 0, source })?;
        let mut reader = Reader {
            feed,
            buf: Vec::new(),
            start: 0,
            end: 0,
            eof: false,
            pos: 0,
            pending: 0,
            state: State::Pcapng {
                big_endian: false,
                interfaces: Vec::new(),
            },
            format: Format::Pcapng,
            compressed,
            next_index: 0,
            link_types: BTreeSet::new(),
            warnings: Vec::new(),
            opb_skipped: 0,
            caplen_warnings: 0,
            tls_secrets: Vec::new(),
        };
        reader.fill_to(4)?;
        if reader.available() == 0 {
            return Err(Error::Empty);
        }
        reader.read_file_header()?;
        Ok(reader)
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the file was gzip-compressed (offsets are then positions in
    /// the decompressed stream).
    pub fn is_compressed(&self) -> bool {
        self.compressed
    }

    /// Link types (DLT numbers) of the interfaces seen so far.
    pub fn link_types(&self) -> impl Iterator<Item = u32> + '_ {
        self.link_types.iter().copied()
    }

    /// The TLS key log text of the Decryption Secrets Blocks read since
    /// the last call (`editcap --inject-secrets tls,keys.txt` writes them).
    pub fn take_tls_secrets(&mut self) -> Option<Vec<u8>> {
        if self.tls_secrets.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.tls_secrets))
        }
    }

    /// Oddities met so far.
    pub fn warnings(&self) -> Vec<Warning> {
        let mut all = self.warnings.clone();
        if self.opb_skipped > 0 {
            all.push(Warning::SkippedBlocks {
                kind: "obsolete pcapng Packet Blocks",
                count: self.opb_skipped,
            });
        }
        all
    }

    /// Bytes of the (decompressed) file consumed so far.
    pub fn position(&self) -> u64 {
        self.pos + self.pending as u64
    }

    fn available(&self) -> usize {
        self.end - self.start
    }

    /// Makes at least `need` bytes available from `start`, unless the input
    /// ends first. `need` is bounded by the callers (`MAX_RECORD_LEN`).
    fn fill_to(&mut self, need: usize) -> Result<()> {
        while self.available() < need && !self.eof {
            let (chunk, len) = match self.feed.next() {
                Chunk::Data { buf, len } => (buf, len),
                Chunk::End => {
                    self.eof = true;
                    break;
                }
                Chunk::Failed(source) => {
                    self.eof = true;
                    return Err(Error::Io {
                        offset: self.pos + self.available() as u64,
                        source,
                    });
                }
            };
            let left = self.available();
            if left <= HEADROOM {
                // The common case: the unread tail moves in front of the
                // new chunk's data, which stays where the thread put it.
                let mut chunk = chunk;
                chunk[HEADROOM - left..HEADROOM].copy_from_slice(&self.buf[self.start..self.end]);
                let spent = std::mem::replace(&mut self.buf, chunk);
                self.feed.give_back(spent);
                self.start = HEADROOM - left;
                self.end = HEADROOM + len;
            } else {
                // A record longer than the headroom spans chunks: gather it
                // in a buffer of our own.
                self.buf.copy_within(self.start..self.end, 0);
                self.buf.truncate(left);
                self.buf.extend_from_slice(&chunk[HEADROOM..HEADROOM + len]);
                self.feed.give_back(chunk);
                self.start = 0;
                self.end = self.buf.len();
            }
        }
        Ok(())
    }

    fn consume(&mut self, n: usize) {
        self.start += n;
        self.pos += n as u64;
    }

    fn read_file_header(&mut self) -> Result<()> {
        let head = &self.buf[self.start..self.end];
        let magic = [
            head[0],
            head.get(1).copied().unwrap_or(0),
            head.get(2).copied().unwrap_or(0),
            head.get(3).copied().unwrap_or(0),
        ];
        let (big_endian, units_per_sec) = match Magic::of(magic) {
            Some(Magic::Pcap {
                big_endian,
                units_per_sec,
            }) => (big_endian, units_per_sec),
            Some(Magic::Pcapng) => {
                self.format = Format::Pcapng;
                // The section header is read by `next_pcapng` like any block.
                return Ok(());
            }
            None => {
                let (shown, hint) =
                    describe_magic(&self.buf[self.start..self.end.min(self.start + 64)]);
                return Err(Error::NotACapture { shown, hint });
            }
        };
        self.format = Format::Pcap;
        self.fill_to(24)?;
        if self.available() < 24 {
            return Err(Error::TruncatedHeader {
                what: "pcap file",
                have: self.available(),
                need: 24,
            });
        }
        let h = &self.buf[self.start..self.start + 24];
        let snaplen = read_u32(h, 16, big_endian);
        // The upper bits of the link-type field carry FCS information.
        let link_type = LinkType(read_u32(h, 20, big_endian) & 0x0fff_ffff);
        if snaplen > MAX_SNAPLEN {
            return Err(Error::SnaplenTooLarge { snaplen });
        }
        self.link_types.insert(link_type.0);
        self.state = State::Pcap {
            big_endian,
            units_per_sec,
            link_type,
        };
        self.consume(24);
        Ok(())
    }

    /// The next packet record, or `None` at the end of the file.
    pub fn next_frame(&mut self) -> Result<Option<Frame<'_>>> {
        if self.pending > 0 {
            let n = self.pending;
            self.pending = 0;
            self.consume(n);
        }
        match self.state {
            State::Pcap { .. } => self.next_pcap(),
            State::Pcapng { .. } => self.next_pcapng(),
        }
    }

    fn truncated(&mut self, need: u64) -> Result<Option<Frame<'_>>> {
        self.warnings.push(Warning::TruncatedRecord {
            offset: self.pos,
            have: self.available() as u64,
            need,
        });
        // Nothing more can be read: leave the buffer empty.
        let n = self.available();
        self.consume(n);
        Ok(None)
    }

    fn next_pcap(&mut self) -> Result<Option<Frame<'_>>> {
        let State::Pcap {
            big_endian,
            units_per_sec,
            link_type,
        } = self.state
        else {
            return Ok(None);
        };
        self.fill_to(16)?;
        if self.available() == 0 {
            return Ok(None);
        }
        if self.available() < 16 {
            return self.truncated(16);
        }
        let h = &self.buf[self.start..self.start + 16];
        let ts_sec = read_u32(h, 0, big_endian);
        let ts_frac = read_u32(h, 4, big_endian);
        let caplen = read_u32(h, 8, big_endian);
        let orig_len = read_u32(h, 12, big_endian);
        if caplen as usize > MAX_RECORD_LEN {
            return Err(Error::RecordTooLarge {
                number: self.next_index + 1,
                offset: self.pos,
                len: caplen as u64,
            });
        }
        let total = 16 + caplen as usize;
        self.fill_to(total)?;
        if self.available() < total {
            return self.truncated(total as u64);
        }
        let index = self.next_index;
        self.next_index += 1;
        if caplen > orig_len {
            self.note_caplen_over(index, caplen, orig_len);
        }
        self.pending = total;
        // The reader thread wrote this chunk from another core: ask for the
        // next record's header (and its packet headers) while this one is
        // analysed, rather than stall on it in the next call.
        prefetch(self.buf.get(self.start + total..self.start + total + 128));
        let ts = Timestamp::from_parts(ts_sec as i64, ts_frac as u64, units_per_sec);
        Ok(Some(Frame {
            index,
            offset: self.pos,
            ts: Some(ts),
            link_type,
            interface: 0,
            orig_len,
            data: &self.buf[self.start + 16..self.start + total],
        }))
    }

    fn note_caplen_over(&mut self, index: u64, caplen: u32, orig_len: u32) {
        self.caplen_warnings += 1;
        // One example is enough; a file full of them says so once.
        if self.caplen_warnings == 1 {
            self.warnings.push(Warning::CaplenOverOrigLen {
                index,
                caplen,
                orig_len,
            });
        }
    }

    fn next_pcapng(&mut self) -> Result<Option<Frame<'_>>> {
        loop {
            self.fill_to(12)?;
            if self.available() == 0 {
                return Ok(None);
            }
            if self.available() < 12 {
                return self.truncated(12);
            }
            let offset = self.pos;
            let h = &self.buf[self.start..self.start + 12];
            let raw_type = read_u32(h, 0, false);
            let mut big_endian = match &self.state {
                State::Pcapng { big_endian, .. } => *big_endian,
                State::Pcap { .. } => false,
            };
            if raw_type == PCAPNG_SHB {
                big_endian = match read_u32(h, 8, false) {
                    PCAPNG_BYTE_ORDER_MAGIC => false,
                    m if m.swap_bytes() == PCAPNG_BYTE_ORDER_MAGIC => true,
                    m => {
                        return Err(Error::Malformed {
                            offset,
                            what: format!(
                            "section header has byte-order magic {m:#010x}, expected 0x1a2b3c4d"
                        ),
                        })
                    }
                };
            } else if offset == 0 {
                return Err(Error::Malformed {
                    offset,
                    what: "the file does not start with a section header block".into(),
                });
            }
            let block_type = read_u32(h, 0, big_endian);
            let block_len = read_u32(h, 4, big_endian) as usize;
            if block_len < 12 || !block_len.is_multiple_of(4) {
                return Err(Error::Malformed {
                    offset,
                    what: format!("block type {block_type:#x} has length {block_len}, which is not a multiple of 4 of at least 12"),
                });
            }
            if block_len > MAX_RECORD_LEN + 64 {
                return Err(Error::RecordTooLarge {
                    number: self.next_index + 1,
                    offset,
                    len: block_len as u64,
                });
            }
            self.fill_to(block_len)?;
            if self.available() < block_len {
                return self.truncated(block_len as u64);
            }
            let trailer = read_u32(
                &self.buf[self.start..self.start + block_len],
                block_len - 4,
                big_endian,
            ) as usize;
            if trailer != block_len {
                return Err(Error::Malformed {
                    offset,
                    what: format!("block type {block_type:#x}: leading length {block_len} and trailing length {trailer} differ"),
                });
            }
            if block_type == PCAPNG_OPB {
                self.opb_skipped += 1;
                self.consume(block_len);
                continue;
            }
            let bytes = &self.buf[self.start..self.start + block_len];
            let parsed = if big_endian {
                pcap_parser::pcapng::parse_block_be(bytes)
            } else {
                pcap_parser::pcapng::parse_block_le(bytes)
            };
            let block = match parsed {
                Ok((_, block)) => block,
                Err(e) => {
                    return Err(Error::Malformed {
                        offset,
                        what: format!(
                            "block type {block_type:#x} of {block_len} bytes does not parse ({})",
                            describe_nom(&e)
                        ),
                    })
                }
            };
            let State::Pcapng {
                interfaces,
                big_endian: order,
            } = &mut self.state
            else {
                return Ok(None);
            };
            // A packet: work out its interface, time and bytes.
            let (if_id, ts_raw, caplen, orig_len, data_at) = match block {
                Block::SectionHeader(_) => {
                    *order = big_endian;
                    interfaces.clear();
                    self.consume(block_len);
                    continue;
                }
                Block::InterfaceDescription(idb) => {
                    let units =
                        pcap_parser::pcapng::build_ts_resolution(idb.if_tsresol).unwrap_or(0);
                    let link_type = LinkType(u32::from(idb.linktype.0 as u16));
                    self.link_types.insert(link_type.0);
                    interfaces.push(Interface {
                        link_type,
                        units_per_sec: units,
                        ts_offset_secs: idb.if_tsoffset,
                        snaplen: idb.snaplen,
                    });
                    self.consume(block_len);
                    continue;
                }
                Block::EnhancedPacket(epb) => {
                    let ts = (u64::from(epb.ts_high) << 32) | u64::from(epb.ts_low);
                    // EPB body: 28 bytes of header before the packet data.
                    (
                        epb.if_id,
                        Some(ts),
                        epb.caplen as usize,
                        epb.origlen,
                        28usize,
                    )
                }
                Block::SimplePacket(spb) => {
                    let room = block_len - 16;
                    let snap = interfaces.first().map(|i| i.snaplen).unwrap_or(0);
                    let mut caplen = (spb.origlen as usize).min(room);
                    if snap > 0 {
                        caplen = caplen.min(snap as usize);
                    }
                    (0, None, caplen, spb.origlen, 12usize)
                }
                Block::DecryptionSecrets(dsb) => {
                    if dsb.secrets_type == SecretsType::TlsKeyLog
                        && self.tls_secrets.len() + dsb.data.len() <= MAX_TLS_SECRETS
                    {
                        self.tls_secrets.extend_from_slice(dsb.data);
                        self.tls_secrets.push(b'\n');
                    }
                    self.consume(block_len);
                    continue;
                }
                _ => {
                    self.consume(block_len);
                    continue;
                }
            };
            let Some(iface) = interfaces.get(if_id as usize).copied() else {
                self.warnings.push(Warning::UnknownInterface {
                    offset,
                    interface: if_id,
                });
                self.consume(block_len);
                continue;
            };
            if data_at + caplen > block_len - 4 {
                return Err(Error::Malformed {
                    offset,
                    what: format!(
                        "packet block claims {caplen} captured bytes but holds only {}",
                        (block_len - 4).saturating_sub(data_at)
                    ),
                });
            }
            let ts = ts_raw.and_then(|raw| {
                let units = iface.units_per_sec;
                (units > 0).then(|| {
                    let secs = (raw / units) as i64;
                    Timestamp::from_parts(
                        secs.saturating_add(iface.ts_offset_secs),
                        raw % units,
                        units,
                    )
                })
            });
            let index = self.next_index;
            self.next_index += 1;
            if caplen as u64 > u64::from(orig_len) {
                self.note_caplen_over(index, caplen as u32, orig_len);
            }
            self.pending = block_len;
            let start = self.start + data_at;
            return Ok(Some(Frame {
                index,
                offset,
                ts,
                link_type: iface.link_type,
                interface: if_id,
                orig_len,
                data: &self.buf[start..start + caplen],
            }));
        }
    }
}

fn describe_nom(e: &pcap_parser::nom::Err<pcap_parser::PcapError<&[u8]>>) -> String {
    match e {
        pcap_parser::nom::Err::Incomplete(_) => "a field runs past the end of the block".into(),
        pcap_parser::nom::Err::Error(inner) | pcap_parser::nom::Err::Failure(inner) => {
            match inner {
                pcap_parser::PcapError::NomError(_, kind)
                | pcap_parser::PcapError::OwnedNomError(_, kind) => {
                    format!("{kind:?}")
                }
                other => format!("{other:?}"),
            }
        }
    }
}

/// Hints the CPU to fetch `bytes` into cache (a no-op where unsupported).
#[inline(always)]
fn prefetch(bytes: Option<&[u8]>) {
    #[cfg(target_arch = "x86_64")]
    if let Some(bytes) = bytes {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        for line in bytes.chunks(64) {
            // SAFETY: a prefetch reads nothing and cannot fault; the pointer
            // is into a live slice anyway, and SSE is part of x86_64.
            unsafe { _mm_prefetch::<_MM_HINT_T0>(line.as_ptr().cast()) };
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = bytes;
}

fn read_u32(bytes: &[u8], at: usize, big_endian: bool) -> u32 {
    let mut word = [0u8; 4];
    if let Some(src) = bytes.get(at..at + 4) {
        word.copy_from_slice(src);
    }
    if big_endian {
        u32::from_be_bytes(word)
    } else {
        u32::from_le_bytes(word)
    }
}

#[cfg(test)]
mod test {
    use super::*;

    fn pcap_header(magic: [u8; 4], link: u32) -> Vec<u8> {
        let mut v = magic.to_vec();
        v.extend_from_slice(&2u16.to_le_bytes());
        v.extend_from_slice(&4u16.to_le_bytes());
        v.extend_from_slice(&[0; 8]);
        v.extend_from_slice(&65535u32.to_le_bytes());
        v.extend_from_slice(&link.to_le_bytes());
        v
    }

    fn record(sec: u32, frac: u32, data: &[u8], orig: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&sec.to_le_bytes());
        v.extend_from_slice(&frac.to_le_bytes());
        v.extend_from_slice(&(data.len() as u32).to_le_bytes());
        v.extend_from_slice(&orig.to_le_bytes());
        v.extend_from_slice(data);
        v
    }

    type Row = (u64, i64, Vec<u8>, u32);

    fn collect(bytes: Vec<u8>) -> (Vec<Row>, Vec<Warning>) {
        let mut r = Reader::new(io::Cursor::new(bytes)).unwrap();
        let mut out = Vec::new();
        while let Some(f) = r.next_frame().unwrap() {
            out.push((
                f.offset,
                f.ts.unwrap().as_nanos(),
                f.data.to_vec(),
                f.orig_len,
            ));
        }
        (out, r.warnings())
    }

    #[test]
    fn records_across_chunk_boundaries_come_out_whole() {
        // Sizes chosen so chunk boundaries fall in record headers, in
        // packet data, and inside records longer than the headroom (one
        // longer than a whole chunk).
        let mut sizes: Vec<usize> = (0..3000).map(|i| (i * 7919) % 1600).collect();
        sizes.extend([100_000, 3 << 20, 17, 70_000, 1]);
        sizes.extend((0..2000).map(|i| (i * 104_729) % 9000));
        let mut file = pcap_header([0xd4, 0xc3, 0xb2, 0xa1], 1);
        let mut expected = Vec::new();
        for (i, &n) in sizes.iter().enumerate() {
            let data: Vec<u8> = (0..n).map(|b| (b * 31 + i) as u8).collect();
            expected.push((file.len() as u64, data.clone()));
            file.extend(record(i as u32, 0, &data, n as u32));
        }
        let (rows, warnings) = collect(file);
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(rows.len(), expected.len());
        for (row, (offset, data)) in rows.iter().zip(&expected) {
            assert_eq!(row.0, *offset);
            assert!(row.2 == *data, "record at {offset} differs");
        }
    }

    #[test]
    fn classic_microsecond_records() {
        let mut file = pcap_header([0xd4, 0xc3, 0xb2, 0xa1], 1);
        file.extend(record(10, 5, b"abc", 60));
        file.extend(record(11, 0, b"de", 2));
        let (frames, warnings) = collect(file);
        assert_eq!(frames.len(), 2);
        assert_eq!(frames[0], (24, 10_000_005_000, b"abc".to_vec(), 60));
        assert_eq!(frames[1].0, 24 + 19);
        assert!(warnings.is_empty());
    }

    #[test]
    fn nanosecond_magic() {
        let mut file = pcap_header([0x4d, 0x3c, 0xb2, 0xa1], 1);
        file.extend(record(1, 7, b"x", 1));
        let (frames, _) = collect(file);
        assert_eq!(frames[0].1, 1_000_000_007);
    }

    #[test]
    fn truncated_last_record_is_a_warning() {
        let mut file = pcap_header([0xd4, 0xc3, 0xb2, 0xa1], 1);
        file.extend(record(1, 0, b"abcd", 4));
        let mut cut = record(2, 0, b"efghij", 6);
        cut.truncate(19);
        file.extend(cut);
        let (frames, warnings) = collect(file);
        assert_eq!(frames.len(), 1);
        assert_eq!(
            warnings,
            vec![Warning::TruncatedRecord {
                offset: 44,
                have: 19,
                need: 22
            }]
        );
    }

    #[test]
    fn absurd_record_length_is_an_error() {
        let mut file = pcap_header([0xd4, 0xc3, 0xb2, 0xa1], 1);
        let mut rec = record(1, 0, b"", 0);
        rec[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        file.extend(rec);
        let mut r = Reader::new(io::Cursor::new(file)).unwrap();
        let err = r.next_frame().unwrap_err();
        assert!(
            matches!(err, Error::RecordTooLarge { offset: 24, .. }),
            "{err}"
        );
    }

    #[test]
    fn garbage_and_empty() {
        assert!(matches!(
            Reader::new(io::Cursor::new(Vec::new())),
            Err(Error::Empty)
        ));
        let err = Reader::new(io::Cursor::new(b"PK\x03\x04rest".to_vec())).unwrap_err();
        assert!(err.to_string().contains("zip"), "{err}");
        let err = Reader::new(io::Cursor::new(b"execve(\"/bin/ls\")".to_vec())).unwrap_err();
        assert!(err.to_string().contains("plain text"), "{err}");
        let err = Reader::new(io::Cursor::new(vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0])).unwrap_err();
        assert!(
            matches!(err, Error::TruncatedHeader { have: 6, .. }),
            "{err}"
        );
    }

    #[test]
    fn gzip_is_detected_by_magic() {
        use std::io::Write;
        let mut file = pcap_header([0xd4, 0xc3, 0xb2, 0xa1], 1);
        file.extend(record(3, 0, b"zz", 2));
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&file).unwrap();
        let mut r = Reader::new(io::Cursor::new(gz.finish().unwrap())).unwrap();
        assert!(r.is_compressed());
        let f = r.next_frame().unwrap().unwrap();
        assert_eq!(f.data, b"zz");
    }

    fn ng_block(block_type: u32, body: &[u8]) -> Vec<u8> {
        let len = (12 + body.len()).div_ceil(4) * 4;
        let mut v = Vec::new();
        v.extend_from_slice(&block_type.to_le_bytes());
        v.extend_from_slice(&(len as u32).to_le_bytes());
        v.extend_from_slice(body);
        v.resize(len - 4, 0);
        v.extend_from_slice(&(len as u32).to_le_bytes());
        v
    }

    #[test]
    fn pcapng_interfaces_with_their_own_resolution() {
        let mut shb = Vec::new();
        shb.extend_from_slice(&PCAPNG_BYTE_ORDER_MAGIC.to_le_bytes());
        shb.extend_from_slice(&1u16.to_le_bytes());
        shb.extend_from_slice(&0u16.to_le_bytes());
        shb.extend_from_slice(&(-1i64).to_le_bytes());
        let mut file = ng_block(PCAPNG_SHB, &shb);
        // IDB 0: Ethernet, default µs. IDB 1: SLL, if_tsresol = 9 (ns).
        let mut idb0 = Vec::new();
        idb0.extend_from_slice(&1u16.to_le_bytes());
        idb0.extend_from_slice(&[0, 0]);
        idb0.extend_from_slice(&0u32.to_le_bytes());
        file.extend(ng_block(1, &idb0));
        let mut idb1 = Vec::new();
        idb1.extend_from_slice(&113u16.to_le_bytes());
        idb1.extend_from_slice(&[0, 0]);
        idb1.extend_from_slice(&0u32.to_le_bytes());
        idb1.extend_from_slice(&9u16.to_le_bytes()); // if_tsresol
        idb1.extend_from_slice(&1u16.to_le_bytes());
        idb1.extend_from_slice(&[9, 0, 0, 0]);
        idb1.extend_from_slice(&[0, 0, 0, 0]); // opt_endofopt
        file.extend(ng_block(1, &idb1));
        let epb = |if_id: u32, ts: u64, data: &[u8]| {
            let mut b = Vec::new();
            b.extend_from_slice(&if_id.to_le_bytes());
            b.extend_from_slice(&((ts >> 32) as u32).to_le_bytes());
            b.extend_from_slice(&(ts as u32).to_le_bytes());
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(&(data.len() as u32).to_le_bytes());
            b.extend_from_slice(data);
            ng_block(6, &b)
        };
        file.extend(epb(0, 1_500_000, b"one"));
        file.extend(epb(1, 2_000_000_123, b"two!!"));
        let mut r = Reader::new(io::Cursor::new(file)).unwrap();
        let a = r.next_frame().unwrap().unwrap();
        assert_eq!(
            (a.link_type, a.ts.unwrap().as_nanos(), a.data),
            (LinkType::ETHERNET, 1_500_000_000, &b"one"[..])
        );
        let b = r.next_frame().unwrap().unwrap();
        assert_eq!(
            (b.link_type, b.ts.unwrap().as_nanos(), b.data),
            (LinkType::LINUX_SLL, 2_000_000_123, &b"two!!"[..])
        );
        assert!(r.next_frame().unwrap().is_none());
        assert_eq!(r.link_types().collect::<Vec<_>>(), vec![1, 113]);
    }
}
