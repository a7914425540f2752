//! The checks a message's JSON text must pass to be kept exactly as sent: no key twice in
//! any object, nesting within [`MESSAGE_MAX_DEPTH`], a non-empty string `msgType`; and
//! the text without the whitespace between its tokens (the form that is stored).
//!
//! Hand-written because serde (and `serde_json`) answer neither question: a map
//! deserializer keeps the last of two equal keys, and any visitor that sees a number
//! parses it into a `u64`/`i64`/`f64` (refusing `1e400`, rounding
//! `123456789012345678901234567890`), which is the very alteration this keeps out.
//!
//! Two modes. [`check`] runs over text `serde_json` has already accepted as well-formed
//! JSON (a [`RawValue`](serde_json::value::RawValue)), without parsing numbers.
//! [`check_strict_at`] also checks the grammar itself (RFC 8259: string escapes, no
//! control character in a string, numbers, literals), so that an event's message is
//! scanned once instead of twice (see `one_pass.rs`); where it accepts text, `serde_json`
//! accepts it too (a test holds the two to that), and the rules of messages are the
//! same code in both modes.
//!
//! [`check_document`] runs the same scan over any JSON document with the message rules
//! (`msgType`, the depth limit) left out: the config files refuse a key given twice with
//! it, as the ingest does.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::{Hash, Hasher};
use std::rc::Rc;

use super::message::MSG_TYPE;
use super::string_end::to_string_special;

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
    /// The `msgType` (in the kept text, or decoded).
    pub(crate) msg_type: MsgType,
    /// The text without whitespace between tokens, when it had any (`None`: the text is
    /// already in that form).
    pub(crate) compact: Option<String>,
}

/// A message's `msgType`: where it is in the kept text when it is spelled there as it
/// reads (no escapes), which spares a copy of it per message; otherwise decoded.
#[derive(Debug, Clone)]
pub(crate) enum MsgType {
    /// Byte range of the value (between its quotes) in the kept text.
    InText(std::ops::Range<usize>),
    /// The value unescaped.
    Decoded(String),
}

impl MsgType {
    /// The value, given the kept text this was checked with.
    pub(crate) fn get<'t>(&'t self, text: &'t str) -> &'t str {
        match self {
            // The range was found in this very text; `get` keeps a mismatch harmless.
            MsgType::InText(range) => text.get(range.clone()).unwrap_or_default(),
            MsgType::Decoded(s) => s,
        }
    }
}

/// An object key, unescaped: borrowed from the text when it has no escape (nearly
/// always), else decoded once and shared. Cloning it copies a pointer (a `Cow` would
/// clone a decoded key's text, and its generic `clone` was 2 % of a parse).
#[derive(Clone, Debug)]
enum Key<'a> {
    Text(&'a str),
    Decoded(Rc<str>),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Text(s) => s,
            Key::Decoded(s) => s,
        }
    }
}

impl PartialEq for Key<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Key<'_> {}

impl Hash for Key<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

enum Frame<'a> {
    Object {
        /// Where this object's keys start in [`Scan::keys`] while it has few.
        first_key: usize,
        /// This object's keys once it has many (a set, so that a message with a huge
        /// object stays linear).
        many: Option<HashSet<Key<'a>>>,
        /// The key whose value is being read.
        key: Option<Key<'a>>,
    },
    Array {
        index: usize,
    },
}

/// Keys an object holds in [`Scan::keys`] before they move to a set of their own.
const FEW_KEYS: usize = 16;

/// Whether the JSON object `text` (checked, or written by `Message::new` and
/// `Message::insert`) certainly has no member `key` at its top level. `false` when it
/// has one, and also when one of its top-level keys is written with an escape: such a
/// key is compared decoded by the slower path (`Message::insert`'s splice).
pub(crate) fn lacks_top_level_key(text: &str, key: &str) -> bool {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                let start = i + 1;
                let mut end = start;
                let mut escaped = false;
                while end < bytes.len() && bytes[end] != b'"' {
                    if bytes[end] == b'\\' {
                        escaped = true;
                        end += 1;
                    }
                    end += 1;
                }
                if depth == 1 && expect_key {
                    if escaped || text.get(start..end) == Some(key) {
                        return false;
                    }
                    expect_key = false;
                }
                i = end;
            }
            b'{' => {
                depth += 1;
                expect_key = depth == 1;
            }
            b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expect_key = true,
            b':' if depth == 1 => expect_key = false,
            _ => {}
        }
        i += 1;
    }
    true
}

