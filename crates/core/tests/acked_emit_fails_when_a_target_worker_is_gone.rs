//! If a target's worker is gone (here: the user-provided runtime it ran on was shut
//! down), an acknowledged emit fails at once naming that target, and the event is
//! counted as lost: never a silent loss, never an ack that hangs.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{audit, topics, AckError, Dispatcher};

#[test]
fn ack_fails_and_loss_is_counted_when_the_worker_is_gone() {
    let workers_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let target = MemoryTarget::new();
    let d = common::with_memory(
        Dispatcher::builder(common::node()),
        "t",
        &target,
        Default::default(),
    )
    .runtime(workers_rt.handle().clone())
    .build()
    .unwrap();
    workers_rt.shutdown_timeout(Duration::from_secs(5)); // the worker task is dropped

    let caller_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = caller_rt
        .block_on(async {
            tokio::time::timeout(common::PATIENCE, d.emit_acked(audit!(topics::GENERIC, "x"))).await
        })
        .expect("the ack must not hang")
        .unwrap_err();
    let AckError::NotDelivered { failures, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(failures[0].target, "t");
    assert!(failures[0].reason.contains("worker is gone"), "{err}");
    assert_eq!(d.stats()[0].lost, 1);
    assert!(target.events().is_empty());
}
