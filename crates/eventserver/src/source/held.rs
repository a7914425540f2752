//! Partition stores held: refused by their integrity check when the source opened
//! them (a checkpoint log whose tail does not match the records, records cut or rolled
//! back by hand, a store id gone: `StoreIntegrity::attach_checked`).
//!
//! Such a store is not a passing fault: opening it again changes nothing but the
//! store (each open runs its recovery and raises its owner epoch), and the operator
//! must look at it. So it is held, as a `store` destination whose checks at start fail
//! is: nothing is stored nor signed into it, its partition stays paused (its records
//! stay in Kafka, no offset is committed past them), it is not opened again while the
//! partition stays assigned here, it is said once at ERROR, counted in
//! `auditrail_kafka_source_partitions_held`, named in `/readyz`'s `held` and listed,
//! with its folder, by `/v1/checkpoints`. The hold
//! goes with the partition: a revocation drops it, and the next assignment (here after
//! a restart, or on another server of the group) checks the store again. Anything
//! else that fails an open (the lock held by the previous owner, an I/O error) is
//! retried as before.

use std::collections::BTreeMap;
#[cfg(feature = "kafka")]
use std::path::Path;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use prometheus_client::metrics::gauge::Gauge;

use super::SourceMetrics;

/// The held partitions of one source, with what their check found (in the words
/// `/readyz` may show: no path, no routing key) and their store's folder (for
/// `/v1/checkpoints`), shared by the source's thread and the HTTP probes. Clones share
/// the list.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeldPartitions {
    list: Arc<Mutex<BTreeMap<(String, i32), Hold>>>,
    /// `auditrail_kafka_source_partitions_held`: the list's length.
    pub(crate) gauge: Gauge,
}

/// One held partition store.
#[derive(Debug, Clone)]
pub(crate) struct Hold {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    /// What its check found.
    pub(crate) found: &'static str,
    /// The store's folder.
    pub(crate) path: PathBuf,
}

impl HeldPartitions {
    fn list(&self) -> MutexGuard<'_, BTreeMap<(String, i32), Hold>> {
        self.list
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Holds `topic`/`partition`, whose store at `path` was refused: its check found
    /// `found`.
    #[cfg(feature = "kafka")]
    pub(crate) fn hold(&self, topic: &str, partition: i32, found: &'static str, path: &Path) {
        let mut list = self.list();
        list.insert(
            (topic.to_owned(), partition),
            Hold {
                topic: topic.to_owned(),
                partition,
                found,
                path: path.to_owned(),
            },
        );
        self.gauge.set(count(list.len()));
    }

    /// Drops the hold of `topic`/`partition` (revoked), if it had one.
    #[cfg(feature = "kafka")]
    pub(crate) fn release(&self, topic: &str, partition: i32) {
        let mut list = self.list();
        if list.remove(&(topic.to_owned(), partition)).is_some() {
            self.gauge.set(count(list.len()));
        }
    }

    /// The held partitions, in topic and partition order.
    pub(crate) fn listed(&self) -> Vec<Hold> {
        self.list().values().cloned().collect()
    }
}

#[cfg(feature = "kafka")]
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// What a refusal found, in a few words free of paths (a store's file names hold its
/// events' topics and routing keys, and `/readyz` needs no key); `None` when the error
/// is no integrity refusal (an I/O error, the lock held by the previous owner, a
/// stop): those are retried.
#[cfg(feature = "kafka")]
pub(crate) fn refusal(e: &super::partition::PartitionError) -> Option<&'static str> {
    let super::partition::PartitionError::Integrity { source, .. } = e else {
        return None;
    };
    // A file that cannot be read or written now (a full disk, an NFS hiccup), the
    // store's own I/O, the random source: not the store's evidence (`None`).
    crate::integrity_said::finding(source)
}

