//! Completing serde's "unknown field `x`, expected one of ..." for a target entry.
//!
//! A target type's own parser only knows its own fields: the entry's `type`, `name` and
//! dispatch keys were taken out before it ran. Its list of expected keys would leave
//! out `topics`, `routing_keys`..., which are just as valid in that table; so the list
//! is completed here with the keys the entry itself takes.

use std::fmt;

/// serde's unknown-field message, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnknownField {
    key: String,
    expected: Vec<String>,
}

impl UnknownField {
    /// Reads the message of `serde::de::Error::unknown_field` ("unknown field `x`,
    /// expected one of `a`, `b`", "... expected `a` or `b`", "... there are no
    /// fields"); `None` for any other message.
    pub(crate) fn parse(message: &str) -> Option<UnknownField> {
        let rest = message.strip_prefix("unknown field `")?;
        let (key, rest) = rest.split_once("`, ")?;
        let expected = if rest == "there are no fields" {
            Vec::new()
        } else {
            let list = rest.strip_prefix("expected ")?;
            list.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect()
        };
        Some(UnknownField {
            key: key.to_owned(),
            expected,
        })
    }

    /// The unknown key.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// Puts `keys` first in the list (those not there yet).
    pub(crate) fn expecting_also(mut self, keys: &[&str]) -> UnknownField {
        let mut all: Vec<String> = keys
            .iter()
            .filter(|k| !self.expected.iter().any(|e| e == *k))
            .map(|k| (*k).to_owned())
            .collect();
        all.append(&mut self.expected);
        self.expected = all;
        self
    }

    /// Our spelling of a camelCase key when it is in the list (`maxInFlight` for
    /// `max_in_flight`).
    fn snake_case_of_key(&self) -> Option<&str> {
        let mut snake = String::with_capacity(self.key.len() + 4);
        for c in self.key.chars() {
            if c.is_ascii_uppercase() {
                snake.push('_');
                snake.push(c.to_ascii_lowercase());
            } else {
                snake.push(c);
            }
        }
        if snake == self.key {
            return None;
        }
        self.expected
            .iter()
            .find(|e| **e == snake)
            .map(String::as_str)
    }
}

/// The same wording as serde's, so that messages read alike wherever they come from.
impl fmt::Display for UnknownField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown field `{}`", self.key)?;
        if let Some(ours) = self.snake_case_of_key() {
            write!(f, " (auditrail spells it `{ours}`)")?;
        }
        match self.expected.as_slice() {
            [] => f.write_str(", there are no fields"),
            [one] => write!(f, ", expected `{one}`"),
            [a, b] => write!(f, ", expected `{a}` or `{b}`"),
            list => {
                f.write_str(", expected one of ")?;
                for (i, k) in list.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "`{k}`")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_messages_are_read_back_and_completed() {
        let u = UnknownField::parse("unknown field `topcs`, expected one of `url`, `spool`")
            .unwrap()
            .expecting_also(&["type", "topics", "spool"]);
        assert_eq!(
            u.to_string(),
            "unknown field `topcs`, expected one of `type`, `topics`, `url`, `spool`"
        );
        let u = UnknownField::parse("unknown field `x`, expected `a` or `b`").unwrap();
        assert_eq!(u.expected, ["a", "b"]);
        let u = UnknownField::parse("unknown field `x`, there are no fields").unwrap();
        assert!(u.expected.is_empty());
        assert!(UnknownField::parse("invalid type: string, expected u64").is_none());
    }

    #[test]
    fn a_camel_case_spelling_of_a_listed_key_is_named() {
        let u =
            UnknownField::parse("unknown field `maxInFlight`, expected `max_in_flight`").unwrap();
        assert_eq!(
            u.to_string(),
            "unknown field `maxInFlight` (auditrail spells it `max_in_flight`), expected \
             `max_in_flight`"
        );
    }
}
