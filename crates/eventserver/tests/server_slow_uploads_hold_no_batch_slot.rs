//! Uploads that stall or trickle mid-body hold no batch slot: with hundreds of them
//! connected (many more than `max_concurrent_batches`), a client that sends its batch
//! at once is stored and answered 200 (../shared/cases/server-08, server-09).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use std::time::Duration;

use server_support::*;
use tokio::io::AsyncWriteExt;

const STALLED: usize = 200;
const TRICKLING: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_batch_is_stored_while_hundreds_of_uploads_stall() {
    let s = start(&format!(
        "max_concurrent_batches = 4\nmax_connections = 1000\n{STORE}"
    ))
    .await;
    let addr = s.running.local_addr();
    let mut stalled = Vec::new();
    for _ in 0..STALLED {
        stalled.push(start_upload(addr, 1000, b"{").await);
    }
    // Trickling uploads: one more byte every 200 ms, for as long as the test runs.
    let mut trickling = Vec::new();
    for _ in 0..TRICKLING {
        let mut conn = start_upload(addr, 1000, b"{").await;
        trickling.push(tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(200)).await;
                if conn.write_all(b" ").await.is_err() {
                    break;
                }
            }
        }));
    }
    // Every upload's first byte has reached its handler (each counts its buffer, at
    // least that byte, of body memory), so each of them is as far as it will get.
    let all = (STALLED + TRICKLING) as u64;
    let mut reached = 0;
    for _ in 0..500 {
        reached = metric(&s, "auditrail_server_body_memory_bytes").await;
        if reached >= all {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reached >= all, "only {reached} of {all} bytes counted");

    let (status, _, body) = post(&s, ndjson(&[event("node-good", 1)]), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["accepted"], 1);
    assert_eq!(stored_ids(&s.store()).len(), 1);

    for t in trickling {
        t.abort();
    }
    drop(stalled);
}
