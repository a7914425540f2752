//! DataFusion's errors said in auditrail's words: what is wrong and where in the
//! statement, with the cause, without the engine's wrappers.
//!
//! DataFusion's `Display` puts a prefix per layer of its error ("External error: ",
//! "Error during planning: ", "Arrow error: Cast error: ", "SQL error: ParserError(…)")
//! and the name of the optimizer rule that met it ("Optimizer rule
//! 'simplify_expressions' failed\ncaused by\n…"): the engine's structure, not what the
//! user wrote wrong. Here each layer gives only its message; a position the planner
//! knows (its `Diagnostic` span, collected with `sql_parser.collect_spans`) is added as
//! `(line L, column C)`.

use datafusion::arrow::error::ArrowError;
use datafusion::common::{Column, Diagnostic, SchemaError};
use datafusion::error::DataFusionError;
use datafusion::sql::sqlparser::parser::ParserError;

use crate::QueryError;

/// `e` in auditrail's words (see the module docs).
pub(crate) fn engine(e: &DataFusionError) -> String {
    let diagnostic = e.diagnostic();
    let mut text = words(e);
    if let Some(hint) = time_outside_nanoseconds(&text) {
        text = format!("{text}; {hint}");
    }
    if let Some(d) = diagnostic {
        for help in d.helps.iter().map(|h| &h.message) {
            if !text.contains(help.as_str()) {
                text = format!("{text}; {}", first_lower(help));
            }
        }
        if let Some(at) = d.span.map(|s| s.start).filter(|at| at.line > 0) {
            if !text.contains("(line ") {
                text = format!("{text} (line {}, column {})", at.line, at.column);
            }
        }
    }
    text
}

fn words(e: &DataFusionError) -> String {
    match e {
        DataFusionError::ArrowError(a, _) => arrow(a),
        DataFusionError::SQL(p, _) => parser(p),
        DataFusionError::SchemaError(s, _) => schema(s),
        DataFusionError::Plan(s) | DataFusionError::Execution(s) => plan(s),
        DataFusionError::NotImplemented(s)
            if s.contains("only supports a single SQL statement") =>
        {
            "the text holds more than one statement: give one (without `;` between statements)"
                .to_owned()
        }
        DataFusionError::NotImplemented(s) => format!("not supported by the query engine: {s}"),
        // The docs and users know this failure by these words (docs/query.md, "Memory").
        DataFusionError::ResourcesExhausted(s) => format!("Resources exhausted: {s}"),
        DataFusionError::Internal(s) => {
            format!("the query failed inside the query engine ({s})")
        }
        DataFusionError::External(b) => external(b.as_ref()),
        DataFusionError::Context(context, inner) if is_rule(context) => words(inner),
        DataFusionError::Context(context, inner) => {
            format!("{}: {}", first_lower(context), words(inner))
        }
        DataFusionError::Diagnostic(d, inner) => diagnosed(d, inner),
        DataFusionError::Collection(all) => all.iter().map(words).collect::<Vec<_>>().join("; "),
        DataFusionError::Shared(inner) => words(inner),
        DataFusionError::IoError(io) => io.to_string(),
        other => other.message().into_owned(),
    }
}

/// The planner's own words for a user (`table 'x' not found`) where DataFusion's
/// message names the table as the catalog does (`datafusion.public.x`).
fn diagnosed(d: &Diagnostic, inner: &DataFusionError) -> String {
    let inner_words = words(inner);
    if d.message.starts_with("table '") && d.message.ends_with("' not found") {
        return format!(
            "no table {} (the table is `{}`)",
            &d.message["table ".len()..d.message.len() - " not found".len()],
            crate::TABLE
        );
    }
    inner_words
}

