//! Retention removes the checkpoint log's sealed pieces whose lines vouch only for
//! records it deleted, the deletion line naming them (and the last line removed, which
//! the first line kept links to); `verify` accounts for them, before and after a
//! restart, and a piece removed by hand is still found. With an archive, every piece is
//! uploaded (once) before it is removed, and the archive verifies as a store.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::Checkpoint;
use auditrail_store::checkpoint_pieces::{last_line, piece_name, sealed_pieces};
use retention_support::{
    archive_in, errors, files_under, jan, prune_archiving, prune_before, verify_archive, Store,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_pieces_of_the_log_that_vouch_only_for_deleted_records() {
    let mut store = Store::in_small_pieces();
    let open = store.open();
    store.write_days(&open, 1..=8, 60).await;
    let before = sealed_pieces(&store.root).unwrap();
    assert!(before.len() >= 4, "{before:?}");
    assert!(store.verify(&store.receipts).ok);

    let passes = prune_before(&open, jan(5), jan(9)).await;
    assert_eq!(passes.len(), 1);
    let line = last_line(&store.root).unwrap().unwrap();
    let cp = Checkpoint::parse_line(&line.bytes).unwrap();
    let removed = cp
        .deleted
        .and_then(|d| d.log_pieces)
        .expect("the deletion line names the pieces it removes");
    assert_eq!(removed.pieces[0], piece_name(1));
    let after = sealed_pieces(&store.root).unwrap();
    assert!(
        after.iter().all(|p| !removed.pieces.contains(&p.name)),
        "{after:?}"
    );
    assert_eq!(after[0].name, piece_name(removed.through + 1));

    let report = store.verify(&store.receipts);
    assert!(report.ok, "{report}");
    assert!(errors(&report).is_empty(), "{report}");
    store.close(open).await;
    // A restart opens it (the removed lines' deletions are accounted for) and it
    // still verifies.
    let open = store.open();
    assert!(open
        .target
        .handle()
        .recovery_report()
        .missing_acknowledged
        .is_empty());
    store.close(open).await;
    let report = store.verify(&store.receipts);
    assert!(report.ok, "after a restart:\n{report}");

    // A piece removed by hand, after them: not vouched for by any line.
    let pieces = sealed_pieces(&store.root).unwrap();
    std::fs::remove_file(&pieces[0].path).unwrap();
    let report = store.verify(&store.receipts);
    assert!(
        !report.ok,
        "a piece removed by hand went unnoticed:\n{report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_archive_pass_uploads_every_piece_before_removing_it() {
    let mut store = Store::in_small_pieces();
    let folder = tempfile::tempdir().unwrap();
    let archive = archive_in(folder.path());
    let open = store.open();
    store.write_days(&open, 1..=8, 60).await;
    let first = std::fs::read(store.root.join(piece_name(1))).unwrap();
    let passes = prune_archiving(&open, &archive, jan(5), jan(9))
        .await
        .unwrap();
    assert_eq!(passes.len(), 1);
    assert!(!store.root.join(piece_name(1)).exists(), "removed locally");
    let held = files_under(folder.path());
    assert_eq!(
        held.get(&piece_name(1)),
        Some(&first),
        "kept in the archive"
    );
    store.close(open).await;
    let report = store.verify(&store.receipts);
    assert!(report.ok, "{report}");
    let report = verify_archive(&archive, &store.signer).await;
    assert!(report.ok, "the archive:\n{report}");
}
