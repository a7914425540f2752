//! A prune whose plan holds a partition it cannot remove (a folder made read-only, an
//! immutable file) removes every other partition of the plan and then fails, naming
//! the file: it used to stop at the first such file, and every partition after it in
//! the plan stayed on disk, deleted in the signed log and still read by queries, pass
//! after pass (tryout60/04).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;

use auditrail_core::Timestamp;
use auditrail_testkit::store::{event, stored_events};

use crate::prune::{PruneError, PruneRule};

#[test]
fn the_other_partitions_are_removed_and_the_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join("store");
    let config: crate::StoreConfig =
        serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let t = crate::StoreTarget::open(&root, &config, "store").unwrap();
    // Four old hours; the newest record (the chain head, kept) in the last.
    t.send_blocking(&[
        event("generic", None, "2026-01-01T10:00:00.000Z", 1),
        event("generic", None, "2026-01-01T11:00:00.000Z", 2),
        event("generic", None, "2026-01-01T12:00:00.000Z", 3),
        event("generic", None, "2026-01-01T13:00:00.000Z", 4),
    ])
    .unwrap();
    let rule = PruneRule {
        before: Some(Timestamp::now()),
        max_bytes: None,
        now: Timestamp::now(),
    };
    let mut planned = Vec::new();
    let result = t.handle().prune_only_then(
        &rule,
        None,
        |_| Ok::<bool, Infallible>(true),
        |plan| {
            planned = plan
                .partitions
                .iter()
                .flat_map(|p| p.segments.iter().map(|s| root.join(s)))
                .collect();
            // Once the deletion is recorded, the first partition's file cannot be
            // removed: it is a folder now (as root, modes do not stop a removal).
            std::fs::remove_file(&planned[0]).unwrap();
            std::fs::create_dir(&planned[0]).unwrap();
            std::fs::write(planned[0].join("kept"), b"").unwrap();
            Ok(())
        },
    );
    assert_eq!(planned.len(), 3, "{planned:?}");
    // The error carries what was recorded and what of it is left: the pass reports
    // the other partitions as removed.
    match result {
        Err(PruneError::Removal { plan, left, source }) => {
            assert!(
                source
                    .to_string()
                    .contains(&planned[0].display().to_string()),
                "{source}"
            );
            assert_eq!(plan.partitions.len(), 3, "{plan:?}");
            let first = &plan.partitions[0];
            assert_eq!(left.partitions, vec![first.folder.clone()], "{left:?}");
            assert_eq!(left.files, first.segments, "{left:?}");
            assert_eq!((left.records, left.bytes), (1, first.bytes), "{left:?}");
            assert_eq!(plan.removed_records(Some(&left)), 2);
            let removed: Vec<&str> = plan
                .removed_partitions(Some(&left))
                .map(|p| p.folder.as_str())
                .collect();
            assert_eq!(
                removed,
                [&plan.partitions[1].folder, &plan.partitions[2].folder]
            );
        }
        other => panic!("the prune should fail naming the file: {other:?}"),
    }
    for later in &planned[1..] {
        assert!(!later.exists(), "{} was left", later.display());
    }
    let seqs: Vec<u64> = stored_events(&root).iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![4]);
}