/// What to do when a stored time is outside what DataFusion's time functions hold
/// (nanoseconds since 1970: the years 1677 to 2262), if `text` is such a failure:
/// `date_trunc`, `date_bin`, `to_char` and an interval of a difference fail the whole
/// statement on one event dated, say, 0001 or 2300 (a node whose clock was far off:
/// the ingest takes the years 0000 to 9999), in words that name neither the event nor
/// a way out ("Timestamp -62135596800000 out of range"). The number, milliseconds since
/// 1970 as the columns hold them, is named as the time it is.
fn time_outside_nanoseconds(text: &str) -> Option<String> {
    let ms_after = |prefix: &str| -> Option<i64> {
        let rest = &text[text.find(prefix)? + prefix.len()..];
        let end = rest
            .char_indices()
            .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
            .map_or(rest.len(), |(i, _)| i);
        rest[..end].parse().ok()
    };
    let ms = if text.contains(" out of range") {
        ms_after("Timestamp ")
    } else if text.contains("to Timestamp(ns)") && text.contains("exceeds the representable") {
        ms_after(" value ")
    } else if text.contains("Cannot cast to Interval(MonthDayNano)") {
        None
    } else {
        return None;
    };
    let which = ms
        .and_then(auditrail_core::Timestamp::from_unix_millis)
        .and_then(|t| t.fixed_width())
        .map(|t| format!(" ({})", String::from_utf8_lossy(&t)))
        .unwrap_or_default();
    Some(format!(
        "an event's time{which} is outside the years 1677 to 2262, which the query engine's \
         time functions cannot hold (an event from a node whose clock was far off): compute \
         on CAST(timestamp AS BIGINT), milliseconds since 1970, or leave such events out \
         (WHERE timestamp >= '1970-01-01') (docs/query.md, \"Times outside 1677 to 2262\")"
    ))
}

