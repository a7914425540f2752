//! An operator moves the store's checkpoint log aside while the server runs (rotating
//! it like any log file). The server's seals would go on into the moved file, nobody
//! finding them at the log's path, while it answered `200` with receipts; the next
//! start would then refuse the store. Now nothing is acknowledged while the log is not
//! at its path: a batch gets `503` (its events are stored, not sealed, and a retry is
//! answered as duplicates once sealed), and once the file is back the same retry is
//! acknowledged with a receipt, sealed in the one log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use server_support::*;

const CONFIG: &str =
    "ack_timeout_ms = 1500\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_is_not_acknowledged_while_the_checkpoint_log_is_moved_away() {
    let s = start(CONFIG).await;
    let (status, _, answer) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200, "{answer}");
    let log = s.store().join("checkpoints.jsonl");
    let aside = s.store().join("checkpoints.jsonl.1");
    std::fs::rename(&log, &aside).unwrap();
    let sealed_before = std::fs::read(&aside).unwrap();

    let batch = ndjson(&[event("n1", 2), event("n1", 3)]);
    let (status, _, answer) = post(&s, batch.clone(), None).await;
    assert_eq!(
        status, 503,
        "acknowledged without its seal being at the log's path: {answer}"
    );
    assert_eq!(
        std::fs::read(&aside).unwrap(),
        sealed_before,
        "a seal went into the moved file"
    );
    assert!(!log.exists(), "a new log was started at the path");

    std::fs::rename(&aside, &log).unwrap();
    let (status, _, answer) = post(&s, batch, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["duplicates"], 2, "{answer}");
    assert!(answer["receipt"].is_object(), "{answer}");
}
