//! An operator (or a cleanup job) removes the whole audit folder under a running
//! target (`rm -rf audit`): whatever the rotation, the target creates the folder again
//! and the next batches are acknowledged once they are in a file there, instead of
//! failing for ever (`cannot open: No such file or directory`) while the queue fills.
//! With size rotation the lock file that coordinates the rolls of the processes
//! sharing the folder is created again too.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used, clippy::panic)]

use crate::common;

use std::time::Duration;

use serde_json::json;

/// Emits 5 events, removes the folder with everything in it, emits 5 more: the 5 later
/// ones must be acknowledged and readable from the folder.
async fn later_events_survive_the_removal(rotation: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    let d = common::dispatcher(
        "node-folder-removed",
        json!({ "dir": &dir, "rotation": rotation }),
    );
    for i in 0..5 {
        d.emit_acked(common::sample(i)).await.unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
    let mut later = Vec::new();
    for i in 5..10 {
        // A deadline, not a timing assertion: without the folder every write fails and
        // is retried for ever, so the acknowledgement never comes.
        let acked = tokio::time::timeout(Duration::from_secs(30), d.emit_acked(common::sample(i)))
            .await
            .unwrap_or_else(|_| {
                panic!("{rotation}: no acknowledgement 30 s after the folder was removed")
            });
        later.push(acked.unwrap().id);
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let read = auditrail_target_file::read_audit_dir(&dir, "audit.log").unwrap();
    let ids: Vec<_> = read.events.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        later,
        "{rotation}: the events acknowledged after the removal are not in the folder ({:?})",
        common::file_names(&dir)
    );
    assert!(read.torn.is_empty(), "{rotation}: {:?}", read.torn);
    if matches!(rotation, "size" | "never") {
        let lock = dir.join(auditrail_target_file::naming::lock_name("audit.log"));
        assert!(
            lock.exists(),
            "{rotation}: the roll lock file is not in the new folder ({:?})",
            common::file_names(&dir)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily() {
    later_events_survive_the_removal("daily").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly() {
    later_events_survive_the_removal("hourly").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size() {
    later_events_survive_the_removal("size").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never() {
    later_events_survive_the_removal("never").await;
}
