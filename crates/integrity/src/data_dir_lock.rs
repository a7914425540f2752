//! One user of a data dir at a time: `<data dir>/auditrail.lock`, an advisory `flock`
//! held by `auditrail serve` for its whole life and by the offline commands that change
//! the data dir's files or its stores (`keys rotate`, `store prune`, `store accept`).
//!
//! The store's own lock (on each store's root folder) is not enough: a command can
//! change what the server signs with (its key, the high-water marks) without opening
//! every store, and stores configured outside the data dir are not found by walking
//! it. The data dir is where the key and the marks live, so its lock is the one every
//! writer of them takes.
//!
//! The file holds the holder's process id and what it is (for the refusal message
//! only; the lock is the `flock`, which the kernel drops when the process dies, so a
//! stale file never blocks anyone).

use std::path::Path;

use auditrail_core::folder_lock::{FolderLock, FolderLockError};

use super::IntegrityError;

/// File name of the lock in a data dir (the one every [`FolderLock`] uses).
pub use auditrail_core::folder_lock::LOCK_FILE;

/// The data dir's lock, held until dropped: a [`FolderLock`] whose refusal is the
/// integrity error of a data dir in use.
#[derive(Debug)]
pub struct DataDirLock {
    lock: FolderLock,
}

impl DataDirLock {
    /// Takes the lock of `data_dir` (created when missing) for `holder` (e.g.
    /// `"auditrail serve"`), or fails at once with [`IntegrityError::DataDirInUse`]
    /// naming the process that holds it.
    pub fn acquire(data_dir: &Path, holder: &str) -> Result<DataDirLock, IntegrityError> {
        match FolderLock::acquire_for(data_dir, holder) {
            Ok(lock) => Ok(DataDirLock { lock }),
            Err(FolderLockError::Held { holder, .. }) => Err(IntegrityError::DataDirInUse {
                data_dir: data_dir.to_path_buf(),
                holder,
            }),
            Err(FolderLockError::Io { path, source }) => Err(IntegrityError::io(&path, source)),
            Err(other) => Err(IntegrityError::io(
                data_dir,
                std::io::Error::other(other.to_string()),
            )),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        self.lock.path()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_and_told_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path(), "auditrail serve").unwrap();
        let err = DataDirLock::acquire(dir.path(), "auditrail keys rotate").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, IntegrityError::DataDirInUse { .. }), "{msg}");
        assert!(
            msg.contains(&format!("pid {} (auditrail serve)", std::process::id())),
            "{msg}"
        );
        drop(first);
        DataDirLock::acquire(dir.path(), "auditrail keys rotate").unwrap();
    }
}
