//! Per-target counters, readable as a snapshot.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use crossbeam_utils::CachePadded;
use serde::Serialize;

use super::queued_at::QueuedAt;
use super::unbuilt::ForwardingCell;
use crate::target::ForwardingStats;

/// Live counters of one target (atomics; cheap to bump from any thread).
#[derive(Debug)]
pub(crate) struct TargetCounters {
    /// Counted by every emit, on the emitting threads: on a cache line of its own, so
    /// that the worker's writes to the others (`in_worker` for every event it takes)
    /// do not take that line from the emitter's core each time.
    pub accepted: CachePadded<AtomicU64>,
    pub delivered: AtomicU64,
    pub retried: AtomicU64,
    pub panicked: AtomicU64,
    pub dead_lettered: AtomicU64,
    pub handed_back: AtomicU64,
    pub dropped_queue_full: AtomicU64,
    pub lost: AtomicU64,
    pub in_worker: AtomicU64,
    /// Of `delivered`, the events the target's destination answered not durable
    /// ([`Target::taken_not_durable`](crate::Target::taken_not_durable)).
    pub not_durable: AtomicU64,
    /// When the oldest event the worker holds was queued
    /// ([`QueuedAt::as_nonzero_nanos`]); 0 when it holds none.
    pub oldest_queued_ns: AtomicU64,
    /// The target's own probe, if it forwards from a store of its own (set later for
    /// a target that could not start at once, see `unbuilt.rs`).
    forwarding: ForwardingCell,
}

impl TargetCounters {
    pub(crate) fn new(forwarding: ForwardingCell) -> TargetCounters {
        TargetCounters {
            accepted: CachePadded::new(AtomicU64::new(0)),
            delivered: AtomicU64::new(0),
            retried: AtomicU64::new(0),
            panicked: AtomicU64::new(0),
            dead_lettered: AtomicU64::new(0),
            handed_back: AtomicU64::new(0),
            dropped_queue_full: AtomicU64::new(0),
            lost: AtomicU64::new(0),
            in_worker: AtomicU64::new(0),
            not_durable: AtomicU64::new(0),
            oldest_queued_ns: AtomicU64::new(0),
            forwarding,
        }
    }

    pub(crate) fn mark_oldest(&self, queued_at: Option<QueuedAt>) {
        let ns = queued_at.map_or(0, QueuedAt::as_nonzero_nanos);
        self.oldest_queued_ns.store(ns, Relaxed);
    }

    pub(crate) fn snapshot(&self, name: &str, type_name: &str, queue_depth: usize) -> TargetStats {
        let oldest = self.oldest_queued_ns.load(Relaxed);
        let oldest_undelivered_age = (oldest != 0).then(|| QueuedAt::age_of(oldest));
        TargetStats {
            name: name.to_owned(),
            type_name: type_name.to_owned(),
            accepted: self.accepted.load(Relaxed),
            delivered: self.delivered.load(Relaxed),
            retried: self.retried.load(Relaxed),
            panicked: self.panicked.load(Relaxed),
            dead_lettered: self.dead_lettered.load(Relaxed),
            handed_back: self.handed_back.load(Relaxed),
            dropped_queue_full: self.dropped_queue_full.load(Relaxed),
            lost: self.lost.load(Relaxed),
            not_durable: self.not_durable.load(Relaxed),
            queue_depth: queue_depth as u64 + self.in_worker.load(Relaxed),
            oldest_undelivered_age,
            forwarding: self.forwarding.get().map(|f| f.stats()),
        }
    }
}

