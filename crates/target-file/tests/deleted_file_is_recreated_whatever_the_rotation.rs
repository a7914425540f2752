//! An operator (or a cleanup job) deletes the active audit file under a running target:
//! whatever the rotation, the next batches are acknowledged only once they are in a
//! file at the target's path (a new one), never in the unlinked inode.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use serde_json::json;

/// Emits 5 events, deletes every file of the folder, emits 5 more: the 5 later ones
/// must be readable from the folder.
async fn later_events_survive_the_deletion(rotation: &str) {
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        "node-deleted",
        json!({ "dir": dir.path(), "rotation": rotation }),
    );
    for i in 0..5 {
        d.emit_acked(common::sample(i)).await.unwrap();
    }
    let audit_files = auditrail_target_file::audit_files(dir.path(), "audit.log").unwrap();
    assert!(!audit_files.is_empty(), "{rotation}: no audit file");
    for f in &audit_files {
        std::fs::remove_file(f).unwrap();
    }
    let mut later = Vec::new();
    for i in 5..10 {
        later.push(d.emit_acked(common::sample(i)).await.unwrap().id);
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    let ids: Vec<_> = read.events.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        later,
        "{rotation}: the events acknowledged after the deletion are not in the folder ({:?})",
        common::file_names(dir.path())
    );
    assert!(read.torn.is_empty(), "{rotation}: {:?}", read.torn);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily() {
    later_events_survive_the_deletion("daily").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly() {
    later_events_survive_the_deletion("hourly").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size() {
    later_events_survive_the_deletion("size").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never() {
    later_events_survive_the_deletion("never").await;
}
