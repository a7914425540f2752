//! The partition stores open on this server now, of every Kafka source: listed from
//! their open (after their tamper evidence is attached) to their close.
//! `GET /v1/checkpoints` shows where each one's chain stands and its last signed
//! checkpoint. Those whose source has a `retention` are pruned by the retention loop
//! ([`crate::retention`]) with the `store` destinations, by the same code: one opened
//! after an assignment is pruned at once (the loop is woken: a store opened after the
//! start's check would otherwise wait for the next one, 10 minutes on), then at every
//! check; one revoked is not pruned by this server any more.
//!
//! The close waits for a prune pass under way on the store (bounded: one pass, whose
//! writer steps the store hands off between batches, see `StoreHandle::prune`), and
//! the pass's loop is told to stop before the next one: the store's final checkpoint
//! and its lock's release never meet a half-done pass, so the next owner finds
//! neither a deletion line whose files are still there nor a writer closed under it.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use auditrail_integrity::StoreIntegrity;
use auditrail_store::StoreHandle;
use tokio::sync::{watch, Notify};

use crate::dedup::Dedup;
use crate::retention::Retention;

/// Which partition store: its source, topic and partition (the `/metrics` labels).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct PartitionId {
    pub(crate) source: String,
    pub(crate) topic: String,
    pub(crate) partition: i32,
}

/// The listed partition stores of every Kafka source of the server.
#[derive(Debug, Default)]
pub(crate) struct PartitionStores {
    /// Whether any source has a retention (the retention loop runs for them).
    configured: bool,
    open: Mutex<BTreeMap<PartitionId, Arc<ListedStore>>>,
    /// Woken when a store with a retention is listed.
    listed_new: Notify,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PartitionStores {
    /// `configured`: whether a source of the server has a retention.
    pub(crate) fn new(configured: bool) -> PartitionStores {
        PartitionStores {
            configured,
            open: Mutex::default(),
            listed_new: Notify::new(),
        }
    }

    /// Returns once a store was listed since the last return (at once if one was
    /// listed meanwhile).
    pub(crate) async fn newly_listed(&self) {
        self.listed_new.notified().await;
    }

    /// Whether the retention loop has partition stores to look after.
    pub(crate) fn configured(&self) -> bool {
        self.configured
    }

    /// The stores listed now, in source, topic and partition order.
    pub(crate) fn listed(&self) -> Vec<Arc<ListedStore>> {
        lock(&self.open).values().cloned().collect()
    }

    /// Lists an open partition store until the returned [`Listed`] is dropped (at its
    /// close). A store listed under the same id before (not closed: a panic between
    /// its open and its close) is replaced.
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn list(self: &Arc<Self>, store: ListedStore) -> Listed {
        let entry = Arc::new(store);
        lock(&self.open).insert(entry.id.clone(), entry.clone());
        // A permit is kept when the loop is not waiting (it is pruning): it prunes
        // the new store right after.
        if entry.retention.is_some() {
            self.listed_new.notify_one();
        }
        Listed {
            stores: self.clone(),
            entry,
        }
    }
}

/// One listed partition store: what `/v1/checkpoints` shows of it and what its prune
/// needs.
#[derive(Debug)]
#[cfg_attr(not(feature = "kafka"), allow(dead_code))]
pub(crate) struct ListedStore {
    pub(crate) id: PartitionId,
    /// The store's folder (log lines, `/v1/checkpoints`).
    pub(crate) path: PathBuf,
    /// The store: its chain head.
    pub(crate) handle: StoreHandle,
    /// Its tamper evidence: its id and last checkpoint; the prune records each
    /// deletion in its checkpoint log and its partition folder's high-water mark, and
    /// holds its writer in bounded steps.
    pub(crate) integrity: Arc<StoreIntegrity>,
    /// The source's retention, on this store's own timeline (`None`: the source has
    /// none, the store is not pruned).
    pub(crate) retention: Option<Retention>,
    /// The store's de-duplication and per-node table: told what a pass deleted.
    pub(crate) dedup: Dedup,
    state: Mutex<Use>,
    idle: Condvar,
    closing: watch::Sender<bool>,
    /// Whether a retention check looked at it since it was listed.
    checked: AtomicBool,
}

#[derive(Debug, Default)]
struct Use {
    closing: bool,
    pruning: bool,
}

impl ListedStore {
    #[cfg_attr(not(feature = "kafka"), allow(dead_code))]
    pub(crate) fn new(
        id: PartitionId,
        path: PathBuf,
        handle: StoreHandle,
        integrity: Arc<StoreIntegrity>,
        retention: Option<Retention>,
        dedup: Dedup,
    ) -> ListedStore {
        ListedStore {
            id,
            path,
            handle,
            integrity,
            retention,
            dedup,
            state: Mutex::default(),
            idle: Condvar::new(),
            closing: watch::Sender::new(false),
            checked: AtomicBool::new(false),
        }
    }

    /// Marks the store checked; whether it had been before.
    pub(crate) fn check(&self) -> bool {
        self.checked.swap(true, Ordering::Relaxed)
    }

    /// Begins a prune of the store, which its close waits for until the returned
    /// [`Pruning`] is dropped; `None` once the store is closing (not pruned any more).
    pub(crate) fn begin(self: &Arc<Self>) -> Option<Pruning> {
        let mut state = lock(&self.state);
        if state.closing {
            return None;
        }
        state.pruning = true;
        Some(Pruning {
            store: self.clone(),
        })
    }

    /// Turns `true` when the store begins to close: a prune stops before its next pass.
    pub(crate) fn closing(&self) -> watch::Receiver<bool> {
        self.closing.subscribe()
    }
}

/// A prune of a listed store under way (see [`ListedStore::begin`]).
#[derive(Debug)]
pub(crate) struct Pruning {
    store: Arc<ListedStore>,
}

impl Drop for Pruning {
    fn drop(&mut self) {
        lock(&self.store.state).pruning = false;
        self.store.idle.notify_all();
    }
}

/// Keeps a partition store listed; dropped at its close, before its final checkpoint.
#[derive(Debug)]
#[cfg_attr(not(feature = "kafka"), allow(dead_code))]
pub(crate) struct Listed {
    stores: Arc<PartitionStores>,
    entry: Arc<ListedStore>,
}

impl Drop for Listed {
    /// Unlists the store, tells a prune under way to stop before its next pass, and
    /// waits for the pass it is in (blocking: called on the source's thread).
    fn drop(&mut self) {
        {
            let mut open = lock(&self.stores.open);
            if open
                .get(&self.entry.id)
                .is_some_and(|e| Arc::ptr_eq(e, &self.entry))
            {
                open.remove(&self.entry.id);
            }
        }
        let mut state = lock(&self.entry.state);
        state.closing = true;
        self.entry.closing.send_replace(true);
        while state.pruning {
            state = self
                .entry
                .idle
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }
}
