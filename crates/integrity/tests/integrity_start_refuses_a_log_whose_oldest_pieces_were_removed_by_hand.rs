//! A start checks the tail of the checkpoint log (the last sealed piece and the live
//! one): the oldest pieces removed by hand while newer sealed ones remain went
//! unnoticed, the log's head not read. It is checked now, without reading the whole
//! log: a first line #1, or the line after those a signed deletion line removed (the
//! one `.checkpoints-head.json` names, or, when that file is missing or stale, found by
//! reading the log back once). The start refuses (the server holds the store) a log
//! whose head went by hand, and takes the heads retention left: after its pass, without
//! the file, and after a pass interrupted while it removed its pieces.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;

use crate::retention_support;

use auditrail_integrity::{HighWaterMarks, IntegrityError, StoreIntegrity, HEAD_FILE};
use auditrail_store::checkpoint_pieces::sealed_pieces;
use auditrail_store::StoreTarget;
use retention_support::{jan, prune_before, Store};

/// Opens the store as the server does; the refusal when it refuses.
fn attach(store: &Store) -> Result<(), IntegrityError> {
    let target = Arc::new(StoreTarget::open(&store.root, &store.config, "store").unwrap());
    let marks = Arc::new(HighWaterMarks::in_data_dir(&store.data_dir));
    let attached = StoreIntegrity::attach_checked(
        &target.handle(),
        store.signer.clone(),
        store.policy,
        marks,
        None,
    );
    match attached {
        Ok(integrity) => {
            drop(target);
            tokio::task::block_in_place(|| {
                tokio::runtime::Handle::current().block_on(integrity.close())
            })
            .unwrap();
            Ok(())
        }
        Err(e) => Err(e),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_oldest_pieces_removed_by_hand_are_refused_at_start() {
    let mut store = Store::in_small_pieces();
    let open = store.open();
    store.write_days(&open, 1..=6, 60).await;
    store.close(open).await;
    let pieces = sealed_pieces(&store.root).unwrap();
    assert!(pieces.len() >= 4, "{pieces:?}");
    attach(&store).unwrap();

    std::fs::remove_file(&pieces[0].path).unwrap();
    let refused = attach(&store).expect_err("a log whose first piece went by hand");
    let said = refused.to_string();
    assert!(
        matches!(refused, IntegrityError::Refused { .. })
            && said.contains(&pieces[0].name)
            && said.contains(&format!(
                "checkpoints #1..#{} were removed",
                pieces[1].first.unwrap() - 1
            )),
        "{said}"
    );
    // Two of them.
    std::fs::remove_file(&pieces[1].path).unwrap();
    let said = attach(&store).expect_err("two").to_string();
    assert!(
        said.contains(&format!(
            "checkpoints #1..#{} were removed",
            pieces[2].first.unwrap() - 1
        )),
        "{said}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_head_retention_removed_is_taken_with_and_without_the_head_file() {
    let mut store = Store::in_small_pieces();
    let open = store.open();
    store.write_days(&open, 1..=10, 60).await;
    let before: Vec<(std::path::PathBuf, Vec<u8>)> = sealed_pieces(&store.root)
        .unwrap()
        .iter()
        .map(|p| (p.path.clone(), std::fs::read(&p.path).unwrap()))
        .collect();
    assert_eq!(prune_before(&open, jan(4), jan(11)).await.len(), 1);
    store.close(open).await;
    let kept = sealed_pieces(&store.root).unwrap();
    assert!(kept[0].first.unwrap() > 1, "retention removed the head");
    assert!(kept.len() >= 3, "{kept:?}");
    assert!(store.root.join(HEAD_FILE).exists());
    attach(&store).unwrap();

    // Without the file (a store pruned by an earlier version): read back once, and
    // noted again.
    std::fs::remove_file(store.root.join(HEAD_FILE)).unwrap();
    attach(&store).unwrap();
    assert!(store.root.join(HEAD_FILE).exists(), "noted again");

    // A removal interrupted after its first piece: the rest are still there, named by
    // the deletion line.
    let removed: Vec<&(std::path::PathBuf, Vec<u8>)> =
        before.iter().filter(|(p, _)| !p.exists()).collect();
    assert!(removed.len() >= 2, "{removed:?}");
    for (path, bytes) in &removed[1..] {
        std::fs::write(path, bytes).unwrap();
    }
    attach(&store).unwrap();
    let report = store.verify(&[]);
    assert!(report.ok, "an interrupted removal:\n{report}");
}
