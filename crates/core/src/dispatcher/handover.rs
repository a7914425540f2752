//! What a worker shares with the shutdown watchdog, so that the shutdown deadline holds
//! whatever a target does.
//!
//! A worker keeps its own deadline (its waits are bounded by it), but only while its
//! thread runs: a target whose `send`, `flush` or `shutdown` blocks the thread (a
//! blocking HTTP client, a `std::sync::Mutex`, a sleep) stops the worker's timers
//! too. So the worker tells the [`Handover`] which target call it is in and hands it
//! the batch it gives `send`; once the deadline (plus [`GRACE`]) passed, the watchdog
//! (a plain thread, on no runtime) takes over a worker still inside a target call:
//! the batch and whatever is queued are dead-lettered and counted as not delivered,
//! their acknowledged emits settle, and the worker's report names the call. Should the
//! target ever return, the worker finds the batch gone and ends without counting or
//! settling anything.

use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::dead_letter::DeadLetterFile;
use super::error::FailureKind;
use super::stats::TargetCounters;
use super::worker::{account_dead_letters, Item, Queued, WorkerReport, DRAIN_POLL};
use crate::target::TargetError;

/// How long after the deadline a worker still inside a target call is left to return
/// by itself: a target that is merely slow (async) returns at the deadline, when the
/// worker's own timer cancels it, and the worker reports as usual.
pub(crate) const GRACE: Duration = Duration::from_millis(100);

/// How often the watchdog looks again at workers that are past the deadline but not
/// in a target call (dead-lettering what they held, by themselves).
const WATCH_POLL: Duration = Duration::from_millis(5);

/// Shared by one worker and the shutdown watchdog.
pub(crate) struct Handover {
    state: Mutex<State>,
    /// Workers of the dispatcher that have not reported yet.
    running: Arc<Running>,
}

struct State {
    /// The target call the worker is in (`send`, `flush`, `shutdown`), if any.
    in_target: Option<&'static str>,
    /// The batch given to the target's `send`, while it runs.
    batch: Vec<Queued>,
    /// The worker's queue (the watchdog drains it when it takes over). Cleared when
    /// the worker ends, so that emitters see a queue nobody reads as closed.
    rx: Option<flume::Receiver<Item>>,
    /// Where the worker's report goes; taken by whoever reports first.
    report: Option<oneshot::Sender<WorkerReport>>,
    /// The answer to a flush the worker owes while it is in a target call: kept here,
    /// not on the worker's stack, so that the watchdog can answer it when it takes
    /// over (otherwise `Dispatcher::flush` would wait forever).
    flush: Option<FlushReply>,
    taken_over: bool,
}

/// Where a flush's result goes.
pub(crate) type FlushReply = oneshot::Sender<Result<(), TargetError>>;

/// Counts the workers that have not reported yet; the watchdog waits on it.
#[derive(Default)]
pub(crate) struct Running {
    count: Mutex<usize>,
    changed: Condvar,
}

impl Running {
    fn lock(&self) -> MutexGuard<'_, usize> {
        self.count.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn one_more(&self) {
        *self.lock() += 1;
    }

    fn one_less(&self) {
        let mut n = self.lock();
        *n = n.saturating_sub(1);
        self.changed.notify_all();
    }

