//! An operator re-sends the dead-letter file the summary names and removes it (or moves
//! it aside): events dead-lettered afterwards are in a new file at that same path, not
//! in the removed inode or in the moved file.

use crate::common;

use std::time::Duration;

use auditrail_core::testing::{MemoryTarget, Scripted};
use auditrail_core::{audit, topics, AckError, Dispatcher};

/// The `authUser` of each dead letter.
fn users(lines: &[serde_json::Value]) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            l["event"]["message"]["authUser"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect()
}

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
async fn dead_letters_after_the_file_is_removed_or_moved_land_at_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let target = MemoryTarget::new();
    target.script([
        Scripted::Permanent,
        Scripted::Permanent,
        Scripted::Permanent,
    ]);
    let b = Dispatcher::builder(common::node()).dead_letter_dir(dir.path());
    let d = common::with_memory(b, "broken", &target, Default::default())
        .build()
        .unwrap();
    let path = dir.path().join("broken.jsonl");

    dead_letter(&d, "first").await;
    assert_eq!(
        users(&common::dead_letters(dir.path(), "broken")),
        ["first"]
    );

    // Re-sent, then removed.
    std::fs::remove_file(&path).unwrap();
    dead_letter(&d, "second").await;
    assert!(path.exists(), "no dead-letter file at {}", path.display());
    assert_eq!(
        users(&common::dead_letters(dir.path(), "broken")),
        ["second"]
    );

    // Re-sent, then moved aside.
    std::fs::rename(&path, dir.path().join("done.jsonl")).unwrap();
    dead_letter(&d, "third").await;
    assert!(path.exists(), "no dead-letter file at {}", path.display());
    assert_eq!(
        users(&common::dead_letters(dir.path(), "broken")),
        ["third"]
    );
    assert_eq!(users(&common::dead_letters(dir.path(), "done")), ["second"]);

    d.shutdown(Duration::from_secs(10)).await;
}
