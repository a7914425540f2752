//! `mode = "tracing"` with a subscriber whose filter disables the audit logger: the
//! event would be recorded nowhere, so it is not delivered. An acknowledged emit fails
//! (handed back, retry later), a plain emit's event is dead-lettered, and the
//! subscriber gets one warning saying so.

#[path = "common/recorder.rs"]
mod recorder;

use std::time::Duration;

use auditrail_core::{
    AckError, DeliveryOptions, Dispatcher, EventDraft, FailureKind, Filter, NodeId,
};
use recorder::Recorder;
use serde_json::json;
use tracing_subscriber::layer::{Layer, SubscriberExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filtered_out_audit_event_is_not_counted_delivered() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = Recorder::default();
    // Our own warnings pass; the audit logger (`audit.*`) does not.
    let filter = tracing_subscriber::filter::Targets::new()
        .with_target("auditrail_target_file", tracing::Level::WARN);
    let subscriber = tracing_subscriber::registry().with(recorder.clone().with_filter(filter));
    let d = tracing::subscriber::with_default(subscriber, || {
        Dispatcher::builder(NodeId::new("node-tr").unwrap())
            .dead_letter_dir(dir.path().join("deadletter"))
            .registered_target(
                "to-tracing",
                &auditrail_target_file::REGISTRATION,
                json!({ "mode": "tracing" }),
                Filter::all(),
                DeliveryOptions::default(),
            )
            .build()
            .unwrap()
    });
    for _ in 0..3 {
        let err = d
            .emit_acked(EventDraft::new("generic", "login"))
            .await
            .expect_err("an event nobody records must not be acknowledged");
        assert!(
            err.to_string().contains("disables logger audit.generic"),
            "{err}"
        );
        assert!(
            matches!(err, AckError::NotDelivered { ref failures, .. } if failures.iter().all(|f| matches!(f.kind, FailureKind::RetryLater { .. }))),
            "{err:?}"
        );
    }
    d.emit(EventDraft::new("generic", "logout")).unwrap();
    let report = d.shutdown(Duration::from_secs(10)).await;
    assert!(!report.is_clean(), "{report:?}");
    let stats = &report.targets[0].stats;
    assert_eq!(stats.delivered, 0, "{stats:?}");
    assert_eq!(stats.handed_back, 3, "{stats:?}");
    assert_eq!(stats.dead_lettered, 1, "{stats:?}");
    let dead = std::fs::read_to_string(dir.path().join("deadletter/to-tracing.jsonl")).unwrap();
    assert_eq!(dead.lines().count(), 1, "{dead}");
    assert!(dead.contains("\"logout\""), "{dead}");

    let events = recorder.events();
    assert_eq!(events.len(), 1, "one warning, once: {events:?}");
    assert_eq!(events[0].level, tracing::Level::WARN);
    assert!(
        events[0].fields["message"].contains("not delivered"),
        "{events:?}"
    );
}