/// A snapshot of one target's counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetStats {
    /// Target instance name.
    pub name: String,
    /// Target type.
    pub type_name: String,
    /// Events this target's filter accepted (queued, or dropped by an explicit
    /// `on_full = "drop"` policy).
    pub accepted: u64,
    /// Events the target durably took.
    pub delivered: u64,
    /// Events sent again after a retryable error (one count per event per retry).
    pub retried: u64,
    /// Calls of the target (`send`, `flush`, `shutdown`) that panicked. Each is caught
    /// and answered like a retryable error (a `send` is retried with backoff); the
    /// first panic at each place is printed by the panic hook and logged at ERROR with
    /// the target's name, the rest only counted here (see [`Target`](crate::Target),
    /// "No panics").
    pub panicked: u64,
    /// Events written to the dead-letter file (permanent errors, retry limit, shutdown
    /// deadline). Counted as "failed".
    pub dead_lettered: u64,
    /// Events the target could not take now, for a reason that may go away (an
    /// operator can fix it), handed back to the acknowledged emit waiting for them,
    /// whose emitter sends them again later (not dead-lettered; see
    /// [`FailureKind::RetryLater`](crate::FailureKind::RetryLater)).
    pub handed_back: u64,
    /// Events not queued because the queue was full and `on_full = "drop"`.
    pub dropped_queue_full: u64,
    /// Events that could not even be written to the dead-letter file (logged with
    /// their ids at error level). Should always be 0.
    pub lost: u64,
    /// Of `delivered`, the events the target's destination answered taken but not on
    /// stable storage (an event server's `durable: false` to a target with
    /// [`Durability::PerAnswer`](crate::Durability::PerAnswer), see
    /// [`Target::taken_not_durable`](crate::Target::taken_not_durable)). A power loss
    /// there may lose them. For a forwarding target, what its final destination
    /// answered so is `forwarding.not_durable`.
    pub not_durable: u64,
    /// Events accepted but not yet delivered or dead-lettered.
    pub queue_depth: u64,
    /// Age of the oldest undelivered event the worker holds (None when idle).
    #[serde(with = "opt_millis")]
    pub oldest_undelivered_age: Option<Duration>,
    /// For a target that forwards from a store of its own (see
    /// [`Target::forwarding`](crate::Target::forwarding)): where the events it took
    /// stand. `delivered` above then means "durably taken", not "at the final
    /// destination".
    pub forwarding: Option<ForwardingStats>,
}

impl TargetStats {
    /// Logs the counters as one `tracing` event at `level` with one field per counter
    /// (`target_name`, `target_type`, `accepted`, `delivered`, `retried`, `panicked`,
    /// `dead_lettered`, `handed_back`, `dropped_queue_full`, `lost`, `not_durable`, `queue_depth`,
    /// `oldest_undelivered_ms`, and for a forwarding target `spool_pending_events`,
    /// `spool_bytes`, `forwarded`, `forwarded_not_durable`, `forward_dead_lettered`, `forward_retries`,
    /// `spool_damaged_ranges`, `spool_damaged_bytes`, `spool_lost_segments`,
    /// `spool_lost_events`, `spool_lost_bytes`), so that log pipelines can read
    /// each one (no Debug dump).
    pub fn log(&self, level: tracing::Level, message: &str) {
        let oldest_ms = self.oldest_undelivered_age.map(|d| d.as_millis() as u64);
        let f = self.forwarding.clone().unwrap_or_default();
        let forwarding = self.forwarding.is_some();
        macro_rules! at {
            ($lvl:expr) => {
                tracing::event!(
                    $lvl,
                    target_name = %self.name,
                    target_type = %self.type_name,
                    accepted = self.accepted,
                    delivered = self.delivered,
                    retried = self.retried,
                    panicked = self.panicked,
                    dead_lettered = self.dead_lettered,
                    handed_back = self.handed_back,
                    dropped_queue_full = self.dropped_queue_full,
                    lost = self.lost,
                    not_durable = self.not_durable,
                    queue_depth = self.queue_depth,
                    oldest_undelivered_ms = oldest_ms,
                    spool_pending_events = forwarding.then_some(f.pending_events),
                    spool_bytes = forwarding.then_some(f.pending_bytes),
                    forwarded = forwarding.then_some(f.forwarded),
                    forwarded_not_durable = forwarding.then_some(f.not_durable),
                    forward_dead_lettered = forwarding.then_some(f.dead_lettered),
                    forward_retries = forwarding.then_some(f.retries),
                    spool_damaged_ranges = forwarding.then_some(f.damaged_ranges),
                    spool_damaged_bytes = forwarding.then_some(f.damaged_bytes),
                    spool_lost_segments = forwarding.then_some(f.lost_segments),
                    spool_lost_events = forwarding.then_some(f.lost_events),
                    spool_lost_bytes = forwarding.then_some(f.lost_bytes),
                    "{message}"
                )
            };
        }
        match level {
            tracing::Level::ERROR => at!(tracing::Level::ERROR),
            tracing::Level::WARN => at!(tracing::Level::WARN),
            tracing::Level::INFO => at!(tracing::Level::INFO),
            tracing::Level::DEBUG => at!(tracing::Level::DEBUG),
            _ => at!(tracing::Level::TRACE),
        }
    }

    /// `accepted` minus everything settled (delivered, dead-lettered, dropped, lost):
    /// what is still on its way.
    pub fn pending(&self) -> u64 {
        self.accepted.saturating_sub(
            self.delivered
                + self.dead_lettered
                + self.handed_back
                + self.dropped_queue_full
                + self.lost,
        )
    }
}

mod opt_millis {
    use std::time::Duration;
    pub(super) fn serialize<S: serde::Serializer>(
        d: &Option<Duration>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&(d.as_millis() as u64)),
            None => s.serialize_none(),
        }
    }
}
