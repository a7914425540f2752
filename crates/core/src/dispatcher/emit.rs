//! Fire-and-forget emits (`emit`, `emit_async`) and the queueing every emit path
//! shares: the in-flight count that shutdown waits for, backpressure, the drop policy,
//! and what happens when a worker is gone.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_utils::CachePadded;
use tokio::runtime::{Handle, RuntimeFlavor};

use super::error::{DeliveryFailure, EmitError, FailureKind, SeqFileError};
use super::queued_at::QueuedAt;
use super::routes::RouteSet;
use super::run_folder::RunFolderError;
use super::seq::SeqError;
use super::stats::TargetCounters;
use super::worker::{Item, Queued};
use super::{Dispatcher, Emitted, OnFull, Route};
use crate::event::{Event, EventDraft};

/// Emitters between their `closed` check and the end of their queueing: counted up and
/// down by every emit, so on a cache line of its own (whatever the allocator put beside
/// it is not written in turn by another core).
pub(super) type InFlightCount = Arc<CachePadded<AtomicUsize>>;

/// Decrements the in-flight count however `emit` returns.
pub(super) struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

/// Takes back an `accepted` count if an async emit is cancelled while it waits for
/// queue room (its event was then not queued to that target).
struct Counted<'a> {
    accepted: &'a AtomicU64,
    armed: bool,
}
impl Drop for Counted<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.accepted.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

impl Dispatcher {
    /// The routes whose filter accepts the draft; then, for the sync `emit` on the
    /// dispatcher's own current-thread runtime, a refusal if waiting would deadlock;
    /// then the completed event (id, timestamp, seq). Nothing is consumed (no seq)
    /// when the event is refused.
    pub(super) fn prepare(
        &self,
        draft: EventDraft,
        sync_emit: bool,
    ) -> Result<(Arc<Event>, RouteSet), EmitError> {
        let (event, accepting) = self.prepare_event(draft, sync_emit)?;
        Ok((self.inner.spares.wrap(event), accepting))
    }

    /// [`Dispatcher::prepare`] without the `Arc` (a batch emit wraps its events in
    /// spares it took at once).
    #[inline]
    pub(super) fn prepare_event(
        &self,
        draft: EventDraft,
        sync_emit: bool,
    ) -> Result<(Event, RouteSet), EmitError> {
        let inner = &*self.inner;
        let accepting = self.routes_accepting(|f| f.accepts_draft(&draft));
        if sync_emit && inner.current_thread {
            self.refuse_if_waiting_would_deadlock(&accepting)?;
        }
        let mut event = draft.try_complete(&inner.node, || {
            inner.seq.next().map_err(|e| match e {
                SeqError::Exhausted => EmitError::SeqExhausted {
                    node: inner.node.as_str().to_owned(),
                    file: inner.seq.file(),
                },
                SeqError::Unreserved { file, source } => EmitError::SeqNotReserved {
                    node: inner.node.as_str().to_owned(),
                    file,
                    source: SeqFileError::new(source),
                },
                SeqError::RunFolder(RunFolderError::Taken { run_dir, holder }) => {
                    EmitError::RunDirTaken {
                        node: inner.node.as_str().to_owned(),
                        run_dir,
                        holder,
                    }
                }
                SeqError::RunFolder(RunFolderError::NotTakenBack { run_dir, source }) => {
                    EmitError::RunDirNotTakenBack {
                        run_dir,
                        source: SeqFileError::new(source),
                    }
                }
            })
        })?;
        if accepting.is_empty() {
            inner.unrouted.fetch_add(1, Ordering::Relaxed);
        } else if event.node == inner.node && event.abandoned_seqs.is_none() {
            // The first event of this run that goes somewhere tells which numbers a
            // crashed earlier run left unused (see `seq.rs`); the workers of its
            // targets say when they delivered it.
            event.abandoned_seqs = inner.seq.announcement(event.seq, accepting.len());
        }
        Ok((event, accepting))
    }

