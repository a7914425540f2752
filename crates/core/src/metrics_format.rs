//! Which text format a `GET /metrics` answers in, chosen from the scraper's `Accept`
//! header lines: Prometheus text (version 0.0.4) or OpenMetrics text (version 1.0.0,
//! what prometheus-client's `text` encoder writes).
//!
//! Here, in the transport-free core, because the two endpoints that need it share no
//! other crate: the node's (`auditrail`, feature `metrics`) and the event server's
//! (`auditrail-eventserver`) both sit directly on `auditrail-core`, and neither may
//! depend on the other. The choice is string parsing alone, so core gains no
//! dependency: callers hand in their `Accept` lines as bytes.
//!
//! The parser is written here rather than taken from a crate: none already in the
//! build parses an `Accept` list (`mime`, there through axum, reads one media type, not
//! a comma list with weights, and refuses whitespace before a `;`), and the crates
//! that do (`accept-header`, `negotiator`) would be a new dependency of core for about
//! a hundred lines.

/// A text format of `/metrics`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricsFormat {
    /// The Prometheus text format, version 0.0.4 (`text/plain; version=0.0.4`): the
    /// answer whenever the scraper does not prefer OpenMetrics.
    PrometheusText,
    /// OpenMetrics text, version 1.0.0 ([`OPENMETRICS_CONTENT_TYPE`]).
    OpenMetrics,
}

/// The `Content-Type` of an OpenMetrics 1.0.0 text answer (OpenMetrics 1.0,
/// "Exposition formats"). The Prometheus text one is prometheus-client's
/// `prometheus_text::CONTENT_TYPE`.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The format to answer a scrape in, from every `Accept` line of the request (in the
/// order received; several lines read as one comma-separated list, RFC 9110 §5.3).
///
/// This follows what Prometheus's own Go client does (client_golang's `promhttp`,
/// through `expfmt.NegotiateIncludingOpenMetrics` of github.com/prometheus/common,
/// which reads the header with goautoneg): the acceptable format with the highest
/// weight (`q`) wins, and when the header names neither format acceptably (or is
/// absent, empty or unreadable) the answer is the Prometheus text format, never
/// `406 Not Acceptable`: a scraper that cannot read it says so by failing, which an
/// operator sees, while a `406` would hide every metric.
///
/// Where goautoneg departs from RFC 9110 §12.5.1 this follows the RFC:
/// - `q=0` means "not acceptable" (§12.4.2): `application/openmetrics-text;q=0,
///   text/plain` gets text (goautoneg still picks such a range, only last);
/// - types, subtypes and parameter names compare case-insensitively
///   (`Application/OpenMetrics-Text` is OpenMetrics);
/// - every `Accept` line counts (Go's `Header.Get` reads the first only);
/// - wildcards count: `application/*` and `*/*` cover OpenMetrics, `text/*` and `*/*`
///   the text format, and the most specific range that covers a format gives its
///   weight (`*/*;q=1, text/plain;q=0` refuses text, so OpenMetrics it is).
///
/// A `version` parameter must be the one served (`1.0.0` for OpenMetrics, `0.0.4` for
/// text; Prometheus also offers `application/openmetrics-text;version=0.0.1`, which
/// this does not write); other parameters (`charset`, `escaping`) do not change the
/// bytes served and are not looked at. Equal weights go to the more specific range,
/// then to the one listed first (goautoneg's order), then to the text format.
/// Malformed list members (no `/`, a bad `q`, an unclosed quote) are skipped.
pub fn negotiate<'a>(accept: impl IntoIterator<Item = &'a [u8]>) -> MetricsFormat {
    let mut openmetrics = Best::default();
    let mut text = Best::default();
    let mut position = 0usize;
    for line in accept {
        for member in split_outside_quotes(line, b',') {
            let Some(range) = Range::parse(member) else {
                continue;
            };
            position += 1;
            openmetrics.offer(range.covers(OPENMETRICS), range.q, position);
            text.offer(range.covers(PROMETHEUS_TEXT), range.q, position);
        }
    }
    match (openmetrics.acceptable(), text.acceptable()) {
        (Some(om), Some(t)) if om > t => MetricsFormat::OpenMetrics,
        (Some(_), None) => MetricsFormat::OpenMetrics,
        _ => MetricsFormat::PrometheusText,
    }
}

