//! An upload that stops sending, or sends slower than the minimum rate, is answered
//! 408 `body_timeout` with what arrived and the rule it broke, and the connection is
//! closed; nothing of it is stored (../shared/cases/server-08, server-09).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use std::time::Duration;

use server_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads until the server closes the connection (the answer and then EOF).
async fn answer(mut rd: impl tokio::io::AsyncRead + Unpin) -> String {
    let mut out = Vec::new();
    // Bounded only so that a regression fails instead of hanging the suite.
    tokio::time::timeout(Duration::from_secs(120), rd.read_to_end(&mut out))
        .await
        .expect("the server never answered the upload")
        .unwrap();
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_and_trickling_uploads_are_cut_off_with_408() {
    let s = start(STORE).await;
    let addr = s.running.local_addr();
    let stalled = start_upload(addr, 100_000, b"{").await;
    let (rd, mut wr) = start_upload(addr, 100_000, b"{").await.into_split();
    // One byte a second, far under the minimum rate, until the server hangs up.
    let trickle = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(1)).await;
            if wr.write_all(b" ").await.is_err() {
                break;
            }
        }
    });
    let text = answer(stalled).await;
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"body_timeout\""), "{text}");
    assert!(text.contains("1 bytes in"), "says what arrived: {text}");
    assert!(text.contains("bytes/s"), "names the rule: {text}");

    // Read while the writer goes on, so the answer is read before any reset.
    let text = answer(rd).await;
    trickle.abort();
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert!(text.contains("\"body_timeout\""), "{text}");
    assert!(stored_ids(&s.store()).is_empty());
}
