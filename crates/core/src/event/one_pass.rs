//! Reading an event's JSON text in one pass, for the texts nodes send.
//!
//! [`Event::from_json_slice`] tries this first. It reads the envelope itself and hands
//! the message to the strict message check ([`check_strict_at`]), so each byte of the
//! message is scanned once. The general path scans it twice: `serde_json` skips over it
//! to keep it raw (a third of `serde_json`'s time in the server's profile is that
//! skipping over strings), then the message check reads it again (docs/benchmarks.md,
//! "where the server's CPU goes").
//!
//! It never refuses an event. Text it does not read itself returns `None`, and the
//! general path reads it, with that path's errors: an escape in a key or an envelope
//! string, `abandonedSeqs`, a `null` routing key, an unknown or repeated key, and
//! anything malformed or invalid. The property that makes it safe, held by the tests
//! below over generated and mutated events: whenever this returns an event, the general
//! path returns the same event.

use super::message_text::check_strict_at;
use super::string_end::to_string_special;
use super::{Event, EventId, Message, NodeId, RoutingKey, Timestamp, Topic};

/// The event `text` holds, when it is one this reads (see the module docs).
pub(super) fn parse(text: &str) -> Option<Event> {
    let mut r = Reader {
        t: text.as_bytes(),
        src: text,
        at: 0,
    };
    let mut id = None;
    let mut timestamp = None;
    let mut topic = None;
    let mut routing_key = None;
    let mut node = None;
    let mut seq = None;
    let mut message = None;
    r.ws();
    r.eat(b'{')?;
    loop {
        r.ws();
        let key = r.key()?;
        r.ws();
        r.eat(b':')?;
        r.ws();
        match key {
            "id" => {
                let read = |s: &str| s.parse::<EventId>().ok();
                set(&mut id, r.fixed_string(ID_LEN, read, read)?)?;
            }
            "timestamp" => set(
                &mut timestamp,
                r.fixed_string(TIMESTAMP_LEN, Timestamp::parse_fixed_width, |s| {
                    s.parse::<Timestamp>().ok()
                })?,
            )?,
            "topic" => set(&mut topic, Topic::read(r.plain_string()?).ok()?)?,
            "routingKey" => set(&mut routing_key, RoutingKey::read(r.plain_string()?).ok()?)?,
            "node" => set(&mut node, NodeId::read(r.plain_string()?).ok()?)?,
            "seq" => set(&mut seq, r.seq()?)?,
            "message" => {
                let start = r.at;
                let (checked, end) = check_strict_at(text, start).ok()?;
                r.at = end;
                set(
                    &mut message,
                    Message::from_checked(&text[start..end], checked),
                )?;
            }
            _ => return None,
        }
        r.ws();
        match r.next()? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    r.ws();
    if r.at != r.t.len() {
        return None;
    }
    Some(Event {
        id: id?,
        timestamp: timestamp?,
        topic: topic?,
        routing_key,
        node: node?,
        seq: seq?,
        abandoned_seqs: None,
        message: message?,
        received: None,
    })
}

/// Fills an empty slot; `None` when a key comes twice.
fn set<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// The longest envelope key (`routingKey`).
const KEY_MAX_LEN: usize = 10;

/// An id's length: its 36-character hyphenated form is the only one read.
const ID_LEN: usize = 36;

/// A timestamp's length as nodes write it (`2026-11-25T16:55:49.123Z`).
const TIMESTAMP_LEN: usize = 24;

struct Reader<'a> {
    t: &'a [u8],
    src: &'a str,
    at: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<u8> {
        self.t.get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.at += 1;
        Some(b)
    }

    fn eat(&mut self, byte: u8) -> Option<()> {
        (self.next()? == byte).then_some(())
    }

    /// JSON's whitespace between tokens (RFC 8259 section 2).
    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    /// A string with no escape and no control character: its contents, found by
    /// [`to_string_special`] (eight bytes at a time: cheaper than one at a time from a
    /// few bytes on).
    fn plain_string(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        let end = start + to_string_special(&self.t[start..]);
        if self.t.get(end) != Some(&b'"') {
            return None;
        }
        self.at = end + 1;
        // `start` and `end` are next to ASCII quotes: character boundaries.
        self.src.get(start..end)
    }

    /// An envelope key: one of seven short plain names, read byte by byte (for a few
    /// bytes, cheaper than [`Reader::plain_string`]'s search). A longer key, or one with
    /// an escape or a control character, is none of them: `None`, as `plain_string`
    /// and the match on its answer give it.
    fn key(&mut self) -> Option<&'a str> {
        self.eat(b'"')?;
        let start = self.at;
        for (len, &b) in self
            .t
            .get(start..)?
            .iter()
            .take(KEY_MAX_LEN + 1)
            .enumerate()
        {
            match b {
                b'"' => {
                    self.at = start + len + 1;
                    // `start` and the quote are next to ASCII quotes: character
                    // boundaries.
                    return self.src.get(start..start + len);
                }
                b'\\' | 0..=0x1f => return None,
                _ => {}
            }
        }
        None
    }

    /// A string whose value `read` reads, looked for first as `len` bytes and its
    /// closing quote there, read by `fixed` (an id is always 36 bytes, a timestamp as
    /// nodes write it 24): no search for the string's end. Else as
    /// [`Reader::plain_string`] and `read`. `fixed` accepts none of the bytes that end
    /// a plain string (a quote, a backslash, a control character) and only what `read`
    /// reads the same, so the answer is `read(plain_string())`'s either way.
    fn fixed_string<T>(
        &mut self,
        len: usize,
        fixed: impl FnOnce(&str) -> Option<T>,
        read: impl FnOnce(&str) -> Option<T>,
    ) -> Option<T> {
        let start = self.at + 1;
        if self.peek() == Some(b'"') && self.t.get(start + len) == Some(&b'"') {
            if let Some(value) = self.src.get(start..start + len).and_then(fixed) {
                self.at = start + len + 1;
                return Some(value);
            }
        }
        read(self.plain_string()?)
    }

    /// A non-negative integer as `serde_json` reads one into a `u64`: no sign, no
    /// leading zero, no fraction or exponent, at most `u64::MAX`.
    fn seq(&mut self) -> Option<u64> {
        let start = self.at;
        let mut value: u64 = 0;
        while let Some(d) = self.peek().filter(u8::is_ascii_digit) {
            value = value.checked_mul(10)?.checked_add(u64::from(d - b'0'))?;
            self.at += 1;
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.t[start] == b'0';
        let continues = matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        (digits > 0 && !leading_zero && !continues).then_some(value)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ID: &str = "01936f6e-1b2c-7d3e-8f40-123456789abc";

    /// The property: the one-pass reader returns nothing, or what the general path
    /// returns (the event, and the message's `msgType`).
    fn agrees(text: &str) -> Result<(), TestCaseError> {
        if let Some(fast) = parse(text) {
            let general = Event::from_json_general(text.as_bytes());
            prop_assert_eq!(
                general.as_ref().map(Event::msg_type),
                Ok(fast.msg_type()),
                "{}",
                text
            );
            prop_assert_eq!(general, Ok(fast), "{}", text);
        }
        Ok(())
    }

    fn event_text(message: &str) -> String {
        format!(
            r#"{{"id":"{ID}","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","routingKey":"svc-a","node":"n1","seq":7,"message":{message}}}"#
        )
    }

    /// What nodes send takes the one pass: an event as `write_json` writes it, with
    /// and without a routing key, with its keys in any order and whitespace between
    /// tokens.
    #[test]
    fn events_as_written_are_read_in_one_pass() {
        let text = event_text(r#"{"msgType":"login","user":"alice","n":[1,-0.5e3,null,true]}"#);
        let event = parse(&text).expect("read in one pass");
        assert_eq!(event.msg_type(), "login");
        assert_eq!(event.seq, 7);
        let mut written = Vec::new();
        event.write_json(&mut written);
        assert_eq!(String::from_utf8(written).unwrap(), text);

        let spaced = " {\n\t\"message\" : { \"msgType\" : \"x\" , \"a\" : [ 1 , 2 ] } , \"seq\" : 0 ,\
                      \"node\":\"n1\", \"topic\":\"authfail\",\"timestamp\":\"2026-11-25T16:55:49Z\", \
                      \"id\":\"01936f6e-1b2c-7d3e-8f40-123456789abc\" }\r\n";
        let event = parse(spaced).expect("read in one pass");
        assert_eq!(event.routing_key, None);
        assert_eq!(event.message.json(), r#"{"msgType":"x","a":[1,2]}"#);
        agrees(spaced).unwrap();

        // Timestamps in other RFC 3339 forms than the 24 bytes nodes write, one of them
        // 24 bytes long too.
        for other in [
            "2026-11-25T17:55:49.123+01:00",
            "2026-11-25T16:55:49.1Z",
            "2026-11-25t16:55:49.123z",
            "2026-11-25T16:55:49+00:00",
        ] {
            let text =
                event_text(r#"{"msgType":"x"}"#).replacen("2026-11-25T16:55:49.123Z", other, 1);
            assert!(parse(&text).is_some(), "{text}");
            agrees(&text).unwrap();
        }
    }

    /// Texts the one pass leaves to the general path, valid or not.
    #[test]
    fn unusual_or_invalid_texts_go_to_the_general_path() {
        for (from, to) in [
            // Valid, read by the general path only.
            ("\"topic\"", "\"t\\u006fpic\""),
            ("\"generic\"", "\"gen\\u0065ric\""),
            ("\"svc-a\"", "null"),
            (
                "\"seq\":7",
                "\"seq\":7,\"abandonedSeqs\":{\"first\":1,\"last\":2}",
            ),
            // Invalid.
            ("\"seq\":7", "\"seq\":07"),
            ("\"seq\":7", "\"seq\":7.0"),
            ("\"seq\":7", "\"seq\":7e0"),
            ("\"seq\":7", "\"seq\":-7"),
            ("\"seq\":7", "\"seq\":18446744073709551616"),
            ("\"seq\":7", "\"seq\":7,\"seq\":8"),
            ("\"seq\":7", "\"seq\":7,\"extra\":1"),
            ("\"routingKey\"", "\"routingKeys\""),
            ("\"node\"", "\"no\u{1}de\""),
            ("\"node\"", "\"n\\\"ode\""),
            (
                "01936f6e-1b2c-7d3e-8f40-123456789abc",
                "01936f6e-1b2c-7d3e-8f40-123456789abcd",
            ),
            (
                "01936f6e-1b2c-7d3e-8f40-123456789abc",
                "01936f6e-1b2c-7d3e-8f40-12345678\\\"bc",
            ),
            ("2026-11-25T16:55:49.123Z", "2026-11-25T16:55:49.123Z\\\""),
            ("2026-11-25T16:55:49.123Z", "2026-11-25T16:55:49.123ZZ"),
            ("\"seq\":7", "\"seq\":7,"),
            ("\"generic\"", "\"Generic\""),
            ("\"n1\"", "\"n\t1\""),
            ("\"msgType\":\"x\"", "\"msgType\":\"x\",\"msgType\":\"y\""),
            ("\"msgType\":\"x\"", "\"msgType\":\"\\x\""),
            ("\"msgType\":\"x\"", "\"msgType\":\"x\",\"a\":[1,]"),
            ("\"msgType\":\"x\"", "\"msgType\":\"x\",\"a\":tru"),
            ("\"msgType\":\"x\"", "\"msgType\":\"x\",\"a\":01"),
            ("\"msgType\":\"x\"", "\"msgType\":\"x\",\"a\":1."),
            ("\"msgType\":\"x\"", "\"msgType\":\"x\",\"a\":\"\u{1}\""),
            ("\"msgType\":\"x\"", "\"msgType\":\"x\",\"a\":\"\\u12\""),
        ] {
            let text = event_text(r#"{"msgType":"x"}"#).replacen(from, to, 1);
            assert!(text.contains(to), "{to}");
            assert!(parse(&text).is_none(), "{text}");
            assert!(parse(&format!("{text} x")).is_none(), "{text}");
        }
        let valid = event_text(r#"{"msgType":"x"}"#);
        assert!(parse(&format!("{valid}x")).is_none());
        assert!(parse(&valid[..valid.len() - 1]).is_none());
    }

    /// Names shorter and longer than the words and pairs of words `plain_string`'s
    /// search reads (8 and 16 bytes; 16 was also the bytes it read one by one before),
    /// and an escape or a control character on either side of those lengths: read in
    /// one pass when plain, and always as the general path reads them.
    #[test]
    fn names_around_the_short_string_length() {
        for len in [1, 7, 8, 9, 15, 16, 17, 48] {
            let name = "n".repeat(len);
            let text =
                event_text(r#"{"msgType":"x"}"#).replacen("\"n1\"", &format!("\"{name}\""), 1);
            let event = parse(&text).expect("read in one pass");
            assert_eq!(event.node.as_str(), name);
            agrees(&text).unwrap();
            for at in [0, len.saturating_sub(1), len] {
                for odd in ["\\u006e", "\u{1}", "\\\""] {
                    let mut odd_name = name.clone();
                    odd_name.insert_str(at.min(len), odd);
                    let text = event_text(r#"{"msgType":"x"}"#).replacen(
                        "\"n1\"",
                        &format!("\"{odd_name}\""),
                        1,
                    );
                    assert!(parse(&text).is_none(), "{text}");
                    agrees(&text).unwrap();
                }
            }
        }
    }

    /// A JSON value as a message member could hold it, spelled as clients may.
    fn value() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            Just("null".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
            "-?(0|[1-9][0-9]{0,30})(\\.[0-9]{1,20})?([eE][+-]?[0-9]{1,4})?",
            // Strings: plain, multi-byte, every escape, lone and paired surrogates.
            "\"([a-zA-Zé€😀 ,:{}\\[\\]]|\\\\[\"\\\\/bfnrt]|\\\\u[0-9a-fA-F]{4}|\\\\ud83d\\\\ude00){0,12}\"",
        ];
        leaf.prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5)
                    .prop_map(|v| format!("[{}]", v.join(","))),
                proptest::collection::vec(("[a-c]{1,2}", inner), 0..5).prop_map(|m| {
                    let members: Vec<String> =
                        m.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                    format!("{{{}}}", members.join(","))
                }),
            ]
        })
    }

    fn event() -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(("[a-z]{1,3}", value()), 0..6),
            any::<bool>(),
            any::<u64>(),
            "[a-z0-9.-]{1,8}",
        )
            .prop_map(|(members, routed, seq, topic)| {
                let mut msg = String::from("{\"msgType\":\"t\"");
                for (k, v) in members {
                    msg.push_str(&format!(",\"{k}\":{v}"));
                }
                msg.push('}');
                let routing = if routed { r#""routingKey":"r k","# } else { "" };
                format!(
                    r#"{{"id":"{ID}","timestamp":"2026-11-25T16:55:49.123Z","topic":"{topic}",{routing}"node":"n1","seq":{seq},"message":{msg}}}"#
                )
            })
    }

    /// Bytes that change what a text means to a JSON reader.
    fn mutation() -> impl Strategy<Value = (usize, usize, String)> {
        (
            any::<usize>(),
            0usize..3,
            prop_oneof![
                Just(String::new()),
                "[ \\t\\n\"\\\\{}\\[\\],:0-9eE.+\\-tfnu]{1,3}",
                Just("\u{1}".to_owned()),
                Just("\\u00".to_owned()),
            ],
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Generated events: the one pass reads the valid ones, and agrees.
        #[test]
        fn generated_events_agree(text in event()) {
            agrees(&text)?;
            // Whatever the message holds, a valid event is read by one of the two paths
            // alike; the one pass reads every one whose message has no duplicate key.
            let general = Event::from_json_general(text.as_bytes());
            if general.is_ok() {
                prop_assert!(parse(&text).is_some(), "{}", text);
            }
        }

        /// Generated events with bytes deleted, inserted or replaced anywhere: whatever
        /// the one pass reads, the general path reads the same.
        #[test]
        fn mutated_events_agree(
            text in event(),
            mutations in proptest::collection::vec(mutation(), 1..4),
        ) {
            let mut text = text.into_bytes();
            for (at, cut, insert) in mutations {
                let at = at % (text.len() + 1);
                let cut = cut.min(text.len() - at);
                text.splice(at..at + cut, insert.into_bytes());
            }
            if let Ok(text) = String::from_utf8(text) {
                agrees(&text)?;
            }
        }
    }
}
