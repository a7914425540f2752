//! What the batch at the head of a store's queue met: one state, one lock and one
//! decision for every answer about it.
//!
//! The dispatcher sends a store's batches in order and retries the one at the head
//! (`retry_max_elapsed_s`): while that batch fails, every later batch waits behind it.
//! The server answers such batches at once instead of letting each wait out
//! `ack_timeout_ms` (`503 disk_full`, `503 store_failing`), and `/readyz` names the
//! store. Both used to read two states kept apart (a full disk's flag and its refused
//! batch, and a failing batch's error, each under its own lock): a store could be
//! both at once (a full disk, then another error), and the ingest answered one while
//! `/readyz` listed both. Now the store is in one [`HeadState`], changed under one
//! lock, and [`HeadState::refusal`] is the one decision both read.
//!
//! Every batch asks the state (the ingest for each store it routes to, the writer
//! after each batch written): a flag read without the lock answers
//! [`HeadState::Taking`], and the lock is taken only while something is wrong.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::handle::lock;
use crate::RefusedBatch;

/// Under this many free bytes, a store whose last batch met a full disk refuses new
/// batches at once. Above, batches are refused while the batch that failed still has
/// no room ([`RefusedBatch::room_needed`]), then taken.
pub const FULL_DISK_FREE_BYTES: u64 = 1 << 20;

/// What the store's last batch met, until a batch is written again or the dispatcher
/// gives the failed one up ([`Target::gave_up`](auditrail_core::Target::gave_up)).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum HeadState {
    /// No batch failed since the last one written (or since the store opened).
    #[default]
    Taking,
    /// The last batch failed because the disk was full (`ENOSPC`, `EDQUOT`): a batch
    /// sent now would most likely fail too, though a small file may still fit.
    DiskFull {
        /// The batch that failed, its size and the room it did not fit in (`None`
        /// when not measured).
        refused: Option<RefusedBatch>,
    },
    /// The last batch failed with a retried error other than a full disk (its folder
    /// removed or moved away, an I/O error).
    Failing {
        /// The OS error, without the path (a partition folder's name holds a topic
        /// and a routing key; `/readyz` needs no key).
        error: String,
    },
}

/// Why a store refuses a batch sent now ([`HeadState::refusal`]): what the ingest
/// answers it and what `/readyz` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadRefusal {
    /// `503 disk_full`: the last batch failed on a full disk, and its file system has
    /// under [`FULL_DISK_FREE_BYTES`] free, or less than that batch needs.
    DiskFull {
        /// Free bytes of its file system, as read now.
        free: u64,
        /// The bytes of the batch it retries, when the file system has
        /// [`FULL_DISK_FREE_BYTES`] or more free (small batches would fit) but not
        /// the room that batch needs: `None` when the disk is simply full.
        batch_bytes: Option<u64>,
    },
    /// `503 store_failing`: the last batch failed with another retried error.
    Failing {
        /// The OS error, without the path.
        error: String,
    },
}

impl HeadState {
    /// Whether a batch sent now is refused, and why. `free` reads the free bytes of
    /// the store's file system (`f_bavail` × `f_frsize`); it is called only for a
    /// full disk, and `None` from it (unreadable) refuses nothing.
    ///
    /// A full disk refuses on its free space, not on the state alone: the state is
    /// cleared only by the store's next write (or the dispatcher giving the batch up),
    /// and a write comes only from an admitted batch or the dispatcher's retry, so the
    /// state alone could refuse every batch after space was freed.
    pub fn refusal(&self, free: impl FnOnce() -> Option<u64>) -> Option<HeadRefusal> {
        match self {
            HeadState::Taking => None,
            HeadState::Failing { error } => Some(HeadRefusal::Failing {
                error: error.clone(),
            }),
            HeadState::DiskFull { refused } => {
                let free = free()?;
                let batch_bytes = if free < FULL_DISK_FREE_BYTES {
                    None
                } else {
                    // Room for small batches: refused only while the one it retries
                    // has none (they would wait behind it).
                    let refused = (*refused)?;
                    if free >= refused.room_needed() {
                        return None;
                    }
                    Some(refused.bytes)
                };
                Some(HeadRefusal::DiskFull { free, batch_bytes })
            }
        }
    }
}

