//! Values taken from events, made safe to show to a person: every human-readable output
//! of the CLI (the `query` reports and `query events` / `sql` tables and CSV, `tail`'s
//! text lines) passes each value through [`escape`].
//!
//! Any client that may post an event chooses its text. Written as it is, a value could
//! drive the operator's terminal (ESC sequences clear the screen, set the title,
//! recolour), end a row and forge the next one (CR, LF), shift columns (TAB), or
//! reorder what is seen (Unicode bidi overrides). Such characters are shown escaped
//! instead, so that one value stays one visible cell and is still recognisable.
//! JSON output needs none of this: JSON escapes control characters itself, and what
//! reads JSON is a program.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::Arc;

use anyhow::Result;
use auditrail_query::datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringArray};
use auditrail_query::datafusion::arrow::datatypes::{DataType, Field, Schema};
use auditrail_query::datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use auditrail_query::lookalikes::Marks;
use auditrail_query::output::{self, Format};

/// `text` with every character that could act on a terminal or on how a line reads
/// written visibly instead: TAB, LF and CR as `\t`, `\n`, `\r`; any other control
/// character (C0, DEL, C1) and the bidi formatting characters (U+061C, U+200E, U+200F,
/// U+202A to U+202E, U+2066 to U+2069) and the line and paragraph separators (U+2028,
/// U+2029) as `\u{1b}` (the code point in hex), and a backslash as `\\`. So are the
/// characters that look like a space or like nothing (white space other than the space:
/// U+00A0, U+2000 to U+200A, U+3000...; format characters; variation selectors; blank
/// fillers), and, in a text that is not in Unicode NFC, its combining marks (general
/// category M, such as U+0301) and the characters NFC could change (Hangul jamo,
/// singletons such as U+212B):
/// "José" written `e` + U+0301 is shown `Jose\u{301}`, apart from "José" in NFC
/// (U+00E9), which it looks exactly like. A text in NFC is shown as it is: two
/// different texts in NFC are never canonically equivalent. A text that mixes scripts
/// or reads as ASCII in another script ([`other_script`]: `аdmin`, Cyrillic `а`) has
/// every character beyond ASCII escaped (`\u{430}dmin`), apart from the Latin `admin`.
/// (In an answer's table, values of a column that look like each other are escaped
/// where they differ too: [`with_marks`], and the cells of [`table_cell`],
/// [`list_item`] and [`csv_cell`], which name their column.)
///
/// The backslash is doubled so that what is shown is one value's alone: were it kept,
/// a user named `a` LF `b` and one named `a\nb` (a backslash and an `n`) would both be
/// shown `a\nb`. Doubled, as in C, JSON and Rust's `char::escape_debug`, every shown
/// text reads back to one value only.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    escape_with(text, Backslash::Doubled)
}

/// [`escape`] of `text`, a value of `column` of the answer being written, with the
/// characters the answer's marks ([`with_marks`]) say for it in that column escaped
/// too: the same value in another column, where it looks like no other, is not.
fn escape_in<'a>(column: &str, text: &'a str) -> Cow<'a, str> {
    MARKS.with_borrow(|marks| {
        let marked: Vec<usize> = marks.escaped(column, text).collect();
        escape_marked(text, Backslash::Doubled, &marked)
    })
}

thread_local! {
    /// The marks of the answer being written ([`with_marks`]): empty outside one.
    static MARKS: std::cell::RefCell<Marks> = std::cell::RefCell::new(Marks::default());
}

/// `write()`'s output, with every value it shows as a cell of a column ([`table_cell`],
/// [`csv_cell`], [`list_item`]) also escaped where `marks` say: the values of a column
/// that look like each other (UTS #39 confusable skeletons, `\u{49}ris` and `\u{6c}ris`), by the
/// rule the web console gets from the server (auditrail-query's `lookalikes`). The
/// marks are the answer's, set for the time one answer is written, so that the many
/// writers of cells (tables, charts, lists) all follow them.
pub(crate) fn with_marks<R>(marks: Marks, write: impl FnOnce() -> R) -> R {
    let before = MARKS.replace(marks);
    let out = write();
    MARKS.set(before);
    out
}

