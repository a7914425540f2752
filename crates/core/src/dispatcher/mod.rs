//! The dispatcher: hands every event to each target whose filter accepts it.
//!
//! ```
//! use std::time::Duration;
//! use auditrail_core::{audit, topics, Dispatcher, Filter, DeliveryOptions, NodeId};
//! use auditrail_core::testing::MemoryTarget;
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let memory = MemoryTarget::new();
//! let dispatcher = Dispatcher::builder(NodeId::new("node-1")?)
//!     .target("memory", "memory", Filter::all(), DeliveryOptions::default(), Box::new(memory.clone()))
//!     .build()?;
//!
//! // Fire and forget (waits only if the target's queue is full):
//! dispatcher.emit(audit!(topics::GENERIC, "login", "authUser" => "alice"))?;
//! // Acknowledged: resolves once every accepting target durably took the event.
//! dispatcher.emit_acked(audit!(topics::AUTHFAIL, "login-failed", "authUser" => "mallory")).await?;
//!
//! let report = dispatcher.shutdown(Duration::from_secs(5)).await;
//! assert!(report.is_clean());
//! assert_eq!(memory.events().len(), 2);
//! # Ok(()) }
//! ```

mod ack;
mod dead_letter;
mod error;
mod options;
mod seq;
mod stats;
mod worker;

pub use error::{AckError, DeliveryFailure, EmitError};
pub use options::{DeliveryOptions, OnFull};
pub use stats::TargetStats;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;
use tokio::runtime::{Handle, Runtime};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::NodeConfig;
use crate::event::{Event, EventDraft, EventId, NodeId};
use crate::filter::Filter;
use crate::target::{BuildContext, BuildError, Target, TargetError};
use ack::AckTracker;
use dead_letter::DeadLetterFile;
use seq::SeqAllocator;
use stats::TargetCounters;
use worker::{Item, Queued, Worker, WorkerReport};

/// Cheap to clone; every clone feeds the same targets. When the last clone is
/// dropped without [`Dispatcher::shutdown`], the drop performs a graceful shutdown
/// with the default deadline (30 s): queued events are delivered, not lost.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Route {
    name: String,
    type_name: String,
    filter: Filter,
    on_full: OnFull,
    tx: flume::Sender<Item>,
    counters: Arc<TargetCounters>,
}

struct Inner {
    node: NodeId,
    seq: SeqAllocator,
    routes: Vec<Route>,
    unrouted: AtomicU64,
    closed: AtomicBool,
    in_flight: AtomicUsize,
    stop: watch::Sender<Option<Instant>>,
    workers: Mutex<Vec<(String, JoinHandle<WorkerReport>)>>,
    handle: Handle,
    own_runtime: Mutex<Option<Runtime>>,
    drop_deadline: Duration,
    shut_down: AtomicBool,
}

/// What was emitted: the id and sequence number the dispatcher gave the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Emitted {
    /// The event's id.
    pub id: EventId,
    /// The event's per-node sequence number.
    pub seq: u64,
    /// How many targets accepted it (0: no filter matched; counted as unrouted).
    pub targets: usize,
}

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

/// Why a dispatcher could not be built.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum DispatcherError {
    /// A target failed to build.
    #[error("target {name:?} (type {type_name:?}): {source}")]
    Target {
        /// Instance name.
        name: String,
        /// Type.
        type_name: String,
        /// Why.
        source: BuildError,
    },
    /// A target's delivery options are invalid.
    #[error("target {name:?}: {message}")]
    Options {
        /// Instance name.
        name: String,
        /// What is wrong.
        message: String,
    },
    /// The sequence file or the dispatcher's runtime could not be set up.
    #[error("{0}")]
    Setup(String),
}

enum PendingTarget {
    Built(Box<dyn Target>),
    FromConfig(crate::config::TargetSpec),
}

/// Builds a [`Dispatcher`].
pub struct DispatcherBuilder {
    node: NodeId,
    targets: Vec<(String, String, Filter, DeliveryOptions, PendingTarget)>,
    dead_letter_dir: PathBuf,
    run_dir: PathBuf,
    persist_seq: bool,
    handle: Option<Handle>,
    worker_threads: usize,
    drop_deadline: Duration,
}

