//! Fire-and-forget emits of several events at once (`emit_batch`): per event the same
//! as `emit` of each in turn, with what `emit` pays per call (the in-flight count up
//! and down, the spares' lock, each target's `accepted` count, the queue-age clock)
//! paid once per chunk of events instead (docs/benchmarks.md, issue 17, stop 66).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::error::{EmitBatchError, EmitError};
use super::queued_at::QueuedAt;
use super::routes::RouteSet;
use super::spares::Spares;
use super::{Dispatcher, Emitted};
use crate::event::{Event, EventDraft};

/// Events completed before any of them is queued: enough to share the per-call costs
/// out, few enough that the workers are not left idle while a long batch is completed
/// (and that what is held beyond the caller's drafts stays small).
const CHUNK: usize = 256;

impl Dispatcher {
    /// Fire and forget several events at once: for each event exactly what
    /// [`Dispatcher::emit`] of each in turn does (its filters run once, it gets its
    /// id, timestamp and sequence number in the batch's order, it is counted and queued
    /// to every accepting target, and delivered in that order), with the costs `emit`
    /// pays per call paid once for many events. From sync or async code, like `emit`.
    ///
    /// `Ok` with each event's [`Emitted`] when every event was taken. An event that
    /// `emit` would refuse (an invalid draft, a used-up or unreservable sequence,
    /// [`EmitError::WouldBlock`], [`EmitError::Closed`]) is refused alone and the
    /// batch goes on: `Err` then holds every event's answer at its index
    /// ([`EmitBatchError::results`]): `Ok` for the events that were queued, `Err` for
    /// those that were not (queued nowhere, no sequence number consumed). Nothing of
    /// the batch is queued twice or lost between the two.
    ///
    /// A target's queue that fills mid-batch is met as `emit` meets it, event by
    /// event: with `on_full = "block"` the call waits for room (in a multi-thread
    /// tokio runtime through `block_in_place`) and every event is taken; with
    /// `on_full = "drop"` the events that find it full are dropped for that target
    /// (counted in `dropped_queue_full`, and still `Ok`: they went to the other
    /// targets, as with `emit`). On the current-thread runtime that runs the
    /// dispatcher's own workers, where waiting would deadlock, each event that finds
    /// a `"block"` queue of one of its targets full is refused with
    /// [`EmitError::WouldBlock`] and the events after it are still tried (the workers
    /// cannot run meanwhile, so these are refused too when they go to that target):
    /// the events before the first refusal are taken, and the answer names each.
    ///
    /// Up to 256 events are completed before any of them is queued, so the first
    /// events of a long batch may wait in the call for that long before a worker sees
    /// them; delivery may start up to about 1 ms later, as with `emit`. A shutdown
    /// that starts during the call waits for the whole batch to be queued.
    pub fn emit_batch<D: Into<EventDraft>>(
        &self,
        drafts: impl IntoIterator<Item = D>,
    ) -> Result<Vec<Emitted>, EmitBatchError> {
        let mut drafts = drafts.into_iter();
        let mut answers = Answers::new(drafts.size_hint().0);
        let _in_flight = match self.enter() {
            Ok(guard) => guard,
            Err(e) => {
                drafts.for_each(|_| answers.refused(e.clone()));
                return answers.finish();
            }
        };
        if self.inner.current_thread && self.inner.on_own_current_thread_runtime() {
            // Whether waiting would deadlock depends on each queue as it fills: one
            // event at a time, as `emit`.
            for draft in drafts {
                answers.push(self.emit_entered(draft.into()));
            }
            return answers.finish();
        }
        let mut prepared: Vec<(Arc<Event>, RouteSet)> =
            Vec::with_capacity(drafts.size_hint().0.clamp(1, CHUNK));
        let mut per_route = vec![0u64; self.inner.routes.len()];
        loop {
            let mut spares = self.inner.spares.take(drafts.size_hint().0.min(CHUNK));
            let mut seen = 0;
            for draft in drafts.by_ref().take(CHUNK) {
                seen += 1;
                match self.prepare_event(draft.into(), false) {
                    Ok((event, routes)) => {
                        for r in routes.iter() {
                            per_route[r] += 1;
                        }
                        answers.took(Emitted {
                            id: event.id,
                            seq: event.seq,
                            targets: routes.len(),
                        });
                        prepared.push((Spares::wrap_taken(&mut spares, event), routes));
                    }
                    Err(e) => answers.refused(e),
                }
            }
            self.inner.spares.put_back(spares);
            self.queue_prepared(&mut prepared, &mut per_route);
            if seen < CHUNK {
                return answers.finish();
            }
        }
    }

    /// Counts and queues completed events in order, each to every route that accepted
    /// it, as `emit` does; `per_route` holds how many go to each route (set back to 0).
    fn queue_prepared(&self, prepared: &mut Vec<(Arc<Event>, RouteSet)>, per_route: &mut [u64]) {
        // Counted before any is queued, as `emit` counts before it queues: a worker
        // must never have delivered more than was accepted.
        for (route, n) in self.inner.routes.iter().zip(per_route.iter_mut()) {
            if *n > 0 {
                route.counters.accepted.fetch_add(*n, Ordering::Relaxed);
                *n = 0;
            }
        }
        let queued_at = QueuedAt::now();
        for (event, accepting) in prepared.drain(..) {
            // As `emit`: clones for all routes but the last, which takes `event`.
            let mut routes = accepting.iter();
            let mut next = routes.next();
            while let Some(i) = next {
                next = routes.next();
                let route = &self.inner.routes[i];
                if next.is_none() {
                    self.queue_counted(route, event, queued_at);
                    break;
                }
                self.queue_counted(route, event.clone(), queued_at);
            }
        }
    }
}

/// Each event's answer, in the batch's order: only the `Emitted`s while every event
/// is taken (the common case, and what `Ok` returns), every answer from the first
/// refusal on.
struct Answers {
    emitted: Vec<Emitted>,
    all: Option<Vec<Result<Emitted, EmitError>>>,
}

impl Answers {
    fn new(expected: usize) -> Answers {
        Answers {
            emitted: Vec::with_capacity(expected),
            all: None,
        }
    }

    fn took(&mut self, emitted: Emitted) {
        match &mut self.all {
            Some(all) => all.push(Ok(emitted)),
            None => self.emitted.push(emitted),
        }
    }

    fn refused(&mut self, e: EmitError) {
        let emitted = &mut self.emitted;
        self.all
            .get_or_insert_with(|| emitted.drain(..).map(Ok).collect())
            .push(Err(e));
    }

    fn push(&mut self, answer: Result<Emitted, EmitError>) {
        match answer {
            Ok(emitted) => self.took(emitted),
            Err(e) => self.refused(e),
        }
    }

    fn finish(self) -> Result<Vec<Emitted>, EmitBatchError> {
        match self.all {
            None => Ok(self.emitted),
            Some(results) => Err(EmitBatchError { results }),
        }
    }
}
