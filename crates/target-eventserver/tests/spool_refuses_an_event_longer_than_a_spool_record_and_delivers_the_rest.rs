//! An event whose JSON is longer than a spool record may be (`record::MAX_PAYLOAD`,
//! 64 MiB) is refused alone when it is emitted, with a reason naming the bound, so that
//! the dispatcher dead-letters it whole; the events around it are spooled and
//! delivered. Spooled, it was acknowledged and then read back as damaged bytes (its
//! length field is over the reader's bound): an acknowledgement for an event that was
//! never sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use auditrail_core::{Event, EventDraft, NodeId, Target, TargetError};
use auditrail_target_eventserver::spool::record::MAX_PAYLOAD;
use auditrail_target_eventserver::{EventServerConfig, EventServerTarget};
use common::{ctx, FakeServer};

fn event(seq: u64, pad: usize) -> Arc<Event> {
    let node = NodeId::new("test-node").unwrap();
    let d = EventDraft::new(auditrail_core::topics::GENERIC, "t").field("pad", "p".repeat(pad));
    Arc::new(d.complete(&node, || seq).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_long_event_is_refused_alone_and_the_others_are_delivered() {
    let server = FakeServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let mut c = EventServerConfig::new(server.url());
    c.backoff_initial_ms = 5;
    c.backoff_max_ms = 50;
    c.shutdown_drain_ms = 300;
    let mut t = EventServerTarget::new(c, &ctx(dir.path(), "long")).unwrap();
    let batch = vec![event(1, 10), event(2, MAX_PAYLOAD + 1), event(3, 10)];

    let err = t.send(&batch).await.unwrap_err();
    let TargetError::Rejected { rejected } = &err else {
        panic!("the long event is refused, not spooled: {err:?}");
    };
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert_eq!(rejected[0].0, 1, "the long event, and only it");
    assert!(
        rejected[0].1.contains("spool record"),
        "the reason names the bound: {}",
        rejected[0].1
    );

    tokio::time::timeout(Duration::from_secs(60), t.flush())
        .await
        .expect("the flush ends")
        .unwrap();
    let stored: HashSet<_> = server.stored().iter().map(|e| e.id).collect();
    let expected: HashSet<_> = [batch[0].id, batch[2].id].into_iter().collect();
    assert_eq!(stored, expected, "the other two events are delivered");
    let m = t.metrics();
    assert_eq!(
        m.damaged_ranges, 0,
        "nothing in the spool is damaged: {m:?}"
    );
    t.shutdown().await.unwrap();
}
