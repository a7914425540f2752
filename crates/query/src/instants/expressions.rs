//! Time expressions compared with a time column, refused by their value: the rule of
//! the literals (the parent module) for every way of writing a constant time.
//!
//! The parent module reads the statement's text, so it sees a bare string or
//! `TIMESTAMP` literal only. The same instant written as `to_timestamp('…11.0001Z')`,
//! `arrow_cast('…', 'Timestamp(Microsecond, None)')` or `TIMESTAMP '…11.0001Z' +
//! INTERVAL '0 seconds'` is a nanosecond or microsecond time, and the engine's
//! optimizer (`unwrap_cast_in_comparison`) moves the comparison onto the column's
//! millisecond type by casting the constant, which cuts it to its millisecond: `<` left
//! out the event at `…11.000`, without a word. So each expression compared with a time
//! column (`=`, `<>`, `<`, `<=`, `>`, `>=`, `IS [NOT] DISTINCT FROM`, `BETWEEN`, `IN`, a
//! join's condition; anywhere in the statement: `WHERE`, `ON`, `CASE`, a subquery) is
//! folded to its value the way the optimizer folds it (DataFusion's
//! [`ExprSimplifier`], on the planned statement before type coercion and
//! optimization), and refused when that value is an instant finer than the millisecond,
//! with the literals' error.
//!
//! A time column is any expression of the columns' type (timestamp, milliseconds), also
//! under a cast (`CAST(timestamp AS TIMESTAMP)`: the optimizer takes the cast off the
//! column and puts it on the constant). Only constants are folded: literals, casts,
//! arithmetic, `CASE` and functions whose answer depends on their arguments alone
//! (immutable). An expression of a column, a subquery or a function of the moment
//! (`now()`, stable: its value is known when the query runs) is left as it is.
//!
//! A leap second (second `60`) in a text inside such an expression
//! (`to_timestamp('2026-11-23T10:30:60Z')`) is refused, not answered: the store keeps an
//! event sent at `10:30:60` at `10:30:59.000` (the event model's rule, docs/protocol.md),
//! while the engine reads the text as `10:31:00`, and once folded that value can no
//! longer be told from the next minute's own `10:31:00`; reading the text the store's
//! way would mean rewriting the arguments of any function that takes a time as text.
//! The literals' check refuses the same text, so one rule holds. A `60` read through a
//! format of one's own (`to_timestamp('60', '%S')`) is not an RFC 3339 text and is not
//! seen.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, TimeUnit};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, DFSchemaRef, ScalarValue};
use datafusion::config::ConfigOptions;
use datafusion::logical_expr::expr::{Alias, Between, BinaryExpr, Cast, InList, TryCast};
use datafusion::logical_expr::simplify::SimplifyContext;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan, Operator, Volatility};
use datafusion::optimizer::simplify_expressions::ExprSimplifier;

use super::{finer_than_ms, leap_second};
use crate::error::QueryError;

