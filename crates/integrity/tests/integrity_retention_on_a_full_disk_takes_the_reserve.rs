//! The server's retention on a full disk (its remedy): each pass records its deletion
//! before it removes anything (the signed line, the high-water mark rewritten whole,
//! `.deleted-seqs.jsonl`), which needs new blocks. The pass releases the prune reserve
//! the server's attach made (`.prune-reserve`), records, deletes, and makes the reserve
//! again; the store verifies. Both ways the retention loop prunes: `prune_until`, and
//! `prune_archiving_until` with an archive on another file system (it wrote its line
//! without the reserve, and failed with `No space left on device`).
//!
//! Needs root to mount the tmpfs (as the sandbox and CI run); elsewhere it is skipped
//! through `auditrail_testkit::prereq::skip` (a failure in CI).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_store::{PruneRule, RESERVE_FILE};
use auditrail_testkit::tmpfs::Tmpfs;
use retention_support::{archive_in, days_of, jan, Store};

/// Prunes days 1 and 2 of a store of 5 days on a full tmpfs, the way the retention
/// loop does (with `archive`: into a folder on another file system), and checks what
/// it freed.
async fn retention_on_a_full_disk(archived: bool) {
    let Some(fs) = Tmpfs::mount("8m") else {
        auditrail_testkit::prereq::skip("cannot mount a tmpfs here (needs root)");
        return;
    };
    let mut store = Store::new_in(fs.path());
    let open = store.open();
    store.write_days(&open, 1..=5, 60).await;
    let reserve = store.root.join(RESERVE_FILE);
    assert!(reserve.is_file(), "the attach made no prune reserve");
    fs.fill();

    let rule = PruneRule {
        before: Some(jan(3)),
        max_bytes: None,
        now: jan(6),
    };
    let elsewhere = tempfile::tempdir().unwrap();
    let archive = archive_in(&elsewhere.path().join("archive"));
    let pruned = if archived {
        open.integrity
            .prune_archiving_until(rule, "disk full", &archive, None, &mut |_| {})
            .await
    } else {
        open.integrity
            .prune_until(rule, "disk full", None, &mut |_| {})
            .await
    };
    let passes = pruned.unwrap();
    assert_eq!(passes.len(), 1, "{passes:?}");
    assert!(passes[0].checkpoint.is_some(), "{passes:?}");
    assert_eq!(days_of(&store.partitions()), vec![3, 4, 5]);
    // The pass freed more than the reserve: it is made again.
    assert!(reserve.is_file(), "the reserve was not made again");
    store.close(open).await;
    let report = store.verify(&store.receipts);
    assert!(report.ok, "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_frees_space_on_a_full_disk() {
    retention_on_a_full_disk(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_with_an_archive_frees_space_on_a_full_disk() {
    retention_on_a_full_disk(true).await;
}
