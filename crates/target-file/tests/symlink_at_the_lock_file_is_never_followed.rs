//! Someone who may write the audit folder replaces the size rotation's lock file by a
//! symbolic link to a path elsewhere while the target runs. Opening the lock file
//! creates it when missing: through the link, that would create (as root, say) a file
//! anywhere. The target instead removes the link and locks a regular file in its
//! folder; nothing is created or written where the link points.

// Test helpers outside `#[test]` functions unwrap too.
#![allow(clippy::unwrap_used)]

use crate::common;

use std::time::Duration;

use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlink_at_the_lock_file_is_never_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("audit");
    let elsewhere = tmp.path().join("created-by-the-target");
    let d = common::dispatcher("node-lock", json!({ "dir": dir, "rotation": "size" }));
    d.emit_acked(common::sample(0)).await.unwrap();

    let lock = dir.join(auditrail_target_file::naming::lock_name("audit.log"));
    std::fs::remove_file(&lock).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &lock).unwrap();
    let later = d.emit_acked(common::sample(1)).await.unwrap().id;
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    assert!(
        !elsewhere.exists(),
        "the lock file was created through the link at {}",
        elsewhere.display()
    );
    assert!(
        std::fs::symlink_metadata(&lock).unwrap().is_file(),
        "{} is not a regular file",
        lock.display()
    );
    let read = auditrail_target_file::read_audit_dir(&dir, "audit.log").unwrap();
    assert_eq!(read.events.last().map(|e| e.id), Some(later));
}
