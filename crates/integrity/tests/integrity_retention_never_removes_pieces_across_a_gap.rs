//! A sealed piece of the checkpoint log removed by hand is a gap `verify` names. A
//! retention pass that then removes the pieces around it must not sign the gap over as
//! its own removal: its deletion line named the pieces it found (the gap's piece not
//! among them) with the last line removed, `verify` accepted the log, and the hand
//! removal was gone without a trace. The pass removes the pieces up to the gap only.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::verify::ProblemKind;
use auditrail_store::checkpoint_pieces::sealed_pieces;
use retention_support::{jan, of_kind, prune_before, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_in_the_pieces_retention_removes_stays_visible() {
    let mut store = Store::in_small_pieces();
    let open = store.open();
    store.write_days(&open, 1..=8, 60).await;
    let pieces = sealed_pieces(&store.root).unwrap();
    assert!(pieces.len() >= 6, "{pieces:?}");
    // The second piece: the pass below removes the pieces before and after it (the
    // lines of the first four vouch only for records it deletes).
    let gone = pieces[1].clone();
    std::fs::remove_file(&gone.path).unwrap();
    assert!(!of_kind(&store.verify(&[]), ProblemKind::CheckpointChain).is_empty());

    assert_eq!(prune_before(&open, jan(5), jan(9)).await.len(), 1);
    store.close(open).await;
    let report = store.verify(&[]);
    let chain = of_kind(&report, ProblemKind::CheckpointChain);
    assert!(
        !report.ok && !chain.is_empty(),
        "the piece {} removed by hand went unnoticed after the retention pass:\n{report}",
        gone.name
    );
}
