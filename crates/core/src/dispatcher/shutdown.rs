//! Flush, graceful shutdown (drain until a deadline, then dead-letter the rest) and
//! the shutdown performed when the last clone is dropped.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::runtime::{Handle, RuntimeFlavor};
use tokio::sync::oneshot;

use super::stats::TargetStats;
use super::worker::{Item, WorkerReport};
use super::{Dispatcher, Inner};
use crate::target::TargetError;

/// Outcome of a graceful shutdown.
#[derive(Debug, Clone, Serialize)]
pub struct ShutdownReport {
    /// Per target: final counters and what went wrong, if anything.
    pub targets: Vec<TargetShutdown>,
}

/// One target's part of a [`ShutdownReport`].
#[derive(Debug, Clone, Serialize)]
pub struct TargetShutdown {
    /// Counters after the drain.
    pub stats: TargetStats,
    /// Events not delivered before the deadline (written to the dead-letter file).
    pub undelivered: u64,
    /// Error from `Target::shutdown`, a deadline, or a crashed worker.
    pub error: Option<String>,
}

impl ShutdownReport {
    /// Everything accepted was delivered and every target shut down cleanly.
    pub fn is_clean(&self) -> bool {
        self.targets.iter().all(|t| {
            t.undelivered == 0
                && t.error.is_none()
                && t.stats.dead_lettered == 0
                && t.stats.lost == 0
                && t.stats.dropped_queue_full == 0
        })
    }
}

impl Dispatcher {
    /// Delivers everything queued so far and calls every target's `flush`; resolves
    /// once every target answered. `Ok` only when every target's `flush` succeeded and
    /// no event of any target was dead-lettered, lost or dropped since the previous
    /// flush (or the start): everything queued before the flush was then delivered.
    ///
    /// The error names, per target: a failed `flush`; events that were not delivered
    /// since the previous flush, with how many were dead-lettered (and to which file),
    /// lost, or dropped on a full queue (each is reported by one flush only, whether
    /// it came from a fire-and-forget or an acknowledged emit); after shutdown, every
    /// target, as stopped. A target that keeps failing retryably is retried as usual
    /// (without end unless `retry_max_elapsed_s` is set), so the flush waits as long:
    /// bound it with a timeout if the caller cannot wait; dropping the future loses
    /// nothing (the events stay queued).
    pub async fn flush(&self) -> Result<(), Vec<(String, TargetError)>> {
        // Counted as in flight while it queues its markers, as an emit is: a worker
        // given up at the shutdown deadline empties its queue until no one queues, so
        // a marker cannot land behind that and wait forever. After shutdown began,
        // no marker would be answered by a running worker: fail at once.
        let Ok(in_flight) = self.enter() else {
            return Err(self
                .inner
                .routes
                .iter()
                .map(|r| {
                    (
                        r.name.clone(),
                        TargetError::permanent(
                            "the dispatcher is shutting down: its targets no longer flush",
                        ),
                    )
                })
                .collect());
        };
        let mut waits = Vec::new();
        for route in &self.inner.routes {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if route.tx.send_async(Item::Flush(tx)).await.is_ok() {
                route.wake.notify_one();
                waits.push((route.name.clone(), rx));
            } else {
                waits.push((route.name.clone(), closed_reply()));
            }
        }
        // The answers come after the queue's events were sent: waiting for them must
        // not hold up a shutdown's drain.
        drop(in_flight);
        let mut errors = Vec::new();
        for (route, (name, rx)) in self.inner.routes.iter().zip(waits) {
            match rx.await {
                Ok(answer) => {
                    // Every event queued before the marker is settled by now.
                    let undelivered = route
                        .flush_reported
                        .take(&route.counters, &route.dead_letter_file);
                    errors.extend(
                        answer
                            .err()
                            .into_iter()
                            .chain(undelivered)
                            .map(|e| (name.clone(), e)),
                    );
                }
                Err(_) => errors.push((
                    name,
                    TargetError::permanent("the target's worker has stopped"),
                )),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }

    /// Stops accepting events, drains every queue (retrying as usual) until `deadline`,
    /// then writes whatever is left to the dead-letter files and reports it. Emitters
    /// already queueing (even those waiting on a full queue) finish first: their events
    /// are delivered, or dead-lettered once the deadline passed, never stranded. A
    /// concurrent call waits for the first; a later call returns the final counters.
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        self.inner.shutdown(deadline).await
    }

    /// [`Dispatcher::shutdown`] for sync code (blocks the calling thread). On the
    /// dispatcher's own current-thread runtime it cannot wait: it starts the shutdown
    /// and returns a report whose targets carry an error saying so.
    pub fn shutdown_blocking(&self, deadline: Duration) -> ShutdownReport {
        self.inner.shutdown_blocking(deadline)
    }
}

/// A flush answer for a worker that is gone (shut down or crashed).
fn closed_reply() -> tokio::sync::oneshot::Receiver<Result<(), TargetError>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let _ = tx.send(Err(TargetError::permanent(
        "the target's worker has stopped (the dispatcher is shut down)",
    )));
    rx
}

