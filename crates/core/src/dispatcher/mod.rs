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
mod answer;
mod dead_letter;
mod error;
mod options;
mod routes;
mod seq;
mod stats;
mod worker;

pub use answer::{BatchAck, EventAck};
pub use error::{AckError, BatchError, DeliveryFailure, EmitError, FailureKind};
pub use options::{DeliveryOptions, OnFull};
pub use routes::{RouteInfo, RouteSet, Routed};
pub use stats::TargetStats;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;
use tokio::runtime::{Handle, Runtime, RuntimeFlavor};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::NodeConfig;
use crate::event::{Event, EventDraft, EventId, NodeId};
use crate::filter::Filter;
use crate::target::{BuildContext, BuildError, Target, TargetError};
use ack::{AckSlot, AckTracker, AckWait};
use dead_letter::DeadLetterFile;
use seq::SeqAllocator;
use stats::TargetCounters;
use worker::{Item, Queued, Worker, WorkerReport};

/// Cheap to clone; every clone feeds the same targets. When the last clone is
/// dropped without [`Dispatcher::shutdown`], the drop performs a graceful shutdown
/// with the drop deadline (default 30 s): queued events are delivered, not lost.
///
/// # Runtimes
///
/// By default the workers run on a dedicated multi-thread runtime, and every method
/// works from any thread, inside or outside a tokio runtime. With
/// [`DispatcherBuilder::runtime`] they run on yours:
/// - a multi-thread runtime: the sync [`Dispatcher::emit`] and
///   [`Dispatcher::shutdown_blocking`] wait through `block_in_place` when called on
///   it, so its other tasks (and the workers) keep running;
/// - a current-thread runtime: the workers run only while that runtime's thread
///   drives it, so nothing may block that thread waiting for them. There, a sync
///   `emit` that would wait for queue room returns [`EmitError::WouldBlock`] (use
///   [`Dispatcher::emit_async`]), `shutdown_blocking` starts the shutdown and returns
///   a report saying it could not wait (use [`Dispatcher::shutdown`]), and dropping the
///   last clone only *starts* the shutdown: queued events are delivered as long as
///   the runtime keeps running. Call `shutdown().await` before the runtime ends.
#[derive(Clone)]
pub struct Dispatcher {
    inner: Arc<Inner>,
}

struct Route {
    /// Position in `Inner::routes` (what a [`RouteSet`] holds).
    index: usize,
    name: String,
    type_name: String,
    filter: Filter,
    on_full: OnFull,
    tx: flume::Sender<Item>,
    counters: Arc<TargetCounters>,
    /// Wakes the worker out of its quiet wait (acked emits, flush, shutdown).
    wake: Arc<tokio::sync::Notify>,
}

struct Inner {
    /// Tells this dispatcher's [`Routed`] events from another's.
    id: u64,
    node: NodeId,
    seq: SeqAllocator,
    routes: Vec<Route>,
    unrouted: AtomicU64,
    closed: AtomicBool,
    /// Emitters between their `closed` check and the end of their queueing (shared
    /// with the workers, which drain until it is 0).
    in_flight: Arc<AtomicUsize>,
    stop: watch::Sender<Option<Instant>>,
    workers: Mutex<Vec<(String, JoinHandle<WorkerReport>)>>,
    /// Serializes shutdowns; holds the workers' reports once they ended.
    finished: tokio::sync::Mutex<Option<HashMap<String, WorkerReport>>>,
    handle: Handle,
    /// The workers run on a current-thread runtime (a user-provided handle): nothing
    /// may block waiting for them on that runtime's own thread.
    current_thread: bool,
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

