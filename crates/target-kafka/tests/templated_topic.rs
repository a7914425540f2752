//! With `topic = "<prefix>-{topic}"`, each audit topic lands in its own Kafka topic,
//! and `{routing_key}` puts each routing key in its own topic.

use crate::common;

use std::time::Duration;

use auditrail_core::{topics, DeliveryOptions, EventDraft, Filter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_audit_topic_goes_to_its_own_kafka_topic() {
    let brokers = common::brokers();
    let prefix = common::unique_topic("tpl");
    let generic = format!("{prefix}-generic");
    let authfail = format!("{prefix}-authfail");
    common::create_topics(&brokers, &[&generic, &authfail]).await;
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        dir.path(),
        serde_json::json!({"brokers": brokers, "topic": format!("{prefix}-{{topic}}")}),
        Filter::all(),
        DeliveryOptions::default(),
    );
    let emitted = d
        .emit_batch_acked([
            EventDraft::new(topics::GENERIC, "login"),
            EventDraft::new(topics::AUTHFAIL, "login-failed"),
            EventDraft::new(topics::GENERIC, "logout"),
        ])
        .await
        .unwrap();

    let in_generic = common::read_topic(&brokers, &generic).await;
    let in_authfail = common::read_topic(&brokers, &authfail).await;
    let ids = |rs: &[common::Record]| {
        let mut v: Vec<_> = rs.iter().map(|r| r.event().id).collect();
        v.sort();
        v
    };
    let mut want_generic = vec![emitted[0].id, emitted[2].id];
    want_generic.sort();
    assert_eq!(ids(&in_generic), want_generic);
    assert_eq!(ids(&in_authfail), vec![emitted[1].id]);
    for r in &in_authfail {
        assert_eq!(r.topic, authfail);
        assert_eq!(r.event().topic, topics::AUTHFAIL);
    }
    assert!(d.shutdown(Duration::from_secs(30)).await.is_clean());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn routing_key_placeholder_selects_the_kafka_topic() {
    let brokers = common::brokers();
    let prefix = common::unique_topic("rk");
    let svc_a = format!("{prefix}-svc-a");
    common::create_topics(&brokers, &[&svc_a]).await;
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        dir.path(),
        serde_json::json!({"brokers": brokers, "topic": format!("{prefix}-{{routing_key}}")}),
        Filter::all(),
        DeliveryOptions::default(),
    );
    let ok = d
        .emit_acked(EventDraft::new(topics::GENERIC, "login").routing_key("svc-a"))
        .await
        .unwrap();
    // A routing key that is not a valid Kafka topic name, and an event without a
    // routing key: both are dead-lettered with the reason, never sent elsewhere.
    let bad = d
        .emit_acked(EventDraft::new(topics::GENERIC, "login").routing_key("svc a"))
        .await;
    let none = d
        .emit_acked(EventDraft::new(topics::GENERIC, "login"))
        .await;
    assert!(bad.is_err() && none.is_err(), "{bad:?} {none:?}");

    let records = common::read_topic(&brokers, &svc_a).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].event().id, ok.id);
    d.shutdown(Duration::from_secs(30)).await;
    let lines = common::dead_letters(dir.path());
    assert_eq!(lines.len(), 2, "{lines:?}");
    let errors: Vec<&str> = lines.iter().map(|l| l["error"].as_str().unwrap()).collect();
    assert!(
        errors[0].contains("not a valid topic name"),
        "{}",
        errors[0]
    );
    assert!(errors[1].contains("has no routing key"), "{}", errors[1]);
}
