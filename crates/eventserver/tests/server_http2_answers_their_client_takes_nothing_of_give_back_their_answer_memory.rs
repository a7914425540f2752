//! An HTTP/2 client that holds its streams' flow-control windows at 0 (and keeps its
//! connection alive with PINGs) takes nothing of its answers: after `idle_timeout_ms`
//! its connection is closed and the answers' room in `max_answer_memory_bytes` comes
//! back. Before, only a full socket timed an answer out, and the socket of such a
//! client stays empty: its answers held their room for ever, and three such
//! connections left every other client's `/v1/recent` a `503 answer_memory` (tryout
//! edge67/04).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use std::time::{Duration, Instant};

use server_support::h2_window_zero::WindowZero;
use server_support::*;

/// 30 events of some 1.7 kB: a `/v1/recent?limit=30` answer of some 55 kB fits the
/// budget once, not twice.
const BUDGET: usize = 64 * 1024;
const RECENT: &str = "/v1/recent?limit=30";

async fn recent_status(s: &TestServer) -> (u16, String) {
    let answer = s.client.get(s.url(RECENT)).send().await.unwrap();
    let status = answer.status().as_u16();
    (status, answer.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_the_client_took_nothing_for_the_idle_timeout() {
    let s = start(&format!(
        "idle_timeout_ms = 2000\nheader_read_timeout_ms = 2000\n\
         max_answer_memory_bytes = {BUDGET}\n{STORE}"
    ))
    .await;
    let events: Vec<_> = (1..=30)
        .map(|seq| {
            let mut e = event("n1", seq);
            e["message"]["pad"] = "x".repeat(1500).into();
            e
        })
        .collect();
    let (status, _, body) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = recent_status(&s).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.len() > BUDGET / 2 && body.len() < BUDGET,
        "{}",
        body.len()
    );

    let mut stalled = WindowZero::connect(s.running.local_addr()).await;
    assert_eq!(stalled.get(RECENT).await, 200);
    // Its answer holds its room: another one does not fit beside it (asked well
    // within the idle timeout).
    let (status, body) = recent_status(&s).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("answer_memory"), "{body}");

    // A bound for a broken server, not a measure: a fixed one gives the room back
    // within about 1.25 × idle_timeout_ms.
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = recent_status(&s).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            Instant::now() < until,
            "the answer its HTTP/2 client takes nothing of still holds its room: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stalled);
}
