//! Whether a store being verified is held by a writer right now (a running server),
//! and who that is, for [`super::VerifyOptions::live_when_held`].
//!
//! A running server's newest records are not sealed yet (they wait for its next
//! checkpoint), so a verification that takes the store as closed reports them as an
//! uncovered tail, an error that reads as tampering. The store's single-writer lock
//! (an advisory `flock` on its root folder, `auditrail_store::root`) says that a
//! writer has it open; the data dir's lock (`auditrail.lock`, [`crate::DataDirLock`])
//! names that writer's process (`pid N (auditrail serve)`).
//!
//! Each lock is probed with a shared, non-blocking `flock` on a file opened read-only,
//! released at once: refused, the lock is held; granted, nobody held it, and nothing
//! was written (verify stays read-only). A server starting in the same instant (between
//! the probe's lock and its release, one system call) would find its lock taken and
//! refuse to start; that window is too short to matter beside what the probe spares.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::data_dir_lock::LOCK_FILE;
use crate::high_water::dir_and_parents;

/// The most of a lock file's note read (`pid N (auditrail serve)` is far less).
const NOTE_MAX: u64 = 4096;

/// Who holds a store's writer lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Holder {
    /// The holder's process id and what it is, as the data dir's lock file says
    /// (`pid N (auditrail serve)`); `None` when no held data dir lock was found (a
    /// store configured outside the data dir, verified by its folder).
    pub(crate) note: Option<String>,
    /// The data dir lock file the note was read from.
    pub(crate) lock_file: Option<PathBuf>,
}

impl Holder {
    /// The holder in words: `a running server (pid N, lock file F)`, `pid N (auditrail
    /// store prune) (lock file F)`, or `another process` with where that was seen.
    pub(crate) fn described(&self) -> String {
        match (&self.note, &self.lock_file) {
            (Some(note), Some(file)) => {
                let pid = note
                    .strip_prefix("pid ")
                    .and_then(|rest| rest.split_whitespace().next());
                match pid {
                    Some(pid) if note.ends_with("(auditrail serve)") => format!(
                        "a running server (pid {pid}, lock file {})",
                        file.display()
                    ),
                    _ => format!("{note} (lock file {})", file.display()),
                }
            }
            _ => "another process (its writer lock on the store folder is held; no data dir lock above it names the process)".to_string(),
        }
    }
}

/// The holder of `store`'s writer lock, or `None` when it is free (or cannot be
/// probed: the store is then verified as before, closed). The data dir lock naming the
/// holder is looked for in `dir` (the data dir, or the folder given to verify) and up
/// to three parents of it and of the store, as the data dir's other files are.
pub(crate) fn writer_of(store: &Path, dir: &Path) -> Option<Holder> {
    let root = File::open(store).ok()?;
    if !held(&root) {
        return None;
    }
    drop(root);
    let mut candidates = dir_and_parents(dir, super::marks::PARENTS_SEARCHED);
    for above in dir_and_parents(store, super::marks::PARENTS_SEARCHED) {
        if !candidates.contains(&above) {
            candidates.push(above);
        }
    }
    for here in candidates {
        let path = here.join(LOCK_FILE);
        // Never blocking on what is at the lock file's name (a FIFO): a regular file only.
        let Ok(mut file) = auditrail_core::regular_file::open(OpenOptions::new().read(true), &path)
        else {
            continue;
        };
        if !held(&file) {
            continue;
        }
        let mut note = String::new();
        let _ = (&mut file).take(NOTE_MAX).read_to_string(&mut note);
        let note = note.trim();
        return Some(Holder {
            note: (!note.is_empty()).then(|| note.to_string()),
            lock_file: Some(path),
        });
    }
    Some(Holder {
        note: None,
        lock_file: None,
    })
}

/// Whether another open file holds an exclusive `flock` on `file`'s (see the module
/// docs). A shared lock granted here is released when `file` is closed; an error
/// other than "held" (no locks on this file system) counts as not held.
fn held(file: &File) -> bool {
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            false
        }
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(_)) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_free_store_has_no_holder_and_a_locked_one_is_named_by_the_data_dir_lock() {
        let data = tempfile::tempdir().unwrap();
        let store = data.path().join("store");
        std::fs::create_dir(&store).unwrap();
        assert_eq!(writer_of(&store, data.path()), None);

        let root = File::open(&store).unwrap();
        root.try_lock().unwrap();
        // Held, but no data dir lock names anyone.
        let anonymous = writer_of(&store, &store).unwrap();
        assert_eq!(anonymous.note, None);
        assert!(anonymous.described().starts_with("another process"));

        let lock = crate::DataDirLock::acquire(data.path(), "auditrail serve").unwrap();
        let holder = writer_of(&store, &store).unwrap();
        assert_eq!(
            holder.described(),
            format!(
                "a running server (pid {}, lock file {})",
                std::process::id(),
                data.path().join(LOCK_FILE).display()
            )
        );
        drop(lock);
        drop(root);
        // Probing took no lock that stays: both can be taken again.
        assert_eq!(writer_of(&store, data.path()), None);
        crate::DataDirLock::acquire(data.path(), "auditrail serve").unwrap();
    }
}
