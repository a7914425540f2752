//! The oldest piece of the checkpoint log removed by hand makes a log that starts at
//! checkpoint #k > 1, as one whose head retention removed does. A retention pass that
//! then removed pieces took the first piece it found for the log's head and signed the
//! hand removal over as its own (`logPieces` through its last line): `verify` then
//! passed, the removal gone without a trace. A pass now removes no piece while the log
//! does not start where a signed line left it (#1, or after the lines a deletion line
//! removed), and `verify` names the lines removed by hand: with no retention before,
//! and after a retention pass that removed the head legitimately.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::verify::ProblemKind;
use auditrail_integrity::Checkpoint;
use auditrail_store::checkpoint_pieces::{last_line, sealed_pieces, Piece};
use retention_support::{jan, of_kind, prune_before, Store};

/// Whether the log's last line (the pass's deletion line) removed pieces.
fn last_line_removed_pieces(store: &Store) -> bool {
    let line = last_line(&store.root).unwrap().unwrap();
    let cp = Checkpoint::parse_line(&line.bytes).unwrap();
    cp.deleted.and_then(|d| d.log_pieces).is_some()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_piece_removed_by_hand_is_not_signed_over_by_retention() {
    let mut store = Store::in_small_pieces();
    let open = store.open();
    store.write_days(&open, 1..=8, 60).await;
    let pieces = sealed_pieces(&store.root).unwrap();
    assert!(pieces.len() >= 6, "{pieces:?}");
    let gone = pieces[0].clone();
    std::fs::remove_file(&gone.path).unwrap();

    assert_eq!(prune_before(&open, jan(5), jan(9)).await.len(), 1);
    assert!(
        !last_line_removed_pieces(&store),
        "the pass removed pieces after a log head removed by hand"
    );
    store.close(open).await;
    verify_names_removed(&store, &gone, 1, pieces[1].first.unwrap() - 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_piece_retention_left_removed_by_hand_is_not_signed_over() {
    let mut store = Store::in_small_pieces();
    let open = store.open();
    store.write_days(&open, 1..=10, 60).await;
    // Retention removes the log's head, legitimately.
    assert_eq!(prune_before(&open, jan(4), jan(11)).await.len(), 1);
    assert!(last_line_removed_pieces(&store));
    assert!(store.verify(&[]).ok, "{}", store.verify(&[]));
    let pieces = sealed_pieces(&store.root).unwrap();
    assert!(pieces.len() >= 4, "{pieces:?}");
    let first_kept = pieces[0].first.unwrap();
    assert!(first_kept > 1);

    // The oldest piece it left, by hand: the log now starts at #k > 1 too.
    let gone = pieces[0].clone();
    std::fs::remove_file(&gone.path).unwrap();
    assert_eq!(prune_before(&open, jan(7), jan(11)).await.len(), 1);
    assert!(
        !last_line_removed_pieces(&store),
        "the pass removed pieces after a log head removed by hand"
    );
    store.close(open).await;
    verify_names_removed(&store, &gone, first_kept, pieces[1].first.unwrap() - 1);
}

/// `verify` fails, naming the piece `gone` as checkpoints `#from..#through` removed.
fn verify_names_removed(store: &Store, gone: &Piece, from: u64, through: u64) {
    let report = store.verify(&[]);
    let chain = of_kind(&report, ProblemKind::CheckpointChain);
    assert!(
        !report.ok
            && chain.iter().any(|m| m.contains(&gone.name)
                && m.contains(&format!("checkpoints #{from}..#{through} were removed"))),
        "the piece {} removed by hand went unnoticed after the retention pass:\n{report}",
        gone.name
    );
}
