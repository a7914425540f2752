//! `flush` cuts short a batch that is waiting to fill up, delivers it, and calls the
//! target's own `flush`.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_delivers_a_batch_that_would_otherwise_wait_a_minute() {
    let target = MemoryTarget::new();
    let options = DeliveryOptions {
        batch_max_wait_ms: 60_000,
        ..Default::default()
    };
    let d = common::with_memory(Dispatcher::builder(common::node()), "t", &target, options)
        .build()
        .unwrap();
    for i in 0..5u64 {
        d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
    }
    assert!(target.events().is_empty(), "the batch waits to fill up");

    tokio::time::timeout(common::PATIENCE, d.flush())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(target.events().len(), 5);
    assert_eq!(target.flushes_and_shutdowns(), (1, 0));
    d.shutdown(Duration::from_secs(10)).await;
}
