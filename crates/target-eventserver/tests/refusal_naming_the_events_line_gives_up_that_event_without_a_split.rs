//! A batch refused for one event the server names (`line` of its error body,
//! docs/protocol.md), without a list of events (a server before `events` was listed
//! for every refusal), is not split in halves down to that event: the named event is
//! dead-lettered, and the rest of the batch (the events before it and after it) is
//! sent again as one request (before, one request each side of it).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use auditrail_core::Target;
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::{ctx, events, FakeServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_requests_for_a_batch_with_one_bad_event() {
    let server = FakeServer::start().await;
    // The fake server answers a batch holding an event of this routing key with 403,
    // naming the first such event's line.
    server.script.lock().unwrap().forbidden_key = Some("forbidden".into());
    let dir = tempfile::tempdir().unwrap();
    let mut c = EventServerConfig::new(server.url());
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 50;
    c.shutdown_drain_ms = 300;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "es")).unwrap();
    let mut batch = events(100, false);
    let bad = events(61, true).pop().unwrap(); // event 60: every third is "forbidden"
    assert_eq!(bad.routing_key.as_ref().unwrap().as_str(), "forbidden");
    batch[60] = bad.clone();
    t.send(&batch).await.unwrap();
    t.flush().await.unwrap();
    t.shutdown().await.unwrap();

    assert_eq!(
        server.requests(),
        2,
        "the batch, then the 99 others as one request"
    );
    let stored: Vec<_> = server.stored().iter().map(|e| e.id).collect();
    let expected: Vec<_> = batch
        .iter()
        .map(|e| e.id)
        .filter(|&id| id != bad.id)
        .collect();
    assert_eq!(stored, expected);
    let text = std::fs::read_to_string(dir.path().join("run/deadletter/es.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert_eq!(lines[0]["event"]["id"], bad.id.to_string());
    assert!(
        lines[0]["error"].as_str().unwrap().contains("403"),
        "{text}"
    );
    assert_eq!(t.metrics().dead_lettered, 1);
}
