//! A partition the file system refuses for good (here a file sits where its folder must
//! go: `EEXIST`/`ENOTDIR`, like `ENAMETOOLONG` or `EINVAL` for a name) costs the events
//! of that partition only: they are refused with the reason, every other event of the
//! batch is written and chained, and the next batches are written as usual.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use auditrail_core::TargetError;
use serde_json::json;
use store_support::*;

#[test]
fn events_of_an_unmakeable_partition_are_refused_and_the_rest_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    // Something that is not the store's sits where the partition folder of `svc-x` goes.
    std::fs::create_dir_all(root.join("generic")).unwrap();
    std::fs::write(root.join("generic/svc-x"), b"not a folder").unwrap();

    let ts = "2026-11-25T16:55:49.123Z";
    let batch = vec![
        event("generic", Some("svc-a"), ts, 1),
        event("generic", Some("svc-x"), ts, 2),
        event("authfail", None, ts, 3),
        event("generic", Some("svc-x"), ts, 4),
    ];
    let Err(TargetError::Rejected { rejected }) = t.send_blocking(&batch) else {
        panic!("the events of the unmakeable partition must be rejected, the rest taken");
    };
    let indices: Vec<usize> = rejected.iter().map(|(i, _)| *i).collect();
    assert_eq!(indices, [1, 3]);
    assert!(
        rejected[0].1.contains("generic/svc-x") && rejected[0].1.contains("retrying"),
        "the reason names the partition and that retrying cannot help: {}",
        rejected[0].1
    );
    let mut stored: Vec<u64> = stored_events(&root).iter().map(|e| e.seq).collect();
    stored.sort_unstable();
    assert_eq!(stored, [1, 3]);
    assert_eq!(verify_chain(&root).seq, 2);

    // The next batch (and the same partition again) meets no stuck writer.
    let Err(TargetError::Rejected { rejected }) = t.send_blocking(&[
        event("generic", Some("svc-x"), ts, 5),
        event("generic", Some("svc-b"), ts, 6),
    ]) else {
        panic!("still refused, alone");
    };
    assert_eq!(rejected.len(), 1);
    t.send_blocking(&[event("generic", Some("svc-a"), ts, 7)])
        .unwrap();
    let mut stored: Vec<u64> = stored_events(&root).iter().map(|e| e.seq).collect();
    stored.sort_unstable();
    assert_eq!(stored, [1, 3, 6, 7]);
    assert_eq!(verify_chain(&root).seq, 4);
    assert_eq!(
        std::fs::read(root.join("generic/svc-x")).unwrap(),
        b"not a folder",
        "what was in the way is left alone"
    );
}
