//! A rotation tool (logrotate's default `create` mode) or an operator moves the active
//! audit file away under a running target: whatever the rotation, the next batches go
//! to a file at the target's path, not into the moved file, and the moved file keeps
//! what it held.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use serde_json::json;

async fn later_events_go_to_the_path_not_the_moved_file(rotation: &str, recreate: bool) {
    let dir = tempfile::tempdir().unwrap();
    let moved = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        "node-moved",
        json!({ "dir": dir.path(), "rotation": rotation }),
    );
    let mut earlier = Vec::new();
    for i in 0..5 {
        earlier.push(d.emit_acked(common::sample(i)).await.unwrap().id);
    }
    let active = auditrail_target_file::audit_files(dir.path(), "audit.log").unwrap();
    assert_eq!(active.len(), 1, "{rotation}: {active:?}");
    let active = active[0].clone();
    let aside = moved.path().join("rotated.log");
    std::fs::rename(&active, &aside).unwrap();
    if recreate {
        // logrotate `create`: an empty file takes the name at once.
        std::fs::write(&active, b"").unwrap();
    }
    let mut later = Vec::new();
    for i in 5..10 {
        later.push(d.emit_acked(common::sample(i)).await.unwrap().id);
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let kept = auditrail_target_file::read_audit_file(&aside).unwrap();
    let kept: Vec<_> = kept.events.iter().map(|e| e.id).collect();
    assert_eq!(kept, earlier, "{rotation}: the moved file changed");
    let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    let ids: Vec<_> = read.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, later, "{rotation} (recreate: {recreate})");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily() {
    later_events_go_to_the_path_not_the_moved_file("daily", false).await;
    later_events_go_to_the_path_not_the_moved_file("daily", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly() {
    later_events_go_to_the_path_not_the_moved_file("hourly", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size() {
    later_events_go_to_the_path_not_the_moved_file("size", false).await;
    later_events_go_to_the_path_not_the_moved_file("size", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never() {
    later_events_go_to_the_path_not_the_moved_file("never", true).await;
}
