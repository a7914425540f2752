//! The families read at scrape time: every number of the `/v1/stats` [`Snapshot`], plus
//! gauges of the process (free disk, batches in progress, body memory).
//!
//! Cardinality: destinations and stores are bounded by the config. Nodes and topics
//! are whatever clients send (a node id or topic is any valid name, and nothing
//! bounds how many a key may use), so their series are kept for the first
//! [`MAX_LABEL_VALUES`] by name and `auditrail_server_nodes` / `auditrail_server_topics`
//! tell how many there are: a fleet of a few hundred nodes is fully visible, and a
//! client inventing ids cannot grow the scrape without bound. Names in order, not the
//! "most interesting" ones: a node's series must not come and go between scrapes.

use std::fmt;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeMetric,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Unit;

use crate::dedup::NodeStats;
use crate::snapshot::{DestinationStats, Forwarding, Snapshot, StoreUsage, WitnessTarget};
use crate::stats::Counts;

/// Series kept per family for nodes, and for topics.
pub(crate) const MAX_LABEL_VALUES: usize = 1000;

/// Gauges of the process, read with the snapshot.
#[derive(Debug, Clone, Default)]
pub(crate) struct Gauges {
    /// Free bytes on the data folder's file system (`None`: cannot be read).
    pub(crate) disk_available_bytes: Option<u64>,
    /// Ingest batches being processed.
    pub(crate) batches_in_progress: u64,
    /// Memory counted for request bodies in flight.
    pub(crate) body_memory_bytes: u64,
    /// Its budget (`max_body_memory_bytes`).
    pub(crate) body_memory_limit_bytes: u64,
}

/// Encodes one snapshot (a collector per scrape: it owns what it encodes).
#[derive(Debug)]
pub(crate) struct ServerCollector {
    snapshot: Snapshot,
    gauges: Gauges,
}

impl ServerCollector {
    pub(crate) fn new(snapshot: Snapshot, gauges: Gauges) -> ServerCollector {
        ServerCollector { snapshot, gauges }
    }
}

/// Label pairs of one sample.
type Labels<'a> = Vec<(&'static str, &'a str)>;

impl Collector for ServerCollector {
    fn encode(&self, mut enc: DescriptorEncoder<'_>) -> fmt::Result {
        let s = &self.snapshot;
        gauge(
            &mut enc,
            "auditrail_server_start_time",
            "Unix time the server started; /v1/stats since.",
            Some(&Unit::Seconds),
            s.since.unix_millis() as f64 / 1000.0,
        )?;
        self.nodes(&mut enc)?;
        self.topics(&mut enc)?;
        self.destinations(&mut enc)?;
        self.stores(&mut enc)?;
        self.witnesses(&mut enc)?;
        self.process(&mut enc)
    }
}

