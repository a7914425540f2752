//! Answers while a store's disk is full.
//!
//! A batch that meets `ENOSPC`/`EDQUOT` is undone and retried by the dispatcher until
//! there is space (docs/store.md, "Retried errors"). Its sender used to wait the whole
//! `ack_timeout_ms` for a `503 ack_timeout` that named no cause, and so did every
//! batch after it: a node (whose requests time out sooner) saw only time-outs, nothing
//! saying the disk is full. Now a batch with an event for a store whose last batch
//! failed on a full disk, and whose file system still has almost nothing free, is
//! refused at once (`503 disk_full`, nothing stored), and a batch that waited out
//! `ack_timeout_ms` behind its store's full disk says so.
//!
//! Per store: a batch is refused only when one of its events goes to a full store
//! (after routing, like a held store's), and `/readyz` names a full store under
//! `degraded` while another store takes batches (`readiness.rs`). A first version
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
//! A store refuses too while its file system has room for small batches but not for
//! the batch it retries ([`auditrail_store::RefusedBatch`]: one batch of a few MiB on
//! a disk with 1.3 MiB left). Its dispatcher retries that batch first, in order, so a
//! batch taken now would not be stored before it either: every one waited out
//! `ack_timeout_ms` while `/readyz` said nothing (stop 61). Batches are not stored
//! past it (the store's order is the order batches were taken, and an acknowledged
//! batch's answer comes after those before it): the refusal ends once the file system
//! has the room the batch needs, or once the dispatcher gave it up (dead-lettered).

use std::time::Duration;

use auditrail_core::{RouteSet, Routed};

use super::error::{ApiError, Position};
use super::routed_to::RoutedTo;
use super::AppState;
use crate::destinations::Destinations;

/// Under this many free bytes, a store whose last batch met a full disk refuses new
/// batches at once. Above, batches are refused while the batch that failed still has
/// no room ([`auditrail_store::RefusedBatch::room_needed`]), then taken.
const FULL_DISK_FREE_BYTES: u64 = 1 << 20;

/// Retry-After of these answers: a full disk is a matter for an operator.
const RETRY: Duration = Duration::from_secs(30);

/// A store destination that refuses batches now: its last batch failed on a full disk
/// and its file system has under [`FULL_DISK_FREE_BYTES`] free, or less than that
/// batch needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FullStore {
    /// Its route index (as [`Routed::routes`] gives it).
    pub(super) route: usize,
    pub(super) name: String,
    /// Free bytes of its file system, as read now.
    pub(super) free: u64,
    /// The bytes of the batch it retries, when its file system has
    /// [`FULL_DISK_FREE_BYTES`] or more free (small batches would fit) but not the
    /// room that batch needs: `None` when the disk is simply full.
    pub(super) batch_bytes: Option<u64>,
}

impl FullStore {
    /// What refuses its batches, for both answers: `its disk is full (N bytes free`
    /// or `its disk cannot take the batch it retries (N bytes; M bytes free`.
    pub(super) fn why(&self) -> String {
        match self.batch_bytes {
            None => format!(
                "its disk is full ({} bytes free; its last batch failed with no space left, the server's log names the file)",
                self.free
            ),
            Some(bytes) => format!(
                "its disk cannot take the batch it retries ({bytes} bytes; {} bytes free: that batch failed with no space left, the server's log names the file, and the store's later batches wait behind it)",
                self.free
            ),
        }
    }

    /// Until when its batches are refused.
    pub(super) fn until(&self) -> &'static str {
        match self.batch_bytes {
            None => "there is space",
            Some(_) => {
                "its file system has room for that batch, or the dispatcher gave it up (retry_max_elapsed_s: dead-lettered)"
            }
        }
    }
}

/// Every store destination (not held: a held one takes nothing anyway) that refuses
/// batches now for its full disk. The free space is read only for the stores whose
/// last batch met a full disk: none, as long as no disk was found full.
///
/// The one decision behind both the ingest's `503 disk_full` and `/readyz`'s
/// `disk_full` entries (`readiness.rs`): readiness used to probe the folders with a
/// block of its own and so answered from whichever file system refused the block (the
/// data folder's, when the stores live on another) while batches were taken.
pub(super) fn full_stores(destinations: &Destinations) -> Vec<FullStore> {
    destinations
        .stores()
        .filter(|(_, _, s)| !s.is_held() && s.handle.disk_full())
        .filter_map(|(route, d, s)| {
            let free = crate::disk::available_bytes(&s.path)?;
            let batch_bytes = if free < FULL_DISK_FREE_BYTES {
                None
            } else {
                // Room for small batches: refused only while the one it retries has
                // none (they would wait behind it).
                let refused = s.handle.refused_batch()?;
                if free >= refused.room_needed() {
                    return None;
                }
                Some(refused.bytes)
            };
            Some(FullStore {
                route,
                name: d.name.clone(),
                free,
                batch_bytes,
            })
        })
        .collect()
}

/// `503 disk_full` when an event of the batch goes to a store that refuses batches for
/// its full disk ([`full_stores`]): nothing of the batch is stored (all or nothing),
/// and the answer names the store and where its first event is in the batch. Batches
/// whose events go to other destinations are stored.
pub(super) fn refuse_full(
    state: &AppState,
    events: &[Routed],
    positions: &[Position],
) -> Result<(), ApiError> {
    let full = full_stores(&state.destinations);
    let Some((store, routed)) = RoutedTo::first_refusing(events, positions, &full, |f| f.route)
    else {
        return Ok(());
    };
    Err(ApiError::unavailable(
        "disk_full",
        format!(
            "store destination {:?}: {}: {}; nothing was stored; batches for it are taken \
             again once {} (the other destinations take theirs)",
            store.name,
            store.why(),
            routed.said(),
            store.until()
        ),
        RETRY,
    )
    .at(&routed.first))
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
    let (_, d, _) = state
        .destinations
        .stores()
        .find(|(route, _, s)| routes.contains(*route) && s.handle.disk_full())?;
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
