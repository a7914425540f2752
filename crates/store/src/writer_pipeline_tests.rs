//! Two batches in flight (durable mode, [`crate::StoreTarget::stage_blocking`], what
//! the dispatcher's `send_pipelined` runs): while the sync thread fsyncs batch k, the
//! writer appends batch k+1. A batch is answered only once a fsync that started after
//! its last append returned; a fsync that fails undoes every batch appended since the
//! last good one, and answers each with the error.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};

use auditrail_core::TargetError;
use auditrail_testkit::store::{events, segments, stored_events, verify_chain};
use tokio::sync::oneshot::error::TryRecvError;

use super::tests::{no_sync_hook_under, sync_hook_under};

fn open(root: &Path) -> crate::StoreTarget {
    let config: crate::StoreConfig =
        serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
    crate::StoreTarget::open(root, &config, "store").unwrap()
}

fn store_root(dir: &tempfile::TempDir) -> PathBuf {
    std::fs::canonicalize(dir.path()).unwrap().join("store")
}

fn sizes(root: &Path) -> Vec<(PathBuf, u64)> {
    segments(root)
        .into_iter()
        .map(|p| {
            let len = std::fs::metadata(&p).unwrap().len();
            (p, len)
        })
        .collect()
}

fn stored_seqs(root: &Path) -> Vec<u64> {
    let mut seqs: Vec<u64> = stored_events(root).iter().map(|e| e.seq).collect();
    seqs.sort_unstable();
    seqs
}

/// The next `held` fsyncs of segment files under `root`, one at a time: each tells
/// `entered` the length of its first file when it starts, then waits for its turn on
/// the returned sender (`Ok`: it goes on; `Err`: it fails with that error). Later
/// fsyncs go on at once.
fn hold_fsyncs(root: &Path, held: usize) -> (mpsc::Receiver<u64>, mpsc::Sender<io::Result<()>>) {
    let (entered_tx, entered) = mpsc::channel();
    let (go, go_rx) = mpsc::channel::<io::Result<()>>();
    let turns = Mutex::new((entered_tx, go_rx, held));
    sync_hook_under(
        root,
        Arc::new(move |files: &[PathBuf]| {
            let mut turns = turns.lock().unwrap();
            if turns.2 == 0 {
                return Ok(());
            }
            turns.2 -= 1;
            let len = std::fs::metadata(&files[0]).map_or(0, |m| m.len());
            // Once the test is done with the hook, fsyncs still under way go on.
            let _ = turns.0.send(len);
            turns.1.recv().unwrap_or(Ok(()))
        }),
    );
    (entered, go)
}

#[test]
fn a_failed_fsync_with_two_batches_in_flight_fails_both_and_leaves_the_store_as_before_them() {
    let dir = tempfile::tempdir().unwrap();
    let root = store_root(&dir);
    let t = open(&root);
    t.send_blocking(&events(1, 10)).unwrap();
    let before = sizes(&root);

    let (entered, go) = hold_fsyncs(&root, 1);
    let first = t.stage_blocking(events(11, 10)).unwrap();
    // The first batch's fsync started; the second batch is appended meanwhile.
    entered.recv().unwrap();
    let second = t.stage_blocking(events(21, 10)).unwrap();
    assert_ne!(sizes(&root), before, "the second batch is appended");
    // The disk fails the first fsync (EIO).
    go.send(Err(io::Error::from_raw_os_error(5))).unwrap();
    let first = first.blocking_recv().unwrap();
    let second = second.blocking_recv().unwrap();
    no_sync_hook_under(&root);
    drop(go);

    for (which, answer) in [("first", &first), ("second", &second)] {
        assert!(
            matches!(answer, Err(TargetError::Retryable { message, .. }) if message.contains("store write failed")),
            "the {which} batch must fail retryably, got {answer:?}"
        );
    }
    assert_eq!(sizes(&root), before, "both batches undone");
    assert_eq!(t.handle().head().seq, 10);
    assert_eq!(verify_chain(&root).seq, 10);
    assert_eq!(t.handle().stats().write_errors, 2);

    // The dispatcher sends both again, in order: each event stored once, chained on.
    for first in [11, 21] {
        let answer = t.stage_blocking(events(first, 10)).unwrap();
        answer.blocking_recv().unwrap().unwrap();
    }
    assert_eq!(stored_seqs(&root), (1..=30).collect::<Vec<_>>());
    assert_eq!(verify_chain(&root).seq, 30);
    assert_eq!(t.handle().head().seq, 30);
}

#[test]
fn a_batch_is_answered_only_after_a_fsync_that_started_after_its_last_append() {
    let dir = tempfile::tempdir().unwrap();
    let root = store_root(&dir);
    let t = open(&root);
    t.send_blocking(&events(1, 10)).unwrap();

    let (entered, go) = hold_fsyncs(&root, 2);
    let mut first = t.stage_blocking(events(11, 10)).unwrap();
    let first_started_at = entered.recv().unwrap();
    // Its fsync has not returned: no answer yet.
    assert!(matches!(first.try_recv(), Err(TryRecvError::Empty)));
    let mut second = t.stage_blocking(events(21, 10)).unwrap();
    let appended = sizes(&root)[0].1;
    assert!(
        first_started_at < appended,
        "appended after the first fsync started"
    );
    go.send(Ok(())).unwrap();
    // The next fsync, the second batch's, starts after its append.
    let second_started_at = entered.recv().unwrap();
    assert_eq!(second_started_at, appended);
    // The first batch is answered by its own fsync; the second is not, while its
    // fsync has not returned.
    assert_eq!(first.try_recv(), Ok(Ok(())));
    assert!(matches!(second.try_recv(), Err(TryRecvError::Empty)));
    go.send(Ok(())).unwrap();
    second.blocking_recv().unwrap().unwrap();
    no_sync_hook_under(&root);
    drop(go);

    assert_eq!(stored_seqs(&root), (1..=30).collect::<Vec<_>>());
    assert_eq!(verify_chain(&root).seq, 30);
    assert_eq!(t.handle().head().seq, 30);
}
