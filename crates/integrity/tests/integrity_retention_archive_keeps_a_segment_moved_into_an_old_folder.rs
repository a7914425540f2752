//! The archive path of the misplaced-record check (the path without an archive:
//! `integrity_retention_keeps_a_segment_moved_into_an_old_folder.rs`). A segment of a
//! recent day moved by hand into an old day's folder: a prune that archives before it
//! deletes plans its passes through another step (the plan made and frozen for the
//! upload, then the deletion of what was uploaded), which had no test of its own. The
//! partition holding the moved records is neither uploaded nor deleted, no deletion
//! line names it or covers its records, the prune fails naming it (counted, and in
//! `partitions_misplaced`), and every other old partition is archived and deleted.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::{Checkpoint, IntegrityError};
use auditrail_store::{SegmentReader, CHECKPOINT_LOG};
use retention_support::{archive_in, files_under, is_day, jan, prune_archiving, Store};

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
async fn an_archiving_prune_keeps_uploads_nothing_of_and_reports_a_partition_holding_a_moved_segment(
) {
    let dir = tempfile::tempdir().unwrap();
    let folder = dir.path().join("archive");
    let archive = archive_in(&folder);
    let mut store = Store::new();
    let open = store.open();
    store.write_days(&open, 1..=8, 60).await;
    store.write_days(&open, 9..=9, 3).await;
    store.close(open).await;

    // generic's segment of January 8 moved into generic's folder of January 1.
    let before = store.partitions();
    let find = |day: u32| {
        before
            .iter()
            .find(|f| f.starts_with("generic/") && is_day(f, day))
            .unwrap()
            .clone()
    };
    let (day8, day1) = (find(8), find(1));
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

    let open = store.open();
    let kept = match prune_archiving(&open, &archive, jan(5), jan(10)).await {
        Err(IntegrityError::PruneKeptMisplaced { partitions, .. }) => partitions,
        Ok(passes) => panic!(
            "the archiving prune took the partition holding the moved records: {:?}",
            passes
                .iter()
                .flat_map(|p| &p.plan.partitions)
                .map(|p| &p.folder)
                .collect::<Vec<_>>()
        ),
        Err(e) => panic!("{e}"),
    };
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert_eq!(
        (kept[0].folder.as_str(), kept[0].file.as_str()),
        (day1.as_str(), moved_rel.as_str())
    );
    let stats = open.integrity.prune_stats();
    assert_eq!(
        (
            stats.failures,
            stats.archive_failures,
            stats.partitions_misplaced,
            stats.partitions_unremovable
        ),
        (1, 0, 1, 0),
        "{stats:?}"
    );
    store.close(open).await;

    // Kept here, not uploaded; every other old partition archived and deleted.
    assert!(store.root.join(&moved_rel).is_file());
    let archived = files_under(&folder);
    assert!(
        archived.keys().all(|k| !k.starts_with(&format!("{day1}/"))),
        "uploaded: {:?}",
        archived.keys().collect::<Vec<_>>()
    );
    let after = store.partitions();
    let old: Vec<&String> = after
        .iter()
        .filter(|f| (1..=4).any(|d| is_day(f, d)))
        .collect();
    assert_eq!(old, vec![&day1], "{after:?}");
    for f in before
        .iter()
        .filter(|f| (1..=4).any(|d| is_day(f, d)) && **f != day1)
    {
        assert!(
            archived.keys().any(|k| k.starts_with(&format!("{f}/"))),
            "{f} not archived: {:?}",
            archived.keys().collect::<Vec<_>>()
        );
    }

    // No deletion line names the folder or covers a moved record.
    let log = std::fs::read_to_string(store.root.join(CHECKPOINT_LOG)).unwrap();
    let deletions: Vec<_> = log
        .lines()
        .filter_map(|l| Checkpoint::parse_line(l.as_bytes()).unwrap().deleted)
        .collect();
    assert!(!deletions.is_empty());
    for d in &deletions {
        assert!(d.archived.is_some(), "{d:?}");
        assert!(!d.partitions.contains(&day1), "{d:?}");
        for (first, last, _) in &d.ranges {
            assert!(
                moved.iter().all(|s| s < first || s > last),
                "{first}..{last} covers a moved record ({moved:?})"
            );
        }
    }
}
