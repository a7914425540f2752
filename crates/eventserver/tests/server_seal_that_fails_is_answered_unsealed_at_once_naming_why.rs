//! A batch whose seal cannot be written (here: the checkpoint log moved away; also a
//! full or read-only disk, an immutable log) is answered `503 unsealed` as soon as the
//! checkpoint task's attempt to seal it fails, with the reason (the log and what is
//! wrong with it), as docs/tamper-evidence.md says. It used to wait for the seal until
//! `ack_timeout_ms` ran out (30 s by default) and got `503 ack_timeout`, which says
//! nothing about the log. Once the log is back, the retry is acknowledged.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use std::time::{Duration, Instant};

use server_support::*;

const CONFIG: &str =
    "ack_timeout_ms = 20000\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_seal_fails_gets_unsealed_at_once_with_the_reason() {
    let s = start(CONFIG).await;
    let (status, _, answer) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200, "{answer}");
    let log = s.store().join("checkpoints.jsonl");
    let aside = s.store().join("checkpoints.jsonl.1");
    std::fs::rename(&log, &aside).unwrap();

    let batch = ndjson(&[event("n1", 2), event("n1", 3)]);
    let asked = Instant::now();
    let (status, _, answer) = post(&s, batch.clone(), None).await;
    let took = asked.elapsed();
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["error"], "unsealed", "{answer}");
    let message = answer["message"].as_str().unwrap();
    assert!(
        message.contains("stored but not sealed")
            && message.contains("checkpoints.jsonl: its path is gone"),
        "says why: {message}"
    );
    assert!(
        took < Duration::from_secs(10),
        "answered after {took:?}, not when the seal failed"
    );

    std::fs::rename(&aside, &log).unwrap();
    let (status, _, answer) = post(&s, batch, None).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["duplicates"], 2, "{answer}");
    assert!(answer["receipt"].is_object(), "{answer}");
}
