//! A batch larger than the whole spool (`spool_max_bytes`) is spooled in pieces, waiting
//! for room as the sender delivers, instead of being given up: every event that fits
//! the spool on its own is delivered. Only an event larger than the spool by itself is
//! refused (dead-lettered), and only that event.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use auditrail_core::{Event, NodeId, Target, TargetError};
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::{ctx, FakeServer};

/// `n` events of about `pad` bytes each.
fn padded(n: usize, pad: usize) -> Vec<Arc<Event>> {
    let node = NodeId::new("test-node").unwrap();
    (0..n)
        .map(|i| {
            let d = auditrail_core::EventDraft::new(auditrail_core::topics::GENERIC, "t")
                .field("i", i as u64)
                .field("pad", "p".repeat(pad));
            Arc::new(d.complete(&node, || i as u64 + 1).unwrap())
        })
        .collect()
}

fn small_spool(url: String, dir: &std::path::Path, name: &str) -> EventServerTarget {
    let mut c = EventServerConfig::new(url);
    c.spool_max_bytes = 100_000;
    c.spool_segment_bytes = 100_000;
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 50;
    c.shutdown_drain_ms = 300;
    // One request at a time: with several in flight, two batches may reach the server
    // in either order, and the test checks the order events arrive in.
    c.max_in_flight = 1;
    EventServerTarget::new(c, &ctx(dir, name)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_of_240_kb_goes_through_a_spool_of_100_kb() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut t = small_spool(server.url(), dir.path(), "small");
    let batch = padded(200, 1200);
    tokio::time::timeout(Duration::from_secs(60), t.send(&batch))
        .await
        .expect("the send finishes as the sender makes room")
        .unwrap();
    tokio::time::timeout(Duration::from_secs(60), t.flush())
        .await
        .unwrap()
        .unwrap();
    let stored: Vec<_> = server.stored().iter().map(|e| e.id).collect();
    let unique: HashSet<_> = stored.iter().collect();
    assert_eq!(unique.len(), 200, "every event delivered");
    assert_eq!(
        stored,
        batch.iter().map(|e| e.id).collect::<Vec<_>>(),
        "in order, once each"
    );
    t.shutdown().await.unwrap();
    assert!(
        !dir.path().join("run/deadletter").exists(),
        "nothing dead-lettered"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_an_event_larger_than_the_spool_is_refused() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut t = small_spool(server.url(), dir.path(), "one-large");
    let mut batch = padded(50, 1200);
    batch[20] = padded(1, 150_000).pop().unwrap();
    let err = t.send(&batch).await.unwrap_err();
    let TargetError::Rejected { rejected } = &err else {
        panic!("{err:?}");
    };
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].0, 20);
    assert!(rejected[0].1.contains("can never fit"), "{}", rejected[0].1);
    t.flush().await.unwrap();
    let stored: HashSet<_> = server.stored().iter().map(|e| e.id).collect();
    assert_eq!(stored.len(), 49);
    assert!(!stored.contains(&batch[20].id));
    t.shutdown().await.unwrap();
}
