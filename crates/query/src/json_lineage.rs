//! Which columns of an answer hold JSON values in every row: decided from where each
//! column comes from in the statement's plan, not from the engine's field metadata
//! alone.
//!
//! The engine carries the `events` table's [`JSON_VALUE_KEY`] marker with a column it
//! passes on as it is, and drops it from a column it computes. Where it *merges* columns,
//! it is too generous: the schema of a `UNION` keeps the metadata of any branch that
//! has some (DataFusion's `intersect_metadata_for_union` skips the branches without
//! metadata, "from NULL literals or computed expressions", and the physical union
//! extends one branch's metadata with the others'). So `SELECT message ... UNION ALL
//! SELECT json_as_text(message, 'error', 'message') ...` kept the marker, and the error
//! texts `"404"` and `"[]"` were answered as the number 404 and an empty array. And
//! the other way round, a `CASE` whose every branch is the message carries no marker,
//! and the messages were answered as strings.
//!
//! [`json_columns`] walks the plan: a column is JSON when every row's value is a JSON
//! value the statement passed on as it is (the message, under any name, through a
//! subquery, join, sort, filter or limit; a `CAST` to text of one; a `CASE` or `UNION`
//! each of whose branches is one, or `NULL`), and text otherwise. Where the walk does
//! not know a plan node or an expression, it keeps the engine's word (the marker on the
//! field), as long as every column the expression reads is JSON by the walk.
//! [`marked`] then sets or removes the marker on the answer's columns by it.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::{JoinType, ScalarValue};
use datafusion::logical_expr::{Expr, LogicalPlan};

use crate::error::QueryError;
use crate::json_values::{is_json_value, JSON_VALUE_KEY};

/// What a column holds, as far as JSON output goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A JSON value the statement passed on as it is, in every row (or a null).
    Json,
    /// Text (or any other value): written as what it is.
    Text,
    /// Only nulls (`NULL`): a null either way; a branch of `NULL` leaves a `UNION` or
    /// `CASE` of JSON values JSON.
    Null,
}

