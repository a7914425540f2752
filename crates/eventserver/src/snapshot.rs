//! The `GET /v1/stats` document, read at once from every part of the server. `/metrics`
//! encodes the same value (see [`crate::metrics`]), so every number here has a metric.
//!
//! One naming style: camelCase keys throughout (as the event protocol), units in the
//! key where a number has one (`oldestUndeliveredMs`, `fsyncSeconds`).

use std::collections::BTreeMap;

use auditrail_core::{ForwardingStats, TargetStats, Timestamp};
use auditrail_store::StoreStats;
use serde::Serialize;

use crate::dedup::{ForgottenNodes, NodeStats};
use crate::http::AppState;
use crate::stats::{Counts, ForgottenTopics};

/// Everything `/v1/stats` answers.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Snapshot {
    /// When the server started.
    pub(crate) since: Timestamp,
    /// Events newly stored since start.
    pub(crate) accepted: u64,
    /// Events answered as duplicates since start.
    pub(crate) duplicates: u64,
    /// Events refused since start because no destination takes them.
    pub(crate) unrouted: u64,
    /// Per node, rebuilt from the stores on start (so it covers everything stored):
    /// one page of them by id ([`NodePage`]).
    pub(crate) nodes: BTreeMap<String, NodeStats>,
    /// Nodes remembered (each of them on some page).
    pub(crate) nodes_tracked: u64,
    /// The `nodesAfter` of the next page; `null` on the last.
    pub(crate) nodes_next: Option<String>,
    /// What the nodes forgotten to bound the per-node table had counted.
    pub(crate) nodes_forgotten: ForgottenNodes,
    /// Per topic, since start (the topics remembered: at most `max_tracked_topics`).
    pub(crate) topics: BTreeMap<String, Counts>,
    /// What the topics forgotten to bound the per-topic table had counted.
    pub(crate) topics_forgotten: ForgottenTopics,
    /// Per destination, in configuration order.
    pub(crate) destinations: Vec<DestinationStats>,
    /// Per `store` destination: its folder and its writer's counters.
    pub(crate) stores: BTreeMap<String, StoreUsage>,
    /// Per partition store of a Kafka source with a retention, open here now: what
    /// the retention deleted since it was opened (only its `retention_*` counters are
    /// set). For `/metrics` (`/v1/stats` lists the stores a server is configured
    /// with, which partition stores are not: they come and go with the group).
    #[serde(skip)]
    pub(crate) partition_retention: Vec<PartitionRetention>,
    /// The `[[witnesses]]` (left out without them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) witnesses: Option<WitnessesUsage>,
}

/// Where the checkpoint lines for the `[[witnesses]]` stand: waiting to be taken by
/// the witness dispatcher (the publisher hands them over one at a time, in log order),
/// then in each witness's queue or spool until delivered.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WitnessesUsage {
    /// Lines published and not yet durably taken by the witness dispatcher.
    pub(crate) pending_lines: u64,
    /// How long the oldest of them has waited, in milliseconds; `null` when none.
    pub(crate) oldest_pending_ms: Option<u64>,
    /// Lines the witness dispatcher durably took (since start).
    pub(crate) lines_handed: u64,
    /// Lines it could not take (dead-lettered, dropped), or took and could not confirm
    /// as received (refused by a witness, lost from a spool); the next start publishes
    /// again from the first of them.
    pub(crate) lines_failed: u64,
    /// Lines published at start that were written while the server was stopped.
    pub(crate) lines_caught_up: u64,
    /// Per witness, in configuration order.
    pub(crate) targets: Vec<WitnessTarget>,
}

/// One witness: its queue, and for a witness that forwards from a spool (an
/// `eventserver` witness), what waits there.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WitnessTarget {
    pub(crate) name: String,
    #[serde(rename = "type")]
    pub(crate) type_name: String,
    /// Events it durably took (for a spooling witness: into its spool).
    pub(crate) delivered: u64,
    /// Events written to its dead-letter file.
    pub(crate) dead_lettered: u64,
    /// Events queued and not yet taken.
    pub(crate) queue_depth: u64,
    /// Age of the oldest of them, in milliseconds; `null` when idle.
    pub(crate) oldest_undelivered_ms: Option<u64>,
    /// Events in its spool not yet confirmed by the witness.
    pub(crate) spool_pending_events: Option<u64>,
    /// Events the witness refused for good after its spool took them (401, 403, an
    /// invalid event...: the spool's dead-letter file): the witness does not hold
    /// them (they count in `lines_failed` too).
    pub(crate) refused_by_witness: Option<u64>,
}