    /// Run the workers on this runtime instead of a dedicated one (see "Runtimes" on
    /// [`Dispatcher`] for what changes with a current-thread runtime).
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
            Some(h) if !timers_enabled(&h) => {
                return Err(DispatcherError::Setup(
                    "the runtime given to the dispatcher has no timer: build it with \
                     `enable_time()` (or `enable_all()`); workers need timers for batching, \
                     retries and shutdown deadlines"
                        .into(),
                ))
            }
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
        let in_flight = Arc::new(AtomicUsize::new(0));
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
                        dead_letter_dir: self.dead_letter_dir.clone(),
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
            let wake = Arc::new(tokio::sync::Notify::new());
            let index = routes.len();
            let worker = Worker {
                route: index,
                name: name.clone(),
                target,
                rx,
                options: options.clone(),
                counters: counters.clone(),
                dead_letter: DeadLetterFile::new(&self.dead_letter_dir, &name),
                stop: stop_rx.clone(),
                in_flight: in_flight.clone(),
                wake: wake.clone(),
            };
            workers.push((name.clone(), handle.spawn(worker.run())));
            routes.push(Route {
                index,
                name,
                type_name,
                filter,
                on_full: options.on_full,
                tx,
                counters,
                wake,
            });
        }
        // Tells this dispatcher's `Routed` events from another's (a counter, not a
        // pointer: an address is reused once a dispatcher is gone).
        static NEXT_ID: AtomicU64 = AtomicU64::new(0);
        Ok(Dispatcher {
            inner: Arc::new(Inner {
                id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
                node: self.node,
                seq,
                routes,
                unrouted: AtomicU64::new(0),
                closed: AtomicBool::new(false),
                in_flight,
                stop,
                workers: Mutex::new(workers),
                finished: tokio::sync::Mutex::new(None),
                current_thread: handle.runtime_flavor() == RuntimeFlavor::CurrentThread,
                handle,
                own_runtime: Mutex::new(own_runtime),
                drop_deadline: self.drop_deadline,
                shut_down: AtomicBool::new(false),
            }),
        })
    }
}

/// Whether tokio timers work on `handle` (creating a `Sleep` panics when they are
/// off). A worker that hit this later would die with its queue, so refuse up front.
fn timers_enabled(handle: &Handle) -> bool {
    let _enter = handle.enter();
    std::panic::catch_unwind(|| drop(tokio::time::sleep(Duration::ZERO))).is_ok()
}

