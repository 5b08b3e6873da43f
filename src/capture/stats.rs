//! Capture counters, why a capture stopped, and the one-line status shown
//! on a terminal while capturing.

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use super::disk::Space;
use super::units::{Bytes, Clock};

/// Counters of a running or finished capture.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Packets written to the output.
    pub packets: u64,
    /// Their length on the wire (sum of `orig_len`).
    pub wire_bytes: u64,
    /// Size of the file being written.
    pub file_len: u64,
    /// Files started by this capture (more than one with `--ring`).
    pub files: u32,
    pub elapsed: Duration,
    /// Packets the kernel accepted for this socket (PACKET_STATISTICS `tp_packets`, drops included).
    pub kernel_received: u64,
    /// Packets the kernel dropped because the ring was full (`tp_drops`).
    pub kernel_dropped: u64,
    /// Packets the user-space filter rejected (when the filter could not run in the kernel).
    pub filtered_in_user: u64,
}

/// Why a capture ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StopReason {
    MaxPackets(u64),
    MaxDuration(Duration),
    /// The single output file reached `--max-size` (no `--ring`).
    MaxSize(u64),
    /// SIGINT or SIGTERM.
    Signal(&'static str),
    /// Free space on the output file system fell under the floor.
    DiskLow {
        dir: PathBuf,
        space: Space,
    },
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StopReason::MaxPackets(n) => write!(f, "reached --max-packets {n}"),
            StopReason::MaxDuration(d) => write!(f, "reached --max-duration {}", Clock(*d)),
            StopReason::MaxSize(n) => write!(f, "file reached --max-size {}", Bytes(*n)),
            StopReason::Signal(name) => write!(f, "stopped by {name}"),
            StopReason::DiskLow { dir, space } => write!(
                f,
                "free space on {} fell to {}, under the floor of {} (5% of the file system or 1 GiB, whichever is smaller)",
                dir.display(),
                Bytes(space.avail),
                Bytes(space.floor())
            ),
        }
    }
}

/// The live status line: `1234 packets, 1.20 MB, file 1.10 MB / 100 MB, 0:01:05, 0 dropped`.
pub fn status_line(stats: &Stats, max_size: u64, ring: u32) -> String {
    let ring = if ring > 1 {
        format!(" (file {} of ring {ring})", stats.files.min(ring))
    } else {
        String::new()
    };
    format!(
        "{} packets, {}, file {} / {}{ring}, {}, {} dropped by kernel",
        stats.packets,
        Bytes(stats.wire_bytes),
        Bytes(stats.file_len),
        Bytes(max_size),
        Clock(stats.elapsed),
        stats.kernel_dropped
    )
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn status() {
        let s = Stats {
            packets: 1234,
            wire_bytes: 1_200_000,
            file_len: 1_100_000,
            files: 1,
            elapsed: Duration::from_secs(65),
            kernel_received: 1300,
            kernel_dropped: 3,
            filtered_in_user: 0,
        };
        assert_eq!(
            status_line(&s, 100_000_000, 1),
            "1234 packets, 1.20 MB, file 1.10 MB / 100 MB, 0:01:05, 3 dropped by kernel"
        );
        let s = Stats { files: 7, ..s };
        assert!(status_line(&s, 100_000_000, 3).contains("(file 3 of ring 3)"));
    }

    #[test]
    fn reasons() {
        assert_eq!(
            StopReason::MaxPackets(10).to_string(),
            "reached --max-packets 10"
        );
        assert_eq!(
            StopReason::Signal("SIGINT").to_string(),
            "stopped by SIGINT"
        );
        let low = StopReason::DiskLow {
            dir: PathBuf::from("/data"),
            space: Space {
                avail: 1_000_000,
                total: 10_000_000_000,
            },
        };
        assert!(low
            .to_string()
            .starts_with("free space on /data fell to 1 MB, under the floor of 500 MB"));
    }
}
