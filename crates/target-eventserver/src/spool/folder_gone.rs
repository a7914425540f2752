//! The spool folder removed under a running spool (`rm -rf run/spool/central`, a
//! cleanup job).
//!
//! Every file of the spool goes with it: the segments, `ack`, `newest`, `lost.jsonl`
//! and the lock file. Without the folder no segment can be started, so every append
//! would fail for ever (the target wedged, its queue full, emitters blocked). And the
//! lock this spool holds is now an unlinked file: another process could create the
//! folder again and lock a new lock file in it while this one goes on, two spools in
//! one folder (what the lock exists to refuse, see [`FolderLock`]).
//!
//! So before each append, and when the reader finds a segment missing, the spool checks
//! that the lock file at its path is still the one it holds (one `stat`). When not:
//! 1. the lock is taken again, in a folder created again if it is gone (durably, as at
//!    open). When another process holds it, nothing is written: the append fails with
//!    [`SpoolError::InUse`] naming that process (the target retries it, and goes on
//!    once that process lets go);
//! 2. every segment whose file is no longer at its path is forgotten as a gone segment
//!    (`gone.rs`): what it held and the server had not acknowledged is logged, counted
//!    and recorded in a new `lost.jsonl`;
//! 3. the ack position is written again; the next append starts a new segment, which
//!    writes the `newest` mark.
//!
//! Until then the ack position is kept in memory only, no delivered segment is
//! deleted, and none of the spool's files is written (`ack`, `lengths`, `newest`,
//! `lost.jsonl`, set-aside damage; every such write goes through
//! `Spool::in_held_folder`): the paths may be another process's files.
//!
//! A spool given a folder check ([`Spool::open_checked`]: an event server's witness,
//! whose spool is under the server's data folder) asks it before step 1: when the
//! folder holding the spool folder was moved away as a whole, nothing is created or
//! locked at the path ([`SpoolError::FolderGone`], said once at ERROR), since making
//! the spool folder again would bring that folder back at its path, the state split
//! across the two. The records are not taken (the caller retries them); once the folder
//! is moved back, its lock file is the one held again and the spool goes on as before.

use std::io;
use std::path::Path;
use std::sync::atomic::Ordering;

use auditrail_core::{FolderLock, FolderLockError};

use super::state::{FileId, State};
use super::{segment_path, Position, Spool, SpoolError};

impl Spool {
    /// Whether the lock this spool holds is still the folder's: nothing may be written
    /// or deleted in the folder otherwise (another process may hold a new one there).
    pub(super) fn holds_folder(&self) -> bool {
        self.folder_lock
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_in_place()
    }

    /// Runs `write`, a write of one of the spool's own files in its folder (`what`:
    /// which, for the log), only while the spool holds the folder; `None` (logged)
    /// when not. Every write of the spool's state and side files goes through here:
    /// the folder may have been removed and taken by another process, whose `ack`,
    /// `lengths` and `lost.jsonl` this spool's would replace or add to (its next start
    /// would then report segments cut or lost that nobody touched). Until the folder
    /// is taken back (the next append), what is not written is kept in memory or, for
    /// a loss, only logged and counted.
    pub(super) fn in_held_folder<T>(
        &self,
        what: &str,
        write: impl FnOnce(&Path) -> io::Result<T>,
    ) -> Option<io::Result<T>> {
        if !self.holds_folder() {
            self.say_not_held(what);
            return None;
        }
        #[cfg(test)]
        tests::after_held_check(self.dir());
        let written = write(self.dir());
        // The folder removed between the check and the write (another program racing
        // the spool): the write, which never creates the folder (`jsonl::append_in_folder`,
        // `durable::replace_file`), failed. Said as when found before it: a folder made
        // again here would hold no lock, and the next append takes it back instead.
        if written.is_err() && !self.holds_folder() {
            self.say_not_held(what);
            return None;
        }
        Some(written)
    }

    /// Logs that the file `what` is not written: the folder is no longer this spool's.
    fn say_not_held(&self, what: &str) {
        tracing::warn!(
            folder = %self.dir().display(),
            file = what,
            "the spool folder is no longer this spool's (removed, and its lock file \
             replaced): its file is not written there, so that another process's \
             spool in that folder is left as it is"
        );
    }

    /// [`Self::retake_folder`], for a caller that does not hold the state (the reader).
    pub(super) fn retake_folder_now(&self) -> Result<(), SpoolError> {
        let mut st = self.lock();
        self.retake_folder(&mut st)
    }

