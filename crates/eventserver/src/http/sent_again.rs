//! A retry's events that de-duplication remembers but that a destination cannot show
//! it still holds: sent to that destination again, never answered as duplicates.
//!
//! A duplicate answer vouches for what the destinations hold: the node forgets what a
//! `200` counted. Stores show it (the record read back at its place,
//! `Destinations::records_gone`); no other destination type can (a `file` destination
//! whose folder a cleanup job removed, a Kafka topic deleted, another server's store
//! lost), and de-duplication only remembers, in memory, that they took the event once.
//! Such an event is therefore sent again to those destinations (its routes narrowed to
//! them, `Routed::narrowed`), while the stores that hold its record keep their one
//! copy: at-least-once in those destinations, whose copies the event id tells apart.
//! The answer counts it `accepted` (taken again), not `duplicates`.
//!
//! So is a duplicate this request routes to a store that never took it: a store with a
//! `required_key` takes an event by the key that sends it, and an event first sent
//! with another key was stored without it (de-duplication remembers the event, not
//! the key). Sent again with the required key, it goes to that store alone
//! (`Destinations::keyed_stores_lacking`: the store does not show its record), and
//! the stores that hold it are not written again. A keyed store that de-duplication
//! saw take the event holds it though it cannot show the record (`chain = false`, or
//! older than its last 262 144 links): `Admission::marked`. Before, such a store got
//! a copy per retry. What the window no longer remembers is no duplicate anywhere.
//!
//! Two concurrent retries of one event must not both send it (two copies in the keyed
//! store): the admission of such a server holds the batch's stored events until it
//! ends (`Dedup::admit_holding`), so the second waits for the first's outcome, then
//! finds the store showing the record the first wrote, and answers a duplicate. Nor
//! to a destination that cannot show it holds the event: a request that waited for
//! another carrying the event (storing it, or sending it again) is not sending it to
//! a destination that took it from that one (`Admission::taken_meanwhile`): one copy
//! there per submission, whatever the requests that overlapped it.

use auditrail_core::{RouteSet, Routed};

use crate::dedup::Admission;
use crate::destinations::Destinations;
use crate::metrics::Metrics;

/// The events of a batch sent again (see the module docs).
#[derive(Debug, Default)]
pub(super) struct SentAgain {
    /// Per event of the batch, when it is sent again: the event routed to the
    /// destinations that cannot show they hold it (or show they do not: a keyed store
    /// that never took it), and the routes that showed it (its stores). Empty, never
    /// allocated, when no event is (the usual server, whose destinations are all
    /// stores without a `required_key`, never looks further).
    by_event: Vec<Option<(Routed, RouteSet)>>,
    count: usize,
}

impl SentAgain {
    /// Which of `events`' duplicates found stored before (the admission's
    /// [`Admission::stored_duplicates`], after the stores' check of their records)
    /// are sent again.
    pub(super) fn of(
        destinations: &Destinations,
        events: &[Routed],
        admission: &Admission,
    ) -> SentAgain {
        let mut again = SentAgain::default();
        if admission.duplicates() == 0 || !destinations.may_send_again() {
            return again;
        }
        let stored = admission.stored_duplicates();
        let keyed: Vec<_> = stored
            .iter()
            .map(|&(i, key)| (key, events[i].routes()))
            .collect();
        let mut lacking = destinations.keyed_stores_lacking(&keyed);
        // A store that cannot show the record (an older one, or no chain) but that
        // de-duplication saw take the event holds it (`Admission::marked`).
        for (l, &(i, _)) in lacking.iter_mut().zip(&stored) {
            if !l.is_empty() {
                *l = l.iter().filter(|&r| !admission.marked(i, r)).collect();
            }
        }
        // The same event twice in the batch is sent again once (the other copy is a
        // repeat within the batch, a duplicate as ever).
        let mut seen = std::collections::HashSet::new();
        for (n, (i, key)) in stored.into_iter().enumerate() {
            let routes = events[i].routes();
            // A destination that cannot show it holds the event, unless a concurrent
            // request carrying it, which this one waited for, just saw it take it.
            let lacks = |r: usize| {
                (destinations.cannot_show(r) && !admission.taken_meanwhile(i, r))
                    || lacking.get(n).is_some_and(|l| l.contains(r))
            };
            if !routes.iter().any(lacks) || !seen.insert(key) {
                continue;
            }
            if again.by_event.is_empty() {
                again.by_event.resize_with(events.len(), || None);
            }
            let sent = events[i].narrowed(lacks);
            let held = routes.iter().filter(|&r| !lacks(r)).collect();
            again.by_event[i] = Some((sent, held));
            again.count += 1;
        }
        again
    }

    /// How many events are sent again.
    pub(super) fn len(&self) -> usize {
        self.count
    }

    /// Event `i` of the batch sent again, routed to the destinations that cannot show
    /// they hold it.
    pub(super) fn sent(&self, i: usize) -> Option<&Routed> {
        self.by_event.get(i)?.as_ref().map(|(r, _)| r)
    }

    /// The routes of event `i` that showed they hold it (its stores), when it is sent
    /// again.
    pub(super) fn held(&self, i: usize) -> Option<&RouteSet> {
        self.by_event.get(i)?.as_ref().map(|(_, h)| h)
    }

    /// Counts the events sent again that a destination took
    /// (`auditrail_server_events_sent_again_total`, by destination): `acks[k]` is the
    /// answer for the `k`-th event emitted, `emitted[k]` its index in the batch.
    pub(super) fn count(
        &self,
        acks: &[auditrail_core::EventAck],
        emitted: &[usize],
        destinations: &Destinations,
        metrics: &Metrics,
    ) {
        if self.count == 0 {
            return;
        }
        let mut taken: Vec<u64> = Vec::new();
        for (ack, &i) in acks.iter().zip(emitted) {
            if self.sent(i).is_none() {
                continue;
            }
            for r in ack.taken().iter() {
                if taken.len() <= r {
                    taken.resize(r + 1, 0);
                }
                taken[r] += 1;
            }
        }
        for (r, n) in taken.into_iter().enumerate().filter(|(_, n)| *n > 0) {
            if let Some(name) = destinations.name_of(r) {
                metrics.sent_again(name, n);
            }
        }
    }
}
