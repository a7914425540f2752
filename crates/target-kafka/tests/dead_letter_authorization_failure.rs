//! A broker that refuses the topic to this producer (TOPIC_AUTHORIZATION_FAILED) makes
//! the records permanent failures: they are dead-lettered with a message naming the
//! Kafka topic and the authorization cause, not retried forever.
//!
//! tansu has no ACLs, so this runs against librdkafka's in-process mock cluster, which
//! answers the real producer's Produce request with the injected error.

use crate::common;

use std::time::Duration;

use auditrail_core::{topics, DeliveryOptions, EventDraft, Filter};
use rdkafka::mocking::MockCluster;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unauthorized_topic_records_are_dead_lettered_with_the_cause() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("audit", 1, 1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = common::dispatcher(
        dir.path(),
        serde_json::json!({"brokers": mock.bootstrap_servers(), "topic": "audit"}),
        Filter::all(),
        DeliveryOptions::default(),
    );
    // The next Produce request is refused.
    mock.request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED],
    );
    let result = d
        .emit_acked(EventDraft::new(topics::AUTHFAIL, "login-failed").routing_key("svc-a"))
        .await;
    assert!(result.is_err(), "{result:?}");
    let report = d.shutdown(Duration::from_secs(30)).await;
    assert_eq!(report.targets[0].stats.dead_lettered, 1, "{report:?}");
    assert_eq!(report.targets[0].stats.retried, 0, "{report:?}");

    let lines = common::dead_letters(dir.path());
    assert_eq!(lines.len(), 1, "{lines:?}");
    let error = lines[0]["error"].as_str().unwrap();
    assert!(error.contains("Kafka topic `audit`"), "{error}");
    assert!(error.contains("not authorized"), "{error}");
}
