//! Partitions assigned to a source whose store is not open yet: being opened (each
//! store is read whole at open: its recovery, de-duplication table, checks), or not
//! opened the last time it was tried (its lock still held by the previous owner, an
//! I/O error) and retried. `GET /v1/checkpoints` lists them beside the open and held
//! ones, so a monitor sees every assigned partition during a rebalance or a long open,
//! not only once its store is open. The source's thread rebuilds the list from its
//! partitions after each change; the HTTP handler reads it.
//!
//! A partition whose store waits for a place in the open-file budget (`slots.rs`: every
//! place for an open partition store is taken) is also named in `/readyz`'s
//! `degraded` ([`readyz_entries`]), with how long it has waited and the budget's
//! values: its records wait in Kafka until a store closes, which a monitor must see
//! (before, only `/v1/checkpoints` said it, and nothing said for how long).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use super::SourceMetrics;

/// The waiting partitions of one source, shared by its thread and the HTTP handlers.
/// Clones share the list.
#[derive(Debug, Clone, Default)]
pub(crate) struct WaitingPartitions {
    list: Arc<Mutex<BTreeMap<(String, i32), Waiting>>>,
}

/// One partition whose store is not open.
#[derive(Debug, Clone)]
pub(crate) struct Waiting {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    /// The store's folder.
    pub(crate) path: PathBuf,
    pub(crate) why: WaitingFor,
}

/// Why a partition's store is not open.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "kafka"), allow(dead_code))]
pub(crate) enum WaitingFor {
    /// Assigned and being opened (or next in line to be): not tried yet.
    Open,
    /// Tried `tries` times; the last try failed with `error` (said as the log says
    /// it: the lock held by the previous owner, an I/O error). Tried again.
    Retry { tries: u32, error: String },
    /// Another server of the group took its store over (a write was fenced): not
    /// opened again while the partition is assigned here.
    Fenced,
    /// Every place the open-file budget keeps for open partition stores is taken
    /// (`slots.rs`): tried again until one is given back.
    Descriptors(DescriptorWait),
}

/// A partition store waiting for a place in the open-file budget.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(not(feature = "kafka"), allow(dead_code))]
pub(crate) struct DescriptorWait {
    /// Since when (its first open refused for want of a place, since the partition
    /// was assigned or its last other failure).
    pub(crate) since: Instant,
    /// The opens tried.
    pub(crate) tries: u32,
    /// Partition stores open at once at most, over every source.
    pub(crate) open_at_most: usize,
    /// `max_open_files` of each.
    pub(crate) files_each: usize,
    /// The soft open-file limit the bound was made for (`None`: unknown).
    pub(crate) open_file_limit: Option<u64>,
    /// What the bound says (`waits for file descriptors: ...`), without the store's
    /// path (`/readyz` needs no key).
    pub(crate) said: String,
}