/// `text`, one line of a diagnostic (an error or a report on stderr), with what
/// [`escape`] shows escaped shown so, except the backslash, which is kept as it is.
///
/// A diagnostic is the CLI's own sentence, and most of them quote the value at fault
/// with Rust's `{:?}` (`invalid routingKey "a\tb": character '\t'`), whose backslashes
/// are escapes already: doubled again they read `"a\\tb"` and `'\\t'`, and the
/// sentences that name a backslash (``no `/`, `\`, NUL``) showed two. So each character
/// of a diagnostic is shown once: one already escaped stays as it is, and a raw control
/// character (a value quoted without `{:?}`, such as serde's ``unknown field `…` ``)
/// is escaped here. A raw TAB and an escaped one then look alike (`\t`); a person
/// reads a diagnostic, no program parses it back, and what matters is that nothing in
/// it acts on the terminal.
pub(crate) fn escape_diagnostic(text: &str) -> Cow<'_, str> {
    escape_with(text, Backslash::Kept)
}

/// How [`escape_with`] shows a backslash.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Backslash {
    /// `\\`: values from events, where every shown text must read back to one value.
    Doubled,
    /// `\`: diagnostics, whose backslashes are mostly escapes already.
    Kept,
}

fn escape_with(text: &str, backslash: Backslash) -> Cow<'_, str> {
    escape_marked(text, backslash, &[])
}

/// [`escape`] of `text`, with the characters at the indexes `marked` (code points, in
/// order: [`Marks::escaped`]) escaped too.
fn escape_marked<'a>(text: &'a str, backslash: Backslash, marked: &[usize]) -> Cow<'a, str> {
    let not_nfc = !unicode_normalization::is_nfc(text);
    let other_script = other_script(text);
    let is_escaped =
        |c: char| is_escaped(c) || (not_nfc && !nfc_stable(c)) || (other_script && !c.is_ascii());
    let doubled = backslash == Backslash::Doubled;
    if marked.is_empty()
        && !text
            .chars()
            .any(|c| (doubled && c == '\\') || is_escaped(c))
    {
        return Cow::Borrowed(text);
    }
    let mut marked = marked.iter().peekable();
    let mut out = String::with_capacity(text.len() + 8);
    for (i, c) in text.chars().enumerate() {
        let is_marked = marked.next_if(|&&m| m == i).is_some();
        match c {
            '\\' if doubled => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if is_escaped(c) || is_marked => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A text-table cell of `text`: [`escape`]d, and in quotes (a `"` inside written `\"`)
/// when it is empty, starts or ends with white space or starts with a quote: padded
/// into a column, `"alice "` would look like `alice`, another user, and an empty cell
/// is a null (no value), not the empty text.
///
/// `column` names the cell's column for the answer's marks ([`with_marks`]): the
/// position of a batch's column (`0`), or the path of a report's field as its JSON
/// rows give it (`[].user`, [`Marks::of_json`]).
pub(crate) fn table_cell<'a>(column: &str, text: &'a str) -> Cow<'a, str> {
    quoted_if(escape_in(column, text), |t| {
        t.is_empty() || t.trim() != t || t.starts_with('"')
    })
}

/// One value of a list a text-table cell holds (a report's client addresses,
/// `outcome=count` pairs): as [`table_cell`], and in quotes also when it holds `,` or
/// `=`, the separators of such lists. Joined as they were, the one address
/// "203.0.113.7, 10.0.0.1" read as two, and the error "age=x, expected number" counted
/// twice (`age=x, expected number=2`) as two errors.
/// `column` as [`table_cell`]'s: the list's own (`[].topics{}`, `[].clientIps[]`).
pub(crate) fn list_item<'a>(column: &str, text: &'a str) -> Cow<'a, str> {
    quoted_if(escape_in(column, text), |t| {
        t.is_empty() || t.trim() != t || t.starts_with('"') || t.contains([',', '='])
    })
}

