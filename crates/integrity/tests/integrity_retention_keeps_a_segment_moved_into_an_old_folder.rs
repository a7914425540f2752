//! A segment of a recent day moved by hand into an old day's folder (someone who can
//! write the store's files but has no signing key; tryout62/06): retention selects
//! partitions by their folder's name, and used to delete the moved records with the
//! old day and sign their deletion as retention, after which `verify` passed and the
//! node's receipts checked out as "deleted by retention". The prune now checks each
//! record of a partition it is about to delete against the folder (verify's
//! `misplaced-record` rule): that partition is kept, no deletion line covers its
//! records, the prune says so (an error naming the folder, file and chainSeq, counted
//! as a failure), and every other old partition is pruned as usual.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::verify::ProblemKind;
use auditrail_integrity::{Checkpoint, IntegrityError};
use auditrail_store::{PruneRule, SegmentReader, CHECKPOINT_LOG};
use retention_support::{is_day, jan, of_kind, Store};

/// The chain numbers of a segment file's records.
fn chain_seqs(path: &std::path::Path) -> Vec<u64> {
    let mut seqs = Vec::new();
    SegmentReader::open(path)
        .unwrap()
        .for_each_line(|line| seqs.push(line.sealed().unwrap().link.seq))
        .unwrap();
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_keeps_and_reports_a_partition_holding_a_moved_segment() {
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=8, 60).await;
    // A batch after them: the chain head is not among the records moved below.
    store.write_days(&open, 9..=9, 3).await;
    store.close(open).await;

    // generic's segment of January 8 moved into generic's folder of January 1.
    let before = store.partitions();
    let day8 = before
        .iter()
        .find(|f| f.starts_with("generic/") && is_day(f, 8))
        .unwrap()
        .clone();
    let day1 = before
        .iter()
        .find(|f| f.starts_with("generic/") && is_day(f, 1))
        .unwrap()
        .clone();
    let segment = std::fs::read_dir(store.root.join(&day8))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .find(|n| n.ends_with(".jsonl"))
        .unwrap();
    let moved_rel = format!("{day1}/{segment}");
    std::fs::rename(
        store.root.join(&day8).join(&segment),
        store.root.join(&moved_rel),
    )
    .unwrap();
    let moved = chain_seqs(&store.root.join(&moved_rel));
    assert!(!moved.is_empty());
    let misplaced = of_kind(&store.verify(&store.receipts), ProblemKind::MisplacedRecord);
    assert_eq!(misplaced.len(), moved.len(), "{misplaced:?}");

    // Retention keeping January 5 on.
    let open = store.open();
    let rule = PruneRule {
        before: Some(jan(5)),
        max_bytes: None,
        now: jan(10),
    };
    let pruned = open
        .integrity
        .prune_until(rule, "test retention", None, &mut |_| {})
        .await;
    let kept = match pruned {
        Err(IntegrityError::PruneKeptMisplaced { partitions, .. }) => partitions,
        Ok(passes) => panic!(
            "the prune deleted the partition holding the moved records: {:?}",
            passes
                .iter()
                .flat_map(|p| &p.plan.partitions)
                .map(|p| &p.folder)
                .collect::<Vec<_>>()
        ),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(kept[0].folder, day1);
    assert_eq!(kept[0].file, moved_rel);
    assert_eq!(kept[0].chain_seq, moved[0]);
    assert!(
        kept[0].to_string().contains("belongs in generic/"),
        "{}",
        kept[0]
    );
    // Counted as a failed retention (`retentionFailures`).
    assert_eq!(open.integrity.prune_stats().failures, 1);
    store.close(open).await;

    // The partition and the moved file stay; every other partition of January 1 to
    // 4 went.
    assert!(store.root.join(&moved_rel).is_file());
    let after = store.partitions();
    let old: Vec<&String> = after
        .iter()
        .filter(|f| (1..=4).any(|d| is_day(f, d)))
        .collect();
    assert_eq!(old, vec![&day1], "{after:?}");
    assert!(before.len() > after.len() + 1, "{before:?} {after:?}");

    // No deletion line covers the moved records or names the folder.
    let log = std::fs::read_to_string(store.root.join(CHECKPOINT_LOG)).unwrap();
    let deletions: Vec<_> = log
        .lines()
        .filter_map(|l| Checkpoint::parse_line(l.as_bytes()).unwrap().deleted)
        .collect();
    assert_eq!(deletions.len(), 1, "the other partitions' deletion");
    for d in &deletions {
        assert!(!d.partitions.contains(&day1), "{d:?}");
        for (first, last, _) in &d.ranges {
            assert!(
                moved.iter().all(|s| s < first || s > last),
                "{first}..{last} covers a moved record ({moved:?})"
            );
        }
    }

    // Verify still fails on the move, and no receipt of a moved record is taken for
    // deleted.
    let report = store.verify(&store.receipts);
    assert!(!report.ok, "{report}");
    assert_eq!(
        of_kind(&report, ProblemKind::MisplacedRecord).len(),
        moved.len(),
        "{report}"
    );
    let of_moved: Vec<_> = report
        .receipts
        .iter()
        .filter(|r| moved.iter().any(|s| r.first_seq <= *s && *s <= r.last_seq))
        .collect();
    assert!(!of_moved.is_empty(), "{report}");
    for r in of_moved {
        assert!(r.deleted.is_none(), "{r:?}");
    }
}
