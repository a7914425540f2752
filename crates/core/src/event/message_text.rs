//! The checks a message's JSON text must pass to be kept exactly as sent: no key twice in
//! any object, nesting within [`MESSAGE_MAX_DEPTH`], a non-empty string `msgType`; and
//! the text without the whitespace between its tokens (the form that is stored).
//!
//! Hand-written because serde (and `serde_json`) answer neither question: a map
//! deserializer keeps the last of two equal keys, and any visitor that sees a number
//! parses it into a `u64`/`i64`/`f64` (refusing `1e400`, rounding
//! `123456789012345678901234567890`), which is the very alteration this keeps out. The
//! scan runs over text `serde_json` has already accepted as well-formed JSON
//! (a [`RawValue`](serde_json::value::RawValue)), in one pass, without parsing numbers.

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;

use super::message::MSG_TYPE;

/// Deepest nesting of objects and arrays in a message: the message object itself is
/// level 1, `{"msgType":"x","a":[1]}` reaches level 2.
///
/// Chosen well under `serde_json`'s recursion limit of 128 (which most JSON readers
/// share or exceed): a stored record wraps the message two levels deeper (record,
/// `clientEvent`), so every reader of a store, with `serde_json`'s defaults or any
/// reader allowing 128 levels, reads every record the ingest accepts.
pub const MESSAGE_MAX_DEPTH: usize = 64;

/// What is wrong with a message's text, and where (`message.a.b[3]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub(crate) path: String,
    pub(crate) reason: String,
}

/// A message text that passed every check.
#[derive(Debug)]
pub(crate) struct Checked {
    /// The decoded `msgType`.
    pub(crate) msg_type: String,
    /// The text without whitespace between tokens, when it had any (`None`: the text is
    /// already in that form).
    pub(crate) compact: Option<String>,
}

enum Frame<'a> {
    Object {
        keys: Keys<'a>,
        /// The key whose value is being read.
        key: Option<Cow<'a, str>>,
    },
    Array {
        index: usize,
    },
}

/// The keys of one object so far: a list while small, a set once large (so a message
/// with a huge object stays linear).
enum Keys<'a> {
    Few(Vec<Cow<'a, str>>),
    Many(HashSet<Cow<'a, str>>),
}

impl<'a> Keys<'a> {
    const FEW: usize = 16;

    /// Adds `key`; `false` when it was there already.
    fn insert(&mut self, key: Cow<'a, str>) -> bool {
        match self {
            Keys::Few(list) => {
                if list.contains(&key) {
                    return false;
                }
                if list.len() < Self::FEW {
                    list.push(key);
                } else {
                    let mut set: HashSet<Cow<'a, str>> = list.drain(..).collect();
                    set.insert(key);
                    *self = Keys::Many(set);
                }
                true
            }
            Keys::Many(set) => set.insert(key),
        }
    }
}

/// Checks a message's JSON text (already known to be well-formed JSON).
pub(crate) fn check(text: &str) -> Result<Checked, Problem> {
    Scan {
        text: text.as_bytes(),
        src: text,
        at: 0,
        stack: Vec::new(),
        msg_type: None,
        compact: None,
        copied_to: 0,
    }
    .run()
}

struct Scan<'a> {
    text: &'a [u8],
    src: &'a str,
    at: usize,
    stack: Vec<Frame<'a>>,
    msg_type: Option<String>,
    /// The compact text so far, once the first whitespace between tokens was met.
    compact: Option<String>,
    /// Bytes of `text` up to here are in `compact` (or were whitespace).
    copied_to: usize,
}

