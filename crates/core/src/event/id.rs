use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

use super::EventError;

/// Unique, time-ordered event id. auditrail generates UUIDv7 ids; any UUID is accepted
/// on the wire (so that producers with their own id scheme can send), in the
/// canonical hyphenated form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventId(Uuid);

impl EventId {
    /// A fresh UUIDv7: millisecond timestamp prefix, monotonic within the process.
    pub fn new() -> EventId {
        EventId(Uuid::now_v7())
    }

    /// The underlying UUID.
    pub fn as_uuid(&self) -> &Uuid {
        &self.0
    }

    /// The id's 16 bytes, for compact indexes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// Builds an id from 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> EventId {
        EventId(Uuid::from_bytes(bytes))
    }
}

impl Default for EventId {
    fn default() -> Self {
        EventId::new()
    }
}

impl From<Uuid> for EventId {
    fn from(u: Uuid) -> Self {
        EventId(u)
    }
}

impl FromStr for EventId {
    type Err = EventError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // Only the canonical 36-character form, so the stored text is the sent text.
        if s.len() != 36 {
            return Err(invalid(
                s,
                "must be a UUID in its 36-character hyphenated form",
            ));
        }
        Uuid::try_parse(s)
            .map(EventId)
            .map_err(|e| invalid(s, &e.to_string()))
    }
}

fn invalid(value: &str, reason: &str) -> EventError {
    EventError::InvalidField {
        field: "id",
        value: super::names::truncate_for_error(value),
        reason: reason.to_owned(),
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0.hyphenated(), f)
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({})", self.0.hyphenated())
    }
}

impl Serialize for EventId {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = Uuid::encode_buffer();
        s.serialize_str(self.0.hyphenated().encode_lower(&mut buf))
    }
}

impl<'de> Deserialize<'de> for EventId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_unique_and_time_ordered() {
        let ids: Vec<EventId> = (0..10_000).map(|_| EventId::new()).collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn text_form_round_trips() {
        let id = EventId::new();
        assert_eq!(id.to_string().parse::<EventId>().unwrap(), id);
        assert!("0193".parse::<EventId>().is_err());
    }
}
