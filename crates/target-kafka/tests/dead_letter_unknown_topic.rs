//! An event whose Kafka topic does not exist (and is not auto-created) is a permanent
//! failure: it goes to the dead-letter file with a message naming the Kafka topic and
//! the cause, while the other events of the same batches are delivered.

use crate::common;

use std::time::Duration;

use auditrail_core::{topics, DeliveryOptions, EventDraft, Filter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_for_a_missing_topic_are_dead_lettered_with_the_topic_named() {
    let brokers = common::brokers();
    let prefix = common::unique_topic("dlq");
    let existing = format!("{prefix}-generic");
    let missing = format!("{prefix}-authfail");
    common::create_topics(&brokers, &[&existing]).await;
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        dir.path(),
        serde_json::json!({
            "brokers": brokers,
            "topic": format!("{prefix}-{{topic}}"),
            "delivery_timeout_ms": 10_000,
            "properties": {
                // Never ask the cluster to create topics, whatever its own setting.
                "allow.auto.create.topics": false,
                // librdkafka waits this long before it believes a topic is missing
                // (default 30 s, for clusters that propagate new topics slowly).
                "topic.metadata.propagation.max.ms": 1000
            }
        }),
        Filter::all(),
        DeliveryOptions {
            batch_max_wait_ms: 50,
            ..Default::default()
        },
    );

    let drafts = vec![
        EventDraft::new(topics::GENERIC, "login").routing_key("svc-a"),
        EventDraft::new(topics::AUTHFAIL, "login-failed").routing_key("svc-a"),
        EventDraft::new(topics::GENERIC, "logout").routing_key("svc-a"),
    ];
    let result = d.emit_batch_acked(drafts).await;
    let errors = result.expect_err("the authfail event cannot be delivered");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let report = d.shutdown(Duration::from_secs(30)).await;
    assert_eq!(report.targets[0].stats.dead_lettered, 1, "{report:?}");

    let lines = common::dead_letters(dir.path());
    assert_eq!(lines.len(), 1, "{lines:?}");
    let error = lines[0]["error"].as_str().unwrap();
    assert!(
        error.contains(&format!("Kafka topic `{missing}`")),
        "{error}"
    );
    assert!(error.contains("does not exist"), "{error}");
    assert_eq!(lines[0]["event"]["topic"], "authfail");
    assert_eq!(lines[0]["target"], "kafka");

    // The events of the existing topic were delivered, once each.
    let records = common::read_topic(&brokers, &existing).await;
    let mut types: Vec<String> = records
        .iter()
        .map(|r| r.event().msg_type().to_owned())
        .collect();
    types.sort();
    assert_eq!(types, ["login", "logout"]);
}
