//! An async emit (`emit_async`, `emit_acked`) whose future is dropped while it waits for
//! room in one target's full queue still reaches every target that accepted the event:
//! the event already has its seq, so a target left without it would hold a hole nobody
//! chose.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_emit_async_still_reaches_the_targets_after_the_full_one() {
    dropped_emit_reaches_every_target(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_emit_acked_still_reaches_the_targets_after_the_full_one() {
    dropped_emit_reaches_every_target(true).await;
}

async fn dropped_emit_reaches_every_target(acked: bool) {
    let slow = MemoryTarget::new();
    slow.pause();
    let fast = MemoryTarget::new();
    let one_at_a_time = DeliveryOptions {
        queue_capacity: 1,
        batch_max_events: 1,
        ..Default::default()
    };
    // "slow" is the first route, so the emit waits on it before it reaches "fast".
    let builder = common::with_memory(
        Dispatcher::builder(common::node()),
        "slow",
        &slow,
        one_at_a_time,
    );
    let d = common::with_memory(builder, "fast", &fast, DeliveryOptions::default())
        .build()
        .unwrap();

    // One event in slow's (paused) worker, one in its queue: the queue is full.
    for i in 0..2u64 {
        d.emit_async(audit!(topics::GENERIC, "fill", "i" => i))
            .await
            .unwrap();
    }
    common::wait_until_async("slow holds one event and queues one", || {
        d.stats()[0].queue_depth >= 2
    })
    .await;

    // Polled once, it waits for room in slow's queue; then the caller gives up on it.
    let given_up = || audit!(topics::GENERIC, "given-up");
    let waited = if acked {
        let emit = d.emit_acked(given_up());
        tokio::time::timeout(Duration::ZERO, emit).await.map(|_| ())
    } else {
        let emit = d.emit_async(given_up());
        tokio::time::timeout(Duration::ZERO, emit).await.map(|_| ())
    };
    assert!(waited.is_err(), "the emit must have waited for room");

    slow.resume();
    let report = d.shutdown(common::PATIENCE).await;
    assert!(report.is_clean(), "{report:?}");
    let msg_types = |t: &MemoryTarget| -> Vec<String> {
        t.events()
            .iter()
            .map(|e| e.message.msg_type().to_owned())
            .collect()
    };
    assert_eq!(msg_types(&slow), ["fill", "fill", "given-up"]);
    assert_eq!(
        msg_types(&fast),
        ["fill", "fill", "given-up"],
        "the target after the full one got the event whose emit was dropped"
    );
}