/// Refuses `plan` (as planned, before type coercion and optimization) when it compares
/// a time column with a constant whose value is finer than the millisecond or holds a
/// leap second.
pub(crate) fn check(plan: &LogicalPlan, config: Arc<ConfigOptions>) -> Result<(), QueryError> {
    // No time of the query's start: `now()` is not folded (left as it is, see above).
    let folder = Folder {
        simplifier: ExprSimplifier::new(
            SimplifyContext::builder()
                .with_config_options(config)
                .build(),
        ),
        constants: DFSchema::empty(),
    };
    let mut found = None;
    // An error of the walk itself is none of this check's business: the engine meets
    // what is wrong when it plans on.
    let _ = plan.apply_with_subqueries(|node| {
        found = folder.in_node(node);
        Ok(match found {
            Some(_) => TreeNodeRecursion::Stop,
            None => TreeNodeRecursion::Continue,
        })
    });
    match found {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

struct Folder {
    simplifier: ExprSimplifier,
    /// The schema constants are typed against: none, they have no columns.
    constants: DFSchema,
}

impl Folder {
    /// The first refused comparison among `node`'s expressions.
    fn in_node(&self, node: &LogicalPlan) -> Option<QueryError> {
        let schema = input_schema(node);
        if let LogicalPlan::Join(join) = node {
            for (left, right) in &join.on {
                let e = self.compared(left, [right], &schema);
                let e = e.or_else(|| self.compared(right, [left], &schema));
                if e.is_some() {
                    return e;
                }
            }
        }
        let mut found = None;
        let _ = node.apply_expressions(|top| {
            top.apply(|e| {
                found = self.in_expr(e, &schema);
                Ok(match found {
                    Some(_) => TreeNodeRecursion::Stop,
                    None => TreeNodeRecursion::Continue,
                })
            })
        });
        found
    }

    /// The refusal of `e` itself when it is a comparison (not of its parts).
    fn in_expr(&self, e: &Expr, schema: &DFSchema) -> Option<QueryError> {
        match e {
            Expr::BinaryExpr(BinaryExpr { left, op, right }) if compares(*op) => self
                .compared(left, [&**right], schema)
                .or_else(|| self.compared(right, [&**left], schema)),
            Expr::Between(Between {
                expr, low, high, ..
            }) => self.compared(expr, [&**low, &**high], schema),
            Expr::InList(InList { expr, list, .. }) => self.compared(expr, list, schema),
            _ => None,
        }
    }

    /// The refusal of the first of `others` compared with `side`, when `side` is a
    /// time column.
    fn compared<'a>(
        &self,
        side: &Expr,
        others: impl IntoIterator<Item = &'a Expr>,
        schema: &DFSchema,
    ) -> Option<QueryError> {
        if constant(side) {
            return None;
        }
        let column = time_column(side, schema)?;
        others
            .into_iter()
            .filter(|other| constant(other))
            .find_map(|other| self.refusal(other, &column))
    }

    /// Why the constant `e`, compared with `column`, is refused, if it is.
    fn refusal(&self, e: &Expr, column: &str) -> Option<QueryError> {
        // A bare literal is the parent module's, which names where it is; here only
        // the forms it does not see say what they were written as.
        let from = (!matches!(e, Expr::Literal(..))).then(|| written(e));
        if let Some(text) = texts(e).into_iter().find(|t| leap_second(t)) {
            return Some(QueryError::LeapSecond {
                literal: text,
                column: column.to_owned(),
                at: None,
                from,
            });
        }
        let finer = |literal: String| QueryError::FinerThanMillisecond {
            literal,
            column: column.to_owned(),
            at: None,
            from: from.clone(),
        };
        match self.fold(e)? {
            ScalarValue::TimestampMicrosecond(Some(us), _) if us % 1_000 != 0 => {
                Some(finer(instant(us.saturating_mul(1_000))))
            }
            ScalarValue::TimestampNanosecond(Some(ns), _) if ns % 1_000_000 != 0 => {
                Some(finer(instant(ns)))
            }
            ScalarValue::Utf8(Some(t))
            | ScalarValue::LargeUtf8(Some(t))
            | ScalarValue::Utf8View(Some(t)) => {
                if leap_second(&t) {
                    Some(QueryError::LeapSecond {
                        literal: t,
                        column: column.to_owned(),
                        at: None,
                        from: from.clone(),
                    })
                } else if finer_than_ms(&t) {
                    Some(finer(t))
                } else {
                    None
                }
            }
            _ => None,
        }
    }

    /// The value of the constant `e`, as the optimizer folds it; `None` when it does
    /// not fold to one value (an error is the engine's to report when it runs).
    fn fold(&self, e: &Expr) -> Option<ScalarValue> {
        let typed = self.simplifier.coerce(e.clone(), &self.constants).ok()?;
        match self.simplifier.simplify(typed).ok()? {
            Expr::Literal(value, _) => Some(value),
            _ => None,
        }
    }
}

/// The schema `node`'s expressions are typed against: its inputs' (both sides of a
/// join), or its own when it has none.
fn input_schema(node: &LogicalPlan) -> DFSchemaRef {
    match node.inputs().as_slice() {
        [] => Arc::clone(node.schema()),
        [one] => Arc::clone(one.schema()),
        many => {
            let mut merged = DFSchema::empty();
            for input in many {
                merged.merge(input.schema());
            }
            Arc::new(merged)
        }
    }
}

fn compares(op: Operator) -> bool {
    matches!(
        op,
        Operator::Eq
            | Operator::NotEq
            | Operator::Lt
            | Operator::LtEq
            | Operator::Gt
            | Operator::GtEq
            | Operator::IsDistinctFrom
            | Operator::IsNotDistinctFrom
    )
}

/// The name of the time column `e` is (its expression when it is not a column): an
/// expression of the columns' type, milliseconds, also under casts and aliases.
fn time_column(e: &Expr, schema: &DFSchema) -> Option<String> {
    let mut inner = e;
    loop {
        if let Ok(DataType::Timestamp(TimeUnit::Millisecond, _)) = inner.get_type(schema) {
            return Some(match inner {
                Expr::Column(c) => c.name.clone(),
                other => other.human_display().to_string(),
            });
        }
        inner = match inner {
            Expr::Cast(Cast { expr, .. })
            | Expr::TryCast(TryCast { expr, .. })
            | Expr::Alias(Alias { expr, .. }) => expr,
            _ => return None,
        };
    }
}

/// Whether `e` is a constant: literals, casts, arithmetic, `CASE` and immutable
/// functions only (no column, subquery, aggregate, placeholder or `now()`).
fn constant(e: &Expr) -> bool {
    !e.exists(|x| {
        Ok(match x {
            Expr::Literal(..)
            | Expr::Alias(_)
            | Expr::BinaryExpr(_)
            | Expr::Cast(_)
            | Expr::TryCast(_)
            | Expr::Negative(_)
            | Expr::Case(_) => false,
            Expr::ScalarFunction(f) => f.func.signature().volatility != Volatility::Immutable,
            _ => true,
        })
    })
    .unwrap_or(true)
}

/// The texts of the string literals in `e`.
fn texts(e: &Expr) -> Vec<String> {
    let mut found = Vec::new();
    let _ = e.apply(|x| {
        if let Expr::Literal(
            ScalarValue::Utf8(Some(t))
            | ScalarValue::LargeUtf8(Some(t))
            | ScalarValue::Utf8View(Some(t)),
            _,
        ) = x
        {
            found.push(t.clone());
        }
        Ok(TreeNodeRecursion::Continue)
    });
    found
}

/// `e` as SQL-like text for a message: texts quoted, functions, casts and intervals
/// as one writes them (`to_timestamp('…')`, `CAST('…' AS Timestamp(ns)) + INTERVAL '0
/// secs'`; the plan keeps no position or text of what was written); the engine's own
/// display for the rest.
fn written(e: &Expr) -> String {
    use datafusion::arrow::util::display::array_value_to_string;
    match e {
        Expr::Literal(
            ScalarValue::Utf8(Some(t))
            | ScalarValue::LargeUtf8(Some(t))
            | ScalarValue::Utf8View(Some(t)),
            _,
        ) => format!("'{}'", t.replace('\'', "''")),
        Expr::Literal(v, _) => {
            let text = v
                .to_array()
                .ok()
                .and_then(|a| array_value_to_string(a.as_ref(), 0).ok())
                .unwrap_or_else(|| v.to_string());
            match v.data_type() {
                DataType::Interval(_) => format!("INTERVAL '{text}'"),
                _ => text,
            }
        }
        Expr::Cast(Cast { expr, field }) => {
            format!("CAST({} AS {})", written(expr), field.data_type())
        }
        Expr::TryCast(TryCast { expr, field }) => {
            format!("TRY_CAST({} AS {})", written(expr), field.data_type())
        }
        Expr::ScalarFunction(f) => {
            let args: Vec<String> = f.args.iter().map(written).collect();
            format!("{}({})", f.name(), args.join(", "))
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let operand = |x: &Expr| match x {
                Expr::BinaryExpr(_) => format!("({})", written(x)),
                _ => written(x),
            };
            format!("{} {op} {}", operand(left), operand(right))
        }
        Expr::Negative(x) => format!("-({})", written(x)),
        Expr::Alias(Alias { expr, .. }) => written(expr),
        other => other.human_display().to_string(),
    }
}

/// `ns` nanoseconds since 1970 as RFC 3339 in UTC, with as many fractional digits as
/// it needs (in 3s: `…11.000100Z`).
fn instant(ns: i64) -> String {
    chrono::DateTime::from_timestamp_nanos(ns).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_instant_is_written_with_the_digits_it_needs() {
        assert_eq!(
            instant(1_795_428_011_000_100_000),
            "2026-11-23T10:00:11.000100Z"
        );
        assert_eq!(
            instant(1_795_428_011_000_000_001),
            "2026-11-23T10:00:11.000000001Z"
        );
    }
}