/// `shown` in quotes, a `"` inside written `\"`, when `quote` says so.
fn quoted_if<'a>(shown: Cow<'a, str>, quote: impl Fn(&str) -> bool) -> Cow<'a, str> {
    if quote(&shown) {
        Cow::Owned(format!("\"{}\"", shown.replace('"', "\\\"")))
    } else {
        shown
    }
}

/// A CSV cell of `text`: [`escape`]d, and, when it starts with `=`, `+`, `-` or `@`,
/// with `'` put in front, so that a spreadsheet opening the file shows the text rather
/// than evaluating it as a formula (OWASP, "CSV Injection"). A text that starts with
/// `'` itself gets one more, or `'=1+1` and `=1+1` would be the same cell (a
/// spreadsheet hides the first `'`: it shows each as it was).
/// `column` as [`table_cell`]'s.
pub(crate) fn csv_cell<'a>(column: &str, text: &'a str) -> Cow<'a, str> {
    let text = escape_in(column, text);
    if text.starts_with(['=', '+', '-', '@', '\'']) {
        Cow::Owned(format!("'{text}"))
    } else {
        text
    }
}

/// A value of an event (its raw JSON text; `None` where the event lacks it) as one
/// space-separated word of `tail`'s text lines, shown apart from every other value:
///
/// - no value: `-`;
/// - a string: [`escape`]d, and in quotes (a `"` inside written `\"`) when it would
///   read as another word or value: empty, holding white space (the separator), `-`
///   (no value), starting with `"`, or the JSON text of a value other than a string
///   (`"12"`, `"null"`: beside the number 12 and null);
/// - any other value (a number, `true`, `null`, an object, an array): its JSON text,
///   without white space between tokens, and with the characters [`escape`] shows and
///   white space in its strings written as JSON escapes (`\u0020`): the same value, as
///   one word that never starts with `"` or reads as a string.
///
/// The console's live tail shows a value by the same rule (`cell` in console.js),
/// each value in a cell of its own, so without quoting white space.
pub(crate) fn line_value(raw: Option<&str>) -> String {
    line_value_marked(raw, &[])
}

/// [`line_value`], with the characters at the indexes `marked` (code points, in order)
/// of a string escaped too: the look-alikes a stream said of it (`tail`).
pub(crate) fn line_value_marked(raw: Option<&str>, marked: &[usize]) -> String {
    let Some(raw) = raw.map(str::trim) else {
        return "-".to_owned();
    };
    if !raw.starts_with('"') {
        return compact_json(raw);
    }
    let Ok(text) = serde_json::from_str::<Cow<'_, str>>(raw) else {
        // Not JSON: the server sends JSON; shown as it came, and never bare.
        return quoted(&escape(raw));
    };
    let shown = escape_marked(&text, Backslash::Doubled, marked);
    if shown.is_empty()
        || shown == "-"
        || shown.starts_with('"')
        || shown.contains(char::is_whitespace)
        || serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok()
    {
        quoted(&shown)
    } else {
        shown.into_owned()
    }
}

/// `shown` (already [`escape`]d) in quotes, a `"` inside written `\"`.
fn quoted(shown: &str) -> String {
    format!("\"{}\"", shown.replace('"', "\\\""))
}