/// Names of DataFusion's analyzer and optimizer rules, which it puts around the error
/// of an expression it was simplifying: not the user's business.
fn is_rule(context: &str) -> bool {
    (context.starts_with("Optimizer rule '") && context.ends_with("' failed"))
        || (!context.is_empty()
            && context
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
}

fn external(e: &(dyn std::error::Error + Send + Sync + 'static)) -> String {
    if let Some(d) = e.downcast_ref::<DataFusionError>() {
        words(d)
    } else if let Some(a) = e.downcast_ref::<ArrowError>() {
        arrow(a)
    } else if let Some(q) = e.downcast_ref::<QueryError>() {
        q.to_string()
    } else {
        e.to_string()
    }
}

fn arrow(e: &ArrowError) -> String {
    match e {
        // A time literal outside what nanoseconds since 1970 hold.
        ArrowError::CastError(s) if s.contains("represented as nanoseconds") => format!(
            "{s}; for times outside the years 1677 to 2262 compare CAST(timestamp AS BIGINT), \
             milliseconds since 1970 (docs/query.md, \"Times outside 1677 to 2262\")"
        ),
        ArrowError::CastError(s)
        | ArrowError::ParseError(s)
        | ArrowError::ComputeError(s)
        | ArrowError::InvalidArgumentError(s)
        | ArrowError::SchemaError(s)
        | ArrowError::MemoryError(s) => s.clone(),
        ArrowError::ArithmeticOverflow(s) => format!("arithmetic overflow: {s}"),
        ArrowError::DivideByZero => "division by zero".to_owned(),
        ArrowError::NotYetImplemented(s) => format!("not supported by the query engine: {s}"),
        ArrowError::ExternalError(inner) => external(inner.as_ref()),
        other => other.to_string(),
    }
}

/// `syntax error: expected an expression, found the end of the statement` from
/// sqlparser's `Expected: an expression, found: EOF`; its position (` at Line: 1,
/// Column: 8`) as `(line 1, column 8)`.
fn parser(e: &ParserError) -> String {
    let message = match e {
        ParserError::ParserError(s) | ParserError::TokenizerError(s) => s.as_str(),
        ParserError::RecursionLimitExceeded => {
            return "the statement nests too deeply for the SQL parser".to_owned()
        }
    };
    let (message, at) = match message.rsplit_once(" at Line: ") {
        Some((m, at)) => match at.split_once(", Column: ") {
            Some((line, column)) => (m, Some(format!("line {line}, column {column}"))),
            None => (message, None),
        },
        None => (message, None),
    };
    let message = message
        .replacen("Expected: ", "expected ", 1)
        .replacen(", found: EOF", ", found the end of the statement", 1)
        .replacen(", found: ", ", found ", 1);
    match at {
        Some(at) => format!("syntax error: {message} ({at})"),
        None => format!("syntax error: {message}"),
    }
}

/// `no column 'Authuser' (column names are case-sensitive: did you mean 'authUser'?);
/// the columns: 'id', 'timestamp', …`.
fn schema(e: &SchemaError) -> String {
    match e {
        SchemaError::FieldNotFound {
            field,
            valid_fields,
        } => {
            let name = &field.name;
            let mut text = format!("no column {}", quoted(field));
            if let Some(same) = valid_fields
                .iter()
                .find(|c| c.name != *name && c.name.eq_ignore_ascii_case(name))
            {
                text += &format!(
                    " (column names are case-sensitive: did you mean {}?)",
                    quoted(&Column::from_name(&same.name))
                );
            }
            if !valid_fields.is_empty() {
                let mut names: Vec<String> = Vec::new();
                for c in valid_fields
                    .iter()
                    .map(|c| quoted(&Column::from_name(&c.name)))
                {
                    if !names.contains(&c) {
                        names.push(c);
                    }
                }
                text += &format!("; the columns: {}", names.join(", "));
            }
            text
        }
        other => other.to_string(),
    }
}

/// `'authUser'`, `'e.authUser'`: a column as the statement names it.
fn quoted(c: &Column) -> String {
    format!("'{}'", c.flat_name())
}

/// The two expressions and their positions (from 0) in DataFusion's refusal of a
/// projection whose expressions have the same name (`SELECT authUser, authUser`:
/// `Projections require unique expression names but the expression "events.authUser" at
/// position 0 and "events.authUser" at position 1 have the same name. Consider aliasing
/// ("AS") one of them.`), if `s` is one.
pub(crate) fn same_expression_names(s: &str) -> Option<(&str, usize, &str, usize)> {
    let rest = s
        .strip_prefix("Projections require unique expression names but the expression \"")?
        .strip_suffix(" have the same name. Consider aliasing (\"AS\") one of them.")?;
    let (rest, second_at) = rest.rsplit_once("\" at position ")?;
    let second_at = second_at.parse().ok()?;
    // An expression may hold `" at position ` itself (in a string literal): the
    // separator is the first one followed by a number and ` and "` (a literal holding
    // that too may be cut elsewhere: its message then quotes the expressions and
    // positions wrongly, but the refusal, its code and its advice are the same).
    rest.match_indices("\" at position ").find_map(|(i, sep)| {
        let after = &rest[i + sep.len()..];
        let (at, second) = after.split_once(" and \"")?;
        Some((&rest[..i], at.parse().ok()?, second, second_at))
    })
}

/// A planning or execution message, with DataFusion's wordings that name its own
/// internals or settings said for an auditrail user.
fn plan(s: &str) -> String {
    // The rule of the `columns` module, which DataFusion applies first to identical
    // expressions: said as that rule is, columns counted from 1 as in `ORDER BY 1`.
    if let Some((first, first_at, second, second_at)) = same_expression_names(s) {
        return format!(
            "the expressions `{first}` (column {}) and `{second}` (column {}) give two \
             columns of the same name: {}",
            first_at + 1,
            second_at + 1,
            crate::columns::NAME_THEM_APART
        );
    }
    if s == "No SQL statements were provided in the query string" {
        return "the statement is empty: give one SELECT (or WITH, EXPLAIN, SHOW, DESCRIBE)"
            .to_owned();
    }
    if let Some(name) = s
        .strip_prefix("table '")
        .and_then(|t| t.strip_suffix("' not found"))
    {
        let name = name.strip_prefix("datafusion.public.").unwrap_or(name);
        return format!("no table '{name}' (the table is `{}`)", crate::TABLE);
    }
    if let Some((function, suggestion)) = s
        .strip_prefix("Invalid function ")
        .and_then(|t| t.split_once(".\nDid you mean "))
    {
        return format!("unknown function {function} (did you mean {suggestion})");
    }
    s.to_owned()
}

fn first_lower(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if chars.clone().next().is_some_and(char::is_lowercase) => {
            c.to_lowercase().chain(chars).collect()
        }
        _ => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datafusions_refusal_of_two_expressions_of_one_name_is_read() {
        let s = "Projections require unique expression names but the expression \"events.authUser\" at position 0 and \"events.authUser\" at position 3 have the same name. Consider aliasing (\"AS\") one of them.";
        assert_eq!(
            same_expression_names(s),
            Some(("events.authUser", 0, "events.authUser", 3))
        );
        let tricky = "Projections require unique expression names but the expression \"Utf8(\"\" at position x\") AS a\" at position 0 and \"Int64(2) AS a\" at position 1 have the same name. Consider aliasing (\"AS\") one of them.";
        assert_eq!(
            same_expression_names(tricky),
            Some(("Utf8(\"\" at position x\") AS a", 0, "Int64(2) AS a", 1))
        );
        assert_eq!(same_expression_names("no column x"), None);
        assert!(plan(s).starts_with(
            "the expressions `events.authUser` (column 1) and `events.authUser` (column 4) give two columns of the same name: "
        ));
    }
}
