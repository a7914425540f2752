//! `send_max_wait_ms` only delays the reading of a new partial batch: meanwhile the
//! sender keeps handling the server's answers (the spool's earlier events are
//! acknowledged), and whoever waits for the sender ends the wait and has the batch
//! sent at once: a flush or shutdown (waiting for the spool to empty), or a `send`
//! waiting for room in a full spool. Against a real `auditrail serve`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use auditrail_core::{topics, Event, EventDraft, NodeId, Target};
use auditrail_target_eventserver::{spool, EventServerConfig, EventServerTarget};
use common::ctx;
use common::server::ServerProcess;

/// Far longer than any test may take: only a wait that something cuts short lets
/// these events reach the server.
const AN_HOUR_MS: u64 = 3_600_000;

/// Generous bound for "eventually": the machine is small and shared.
const PATIENCE: Duration = Duration::from_secs(20);

/// Quick retries; a drain and a flush that may wait long (the test's bound is on
/// their outcome, not their time).
fn config(url: &str, send_max_wait_ms: u64) -> EventServerConfig {
    let mut c = EventServerConfig::new(url.to_owned());
    c.send_max_wait_ms = send_max_wait_ms;
    c.backoff_initial_ms = 10;
    c.backoff_max_ms = 100;
    c.request_timeout_ms = 2000;
    c.shutdown_drain_ms = 15_000;
    c.flush_timeout_ms = 15_000;
    c
}

fn target(config: EventServerConfig, dir: &Path) -> EventServerTarget {
    EventServerTarget::new(config, &ctx(dir, "central")).unwrap()
}

/// `n` events with sequence numbers from `first`.
fn events(first: u64, n: u64) -> Vec<Arc<Event>> {
    let node = NodeId::new("test-node").unwrap();
    (first..first + n)
        .map(|seq| {
            let draft = EventDraft::new(topics::GENERIC, "login").field("n", seq);
            Arc::new(draft.complete(&node, || seq).unwrap())
        })
        .collect()
}

fn ids(events: &[Arc<Event>]) -> BTreeSet<String> {
    events.iter().map(|e| e.id.to_string()).collect()
}

fn stored_ids(server: &ServerProcess) -> Vec<String> {
    server
        .stored()
        .into_iter()
        .map(|(_, e)| e.id.to_string())
        .collect()
}

fn pending(t: &EventServerTarget) -> u64 {
    t.forwarding().unwrap().stats().pending_events
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn earlier_events_are_acknowledged_while_a_new_batch_waits_and_shutdown_sends_it() {
    let dir = tempfile::tempdir().unwrap();
    // Held by the test: refused until the server takes it (no other socket can).
    let port = auditrail_testkit::port::Port::new();
    let url = port.url();
    // An earlier run left events in the spool: the server was down.
    let earlier = events(1, 3);
    {
        let mut c = config(&url, 0);
        c.shutdown_drain_ms = 100;
        let mut t = target(c, dir.path());
        t.send(&earlier).await.unwrap();
        t.shutdown().await.unwrap();
        assert_eq!(
            pending(&t),
            3,
            "the server was down: the events stay spooled"
        );
    }

    // This run: the sender starts on the spool's events (the server is still down,
    // so they are in flight, being retried) when new events arrive and wait for
    // more. Then the server comes up.
    let mut t = target(config(&url, AN_HOUR_MS), dir.path());
    let new = events(4, 2);
    t.send(&new).await.unwrap();
    let server = ServerProcess::start_on(&dir.path().join("server"), None, port);

    // The answer to the earlier events is handled while the new batch waits.
    let until = Instant::now() + PATIENCE;
    while !(pending(&t) <= new.len() as u64
        && ids(&earlier)
            .iter()
            .all(|id| stored_ids(&server).contains(id)))
    {
        assert!(
            Instant::now() < until,
            "the earlier events were not acknowledged: {} still spooled, the server stored {:?}",
            pending(&t),
            stored_ids(&server)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Shutdown's drain sends the waiting batch at once.
    tokio::time::timeout(Duration::from_secs(60), t.shutdown())
        .await
        .expect("shutdown ends at shutdown_drain_ms at the latest")
        .unwrap();
    assert_eq!(pending(&t), 0, "the drain sent the waiting batch");
    let mut stored = stored_ids(&server);
    stored.sort();
    let mut all: Vec<String> = ids(&earlier).union(&ids(&new)).cloned().collect();
    all.sort();
    assert_eq!(stored, all, "every event stored once");
    let on_disk = spool::inspect::inspect(&dir.path().join("run/spool/central")).unwrap();
    assert_eq!(on_disk.pending_events(), 0, "{on_disk:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_sends_a_batch_that_waits_for_more() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("server"), None);
    let mut t = target(config(&server.url, AN_HOUR_MS), dir.path());
    let batch = events(1, 4);
    t.send(&batch).await.unwrap();

    tokio::time::timeout(Duration::from_secs(60), t.flush())
        .await
        .expect("flush ends at flush_timeout_ms at the latest")
        .expect("flush empties the spool");
    assert_eq!(pending(&t), 0);
    let stored: BTreeSet<String> = stored_ids(&server).into_iter().collect();
    assert_eq!(stored, ids(&batch));
    t.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_larger_than_the_spool_is_taken_while_the_sender_would_wait() {
    let dir = tempfile::tempdir().unwrap();
    let server = ServerProcess::start(&dir.path().join("server"), None);
    let mut c = config(&server.url, AN_HOUR_MS);
    c.spool_max_bytes = 100_000;
    c.spool_segment_bytes = 100_000;
    let mut t = target(c, dir.path());
    // About 240 KB: spooled in pieces, each waiting for the sender to make room.
    let node = NodeId::new("test-node").unwrap();
    let batch: Vec<Arc<Event>> = (1..=200u64)
        .map(|seq| {
            let draft = EventDraft::new(topics::GENERIC, "login")
                .field("n", seq)
                .field("pad", "p".repeat(1200));
            Arc::new(draft.complete(&node, || seq).unwrap())
        })
        .collect();

    tokio::time::timeout(Duration::from_secs(60), t.send(&batch))
        .await
        .expect("the send waited for a partial batch that waits for more events")
        .unwrap();
    t.flush().await.unwrap();
    let stored: BTreeSet<String> = stored_ids(&server).into_iter().collect();
    assert_eq!(stored, ids(&batch));
    t.shutdown().await.unwrap();
}