impl ServerCollector {
    fn nodes(&self, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
        let all = &self.snapshot.nodes;
        gauge(
            enc,
            "auditrail_server_nodes",
            "Nodes the server remembers (stored events of); the per-node series cover the \
             first 1000 by id, /v1/stats every one, a page at a time. /v1/stats nodesTracked.",
            None,
            self.snapshot.nodes_tracked,
        )?;
        counter(
            enc,
            "auditrail_server_nodes_forgotten",
            "Nodes forgotten to bound the per-node table (the least recently stored first); \
             /v1/stats nodesForgotten.nodes.",
            self.snapshot.nodes_forgotten.nodes,
        )?;
        counter(
            enc,
            "auditrail_server_nodes_forgotten_events_stored",
            "Events stored of the nodes forgotten (their counts when forgotten); /v1/stats \
             nodesForgotten.events.",
            self.snapshot.nodes_forgotten.events,
        )?;
        let nodes: Vec<&NodeStats> = all.values().take(MAX_LABEL_VALUES).collect();
        let per = |f: fn(&NodeStats) -> u64| {
            nodes
                .iter()
                .map(move |n| (vec![("node", n.node.as_str())], f(n)))
        };
        counters(
            enc,
            "auditrail_server_node_events_stored",
            "Events of the node stored (rebuilt from the stores on start); /v1/stats \
             nodes.*.count.",
            None,
            per(|n| n.count),
        )?;
        gauges(
            enc,
            "auditrail_server_node_last_seen_timestamp",
            "Unix time the server last stored an event of the node.",
            Some(&Unit::Seconds),
            nodes.iter().filter_map(|n| {
                let t = n.last_seen?;
                Some((
                    vec![("node", n.node.as_str())],
                    t.unix_millis() as f64 / 1000.0,
                ))
            }),
        )?;
        gauges(
            enc,
            "auditrail_server_node_highest_contiguous_seq",
            "Highest seq up to which every seq of the node is stored.",
            None,
            per(|n| n.highest_contiguous_seq),
        )?;
        gauges(
            enc,
            "auditrail_server_node_highest_seq",
            "Highest seq of the node stored.",
            None,
            per(|n| n.highest_seq),
        )?;
        gauges(
            enc,
            "auditrail_server_node_sequence_missing",
            "Sequence numbers missing below the highest stored (abandoned ones excluded).",
            None,
            per(|n| n.missing),
        )?;
        gauges(
            enc,
            "auditrail_server_node_sequence_jumps",
            "Gaps of the node longer than 2^24 numbers: jumps of its seq, not counted as missing.",
            None,
            per(|n| n.seq_jumps.len() as u64),
        )?;
        gauges(
            enc,
            "auditrail_server_node_sequence_deleted",
            "Sequence numbers whose events were stored, then deleted by retention (not missing).",
            None,
            per(|n| n.deleted),
        )?;
        gauges(
            enc,
            "auditrail_server_node_sequence_abandoned",
            "Sequence numbers a crashed run of the node reserved and never used.",
            None,
            per(|n| n.abandoned),
        )?;
        counters(
            enc,
            "auditrail_server_node_gaps_forgotten",
            "Gaps of the node given up to bound memory (no longer reported as missing).",
            None,
            per(|n| n.forgotten_gaps),
        )?;
        counters(
            enc,
            "auditrail_server_node_events_duplicate",
            "Events of the node recognised as duplicates.",
            None,
            per(|n| n.duplicates),
        )?;
        counters(
            enc,
            "auditrail_server_node_seq_reused",
            "Events of the node admitted whose seq was already covered.",
            None,
            per(|n| n.seq_reused),
        )
    }

    fn topics(&self, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
        let all = &self.snapshot.topics;
        gauge(
            enc,
            "auditrail_server_topics",
            "Topics received since start that the server remembers (at most \
             max_tracked_topics); the per-topic series cover the first 1000 by name.",
            None,
            all.len() as u64,
        )?;
        let forgotten = self.snapshot.topics_forgotten;
        counter(
            enc,
            "auditrail_server_topics_forgotten",
            "Topics forgotten to bound the per-topic table (the least recently seen \
             first); /v1/stats topicsForgotten.topics.",
            forgotten.topics,
        )?;
        counter(
            enc,
            "auditrail_server_topics_forgotten_events_accepted",
            "Events newly stored of the topics forgotten (their counts when forgotten); \
             /v1/stats topicsForgotten.accepted.",
            forgotten.accepted,
        )?;
        counter(
            enc,
            "auditrail_server_topics_forgotten_events_duplicate",
            "Duplicates of the topics forgotten (their counts when forgotten); /v1/stats \
             topicsForgotten.duplicates.",
            forgotten.duplicates,
        )?;
        let topics: Vec<(&String, &Counts)> = all.iter().take(MAX_LABEL_VALUES).collect();
        let per = |f: fn(&Counts) -> u64| {
            topics
                .iter()
                .map(move |(t, c)| (vec![("topic", t.as_str())], f(c)))
        };
        counters(
            enc,
            "auditrail_server_topic_events_accepted",
            "Events of the topic newly stored since start.",
            None,
            per(|c| c.accepted),
        )?;
        counters(
            enc,
            "auditrail_server_topic_events_duplicate",
            "Events of the topic received again after they were stored, since start.",
            None,
            per(|c| c.duplicates),
        )?;
        gauges(
            enc,
            "auditrail_server_topic_last_seen_timestamp",
            "Unix time the server last received an event of the topic.",
            Some(&Unit::Seconds),
            topics.iter().filter_map(|(t, c)| {
                let at = c.last_seen?;
                Some((
                    vec![("topic", t.as_str())],
                    at.unix_millis() as f64 / 1000.0,
                ))
            }),
        )
    }

