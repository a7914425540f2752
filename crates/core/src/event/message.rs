use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::field_value::FieldValue;
use super::json_str;
use super::message_text::{self, MsgType, MESSAGE_MAX_DEPTH};
use super::EventError;

/// Key of the mandatory message type field.
pub const MSG_TYPE: &str = "msgType";

/// The payload of an event: a JSON object that always holds a non-empty string
/// `msgType` (for example `login`, `dataset-read-data`, `prediction-query`), with no
/// key twice in any of its objects and at most [`MESSAGE_MAX_DEPTH`] levels of nesting.
///
/// A message read from JSON keeps its text **exactly as sent**, except for whitespace
/// between tokens, which is left out: numbers keep their spelling (integers beyond 64
/// bits, `-0`, `1E2`, long decimals), strings their escapes, objects their key order.
/// That text is what serializing writes, so a store, a spool or a forwarding server
/// passes on what the client sent, and a hash over it vouches for what the client sent.
/// A message built in code with [`Message::new`] and [`Message::insert`] (what
/// `EventDraft::field` and `audit!` do) is written as text as it is built, members in
/// the order they were first set, `msgType` first: one allocation for the whole
/// message instead of one per key, string and tree node, which the emitting thread
/// pays for and the target's thread frees (docs/benchmarks.md, "Issue 17, messages
/// built as text"). A message given as a map ([`Message::from_map`],
/// [`Message::from_value`]) stays a map and is written in the map's key order.
///
/// [`Message::get`] and [`Message::as_map`] read a message as `serde_json` values, whose
/// numbers are 64-bit integers or `f64`: a number outside those is approximated in that
/// view only (the text stays exact; [`Message::json`] gives it).
#[derive(Clone)]
pub struct Message(Repr);

#[derive(Clone)]
enum Repr {
    /// Given as a map.
    Map(Map<String, Value>),
    /// Read from JSON, or built by `new` and `insert`: the text is the message.
    Text(Arc<Text>),
}

struct Text {
    /// The message's JSON text, checked: by `serde_json` and [`message_text::check`],
    /// or by [`message_text::check_strict_at`] alone; or written by `new` and `insert`
    /// (a `String`: `insert` appends to it in place).
    json: String,
    msg_type: MsgType,
    /// The map view, built on first use.
    map: OnceLock<Map<String, Value>>,
}

impl Message {
    /// A message with only its `msgType` (an empty one is refused), held as its text
    /// `{"msgType":...}`, with room for the fields [`Message::insert`] appends.
    pub fn new(msg_type: impl AsRef<str> + Into<String>) -> Result<Message, EventError> {
        let text = msg_type.as_ref();
        if text.is_empty() {
            return Err(EventError::InvalidMessage(
                "`msgType` must not be empty".into(),
            ));
        }
        let mut json = String::with_capacity(BUILT_CAPACITY.max(text.len() + 16));
        json.push_str("{\"msgType\":");
        let start = json.len();
        json_str::write_str(&mut json, text);
        // Written without escapes, the value is the text between its quotes.
        let msg_type = if json.len() - start == text.len() + 2 {
            MsgType::InText(start + 1..json.len() - 1)
        } else {
            MsgType::Decoded(msg_type.into())
        };
        json.push('}');
        Ok(Message::text(json, msg_type))
    }

    /// Validates a JSON object as a message.
    ///
    /// A `serde_json` value holds no NaN or infinite float: `serde_json` made any such
    /// float `null` when the value was built (`Value::from`, `json!`, `to_value`), out of
    /// this crate's sight. Set such numbers with [`Message::insert`] or
    /// `EventDraft::field`, which refuse them.
    pub fn from_map(map: Map<String, Value>) -> Result<Message, EventError> {
        match map.get(MSG_TYPE) {
            Some(Value::String(s)) if !s.is_empty() => {}
            Some(Value::String(_)) => {
                return Err(EventError::InvalidMessage(
                    "`msgType` must not be empty".into(),
                ))
            }
            Some(other) => {
                return Err(EventError::InvalidMessage(format!(
                    "`msgType` must be a string, got {}",
                    json_kind(other)
                )))
            }
            None => return Err(EventError::InvalidMessage("`msgType` is missing".into())),
        }
        for (key, value) in &map {
            check_depth(key, value, 2)?;
        }
        Ok(Message(Repr::Map(map)))
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

    /// Validates a message's JSON text and keeps it as sent (whitespace between tokens
    /// left out). Refused: text that is not one JSON object, a key twice in any object,
    /// nesting deeper than [`MESSAGE_MAX_DEPTH`], a missing, empty or non-string
    /// `msgType`; the error names the path (`message.a.b[2]`).
    ///
    /// ```
    /// use auditrail_core::Message;
    /// let m = Message::from_json(r#"{"msgType": "payment", "txId": 123456789012345678901234567890}"#)?;
    /// assert_eq!(m.json(), r#"{"msgType":"payment","txId":123456789012345678901234567890}"#);
    /// let dup = Message::from_json(r#"{"msgType":"login","user":"alice","user":"mallory"}"#);
    /// assert!(dup.unwrap_err().to_string().contains("message.user"));
    /// # Ok::<(), auditrail_core::EventError>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Message, EventError> {
        let raw: &RawValue = serde_json::from_str(json)
            .map_err(|e| message_error("message".into(), e.to_string()))?;
        Message::from_raw(raw.get())
    }