    /// On the dispatcher's own current-thread runtime, a sync wait for queue room
    /// would stop the very workers that make room.
    fn refuse_if_waiting_would_deadlock(&self, accepting: &RouteSet) -> Result<(), EmitError> {
        if !self.inner.on_own_current_thread_runtime() {
            return Ok(());
        }
        for i in accepting.iter() {
            let route = &self.inner.routes[i];
            if route.on_full == OnFull::Block && route.tx.is_full() {
                return Err(EmitError::WouldBlock {
                    target: route.name.clone(),
                });
            }
        }
        Ok(())
    }

    pub(super) fn enter(&self) -> Result<InFlight<'_>, EmitError> {
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(&self.inner.in_flight);
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(EmitError::Closed);
        }
        Ok(guard)
    }

    /// Fire and forget, from sync or async code. Returns once the event is queued for
    /// every accepting target; waits while a queue with `on_full = "block"` is full.
    ///
    /// Waiting blocks the calling thread. Inside a multi-thread tokio runtime it waits
    /// through [`tokio::task::block_in_place`], so the runtime's other tasks (and the
    /// dispatcher's workers, if they share it) keep running. On the current-thread
    /// runtime that runs the dispatcher's own workers waiting would deadlock, so `emit`
    /// refuses with [`EmitError::WouldBlock`] instead (the event is not queued): use
    /// [`Dispatcher::emit_async`] there. In async code prefer `emit_async` anyway.
    ///
    /// `emit` never wakes a worker that is between batches: to keep the emitter free of
    /// system calls, a worker that just ran out of work checks its queue once per
    /// millisecond for a while, so delivery may start up to about 1 ms later. Acked
    /// emits and [`Dispatcher::flush`] wake the worker at once.
    pub fn emit(&self, draft: impl Into<EventDraft>) -> Result<Emitted, EmitError> {
        let _in_flight = self.enter()?;
        self.emit_entered(draft.into())
    }

    /// [`Dispatcher::emit`] once the caller counts as an emitter in flight.
    #[inline]
    pub(super) fn emit_entered(&self, draft: EventDraft) -> Result<Emitted, EmitError> {
        let (event, accepting) = self.prepare(draft, true)?;
        let emitted = Emitted {
            id: event.id,
            seq: event.seq,
            targets: accepting.len(),
        };
        let queued_at = QueuedAt::now();
        // As `shared_per_route`, without the iterator (fewer instructions on the path of
        // every emit): clones for all routes but the last, which takes `event` itself.
        let mut routes = accepting.iter();
        let mut next = routes.next();
        while let Some(i) = next {
            next = routes.next();
            if next.is_none() {
                self.queue_emitted(i, event, queued_at);
                break;
            }
            self.queue_emitted(i, event.clone(), queued_at);
        }
        Ok(emitted)
    }

    /// Counts and queues a fire-and-forget event for route `i` (see [`Dispatcher::emit`]).
    #[inline]
    fn queue_emitted(&self, i: usize, event: Arc<Event>, queued_at: QueuedAt) {
        let route = &self.inner.routes[i];
        route.counters.accepted.fetch_add(1, Ordering::Relaxed);
        self.queue_counted(route, event, queued_at);
    }

    /// Queues a fire-and-forget event whose `accepted` count is already taken: waits
    /// for room (`on_full = "block"`) or drops it, counted (`"drop"`).
    #[inline]
    pub(super) fn queue_counted(&self, route: &Route, event: Arc<Event>, queued_at: QueuedAt) {
        let item = Item::Event(Queued {
            event,
            ack: None,
            queued_at,
        });
        match route.on_full {
            OnFull::Block => self.send_blocking(route, item),
            OnFull::Drop => try_enqueue(route, item),
        }
    }

    /// Fire and forget from async code: like [`Dispatcher::emit`], but waits for queue
    /// room without blocking the thread.
    ///
    /// Cancel-safe: if the future is dropped while it waits for room, the event still
    /// reaches every accepting target (the wait goes on in a task of the dispatcher's
    /// runtime, which shutdown drains). Dropping the future only stops the waiting.
    pub async fn emit_async(&self, draft: impl Into<EventDraft>) -> Result<Emitted, EmitError> {
        let _in_flight = self.enter()?;
        let (event, accepting) = self.prepare(draft.into(), false)?;
        let emitted = Emitted {
            id: event.id,
            seq: event.seq,
            targets: accepting.len(),
        };
        let queued_at = QueuedAt::now();
        let items = accepting
            .iter()
            .zip(shared_per_route(event, accepting.len()))
            .map(|(i, event)| {
                let item = Item::Event(Queued {
                    event,
                    ack: None,
                    queued_at,
                });
                (i, item)
            });
        self.queue_in_order(items, Vec::new()).await;
        Ok(emitted)
    }

    /// Queues with backpressure from sync code.
    fn send_blocking(&self, route: &Route, item: Item) {
        let item = match route.tx.try_send(item) {
            Ok(()) => return,
            Err(flume::TrySendError::Full(item)) => item,
            Err(flume::TrySendError::Disconnected(item)) => {
                return lost_on_closed_queue(route.index, &route.name, &route.counters, item)
            }
        };
        if self.inner.current_thread && self.inner.on_own_current_thread_runtime() {
            // Another thread filled the queue after `prepare` checked it. Waiting here
            // would deadlock; a task on this runtime waits for room instead (and
            // counts as an emitter in flight, so shutdown drains it).
            return self.send_later(route, item);
        }
        let send = || route.tx.send(item).map_err(|e| e.into_inner());
        let sent = match Handle::try_current() {
            Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(send)
            }
            _ => send(),
        };
        if let Err(item) = sent {
            lost_on_closed_queue(route.index, &route.name, &route.counters, item);
        }
    }

    /// Queues each item to its route, in order, waiting for room where a queue with
    /// `on_full = "block"` is full; then wakes the workers of `wake` (routes whose
    /// caller waits for acknowledgements: their batch is whole).
    ///
    /// Cancel-safe: the events already have their seqs, and a caller dropping this
    /// future while it waits would leave an event with some of its targets only (a
    /// hole in the others' sequence nobody chose). So at the first full queue, that
    /// wait and every item after it go to a task of the dispatcher's runtime, counted
    /// as an emitter in flight (shutdown drains it), and the caller waits for the task.
    pub(super) async fn queue_in_order(
        &self,
        items: impl Iterator<Item = (usize, Item)>,
        wake: Vec<usize>,
    ) {
        let mut items = items;
        while let Some((r, item)) = items.next() {
            if let Some(item) = queue_without_waiting(&self.inner.routes[r], item) {
                let rest: Vec<(usize, Item)> = std::iter::once((r, item)).chain(items).collect();
                if self.queue_in_task(rest, wake).await.is_err() {
                    // Only when the dispatcher's runtime stopped under the task; its
                    // `Counted` guards took back the counts of what it had not queued.
                    tracing::error!(
                        "emit: the dispatcher's runtime stopped while events waited for queue room"
                    );
                }
                return;
            }
        }
        for r in wake {
            self.inner.routes[r].wake.notify_one();
        }
    }

    fn queue_in_task(
        &self,
        items: Vec<(usize, Item)>,
        wake: Vec<usize>,
    ) -> tokio::task::JoinHandle<()> {
        let inner = self.inner.clone();
        inner.in_flight.fetch_add(1, Ordering::SeqCst);
        self.inner.handle.spawn(async move {
            let _in_flight = InFlight(&inner.in_flight);
            for (r, item) in items {
                send_async(&inner.routes[r], item).await;
            }
            for r in wake {
                inner.routes[r].wake.notify_one();
            }
        })
    }

    fn send_later(&self, route: &Route, item: Item) {
        let tx = route.tx.clone();
        let counters = route.counters.clone();
        let name = route.name.clone();
        let index = route.index;
        let in_flight = self.inner.in_flight.clone();
        in_flight.fetch_add(1, Ordering::SeqCst);
        self.inner.handle.spawn(async move {
            if let Err(e) = tx.send_async(item).await {
                lost_on_closed_queue(index, &name, &counters, e.into_inner());
            }
            in_flight.fetch_sub(1, Ordering::Release);
        });
    }
}

