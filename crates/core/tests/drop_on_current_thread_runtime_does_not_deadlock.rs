//! Dropping a dispatcher (without shutdown) that runs on a user's current-thread
//! runtime must not block that runtime's thread waiting for its own workers: the
//! drop starts the shutdown and the workers still deliver what was queued.
//! `shutdown_blocking` on that runtime likewise returns instead of hanging.

use crate::common;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, Dispatcher};

#[tokio::test] // current-thread runtime
async fn drop_starts_shutdown_and_queued_events_are_still_delivered() {
    let target = MemoryTarget::new();
    let d = common::with_memory(
        Dispatcher::builder(common::node()),
        "t",
        &target,
        Default::default(),
    )
    .runtime(tokio::runtime::Handle::current())
    .build()
    .unwrap();
    for _ in 0..10 {
        d.emit(audit!(topics::GENERIC, "tick")).unwrap();
    }
    drop(d); // would deadlock if it blocked this thread
    common::wait_until_async("the queued events are delivered", || {
        target.events().len() == 10
    })
    .await;
    common::wait_until_async("the target is shut down", || {
        target.flushes_and_shutdowns().1 == 1
    })
    .await;
}

#[tokio::test] // current-thread runtime
async fn shutdown_blocking_on_its_own_runtime_returns_and_says_why() {
    let target = MemoryTarget::new();
    let d = common::with_memory(
        Dispatcher::builder(common::node()),
        "t",
        &target,
        Default::default(),
    )
    .runtime(tokio::runtime::Handle::current())
    .build()
    .unwrap();
    d.emit(audit!(topics::GENERIC, "tick")).unwrap();
    let report = d.shutdown_blocking(std::time::Duration::from_secs(10));
    let why = report.targets[0].error.as_deref().unwrap();
    assert!(why.contains("shutdown().await"), "{why}");
    // The drain was started; awaiting the real shutdown completes it.
    let report = d.shutdown(std::time::Duration::from_secs(10)).await;
    assert_eq!(report.targets[0].stats.delivered, 1, "{report:?}");
    assert_eq!(target.events().len(), 1);
}
