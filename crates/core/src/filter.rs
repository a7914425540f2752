//! Topic and routing-key filters: which events a target (or a server destination)
//! accepts.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::event::{Event, EventDraft, Received, RoutingKey, Topic};
use crate::lookalike::Lookalike;

/// All values, or an explicit list. In config files: absent or `"all"` for all, a
/// non-empty array for a list (an empty list would accept nothing and is refused as a
/// likely mistake).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Selection<T> {
    /// Every value, including "no routing key".
    #[default]
    All,
    /// Only these values. An event without a routing key never matches a list.
    Only(Vec<T>),
}

impl<T: AsRef<str>> Selection<T> {
    fn matches(&self, value: Option<&str>) -> bool {
        match self {
            Selection::All => true,
            Selection::Only(list) => {
                value.is_some_and(|v| list.iter().any(|item| item.as_ref() == v))
            }
        }
    }
}

/// The filter of one target: both parts must accept an event.
///
/// ```
/// use auditrail_core::{topics, EventDraft, Filter, NodeId, RoutingKey, Selection};
///
/// let filter = Filter {
///     topics: Selection::Only(vec![topics::APINODE_QUERY]),
///     routing_keys: Selection::Only(vec![RoutingKey::new("svc-a").unwrap()]),
///     required_key: None,
/// };
/// let node = NodeId::new("n1").unwrap();
/// let with_key = EventDraft::new(topics::APINODE_QUERY, "prediction-query")
///     .routing_key("svc-a").complete(&node, || 1).unwrap();
/// let without_key = EventDraft::new(topics::APINODE_QUERY, "prediction-query")
///     .complete(&node, || 2).unwrap();
/// assert!(filter.accepts(&with_key));
/// assert!(!filter.accepts(&without_key));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    /// Accepted topics.
    #[serde(default)]
    pub topics: Selection<Topic>,
    /// Accepted routing keys.
    #[serde(default)]
    pub routing_keys: Selection<RoutingKey>,
    /// Event-server destinations only: accept only events that the server received
    /// with this key id (the reference's `requiredAuthKey`). Events without receive
    /// information never match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_key: Option<String>,
}

impl Filter {
    /// A filter that accepts every event.
    pub fn all() -> Filter {
        Filter::default()
    }

    /// Whether the event passes both the topic and the routing-key filter.
    pub fn accepts(&self, event: &Event) -> bool {
        self.accepts_fields(
            &event.topic,
            event.routing_key.as_ref(),
            event.received.as_deref(),
        )
    }

    /// [`Filter::accepts`] for a draft (the same answer its completed event gets).
    pub fn accepts_draft(&self, draft: &EventDraft) -> bool {
        self.accepts_fields(
            &draft.topic,
            draft.routing_key.as_ref(),
            draft.received.as_deref(),
        )
    }

    fn accepts_fields(
        &self,
        topic: &Topic,
        routing_key: Option<&RoutingKey>,
        received: Option<&Received>,
    ) -> bool {
        #[cfg(test)]
        calls::count();
        let key_ok = match self.required_key.as_deref() {
            None => true,
            Some(required) => received
                .and_then(|r| r.key_id.as_deref())
                .is_some_and(|k| k == required),
        };
        key_ok && self.accepts_parts(topic, routing_key)
    }

    /// [`Filter::accepts`] for an event known by its fields as stored: its topic, its
    /// routing key and the id of the key it was received with (a stored record's
    /// `keyId`), so that a reader of stored records judges as the dispatcher did.
    pub fn accepts_stored(
        &self,
        topic: &str,
        routing_key: Option<&str>,
        key_id: Option<&str>,
    ) -> bool {
        let key_ok = match self.required_key.as_deref() {
            None => true,
            Some(required) => key_id.is_some_and(|k| k == required),
        };
        key_ok && self.topics.matches(Some(topic)) && self.routing_keys.matches(routing_key)
    }

    /// Topic and routing-key part of [`Filter::accepts`].
    pub fn accepts_parts(&self, topic: &Topic, routing_key: Option<&RoutingKey>) -> bool {
        self.topics.matches(Some(topic.as_str()))
            && self
                .routing_keys
                .matches(routing_key.map(RoutingKey::as_str))
    }
}

impl Filter {
    /// A routing key this filter lists that `key` is not, but reads like: canonically
    /// equivalent to it (UAX #15), or equal to it but for case. Routing keys are compared
    /// code point for code point, as sent, never normalized or case-folded (an audit
    /// record keeps what was sent, and the store, the reports and every filter must
    /// agree on one key), so such an event is taken by no list naming the other
    /// spelling; refusals name the listed one, so that the sender sees why.
    pub fn lookalike(&self, key: &str) -> Option<(&str, Lookalike)> {
        let Selection::Only(list) = &self.routing_keys else {
            return None;
        };
        crate::lookalike::find(key, list.iter().map(RoutingKey::as_str))
    }
}

/// Counts filter evaluations on the current thread, so that unit tests can check how
/// often the dispatcher runs a filter (test builds only).
#[cfg(test)]
pub(crate) mod calls {
    use std::cell::Cell;

    thread_local! {
        static CALLS: Cell<usize> = const { Cell::new(0) };
    }

    pub(super) fn count() {
        CALLS.with(|c| c.set(c.get() + 1));
    }

