//! The broker is stopped while events are emitted, then restarted: every event is
//! delivered once the broker is back, none is dead-lettered or lost.
//!
//! The test runs its own tansu broker (memory storage) behind a loopback proxy. What
//! "delivered" means here: events acknowledged before the stop were confirmed by the
//! first broker process (checked with a consumer before stopping it; its memory
//! storage dies with it); events emitted while it was down are retried by the
//! dispatcher until the restarted broker confirms them, and are read back from it.

use crate::common;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use auditrail_core::{topics, DeliveryOptions, EventDraft, EventId, Filter};
use common::own_broker::{Proxy, Tansu};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_emitted_while_the_broker_is_down_are_delivered_after_its_restart() {
    common::init_logs();
    let proxy = Proxy::start().await;
    let proxy_port = proxy.port;
    let first = Tansu::start(proxy_port);
    proxy.forward_to(first.port);
    let topic = common::unique_topic("restart");
    first.create_topic(&topic);
    let brokers = format!("127.0.0.1:{proxy_port}");

    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        dir.path(),
        serde_json::json!({
            "brokers": brokers,
            "topic": topic,
            // Short, so that records time out while the broker is down and the
            // dispatcher's retry path is exercised.
            "delivery_timeout_ms": 2000,
            "properties": {"reconnect.backoff.max.ms": 500}
        }),
        Filter::all(),
        DeliveryOptions {
            retry_initial_backoff_ms: 100,
            retry_max_backoff_ms: 1000,
            ..Default::default()
        },
    );
    let sample = |i: u64| {
        EventDraft::new(topics::GENERIC, "restart")
            .routing_key(format!("svc-{}", i % 3))
            .field("i", i)
    };

    // Phase 1: the broker is up.
    let before: Vec<EventId> = d
        .emit_batch_acked((0..20).map(sample))
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    let read: HashSet<EventId> = common::read_topic(&brokers, &topic)
        .await
        .iter()
        .map(|r| r.event().id)
        .collect();
    assert!(before.iter().all(|id| read.contains(id)));

    // Phase 2: the broker stops; events keep coming.
    proxy.close();
    first.stop();
    let mut acks = Vec::new();
    for i in 20..60 {
        let d = d.clone();
        acks.push(tokio::spawn(async move { d.emit_acked(sample(i)).await }));
    }
    // Wait (bounded) until the target has reported at least one failed attempt, so
    // the events really went through the retry path.
    let deadline = Instant::now() + Duration::from_secs(60);
    while d.stats()[0].retried == 0 {
        assert!(
            Instant::now() < deadline,
            "no retry within 60 s: {:?}",
            d.stats()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        acks.iter().all(|a| !a.is_finished()),
        "no event may be acknowledged while the broker is down"
    );

    // Phase 3: the broker restarts (empty: memory storage), gets its topic back,
    // and becomes reachable again.
    // On a port of its own: the producer only knows the proxy's.
    let second = Tansu::start(proxy_port);
    second.create_topic(&topic);
    proxy.forward_to(second.port);
    proxy.open();

    let mut during = Vec::new();
    for a in acks {
        let emitted = tokio::time::timeout(Duration::from_secs(90), a)
            .await
            .expect("acknowledged within 90 s of the restart")
            .unwrap()
            .expect("delivered, not dead-lettered");
        during.push(emitted.id);
    }
    let report = d.shutdown(Duration::from_secs(30)).await;
    assert!(report.is_clean(), "{report:?}");
    assert!(report.targets[0].stats.retried > 0);
    assert!(common::dead_letters(dir.path()).is_empty());

    let read: HashSet<EventId> = common::read_topic(&brokers, &topic)
        .await
        .iter()
        .map(|r| r.event().id)
        .collect();
    let missing: Vec<&EventId> = during.iter().filter(|id| !read.contains(id)).collect();
    assert!(
        missing.is_empty(),
        "not in Kafka after the restart: {missing:?}"
    );
    second.stop();
}
