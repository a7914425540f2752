//! `503 store_failing`: a batch with an event for a store whose last batch failed with
//! a retried error other than a full disk (its folder moved or removed while the server
//! runs, an I/O error) is refused at once, naming the store and the error.
//!
//! The dispatcher retries the failed batch first, in order (a store's batches are
//! stored and answered in the order taken), so a batch taken for that store now would
//! not be stored before it: each one waited out `ack_timeout_ms` for a bare
//! `503 ack_timeout` that named neither the store nor the cause, while `/readyz` said
//! the store's open partitions were stored (stop 61's tryout, a store folder moved
//! away). As for a full disk (`full_disk.rs`), the refusal is per store, after routing:
//! the other destinations take their batches. It ends with the store's next batch
//! written (the retry succeeded: the folder is back) or once the dispatcher gives the
//! failed batch up (`retry_max_elapsed_s`). A batch already taken that waits behind
//! such a store (the failed one among them) is answered `503 store_failing` naming it
//! too, once the store failed at two looks a second apart (its retry failed as well),
//! or at `ack_timeout_ms`: not a bare `ack_timeout` after the whole wait.

use std::time::Duration;

use auditrail_core::{RouteSet, Routed};

use super::error::{ApiError, Position};
use super::routed_to::RoutedTo;
use super::AppState;
use crate::destinations::Destinations;

/// Retry-After of the answer: the store's retry is every few seconds at most.
const RETRY: Duration = Duration::from_secs(5);

/// A store destination whose last batch failed and is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FailingStore {
    /// Its route index (as [`Routed::routes`] gives it).
    pub(super) route: usize,
    pub(super) name: String,
    /// The OS error its last batch failed with, without the path (a partition
    /// folder's name holds a topic and a routing key).
    pub(super) error: String,
}

/// Every store destination (not held) whose last batch failed with a retried error
/// other than a full disk (`disk_full` says those), and none was written since.
pub(super) fn failing_stores(destinations: &Destinations) -> Vec<FailingStore> {
    destinations
        .stores()
        .filter(|(_, _, s)| !s.is_held())
        .filter_map(|(route, d, s)| {
            Some(FailingStore {
                route,
                name: d.name.clone(),
                error: s.handle.failing()?,
            })
        })
        .collect()
}

/// `503 store_failing` when an event of the batch goes to a store whose last batch
/// failed ([`failing_stores`]): nothing of the batch is stored (all or nothing), and
/// the answer names the store, the error and where its first event is in the batch.
pub(super) fn refuse_failing(
    state: &AppState,
    events: &[Routed],
    positions: &[Position],
) -> Result<(), ApiError> {
    let failing = failing_stores(&state.destinations);
    let Some((store, routed)) = RoutedTo::first_refusing(events, positions, &failing, |f| f.route)
    else {
        return Ok(());
    };
    Err(ApiError::unavailable(
        "store_failing",
        format!(
            "store destination {:?}: its last batch failed ({}; the server's log names the \
             file) and is retried before any later one: {}; nothing was stored; batches \
             for it are taken again once that batch is written (the cause seen to) or \
             given up by retry_max_elapsed_s (the other destinations take theirs)",
            store.name,
            store.error,
            routed.said()
        ),
        RETRY,
    )
    .at(&routed.first))
}

/// The answer to a batch not acknowledged while a store destination it went to
/// (`routes`) has its last batch failing (this batch, or one before it: still retried,
/// so a retry of it is counted as duplicates once stored): after the whole
/// `ack_timeout_ms` (`timed_out`), or before it, once the store failed at two looks a
/// second apart (`None`). `None` when no such store is in that state.
pub(super) fn behind_a_failing_store(
    state: &AppState,
    routes: &RouteSet,
    timed_out: Option<Duration>,
) -> Option<ApiError> {
    let store = failing_stores(&state.destinations)
        .into_iter()
        .find(|f| routes.contains(f.route))?;
    let when = match timed_out {
        Some(t) => format!("the batch was not acknowledged within {} ms", t.as_millis()),
        None => "the batch is not acknowledged: it waits behind that batch".to_owned(),
    };
    Some(ApiError::unavailable(
        "store_failing",
        format!(
            "store destination {:?}: its last batch failed ({}; the server's log names the \
             file): {when}; the server retries it until it is written or given up \
             (retry_max_elapsed_s); retry (events already stored are counted as duplicates)",
            store.name, store.error,
        ),
        RETRY,
    ))
}
