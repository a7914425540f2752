//! Test support (feature `testing`): a full disk under a folder, for tests of the
//! write-error path.
//!
//! A real full disk needs a small mount (root); the tests used to put a symbolic link
//! to `/dev/full` at the audit file's name, which the target now refuses to write
//! through (see `auditrail_core::no_follow`). So while a [`DiskFull`] guard lives,
//! every write of the target into a file under its folder fails where the OS would
//! fail it, with the OS's own error (`ENOSPC`, "No space left on device"); the
//! checks, retries and reopens around the write run as they do for real.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Folders whose files' writes fail as on a full disk.
static FULL: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// While alive, writes of the file target into files under its folder fail with
/// `ENOSPC`; dropped, space is back.
#[derive(Debug)]
#[must_use = "the disk is full only while the guard lives"]
pub struct DiskFull(PathBuf);

/// Makes the disk under `dir` full until the guard is dropped (other folders, and
/// so other tests running at the same time, are not affected).
pub fn fill_disk(dir: &Path) -> DiskFull {
    full().push(dir.to_path_buf());
    DiskFull(dir.to_path_buf())
}

impl Drop for DiskFull {
    fn drop(&mut self) {
        let mut full = full();
        if let Some(i) = full.iter().position(|d| *d == self.0) {
            full.remove(i);
        }
    }
}

fn full() -> std::sync::MutexGuard<'static, Vec<PathBuf>> {
    FULL.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The error a write into `path` meets now, if its disk was made full.
pub(crate) fn write_error(path: &Path) -> Option<std::io::Error> {
    full()
        .iter()
        .any(|d| path.starts_with(d))
        .then(|| rustix::io::Errno::NOSPC.into())
}
