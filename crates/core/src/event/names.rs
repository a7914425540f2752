//! Validated names: [`Topic`], [`RoutingKey`] and [`NodeId`].
//!
//! Each is a cheap-to-clone `Arc<str>` newtype that can only be built through
//! validation, so any value of these types is known to be safe to use as a
//! folder name, a metric label or a Kafka header.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::EventError;

macro_rules! validated_name {
    ($(#[$doc:meta])* $name:ident, $validate:ident, $field:literal) => {
        validated_name!($(#[$doc])* $name, $validate, $field, []);
    };
    ($(#[$doc:meta])* $name:ident, $validate:ident, $field:literal, [$($known:path),*]) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $name(Name);

        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                // Most comparisons are of clones of one value (the dispatcher's node
                // against each event's, a filter's topic against a standard one):
                // the same bytes at the same address need no byte comparison.
                let (a, b) = (self.as_str(), other.as_str());
                (a.as_ptr() == b.as_ptr() && a.len() == b.len()) || a == b
            }
        }
        impl Eq for $name {}
        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state)
            }
        }
        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl $name {
            /// Validates `value` and wraps it.
            pub fn new(value: impl AsRef<str>) -> Result<Self, EventError> {
                let value = value.as_ref();
                $validate(value).map_err(|reason| EventError::InvalidField {
                    field: $field,
                    value: truncate_for_error(value),
                    reason,
                })?;
                // A known value (a standard topic) is shared, not allocated: most
                // events carry one, and the server parses every event it receives.
                $(
                    if $known.as_str() == value {
                        return Ok($known);
                    }
                )*
                Ok(Self(Name::Shared(Arc::from(value))))
            }

            /// The name as a string slice.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self.as_str(), f)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl std::str::FromStr for $name {
            type Err = EventError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::new(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = EventError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = EventError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::new(s)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl $name {
            /// [`Self::new`] for a name read from JSON: the same name as the last one
            /// read on this thread is that one, shared, instead of validated and
            /// allocated again (a request's events nearly all come from one node, and
            /// mostly carry one routing key; the server parses every event it receives).
            pub(super) fn read(s: &str) -> Result<Self, EventError> {
                thread_local! {
                    static LAST: std::cell::RefCell<Option<$name>> =
                        const { std::cell::RefCell::new(None) };
                }
                LAST.with_borrow_mut(|last| match last {
                    Some(name) if name.as_str() == s => Ok(name.clone()),
                    _ => {
                        let name = Self::new(s)?;
                        *last = Some(name.clone());
                        Ok(name)
                    }
                })
            }
        }

        impl<'de> Deserialize<'de> for $name {
            /// Shares the last name read on this thread when it is the same (see `read`).
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                super::text_de::parse_str(d, Self::read)
            }
        }
    };
}

validated_name!(
    /// The category of an audit event, chosen by the emitting code: 1 to 64
    /// characters of `[a-z0-9._-]`. See [`topics`](crate::topics) for the standard ones.
    Topic,
    validate_topic,
    "topic",
    [
        crate::topics::GENERIC,
        crate::topics::GENERIC_FAILURE,
        crate::topics::AUTHFAIL,
        crate::topics::APINODE_QUERY,
        crate::topics::COMPUTE_RESOURCE_USAGE,
        crate::topics::APICALLS
    ]
);

validated_name!(
    /// Optional finer-grained dispatch key (for example an API service's deployment id).
    /// 1 to 256 printable characters, no `/`, `\` or NUL, and not `.` or `..`, because
    /// stores use it as a folder name.
    RoutingKey,
    validate_routing_key,
    "routingKey"
);

validated_name!(
    /// Identifier of the node that emitted an event: 1 to 128 characters of
    /// `[A-Za-z0-9._-]`, not starting with a dot.
    NodeId,
    validate_node_id,
    "node"
);

