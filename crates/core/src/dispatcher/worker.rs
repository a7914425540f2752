//! One worker per target: takes batches from the target's queue, sends them, retries,
//! dead-letters, settles acknowledgements.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use tokio::sync::{oneshot, watch, Notify};

use super::ack::AckSlot;
use super::dead_letter::{DeadLetterFile, NotWritten};
use super::error::{DeliveryFailure, FailureKind};
use super::handover::HandoverGuard;
use super::options::DeliveryOptions;
use super::panics::{self, PanicLog, Watched};
use super::queued_at::QueuedAt;
use super::seq::SeqAllocator;
use super::spares::Spares;
use super::stats::TargetCounters;
use crate::backoff::{Backoff, RetryAfterCapLog};
use crate::event::Event;
use crate::target::{Pending, Target, TargetError};

/// What travels through a target's queue.
pub(crate) enum Item {
    Event(Queued),
    /// Send everything queued before this, call `Target::flush`, then answer.
    Flush(oneshot::Sender<Result<(), TargetError>>),
}

pub(crate) struct Queued {
    pub event: Arc<Event>,
    pub ack: Option<AckSlot>,
    pub queued_at: QueuedAt,
}

impl Queued {
    /// More events of the same acknowledged emit follow this one on the queue.
    fn more_follow(&self) -> bool {
        self.ack.as_ref().is_some_and(|a| a.more_follow)
    }
}

/// What a worker reports when it ends.
#[derive(Debug, Clone)]
pub(crate) struct WorkerReport {
    pub undelivered: u64,
    pub shutdown_error: Option<String>,
}

pub(crate) struct Worker {
    /// The route index of this worker's target (for acknowledgements).
    pub route: usize,
    pub name: String,
    pub target: Box<dyn Target>,
    pub rx: flume::Receiver<Item>,
    pub options: DeliveryOptions,
    /// Retry delays (from `options`).
    pub backoff: Backoff,
    /// Says once that a `Retry-After` was capped at `retry_max_backoff_ms`.
    pub retry_after_cap: RetryAfterCapLog,
    pub counters: Arc<TargetCounters>,
    pub dead_letter: DeadLetterFile,
    /// `None` while running; the drain deadline once shutdown began.
    pub stop: watch::Receiver<Option<Instant>>,
    /// Emitters between the dispatcher's `closed` check and the end of their
    /// queueing. Once shutdown began, the worker ends only when this is 0 and its
    /// queue is empty, so that an emitter blocked on a full queue is never stranded
    /// with an event that nobody will read.
    pub in_flight: super::emit::InFlightCount,
    /// Where delivered events' `Arc`s go for `emit` to fill again (see `spares.rs`).
    pub spares: Arc<Spares>,
    /// Rung by acknowledged emits, flushes and shutdown, which want the worker now;
    /// fire-and-forget emits do not ring (see [`Worker::wait_quietly`]). It also ends
    /// a batch wait ([`Worker::fill`]).
    pub wake: Arc<Notify>,
    /// The dispatcher's sequence numbers (set once they are reserved): told when this
    /// worker delivered the event that carries the run's announcement of abandoned
    /// numbers, which leaves the sequence file only then.
    pub seq: Arc<OnceLock<Arc<SeqAllocator>>>,
    /// The target's last retryable error, while its batch is retried: said with what
    /// the shutdown deadline dead-letters, so that the reason stays with the events.
    pub last_error: Option<String>,
    /// The target's panics, recorded by the dispatcher's panic hook while the worker
    /// polls a target call (see `panics.rs`).
    pub panics: Arc<PanicLog>,
    /// Tells the shutdown watchdog which target call the worker is in, and sends the
    /// report. Last, so that it is dropped after the target (see [`HandoverGuard`]).
    pub handover: HandoverGuard,
}

/// How many times an idle worker looks for more work before it parks.
const SPIN_BEFORE_PARK: usize = 32;

/// After spinning, an idle worker looks for work once per tick for this many ticks
/// before it parks on the queue.
const QUIET_TICKS: usize = 20;
const QUIET_TICK: Duration = Duration::from_millis(1);

/// Delivered batches of at least this many events are freed off the worker (see
/// [`release`]); smaller ones are not worth a thread hand-off.
const RELEASE_OFF_WORKER_FROM: usize = 64;

/// How often a draining worker looks again at the in-flight emitter count.
pub(crate) const DRAIN_POLL: Duration = Duration::from_millis(1);

enum Outcome {
    Settled,
    DeadlinePassed,
    /// The target blocked its thread past the deadline and the shutdown watchdog took
    /// the batch and the queue over (see `handover.rs`): nothing more to do.
    TakenOver,
}

/// What one wait for more events of a batch brought.
enum More {
    Item(Item),
    /// Woken: look at the queue and the stop signal again.
    LookAgain,
    /// Send the batch as it is (wait over, shutdown, or no sender left).
    SendNow,
}

/// A batch handed to a target that takes two in flight, its answer still to come.
struct InFlight {
    /// What the worker held when it handed the batch over (see [`Worker::hand_over`]).
    held: Vec<Queued>,
    batch: Vec<Queued>,
    answer: Pending,
}