impl<'a> Scan<'a> {
    fn run(mut self) -> Result<Checked, Problem> {
        self.skip_ws();
        if self.peek() != Some(b'{') {
            return Err(self.problem("must be a JSON object".into()));
        }
        self.value()?;
        self.skip_ws();
        let Some(msg_type) = self.msg_type.take() else {
            return Err(Problem {
                path: "message".into(),
                reason: format!("`{MSG_TYPE}` is missing"),
            });
        };
        let compact = self.compact.take().map(|mut c| {
            c.push_str(&self.src[self.copied_to..self.at]);
            c
        });
        Ok(Checked { msg_type, compact })
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Skips whitespace between tokens, leaving it out of the compact text.
    fn skip_ws(&mut self) {
        let start = self.at;
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
        if self.at > start {
            let compact = self
                .compact
                .get_or_insert_with(|| String::with_capacity(self.text.len()));
            compact.push_str(&self.src[self.copied_to..start]);
            self.copied_to = self.at;
        }
    }

    /// Reads one value (iteratively: containers push a frame).
    fn value(&mut self) -> Result<(), Problem> {
        loop {
            self.skip_ws();
            match self.peek() {
                Some(b'{') => {
                    self.msg_type_not(b'{')?;
                    self.at += 1;
                    self.open(Frame::Object {
                        keys: Keys::Few(Vec::new()),
                        key: None,
                    })?;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.at += 1;
                        self.stack.pop();
                    } else {
                        self.key()?;
                        continue;
                    }
                }
                Some(b'[') => {
                    self.msg_type_not(b'[')?;
                    self.at += 1;
                    self.open(Frame::Array { index: 0 })?;
                    self.skip_ws();
                    if self.peek() == Some(b']') {
                        self.at += 1;
                        self.stack.pop();
                    } else {
                        continue;
                    }
                }
                Some(b'"') => {
                    let (start, end) = self.string()?;
                    if self.stack.len() == 1 && self.current_key() == Some(MSG_TYPE) {
                        let s = decode(&self.src[start..end]).map_err(|r| self.problem(r))?;
                        if s.is_empty() {
                            return Err(self.problem(format!("`{MSG_TYPE}` must not be empty")));
                        }
                        self.msg_type = Some(s.into_owned());
                    }
                }
                Some(first) => {
                    self.msg_type_not(first)?;
                    // A number or a literal: kept as written, never parsed.
                    while matches!(self.peek(), Some(b) if !matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    {
                        self.at += 1;
                    }
                }
                None => return Err(self.problem("unexpected end of the text".into())),
            }
            // A value ended: go on in the enclosing container, closing those that end.
            loop {
                if self.stack.is_empty() {
                    return Ok(());
                }
                self.skip_ws();
                match (self.peek(), self.stack.last_mut()) {
                    (Some(b','), Some(Frame::Array { index })) => {
                        *index += 1;
                        self.at += 1;
                        break;
                    }
                    (Some(b','), Some(Frame::Object { .. })) => {
                        self.at += 1;
                        self.key()?;
                        break;
                    }
                    (Some(b']'), Some(Frame::Array { .. }))
                    | (Some(b'}'), Some(Frame::Object { .. })) => {
                        self.at += 1;
                        self.stack.pop();
                    }
                    _ => return Err(self.problem("malformed JSON".into())),
                }
            }
        }
    }

    /// Refuses a `msgType` (of the message object itself) whose value starts with
    /// `first` (anything but a string).
    fn msg_type_not(&self, first: u8) -> Result<(), Problem> {
        if self.stack.len() != 1 || self.current_key() != Some(MSG_TYPE) {
            return Ok(());
        }
        let kind = match first {
            b'{' => "an object",
            b'[' => "an array",
            b'n' => "null",
            b't' | b'f' => "a boolean",
            _ => "a number",
        };
        Err(self.problem(format!("`{MSG_TYPE}` must be a string, got {kind}")))
    }

    fn open(&mut self, frame: Frame<'a>) -> Result<(), Problem> {
        if self.stack.len() >= MESSAGE_MAX_DEPTH {
            return Err(self.problem(format!(
                "nested deeper than {MESSAGE_MAX_DEPTH} levels of objects and arrays (the \
                 limit of a message)"
            )));
        }
        self.stack.push(frame);
        Ok(())
    }

    /// Reads an object key and its `:`; refuses a key the object already has.
    fn key(&mut self) -> Result<(), Problem> {
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.problem("malformed JSON: expected a key".into()));
        }
        let (start, end) = self.string()?;
        let key = decode(&self.src[start..end]).map_err(|r| self.problem(r))?;
        let Some(Frame::Object { keys, key: current }) = self.stack.last_mut() else {
            return Err(self.problem("malformed JSON".into()));
        };
        *current = Some(key.clone());
        if !keys.insert(key.clone()) {
            return Err(self.problem(format!(
                "duplicate key {}: a key may appear once per object (JSON readers disagree \
                 on which value wins)",
                quoted(&key)
            )));
        }
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.problem("malformed JSON: expected `:`".into()));
        }
        self.at += 1;
        Ok(())
    }

    /// Skips a string token; returns the byte range of its contents (between quotes).
    /// `memchr2` finds the next quote or backslash a word at a time: strings are most
    /// of a message's bytes.
    fn string(&mut self) -> Result<(usize, usize), Problem> {
        self.at += 1;
        let start = self.at;
        loop {
            let Some(found) = memchr::memchr2(b'"', b'\\', &self.text[self.at..]) else {
                self.at = self.text.len();
                return Err(self.problem("unterminated string".into()));
            };
            self.at += found;
            if self.text[self.at] == b'"' {
                let end = self.at;
                self.at += 1;
                return Ok((start, end));
            }
            // A backslash: skip it and the character it escapes.
            self.at += 2;
            if self.at > self.text.len() {
                self.at = self.text.len();
                return Err(self.problem("unterminated string".into()));
            }
        }
    }

    fn current_key(&self) -> Option<&str> {
        match self.stack.last() {
            Some(Frame::Object { key, .. }) => key.as_deref(),
            _ => None,
        }
    }

    /// The problem at the current position, with its path (`message.a[2]["b c"]`).
    fn problem(&self, reason: String) -> Problem {
        let mut path = String::from("message");
        for frame in &self.stack {
            match frame {
                Frame::Object { key: Some(k), .. } => push_key(&mut path, k),
                Frame::Object { key: None, .. } => {}
                Frame::Array { index } => {
                    let _ = write!(path, "[{index}]");
                }
            }
        }
        Problem { path, reason }
    }
}