/// Storage shared by the name types: compile-time constants cost nothing to clone
/// and need no allocation, which matters on the emit path.
#[derive(Clone)]
enum Name {
    Static(&'static str),
    Shared(Arc<str>),
}

impl Name {
    fn as_str(&self) -> &str {
        match self {
            Name::Static(s) => s,
            Name::Shared(s) => s,
        }
    }
}

impl Topic {
    /// A topic known at compile time. Validation runs in `const` context, so an
    /// invalid constant is a compile error:
    ///
    /// ```
    /// use auditrail_core::Topic;
    /// const BILLING: Topic = Topic::from_static("billing");
    /// assert_eq!(BILLING.as_str(), "billing");
    /// ```
    ///
    /// ```compile_fail
    /// use auditrail_core::Topic;
    /// const BAD: Topic = Topic::from_static("Not A Topic");
    /// ```
    #[allow(clippy::panic)] // const evaluation: the panic is a compile error, never a runtime one
    pub const fn from_static(value: &'static str) -> Topic {
        let bytes = value.as_bytes();
        if bytes.is_empty() || bytes.len() > TOPIC_MAX_LEN {
            panic!("a topic must be 1 to 64 characters long");
        }
        if bytes[0] == b'.' && (bytes.len() == 1 || (bytes.len() == 2 && bytes[1] == b'.')) {
            panic!("`.` and `..` are not topics");
        }
        let mut i = 0;
        while i < bytes.len() {
            let c = bytes[i];
            if !(c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || c == b'.'
                || c == b'_'
                || c == b'-')
            {
                panic!("a topic may only contain [a-z0-9._-]");
            }
            i += 1;
        }
        Topic(Name::Static(value))
    }
}

/// Longest topic, in bytes (topics are ASCII).
pub const TOPIC_MAX_LEN: usize = 64;
/// Longest routing key, in characters.
pub const ROUTING_KEY_MAX_LEN: usize = 256;
/// Longest node id, in bytes (node ids are ASCII).
pub const NODE_ID_MAX_LEN: usize = 128;

fn validate_topic(value: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > TOPIC_MAX_LEN {
        return Err(format!(
            "must be 1 to {TOPIC_MAX_LEN} characters long (got {})",
            value.chars().count()
        ));
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!("character {bad:?} is not allowed; use [a-z0-9._-]"));
    }
    if value == "." || value == ".." {
        return Err("`.` and `..` are not topics".into());
    }
    Ok(())
}

fn validate_routing_key(value: &str) -> Result<(), String> {
    let len = value.chars().count();
    if len == 0 || len > ROUTING_KEY_MAX_LEN {
        return Err(format!(
            "must be 1 to {ROUTING_KEY_MAX_LEN} characters long (got {len})"
        ));
    }
    if value == "." || value == ".." {
        return Err("`.` and `..` are not routing keys (they would be folder names)".into());
    }
    if let Some(bad) = value
        .chars()
        .find(|c| matches!(c, '/' | '\\' | '\0') || c.is_control())
    {
        return Err(format!(
            "character {bad:?} is not allowed (no `/`, `\\`, NUL or control characters)"
        ));
    }
    Ok(())
}

fn validate_node_id(value: &str) -> Result<(), String> {
    if value.is_empty() || value.len() > NODE_ID_MAX_LEN {
        return Err(format!(
            "must be 1 to {NODE_ID_MAX_LEN} characters long (got {})",
            value.chars().count()
        ));
    }
    if value.starts_with('.') {
        return Err("must not start with `.`".into());
    }
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(format!(
            "character {bad:?} is not allowed; use [A-Za-z0-9._-]"
        ));
    }
    Ok(())
}

