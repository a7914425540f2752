//! A write error (here a full disk: `testing::fill_disk` fails the target's writes under
//! the folder with the OS's `ENOSPC`, as a full mount would; a symbolic link to
//! `/dev/full` at the file's name no longer works, the target refuses to write through
//! links) is a retryable error naming the file; the dispatcher counts it and keeps the
//! batch, and delivers it once space is back. Nothing already written is harmed.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use auditrail_core::{DeliveryOptions, EventDraft, NodeId, Target, TargetError};
use auditrail_target_file::{FileTarget, FileTargetConfig};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_a_retryable_error_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let _full = auditrail_target_file::testing::fill_disk(dir.path());
    let mut target = FileTarget::open(&FileTargetConfig {
        dir: Some(dir.path().into()),
        ..Default::default()
    })
    .unwrap();
    let event = Arc::new(
        EventDraft::new("generic", "login")
            .complete(&NodeId::new("n1").unwrap(), || 1)
            .unwrap(),
    );
    match target.send(&[event]).await {
        Err(TargetError::Retryable { message, .. }) => {
            assert!(message.contains("audit.log"), "{message}");
            assert!(message.contains("No space left on device"), "{message}");
        }
        other => panic!("expected a retryable error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dispatcher_retries_until_space_is_back_and_keeps_earlier_lines() {
    let dir = tempfile::tempdir().unwrap();
    let active = dir.path().join("audit.log");
    let options = DeliveryOptions {
        retry_initial_backoff_ms: 10,
        retry_max_backoff_ms: 50,
        ..Default::default()
    };
    let d = common::dispatcher_with("node-full", json!({ "dir": dir.path() }), options);
    let before = d.emit_acked(common::sample(0)).await.unwrap();

    // The disk fills up.
    let full = auditrail_target_file::testing::fill_disk(dir.path());
    let d2 = d.clone();
    let pending = tokio::spawn(async move { d2.emit_acked(common::sample(1)).await });
    let stats = d.clone();
    tokio::task::spawn_blocking(move || {
        common::wait_until(Duration::from_secs(20), "a retried write", || {
            stats.stats()[0].retried > 0
        })
    })
    .await
    .unwrap();
    assert!(
        !pending.is_finished(),
        "acknowledged while the disk was full"
    );

    // Space is back: the batch goes through.
    drop(full);
    let after = pending.await.unwrap().unwrap();
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let read = auditrail_target_file::read_audit_file(&active).unwrap();
    let ids: Vec<_> = read.events.iter().map(|e| e.id).collect();
    assert_eq!(ids, [before.id, after.id]);
    assert!(read.torn.is_empty());
}
