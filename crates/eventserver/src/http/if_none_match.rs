//! `If-None-Match` (RFC 9110 §13.1.2): whether a request's validators match an
//! entity tag, for the console's `304`.
//!
//! The field is `*` or a comma-separated list of entity tags, each `"opaque"` or weak
//! `W/"opaque"`; it is compared with the weak comparison (§8.8.3.2: two tags match
//! when their opaque tags are equal, either or both weak). Browsers and proxies send a
//! weak tag back (a proxy that compressed the answer weakens its tag): it was answered
//! `200` with the whole file (until 2026-12-08). A field that does not parse matches
//! nothing: the full answer is always a correct one.

use axum::http::header::{GetAll, HeaderValue};

/// Whether any `If-None-Match` line in `fields` matches `etag` (a strong tag,
/// `"opaque"`), or is `*`.
pub(super) fn matches(fields: GetAll<'_, HeaderValue>, etag: &str) -> bool {
    let opaque = etag.trim_matches('"');
    fields
        .iter()
        .any(|field| line_matches(field.as_bytes(), opaque.as_bytes()))
}

/// One field line: `*`, or a list of entity tags.
fn line_matches(line: &[u8], opaque: &[u8]) -> bool {
    if line.trim_ascii() == b"*" {
        return true;
    }
    let mut rest = line;
    loop {
        // Empty list elements and the whitespace around them are allowed (§5.6.1).
        rest = rest.trim_ascii_start();
        while let Some(after) = rest.strip_prefix(b",") {
            rest = after.trim_ascii_start();
        }
        if rest.is_empty() {
            return false;
        }
        let tag = rest.strip_prefix(b"W/").unwrap_or(rest);
        let Some(quoted) = tag.strip_prefix(b"\"") else {
            return false;
        };
        let Some(end) = quoted.iter().position(|&b| b == b'"') else {
            return false;
        };
        if &quoted[..end] == opaque {
            return true;
        }
        rest = quoted[end + 1..].trim_ascii_start();
        if !rest.is_empty() && !rest.starts_with(b",") {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::line_matches;

    const TAG: &[u8] = b"0123456789abcdef";

    #[test]
    fn weak_strong_lists_and_star() {
        for line in [
            "\"0123456789abcdef\"",
            "W/\"0123456789abcdef\"",
            "\"other\", W/\"0123456789abcdef\"",
            " , \"x,y\" ,W/\"0123456789abcdef\" ",
            "*",
        ] {
            assert!(line_matches(line.as_bytes(), TAG), "{line}");
        }
        for line in [
            "",
            "\"other\"",
            "W/\"other\"",
            "w/\"0123456789abcdef\"",
            "0123456789abcdef",
            "\"x,\"0123456789abcdef\"",
            "\"a\" \"0123456789abcdef\"",
            "\"0123456789abcdef",
        ] {
            assert!(!line_matches(line.as_bytes(), TAG), "{line}");
        }
    }
}
