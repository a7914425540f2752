//! A sync `emit` that waits for queue room from inside a multi-thread runtime with a
//! single worker (which also runs the dispatcher's workers) lets the runtime keep
//! going while it waits, instead of deadlocking it.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher};

#[test]
fn emit_with_full_queue_on_the_only_worker_thread_completes() {
    let target = MemoryTarget::new();
    let t = target.clone();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    // Run the scenario on its own thread so that a deadlock fails the test instead of
    // hanging it.
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            tokio::spawn(async move {
                let options = DeliveryOptions {
                    queue_capacity: 2,
                    batch_max_events: 1,
                    ..Default::default()
                };
                let d = common::with_memory(Dispatcher::builder(common::node()), "t", &t, options)
                    .runtime(tokio::runtime::Handle::current())
                    .build()
                    .unwrap();
                // On the runtime's only worker thread: the queue fills after a few events.
                for i in 0..200u64 {
                    d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
                }
                d.shutdown(Duration::from_secs(10)).await
            })
            .await
            .unwrap()
        });
        let _ = done_tx.send(());
    });
    done_rx
        .recv_timeout(common::PATIENCE)
        .expect("emit deadlocked the single-worker runtime");
    assert_eq!(target.events().len(), 200);
}
