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

/// Appends the server-side provenance fields, each preceded by a comma, in the order
/// and under the names of the stored record (the reference's envelope plus `keyId`):
///
/// ```text
/// ,"origAddress":"10.0.0.7","serverTimestamp":"2026-11-25T16:55:49.123Z","keyId":"k1"
/// ```
///
/// then `,"source":{"kafka":{"topic":…,"partition":…,"offset":…}}` for an event read
/// from a Kafka source. `origAddress` and `keyId` are `null` when not known;
/// `serverTimestamp` is `now` for an event without receive information. The one
/// writer of these fields: the store's records and the server's `file` destination
/// lines carry the same text.
pub fn write_provenance(received: Option<&Received>, now: Timestamp, out: &mut Vec<u8>) {
    use std::io::Write as _;
    out.extend_from_slice(b",\"origAddress\":");
    match received.and_then(|r| r.orig_address) {
        // An IP address's text form needs no JSON escaping.
        Some(ip) => {
            // Writing into a Vec cannot fail.
            let _ = write!(out, "\"{ip}\"");
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"serverTimestamp\":\"");
    let ts = received.map_or(now, |r| r.server_timestamp);
    let _ = write!(out, "{ts}");
    out.extend_from_slice(b"\",\"keyId\":");
    match received.and_then(|r| r.key_id.as_deref()) {
        Some(k) => {
            let _ = serde_json::to_writer(&mut *out, k);
        }
        None => out.extend_from_slice(b"null"),
    }
    if let Some(k) = received.and_then(|r| r.kafka.as_ref()) {
        out.extend_from_slice(b",\"source\":{\"kafka\":{\"topic\":");
        let _ = serde_json::to_writer(&mut *out, &k.topic);
        let _ = write!(
            out,
            ",\"partition\":{},\"offset\":{}}}}}",
            k.partition, k.offset
        );
    }
}
