//! `on_full = "drop"` (explicit) never blocks the emitter; every dropped event is
//! counted and an acknowledged emit of a dropped event fails.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, AckError, DeliveryOptions, Dispatcher, OnFull};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drops_are_counted_and_acked_emits_of_dropped_events_fail() {
    const N: u64 = 20;
    let target = MemoryTarget::new();
    target.pause();
    let options = DeliveryOptions {
        queue_capacity: 2,
        batch_max_events: 1,
        on_full: OnFull::Drop,
        ..Default::default()
    };
    let d = common::with_memory(
        Dispatcher::builder(common::node()),
        "lossy",
        &target,
        options,
    )
    .build()
    .unwrap();

    // Never waits although the target is stalled.
    let mut emitted = 0u64;
    for i in 0..N {
        d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
        emitted += 1;
    }
    // Keep emitting until the worker holds one event and the queue is full, so that
    // the acknowledged emit below surely finds no room.
    common::wait_until_async("one event in the worker and a full queue", || {
        if d.stats()[0].queue_depth == 3 {
            return true;
        }
        d.emit(audit!(topics::GENERIC, "more")).unwrap();
        emitted += 1;
        false
    })
    .await;
    let err = d
        .emit_acked(audit!(topics::GENERIC, "acked"))
        .await
        .unwrap_err();
    match &err {
        AckError::NotDelivered { failures, .. } => {
            assert_eq!(failures.len(), 1);
            assert_eq!(failures[0].target, "lossy");
            assert!(failures[0].reason.contains("dropped"), "{err}");
        }
        other => panic!("expected NotDelivered, got {other:?}"),
    }

    target.resume();
    let report = d.shutdown(Duration::from_secs(20)).await;
    let stats = &report.targets[0].stats;
    let delivered = target.events().len() as u64;
    assert_eq!(stats.accepted, emitted + 1);
    assert_eq!(stats.delivered, delivered);
    assert_eq!(
        delivered, 3,
        "one in the worker, two queued; everything else was refused"
    );
    assert_eq!(
        stats.dropped_queue_full + delivered,
        emitted + 1,
        "every event is delivered or counted as dropped"
    );
    assert_eq!(stats.pending(), 0);
    assert!(!report.is_clean(), "drops make a shutdown report unclean");
}
