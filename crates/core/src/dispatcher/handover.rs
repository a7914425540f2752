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
    taken_over: bool,
}

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
}

/// What the watchdog needs of one worker.
pub(crate) struct Watched {
    pub route: usize,
    pub name: String,
    pub handover: Arc<Handover>,
    pub counters: Arc<TargetCounters>,
    pub dead_letter: DeadLetterFile,
}

/// Starts the watchdog thread of a shutdown whose deadline is `deadline`.
pub(crate) fn watch(
    deadline: Instant,
    running: Arc<Running>,
    watched: Vec<Watched>,
    in_flight: Arc<AtomicUsize>,
) {
    let spawned = std::thread::Builder::new()
        .name("auditrail-deadline".into())
        .spawn(move || {
            let until = crate::limits::deadline_after(deadline, GRACE);
            while !running.wait_all_until(until) {
                for w in &watched {
                    if let Some(taken) = w.handover.take_over() {
                        give_up(w, taken, &in_flight);
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

/// Dead-letters what a worker stuck in its target held and what its queue holds, and
/// reports for it.
fn give_up(w: &Watched, taken: TakenOver, in_flight: &AtomicUsize) {
    let TakenOver {
        call,
        mut batch,
        rx,
        report,
    } = taken;
    let held = batch.len();
    if let Some(rx) = &rx {
        // Also what emitters blocked on the full queue push once there is room.
        let mut take = |item| match item {
            Item::Event(q) => batch.push(q),
            Item::Flush(reply) => {
                let _ = reply.send(Err(TargetError::retryable(format!(
                    "the target did not return from `{call}` by the shutdown deadline"
                ))));
            }
        };
        loop {
            while let Ok(item) = rx.try_recv() {
                take(item);
            }
            if in_flight.load(SeqCst) == 0 && rx.is_empty() {
                break;
            }
            if let Ok(item) = rx.recv_timeout(DRAIN_POLL) {
                take(item);
            }
        }
    }
    let undelivered = batch.len() as u64;
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
    if !failed.is_empty() {
        let lines: Vec<_> = failed
            .iter()
            .map(|(q, why, _)| (&q.event, why.as_str()))
            .collect();
        let written = w.dead_letter.write_blocking(&w.name, &lines);
        account_dead_letters(
            &w.name,
            w.route,
            &w.counters,
            w.dead_letter.path(),
            failed,
            written,
        );
    }
    w.counters
        .in_worker
        .store(0, std::sync::atomic::Ordering::Relaxed);
    w.counters.mark_oldest(None);
    tracing::error!(target_name = %w.name, call, held, undelivered,
        "the target did not return by the shutdown deadline: it blocks its thread; its events were dead-lettered");
    let _ = report.send(WorkerReport {
        undelivered,
        shutdown_error: Some(format!(
            "the target did not return from `{call}` by the shutdown deadline (it blocks its \
             thread): {held} event(s) it held in `{call}` and {} queued were not delivered \
             (dead-lettered)",
            undelivered - held as u64
        )),
    });
    w.handover.running.one_less();
}
