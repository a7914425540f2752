//! What the live view keeps of an event over [`super::MAX_KEPT_EVENT_BYTES`]: a stub,
//! the event with its envelope and, of its message, `msgType` and a string `authUser`,
//! each cut to [`MAX_STUB_FIELD_BYTES`]. Cut, because these two are of any length: a
//! stub that kept them whole was as large as its event (an event with a 1 MiB
//! `authUser` gave a 1 MiB stub), and one sender could fill the stream's buffer (4096
//! entries) with up to `max_body_bytes` (16 MiB) each, tens of GiB. The envelope's
//! fields are bounded by validation (topic 64 bytes, routing key 256 characters, node
//! 128 bytes), so a stub's text stays under [`super::MAX_KEPT_EVENT_BYTES`] (unit test).
//!
//! A cut field is named in the entry's `cutFields` with its whole size, and keeps its
//! whole value's SHA-256, so that the view's filters (`user=`, `msgType=`) still match
//! the whole value exactly, never the cut text.

use auditrail_core::{Event, Message};
use auditrail_query::search::EventFilter;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The most bytes (UTF-8, as decoded) of `msgType` and of `authUser` a stub keeps; a
/// longer value is cut at the last character boundary at or before it.
pub(crate) const MAX_STUB_FIELD_BYTES: usize = 256;

/// The stub of `event`: its JSON text, and the fields cut in it (`None`: none was).
pub(super) fn stub(event: &Event) -> (bytes::Bytes, Option<CutFields>) {
    let mut cut = CutFields::default();
    let msg_type = kept(event.message.msg_type(), &mut cut.msg_type);
    // A stored event's `msgType` is a non-empty string, and a cut one keeps its first
    // character, so `new` cannot refuse it.
    let mut message = Message::new(msg_type).unwrap_or_else(|_| event.message.clone());
    if let Some(serde_json::Value::String(user)) = event.message.get("authUser") {
        let user = kept(user, &mut cut.auth_user);
        // A string at depth 1 of a message that passed the checks: cannot fail.
        let _ = message.insert("authUser", serde_json::Value::String(user.to_owned()));
    }
    let stub = Event {
        id: event.id,
        timestamp: event.timestamp,
        topic: event.topic.clone(),
        routing_key: event.routing_key.clone(),
        node: event.node.clone(),
        seq: event.seq,
        abandoned_seqs: event.abandoned_seqs,
        message,
        received: None,
    };
    let cut = (cut.msg_type.is_some() || cut.auth_user.is_some()).then_some(cut);
    (bytes::Bytes::from(stub.to_json()), cut)
}

/// `value` cut to [`MAX_STUB_FIELD_BYTES`], on a character boundary; when cut, what
/// was cut is noted in `whole`.
fn kept<'a>(value: &'a str, whole: &mut Option<Whole>) -> &'a str {
    let kept = cut(value, MAX_STUB_FIELD_BYTES);
    if kept.len() < value.len() {
        *whole = Some(Whole::of(value));
    }
    kept
}

/// The longest start of `value` of at most `max` bytes that ends on a character
/// boundary.
pub(crate) fn cut(value: &str, max: usize) -> &str {
    &value[..value.floor_char_boundary(max)]
}

/// The fields a stub holds cut, with what the view keeps of their whole values.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CutFields {
    msg_type: Option<Whole>,
    auth_user: Option<Whole>,
}

/// A cut field's whole value: its size and its SHA-256 (not the value: that is what
/// the cut bounds).
#[derive(Debug, PartialEq, Eq)]
struct Whole {
    bytes: usize,
    sha256: [u8; 32],
}

impl Whole {
    fn of(value: &str) -> Whole {
        Whole {
            bytes: value.len(),
            sha256: Sha256::digest(value).into(),
        }
    }

    /// Whether `value` is the whole value.
    fn is(&self, value: &str) -> bool {
        value.len() == self.bytes && <[u8; 32]>::from(Sha256::digest(value)) == self.sha256
    }
}

/// `cutFields` of a shown entry: each cut field's whole size in bytes (UTF-8).
#[derive(Debug, Serialize)]
pub(crate) struct CutSizes {
    #[serde(rename = "msgType", skip_serializing_if = "Option::is_none")]
    msg_type: Option<usize>,
    #[serde(rename = "authUser", skip_serializing_if = "Option::is_none")]
    auth_user: Option<usize>,
}

impl CutFields {
    /// What `cutFields` shows of them.
    pub(crate) fn sizes(&self) -> CutSizes {
        CutSizes {
            msg_type: self.msg_type.as_ref().map(|w| w.bytes),
            auth_user: self.auth_user.as_ref().map(|w| w.bytes),
        }
    }

