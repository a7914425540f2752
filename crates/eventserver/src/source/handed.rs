//! The events a partition store handed to the server's own `[[destinations]]` and whose
//! answer it is still waiting for.
//!
//! A batch whose destinations do not answer within `ack_timeout_ms` fails, and the source
//! reads it again. The events it handed are still in the destinations' queues then
//! (being retried there): handing them once more would queue another copy at every
//! attempt, and a destination back after N attempts would get each event N times (a
//! stop dead-lettered every copy). So an attempt hands only the events no earlier
//! attempt is still waiting for, and waits for the answers of both.

use std::collections::HashSet;
use std::sync::Arc;

use auditrail_core::{BatchAck, BatchError, Event, EventId, Routed};
use tokio::task::JoinHandle;

use super::partition::StoreEnv;

/// Why the destinations did not all take a batch ([`Handed::hand`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum HandError {
    /// A held store destination takes nothing.
    #[error("the store destination {name:?} is held ({by}): {found}")]
    Held {
        /// The destination.
        name: String,
        /// What held it (`StoreDestination::held_for`).
        by: &'static str,
        /// What its last checks found.
        found: String,
    },
    /// A destination did not take an event.
    #[error("{target}: {reason}")]
    Failed {
        /// The destination.
        target: String,
        /// What became of the event.
        reason: String,
    },
    /// The answer says not delivered, naming no destination.
    #[error("not delivered")]
    NotDelivered,
    /// The dispatcher refused the batch.
    #[error(transparent)]
    Batch(BatchError),
    /// The task handing the batch over ended without an answer.
    #[error("the hand-over to the destinations failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// Not every destination answered within `ack_timeout_ms`.
    #[error("no answer within {ms} ms (ack_timeout_ms)")]
    NoAnswer {
        /// `ack_timeout_ms`.
        ms: u128,
    },
}

/// One hand-over to the destinations, answered or not yet.
struct InFlight {
    /// The events it holds.
    ids: HashSet<EventId>,
    answer: JoinHandle<Result<BatchAck, BatchError>>,
}

/// The hand-overs of one partition store not answered yet.
#[derive(Default)]
pub(crate) struct Handed {
    in_flight: Vec<InFlight>,
}

impl Handed {
    /// Hands `events` to the destinations whose filters take them, except those an
    /// earlier attempt handed that are still waiting for their answer, and waits (at
    /// most `ack_timeout`) until every destination durably took every one of them.
    /// `Err` says why, for the caller's error. A hand-over that failed (refused, not
    /// delivered) is forgotten: the next attempt hands its events again.
    pub(crate) fn hand(&mut self, env: &StoreEnv, events: &[Arc<Event>]) -> Result<(), HandError> {
        let waiting: HashSet<EventId> = self
            .in_flight
            .iter()
            .flat_map(|f| f.ids.iter().copied())
            .collect();
        let routed: Vec<Routed> = events
            .iter()
            .filter(|e| !waiting.contains(&e.id))
            .map(|e| env.dispatcher.route(Event::clone(e)))
            .filter(|r| !r.routes().is_empty())
            .collect();
        // A store held at start takes nothing: the batch is read again later, as after
        // any destination that did not take it.
        if let Some((d, found)) = env
            .destinations
            .as_ref()
            .and_then(|ds| routed.iter().find_map(|r| ds.held_route(r)))
        {
            return Err(HandError::Held {
                name: d.name.clone(),
                by: d.store.as_ref().map_or("held", |s| s.held_for()),
                found: found.to_string(),
            });
        }
        let batch: HashSet<EventId> = events.iter().map(|e| e.id).collect();
        if !routed.is_empty() {
            let ids = routed.iter().map(|r| r.event().id).collect();
            let dispatcher = env.dispatcher.clone();
            let answer = env
                .runtime
                .spawn(async move { dispatcher.emit_routed_acked(routed).await });
            self.in_flight.push(InFlight { ids, answer });
        }
        // The hand-overs this batch waits for; the others (events no longer in it) are
        // let go once answered.
        let (needed, mut rest): (Vec<InFlight>, Vec<InFlight>) =
            std::mem::take(&mut self.in_flight)
                .into_iter()
                .partition(|f| !f.ids.is_disjoint(&batch));
        rest.retain(|f| !f.answer.is_finished());
        self.in_flight = rest;
        if needed.is_empty() {
            return Ok(());
        }
        let deadline = tokio::time::Instant::now() + env.ack_timeout;
        // The timer is the runtime's: the future is built inside it.
        let (unanswered, failure) = env.runtime.block_on(async {
            let mut unanswered = Vec::new();
            let mut failure: Option<HandError> = None;
            for mut f in needed {
                // A timeout polls its future first: answers already in are taken even
                // once the deadline has passed.
                match tokio::time::timeout_at(deadline, &mut f.answer).await {
                    Err(_) => unanswered.push(f),
                    Ok(Ok(Ok(ack))) if ack.is_delivered() => {}
                    Ok(Ok(Ok(ack))) => {
                        let why =
                            ack.failures()
                                .next()
                                .map_or(HandError::NotDelivered, |(_, _, why)| HandError::Failed {
                                    target: why.target.clone(),
                                    reason: why.reason.clone(),
                                });
                        failure.get_or_insert(why);
                    }
                    Ok(Ok(Err(e))) => {
                        failure.get_or_insert(HandError::Batch(e));
                    }
                    Ok(Err(e)) => {
                        failure.get_or_insert(HandError::Task(e));
                    }
                }
            }
            (unanswered, failure)
        });
        let waited = !unanswered.is_empty();
        self.in_flight.extend(unanswered);
        match failure {
            Some(why) => Err(why),
            None if waited => Err(HandError::NoAnswer {
                ms: env.ack_timeout.as_millis(),
            }),
            None => Ok(()),
        }
    }
}