/// A format this endpoint serves, as a media type with its `version`.
struct Served {
    kind: &'static [u8],
    subtype: &'static [u8],
    version: &'static [u8],
}

const OPENMETRICS: Served = Served {
    kind: b"application",
    subtype: b"openmetrics-text",
    version: b"1.0.0",
};

const PROMETHEUS_TEXT: Served = Served {
    kind: b"text",
    subtype: b"plain",
    version: b"0.0.4",
};

/// How specifically a range names a format: `*/*` < `type/*` < `type/subtype` <
/// `type/subtype;version=...` (RFC 9110 §12.5.1: the most specific range applies).
type Specificity = u8;

/// The range that applies to one format so far: the most specific that covers it
/// (among equally specific ones, the highest weight, as goautoneg's sorted list would
/// reach it first), with its weight and place in the list.
#[derive(Default)]
struct Best {
    found: Option<(Specificity, u16, usize)>,
}

impl Best {
    fn offer(&mut self, specificity: Option<Specificity>, q: u16, position: usize) {
        let Some(s) = specificity else { return };
        let better = match self.found {
            None => true,
            Some((best_s, best_q, _)) => s > best_s || (s == best_s && q > best_q),
        };
        if better {
            self.found = Some((s, q, position));
        }
    }

    /// `None` when no range covers the format or the one that applies says `q=0`;
    /// else a key that orders the two formats: weight, then specificity, then the
    /// earlier place in the list.
    fn acceptable(&self) -> Option<(u16, Specificity, std::cmp::Reverse<usize>)> {
        match self.found {
            Some((s, q, position)) if q > 0 => Some((q, s, std::cmp::Reverse(position))),
            _ => None,
        }
    }
}

/// One member of an `Accept` list: `type/subtype` (either may be `*`), the `version`
/// parameter if any, and the weight in thousandths.
struct Range<'a> {
    kind: &'a [u8],
    subtype: &'a [u8],
    version: Option<Vec<u8>>,
    q: u16,
}

