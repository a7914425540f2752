//! A target's queue that fills during `emit_batch` (from an ordinary thread) is met as
//! `emit` meets it, event by event: `on_full = "block"` waits for room and loses
//! nothing, in order; `on_full = "drop"` drops for that target the events that find
//! it full, counted, and the batch is still `Ok` (as `emit` is).

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, OnFull};

#[test]
fn block_waits_for_room_and_delivers_every_event_in_order() {
    const N: u64 = 600;
    let target = MemoryTarget::new();
    let options = DeliveryOptions {
        queue_capacity: 4,
        batch_max_events: 1,
        ..Default::default()
    };
    let d = common::with_memory(Dispatcher::builder(common::node()), "t", &target, options)
        .build()
        .unwrap();
    let emitted = d
        .emit_batch((0..N).map(|i| audit!(topics::GENERIC, "batched", "i" => i)))
        .unwrap();
    assert_eq!(emitted.len(), N as usize);
    assert!(d.shutdown_blocking(Duration::from_secs(30)).is_clean());
    let delivered: Vec<_> = target.events().iter().map(|e| (e.seq, e.id)).collect();
    let answered: Vec<_> = emitted.iter().map(|e| (e.seq, e.id)).collect();
    assert_eq!(delivered, answered);
    let stats = d.stats();
    assert_eq!((stats[0].accepted, stats[0].delivered), (N, N));
}

#[test]
fn drop_counts_each_event_that_found_the_queue_full() {
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
    // Never waits although the target is stalled; every event was emitted.
    let emitted = d
        .emit_batch((0..N).map(|i| audit!(topics::GENERIC, "tick", "i" => i)))
        .unwrap();
    assert_eq!(emitted.len(), N as usize);
    let dropped = d.stats()[0].dropped_queue_full;
    // The queue holds 2, the worker at most 1 more.
    assert!(dropped >= N - 3, "{dropped} dropped");
    target.resume();
    let report = d.shutdown_blocking(Duration::from_secs(30));
    assert_eq!(report.targets[0].undelivered, 0, "{report:?}");
    let stats = d.stats();
    assert_eq!(stats[0].accepted, N);
    assert_eq!(stats[0].dropped_queue_full, dropped);
    assert_eq!(
        target.events().len() as u64 + dropped,
        N,
        "each one delivered or counted dropped"
    );
}
