//! A retryable error makes the worker send the same batch again (with backoff) until
//! the target takes it.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batch_is_resent_until_the_target_takes_it() {
    let target = MemoryTarget::new();
    target.script([
        Scripted::Retryable,
        Scripted::Retryable,
        Scripted::Retryable,
    ]);
    let d = common::with_memory(
        Dispatcher::builder(common::node()),
        "t",
        &target,
        common::quick_retries(),
    )
    .build()
    .unwrap();

    let e = d
        .emit_acked(audit!(topics::GENERIC, "login"))
        .await
        .unwrap();

    assert_eq!(target.send_calls(), 4, "three failures, then success");
    let events = target.events();
    assert_eq!(events.len(), 1, "taken once");
    assert_eq!(events[0].id, e.id);
    let stats = &d.stats()[0];
    assert_eq!(
        (stats.retried, stats.delivered, stats.dead_lettered),
        (3, 1, 0)
    );
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
}
