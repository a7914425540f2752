use thiserror::Error;

/// Why an event (or one of its fields) is invalid.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum EventError {
    /// A field has a value outside its allowed form.
    #[error("invalid {field} {value:?}: {reason}")]
    InvalidField {
        /// Wire name of the field (`topic`, `routingKey`, `node`, ...).
        field: &'static str,
        /// The offending value, truncated for display.
        value: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The message is not a JSON object with a non-empty string `msgType`.
    #[error("invalid message: {0}")]
    InvalidMessage(String),
    /// A value inside the message breaks a rule of messages: a key twice in one object,
    /// nesting deeper than [`MESSAGE_MAX_DEPTH`](crate::MESSAGE_MAX_DEPTH), a `msgType`
    /// that is not a non-empty string.
    #[error("{path}: {reason}")]
    InvalidMessageValue {
        /// Where, from the event: `message.user`, `message.a[2]["b c"]`.
        path: String,
        /// What is wrong there.
        reason: String,
    },
    /// A mandatory field is absent (for a draft: one the dispatcher cannot fill in).
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// The JSON itself is malformed or has unknown keys; serde's text names the key,
    /// line and column.
    #[error("{0}")]
    Json(String),
}

/// Parses JSON into `T`, naming the path of the offending field in the error
/// (`message.msgType: ...`, `seq: invalid value ...`).
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, EventError> {
    parse_json_borrowed(json)
}

/// [`parse_json`] for types that borrow from the input.
///
/// Valid input is parsed once, without tracking the path: `serde_path_to_error` wraps
/// every field's deserializer and cost about 2 % of the event server's CPU per event
/// (docs/benchmarks.md). Input that fails is parsed again with the path tracked;
/// deserializing is deterministic, so the second pass fails the same way and its error
/// names where.
///
/// The first pass reads the input as `&str` when it is UTF-8 (checked once, by the
/// standard library's word-at-a-time check): `serde_json` then takes every string and
/// raw value as it is, where reading bytes checks each of them again (about 5 % of an
/// event's parse). Input that is not UTF-8 goes to the second pass, whose error says
/// where.
pub(crate) fn parse_json_borrowed<'de, T: serde::de::Deserialize<'de>>(
    json: &'de [u8],
) -> Result<T, EventError> {
    if let Ok(text) = std::str::from_utf8(json) {
        let mut de = serde_json::Deserializer::from_str(text);
        if let Ok(value) = T::deserialize(&mut de).and_then(|v| de.end().map(|()| v)) {
            return Ok(value);
        }
    }
    parse_json_located(json)
}

