//! A segment that cannot be read at all is set aside (`.corrupt`) with a counter: the
//! store opens anyway (never a crash loop).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use serde_json::json;
use store_support::*;

#[test]
fn an_unreadable_segment_is_set_aside_and_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    open(&root, json!({})).send_blocking(&events(1, 5)).unwrap();
    // Another partition's segment full of garbage lines.
    let bad_dir = root.join("generic/svc-b/2026/11/25/16");
    std::fs::create_dir_all(&bad_dir).unwrap();
    let bad = bad_dir.join("00000000000000000003.jsonl");
    std::fs::write(&bad, b"\x89PNG\r\n\x1a\nnot a record\nnor this\n").unwrap();

    let t = open(&root, json!({}));
    let h = t.handle();
    assert_eq!(h.stats().corrupt_files, 1);
    let report = h.recovery_report();
    assert_eq!(report.corrupt_files.len(), 1);
    assert!(!bad.exists());
    assert!(report.corrupt_files[0]
        .to_string_lossy()
        .ends_with(".jsonl.corrupt"));
    assert!(report.corrupt_files[0].exists(), "set aside, not deleted");
    // The good data is untouched and writing goes on.
    t.send_blocking(&events(6, 2)).unwrap();
    assert_eq!(verify_chain(&root).seq, 7);
}