/// A store's [`HeadState`], shared by its writer and its handles.
#[derive(Debug, Default)]
pub(crate) struct HeadCell {
    /// Whether `state` is not [`HeadState::Taking`]: set and cleared under the lock,
    /// read without it, so that a store that takes its batches costs each batch one
    /// atomic load.
    troubled: AtomicBool,
    state: Mutex<HeadState>,
}

impl HeadCell {
    /// The state now.
    pub(crate) fn get(&self) -> HeadState {
        if !self.troubled.load(Ordering::Acquire) {
            return HeadState::Taking;
        }
        lock(&self.state).clone()
    }

    /// Puts `new`, returning what it replaces.
    fn set(&self, new: HeadState) -> HeadState {
        let mut state = lock(&self.state);
        self.troubled
            .store(new != HeadState::Taking, Ordering::Release);
        std::mem::replace(&mut *state, new)
    }

    /// The batch just undone did not fit on the full disk: its size and the room it
    /// did not fit in (the writer measures it before the batch's answer).
    pub(crate) fn disk_refused(&self, batch: RefusedBatch) {
        self.set(HeadState::DiskFull {
            refused: Some(batch),
        });
    }

    /// The batch just undone failed on a full disk (its answer): the batch the writer
    /// measured is kept.
    pub(crate) fn disk_full(&self) {
        let mut state = lock(&self.state);
        if !matches!(*state, HeadState::DiskFull { .. }) {
            *state = HeadState::DiskFull { refused: None };
        }
        self.troubled.store(true, Ordering::Release);
    }

    /// The batch just undone failed with `error`, retried (not a full disk).
    pub(crate) fn failing(&self, error: String) {
        self.set(HeadState::Failing { error });
    }