impl WitnessesUsage {
    fn of(w: crate::witness::WitnessStats) -> WitnessesUsage {
        WitnessesUsage {
            pending_lines: w.pending,
            oldest_pending_ms: w.oldest_pending.map(|d| d.as_millis() as u64),
            lines_handed: w.handed,
            lines_failed: w.failed,
            lines_caught_up: w.caught_up,
            targets: w
                .targets
                .into_iter()
                .map(|t| WitnessTarget {
                    name: t.name,
                    type_name: t.type_name,
                    delivered: t.delivered,
                    dead_lettered: t.dead_lettered,
                    queue_depth: t.queue_depth,
                    oldest_undelivered_ms: t.oldest_undelivered_age.map(|d| d.as_millis() as u64),
                    spool_pending_events: t.forwarding.as_ref().map(|f| f.pending_events),
                    refused_by_witness: t.forwarding.as_ref().map(|f| f.dead_lettered),
                })
                .collect(),
        }
    }
}

/// One destination's counters (the dispatcher's [`TargetStats`], in this document's
/// naming style).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct DestinationStats {
    /// The destination's name.
    pub(crate) name: String,
    /// Its target type (`store`, `file`, ...).
    #[serde(rename = "type")]
    pub(crate) type_name: String,
    /// Events its filter accepted.
    pub(crate) accepted: u64,
    /// Events it durably took.
    pub(crate) delivered: u64,
    /// Events sent again after a retryable error.
    pub(crate) retried: u64,
    /// Events written to its dead-letter file.
    pub(crate) dead_lettered: u64,
    /// Events it could not take now (a cause an operator can fix), answered to their
    /// senders as refused for now (`503 refused_for_now`) instead of dead-lettered.
    pub(crate) handed_back: u64,
    /// Events not queued because its queue was full (`on_full = "drop"`).
    pub(crate) dropped_queue_full: u64,
    /// Events lost: those that could not even be dead-lettered, and those lost from
    /// the destination's own spool (`forwarding.lostEvents`); should stay 0.
    pub(crate) lost: u64,
    /// Of `lost`, those that could not be dead-lettered (`/metrics` tells the two
    /// apart by `reason`).
    #[serde(skip)]
    pub(crate) dead_letter_failed: u64,
    /// Events accepted and not yet delivered or dead-lettered.
    pub(crate) queue_depth: u64,
    /// Age of the oldest event its worker holds undelivered, in milliseconds; `null`
    /// when idle.
    pub(crate) oldest_undelivered_ms: Option<u64>,
    /// For a destination that forwards from a spool of its own.
    pub(crate) forwarding: Option<Forwarding>,
}

/// Where a forwarding destination's events stand ([`ForwardingStats`]).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Forwarding {
    pub(crate) pending_events: u64,
    pub(crate) pending_bytes: u64,
    pub(crate) forwarded: u64,
    pub(crate) dead_lettered: u64,
    pub(crate) dead_letter_file: Option<std::path::PathBuf>,
    pub(crate) retries: u64,
    pub(crate) damaged_ranges: u64,
    pub(crate) damaged_bytes: u64,
    /// Spool files found gone or cut by hand while holding events not yet confirmed
    /// downstream, the events lost with them (where known: a file found missing at
    /// start counts in `lost_segments` only) and their bytes.
    pub(crate) lost_segments: u64,
    pub(crate) lost_events: u64,
    pub(crate) lost_bytes: u64,
}

/// A store destination's folder, writer and retention counters.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StoreUsage {
    /// Bytes of the files under the store's folder (walked at most every 30 s).
    pub(crate) bytes: u64,
    /// Files under the store's folder.
    pub(crate) files: u64,
    /// Since the store was opened (this process):
    pub(crate) batches: u64,
    pub(crate) records: u64,
    pub(crate) bytes_written: u64,
    pub(crate) fsyncs: u64,
    pub(crate) fsync_seconds: f64,
    pub(crate) write_errors: u64,
    pub(crate) disk_full_errors: u64,
    /// Events left out of a batch because their partition folder could not be made or
    /// written (for good, or until an operator fixes it).
    pub(crate) events_refused: u64,
    /// Found when the store was opened:
    pub(crate) torn_tails_cut: u64,
    pub(crate) records_cut: u64,
    pub(crate) corrupt_files: u64,
    /// Retried events whose record the store no longer held (a file or folder removed,
    /// moved, replaced or cut by hand): stored again, not answered as duplicates.
    pub(crate) records_gone: u64,
    /// Retention (since the server started): prune passes that deleted something, and
    /// the partitions, records and bytes they deleted.
    pub(crate) retention_runs: u64,
    pub(crate) retention_partitions_deleted: u64,
    pub(crate) retention_records_deleted: u64,
    pub(crate) retention_bytes_deleted: u64,
    /// Retention passes that deleted nothing because archiving failed.
    pub(crate) retention_archive_failures: u64,
    pub(crate) retention_failures: u64,
    /// Partitions due that the last retention pass left out because their files
    /// cannot be removed (not deleted, in no signed line; its failure is one of
    /// `retention_failures`).
    pub(crate) retention_partitions_unremovable: u64,
    /// Partitions due that the last retention pass left out for holding a record that
    /// does not belong in their folder (`misplaced-record`).
    pub(crate) retention_partitions_misplaced: u64,
    /// Retention deletes nothing: the store's newest deletion was archived and its
    /// config has no `archive` (known from the first retention check on).
    pub(crate) retention_blocked: bool,
    /// The store is held: its checks at start failed, and it takes no event
    /// (`Destinations::held`).
    pub(crate) held: bool,
    /// Its last checkpoint line is written and sealed, but its high-water mark cannot
    /// be written (`StoreIntegrity::unpublished`; `/readyz`'s
    /// `high_water_mark_unwritten`).
    pub(crate) high_water_mark_unwritten: bool,
}

