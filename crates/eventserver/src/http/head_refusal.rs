//! The store destinations that refuse a batch sent now for what the batch at the head
//! of their queue met ([`auditrail_store::HeadState`]): a full disk (`503 disk_full`,
//! `full_disk.rs`) or another retried error (`503 store_failing`, `failing.rs`).
//!
//! One look per store ([`StoreHandle::head_refusal`], the store's one decision),
//! read by the ingest's early answer ([`refuse`]) and by `/readyz`
//! (`readiness::stores_refusing`), in the same words: the two used to read a full
//! disk and a failing batch as two states, each under its own lock, and could
//! disagree (a store full then failing was answered `disk_full` and listed under
//! both). A store that takes its batches costs a batch one atomic load here.
//!
//! [`StoreHandle::head_refusal`]: auditrail_store::StoreHandle::head_refusal

use std::time::Duration;

use auditrail_core::{RouteSet, Routed};
use auditrail_store::HeadRefusal;

use super::error::{ApiError, Position};
use super::routed_to::RoutedTo;
use super::AppState;
use crate::destinations::Destinations;

/// A store destination (not held) that refuses batches now, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RefusingStore {
    /// Its route index (as [`Routed::routes`] gives it).
    pub(super) route: usize,
    pub(super) name: String,
    pub(super) refusal: HeadRefusal,
}

impl RefusingStore {
    /// The ingest answer's `error`, and the `/readyz` entry's `reason`.
    pub(super) fn reason(&self) -> &'static str {
        match self.refusal {
            HeadRefusal::DiskFull { .. } => "disk_full",
            HeadRefusal::Failing { .. } => "store_failing",
        }
    }

    /// What refuses its batches, for both answers.
    pub(super) fn why(&self) -> String {
        match &self.refusal {
            HeadRefusal::DiskFull { free, batch_bytes } => {
                super::full_disk::why(*free, *batch_bytes)
            }
            HeadRefusal::Failing { error } => super::failing::why(error),
        }
    }

    /// Until when its batches are refused, for both answers.
    pub(super) fn until(&self) -> &'static str {
        match self.refusal {
            HeadRefusal::DiskFull { batch_bytes, .. } => super::full_disk::until(batch_bytes),
            HeadRefusal::Failing { .. } => super::failing::UNTIL,
        }
    }

    fn retry(&self) -> Duration {
        match self.refusal {
            HeadRefusal::DiskFull { .. } => super::full_disk::RETRY,
            HeadRefusal::Failing { .. } => super::failing::RETRY,
        }
    }
}

/// Every store destination (not held: a held one takes nothing anyway, `503
/// store_held`) that refuses batches now, in the order of the destinations.
pub(super) fn refusing_stores(destinations: &Destinations) -> Vec<RefusingStore> {
    destinations
        .stores()
        .filter(|(_, _, s)| !s.is_held())
        .filter_map(|(route, d, s)| {
            Some(RefusingStore {
                route,
                name: d.name.clone(),
                refusal: s.handle.head_refusal()?,
            })
        })
        .collect()
}

/// `503 disk_full` or `503 store_failing` when an event of the batch goes to a store
/// that refuses batches now ([`refusing_stores`]): nothing of the batch is stored
/// (all or nothing), and the answer names the store, why, and where its first event
/// is in the batch. A full disk is answered before a failing store, as before they
/// shared one look. Batches whose events go to other destinations are stored.
pub(super) fn refuse(
    state: &AppState,
    events: &[Routed],
    positions: &[Position],
) -> Result<(), ApiError> {
    let refusing = refusing_stores(&state.destinations);
    for reason in ["disk_full", "store_failing"] {
        let of: Vec<&RefusingStore> = refusing.iter().filter(|s| s.reason() == reason).collect();
        let Some((store, routed)) = RoutedTo::first_refusing(events, positions, &of, |s| s.route)
        else {
            continue;
        };
        return Err(ApiError::unavailable(
            reason,
            format!(
                "store destination {:?}: {}: {}; nothing was stored; batches for it are \
                 taken again once {} (the other destinations take theirs)",
                store.name,
                store.why(),
                routed.said(),
                store.until()
            ),
            store.retry(),
        )
        .at(&routed.first));
    }
    Ok(())
}

/// The answer to a batch already handed to the destinations that waits behind a store
/// it went to (`routes`) that refuses batches now, for either cause ([`refusing_stores`]:
/// its disk full, or its last batch failing): `503` with the reason `/readyz` names the
/// store under (`disk_full`, `store_failing`), the store, why and until when. `None`
/// when no store this batch went to refuses. The store retries the batch at its head
/// in order, so this batch is not stored before that one is: its sender learns why
/// now, not after `ack_timeout_ms` (a full disk's batch waited it out while `/readyz`
/// already named the store; only a failing store was answered early). A full disk is
/// answered before a failing store, as [`refuse`] does.
pub(super) fn behind_a_refusing_store(state: &AppState, routes: &RouteSet) -> Option<ApiError> {
    let mut refusing: Vec<RefusingStore> = refusing_stores(&state.destinations)
        .into_iter()
        .filter(|s| routes.contains(s.route))
        .collect();
    refusing.sort_by_key(|s| matches!(s.refusal, HeadRefusal::Failing { .. }));
    let store = refusing.into_iter().next()?;
    Some(ApiError::unavailable(
        store.reason(),
        format!(
            "store destination {:?}: {}: the batch is not acknowledged: it waits behind \
             that batch; the server retries it until {}; retry (events already stored are \
             counted as duplicates)",
            store.name,
            store.why(),
            store.until()
        ),
        store.retry(),
    ))
}