    /// A batch was written, or the failed one given up: the store takes batches
    /// again. Returns what it was in (one atomic load when that was
    /// [`HeadState::Taking`]).
    pub(crate) fn taken(&self) -> HeadState {
        if !self.troubled.load(Ordering::Acquire) {
            return HeadState::Taking;
        }
        self.set(HeadState::Taking)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn refused(bytes: u64, free_then: u64) -> RefusedBatch {
        RefusedBatch {
            bytes,
            free_then: Some(free_then),
        }
    }

    fn never_read() -> Option<u64> {
        panic!("the free space is read only for a full disk")
    }

    #[test]
    fn a_store_taking_its_batches_refuses_none_and_reads_no_free_space() {
        assert_eq!(HeadState::Taking.refusal(never_read), None);
        assert_eq!(HeadCell::default().get(), HeadState::Taking);
    }

    #[test]
    fn a_failing_store_refuses_with_its_error_and_reads_no_free_space() {
        let state = HeadState::Failing {
            error: "No such file or directory (os error 2)".into(),
        };
        assert_eq!(
            state.refusal(never_read),
            Some(HeadRefusal::Failing {
                error: "No such file or directory (os error 2)".into()
            })
        );
    }

    #[test]
    fn a_full_disk_refuses_under_a_mib_free_whatever_its_batch() {
        for refused in [None, Some(refused(10, 5))] {
            let state = HeadState::DiskFull { refused };
            assert_eq!(
                state.refusal(|| Some(812)),
                Some(HeadRefusal::DiskFull {
                    free: 812,
                    batch_bytes: None
                }),
                "{refused:?}"
            );
        }
    }

    #[test]
    fn a_full_disk_with_room_for_small_batches_refuses_while_its_batch_has_none() {
        let state = HeadState::DiskFull {
            refused: Some(refused(3 * MIB, 2 * MIB)),
        };
        assert_eq!(
            state.refusal(|| Some(2 * MIB)),
            Some(HeadRefusal::DiskFull {
                free: 2 * MIB,
                batch_bytes: Some(3 * MIB)
            })
        );
        // Room for it now: taken (the dispatcher's retry stores it first).
        assert_eq!(state.refusal(|| Some(3 * MIB)), None);
        // Over a MiB free and nothing known of the batch: small batches fit.
        let unmeasured = HeadState::DiskFull { refused: None };
        assert_eq!(unmeasured.refusal(|| Some(2 * MIB)), None);
    }

    #[test]
    fn a_full_disk_whose_free_space_cannot_be_read_refuses_nothing() {
        let state = HeadState::DiskFull {
            refused: Some(refused(3 * MIB, 2 * MIB)),
        };
        assert_eq!(state.refusal(|| None), None);
    }

    #[test]
    fn a_full_disk_recovers_once_a_batch_is_written() {
        let cell = HeadCell::default();
        cell.disk_refused(refused(3 * MIB, 2 * MIB));
        cell.disk_full();
        assert_eq!(
            cell.get(),
            HeadState::DiskFull {
                refused: Some(refused(3 * MIB, 2 * MIB))
            },
            "the answer keeps the batch the writer measured"
        );
        assert!(matches!(cell.taken(), HeadState::DiskFull { .. }));
        assert_eq!(cell.get(), HeadState::Taking);
        assert_eq!(cell.taken(), HeadState::Taking, "said once");
    }

    #[test]
    fn a_failing_store_recovers_once_a_batch_is_written_or_given_up() {
        let cell = HeadCell::default();
        cell.failing("Input/output error (os error 5)".into());
        assert_eq!(
            cell.taken(),
            HeadState::Failing {
                error: "Input/output error (os error 5)".into()
            }
        );
        assert_eq!(cell.get(), HeadState::Taking);
        assert_eq!(cell.get().refusal(never_read), None);
    }

    #[test]
    fn the_last_failure_is_the_state_never_both() {
        let cell = HeadCell::default();
        cell.disk_refused(refused(10, 5));
        cell.disk_full();
        cell.failing("No such file or directory (os error 2)".into());
        assert_eq!(
            cell.get().refusal(never_read),
            Some(HeadRefusal::Failing {
                error: "No such file or directory (os error 2)".into()
            }),
            "a full disk then another error: failing, not full"
        );
        cell.disk_full();
        assert_eq!(
            cell.get(),
            HeadState::DiskFull { refused: None },
            "failing then a full disk: full, its batch not measured"
        );
        assert_eq!(
            cell.get().refusal(|| Some(0)),
            Some(HeadRefusal::DiskFull {
                free: 0,
                batch_bytes: None
            })
        );
    }
}

#[cfg(test)]
mod given_up_tests {
    use super::*;
    use auditrail_core::Target;

    /// The dispatcher giving the failed batch up ends the state, whichever it is: the
    /// store's later batches are no longer behind it.
    #[test]
    fn a_batch_given_up_lets_the_store_take_batches_again() {
        let dir = tempfile::tempdir().unwrap();
        let config: crate::StoreConfig =
            serde_json::from_value(serde_json::json!({"path": "s"})).unwrap();
        let mut target = crate::StoreTarget::open(&dir.path().join("s"), &config, "s").unwrap();
        let handle = target.handle();
        let head = &handle.cell.shared.head_state;
        head.failing("Input/output error (os error 5)".into());
        assert!(handle.head_refusal().is_some());
        target.gave_up();
        assert_eq!(handle.head_state(), HeadState::Taking);
        head.disk_refused(RefusedBatch {
            bytes: 10,
            free_then: Some(5),
        });
        head.disk_full();
        assert!(matches!(handle.head_state(), HeadState::DiskFull { .. }));
        target.gave_up();
        assert_eq!(handle.head_state(), HeadState::Taking);
        assert_eq!(handle.head_refusal(), None);
    }
}
