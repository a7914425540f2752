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
//! The file holds the holder's process id and what it is (for the refusal message,
//! and for `auditrail verify` naming the server that holds a store it checks as live:
//! `verify::held`; the lock is the `flock`, which the kernel drops when the process
//! dies, so a stale file never blocks anyone).
//!
//! A lock on that file alone ends when the file is removed (a cleanup job's "stale
//! lock file", an operator's `rm`): the holder keeps a lock on an unlinked file, and
//! the next process creates a new file at the name and locks it, so a second server
//! started on the data dir and both rewrote `high-water.jsonl` and signed with one key.
//! So the data dir folder itself is locked too (an `flock` on the folder, as a store
//! locks its root folder), first: no name in the folder can be removed from under that
//! lock. Where a folder cannot be locked (a network file system whose locks need a file
//! open for writing), the lock file alone decides, as before.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Read;
use std::path::{Path, PathBuf};

use auditrail_core::folder_lock::{FolderLock, FolderLockError};

/// File name of the lock in a data dir (the one every [`FolderLock`] uses).
pub use auditrail_core::folder_lock::LOCK_FILE;

/// The data dir's lock, held until dropped: a [`FolderLock`] whose refusal says that
/// the data dir is in use.
#[derive(Debug)]
pub struct DataDirLock {
    lock: FolderLock,
    /// The data dir folder, locked (`None` where folders cannot be locked).
    _folder: Option<File>,
}

/// Why the data dir could not be locked: another process holds it, or the lock file
/// (or the data dir) cannot be created, opened or locked. Neither is about the tamper
/// evidence the data dir holds: an I/O or permission problem is said as one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataDirLockError {
    /// Another process holds the data dir (a running server, or an operator command
    /// changing its key, marks or stores).
    #[error(
        "data dir {} is in use by {holder}: stop it first (one server or operator command \
         per data dir)",
        data_dir.display()
    )]
    InUse {
        /// The data dir.
        data_dir: PathBuf,
        /// Who holds it, as its lock file says (`pid N (what)`).
        holder: String,
    },
    /// The lock file or the data dir cannot be created, opened or locked (a permission,
    /// a full disk, a FIFO or a folder at the lock file's name).
    #[error("cannot lock the data dir {}", lock_said(data_dir, path, source))]
    Io {
        /// The data dir.
        data_dir: PathBuf,
        /// The lock file, or the data dir when it is what failed.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// `DATA_DIR: PATH: ERROR`, each path said once: the data dir itself failing (a regular
/// file at its path) is named by the error already.
fn lock_said(data_dir: &Path, path: &Path, source: &std::io::Error) -> String {
    if path == data_dir {
        auditrail_core::path_and_error(path, source)
    } else {
        format!(
            "{}: {}",
            data_dir.display(),
            auditrail_core::path_and_error(path, source)
        )
    }
}

impl DataDirLock {
    /// Takes the lock of `data_dir` (created when missing) for `holder` (e.g.
    /// `"auditrail serve"`), or fails at once with [`DataDirLockError::InUse`] naming
    /// the process that holds it.
    pub fn acquire(data_dir: &Path, holder: &str) -> Result<DataDirLock, DataDirLockError> {
        let io = |path: &Path, source| DataDirLockError::Io {
            data_dir: data_dir.to_path_buf(),
            path: path.to_path_buf(),
            source,
        };
        auditrail_core::durable::create_dir_all(data_dir).map_err(|e| io(data_dir, e))?;
        let folder = lock_folder(data_dir)?;
        match FolderLock::acquire_for(data_dir, holder) {
            Ok(lock) => Ok(DataDirLock {
                lock,
                _folder: folder,
            }),
            Err(FolderLockError::Held { holder, .. }) => Err(DataDirLockError::InUse {
                data_dir: data_dir.to_path_buf(),
                holder,
            }),
            Err(FolderLockError::Io { path, source }) => Err(io(&path, source)),
            Err(other) => Err(io(&data_dir.join(LOCK_FILE), std::io::Error::other(other))),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        self.lock.path()
    }
}

/// Locks the data dir folder itself (see the module docs): `None` where folders cannot
/// be locked, [`DataDirLockError::InUse`] when another process holds it.
fn lock_folder(data_dir: &Path) -> Result<Option<File>, DataDirLockError> {
    // A folder opens read-only on Unix; elsewhere (Windows) it does not open as a
    // file at all, and the lock file alone decides.
    let Ok(folder) = File::open(data_dir) else {
        return Ok(None);
    };
    match folder.try_lock() {
        Ok(()) => Ok(Some(folder)),
        Err(TryLockError::WouldBlock) => Err(DataDirLockError::InUse {
            data_dir: data_dir.to_path_buf(),
            holder: holder_of_folder(data_dir),
        }),
        Err(TryLockError::Error(e)) => {
            tracing::debug!(data_dir = %data_dir.display(), error = %e, "the data dir folder cannot be locked here: its lock file alone keeps a second user out");
            Ok(None)
        }
    }
}

/// Who holds the data dir folder: its lock file's note while that file is held too (the
/// holder wrote it), else a process that cannot be named, since its lock file was
/// removed or replaced while it ran.
fn holder_of_folder(data_dir: &Path) -> String {
    let path = data_dir.join(LOCK_FILE);
    let note = auditrail_core::regular_file::open(OpenOptions::new().read(true), &path)
        .ok()
        .filter(|file| matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock)))
        .map(|file| {
            let mut note = String::new();
            let _ = file.take(4096).read_to_string(&mut note);
            note.trim().to_string()
        })
        .filter(|note| !note.is_empty());
    match note {
        Some(note) => note,
        None => format!(
            "another process, which holds the data dir folder's lock although its lock \
             file {} was removed or replaced while it ran (find it with `fuser -v {}`)",
            path.display(),
            data_dir.display()
        ),
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
        assert!(matches!(err, DataDirLockError::InUse { .. }), "{msg}");
        assert!(
            msg.contains(&format!("pid {} (auditrail serve)", std::process::id())),
            "{msg}"
        );
        drop(first);
        DataDirLock::acquire(dir.path(), "auditrail keys rotate").unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn the_data_dir_stays_locked_when_its_lock_file_is_removed() {
        let dir = tempfile::tempdir().unwrap();
        let first = DataDirLock::acquire(dir.path(), "auditrail serve").unwrap();
        std::fs::remove_file(first.path()).unwrap();
        let err = DataDirLock::acquire(dir.path(), "auditrail serve").unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, DataDirLockError::InUse { .. }), "{msg}");
        assert!(
            msg.contains("was removed or replaced while it ran"),
            "{msg}"
        );
        drop(first);
        DataDirLock::acquire(dir.path(), "auditrail serve").unwrap();
    }
}
