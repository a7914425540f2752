//! An event emitted to a fixed Kafka topic arrives as one record: the event's JSON as
//! value, the routing key (else the node id) as key, and the four auditrail headers.

use crate::common;

use std::time::Duration;

use auditrail_core::{topics, DeliveryOptions, EventDraft, Filter};
use auditrail_target_kafka::{HEADER_EVENT_ID, HEADER_NODE, HEADER_ROUTING_KEY, HEADER_TOPIC};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_carry_the_event_json_key_and_headers() {
    let brokers = common::brokers();
    let topic = common::unique_topic("fixed");
    common::create_topics(&brokers, &[&topic]).await;
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        dir.path(),
        serde_json::json!({"brokers": brokers, "topic": topic}),
        Filter::all(),
        DeliveryOptions::default(),
    );

    let with_key = d
        .emit_acked(
            EventDraft::new(topics::AUTHFAIL, "login-failed")
                .routing_key("svc-a")
                .auth_user("mallory"),
        )
        .await
        .unwrap();
    let without_key = d
        .emit_acked(EventDraft::new(topics::GENERIC, "login").auth_user("alice"))
        .await
        .unwrap();

    // Acknowledged means the broker has them: read back before shutting down.
    let records = common::read_topic(&brokers, &topic).await;
    assert_eq!(records.len(), 2, "{records:?}");

    let r = records
        .iter()
        .find(|r| r.event().id == with_key.id)
        .expect("keyed event");
    let e = r.event();
    assert_eq!(e.seq, with_key.seq);
    assert_eq!(e.msg_type(), "login-failed");
    assert_eq!(e.routing_key.as_ref().unwrap().as_str(), "svc-a");
    assert_eq!(r.key_str().as_deref(), Some("svc-a"));
    assert_eq!(r.header(HEADER_TOPIC).as_deref(), Some("authfail"));
    assert_eq!(r.header(HEADER_ROUTING_KEY).as_deref(), Some("svc-a"));
    assert_eq!(r.header(HEADER_EVENT_ID), Some(with_key.id.to_string()));
    assert_eq!(r.header(HEADER_NODE).as_deref(), Some("node-1"));
    // The value is exactly the event's wire form.
    assert_eq!(r.value, e.to_json().into_bytes());

    let r = records
        .iter()
        .find(|r| r.event().id == without_key.id)
        .expect("unkeyed event");
    assert_eq!(
        r.key_str().as_deref(),
        Some("node-1"),
        "no routing key: node id"
    );
    assert_eq!(r.header(HEADER_TOPIC).as_deref(), Some("generic"));
    assert_eq!(r.header(HEADER_ROUTING_KEY), None);
    assert_eq!(r.header(HEADER_EVENT_ID), Some(without_key.id.to_string()));

    assert!(d.shutdown(Duration::from_secs(30)).await.is_clean());
}
