//! Shutdown ends a batch wait (`batch_max_wait_ms`) at once: the held batch is
//! delivered within the shutdown deadline, not dead-lettered because the wait
//! outlived it.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{DeliveryOptions, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_batch_is_delivered_at_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let target = MemoryTarget::new();
    let options = DeliveryOptions {
        // Far longer than the shutdown deadline and the test's patience.
        batch_max_wait_ms: 3_600_000,
        ..Default::default()
    };
    let b = Dispatcher::builder(common::node()).dead_letter_dir(dir.path());
    let d = common::with_memory(b, "t", &target, options)
        .build()
        .unwrap();
    // The worker holds the fire-and-forget events and waits for more.
    common::hold_a_partial_batch(&d, &target).await;

    let report = tokio::time::timeout(common::PATIENCE, d.shutdown(Duration::from_secs(10))).await;
    let Ok(report) = report else {
        common::fail_leaving(d, "shutdown waited for the batch wait");
    };
    let t = &report.targets[0];
    assert_eq!(
        (t.undelivered, t.stats.delivered, t.stats.dead_lettered),
        (0, 3, 0),
        "{report:?}"
    );
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(target.events().len(), 3);
}
