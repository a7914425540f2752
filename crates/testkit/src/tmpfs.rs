//! A real small file system that fills up (`ENOSPC`): for the tests of what a full disk
//! does (ingest, prune, key rotation). Mounting needs root.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a failed step is a failed test

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// A tmpfs mounted on a temp folder, unmounted (then removed) when dropped: a real
/// file system that fills up (`ENOSPC`). Needs root; [`Tmpfs::mount`] is `None`
/// without it (skip the test through `auditrail_testkit::prereq::skip`).
#[derive(Debug)]
pub struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`mount -o size=`: `1m`, `8m`).
    pub fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs { dir })
    }

    /// Gives the file system more room (`mount -o remount,size=`): space comes back.
    pub fn grow(&self, size: &str) {
        let ok = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "cannot remount the tmpfs with size {size}");
    }

    /// The mount point.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Takes every block left (a file `filler` at its root): a full disk.
    pub fn fill(&self) {
        let mut f = std::fs::File::create(self.path().join("filler")).unwrap();
        let block = vec![0u8; 64 * 1024];
        while f.write_all(&block).is_ok() {}
        while f.write_all(&[0u8; 512]).is_ok() {}
    }

    /// Takes every block but about `bytes` (the `filler` of [`Tmpfs::fill`], cut back by
    /// `bytes`): a disk with small room left, which takes small writes and refuses a
    /// larger one.
    pub fn fill_leaving(&self, bytes: u64) {
        self.fill();
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(self.path().join("filler"))
            .unwrap();
        let len = f.metadata().unwrap().len();
        f.set_len(len.saturating_sub(bytes)).unwrap();
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}