/// The one line that says a partition store is held (at ERROR, once per hold: not at
/// every turn of the loop), with the store's folder, the partition and what its check
/// found (the error names the files and the way on, `auditrail store accept`).
#[cfg(feature = "kafka")]
pub(crate) fn say_held(
    source: &str,
    topic: &str,
    partition: i32,
    store: &std::path::Path,
    e: &super::partition::PartitionError,
) {
    tracing::error!(source, topic, partition, store = %store.display(),
        "partition store held: {e}. Its integrity check refused it, so nothing is stored or signed into it and {topic}/{partition} stays paused: its records stay in Kafka, no offset is committed, and the store is not opened again while the partition is assigned here (no recovery, no new owner epoch). See to the store (auditrail verify, then auditrail store accept with the server stopped) and start the server again; a server of the group the partition is assigned to next checks it again");
}

/// The `/readyz` entries of the sources' held partition stores (after the held `store`
/// destinations, in the same `held` array): `source`, `topic`, `partition`,
/// `reason: "store_held"` and a message. They leave the server ready, as held
/// destinations do: the other partitions and destinations go on storing.
pub(crate) fn readyz_entries(sources: &[SourceMetrics]) -> Vec<serde_json::Value> {
    sources
        .iter()
        .flat_map(|m| {
            m.held.listed().into_iter().map(
                move |Hold {
                          topic,
                          partition,
                          found,
                          ..
                      }| {
                    serde_json::json!({
                        "source": m.name(),
                        "topic": topic,
                        "partition": partition,
                        "reason": "store_held",
                        "message": format!(
                            "the partition store of {topic}/{partition} (source {:?}) is held: \
                             its integrity check refused it ({found}); nothing is stored in it and \
                             the partition stays paused, its records kept in Kafka, until the \
                             store is seen to (auditrail verify, auditrail store accept) and the \
                             partition assigned again (see the server's log)",
                            m.name()
                        ),
                    })
                },
            )
        })
        .collect()
}

#[cfg(all(test, feature = "kafka"))]
mod tests {
    use std::path::PathBuf;

    use auditrail_integrity::IntegrityError;

    use super::super::partition::PartitionError;
    use super::*;

    fn integrity(source: IntegrityError) -> PartitionError {
        PartitionError::Integrity {
            path: PathBuf::from("/shared/parts/audit/3/store"),
            source,
        }
    }

    #[test]
    fn only_an_integrity_refusal_holds_a_partition() {
        let path = PathBuf::from("/shared/parts/audit/3/store");
        let refused = integrity(IntegrityError::Refused {
            path: path.clone(),
            found: "the store ends at chainSeq 2".into(),
            remedy: "auditrail store accept".into(),
        });
        assert!(refusal(&refused).is_some());
        let behind = integrity(IntegrityError::ChainBehindCheckpoint {
            path: path.clone(),
            reason: "hashes differ".into(),
        });
        assert!(refusal(&behind).is_some());
        // Passing faults: retried, never held.
        let io = integrity(IntegrityError::Io {
            path: path.join("checkpoints.jsonl"),
            source: std::io::Error::from_raw_os_error(5),
        });
        assert_eq!(refusal(&io), None);
        assert_eq!(refusal(&PartitionError::Locked { path }), None);
    }

    #[test]
    fn a_held_partition_is_listed_by_source_topic_and_partition_until_released() {
        let metrics = SourceMetrics::new("orders");
        metrics.held.hold(
            "audit",
            3,
            "its records disagree with its last signed checkpoint",
            &PathBuf::from("/shared/parts/audit/3/store"),
        );
        let entries = readyz_entries(std::slice::from_ref(&metrics));
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["source"], "orders");
        assert_eq!(entries[0]["topic"], "audit");
        assert_eq!(entries[0]["partition"], 3);
        assert_eq!(entries[0]["reason"], "store_held");
        assert_eq!(metrics.held.gauge.get(), 1);
        metrics.held.release("audit", 3);
        assert!(readyz_entries(std::slice::from_ref(&metrics)).is_empty());
        assert_eq!(metrics.held.gauge.get(), 0);
    }
}
