//! The run folder's lock, kept while the node runs: a run folder removed under a
//! running node (a cleanup job's `rm -rf run`), or only its lock file, is taken back.
//!
//! The lock ([`FolderLock`]) is taken once, at build. Removing the folder or the lock
//! file leaves this process holding the lock of an unlinked file: a second process
//! creates a new lock file at the path, locks it and starts, and both hand out
//! sequence numbers from the same sequence file (the same numbers when the file went
//! with the folder; the second one also announces the first one's reserved block as
//! abandoned while the first still numbers from it).
//!
//! So the lock at `<run_dir>/auditrail.lock` is compared with the one held (one `stat`
//! of the path and one `fstat`, [`FolderLock::is_in_place`]):
//! - every [`CHECK_EVERY`] on a thread of its own, so that the lock is taken back soon
//!   after the removal, also while the node emits nothing (a second process started
//!   after that is refused as usual);
//! - before each reservation of a block of numbers and before the sequence file is
//!   written at shutdown.
//!
//! Not per emit: an emit makes no system call (see `Dispatcher::emit`), and a `stat`
//! per event would cost more than the rest of the emit. An emit reads one flag, which
//! the check clears as soon as it finds the lock gone: from then on emits wait for the
//! check to take the folder back (or are refused, below).
//!
//! When the lock is not in place it is taken again, in a folder created again when it
//! is gone, and the sequence file is compared with what this run last wrote there (see
//! `SeqAllocator::take_back`). When another process holds the new lock, every emit is
//! refused ([`EmitError::RunDirTaken`](super::EmitError::RunDirTaken), naming that
//! process and the folder) and the sequence file is not written, until that process
//! lets go and the check takes the folder back.
//!
//! What remains: a second process that locks the new lock file within [`CHECK_EVERY`]
//! of the removal, before the check runs, starts. With the folder removed it numbers
//! from 1 again, so numbers this node gave out before the removal are given again
//! (this node is refused from then on, and says so when it takes the folder back).
//! With only the lock file removed it numbers past this node's reservation, so no
//! number is given twice.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use crate::folder_check::FolderCheck;
use crate::folder_lock::{FolderLock, FolderLockError};

use super::seq::SeqAllocator;

/// How often the lock is compared with the lock file at its path while the node runs.
pub(crate) const CHECK_EVERY: Duration = Duration::from_millis(10);

/// The run folder and its lock (see the module docs).
#[derive(Debug)]
pub(crate) struct RunFolder {
    dir: PathBuf,
    state: Mutex<Held>,
    /// Whether the last check found the lock in place and the folder taken back (one
    /// atomic load per emit).
    held: AtomicBool,
    /// The check of the folder the run folder lives in (see [`crate::folder_check`]):
    /// a run folder gone with it is not made again.
    folder_check: Option<Arc<dyn FolderCheck>>,
}

#[derive(Debug)]
struct Held {
    /// `None` once released (the dispatcher has ended).
    lock: Option<FolderLock>,
    /// The folder was locked again but the sequence file's part of taking it back
    /// failed (`Some(folder_was_gone)`): done again at the next check.
    take_back_due: Option<bool>,
    /// Who holds the folder, while another process does (logged once per holder).
    taken_by: Option<String>,
    /// The folder holding the run folder was found gone and it was said (once, until
    /// the run folder is taken back).
    parent_gone_said: bool,
}

