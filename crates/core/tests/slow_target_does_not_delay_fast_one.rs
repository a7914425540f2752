//! Each target has its own queue and worker: a stalled target does not hold back
//! delivery to another.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher};

#[test]
fn fast_target_gets_everything_while_slow_one_is_stalled() {
    let slow = MemoryTarget::new();
    let fast = MemoryTarget::new();
    slow.pause();
    let b = Dispatcher::builder(common::node());
    let b = common::with_memory(b, "slow", &slow, DeliveryOptions::default());
    let d = common::with_memory(b, "fast", &fast, DeliveryOptions::default())
        .build()
        .unwrap();

    for i in 0..1000u64 {
        d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
    }
    common::wait_until("the fast target has all 1000 events", || {
        fast.events().len() == 1000
    });
    assert!(slow.events().is_empty(), "the slow target is paused");

    slow.resume();
    assert!(d.shutdown_blocking(Duration::from_secs(20)).is_clean());
    assert_eq!(slow.events().len(), 1000);
}
