use serde::Deserialize;
use serde_json::Value;

use std::sync::Arc;

use super::{
    Event, EventError, EventId, FieldValue, Message, NodeId, Received, RoutingKey, SeqRange,
    Timestamp, Topic,
};

/// An event as application code (or `auditrail send --stdin`) provides it: a topic
/// and a message, and optionally any of the fields the dispatcher otherwise fills in
/// (`id`, `timestamp`, `node`, `seq`).
///
/// Builder methods never fail on the spot: the first invalid value is remembered and
/// returned by the dispatcher's `emit`, so a chain of calls stays readable.
///
/// ```
/// use auditrail_core::{topics, EventDraft};
///
/// let draft = EventDraft::new(topics::GENERIC, "login")
///     .auth_user("alice")
///     .field("clientIP", "10.0.0.7")
///     .routing_key("svc-a");
/// assert!(draft.check().is_ok());
///
/// let bad = EventDraft::new(topics::GENERIC, "login").routing_key("../etc");
/// assert!(bad.check().unwrap_err().to_string().contains("routingKey"));
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventDraft {
    /// Kept when given (a re-sent event keeps its id, so the server stores it once).
    #[serde(default)]
    pub id: Option<EventId>,
    /// Kept when given.
    #[serde(default)]
    pub timestamp: Option<Timestamp>,
    /// Mandatory.
    pub topic: Topic,
    /// Optional.
    #[serde(default)]
    pub routing_key: Option<RoutingKey>,
    /// Kept when given; a node other than the dispatcher's must come with its `seq`.
    #[serde(default)]
    pub node: Option<NodeId>,
    /// Kept when given (with `node`); otherwise assigned by the dispatcher.
    #[serde(default, deserialize_with = "super::text_de::optional_seq")]
    pub seq: Option<u64>,
    /// Kept when given (a re-sent event keeps its announcement); otherwise set by the
    /// dispatcher on the first event of a run after a run that crashed.
    #[serde(default)]
    pub abandoned_seqs: Option<SeqRange>,
    /// Mandatory.
    pub message: Message,
    #[serde(skip)]
    /// Receive information (event servers only); kept on the completed event.
    pub received: Option<Arc<Received>>,
    #[serde(skip)]
    deferred_error: Option<EventError>,
}

/// Anything that names a topic: a [`Topic`] (no check needed) or a string (checked,
/// with a failure reported by [`EventDraft::check`]).
pub trait IntoTopic {
    /// Converts into a validated topic.
    fn into_topic(self) -> Result<Topic, EventError>;
}

impl IntoTopic for Topic {
    fn into_topic(self) -> Result<Topic, EventError> {
        Ok(self)
    }
}
impl IntoTopic for &Topic {
    fn into_topic(self) -> Result<Topic, EventError> {
        Ok(self.clone())
    }
}
impl IntoTopic for &str {
    fn into_topic(self) -> Result<Topic, EventError> {
        Topic::new(self)
    }
}
impl IntoTopic for String {
    fn into_topic(self) -> Result<Topic, EventError> {
        Topic::new(self)
    }
}

impl EventDraft {
    /// A draft with a topic and a message type.
    pub fn new(topic: impl IntoTopic, msg_type: impl AsRef<str> + Into<String>) -> EventDraft {
        let mut deferred_error = None;
        let topic = topic.into_topic().unwrap_or_else(|e| {
            deferred_error = Some(e);
            super::topics::GENERIC
        });
        let message = Message::new(msg_type).unwrap_or_else(|e| {
            deferred_error.get_or_insert(e);
            Message::new("invalid").unwrap_or_else(|_| unreachable_message())
        });
        EventDraft {
            id: None,
            timestamp: None,
            topic,
            routing_key: None,
            node: None,
            seq: None,
            abandoned_seqs: None,
            message,
            received: None,
            deferred_error,
        }
    }

    /// A draft from a topic and a whole message object.
    pub fn from_message(topic: Topic, message: Message) -> EventDraft {
        EventDraft {
            id: None,
            timestamp: None,
            topic,
            routing_key: None,
            node: None,
            seq: None,
            abandoned_seqs: None,
            message,
            received: None,
            deferred_error: None,
        }
    }

    /// Parses a draft from JSON (the `auditrail send --stdin` form).
    pub fn from_json(json: &str) -> Result<EventDraft, EventError> {
        super::error::parse_json(json.as_bytes())
    }

    /// Sets the routing key.
    pub fn routing_key(mut self, key: impl AsRef<str>) -> EventDraft {
        match RoutingKey::new(key) {
            Ok(k) => self.routing_key = Some(k),
            Err(e) => self.defer(e),
        }
        self
    }

