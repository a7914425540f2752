//! One user of a folder at a time: an exclusive advisory lock on `<folder>/auditrail.lock`,
//! held for as long as the [`FolderLock`] lives.
//!
//! A node's run folder (its sequence file, spools, dead letters, receipts) and each
//! spool folder are state that one process writes as if it were alone: a second
//! process using the same run folder hands out the same sequence numbers, and a second
//! spool acknowledges past the first one's records and deletes the segment file the
//! first one still appends to (its later records are then lost). So the dispatcher
//! locks its run folder and the eventserver target's spool locks its folder (and the
//! event server its data dir, through `auditrail_integrity::DataDirLock`), and the
//! second user is refused at once rather than waiting (a node run that waited for the
//! application to end would look hung).
//!
//! The lock is std's `File::try_lock` (`flock(2)` on Unix, `LockFileEx` on Windows): it
//! belongs to the open file, so a second lock of the same folder in the same process
//! is refused too, and the kernel drops it when the process dies, so a lock file left
//! by a crash never blocks anyone. The file holds the holder's process id and program
//! name, for the refusal message only.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// File name of the lock in a locked folder.
pub const LOCK_FILE: &str = "auditrail.lock";

/// The most of a lock file's note read for a refusal (`pid N (program)` is far less).
const NOTE_MAX: u64 = 4096;

/// The lock of a folder, held until dropped.
#[derive(Debug)]
pub struct FolderLock {
    path: PathBuf,
    /// `None` on a platform without file locks (see [`FolderLock::acquire`]).
    file: Option<File>,
}

/// Why a folder could not be locked.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FolderLockError {
    /// Someone else holds the lock.
    #[error("{} is held by {holder}", lock_file.display())]
    Held {
        /// The lock file.
        lock_file: PathBuf,
        /// Who holds it, as its lock file says (`pid N (program)`), preceded by "this
        /// same process" when that is this process.
        holder: String,
    },
    /// The folder or its lock file cannot be created, opened or locked.
    #[error("{}", cannot_lock(path, source))]
    Io {
        /// The folder or the lock file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// `cannot lock PATH: ERROR`, or `ERROR` alone when it names the path already (a
/// folder to create that is a regular file: that is the news, not the lock), so that
/// the path is said once.
fn cannot_lock(path: &Path, source: &std::io::Error) -> String {
    let said = crate::path_and_error(path, source);
    if said == source.to_string() {
        said
    } else {
        format!("cannot lock {said}")
    }
}

impl FolderLock {
    /// Takes the lock of `dir` (created when missing), or fails at once with
    /// [`FolderLockError::Held`] naming the holder.
    ///
    /// On a platform where std has no file locks the folder is used unlocked, with a
    /// warning: refusing every dispatcher there would be worse than the race.
    pub fn acquire(dir: &Path) -> Result<FolderLock, FolderLockError> {
        FolderLock::acquire_for(dir, &program())
    }

    /// [`FolderLock::acquire`], with `label` (e.g. `"auditrail serve"`) in place of
    /// the program's file name in the lock file's note.
    pub fn acquire_for(dir: &Path, label: &str) -> Result<FolderLock, FolderLockError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| FolderLockError::Io { path, source }
        };
        // Durably: a spool or run folder made here holds acknowledged records.
        crate::durable::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(LOCK_FILE);
        // Not truncated on open: the holder's note stays readable for the refusal.
        // Never through a symbolic link at its name (see `no_follow.rs`): the holder's
        // note is written into it. Only a regular file, opened without blocking (see
        // `regular_file.rs`): the note of a FIFO another process holds locked would be
        // read for ever, and a lock on a FIFO or device is no lock file.
        let mut file = crate::no_follow::open_regular_replacing_link(
            OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false),
            &path,
        )
        .map_err(io(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                // A note is one short line: what else is there is not read.
                let mut note = String::new();
                let _ = (&mut file).take(NOTE_MAX).read_to_string(&mut note);
                return Err(FolderLockError::Held {
                    holder: holder(note.trim()),
                    lock_file: path,
                });
            }
            Err(TryLockError::Error(e)) if e.kind() == std::io::ErrorKind::Unsupported => {
                tracing::warn!(folder = %dir.display(), error = %e, "file locks are not supported here: the folder is used without a lock; make sure no other process uses it at the same time");
                return Ok(FolderLock { path, file: None });
            }
            Err(TryLockError::Error(e)) => return Err(io(&path)(e)),
        }
        let note = format!("pid {} ({label})\n", std::process::id());
        file.set_len(0)
            .and_then(|()| file.rewind())
            .and_then(|()| file.write_all(note.as_bytes()))
            .map_err(io(&path))?;
        Ok(FolderLock {
            path,
            file: Some(file),
        })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the lock file at [`Self::path`] is still the file this lock holds. Not
    /// when the folder or the lock file was removed, moved or replaced under the
    /// holder (a cleanup job's `rm -rf`): the lock then guards an unlinked file, and
    /// another process can lock a new file at the path and use the folder too. Take
    /// the lock again ([`FolderLock::acquire`]) before going on in the folder.
    pub fn is_in_place(&self) -> bool {
        match &self.file {
            #[cfg(unix)]
            Some(file) => {
                crate::durable::why_not_at(file, &self.path, crate::durable::Expected::AtLeast(0))
                    .is_none()
            }
            // No way to compare files here: take it as in place, as before this check.
            #[cfg(not(unix))]
            Some(_) => true,
            None => true,
        }
    }
}

