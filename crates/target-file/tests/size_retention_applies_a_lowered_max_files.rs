//! `max_files` lowered between two runs (6, then 3) with `rotation = "size"`: the next
//! roll removes every file beyond the new limit, not only `audit.log.2`. The files
//! beyond it (`audit.log.3` … `.5`) stayed for ever, never shifted nor removed, and the
//! folder kept more than `max_files` files.

use crate::common;

use std::time::Duration;

use auditrail_core::DeliveryOptions;
use serde_json::json;

async fn run(dir: &std::path::Path, max_files: usize, events: usize) {
    let d = common::dispatcher_with(
        "node-lowered",
        json!({ "dir": dir, "max_bytes": 1, "max_files": max_files, "fsync": false }),
        DeliveryOptions {
            batch_max_events: 1,
            ..Default::default()
        },
    );
    for i in 0..events {
        d.emit_acked(common::sample(i)).await.unwrap();
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lowered_max_files_is_applied_at_the_next_roll() {
    let dir = tempfile::tempdir().unwrap();
    run(dir.path(), 6, 8).await;
    assert_eq!(
        common::file_names(dir.path()),
        [
            ".audit.log.lock",
            "audit.log",
            "audit.log.1",
            "audit.log.2",
            "audit.log.3",
            "audit.log.4",
            "audit.log.5"
        ]
    );
    run(dir.path(), 3, 1).await;
    assert_eq!(
        common::file_names(dir.path()),
        [".audit.log.lock", "audit.log", "audit.log.1", "audit.log.2"]
    );
}
