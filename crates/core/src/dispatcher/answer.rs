//! The answer of an acknowledged emit: per event, which routes took it, how every
//! accepting route fared, and whether those that took it are durable on `Ok`.

use super::ack::Failed;
use super::error::DeliveryFailure;
use super::routes::RouteSet;
use crate::event::EventId;

/// The answer of [`Dispatcher::emit_events_acked`](super::Dispatcher::emit_events_acked)
/// and [`Dispatcher::emit_routed_acked`](super::Dispatcher::emit_routed_acked): one
/// [`EventAck`] per event, in the order of the batch.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchAck {
    events: Vec<EventAck>,
}

/// One event's part of a [`BatchAck`].
#[derive(Debug, Clone, PartialEq)]
pub struct EventAck {
    /// The event's id.
    pub id: EventId,
    /// The event's sequence number.
    pub seq: u64,
    /// The routes whose filter accepted the event (it was queued to each of them).
    pub routes: RouteSet,
    /// The accepting routes that did not durably take it, by route index, ascending.
    failures: Vec<(usize, DeliveryFailure)>,
    /// Whether every route that took it is durable on `Ok` ([`EventAck::is_durable`]).
    durable: bool,
}

impl BatchAck {
    /// Puts the failures reported by the workers with the events they belong to.
    /// `durable` says whether a route's `Ok` means on stable storage.
    pub(super) fn assemble(
        events: Vec<(EventId, u64, RouteSet)>,
        mut failed: Vec<Failed>,
        durable: impl Fn(usize) -> bool,
    ) -> Self {
        failed.sort_unstable_by_key(|f| (f.event, f.route));
        let mut failed = failed.into_iter().peekable();
        let events = events
            .into_iter()
            .enumerate()
            .map(|(i, (id, seq, routes))| {
                let mut failures = Vec::new();
                while let Some(f) = failed.next_if(|f| f.event == i) {
                    failures.push((f.route, f.failure));
                }
                let mut ack = EventAck {
                    id,
                    seq,
                    routes,
                    failures,
                    durable: true,
                };
                ack.durable = ack.taken().iter().all(&durable);
                ack
            })
            .collect();
        BatchAck { events }
    }

    /// Per event, in the order of the batch.
    pub fn events(&self) -> &[EventAck] {
        &self.events
    }

    /// Per event, in the order of the batch.
    pub fn into_events(self) -> Vec<EventAck> {
        self.events
    }

    /// Whether every accepting route durably took every event.
    pub fn is_delivered(&self) -> bool {
        self.events.iter().all(EventAck::is_delivered)
    }

    /// Whether every route that took each event is durable on `Ok`
    /// ([`EventAck::is_durable`]): true when a power loss of the machine right now
    /// loses none of what was taken.
    pub fn is_durable(&self) -> bool {
        self.events.iter().all(EventAck::is_durable)
    }

    /// Every failure of the batch: the event, the route index and what happened.
    pub fn failures(&self) -> impl Iterator<Item = (&EventAck, usize, &DeliveryFailure)> + '_ {
        self.events
            .iter()
            .flat_map(|e| e.failures.iter().map(move |(r, f)| (e, *r, f)))
    }
}

impl EventAck {
    /// Whether every accepting route durably took the event (also true when no
    /// route accepted it: then nothing was asked of anyone).
    pub fn is_delivered(&self) -> bool {
        self.failures.is_empty()
    }

    /// Whether every route that took the event (`Ok` from its target,
    /// [`EventAck::taken`]) is durable on `Ok`
    /// ([`Dispatcher::route_durability`](super::Dispatcher::route_durability)): an
    /// `Ok` from a file target with `fsync = false`, or a target type that does not
    /// say, means the event may still be in the page cache, and a power loss may lose
    /// it. True when no route took it.
    pub fn is_durable(&self) -> bool {
        self.durable
    }

    /// The routes that durably took the event (`Ok` from their target).
    pub fn taken(&self) -> RouteSet {
        self.routes
            .iter()
            .filter(|r| self.failures.iter().all(|(f, _)| f != r))
            .collect()
    }

    /// Route `route`'s outcome: `None` when its filter did not accept the event,
    /// `Some(Ok(()))` when it durably took it, otherwise what happened.
    pub fn outcome(&self, route: usize) -> Option<Result<(), &DeliveryFailure>> {
        if !self.routes.contains(route) {
            return None;
        }
        Some(match self.failures.iter().find(|(r, _)| *r == route) {
            Some((_, f)) => Err(f),
            None => Ok(()),
        })
    }

    /// Every accepting route's outcome, by route index, ascending.
    pub fn outcomes(&self) -> impl Iterator<Item = (usize, Result<(), &DeliveryFailure>)> + '_ {
        self.routes.iter().map(move |r| {
            let outcome = match self.failures.iter().find(|(f, _)| *f == r) {
                Some((_, f)) => Err(f),
                None => Ok(()),
            };
            (r, outcome)
        })
    }

    /// The failures alone, by route index, ascending.
    pub fn failures(&self) -> &[(usize, DeliveryFailure)] {
        &self.failures
    }
}

/// The answer of [`Dispatcher::emit_acked_report`](super::Dispatcher::emit_acked_report):
/// what [`Dispatcher::emit_acked`](super::Dispatcher::emit_acked) answers, with the routes
/// that took the event and whether each is durable on `Ok`. `#[non_exhaustive]`: more
/// may be said later without breaking a reader.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AckReport {
    /// The event's id, sequence number and accepting target count.
    pub emitted: super::Emitted,
    /// The routes that took the event (every accepting route: the emit fails
    /// otherwise).
    pub routes: RouteSet,
    /// The routes of `routes` whose `Ok` does not mean on stable storage.
    not_durable: RouteSet,
}

impl AckReport {
    pub(super) fn new(emitted: super::Emitted, routes: RouteSet, not_durable: RouteSet) -> Self {
        AckReport {
            emitted,
            routes,
            not_durable,
        }
    }

    /// Whether every target that took the event is durable on `Ok` (true when none
    /// took it): a power loss of the machine right now loses nothing of it.
    pub fn is_durable(&self) -> bool {
        self.not_durable.is_empty()
    }

    /// The routes that took the event but are not durable on `Ok`, by index (their
    /// name and why: [`Dispatcher::routes`](super::Dispatcher::routes),
    /// [`Dispatcher::route_durability`](super::Dispatcher::route_durability)).
    pub fn not_durable(&self) -> &RouteSet {
        &self.not_durable
    }
}
