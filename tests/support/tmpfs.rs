//! A small tmpfs mounted for one test (root): a file system that fills up
//! (the capture agent's disk floor, serve's disk-full answers).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use super::need;

/// A tmpfs of `mib` MiB mounted on `dir` for one test (unmounted when
/// dropped), with `fill` bytes taken by a ballast file.
pub struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    pub fn mount(dir: &Path, mib: u64, fill: u64) -> Tmpfs {
        std::fs::create_dir_all(dir).unwrap();
        let ok = need::tool("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir)
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cannot mount a tmpfs on {}", dir.display());
        let t = Tmpfs {
            dir: dir.to_path_buf(),
        };
        let mut f = std::fs::File::create(dir.join("ballast")).unwrap();
        let chunk = vec![1u8; 1 << 20];
        let mut left = fill;
        while left > 0 {
            let n = left.min(chunk.len() as u64) as usize;
            f.write_all(&chunk[..n]).unwrap();
            left -= n as u64;
        }
        f.sync_all().unwrap();
        t
    }

    /// Bytes free on it.
    pub fn free(&self) -> u64 {
        tracedeck::capture::free_space(&self.dir).unwrap().avail
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.dir).status();
    }
}