/// A partition store's retention counters, with its `/metrics` labels.
#[derive(Debug, Clone)]
pub(crate) struct PartitionRetention {
    pub(crate) source: String,
    pub(crate) topic: String,
    /// The partition number, as a label.
    pub(crate) partition: String,
    pub(crate) usage: StoreUsage,
}

/// Which nodes a snapshot lists: node ids are whatever clients send, so `/v1/stats`
/// lists them a page at a time, by id (`?nodesAfter=ID&nodesLimit=N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct NodePage<'a> {
    /// Only ids sorting after this one.
    pub(crate) after: Option<&'a str>,
    /// At most this many.
    pub(crate) limit: usize,
}

impl NodePage<'_> {
    /// Nodes listed when `nodesLimit` is not given (and the per-node series of
    /// `/metrics`).
    pub(crate) const DEFAULT_LIMIT: usize = 1000;
    /// The largest `nodesLimit`.
    pub(crate) const MAX_LIMIT: usize = 10_000;

    /// The first page.
    pub(crate) const FIRST: NodePage<'static> = NodePage {
        after: None,
        limit: NodePage::DEFAULT_LIMIT,
    };
}

/// The nodes of one page and the table's totals.
struct Nodes {
    page: BTreeMap<String, NodeStats>,
    tracked: u64,
    next: Option<String>,
    forgotten: ForgottenNodes,
}

/// Per node: the HTTP ingest's, then the Kafka sources' open partition stores' (a
/// node in several, e.g. after partitions were added: the one with the most events).
/// Each table gives its first `limit + 1` ids of the page, so the merged first ones
/// are among them, and the one past the page tells whether there is a next.
fn nodes(state: &AppState, ask: NodePage<'_>) -> Nodes {
    let limit = ask.limit.min(NodePage::MAX_LIMIT);
    let mut page: BTreeMap<String, NodeStats> = BTreeMap::new();
    let tables = std::iter::once(state.dedup.node_stats_after(ask.after, limit + 1)).chain(
        state
            .sources
            .iter()
            .map(|s| s.node_stats_after(ask.after, limit + 1)),
    );
    for n in tables.flatten() {
        match page.get(&n.node) {
            Some(have) if have.count >= n.count => {}
            _ => {
                page.insert(n.node.clone(), n);
            }
        }
    }
    let more = page.len() > limit;
    while page.len() > limit {
        page.pop_last();
    }
    let next = more
        .then(|| page.last_key_value().map(|(k, _)| k.clone()))
        .flatten();
    let (mut tracked, mut forgotten) = state.dedup.node_table();
    if !state.sources.is_empty() {
        // A node may be in several tables: count it once.
        let mut ids: std::collections::HashSet<std::sync::Arc<str>> =
            state.dedup.node_ids().into_iter().collect();
        for source in &state.sources {
            ids.extend(source.node_ids());
            forgotten = forgotten.add(source.forgotten_nodes());
        }
        tracked = ids.len();
    }
    Nodes {
        page,
        tracked: tracked as u64,
        next,
        forgotten,
    }
}

impl Snapshot {
    /// Reads every part, with the first page of nodes. Walks the store folders: call
    /// it off the async threads.
    pub(crate) fn take(state: &AppState) -> Snapshot {
        Snapshot::take_page(state, NodePage::FIRST)
    }

