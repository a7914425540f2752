//! Partitions assigned to a source whose store is not open yet: being opened (each
//! store is read whole at open: its recovery, de-duplication table, checks), or not
//! opened the last time it was tried (its lock still held by the previous owner, an
//! I/O error) and retried. `GET /v1/checkpoints` lists them beside the open and held
//! ones, so a monitor sees every assigned partition during a rebalance or a long open,
//! not only once its store is open. The source's thread rebuilds the list from its
//! partitions after each change; the HTTP handler reads it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

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
}

impl Waiting {
    /// What `/v1/checkpoints` says of it.
    pub(crate) fn described(&self) -> String {
        match &self.why {
            WaitingFor::Open => "its store is being opened (read whole: recovery, de-duplication, integrity check); its partition is paused until it is open".into(),
            WaitingFor::Retry { tries, error } => format!(
                "its store could not be opened ({tries} tries; the last: {error}); tried again, its partition paused meanwhile"
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
        assert!(
            shown[0].described().contains("3 tries")
                && shown[0].described().contains("locked by another process"),
            "{}",
            shown[0].described()
        );
    }
}
