//! The answer of an acknowledged batch emit: per event, which routes took it and how
//! every accepting route fared.

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
}

impl BatchAck {
    /// Puts the failures reported by the workers with the events they belong to.
    pub(super) fn assemble(events: Vec<(EventId, u64, RouteSet)>, mut failed: Vec<Failed>) -> Self {
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
                EventAck {
                    id,
                    seq,
                    routes,
                    failures,
                }
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
