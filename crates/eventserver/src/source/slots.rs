//! How many Kafka partition stores may be open at once: their share of the server's
//! open-file budget (`fd_budget.rs`), over every source. A partition assigned beyond it
//! waits, paused, listed in `/v1/checkpoints` with the reason and counted in
//! `auditrail_kafka_source_partitions_waiting`, named in `/readyz`'s `degraded` with how
//! long it has waited and the budget's values (`waiting.rs`), each such wait counted in
//! `auditrail_kafka_source_partition_waits_for_descriptors_total`, and its store is
//! opened once another closes (a revocation); before, each store took its own quarter of the open-file
//! limit and enough assigned partitions failed with `Too many open files`.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The places for open partition stores (`None` inside: no bound, the limit unknown).
#[derive(Debug, Clone)]
pub(crate) struct PartitionSlots {
    bound: Option<(Arc<Semaphore>, usize)>,
    /// The open-file limit the bound was made for (said with a refusal).
    limit: Option<u64>,
}

/// A partition store's place, given back when dropped (the store closed).
#[derive(Debug)]
pub(crate) struct Slot {
    _permit: Option<OwnedSemaphorePermit>,
}

/// Every place is taken: the store waits for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error(
    "waits for file descriptors: the {total} partition store(s) the open-file budget allows \
     ({files} segment files each) are open; it opens when one closes (raise the open-file \
     limit, LimitNOFILE=, for more)"
)]
pub(crate) struct NoSlot {
    /// The bound.
    pub(crate) total: usize,
    /// `max_open_files` of each.
    pub(crate) files: usize,
    /// The soft open-file limit the bound was made for (`None`: unknown).
    pub(crate) limit: Option<u64>,
}

impl PartitionSlots {
    /// At most `total` open at once, their part of the open-file `limit`; `None`: no
    /// bound.
    pub(crate) fn new(total: Option<usize>, limit: Option<u64>) -> PartitionSlots {
        PartitionSlots {
            bound: total.map(|n| (Arc::new(Semaphore::new(n)), n)),
            limit,
        }
    }

    /// `max_open_files` of each partition store under this bound (`None`: the store's
    /// own default).
    pub(crate) fn files_each(&self) -> Option<usize> {
        self.bound
            .as_ref()
            .map(|_| crate::fd_budget::PARTITION_STORE_FILES)
    }

    /// A place, or [`NoSlot`] when all are taken (never waits: the caller retries).
    pub(crate) fn take(&self) -> Result<Slot, NoSlot> {
        match &self.bound {
            None => Ok(Slot { _permit: None }),
            Some((permits, total)) => match permits.clone().try_acquire_owned() {
                Ok(p) => Ok(Slot { _permit: Some(p) }),
                Err(_) => Err(NoSlot {
                    total: *total,
                    files: crate::fd_budget::PARTITION_STORE_FILES,
                    limit: self.limit,
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_comes_back_when_its_store_closes() {
        let slots = PartitionSlots::new(Some(1), Some(512));
        let one = slots.take().unwrap();
        let no = slots.take().unwrap_err();
        assert!(no.to_string().contains("the 1 partition store(s)"), "{no}");
        assert_eq!(no.limit, Some(512));
        drop(one);
        assert!(slots.take().is_ok());
        let unbounded = PartitionSlots::new(None, None);
        let _a = unbounded.take().unwrap();
        assert!(unbounded.take().is_ok());
        assert_eq!(unbounded.files_each(), None);
    }
}
