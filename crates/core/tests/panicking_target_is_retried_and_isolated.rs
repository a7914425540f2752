//! A panic inside a target's `send` is caught by its worker, treated as retryable,
//! and does not take the other targets (or the dispatcher) down.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_is_retried_and_other_targets_keep_working() {
    let flaky = MemoryTarget::new();
    let healthy = MemoryTarget::new();
    flaky.script([Scripted::Panic]);
    let b = Dispatcher::builder(common::node());
    let b = common::with_memory(b, "flaky", &flaky, common::quick_retries());
    let d = common::with_memory(b, "healthy", &healthy, Default::default())
        .build()
        .unwrap();

    let first = d.emit_acked(audit!(topics::GENERIC, "one")).await.unwrap();
    let second = d.emit_acked(audit!(topics::GENERIC, "two")).await.unwrap();

    assert_eq!(
        flaky.send_calls(),
        3,
        "the panicking call, its retry, the next event"
    );
    for t in [&flaky, &healthy] {
        let ids: Vec<_> = t.events().iter().map(|e| e.id).collect();
        assert_eq!(ids, [first.id, second.id]);
    }
    assert_eq!(common::stats_of(&d.stats(), "flaky").retried, 1);
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
}
