//! `/v1/stream` followers opened over HTTP/2 by a client that holds their flow-control
//! windows at 0 (and keeps its connection alive with PINGs), so that the server cannot
//! send them their events, are closed after `idle_timeout_ms`: their places under
//! `max_streams` go to other followers. Before, only a full socket timed a follower
//! out, and the socket of such a client stays empty: one client held every place for
//! as long as it liked, and the console's live tail and `auditrail tail` got `503
//! too_many_streams` (tryout edge67/05).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use std::time::{Duration, Instant};

use server_support::h2_window_zero::WindowZero;
use server_support::*;

/// The status of another follower (HTTP/1.1), closed at once.
async fn follower_status(s: &TestServer) -> (u16, String) {
    let answer = s
        .client
        .get(s.url("/v1/stream?limit=1"))
        .send()
        .await
        .unwrap();
    let status = answer.status().as_u16();
    let body = if status == 200 {
        String::new()
    } else {
        answer.text().await.unwrap()
    };
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_the_client_took_nothing_for_the_idle_timeout() {
    let s = start(&format!(
        "idle_timeout_ms = 2000\nheader_read_timeout_ms = 2000\nmax_streams = 2\n{STORE}"
    ))
    .await;
    let events: Vec<_> = (1..=30).map(|seq| event("n1", seq)).collect();
    let (status, _, body) = post(&s, ndjson(&events), None).await;
    assert_eq!(status, 200, "{body}");

    // Two followers, each with a backlog of 30 events ready for it.
    let mut stalled = WindowZero::connect(s.running.local_addr()).await;
    assert_eq!(stalled.get("/v1/stream?limit=30").await, 200);
    assert_eq!(stalled.get("/v1/stream?limit=30").await, 200);
    let (status, body) = follower_status(&s).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("too_many_streams"), "{body}");

    // A bound for a broken server, not a measure: a fixed one frees the places within
    // about 1.25 × idle_timeout_ms.
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, body) = follower_status(&s).await;
        if status == 200 {
            break;
        }
        assert_eq!(status, 503, "{body}");
        assert!(
            Instant::now() < until,
            "the followers their HTTP/2 client takes nothing of still hold every place: {body}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stalled);
}