    /// Sets the `authUser` field of the message.
    pub fn auth_user(self, user: impl Into<String>) -> EventDraft {
        self.field("authUser", user.into())
    }

    /// Sets one message field. A value the message refuses (see [`Message::insert`]:
    /// a `msgType` that is not a non-empty string, nesting too deep, a float that is
    /// NaN or infinite) is remembered like every invalid builder value, and the draft
    /// is refused at emit naming the field (`message.amount: NaN is not a finite
    /// number ...`).
    ///
    /// ```
    /// use auditrail_core::{topics, EventDraft};
    /// let draft = EventDraft::new(topics::GENERIC, "payment").field("fee", f64::INFINITY);
    /// assert!(draft.check().unwrap_err().to_string().contains("message.fee"));
    /// ```
    pub fn field(
        mut self,
        key: impl AsRef<str> + Into<String>,
        value: impl FieldValue,
    ) -> EventDraft {
        if let Err(e) = self.message.insert(key, value) {
            self.defer(e);
        }
        self
    }

    /// Sets the timestamp (default: when the dispatcher takes the event). One outside
    /// the years 0000 to 9999 (UTC) makes [`EventDraft::complete`] fail: no RFC 3339
    /// text could carry it.
    pub fn timestamp(mut self, timestamp: Timestamp) -> EventDraft {
        if let Err(e) = timestamp.check_writable(|| timestamp.to_string()) {
            self.defer(e);
        }
        self.timestamp = Some(timestamp);
        self
    }

    /// Sets the id (default: a fresh UUIDv7).
    pub fn id(mut self, id: EventId) -> EventDraft {
        self.id = Some(id);
        self
    }

    /// The first invalid value given to a builder method, if any.
    pub fn check(&self) -> Result<(), EventError> {
        match &self.deferred_error {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }

    /// Whether a dispatcher of node `local_node` can complete the draft: every check of
    /// [`EventDraft::complete`] that depends on the draft and the node alone (the first
    /// invalid value given to a builder method; an event of another node without its
    /// own `seq`). `complete` runs the same checks, so a draft that passes is refused
    /// there only for the dispatcher's own reasons (shut down, sequence numbers used
    /// up). A reader of many drafts (`auditrail send --stdin`) runs it on each as it
    /// reads it, to name the input at fault.
    ///
    /// ```
    /// use auditrail_core::{EventDraft, NodeId};
    ///
    /// let here = NodeId::new("node-a")?;
    /// let other = EventDraft::from_json(r#"{"topic":"generic","node":"node-b","message":{"msgType":"x"}}"#)?;
    /// assert!(other.check_for_node(&here).unwrap_err().to_string().contains("its own `seq`"));
    /// let with_seq = EventDraft::from_json(r#"{"topic":"generic","node":"node-b","seq":7,"message":{"msgType":"x"}}"#)?;
    /// assert!(with_seq.check_for_node(&here).is_ok());
    /// # Ok::<(), auditrail_core::EventError>(())
    /// ```
    pub fn check_for_node(&self, local_node: &NodeId) -> Result<(), EventError> {
        self.check()?;
        match (&self.node, self.seq) {
            (Some(node), None) if node != local_node => Err(EventError::InvalidField {
                field: "node",
                value: node.as_str().to_owned(),
                reason: format!(
                    "an event of another node than this one ({:?}) must carry its own `seq`",
                    local_node.as_str()
                ),
            }),
            _ => Ok(()),
        }
    }

    /// Completes the draft: given fields are kept; `id` and `timestamp` are generated,
    /// `node` is `local_node`, and `next_seq` is called for a sequence number only when
    /// the draft has none.
    pub fn complete(
        self,
        local_node: &NodeId,
        next_seq: impl FnOnce() -> u64,
    ) -> Result<Event, EventError> {
        self.try_complete(local_node, || Ok(next_seq()))
    }

    /// [`EventDraft::complete`] with a sequence source that may refuse (the
    /// dispatcher's, once a node's numbers are used up): its error is returned as is,
    /// and an invalid draft is refused before it is called.
    pub(crate) fn try_complete<E: From<EventError>>(
        self,
        local_node: &NodeId,
        next_seq: impl FnOnce() -> Result<u64, E>,
    ) -> Result<Event, E> {
        // The one place these rules are: a reader that ran `check_for_node` on the
        // draft gets no other refusal of the draft here.
        self.check_for_node(local_node)?;
        let (node, seq) = match (self.node, self.seq) {
            (Some(node), Some(seq)) => (node, seq),
            (None, Some(seq)) => (local_node.clone(), seq),
            // This node's own name (another node's was refused above).
            (Some(node), None) => (node, next_seq()?),
            (None, None) => (local_node.clone(), next_seq()?),
        };
        // One clock reading for both the timestamp and the id's time prefix.
        let (id, timestamp) = match (self.id, self.timestamp) {
            (Some(id), Some(ts)) => (id, ts),
            (Some(id), None) => (id, Timestamp::now()),
            (None, Some(ts)) => (EventId::new(), ts),
            (None, None) => {
                let now = Timestamp::now();
                (EventId::at(&now), now)
            }
        };
        Ok(Event {
            id,
            timestamp,
            topic: self.topic,
            routing_key: self.routing_key,
            node,
            seq,
            abandoned_seqs: self.abandoned_seqs,
            message: self.message,
            received: self.received,
        })
    }

    fn defer(&mut self, e: EventError) {
        self.deferred_error.get_or_insert(e);
    }
}

impl From<Event> for EventDraft {
    fn from(e: Event) -> Self {
        EventDraft {
            id: Some(e.id),
            timestamp: Some(e.timestamp),
            topic: e.topic,
            routing_key: e.routing_key,
            node: Some(e.node),
            seq: Some(e.seq),
            abandoned_seqs: e.abandoned_seqs,
            message: e.message,
            received: e.received,
            deferred_error: None,
        }
    }
}

// `Message::new("invalid")` cannot fail; this keeps library code free of panics.
fn unreachable_message() -> Message {
    let mut map = serde_json::Map::new();
    map.insert(super::MSG_TYPE.into(), Value::String("invalid".into()));
    Message::from_map(map).unwrap_or_else(|_| unreachable_message())
}

/// Builds an [`EventDraft`] from a topic, a message type and `"key" => value` fields
/// (each value a [`FieldValue`](crate::FieldValue), set with [`EventDraft::field`]: a
/// float that is NaN or infinite makes the emit fail naming its key).
///
/// ```
/// use auditrail_core::{audit, topics};
/// let draft = audit!(topics::GENERIC, "login", "authUser" => "alice", "clientIP" => "10.0.0.7");
/// assert_eq!(draft.message.get("authUser").unwrap(), "alice");
/// ```
#[macro_export]
macro_rules! audit {
    ($topic:expr, $msg_type:expr $(, $key:literal => $value:expr)* $(,)?) => {{
        #[allow(unused_mut)]
        let mut draft = $crate::EventDraft::new($topic, $msg_type);
        $( draft = draft.field($key, $value); )*
        draft
    }};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics;

    fn node() -> NodeId {
        NodeId::new("n1").unwrap()
    }

    #[test]
    fn complete_fills_only_missing_fields() {
        let e = EventDraft::new(topics::GENERIC, "login")
            .complete(&node(), || 7)
            .unwrap();
        assert_eq!((e.node.as_str(), e.seq), ("n1", 7));
        let given = EventDraft::from_json(
            r#"{"topic":"generic","node":"other","seq":3,"message":{"msgType":"x"},
                "id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2020-01-01T00:00:00Z"}"#,
        )
        .unwrap()
        .complete(&node(), || unreachable!())
        .unwrap();
        assert_eq!((given.node.as_str(), given.seq), ("other", 3));
        assert_eq!(given.timestamp.to_string(), "2020-01-01T00:00:00.000Z");
    }

