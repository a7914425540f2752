//! Someone who may write the dead-letter folder replaces the dead-letter file by a
//! symbolic link to a file elsewhere (`/etc/...` when the node runs as root). The next
//! dead letter must not be appended through the link: the link is replaced by a
//! regular file at the same path, which holds the line, and the file the link pointed
//! to is left as it was.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, AckError, Dispatcher};

/// Emits an event for `user` and waits until the target refused it for good.
async fn dead_letter(d: &Dispatcher, user: &str) {
    let err = d
        .emit_acked(audit!(topics::AUTHFAIL, "login-failed", "authUser" => user))
        .await
        .err();
    assert!(
        matches!(&err, Some(AckError::NotDelivered { failures, .. })
            if failures[0].reason.contains("scripted permanent failure")),
        "{err:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letter_file_replaced_by_a_link_is_not_written_through() {
    let dir = tempfile::tempdir().unwrap();
    let letters = dir.path().join("deadletter");
    let outside = dir.path().join("outside.txt");
    std::fs::write(&outside, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    let target = MemoryTarget::new();
    target.script([Scripted::Permanent, Scripted::Permanent]);
    let b = Dispatcher::builder(common::node()).dead_letter_dir(&letters);
    let d = common::with_memory(b, "broken", &target, Default::default())
        .build()
        .unwrap();
    let path = letters.join("broken.jsonl");

    dead_letter(&d, "first").await;
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(&outside, &path).unwrap();
    dead_letter(&d, "second").await;
    d.shutdown(Duration::from_secs(10)).await;

    assert_eq!(
        std::fs::read_to_string(&outside).unwrap(),
        "root:x:0:0:root:/root:/bin/bash\n",
        "a dead letter was written through the link"
    );
    assert!(
        std::fs::symlink_metadata(&path).unwrap().is_file(),
        "{} is not a regular file",
        path.display()
    );
    let lines = common::dead_letters(&letters, "broken");
    let users: Vec<_> = lines
        .iter()
        .map(|l| {
            l["event"]["message"]["authUser"]
                .as_str()
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(users, ["second"]);
}
