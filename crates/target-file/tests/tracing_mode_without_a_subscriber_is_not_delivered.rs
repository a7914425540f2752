//! `mode = "tracing"` in a program without any tracing subscriber (none where the
//! dispatcher was built, no global default): the event would go nowhere, so it is not
//! delivered. The acknowledged emit fails naming the cause, a plain emit's event is
//! dead-lettered, and the shutdown report is not clean.

use std::time::Duration;

use auditrail_core::{Dispatcher, EventDraft, NodeId};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_audit_event_with_no_subscriber_is_not_counted_delivered() {
    // This test binary installs no subscriber anywhere.
    assert!(!tracing::dispatcher::has_been_set());
    let dir = tempfile::tempdir().unwrap();
    let d = Dispatcher::builder(NodeId::new("node-none").unwrap())
        .dead_letter_dir(dir.path().join("deadletter"))
        .registered_target(
            "local",
            &auditrail_target_file::REGISTRATION,
            json!({ "mode": "tracing" }),
            auditrail_core::Filter::all(),
            auditrail_core::DeliveryOptions::default(),
        )
        .build()
        .unwrap();
    let err = d
        .emit_acked(EventDraft::new("generic", "login").auth_user("alice"))
        .await
        .expect_err("an event recorded nowhere must not be acknowledged");
    assert!(
        err.to_string()
            .contains("no tracing subscriber is installed"),
        "{err}"
    );
    d.emit(EventDraft::new("generic", "logout")).unwrap();
    let report = d.shutdown(Duration::from_secs(10)).await;
    assert!(!report.is_clean(), "{report:?}");
    let stats = &report.targets[0].stats;
    assert_eq!(stats.delivered, 0, "{stats:?}");
    assert_eq!(stats.handed_back, 1, "{stats:?}");
    assert_eq!(stats.dead_lettered, 1, "{stats:?}");
    let dead = std::fs::read_to_string(dir.path().join("deadletter/local.jsonl")).unwrap();
    assert!(dead.contains("\"logout\""), "{dead}");
    assert!(
        dead.contains("no tracing subscriber is installed"),
        "{dead}"
    );
}
