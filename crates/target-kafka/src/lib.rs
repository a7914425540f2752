//! # auditrail-target-kafka
//!
//! The `kafka` target: audit events to Kafka topics through
//! [rdkafka](https://docs.rs/rdkafka) and its bundled librdkafka.
//!
//! - **One record per event.** The value is the event's JSON wire form; the key is
//!   the routing key (else the node id) by default, so one service's events stay
//!   ordered in one partition; the headers [`HEADER_TOPIC`], [`HEADER_ROUTING_KEY`]
//!   (only when the event has one), [`HEADER_EVENT_ID`] and [`HEADER_NODE`] let
//!   consumers route without parsing the value. With `signing_key` and `key_id`,
//!   each record is signed too ([`auditrail_core::kafka_sig`]: the headers
//!   `auditrail-key-id` and `auditrail-sig`), so that an event server's Kafka source
//!   stores only records of the nodes it trusts.
//! - **Topic.** A fixed Kafka topic, or a template such as `audit-{topic}`
//!   ([`topic_template`]).
//! - **`Ok` means confirmed.** `send` returns `Ok` only after every record of the
//!   batch has a successful delivery report from the brokers, with an idempotent
//!   producer and `acks=all` by default. Unreachable brokers, leader changes and
//!   timeouts are retryable; an unknown topic, a record that is too large, and
//!   authorization failures are permanent for the records concerned, which the
//!   dispatcher writes to the dead-letter file with a message naming the Kafka topic
//!   and the cause.
//!
//! ```no_run
//! use std::time::Duration;
//! use auditrail_core::{audit, topics, DeliveryOptions, Dispatcher, Filter, NodeId};
//!
//! # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dispatcher = Dispatcher::builder(NodeId::new("node-1")?)
//!     .registered_target(
//!         "kafka",
//!         &auditrail_target_kafka::REGISTRATION,
//!         serde_json::json!({ "brokers": "127.0.0.1:9092", "topic": "audit-{topic}" }),
//!         Filter::all(),
//!         DeliveryOptions::default(),
//!     )
//!     .build()?;
//! // Resolves once the broker confirmed the record:
//! dispatcher.emit_acked(audit!(topics::AUTHFAIL, "login-failed", "authUser" => "mallory")).await?;
//! dispatcher.shutdown(Duration::from_secs(30)).await;
//! # Ok(()) }
//! ```
//!
//! See `docs/targets/kafka.md` for every setting and the guarantees.

mod classify;
mod client_context;
pub mod config;
mod producer_settings;
mod record_signer;
mod target;
pub mod topic_template;

pub use config::{Brokers, Compression, KafkaConfig, PropertyValue, RecordKey};
pub use producer_settings::ProducerSettings;
pub use record_signer::SigningKeyError;
pub use target::KafkaTarget;
pub use topic_template::{TopicError, TopicTemplate};

/// Header with the event's audit topic (e.g. `authfail`).
pub const HEADER_TOPIC: &str = "auditrail-topic";
/// Header with the event's routing key; absent when the event has none.
pub const HEADER_ROUTING_KEY: &str = "auditrail-routing-key";
/// Header with the event id (UUID, lowercase, hyphenated).
pub const HEADER_EVENT_ID: &str = "auditrail-event-id";
/// Header with the emitting node's id.
pub const HEADER_NODE: &str = "auditrail-node";

auditrail_core::register_target! {
    name: "kafka",
    description: "Kafka topics through librdkafka: one record per event, acknowledged by the brokers (acks=all, idempotent)",
    example: include_str!("../example.toml"),
    config: KafkaConfig,
}
