//! A retry's new events that some of their stores hold from an earlier try whose
//! answer was an error (a store refusing a folder for now, a full disk, a destination
//! that gave the batch up, a crash): routed to their other destinations alone, so that
//! a store that wrote an event never writes it again (`dedup/partly_stored.rs`).
//!
//! Each store noted as holding such an event first shows it still holds the record
//! (read back at its place, `Destinations::records_gone`, as for a duplicate): when
//! one of them no longer does (a file or folder removed by hand), the event is written
//! to all of its stores again (a duplicate kept in the others, never a loss).
//! Destinations that are not stores are never noted: they get the retry again
//! (at-least-once there, as after a `200`).

use auditrail_core::{RouteSet, Routed};

use crate::dedup::Admission;
use crate::destinations::Destinations;

/// The new events of a batch some of whose stores hold them (see the module docs).
#[derive(Debug, Default)]
pub(super) struct HeldBefore {
    /// Per event of the batch, the stores that hold it: empty, never allocated, when
    /// none does (every batch but a retry after a failure).
    by_event: Vec<Option<RouteSet>>,
    /// The admission's new events (`Admission::new`), when some are held.
    new: Vec<usize>,
}

impl HeldBefore {
    /// Narrows each new event of `events` that some of its stores hold (the
    /// admission's [`Admission::held_before`]) to its other destinations, once those
    /// stores showed they still hold its record.
    pub(super) fn narrow(
        destinations: &Destinations,
        events: &mut [Routed],
        admission: &mut Admission,
    ) -> HeldBefore {
        let mut held = HeldBefore::default();
        if admission.all_held_before().is_empty() {
            return held;
        }
        let noted: Vec<(usize, RouteSet)> = admission.all_held_before().to_vec();
        let keys = admission.receipt_keys(noted.iter().map(|(i, _)| *i));
        let gone = destinations.records_gone(
            noted
                .iter()
                .zip(keys)
                .map(|((i, routes), key)| (*i, key, routes)),
        );
        if let Some((first, _, why, _)) = gone.first() {
            tracing::error!(
                events = gone.len(),
                first = %events[*first].event().id,
                reason = %why,
                "events sent again that some of their stores took in an earlier try are gone from one of them (a file or folder removed, moved, replaced or cut by hand): they are written to all their stores again"
            );
        }
        for (i, _, _, _) in &gone {
            if let Some((_, routes)) = noted.iter().find(|(j, _)| j == i) {
                for r in routes.iter() {
                    admission.not_held(*i, r);
                }
            }
        }
        for (i, _) in noted {
            let Some(routes) = admission.held_before(i).filter(|r| !r.is_empty()) else {
                continue;
            };
            let Some(event) = events.get_mut(i) else {
                continue;
            };
            let rest = event.narrowed(|r| !routes.contains(r));
            // Every destination holds it (its routes changed with the key that sends
            // it): written again to all, a duplicate kept rather than an event that
            // goes nowhere.
            if rest.routes().is_empty() {
                continue;
            }
            *event = rest;
            if held.by_event.is_empty() {
                held.by_event.resize_with(events.len(), || None);
                held.new = admission.new().to_vec();
            }
            held.by_event[i] = Some(routes.clone());
        }
        held
    }

    /// The stores that hold event `i` of the batch from an earlier try (its routes
    /// then leave them out).
    pub(super) fn held(&self, i: usize) -> Option<&RouteSet> {
        self.by_event.get(i)?.as_ref()
    }

    /// [`HeldBefore::held`] of the admission's `k`-th new event.
    pub(super) fn held_new(&self, k: usize) -> Option<&RouteSet> {
        self.held(*self.new.get(k)?)
    }

    /// Each event held before and the stores that hold it, by batch index.
    pub(super) fn all(&self) -> impl Iterator<Item = (usize, &RouteSet)> + '_ {
        self.by_event
            .iter()
            .enumerate()
            .filter_map(|(i, h)| Some((i, h.as_ref()?)))
    }

    /// The `required_key` stores that hold events from an earlier try, for
    /// de-duplication's marks ([`Admission::commit_marking`]): (batch index, route).
    pub(super) fn keyed_marks(&self, destinations: &Destinations) -> Vec<(usize, usize)> {
        if !destinations.has_keyed_stores() {
            return Vec::new();
        }
        self.all()
            .flat_map(|(i, routes)| {
                routes
                    .iter()
                    .filter(move |&r| destinations.is_keyed_store(r))
                    .map(move |r| (i, r))
            })
            .collect()
    }
}
