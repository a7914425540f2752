//! On the current-thread runtime that runs the dispatcher's workers, a sync `emit`
//! that would have to wait for queue room cannot wait (the workers only run when this
//! thread yields): it refuses with `WouldBlock` instead of deadlocking, queues
//! nothing, and `emit_async` waits properly.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, EmitError};

#[tokio::test] // current-thread runtime
async fn full_queue_gives_would_block_and_emit_async_waits() {
    let target = MemoryTarget::new();
    let options = DeliveryOptions {
        queue_capacity: 1,
        batch_max_events: 1,
        ..Default::default()
    };
    let d = common::with_memory(Dispatcher::builder(common::node()), "t", &target, options)
        .runtime(tokio::runtime::Handle::current())
        .build()
        .unwrap();

    // The worker has not run yet (this thread has not yielded): one event fills the queue.
    let first = d.emit(audit!(topics::GENERIC, "first")).unwrap();
    let err = d.emit(audit!(topics::GENERIC, "second")).unwrap_err();
    assert_eq!(err, EmitError::WouldBlock { target: "t".into() });
    assert!(err.to_string().contains("emit_async"), "{err}");
    assert_eq!(d.stats()[0].accepted, 1, "the refused event was not queued");

    // The async form waits for room while the worker runs on this same thread.
    let second = d
        .emit_async(audit!(topics::GENERIC, "second"))
        .await
        .unwrap();
    assert_eq!(
        second.seq,
        first.seq + 1,
        "the refusal consumed no sequence number"
    );
    let report = d.shutdown(Duration::from_secs(10)).await;
    assert!(report.is_clean(), "{report:?}");
    assert_eq!(target.events().len(), 2);
}
