//! The writer holds at most `max_open_files` segment files open, however many
//! partitions (routing keys, hours) a batch touches; files it closed are still fsynced
//! and appended to later.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod store_support;

use std::path::Path;

use serde_json::json;
use store_support::*;

/// Open descriptors of this process that point into `dir`.
fn open_under(dir: &Path) -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|target| target.starts_with(dir))
        .count()
}

#[test]
fn a_batch_over_1200_partitions_holds_at_most_the_bound_open() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({"max_open_files": 8}));
    let ts = "2026-11-25T16:55:49.123Z";
    let by_key: Vec<_> = (1..=1200)
        .map(|n| event("generic", Some(&format!("svc-{n}")), ts, n))
        .collect();
    t.send_blocking(&by_key).unwrap();
    // The lock file of the root and at most 8 segments.
    assert!(open_under(&root) <= 8 + 1, "{} open", open_under(&root));

    // Over hours too, and back to partitions whose files were closed.
    let by_hour: Vec<_> = (0..200u64)
        .map(|h| {
            let t = chrono::DateTime::from_timestamp(1_764_000_000 + h as i64 * 3600, 0).unwrap();
            event(
                "generic",
                Some("svc-1"),
                &t.format("%Y-%m-%dT%H:%M:%S.000Z").to_string(),
                2000 + h,
            )
        })
        .collect();
    t.send_blocking(&by_hour).unwrap();
    t.send_blocking(
        &by_key[..50]
            .iter()
            .map(|e| {
                let mut again = (**e).clone();
                again.seq += 10_000;
                std::sync::Arc::new(again)
            })
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(open_under(&root) <= 8 + 1, "{} open", open_under(&root));
    assert_eq!(stored_events(&root).len(), 1200 + 200 + 50);
    assert_eq!(verify_chain(&root).seq, 1450);
}
