//! Reading a dispatcher's counters from outside it (a metrics endpoint, the periodic
//! log) without keeping it alive, and the periodic log itself.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::sync::watch;

use super::stats::{TargetCounters, TargetStats};
use super::worker::Item;
use crate::event::NodeId;

/// Reads the counters of a dispatcher's targets (see [`Dispatcher::stats_reader`]).
///
/// It holds the counters and a *weak* handle on each queue, not the dispatcher: a
/// metrics endpoint or a log task that keeps a reader never keeps the dispatcher's
/// queues or workers alive, so dropping the last [`Dispatcher`] still shuts it down
/// gracefully. After the shutdown, a reader keeps answering with the final counters
/// (queue depth 0).
///
/// [`Dispatcher::stats_reader`]: super::Dispatcher::stats_reader
/// [`Dispatcher`]: super::Dispatcher
#[derive(Clone)]
pub struct StatsReader {
    node: NodeId,
    routes: Arc<[RouteCounters]>,
    unrouted: Arc<AtomicU64>,
}

struct RouteCounters {
    name: String,
    type_name: String,
    counters: Arc<TargetCounters>,
    queue: flume::WeakSender<Item>,
}

/// A snapshot of a node's counters: every target's, in configuration order, and the
/// events no target accepted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NodeStats {
    /// The node id.
    pub node: NodeId,
    /// Events that no target's filter accepted (since the dispatcher was built).
    pub unrouted: u64,
    /// Per target.
    pub targets: Vec<TargetStats>,
}

impl std::fmt::Debug for StatsReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatsReader")
            .field("node", &self.node)
            .field("targets", &self.routes.len())
            .finish()
    }
}

impl StatsReader {
    pub(crate) fn new(
        node: NodeId,
        unrouted: Arc<AtomicU64>,
        routes: impl IntoIterator<Item = (String, String, Arc<TargetCounters>, flume::WeakSender<Item>)>,
    ) -> StatsReader {
        StatsReader {
            node,
            unrouted,
            routes: routes
                .into_iter()
                .map(|(name, type_name, counters, queue)| RouteCounters {
                    name,
                    type_name,
                    counters,
                    queue,
                })
                .collect(),
        }
    }

    /// The node id.
    pub fn node(&self) -> &NodeId {
        &self.node
    }

    /// Every target's counters, in configuration order.
    pub fn targets(&self) -> Vec<TargetStats> {
        self.routes
            .iter()
            .map(|r| {
                // A queue whose senders are all gone (the dispatcher is shut down) is
                // empty for good.
                let depth = r.queue.upgrade().map_or(0, |tx| tx.len());
                r.counters.snapshot(&r.name, &r.type_name, depth)
            })
            .collect()
    }

    /// Events that no target's filter accepted.
    pub fn unrouted(&self) -> u64 {
        self.unrouted.load(Relaxed)
    }

    /// The node's counters now.
    pub fn snapshot(&self) -> NodeStats {
        NodeStats {
            node: self.node.clone(),
            unrouted: self.unrouted(),
            targets: self.targets(),
        }
    }
}

/// Logs every target's counters through [`TargetStats::log`] every `every`, until the
/// dispatcher's shutdown begins (`stop` holds a deadline) or the dispatcher is gone.
pub(crate) async fn log_periodically(
    reader: StatsReader,
    every: Duration,
    mut stop: watch::Receiver<Option<Instant>>,
) {
    // The interval adds `every` to each tick's instant: bounded, so that cannot
    // overflow whatever the builder was given.
    let every = every.min(crate::limits::FAR_FUTURE);
    let start = tokio::time::Instant::now() + every;
    let mut tick = tokio::time::interval_at(start, every);
    // A node that was suspended logs once when it wakes, not a burst of missed ticks.
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                for target in reader.targets() {
                    target.log(tracing::Level::INFO, "target counters");
                }
            }
            changed = stop.changed() => {
                if changed.is_err() || stop.borrow().is_some() {
                    return;
                }
            }
        }
    }
}
