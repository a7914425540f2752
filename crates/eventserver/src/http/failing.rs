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
//! too, once the store failed at two looks a second apart (its retry failed as well,
//! `head_refusal::behind_a_refusing_store`, as for a full disk), or at
//! `ack_timeout_ms`: not a bare `ack_timeout` after the whole wait. The refusal
//! and `/readyz`'s entry are decided in one place with a full disk's
//! (`head_refusal.rs`): a store is in one state or the other, never both.

use std::time::Duration;

use auditrail_core::RouteSet;
use auditrail_store::HeadState;

use super::error::ApiError;
use super::AppState;

/// Retry-After of the answer: the store's retry is every few seconds at most.
pub(super) const RETRY: Duration = Duration::from_secs(5);

/// What refuses a failing store's batches, for the ingest's answers and `/readyz`:
/// `error` is the OS error its last batch failed with, without the path (a partition
/// folder's name holds a topic and a routing key).
pub(super) fn why(error: &str) -> String {
    format!(
        "its last batch failed ({error}; the server's log names the file) and is retried \
         before any later one"
    )
}

/// Until when a failing store's batches are refused.
pub(super) const UNTIL: &str =
    "that batch is written (the cause seen to) or given up by retry_max_elapsed_s";

/// The answer to a batch that waited out `ack_timeout_ms` (`timed_out`) while a store
/// destination it went to (`routes`) has its last batch failing (this batch, or one
/// before it: still retried, so a retry of it is counted as duplicates once stored).
/// A batch is answered before that, once the store refused at two looks a second
/// apart (`head_refusal::behind_a_refusing_store`). `None` when no such store is in
/// that state.
pub(super) fn behind_a_failing_store(
    state: &AppState,
    routes: &RouteSet,
    timed_out: Duration,
) -> Option<ApiError> {
    let (name, error) = state
        .destinations
        .stores()
        .filter(|(route, _, s)| routes.contains(*route) && !s.is_held())
        .find_map(|(_, d, s)| match s.handle.head_state() {
            HeadState::Failing { error } => Some((&d.name, error)),
            _ => None,
        })?;
    Some(ApiError::unavailable(
        "store_failing",
        format!(
            "store destination {name:?}: its last batch failed ({error}; the server's log \
             names the file): the batch was not acknowledged within {} ms; the server \
             retries it until it is written or given up (retry_max_elapsed_s); retry \
             (events already stored are counted as duplicates)",
            timed_out.as_millis()
        ),
        RETRY,
    ))
}
