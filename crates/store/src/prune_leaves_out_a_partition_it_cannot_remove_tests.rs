//! A prune whose selection holds a partition it cannot remove (its folder made
//! unwritable: a mode as a user, `chattr +i` as root) leaves it out of the plan it
//! hands over to be recorded, naming it with the folder and the OS error, and deletes
//! the others: the recorded (signed) plan is what the prune removes. It used to record
//! the partition and fail to remove it after (final60/01). The next prune, the folder
//! fixed, deletes it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::convert::Infallible;

use auditrail_core::Timestamp;
use auditrail_testkit::store::{event, stored_events};
use auditrail_testkit::unwritable::Unwritable;

use crate::prune::PruneRule;

#[test]
fn the_partition_is_left_out_of_the_recorded_plan_and_deleted_once_fixed() {
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
    let folders: Vec<String> = crate::prune::dry_run(&root, &config, &rule).unwrap().passes[0]
        .partitions
        .iter()
        .map(|p| p.folder.clone())
        .collect();
    assert_eq!(folders.len(), 3, "{folders:?}");
    let locked = match Unwritable::make(&root.join(&folders[1])) {
        Ok(l) => l,
        Err(why) => {
            auditrail_testkit::prereq::skip(&format!(
                "cannot make a folder unwritable here: {why}"
            ));
            return;
        }
    };

    let mut recorded = Vec::new();
    let plan = t
        .handle()
        .prune(&rule, |plan| {
            recorded = plan.partitions.iter().map(|p| p.folder.clone()).collect();
            Ok::<bool, Infallible>(true)
        })
        .unwrap()
        .expect("the two other partitions are deleted");
    assert_eq!(recorded, [folders[0].clone(), folders[2].clone()]);
    assert_eq!(plan.records, 2, "{plan:?}");
    assert_eq!(plan.unremovable.len(), 1, "{plan:?}");
    let u = &plan.unremovable[0];
    assert_eq!(u.folder, folders[1]);
    assert_eq!(u.path, root.join(&folders[1]));
    let said = u.to_string();
    assert!(
        said.contains("Permission denied") || said.contains("Operation not permitted"),
        "{said}"
    );
    let seqs: Vec<u64> = stored_events(&root).iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![2, 4]);

    drop(locked);
    let plan = t
        .handle()
        .prune(&rule, |_| Ok::<bool, Infallible>(true))
        .unwrap()
        .expect("the partition is deleted once it can be");
    assert_eq!(
        plan.partitions
            .iter()
            .map(|p| p.folder.as_str())
            .collect::<Vec<_>>(),
        [folders[1].as_str()]
    );
    assert!(plan.unremovable.is_empty(), "{plan:?}");
    let seqs: Vec<u64> = stored_events(&root).iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![4]);
}