    /// [`Message::from_json`] for text already known to be one well-formed JSON value.
    pub(crate) fn from_raw(text: &str) -> Result<Message, EventError> {
        let checked = check(text)?;
        Ok(Message::from_checked(text, checked))
    }

    /// [`Message::from_raw`], keeping the box when the text stays as it is.
    pub(crate) fn from_raw_box(raw: Box<RawValue>) -> Result<Message, EventError> {
        let checked = check(raw.get())?;
        let json = match checked.compact {
            Some(compact) => compact,
            None => Box::<str>::from(raw).into_string(),
        };
        Ok(Message::text(json, checked.msg_type))
    }

    /// The message whose text `text` passed a check with the outcome `checked`.
    pub(crate) fn from_checked(text: &str, checked: message_text::Checked) -> Message {
        let json = match checked.compact {
            Some(compact) => compact,
            None => text.to_owned(),
        };
        Message::text(json, checked.msg_type)
    }

    fn text(json: String, msg_type: MsgType) -> Message {
        Message(Repr::Text(Arc::new(Text {
            json,
            msg_type,
            map: OnceLock::new(),
        })))
    }

    /// The message type.
    pub fn msg_type(&self) -> &str {
        match &self.0 {
            Repr::Text(t) => t.msg_type.get(&t.json),
            Repr::Map(map) => match map.get(MSG_TYPE) {
                Some(Value::String(s)) => s,
                // Unreachable by construction; an empty answer beats a panic in library code.
                _ => "",
            },
        }
    }

