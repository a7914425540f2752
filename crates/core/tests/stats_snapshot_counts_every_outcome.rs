//! The per-target stats snapshot counts accepted, delivered, retried, dead-lettered
//! events, and shows queue depth and the age of the oldest undelivered event.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, Dispatcher};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_reflects_each_outcome() {
    let dir = tempfile::tempdir().unwrap();
    let target = MemoryTarget::new();
    let b = Dispatcher::builder(common::node()).dead_letter_dir(dir.path());
    let d = common::with_memory(b, "t", &target, common::quick_retries())
        .build()
        .unwrap();

    target.script([Scripted::Retryable]);
    d.emit_acked(audit!(topics::GENERIC, "retried-then-taken"))
        .await
        .unwrap();
    target.script([Scripted::Permanent]);
    d.emit_acked(audit!(topics::GENERIC, "dead-lettered"))
        .await
        .unwrap_err();

    let s = d.stats()[0].clone();
    assert_eq!((s.name.as_str(), s.type_name.as_str()), ("t", "memory"));
    assert_eq!(
        (s.accepted, s.delivered, s.retried, s.dead_lettered),
        (2, 1, 1, 1)
    );
    assert_eq!((s.queue_depth, s.oldest_undelivered_age), (0, None));

    target.pause();
    d.emit(audit!(topics::GENERIC, "waiting-1")).unwrap();
    d.emit(audit!(topics::GENERIC, "waiting-2")).unwrap();
    common::wait_until_async("the worker holds the waiting events", || {
        let s = &d.stats()[0];
        s.queue_depth == 2 && s.oldest_undelivered_age.is_some()
    })
    .await;
    let s = d.stats()[0].clone();
    assert_eq!((s.accepted, s.delivered, s.pending()), (4, 1, 2));

    target.resume();
    // The event dead-lettered above (since the start, no flush before) is reported.
    let flushed = d.flush().await.unwrap_err();
    assert!(
        flushed.len() == 1 && flushed[0].1.to_string().contains("1 dead-lettered to "),
        "{flushed:?}"
    );
    let s = d.stats()[0].clone();
    assert_eq!(
        (s.accepted, s.delivered, s.retried, s.dead_lettered),
        (4, 3, 1, 1)
    );
    assert_eq!(
        (s.queue_depth, s.oldest_undelivered_age, s.pending()),
        (0, None, 0)
    );
    assert_eq!((s.dropped_queue_full, s.lost), (0, 0));

    // The snapshot serializes (for `auditrail stats`-style output).
    let json = serde_json::to_value(&s).unwrap();
    assert_eq!(json["delivered"], 3);
    d.shutdown(Duration::from_secs(10)).await;
}
