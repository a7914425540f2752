//! Acknowledged emits: they resolve once every accepting target durably took the
//! event (or the batch), with what happened where it did not.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::ack::{AckSlot, AckTracker, AckWait};
use super::answer::{AckReport, BatchAck};
use super::emit::InFlight;
use super::error::{AckError, BatchError, DeliveryFailure};
use super::queued_at::QueuedAt;
use super::routes::{RouteSet, Routed};
use super::worker::{Item, Queued};
use super::{Dispatcher, Emitted};
use crate::event::{Event, EventDraft};

impl Dispatcher {
    /// Emits and resolves only when every target that accepted the event has durably
    /// taken it (the target's `Ok`). Fails if any accepting target dead-lettered or
    /// dropped it. Resolves at once when no target accepted the event.
    ///
    /// Whether the targets that took it are durable on `Ok`:
    /// [`Dispatcher::emit_acked_report`].
    pub async fn emit_acked(&self, draft: impl Into<EventDraft>) -> Result<Emitted, AckError> {
        self.emit_acked_report(draft).await.map(|r| r.emitted)
    }

    /// [`Dispatcher::emit_acked`], answering also which targets took the event and
    /// whether each is durable on `Ok` ([`AckReport::is_durable`]): an acknowledged
    /// event a target holds in the page cache only (a file target with `fsync =
    /// false`) is lost by a power loss, which a caller that forgets the event once
    /// acknowledged must know.
    pub async fn emit_acked_report(
        &self,
        draft: impl Into<EventDraft>,
    ) -> Result<AckReport, AckError> {
        let in_flight = self.enter()?;
        let (event, accepting) = self.prepare(draft.into(), false)?;
        let emitted = Emitted {
            id: event.id,
            seq: event.seq,
            targets: accepting.len(),
        };
        let not_durable: RouteSet = accepting
            .iter()
            .filter(|&r| !self.is_durable_route(r))
            .collect();
        let report = AckReport::new(emitted, accepting.clone(), not_durable);
        let Some(done) = self.queue_acked(in_flight, vec![(event, accepting)]).await else {
            return Ok(report);
        };
        match done.await {
            Ok(failed) if failed.is_empty() => Ok(report),
            Ok(failed) => Err(AckError::NotDelivered {
                id: emitted.id,
                failures: failed.into_iter().map(|f| f.failure).collect(),
            }),
            Err(_) => Err(AckError::Abandoned(emitted.id)),
        }
    }

    /// Emits a batch of complete events as they are (their id, seq, node and receive
    /// information are kept; nothing is completed or renumbered) and resolves once
    /// every event is settled, with the answer per event: the routes whose filter
    /// accepted it and each one's outcome (durably taken, or dead-lettered, rejected,
    /// dropped, lost; see [`FailureKind`](super::FailureKind)). Every route's filter runs once per event.
    ///
    /// Events are queued in order. Either the whole batch is queued or, when the
    /// dispatcher is shut down, none of it ([`BatchError::Closed`]). An event that no
    /// route accepts is counted as unrouted.
    pub async fn emit_events_acked(
        &self,
        events: impl IntoIterator<Item = Event>,
    ) -> Result<BatchAck, BatchError> {
        let events = events.into_iter().map(|e| self.route(e)).collect();
        self.emit_routed_acked(events).await
    }

    /// [`Dispatcher::emit_events_acked`] for events routed beforehand with
    /// [`Dispatcher::route`]: their filters do not run again. (An event routed by
    /// another dispatcher is routed again here.)
    pub async fn emit_routed_acked(&self, events: Vec<Routed>) -> Result<BatchAck, BatchError> {
        let in_flight = self.enter().map_err(|_| BatchError::Closed)?;
        let n = events.len();
        let mut queued = Vec::with_capacity(n);
        let mut answer = Vec::with_capacity(n);
        for routed in events {
            let Routed {
                event,
                routes,
                dispatcher,
            } = if routed.dispatcher == self.inner.id {
                routed
            } else {
                self.route_shared(routed.event)
            };
            if routes.is_empty() {
                self.inner.unrouted.fetch_add(1, Ordering::Relaxed);
            }
            answer.push((event.id, event.seq, routes.clone()));
            debug_assert_eq!(dispatcher, self.inner.id);
            queued.push((event, routes));
        }
        let failed = match self.queue_acked(in_flight, queued).await {
            None => Vec::new(),
            Some(done) => done
                .await
                .map_err(|_| BatchError::Abandoned { events: n })?,
        };
        Ok(BatchAck::assemble(answer, failed, |r| {
            self.is_durable_route(r)
        }))
    }