/// Checks a message's JSON text (already known to be well-formed JSON).
pub(crate) fn check(text: &str) -> Result<Checked, Problem> {
    Scan::new(text, 0, false).run().map(|(checked, _)| checked)
}

/// A key given twice in some object of a JSON document (a config file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DocumentProblem {
    /// Where, from the document's root: `destinations[0].name`.
    pub(crate) path: String,
    /// What is wrong.
    pub(crate) reason: String,
    /// The line (from 1) of the end of the offending key.
    pub(crate) line: usize,
}

/// Checks that no object of the JSON document `text` (already known to be well-formed
/// JSON) has a key twice, at any depth; the message rules do not apply.
pub(crate) fn check_document(text: &str) -> Result<(), DocumentProblem> {
    let mut scan = Scan::new(text, 0, false);
    scan.document = true;
    scan.value().map_err(|p| DocumentProblem {
        path: p.path,
        reason: p.reason,
        line: 1 + text.as_bytes()[..scan.at.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    })
}

/// Checks the message that starts at byte `start` of `src` (its `{`), grammar
/// included: nothing about `src` is assumed. Returns what [`check`] returns for the
/// message's text (ranges relative to `start`) and where the message ends (just after
/// its `}`).
pub(crate) fn check_strict_at(src: &str, start: usize) -> Result<(Checked, usize), Problem> {
    Scan::new(src, start, true).run()
}

struct Scan<'a> {
    text: &'a [u8],
    src: &'a str,
    /// Where the message starts in `src`.
    base: usize,
    at: usize,
    /// Whether the grammar is checked too ([`check_strict_at`]).
    strict: bool,
    /// Any JSON document, not a message ([`check_document`]): no `msgType` or depth
    /// rule, paths from the root.
    document: bool,
    stack: Vec<Frame<'a>>,
    /// The keys of every open object with few keys, outermost first: one list for
    /// all of them, so that reading an object allocates nothing of its own.
    keys: Vec<Key<'a>>,
    msg_type: Option<MsgType>,
    /// The compact text so far, once the first whitespace between tokens was met.
    compact: Option<String>,
    /// Bytes of `text` up to here are in `compact` (or were whitespace).
    copied_to: usize,
}

impl<'a> Scan<'a> {
    fn new(src: &'a str, start: usize, strict: bool) -> Scan<'a> {
        Scan {
            text: src.as_bytes(),
            src,
            base: start,
            at: start,
            strict,
            document: false,
            // Every message has an object and a key: one allocation each, enough for
            // most messages (the lists grow beyond).
            stack: Vec::with_capacity(4),
            keys: Vec::with_capacity(FEW_KEYS),
            msg_type: None,
            compact: None,
            copied_to: start,
        }
    }

    /// The checked message and the offset just after it.
    fn run(mut self) -> Result<(Checked, usize), Problem> {
        if self.peek() != Some(b'{') {
            return Err(self.problem("must be a JSON object".into()));
        }
        self.value()?;
        let end = self.at;
        let Some(mut msg_type) = self.msg_type.take() else {
            return Err(Problem {
                path: "message".into(),
                reason: format!("`{MSG_TYPE}` is missing"),
            });
        };
        let compact = self.compact.take().map(|mut c| {
            c.push_str(&self.src[self.copied_to..end]);
            c
        });
        if compact.is_some() {
            // Leaving whitespace out moved the value: keep it decoded instead.
            if let MsgType::InText(range) = &msg_type {
                msg_type = MsgType::Decoded(self.src[range.clone()].to_owned());
            }
        }
        if let MsgType::InText(range) = &mut msg_type {
            *range = range.start - self.base..range.end - self.base;
        }
        Ok((Checked { msg_type, compact }, end))
    }

    fn peek(&self) -> Option<u8> {
        self.text.get(self.at).copied()
    }

    /// Skips whitespace between tokens, leaving it out of the compact text. Inlined:
    /// it runs before and after every token, and most texts have no whitespace.
    #[inline(always)]
    fn skip_ws(&mut self) {
        if matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.skip_ws_found();
        }
    }

