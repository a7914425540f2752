//! Answers while a store's disk is full.
//!
//! A batch that meets `ENOSPC`/`EDQUOT` is undone and retried by the dispatcher until
//! there is space (docs/store.md, "Retried errors"). Its sender used to wait the whole
//! `ack_timeout_ms` for a `503 ack_timeout` that named no cause, and so did every
//! batch after it: a node (whose requests time out sooner) saw only time-outs, nothing
//! saying the disk is full. Now a batch sent while a store's last batch failed on a
//! full disk, and its file system still has almost nothing free, is refused at once
//! (`503 disk_full`, nothing stored), and a batch that waited out `ack_timeout_ms`
//! behind a full disk says so.
//!
//! The refusal also reads the free space, not only the store's flag: the flag is
//! cleared only by the store's next write, and a write comes only from an admitted
//! batch or the dispatcher's retry, so the flag alone could refuse every batch after
//! space was freed.

use std::time::Duration;

use super::error::ApiError;
use super::AppState;

/// Under this many free bytes, a store whose last batch met a full disk refuses new
/// batches at once. Above, batches are taken (and wait, if they still do not fit).
const FULL_DISK_FREE_BYTES: u64 = 1 << 20;

/// Retry-After of these answers: a full disk is a matter for an operator.
const RETRY: Duration = Duration::from_secs(30);

/// A store destination that refuses batches now: its last batch failed on a full disk
/// and its file system has under [`FULL_DISK_FREE_BYTES`] free. Its name and its free
/// bytes.
///
/// The one decision behind both the ingest's `503 disk_full` and `/readyz`'s
/// `disk_full` (`readiness.rs`): readiness used to probe the folders with a block of
/// its own and so answered from whichever file system refused the block (the data
/// folder's, when the stores live on another) while batches were taken.
pub(super) fn refusing_store(
    destinations: &crate::destinations::Destinations,
) -> Option<(String, u64)> {
    destinations.stores().find_map(|(_, d, s)| {
        if !s.handle.disk_full() {
            return None;
        }
        let free = crate::disk::available_bytes(&s.path)?;
        (free < FULL_DISK_FREE_BYTES).then(|| (d.name.clone(), free))
    })
}

/// `503 disk_full` when a store destination's last batch failed on a full disk and its
/// file system has under [`FULL_DISK_FREE_BYTES`] free ([`refusing_store`]).
pub(super) fn refuse_while_full(state: &AppState) -> Result<(), ApiError> {
    match refusing_store(&state.destinations) {
        None => Ok(()),
        Some((name, free)) => Err(ApiError::unavailable(
            "disk_full",
            format!(
                "store destination {name:?}: its disk is full ({free} bytes free; its last \
                 batch failed with no space left, the server's log names the file): \
                 nothing was stored; batches are taken again once there is space"
            ),
            RETRY,
        )),
    }
}

/// The answer to a batch that waited out `ack_timeout_ms` while a store destination's
/// disk is full (its batch is still retried: a retry of it is counted as duplicates
/// once stored). `None` when no store is in that state.
pub(super) fn timed_out_behind_a_full_disk(state: &AppState) -> Option<ApiError> {
    let (_, d, _) = state
        .destinations
        .stores()
        .find(|(_, _, s)| s.handle.disk_full())?;
    Some(ApiError::unavailable(
        "disk_full",
        format!(
            "store destination {:?}: its disk is full (its last batch failed with no space \
             left, the server's log names the file): the batch was not acknowledged within \
             {} ms; the server retries it until there is space; retry (events already \
             stored are counted as duplicates)",
            d.name,
            state.ack_timeout.as_millis()
        ),
        RETRY,
    ))
}
