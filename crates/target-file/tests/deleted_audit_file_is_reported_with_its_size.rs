//! The active audit file deleted under a running target is reported at `ERROR`, with
//! its size and the move-to-another-file-system window: such a move copies the file,
//! then deletes it, and lines acknowledged between the two are in neither file. It was
//! a `WARN` that spoke of a deletion only, so that loss went unnoticed.
//!
//! A process of its own: it records the process's tracing events.
#![allow(clippy::unwrap_used)]

#[path = "common/recorder.rs"]
mod recorder;

use std::time::Duration;

use auditrail_core::{DeliveryOptions, Dispatcher, EventDraft, Filter, NodeId};
use recorder::Recorder;
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_then_delete_is_reported_with_the_size_the_copy_must_have() {
    let recorder = Recorder::default();
    tracing::subscriber::set_global_default(tracing_subscriber::registry().with(recorder.clone()))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let d = Dispatcher::builder(NodeId::new("node-moved").unwrap())
        .registered_target(
            "file",
            &auditrail_target_file::REGISTRATION,
            json!({ "dir": dir.path(), "fsync": false }),
            Filter::all(),
            DeliveryOptions::default(),
        )
        .build()
        .unwrap();
    let path = dir.path().join("audit.log");
    for i in 0..3u64 {
        d.emit_acked(EventDraft::new("generic", "login").field("i", i))
            .await
            .unwrap();
    }
    // `mv audit.log /other-disk/`: the copy ...
    let copy = elsewhere.path().join("audit.log");
    std::fs::copy(&path, &copy).unwrap();
    // ... an event acknowledged meanwhile ...
    d.emit_acked(EventDraft::new("generic", "login").field("i", 3u64))
        .await
        .unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    // ... and the deletion.
    std::fs::remove_file(&path).unwrap();
    d.emit_acked(EventDraft::new("generic", "login").field("i", 4u64))
        .await
        .unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    assert!(std::fs::metadata(&copy).unwrap().len() < size);
    let events = recorder.events();
    let reported = events
        .iter()
        .find(|e| {
            e.level == tracing::Level::ERROR
                && e.fields
                    .get("message")
                    .is_some_and(|m| m.contains("was deleted by another program"))
        })
        .unwrap_or_else(|| panic!("no ERROR about the deletion: {events:?}"));
    assert_eq!(
        reported.fields.get("size_when_deleted"),
        Some(&size.to_string()),
        "{reported:?}"
    );
    assert!(
        reported.fields["message"].contains("moved to another file system"),
        "{reported:?}"
    );
    assert_eq!(
        reported.fields.get("path").map(String::as_str),
        Some(path.to_str().unwrap()),
        "{reported:?}"
    );
    assert!(reported.fields.contains_key("deleted_at"), "{reported:?}");
}
