//! The live capture agent behind `tracedeck capture`: AF_PACKET with a
//! TPACKET_V3 ring (Linux only, no libpcap), a classic BPF filter in the
//! kernel where one compiles, classic pcap output through `pcap-file`
//! with a size cap or a ring of files, a free-space floor, clean stops,
//! and upload of the finished files to a tracedeck server.
//!
//! Each captured packet becomes the same [`Frame`] the file readers yield
//! before it is filtered in user space (when needed) and written.
//!
//! Parts: `socket` (socket and ring), `writer` (pcap files and rotation),
//! `disk` (free-space floor), `stats` (counters, stop reasons, status
//! line), `signals` (SIGINT/SIGTERM), `upload` (POST to the server),
//! `units` (sizes and durations), `agent` (the loop tying them together).
//!
//! The library never prints: progress goes to an [`Observer`].

mod disk;
mod filter_glue;
mod stats;
mod units;
mod upload;
mod writer;

#[cfg(target_os = "linux")]
mod agent;
#[cfg(target_os = "linux")]
mod signals;
#[cfg(target_os = "linux")]
mod socket;

use std::io;
use std::path::PathBuf;
use std::time::Duration;

use crate::pcap::{Frame, LinkType};

pub use disk::{space as free_space, Space};
pub use stats::{status_line, Stats, StopReason};
pub use units::{parse_duration, parse_size, Bytes, Clock, Error as UnitError};
pub use upload::{
    parse_answer, upload_file, upload_file_with, Access as UploadAccess, Error as UploadError,
    RetryPolicy, Uploaded, CONTENT_TYPE,
};
pub use writer::{ring_path, Output, PcapFile, Written};

/// `--max-size` when none is given: 100 MB.
pub const DEFAULT_MAX_SIZE: u64 = 100_000_000;
/// `--snaplen` when none is given (tcpdump's default).
pub const DEFAULT_SNAPLEN: u32 = 262_144;
/// The smallest `--max-size` accepted.
pub const MIN_MAX_SIZE: u64 = 4096;

/// Everything that can stop a capture from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot open a packet socket: run as root or grant CAP_NET_RAW (e.g. setcap cap_net_raw+ep on the binary)")]
    NotPermitted,
    #[error("no such interface: {0}")]
    NoSuchInterface(String),
    #[error("packet socket {op} failed: {source}")]
    Socket {
        op: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}: {source}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "refusing to start: free space on {} is {}, under the floor of {} (5% of the file system or 1 GiB, whichever is smaller)",
        dir.display(), Bytes(space.avail), Bytes(space.floor())
    )]
    DiskLow { dir: PathBuf, space: Space },
    #[error("{0}")]
    Config(String),
    #[error("live capture is only available on Linux")]
    Unsupported,
}

pub type Result<T> = std::result::Result<T, Error>;

/// What one capture does.
#[derive(Clone, Debug)]
pub struct Config {
    /// Interface name, or `any`.
    pub interface: String,
    /// Output file (the newest file of a ring).
    pub output: PathBuf,
    /// Cap on each file's size in bytes.
    pub max_size: u64,
    /// Number of files to rotate through; 1 means no rotation (stop at the cap).
    pub ring: u32,
    pub max_duration: Option<Duration>,
    pub max_packets: Option<u64>,
    /// Most bytes kept per packet, link header included.
    pub snaplen: u32,
    /// Start the next file of the ring this often (tcpdump's `-G`), as
    /// well as when a file is full; needs a ring.
    pub rotate_every: Option<Duration>,
}

impl Config {
    /// A capture of `interface` into `output` with the default limits.
    pub fn new(interface: impl Into<String>, output: impl Into<PathBuf>) -> Config {
        Config {
            interface: interface.into(),
            output: output.into(),
            max_size: DEFAULT_MAX_SIZE,
            ring: 1,
            max_duration: None,
            max_packets: None,
            snaplen: DEFAULT_SNAPLEN,
            rotate_every: None,
        }
    }

    /// Checks the limits against each other.
    pub fn validate(&self) -> Result<()> {
        if self.max_size < MIN_MAX_SIZE {
            return Err(Error::Config(format!(
                "--max-size {} is too small: at least {} ({MIN_MAX_SIZE} bytes)",
                Bytes(self.max_size),
                Bytes(MIN_MAX_SIZE)
            )));
        }
        if self.ring == 0 {
            return Err(Error::Config("--ring needs at least 1 file".into()));
        }
        if self.snaplen == 0 {
            return Err(Error::Config("--snaplen must be at least 1".into()));
        }
        if let Some(every) = self.rotate_every {
            if every.is_zero() {
                return Err(Error::Config("--rotate-every must be above 0".into()));
            }
            if self.ring < 2 {
                return Err(Error::Config(
                    "--rotate-every (-G) needs a ring of files: add --ring N (-W N)".into(),
                ));
            }
        }
        if self.max_packets == Some(0) {
            return Err(Error::Config("--max-packets must be at least 1".into()));
        }
        Ok(())
    }

