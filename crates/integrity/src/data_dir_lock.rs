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

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use super::IntegrityError;

/// File name of the lock in a data dir.
pub const LOCK_FILE: &str = "auditrail.lock";

/// The data dir's lock, held until dropped.
#[derive(Debug)]
pub struct DataDirLock {
    path: PathBuf,
    _file: File,
}

impl DataDirLock {
    /// Takes the lock of `data_dir` (created when missing) for `holder` (e.g.
    /// `"auditrail serve"`), or fails at once with [`IntegrityError::DataDirInUse`]
    /// naming the process that holds it.
    pub fn acquire(data_dir: &Path, holder: &str) -> Result<DataDirLock, IntegrityError> {
        std::fs::create_dir_all(data_dir).map_err(|e| IntegrityError::io(data_dir, e))?;
        let path = data_dir.join(LOCK_FILE);
        // Not truncated on open: the holder's note stays readable for the refusal.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| IntegrityError::io(&path, e))?;
        use rustix::fs::{flock, FlockOperation};
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(e) if e == rustix::io::Errno::WOULDBLOCK => {
                let mut note = String::new();
                let _ = file.read_to_string(&mut note);
                let note = note.trim();
                return Err(IntegrityError::DataDirInUse {
                    data_dir: data_dir.to_path_buf(),
                    holder: if note.is_empty() {
                        "another process".into()
                    } else {
                        note.to_string()
                    },
                });
            }
            Err(e) => return Err(IntegrityError::io(&path, e.into())),
        }
        let note = format!("pid {} ({holder})\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(note.as_bytes()))
            .map_err(|e| IntegrityError::io(&path, e))?;
        Ok(DataDirLock { path, _file: file })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
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