impl Inner {
    /// Stops new emits and sets the drain deadline (only the first call's counts).
    fn begin_shutdown(&self, deadline: Duration) {
        self.closed.store(true, Ordering::SeqCst);
        // Any `Duration` (a config's bound aside, the API takes any): `now + deadline`
        // would panic past the clock's range.
        let until = crate::limits::deadline_after(Instant::now(), deadline);
        let first = self.stop.send_if_modified(|stop| {
            if stop.is_none() {
                *stop = Some(until);
                true
            } else {
                false
            }
        });
        if first {
            // Keeps the deadline from outside every runtime: a target that blocks its
            // thread stops its worker's timers too (see `handover.rs`).
            if let Some(watched) = self.watched.lock().ok().and_then(|mut w| w.take()) {
                super::handover::watch(
                    until,
                    self.running.clone(),
                    watched,
                    self.in_flight.clone(),
                );
            }
        }
        for route in &self.routes {
            route.wake.notify_one();
        }
    }

    async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        // Concurrent callers wait for the first one and share its outcome.
        let mut finished = self.finished.lock().await;
        if finished.is_none() {
            self.begin_shutdown(deadline);
            // Workers drain their queues, waiting for emitters still queueing (also
            // those blocked on a full queue), until the deadline; then they write
            // what is left to the dead-letter files.
            let workers = self
                .workers
                .lock()
                .map(|mut w| std::mem::take(&mut *w))
                .unwrap_or_default();
            *finished = Some(join_workers(workers).await);
            if !self.shut_down.swap(true, Ordering::SeqCst) {
                self.seq.persist_exact();
            }
        }
        let reports = finished.as_ref();
        ShutdownReport {
            targets: self
                .routes
                .iter()
                .map(|r| {
                    let report = reports.and_then(|m| m.get(&r.name));
                    TargetShutdown {
                        stats: r.counters.snapshot(&r.name, &r.type_name, r.tx.len()),
                        undelivered: report.map_or(0, |r| r.undelivered),
                        error: report.and_then(|r| r.shutdown_error.clone()),
                    }
                })
                .collect(),
        }
    }

    fn shutdown_blocking(&self, deadline: Duration) -> ShutdownReport {
        if self.current_thread && self.on_own_current_thread_runtime() {
            // Blocking this thread would stop the workers we wait for. Start the
            // shutdown (the workers drain once control returns to the runtime) and say
            // so in the report.
            self.begin_shutdown(deadline);
            let mut report = self.snapshot_report();
            for t in &mut report.targets {
                t.error = Some(
                    "shutdown_blocking was called on the dispatcher's own current-thread \
                     runtime, where it cannot wait: the drain was started, not awaited; \
                     use `shutdown().await`"
                        .into(),
                );
            }
            return report;
        }
        // Run on a scoped thread so this works inside or outside any runtime; inside a
        // multi-thread runtime, let its other tasks (maybe our workers) run meanwhile.
        let wait = || {
            std::thread::scope(|s| {
                s.spawn(|| self.handle.block_on(self.shutdown(deadline)))
                    .join()
                    .unwrap_or_else(|_| self.snapshot_report())
            })
        };
        match Handle::try_current() {
            Ok(h) if h.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(wait)
            }
            _ => wait(),
        }
    }

    fn snapshot_report(&self) -> ShutdownReport {
        ShutdownReport {
            targets: self
                .routes
                .iter()
                .map(|r| TargetShutdown {
                    stats: r.counters.snapshot(&r.name, &r.type_name, r.tx.len()),
                    undelivered: 0,
                    error: None,
                })
                .collect(),
        }
    }
}

