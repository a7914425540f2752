//! `503 store_held`: a batch with an event for a store held (its checks at start, or
//! at the last SIGHUP, failed; or it could not be opened at start) is refused whole,
//! naming the store, what held it, how many events of the batch go to it and where
//! the first one is (`line`/`index`, as `503 disk_full` does: `routed_to.rs`).

use std::time::Duration;

use auditrail_core::Routed;

use super::error::{ApiError, Position};
use super::routed_to::RoutedTo;
use super::AppState;

/// A held store waits for an operator and a SIGHUP (or a restart): no sooner than a minute.
const HELD_RETRY: Duration = Duration::from_secs(60);

/// 503 `store_held` when an event of the batch goes to a held store
/// (`Destinations::held`): nothing of the batch is stored, and the node keeps it and
/// retries until the store is seen to and taken back (SIGHUP, or a restart; only a
/// restart for a store not opened at start). Retryable, not a fault of the event: a
/// `400` would make the node set the events aside for good.
pub(super) fn refuse_held(
    state: &AppState,
    events: &[Routed],
    positions: &[Position],
) -> Result<(), ApiError> {
    let held: Vec<usize> = state
        .destinations
        .stores()
        .filter(|(_, _, s)| s.is_held())
        .map(|(route, _, _)| route)
        .collect();
    if held.is_empty() {
        return Ok(());
    }
    let Some((route, routed)) = RoutedTo::first_of(events, positions, &held) else {
        return Ok(());
    };
    let Some((_, d, store)) = state.destinations.stores().find(|(r, _, _)| *r == route) else {
        return Ok(());
    };
    // Lifted since the list above was made: the store takes the batch.
    let Some(found) = store.held() else {
        return Ok(());
    };
    let name = &d.name;
    let said = routed.said();
    // What held it, in the words `/readyz` uses too (`held_for`).
    let by = store.held_for();
    let message = if store.unopened.is_some() {
        format!(
            "store destination {name:?} is held: {by}, so the server writes and signs \
             nothing there until its files can be read (owner, mode) and the server is \
             started again (docs/tamper-evidence.md); {said}; nothing of the batch was \
             stored; keep it and retry; {found}"
        )
    } else {
        format!(
            "store destination {name:?} is held: {by}, so the server writes and signs \
             nothing there until it is seen to (`auditrail verify`, then `auditrail store \
             accept` or its files restored, then SIGHUP or a restart; docs/operations.md); \
             {said}; nothing of the batch was stored; keep it and retry (the other \
             destinations take theirs); found: {found}"
        )
    };
    Err(ApiError::unavailable("store_held", message, HELD_RETRY).at(&routed.first))
}