/// The JSON text `json` without white space between its tokens, and with white space
/// and the characters [`escape`] shows written as JSON escapes inside its strings.
fn compact_json(json: &str) -> String {
    let not_nfc = !unicode_normalization::is_nfc(json);
    let other_script = other_script(json);
    let is_escaped =
        |c: char| is_escaped(c) || (not_nfc && !nfc_stable(c)) || (other_script && !c.is_ascii());
    let mut out = String::with_capacity(json.len());
    let mut in_string = false;
    let mut chars = json.chars();
    while let Some(c) = chars.next() {
        if !in_string {
            match c {
                ' ' | '\t' | '\n' | '\r' => {}
                '"' => {
                    in_string = true;
                    out.push(c);
                }
                c if c.is_whitespace() || is_escaped(c) => json_escape(&mut out, c),
                c => out.push(c),
            }
            continue;
        }
        match c {
            '\\' => {
                out.push(c);
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            '"' => {
                in_string = false;
                out.push(c);
            }
            c if c.is_whitespace() || is_escaped(c) => json_escape(&mut out, c),
            c => out.push(c),
        }
    }
    out
}

/// `c` as a JSON escape (`\u00a0`; a pair of them beyond the BMP).
fn json_escape(out: &mut String, c: char) {
    let mut units = [0u16; 2];
    for unit in c.encode_utf16(&mut units) {
        let _ = write!(out, "\\u{unit:04x}");
    }
}

/// UTS #39's rule for a text alone (`аdmin`), the one the web console gets from the
/// server: auditrail-query's [`auditrail_query::lookalikes::other_script`].
fn other_script(text: &str) -> bool {
    auditrail_query::lookalikes::other_script(text)
}

/// Whether `c` is shown as it is in a text not in NFC: not a combining mark, and left
/// as it is by NFC whatever is around it (its NFC quick check is "yes": not a
/// character that composes with the one before it, nor one NFC replaces). Marks are
/// escaped whether or not they compose, so that the console (console.js), which has
/// no quick check, follows the same rule with `\p{M}` and `normalize`.
fn nfc_stable(c: char) -> bool {
    c.is_ascii()
        || (!unicode_normalization::char::is_combining_mark(c)
            && unicode_normalization::is_nfc_quick(std::iter::once(c))
                == unicode_normalization::IsNormalized::Yes)
}

fn is_escaped(c: char) -> bool {
    c.is_control() // C0, DEL and C1 (general category Cc)
        // White space other than the space (U+00A0, U+1680, U+2000 to U+200A, U+202F,
        // U+205F, U+3000; TAB, LF, CR are `\t`, `\n`, `\r`): " bob" and U+00A0 "bob"
        // would look alike, and a tail line splits at spaces.
        || (c.is_whitespace() && c != ' ')
        || matches!(
            c,
            '\u{061c}'
                | '\u{200e}'
                | '\u{200f}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                // Invisible: zero-width space, joiners, word joiner and invisible
                // operators, byte order mark, soft hyphen, Mongolian vowel separator.
                // Shown, or "bob" and "bob\u{200b}" would look like one user.
                | '\u{200b}'..='\u{200d}'
                | '\u{2060}'..='\u{2064}'
                | '\u{feff}'
                | '\u{00ad}'
                | '\u{180e}'
                // The other format characters (general category Cf): prefixed number
                // signs, deprecated format controls, interlinear annotation, shorthand,
                // musical and Egyptian format controls, tags.
                | '\u{0600}'..='\u{0605}'
                | '\u{06dd}'
                | '\u{070f}'
                | '\u{0890}'..='\u{0891}'
                | '\u{08e2}'
                | '\u{2065}'
                | '\u{206a}'..='\u{206f}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{110bd}'
                | '\u{110cd}'
                | '\u{13430}'..='\u{1343f}'
                | '\u{1bca0}'..='\u{1bca3}'
                | '\u{1d173}'..='\u{1d17a}'
                | '\u{e0001}'
                | '\u{e0020}'..='\u{e007f}'
                // Invisible after a letter: the combining grapheme joiner, variation
                // selectors (Mongolian, standard, ideographic).
                | '\u{034f}'
                | '\u{180b}'..='\u{180f}'
                | '\u{fe00}'..='\u{fe0f}'
                | '\u{e0100}'..='\u{e01ef}'
                // Blank letters: Hangul fillers, the blank Braille pattern.
                | '\u{115f}'..='\u{1160}'
                | '\u{3164}'
                | '\u{ffa0}'
                | '\u{2800}'
        )
}

/// `batches` written in `format`: in a text table or CSV, through [`batches`].
pub(crate) fn rows(format: Format, batches: &[RecordBatch]) -> Result<String> {
    let escaped;
    let batches = match format {
        Format::Table | Format::Csv => {
            escaped = with_marks(Marks::of_batches(batches), || {
                self::batches(batches, format == Format::Csv)
            })?;
            &escaped[..]
        }
        Format::Json | Format::Ndjson => batches,
    };
    let mut out = Vec::new();
    output::write(format, batches, &mut out)?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// For a text table (`csv` false) or CSV (`csv` true): `batches` with every column
/// that can hold text (strings, and lists, structs, maps... written as text) replaced
/// by its values as the table or CSV would write them, through [`escape`] or
/// [`csv_cell`]. Numbers, booleans, times and binary columns are kept as they are.
pub(crate) fn batches(batches: &[RecordBatch], csv: bool) -> Result<Vec<RecordBatch>> {
    let options = FormatOptions::default();
    batches
        .iter()
        .map(|batch| {
            let schema = batch.schema();
            let mut fields = Vec::with_capacity(batch.num_columns());
            let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
            for (i, (field, column)) in schema.fields().iter().zip(batch.columns()).enumerate() {
                // The column as the answer's marks name it (`Marks::of_batches`).
                let name = i.to_string();
                if holds_no_text(field.data_type()) {
                    fields.push(field.as_ref().clone());
                    columns.push(Arc::clone(column));
                    continue;
                }
                let formatter = ArrayFormatter::try_new(column.as_ref(), &options)?;
                // Logical: a column of SQL's `NULL` (the Null type) has no null buffer,
                // and `is_null` would take its values for texts.
                let nulls = column.logical_nulls();
                let values: StringArray = (0..column.len())
                    .map(|row| {
                        (!nulls.as_ref().is_some_and(|n| n.is_null(row))).then(|| {
                            let text = formatter.value(row).to_string();
                            // A null is shown as an empty cell: an empty text is not
                            // (`table_cell` quotes it).
                            let shown = if csv {
                                csv_cell(&name, &text)
                            } else {
                                table_cell(&name, &text)
                            };
                            shown.into_owned()
                        })
                    })
                    .collect();
                fields.push(Field::new(field.name(), DataType::Utf8, true));
                columns.push(Arc::new(values));
            }
            Ok(RecordBatch::try_new(
                Arc::new(Schema::new(fields)),
                columns,
            )?)
        })
        .collect()
}

/// Types whose values are never text from an event.
fn holds_no_text(t: &DataType) -> bool {
    t.is_numeric()
        || t.is_temporal()
        || matches!(
            t,
            DataType::Null
                | DataType::Boolean
                | DataType::Binary
                | DataType::LargeBinary
                | DataType::BinaryView
                | DataType::FixedSizeBinary(_)
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_and_bidi_characters_are_shown_escaped() {
        assert_eq!(escape("alice"), "alice");
        assert!(matches!(escape("alice"), Cow::Borrowed(_)));
        assert_eq!(
            escape("a\x1b[2K\rb\nc\td\u{7}\u{7f}\u{9b}\u{202e}e\u{2066}"),
            "a\\u{1b}[2K\\rb\\nc\\td\\u{7}\\u{7f}\\u{9b}\\u{202e}e\\u{2066}"
        );
        assert_eq!(escape("é ✓"), "é ✓");
    }

    #[test]
    fn a_backslash_is_doubled_so_no_two_values_are_shown_alike() {
        assert_eq!(escape("back\\slash"), "back\\\\slash");
        assert_eq!(escape("C:\\x"), "C:\\\\x");
        // A line feed and a backslash followed by `n` were both shown `a\nb`.
        assert_ne!(escape("a\nb"), escape("a\\nb"));
        assert_eq!(escape("a\\nb"), "a\\\\nb");
        // A backslash before an escaped character, and one before its escape's text.
        assert_ne!(escape("\\\t"), escape("\\\\t"));
        assert_ne!(table_cell("", "\"a\\\""), table_cell("", "\"a\\"));
    }

    /// A diagnostic shows each character once: a text already escaped by `{:?}` is
    /// shown as it is (its backslashes are not doubled), and a raw control character
    /// is still escaped, once.
    #[test]
    fn a_diagnostic_shows_each_character_once_and_no_raw_control_character() {
        let said = format!("invalid routingKey {:?}: character {:?}", "a\tb", '\t');
        assert_eq!(
            escape_diagnostic(&said),
            r#"invalid routingKey "a\tb": character '\t'"#
        );
        assert!(matches!(escape_diagnostic(&said), Cow::Borrowed(_)));
        assert_eq!(escape_diagnostic("no `/`, `\\`, NUL"), "no `/`, `\\`, NUL");
        // Raw, from a value quoted without `{:?}`: escaped, once.
        assert_eq!(
            escape_diagnostic("unknown field `a\x1b]0;x\x07\tb\r\u{202e}`"),
            r"unknown field `a\u{1b}]0;x\u{7}\tb\r\u{202e}`"
        );
        let shown = escape_diagnostic("a\x1b[2K\rb\nc\u{9b}\u{7f}");
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
    }

    #[test]
    fn table_cells_that_would_look_like_another_value_are_quoted() {
        assert_eq!(table_cell("", "alice"), "alice");
        assert_eq!(table_cell("", "alice "), "\"alice \"");
        assert_eq!(table_cell("", " alice"), "\" alice\"");
        assert_eq!(table_cell("", "\"alice\""), "\"\\\"alice\\\"\"");
        assert_eq!(table_cell("", "bob\u{200b}"), "bob\\u{200b}");
        assert_eq!(table_cell("", "a b"), "a b");
        assert_eq!(table_cell("", ""), "\"\"");
    }

    #[test]
    fn line_values_are_one_word_each_and_never_alike() {
        let shown = |raw: Option<&str>| line_value(raw);
        assert_eq!(shown(Some("\"alice\"")), "alice");
        assert_eq!(shown(None), "-");
        assert_eq!(shown(Some("\"-\"")), "\"-\"");
        assert_eq!(shown(Some("\"\"")), "\"\"");
        assert_eq!(shown(Some("\"a b\"")), "\"a b\"");
        assert_eq!(shown(Some("12")), "12");
        assert_eq!(shown(Some("\"12\"")), "\"12\"");
        assert_eq!(shown(Some("null")), "null");
        assert_eq!(shown(Some("\"null\"")), "\"null\"");
        assert_eq!(shown(Some("\"-1\"")), "\"-1\"");
        assert_eq!(shown(Some("-1")), "-1");
        assert_eq!(shown(Some("1e400")), "1e400");
        assert_eq!(shown(Some("\"1e400\"")), "\"1e400\"");
        assert_eq!(
            shown(Some("{ \"a\" : \"b c\\\"\u{1b}\" }")),
            "{\"a\":\"b\\u0020c\\\"\\u001b\"}"
        );
        assert_eq!(shown(Some("\"\\\"q\"")), "\"\\\"q\"");
        assert_eq!(shown(Some("\"a\\nb\"")), "a\\nb");
        let values = [
            None,
            Some("\"-\""),
            Some("\"\""),
            Some("12"),
            Some("\"12\""),
            Some("\"a b\""),
            Some("\"a\""),
            Some("\"b c\""),
            Some("[\"a b\"]"),
            Some("\"[\\\"a b\\\"]\""),
        ];
        for (i, a) in values.iter().enumerate() {
            let a = shown(*a);
            assert!(!a.contains(' ') || a.starts_with('"'), "{a}");
            for b in &values[i + 1..] {
                assert_ne!(a, shown(*b));
            }
        }
    }

    #[test]
    fn lookalike_spaces_invisible_characters_and_non_nfc_text_are_shown_apart() {
        assert_eq!(table_cell("", "\u{a0}bob"), "\\u{a0}bob");
        assert_eq!(table_cell("", " bob"), "\" bob\"");
        assert_eq!(
            escape("a\u{2003}b\u{3000}c\u{202f}"),
            "a\\u{2003}b\\u{3000}c\\u{202f}"
        );
        assert_eq!(
            escape("bob\u{fe0f}\u{e0041}\u{3164}"),
            "bob\\u{fe0f}\\u{e0041}\\u{3164}"
        );
        // NFC as it is; the same name in NFD with its combining mark escaped.
        assert_eq!(escape("Jos\u{e9}"), "Jos\u{e9}");
        assert!(matches!(escape("Jos\u{e9}"), Cow::Borrowed(_)));
        assert_eq!(escape("Jose\u{301}"), "Jose\\u{301}");
        // A singleton NFC replaces (ANGSTROM SIGN), and Hangul in jamo.
        assert_eq!(escape("\u{212b}"), "\\u{212b}");
        assert_eq!(
            escape("\u{1112}\u{1161}\u{11ab}"),
            "\u{1112}\\u{1161}\\u{11ab}"
        );
        assert_eq!(escape("\u{d55c}"), "\u{d55c}");
        // Text in NFC that holds combining marks (Devanagari, a mark with no
        // precomposed form) is shown as it is.
        assert_eq!(
            escape("\u{939}\u{93f}\u{902}\u{926}\u{940}"),
            "\u{939}\u{93f}\u{902}\u{926}\u{940}"
        );
        assert_eq!(escape("q\u{303}"), "q\u{303}");
        // In a tail line too, and in the strings of a JSON value.
        assert_ne!(
            line_value(Some("\"\u{a0}bob\"")),
            line_value(Some("\" bob\""))
        );
        assert_eq!(line_value(Some("[\"e\u{301}\"]")), "[\"e\\u0301\"]");
    }

    #[test]
    fn lookalikes_of_other_scripts_are_shown_apart_and_one_script_as_it_is() {
        // Latin `admin`; Cyrillic U+0430 and U+0456 in it; all-Cyrillic `орѕ` (`ops`).
        assert_eq!(escape("admin"), "admin");
        assert_eq!(escape("\u{430}dmin"), "\\u{430}dmin");
        assert_eq!(escape("adm\u{456}n"), "adm\\u{456}n");
        assert_eq!(escape("\u{43e}\u{440}\u{455}"), "\\u{43e}\\u{440}\\u{455}");
        assert_eq!(escape("\u{ff44}emo"), "\\u{ff44}emo");
        // One script that does not read as ASCII: as it is.
        for name in [
            "Иван",
            "Jürgen",
            "José",
            "田中",
            "たなか太郎",
            "김민준",
            "Ελένη",
            "é ✓",
        ] {
            assert_eq!(escape(name), name);
        }
        assert_ne!(
            line_value(Some("\"\u{430}dmin\"")),
            line_value(Some("\"admin\""))
        );
    }

    #[test]
    fn csv_cells_do_not_start_a_formula() {
        assert_eq!(csv_cell("", "=1+1"), "'=1+1");
        assert_eq!(csv_cell("", "@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("", "-2"), "'-2");
        assert_eq!(csv_cell("", "+x"), "'+x");
        assert_eq!(csv_cell("", "a=b"), "a=b");
        assert_eq!(csv_cell("", "\r=x"), "\\r=x");
    }

    #[test]
    fn a_csv_cell_starting_with_a_quote_is_not_taken_for_a_guarded_formula() {
        assert_eq!(csv_cell("", "'=1+1"), "''=1+1");
        assert_ne!(csv_cell("", "'=1+1"), csv_cell("", "=1+1"));
        assert_eq!(csv_cell("", "'quoted"), "''quoted");
    }
}
