//! Shared helpers of the dispatcher's integration tests. The in-memory target is
//! right here: these tests are about dispatch logic, not about a medium.

// Test support: a failed setup should stop the test loudly.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::{Duration, Instant};

use auditrail_core::testing::MemoryTarget;
use auditrail_core::{DeliveryOptions, DispatcherBuilder, Filter, NodeId, TargetStats};

/// Generous bound for "eventually": the machine is small and shared.
pub(crate) const PATIENCE: Duration = Duration::from_secs(20);

pub(crate) fn node() -> NodeId {
    NodeId::new("test-node").unwrap()
}

/// Polls `cond` until it holds; fails the test with `what` after [`PATIENCE`].
pub(crate) fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// [`wait_until`] for async tests (yields to the runtime while waiting).
pub(crate) async fn wait_until_async(what: &str, mut cond: impl FnMut() -> bool) {
    let until = Instant::now() + PATIENCE;
    while !cond() {
        assert!(Instant::now() < until, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Emits three fire-and-forget events to `d`, whose only target waits long to fill a
/// batch (`batch_max_wait_ms`), and waits until its worker holds them undelivered.
pub(crate) async fn hold_a_partial_batch(d: &auditrail_core::Dispatcher, target: &MemoryTarget) {
    for i in 0..3u64 {
        d.emit(auditrail_core::audit!(auditrail_core::topics::GENERIC, "tick", "i" => i))
            .unwrap();
    }
    wait_until_async("the worker holds the batch", || {
        d.stats()[0].oldest_undelivered_age.is_some()
    })
    .await;
    assert!(target.events().is_empty(), "the batch waits to fill up");
}

/// Fails the test without dropping `d`: its drop waits for the workers, and a worker
/// stuck in the very wait under test would hang the test instead of failing it.
#[track_caller]
pub(crate) fn fail_leaving(d: auditrail_core::Dispatcher, why: &str) -> ! {
    std::mem::forget(d);
    panic!("{why}");
}

/// Adds a memory target that accepts everything.
pub(crate) fn with_memory(
    b: DispatcherBuilder,
    name: &str,
    target: &MemoryTarget,
    options: DeliveryOptions,
) -> DispatcherBuilder {
    b.target(
        name,
        "memory",
        Filter::all(),
        options,
        Box::new(target.clone()),
    )
}

/// Retries after about a millisecond: fast tests.
pub(crate) fn quick_retries() -> DeliveryOptions {
    DeliveryOptions {
        retry_initial_backoff_ms: 1,
        retry_max_backoff_ms: 2,
        ..Default::default()
    }
}

/// The dead-letter lines of one target, parsed.
pub(crate) fn dead_letters(dir: &Path, target: &str) -> Vec<serde_json::Value> {
    let path = dir.join(format!("{target}.jsonl"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

pub(crate) fn stats_of<'a>(all: &'a [TargetStats], name: &str) -> &'a TargetStats {
    all.iter().find(|s| s.name == name).unwrap()
}

/// Writes `text` to `<tempdir>/<file_name>` and loads it as a node config with the
/// in-memory target registered. Returns the error text and the path.
pub(crate) fn config_error(file_name: &str, text: &str) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(file_name);
    std::fs::write(&path, text).unwrap();
    let registry = auditrail_core::Registry::from_registrations([
        &auditrail_core::testing::MEMORY_REGISTRATION,
    ])
    .unwrap();
    let err = auditrail_core::NodeConfig::load(&path, &registry)
        .map(|_| ())
        .expect_err("the config should be refused");
    (err.to_string(), path.display().to_string())
}
