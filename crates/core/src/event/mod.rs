//! The audit event model and its JSON wire form.
//!
//! An [`Event`] is always valid: every field is a validated type, and the only ways
//! to obtain one are the dispatcher (which completes an [`EventDraft`]) and
//! deserialization (which validates every field). The wire form uses exactly the
//! camelCase keys `id`, `timestamp`, `topic`, `routingKey`, `node`, `seq`, `message`.

mod checkpoint_copy;
mod draft;
mod error;
mod field_value;
mod id;
mod json_str;
mod message;
mod message_text;
mod names;
mod one_pass;
mod received;
mod seq_range;
mod string_end;
mod text_de;
mod timestamp;
mod write;

pub use checkpoint_copy::{CHECKPOINT_COPY_TOPIC, WITNESS_NODE_INFIX};
pub use draft::EventDraft;
pub(crate) use error::parse_json;
pub use error::EventError;
pub use field_value::{FieldValue, NonFinite};
pub use id::EventId;
pub use message::{Message, MSG_TYPE};
pub(crate) use message_text::check_document;
pub use message_text::MESSAGE_MAX_DEPTH;
pub use names::{NodeId, RoutingKey, Topic, NODE_ID_MAX_LEN, ROUTING_KEY_MAX_LEN, TOPIC_MAX_LEN};
pub use received::{write_provenance, KafkaOrigin, Received};
pub use seq_range::SeqRange;
pub use timestamp::Timestamp;

use std::sync::Arc;

use crate::object_only::{Object, ObjectOnly};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// The standard topics. Applications may define their own with
/// [`Topic::from_static`] or [`Topic::new`].
pub mod topics {
    use super::Topic;
    /// Most application events.
    pub const GENERIC: Topic = Topic::from_static("generic");
    /// Most failures.
    pub const GENERIC_FAILURE: Topic = Topic::from_static("generic-failure");
    /// Authentication and authorization failures.
    pub const AUTHFAIL: Topic = Topic::from_static("authfail");
    /// Queries to API services and their replies.
    pub const APINODE_QUERY: Topic = Topic::from_static("apinode-query");
    /// Use of compute resources (cumulative: the last update of an id holds the totals).
    pub const COMPUTE_RESOURCE_USAGE: Topic = Topic::from_static("compute-resource-usage");
    /// Raw log of API calls, mostly for debugging.
    pub const APICALLS: Topic = Topic::from_static("apicalls");

    /// All six standard topics.
    pub const STANDARD: [Topic; 6] = [
        GENERIC,
        GENERIC_FAILURE,
        AUTHFAIL,
        APINODE_QUERY,
        COMPUTE_RESOURCE_USAGE,
        APICALLS,
    ];
}

/// One audit event, complete and valid.
///
/// Its `message` keeps the JSON text it was read with (see [`Message`]), so an event
/// read from JSON serializes back with its message exactly as sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", try_from = "Object<Wire<Box<RawValue>>>")]
pub struct Event {
    /// Unique, time-ordered id (UUIDv7 when auditrail generates it).
    pub id: EventId,
    /// When the event was emitted (UTC, millisecond precision).
    pub timestamp: Timestamp,
    /// Category chosen by the emitting code.
    pub topic: Topic,
    /// Optional finer-grained dispatch key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub routing_key: Option<RoutingKey>,
    /// The emitting node.
    pub node: NodeId,
    /// Per-node sequence number, strictly increasing, assigned by the node's dispatcher.
    pub seq: u64,
    /// On the first event of a node's run after a run that ended without a clean
    /// shutdown: the numbers that run had reserved (see [`SeqRange`]). Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abandoned_seqs: Option<SeqRange>,
    /// The payload: a JSON object that always holds a non-empty string `msgType`.
    pub message: Message,
    /// Set by an event server on what it received; not serialized.
    #[serde(skip)]
    pub received: Option<Arc<Received>>,
}

impl Event {
    /// Parses one event from its JSON wire form, validating every field.
    pub fn from_json(json: &str) -> Result<Event, EventError> {
        // As `from_json_slice`, without checking again that the text is UTF-8.
        if let Some(event) = one_pass::parse(json) {
            return Ok(event);
        }
        Event::from_json_general(json.as_bytes())
    }

    /// Parses one event from JSON bytes, validating every field. An error names the
    /// field, down to a key inside the message (`message.user`).
    pub fn from_json_slice(json: &[u8]) -> Result<Event, EventError> {
        // Most texts are read in one pass; the rest, and every invalid one, below.
        if let Some(event) = std::str::from_utf8(json).ok().and_then(one_pass::parse) {
            return Ok(event);
        }
        Event::from_json_general(json)
    }

    /// [`Event::from_json_slice`] for every text: `serde_json` reads the envelope and
    /// skips over the message, which the message check then reads.
    fn from_json_general(json: &[u8]) -> Result<Event, EventError> {
        // The message is taken as an owned `Box<RawValue>` (one copy of its text) and
        // kept as it is when it has no whitespace to leave out: building the box from a
        // borrowed text instead (`RawValue::from_string`) parses the text once more.
        // An object only: serde's sequence form of `Wire` (its values in a row) is no
        // event of the protocol (`crate::object_only`).
        let Object(wire): Object<Wire<Box<RawValue>>> = error::parse_json_borrowed(json)?;
        wire.into_event(Message::from_raw_box)
    }

