//! When part of a batch is confirmed and the rest fails with a retryable error, the
//! retry of the same batch does not send the confirmed records again (no duplicates
//! from a partial failure).
//!
//! This needs one partition's leader down while another's is up, which a single tansu
//! broker cannot do: it runs against librdkafka's own in-process mock cluster (two
//! brokers), which speaks the real Kafka protocol to the real producer.

use crate::common;

use std::sync::Arc;

use auditrail_core::{BuildContext, Event, EventId, NodeId, TargetError};
use rdkafka::mocking::MockCluster;

#[allow(clippy::unwrap_used)]
fn event(topic: &str) -> Arc<Event> {
    let json = serde_json::json!({
        "id": EventId::new().to_string(),
        "timestamp": "2026-11-25T16:55:49.123Z",
        "topic": topic,
        "node": "node-1",
        "seq": 1,
        "message": {"msgType": "partial"}
    });
    Arc::new(Event::from_json(&json.to_string()).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_retry_of_a_partly_confirmed_batch_sends_only_the_rest() {
    let mock = MockCluster::new(2).unwrap();
    // "generic" is led by broker 1, "authfail" by broker 2.
    mock.create_topic("generic", 1, 1).unwrap();
    mock.create_topic("authfail", 1, 1).unwrap();
    mock.partition_leader("generic", 0, Some(1)).unwrap();
    mock.partition_leader("authfail", 0, Some(2)).unwrap();
    let brokers = mock.bootstrap_servers();

    let ctx = BuildContext::new(
        NodeId::new("node-1").unwrap(),
        "kafka",
        std::env::temp_dir(),
        std::env::temp_dir().join("deadletter"),
        tokio::runtime::Handle::current(),
    );
    let registration = &auditrail_target_kafka::REGISTRATION;
    let config = (registration.parse)(
        serde_json::json!({"brokers": brokers, "topic": "{topic}", "delivery_timeout_ms": 1500}),
    )
    .unwrap();
    let mut target = (registration.build)(&config, &ctx).unwrap();
    let batch = vec![event("generic"), event("authfail"), event("generic")];

    // Broker 2 is down: the "authfail" record times out, the two others are confirmed.
    mock.broker_down(2).unwrap();
    let err = target.send(&batch).await.unwrap_err();
    let TargetError::Retryable { message, .. } = &err else {
        panic!("expected a retryable error, got {err:?}");
    };
    assert!(
        message.contains("1 of 3 record(s) not confirmed"),
        "{message}"
    );
    assert!(message.contains("Kafka topic `authfail`"), "{message}");
    assert!(
        message.contains("the 2 confirmed record(s) will not be sent again"),
        "{message}"
    );

    // Broker 2 is back: the retry of the same batch succeeds...
    mock.broker_up(2).unwrap();
    target.send(&batch).await.unwrap();

    // ... and each event is in Kafka exactly once.
    let generic: Vec<EventId> = common::read_topic(&brokers, "generic")
        .await
        .iter()
        .map(|r| r.event().id)
        .collect();
    let authfail: Vec<EventId> = common::read_topic(&brokers, "authfail")
        .await
        .iter()
        .map(|r| r.event().id)
        .collect();
    assert_eq!(generic.len(), 2, "{generic:?}");
    assert!(generic.contains(&batch[0].id) && generic.contains(&batch[2].id));
    assert_eq!(authfail, vec![batch[1].id]);
}
