//! Events dated past a store's retention, refused at ingest. Partitions are folders of
//! the event's own time, so an event whose partition already ended before retention's
//! cut-off (a node whose clock is days behind: a dead RTC, a VM restored from a
//! snapshot, a clock set back by hand) would be answered `200 durable` and deleted by
//! the store's very next retention pass (at start, or within ten minutes), with no
//! word to the node: an acknowledged event lost because of its timestamp. Refused
//! instead (400 `timestamp_past_retention`), the node keeps it (its dead letters) and
//! the error says what to fix. The same rule as Kafka's
//! `message.timestamp.before.max.ms` (KIP-937) and Loki's `reject_old_samples`, with
//! the bound each store's own retention.

use auditrail_core::Timestamp;

/// An event that a store's next retention pass would delete at once.
#[derive(Debug, Clone)]
pub(crate) struct PastRetention {
    /// The event's timestamp.
    pub timestamp: Timestamp,
    /// The store's `retention`, as written (`30d`).
    pub retention: String,
    /// The end of the time partition the event would be filed in.
    pub partition_end: Timestamp,
    /// Retention's cut-off: partitions that ended at or before it are deleted.
    pub cut_off: Timestamp,
}

impl PastRetention {
    /// The refusal's message, for the store destination `store`.
    pub(crate) fn describe(&self, store: &str) -> String {
        format!(
            "timestamp {} is past the retention of the store destination {store:?} \
             (retention = {:?}: its time partition ended at {}, not after the cut-off {}): \
             the store would delete it at its next retention pass, so it is not stored; \
             fix the sending node's clock, or send events this old to a store that keeps \
             them longer",
            self.timestamp, self.retention, self.partition_end, self.cut_off
        )
    }

    /// The refusal's message for an event a Kafka source read, whose partition store
    /// (and every destination of the server that takes it) would delete at its next
    /// pass.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn describe_for_partition_store(&self) -> String {
        format!(
            "timestamp {} is past the retention of the partition store (the source's \
             retention = {:?}: its time partition ended at {}, not after the cut-off {}): \
             the store would delete it at its next retention pass, so it is not stored; \
             fix the producing node's clock, or store events this old with a longer \
             retention",
            self.timestamp, self.retention, self.partition_end, self.cut_off
        )
    }
}