/// What a wait for a batch's answer brought.
enum Waited {
    Answer(Result<(), TargetError>),
    /// The next item of the queue (`None`: no sender left).
    Item(Option<Item>),
}

enum Drained {
    Item(Item),
    Done,
    DeadlinePassed,
}

impl Worker {
    /// Works until the queue is drained or the shutdown deadline passed; the report
    /// goes out once the worker (and its target) is dropped.
    pub(crate) async fn run(mut self) {
        let report = self.work().await;
        self.handover.report = Some(report);
    }

    async fn work(&mut self) -> WorkerReport {
        let mut batch: Vec<Queued> = Vec::with_capacity(self.options.batch_max_events);
        let mut pending_flush: Option<oneshot::Sender<Result<(), TargetError>>> = None;
        // The dispatcher dropped the stop sender without a shutdown: drain what the
        // emitters left (the queue disconnects once they are all gone).
        let mut stop_gone = false;
        // Asked once (see `Target::batches_in_flight`).
        let pipelined = self.target.batches_in_flight() >= 2;
        loop {
            let deadline = *self.stop.borrow();
            let draining = deadline.is_some() || stop_gone;
            // Wait for the first item (or drain without waiting).
            let first = if let Some(deadline) = deadline {
                match self.next_while_draining(deadline).await {
                    Drained::Item(item) => item,
                    Drained::Done => break,
                    Drained::DeadlinePassed => {
                        return self.abandon(batch, pending_flush).await;
                    }
                }
            } else if stop_gone {
                match self.rx.recv_async().await {
                    Ok(item) => item,
                    Err(_) => break,
                }
            } else if let Some(item) = self.spin_for_next().await {
                item
            } else if let Some(item) = self.wait_quietly().await {
                item
            } else {
                // Idle: no delivered event is held for emits that are not coming.
                release(self.spares.take_all());
                tokio::select! {
                    item = self.rx.recv_async() => match item {
                        Ok(item) => item,
                        Err(_) => break, // every sender is gone
                    },
                    changed = self.stop.changed() => {
                        stop_gone = changed.is_err();
                        continue;
                    }
                }
            };
            match first {
                Item::Flush(reply) => pending_flush = Some(reply),
                Item::Event(q) => {
                    self.counters.mark_oldest(Some(q.queued_at));
                    batch.push(q);
                    self.counters.in_worker.store(1, Relaxed);
                    self.fill(&mut batch, &mut pending_flush, draining).await;
                }
            }
            // The flush reply waits in the handover, not here: should the target block
            // its thread in `send` or `flush`, the watchdog answers it.
            if let Some(reply) = pending_flush.take() {
                self.handover.handover.hold_flush(reply);
            }
            if !batch.is_empty() {
                let outcome = if pipelined {
                    self.deliver_pipelined(&mut batch).await
                } else {
                    self.deliver(&mut batch, None).await
                };
                match outcome {
                    Outcome::Settled => {}
                    Outcome::DeadlinePassed => {
                        let pending = self.handover.handover.take_flush();
                        return self.abandon(batch, pending).await;
                    }
                    Outcome::TakenOver => return taken_over(),
                }
            }
            if self.handover.handover.has_flush() {
                let flushed =
                    AssertUnwindSafe(Watched::new(self.panics.clone(), self.target.flush()))
                        .catch_unwind();
                self.handover.handover.enter("flush", Vec::new());
                let flushed = deadline_bounded(&mut self.stop, flushed).await;
                if self.handover.handover.leave().is_none() {
                    return taken_over();
                }
                let Some(reply) = self.handover.handover.take_flush() else {
                    continue;
                };
                let result = match flushed {
                    Some(Ok(r)) => r,
                    Some(Err(panic)) => Err(self.panicked("flush", panic.as_ref())),
                    None => Err(TargetError::retryable(
                        "shutdown deadline passed during flush",
                    )),
                };
                let _ = reply.send(result);
            }
        }
        // Queue drained: the target's last call.
        let closing = AssertUnwindSafe(Watched::new(self.panics.clone(), self.target.shutdown()))
            .catch_unwind();
        self.handover.handover.enter("shutdown", Vec::new());
        let closed = deadline_bounded(&mut self.stop, closing).await;
        if self.handover.handover.leave().is_none() {
            return taken_over();
        }
        let shutdown_error = match closed {
            Some(Ok(Ok(()))) => None,
            Some(Ok(Err(e))) => Some(e.to_string()),
            Some(Err(panic)) => Some(self.panicked("shutdown", panic.as_ref()).to_string()),
            None => Some("shutdown did not finish before the deadline".to_owned()),
        };
        WorkerReport {
            undelivered: 0,
            shutdown_error,
        }
    }