    /// Waits until every worker reported or `until` passed; true when all reported.
    fn wait_all_until(&self, until: Instant) -> bool {
        let mut n = self.lock();
        while *n > 0 {
            let now = Instant::now();
            if now >= until {
                return false;
            }
            n = self
                .changed
                .wait_timeout(n, until - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }
}

impl Handover {
    /// A handover for a worker reading `rx`, and the receiver of its report.
    pub(crate) fn new(
        rx: flume::Receiver<Item>,
        running: Arc<Running>,
    ) -> (Arc<Handover>, oneshot::Receiver<WorkerReport>) {
        let (tx, report) = oneshot::channel();
        running.one_more();
        let handover = Handover {
            state: Mutex::new(State {
                in_target: None,
                batch: Vec::new(),
                rx: Some(rx),
                report: Some(tx),
                flush: None,
                taken_over: false,
            }),
            running,
        };
        (Arc::new(handover), report)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The worker calls the target's `call`, which holds `batch` (empty for `flush`
    /// and `shutdown`).
    pub(crate) fn enter(&self, call: &'static str, batch: Vec<Queued>) {
        let mut s = self.lock();
        s.in_target = Some(call);
        s.batch = batch;
    }

    /// The target call returned: the batch back, or `None` when the watchdog took
    /// over meanwhile (the worker must then end without settling anything).
    pub(crate) fn leave(&self) -> Option<Vec<Queued>> {
        let mut s = self.lock();
        s.in_target = None;
        (!s.taken_over).then(|| std::mem::take(&mut s.batch))
    }

    /// The worker owes `reply` while it calls the target (see `State::flush`).
    pub(crate) fn hold_flush(&self, reply: FlushReply) {
        self.lock().flush = Some(reply);
    }

    /// Whether the worker owes a flush reply.
    pub(crate) fn has_flush(&self) -> bool {
        self.lock().flush.is_some()
    }

    /// The flush reply held by [`Handover::hold_flush`], unless the watchdog answered
    /// it.
    pub(crate) fn take_flush(&self) -> Option<FlushReply> {
        self.lock().flush.take()
    }

    /// The worker ended (its target dropped): its report, or `None` when it ended
    /// without one (its runtime stopped). Unless the watchdog reported for it.
    fn ended(&self, report: Option<WorkerReport>) {
        let tx = {
            let mut s = self.lock();
            s.rx = None;
            s.report.take()
        };
        if let Some(tx) = tx {
            if let Some(report) = report {
                let _ = tx.send(report);
            }
            // Dropping `tx` without a report tells the shutdown the worker is gone.
            self.running.one_less();
        }
    }

    /// The watchdog takes over, if the worker is still inside a target call and has
    /// not reported.
    fn take_over(&self) -> Option<TakenOver> {
        let mut s = self.lock();
        let call = s.in_target?;
        let report = s.report.take()?;
        s.taken_over = true;
        Some(TakenOver {
            call,
            batch: std::mem::take(&mut s.batch),
            rx: s.rx.take(),
            report,
            flush: s.flush.take(),
        })
    }
}

/// Held by the worker as its last field, so that it is dropped after the target: the
/// report goes out once the target is gone (its files closed, its locks released).
pub(crate) struct HandoverGuard {
    pub handover: Arc<Handover>,
    pub report: Option<WorkerReport>,
}

impl Drop for HandoverGuard {
    fn drop(&mut self) {
        self.handover.ended(self.report.take());
    }
}

struct TakenOver {
    call: &'static str,
    batch: Vec<Queued>,
    rx: Option<flume::Receiver<Item>>,
    report: oneshot::Sender<WorkerReport>,
    flush: Option<FlushReply>,
}

/// What the watchdog needs of one worker.
pub(crate) struct Watched {
    pub route: usize,
    pub name: String,
    pub handover: Arc<Handover>,
    pub counters: Arc<TargetCounters>,
    pub dead_letter: DeadLetterFile,
    /// The dispatcher's sequence numbers, told of events lost (see `seq.rs`).
    pub seq: Arc<std::sync::OnceLock<Arc<super::seq::SeqAllocator>>>,
}

/// Starts the watchdog thread of a shutdown whose deadline is `deadline`.
pub(crate) fn watch(
    deadline: Instant,
    running: Arc<Running>,
    watched: Vec<Watched>,
    in_flight: super::emit::InFlightCount,
) {
    let spawned = std::thread::Builder::new()
        .name("auditrail-deadline".into())
        .spawn(move || {
            let until = crate::limits::deadline_after(deadline, GRACE);
            while !running.wait_all_until(until) {
                let mut taken = take_over_all(&watched);
                if !taken.is_empty() {
                    drain_all(&watched, &mut taken, &in_flight);
                    for g in taken {
                        g.report();
                    }
                }
                // Workers past the deadline in their own code end by themselves.
                std::thread::sleep(WATCH_POLL);
            }
        });
    if let Err(e) = spawned {
        // The workers still keep the deadline as long as their targets do not block
        // their threads.
        tracing::error!(error = %e, "cannot start the shutdown deadline watchdog thread");
    }
}

/// One worker the watchdog took over, while it empties the worker's queue.
struct GivenUp<'a> {
    w: &'a Watched,
    call: &'static str,
    rx: Option<flume::Receiver<Item>>,
    report: oneshot::Sender<WorkerReport>,
    /// What became of the events the target held in `call` (dead-lettered at once).
    held: Settled,
    /// Events taken from the queue, dead-lettered once the queue is empty for good
    /// (or when a flush marker behind them is answered).
    queued: Vec<Queued>,
    /// What became of the queued events dead-lettered before a flush marker's answer.
    queued_settled: Settled,
}

/// Takes over every worker that is stuck in a target call right now, and dead-letters
/// the batch each one held at once: waiting for the queues (below) must not keep
/// events that are already in hand from their dead-letter file.
fn take_over_all(watched: &[Watched]) -> Vec<GivenUp<'_>> {
    watched
        .iter()
        .filter_map(|w| {
            let taken = w.handover.take_over()?;
            Some(GivenUp::start(w, taken))
        })
        .collect()
}

/// Empties the queues of every taken-over worker, in turns, until no emitter is left
/// queueing and every queue is empty. One worker at a time would hang: an emitter
/// blocked on the full queue of a second stuck worker keeps `in_flight` above zero
/// while the first one's queue is waited on. Workers that get stuck in a target call
/// meanwhile are taken over too, for the same reason.
fn drain_all<'a>(watched: &'a [Watched], taken: &mut Vec<GivenUp<'a>>, in_flight: &AtomicUsize) {
    loop {
        let mut took = false;
        for g in taken.iter_mut() {
            took |= g.take_queued();
        }
        if in_flight.load(SeqCst) == 0 && taken.iter().all(GivenUp::queue_is_empty) {
            return;
        }
        taken.extend(take_over_all(watched));
        if !took {
            // Nothing this turn: let the emitters (or the workers that still run)
            // move, without spinning a core.
            std::thread::sleep(DRAIN_POLL);
        }
    }
}