/// Why nothing of this node may be numbered or written in its run folder now.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RunFolderError {
    /// Another process locked the run folder after its lock file was removed.
    #[error("run folder {} is locked by {holder} since its lock file was removed under this node", run_dir.display())]
    Taken { run_dir: PathBuf, holder: String },
    /// The folder could not be locked again, or its sequence file not written again.
    #[error("run folder {} was removed under this node and cannot be taken back: {source}", run_dir.display())]
    NotTakenBack {
        run_dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl RunFolder {
    pub(crate) fn new(dir: &Path, lock: FolderLock) -> RunFolder {
        RunFolder {
            dir: dir.to_owned(),
            state: Mutex::new(Held {
                lock: Some(lock),
                take_back_due: None,
                taken_by: None,
                parent_gone_said: false,
            }),
            held: AtomicBool::new(true),
            folder_check: None,
        }
    }

    /// Asks `check` before the folder is made again (see [`crate::folder_check`]).
    pub(crate) fn with_folder_check(mut self, check: Option<Arc<dyn FolderCheck>>) -> Self {
        self.folder_check = check;
        self
    }

    /// Whether the last check found the lock in place (the emit's check).
    pub(crate) fn seems_held(&self) -> bool {
        self.held.load(Ordering::Acquire)
    }

    /// Makes sure the lock at the path is the one held: one `stat` when it is. When
    /// not, emits are stopped (the flag), the lock is taken again (the folder created
    /// again when it is gone), then `take_back(folder_was_gone)` runs (the sequence
    /// file's part), and only then emits go on.
    pub(crate) fn check(
        &self,
        take_back: impl FnOnce(bool) -> std::io::Result<()>,
    ) -> Result<(), RunFolderError> {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let st = &mut *st;
        let Some(lock) = st.lock.as_mut() else {
            return Ok(()); // released: the dispatcher has ended
        };
        if lock.is_in_place() && st.take_back_due.is_none() {
            self.held.store(true, Ordering::Release);
            return Ok(());
        }
        self.held.store(false, Ordering::Release);
        if !lock.is_in_place() {
            let folder_was_gone = !self.dir.is_dir();
            if folder_was_gone {
                if let Err(e) = crate::folder_check::ask(self.folder_check.as_deref()) {
                    // Checked every `CHECK_EVERY`: said once.
                    if !std::mem::replace(&mut st.parent_gone_said, true) {
                        tracing::error!(run_dir = %self.dir.display(), error = %e, "the run folder is gone and is not made again: events are refused until the folder holding it is back");
                    }
                    return Err(RunFolderError::NotTakenBack {
                        run_dir: self.dir.clone(),
                        source: e,
                    });
                }
            }
            st.parent_gone_said = false;
            let new = match FolderLock::acquire(&self.dir) {
                Ok(new) => new,
                Err(FolderLockError::Held { holder, .. }) => {
                    if st.taken_by.as_deref() != Some(holder.as_str()) {
                        tracing::error!(
                            run_dir = %self.dir.display(),
                            holder = %holder,
                            "the run folder's lock file was removed under this node (a \
                             cleanup job?) and another process has locked the run folder \
                             since: this node's events are refused until that process ends, \
                             since two processes would hand out the same sequence numbers"
                        );
                        st.taken_by = Some(holder.clone());
                    }
                    return Err(RunFolderError::Taken {
                        run_dir: self.dir.clone(),
                        holder,
                    });
                }
                Err(e) => {
                    tracing::error!(run_dir = %self.dir.display(), error = %e, "the run folder's lock file was removed under this node and cannot be taken again: events are refused until it can");
                    return Err(RunFolderError::NotTakenBack {
                        run_dir: self.dir.clone(),
                        source: std::io::Error::other(e),
                    });
                }
            };
            *lock = new;
            st.taken_by = None;
            st.take_back_due = Some(folder_was_gone);
            if folder_was_gone {
                tracing::warn!(
                    run_dir = %self.dir.display(),
                    "the run folder was removed while the node was running (a cleanup \
                     job?): it is created again and locked again, and the sequence file \
                     written again, so that no other process starts on it and the next \
                     start numbers past this run's events (whatever else the removed \
                     folder held is gone)"
                );
            } else {
                tracing::warn!(
                    lock_file = %lock.path().display(),
                    "the run folder's lock file was removed or replaced while the node was \
                     running: the lock is taken again, so that no other process starts on \
                     the run folder"
                );
            }
        }
        if let Some(folder_was_gone) = st.take_back_due {
            // Emits stay stopped until the sequence file is written (the next check tries
            // again); its write logs why it failed.
            take_back(folder_was_gone).map_err(|source| RunFolderError::NotTakenBack {
                run_dir: self.dir.clone(),
                source,
            })?;
            st.take_back_due = None;
        }
        self.held.store(true, Ordering::Release);
        Ok(())
    }

    /// Lets the lock go (the dispatcher has ended); later checks do nothing.
    pub(crate) fn release(&self) {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        drop(st.lock.take());
    }
}

/// Checks the run folder of `seq` every [`CHECK_EVERY`] on a thread of its own, until
/// the dispatcher (its allocator) is gone.
pub(crate) fn watch(seq: Weak<SeqAllocator>) {
    let started = std::thread::Builder::new()
        .name("auditrail-run-folder".into())
        .spawn(move || loop {
            std::thread::sleep(CHECK_EVERY);
            let Some(seq) = seq.upgrade() else { return };
            // A refusal is logged by the check and returned to emits; nothing to do here.
            let _ = seq.check_run_folder();
        });
    if let Err(e) = started {
        tracing::warn!(error = %e, "cannot start the thread that checks the run folder's lock: it is checked before each reservation of sequence numbers only");
    }
}