impl DescriptorWait {
    /// How long it has waited, in milliseconds.
    fn waited_ms(&self) -> u64 {
        u64::try_from(self.since.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

impl Waiting {
    /// What `/v1/checkpoints` says of it.
    pub(crate) fn described(&self) -> String {
        match &self.why {
            WaitingFor::Open => "its store is being opened (read whole: recovery, de-duplication, integrity check); its partition is paused until it is open".into(),
            WaitingFor::Retry { tries, error } => format!(
                "its store could not be opened ({tries} tries; the last: {error}); tried again, its partition paused meanwhile"
            ),
            WaitingFor::Descriptors(w) => format!(
                "its store {} ({} tries, waiting for {} ms); its partition paused meanwhile",
                w.said,
                w.tries,
                w.waited_ms()
            ),
            WaitingFor::Fenced => "another server of the group took its store over (a write was fenced): not opened again while the partition is assigned here; its partition is paused".into(),
        }
    }
}

impl WaitingPartitions {
    fn list(&self) -> MutexGuard<'_, BTreeMap<(String, i32), Waiting>> {
        self.list
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Replaces the list with `now`.
    #[cfg(feature = "kafka")]
    pub(crate) fn set(&self, now: impl IntoIterator<Item = Waiting>) {
        *self.list() = now
            .into_iter()
            .map(|w| ((w.topic.clone(), w.partition), w))
            .collect();
    }

    /// Adds `w` (or replaces its partition's entry).
    #[cfg(feature = "kafka")]
    pub(crate) fn add(&self, w: Waiting) {
        self.list().insert((w.topic.clone(), w.partition), w);
    }

    /// The waiting partitions, in topic and partition order.
    pub(crate) fn listed(&self) -> Vec<Waiting> {
        self.list().values().cloned().collect()
    }
}

/// The `/readyz` `degraded` entries of the partitions whose store waits for a place in
/// the open-file budget, in source, topic and partition order: `reason`
/// `partition_waits_for_file_descriptors`, `source`, `topic`, `partition`, `waiting_ms`
/// (how long it has waited), the budget's `partition_stores_open_at_most`,
/// `files_each` and `open_file_limit` (`null`: unknown), and a message. They leave the
/// server ready: the other partitions and the HTTP ingest go on storing.
pub(crate) fn readyz_entries(sources: &[SourceMetrics]) -> Vec<serde_json::Value> {
    let mut entries = Vec::new();
    for m in sources {
        for w in m.waiting_list.listed() {
            let WaitingFor::Descriptors(d) = &w.why else {
                continue;
            };
            let waited = d.waited_ms();
            entries.push(serde_json::json!({
                "reason": "partition_waits_for_file_descriptors",
                "source": m.name(),
                "topic": w.topic,
                "partition": w.partition,
                "waiting_ms": waited,
                "partition_stores_open_at_most": d.open_at_most,
                "files_each": d.files_each,
                "open_file_limit": d.open_file_limit,
                "message": format!(
                    "the partition store of {}/{} (source {:?}) {} (for {waited} ms); the \
                     partition is paused, its records kept in Kafka, until then",
                    w.topic,
                    w.partition,
                    m.name(),
                    d.said
                ),
            }));
        }
    }
    entries
}

#[cfg(all(test, feature = "kafka"))]
mod tests {
    use super::*;

    fn waiting(partition: i32, why: WaitingFor) -> Waiting {
        Waiting {
            topic: "t".into(),
            partition,
            path: PathBuf::from(format!("root/t/{partition}/store")),
            why,
        }
    }

    #[test]
    fn the_list_is_replaced_and_added_to_in_partition_order() {
        let list = WaitingPartitions::default();
        list.add(waiting(2, WaitingFor::Open));
        list.add(waiting(0, WaitingFor::Open));
        let shown: Vec<i32> = list.listed().iter().map(|w| w.partition).collect();
        assert_eq!(shown, vec![0, 2]);
        let retry = WaitingFor::Retry {
            tries: 3,
            error: "partition store root/t/1/store is locked by another process".into(),
        };
        list.set([waiting(1, retry)]);
        let shown = list.listed();
        assert_eq!(shown.len(), 1);
        let wait = WaitingFor::Descriptors(DescriptorWait {
            since: Instant::now(),
            tries: 2,
            open_at_most: 1,
            files_each: 32,
            open_file_limit: Some(512),
            said: "waits for file descriptors: the 1 partition store(s) ...".into(),
        });
        let metrics = SourceMetrics::new("orders");
        metrics
            .waiting_list
            .set([waiting(4, wait), waiting(5, WaitingFor::Open)]);
        let entries = readyz_entries(std::slice::from_ref(&metrics));
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0]["partition"], 4);
        assert_eq!(entries[0]["partition_stores_open_at_most"], 1);
        assert!(
            shown[0].described().contains("3 tries")
                && shown[0].described().contains("locked by another process"),
            "{}",
            shown[0].described()
        );
    }
}
