//! `rotation = "size"` rolls `audit.log` to `audit.log.1`, `.2`, … at `max_bytes` and
//! keeps `max_files` files (the active one included), deleting the oldest.

use crate::common;

use std::time::Duration;

use auditrail_core::DeliveryOptions;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_roll_at_the_size_limit_and_the_oldest_are_removed() {
    let dir = tempfile::tempdir().unwrap();
    // One event per batch, so every batch boundary is a chance to roll.
    let d = common::dispatcher_with(
        "node-size",
        json!({ "dir": dir.path(), "max_bytes": 2000, "max_files": 4, "fsync": false }),
        DeliveryOptions {
            batch_max_events: 1,
            ..Default::default()
        },
    );
    let mut seqs = Vec::new();
    for i in 0..60 {
        seqs.push(d.emit_acked(common::sample(i)).await.unwrap().seq);
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());

    let names = common::file_names(dir.path());
    assert_eq!(
        names,
        [
            ".audit.log.lock",
            "audit.log",
            "audit.log.1",
            "audit.log.2",
            "audit.log.3"
        ],
    );
    // Every rolled file reached the limit before it rolled (a roll happens after the
    // write that crossed it), and each holds whole lines.
    for rolled in ["audit.log.1", "audit.log.2", "audit.log.3"] {
        let path = dir.path().join(rolled);
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(len >= 2000, "{rolled} rolled at {len} bytes");
        assert!(len < 2000 + 600, "{rolled} overshot: {len} bytes");
        let read = auditrail_target_file::read_audit_file(&path).unwrap();
        assert!(read.torn.is_empty());
    }
    // What is kept is the newest events, in order, oldest file first.
    let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    let kept: Vec<u64> = read.events.iter().map(|e| e.seq).collect();
    assert!(kept.len() < seqs.len(), "retention removed nothing");
    assert_eq!(kept, seqs[seqs.len() - kept.len()..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_never_keeps_one_growing_file() {
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        "node-never",
        json!({ "dir": dir.path(), "rotation": "never" }),
    );
    for i in 0..50 {
        d.emit_acked(common::sample(i)).await.unwrap();
    }
    assert!(d.shutdown(Duration::from_secs(10)).await.is_clean());
    assert_eq!(
        common::file_names(dir.path()),
        [".audit.log.lock", "audit.log"]
    );
    let read = auditrail_target_file::read_audit_dir(dir.path(), "audit.log").unwrap();
    assert_eq!(read.events.len(), 50);
}
