//! Helpers shared by the integration tests (each test file uses a subset).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use auditrail_core::{DeliveryOptions, Dispatcher, EventDraft, Filter, NodeId};
use serde_json::Value;

/// A dispatcher on its own runtime with one `file` target configured by `config`.
pub(crate) fn dispatcher(node: &str, config: Value) -> Dispatcher {
    dispatcher_with(node, config, DeliveryOptions::default())
}

/// Same, with delivery options.
pub(crate) fn dispatcher_with(node: &str, config: Value, options: DeliveryOptions) -> Dispatcher {
    Dispatcher::builder(NodeId::new(node).unwrap())
        .registered_target(
            "file",
            &auditrail_target_file::REGISTRATION,
            config,
            Filter::all(),
            options,
        )
        .build()
        .unwrap()
}

/// A ~300-byte event.
pub(crate) fn sample(i: usize) -> EventDraft {
    EventDraft::new("generic", "test-event")
        .auth_user(format!("user-{i}"))
        .field("index", i as u64)
        .field("payload", "p".repeat(150))
}

/// Polls `cond` until it holds or `limit` passes (then panics with `what`).
pub(crate) fn wait_until(limit: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The names of the files in `dir`, sorted.
pub(crate) fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    names.sort();
    names
}