    fn destinations(&self, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
        let all = &self.snapshot.destinations;
        fn labels(d: &DestinationStats) -> Labels<'_> {
            vec![
                ("destination", d.name.as_str()),
                ("type", d.type_name.as_str()),
            ]
        }
        let per = |f: fn(&DestinationStats) -> u64| all.iter().map(move |d| (labels(d), f(d)));
        counters(
            enc,
            "auditrail_server_destination_events_accepted",
            "Events the destination's filter accepted.",
            None,
            per(|d| d.accepted),
        )?;
        counters(
            enc,
            "auditrail_server_destination_events_delivered",
            "Events the destination durably took.",
            None,
            per(|d| d.delivered),
        )?;
        counters(
            enc,
            "auditrail_server_destination_events_retried",
            "Events sent to the destination again after a retryable error.",
            None,
            per(|d| d.retried),
        )?;
        counters(
            enc,
            "auditrail_server_destination_events_dead_lettered",
            "Events written to the destination's dead-letter file.",
            None,
            per(|d| d.dead_lettered),
        )?;
        counters(
            enc,
            "auditrail_server_destination_events_handed_back",
            "Events the destination could not take now (a cause an operator can fix, e.g. a \
             store folder the server may not write), answered to their senders as refused for \
             now (503 refused_for_now) instead of dead-lettered.",
            None,
            per(|d| d.handed_back),
        )?;
        counters(
            enc,
            "auditrail_server_destination_events_dropped",
            "Events given up without a dead-letter line, by reason: queue_full (on_full = \
             \"drop\"), dead_letter_failed (the dead-letter file could not be written), \
             spool_lost (lost from a forwarding destination's spool: its files removed or \
             cut by hand; destinations with a spool only). The last two are /v1/stats lost.",
            None,
            all.iter().flat_map(|d| {
                let spool_lost = d.forwarding.as_ref().map(|f| ("spool_lost", f.lost_events));
                [
                    Some(("queue_full", d.dropped_queue_full)),
                    Some(("dead_letter_failed", d.dead_letter_failed)),
                    spool_lost,
                ]
                .into_iter()
                .flatten()
                .map(|(reason, n)| {
                    let mut l = labels(d);
                    l.push(("reason", reason));
                    (l, n)
                })
            }),
        )?;
        gauges(
            enc,
            "auditrail_server_destination_queue_depth",
            "Events accepted by the destination and not yet delivered or dead-lettered.",
            None,
            per(|d| d.queue_depth),
        )?;
        gauges(
            enc,
            "auditrail_server_destination_oldest_undelivered_age",
            "Age of the oldest event the destination's worker holds undelivered (0 when \
             idle).",
            Some(&Unit::Seconds),
            all.iter().map(|d| {
                (
                    labels(d),
                    d.oldest_undelivered_ms.unwrap_or(0) as f64 / 1000.0,
                )
            }),
        )?;
        // Only destinations that forward from a spool of their own (an `eventserver`
        // destination relaying to another server) have these.
        let fwd: Vec<(Labels<'_>, &Forwarding)> = all
            .iter()
            .filter_map(|d| Some((labels(d), d.forwarding.as_ref()?)))
            .collect();
        if fwd.is_empty() {
            return Ok(());
        }
        let per = |f: fn(&Forwarding) -> u64| fwd.iter().map(move |(l, x)| (l.clone(), f(x)));
        gauges(
            enc,
            "auditrail_server_destination_spool_pending_events",
            "Events in the destination's spool not yet confirmed downstream.",
            None,
            per(|f| f.pending_events),
        )?;
        gauges(
            enc,
            "auditrail_server_destination_spool",
            "Size of the destination's spool files.",
            Some(&Unit::Bytes),
            per(|f| f.pending_bytes),
        )?;
        counters(
            enc,
            "auditrail_server_destination_events_forwarded",
            "Events the final destination confirmed.",
            None,
            per(|f| f.forwarded),
        )?;
        counters(
            enc,
            "auditrail_server_destination_forward_events_dead_lettered",
            "Events the final destination refused for good (the spool's dead-letter file).",
            None,
            per(|f| f.dead_lettered),
        )?;
        counters(
            enc,
            "auditrail_server_destination_forward_retries",
            "Forwarding requests that failed retryably and were made again.",
            None,
            per(|f| f.retries),
        )?;
        counters(
            enc,
            "auditrail_server_destination_spool_damaged_ranges",
            "Damaged byte ranges found in the spool.",
            None,
            per(|f| f.damaged_ranges),
        )?;
        counters(
            enc,
            "auditrail_server_destination_spool_damaged",
            "Bytes of the damaged ranges found in the spool.",
            Some(&Unit::Bytes),
            per(|f| f.damaged_bytes),
        )?;
        // The events lost are in `..._events_dropped_total{reason="spool_lost"}`; a
        // segment found missing at start was never read, so only these count it.
        counters(
            enc,
            "auditrail_server_destination_spool_lost_segments",
            "Spool segment files found deleted, moved, replaced or cut (truncated) by hand \
             while holding events the next hop had not confirmed: those events are lost \
             (counted in auditrail_server_destination_events_dropped_total{reason=\"spool_lost\"} \
             where known; see the spool's lost.jsonl).",
            None,
            per(|f| f.lost_segments),
        )?;
        counters(
            enc,
            "auditrail_server_destination_spool_lost",
            "Bytes of the events lost with those segments, where known.",
            Some(&Unit::Bytes),
            per(|f| f.lost_bytes),
        )
    }

