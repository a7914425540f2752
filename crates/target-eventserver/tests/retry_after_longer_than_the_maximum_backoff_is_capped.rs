//! A `503` with a long `Retry-After` (a reverse proxy's maintenance page in front of the
//! server, in seconds or as an HTTP date) delays the spooled batch by at most
//! `backoff_max_ms`: the server answers again at once, and the batch is delivered then,
//! not a day later.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::time::{Duration, SystemTime};

use auditrail_core::Target;
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::{ctx, events, Answer, FakeServer};

/// Sends a batch through a server whose first answer is `503` with `retry_after`, and
/// checks that every event is stored within the stand-in's deadline (20 s, far below
/// what the server asked for).
async fn stored_soon_after(retry_after: &'static str) {
    let server = FakeServer::start().await;
    server.push(Answer {
        status: 503,
        retry_after: Some(retry_after),
        body: "down for maintenance".into(),
    });
    let dir = tempfile::tempdir().unwrap();
    let mut c = EventServerConfig::new(server.url());
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 200;
    c.shutdown_drain_ms = 300;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "capped")).unwrap();
    let batch = events(5, false);
    t.send(&batch).await.unwrap();
    let stored = server.wait_stored(5).await;
    assert_eq!(
        stored.len(),
        5,
        "Retry-After {retry_after:?}: after {} request(s) the batch is still not stored",
        server.requests()
    );
    assert!(server.requests() >= 2, "the first answer was the 503");
    t.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_of_a_day_in_seconds_waits_at_most_the_maximum_backoff() {
    stored_soon_after("86400").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_date_a_day_ahead_waits_at_most_the_maximum_backoff() {
    let tomorrow = SystemTime::now() + Duration::from_secs(86_400);
    let date: &'static str = Box::leak(httpdate::fmt_http_date(tomorrow).into_boxed_str());
    stored_soon_after(date).await;
}
