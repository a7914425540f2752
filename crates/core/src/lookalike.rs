//! Texts that read alike to a person but are other code points: a routing key or topic
//! sent in another Unicode normalization form or case than the one a list names.
//!
//! Routing keys and topics are compared code point for code point, as sent, never
//! normalized or case-folded (an audit record keeps what was sent, and the store, the
//! reports and every filter must agree on one key). So a refusal that names the listed
//! text the sent one reads like (`422 unrouted`, `403 forbidden`, `send`) says how the
//! two differ, code points included: `{:?}` escapes neither U+212B (ANGSTROM SIGN) nor
//! U+00C5, which look exactly alike.

use std::fmt;

/// How a listed text differs from a sent one that reads the same to a person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookalike {
    /// The same text in another Unicode normalization form: canonically equivalent
    /// (UAX #15), other code points (`é` as U+00E9, or `e` + U+0301).
    Normalization,
    /// The same letters in another case.
    Case,
}

impl fmt::Display for Lookalike {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Lookalike::Normalization => {
                "the same text in another Unicode normalization form (NFC/NFD, UAX #15)"
            }
            Lookalike::Case => "the same letters in another case",
        })
    }
}

/// The first of `listed` that `sent` is not but reads like: canonically equivalent to
/// it (UAX #15) first, else equal to it but for case.
pub fn find<'a, I>(sent: &str, listed: I) -> Option<(&'a str, Lookalike)>
where
    I: IntoIterator<Item = &'a str>,
    I::IntoIter: Clone,
{
    use unicode_normalization::UnicodeNormalization;
    let listed = listed.into_iter().filter(|k| *k != sent);
    let nfc = |s: &str| s.nfc().collect::<String>();
    let sent_nfc = nfc(sent);
    if let Some(k) = listed.clone().find(|k| nfc(k) == sent_nfc) {
        return Some((k, Lookalike::Normalization));
    }
    let sent_folded = sent_nfc.to_lowercase();
    listed
        .into_iter()
        .find(|k| nfc(k).to_lowercase() == sent_folded)
        .map(|k| (k, Lookalike::Case))
}

/// Code points shown of each side's differing part; the rest is counted.
const SHOWN_CODE_POINTS: usize = 12;

/// A listed text and how a sent one differs from it, for a refusal: `"Å", the same
/// text in another Unicode normalization form (NFC/NFD, UAX #15): U+00C5 listed where
/// U+212B was sent`. Only the part between the longest common start and end is spelled
/// out in code points.
#[derive(Debug, Clone, Copy)]
pub struct Hint<'a> {
    /// What was sent.
    pub sent: &'a str,
    /// What the list names.
    pub listed: &'a str,
    /// How they differ.
    pub how: Lookalike,
}

impl fmt::Display for Hint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sent: Vec<char> = self.sent.chars().collect();
        let listed: Vec<char> = self.listed.chars().collect();
        let start = sent.iter().zip(&listed).take_while(|(a, b)| a == b).count();
        let end = sent[start..]
            .iter()
            .rev()
            .zip(listed[start..].iter().rev())
            .take_while(|(a, b)| a == b)
            .count();
        write!(
            f,
            "{:?}, {}: {} listed where {} was sent",
            self.listed,
            self.how,
            CodePoints(&listed[start..listed.len() - end]),
            CodePoints(&sent[start..sent.len() - end]),
        )
    }
}

/// `U+0065 U+0301`; `nothing` when empty.
struct CodePoints<'a>(&'a [char]);

impl fmt::Display for CodePoints<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("nothing");
        }
        for (i, c) in self.0.iter().take(SHOWN_CODE_POINTS).enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "U+{:04X}", u32::from(*c))?;
        }
        if self.0.len() > SHOWN_CODE_POINTS {
            write!(f, " and {} more", self.0.len() - SHOWN_CODE_POINTS)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hint_spells_the_differing_code_points() {
        let (listed, how) = find("\u{212b}x", ["\u{c5}x"]).unwrap();
        let hint = Hint {
            sent: "\u{212b}x",
            listed,
            how,
        };
        assert_eq!(
            hint.to_string(),
            "\"\u{c5}x\", the same text in another Unicode normalization form (NFC/NFD, \
             UAX #15): U+00C5 listed where U+212B was sent"
        );
        let hint = Hint {
            sent: "cafe\u{301}",
            listed: "caf\u{e9}",
            how: Lookalike::Normalization,
        };
        assert!(hint
            .to_string()
            .ends_with("U+00E9 listed where U+0065 U+0301 was sent"));
        let hint = Hint {
            sent: "svc-a",
            listed: "Svc-A",
            how: Lookalike::Case,
        };
        assert!(hint
            .to_string()
            .ends_with("U+0053 U+0076 U+0063 U+002D U+0041 listed where U+0073 U+0076 U+0063 U+002D U+0061 was sent"));
    }

    #[test]
    fn the_same_text_and_other_texts_are_no_lookalikes() {
        assert_eq!(find("a", ["a"]), None);
        assert_eq!(find("a", ["b"]), None);
        assert_eq!(find("A", ["b", "a"]), Some(("a", Lookalike::Case)));
    }
}
