//! Records at or below the last checkpointed chain number were acknowledged: when some
//! of them are missing (a partition folder removed by hand, a backup restored without
//! it), recovery reports the range and cuts nothing of what follows; only a gap above
//! the acknowledged point is treated as an interrupted write.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::store_support;

use std::path::Path;
use std::sync::Arc;

use auditrail_core::Event;
use auditrail_store::CHECKPOINT_LOG;
use serde_json::json;
use store_support::*;

/// `count` events numbered from `first`, on day `day` of November 2026 (one partition
/// folder per day and hour).
fn on_day(day: u32, first: u64, count: u64) -> Vec<Arc<Event>> {
    (first..first + count)
        .map(|n| event("generic", None, &format!("2026-11-{day}T10:00:00.000Z"), n))
        .collect()
}

/// What the integrity layer's checkpoint line says of the chain (the store reads only
/// `chainSeq` and `chainHash` from it).
fn checkpoint_at(root: &Path, seq: u64) {
    let link = verify_chain_upto(root, seq);
    let line = json!({"checkpoint": 1, "chainSeq": link.seq, "chainHash": link.hash_hex()});
    std::fs::write(root.join(CHECKPOINT_LOG), format!("{line}\n")).unwrap();
}

fn verify_chain_upto(root: &Path, seq: u64) -> auditrail_store::chain::ChainLink {
    lines(root)
        .iter()
        .filter_map(|(_, l)| auditrail_store::chain::parse_line(l).ok())
        .map(|p| p.link)
        .find(|l| l.seq == seq)
        .unwrap()
}

fn remove_day(root: &Path, day: u32) {
    let folder = root.join(format!("generic/_none/2026/11/{day}"));
    assert!(folder.is_dir(), "{}", folder.display());
    std::fs::remove_dir_all(folder).unwrap();
}

fn cut_files(root: &Path) -> usize {
    auditrail_store::StoreFiles::walk(root)
        .unwrap()
        .files
        .iter()
        .filter(|f| f.kind == auditrail_store::FileKind::SetAside)
        .count()
}

#[test]
fn a_removed_oldest_day_is_reported_and_later_records_stay() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    let mut batch = on_day(23, 1, 40);
    batch.extend(on_day(24, 41, 40));
    batch.extend(on_day(25, 81, 40));
    t.send_blocking(&batch).unwrap();
    drop(t);
    checkpoint_at(&root, 120);
    remove_day(&root, 23);

    let t = open(&root, json!({}));
    let report = t.handle().recovery_report();
    assert_eq!(report.acknowledged_seq, 120, "{report:?}");
    assert_eq!(report.missing_acknowledged, vec![(1, 40)], "{report:?}");
    assert_eq!(report.records_cut_after_gap, 0, "{report:?}");
    assert_eq!(report.first_gap, None, "{report:?}");
    assert_eq!(t.handle().head().seq, 120);
    drop(t);
    assert_eq!(stored_events(&root).len(), 80);
    assert_eq!(cut_files(&root), 0);
}

#[test]
fn a_removed_middle_day_is_reported_and_a_crash_tail_above_the_checkpoint_is_still_cut() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    let mut batch = on_day(23, 1, 10);
    batch.extend(on_day(24, 11, 10));
    batch.extend(on_day(25, 21, 10));
    t.send_blocking(&batch).unwrap(); // acknowledged and checkpointed: 1..=30
                                      // "In flight" at a crash: 31..=36, over two days; the day-26 file never reached
                                      // the disk while the day-27 one did.
    let mut tail = on_day(26, 31, 3);
    tail.extend(on_day(27, 34, 3));
    t.send_blocking(&tail).unwrap();
    drop(t);
    checkpoint_at(&root, 30);
    remove_day(&root, 24);
    remove_day(&root, 26);

    let t = open(&root, json!({}));
    let report = t.handle().recovery_report();
    assert_eq!(report.missing_acknowledged, vec![(11, 20)], "{report:?}");
    assert_eq!(report.first_gap, Some(31), "{report:?}");
    assert_eq!(report.records_cut_after_gap, 3, "{report:?}");
    assert_eq!(t.handle().head().seq, 30);
    drop(t);
    let kept: Vec<u64> = stored_events(&root).iter().map(|e| e.seq).collect();
    let expected: Vec<u64> = (1..=10).chain(21..=30).collect();
    let mut sorted = kept.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, expected);
}

#[test]
fn without_a_checkpoint_a_gap_is_still_an_interrupted_write() {
    // The rule for stores written without the integrity layer is unchanged.
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("store");
    let t = open(&root, json!({}));
    let mut batch = on_day(23, 1, 5);
    batch.extend(on_day(24, 6, 5));
    t.send_blocking(&batch).unwrap();
    drop(t);
    remove_day(&root, 23);
    let t = open(&root, json!({}));
    let report = t.handle().recovery_report();
    assert_eq!(report.acknowledged_seq, 0);
    assert!(report.missing_acknowledged.is_empty());
    assert_eq!(report.records_cut_after_gap, 5, "{report:?}");
}
