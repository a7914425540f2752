//! The events of one acknowledged emit reach each target as one batch (up to its
//! `batch_max_events`), even when the target's worker looks at its queue while the
//! emitter is still queueing them: a target that answers per batch (a rejection by
//! index, one fsync per batch) sees the caller's batch whole.

// Test setup: a failed setup should stop the test loudly.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{DeliveryOptions, Dispatcher, EventDraft};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acked_emits_events_are_taken_together() {
    let target = MemoryTarget::new();
    let options = DeliveryOptions {
        batch_max_events: 8,
        batch_max_wait_ms: 60_000,
        ..Default::default()
    };
    let d = common::with_memory(Dispatcher::builder(common::node()), "t", &target, options)
        .build()
        .unwrap();
    // Many rounds: a worker spinning for its next item finds the first event of an
    // emit now and then, and took it alone before the rest was queued.
    let rounds = 300;
    for round in 0..rounds {
        let drafts = (0..8).map(|i| EventDraft::new("generic", format!("r{round}-e{i}")));
        d.emit_batch_acked(drafts).await.unwrap();
    }
    let sizes = target.batch_sizes();
    let split: Vec<_> = sizes.iter().filter(|&&n| n != 8).collect();
    assert!(
        split.is_empty(),
        "{} of {} batches split: sizes {split:?}",
        split.len(),
        sizes.len()
    );
    assert_eq!(target.events().len(), rounds * 8);
    d.shutdown(Duration::from_secs(10)).await;
}
