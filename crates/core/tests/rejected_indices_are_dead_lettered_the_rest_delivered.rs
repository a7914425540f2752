//! `TargetError::Rejected` dead-letters exactly the listed events of a batch; the
//! others count as delivered.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_rejected_event_is_dead_lettered() {
    let dir = tempfile::tempdir().unwrap();
    let target = MemoryTarget::new();
    target.script([Scripted::Reject(vec![1])]);
    // One batch of exactly three events.
    let options = DeliveryOptions {
        batch_max_events: 3,
        batch_max_wait_ms: 60_000,
        ..Default::default()
    };
    let b = Dispatcher::builder(common::node()).dead_letter_dir(dir.path());
    let d = common::with_memory(b, "picky", &target, options)
        .build()
        .unwrap();

    let events: Vec<_> = (0..3u64)
        .map(|i| d.emit(audit!(topics::GENERIC, "tick", "i" => i)).unwrap())
        .collect();
    // The flush says one event it flushed was not delivered.
    let flushed = d.flush().await.unwrap_err();
    assert_eq!(flushed.len(), 1, "{flushed:?}");
    assert_eq!(flushed[0].0, "picky");
    assert!(
        flushed[0].1.to_string().contains("1 dead-lettered to "),
        "{flushed:?}"
    );

    assert_eq!(target.batch_sizes(), [2]);
    let taken: Vec<_> = target.events().iter().map(|e| e.id).collect();
    assert_eq!(taken, [events[0].id, events[2].id]);
    let lines = common::dead_letters(dir.path(), "picky");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["event"]["id"], events[1].id.to_string());
    assert_eq!(lines[0]["error"], "scripted rejection");
    let stats = &d.stats()[0];
    assert_eq!(
        (stats.delivered, stats.dead_lettered, stats.pending()),
        (2, 1, 0)
    );
    d.shutdown(Duration::from_secs(10)).await;
}