/// The contents of a string token, unescaped (borrowed when it has no escape).
fn decode(raw: &str) -> Result<Cow<'_, str>, String> {
    if !raw.contains('\\') {
        return Ok(Cow::Borrowed(raw));
    }
    let quoted = format!("\"{raw}\"");
    serde_json::from_str::<String>(&quoted)
        .map(Cow::Owned)
        .map_err(|e| format!("invalid string: {e}"))
}

/// Appends `.key`, or `["key"]` when the key is not a plain identifier.
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'));
    if plain {
        path.push('.');
        path.push_str(key);
    } else {
        path.push('[');
        path.push_str(&quoted(key));
        path.push(']');
    }
}

/// A key as a JSON string, shortened for messages.
fn quoted(key: &str) -> String {
    let short = super::names::truncate_for_error(key);
    serde_json::to_string(&short).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_between_tokens_goes_and_nothing_else_changes() {
        let c = check(
            "{ \"msgType\" : \"a b\" ,\n\t\"n\": [ 1E2 , -0, 123456789012345678901234567890 ] }",
        )
        .unwrap();
        assert_eq!(c.msg_type, "a b");
        assert_eq!(
            c.compact.as_deref(),
            Some(r#"{"msgType":"a b","n":[1E2,-0,123456789012345678901234567890]}"#)
        );
        assert!(check(r#"{"msgType":"x","s":" \" "}"#)
            .unwrap()
            .compact
            .is_none());
    }

    #[test]
    fn duplicate_keys_are_named_with_their_path_at_any_depth() {
        for (text, path) in [
            (r#"{"msgType":"x","a":1,"a":2}"#, "message.a"),
            (
                r#"{"msgType":"x","b":[{"c":{"d":1,"d":1}}]}"#,
                "message.b[0].c.d",
            ),
            (r#"{"msgType":"x","msgType":"y"}"#, "message.msgType"),
            (r#"{"msgType":"x","\u0061":1,"a":2}"#, "message.a"),
            (
                r#"{"msgType":"x","a b":{"k":1,"k":2}}"#,
                r#"message["a b"].k"#,
            ),
        ] {
            let p = check(text).unwrap_err();
            assert_eq!(p.path, path, "{text}");
            assert!(p.reason.contains("duplicate key"), "{p:?}");
        }
        let many: String = (0..100).map(|i| format!(",\"k{i}\":{i}")).collect();
        assert!(check(&format!("{{\"msgType\":\"x\"{many}}}")).is_ok());
        assert!(check(&format!("{{\"msgType\":\"x\"{many},\"k99\":0}}")).is_err());
    }

    #[test]
    fn nesting_stops_at_the_limit() {
        let nest = |levels: usize| {
            let inner = levels - 1;
            format!(
                "{{\"msgType\":\"x\",\"n\":{}0{}}}",
                "[".repeat(inner),
                "]".repeat(inner)
            )
        };
        assert!(check(&nest(MESSAGE_MAX_DEPTH)).is_ok());
        let p = check(&nest(MESSAGE_MAX_DEPTH + 1)).unwrap_err();
        assert!(p.reason.contains("64 levels"), "{p:?}");
        assert!(p.path.starts_with("message.n[0]"), "{p:?}");
    }

    #[test]
    fn msg_type_must_be_a_non_empty_string_at_the_top() {
        assert_eq!(check(r#"{"msgType":"l\u00e9"}"#).unwrap().msg_type, "lé");
        for (text, needle) in [
            (r#"{"a":{"msgType":"x"}}"#, "missing"),
            (r#"{"msgType":""}"#, "empty"),
            (r#"{"msgType":3}"#, "a number"),
            (r#"{"msgType":null}"#, "null"),
            (r#"{"msgType":{"a":1}}"#, "must be a string"),
            ("[1]", "object"),
        ] {
            let p = check(text).unwrap_err();
            assert!(p.reason.contains(needle), "{text}: {p:?}");
        }
    }
}
