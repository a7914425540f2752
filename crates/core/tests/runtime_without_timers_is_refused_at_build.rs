//! A user-provided runtime without timers is refused when the dispatcher is built,
//! with a message saying how to fix it, instead of letting a worker die later (with
//! its queue) on its first idle tick, retry or shutdown deadline.

use crate::common;

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{Dispatcher, DispatcherError};

#[test]
fn runtime_without_timers_is_refused() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let err = common::with_memory(
        Dispatcher::builder(common::node()),
        "t",
        &MemoryTarget::new(),
        Default::default(),
    )
    .runtime(rt.handle().clone())
    .build()
    .expect_err("a runtime without timers must be refused");
    assert!(matches!(err, DispatcherError::Setup(_)), "{err}");
    assert!(err.to_string().contains("enable_time()"), "{err}");
}