    /// Adds queued events to the batch until it is full, a flush marker arrives, or
    /// the batch wait time passes. The wait is only worth it while nobody waits for
    /// the batch: it ends at once, and the batch goes out as it is, when the batch
    /// holds an acknowledged event (its emitter waits), a flush marker arrives, or
    /// shutdown begins (its deadline would otherwise pass while the batch sits here,
    /// and the batch would be dead-lettered although the target is healthy).
    async fn fill(
        &mut self,
        batch: &mut Vec<Queued>,
        pending_flush: &mut Option<oneshot::Sender<Result<(), TargetError>>>,
        draining: bool,
    ) {
        let wait = self.options.batch_wait();
        let until = crate::limits::deadline_after(Instant::now(), wait);
        let mut send_now = draining || wait.is_zero() || batch.iter().any(|q| q.ack.is_some());
        // An acknowledged emit still queueing the rest of its events: wait for them
        // (they are microseconds away) rather than split the caller's batch. Bounded
        // by the batch wait, should the emitter be cancelled half way.
        let mut group_open = batch.last().is_some_and(Queued::more_follow);
        while batch.len() < self.options.batch_max_events {
            let item = match self.rx.try_recv() {
                Ok(item) => item,
                Err(_) if send_now && (!group_open || draining) => return,
                Err(_) => match self.wait_for_more(until).await {
                    More::Item(item) => item,
                    More::LookAgain => continue,
                    More::SendNow => return,
                },
            };
            match item {
                Item::Event(q) => {
                    send_now |= q.ack.is_some();
                    group_open = q.more_follow();
                    batch.push(q);
                    self.counters.in_worker.store(batch.len() as u64, Relaxed);
                }
                Item::Flush(reply) => {
                    *pending_flush = Some(reply);
                    return;
                }
            }
        }
    }

    /// One wait of [`Worker::fill`] for the next queued item, until `until`. Acked
    /// emits and flushes queue their item before they ring `wake`, and shutdown sets
    /// `stop` before it does: a wake-up only says "look again", and the caller finds
    /// the reason in the queue (or here, in `stop`).
    async fn wait_for_more(&mut self, until: Instant) -> More {
        if self.stop.borrow().is_some() {
            return More::SendNow;
        }
        tokio::select! {
            item = self.rx.recv_async() => match item {
                Ok(item) => More::Item(item),
                Err(_) => More::SendNow, // every sender is gone
            },
            _ = self.wake.notified() => More::LookAgain,
            // Shutdown began, or the dispatcher is gone without one (then the worker
            // drains, without waiting either).
            _ = self.stop.changed() => More::SendNow,
            () = tokio::time::sleep_until(until.into()) => More::SendNow,
        }
    }

    /// Looks for the next item a few times, yielding in between, before the worker
    /// parks: under a steady stream the next event is usually microseconds away, and
    /// finding it here saves its emitter from waking the worker (a system call).
    async fn spin_for_next(&mut self) -> Option<Item> {
        for _ in 0..SPIN_BEFORE_PARK {
            if let Ok(item) = self.rx.try_recv() {
                return Some(item);
            }
            tokio::task::yield_now().await;
        }
        None
    }

    /// Waits for the next item without registering on the queue, for a few ticks:
    /// while the worker is registered, every `emit` that finds it waiting must wake it
    /// (a system call in the emitter's path, and often a preemption of the emitter).
    /// Under a steady stream of fire-and-forget events this keeps emitters free of
    /// wake-ups at the cost of up to one tick of delivery delay; acknowledged emits,
    /// flushes and shutdown ring `wake` and are served at once. After the ticks the
    /// worker parks on the queue as usual, so an idle dispatcher costs nothing.
    async fn wait_quietly(&mut self) -> Option<Item> {
        for _ in 0..QUIET_TICKS {
            if self.stop.borrow().is_some() {
                return None;
            }
            tokio::select! {
                _ = tokio::time::sleep(QUIET_TICK) => {}
                _ = self.wake.notified() => {}
            }
            match self.rx.try_recv() {
                Ok(item) => return Some(item),
                Err(flume::TryRecvError::Disconnected) => return None,
                Err(flume::TryRecvError::Empty) => {}
            }
        }
        None
    }

