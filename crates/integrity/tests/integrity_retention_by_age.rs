//! Retention by age on a real store, with a moving clock: each prune deletes exactly
//! the day partitions that ended before its cut-off (never one still open), records
//! the deletion in a signed checkpoint line first, and `verify` passes afterwards
//! (receipts of deleted batches included), after a restart too. A late event for a
//! deleted day is stored again in a new segment.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::Checkpoint;
use auditrail_store::CHECKPOINT_LOG;
use retention_support::{days_of, errors, jan, prune_before, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_by_age_deletes_old_days_and_verifies() {
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=8, 60).await;
    assert_eq!(days_of(&store.partitions()), (1..=8).collect::<Vec<_>>());
    let before = store.verify(&store.receipts);
    assert!(before.ok, "{before}");
    let total_records = before.stores[0].records;

    // The clock moves: at each "now", keep three days.
    let mut deleted_lines = 0;
    for now_day in [5u32, 6, 9] {
        let cut = jan(now_day - 3);
        let passes = prune_before(&open, cut, jan(now_day)).await;
        assert_eq!(passes.len(), 1, "one pass at day {now_day}");
        deleted_lines += 1;
        let plan = &passes[0].plan;
        // Everything that ended at or before the cut-off went, nothing else.
        assert!(plan.partitions.iter().all(|p| p.end <= cut), "{plan:?}");
        let left = days_of(&store.partitions());
        assert_eq!(
            left,
            ((now_day - 3)..=8).collect::<Vec<_>>(),
            "at day {now_day}"
        );
        // The line that records it is signed, names the partitions and the ranges.
        let log = std::fs::read_to_string(store.root.join(CHECKPOINT_LOG)).unwrap();
        let last = log.lines().last().unwrap();
        let cp = Checkpoint::parse_line(last.as_bytes()).unwrap();
        let deletion = cp.deleted.expect("the last line records the deletion");
        assert_eq!(deletion.reason, "test retention");
        assert_eq!(deletion.records, plan.records);
        assert_eq!(deletion.partitions.len(), plan.partitions.len());
        assert_eq!(cp.index, passes[0].checkpoint.as_ref().unwrap().index);

        let report = store.verify(&store.receipts);
        assert!(report.ok, "after pruning at day {now_day}:\n{report}");
        assert!(errors(&report).is_empty());
        let s = &report.stores[0];
        assert_eq!(s.deletions, deleted_lines);
        assert_eq!(s.records + s.deleted_records, total_records, "{report}");
        // Receipts of deleted batches hold, as deleted.
        let deleted_receipts = report
            .receipts
            .iter()
            .filter(|r| r.deleted.is_some())
            .count();
        assert!(deleted_receipts > 0, "{report}");
    }
    // Nothing is pruned twice: the same cut-off again finds nothing.
    assert!(prune_before(&open, jan(6), jan(9)).await.is_empty());

    // A late event for a deleted day: stored in a new segment of that day.
    let late = store.event(1);
    store.send(&open, vec![late], 1).await;
    assert!(days_of(&store.partitions()).contains(&1));
    store.close(open).await;

    // A restart: the store opens (nothing refused, no range taken for missing) and
    // everything verifies.
    let open = store.open();
    let recovery = open.target.handle().recovery_report();
    assert!(
        recovery.missing_acknowledged.is_empty(),
        "deleted ranges are not missing: {recovery:?}"
    );
    store.close(open).await;
    let report = store.verify(&store.receipts);
    assert!(report.ok, "after a restart:\n{report}");
}