    fn stores(&self, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
        let all = &self.snapshot.stores;
        let per = |f: fn(&StoreUsage) -> u64| {
            all.iter()
                .map(move |(name, s)| (vec![("destination", name.as_str())], f(s)))
        };
        // The retention counters: the `store` destinations', then those of the Kafka
        // sources' partition stores open here (labelled as the consumer lag is).
        let parts = &self.snapshot.partition_retention;
        let retained = |f: fn(&StoreUsage) -> u64| {
            per(f).chain(parts.iter().map(move |p| {
                (
                    vec![
                        ("source", p.source.as_str()),
                        ("topic", p.topic.as_str()),
                        ("partition", p.partition.as_str()),
                    ],
                    f(&p.usage),
                )
            }))
        };
        gauges(
            enc,
            "auditrail_server_store",
            "Size of the files under the store's folder (walked at most every 30 s).",
            Some(&Unit::Bytes),
            per(|s| s.bytes),
        )?;
        gauges(
            enc,
            "auditrail_server_store_files",
            "Files under the store's folder (walked at most every 30 s).",
            None,
            per(|s| s.files),
        )?;
        counters(
            enc,
            "auditrail_server_store_batches",
            "Batches the store committed since it was opened.",
            None,
            per(|s| s.batches),
        )?;
        counters(
            enc,
            "auditrail_server_store_records",
            "Records the store wrote since it was opened.",
            None,
            per(|s| s.records),
        )?;
        counters(
            enc,
            "auditrail_server_store_written",
            "Bytes the store appended since it was opened.",
            Some(&Unit::Bytes),
            per(|s| s.bytes_written),
        )?;
        counters(
            enc,
            "auditrail_server_store_fsync",
            "fsync calls of the store's segment files.",
            None,
            per(|s| s.fsyncs),
        )?;
        counters(
            enc,
            "auditrail_server_store_fsync",
            "Time spent in those fsyncs (divided by auditrail_server_store_fsync_total: \
             the mean latency).",
            Some(&Unit::Seconds),
            all.iter()
                .map(|(name, s)| (vec![("destination", name.as_str())], s.fsync_seconds)),
        )?;
        counters(
            enc,
            "auditrail_server_store_write_errors",
            "Store batches that failed (disk full included) and were undone.",
            None,
            per(|s| s.write_errors),
        )?;
        counters(
            enc,
            "auditrail_server_store_disk_full_errors",
            "Of those, the batches that failed because the disk was full.",
            None,
            per(|s| s.disk_full_errors),
        )?;
        counters(
            enc,
            "auditrail_server_store_events_refused",
            "Events left out of their batch (the rest written) because their partition folder \
             could not be made or written: for good (422 unstorable) or until an operator fixes \
             it (503 refused_for_now).",
            None,
            per(|s| s.events_refused),
        )?;
        counters(
            enc,
            "auditrail_server_store_torn_tails_cut",
            "Torn tails cut when the store was opened (a crash mid-write).",
            None,
            per(|s| s.torn_tails_cut),
        )?;
        counters(
            enc,
            "auditrail_server_store_records_cut",
            "Records cut after a chain gap when the store was opened.",
            None,
            per(|s| s.records_cut),
        )?;
        counters(
            enc,
            "auditrail_server_store_records_gone",
            "Retried events whose record the store no longer held where it wrote it (its \
             segment file or partition folder removed, moved, replaced or cut by hand): stored \
             again instead of answered as duplicates.",
            None,
            per(|s| s.records_gone),
        )?;
        counters(
            enc,
            "auditrail_server_store_retention_runs",
            "Retention passes that deleted time partitions (each recorded in the \
             store's signed checkpoint log). A store destination's are labelled \
             `destination`; a Kafka source's partition store's, open on this server, \
             `source`, `topic`, `partition` (since it was opened here).",
            None,
            retained(|s| s.retention_runs),
        )?;
        counters(
            enc,
            "auditrail_server_store_retention_partitions_deleted",
            "Time partition folders deleted by retention.",
            None,
            retained(|s| s.retention_partitions_deleted),
        )?;
        counters(
            enc,
            "auditrail_server_store_retention_records_deleted",
            "Records deleted by retention.",
            None,
            retained(|s| s.retention_records_deleted),
        )?;
        counters(
            enc,
            "auditrail_server_store_retention_deleted",
            "Bytes of segment files deleted by retention.",
            Some(&Unit::Bytes),
            retained(|s| s.retention_bytes_deleted),
        )?;
        counters(
            enc,
            "auditrail_server_store_retention_archive_failures",
            "Retention passes that deleted nothing because copying the partitions to \
             the store's archive (or reading them back) failed, or the archive was \
             refused (another store's prefix, an object there with other bytes); retried \
             at the next check.",
            None,
            retained(|s| s.retention_archive_failures),
        )?;
        counters(
            enc,
            "auditrail_server_store_retention_failures",
            "Retention passes that failed, for any reason (archive failures included): a \
             partition file that could not be removed (the other partitions of the pass \
             are removed), the deletion line that could not be written...; logged at \
             ERROR, retried at the next check. A partition whose deletion is signed and \
             whose files stay is still answered by queries.",
            None,
            retained(|s| s.retention_failures),
        )?;
        gauges(
            enc,
            "auditrail_server_store_retention_partitions_unremovable",
            "Partitions due that the store's last retention pass left out because their \
             files cannot be removed (a folder made read-only, an immutable file, a \
             read-only mount): not deleted, in no signed deletion line; the pass fails \
             (retention_failures) after deleting the rest, and the next one tries them \
             again. 0 once a pass removes them.",
            None,
            retained(|s| s.retention_partitions_unremovable),
        )?;
        gauges(
            enc,
            "auditrail_server_store_retention_partitions_misplaced",
            "Partitions due that the store's last retention pass left out for holding a \
             record that does not belong in their folder (moved there by hand: `auditrail \
             verify` names it, misplaced-record): kept, in no signed deletion line, until \
             an operator looks.",
            None,
            retained(|s| s.retention_partitions_misplaced),
        )?;
        gauges(
            enc,
            "auditrail_server_store_retention_blocked",
            "1 while the store's retention deletes nothing because its newest deletion was \
             archived and its config has no `archive` (a deletion now would keep no copy; \
             logged at ERROR each check); 0 otherwise. Give the store its `archive` again, or \
             record a deletion without a copy with `store prune --no-archive`.",
            None,
            retained(|s| u64::from(s.retention_blocked)),
        )?;
        gauges(
            enc,
            "auditrail_server_store_held",
            "1 while the store is held: its checks at start (checkpoint log, high-water \
             mark, chain) failed, or it could not be opened, so it takes no event (batches \
             routed to it are answered 503 store_held, queries leave it out) while the \
             other destinations go on; logged at ERROR at start. See to it (`auditrail \
             verify`, a file restored from backup, `auditrail store accept`), then send \
             SIGHUP (it is checked again and taken back if it passes) or start the server \
             again (a store that could not be opened needs a start). 0 otherwise.",
            None,
            per(|s| u64::from(s.held)),
        )?;
        gauges(
            enc,
            "auditrail_server_store_high_water_mark_unwritten",
            "1 while the store's checkpoint lines are written and its batches sealed and \
             acknowledged, but its high-water mark in the data folder cannot be written \
             (the data folder moved away, or refusing new files): a rollback of the store \
             at the next start is caught only up to the last mark written. Logged once \
             at ERROR when it starts (`writing a checkpoint failed`) and at INFO when it \
             ends; `/readyz` names it (high_water_mark_unwritten). 0 otherwise.",
            None,
            per(|s| u64::from(s.high_water_mark_unwritten)),
        )?;
        counters(
            enc,
            "auditrail_server_store_corrupt_files",
            "Segment files set aside as corrupt when the store was opened.",
            None,
            per(|s| s.corrupt_files),
        )
    }

