use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::EventError;

/// Key of the mandatory message type field.
pub const MSG_TYPE: &str = "msgType";

/// The payload of an event: a JSON object that always holds a non-empty string
/// `msgType` (for example `login`, `dataset-read-data`, `prediction-query`).
#[derive(Debug, Clone, PartialEq)]
pub struct Message(Map<String, Value>);

impl Message {
    /// A message with only its `msgType`.
    pub fn new(msg_type: impl Into<String>) -> Result<Message, EventError> {
        let mut map = Map::new();
        map.insert(MSG_TYPE.to_owned(), Value::String(msg_type.into()));
        Message::from_map(map)
    }

    /// Validates a JSON object as a message.
    pub fn from_map(map: Map<String, Value>) -> Result<Message, EventError> {
        match map.get(MSG_TYPE) {
            Some(Value::String(s)) if !s.is_empty() => Ok(Message(map)),
            Some(Value::String(_)) => Err(EventError::InvalidMessage(
                "`msgType` must not be empty".into(),
            )),
            Some(other) => Err(EventError::InvalidMessage(format!(
                "`msgType` must be a string, got {}",
                json_kind(other)
            ))),
            None => Err(EventError::InvalidMessage("`msgType` is missing".into())),
        }
    }

    /// Validates any JSON value as a message.
    pub fn from_value(value: Value) -> Result<Message, EventError> {
        match value {
            Value::Object(map) => Message::from_map(map),
            other => Err(EventError::InvalidMessage(format!(
                "must be a JSON object, got {}",
                json_kind(&other)
            ))),
        }
    }

    /// The message type.
    pub fn msg_type(&self) -> &str {
        match self.0.get(MSG_TYPE) {
            Some(Value::String(s)) => s,
            // Unreachable by construction; an empty answer beats a panic in library code.
            _ => "",
        }
    }

    /// One field of the message.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key)
    }

    /// Sets a field. Setting `msgType` to anything but a non-empty string is refused.
    pub fn insert(
        &mut self,
        key: impl Into<String>,
        value: impl Into<Value>,
    ) -> Result<(), EventError> {
        let key = key.into();
        let value = value.into();
        if key == MSG_TYPE && !matches!(&value, Value::String(s) if !s.is_empty()) {
            return Err(EventError::InvalidMessage(
                "`msgType` must stay a non-empty string".into(),
            ));
        }
        self.0.insert(key, value);
        Ok(())
    }

    /// The whole object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// Consumes the message into its JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(d)?;
        Message::from_value(value).map_err(serde::de::Error::custom)
    }
}
