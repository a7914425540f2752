//! With `send_timeout_ms`, a `send` that hangs is abandoned and retried (visible in
//! the `retried` counter) instead of stalling silently; once the target answers again
//! the event is delivered.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hung_send_is_timed_out_and_retried() {
    let target = MemoryTarget::new();
    target.pause(); // `send` hangs
    let options = DeliveryOptions {
        send_timeout_ms: Some(20),
        ..common::quick_retries()
    };
    let d = common::with_memory(
        Dispatcher::builder(common::node()),
        "hangs",
        &target,
        options,
    )
    .build()
    .unwrap();

    let acked = {
        let d = d.clone();
        tokio::spawn(async move { d.emit_acked(audit!(topics::GENERIC, "login")).await })
    };
    common::wait_until_async("the hung send was retried", || d.stats()[0].retried >= 2).await;
    assert!(!acked.is_finished());

    target.resume();
    tokio::time::timeout(common::PATIENCE, acked)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(target.events().len(), 1);
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
}
