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
mod acked;
mod answer;
mod builder;
mod dead_letter;
mod emit;
mod emit_batch;
mod error;
mod flush_report;
mod handover;
mod options;
mod panics;
mod queued_at;
mod reader;
mod routes;
mod run_folder;
mod seq;
mod shutdown;
mod spares;
mod stats;
mod unbuilt;
mod worker;

pub use answer::{AckReport, BatchAck, EventAck};
pub use builder::{DispatcherBuilder, DispatcherError, RuntimeSetupError};
pub use error::{
    AckError, BatchError, DeliveryFailure, EmitBatchError, EmitError, FailureKind, SeqFileError,
};
pub use options::{DeliveryOptions, DeliveryOptionsError, OnFull, DEFAULT_BATCH_MAX_EVENTS};
pub use reader::{NodeStats, StatsReader};
pub use routes::{RouteInfo, RouteSet, Routed};
pub use seq::{SeqSetupError, SEQ_FOLDER};
pub use shutdown::{ShutdownReport, TargetShutdown};
pub use stats::TargetStats;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, Runtime};
use tokio::sync::oneshot;
use tokio::sync::watch;

use crate::event::{Event, EventId, NodeId};
use crate::filter::Filter;
use handover::{Running, Watched};
use run_folder::RunFolder;
use seq::SeqAllocator;
use stats::TargetCounters;
use worker::{Item, WorkerReport};

/// Cheap to clone; every clone feeds the same targets. When the last clone is
/// dropped without [`Dispatcher::shutdown`], the drop performs a graceful shutdown
/// with the drop deadline (default 30 s): queued events are delivered, not lost.
///
/// # Runtimes
///
/// By default each target's worker runs on a thread of its own (a current-thread
/// runtime), so that a target that blocks its thread holds up only itself (see the
/// [`Target`](crate::Target) contract); tasks the targets spawn run on a dedicated
/// multi-thread runtime. Every method works from any thread, inside or outside a
/// tokio runtime. With
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

impl std::fmt::Debug for Dispatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let routes: Vec<&str> = self.inner.routes.iter().map(|r| r.name.as_str()).collect();
        f.debug_struct("Dispatcher")
            .field("node", &self.inner.node)
            .field("routes", &routes)
            .finish_non_exhaustive()
    }
}

struct Route {
    /// Position in `Inner::routes` (what a [`RouteSet`] holds).
    index: usize,
    name: String,
    type_name: String,
    /// What its target's `Ok` means ([`Dispatcher::route_durability`]).
    durability: crate::target::Durability,
    filter: Filter,
    on_full: OnFull,
    tx: flume::Sender<Item>,
    counters: Arc<TargetCounters>,
    /// Wakes the worker out of its quiet wait (acked emits, flush, shutdown).
    wake: Arc<tokio::sync::Notify>,
    /// The target's dead-letter file (named by a flush that reports dead letters).
    dead_letter_file: std::path::PathBuf,
    /// What flushes have reported of this target's undelivered events so far.
    flush_reported: flush_report::Reported,
}

struct Inner {
    /// Tells this dispatcher's [`Routed`] events from another's.
    id: u64,
    node: NodeId,
    /// Shared with the run folder's thread (`run_folder::watch`), which holds it weakly.
    seq: Arc<SeqAllocator>,
    routes: Vec<Route>,
    unrouted: Arc<AtomicU64>,
    /// The counters as seen from outside (`stats`, metrics, the periodic log).
    reader: StatsReader,
    closed: AtomicBool,
    /// Emitters between their `closed` check and the end of their queueing (shared
    /// with the workers, which drain until it is 0).
    in_flight: emit::InFlightCount,
    /// Delivered events' `Arc`s, which `emit` fills again (see `spares.rs`).
    spares: Arc<spares::Spares>,
    stop: watch::Sender<Option<Instant>>,
    /// Each worker's report, sent when it ends (or by the shutdown watchdog for one
    /// whose target blocked its thread past the deadline).
    workers: Mutex<Vec<(String, oneshot::Receiver<WorkerReport>)>>,
    /// Workers that have not reported yet.
    running: Arc<Running>,
    /// What the shutdown watchdog watches; taken by the first shutdown.
    watched: Mutex<Option<Vec<Watched>>>,
    /// Serializes shutdowns; holds the workers' reports once they ended.
    finished: tokio::sync::Mutex<Option<HashMap<String, WorkerReport>>>,
    handle: Handle,
    /// The workers run on a current-thread runtime (a user-provided handle): nothing
    /// may block waiting for them on that runtime's own thread.
    current_thread: bool,
    own_runtime: Mutex<Option<Runtime>>,
    drop_deadline: Duration,
    shut_down: AtomicBool,
    /// The run folder's lock, held while the dispatcher lives (last: dropped after the
    /// runtime stopped). Taken out by a drop that leaves the workers draining, which
    /// then hold it until they end.
    run_lock: Option<Arc<RunFolder>>,
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

impl Dispatcher {
    /// The node id stamped on events.
    pub fn node(&self) -> &NodeId {
        &self.inner.node
    }

    /// What an `Ok` of route `index`'s target means should the machine lose power: its
    /// config's [`TargetConfig::durability`](crate::TargetConfig::durability); for a
    /// target added built, what [`DispatcherBuilder::built_target`] was told
    /// ([`DispatcherBuilder::target`] says nothing:
    /// [`Durability::Undeclared`](crate::Durability::Undeclared), taken as not durable).
    /// `None` for an index past the routes. [`EventAck::is_durable`] and
    /// [`AckReport::is_durable`] read it for the routes that took an event.
    pub fn route_durability(&self, index: usize) -> Option<&crate::target::Durability> {
        self.inner.routes.get(index).map(|r| &r.durability)
    }

    /// Whether route `index` is durable on `Ok`.
    fn is_durable_route(&self, index: usize) -> bool {
        self.route_durability(index).is_some_and(|d| d.is_durable())
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
        self.route_shared(Arc::new(event))
    }

    /// [`Dispatcher::route`] of an event already shared (one routed by another
    /// dispatcher is routed again without a copy).
    fn route_shared(&self, event: Arc<Event>) -> Routed {
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

    /// Counters of every target, in configuration order.
    pub fn stats(&self) -> Vec<TargetStats> {
        self.inner.reader.targets()
    }

    /// A reader of the counters that does not keep the dispatcher alive: for a metrics
    /// endpoint or anything else that outlives a scope of the program (see
    /// [`StatsReader`]).
    pub fn stats_reader(&self) -> StatsReader {
        self.inner.reader.clone()
    }

    /// Events that no target's filter accepted.
    pub fn unrouted(&self) -> u64 {
        self.inner.unrouted.load(Ordering::Relaxed)
    }
}

impl Inner {
    /// Whether the calling thread is running the dispatcher's own runtime.
    fn on_own_current_thread_runtime(&self) -> bool {
        Handle::try_current().is_ok_and(|h| h.id() == self.handle.id())
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod pipelined_tests;
