//! Request bodies in flight are counted against `max_body_memory_bytes` (their buffer
//! while they arrive, then 13 bytes per body byte: the body and its parsed events)
//! before they take memory: a body that
//! would go over it is answered 503 `memory_budget` with Retry-After while small
//! batches go on being stored, and its part comes back when a body leaves
//! (../shared/cases/server-11).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use std::time::Duration;

use server_support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_BODY: usize = 1_000_000;
const BUDGET: usize = 20_000_000;

async fn wait_for_memory(s: &TestServer, want: impl Fn(u64) -> bool) -> u64 {
    let mut now = 0;
    for _ in 0..1000 {
        now = metric(s, "auditrail_server_body_memory_bytes").await;
        if want(now) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    now
}

/// Sends a POST head and `body` on a raw socket, reading the answer while writing
/// (the server may answer before the body is complete).
async fn raw_post(addr: std::net::SocketAddr, declared: usize, body: Vec<u8>) -> String {
    let (mut rd, mut wr) = TcpStream::connect(addr).await.unwrap().into_split();
    let head = format!(
        "POST /v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-ndjson\r\n\
         Content-Length: {declared}\r\nConnection: close\r\n\r\n"
    );
    let writer = tokio::spawn(async move {
        let _ = wr.write_all(head.as_bytes()).await;
        for chunk in body.chunks(16 * 1024) {
            if wr.write_all(chunk).await.is_err() {
                break;
            }
        }
        wr
    });
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(60), rd.read_to_end(&mut out))
        .await
        .expect("no answer")
        .unwrap();
    drop(writer.await);
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_budget_get_503_and_small_batches_go_on() {
    let s = start(&format!(
        "max_body_bytes = {MAX_BODY}\nmax_body_memory_bytes = {BUDGET}\n{STORE}"
    ))
    .await;
    let addr = s.running.local_addr();

    // 1. Ten uploads of 900,000 bytes each (1,000,000 announced) stall: each holds the
    //    900,000 bytes it sent (its frames), not what it announced.
    let mut holders = Vec::new();
    for _ in 0..10 {
        holders.push(start_upload(addr, MAX_BODY, &vec![b' '; 900_000]).await);
    }
    let held = wait_for_memory(&s, |m| m >= 9_000_000).await;
    assert_eq!(held, 9_000_000);

    // 2. A large body, once whole, would go over the budget with its events (13 bytes
    //    per byte: 11,700,000 more): 503, nothing stored.
    let text = raw_post(addr, 900_000, vec![b' '; 900_000]).await;
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.contains("\"memory_budget\""), "{text}");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: 1"),
        "{text}"
    );
    assert!(
        text.contains("max_body_memory_bytes"),
        "names the setting: {text}"
    );

    // 3. Small batches are stored meanwhile.
    let (status, _, body) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200, "{body}");

    // 4. The stalled uploads leave; their part of the budget comes back, and a batch of
    //    the same size as the refused one is stored.
    drop(holders);
    assert_eq!(wait_for_memory(&s, |m| m == 0).await, 0);
    let events: Vec<_> = (2..=2400).map(|i| event("n1", i)).collect();
    let big = ndjson(&events);
    assert!(big.len() > 400_000 && big.len() < MAX_BODY, "{}", big.len());
    let (status, _, body) = post(&s, big, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(stored_ids(&s.store()).len(), 2400);
    assert_eq!(
        wait_for_memory(&s, |m| m == 0).await,
        0,
        "settled batches give back"
    );
}