    /// The snaplen actually used: a record always fits in an empty file.
    pub fn effective_snaplen(&self) -> u32 {
        let room = self
            .max_size
            .saturating_sub(writer::FILE_HEADER_LEN + writer::RECORD_HEADER_LEN);
        u64::from(self.snaplen).min(room).min(u64::from(u32::MAX)) as u32
    }
}

/// How the socket delivers packets, and so what the file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkKind {
    /// SOCK_RAW on an Ethernet-like device (`lo`, `eth0`): Ethernet frames, DLT 1.
    Ethernet,
    /// SOCK_DGRAM (`any`, other device types): Linux cooked v2, DLT 276.
    Cooked,
}

impl LinkKind {
    pub fn link_type(self) -> LinkType {
        match self {
            LinkKind::Ethernet => LinkType::ETHERNET,
            LinkKind::Cooked => LinkType::LINUX_SLL2,
        }
    }
}

/// One classic BPF instruction, laid out as the kernel's `sock_filter`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BpfInsn {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// The seam to the filter language: a filter that may compile to classic
/// BPF for the socket's view of packets, and can always match a frame.
pub trait PacketFilter {
    /// A program for the kernel, which sees packets from the link header
    /// (`Ethernet`) or from the network header with link fields in
    /// ancillary loads (`Cooked`, SOCK_DGRAM); or why there is none.
    fn compile(&self, link: LinkKind) -> std::result::Result<Vec<BpfInsn>, String>;
    /// The same test in user space, on the frame as it will be written.
    fn matches(&self, frame: &Frame<'_>) -> bool;
}

/// Where the filter runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterPlacement {
    /// No filter: every packet is kept.
    None,
    /// In the kernel: rejected packets never reach user space.
    Kernel,
    /// In user space, for this reason: every packet is copied out first.
    UserSpace { reason: String },
}

/// What a capture told its observer when it started.
#[derive(Clone, Debug)]
pub struct Started {
    pub interface: String,
    pub link: LinkKind,
    pub snaplen: u32,
    pub filter: FilterPlacement,
}

/// Receives progress from a running capture (the CLI draws the status line).
pub trait Observer {
    fn started(&mut self, _info: &Started) {}
    /// Called about four times a second.
    fn progress(&mut self, _stats: &Stats) {}
}

/// An observer that ignores everything.
pub struct Quiet;
impl Observer for Quiet {}

/// The result of a finished capture.
#[derive(Clone, Debug)]
pub struct Summary {
    pub stats: Stats,
    pub reason: StopReason,
    pub filter: FilterPlacement,
    /// The files this capture left, oldest first (one unless `--ring`).
    pub files: Vec<PathBuf>,
}

/// Runs a capture until a limit, a signal or the free-space floor stops it.
#[cfg(target_os = "linux")]
pub fn run(
    config: &Config,
    filter: Option<&dyn PacketFilter>,
    observer: &mut dyn Observer,
) -> Result<Summary> {
    agent::run(config, filter, observer)
}

/// Live capture needs AF_PACKET: on other systems it only says so.
#[cfg(not(target_os = "linux"))]
pub fn run(
    _config: &Config,
    _filter: Option<&dyn PacketFilter>,
    _observer: &mut dyn Observer,
) -> Result<Summary> {
    Err(Error::Unsupported)
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn validate_and_snaplen() {
        let mut c = Config::new("lo", "/tmp/x.pcap");
        assert!(c.validate().is_ok());
        assert_eq!(c.effective_snaplen(), DEFAULT_SNAPLEN);
        c.max_size = 8192;
        assert_eq!(c.effective_snaplen(), 8192 - 40);
        c.max_size = 100;
        assert!(c.validate().unwrap_err().to_string().contains("too small"));
        c.max_size = 8192;
        c.max_packets = Some(0);
        assert!(c.validate().is_err());
    }

    #[test]
    fn insn_layout_matches_sock_filter() {
        assert_eq!(std::mem::size_of::<BpfInsn>(), 8);
        #[cfg(target_os = "linux")]
        assert_eq!(
            std::mem::size_of::<BpfInsn>(),
            std::mem::size_of::<libc::sock_filter>()
        );
    }
}
