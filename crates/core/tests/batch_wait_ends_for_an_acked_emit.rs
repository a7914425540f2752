//! A batch waiting to fill up (`batch_max_wait_ms`) goes out at once when an
//! acknowledged emit is in it: its emitter waits, so the batch wait is not worth it.

// Test setup: a failed build should stop the test loudly.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher};

/// Far longer than the test may take: only a batch wait that is cut short lets the
/// acknowledgement resolve within [`common::PATIENCE`].
fn an_hour_of_batch_wait() -> DeliveryOptions {
    DeliveryOptions {
        batch_max_wait_ms: 3_600_000,
        ..Default::default()
    }
}

/// A dispatcher whose only target, `target`, waits [`an_hour_of_batch_wait`].
fn waiting_an_hour(target: &MemoryTarget) -> Dispatcher {
    common::with_memory(
        Dispatcher::builder(common::node()),
        "t",
        target,
        an_hour_of_batch_wait(),
    )
    .build()
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acked_emit_ends_the_wait_of_a_held_batch() {
    let target = MemoryTarget::new();
    let d = waiting_an_hour(&target);
    // The worker holds the fire-and-forget events and waits for more.
    common::hold_a_partial_batch(&d, &target).await;

    let acked = tokio::time::timeout(
        common::PATIENCE,
        d.emit_acked(audit!(topics::GENERIC, "login", "authUser" => "alice")),
    )
    .await;
    let Ok(acked) = acked else {
        common::fail_leaving(d, "the acknowledged emit waited for the batch wait");
    };
    acked.unwrap();
    assert_eq!(target.events().len(), 4, "the whole held batch went out");
    assert_eq!(d.stats()[0].delivered, 4);
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_acked_emit_does_not_wait_for_more_events() {
    let target = MemoryTarget::new();
    let d = waiting_an_hour(&target);

    let acked = tokio::time::timeout(
        common::PATIENCE,
        d.emit_acked(audit!(topics::GENERIC, "login", "authUser" => "alice")),
    )
    .await;
    let Ok(acked) = acked else {
        common::fail_leaving(d, "the acknowledged emit waited for the batch wait");
    };
    acked.unwrap();
    assert_eq!(target.events().len(), 1);
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
}
