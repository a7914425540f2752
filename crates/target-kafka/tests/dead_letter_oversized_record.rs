//! A record larger than the producer's `message.max.bytes` can never be delivered: it
//! is dead-lettered with its size and the limit, and the other events of the batch
//! are delivered.

use crate::common;

use std::time::Duration;

use auditrail_core::{topics, DeliveryOptions, EventDraft, Filter};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_record_is_dead_lettered_with_its_size_and_the_limit() {
    let brokers = common::brokers();
    let topic = common::unique_topic("big");
    common::create_topics(&brokers, &[&topic]).await;
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        dir.path(),
        serde_json::json!({
            "brokers": brokers,
            "topic": topic,
            // A small limit keeps the test fast; the default is librdkafka's 1 000 000.
            "properties": {"message.max.bytes": 20_000}
        }),
        Filter::all(),
        DeliveryOptions::default(),
    );
    let result = d
        .emit_batch_acked([
            EventDraft::new(topics::GENERIC, "small").routing_key("svc-a"),
            EventDraft::new(topics::GENERIC, "huge")
                .routing_key("svc-a")
                .field("blob", "x".repeat(50_000)),
            EventDraft::new(topics::GENERIC, "small-too").routing_key("svc-a"),
        ])
        .await;
    let errors = result.expect_err("the huge event cannot be delivered");
    assert_eq!(errors.len(), 1, "{errors:?}");
    let report = d.shutdown(Duration::from_secs(30)).await;
    assert_eq!(report.targets[0].stats.dead_lettered, 1, "{report:?}");
    assert_eq!(report.targets[0].stats.delivered, 2, "{report:?}");

    let lines = common::dead_letters(dir.path());
    assert_eq!(lines.len(), 1, "{lines:?}");
    let error = lines[0]["error"].as_str().unwrap();
    assert!(error.contains(&format!("Kafka topic `{topic}`")), "{error}");
    assert!(error.contains("too large"), "{error}");
    assert!(error.contains("`message.max.bytes` is 20000"), "{error}");
    assert_eq!(lines[0]["event"]["message"]["msgType"], "huge");
    // The dead-letter line holds the whole event, ready to be re-sent.
    assert_eq!(
        lines[0]["event"]["message"]["blob"].as_str().map(str::len),
        Some(50_000)
    );

    let mut types: Vec<String> = common::read_topic(&brokers, &topic)
        .await
        .iter()
        .map(|r| r.event().msg_type().to_owned())
        .collect();
    types.sort();
    assert_eq!(types, ["small", "small-too"]);
}