impl<'a> GivenUp<'a> {
    fn start(w: &'a Watched, taken: TakenOver) -> GivenUp<'a> {
        let TakenOver {
            call,
            batch,
            rx,
            report,
            flush,
        } = taken;
        // Dead-lettered before the owed flush is answered: a flush's answer counts the
        // events queued before it that were not delivered (`flush_report.rs`), and
        // every one of them must be settled by then, or whether the answer names this
        // batch depends on which thread runs first.
        let held = dead_letter(w, call, batch);
        if let Some(reply) = flush {
            let _ = reply.send(Err(given_up_error(call)));
        }
        GivenUp {
            w,
            call,
            rx,
            report,
            held,
            queued: Vec::new(),
            queued_settled: Settled::default(),
        }
    }

    /// Takes what the queue holds now (also what emitters blocked on the full queue
    /// pushed since); true when it took anything.
    fn take_queued(&mut self) -> bool {
        let Some(rx) = &self.rx else { return false };
        let mut took = false;
        while let Ok(item) = rx.try_recv() {
            took = true;
            match item {
                Item::Event(q) => self.queued.push(q),
                Item::Flush(reply) => {
                    // The events queued before the marker are settled before its
                    // answer, as a running worker's are (see `start`).
                    let before = std::mem::take(&mut self.queued);
                    let settled = dead_letter(self.w, self.call, before);
                    self.queued_settled = self.queued_settled.plus(settled);
                    let _ = reply.send(Err(given_up_error(self.call)));
                }
            }
        }
        took
    }

    fn queue_is_empty(&self) -> bool {
        self.rx.as_ref().is_none_or(|rx| rx.is_empty())
    }

    /// Dead-letters what was queued and reports for the worker.
    fn report(self) {
        let GivenUp {
            w,
            call,
            rx: _,
            report,
            held,
            queued,
            queued_settled,
        } = self;
        let queued = queued_settled.plus(dead_letter(w, call, queued));
        let all = held.plus(queued);
        let undelivered = all.total() as u64;
        w.counters
            .in_worker
            .store(0, std::sync::atomic::Ordering::Relaxed);
        w.counters.mark_oldest(None);
        let what = given_up_report(w, call, held, queued);
        tracing::error!(target_name = %w.name, call, held = held.total(), queued = queued.total(),
            dead_lettered = all.dead_lettered, lost = all.lost, file = %w.dead_letter.path().display(), "{what}");
        let _ = report.send(WorkerReport {
            undelivered,
            shutdown_error: Some(what),
        });
        w.handover.running.one_less();
    }
}

/// What became of some events the watchdog took from a worker.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Settled {
    /// Written to the target's dead-letter file.
    dead_lettered: usize,
    /// Neither delivered nor dead-lettered: the dead-letter file could not be written
    /// (each logged with its id, counted as `lost`).
    lost: usize,
}