    /// The JSON wire form (one line, no trailing newline).
    pub fn to_json(&self) -> String {
        let mut out = Vec::with_capacity(256);
        self.write_json(&mut out);
        // serde_json only ever writes UTF-8.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Appends the JSON wire form to `out` (no trailing newline). Infallible:
    /// every field of a valid event serializes.
    pub fn write_json(&self, out: &mut Vec<u8>) {
        write::write_event(self, out);
    }

    /// The message type (`message.msgType`).
    pub fn msg_type(&self) -> &str {
        self.message.msg_type()
    }
}

/// The wire form as read: every field but the message validated by its type; the
/// message as its raw text, checked by [`Message`] (with the path of a bad value inside).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Wire<M> {
    id: EventId,
    timestamp: Timestamp,
    topic: Topic,
    #[serde(default)]
    routing_key: Option<RoutingKey>,
    node: NodeId,
    #[serde(deserialize_with = "text_de::seq")]
    seq: u64,
    #[serde(default)]
    abandoned_seqs: Option<SeqRange>,
    message: M,
}

impl<M> ObjectOnly for Wire<M> {
    const MUST_BE: &'static str = "an event must be a JSON object";
}

impl<M> Wire<M> {
    fn into_event(
        self,
        message: impl FnOnce(M) -> Result<Message, EventError>,
    ) -> Result<Event, EventError> {
        Ok(Event {
            id: self.id,
            timestamp: self.timestamp,
            topic: self.topic,
            routing_key: self.routing_key,
            node: self.node,
            seq: self.seq,
            abandoned_seqs: self.abandoned_seqs,
            message: message(self.message)?,
            received: None,
        })
    }
}

impl TryFrom<Object<Wire<Box<RawValue>>>> for Event {
    type Error = EventError;
    fn try_from(Object(wire): Object<Wire<Box<RawValue>>>) -> Result<Event, EventError> {
        wire.into_event(Message::from_raw_box)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> serde_json::Value {
        json!({
            "id": "01936f6e-1b2c-7d3e-8f40-123456789abc",
            "timestamp": "2026-11-25T16:55:49.123Z",
            "topic": "apinode-query",
            "routingKey": "svc-a",
            "node": "node-1",
            "seq": 42,
            "message": {"msgType": "prediction-query", "authUser": "alice", "clientIP": "10.0.0.1",
                        "nested": {"a": [1, 2.5, null, true]}}
        })
    }

    #[test]
    fn wire_form_round_trips_every_field() {
        let text = sample().to_string();
        let event = Event::from_json(&text).unwrap();
        assert_eq!(event.topic, topics::APINODE_QUERY);
        assert_eq!(event.routing_key.as_ref().unwrap().as_str(), "svc-a");
        assert_eq!(event.node.as_str(), "node-1");
        assert_eq!(event.seq, 42);
        assert_eq!(event.msg_type(), "prediction-query");
        let back: serde_json::Value = serde_json::from_str(&event.to_json()).unwrap();
        assert_eq!(back, sample());
        assert_eq!(Event::from_json(&event.to_json()).unwrap(), event);
    }

    #[test]
    fn absent_routing_key_is_omitted_on_the_wire() {
        let mut v = sample();
        v.as_object_mut().unwrap().remove("routingKey");
        let event = Event::from_json(&v.to_string()).unwrap();
        assert!(event.routing_key.is_none());
        assert!(!event.to_json().contains("routingKey"));
    }

    #[test]
    fn unknown_keys_and_bad_fields_are_named_in_errors() {
        let cases: Vec<(serde_json::Value, &str)> = vec![
            (json!({"topic": "UPPER"}), "topic"),
            (json!({"routingKey": "../etc"}), "routingKey"),
            (json!({"message": {"authUser": "x"}}), "msgType"),
            (json!({"message": {"msgType": ""}}), "msgType"),
            (json!({"message": {"msgType": 3}}), "msgType"),
            (json!({"message": [1, 2]}), "message"),
            (json!({"timestamp": "yesterday"}), "timestamp"),
            (json!({"id": "not-a-uuid"}), "id"),
            (json!({"seq": -1}), "seq"),
            (json!({"routing_key": "snake"}), "routing_key"),
        ];
        for (patch, needle) in cases {
            let mut v = sample();
            for (k, val) in patch.as_object().unwrap() {
                v[k] = val.clone();
            }
            let err = Event::from_json(&v.to_string()).unwrap_err().to_string();
            assert!(
                err.contains(needle),
                "error for {patch} does not name {needle}: {err}"
            );
        }
    }

    #[test]
    fn missing_mandatory_fields_are_errors() {
        for key in ["id", "timestamp", "topic", "node", "seq", "message"] {
            let mut v = sample();
            v.as_object_mut().unwrap().remove(key);
            let err = Event::from_json(&v.to_string()).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
    }

    #[test]
    fn standard_topics_are_the_documented_six() {
        let standard = topics::STANDARD;
        let names: Vec<&str> = standard.iter().map(Topic::as_str).collect();
        assert_eq!(
            names,
            [
                "generic",
                "generic-failure",
                "authfail",
                "apinode-query",
                "compute-resource-usage",
                "apicalls"
            ]
        );
    }
}