async fn join_workers(
    workers: Vec<(String, oneshot::Receiver<WorkerReport>)>,
) -> HashMap<String, WorkerReport> {
    let mut reports = HashMap::new();
    for (name, report) in workers {
        let report = match report.await {
            Ok(r) => r,
            Err(_) => WorkerReport {
                undelivered: 0,
                shutdown_error: Some(
                    "worker crashed: it ended without a report (it panicked, or the \
                     runtime it ran on stopped)"
                        .into(),
                ),
            },
        };
        reports.insert(name, report);
    }
    reports
}

/// Dropping the last clone without [`Dispatcher::shutdown`] shuts down gracefully.
///
/// - Dedicated runtime (the default) or a user-provided multi-thread runtime: the drop
///   blocks until the queues are drained or the drop deadline passed (see
///   [`DispatcherBuilder::drop_deadline`]).
/// - User-provided current-thread runtime: blocking would deadlock (that runtime only
///   runs while its owner drives it), so the drop only *starts* the shutdown: the
///   workers drain in the background as long as that runtime keeps running, and log
///   their report; the run folder stays locked until they end. Call
///   `shutdown().await` before dropping to wait for it.
impl Drop for Inner {
    fn drop(&mut self) {
        if !self.shut_down.load(Ordering::SeqCst) {
            if self.current_thread {
                self.begin_shutdown(self.drop_deadline);
                // No emitter is left (this is the last reference): every number is given.
                self.shut_down.store(true, Ordering::SeqCst);
                self.seq.persist_exact();
                let workers = self
                    .workers
                    .lock()
                    .map(|mut w| std::mem::take(&mut *w))
                    .unwrap_or_default();
                // The workers still use the run folder until they end: so does its lock.
                let run_lock = self.run_lock.take();
                self.handle.spawn(async move {
                    let reports = join_workers(workers).await;
                    if let Some(run) = run_lock {
                        run.release();
                    }
                    for (name, report) in reports {
                        if report.undelivered != 0 || report.shutdown_error.is_some() {
                            tracing::error!(
                                target_name = %name,
                                undelivered = report.undelivered,
                                error = report.shutdown_error.as_deref(),
                                "dispatcher dropped: target shutdown report"
                            );
                        }
                    }
                });
            } else {
                let report = self.shutdown_blocking(self.drop_deadline);
                if !report.is_clean() {
                    for t in &report.targets {
                        t.stats
                            .log(tracing::Level::ERROR, "dispatcher dropped: target counters");
                        if t.undelivered > 0 || t.error.is_some() {
                            tracing::error!(
                                target_name = %t.stats.name,
                                undelivered = t.undelivered,
                                error = t.error.as_deref(),
                                "dispatcher dropped: target shutdown report"
                            );
                        }
                    }
                }
            }
        }
        if let Some(rt) = self.own_runtime.lock().ok().and_then(|mut r| r.take()) {
            rt.shutdown_background();
        }
        // Now, not when the last reference goes: the run folder's thread may hold one
        // for a moment, and the next process must find the folder free once this ends.
        if let Some(run) = self.run_lock.take() {
            run.release();
        }
    }
}
