//! Time literals finer than the millisecond, compared with the time columns, are
//! refused.
//!
//! `timestamp` and `serverTimestamp` are whole milliseconds (the event model's
//! precision). DataFusion compares a column with a text literal by casting the text to
//! the column's type, which cuts it down to its millisecond: `timestamp <
//! '2026-11-29T10:00:11.0001Z'` left out an event at `10:00:11.000`, `timestamp =
//! '…11.000000001Z'` found it, answers that are wrong without a word. The command
//! line's `--since`/`--until` round such an end exactly (`window.rs`); a statement's
//! comparisons can not all be (`=` with a finer instant holds for no event), so they
//! are refused, naming the literal and where it is, before anything is planned.
//!
//! So is a literal with a leap second (second `60`, RFC 3339 §5.7): the event model
//! reads `10:30:60Z` as second 59 of its minute (`10:30:59.000Z`, docs/protocol.md), as
//! the ingest, `--since`/`--until` and de-duplication do, while the engine reads it as
//! the next minute (`10:31:00`): `timestamp = '<the text an event was sent with>'`
//! found nothing and `timestamp < '…'` took in the events of the second after it.
//!
//! This reads the statement's text, so it sees literals only; the same times written
//! as expressions (`to_timestamp('…')`, `TIMESTAMP '…' + INTERVAL '…'`) are refused
//! by their value after planning (`expressions`).

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement};
use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Value, ValueWithSpan, Visit, Visitor};

use crate::error::QueryError;
use crate::schema::Column;

pub(crate) mod expressions;

/// Refuses `statement` when it compares a time column with a literal finer than the
/// millisecond.
pub(crate) fn check(statement: &Statement) -> Result<(), QueryError> {
    let mut finder = Finder;
    let found = match statement {
        Statement::Statement(s) => s.visit(&mut finder),
        Statement::Explain(e) => return check(&e.statement),
        Statement::CopyTo(c) => match &c.source {
            CopyToSource::Query(q) => q.visit(&mut finder),
            CopyToSource::Relation(_) => ControlFlow::Continue(()),
        },
        Statement::CreateExternalTable(_) | Statement::Reset(_) => ControlFlow::Continue(()),
    };
    match found {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(e) => Err(e),
    }
}

struct Finder;

impl Visitor for Finder {
    type Break = QueryError;

    fn pre_visit_expr(&mut self, expr: &Expr) -> ControlFlow<QueryError> {
        let (column, literals): (&Expr, Vec<&Expr>) = match expr {
            Expr::BinaryOp { left, op, right } if compares(op) => {
                if time_column(left).is_some() {
                    (left, vec![right])
                } else {
                    (right, vec![left])
                }
            }
            Expr::Between {
                expr, low, high, ..
            } => (expr, vec![low, high]),
            Expr::InList { expr, list, .. } => (expr, list.iter().collect()),
            _ => return ControlFlow::Continue(()),
        };
        let Some(name) = time_column(column) else {
            return ControlFlow::Continue(());
        };
        for literal in literals {
            let Some((text, at)) = text_of(literal) else {
                continue;
            };
            let literal = text.to_owned();
            if finer_than_ms(text) {
                return ControlFlow::Break(QueryError::FinerThanMillisecond {
                    literal,
                    column: name.to_owned(),
                    at,
                    from: None,
                });
            }
            if leap_second(text) {
                return ControlFlow::Break(QueryError::LeapSecond {
                    literal,
                    column: name.to_owned(),
                    at,
                    from: None,
                });
            }
        }
        ControlFlow::Continue(())
    }
}

fn compares(op: &BinaryOperator) -> bool {
    matches!(
        op,
        BinaryOperator::Eq
            | BinaryOperator::NotEq
            | BinaryOperator::Lt
            | BinaryOperator::LtEq
            | BinaryOperator::Gt
            | BinaryOperator::GtEq
    )
}

/// The name of the time column `expr` is (`timestamp`, `serverTimestamp`, also with a
/// table name before it).
fn time_column(expr: &Expr) -> Option<&'static str> {
    let ident = match expr {
        Expr::Identifier(i) => i,
        Expr::CompoundIdentifier(parts) => parts.last()?,
        _ => return None,
    };
    [Column::Timestamp, Column::ServerTimestamp]
        .into_iter()
        .map(Column::name)
        .find(|name| ident.value.eq_ignore_ascii_case(name))
}

/// The text of a text literal (also as `TIMESTAMP '…'` or cast), and where it starts
/// (`line L, column C`, when the parser knows).
fn text_of(expr: &Expr) -> Option<(&str, Option<(u64, u64)>)> {
    let value: &ValueWithSpan = match expr {
        Expr::Value(v) => v,
        Expr::TypedString(t) => &t.value,
        Expr::Cast { expr, .. } | Expr::Nested(expr) => return text_of(expr),
        _ => return None,
    };
    let text = match &value.value {
        Value::SingleQuotedString(s) | Value::DoubleQuotedString(s) => s.as_str(),
        _ => return None,
    };
    let start = value.span.start;
    Some((text, (start.line > 0).then_some((start.line, start.column))))
}

/// Whether RFC 3339-like text `t` (`2026-11-29T10:00:11.0001Z`, also with a space for
/// the `T`) has a non-zero digit below the millisecond in its seconds' fraction.
fn finer_than_ms(t: &str) -> bool {
    let b = t.as_bytes();
    let looks_like_a_date = b.len() >= 10 && b[4] == b'-' && b[7] == b'-';
    // The fraction follows the seconds: `:SS.` after the date.
    let Some(dot) = t.get(10..).and_then(|rest| rest.find('.')).map(|i| i + 10) else {
        return false;
    };
    let seconds = dot >= 3 && b[dot - 3] == b':';
    let digits: &[u8] = &b[dot + 1..];
    let n = digits.iter().take_while(|c| c.is_ascii_digit()).count();
    looks_like_a_date && seconds && n > 3 && digits[3..n].iter().any(|&c| c != b'0')
}

/// Whether RFC 3339-like text `t` (`2026-11-23T23:59:60Z`, also with a space or a `t`
/// for the `T`) has the second `60`.
fn leap_second(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':'
        && &b[17..19] == b"60"
        && b.get(19).is_none_or(|c| !c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leap_second_is_told_from_other_seconds() {
        for leap in [
            "2026-11-23T23:59:60Z",
            "2026-11-23 10:30:60.5",
            "2026-11-23t15:59:60-08:00",
        ] {
            assert!(leap_second(leap), "{leap}");
        }
        for other in [
            "2026-11-23T23:59:59Z",
            "2026-11-23T23:60:00Z",
            "2026-11-23",
            "2026-11-23T23:59:600Z",
            "seconds: 60",
        ] {
            assert!(!leap_second(other), "{other}");
        }
    }

    #[test]
    fn a_fraction_finer_than_the_millisecond_is_told_from_zeros_below_it() {
        for finer in [
            "2026-11-29T10:00:11.0001Z",
            "2026-11-29 10:00:11.000000001",
            "2026-11-29T10:00:11.1234+01:00",
        ] {
            assert!(finer_than_ms(finer), "{finer}");
        }
        for whole in [
            "2026-11-29T10:00:11.000Z",
            "2026-11-29T10:00:11.120000Z",
            "2026-11-29T10:00:11Z",
            "2026-11-29",
            "not a time: 1.23456",
            "2026-11-29T10:00:11.",
        ] {
            assert!(!finer_than_ms(whole), "{whole}");
        }
    }
}