impl DispatcherBuilder {
    /// Adds a built target.
    pub fn target(
        mut self,
        name: impl Into<String>,
        type_name: impl Into<String>,
        filter: Filter,
        options: DeliveryOptions,
        target: Box<dyn Target>,
    ) -> Self {
        self.targets.push((
            name.into(),
            type_name.into(),
            filter,
            options,
            PendingTarget::Built(target),
        ));
        self
    }

    /// Adds a target built from a registration and its own config fields (as a
    /// `[[targets]]` entry would, without the file).
    pub fn registered_target(
        mut self,
        name: impl Into<String>,
        registration: &'static crate::TargetRegistration,
        config: serde_json::Value,
        filter: Filter,
        options: DeliveryOptions,
    ) -> Self {
        let name = name.into();
        let spec = crate::config::TargetSpec {
            name: name.clone(),
            registration,
            filter: filter.clone(),
            delivery: options.clone(),
            config,
        };
        self.targets.push((
            name,
            registration.name.to_owned(),
            filter,
            options,
            PendingTarget::FromConfig(spec),
        ));
        self
    }

    /// Folder for dead-letter files (default `run/deadletter`).
    pub fn dead_letter_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.dead_letter_dir = dir.into();
        self
    }

    /// The node's run folder, given to targets (default `run`).
    pub fn run_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.run_dir = dir.into();
        self
    }

    /// Keep sequence numbers increasing across restarts, in `<run_dir>/seq/<node>`.
    /// Off by default for embedded use; on for dispatchers built from a node config.
    pub fn persist_seq(mut self, on: bool) -> Self {
        self.persist_seq = on;
        self
    }

    /// Run the workers on this runtime instead of a dedicated one.
    pub fn runtime(mut self, handle: Handle) -> Self {
        self.handle = Some(handle);
        self
    }

    /// Threads of the dedicated runtime (default 2). Ignored with [`Self::runtime`].
    pub fn worker_threads(mut self, n: usize) -> Self {
        self.worker_threads = n.max(1);
        self
    }

    /// Deadline of the graceful shutdown performed when the last clone is dropped.
    pub fn drop_deadline(mut self, d: Duration) -> Self {
        self.drop_deadline = d;
        self
    }

    /// Starts one worker per target.
    pub fn build(self) -> Result<Dispatcher, DispatcherError> {
        let (handle, own_runtime) = match self.handle {
            Some(h) => (h, None),
            None => {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(self.worker_threads)
                    .thread_name("auditrail-dispatch")
                    .enable_all()
                    .build()
                    .map_err(|e| {
                        DispatcherError::Setup(format!("cannot start the dispatcher runtime: {e}"))
                    })?;
                (rt.handle().clone(), Some(rt))
            }
        };
        let seq = if self.persist_seq {
            let dir = self.run_dir.join("seq");
            SeqAllocator::persistent(&dir, self.node.as_str()).map_err(|e| {
                DispatcherError::Setup(format!("sequence file in {}: {e}", dir.display()))
            })?
        } else {
            SeqAllocator::in_memory()
        };
        let (stop, stop_rx) = watch::channel(None);
        let epoch = Instant::now();
        let mut routes = Vec::with_capacity(self.targets.len());
        let mut workers = Vec::with_capacity(self.targets.len());
        for (name, type_name, filter, options, pending) in self.targets {
            options
                .check()
                .map_err(|message| DispatcherError::Options {
                    name: name.clone(),
                    message,
                })?;
            let target = match pending {
                PendingTarget::Built(t) => t,
                PendingTarget::FromConfig(spec) => {
                    let ctx = BuildContext {
                        node: self.node.clone(),
                        target_name: name.clone(),
                        run_dir: self.run_dir.clone(),
                        runtime: handle.clone(),
                    };
                    // Targets may spawn tasks while building.
                    let _enter = handle.enter();
                    (spec.registration.build)(spec.config, &ctx).map_err(|source| {
                        DispatcherError::Target {
                            name: name.clone(),
                            type_name: type_name.clone(),
                            source,
                        }
                    })?
                }
            };
            let (tx, rx) = flume::bounded(options.queue_capacity);
            let counters = Arc::new(TargetCounters::new(epoch));
            let worker = Worker {
                name: name.clone(),
                target,
                rx,
                options: options.clone(),
                counters: counters.clone(),
                dead_letter: DeadLetterFile::new(&self.dead_letter_dir, &name),
                stop: stop_rx.clone(),
            };
            workers.push((name.clone(), handle.spawn(worker.run())));
            routes.push(Route {
                name,
                type_name,
                filter,
                on_full: options.on_full,
                tx,
                counters,
            });
        }
        Ok(Dispatcher {
            inner: Arc::new(Inner {
                node: self.node,
                seq,
                routes,
                unrouted: AtomicU64::new(0),
                closed: AtomicBool::new(false),
                in_flight: AtomicUsize::new(0),
                stop,
                workers: Mutex::new(workers),
                handle,
                own_runtime: Mutex::new(own_runtime),
                drop_deadline: self.drop_deadline,
                shut_down: AtomicBool::new(false),
            }),
        })
    }
}