/// The event once per accepting route: clones for all but the last, which takes the
/// emitter's own `Arc`. A clone and the drop of the emitter's copy would each write the
/// `Arc`'s count, a line the worker on the other core reads soon after.
fn shared_per_route(event: Arc<Event>, routes: usize) -> impl Iterator<Item = Arc<Event>> {
    std::iter::repeat_n(event, routes)
}

fn lost_on_closed_queue(route: usize, name: &str, counters: &TargetCounters, item: Item) {
    // Only reachable if a worker task died; say so loudly rather than lose quietly.
    let Item::Event(q) = item else { return };
    counters.lost.fetch_add(1, Ordering::Relaxed);
    tracing::error!(target_name = %name, event_id = %q.event.id, "EVENT LOST: the target's worker is gone");
    if let Some(ack) = &q.ack {
        ack.settle(
            route,
            Err(DeliveryFailure {
                target: name.to_owned(),
                reason: "lost: the target's worker is gone".into(),
                kind: FailureKind::Lost,
            }),
        );
    }
}

/// Queues with the drop policy; a refused event is counted and its ack fails.
fn try_enqueue(route: &Route, item: Item) {
    match route.tx.try_send(item) {
        Ok(()) => {}
        Err(flume::TrySendError::Full(Item::Event(q))) => {
            route
                .counters
                .dropped_queue_full
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(target_name = %route.name, event_id = %q.event.id, "queue full: event dropped (on_full = \"drop\")");
            if let Some(ack) = &q.ack {
                ack.settle(
                    route.index,
                    Err(DeliveryFailure {
                        target: route.name.clone(),
                        reason: "dropped: queue full (on_full = \"drop\")".into(),
                        kind: FailureKind::Dropped,
                    }),
                );
            }
        }
        Err(flume::TrySendError::Full(_)) => {}
        Err(flume::TrySendError::Disconnected(item)) => {
            lost_on_closed_queue(route.index, &route.name, &route.counters, item)
        }
    }
}