    /// Only with `[[witnesses]]`.
    fn witnesses(&self, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
        let Some(w) = &self.snapshot.witnesses else {
            return Ok(());
        };
        gauge(
            enc,
            "auditrail_server_witness_lines_pending",
            "Checkpoint lines published and not yet durably taken by the witness \
             dispatcher (handed over one at a time, in log order).",
            None,
            w.pending_lines,
        )?;
        gauge(
            enc,
            "auditrail_server_witness_oldest_pending_age",
            "How long the oldest of those lines has waited (0 when none).",
            Some(&Unit::Seconds),
            w.oldest_pending_ms.unwrap_or(0) as f64 / 1000.0,
        )?;
        counter(
            enc,
            "auditrail_server_witness_lines_handed",
            "Checkpoint lines the witness dispatcher durably took.",
            w.lines_handed,
        )?;
        counter(
            enc,
            "auditrail_server_witness_lines_failed",
            "Checkpoint lines the witness dispatcher could not take, or took and then \
             a witness refused or a spool lost (the next start publishes again from the \
             first).",
            w.lines_failed,
        )?;
        counter(
            enc,
            "auditrail_server_witness_lines_caught_up",
            "Checkpoint lines published at start that were written while the server was \
             stopped.",
            w.lines_caught_up,
        )?;
        fn labels(t: &WitnessTarget) -> Labels<'_> {
            vec![("witness", t.name.as_str()), ("type", t.type_name.as_str())]
        }
        let all = &w.targets;
        let per = |f: fn(&WitnessTarget) -> u64| all.iter().map(move |t| (labels(t), f(t)));
        counters(
            enc,
            "auditrail_server_witness_events_delivered",
            "Checkpoint events the witness durably took (a spooling witness: into its spool).",
            None,
            per(|t| t.delivered),
        )?;
        counters(
            enc,
            "auditrail_server_witness_events_dead_lettered",
            "Checkpoint events written to the witness's dead-letter file.",
            None,
            per(|t| t.dead_lettered),
        )?;
        gauges(
            enc,
            "auditrail_server_witness_queue_depth",
            "Checkpoint events queued for the witness and not yet taken.",
            None,
            per(|t| t.queue_depth),
        )?;
        gauges(
            enc,
            "auditrail_server_witness_oldest_undelivered_age",
            "Age of the oldest checkpoint event queued for the witness (0 when idle).",
            Some(&Unit::Seconds),
            all.iter().map(|t| {
                (
                    labels(t),
                    t.oldest_undelivered_ms.unwrap_or(0) as f64 / 1000.0,
                )
            }),
        )?;
        gauges(
            enc,
            "auditrail_server_witness_spool_pending_events",
            "Checkpoint events in the witness's spool not yet confirmed by the witness \
             (witnesses that spool: type eventserver).",
            None,
            all.iter()
                .filter_map(|t| Some((labels(t), t.spool_pending_events?))),
        )?;
        counters(
            enc,
            "auditrail_server_witness_events_refused_by_witness",
            "Checkpoint events the witness refused for good after its spool took them \
             (the spool's dead-letter file; witnesses that spool: type eventserver): the \
             witness does not hold those lines.",
            None,
            all.iter()
                .filter_map(|t| Some((labels(t), t.refused_by_witness?))),
        )
    }

    fn process(&self, enc: &mut DescriptorEncoder<'_>) -> fmt::Result {
        let g = &self.gauges;
        if let Some(free) = g.disk_available_bytes {
            gauge(
                enc,
                "auditrail_server_disk_available",
                "Free bytes on the data folder's file system.",
                Some(&Unit::Bytes),
                free,
            )?;
        }
        gauge(
            enc,
            "auditrail_server_batches_in_progress",
            "Ingest batches being processed.",
            None,
            g.batches_in_progress,
        )?;
        gauge(
            enc,
            "auditrail_server_body_memory",
            "Memory counted for request bodies in flight (13 bytes per decoded body byte).",
            Some(&Unit::Bytes),
            g.body_memory_bytes,
        )?;
        gauge(
            enc,
            "auditrail_server_body_memory_limit",
            "The budget of auditrail_server_body_memory_bytes (max_body_memory_bytes).",
            Some(&Unit::Bytes),
            g.body_memory_limit_bytes,
        )
    }
}