    /// Emits a batch of drafts and resolves once every event is settled: `Ok` when
    /// every accepting target durably took every event; otherwise the error of each
    /// event that was refused (first) or not taken (events are queued in order). The
    /// same path as [`Dispatcher::emit_events_acked`], for drafts.
    pub async fn emit_batch_acked(
        &self,
        drafts: impl IntoIterator<Item = EventDraft>,
    ) -> Result<Vec<Emitted>, Vec<AckError>> {
        let in_flight = match self.enter() {
            Ok(guard) => guard,
            Err(e) => {
                return Err(drafts
                    .into_iter()
                    .map(|_| AckError::Emit(e.clone()))
                    .collect())
            }
        };
        let mut errors = Vec::new();
        let mut queued = Vec::new();
        let mut emitted = Vec::new();
        for draft in drafts {
            match self.prepare(draft, false) {
                Ok((event, routes)) => {
                    emitted.push(Emitted {
                        id: event.id,
                        seq: event.seq,
                        targets: routes.len(),
                    });
                    queued.push((event, routes));
                }
                Err(e) => errors.push(AckError::Emit(e)),
            }
        }
        match self.queue_acked(in_flight, queued).await {
            None => {}
            Some(done) => match done.await {
                Ok(failed) => {
                    let mut by_event: Vec<Vec<DeliveryFailure>> = vec![Vec::new(); emitted.len()];
                    for f in failed {
                        if let Some(slot) = by_event.get_mut(f.event) {
                            slot.push(f.failure);
                        }
                    }
                    let mut kept = Vec::with_capacity(emitted.len());
                    for (e, failures) in emitted.into_iter().zip(by_event) {
                        if failures.is_empty() {
                            kept.push(e);
                        } else {
                            errors.push(AckError::NotDelivered { id: e.id, failures });
                        }
                    }
                    emitted = kept;
                }
                Err(_) => {
                    errors.extend(emitted.drain(..).map(|e| AckError::Abandoned(e.id)));
                }
            },
        }
        if errors.is_empty() {
            Ok(emitted)
        } else {
            Err(errors)
        }
    }

    /// Queues each event to its routes with one acknowledgement tracker for the whole
    /// call, then leaves the in-flight count; `None` when no route accepted anything
    /// (nothing to wait for).
    async fn queue_acked(
        &self,
        in_flight: InFlight<'_>,
        events: Vec<(Arc<Event>, RouteSet)>,
    ) -> Option<AckWait> {
        let pairs = events.iter().map(|(_, r)| r.len()).sum();
        if pairs == 0 {
            return None;
        }
        let (tracker, done) = AckTracker::new(pairs);
        let queued_at = QueuedAt::now();
        // Each route's last event of this emit: the worker takes the events before it
        // as more to come, so the caller's batch reaches the target whole.
        let mut last = vec![None; self.inner.routes.len()];
        for (i, (_, routes)) in events.iter().enumerate() {
            for r in routes.iter() {
                last[r] = Some(i);
            }
        }
        let mut items = Vec::with_capacity(pairs);
        for (i, (event, routes)) in events.into_iter().enumerate() {
            for r in routes.iter() {
                let item = Item::Event(Queued {
                    event: event.clone(),
                    ack: Some(AckSlot {
                        tracker: tracker.clone(),
                        event: i,
                        more_follow: last[r] != Some(i),
                    }),
                    queued_at,
                });
                items.push((r, item));
            }
        }
        // Someone waits for these: do not let them sit through a quiet tick. Woken once
        // the whole batch is queued, not after each event: a worker woken by the first
        // event took it alone, splitting the batch the caller handed over.
        let wake = (0..last.len()).filter(|&r| last[r].is_some()).collect();
        self.queue_in_order(items.into_iter(), wake).await;
        // Only the queued copies may keep the tracker alive: if they all vanish
        // unsettled (a worker gone with its queue), the waiter learns it.
        drop(tracker);
        drop(in_flight);
        Some(done)
    }
}