/// Counts and queues one event for one target if that needs no wait (room in the
/// queue, or the drop policy); gives the item back, uncounted, when it would wait.
fn queue_without_waiting(route: &Route, item: Item) -> Option<Item> {
    if route.on_full == OnFull::Drop {
        route.counters.accepted.fetch_add(1, Ordering::Relaxed);
        try_enqueue(route, item);
        return None;
    }
    // Counted before the item is in the queue, as `send_async` does: a worker
    // must never have delivered more than was accepted.
    route.counters.accepted.fetch_add(1, Ordering::Relaxed);
    match route.tx.try_send(item) {
        Ok(()) => None,
        Err(flume::TrySendError::Full(item)) => {
            route.counters.accepted.fetch_sub(1, Ordering::Relaxed);
            Some(item)
        }
        Err(flume::TrySendError::Disconnected(item)) => {
            lost_on_closed_queue(route.index, &route.name, &route.counters, item);
            None
        }
    }
}

/// Counts and queues one event for one target from async code.
pub(super) async fn send_async(route: &Route, item: Item) {
    route.counters.accepted.fetch_add(1, Ordering::Relaxed);
    if route.on_full == OnFull::Drop {
        return try_enqueue(route, item);
    }
    let item = match route.tx.try_send(item) {
        Ok(()) => return,
        Err(flume::TrySendError::Full(item)) => item,
        Err(flume::TrySendError::Disconnected(item)) => {
            return lost_on_closed_queue(route.index, &route.name, &route.counters, item)
        }
    };
    let mut counted = Counted {
        accepted: &route.counters.accepted,
        armed: true,
    };
    let sent = route.tx.send_async(item).await;
    counted.armed = false;
    if let Err(e) = sent {
        lost_on_closed_queue(route.index, &route.name, &route.counters, e.into_inner());
    }
}