/// Decrements the in-flight count however `emit` returns.
struct InFlight<'a>(&'a AtomicUsize);
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

    /// The dispatcher's routes (its targets and their filters), in configuration
    /// order: a route's index is what a [`RouteSet`] holds.
    pub fn routes(&self) -> impl ExactSizeIterator<Item = RouteInfo<'_>> + '_ {
        self.inner.routes.iter().map(|r| RouteInfo {
            index: r.index,
            name: &r.name,
            type_name: &r.type_name,
            filter: &r.filter,
        })
    }

    /// The index of the route (target) named `name`.
    pub fn route_index(&self, name: &str) -> Option<usize> {
        self.inner.routes.iter().position(|r| r.name == name)
    }

    /// Runs every route's filter once on `event` and keeps the answer with it, for
    /// [`Dispatcher::emit_routed_acked`]. Nothing is emitted or counted yet.
    pub fn route(&self, event: Event) -> Routed {
        Routed {
            routes: self.routes_accepting(|f| f.accepts(&event)),
            event,
            dispatcher: self.inner.id,
        }
    }

    /// The one place where route filters run: each once.
    fn routes_accepting(&self, accepts: impl Fn(&Filter) -> bool) -> RouteSet {
        let mut set = RouteSet::new();
        for route in &self.inner.routes {
            if accepts(&route.filter) {
                set.insert(route.index);
            }
        }
        set
    }

    /// The routes whose filter accepts the draft; then, for the sync `emit` on the
    /// dispatcher's own current-thread runtime, a refusal if waiting would deadlock;
    /// then the completed event (id, timestamp, seq). Nothing is consumed (no seq)
    /// when the event is refused.
    fn prepare(
        &self,
        draft: EventDraft,
        sync_emit: bool,
    ) -> Result<(Arc<Event>, RouteSet), EmitError> {
        let inner = &*self.inner;
        let accepting = self.routes_accepting(|f| f.accepts_draft(&draft));
        if sync_emit && inner.current_thread {
            self.refuse_if_waiting_would_deadlock(&accepting)?;
        }
        let event = draft.complete(&inner.node, || inner.seq.next())?;
        if accepting.is_empty() {
            inner.unrouted.fetch_add(1, Ordering::Relaxed);
        }
        Ok((Arc::new(event), accepting))
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

    fn enter(&self) -> Result<InFlight<'_>, EmitError> {
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
        let (event, accepting) = self.prepare(draft.into(), true)?;
        let queued_at = Instant::now();
        for i in accepting.iter() {
            let route = &self.inner.routes[i];
            route.counters.accepted.fetch_add(1, Ordering::Relaxed);
            let item = Item::Event(Queued {
                event: event.clone(),
                ack: None,
                queued_at,
            });
            match route.on_full {
                OnFull::Block => self.send_blocking(route, item),
                OnFull::Drop => try_enqueue(route, item),
            }
        }
        Ok(Emitted {
            id: event.id,
            seq: event.seq,
            targets: accepting.len(),
        })
    }

    /// Fire and forget from async code: like [`Dispatcher::emit`], but waits for queue
    /// room without blocking the thread. If the future is dropped while it waits, the
    /// event may have been queued to some of its targets only.
    pub async fn emit_async(&self, draft: impl Into<EventDraft>) -> Result<Emitted, EmitError> {
        let _in_flight = self.enter()?;
        let (event, accepting) = self.prepare(draft.into(), false)?;
        let queued_at = Instant::now();
        for i in accepting.iter() {
            let route = &self.inner.routes[i];
            let item = Item::Event(Queued {
                event: event.clone(),
                ack: None,
                queued_at,
            });
            send_async(route, item).await;
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
        let in_flight = self.enter()?;
        let (event, accepting) = self.prepare(draft.into(), false)?;
        let emitted = Emitted {
            id: event.id,
            seq: event.seq,
            targets: accepting.len(),
        };
        let Some(done) = self.queue_acked(in_flight, vec![(event, accepting)]).await else {
            return Ok(emitted);
        };
        match done.await {
            Ok(failed) if failed.is_empty() => Ok(emitted),
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
    /// dropped, lost; see [`FailureKind`]). Every route's filter runs once per event.
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
                self.route(routed.event)
            };
            if routes.is_empty() {
                self.inner.unrouted.fetch_add(1, Ordering::Relaxed);
            }
            answer.push((event.id, event.seq, routes.clone()));
            debug_assert_eq!(dispatcher, self.inner.id);
            queued.push((Arc::new(event), routes));
        }
        let failed = match self.queue_acked(in_flight, queued).await {
            None => Vec::new(),
            Some(done) => done
                .await
                .map_err(|_| BatchError::Abandoned { events: n })?,
        };
        Ok(BatchAck::assemble(answer, failed))
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
        let queued_at = Instant::now();
        for (i, (event, routes)) in events.into_iter().enumerate() {
            for r in routes.iter() {
                let route = &self.inner.routes[r];
                let item = Item::Event(Queued {
                    event: event.clone(),
                    ack: Some(AckSlot {
                        tracker: tracker.clone(),
                        event: i,
                    }),
                    queued_at,
                });
                send_async(route, item).await;
                // Someone waits for this one: do not let it sit through a quiet tick.
                route.wake.notify_one();
            }
        }
        // Only the queued copies may keep the tracker alive: if they all vanish
        // unsettled (a worker gone with its queue), the waiter learns it.
        drop(tracker);
        drop(in_flight);
        Some(done)
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

    /// Delivers everything queued so far and calls every target's `flush`. Errors name
    /// the targets that failed to flush (after shutdown: every target, as stopped).
    pub async fn flush(&self) -> Result<(), Vec<(String, TargetError)>> {
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

/// Counts and queues one event for one target from async code.
async fn send_async(route: &Route, item: Item) {
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

impl Inner {
    /// Whether the calling thread is running the dispatcher's own runtime.
    fn on_own_current_thread_runtime(&self) -> bool {
        Handle::try_current().is_ok_and(|h| h.id() == self.handle.id())
    }

    /// Stops new emits and sets the drain deadline (only the first call's counts).
    fn begin_shutdown(&self, deadline: Duration) {
        self.closed.store(true, Ordering::SeqCst);
        let until = Instant::now() + deadline;
        self.stop.send_if_modified(|stop| {
            if stop.is_none() {
                *stop = Some(until);
                true
            } else {
                false
            }
        });
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
    workers: Vec<(String, JoinHandle<WorkerReport>)>,
) -> HashMap<String, WorkerReport> {
    let mut reports = HashMap::new();
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
///   their report. Call `shutdown().await` before dropping to wait for it.
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
                self.handle.spawn(async move {
                    let reports = join_workers(workers).await;
                    for (name, report) in reports {
                        if report.undelivered != 0 || report.shutdown_error.is_some() {
                            tracing::error!(target_name = %name, ?report, "dispatcher dropped: target shutdown report");
                        }
                    }
                });
            } else {
                let report = self.shutdown_blocking(self.drop_deadline);
                if !report.is_clean() {
                    tracing::error!(?report, "dispatcher dropped: shutdown report");
                }
            }
        }
        if let Some(rt) = self.own_runtime.lock().ok().and_then(|mut r| r.take()) {
            rt.shutdown_background();
        }
    }
}

#[cfg(test)]
mod tests;