    /// One field of the message (numbers as `serde_json` holds them, see the type's doc).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.as_map().get(key)
    }

    /// The length of the message's JSON text when the message is held as its text;
    /// `None` for one held as a map (its size unknown without serializing it).
    pub(crate) fn text_len(&self) -> Option<usize> {
        match &self.0 {
            Repr::Text(t) => Some(t.json.len()),
            Repr::Map(_) => None,
        }
    }

    /// The message's JSON text: as read (whitespace between tokens left out), or the
    /// map serialized.
    pub fn json(&self) -> std::borrow::Cow<'_, str> {
        match &self.0 {
            Repr::Text(t) => std::borrow::Cow::Borrowed(&t.json),
            Repr::Map(map) => {
                std::borrow::Cow::Owned(serde_json::to_string(map).unwrap_or_default())
            }
        }
    }

    /// The JSON text of a message read from JSON (as kept: whitespace between tokens
    /// left out); `None` for a message built in code.
    pub(super) fn kept_text(&self) -> Option<&str> {
        match &self.0 {
            Repr::Text(t) => Some(&t.json),
            Repr::Map(_) => None,
        }
    }

    /// Sets a field. Setting `msgType` to anything but a non-empty string is refused, and
    /// so is a value nested deeper than the message allows, and a float that is NaN or
    /// infinite (JSON has no form for it; see [`FieldValue`]). A message read from JSON
    /// stays exact: its other fields keep their text and order, the field is replaced in
    /// place or appended.
    ///
    /// The key is only copied where the message is a map (`AsRef` reads it otherwise).
    ///
    /// ```
    /// use auditrail_core::Message;
    /// let mut m = Message::new("payment")?;
    /// let err = m.insert("amount", f64::NAN).unwrap_err();
    /// assert!(err.to_string().starts_with("message.amount: NaN is not a finite number"));
    /// assert_eq!(m.json(), r#"{"msgType":"payment"}"#);
    /// # Ok::<(), auditrail_core::EventError>(())
    /// ```
    pub fn insert(
        &mut self,
        key: impl AsRef<str> + Into<String>,
        value: impl FieldValue,
    ) -> Result<(), EventError> {
        let name = key.as_ref();
        let value = value
            .into_field_value()
            .map_err(|e| message_error(format!("message.{name}{}", e.at), e.to_string()))?;
        if name == MSG_TYPE && !matches!(&value, Value::String(s) if !s.is_empty()) {
            return Err(EventError::InvalidMessage(
                "`msgType` must stay a non-empty string".into(),
            ));
        }
        check_depth(name, &value, 2)?;
        match &mut self.0 {
            Repr::Map(map) => {
                map.insert(key.into(), value);
                Ok(())
            }
            Repr::Text(t) => {
                // A new key of a message nobody else holds (a draft being built):
                // appended in place, no copy and no check of the rest again.
                if let Some(t) = Arc::get_mut(t) {
                    if name != MSG_TYPE && message_text::lacks_top_level_key(&t.json, name) {
                        append_member(&mut t.json, name, &value)
                            .map_err(|e| message_error(format!("message.{name}"), e.to_string()))?;
                        t.map = OnceLock::new();
                        return Ok(());
                    }
                }
                let text = splice(&t.json, name, &value)
                    .map_err(|e| message_error("message".into(), e.to_string()))?;
                *self = Message::from_raw(&text)?;
                Ok(())
            }
        }
    }

    /// The whole object (numbers as `serde_json` holds them, see the type's doc).
    pub fn as_map(&self) -> &Map<String, Value> {
        match &self.0 {
            Repr::Map(map) => map,
            // The text was checked to be a JSON object; parsing it again cannot fail
            // (its nesting is within serde_json's limit), and an empty map beats a panic.
            Repr::Text(t) => t
                .map
                .get_or_init(|| serde_json::from_str(&t.json).unwrap_or_default()),
        }
    }

    /// Consumes the message into its JSON object.
    pub fn into_map(self) -> Map<String, Value> {
        match self.0 {
            Repr::Map(map) => map,
            Repr::Text(t) => t
                .map
                .get()
                .cloned()
                .unwrap_or_else(|| serde_json::from_str(&t.json).unwrap_or_default()),
        }
    }
}

fn check(text: &str) -> Result<message_text::Checked, EventError> {
    message_text::check(text).map_err(|p| message_error(p.path, p.reason))
}

/// An error about a value inside `message`, at `path`.
fn message_error(path: String, reason: String) -> EventError {
    EventError::InvalidMessageValue { path, reason }
}

/// Refuses a value that would take the message past [`MESSAGE_MAX_DEPTH`] (`level` is
/// the level `value` sits at). Iterative: a value built in code may be arbitrarily deep.
fn check_depth(key: &str, value: &Value, level: usize) -> Result<(), EventError> {
    if !matches!(value, Value::Array(_) | Value::Object(_)) {
        return Ok(()); // a scalar: no stack to allocate
    }
    let mut stack: Vec<(&Value, usize)> = vec![(value, level)];
    while let Some((v, at)) = stack.pop() {
        let children: Box<dyn Iterator<Item = &Value>> = match v {
            Value::Array(items) => Box::new(items.iter()),
            Value::Object(map) => Box::new(map.values()),
            _ => continue,
        };
        if at > MESSAGE_MAX_DEPTH {
            return Err(message_error(
                format!("message.{key}"),
                format!(
                    "nested deeper than {MESSAGE_MAX_DEPTH} levels of objects and arrays (the \
                     limit of a message)"
                ),
            ));
        }
        stack.extend(children.map(|c| (c, at + 1)));
    }
    Ok(())
}

/// Room a built message starts with: a typical audit message with a few fields fits,
/// so appending them does not move it.
const BUILT_CAPACITY: usize = 192;

/// Appends `"key":value` to `json`, a JSON object's text without that key. On an
/// error (none for a `String` key and a `Value`: `serde_json` writes both) `json` is
/// left as it was.
fn append_member(json: &mut String, key: &str, value: &Value) -> Result<(), serde_json::Error> {
    // Anything but a string written aside first: a value `serde_json` cannot write
    // leaves the text as it was. Strings (most values, and the longest) are written in
    // place by `json_str`, the same bytes, without a byte-by-byte scan or a second
    // check of the whole text's UTF-8.
    let other = match value {
        Value::String(_) => None,
        v => Some(serde_json::to_string(v)?),
    };
    let close = json.len().saturating_sub(1); // where its `}` is
    json.truncate(close);
    if close > 1 {
        json.push(',');
    }
    json_str::write_str(json, key);
    json.push(':');
    match (value, other) {
        (Value::String(s), _) => json_str::write_str(json, s),
        (_, Some(text)) => json.push_str(&text),
        (_, None) => {} // `other` is written for every value but a string
    }
    json.push('}');
    Ok(())
}

