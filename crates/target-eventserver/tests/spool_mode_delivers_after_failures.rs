//! With the spool (the default), `send` returns once the batch is on disk; the
//! sender delivers it through server errors, dead-letters only the events the server
//! refuses for good, and resumes after a restart from what the spool holds.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::HashSet;
use std::time::Duration;

use auditrail_core::Target;
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::{ctx, events, Answer, FakeServer};

fn spooled(url: String, dir: &std::path::Path, name: &str) -> EventServerTarget {
    let mut c = EventServerConfig::new(url);
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 50;
    c.request_timeout_ms = 2000;
    c.shutdown_drain_ms = 300;
    EventServerTarget::new(c, &ctx(dir, name)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_answers_are_retried_until_stored_once_each() {
    let server = FakeServer::start().await;
    for _ in 0..3 {
        server.push(Answer {
            status: 503,
            retry_after: Some("0"),
            body: "overloaded".into(),
        });
    }
    let dir = tempfile::tempdir().unwrap();
    let mut t = spooled(server.url(), dir.path(), "es");
    let batch = events(40, false);
    t.send(&batch).await.unwrap();
    t.flush().await.unwrap();
    let stored: Vec<_> = server.stored().iter().map(|e| e.id).collect();
    let unique: HashSet<_> = stored.iter().collect();
    assert_eq!(unique.len(), 40);
    assert_eq!(stored.len(), 40, "a request answered 503 stored nothing");
    t.shutdown().await.unwrap();
    let m = &t.metrics();
    assert!(m.retries >= 3, "{m:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_events_go_to_the_dead_letter_file_and_the_rest_is_stored() {
    let server = FakeServer::start().await;
    server.script.lock().unwrap().forbidden_key = Some("forbidden".into());
    let dir = tempfile::tempdir().unwrap();
    let mut t = spooled(server.url(), dir.path(), "dl");
    let batch = events(30, true);
    t.send(&batch).await.unwrap();
    t.flush().await.unwrap();
    t.shutdown().await.unwrap();
    let forbidden: HashSet<String> = batch
        .iter()
        .filter(|e| e.routing_key.as_ref().unwrap().as_str() == "forbidden")
        .map(|e| e.id.to_string())
        .collect();
    let stored: HashSet<String> = server.stored().iter().map(|e| e.id.to_string()).collect();
    assert_eq!(stored.len(), 20);
    assert!(stored.is_disjoint(&forbidden));
    let text = std::fs::read_to_string(dir.path().join("run/deadletter/dl.jsonl")).unwrap();
    let mut dead = HashSet::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(v["target"], "dl");
        assert!(v["error"].as_str().unwrap().contains("403"), "{v}");
        assert!(v["failedAt"].is_string());
        dead.insert(v["event"]["id"].as_str().unwrap().to_owned());
    }
    assert_eq!(dead, forbidden);
    assert_eq!(t.metrics().dead_lettered, 10);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_the_spool_holds_is_sent_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    // First life: the server is down; send succeeds (spooled), shutdown leaves it there.
    let port = auditrail_testkit::port::down().port();
    let batch = events(25, false);
    {
        let mut t = spooled(format!("http://127.0.0.1:{port}"), dir.path(), "resume");
        t.send(&batch).await.unwrap();
        t.shutdown().await.unwrap();
    }
    let spool_dir = dir.path().join("run/spool/resume");
    assert!(std::fs::read_dir(&spool_dir).unwrap().count() > 0);
    // Second life: same spool, a live server.
    let server = FakeServer::start().await;
    let mut t = spooled(server.url(), dir.path(), "resume");
    let stored = server.wait_stored(25).await;
    let ids: Vec<_> = stored.iter().map(|e| e.id).collect();
    assert_eq!(
        ids,
        batch.iter().map(|e| e.id).collect::<Vec<_>>(),
        "in order, once"
    );
    tokio::time::timeout(Duration::from_secs(10), t.flush())
        .await
        .unwrap()
        .unwrap();
    t.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_spool_pushes_back_with_a_retryable_error() {
    let port = auditrail_testkit::port::down().port();
    let dir = tempfile::tempdir().unwrap();
    let mut c = EventServerConfig::new(format!("http://127.0.0.1:{port}"));
    c.spool_max_bytes = 20_000;
    c.spool_segment_bytes = 4_000;
    c.shutdown_drain_ms = 10;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "full")).unwrap();
    let mut accepted = 0;
    let err = loop {
        match t.send(&events(10, false)).await {
            Ok(()) => accepted += 10,
            Err(e) => break e,
        }
        assert!(accepted < 10_000, "never full");
    };
    assert!(err.is_retryable(), "{err:?}");
    assert!(err.to_string().contains("spool full"), "{err}");
    assert!(t.metrics().spool_full_refusals >= 1);
    t.shutdown().await.unwrap();
}
