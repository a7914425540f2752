//! A source's counters for `GET /metrics` (prometheus-client; atomics, any thread).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::dedup::{Dedup, ForgottenNodes, NodeStats};

/// `topic` and `partition` of a partition's series.
pub(crate) type PartitionLabels = [(&'static str, String); 2];

/// The counters of one `[[sources]]` entry. Clones share the values.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceMetrics {
    name: String,
    /// Records read from Kafka (valid or not).
    pub(crate) records: Counter,
    /// Events newly stored in a partition store.
    pub(crate) stored: Counter,
    /// Events recognised as duplicates (stored before, in the same partition store).
    pub(crate) duplicates: Counter,
    /// Records that are not valid events (dead-lettered).
    pub(crate) invalid: Counter,
    /// Events the partition store refused for good (dead-lettered; the partition goes
    /// on).
    pub(crate) refused: Counter,
    /// Events dated past their partition store's retention, which its next pass would
    /// delete at once (dead-lettered; the partition goes on).
    pub(crate) past_retention: Counter,
    /// Records without a key, or whose key is not their event's node id.
    pub(crate) key_mismatch: Counter,
    /// Records no trusted key vouches for (dead-lettered).
    pub(crate) unverified: Counter,
    /// Batches refused because another server owns the partition store now.
    pub(crate) fenced: Counter,
    /// Records that came after offsets the consumer never delivered.
    pub(crate) offset_jumps: Counter,
    /// Partitions found not to be the one their store was filled from (read again).
    pub(crate) not_the_stored_partition: Counter,
    /// Batches a partition store could not write (retried).
    pub(crate) store_failures: Counter,
    /// Assignments and revocations handled.
    pub(crate) rebalances: Counter,
    /// 1 while the source's consumer thread runs, 0 once it stopped on a panic (the
    /// server then stores nothing more from this source: the health probe fails, so
    /// systemd's watchdog restarts the server).
    pub(crate) running: Gauge,
    /// Partitions the group assigned to this server.
    pub(crate) assigned: Gauge,
    /// Of those, partitions whose store is not open yet (being opened, locked by
    /// their previous owner, an I/O error): paused, retried.
    pub(crate) waiting: Gauge,
    /// Times an assigned partition's store began to wait for a place in the open-file
    /// budget (`slots.rs`): every place for an open partition store taken. One per
    /// wait, however many opens it tries.
    pub(crate) descriptor_waits: Counter,
    /// Of those, partitions whose store its integrity check refused: paused, not
    /// retried while assigned here (`held.rs`); listed for `/readyz`.
    pub(crate) held: super::held::HeldPartitions,
    /// Of those, partitions whose store is not open yet, and why (`waiting.rs`);
    /// listed by `/v1/checkpoints`.
    pub(crate) waiting_list: super::waiting::WaitingPartitions,
    /// librdkafka's `consumer_lag` per partition: the high watermark minus the
    /// committed offset (offsets are committed once stored).
    pub(crate) lag: Family<PartitionLabels, Gauge>,
    /// The de-duplication state of each open partition store (shared with it), for the
    /// per-node statistics of `/v1/stats` and `/metrics`.
    pub(crate) partitions: Arc<Mutex<BTreeMap<(String, i32), Dedup>>>,
}

/// The labels of a partition's series.
#[cfg(feature = "kafka")]
pub(crate) fn partition_labels(topic: &str, partition: i32) -> PartitionLabels {
    [
        ("topic", topic.to_owned()),
        ("partition", partition.to_string()),
    ]
}

impl SourceMetrics {
    /// Per node, what the open partition stores hold (a node's events are in one
    /// partition when producers key by node): the first `limit` of each partition
    /// whose ids sort after `after` (see [`Dedup::node_stats_after`]).
    pub(crate) fn node_stats_after(&self, after: Option<&str>, limit: usize) -> Vec<NodeStats> {
        self.partitions()
            .values()
            .flat_map(|d| d.node_stats_after(after, limit))
            .collect()
    }

    /// The ids of the nodes the open partition stores remember (a node may be in
    /// several).
    pub(crate) fn node_ids(&self) -> Vec<Arc<str>> {
        self.partitions()
            .values()
            .flat_map(Dedup::node_ids)
            .collect()
    }

    /// What the nodes forgotten by the open partition stores' tables had counted.
    pub(crate) fn forgotten_nodes(&self) -> ForgottenNodes {
        self.partitions()
            .values()
            .map(|d| d.node_table().1)
            .fold(ForgottenNodes::default(), ForgottenNodes::add)
    }

    fn partitions(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, i32), Dedup>> {
        self.partitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The source's name (`[[sources]]` `name`).
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// Whether the source's thread stopped on a panic (it was started and is no longer
    /// running; a source stopped by the server's shutdown keeps its 1).
    pub(crate) fn stopped(&self) -> bool {
        self.running.get() == 0
    }

    /// Empty counters of the source `name`.
    #[cfg(feature = "kafka")]
    pub(crate) fn new(name: &str) -> SourceMetrics {
        SourceMetrics {
            name: name.to_owned(),
            ..SourceMetrics::default()
        }
    }

    /// Adds this source's families to a scrape's registry, labelled `source`.
    pub(crate) fn register(&self, registry: &mut Registry) {
        let r = registry.sub_registry_with_label(("source".into(), self.name.clone().into()));
        r.register(
            "auditrail_kafka_source_records",
            "Records read from Kafka by the source, valid or not",
            self.records.clone(),
        );
        r.register(
            "auditrail_kafka_source_events_stored",
            "Events newly stored in the source's partition stores",
            self.stored.clone(),
        );
        r.register(
            "auditrail_kafka_source_events_duplicate",
            "Events read again after their partition store had them",
            self.duplicates.clone(),
        );
        r.register(
            "auditrail_kafka_source_invalid",
            "Records that are not valid events, or events dated further ahead than \
             max_timestamp_ahead_s (dead-lettered with topic, partition, offset and the reason)",
            self.invalid.clone(),
        );
        r.register(
            "auditrail_kafka_source_events_refused",
            "Events the partition store refuses for good (a partition folder the file system \
             will never make): dead-lettered with topic, partition, offset; the partition goes on",
            self.refused.clone(),
        );
        r.register(
            "auditrail_kafka_source_events_past_retention",
            "Events dated past their partition store's retention (its next pass would delete \
             them at once) and taken by none of the server's destinations: dead-lettered with \
             topic, partition, offset and the reason, not stored; the partition goes on",
            self.past_retention.clone(),
        );
        r.register(
            "auditrail_kafka_source_key_mismatch",
            "Records without a key or whose key is not their event's node id (a retry through \
             another path may land in another partition)",
            self.key_mismatch.clone(),
        );
        r.register(
            "auditrail_kafka_source_unverified",
            "Records no key of the source's signing_keys vouches for (unsigned while \
             accept_unsigned is off, a signature that does not verify, an unknown key id, a key \
             that may not write the event): dead-lettered with topic, partition, offset and the \
             reason, not stored; the partition goes on",
            self.unverified.clone(),
        );
        r.register(
            "auditrail_kafka_source_fenced_batches",
            "Batches refused because another server took the partition store over",
            self.fenced.clone(),
        );
        r.register(
            "auditrail_kafka_source_offset_jumps",
            "Records read after offsets that were never delivered (compaction, transaction \
             markers, retention, or a broker that skipped records): what they held is not \
             stored",
            self.offset_jumps.clone(),
        );
        r.register(
            "auditrail_kafka_source_partition_not_the_stored_one",
            "Times a partition held, below its store's resume offset, an event the store does \
             not have (topic deleted and created again, log truncated or reset): the events \
             were stored and the partition read again from its beginning; see the log",
            self.not_the_stored_partition.clone(),
        );
        r.register(
            "auditrail_kafka_source_store_failures",
            "Batches a partition store could not write (retried, nothing committed)",
            self.store_failures.clone(),
        );
        r.register(
            "auditrail_kafka_source_rebalances",
            "Partition assignments and revocations handled",
            self.rebalances.clone(),
        );
        r.register(
            "auditrail_kafka_source_running",
            "1 while the source's consumer thread runs; 0 once it stopped on a panic (its \
             partitions went back to the group; restart the server)",
            self.running.clone(),
        );
        r.register(
            "auditrail_kafka_source_partitions_assigned",
            "Partitions the group assigned to this server",
            self.assigned.clone(),
        );
        r.register(
            "auditrail_kafka_source_partitions_waiting",
            "Assigned partitions whose store is not open yet (being opened, locked by the \
             previous owner, an I/O error: see the log); paused and retried",
            self.waiting.clone(),
        );
        r.register(
            "auditrail_kafka_source_partition_waits_for_descriptors",
            "Times an assigned partition's store could not be opened because every place the \
             open-file budget keeps for partition stores was taken (over every source): it \
             waits, paused, until a store closes; named in /readyz's degraded while it waits. \
             One per wait, not per open tried",
            self.descriptor_waits.clone(),
        );
        r.register(
            "auditrail_kafka_source_partitions_held",
            "Assigned partitions whose store its integrity check refused (checkpoint log, \
             high-water mark or records do not match what was signed: see the log's ERROR): \
             paused, nothing stored or committed, not opened again until assigned again; \
             named in /readyz's held",
            self.held.gauge.clone(),
        );
        r.register(
            "auditrail_kafka_consumer_lag",
            "Per partition: the high watermark minus the committed offset (librdkafka's \
             consumer_lag, refreshed every statistics.interval.ms)",
            self.lag.clone(),
        );
    }
}
