//! A prune holds the store's writer in steps, and batches are written between them
//! (see [`crate::prune`]): a late event for a partition whose deletion is recorded but
//! whose files are not removed yet must survive the removal, in a segment of its own.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::convert::Infallible;

use auditrail_core::Timestamp;
use auditrail_testkit::store::{event, stored_events};

use crate::prune::{candidates, removal_steps, PruneRule};

#[test]
fn a_late_event_written_between_the_record_and_the_removal_stays() {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join("store");
    let config: crate::StoreConfig =
        serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    let t = crate::StoreTarget::open(&root, &config, "store").unwrap();
    // Two old hours; the newest record (the chain head, kept) in the second.
    t.send_blocking(&[
        event("generic", None, "2026-01-01T10:00:00.000Z", 1),
        event("generic", None, "2026-01-01T11:00:00.000Z", 2),
    ])
    .unwrap();
    let h = t.handle();
    let rule = PruneRule {
        before: Some(Timestamp::now()),
        max_bytes: None,
        now: Timestamp::now(),
    };
    let layout = h.with_writer(|w| w.prune_layout::<Infallible>()).unwrap();
    let read = candidates(&root, &layout, &rule, None).unwrap();
    let (plan, recorded) = h
        .with_writer(|w| w.prune_record(read, true, |_| Ok::<bool, Infallible>(true)))
        .unwrap()
        .unwrap();
    assert!(recorded);
    assert_eq!(plan.partitions.len(), 1, "{plan:?}");
    let folder = root.join(&plan.partitions[0].folder);
    let old_segment = root.join(&plan.partitions[0].segments[0]);

    // Between the record and the removal: a late event for the recorded hour.
    t.send_blocking(&[event("generic", None, "2026-01-01T10:30:00.000Z", 3)])
        .unwrap();
    for step in removal_steps(&plan.partitions) {
        h.with_writer(|w| {
            w.prune_remove(step, &mut Vec::new())
                .map_err(|n| n.first.into())
        })
        .map_err(|e: crate::prune::PruneError<Infallible>| e.to_string())
        .unwrap();
    }

    assert!(!old_segment.exists(), "the recorded segment is removed");
    let left: Vec<_> = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        left.len(),
        1,
        "the late event's own segment stays: {left:?}"
    );
    let mut seqs: Vec<u64> = stored_events(&root).iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, vec![2, 3]);
}