/// `text` (a JSON object) with `key` set to `value`: replaced where it is, or appended;
/// every other member's text unchanged.
fn splice(text: &str, key: &str, value: &Value) -> Result<String, serde_json::Error> {
    let mut members: Vec<(String, Box<RawValue>)> = serde_json::from_str::<OrderedMembers>(text)?.0;
    let value = serde_json::value::to_raw_value(value)?;
    match members.iter_mut().find(|(k, _)| k == key) {
        Some((_, v)) => *v = value,
        None => members.push((key.to_owned(), value)),
    }
    let mut out = String::with_capacity(text.len() + 32);
    out.push('{');
    for (i, (k, v)) in members.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&serde_json::to_string(k)?);
        out.push(':');
        out.push_str(v.get());
    }
    out.push('}');
    Ok(out)
}

/// A JSON object's members in text order, values as their raw text.
struct OrderedMembers(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for OrderedMembers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = OrderedMembers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = a.next_entry::<String, Box<RawValue>>()? {
                    out.push(entry);
                }
                Ok(OrderedMembers(out))
            }
        }
        d.deserialize_map(V)
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

impl PartialEq for Message {
    /// Two messages read from JSON are equal when their texts are; otherwise their
    /// values are compared.
    fn eq(&self, other: &Message) -> bool {
        match (&self.0, &other.0) {
            (Repr::Text(a), Repr::Text(b)) => a.json == b.json,
            _ => self.as_map() == other.as_map(),
        }
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Message").field(&self.json()).finish()
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Repr::Map(map) => map.serialize(s),
            // Written raw through `serde_json`'s `RawValue`, borrowed from the text: the
            // text was checked to be JSON, so reading it as one cannot fail. (The wire
            // form's writers do not come here: `Event::write_json` copies the text.)
            Repr::Text(t) => serde_json::from_str::<&RawValue>(&t.json)
                .map_err(serde::ser::Error::custom)?
                .serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Message {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Message::from_raw_box(raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_is_kept_and_written_back_exactly() {
        let text = r#"{"msgType":"payment","txId":123456789012345678901234567890,"z":-0,"a":1E2,"d":0.10000000000000000000000001,"s":"\u00e9"}"#;
        let m = Message::from_json(text).unwrap();
        assert_eq!(serde_json::to_string(&m).unwrap(), text);
        assert_eq!(m.msg_type(), "payment");
        assert_eq!(m.get("s").unwrap(), "é");
    }

    /// The text a message built by `new` and `insert` must have: members in the order
    /// first set, a value set again replaced where it is.
    fn ordered_text(members: &[(String, Value)]) -> String {
        let items: Vec<String> = members
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}:{}",
                    serde_json::to_string(k).unwrap(),
                    serde_json::to_string(v).unwrap()
                )
            })
            .collect();
        format!("{{{}}}", items.join(","))
    }

    fn key() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::strategy::Strategy as _;
        proptest::sample::select(vec!["msgType", "a", "b", "é", "k\"q", "\\", "n", "", "msg"])
            .prop_map(str::to_owned)
    }

    fn value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<i64>().prop_map(Value::from),
            any::<bool>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            key().prop_map(Value::from),
            "[a-z\"\\\\\u{0}-\u{1f}é,:{}\\[\\]]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..3).prop_map(Value::from),
                proptest::collection::vec((key(), inner), 0..3)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2000))]
        /// Whatever is inserted, in whatever order, a message built by `new` and
        /// `insert` (appended in place, or spliced for a key set again) reads and
        /// writes as the members in the order first set, and is what the check accepts.
        #[test]
        fn a_built_message_is_its_members_in_order(
            msg_type in "[a-z\"\\\\é\u{1}]{1,5}",
            ops in proptest::collection::vec((key(), value()), 0..8),
        ) {
            let mut m = Message::new(msg_type.clone()).unwrap();
            let mut model: Vec<(String, Value)> = vec![(MSG_TYPE.to_owned(), Value::from(msg_type))];
            for (k, v) in ops {
                let refused = k == MSG_TYPE && !matches!(&v, Value::String(s) if !s.is_empty());
                proptest::prop_assert_eq!(m.insert(k.clone(), v.clone()).is_err(), refused);
                if refused {
                    continue;
                }
                match model.iter_mut().find(|(mk, _)| *mk == k) {
                    Some((_, mv)) => *mv = v,
                    None => model.push((k, v)),
                }
                // Reading the map view between inserts must not keep a stale view.
                let view: Map<String, Value> = model.iter().cloned().collect();
                proptest::prop_assert_eq!(m.as_map(), &view);
            }
            let text = ordered_text(&model);
            proptest::prop_assert_eq!(m.json(), text.as_str());
            let model_type = model[0].1.as_str().unwrap_or_default();
            proptest::prop_assert_eq!(m.msg_type(), model_type);
            let read = Message::from_json(&text).unwrap();
            proptest::prop_assert_eq!(read.json(), text.as_str());
            proptest::prop_assert_eq!(read.msg_type(), model_type);
        }
    }

    #[test]
    fn a_built_message_keeps_the_order_fields_were_set_in() {
        let mut m = Message::new("login").unwrap();
        m.insert("user", "alice").unwrap();
        m.insert("clientIP", "10.1.2.3").unwrap();
        m.insert("user", "bob").unwrap();
        m.insert("n", 1).unwrap();
        assert_eq!(
            m.json(),
            r#"{"msgType":"login","user":"bob","clientIP":"10.1.2.3","n":1}"#
        );
        let mut escaped = Message::new("a\"b").unwrap();
        escaped.insert("k", json!({"msgType": 1})).unwrap();
        assert_eq!(escaped.msg_type(), "a\"b");
        assert_eq!(escaped.json(), r#"{"msgType":"a\"b","k":{"msgType":1}}"#);
        assert!(Message::new("").is_err());
    }

    #[test]
    fn inserting_into_a_clone_leaves_the_original_as_it_was() {
        let mut original = Message::new("x").unwrap();
        original.insert("a", 1).unwrap();
        let mut copy = original.clone();
        copy.insert("b", 2).unwrap();
        original.insert("c", 3).unwrap();
        assert_eq!(copy.json(), r#"{"msgType":"x","a":1,"b":2}"#);
        assert_eq!(original.json(), r#"{"msgType":"x","a":1,"c":3}"#);
    }

    #[test]
    fn only_top_level_unescaped_keys_count_as_present() {
        use message_text::lacks_top_level_key as lacks;
        let text = r#"{"msgType":"x","a":{"k":1},"s":"k","l":["k",{"k":2}]}"#;
        assert!(lacks(text, "k"));
        assert!(!lacks(text, "a"));
        assert!(!lacks(text, "l"));
        assert!(!lacks(text, "msgType"));
        assert!(lacks(text, "x"));
        // An escaped key may be any key: left to the path that decodes.
        assert!(!lacks(r#"{"msgType":"x","\u0062":1}"#, "c"));
        assert!(!lacks(r#"{"msgType":"x","q\"":1}"#, "c"));
    }

    #[test]
    fn insert_keeps_the_other_fields_exact() {
        let mut m = Message::from_json(r#"{"msgType":"x","big":1E400,"k":1}"#).unwrap();
        m.insert("k", 2).unwrap();
        m.insert("new", "v").unwrap();
        assert_eq!(m.json(), r#"{"msgType":"x","big":1E400,"k":2,"new":"v"}"#);
        assert!(m.insert(MSG_TYPE, 3).is_err());
    }

    #[test]
    fn messages_built_in_code_have_the_same_limits() {
        let mut deep = json!(0);
        for _ in 0..MESSAGE_MAX_DEPTH - 1 {
            deep = json!([deep]);
        }
        let mut m = Message::new("x").unwrap();
        m.insert("ok", deep.clone()).unwrap();
        let err = m.insert("deep", json!([deep])).unwrap_err();
        assert!(err.to_string().contains("message.deep"), "{err}");
        let map = json!({"msgType": "x", "deep": [deep]});
        assert!(Message::from_value(map).is_err());
    }

    #[test]
    fn equal_values_are_equal_messages_whatever_their_form() {
        let built = Message::from_value(json!({"msgType": "x", "n": [1, 2.5]})).unwrap();
        let read = Message::from_json(r#"{"n":[1,2.5],"msgType":"x"}"#).unwrap();
        assert_eq!(built, read);
        let other = Message::from_json(r#"{"n":[1,2.50],"msgType":"x"}"#).unwrap();
        assert_ne!(read, other, "a different spelling is a different text");
    }
}