/// Decrements the in-flight count however `emit` returns.
struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Release);
    }
}

impl Dispatcher {
    /// A builder for a node.
    pub fn builder(node: NodeId) -> DispatcherBuilder {
        DispatcherBuilder {
            node,
            targets: Vec::new(),
            dead_letter_dir: PathBuf::from("run/deadletter"),
            run_dir: PathBuf::from("run"),
            persist_seq: false,
            handle: None,
            worker_threads: 2,
            drop_deadline: Duration::from_secs(30),
        }
    }

    /// A builder set up from a node config: its node id, folders, persisted sequence
    /// numbers and targets (built from their registrations).
    pub fn builder_from_config(config: &NodeConfig) -> DispatcherBuilder {
        let mut b = Dispatcher::builder(config.node.clone())
            .run_dir(config.run_dir.clone())
            .dead_letter_dir(config.dead_letter_dir.clone())
            .persist_seq(true)
            .drop_deadline(Duration::from_secs(config.shutdown_timeout_s));
        for spec in &config.targets {
            b.targets.push((
                spec.name.clone(),
                spec.registration.name.to_owned(),
                spec.filter.clone(),
                spec.delivery.clone(),
                PendingTarget::FromConfig(spec.clone()),
            ));
        }
        b
    }

    /// The node id stamped on events.
    pub fn node(&self) -> &NodeId {
        &self.inner.node
    }

    fn prepare(&self, draft: EventDraft) -> Result<(Arc<Event>, Vec<usize>), EmitError> {
        let inner = &*self.inner;
        let event = draft.complete(&inner.node, || inner.seq.next())?;
        let accepting: Vec<usize> = inner
            .routes
            .iter()
            .enumerate()
            .filter(|(_, r)| r.filter.accepts(&event))
            .map(|(i, _)| i)
            .collect();
        if accepting.is_empty() {
            inner.unrouted.fetch_add(1, Ordering::Relaxed);
        }
        Ok((Arc::new(event), accepting))
    }