/// The holder as a person reads it: the note, with this process named as such (a
/// second dispatcher or spool of one program is a program error, not an operator's).
fn holder(note: &str) -> String {
    let me = std::process::id();
    let pid = note
        .strip_prefix("pid ")
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse::<u32>().ok());
    match pid {
        Some(pid) if pid == me => format!("this same process ({note})"),
        _ if note.is_empty() => "another process".to_owned(),
        _ => note.to_owned(),
    }
}

/// This program's file name (`auditrail`, the application's binary), for the note.
fn program() -> String {
    std::env::args_os()
        .next()
        .as_deref()
        .map(Path::new)
        .and_then(Path::file_name)
        .map_or_else(
            || "unknown program".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_second_lock_of_a_folder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = FolderLock::acquire(dir.path()).unwrap();
        assert_eq!(first.path(), dir.path().join(LOCK_FILE));
        let err = FolderLock::acquire(dir.path()).unwrap_err();
        let msg = err.to_string();
        assert!(matches!(err, FolderLockError::Held { .. }), "{msg}");
        assert!(
            msg.contains(&format!("this same process (pid {} (", std::process::id())),
            "{msg}"
        );
        drop(first);
        FolderLock::acquire(dir.path()).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn a_lock_whose_folder_was_removed_is_not_in_place_and_can_be_taken_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        let old = FolderLock::acquire(&dir).unwrap();
        assert!(old.is_in_place());
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(!old.is_in_place());
        // The old lock holds an unlinked file: nothing keeps a new one from being taken.
        let new = FolderLock::acquire(&dir).unwrap();
        assert!(new.is_in_place());
        assert!(!old.is_in_place());
    }

    /// Held by another process, a FIFO's "note" was read for ever; unheld, the pipe
    /// was taken for a lock file.
    #[cfg(unix)]
    #[test]
    fn a_fifo_at_the_lock_file_is_refused_at_once_held_or_not() {
        use rustix::fs::{FlockOperation, Mode, OFlags};
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join(LOCK_FILE);
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &lock,
            rustix::fs::FileType::Fifo,
            Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
        let other =
            rustix::fs::open(&lock, OFlags::RDWR | OFlags::NONBLOCK, Mode::empty()).unwrap();
        for held in [true, false] {
            if held {
                rustix::fs::flock(&other, FlockOperation::NonBlockingLockExclusive).unwrap();
            } else {
                rustix::fs::flock(&other, FlockOperation::Unlock).unwrap();
            }
            // In a thread: the read of a FIFO's "note" blocked for ever.
            let at = dir.path().to_path_buf();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(FolderLock::acquire(&at).map(drop));
            });
            let err = rx
                .recv_timeout(std::time::Duration::from_secs(60))
                .expect("the lock blocked")
                .unwrap_err();
            assert!(
                matches!(&err, FolderLockError::Io { path, source }
                    if *path == lock && crate::regular_file::is_not_regular(source)),
                "held {held}: {err}"
            );
        }
    }

    #[test]
    fn another_holder_is_named_by_its_note() {
        let other = format!("pid {} (auditrail)", std::process::id().wrapping_add(1));
        assert_eq!(holder(&other), other);
        assert_eq!(holder(""), "another process");
    }

    #[test]
    fn a_folder_created_for_the_lock_is_made_durable_with_its_new_parents() {
        let tmp = tempfile::tempdir().unwrap();
        let spool = tmp.path().join("run/spool");
        crate::durable::tests::take_synced();
        let _lock = FolderLock::acquire(&spool).unwrap();
        let mut synced = crate::durable::tests::take_synced_under(tmp.path());
        synced.sort();
        assert_eq!(
            synced,
            vec![tmp.path().to_path_buf(), tmp.path().join("run")]
        );
    }
}
