//! A target that answers `Rejected` (or `PartlyTaken`) for an index that is not in the
//! batch (a bug of the target) has refused some event, but which one is unknown. The
//! dispatcher dead-letters the whole batch, saying why, rather than count every event
//! as delivered. Before, the answer was ignored and the batch counted as delivered: an
//! event the target refused was lost without a trace.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refusal_of_no_event_of_the_batch_dead_letters_the_batch() {
    let dir = tempfile::tempdir().unwrap();
    let target = MemoryTarget::new();
    target.script([Scripted::Reject(vec![7])]);
    // One batch of exactly three events.
    let options = DeliveryOptions {
        batch_max_events: 3,
        batch_max_wait_ms: 60_000,
        ..Default::default()
    };
    let b = Dispatcher::builder(common::node()).dead_letter_dir(dir.path());
    let d = common::with_memory(b, "buggy", &target, options)
        .build()
        .unwrap();
    for i in 0..3u64 {
        d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap();
    }
    let _ = tokio::time::timeout(common::PATIENCE, d.flush())
        .await
        .unwrap();

    let stats = &d.stats()[0];
    assert_eq!((stats.delivered, stats.dead_lettered), (0, 3), "{stats:?}");
    let lines = common::dead_letters(dir.path(), "buggy");
    assert_eq!(lines.len(), 3);
    let why = lines[0]["error"].as_str().unwrap();
    assert!(
        why.contains("index 7 of a batch of 3") && why.contains("scripted rejection"),
        "{why}"
    );
    d.shutdown(Duration::from_secs(10)).await;
}