/// Keeps error messages readable when someone sends a megabyte-long "topic".
pub(crate) fn truncate_for_error(value: &str) -> String {
    const MAX: usize = 80;
    if value.chars().count() <= MAX {
        value.to_owned()
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Equality is by text: a name at its own address, a clone, and a name whose text
    /// starts at the same address but is shorter.
    #[test]
    fn names_are_equal_exactly_when_their_text_is() {
        let a = NodeId::new("node-1").unwrap();
        assert_eq!(a, NodeId::new("node-1").unwrap());
        assert_eq!(a, a.clone());
        assert_ne!(a, NodeId::new("node-2").unwrap());
        let long: &'static str = "generic-failure";
        let (short, full) = (Topic::from_static(&long[..7]), Topic::from_static(long));
        assert_eq!(short.as_str().as_ptr(), full.as_str().as_ptr());
        assert_ne!(short, full);
        assert_eq!(short, Topic::new("generic").unwrap());
    }

    /// A name read again right after itself is shared, not copied; any other text is
    /// validated as ever, whatever was read before it.
    #[test]
    fn a_name_read_twice_in_a_row_is_shared_and_others_are_still_validated() {
        let read = |json: &str| serde_json::from_str::<NodeId>(json);
        let shared = |a: &NodeId, b: &NodeId| match (&a.0, &b.0) {
            (Name::Shared(a), Name::Shared(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        let first = read(r#""node-1""#).unwrap();
        let again = read(r#""node-1""#).unwrap();
        assert!(shared(&first, &again));
        let other = read(r#""node-2""#).unwrap();
        assert_eq!(other.as_str(), "node-2");
        assert!(!shared(&first, &other));
        // An escaped spelling of the last name is that name, shared.
        assert!(shared(&other, &read(r#""node\u002d2""#).unwrap()));
        for bad in [r#""node 2""#, r#""""#, r#""../node-2""#] {
            let err = read(bad).unwrap_err().to_string();
            assert!(err.contains("invalid node"), "{bad}: {err}");
            // A refused name is not remembered: the last good one still is.
            assert!(shared(&other, &read(r#""node-2""#).unwrap()));
        }
        let key = || serde_json::from_str::<RoutingKey>(r#""svc-a""#).unwrap();
        let (a, b) = (key(), key());
        assert!(matches!((&a.0, &b.0), (Name::Shared(a), Name::Shared(b)) if Arc::ptr_eq(a, b)));
    }

    #[test]
    fn a_standard_topic_read_is_the_shared_constant_and_equal_to_any_other() {
        let read = Topic::new("apinode-query").unwrap();
        assert!(matches!(read.0, Name::Static(_)));
        assert_eq!(read, crate::topics::APINODE_QUERY);
        let own = Topic::new("billing").unwrap();
        assert!(matches!(own.0, Name::Shared(_)));
        // Validation still runs first: a known value is never a way around it.
        assert!(Topic::new("GENERIC").is_err());
    }

    #[test]
    fn topics_accept_the_documented_alphabet() {
        for ok in [
            "generic",
            "generic-failure",
            "a",
            "x.y_z-9",
            &"a".repeat(64),
        ] {
            assert!(Topic::new(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn topics_reject_everything_else() {
        for bad in ["", "Generic", "a b", "a/b", &"a".repeat(65), "é", ".", ".."] {
            let err = Topic::new(bad).unwrap_err().to_string();
            assert!(err.contains("topic"), "{err}");
        }
    }

    #[test]
    fn routing_keys_reject_path_tricks_and_control_characters() {
        for bad in [
            "",
            ".",
            "..",
            "a/b",
            "a\\b",
            "a\0b",
            "a\nb",
            &"k".repeat(257),
        ] {
            assert!(RoutingKey::new(bad).is_err(), "{bad:?} was accepted");
        }
        for ok in ["svc-a", "Deployment 42", "ünïcode", "..a", &"k".repeat(256)] {
            assert!(RoutingKey::new(ok).is_ok(), "{ok:?} was rejected");
        }
    }

    #[test]
    fn node_ids_are_restricted() {
        assert!(NodeId::new("node-1.example").is_ok());
        for bad in ["", ".hidden", "a b", "a/b"] {
            assert!(NodeId::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn long_values_are_truncated_in_errors() {
        let err = Topic::new("X".repeat(10_000)).unwrap_err().to_string();
        assert!(err.len() < 400, "{err}");
    }
}
