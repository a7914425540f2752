//! A sealed piece of the checkpoint log removed by hand is named by `verify`: the name
//! the removed file had (pieces are named by their first line's number), not only the
//! piece after the gap. A piece removed right after those retention removed counts only
//! its own lines as removed: the earlier ones went with a signed deletion line.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::retention_support;

use auditrail_integrity::verify::ProblemKind;
use auditrail_store::checkpoint_pieces::sealed_pieces;
use retention_support::{jan, of_kind, prune_before, Store};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_names_the_file_of_a_removed_piece() {
    let mut store = Store::in_small_pieces();
    let open = store.open();
    store.write_days(&open, 1..=8, 60).await;
    assert_eq!(prune_before(&open, jan(5), jan(9)).await.len(), 1);
    store.close(open).await;
    assert!(store.verify(&[]).ok, "{}", store.verify(&[]));
    let pieces = sealed_pieces(&store.root).unwrap();
    assert!(pieces.len() >= 4, "{pieces:?}");
    let first_kept = pieces[0].first.unwrap();
    assert!(first_kept > 1, "retention removed the first pieces");

    // A piece in the middle.
    let middle = &pieces[2];
    let bytes = std::fs::read(&middle.path).unwrap();
    std::fs::remove_file(&middle.path).unwrap();
    let chain = of_kind(&store.verify(&[]), ProblemKind::CheckpointChain);
    assert!(
        chain.iter().any(|m| m.contains(&middle.name)),
        "no problem names {}: {chain:?}",
        middle.name
    );
    std::fs::write(&middle.path, bytes).unwrap();
    assert!(store.verify(&[]).ok, "put back");

    // The first piece retention left.
    std::fs::remove_file(&pieces[0].path).unwrap();
    let chain = of_kind(&store.verify(&[]), ProblemKind::CheckpointChain);
    let next = pieces[1].first.unwrap();
    assert!(
        chain.iter().any(|m| m.contains(&pieces[0].name)
            && m.contains(&format!(
                "checkpoints #{first_kept}..#{} were removed",
                next - 1
            ))
            && m.contains(&format!(
                "#1..#{} were removed by retention",
                first_kept - 1
            ))),
        "{chain:?}"
    );
}