impl Settled {
    fn total(self) -> usize {
        self.dead_lettered + self.lost
    }

    /// The events of `self` and of `other`, counted together.
    fn plus(self, other: Settled) -> Settled {
        Settled {
            dead_lettered: self.dead_lettered + other.dead_lettered,
            lost: self.lost + other.lost,
        }
    }
}

/// What is true of a worker given up at the deadline, for its log line and its
/// shutdown report: where the events it held in `call` and those queued went, or
/// that it held none (a target stuck in `shutdown` after delivering everything it was
/// given has nothing dead-lettered; a forwarding target may still hold events in its
/// own store, which its probe counts).
fn given_up_report(w: &Watched, call: &str, held: Settled, queued: Settled) -> String {
    let mut text = format!(
        "the target did not return from `{call}` by the shutdown deadline (it blocks its \
         thread); "
    );
    let all = held.plus(queued);
    if all.total() == 0 {
        let stats = w.counters.snapshot(&w.name, "", 0);
        text.push_str(&format!(
            "it held no undelivered event and none was queued, so nothing was dead-lettered \
             ({} event(s) delivered to it",
            stats.delivered
        ));
        if stats.dead_lettered > 0 {
            text.push_str(&format!(
                ", {} dead-lettered earlier to {}",
                stats.dead_lettered,
                w.dead_letter.path().display()
            ));
        }
        text.push(')');
        if let Some(f) = stats.forwarding.filter(|f| f.pending_events > 0) {
            text.push_str(&format!(
                "; {} event(s) it took are still in its own store, not yet confirmed by \
                 their final destination (forwarded when it runs again)",
                f.pending_events
            ));
        }
        return text;
    }
    text.push_str(&format!(
        "{} event(s) it held in `{call}` and {} queued were not delivered: ",
        held.total(),
        queued.total()
    ));
    let file = w.dead_letter.path().display();
    match (all.dead_lettered, all.lost) {
        (d, 0) => text.push_str(&format!("all {d} dead-lettered to {file}")),
        (0, l) => text.push_str(&format!(
            "all {l} LOST: the dead-letter file {file} could not be written (their ids are \
             logged)"
        )),
        (d, l) => text.push_str(&format!(
            "{d} dead-lettered to {file}; {l} LOST: that file could not be written for them \
             (their ids are logged)"
        )),
    }
    text
}

/// The answer to a flush that a taken-over worker can no longer give.
fn given_up_error(call: &str) -> TargetError {
    TargetError::retryable(format!(
        "the target was given up: it did not return from `{call}` by the shutdown deadline \
         (it blocks its thread)"
    ))
}

/// Writes `batch` to the worker's dead-letter file and counts it (and settles its
/// acknowledged emits); says where the events went.
fn dead_letter(w: &Watched, call: &str, batch: Vec<Queued>) -> Settled {
    if batch.is_empty() {
        return Settled::default();
    }
    let n = batch.len();
    let why = format!(
        "not delivered before the shutdown deadline: the target did not return from \
         `{call}` (it blocks its thread)"
    );
    let failed: Vec<(Queued, String, FailureKind)> = batch
        .into_iter()
        .map(|q| {
            let kind = FailureKind::DeadLettered {
                error: TargetError::retryable(why.clone()),
            };
            (q, why.clone(), kind)
        })
        .collect();
    let lines: Vec<_> = failed
        .iter()
        .map(|(q, why, _)| (&q.event, why.as_str()))
        .collect();
    let written = w.dead_letter.write_blocking(&w.name, &lines);
    // A write the disk stopped part way kept the lines before it.
    let whole = written.as_ref().map_or_else(|e| e.written.min(n), |()| n);
    let settled = Settled {
        dead_lettered: whole,
        lost: n - whole,
    };
    account_dead_letters(
        &w.name,
        w.route,
        &w.counters,
        &w.dead_letter,
        failed,
        written,
        w.seq.get().map(|s| &**s),
    );
    settled
}
