//! Counters of one eventserver target. The target owns them: a program reads them
//! through the target itself ([`EventServerTarget::metrics`]) or, once the target is
//! inside a dispatcher, through its forwarding probe (`Dispatcher::stats`, the node's
//! metrics endpoint). Logged at shutdown.
//!
//! [`EventServerTarget::metrics`]: crate::EventServerTarget::metrics

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

use serde::Serialize;

/// Live counters of one target.
#[derive(Debug, Default)]
pub struct Metrics {
    spooled_events: AtomicU64,
    spool_bytes: AtomicU64,
    spool_full_refusals: AtomicU64,
    requests: AtomicU64,
    sent_events: AtomicU64,
    accepted: AtomicU64,
    duplicates: AtomicU64,
    retries: AtomicU64,
    dead_lettered: AtomicU64,
    corrupt_segments: AtomicU64,
    damaged_ranges: AtomicU64,
    damaged_bytes: AtomicU64,
    torn_tails_cut: AtomicU64,
    lost_segments: AtomicU64,
    lost_records: AtomicU64,
    lost_bytes: AtomicU64,
    not_durable: AtomicU64,
    not_durable_seen: std::sync::atomic::AtomicBool,
    /// The last answer was a success that is not the event server's (logged once per
    /// streak).
    foreign_streak: std::sync::atomic::AtomicBool,
}

/// A copy of a target's counters.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MetricsSnapshot {
    /// Events appended to the spool.
    pub spooled_events: u64,
    /// Bytes of spool segment files now.
    pub spool_bytes: u64,
    /// `send` calls refused because the spool was full.
    pub spool_full_refusals: u64,
    /// HTTP requests answered `200` with the event server's answer to the batch (a
    /// success answer that is not the server's counts as a retry, not here).
    pub requests: u64,
    /// Events the server acknowledged (accepted + duplicates).
    pub sent_events: u64,
    /// Events the server newly stored.
    pub accepted: u64,
    /// Events the server already had (resends).
    pub duplicates: u64,
    /// Requests that failed retryably and were sent again (including success answers
    /// that were not the event server's).
    pub retries: u64,
    /// Events refused for good and written to the dead-letter file.
    pub dead_lettered: u64,
    /// Spool segments in which damaged bytes were found.
    pub corrupt_segments: u64,
    /// Damaged ranges found in the spool (skipped, kept in side files).
    pub damaged_ranges: u64,
    /// Bytes of those ranges.
    pub damaged_bytes: u64,
    /// Torn tails cut when the spool was opened.
    pub torn_tails_cut: u64,
    /// Spool segment files that went away (deleted, moved away or replaced by another
    /// file by hand) while holding records not yet acknowledged: those records are
    /// lost.
    pub lost_segments: u64,
    /// Records lost with them, where the spool knew them (a segment that went away
    /// while the spool was open); a segment found missing at start counts in
    /// `lost_segments` only, its records were never read.
    pub lost_records: u64,
    /// Bytes of those records, likewise.
    pub lost_bytes: u64,
    /// Events the server acknowledged as not on its stable storage (its `notDurable`, or a
    /// whole request answered `durable: false` without it; among `sent_events`): on
    /// its side in a page cache only when it answered (a destination with a flush
    /// policy or without fsync), so a power loss of the server may lose them.
    pub not_durable: u64,
}

impl Metrics {
    pub(crate) fn spooled(&self, events: u64, bytes: u64) {
        self.spooled_events.fetch_add(events, Relaxed);
        self.spool_bytes.store(bytes, Relaxed);
    }
    pub(crate) fn set_spool_bytes(&self, bytes: u64) {
        self.spool_bytes.store(bytes, Relaxed);
    }
    pub(crate) fn spool_full(&self) {
        self.spool_full_refusals.fetch_add(1, Relaxed);
    }
    pub(crate) fn delivered(&self, events: u64, accepted: u64, duplicates: u64) {
        self.requests.fetch_add(1, Relaxed);
        self.sent_events.fetch_add(events, Relaxed);
        self.accepted.fetch_add(accepted, Relaxed);
        self.duplicates.fetch_add(duplicates, Relaxed);
    }
    /// `events` acknowledged with `durable: false`; true the first time only (to
    /// warn once).
    pub(crate) fn note_not_durable(&self, events: u64) -> bool {
        self.not_durable.fetch_add(events, Relaxed);
        !self.not_durable_seen.swap(true, Relaxed)
    }
    /// A success answer that is not the event server's: true when it starts a streak
    /// (to log once, not per retry).
    pub(crate) fn foreign_answer(&self) -> bool {
        !self.foreign_streak.swap(true, Relaxed)
    }
    /// The event server's own success answer: true when it ends a streak of foreign
    /// ones.
    pub(crate) fn servers_answer(&self) -> bool {
        self.foreign_streak.swap(false, Relaxed)
    }
    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Relaxed);
    }
    pub(crate) fn dead_lettered(&self, events: u64) {
        self.dead_lettered.fetch_add(events, Relaxed);
    }
    pub(crate) fn damaged(&self, bytes: u64, new_segment: bool) {
        self.damaged_ranges.fetch_add(1, Relaxed);
        self.damaged_bytes.fetch_add(bytes, Relaxed);
        if new_segment {
            self.corrupt_segments.fetch_add(1, Relaxed);
        }
    }
    pub(crate) fn torn_tail_cut(&self) {
        self.torn_tails_cut.fetch_add(1, Relaxed);
    }
    pub(crate) fn segments_lost(&self, segments: u64, records: u64, bytes: u64) {
        self.lost_segments.fetch_add(segments, Relaxed);
        self.lost_records.fetch_add(records, Relaxed);
        self.lost_bytes.fetch_add(bytes, Relaxed);
    }

    /// A copy of the counters.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            spooled_events: self.spooled_events.load(Relaxed),
            spool_bytes: self.spool_bytes.load(Relaxed),
            spool_full_refusals: self.spool_full_refusals.load(Relaxed),
            requests: self.requests.load(Relaxed),
            sent_events: self.sent_events.load(Relaxed),
            accepted: self.accepted.load(Relaxed),
            duplicates: self.duplicates.load(Relaxed),
            retries: self.retries.load(Relaxed),
            dead_lettered: self.dead_lettered.load(Relaxed),
            corrupt_segments: self.corrupt_segments.load(Relaxed),
            damaged_ranges: self.damaged_ranges.load(Relaxed),
            damaged_bytes: self.damaged_bytes.load(Relaxed),
            torn_tails_cut: self.torn_tails_cut.load(Relaxed),
            lost_segments: self.lost_segments.load(Relaxed),
            lost_records: self.lost_records.load(Relaxed),
            lost_bytes: self.lost_bytes.load(Relaxed),
            not_durable: self.not_durable.load(Relaxed),
        }
    }
}
