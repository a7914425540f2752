//! `Content-Type` split into its essence and parameters (RFC 9110 section 8.3.1).
//!
//! Written here rather than taken from the `mime` crate (already in the tree through
//! axum): `mime` refuses whitespace before a `;` (`application/json ; charset=utf-8`),
//! which the RFC's grammar allows and which this server has always accepted, so using
//! it would start refusing headers that clients send today. What this needs is small:
//! split at the `;`s that are not inside a quoted string, and unquote values.

/// A `Content-Type` value: its essence (`type/subtype`, lower case) and its parameters
/// (names lower case, values unquoted, in the order sent).
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct MediaType {
    pub(crate) essence: String,
    pub(crate) params: Vec<(String, String)>,
}

impl MediaType {
    /// Splits `value`. Parameters without `=` are skipped (as before: clients send
    /// `application/json;`); a quoted string runs to its closing quote, `\` escaping the
    /// next character (`quoted-pair`), so a `;` inside one does not end the parameter.
    /// A quoted string without its closing quote is an error: read to the end, it would
    /// hide every parameter after it (`a="x; charset=latin1`).
    pub(crate) fn parse(value: &str) -> Result<MediaType, UnterminatedQuote> {
        let mut pieces = Vec::new();
        let mut piece = String::new();
        let mut chars = value.chars();
        let mut quoted = false;
        while let Some(c) = chars.next() {
            match c {
                '"' => {
                    quoted = !quoted;
                    piece.push(c);
                }
                '\\' if quoted => {
                    piece.push(c);
                    if let Some(next) = chars.next() {
                        piece.push(next);
                    }
                }
                ';' if !quoted => pieces.push(std::mem::take(&mut piece)),
                _ => piece.push(c),
            }
        }
        if quoted {
            return Err(UnterminatedQuote);
        }
        pieces.push(piece);
        let mut pieces = pieces.into_iter();
        let essence = pieces
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let params = pieces
            .filter_map(|p| {
                let (name, value) = p.split_once('=')?;
                Some((name.trim().to_ascii_lowercase(), unquote(value.trim())))
            })
            .collect();
        Ok(MediaType { essence, params })
    }

    /// Every value of the parameter `name` (lower case): a header may repeat one.
    pub(crate) fn param<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.params
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The first `charset` parameter that is not UTF-8 (`utf-8`, `utf8`, or `us-ascii`,
    /// whose text is UTF-8 byte for byte: RFC 3629 section 1), if any. Every `charset`
    /// given is looked at: a header that repeats it is refused if any one is foreign.
    /// The server reads every body (events, query forms) as UTF-8, so a body declared in
    /// another charset would be read as other text than its sender wrote (Latin-1 `Ã©`
    /// read as `é`).
    pub(crate) fn foreign_charset(&self) -> Option<&str> {
        self.param("charset").find(|value| {
            !value.eq_ignore_ascii_case("utf-8")
                && !value.eq_ignore_ascii_case("utf8")
                && !value.eq_ignore_ascii_case("us-ascii")
        })
    }
}

/// A `Content-Type` whose quoted string has no closing quote.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("a quoted parameter value has no closing quote")]
pub(crate) struct UnterminatedQuote;

/// The text of a quoted string (without its quotes, `\x` read as `x`), or `value` as is.
fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"') else {
        return value.to_owned();
    };
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(next) = chars.next() {
                out.push(next);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn charsets(value: &str) -> Vec<String> {
        let m = MediaType::parse(value).unwrap();
        m.param("charset").map(str::to_owned).collect()
    }

    #[test]
    fn essence_is_lower_case_and_trimmed_with_or_without_parameters() {
        for v in [
            "application/json",
            "Application/JSON;",
            " application/json ; charset=utf-8",
        ] {
            assert_eq!(
                MediaType::parse(v).unwrap().essence,
                "application/json",
                "{v}"
            );
        }
    }

    #[test]
    fn a_semicolon_inside_a_quoted_value_does_not_end_the_parameter() {
        assert!(charsets(r#"application/json; foo="a;charset=latin1""#).is_empty());
        assert_eq!(
            MediaType::parse(r#"application/json; foo="a;charset=latin1"; x=1"#)
                .unwrap()
                .params,
            vec![
                ("foo".to_owned(), "a;charset=latin1".to_owned()),
                ("x".to_owned(), "1".to_owned())
            ]
        );
        // An escaped quote does not close the string.
        assert!(charsets(r#"application/json; foo="a\";charset=latin1""#).is_empty());
    }

    #[test]
    fn a_quoted_string_without_its_closing_quote_is_an_error() {
        for v in [
            r#"application/json; a="x; charset=latin1"#,
            r#"application/json; a="x\""#,
        ] {
            assert_eq!(MediaType::parse(v), Err(UnterminatedQuote), "{v}");
        }
    }

    #[test]
    fn every_charset_is_seen_quoted_or_not_any_case() {
        assert_eq!(
            charsets(r#"application/json; Charset="UTF-8"; CHARSET=latin1"#),
            ["UTF-8", "latin1"]
        );
        assert_eq!(charsets(r#"application/json;charset = "a\"b""#), [r#"a"b"#]);
    }
}