    /// Takes the folder back when its lock file is no longer the one held (see the
    /// module docs). Called with the state locked, so that no append or ack runs
    /// meanwhile.
    pub(super) fn retake_folder(&self, st: &mut State) -> Result<(), SpoolError> {
        let mut held = self.folder_lock.lock().unwrap_or_else(|p| p.into_inner());
        if held.is_in_place() {
            if self.folder_gone_said.swap(false, Ordering::Relaxed) {
                tracing::info!(folder = %self.dir().display(), "the spool folder is back at its path (the data folder holding it was moved back): the spool takes events again");
            }
            return Ok(());
        }
        let dir = self.dir();
        // The folder holding the spool folder moved away as a whole: nothing is made or
        // locked at the path (it would bring that folder back, see
        // `auditrail_core::folder_check`). Asked before the lock: a folder put at the
        // data folder's path is not this spool's either.
        if let Some(check) = &self.folder_check {
            if let Err(source) = check.check() {
                if !self.folder_gone_said.swap(true, Ordering::Relaxed) {
                    tracing::error!(
                        folder = %dir.display(),
                        error = %source,
                        "the spool folder is gone with the data folder holding it: it is not \
                         created again, and the spool takes no event until the data folder is \
                         back at its path (what it held moved with it)"
                    );
                }
                return Err(SpoolError::FolderGone {
                    dir: dir.to_owned(),
                    source,
                });
            }
        }
        self.folder_gone_said.store(false, Ordering::Relaxed);
        let folder_was_gone = matches!(
            std::fs::symlink_metadata(dir),
            Err(e) if e.kind() == io::ErrorKind::NotFound
        );
        // Creates the folder (durably) when it is gone.
        let lock = FolderLock::acquire(dir).map_err(|e| lock_error(dir, e))?;
        *held = lock;
        drop(held);
        let pending_before = st.pending;
        let (_, in_hand_before, _) = st.in_hand_of_gone();
        let mut forgotten = 0u64;
        for (id, reason) in gone_segments(dir, st) {
            self.forget_gone(st, id, reason);
            forgotten += 1;
        }
        if folder_was_gone || forgotten > 0 {
            // The ack file went with the folder; without it the next start would doubt
            // every segment written from now on.
            self.write_ack(st.ack, true);
        }
        // Those the sender had read are in its hands, not lost (see `gone.rs`).
        let in_flight = st.in_hand_of_gone().1.saturating_sub(in_hand_before);
        let lost_records = pending_before
            .saturating_sub(st.pending)
            .saturating_sub(in_flight);
        if folder_was_gone && lost_records > 0 {
            tracing::error!(
                folder = %dir.display(),
                lost_segments = forgotten,
                lost_records,
                in_flight,
                "the spool folder was removed by another program while the target was \
                 running (a cleanup job?): it is created again with its lock file, and the \
                 events spooled in it that the sender had not read yet are LOST from this \
                 node's spool (those it had read, in_flight, are being sent; each segment \
                 is logged and recorded in lost.jsonl); the next events go to a new segment"
            );
        } else if folder_was_gone {
            tracing::warn!(
                folder = %dir.display(),
                segments = forgotten,
                in_flight,
                "the spool folder was removed by another program while the target was \
                 running (a cleanup job?): it is created again with its lock file; the \
                 events spooled in it that the server had not acknowledged had all been read \
                 by the sender and are being sent (lost only if the server does not \
                 acknowledge them before the sender stops; recorded in lost.jsonl until it \
                 does); the next events go to a new segment"
            );
        } else {
            tracing::warn!(
                lock_file = %dir.join(auditrail_core::folder_lock::LOCK_FILE).display(),
                lost_segments = forgotten,
                "the spool's lock file was removed or replaced by another program: the \
                 lock is taken again, so that no other process uses the folder at the \
                 same time"
            );
        }
        Ok(())
    }
}

/// The segments the spool knows whose file is not at its path any more, in id order,
/// with why.
fn gone_segments(dir: &Path, st: &State) -> Vec<(u64, &'static str)> {
    let mut gone = Vec::new();
    let mut at = Position::start_of(0);
    while let Some((id, _, _)) = st.segment_at(at) {
        let reason = match std::fs::metadata(segment_path(dir, id)) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Some("its path is gone"),
            Ok(m) if st.file_of(id) != Some(FileId::of(&m)) => Some("another file is at its path"),
            // Other errors are left to the reader, which reports them when it opens it.
            _ => None,
        };
        if let Some(reason) = reason {
            gone.push((id, reason));
        }
        let Some(next) = id.checked_add(1) else { break };
        at = Position::start_of(next);
    }
    gone
}

/// The spool's error for a folder that cannot be locked.
pub(super) fn lock_error(dir: &Path, e: FolderLockError) -> SpoolError {
    match e {
        FolderLockError::Held { holder, .. } => SpoolError::InUse {
            dir: dir.to_owned(),
            holder,
        },
        FolderLockError::Io { path, source } => SpoolError::Io { path, source },
        other => SpoolError::Io {
            path: dir.to_owned(),
            source: io::Error::other(other.to_string()),
        },
    }
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::{Path, PathBuf};

    /// What a test does to spool folder `dir` between `in_held_folder`'s check that
    /// the spool holds it and the write (as another program would, racing the spool).
    pub(in super::super) type AfterHeldCheck = Box<dyn FnMut(&Path) + Send>;

    static AFTER_HELD_CHECK: std::sync::Mutex<Vec<(PathBuf, AfterHeldCheck)>> =
        std::sync::Mutex::new(Vec::new());

    fn hooks() -> std::sync::MutexGuard<'static, Vec<(PathBuf, AfterHeldCheck)>> {
        AFTER_HELD_CHECK.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `hook` after each check of spool folder `dir` before a write of one of its
    /// files, until [`no_hook_in`] is called.
    pub(in super::super) fn hook_in(dir: &Path, hook: AfterHeldCheck) {
        hooks().push((dir.to_path_buf(), hook));
    }

    pub(in super::super) fn no_hook_in(dir: &Path) {
        hooks().retain(|(d, _)| d != dir);
    }

    pub(super) fn after_held_check(dir: &Path) {
        for (d, hook) in hooks().iter_mut() {
            if d == dir {
                hook(dir);
            }
        }
    }
}