/// A counter family with one sample per label set (`_total` is added by the encoder).
fn counters<'l, N: EncodeCounterValue>(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    samples: impl IntoIterator<Item = (Labels<'l>, N)>,
) -> fmt::Result {
    let mut family = enc.encode_descriptor(name, help, unit, MetricType::Counter)?;
    for (labels, n) in samples {
        ConstCounter::new(n).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

/// A gauge family with one sample per label set.
fn gauges<'l, N: EncodeGaugeValue>(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    samples: impl IntoIterator<Item = (Labels<'l>, N)>,
) -> fmt::Result {
    let mut family = enc.encode_descriptor(name, help, unit, MetricType::Gauge)?;
    for (labels, n) in samples {
        ConstGauge::new(n).encode(family.encode_family(&labels)?)?;
    }
    Ok(())
}

/// A counter without labels (`_total` is added by the encoder).
fn counter(enc: &mut DescriptorEncoder<'_>, name: &str, help: &str, value: u64) -> fmt::Result {
    ConstCounter::new(value).encode(enc.encode_descriptor(name, help, None, MetricType::Counter)?)
}

/// A gauge without labels.
fn gauge<N: EncodeGaugeValue>(
    enc: &mut DescriptorEncoder<'_>,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: N,
) -> fmt::Result {
    ConstGauge::new(value).encode(enc.encode_descriptor(name, help, unit, MetricType::Gauge)?)
}