    fn enter(&self) -> Result<InFlight<'_>, EmitError> {
        self.inner.in_flight.fetch_add(1, Ordering::SeqCst);
        let guard = InFlight(&self.inner.in_flight);
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(EmitError::Closed);
        }
        Ok(guard)
    }

    /// Fire and forget, from sync or async code. Returns once the event is queued for
    /// every accepting target; waits (blocking the thread) while a queue with
    /// `on_full = "block"` is full. In async code under heavy load prefer
    /// [`Dispatcher::emit_async`], which waits without blocking the thread.
    pub fn emit(&self, draft: impl Into<EventDraft>) -> Result<Emitted, EmitError> {
        let _in_flight = self.enter()?;
        let (event, accepting) = self.prepare(draft.into())?;
        for &i in &accepting {
            let route = &self.inner.routes[i];
            let item = Item::Event(Queued {
                event: event.clone(),
                ack: None,
                queued_at: Instant::now(),
            });
            route.counters.accepted.fetch_add(1, Ordering::Relaxed);
            let sent = match route.on_full {
                OnFull::Block => route.tx.send(item).is_ok(),
                OnFull::Drop => self.try_enqueue(route, item),
            };
            if !sent {
                lost_on_closed_queue(route, &event);
            }
        }
        Ok(Emitted {
            id: event.id,
            seq: event.seq,
            targets: accepting.len(),
        })
    }

    /// Fire and forget from async code: like [`Dispatcher::emit`], but waits for queue
    /// room without blocking the thread.
    pub async fn emit_async(&self, draft: impl Into<EventDraft>) -> Result<Emitted, EmitError> {
        let _in_flight = self.enter()?;
        let (event, accepting) = self.prepare(draft.into())?;
        for &i in &accepting {
            let route = &self.inner.routes[i];
            let item = Item::Event(Queued {
                event: event.clone(),
                ack: None,
                queued_at: Instant::now(),
            });
            route.counters.accepted.fetch_add(1, Ordering::Relaxed);
            let sent = match route.on_full {
                OnFull::Block => route.tx.send_async(item).await.is_ok(),
                OnFull::Drop => self.try_enqueue(route, item),
            };
            if !sent {
                lost_on_closed_queue(route, &event);
            }
        }
        Ok(Emitted {
            id: event.id,
            seq: event.seq,
            targets: accepting.len(),
        })
    }

    /// Emits and resolves only when every target that accepted the event has durably
    /// taken it (the target's `Ok`). Fails if any accepting target dead-lettered or
    /// dropped it. Resolves at once when no target accepted the event.
    pub async fn emit_acked(&self, draft: impl Into<EventDraft>) -> Result<Emitted, AckError> {
        let (emitted, done) = self.enqueue_acked(draft.into()).await?;
        wait_ack(emitted, done).await
    }

    /// Emits a whole batch and resolves once every event is settled: `Ok` when every
    /// accepting target durably took every event; otherwise the failures of each event
    /// that was not taken (events are queued in order; the event server builds on this).
    pub async fn emit_batch_acked(
        &self,
        drafts: impl IntoIterator<Item = EventDraft>,
    ) -> Result<Vec<Emitted>, Vec<AckError>> {
        let mut pending = Vec::new();
        let mut errors = Vec::new();
        for draft in drafts {
            match self.enqueue_acked(draft).await {
                Ok(p) => pending.push(p),
                Err(e) => errors.push(e),
            }
        }
        let mut emitted = Vec::with_capacity(pending.len());
        for (e, done) in pending {
            match wait_ack(e, done).await {
                Ok(e) => emitted.push(e),
                Err(err) => errors.push(err),
            }
        }
        if errors.is_empty() {
            Ok(emitted)
        } else {
            Err(errors)
        }
    }

    async fn enqueue_acked(
        &self,
        draft: EventDraft,
    ) -> Result<(Emitted, Option<AckWait>), AckError> {
        let _in_flight = self.enter()?;
        let (event, accepting) = self.prepare(draft)?;
        let emitted = Emitted {
            id: event.id,
            seq: event.seq,
            targets: accepting.len(),
        };
        if accepting.is_empty() {
            return Ok((emitted, None));
        }
        let (tracker, done) = AckTracker::new(accepting.len());
        let tracker = Arc::new(tracker);
        for &i in &accepting {
            let route = &self.inner.routes[i];
            let item = Item::Event(Queued {
                event: event.clone(),
                ack: Some(tracker.clone()),
                queued_at: Instant::now(),
            });
            route.counters.accepted.fetch_add(1, Ordering::Relaxed);
            let sent = match route.on_full {
                OnFull::Block => route.tx.send_async(item).await.is_ok(),
                OnFull::Drop => self.try_enqueue(route, item),
            };
            if !sent {
                lost_on_closed_queue(route, &event);
            }
        }
        Ok((emitted, Some(done)))
    }

    /// Queues with the drop policy; a refused event is counted and its ack fails.
    fn try_enqueue(&self, route: &Route, item: Item) -> bool {
        match route.tx.try_send(item) {
            Ok(()) => true,
            Err(flume::TrySendError::Full(Item::Event(q))) => {
                route
                    .counters
                    .dropped_queue_full
                    .fetch_add(1, Ordering::Relaxed);
                tracing::warn!(target_name = %route.name, event_id = %q.event.id, "queue full: event dropped (on_full = \"drop\")");
                if let Some(ack) = &q.ack {
                    ack.settle(Err(DeliveryFailure {
                        target: route.name.clone(),
                        reason: "dropped: queue full (on_full = \"drop\")".into(),
                    }));
                }
                true
            }
            Err(_) => false,
        }
    }

    /// Delivers everything queued so far and calls every target's `flush`. Errors name
    /// the targets that failed to flush.
    pub async fn flush(&self) -> Result<(), Vec<(String, TargetError)>> {
        let mut waits = Vec::new();
        for route in &self.inner.routes {
            let (tx, rx) = tokio::sync::oneshot::channel();
            if route.tx.send_async(Item::Flush(tx)).await.is_ok() {
                waits.push((route.name.clone(), rx));
            }
        }
        let mut errors = Vec::new();
        for (name, rx) in waits {
            match rx.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => errors.push((name, e)),
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

    /// Counters of every target, in configuration order.
    pub fn stats(&self) -> Vec<TargetStats> {
        self.inner
            .routes
            .iter()
            .map(|r| r.counters.snapshot(&r.name, &r.type_name, r.tx.len()))
            .collect()
    }

    /// Events that no target's filter accepted.
    pub fn unrouted(&self) -> u64 {
        self.inner.unrouted.load(Ordering::Relaxed)
    }

    /// Stops accepting events, drains every queue (retrying as usual) until `deadline`,
    /// then writes whatever is left to the dead-letter files and reports it. Calling it
    /// again returns the final counters.
    pub async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        self.inner.shutdown(deadline).await
    }

    /// [`Dispatcher::shutdown`] for sync code (blocks the calling thread).
    pub fn shutdown_blocking(&self, deadline: Duration) -> ShutdownReport {
        self.inner.shutdown_blocking(deadline)
    }
}

