//! An operator moves the store's checkpoint log to another disk while the server runs
//! and leaves a symbolic link in its place (`mv`, `ln -s`). Through the link the log is
//! the same file (`stat` finds the same inode), so the server went on sealing into the
//! moved file and answering `200`, and only its next start refused the store. Now a link
//! at the log's path is a log not at its path: a batch gets `503 unsealed` and nothing
//! is appended through the link; once the file is back in place of the link, the same
//! retry is acknowledged with a receipt, sealed in the one log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

const CONFIG: &str =
    "ack_timeout_ms = 1500\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_not_acknowledged_while_the_checkpoint_log_is_behind_a_link() {
    let s = start(CONFIG).await;
    let (status, _, answer) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200, "{answer}");
    let log = s.store().join("checkpoints.jsonl");
    let other_disk = s.dir.path().join("other-disk");
    std::fs::create_dir(&other_disk).unwrap();
    let moved = other_disk.join("checkpoints.jsonl");
    std::fs::rename(&log, &moved).unwrap();
    std::os::unix::fs::symlink(&moved, &log).unwrap();
    let sealed_before = std::fs::read(&moved).unwrap();

    let batch = ndjson(&[event("n1", 2), event("n1", 3)]);
    let (status, _, answer) = post(&s, batch.clone(), None).await;
    assert_eq!(
        (status, answer["error"].as_str()),
        (503, Some("unsealed")),
        "acknowledged with its seal written through a link: {answer}"
    );
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("checkpoints.jsonl") && message.contains("symbolic link"),
        "{message}"
    );
    assert_eq!(
        std::fs::read(&moved).unwrap(),
        sealed_before,
        "a seal went through the link into the moved file"
    );

    std::fs::remove_file(&log).unwrap();
    std::fs::rename(&moved, &log).unwrap();
    let (status, _, answer) = post(&s, batch, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["duplicates"], 2, "{answer}");
    assert!(answer["receipt"].is_object(), "{answer}");
    s.running.shutdown().await;
}