    /// Whether the stub `raw` holding these cut fields stands for an event that meets
    /// `filter`: a cut field's condition is met by its whole value only (the cut text
    /// neither matches in its stead nor hides the event from a filter on the whole
    /// value); the other conditions are read off the stub as for any entry.
    pub(crate) fn matches(&self, filter: &EventFilter, raw: &[u8]) -> bool {
        let mut rest = filter.clone();
        for (want, whole) in [
            (&mut rest.msg_type, &self.msg_type),
            (&mut rest.user, &self.auth_user),
        ] {
            if let Some(whole) = whole {
                if want.take().is_some_and(|w| !whole.is(&w)) {
                    return false;
                }
            }
        }
        rest.matches_wire(raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cut_ends_on_a_character_boundary() {
        assert_eq!(cut("abc", 5), "abc");
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abc", 2), "ab");
        // "é" is 2 bytes, "€" 3, "𝄞" 4: a cut inside one leaves it out whole.
        assert_eq!(cut("aé", 2), "a");
        assert_eq!(cut("a€b", 2), "a");
        assert_eq!(cut("a€b", 3), "a");
        assert_eq!(cut("a€b", 4), "a€");
        assert_eq!(cut("𝄞𝄞", 7), "𝄞");
        assert_eq!(cut("𝄞", 0), "");
        let long = "é".repeat(MAX_STUB_FIELD_BYTES);
        let kept = cut(&long, MAX_STUB_FIELD_BYTES);
        assert_eq!(kept.len(), MAX_STUB_FIELD_BYTES);
        let odd = format!("x{long}");
        assert_eq!(
            cut(&odd, MAX_STUB_FIELD_BYTES).len(),
            MAX_STUB_FIELD_BYTES - 1
        );
    }

    fn event(routing_key: &str, msg_type: &str, user: &str) -> Event {
        let mut e = serde_json::json!({
            "id": "01936f6e-1b2c-7d3e-8f40-000000000002",
            "timestamp": "2026-11-25T16:55:50.000Z",
            "topic": "t".repeat(auditrail_core::event::TOPIC_MAX_LEN),
            "node": "n".repeat(auditrail_core::event::NODE_ID_MAX_LEN),
            "seq": u64::MAX,
            "message": {"msgType": msg_type, "authUser": user, "blob": "b".repeat(20_000)},
        });
        e["routingKey"] = routing_key.into();
        Event::from_json(&e.to_string()).unwrap()
    }

    #[test]
    fn a_stub_cuts_msg_type_and_auth_user_and_names_them_with_their_sizes() {
        let user = format!(
            "{}€{}",
            "u".repeat(MAX_STUB_FIELD_BYTES - 1),
            "v".repeat(1 << 20)
        );
        let msg_type = "m".repeat(100_000);
        let (raw, cut) = stub(&event("rk", &msg_type, &user));
        let shown = Event::from_json(std::str::from_utf8(&raw).unwrap()).unwrap();
        assert_eq!(shown.message.msg_type(), &msg_type[..MAX_STUB_FIELD_BYTES]);
        assert_eq!(
            shown.message.get("authUser"),
            Some(&serde_json::json!("u".repeat(MAX_STUB_FIELD_BYTES - 1)))
        );
        let cut = cut.unwrap();
        assert_eq!(
            serde_json::to_value(cut.sizes()).unwrap(),
            serde_json::json!({"msgType": 100_000, "authUser": user.len()})
        );

        // Short fields are kept whole and named nowhere.
        let (raw, cut) = stub(&event("rk", "upload", "bob"));
        assert_eq!(cut, None);
        let shown = Event::from_json(std::str::from_utf8(&raw).unwrap()).unwrap();
        assert_eq!(shown.message.msg_type(), "upload");
        assert_eq!(
            shown.message.get("authUser"),
            Some(&serde_json::json!("bob"))
        );
        // One cut, the other not.
        let (_, cut) = stub(&event("rk", "upload", &user));
        assert_eq!(
            serde_json::to_value(cut.unwrap().sizes()).unwrap(),
            serde_json::json!({"authUser": user.len()})
        );
    }

    #[test]
    fn the_largest_stub_is_under_the_bound_of_a_kept_event() {
        // Every field at its longest, in the characters JSON writes longest: a
        // routing key of `"` (escaped, 2 bytes) or of 4-byte characters, a msgType and
        // authUser of control characters (escaped `\u0001`, 6 bytes each).
        let controls = "\u{1}".repeat(1 << 20);
        for routing_key in [
            "\"".repeat(auditrail_core::event::ROUTING_KEY_MAX_LEN),
            "𝄞".repeat(auditrail_core::event::ROUTING_KEY_MAX_LEN),
        ] {
            let (raw, _) = stub(&event(&routing_key, &controls, &controls));
            assert!(
                raw.len() <= super::super::MAX_KEPT_EVENT_BYTES,
                "{}",
                raw.len()
            );
            assert!(raw.len() > 3000, "not the worst case: {}", raw.len());
        }
    }

    #[test]
    fn a_filter_on_a_cut_field_matches_the_whole_value_only() {
        let user = "u".repeat(1000);
        let msg_type = "m".repeat(1000);
        let (raw, cut) = stub(&event("rk", &msg_type, &user));
        let cut = cut.unwrap();
        let filter = |user: Option<&str>, msg_type: Option<&str>, node: Option<&str>| EventFilter {
            user: user.map(str::to_owned),
            msg_type: msg_type.map(str::to_owned),
            node: node.map(str::to_owned),
            ..EventFilter::default()
        };
        let node = "n".repeat(auditrail_core::event::NODE_ID_MAX_LEN);
        let shown_user = &user[..MAX_STUB_FIELD_BYTES];
        let shown_type = &msg_type[..MAX_STUB_FIELD_BYTES];
        for (f, expected) in [
            (filter(None, None, None), true),
            (filter(Some(&user), None, None), true),
            (filter(None, Some(&msg_type), None), true),
            (filter(Some(&user), Some(&msg_type), Some(&node)), true),
            (filter(Some(shown_user), None, None), false),
            (filter(None, Some(shown_type), None), false),
            (filter(Some(&format!("{user}x")), None, None), false),
            (filter(Some(&"v".repeat(1000)), None, None), false),
            (filter(Some(&user), Some(&msg_type), Some("other")), false),
        ] {
            assert_eq!(cut.matches(&f, &raw), expected, "{f:?}");
        }
    }
}
