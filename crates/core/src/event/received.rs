use std::net::IpAddr;

use super::Timestamp;

/// Where and how an event server received an event. Set by the server, carried with
/// the event through its dispatcher to its destinations (for the stored record's
/// envelope and for `required_key` filters); never part of the event's own wire form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The sender's address (the reference's `origAddress`).
    pub orig_address: Option<IpAddr>,
    /// Id of the key that authenticated the request (never the secret).
    pub key_id: Option<String>,
    /// When the server received the batch.
    pub server_timestamp: Timestamp,
    /// The Kafka record the event was read from, when the server read it from a Kafka
    /// source (`[[sources]]`) instead of HTTP.
    pub kafka: Option<KafkaOrigin>,
}

/// The Kafka record an event came from: its topic, partition and offset (Kafka's
/// names). Kept in the stored record (`"source":{"kafka":{...}}`) as the event's
/// provenance, and by a partition store to know where reading resumes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaOrigin {
    /// The Kafka topic.
    pub topic: String,
    /// The partition of the topic.
    pub partition: i32,
    /// The record's offset in the partition.
    pub offset: i64,
}
