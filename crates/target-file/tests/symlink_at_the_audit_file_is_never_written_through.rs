//! Someone who may write the audit folder replaces the audit file by a symbolic link to
//! a file elsewhere (`/etc/passwd` when the node runs as root) while the target runs.
//! Whatever the rotation, no audit line is written through the link: the link is
//! removed, the later batches are acknowledged only once they are in a regular file at
//! the target's path, where the readers find them, and the linked file is untouched.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use serde_json::json;

const OUTSIDE: &str = "root:x:0:0:root:/root:/bin/bash\n";

/// Emits 5 events, replaces every audit file of the folder by a link to a file outside
/// it, emits 5 more: the 5 later ones must be readable from the folder, and the file
/// outside unchanged.
async fn later_events_stay_in_the_folder(rotation: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    let outside = tmp.path().join("outside.txt");
    std::fs::write(&outside, OUTSIDE).unwrap();
    let d = common::dispatcher("node-linked", json!({ "dir": dir, "rotation": rotation }));
    for i in 0..5 {
        d.emit_acked(common::sample(i)).await.unwrap();
    }
    let audit_files = auditrail_target_file::audit_files(&dir, "audit.log").unwrap();
    assert!(!audit_files.is_empty(), "{rotation}: no audit file");
    for f in &audit_files {
        std::fs::remove_file(f).unwrap();
        std::os::unix::fs::symlink(&outside, f).unwrap();
    }
    let mut later = Vec::new();
    for i in 5..10 {
        later.push(d.emit_acked(common::sample(i)).await.unwrap().id);
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        OUTSIDE,
        "{rotation}: audit lines were written through the link"
    );
    for f in auditrail_target_file::audit_files(&dir, "audit.log").unwrap() {
        assert!(
            std::fs::symlink_metadata(&f).unwrap().is_file(),
            "{rotation}: {} is not a regular file",
            f.display()
        );
    }
    let read = auditrail_target_file::read_audit_dir(&dir, "audit.log").unwrap();
    let ids: Vec<_> = read.events.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        later,
        "{rotation}: the events acknowledged after the link was put are not in the folder \
         ({:?})",
        common::file_names(&dir)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daily() {
    later_events_stay_in_the_folder("daily").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hourly() {
    later_events_stay_in_the_folder("hourly").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn size() {
    later_events_stay_in_the_folder("size").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn never() {
    later_events_stay_in_the_folder("never").await;
}