/// The [`Kind`] of each output column of `plan`.
pub(crate) fn json_columns(plan: &LogicalPlan) -> Vec<Kind> {
    let engine_says = || said_by_engine(plan);
    match plan {
        LogicalPlan::Union(union) => {
            let branches: Vec<Vec<Kind>> = union.inputs.iter().map(|i| json_columns(i)).collect();
            (0..plan.schema().fields().len())
                .map(|i| {
                    merged(
                        branches
                            .iter()
                            .map(|b| b.get(i).copied().unwrap_or(Kind::Text)),
                    )
                })
                .collect()
        }
        LogicalPlan::Projection(p) => {
            let input = json_columns(&p.input);
            let fields = plan.schema().fields();
            p.expr
                .iter()
                .zip(fields.iter())
                .map(|(e, f)| of_expr(e, &p.input, &input, is_json_value(f)))
                .collect()
        }
        LogicalPlan::Aggregate(a)
            if a.group_expr.len() + a.aggr_expr.len() == plan.schema().fields().len() =>
        {
            let input = json_columns(&a.input);
            a.group_expr
                .iter()
                .chain(&a.aggr_expr)
                .zip(plan.schema().fields().iter())
                .map(|(e, f)| of_expr(e, &a.input, &input, is_json_value(f)))
                .collect()
        }
        LogicalPlan::Window(w) => {
            let input = json_columns(&w.input);
            let fields = plan.schema().fields();
            if input.len() + w.window_expr.len() != fields.len() {
                return engine_says();
            }
            let mut kinds = input.clone();
            kinds.extend(
                w.window_expr
                    .iter()
                    .zip(fields.iter().skip(input.len()))
                    .map(|(e, f)| of_expr(e, &w.input, &input, is_json_value(f))),
            );
            kinds
        }
        LogicalPlan::Join(j) => {
            let left = json_columns(&j.left);
            let right = json_columns(&j.right);
            let mut kinds = match j.join_type {
                JoinType::LeftSemi | JoinType::LeftAnti | JoinType::LeftMark => left,
                JoinType::RightSemi | JoinType::RightAnti | JoinType::RightMark => right,
                JoinType::Inner | JoinType::Left | JoinType::Right | JoinType::Full => {
                    left.into_iter().chain(right).collect()
                }
            };
            // The mark column of a mark join: a boolean.
            kinds.resize(plan.schema().fields().len(), Kind::Text);
            kinds
        }
        // Nodes that pass their one input's columns on as they are.
        LogicalPlan::Filter(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::Repartition(_)
        | LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Distinct(datafusion::logical_expr::Distinct::All(_)) => {
            match plan.inputs().as_slice() {
                [input] if input.schema().fields().len() == plan.schema().fields().len() => {
                    json_columns(input)
                }
                _ => engine_says(),
            }
        }
        _ => engine_says(),
    }
}

/// The engine's word on `plan`'s columns: its fields' marker.
fn said_by_engine(plan: &LogicalPlan) -> Vec<Kind> {
    plan.schema()
        .fields()
        .iter()
        .map(|f| {
            if is_json_value(f) {
                Kind::Json
            } else {
                Kind::Text
            }
        })
        .collect()
}

/// The kind of a column made of branches of these kinds (a `UNION`'s inputs, a
/// `CASE`'s results): JSON when each is JSON or `NULL` and one is JSON.
fn merged(kinds: impl IntoIterator<Item = Kind>) -> Kind {
    let mut out = Kind::Null;
    for k in kinds {
        match k {
            Kind::Text => return Kind::Text,
            Kind::Json => out = Kind::Json,
            Kind::Null => {}
        }
    }
    out
}

/// The kind of `e`, an expression over `input` (whose columns are of `kinds`);
/// `engine`: whether the engine marks its field.
fn of_expr(e: &Expr, input: &LogicalPlan, kinds: &[Kind], engine: bool) -> Kind {
    match e {
        Expr::Alias(a) => of_expr(&a.expr, input, kinds, engine),
        Expr::Column(c) => match input.schema().index_of_column(c) {
            Ok(i) => kinds.get(i).copied().unwrap_or(Kind::Text),
            Err(_) => from_engine(engine),
        },
        Expr::Literal(ScalarValue::Null, _) => Kind::Null,
        Expr::Literal(..) => Kind::Text,
        // The same text as text: still the JSON it was.
        Expr::Cast(c) if is_text(c.field.data_type()) => of_expr(&c.expr, input, kinds, engine),
        Expr::TryCast(c) if is_text(c.field.data_type()) => of_expr(&c.expr, input, kinds, engine),
        Expr::Cast(_) | Expr::TryCast(_) => Kind::Text,
        Expr::Case(case) => merged(
            case.when_then_expr
                .iter()
                .map(|(_, then)| then.as_ref())
                .chain(case.else_expr.as_deref())
                .map(|branch| of_expr(branch, input, kinds, false))
                // No ELSE: a null where no branch matches.
                .chain(case.else_expr.is_none().then_some(Kind::Null)),
        ),
        // Any other expression (an aggregate such as `first_value(message)`, a
        // function): as the engine marks it, if every column it reads is JSON.
        other => {
            let reads_json = other.column_refs().into_iter().all(|c| {
                input
                    .schema()
                    .index_of_column(c)
                    .map_or(true, |i| kinds.get(i) != Some(&Kind::Text))
            });
            from_engine(engine && reads_json)
        }
    }
}

fn from_engine(json: bool) -> Kind {
    if json {
        Kind::Json
    } else {
        Kind::Text
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// `batches` with [`JSON_VALUE_KEY`] on the text columns `kinds` says are JSON, and on
/// no other. Columns beyond `kinds` (none, unless the engine answered other columns than
/// its plan said) keep their fields.
pub(crate) fn marked(
    batches: Vec<RecordBatch>,
    kinds: &[Kind],
) -> Result<Vec<RecordBatch>, QueryError> {
    let Some(first) = batches.first() else {
        return Ok(batches);
    };
    let schema = first.schema();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let json = kinds
                .get(i)
                .map(|k| *k == Kind::Json && is_text(f.data_type()));
            match json {
                Some(true) if !is_json_value(f) => {
                    let mut metadata = f.metadata().clone();
                    metadata.insert(
                        JSON_VALUE_KEY.to_owned(),
                        crate::json_values::FROM_EVENTS_MESSAGE.to_owned(),
                    );
                    f.as_ref().clone().with_metadata(metadata)
                }
                Some(false) if is_json_value(f) => {
                    let metadata: HashMap<String, String> = f
                        .metadata()
                        .iter()
                        .filter(|(k, _)| k.as_str() != JSON_VALUE_KEY)
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect();
                    f.as_ref().clone().with_metadata(metadata)
                }
                _ => f.as_ref().clone(),
            }
        })
        .collect();
    if fields
        .iter()
        .zip(schema.fields())
        .all(|(a, b)| a == b.as_ref())
    {
        return Ok(batches);
    }
    let schema = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    batches
        .into_iter()
        .map(|b| {
            RecordBatch::try_new(Arc::clone(&schema), b.columns().to_vec())
                .map_err(QueryError::Output)
        })
        .collect()
}
