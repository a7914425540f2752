//! Answers while a store's disk is full.
//!
//! A batch that meets `ENOSPC`/`EDQUOT` is undone and retried by the dispatcher until
//! there is space (docs/store.md, "Retried errors"). Its sender used to wait the whole
//! `ack_timeout_ms` for a `503 ack_timeout` that named no cause, and so did every
//! batch after it: a node (whose requests time out sooner) saw only time-outs, nothing
//! saying the disk is full. Now a batch with an event for a store whose last batch
//! failed on a full disk, and whose file system still has almost nothing free, is
//! refused at once (`503 disk_full`, nothing stored), and a batch already taken that
//! waits behind its store's full disk is answered `503 disk_full` once the store
//! refuses at two looks a second apart (`head_refusal::behind_a_refusing_store`, the
//! same decision `/readyz` names it by), or says so at `ack_timeout_ms` when the disk
//! was full without the store refusing (room for small batches).
//!
//! Per store: a batch is refused only when one of its events goes to a full store
//! (after routing, like a held store's), and `/readyz` names a full store under
//! `degraded` while another store takes batches (`readiness.rs`); both decide it in
//! one place (`head_refusal.rs`, [`auditrail_store::HeadState::refusal`]). A first version
//! refused every batch, and made the server not ready, while any one store's disk was
//! full: the nodes of a store on another disk, with room, were refused too, and a load
//! balancer took the whole server out for one disk.
//!
//! The refusal also reads the free space, not only the store's flag: the flag is
//! cleared only by the store's next write (or the dispatcher giving the batch up,
//! `retry_max_elapsed_s`), and a write comes only from an admitted batch or the
//! dispatcher's retry, so the flag alone could refuse every batch after space was
//! freed.
//!
//! Under [`auditrail_store::FULL_DISK_FREE_BYTES`] free, a full store refuses every
//! batch. A store refuses too while its file system has room for small batches but
//! not for the batch it retries ([`auditrail_store::RefusedBatch`]: one batch of a few MiB on
//! a disk with 1.3 MiB left). Its dispatcher retries that batch first, in order, so a
//! batch taken now would not be stored before it either: every one waited out
//! `ack_timeout_ms` while `/readyz` said nothing (stop 61). Batches are not stored
//! past it (the store's order is the order batches were taken, and an acknowledged
//! batch's answer comes after those before it): the refusal ends once the file system
//! has the room the batch needs, or once the dispatcher gave it up (dead-lettered).

use std::time::Duration;

use auditrail_core::{RouteSet, Routed};
use auditrail_store::HeadState;

use super::error::ApiError;
use super::AppState;

/// Retry-After of these answers: a full disk is a matter for an operator.
pub(super) const RETRY: Duration = Duration::from_secs(30);

/// What refuses a full store's batches, for the ingest's answer and `/readyz`: `its
/// disk is full (N bytes free` or, with `batch_bytes` (room for small batches but not
/// for the batch it retries), `its disk cannot take the batch it retries (N bytes; M
/// bytes free`.
pub(super) fn why(free: u64, batch_bytes: Option<u64>) -> String {
    match batch_bytes {
        None => format!(
            "its disk is full ({free} bytes free; its last batch failed with no space left, the server's log names the file)"
        ),
        Some(bytes) => format!(
            "its disk cannot take the batch it retries ({bytes} bytes; {free} bytes free: that batch failed with no space left, the server's log names the file, and the store's later batches wait behind it)"
        ),
    }
}

/// Until when a full store's batches are refused.
pub(super) fn until(batch_bytes: Option<u64>) -> &'static str {
    match batch_bytes {
        None => "there is space",
        Some(_) => {
            "its file system has room for that batch, or the dispatcher gave it up (retry_max_elapsed_s: dead-lettered)"
        }
    }
}

/// The stores a batch's events go to (for [`timed_out_behind_a_full_disk`], once the
/// batch itself was handed to the destinations).
pub(super) fn routes_of(events: &[Routed]) -> RouteSet {
    events.iter().flat_map(|e| e.routes().iter()).collect()
}

/// The answer to a batch that waited out `ack_timeout_ms` while a store destination it
/// went to (`routes`) had its disk full (its batch is still retried: a retry of it is
/// counted as duplicates once stored). `None` when no such store is in that state: a
/// full disk under another store is no cause of this batch's wait.
pub(super) fn timed_out_behind_a_full_disk(
    state: &AppState,
    routes: &RouteSet,
) -> Option<ApiError> {
    let (_, d, _) = state.destinations.stores().find(|(route, _, s)| {
        routes.contains(*route) && matches!(s.handle.head_state(), HeadState::DiskFull { .. })
    })?;
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