    /// After shutdown began: the next queued item; or, once the queue is empty and no
    /// emitter is still queueing, `Done`.
    async fn next_while_draining(&mut self, deadline: Instant) -> Drained {
        loop {
            if let Ok(item) = self.rx.try_recv() {
                return Drained::Item(item);
            }
            if self.in_flight.load(SeqCst) == 0 {
                // Emitters finish queueing before they leave the in-flight count:
                // look once more, then the queue is empty for good.
                return match self.rx.try_recv() {
                    Ok(item) => Drained::Item(item),
                    Err(_) => Drained::Done,
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Drained::DeadlinePassed;
            }
            let wait = DRAIN_POLL.min(deadline - now);
            if let Ok(Ok(item)) = tokio::time::timeout(wait, self.rx.recv_async()).await {
                return Drained::Item(item);
            }
        }
    }

    /// Sends one batch until it is settled (taken or dead-lettered), or until the
    /// shutdown deadline passes. `answered`: the answer of a first attempt already
    /// made (through [`Target::send_pipelined`]), handled as the answer of a `send`.
    async fn deliver(
        &mut self,
        batch: &mut Vec<Queued>,
        mut answered: Option<Result<(), TargetError>>,
    ) -> Outcome {
        let n = batch.len() as u64;
        self.counters.in_worker.store(n, Relaxed);
        self.counters
            .mark_oldest(batch.iter().map(|q| q.queued_at).min());
        let events: Vec<Arc<Event>> = batch.iter().map(|q| q.event.clone()).collect();
        let started = Instant::now();
        let mut attempt: u32 = 0;
        let send_timeout = self.options.send_timeout_ms.map(Duration::from_millis);
        let outcome = loop {
            if let Some(result) = answered.take() {
                if let Some(outcome) = self
                    .settle_answer(batch, result, started, &mut attempt)
                    .await
                {
                    break outcome;
                }
                continue;
            }
            let sent =
                AssertUnwindSafe(Watched::new(self.panics.clone(), self.target.send(&events)))
                    .catch_unwind();
            let bounded = async {
                match send_timeout {
                    Some(limit) => tokio::time::timeout(limit, sent).await.map_err(|_| limit),
                    None => Ok(sent.await),
                }
            };
            // The watchdog may take the batch over while `send` runs (see `handover.rs`).
            self.handover.handover.enter("send", std::mem::take(batch));
            let sent = deadline_bounded(&mut self.stop, bounded).await;
            match self.handover.handover.leave() {
                Some(held) => *batch = held,
                None => break Outcome::TakenOver,
            }
            let result = match sent {
                None => {
                    // A target whose client library retries inside `send` knows why
                    // it is still not done; fresher than an earlier attempt's error.
                    if let Some(cause) = self.target.pending_cause() {
                        self.last_error = Some(cause);
                    }
                    break Outcome::DeadlinePassed;
                }
                Some(Ok(Ok(r))) => r,
                Some(Ok(Err(panic))) => Err(self.panicked("send", panic.as_ref())),
                Some(Err(limit)) => Err(TargetError::retryable(format!(
                    "send did not finish within send_timeout_ms ({} ms)",
                    limit.as_millis()
                ))),
            };
            if matches!(
                result,
                Ok(()) | Err(TargetError::Rejected { .. } | TargetError::PartlyTaken { .. })
            ) {
                // What it took, its destination may have answered not durable.
                let n = self.target.taken_not_durable();
                self.counters.not_durable.fetch_add(n, Relaxed);
            }
            if let Some(outcome) = self
                .settle_answer(batch, result, started, &mut attempt)
                .await
            {
                break outcome;
            }
        };
        self.counters.in_worker.store(batch.len() as u64, Relaxed);
        if batch.is_empty() {
            self.counters.mark_oldest(None);
        }
        release(self.spares.keep(events));
        outcome
    }

    /// Delivers `batch` to a target that takes two batches in flight (see "Two batches
    /// in flight" in the [`Target`] contract): hands it over, and while its answer is
    /// pending, hands over the next batch made of what is queued meanwhile, and so on,
    /// never more than two. Answers are settled in order. A batch answered with a
    /// retryable error is sent again (with backoff, as [`Worker::deliver`] does) before
    /// the batch handed over after it, whose answer is then an error too (the target
    /// fails every later batch it holds), and which is settled after it the same way.
    /// On a return other than `Settled`, `batch` holds every event not settled.
    async fn deliver_pipelined(&mut self, batch: &mut Vec<Queued>) -> Outcome {
        let first = std::mem::take(batch);
        let mut current = match self.hand_over(Vec::new(), first).await {
            Ok(handed) => handed,
            Err((outcome, held)) => {
                *batch = held;
                return outcome;
            }
        };
        // The queue has no sender left: no next batch to wait for.
        let mut disconnected = false;
        loop {
            let mut next: Option<InFlight> = None;
            let answer = loop {
                let take_more = next.is_none()
                    && !disconnected
                    && !self.handover.handover.has_flush()
                    && self.stop.borrow().is_none();
                let waited = if take_more {
                    let answer = &mut current.answer;
                    let rx = &self.rx;
                    deadline_bounded(&mut self.stop, async {
                        tokio::select! {
                            biased;
                            answer = answer => Waited::Answer(answer),
                            item = rx.recv_async() => Waited::Item(item.ok()),
                        }
                    })
                    .await
                } else {
                    deadline_bounded(&mut self.stop, &mut current.answer)
                        .await
                        .map(Waited::Answer)
                };
                match waited {
                    None => {
                        // The shutdown deadline: what is in flight is not delivered.
                        *batch = std::mem::take(&mut current.batch);
                        if let Some(n) = next {
                            batch.extend(n.batch);
                        }
                        return Outcome::DeadlinePassed;
                    }
                    Some(Waited::Answer(answer)) => break answer,
                    Some(Waited::Item(None)) => disconnected = true,
                    Some(Waited::Item(Some(Item::Flush(reply)))) => {
                        self.handover.handover.hold_flush(reply);
                    }
                    Some(Waited::Item(Some(Item::Event(q)))) => {
                        let mut more = vec![q];
                        while more.len() < self.options.batch_max_events {
                            match self.rx.try_recv() {
                                Ok(Item::Event(q)) => more.push(q),
                                Ok(Item::Flush(reply)) => {
                                    self.handover.handover.hold_flush(reply);
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        let held = std::mem::take(&mut current.batch);
                        match self.hand_over(held, more).await {
                            Ok(handed) => {
                                current.batch = handed.held;
                                next = Some(InFlight {
                                    held: Vec::new(),
                                    ..handed
                                });
                            }
                            Err((outcome, held)) => {
                                *batch = held;
                                return outcome;
                            }
                        }
                    }
                }
            };
            let failed = matches!(answer, Err(TargetError::Retryable { .. }));
            let next_answer = match &mut next {
                // The target failed every later batch with this one: its answer
                // comes at once.
                Some(n) if failed => match deadline_bounded(&mut self.stop, &mut n.answer).await {
                    Some(a) => Some(a),
                    None => {
                        *batch = std::mem::take(&mut current.batch);
                        batch.extend(std::mem::take(&mut n.batch));
                        return Outcome::DeadlinePassed;
                    }
                },
                _ => None,
            };
            let outcome = self.deliver(&mut current.batch, Some(answer)).await;
            if !matches!(outcome, Outcome::Settled) {
                *batch = std::mem::take(&mut current.batch);
                if let Some(n) = next {
                    batch.extend(n.batch);
                }
                return outcome;
            }
            match (next, next_answer) {
                (None, _) => return Outcome::Settled,
                (Some(mut n), Some(answer)) => {
                    let outcome = self.deliver(&mut n.batch, Some(answer)).await;
                    *batch = n.batch;
                    return outcome;
                }
                (Some(n), None) => {
                    // Settling the previous batch cleared the counts: this one is
                    // still held.
                    self.counters.in_worker.store(n.batch.len() as u64, Relaxed);
                    self.counters
                        .mark_oldest(n.batch.iter().map(|q| q.queued_at).min());
                    current = n;
                }
            }
        }
    }

    /// Hands `batch` to the target's `send_pipelined`, while the worker holds `held`
    /// (the batch still in flight, given to the shutdown watchdog with it): the batch in
    /// flight, with `held` back in its `held`; or the outcome (deadline, or the watchdog
    /// took over) with every event not settled.
    async fn hand_over(
        &mut self,
        held: Vec<Queued>,
        batch: Vec<Queued>,
    ) -> Result<InFlight, (Outcome, Vec<Queued>)> {
        let events: Vec<Arc<Event>> = batch.iter().map(|q| q.event.clone()).collect();
        let held_len = held.len();
        let mut all = held;
        all.extend(batch);
        self.counters.in_worker.store(all.len() as u64, Relaxed);
        self.counters
            .mark_oldest(all.iter().map(|q| q.queued_at).min());
        let send_timeout = self.options.send_timeout_ms.map(Duration::from_millis);
        let staged = AssertUnwindSafe(Watched::new(
            self.panics.clone(),
            self.target.send_pipelined(&events),
        ))
        .catch_unwind();
        let bounded = async {
            match send_timeout {
                Some(limit) => tokio::time::timeout(limit, staged).await.map_err(|_| limit),
                None => Ok(staged.await),
            }
        };
        self.handover.handover.enter("send", all);
        let staged = deadline_bounded(&mut self.stop, bounded).await;
        let Some(mut all) = self.handover.handover.leave() else {
            return Err((Outcome::TakenOver, Vec::new()));
        };
        let answer: Pending = match staged {
            None => {
                if let Some(cause) = self.target.pending_cause() {
                    self.last_error = Some(cause);
                }
                return Err((Outcome::DeadlinePassed, all));
            }
            Some(Ok(Ok(Ok(pending)))) => {
                let counters = self.counters.clone();
                let answer = AssertUnwindSafe(pending).catch_unwind().map(move |r| {
                    r.unwrap_or_else(|panic| {
                        counters.panicked.fetch_add(1, Relaxed);
                        Err(TargetError::retryable(format!(
                            "the target panicked while answering `send`: {}",
                            panics::message(panic.as_ref())
                        )))
                    })
                });
                match send_timeout {
                    Some(limit) => Box::pin(async move {
                        tokio::time::timeout(limit, answer)
                            .await
                            .unwrap_or_else(|_| {
                                Err(TargetError::retryable(format!(
                                    "send did not finish within send_timeout_ms ({} ms)",
                                    limit.as_millis()
                                )))
                            })
                    }),
                    None => Box::pin(answer),
                }
            }
            Some(Ok(Ok(Err(e)))) => Box::pin(std::future::ready(Err(e))),
            Some(Ok(Err(panic))) => {
                let e = self.panicked("send", panic.as_ref());
                Box::pin(std::future::ready(Err(e)))
            }
            Some(Err(limit)) => Box::pin(std::future::ready(Err(TargetError::retryable(format!(
                "send did not finish within send_timeout_ms ({} ms)",
                limit.as_millis()
            ))))),
        };
        let batch = all.split_off(held_len);
        Ok(InFlight {
            held: all,
            batch,
            answer,
        })
    }

    /// Handles one answer of the target for `batch` (attempt `attempt`, the first sent
    /// at `started`): settles it (`Some`), or, for a retryable error, waits the backoff
    /// and returns `None` (send it again); `Some(DeadlinePassed)` when the shutdown
    /// deadline comes first.
    async fn settle_answer(
        &mut self,
        batch: &mut Vec<Queued>,
        result: Result<(), TargetError>,
        started: Instant,
        attempt: &mut u32,
    ) -> Option<Outcome> {
        let n = batch.len() as u64;
        match result {
            Ok(()) => {
                self.last_error = None;
                self.batch_settling();
                self.counters.delivered.fetch_add(n, Relaxed);
                for q in batch.drain(..) {
                    self.settle(&q, Ok(()));
                }
                return Some(Outcome::Settled);
            }
            Err(TargetError::Retryable {
                message,
                retry_after,
            }) => {
                *attempt += 1;
                let attempt = *attempt;
                let gave_up = self
                    .options
                    .retry_max_elapsed_s
                    .is_some_and(|s| started.elapsed().as_secs() >= s);
                if gave_up {
                    self.batch_settling();
                    let why = format!(
                        "gave up after {attempt} attempts over {:?}: {message}",
                        started.elapsed()
                    );
                    let error = TargetError::Retryable {
                        message,
                        retry_after,
                    };
                    self.dead_letter_all(batch, &why, FailureKind::DeadLettered { error })
                        .await;
                    self.target.gave_up();
                    return Some(Outcome::Settled);
                }
                let delay = self.backoff.delay_after(attempt, retry_after);
                self.retry_after_cap.note(
                    &self.backoff,
                    retry_after,
                    &self.name,
                    "retry_max_backoff_ms",
                );
                tracing::warn!(target_name = %self.name, attempt, error = %message, ?delay, "retryable error; the batch will be sent again");
                self.last_error = Some(message);
                self.counters.retried.fetch_add(n, Relaxed);
                if !self.sleep(delay).await {
                    return Some(Outcome::DeadlinePassed);
                }
            }
            Err(error @ TargetError::Permanent { .. }) => {
                self.batch_settling();
                let why = error.to_string();
                self.dead_letter_all(batch, &why, FailureKind::DeadLettered { error })
                    .await;
                return Some(Outcome::Settled);
            }
            Err(TargetError::Rejected { rejected }) => {
                self.batch_settling();
                self.settle_partly(batch, rejected, Vec::new()).await;
                return Some(Outcome::Settled);
            }
            Err(TargetError::PartlyTaken {
                retry_later,
                rejected,
            }) => {
                self.batch_settling();
                self.settle_partly(batch, rejected, retry_later).await;
                return Some(Outcome::Settled);
            }
        }
        None
    }

    /// Settles a batch the target took but for the listed events: `rejected` ones are
    /// dead-lettered; `retry_later` ones are handed back to the acknowledged emit that
    /// waits for them (its emitter sends them again later: sending them again here
    /// would hold up every later batch behind a cause only an operator can remove), or
    /// dead-lettered when nobody waits. Every other event was taken.
    async fn settle_partly(
        &mut self,
        batch: &mut Vec<Queued>,
        rejected: Vec<(usize, String)>,
        retry_later: Vec<(usize, String)>,
    ) {
        let mut refusals: Vec<Option<(String, bool)>> = vec![None; batch.len()];
        for (i, why, later) in rejected
            .into_iter()
            .map(|(i, why)| (i, why, false))
            .chain(retry_later.into_iter().map(|(i, why)| (i, why, true)))
        {
            let Some(slot) = refusals.get_mut(i) else {
                // A refusal of no event of the batch (a target's bug): which event it
                // meant is unknown, and counting them all as taken would lose one
                // silently. Dead-letter the batch (those the target took come twice if
                // re-sent; their ids tell).
                let why = format!(
                    "the target refused the event at index {i} of a batch of {} events (no \
                     such event: a bug of the target), so which events it took is unknown; \
                     the whole batch is dead-lettered (its reason: {why})",
                    batch.len()
                );
                tracing::error!(target_name = %self.name, error = %why, "target answered for an event that is not in the batch");
                let error = TargetError::permanent(why.clone());
                self.dead_letter_all(batch, &why, FailureKind::DeadLettered { error })
                    .await;
                return;
            };
            *slot = Some((why, later));
        }
        let mut failed = Vec::new();
        let mut handed_back = 0u64;
        for (q, refusal) in batch.drain(..).zip(refusals) {
            match refusal {
                None => {
                    self.counters.delivered.fetch_add(1, Relaxed);
                    self.settle(&q, Ok(()));
                }
                Some((why, true)) if q.ack.as_ref().is_some_and(AckSlot::awaited) => {
                    handed_back += 1;
                    let kind = FailureKind::RetryLater {
                        reason: why.clone(),
                    };
                    self.settle(
                        &q,
                        Err(DeliveryFailure {
                            target: self.name.clone(),
                            reason: why,
                            kind,
                        }),
                    );
                }
                Some((why, true)) => {
                    let kind = FailureKind::DeadLettered {
                        error: TargetError::retryable(why.clone()),
                    };
                    failed.push((q, why, kind));
                }
                Some((why, false)) => {
                    let kind = FailureKind::Rejected {
                        reason: why.clone(),
                    };
                    failed.push((q, why, kind));
                }
            }
        }
        if handed_back > 0 {
            // Not logged per event: the target logs the cause (once per streak), and
            // the emitter gets each reason.
            self.counters.handed_back.fetch_add(handed_back, Relaxed);
            tracing::debug!(target_name = %self.name, events = handed_back, "events the target cannot take now handed back to their emitters");
        }
        self.dead_letter(failed).await;
    }

    /// The held batch is about to be settled: the stats stop counting it before any
    /// acknowledgement resolves, so a snapshot taken after an ack is up to date.
    fn batch_settling(&self) {
        self.counters.in_worker.store(0, Relaxed);
        self.counters.mark_oldest(None);
    }

    async fn dead_letter_all(&mut self, batch: &mut Vec<Queued>, why: &str, kind: FailureKind) {
        let failed = batch
            .drain(..)
            .map(|q| (q, why.to_owned(), kind.clone()))
            .collect();
        self.dead_letter(failed).await;
    }

    /// Writes the events to the dead-letter file and settles their acknowledgements
    /// with `kind`, or as lost when the file cannot be written.
    async fn dead_letter(&mut self, failed: Vec<(Queued, String, FailureKind)>) {
        if failed.is_empty() {
            return;
        }
        let lines: Vec<(&Arc<Event>, &str)> = failed
            .iter()
            .map(|(q, why, _)| (&q.event, why.as_str()))
            .collect();
        let written = self.dead_letter.write(&self.name, &lines).await;
        account_dead_letters(
            &self.name,
            self.route,
            &self.counters,
            &self.dead_letter,
            failed,
            written,
            self.seq.get().map(|s| &**s),
        );
    }

    /// After the shutdown deadline: everything still held or queued goes to the
    /// dead-letter file, so that it can be re-sent.
    async fn abandon(
        &mut self,
        mut batch: Vec<Queued>,
        pending_flush: Option<oneshot::Sender<Result<(), TargetError>>>,
    ) -> WorkerReport {
        // Take everything still queued, including what emitters blocked on this full
        // queue push once there is room, until no emitter is left.
        loop {
            while let Ok(item) = self.rx.try_recv() {
                match item {
                    Item::Event(q) => batch.push(q),
                    Item::Flush(reply) => {
                        let _ = reply.send(Err(TargetError::retryable("shutdown deadline passed")));
                    }
                }
            }
            if self.in_flight.load(SeqCst) == 0 && self.rx.is_empty() {
                break;
            }
            if let Ok(Ok(item)) = tokio::time::timeout(DRAIN_POLL, self.rx.recv_async()).await {
                match item {
                    Item::Event(q) => batch.push(q),
                    Item::Flush(reply) => {
                        let _ = reply.send(Err(TargetError::retryable("shutdown deadline passed")));
                    }
                }
            }
        }
        if let Some(reply) = pending_flush {
            let _ = reply.send(Err(TargetError::retryable("shutdown deadline passed")));
        }
        let undelivered = batch.len() as u64;
        let last = self
            .last_error
            .as_deref()
            .map(|e| format!(" (last error: {e})"))
            .unwrap_or_default();
        let why = format!("not delivered before the shutdown deadline{last}");
        let kind = FailureKind::DeadLettered {
            error: TargetError::retryable(why.clone()),
        };
        self.dead_letter_all(&mut batch, &why, kind).await;
        self.counters.in_worker.store(0, Relaxed);
        self.counters.mark_oldest(None);
        WorkerReport {
            undelivered,
            shutdown_error: Some(format!(
                "{undelivered} event(s) not delivered before the deadline{last}"
            )),
        }
    }

    /// The target panicked in `call`: counted, and logged with its message and place;
    /// at ERROR the first time it panics at that place (when the panic hook printed
    /// it), at DEBUG after (see `panics.rs`). The answer is a retryable error: the
    /// call is made again after the usual backoff.
    fn panicked(&self, call: &str, payload: &(dyn std::any::Any + Send)) -> TargetError {
        self.counters.panicked.fetch_add(1, Relaxed);
        let message = panics::message(payload);
        let caught = self.panics.take();
        let location = caught.as_ref().and_then(|c| c.location.clone());
        let at = location
            .as_deref()
            .map(|l| format!(" (at {l})"))
            .unwrap_or_default();
        if caught.is_none_or(|c| c.first) {
            tracing::error!(target_name = %self.name, call, panic = %message, location,
                "the target panicked; the call is retried with backoff, and later panics at \
                 this place are counted (`panicked` in its stats), not printed again");
        } else {
            tracing::debug!(target_name = %self.name, call, panic = %message, location,
                "the target panicked again");
        }
        TargetError::retryable(format!("the target panicked in `{call}`: {message}{at}"))
    }

    fn settle(&self, q: &Queued, outcome: Result<(), DeliveryFailure>) {
        if outcome.is_ok() {
            if let (Some(range), Some(seq)) = (q.event.abandoned_seqs, self.seq.get()) {
                seq.delivered(q.event.seq, range);
            }
        }
        if let Some(ack) = &q.ack {
            ack.settle(self.route, outcome);
        }
    }

    /// Sleeps for a retry delay; false when the shutdown deadline comes first.
    async fn sleep(&mut self, delay: std::time::Duration) -> bool {
        // `Backoff::max` bounds the delay, but that is any number up to a day.
        let wake = crate::limits::deadline_after(Instant::now(), delay);
        deadline_bounded(&mut self.stop, tokio::time::sleep_until(wake.into()))
            .await
            .is_some()
    }
}

/// The report of a worker whose batch and queue the shutdown watchdog took over: the
/// watchdog reported for it (this one goes nowhere).
fn taken_over() -> WorkerReport {
    WorkerReport {
        undelivered: 0,
        shutdown_error: None,
    }
}

/// Counts and logs events whose dead-letter lines were `written` (or not) to `file`,
/// and settles their acknowledgements with their `FailureKind`, or as lost for those
/// whose line is not in the file: a write the disk stopped part way kept the lines
/// before it, and those events are dead-lettered. Shared by the worker and the
/// shutdown watchdog.
pub(crate) fn account_dead_letters(
    name: &str,
    route: usize,
    counters: &TargetCounters,
    dead_letter: &DeadLetterFile,
    failed: Vec<(Queued, String, FailureKind)>,
    written: Result<(), NotWritten>,
    seq: Option<&SeqAllocator>,
) {
    let file = dead_letter.path();
    let (whole, error) = match &written {
        Ok(()) => (failed.len(), None),
        Err(e) => (e.written.min(failed.len()), Some(&e.error)),
    };
    counters.dead_lettered.fetch_add(whole as u64, Relaxed);
    for (q, why, _) in &failed[..whole] {
        tracing::error!(target_name = %name, event_id = %q.event.id, seq = q.event.seq, error = %why,
            file = %file.display(), "event dead-lettered");
    }
    let lost = &failed[whole..];
    if let Some(e) = error.filter(|_| !lost.is_empty()) {
        counters.lost.fetch_add(lost.len() as u64, Relaxed);
        if let (Some(seq), Some(highest)) = (seq, lost.iter().map(|(q, _, _)| q.event.seq).max()) {
            seq.lost(highest);
        }
        // Refused by the folder check (the data folder moved away) in a dispatcher
        // whose owner makes its events again (the witness: the next start publishes the
        // lines from the stores' checkpoint logs): not lost, so not said to be. They
        // are still counted and settled as lost by this dispatcher, which is what its
        // owner goes by.
        match dead_letter.made_again_after(e) {
            Some(how) => {
                for (q, why, _) in lost {
                    tracing::warn!(target_name = %name, event_id = %q.event.id, seq = q.event.seq, error = %why,
                        dead_letter_error = %e, file = %file.display(), made_again = how,
                        "event not dead-lettered while the data folder is away; it is not lost: made again by its owner");
                }
            }
            None => {
                for (q, why, _) in lost {
                    tracing::error!(target_name = %name, event_id = %q.event.id, seq = q.event.seq, error = %why,
                        dead_letter_error = %e, file = %file.display(),
                        "EVENT LOST: cannot write the dead-letter file");
                }
            }
        }
    }
    for (i, (q, reason, kind)) in failed.into_iter().enumerate() {
        let (kind, reason) = match error {
            // Why its dead letter is not there either, for the emitter to say (the
            // witness publisher said "see its dead letters" of a line that had none).
            Some(e) if i >= whole => (
                FailureKind::Lost,
                format!(
                    "{reason}; its dead letter was not written to {}: {e}",
                    file.display()
                ),
            ),
            _ => (kind, reason),
        };
        if let Some(ack) = &q.ack {
            ack.settle(
                route,
                Err(DeliveryFailure {
                    target: name.to_owned(),
                    reason,
                    kind,
                }),
            );
        }
    }
}

/// Drops the worker's references to a batch it is done with. These are usually the
/// last ones, so dropping frees every event, which costs about as much as a file
/// target's serializing and writing them (most of it in the allocator, which frees
/// memory allocated by the emitting threads). Freeing a large batch on a blocking
/// thread lets the worker take the next batch meanwhile: measured with `cargo bench
/// -p auditrail-target-file --bench file_throughput`, see docs/benchmarks.md.
fn release(events: Vec<Arc<Event>>) {
    if events.len() >= RELEASE_OFF_WORKER_FROM {
        // If the runtime is shutting down the task is not run, and dropping the
        // closure frees the events here instead.
        drop(tokio::task::spawn_blocking(move || drop(events)));
    }
}

/// Runs `fut`, giving up at the shutdown deadline if one is (or becomes) set.
async fn deadline_bounded<F: std::future::Future>(
    stop: &mut watch::Receiver<Option<Instant>>,
    fut: F,
) -> Option<F::Output> {
    tokio::pin!(fut);
    loop {
        let deadline = *stop.borrow();
        match deadline {
            Some(d) => {
                return tokio::time::timeout_at(d.into(), &mut fut).await.ok();
            }
            None => {
                tokio::select! {
                    out = &mut fut => return Some(out),
                    changed = stop.changed() => {
                        if changed.is_err() {
                            // The dispatcher is gone without a shutdown: keep going.
                            return Some(fut.await);
                        }
                    }
                }
            }
        }
    }
}