    /// Evaluations on this thread since the last call (and resets the count).
    pub(crate) fn take() -> usize {
        CALLS.with(|c| c.replace(0))
    }
}

impl<T: Serialize> Serialize for Selection<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Selection::All => s.serialize_str("all"),
            Selection::Only(list) => list.serialize(s),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Selection<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Decode through a Value so that an item's own error (a bad topic) is kept.
        let value = serde_json::Value::deserialize(d)?;
        match value {
            serde_json::Value::String(w) if w.eq_ignore_ascii_case("all") => Ok(Selection::All),
            serde_json::Value::String(w) => Err(serde::de::Error::custom(format!(
                "expected \"all\" or a list, got {w:?}"
            ))),
            serde_json::Value::Array(items) if items.is_empty() => Err(serde::de::Error::custom(
                "an empty list would accept nothing; omit the key (or write \"all\") to accept everything",
            )),
            // `["all"]` would select the one value "all" and nothing else: a target
            // meant to take every event would silently take none (seen in a tryout).
            serde_json::Value::Array(items)
                if items
                    .iter()
                    .any(|i| i.as_str().is_some_and(|w| w.eq_ignore_ascii_case("all"))) =>
            {
                Err(serde::de::Error::custom(
                    "a list holding \"all\" would select only the value \"all\"; for every \
                     value write \"all\" without brackets (or omit the key)",
                ))
            }
            serde_json::Value::Array(_) => Vec::<T>::deserialize(value)
                .map(Selection::Only)
                .map_err(serde::de::Error::custom),
            other => Err(serde::de::Error::custom(format!(
                "expected \"all\" or a list of strings, got {other}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{topics, EventDraft, NodeId};

    fn event(topic: Topic, key: Option<&str>) -> Event {
        let mut d = EventDraft::new(topic, "t");
        if let Some(k) = key {
            d = d.routing_key(k);
        }
        d.complete(&NodeId::new("n").unwrap(), || 1).unwrap()
    }

    #[test]
    fn a_listed_routing_key_that_reads_like_the_events_is_named_with_how_it_differs() {
        let filter = Filter {
            routing_keys: Selection::Only(vec![
                RoutingKey::new("caf\u{e9}").unwrap(),
                RoutingKey::new("Svc-A").unwrap(),
            ]),
            ..Filter::all()
        };
        assert_eq!(
            filter.lookalike("cafe\u{301}"),
            Some(("caf\u{e9}", Lookalike::Normalization))
        );
        assert_eq!(filter.lookalike("svc-a"), Some(("Svc-A", Lookalike::Case)));
        assert_eq!(
            filter.lookalike("CAFE\u{301}"),
            Some(("caf\u{e9}", Lookalike::Case))
        );
        assert_eq!(
            filter.lookalike("caf\u{e9}"),
            None,
            "the same key is no lookalike"
        );
        assert_eq!(filter.lookalike("svc-b"), None);
        assert_eq!(Filter::all().lookalike("svc-a"), None);
    }

    #[test]
    fn a_list_holding_all_is_refused_as_it_would_select_one_value() {
        for text in [
            r#"{"topics":["all"]}"#,
            r#"{"topics":["generic","ALL"]}"#,
            r#"{"routing_keys":["All"]}"#,
        ] {
            let err = serde_json::from_str::<Filter>(text)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("would select only the value \"all\"")
                    && err.contains("without brackets"),
                "{text}: {err}"
            );
        }
        let f: Filter = serde_json::from_str(r#"{"topics":"ALL"}"#).unwrap();
        assert_eq!(f.topics, Selection::All);
    }

    #[test]
    fn all_accepts_everything_including_no_routing_key() {
        let f = Filter::all();
        assert!(f.accepts(&event(topics::GENERIC, None)));
        assert!(f.accepts(&event(topics::AUTHFAIL, Some("k"))));
    }

    #[test]
    fn topic_list_selects_topics() {
        let f = Filter {
            topics: Selection::Only(vec![topics::AUTHFAIL]),
            ..Filter::all()
        };
        assert!(f.accepts(&event(topics::AUTHFAIL, None)));
        assert!(!f.accepts(&event(topics::GENERIC, None)));
    }

    #[test]
    fn event_without_routing_key_never_matches_an_explicit_list() {
        let f = Filter {
            routing_keys: Selection::Only(vec![RoutingKey::new("svc-a").unwrap()]),
            ..Filter::all()
        };
        assert!(f.accepts(&event(topics::GENERIC, Some("svc-a"))));
        assert!(!f.accepts(&event(topics::GENERIC, Some("svc-b"))));
        assert!(!f.accepts(&event(topics::GENERIC, None)));
    }

    #[test]
    fn config_forms_parse_and_bad_ones_are_explained() {
        let f: Filter =
            serde_json::from_str(r#"{"topics":"all","routing_keys":["a","b"]}"#).unwrap();
        assert_eq!(f.topics, Selection::All);
        assert_eq!(
            f.routing_keys,
            Selection::Only(vec![
                RoutingKey::new("a").unwrap(),
                RoutingKey::new("b").unwrap()
            ])
        );
        let err = serde_json::from_str::<Filter>(r#"{"topics":[]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("empty list"), "{err}");
        let err = serde_json::from_str::<Filter>(r#"{"topics":["OK?"]}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("topic"), "{err}");
        let err = serde_json::from_str::<Filter>(r#"{"topics":"some"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"all\""), "{err}");
    }
}
