//! How far a server's start has got, for whoever waits on it (systemd, through
//! `auditrail serve`).
//!
//! A start reads every record of every store once (de-duplication and the per-node
//! accounting are rebuilt from them, see `dedup/rebuild.rs`): about a second per
//! million records on a 2-core machine (docs/benchmarks.md, "Server start"), so minutes
//! on a store of a few hundred million. A service manager that bounds the start
//! (`TimeoutStartSec=` of `packaging/auditrail.service`) would kill such a server in
//! the middle of its start, again at every restart, and collection would never resume.
//! The count of records read lets the waiter tell a long start that progresses from a
//! hung one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Shared between the start ([`start_with_progress`](super::start_with_progress)),
/// which counts, and a waiter, which reads. Cloning shares the count.
#[derive(Debug, Clone, Default)]
pub struct StartProgress {
    records: Arc<AtomicU64>,
}

impl StartProgress {
    /// A count at 0.
    pub fn new() -> StartProgress {
        StartProgress::default()
    }

    /// Records the start has read from its stores so far.
    pub fn records_read(&self) -> u64 {
        self.records.load(Ordering::Relaxed)
    }

    /// The counter the rebuild adds to.
    pub(crate) fn counter(&self) -> &AtomicU64 {
        &self.records
    }
}
