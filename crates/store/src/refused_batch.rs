//! The batch a store's full disk refused, remembered until the store writes a batch
//! again or its dispatcher gives that batch up ([`Target::gave_up`]).
//!
//! The dispatcher sends a store's batches in order and retries the one at the head
//! (`ENOSPC`, `EDQUOT`: retried every second): every later batch waits behind it. A
//! disk with a few MiB left takes small batches but not a batch of several MiB, so
//! "its last batch failed on a full disk and it has under 1 MiB free" missed that
//! case: the store took nothing while the server said it was ready and took batches,
//! each answered only after `ack_timeout_ms`. The batch's size and the room it did not
//! fit in tell the server when a batch sent now can be stored (after the head batch):
//! once the file system has more room than then, and at least the batch's bytes.
//!
//! [`Target::gave_up`]: auditrail_core::Target::gave_up

use std::path::Path;

/// The batch at the head of a store's queue that its disk could not take: its
/// dispatcher sends it again (in order: later batches of the store wait behind it)
/// until it fits or `retry_max_elapsed_s` gives it up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefusedBatch {
    /// Bytes of its records, as the writer formatted them (for a batch of more than
    /// [`MAX_UNACKED_RECORDS`](crate::MAX_UNACKED_RECORDS) events, those formatted up
    /// to the failure).
    pub bytes: u64,
    /// Free bytes of the store's file system (`f_bavail`, what an unprivileged writer
    /// may use) once the batch was undone: the room it did not fit in. `None` when it
    /// could not be read.
    pub free_then: Option<u64>,
}

impl RefusedBatch {
    /// The batch of `bytes` just undone in the store at `root`, with its file system's
    /// free bytes read now.
    pub(crate) fn measured(root: &Path, bytes: u64) -> RefusedBatch {
        RefusedBatch {
            bytes,
            free_then: free_bytes(root),
        }
    }

    /// The free bytes the store's file system needs before the batch may fit: more
    /// than it had when the batch failed (a file system also takes blocks for its own
    /// records, so the bytes alone can fit and the batch still not) and at least the
    /// batch's bytes.
    pub fn room_needed(&self) -> u64 {
        let more_than_then = self.free_then.map_or(0, |f| f.saturating_add(1));
        self.bytes.max(more_than_then)
    }
}

/// Free bytes of the file system holding `path` (`f_bavail` × `f_frsize`: what an
/// unprivileged writer may use); `None` when they cannot be read.
pub(crate) fn free_bytes(path: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(path).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_room_needed_is_more_than_the_room_it_failed_in_and_at_least_its_bytes() {
        let big = RefusedBatch {
            bytes: 2_400_000,
            free_then: Some(1_300_000),
        };
        assert_eq!(big.room_needed(), 2_400_000);
        let tight = RefusedBatch {
            bytes: 60_000,
            free_then: Some(61_440),
        };
        assert_eq!(tight.room_needed(), 61_441);
        let unknown = RefusedBatch {
            bytes: 5,
            free_then: None,
        };
        assert_eq!(unknown.room_needed(), 5);
    }
}
