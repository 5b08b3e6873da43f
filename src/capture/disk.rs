//! Disk guard: free space on the output file system (statvfs) and the floor
//! under which the agent refuses to start, or stops: 5% of the file system
//! or 1 GiB, whichever is smaller.

use std::io;
use std::path::{Path, PathBuf};

/// 1 GiB: the floor on any file system larger than 20 GiB.
pub const FLOOR_CAP: u64 = 1 << 30;

/// Free and total bytes of one file system, as an unprivileged user sees
/// them (`f_bavail`, not `f_bfree`: the root reserve does not count).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space {
    pub avail: u64,
    pub total: u64,
}

impl Space {
    /// The free space the agent keeps: 5% of `total` or 1 GiB, whichever is smaller.
    pub fn floor(&self) -> u64 {
        (self.total / 20).min(FLOOR_CAP)
    }

    /// True when free space is under the floor.
    pub fn is_low(&self) -> bool {
        self.avail < self.floor()
    }
}

/// The directory that will hold `file` (its parent, or `.`).
pub fn dir_of(file: &Path) -> PathBuf {
    match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// Free space of the file system holding `path` (a file or a directory).
#[cfg(unix)]
pub fn space(path: &Path) -> io::Result<Space> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    let c = CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"))?;
    // SAFETY: statvfs writes into the zeroed struct we own; `c` is a valid C string.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    let frsize = st.f_frsize as u64;
    Ok(Space {
        avail: (st.f_bavail as u64).saturating_mul(frsize),
        total: (st.f_blocks as u64).saturating_mul(frsize),
    })
}

#[cfg(not(unix))]
pub fn space(_path: &Path) -> io::Result<Space> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "free space is only measured on Unix",
    ))
}

#[cfg(test)]
mod test {
    use super::*;

    #[test]
    fn floor_is_five_percent_or_one_gib() {
        let small = Space {
            avail: 0,
            total: 10_000_000_000,
        };
        assert_eq!(small.floor(), 500_000_000);
        let big = Space {
            avail: 0,
            total: 500_000_000_000,
        };
        assert_eq!(big.floor(), 1 << 30);
        assert!(Space {
            avail: 499_999_999,
            total: 10_000_000_000
        }
        .is_low());
        assert!(!Space {
            avail: 500_000_000,
            total: 10_000_000_000
        }
        .is_low());
    }

    #[test]
    fn dir_of_bare_name_is_cwd() {
        assert_eq!(dir_of(Path::new("out.pcap")), PathBuf::from("."));
        assert_eq!(
            dir_of(Path::new("/tmp/x/out.pcap")),
            PathBuf::from("/tmp/x")
        );
    }

    #[cfg(unix)]
    #[test]
    fn space_of_root() {
        let s = space(Path::new("/")).unwrap();
        assert!(s.total > 0 && s.avail <= s.total);
        assert!(space(Path::new("/no/such/dir/anywhere")).is_err());
    }
}
