//! A checkpoint task whose store's high-water mark cannot be written (the data folder
//! moved away while the server runs): every attempt (each batch, and a tick every
//! second) failed and logged `ERROR writing a checkpoint failed`, 86 400 lines a day for
//! one state. Now the failure is said once when it starts, and its end once, however
//! many attempts fail in between; `Sealed::unpublished` (what `/readyz` reads as
//! `high_water_mark_unwritten`) holds the state meanwhile. Driven by counting the
//! task's attempts, not by time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::time::Duration;

use auditrail_integrity::{
    CheckpointPolicy, CheckpointTask, Checkpointer, HighWaterMarks, Sealed, Signer,
};
use auditrail_store::chain::ChainLink;
use auditrail_store::Head;
use tokio::sync::watch;

/// Failed attempts made while the folder is away.
const FAILING: u64 = 6;

/// A hang guard for one attempt (no timing is asserted).
const HANG: Duration = Duration::from_secs(60);

/// Sends the head of `seq` and waits for an attempt that began after it.
async fn attempt(
    head: &watch::Sender<Head>,
    sealed: &mut watch::Receiver<Sealed>,
    seq: u64,
) -> Sealed {
    let before = sealed.borrow().attempts;
    head.send(
        ChainLink {
            seq,
            hash: [seq as u8; 32],
        }
        .into(),
    )
    .unwrap();
    // The attempt that follows the one under way (if any) saw this head.
    tokio::time::timeout(HANG, sealed.wait_for(|s| s.attempts >= before + 2))
        .await
        .expect("no attempt")
        .unwrap()
        .clone()
}

#[test]
fn a_lasting_failure_is_said_once_and_its_end_once() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let store = dir.path().join("store");
    std::fs::create_dir(&store).unwrap();
    let moved = dir.path().join("data.moved");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let ((), log) = auditrail_core::testing::logged(|| {
        runtime.block_on(async {
            let marks = Arc::new(HighWaterMarks::in_data_dir(&data));
            let policy = CheckpointPolicy {
                every_records: 1,
                every_seconds: 0,
                ..CheckpointPolicy::default()
            };
            let (head, head_rx) = watch::channel(Head::from(ChainLink::GENESIS));
            let cp = Checkpointer::open_with_marks(
                &store,
                Arc::new(Signer::from_seed([3; 32])),
                policy,
                head_rx.borrow().clone(),
                Some(marks),
            )
            .unwrap();
            let task = CheckpointTask::spawn(cp, head_rx);
            let mut sealed = task.sealed();
            let s = attempt(&head, &mut sealed, 1).await;
            assert!(s.failed.is_none() && s.unpublished.is_none(), "{s:?}");

            std::fs::rename(&data, &moved).unwrap();
            let mut failed = 0;
            let mut seq = 1;
            while failed < FAILING {
                seq += 1;
                let s = attempt(&head, &mut sealed, seq).await;
                assert!(s.failed.is_none(), "sealed: {s:?}");
                assert!(s.unpublished.is_some(), "{s:?}");
                failed += 1;
            }
            assert!(!data.exists(), "made again");

            std::fs::rename(&moved, &data).unwrap();
            let s = attempt(&head, &mut sealed, seq + 1).await;
            assert!(s.unpublished.is_none(), "{s:?}");
            task.close().await.unwrap();
        })
    });
    let failing: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("writing a checkpoint failed"))
        .collect();
    assert_eq!(failing.len(), 1, "{log}");
    assert!(
        failing[0].contains("ERROR") && failing[0].contains("the folder is gone"),
        "{log}"
    );
    let back: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("writing a checkpoint works again"))
        .collect();
    assert_eq!(back.len(), 1, "{log}");
    assert!(back[0].contains("INFO"), "{log}");
}
