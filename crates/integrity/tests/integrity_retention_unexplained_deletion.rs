//! After retention, `verify` still names a deletion that no record explains: a
//! partition removed by hand is `missing-records` (and only it; the pruned ranges are
//! not), and a deletion line edited to cover more is a bad signature.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::verify::ProblemKind;
use auditrail_store::CHECKPOINT_LOG;
use retention_support::{days_of, jan, of_kind, prune_before, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deletion_without_a_record_is_still_reported() {
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=6, 60).await;
    prune_before(&open, jan(3), jan(7)).await;
    store.close(open).await;
    assert_eq!(days_of(&store.partitions()), vec![3, 4, 5, 6]);
    let clean = store.verify(&[]);
    assert!(clean.ok, "{clean}");

    // Someone removes day 4 of one topic by hand.
    let removed = store
        .partitions()
        .into_iter()
        .find(|p| p.starts_with("authfail/") && p.ends_with("2026/01/04"))
        .unwrap();
    std::fs::remove_dir_all(store.root.join(&removed)).unwrap();
    let report = store.verify(&[]);
    assert!(!report.ok);
    let missing = of_kind(&report, ProblemKind::MissingRecords);
    assert!(!missing.is_empty(), "{report}");
    // Exactly the removed folder's records are missing: none of the pruned ranges.
    let total_missing: u64 = report.stores[0]
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::MissingRecords)
        .map(|p| p.last_seq.unwrap() - p.first_seq.unwrap() + 1)
        .sum();
    assert_eq!(
        total_missing,
        clean.stores[0].records - report.stores[0].records,
        "exactly the removed folder's records are missing\n{report}"
    );

    // Editing a recorded deletion (its record count) breaks its signature.
    let log = store.root.join(CHECKPOINT_LOG);
    let text = std::fs::read_to_string(&log).unwrap();
    let edited: String = text
        .lines()
        .map(|l| {
            if l.contains("\"deleted\":") {
                l.replacen("\"records\":", "\"records\":1", 1)
            } else {
                l.to_string()
            }
        })
        .map(|l| l + "\n")
        .collect();
    std::fs::write(&log, edited).unwrap();
    let report = store.verify(&[]);
    assert!(
        !of_kind(&report, ProblemKind::BadSignature).is_empty(),
        "{report}"
    );
}