type AckWait = tokio::sync::oneshot::Receiver<Vec<DeliveryFailure>>;

async fn wait_ack(emitted: Emitted, done: Option<AckWait>) -> Result<Emitted, AckError> {
    let Some(done) = done else { return Ok(emitted) };
    match done.await {
        Ok(failures) if failures.is_empty() => Ok(emitted),
        Ok(failures) => Err(AckError::NotDelivered {
            id: emitted.id,
            failures,
        }),
        Err(_) => Err(AckError::Abandoned(emitted.id)),
    }
}

fn lost_on_closed_queue(route: &Route, event: &Event) {
    // Only reachable if a worker task died; say so loudly rather than lose quietly.
    route.counters.lost.fetch_add(1, Ordering::Relaxed);
    tracing::error!(target_name = %route.name, event_id = %event.id, "EVENT LOST: the target's worker is gone");
}

impl Inner {
    async fn shutdown(&self, deadline: Duration) -> ShutdownReport {
        let until = Instant::now() + deadline;
        self.closed.store(true, Ordering::SeqCst);
        // Emitters that passed the `closed` check finish queueing first.
        while self.in_flight.load(Ordering::SeqCst) != 0 {
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
        let _ = self.stop.send(Some(until));
        let workers: Vec<(String, JoinHandle<WorkerReport>)> = self
            .workers
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default();
        let mut reports = std::collections::HashMap::new();
        for (name, handle) in workers {
            let report = match handle.await {
                Ok(r) => r,
                Err(e) => WorkerReport {
                    undelivered: 0,
                    shutdown_error: Some(format!("worker crashed: {e}")),
                },
            };
            reports.insert(name, report);
        }
        if !self.shut_down.swap(true, Ordering::SeqCst) {
            self.seq.persist_exact();
        }
        ShutdownReport {
            targets: self
                .routes
                .iter()
                .map(|r| {
                    let report = reports.remove(&r.name);
                    TargetShutdown {
                        stats: r.counters.snapshot(&r.name, &r.type_name, r.tx.len()),
                        undelivered: report.as_ref().map_or(0, |r| r.undelivered),
                        error: report.and_then(|r| r.shutdown_error),
                    }
                })
                .collect(),
        }
    }

    fn shutdown_blocking(&self, deadline: Duration) -> ShutdownReport {
        // Run on a scoped thread so this works inside or outside any runtime.
        std::thread::scope(|s| {
            s.spawn(|| self.handle.block_on(self.shutdown(deadline)))
                .join()
                .unwrap_or_else(|_| ShutdownReport {
                    targets: Vec::new(),
                })
        })
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if !self.shut_down.load(Ordering::SeqCst) {
            let report = self.shutdown_blocking(self.drop_deadline);
            if !report.is_clean() {
                tracing::error!(?report, "dispatcher dropped: shutdown report");
            }
        }
        if let Some(rt) = self.own_runtime.lock().ok().and_then(|mut r| r.take()) {
            rt.shutdown_background();
        }
    }
}
