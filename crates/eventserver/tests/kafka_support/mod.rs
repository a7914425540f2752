//! The Kafka source tests' broker side: the brokers `cargo xtask test` started
//! (`AUDITRAIL_KAFKA_BROKERS`), a new one-partition topic, and a producer that sends
//! one record per batch.
#![cfg(feature = "kafka")]
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::FutureProducer;
use rdkafka::ClientConfig;

/// The brokers of the test run.
pub(crate) fn brokers() -> String {
    match std::env::var("AUDITRAIL_KAFKA_BROKERS") {
        Ok(b) if !b.trim().is_empty() => b,
        _ => panic!("AUDITRAIL_KAFKA_BROKERS is not set: run the tests with `cargo xtask test`"),
    }
}

/// A topic of one partition, new to this run (`PREFIX-<pid>-<nanos>`), created on
/// `brokers`.
pub(crate) async fn new_topic(brokers: &str, prefix: &str) -> String {
    let topic = format!(
        "{prefix}-{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
    let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    for r in admin
        .create_topics(
            &[NewTopic::new(&topic, 1, TopicReplication::Fixed(1))],
            &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
        )
        .await
        .unwrap()
    {
        r.unwrap();
    }
    topic
}

/// A producer to `brokers` that sends one record per batch: tansu 0.6.0 answers a
/// fetch inside a batch with the next batch (docs/scale-out.md, "Numbers").
pub(crate) fn producer(brokers: &str) -> FutureProducer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("batch.num.messages", "1")
        .create()
        .unwrap()
}
