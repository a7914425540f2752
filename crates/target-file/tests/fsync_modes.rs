//! `fsync = true` (the default) and `fsync = false` both deliver, and an
//! acknowledged event is readable from the file at once. (Whether the kernel really
//! flushed to the device is not observable from a test; the fsync calls' errors are,
//! and a failing fsync would fail the acknowledgement.)

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use serde_json::json;

async fn acknowledged_events_are_in_the_file(fsync: Option<bool>, rotation: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut config = json!({ "dir": dir.path(), "rotation": rotation });
    if let Some(f) = fsync {
        config["fsync"] = json!(f);
    }
    let d = common::dispatcher("node-fsync", config);
    for i in 0..20 {
        let e = d.emit_acked(common::sample(i)).await.unwrap();
        let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
        assert_eq!(read.events.last().map(|x| x.id), Some(e.id));
    }
    // A burst of fire-and-forget events, delivered in larger batches.
    for i in 0..500 {
        d.emit_async(common::sample(i)).await.unwrap();
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    assert_eq!(read.events.len(), 520);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fsync_by_default_size_rotation() {
    acknowledged_events_are_in_the_file(None, "size").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fsync_with_hourly_rotation() {
    acknowledged_events_are_in_the_file(Some(true), "hourly").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_fsync() {
    acknowledged_events_are_in_the_file(Some(false), "size").await;
    acknowledged_events_are_in_the_file(Some(false), "daily").await;
}
