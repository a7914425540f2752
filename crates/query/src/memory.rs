//! The engine's memory pool, watched: which queries met its limit.
//!
//! DataFusion's operators ask the pool before they hold memory, and a refusal is
//! `ResourcesExhausted`, the memory limit users know (docs/query.md, "Memory"). Some
//! operators do not stop there: a nested-loop join that cannot hold its left side falls
//! back to spilling it, and that fallback breaks down on plans it was not written for
//! (DataFusion 55: it runs the left input a second time, and a repartitioned input
//! panics "partition not used yet" or fails with the internal error "Left side
//! produced no data to spill"). The query then failed as if the engine itself had
//! broken, in DataFusion's internal words, though what stopped it was the memory
//! limit. The pool remembers its refusals, so that [`crate::collect`] can tell such a
//! failure by what happened (a refusal while the query ran) rather than by its text.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{
    MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};

/// A memory pool that counts its refusals and keeps the last one's words.
#[derive(Debug)]
pub(crate) struct WatchedPool {
    inner: Arc<dyn MemoryPool>,
    refusals: AtomicU64,
    last_refusal: Mutex<Option<String>>,
}

impl WatchedPool {
    pub(crate) fn new(inner: Arc<dyn MemoryPool>) -> WatchedPool {
        WatchedPool {
            inner,
            refusals: AtomicU64::new(0),
            last_refusal: Mutex::new(None),
        }
    }

    /// How many times the pool refused memory so far.
    pub(crate) fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::SeqCst)
    }

    /// What the pool said when it last refused memory (DataFusion's words: how much was
    /// asked, by which operator, the top consumers).
    pub(crate) fn last_refusal(&self) -> Option<String> {
        self.last_refusal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl std::fmt::Display for WatchedPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.inner)
    }
}

impl MemoryPool for WatchedPool {
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn register(&self, consumer: &MemoryConsumer) {
        self.inner.register(consumer);
    }
    fn unregister(&self, consumer: &MemoryConsumer) {
        self.inner.unregister(consumer);
    }
    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.inner.grow(reservation, additional);
    }
    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.inner.shrink(reservation, shrink);
    }
    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        let result = self.inner.try_grow(reservation, additional);
        if let Err(e) = &result {
            let words = match e {
                DataFusionError::ResourcesExhausted(s) => s.clone(),
                other => other.to_string(),
            };
            *self
                .last_refusal
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(words);
            self.refusals.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
    fn reserved(&self) -> usize {
        self.inner.reserved()
    }
    fn memory_limit(&self) -> MemoryLimit {
        self.inner.memory_limit()
    }
}
