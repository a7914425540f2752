//! With the default policy a full queue makes `emit` wait (backpressure) instead of
//! dropping; once the target resumes, every event arrives.

use crate::common;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher};

#[test]
fn emitter_blocks_on_full_queue_then_everything_arrives() {
    const N: u64 = 50;
    const CAPACITY: usize = 4;
    let target = MemoryTarget::new();
    target.pause();
    let options = DeliveryOptions {
        queue_capacity: CAPACITY,
        batch_max_events: 2,
        ..Default::default()
    };
    let d = common::with_memory(Dispatcher::builder(common::node()), "t", &target, options)
        .build()
        .unwrap();

    let emitted = Arc::new(AtomicU64::new(0));
    let emitter = {
        let (d, emitted) = (d.clone(), emitted.clone());
        std::thread::spawn(move || {
            for i in 0..N {
                d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
                emitted.fetch_add(1, Ordering::SeqCst);
            }
        })
    };

    // The queue fills up: at most 2 events in the worker's batch plus CAPACITY queued.
    common::wait_until("the queue is full", || {
        d.stats()[0].queue_depth >= CAPACITY as u64
    });
    let stats = d.stats()[0].clone();
    assert!(
        !emitter.is_finished(),
        "the emitter must be waiting, not done: {stats:?}"
    );
    assert!(emitted.load(Ordering::SeqCst) < N);
    assert!(stats.queue_depth <= (CAPACITY + 2) as u64, "{stats:?}");
    assert_eq!(stats.dropped_queue_full, 0);

    target.resume();
    emitter.join().unwrap();
    assert!(d.shutdown_blocking(Duration::from_secs(20)).is_clean());
    let seqs: Vec<u64> = target.events().iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=N).collect::<Vec<_>>(), "every event, in order");
}