impl<'a> Range<'a> {
    /// `None` for an empty member (a list may have them, RFC 9110 §5.6.1) and for a
    /// malformed one: no `type/subtype` of tokens, `*/subtype`, or a `q` that is not a
    /// qvalue (RFC 9110 §12.4.2: 0 to 1, at most three decimals).
    fn parse(member: &'a [u8]) -> Option<Range<'a>> {
        let mut pieces = split_outside_quotes(member, b';');
        let essence = trim(pieces.next()?);
        let slash = essence.iter().position(|&b| b == b'/')?;
        let (kind, subtype) = (&essence[..slash], &essence[slash + 1..]);
        if !is_token(kind) || !is_token(subtype) || (kind == b"*" && subtype != b"*") {
            return None;
        }
        let mut range = Range {
            kind,
            subtype,
            version: None,
            q: 1000,
        };
        for param in pieces {
            // A parameter without `=` says nothing; skipped as the server's
            // `Content-Type` reading skips it.
            let Some(eq) = param.iter().position(|&b| b == b'=') else {
                continue;
            };
            let (name, value) = (trim(&param[..eq]), trim(&param[eq + 1..]));
            if name.eq_ignore_ascii_case(b"q") {
                range.q = qvalue(value)?;
            } else if name.eq_ignore_ascii_case(b"version") && range.version.is_none() {
                range.version = Some(unquote(value));
            }
        }
        Some(range)
    }

    /// How specifically this range names `served`, or `None` if it does not cover it.
    fn covers(&self, served: Served) -> Option<Specificity> {
        if self.kind == b"*" {
            return Some(0);
        }
        if !self.kind.eq_ignore_ascii_case(served.kind) {
            return None;
        }
        if self.subtype == b"*" {
            return Some(1);
        }
        if !self.subtype.eq_ignore_ascii_case(served.subtype) {
            return None;
        }
        match &self.version {
            None => Some(2),
            Some(v) if v == served.version => Some(3),
            Some(_) => None,
        }
    }
}

/// A qvalue in thousandths: `0`, `1`, or either with a fraction of up to three digits
/// (`1` only with zeros after the point).
fn qvalue(value: &[u8]) -> Option<u16> {
    let (int, frac) = match value.iter().position(|&b| b == b'.') {
        Some(dot) => (&value[..dot], &value[dot + 1..]),
        None => (value, &b""[..]),
    };
    if frac.len() > 3 || !frac.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let thousandths = frac
        .iter()
        .chain(std::iter::repeat(&b'0'))
        .take(3)
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    match (int, thousandths) {
        (b"0", t) => Some(t),
        (b"1", 0) => Some(1000),
        _ => None,
    }
}

/// `bytes` cut at each `sep` that is not inside a quoted string (`\` escaping the next
/// byte inside one). A quoted string left open runs to the end, and that last piece is
/// dropped: read as closed it could hide list members or parameters after the quote.
fn split_outside_quotes(bytes: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    let mut pieces = Vec::new();
    let (mut start, mut quoted, mut i) = (0, false, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => quoted = !quoted,
            b'\\' if quoted => i += 1,
            b if b == sep && !quoted => {
                pieces.push(&bytes[start..i]);
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if !quoted {
        pieces.push(&bytes[start..]);
    }
    pieces.into_iter()
}

/// `bytes` without the spaces and tabs (OWS) around it.
fn trim(bytes: &[u8]) -> &[u8] {
    let ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !ows(b)).unwrap_or(bytes.len());
    let end = bytes.iter().rposition(|b| !ows(b)).map_or(start, |e| e + 1);
    &bytes[start..end]
}

/// RFC 9110 §5.6.2: one or more tchars.
fn is_token(bytes: &[u8]) -> bool {
    !bytes.is_empty()
        && bytes
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The text of a quoted string (without its quotes, `\x` read as `x`), or `value` as is.
fn unquote(value: &[u8]) -> Vec<u8> {
    let Some(inner) = value.strip_prefix(b"\"") else {
        return value.to_vec();
    };
    let inner = inner.strip_suffix(b"\"").unwrap_or(inner);
    let mut out = Vec::with_capacity(inner.len());
    let mut bytes = inner.iter();
    while let Some(&b) = bytes.next() {
        if b == b'\\' {
            out.extend(bytes.next());
        } else {
            out.push(b);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::MetricsFormat::{OpenMetrics, PrometheusText};
    use super::*;

    fn of(lines: &[&str]) -> MetricsFormat {
        negotiate(lines.iter().map(|l| l.as_bytes()))
    }

    #[test]
    fn q_zero_is_not_acceptable() {
        assert_eq!(
            of(&["application/openmetrics-text;q=0, text/plain"]),
            PrometheusText
        );
        // Not even when nothing else is offered: the text format is the fallback.
        assert_eq!(of(&["application/openmetrics-text;q=0"]), PrometheusText);
        assert_eq!(
            of(&["application/openmetrics-text; Q=0.000"]),
            PrometheusText
        );
        // A text format refused leaves OpenMetrics, through a wildcard too.
        assert_eq!(of(&["text/plain;q=0, application/*"]), OpenMetrics);
        assert_eq!(of(&["*/*;q=0.1, text/plain;q=0"]), OpenMetrics);
    }

    #[test]
    fn media_types_and_parameter_names_are_case_insensitive() {
        assert_eq!(of(&["Application/OpenMetrics-Text"]), OpenMetrics);
        assert_eq!(
            of(&["APPLICATION/OPENMETRICS-TEXT;VERSION=1.0.0"]),
            OpenMetrics
        );
        assert_eq!(
            of(&["application/openmetrics-text;q=0.2, TEXT/Plain;Q=0.9"]),
            PrometheusText
        );
    }

    #[test]
    fn the_higher_q_wins_in_any_order() {
        for (accept, expected) in [
            (
                "application/openmetrics-text;q=0.5, text/plain;q=0.9",
                PrometheusText,
            ),
            (
                "text/plain;q=0.9, application/openmetrics-text;q=0.5",
                PrometheusText,
            ),
            (
                "text/plain;q=0.5, application/openmetrics-text",
                OpenMetrics,
            ),
            (
                "text/plain;q=0.999, application/openmetrics-text;q=1.000",
                OpenMetrics,
            ),
            // Equal weights: the one listed first (goautoneg's order).
            ("application/openmetrics-text, text/plain", OpenMetrics),
            ("text/plain, application/openmetrics-text", PrometheusText),
        ] {
            assert_eq!(of(&[accept]), expected, "{accept}");
        }
    }

    #[test]
    fn prometheus_headers_get_what_they_prefer() {
        // Prometheus 2.x's default.
        assert_eq!(
            of(&["application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"]),
            OpenMetrics
        );
        assert_eq!(
            of(&["application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"]),
            OpenMetrics
        );
        // Prometheus 3.x's default, with `escaping` parameters.
        assert_eq!(
            of(&["application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"]),
            OpenMetrics
        );
        // `scrape_protocols` listing the text format first.
        assert_eq!(
            of(&["text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,*/*;q=0.1"]),
            PrometheusText
        );
    }

    #[test]
    fn a_version_not_served_does_not_cover_the_format() {
        // OpenMetrics 0.0.1 is not what is written; the text format is the fallback.
        assert_eq!(
            of(&["application/openmetrics-text;version=0.0.1"]),
            PrometheusText
        );
        assert_eq!(
            of(&["application/openmetrics-text;version=\"1.0.0\""]),
            OpenMetrics
        );
        // The exact version is more specific than the bare type.
        assert_eq!(
            of(&["application/openmetrics-text;version=1.0.0, application/openmetrics-text;q=0"]),
            OpenMetrics
        );
        assert_eq!(
            of(&["text/plain;version=1.0.0, application/openmetrics-text;q=0.1"]),
            OpenMetrics
        );
    }

    #[test]
    fn wildcards_cover_both_formats_and_yield_to_specific_ranges() {
        // `*/*` alone: both are acceptable alike, the text format it is.
        assert_eq!(of(&["*/*"]), PrometheusText);
        assert_eq!(of(&["*/*, text/plain"]), PrometheusText);
        assert_eq!(of(&["*/*, application/openmetrics-text"]), OpenMetrics);
        // `application/*` covers OpenMetrics, not text.
        assert_eq!(of(&["application/*"]), OpenMetrics);
        assert_eq!(of(&["application/*, text/plain;q=0.5"]), OpenMetrics);
        assert_eq!(of(&["application/*;q=0.4, text/*;q=0.5"]), PrometheusText);
        assert_eq!(
            of(&["application/*;q=0.9, application/openmetrics-text;q=0.1, text/plain;q=0.5"]),
            PrometheusText
        );
    }

    #[test]
    fn absent_empty_or_malformed_accept_gets_the_text_format() {
        assert_eq!(of(&[]), PrometheusText);
        for accept in [
            "",
            " , ,",
            "garbage",
            "application",
            "*/openmetrics-text",
            "application/openmetrics-text;q=2",
            "application/openmetrics-text;q=0.5555",
            "application/openmetrics-text;q=abc",
            "application/openmetrics-text;q=1.5",
            "application/openmetrics text",
            "application/openmetrics-text;a=\"unclosed",
            "image/png, application/json",
        ] {
            assert_eq!(of(&[accept]), PrometheusText, "{accept}");
        }
        // A malformed member does not spoil the others.
        assert_eq!(
            of(&["garbage, application/openmetrics-text;q=x, application/openmetrics-text;q=0.1"]),
            OpenMetrics
        );
        // A member with bytes beyond ASCII is skipped, the rest of its line is read.
        assert_eq!(
            negotiate([&b"\xff\xfe/x, application/openmetrics-text"[..]]),
            OpenMetrics
        );
    }

    #[test]
    fn a_comma_inside_a_quoted_value_does_not_end_the_member() {
        assert_eq!(
            of(&["text/plain;a=\"x, application/openmetrics-text\""]),
            PrometheusText
        );
        assert_eq!(
            of(&["text/plain;a=\"x\\\", application/openmetrics-text\";q=0.1, application/openmetrics-text;q=0.2"]),
            OpenMetrics
        );
    }

    #[test]
    fn several_accept_lines_are_one_list() {
        assert_eq!(
            of(&["text/plain;q=0.3", "application/openmetrics-text;q=0.5"]),
            OpenMetrics
        );
        assert_eq!(
            of(&["application/openmetrics-text;q=0.5", "text/plain;q=0.3"]),
            OpenMetrics
        );
        // A refusal on a later line counts as on the first.
        assert_eq!(
            of(&[
                "application/openmetrics-text",
                "application/openmetrics-text;version=1.0.0;q=0"
            ]),
            PrometheusText
        );
        assert_eq!(
            of(&["text/plain;q=0.9", "application/openmetrics-text;q=0.95"]),
            OpenMetrics
        );
    }
}