    /// [`Snapshot::take`] with the page of nodes `nodes`.
    pub(crate) fn take_page(state: &AppState, nodes_page: NodePage<'_>) -> Snapshot {
        let nodes = nodes(state, nodes_page);
        let (topics, topics_forgotten) = state.stats.snapshot();
        Snapshot {
            since: state.started,
            accepted: state.metrics.accepted.get(),
            duplicates: state.metrics.duplicates.get(),
            unrouted: state.metrics.unrouted.get(),
            nodes: nodes.page,
            nodes_tracked: nodes.tracked,
            nodes_next: nodes.next,
            nodes_forgotten: nodes.forgotten,
            topics,
            topics_forgotten,
            destinations: state
                .dispatcher
                .stats()
                .into_iter()
                .map(DestinationStats::from)
                .collect(),
            stores: state
                .destinations
                .stores()
                .map(|(_, d, store)| {
                    let usage = state.store_usage.usage(&store.path);
                    let pruned = store
                        .integrity()
                        .map(|i| i.prune_stats())
                        .unwrap_or_default();
                    let mut usage = StoreUsage::of(usage, store.handle.stats(), pruned);
                    usage.retention_blocked = store.retention.as_ref().is_some_and(|r| r.refused());
                    usage.held = store.is_held();
                    usage.high_water_mark_unwritten =
                        store.integrity().is_some_and(|i| i.unpublished().is_some());
                    (d.name.clone(), usage)
                })
                .collect(),
            partition_retention: state
                .partition_stores
                .listed()
                .into_iter()
                // Those pruned: the others have nothing to show here.
                .filter_map(|p| {
                    let retention = p.retention.as_ref()?;
                    Some(PartitionRetention {
                        source: p.id.source.clone(),
                        topic: p.id.topic.clone(),
                        partition: p.id.partition.to_string(),
                        usage: StoreUsage {
                            retention_blocked: retention.refused(),
                            ..StoreUsage::of_retention(p.integrity.prune_stats())
                        },
                    })
                })
                .collect(),
            witnesses: state
                .witnesses
                .as_ref()
                .map(|w| WitnessesUsage::of(w.stats())),
        }
    }
}

impl From<TargetStats> for DestinationStats {
    fn from(t: TargetStats) -> Self {
        DestinationStats {
            name: t.name,
            type_name: t.type_name,
            accepted: t.accepted,
            delivered: t.delivered,
            retried: t.retried,
            dead_lettered: t.dead_lettered,
            handed_back: t.handed_back,
            dropped_queue_full: t.dropped_queue_full,
            // The spool's losses are the destination's: "events lost" must see them.
            lost: t.lost + t.forwarding.as_ref().map_or(0, |f| f.lost_events),
            dead_letter_failed: t.lost,
            queue_depth: t.queue_depth,
            oldest_undelivered_ms: t.oldest_undelivered_age.map(|d| d.as_millis() as u64),
            forwarding: t.forwarding.map(Forwarding::from),
        }
    }
}

impl From<ForwardingStats> for Forwarding {
    fn from(f: ForwardingStats) -> Self {
        Forwarding {
            pending_events: f.pending_events,
            pending_bytes: f.pending_bytes,
            forwarded: f.forwarded,
            dead_lettered: f.dead_lettered,
            dead_letter_file: f.dead_letter_file,
            retries: f.retries,
            damaged_ranges: f.damaged_ranges,
            damaged_bytes: f.damaged_bytes,
            lost_segments: f.lost_segments,
            lost_events: f.lost_events,
            lost_bytes: f.lost_bytes,
        }
    }
}

impl StoreUsage {
    /// Only the retention counters (a partition store's, see
    /// [`Snapshot::partition_retention`]).
    fn of_retention(pruned: auditrail_integrity::PruneStats) -> StoreUsage {
        StoreUsage {
            retention_runs: pruned.runs,
            retention_partitions_deleted: pruned.partitions,
            retention_records_deleted: pruned.records,
            retention_bytes_deleted: pruned.bytes,
            retention_archive_failures: pruned.archive_failures,
            retention_failures: pruned.failures,
            retention_partitions_unremovable: pruned.partitions_unremovable,
            retention_partitions_misplaced: pruned.partitions_misplaced,
            ..StoreUsage::default()
        }
    }

    fn of(
        usage: crate::disk::Usage,
        s: StoreStats,
        pruned: auditrail_integrity::PruneStats,
    ) -> StoreUsage {
        StoreUsage {
            bytes: usage.bytes,
            files: usage.files,
            batches: s.batches,
            records: s.records,
            bytes_written: s.bytes,
            fsyncs: s.fsyncs,
            fsync_seconds: s.fsync_micros as f64 / 1e6,
            write_errors: s.write_errors,
            disk_full_errors: s.disk_full_errors,
            events_refused: s.refused_events,
            torn_tails_cut: s.torn_tails_cut,
            records_cut: s.records_cut,
            corrupt_files: s.corrupt_files,
            records_gone: s.records_gone,
            retention_runs: pruned.runs,
            retention_partitions_deleted: pruned.partitions,
            retention_records_deleted: pruned.records,
            retention_bytes_deleted: pruned.bytes,
            retention_archive_failures: pruned.archive_failures,
            retention_failures: pruned.failures,
            retention_partitions_unremovable: pruned.partitions_unremovable,
            retention_partitions_misplaced: pruned.partitions_misplaced,
            retention_blocked: false,
            held: false,
            high_water_mark_unwritten: false,
        }
    }
}
