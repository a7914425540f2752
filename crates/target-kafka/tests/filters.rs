//! The dispatcher's topic and routing-key filters decide which events reach Kafka.

use crate::common;

use std::time::Duration;

use auditrail_core::{topics, DeliveryOptions, EventDraft, Filter, RoutingKey, Selection};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_events_matching_topic_and_routing_key_filters_are_produced() {
    let brokers = common::brokers();
    let topic = common::unique_topic("filters");
    common::create_topics(&brokers, &[&topic]).await;
    let dir = tempfile::tempdir().unwrap();
    let filter = Filter {
        topics: Selection::Only(vec![topics::AUTHFAIL, topics::GENERIC_FAILURE]),
        routing_keys: Selection::Only(vec![RoutingKey::new("svc-a").unwrap()]),
        required_key: None,
    };
    let d = common::dispatcher(
        dir.path(),
        serde_json::json!({"brokers": brokers, "topic": topic}),
        filter,
        DeliveryOptions::default(),
    );
    let wanted = [
        d.emit(EventDraft::new(topics::AUTHFAIL, "login-failed").routing_key("svc-a"))
            .unwrap(),
        d.emit(EventDraft::new(topics::GENERIC_FAILURE, "crash").routing_key("svc-a"))
            .unwrap(),
    ];
    let unwanted = [
        d.emit(EventDraft::new(topics::GENERIC, "login").routing_key("svc-a"))
            .unwrap(),
        d.emit(EventDraft::new(topics::AUTHFAIL, "login-failed").routing_key("svc-b"))
            .unwrap(),
        d.emit(EventDraft::new(topics::AUTHFAIL, "login-failed"))
            .unwrap(),
    ];
    assert!(d.shutdown(Duration::from_secs(30)).await.is_clean());

    let mut got: Vec<_> = common::read_topic(&brokers, &topic)
        .await
        .iter()
        .map(|r| r.event().id)
        .collect();
    got.sort();
    let mut want: Vec<_> = wanted.iter().map(|e| e.id).collect();
    want.sort();
    assert_eq!(got, want);
    for u in unwanted {
        assert_eq!(u.targets, 0, "filtered out before the target");
    }
}