    /// A timestamp no RFC 3339 text could carry is refused before a seq is used (a
    /// seq used by a refused event would show as missing at the server).
    #[test]
    fn a_timestamp_beyond_the_year_9999_is_refused_without_using_a_seq() {
        let far = Timestamp::from_unix_millis(253_402_300_800_000).unwrap();
        let err = EventDraft::new(topics::GENERIC, "login")
            .timestamp(far)
            .complete(&node(), || unreachable!("no seq for a refused event"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("years 0000 to 9999"), "{err}");
        let last = Timestamp::from_unix_millis(253_402_300_799_999).unwrap();
        let e = EventDraft::new(topics::GENERIC, "login")
            .timestamp(last)
            .complete(&node(), || 1)
            .unwrap();
        assert_eq!(e.timestamp.to_string(), "9999-12-31T23:59:59.999Z");
    }

    #[test]
    fn foreign_node_without_seq_is_refused() {
        let d = EventDraft::from_json(
            r#"{"topic":"generic","node":"other","message":{"msgType":"x"}}"#,
        )
        .unwrap();
        assert!(d
            .complete(&node(), || 1)
            .unwrap_err()
            .to_string()
            .contains("seq"));
    }

    #[test]
    fn builder_reports_the_first_invalid_value() {
        let d = EventDraft::new("Bad Topic", "").routing_key("a/b");
        assert!(d.check().unwrap_err().to_string().contains("topic"));
        let d = EventDraft::new(topics::GENERIC, "x").field("msgType", 5);
        assert!(d.check().unwrap_err().to_string().contains("msgType"));
    }
}