    /// [`Scan::skip_ws`] once whitespace is found.
    #[cold]
    fn skip_ws_found(&mut self) {
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
                        first_key: self.keys.len(),
                        many: None,
                        key: None,
                    })?;
                    self.skip_ws();
                    if self.peek() == Some(b'}') {
                        self.at += 1;
                        self.close();
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
                    let (start, end, escaped) = self.string()?;
                    if self.stack.len() == 1
                        && !self.document
                        && self.current_key() == Some(MSG_TYPE)
                    {
                        if start == end {
                            return Err(self.problem(format!("`{MSG_TYPE}` must not be empty")));
                        }
                        self.msg_type = Some(if escaped {
                            MsgType::Decoded(
                                decode(&self.src[start..end]).map_err(|r| self.problem(r))?,
                            )
                        } else {
                            MsgType::InText(start..end)
                        });
                    }
                }
                Some(first) => {
                    self.msg_type_not(first)?;
                    // A number or a literal: kept as written, never parsed.
                    if self.strict {
                        self.scalar_strict(first)?;
                    } else {
                        while matches!(self.peek(), Some(b) if !matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                        {
                            self.at += 1;
                        }
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
                        self.close();
                    }
                    _ => return Err(self.problem("malformed JSON".into())),
                }
            }
        }
    }

    /// Refuses a `msgType` (of the message object itself) whose value starts with
    /// `first` (anything but a string).
    fn msg_type_not(&self, first: u8) -> Result<(), Problem> {
        if self.stack.len() != 1 || self.document || self.current_key() != Some(MSG_TYPE) {
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

    /// Ends the innermost container; an object's keys leave the key list.
    fn close(&mut self) {
        if let Some(Frame::Object { first_key, .. }) = self.stack.pop() {
            self.keys.truncate(first_key);
        }
    }

    fn open(&mut self, frame: Frame<'a>) -> Result<(), Problem> {
        // A document's depth is `serde_json`'s to limit (it read the text first), and
        // the scan does not recurse.
        if self.stack.len() >= MESSAGE_MAX_DEPTH && !self.document {
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
        // A problem in the key itself is the object's, not its previous member's.
        if let Some(Frame::Object { key, .. }) = self.stack.last_mut() {
            *key = None;
        }
        self.skip_ws();
        if self.peek() != Some(b'"') {
            return Err(self.problem("malformed JSON: expected a key".into()));
        }
        let (start, end, escaped) = self.string()?;
        let key = if escaped {
            Key::Decoded(
                decode(&self.src[start..end])
                    .map_err(|r| self.problem(r))?
                    .into(),
            )
        } else {
            Key::Text(&self.src[start..end])
        };
        let Some(Frame::Object {
            first_key,
            many,
            key: current,
        }) = self.stack.last_mut()
        else {
            return Err(self.problem("malformed JSON".into()));
        };
        *current = Some(key.clone());
        let new = match many {
            Some(set) => set.insert(key.clone()),
            None if self.keys[*first_key..].contains(&key) => false,
            None if self.keys.len() - *first_key < FEW_KEYS => {
                self.keys.push(key.clone());
                true
            }
            None => {
                // This object is the innermost open one: its keys are the list's tail.
                let mut set: HashSet<Key<'a>> = self.keys.drain(*first_key..).collect();
                set.insert(key.clone());
                *many = Some(set);
                true
            }
        };
        if !new {
            return Err(self.problem(format!(
                "duplicate key {}: a key may appear once per object (JSON readers disagree \
                 on which value wins)",
                quoted(key.as_str())
            )));
        }
        self.skip_ws();
        if self.peek() != Some(b':') {
            return Err(self.problem("malformed JSON: expected `:`".into()));
        }
        self.at += 1;
        Ok(())
    }

    /// A number or a literal (`true`, `false`, `null`), its grammar checked (RFC 8259
    /// sections 3 and 6); the byte after it is left to the enclosing container.
    fn scalar_strict(&mut self, first: u8) -> Result<(), Problem> {
        let t = self.text;
        let literal: Option<&[u8]> = match first {
            b't' => Some(b"true"),
            b'f' => Some(b"false"),
            b'n' => Some(b"null"),
            _ => None,
        };
        if let Some(word) = literal {
            if t.get(self.at..self.at + word.len()) != Some(word) {
                return Err(self.problem("malformed JSON: invalid literal".into()));
            }
            self.at += word.len();
            return Ok(());
        }
        let digits = |mut i: usize| {
            while t.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let bad = |s: &Self| Err(s.problem("malformed JSON: invalid number".into()));
        let mut i = self.at;
        if t.get(i) == Some(&b'-') {
            i += 1;
        }
        match t.get(i) {
            Some(b'0') => i += 1,
            Some(b'1'..=b'9') => i = digits(i + 1),
            _ => return bad(self),
        }
        if t.get(i) == Some(&b'.') {
            let after = digits(i + 1);
            if after == i + 1 {
                return bad(self);
            }
            i = after;
        }
        if matches!(t.get(i), Some(b'e' | b'E')) {
            i += 1;
            if matches!(t.get(i), Some(b'+' | b'-')) {
                i += 1;
            }
            let after = digits(i);
            if after == i {
                return bad(self);
            }
            i = after;
        }
        self.at = i;
        Ok(())
    }

    /// Skips a string token; returns the byte range of its contents (between quotes)
    /// and whether it holds an escape (so that only such strings are decoded).
    /// `memchr2` finds the next quote or backslash a word at a time: strings are most
    /// of a message's bytes.
    fn string(&mut self) -> Result<(usize, usize, bool), Problem> {
        if self.strict {
            return self.string_strict();
        }
        self.at += 1;
        let start = self.at;
        let mut escaped = false;
        loop {
            let Some(found) = memchr::memchr2(b'"', b'\\', &self.text[self.at..]) else {
                self.at = self.text.len();
                return Err(self.problem("unterminated string".into()));
            };
            self.at += found;
            if self.text[self.at] == b'"' {
                let end = self.at;
                self.at += 1;
                return Ok((start, end, escaped));
            }
            // A backslash: skip it and the character it escapes (a `\u` escape whole,
            // with the one after it when it starts a surrogate pair).
            escaped = true;
            if self.text.get(self.at + 1) == Some(&b'u') {
                self.at += self.unicode_escape()?;
                continue;
            }
            self.at += 2;
            if self.at > self.text.len() {
                self.at = self.text.len();
                return Err(self.problem("unterminated string".into()));
            }
        }
    }

    /// [`Scan::string`] with its grammar checked: every escape one of RFC 8259's (a
    /// `\u` escape four hex digits; a surrogate only as a pair, as in [`Scan::string`]),
    /// no control character (below U+0020).
    fn string_strict(&mut self) -> Result<(usize, usize, bool), Problem> {
        self.at += 1;
        let start = self.at;
        let mut escaped = false;
        loop {
            self.at += to_string_special(&self.text[self.at..]);
            match self.peek() {
                None => return Err(self.problem("unterminated string".into())),
                Some(b'"') => {
                    let end = self.at;
                    self.at += 1;
                    return Ok((start, end, escaped));
                }
                Some(b'\\') => {
                    escaped = true;
                    let len = match self.text.get(self.at + 1) {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => 2,
                        Some(b'u') => self.unicode_escape()?,
                        _ => return Err(self.problem("invalid escape in a string".into())),
                    };
                    self.at += len;
                }
                Some(_) => {
                    return Err(self.problem("control character in a string".into()));
                }
            }
        }
    }

    /// The length of the `\u` escape at `self.at` (its backslash): 6, or 12 for a
    /// surrogate pair written as two escapes. A surrogate escape that is not half of
    /// a pair is refused: RFC 8259 (section 8.2) leaves its meaning open, so readers
    /// differ (`serde_json` refuses to decode it, which hid such events from every
    /// query), and I-JSON (RFC 7493, section 2.1) forbids it.
    fn unicode_escape(&self) -> Result<usize, Problem> {
        let unit = |at: usize| -> Option<u16> {
            let escape = self.text.get(at..at + 6)?;
            if escape[0] != b'\\' || escape[1] != b'u' {
                return None;
            }
            // `from_str_radix` would take a sign too: the digits are checked first.
            let digits = &escape[2..];
            if !digits.iter().all(u8::is_ascii_hexdigit) {
                return None;
            }
            u16::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
        };
        let Some(first) = unit(self.at) else {
            return Err(self.problem("invalid escape in a string".into()));
        };
        let lone = || {
            self.problem(format!(
                "\\u{first:04x} is half of a UTF-16 surrogate pair, alone: a string may \
                 hold a surrogate escape only as a pair (RFC 7493 section 2.1)"
            ))
        };
        match first {
            0xD800..=0xDBFF => match unit(self.at + 6) {
                Some(0xDC00..=0xDFFF) => Ok(12),
                _ => Err(lone()),
            },
            0xDC00..=0xDFFF => Err(lone()),
            _ => Ok(6),
        }
    }

    fn current_key(&self) -> Option<&str> {
        match self.stack.last() {
            Some(Frame::Object { key, .. }) => key.as_ref().map(Key::as_str),
            _ => None,
        }
    }

    /// The problem at the current position, with its path (`message.a[2]["b c"]`).
    fn problem(&self, reason: String) -> Problem {
        let mut path = String::from(if self.document { "" } else { "message" });
        for frame in &self.stack {
            match frame {
                Frame::Object { key: Some(k), .. } => push_key(&mut path, k.as_str()),
                Frame::Object { key: None, .. } => {}
                Frame::Array { index } => {
                    let _ = write!(path, "[{index}]");
                }
            }
        }
        if let Some(from_root) = path.strip_prefix('.') {
            path = from_root.to_owned();
        }
        Problem { path, reason }
    }
}

/// The contents of a string token that holds an escape, unescaped.
fn decode(raw: &str) -> Result<String, String> {
    let quoted = format!("\"{raw}\"");
    serde_json::from_str::<String>(&quoted).map_err(|e| format!("invalid string: {e}"))
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

    /// Text near JSON: mostly valid, with invalid numbers, literals, escapes, control
    /// characters, missing colons and brackets, and trailing commas mixed in (each
    /// rarely, so that many texts are valid but for one of them).
    fn near_json() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        fn rarely(yes: &'static str, no: &'static str) -> impl Strategy<Value = &'static str> {
            prop_oneof![19 => Just(yes), 1 => Just(no)]
        }
        let unit = prop_oneof![
            8 => "[a-z é€😀]{1,6}",
            2 => "\\\\[\"\\\\/bfnrt]",
            2 => "\\\\u[0-9a-fA-F]{4}",
            1 => "\\\\[a-z0]",
            1 => "\\\\u[0-9a-gA-G]{0,4}",
            1 => Just("\u{1}".to_owned()),
            1 => Just("\u{1f}".to_owned()),
        ];
        let string = (proptest::collection::vec(unit, 0..12), rarely("\"", ""))
            .prop_map(|(units, close)| format!("\"{}{close}", units.concat()));
        let leaf = prop_oneof![
            4 => "-?(0|[1-9][0-9]{0,20})(\\.[0-9]{1,3})?([eE][+-]?[0-9]{1,3})?",
            1 => "-?[0-9]{0,3}(\\.[0-9]{0,2})?([eE][+-]?[0-9]{0,2})?",
            3 => "(true|false|null)",
            1 => "(tru|nul|fals|truee|nulll|True)",
            6 => string,
        ];
        let ws = prop_oneof![9 => Just(String::new()), 1 => "[ \t\r\n]{1,2}"];
        let key = prop_oneof![9 => "[ab]{1,2}", 1 => "[ab\\\\\"]{1,2}"];
        leaf.prop_recursive(3, 24, 4, move |inner| {
            prop_oneof![
                (
                    proptest::collection::vec((ws.clone(), inner.clone()), 0..4),
                    rarely("", ","),
                    rarely("]", ""),
                )
                    .prop_map(|(v, trailing, close)| {
                        let items: Vec<String> = v.into_iter().map(|(w, x)| w + &x).collect();
                        format!("[{}{trailing}{close}", items.join(","))
                    }),
                (
                    proptest::collection::vec((key.clone(), rarely(":", ""), inner), 0..4),
                    rarely("}", ""),
                )
                    .prop_map(|(m, close)| {
                        let members: Vec<String> = m
                            .into_iter()
                            .map(|(k, colon, v)| format!("\"{k}\"{colon}{v}"))
                            .collect();
                        format!("{{{}{close}", members.join(","))
                    }),
            ]
        })
    }

    /// Whether the strict mode and `serde_json` with the check agree on a message
    /// whose member `v` is `value` (with the same outcome when both accept it).
    fn strict_agrees(value: &str, pad: &str) -> Result<(), String> {
        let text = format!("{{\"msgType\":\"x\",\"v\":{value}}}");
        let general = serde_json::from_str::<&serde_json::value::RawValue>(&text)
            .map_err(|_| ())
            .and_then(|raw| check(raw.get()).map_err(|_| ()));
        let wrapped = format!("[{pad}{text}{pad}]");
        let start = 1 + pad.len();
        // A message that ends before the text does is a message followed by something
        // else: the caller's to refuse (`one_pass.rs` does).
        let strict = check_strict_at(&wrapped, start)
            .ok()
            .filter(|(_, end)| *end == start + text.len());
        match (&general, &strict) {
            (Ok(g), Some((s, _))) => {
                let kept = s.compact.as_deref().unwrap_or(&text);
                if g.compact != s.compact || g.msg_type.get(kept) != s.msg_type.get(kept) {
                    return Err(format!("{text:?}: both accept it, with different outcomes"));
                }
                Ok(())
            }
            (Err(()), None) => Ok(()),
            _ => Err(format!(
                "{text:?}: general accepts it: {:?}, strict: {:?}",
                general.is_ok(),
                strict.is_some()
            )),
        }
    }

    /// Every ASCII character where the grammar decides by one character: after a
    /// backslash, in a `\u` escape, in a string, and at each place of a number or a
    /// literal.
    #[test]
    fn strict_mode_agrees_on_every_ascii_character() {
        for c in (0u8..0x80).map(char::from) {
            for value in [
                format!("\"\\{c}\""),
                format!("\"\\u00{c}0\""),
                format!("\"a{c}b\""),
                format!("{c}"),
                format!("{c}1"),
                format!("1{c}"),
                format!("-{c}"),
                format!("0{c}"),
                format!("0{c}1"),
                format!("1.{c}"),
                format!("1.5{c}"),
                format!("1e{c}"),
                format!("1e{c}1"),
                format!("1E+{c}"),
                format!("t{c}ue"),
                format!("nul{c}"),
                format!("[1{c}2]"),
                format!("{{\"a\"{c}1}}"),
                format!("{{\"a\":1{c}\"b\":2}}"),
            ] {
                if let Err(e) = strict_agrees(&value, "") {
                    panic!("{e}");
                }
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(4000))]

        /// The strict mode accepts exactly what `serde_json` and the check together
        /// accept, with the same outcome; wherever the message sits in a text.
        #[test]
        fn strict_mode_accepts_what_serde_json_and_the_check_accept(
            body in near_json(),
            pad in "[ ]{0,2}",
        ) {
            if let Err(e) = strict_agrees(&body, &pad) {
                proptest::prop_assert!(false, "{}", e);
            }
        }
    }

    #[test]
    fn whitespace_between_tokens_goes_and_nothing_else_changes() {
        let c = check(
            "{ \"msgType\" : \"a b\" ,\n\t\"n\": [ 1E2 , -0, 123456789012345678901234567890 ] }",
        )
        .unwrap();
        assert_eq!(c.msg_type.get(c.compact.as_deref().unwrap()), "a b");
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
        // An escaped spelling of a key is the same key, among few keys or many.
        for keys in ["", many.as_str()] {
            for pair in [r#""k\u0039":0,"k9":1"#, r#""k9":1,"\u006b9":0"#] {
                let p = check(&format!(r#"{{"msgType":"x"{keys},{pair}}}"#)).unwrap_err();
                assert_eq!(p.path, "message.k9", "{pair}: {p:?}");
                assert!(p.reason.contains("duplicate key"), "{p:?}");
            }
        }
    }

    /// A config document: the same duplicate check, paths from the root, none of the
    /// message rules.
    #[test]
    fn a_document_refuses_a_key_twice_at_any_depth_and_nothing_else() {
        for (text, path, line) in [
            ("{\"a\": 1,\n \"a\": 2}", "a", 2),
            (
                "{\"d\": [{\"name\": \"x\"},\n {\"name\": \"y\", \"name\": \"z\"}]}",
                "d[1].name",
                2,
            ),
            (r#"{"a b": {"k": {}, "\u006b": 2}}"#, r#"["a b"].k"#, 1),
            (r#"[1, {"k": 1, "k": 1}]"#, "[1].k", 1),
        ] {
            let p = check_document(text).unwrap_err();
            assert_eq!((p.path.as_str(), p.line), (path, line), "{text}");
            assert!(p.reason.contains("duplicate key"), "{p:?}");
        }
        let deep = format!("{}{}", "[".repeat(100), "]".repeat(100));
        for ok in [
            r#"{"node": "n", "targets": [{"type": "file"}, {"type": "file"}]}"#,
            r#"{"msgType": 1}"#,
            "{}",
            "[]",
            "3",
            deep.as_str(),
        ] {
            assert_eq!(check_document(ok), Ok(()), "{ok}");
        }
    }

    /// Each object has its own keys, whether it and its neighbours have few or many.
    #[test]
    fn keys_belong_to_their_own_object() {
        let keys = |n: usize| -> String { (0..n).map(|i| format!(",\"k{i}\":{i}")).collect() };
        for (few_or_many, n) in [("few", 3), ("many", 40)] {
            let ok = [
                format!(
                    r#"{{"msgType":"x"{k},"a":{{"x":1{k}}},"b":{{"k1":[{{"k0":{{}}}}]}}}}"#,
                    k = keys(n)
                ),
                format!(
                    r#"{{"a":{{"msgType":1}},"msgType":"x"{k},"z":{{}}}}"#,
                    k = keys(n)
                ),
            ];
            for text in &ok {
                assert!(
                    check(text).is_ok(),
                    "{few_or_many}: {text}: {:?}",
                    check(text)
                );
            }
            for (text, path) in [
                (
                    format!(r#"{{"msgType":"x"{k},"a":{{"b":1}},"k0":2}}"#, k = keys(n)),
                    "message.k0".to_owned(),
                ),
                (
                    format!(
                        r#"{{"msgType":"x","a":{{"q":{{}}{k},"k1":0}}}}"#,
                        k = keys(n)
                    ),
                    "message.a.k1".to_owned(),
                ),
                (
                    format!(
                        r#"{{"msgType":"x","a":[{{"j":1}},{{"j":1{k},"j":2}}]}}"#,
                        k = keys(n)
                    ),
                    "message.a[1].j".to_owned(),
                ),
            ] {
                let p = check(&text).unwrap_err();
                assert_eq!(p.path, path, "{few_or_many}: {text}");
                assert!(p.reason.contains("duplicate key"), "{p:?}");
            }
        }
    }

    /// A surrogate escape is kept only as a pair, in either mode, in a value or a key,
    /// and the refusal names where it is.
    #[test]
    fn surrogate_escapes_only_in_pairs() {
        let both = |text: &str| {
            let lax = check(text).map(|_| ()).map_err(|p| (p.path, p.reason));
            let strict = check_strict_at(text, 0)
                .map(|_| ())
                .map_err(|p| (p.path, p.reason));
            assert_eq!(lax, strict, "{text}");
            lax
        };
        for ok in [
            r#"{"msgType":"x","u":"\ud83d\ude00"}"#,
            r#"{"msgType":"x","u":"a\uD83D\uDE00b\u00e9\uffff"}"#,
            r#"{"msgType":"x","\ud83d\ude00":1}"#,
        ] {
            assert_eq!(both(ok), Ok(()), "{ok}");
        }
        for (bad, path) in [
            (
                r#"{"msgType":"x","authUser":"bob\ud800"}"#,
                "message.authUser",
            ),
            (r#"{"msgType":"x","u":"\udc00"}"#, "message.u"),
            (r#"{"msgType":"x","u":"\ud800\u0041"}"#, "message.u"),
            (r#"{"msgType":"x","u":"\ud800\ud800"}"#, "message.u"),
            (r#"{"msgType":"x","u":"\ude00\ud83d"}"#, "message.u"),
            (r#"{"msgType":"x","u":["\ud800x"]}"#, "message.u[0]"),
            (r#"{"msgType":"x","k\udbff":1}"#, "message"),
        ] {
            let (at, reason) = both(bad).unwrap_err();
            assert_eq!(at, path, "{bad}");
            assert!(reason.contains("surrogate"), "{reason}");
        }
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
        let escaped = r#"{"msgType":"l\u00e9"}"#;
        assert_eq!(check(escaped).unwrap().msg_type.get(escaped), "lé");
        let plain = r#"{"a":{"msgType":"y"},"msgType":"x y"}"#;
        let c = check(plain).unwrap();
        assert!(matches!(c.msg_type, MsgType::InText(_)), "{c:?}");
        assert_eq!(c.msg_type.get(plain), "x y");
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
