//! Deserializing a validated value from a JSON string without copying the string.
//!
//! `Cow<'de, str>` would seem to borrow, but serde deserializes a `Cow` as its owned
//! form, so each id, timestamp, topic, node id and routing key of every received event cost an
//! allocation only to be parsed and dropped. A visitor sees the text, borrowed from
//! the input or from `serde_json`'s scratch buffer for an escaped string, and parses
//! it in place.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, Error, Visitor};

/// Deserializes a string and converts it with `parse`; its error becomes the
/// deserializer's, so the failing field is still named by the caller's error.
pub(super) fn parse_str<'de, D, T, E>(
    d: D,
    parse: impl FnOnce(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
{
    d.deserialize_str(ParseStr {
        parse,
        out: PhantomData,
    })
}

struct ParseStr<F, T> {
    parse: F,
    out: PhantomData<fn() -> T>,
}

impl<'de, F, T, E> Visitor<'de> for ParseStr<F, T>
where
    F: FnOnce(&str) -> Result<T, E>,
    E: fmt::Display,
{
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<X: Error>(self, v: &str) -> Result<T, X> {
        (self.parse)(v).map_err(X::custom)
    }
}

/// Deserializes a sequence number (`seq`, `abandonedSeqs.first`/`last`): a JSON integer
/// from 0 to `u64::MAX`. `serde_json` hands any other number over as an `f64`, which
/// its own error then quotes (`18446744073709551616` was refused as "floating point
/// `1.8446744073709552e+19`", a number the sender never wrote); this error says what a
/// sequence number is instead, without quoting a rounded value.
pub(super) fn seq<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    d.deserialize_u64(Seq)
}

/// [`seq`] for an optional one (`null` or absent: `None`), as a draft's `seq`.
pub(super) fn optional_seq<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct Number(u64);
    impl<'de> serde::Deserialize<'de> for Number {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            seq(d).map(Number)
        }
    }
    let n: Option<Number> = serde::Deserialize::deserialize(d)?;
    Ok(n.map(|n| n.0))
}

struct Seq;

const SEQ_RANGE: &str = "a sequence number is an integer from 0 to 18446744073709551615";

impl Visitor<'_> for Seq {
    type Value = u64;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(SEQ_RANGE)
    }

    fn visit_u64<X: Error>(self, v: u64) -> Result<u64, X> {
        Ok(v)
    }

    fn visit_i64<X: Error>(self, v: i64) -> Result<u64, X> {
        u64::try_from(v).map_err(|_| X::custom(format!("{v} is negative: {SEQ_RANGE}")))
    }

    fn visit_f64<X: Error>(self, _: f64) -> Result<u64, X> {
        Err(X::custom(format!(
            "not a sequence number: {SEQ_RANGE}, written without a fraction or an exponent \
             (a number such as `1.0`, `1e3` or one beyond that range is refused)"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::super::Event;

    const PLAIN: &str = r#"{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","routingKey":"svc-a","node":"n1","seq":1,"message":{"msgType":"x"}}"#;

    /// A string with escapes reaches the visitor through serde_json's scratch buffer,
    /// not borrowed from the input: it parses to the same values.
    #[test]
    fn escaped_strings_parse_like_plain_ones() {
        let escaped = PLAIN
            .replace("01936f6e-", "\\u0030\\u0031936f6e-")
            .replace("16:55:49", "16\\u003a55:49")
            .replace("\"generic\"", "\"gen\\u0065ric\"")
            .replace("svc-a", "svc\\u002da")
            .replace("\"n1\"", "\"n\\u0031\"");
        assert_ne!(escaped, PLAIN);
        assert_eq!(
            Event::from_json(&escaped).unwrap(),
            Event::from_json(PLAIN).unwrap()
        );
    }

    /// Each field's own error, and a non-string value, are still named by field.
    #[test]
    fn errors_name_the_field() {
        for (from, to, field, needle) in [
            ("\"id\":\"01936f6e", "\"id\":\"x1936f6e", "id", "UUID"),
            (
                "\"id\":\"01936f6e-1b2c-7d3e-8f40-123456789abc\"",
                "\"id\":5",
                "id",
                "string",
            ),
            ("\"2026-11-25T", "\"2026-13-25T", "timestamp", "RFC 3339"),
            ("\"generic\"", "\"Generic\"", "topic", "[a-z0-9._-]"),
            ("\"n1\"", "\"n/1\"", "node", "[A-Za-z0-9._-]"),
            ("\"svc-a\"", "[1]", "routingKey", "string"),
        ] {
            let text = PLAIN.replacen(from, to, 1);
            assert_ne!(text, PLAIN, "{from}");
            let e = Event::from_json(&text).unwrap_err().to_string();
            assert!(e.contains(field) && e.contains(needle), "{text}: {e}");
        }
    }
}