/// The second pass of [`parse_json_borrowed`]: the error with its path.
#[cold]
fn parse_json_located<'de, T: serde::de::Deserialize<'de>>(
    json: &'de [u8],
) -> Result<T, EventError> {
    let mut de = serde_json::Deserializer::from_slice(json);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let mut text = inner.to_string();
        // serde_json words a `\u` escape of half a surrogate pair without its other half
        // as "unexpected end of hex escape" (a high half) or "lone leading surrogate"
        // (a low half), which says neither what nor why. Its error codes are not public,
        // so the text is matched; the test below fails if a new serde_json rewords it.
        if text.starts_with("unexpected end of hex escape")
            || text.starts_with("lone leading surrogate in hex escape")
        {
            text = format!(
                "a \\u escape of half a UTF-16 surrogate pair, alone: a string may hold a \
                 surrogate escape only as a pair (RFC 8259 section 8.2, RFC 7493 section \
                 2.1) at line {} column {}",
                inner.line(),
                inner.column()
            );
        }
        if text.starts_with("key must be a string") {
            // serde_path_to_error names a key not read yet `?` ("?: key must be a
            // string"), which says neither what is wrong nor where: say both.
            let place = path
                .split('.')
                .filter(|s| *s != "?")
                .collect::<Vec<_>>()
                .join(".");
            let place = if place.is_empty() {
                "the event".to_owned()
            } else {
                place
            };
            return EventError::Json(format!(
                "an object key must be a string in double quotes (JSON: not a number, \
                 not a name left unquoted) in {place}, at line {} column {}",
                inner.line(),
                inner.column()
            ));
        }
        if text.starts_with("recursion limit exceeded") {
            // Only the message nests; serde_json stops at 128 levels, before the
            // message's own (lower) limit could name the place.
            return EventError::InvalidMessageValue {
                path: "message".into(),
                reason: format!(
                    "nested deeper than {} levels of objects and arrays (the limit of a \
                     message; {text})",
                    crate::MESSAGE_MAX_DEPTH
                ),
            };
        }
        if path.is_empty() || path == "." || text.starts_with(&path) {
            // A message's own errors already start with their full path.
            EventError::Json(text)
        } else {
            EventError::Json(format!("{path}: {text}"))
        }
    })?;
    de.end().map_err(|e| EventError::Json(e.to_string()))?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use crate::Event;

    const GOOD: &str = r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n","seq":1,"message":{"msgType":"x","a":[1,{"b":2}]}}"#;

    fn error_of(json: &str) -> String {
        match Event::from_json(json) {
            Ok(e) => panic!("accepted: {e:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn valid_events_parse_on_the_fast_path() {
        let event = Event::from_json(GOOD).unwrap();
        assert_eq!(event.seq, 1);
        assert_eq!(event.message.json(), r#"{"msgType":"x","a":[1,{"b":2}]}"#);
    }

    #[test]
    fn an_invalid_event_is_parsed_again_so_that_its_error_names_the_field() {
        // A wrong type in a top-level field: the path comes from the second pass.
        let err = error_of(&GOOD.replace(r#""seq":1"#, r#""seq":"one""#));
        assert!(err.starts_with("seq: "), "{err}");
        // Inside the message: the message's own check names the place.
        let err = error_of(&GOOD.replace(r#"{"b":2}"#, r#"{"b":2,"b":3}"#));
        assert!(err.contains("message.a[1].b"), "{err}");
        // Trailing bytes after the event.
        let err = error_of(&format!("{GOOD} x"));
        assert!(err.contains("trailing"), "{err}");
        // Unknown keys are named.
        let err = error_of(&GOOD.replace(r#""seq":1"#, r#""seq":1,"extra":1"#));
        assert!(err.contains("extra"), "{err}");
    }

    /// The first pass reads UTF-8 input as text; input that is not UTF-8 is still
    /// refused, with where, whichever part of the event holds the bad byte.
    #[test]
    fn input_that_is_not_utf8_is_refused_with_where() {
        for (part, at) in [
            ("node", r#""n""#),
            ("message", r#""x""#),
            ("message key", r#""b""#),
        ] {
            let (before, after) = GOOD.split_once(at).unwrap();
            let mut bytes = before.as_bytes().to_vec();
            bytes.extend_from_slice(b"\"\xff\xfe\"");
            bytes.extend_from_slice(after.as_bytes());
            let err = Event::from_json_slice(&bytes).unwrap_err().to_string();
            assert!(
                err.contains("invalid unicode code point") && err.contains("column"),
                "{part}: {err}"
            );
        }
        // The same event in valid UTF-8 (non-ASCII included) parses to the same event
        // from bytes and from text.
        let text = GOOD.replace(r#""a":[1"#, r#""é ü":"ß😀","a":[1"#);
        let from_bytes = Event::from_json_slice(text.as_bytes()).unwrap();
        assert_eq!(from_bytes, Event::from_json(&text).unwrap());
        assert!(from_bytes.message.json().contains("ß😀"));
    }

    /// A `\u` escape of half a UTF-16 surrogate pair, alone, in an envelope field is
    /// named as such with the field, as inside the message (where the message's own
    /// check words it): serde_json's own text ("unexpected end of hex escape") says
    /// neither what nor why.
    #[test]
    fn a_lone_surrogate_escape_in_an_envelope_field_is_named_with_the_field() {
        for (field, json) in [
            (
                "routingKey",
                GOOD.replace(r#""seq":1"#, r#""seq":1,"routingKey":"\ud800""#),
            ),
            (
                "routingKey",
                GOOD.replace(r#""seq":1"#, r#""seq":1,"routingKey":"a\udc00b""#),
            ),
            ("node", GOOD.replace(r#""node":"n""#, r#""node":"\ud83dx""#)),
        ] {
            let err = error_of(&json);
            assert!(err.starts_with(field), "{err}");
            assert!(err.contains("surrogate pair, alone"), "{err}");
            assert!(err.contains("column"), "{err}");
        }
    }
}
