//! Columns an answer writes as the JSON value they hold: the `events` table's
//! `message`, and the values of `->` / `json_get`.
//!
//! Which column holds JSON is said by where it comes from, never by its name: the
//! `events` table gives its `message` field the metadata [`JSON_VALUE_KEY`], which the
//! engine keeps on the column wherever the statement passes it on as it is (`SELECT
//! message`, `message AS m`, through a subquery, a join, a sort); a text the statement
//! computes (`json_as_text(message, 'error', 'message') AS message`) carries none and is
//! written as the text it is. Before, any column *named* `message` whose text parsed as
//! JSON was written as JSON: the error text `"null"` was answered `null`, `"404"` the
//! number 404.
//!
//! `->` and `json_get` answer datafusion-functions-json's JSON union (an Arrow sparse
//! union of null, boolean, integer, float, string, array and object), which Arrow's JSON
//! writer cannot write ("Unsupported data type for JSON encoding: Union(...)") and its
//! text formatter writes in its debug form (`{object={"a":1}}`, `{int=200}`, `{str=200}`).
//! [`plain`] turns such a column into the JSON text of each value (`{"a":1}`, `200`,
//! `"200"`; SQL `NULL` for JSON `null` and a missing path), marked with
//! [`JSON_VALUE_KEY`], before any format writes it: the text in a table or CSV, the
//! value itself in JSON and NDJSON. A JSON union inside a list or struct
//! (`array_agg(message->'a')`) is refused with [`QueryError::JsonUnionInside`], naming
//! the column and the way out, never with Arrow's internals.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, RecordBatch, StringBuilder, UnionArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, SchemaRef};
use datafusion_functions_json::{JsonUnionEncoder, JsonUnionValue, JSON_UNION_DATA_TYPE};

use crate::error::QueryError;

/// Field metadata key of a column that JSON output writes as the JSON value its text
/// is, not as a string; its value says where the column comes from.
pub const JSON_VALUE_KEY: &str = "auditrail.json_value";
/// [`JSON_VALUE_KEY`]'s value on the `events` table's `message`.
pub(crate) const FROM_EVENTS_MESSAGE: &str = "events.message";
/// [`JSON_VALUE_KEY`]'s value on a column made of `->` / `json_get` values.
const FROM_JSON_GET: &str = "json_get";

/// Whether `field` holds JSON text to write as the value it is.
pub(crate) fn is_json_value(field: &Field) -> bool {
    field.metadata().contains_key(JSON_VALUE_KEY)
}

/// The metadata of the `events` table's `message` field.
pub(crate) fn events_message_metadata() -> HashMap<String, String> {
    HashMap::from([(JSON_VALUE_KEY.to_owned(), FROM_EVENTS_MESSAGE.to_owned())])
}

/// `batches` with each column of JSON union values as their JSON text, marked with
/// [`JSON_VALUE_KEY`] (the other columns as they are); refused when a list or struct
/// holds such values.
pub(crate) fn plain(batches: &[RecordBatch]) -> Result<Vec<RecordBatch>, QueryError> {
    let Some(first) = batches.first() else {
        return Ok(Vec::new());
    };
    let schema = first.schema();
    refuse_nested(&schema)?;
    if !schema.fields().iter().any(|f| is_json_union(f.data_type())) {
        return Ok(batches.to_vec());
    }
    let plain_schema = plain_schema(&schema);
    batches
        .iter()
        .map(|batch| {
            let columns = batch
                .columns()
                .iter()
                .map(|c| match c.as_any().downcast_ref::<UnionArray>() {
                    Some(u) if is_json_union(c.data_type()) => json_text(u),
                    _ => Ok(Arc::clone(c)),
                })
                .collect::<Result<Vec<_>, QueryError>>()?;
            RecordBatch::try_new(Arc::clone(&plain_schema), columns).map_err(QueryError::Output)
        })
        .collect()
}

/// `schema` as [`plain`] makes it.
pub(crate) fn plain_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<FieldRef> =
        schema
            .fields()
            .iter()
            .map(|f| {
                if is_json_union(f.data_type()) {
                    Arc::new(Field::new(f.name(), DataType::Utf8, true).with_metadata(
                        HashMap::from([(JSON_VALUE_KEY.to_owned(), FROM_JSON_GET.to_owned())]),
                    ))
                } else {
                    Arc::clone(f)
                }
            })
            .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn is_json_union(t: &DataType) -> bool {
    t == &*JSON_UNION_DATA_TYPE
}

/// The JSON text of each value of `union`; SQL `NULL` for JSON `null` (and a path the
/// message lacks, which `json_get` answers so).
fn json_text(union: &UnionArray) -> Result<ArrayRef, QueryError> {
    let encoder = JsonUnionEncoder::from_union(union.clone()).ok_or_else(|| {
        QueryError::Output(datafusion::arrow::error::ArrowError::InvalidArgumentError(
            "a column of JSON values is not of the JSON union type".to_owned(),
        ))
    })?;
    let mut out = StringBuilder::with_capacity(encoder.len(), encoder.len() * 8);
    for row in 0..encoder.len() {
        let text = match encoder.get_value(row) {
            JsonUnionValue::JsonNull => {
                out.append_null();
                continue;
            }
            JsonUnionValue::Array(text) | JsonUnionValue::Object(text) => text.to_owned(),
            JsonUnionValue::Bool(b) => b.to_string(),
            JsonUnionValue::Int(i) => i.to_string(),
            // A float beyond a double (`1e400`) is JSON `null`, as JSON output writes
            // every float column's.
            JsonUnionValue::Float(f) => serde_json::to_string(&f).map_err(QueryError::Json)?,
            JsonUnionValue::Str(s) => serde_json::to_string(s).map_err(QueryError::Json)?,
        };
        out.append_value(text);
    }
    Ok(Arc::new(out.finish()))
}

/// Refuses a column whose lists or structs hold JSON union values.
fn refuse_nested(schema: &Schema) -> Result<(), QueryError> {
    for field in schema.fields() {
        if !is_json_union(field.data_type()) && holds_json_union(field.data_type()) {
            return Err(QueryError::JsonUnionInside {
                column: field.name().clone(),
            });
        }
    }
    Ok(())
}

fn holds_json_union(t: &DataType) -> bool {
    match t {
        t if is_json_union(t) => true,
        DataType::List(f)
        | DataType::LargeList(f)
        | DataType::ListView(f)
        | DataType::LargeListView(f)
        | DataType::FixedSizeList(f, _)
        | DataType::Map(f, _) => holds_json_union(f.data_type()),
        DataType::Struct(fields) => fields.iter().any(|f| holds_json_union(f.data_type())),
        DataType::Union(fields, _) => fields.iter().any(|(_, f)| holds_json_union(f.data_type())),
        DataType::Dictionary(_, v) => holds_json_union(v),
        DataType::RunEndEncoded(_, v) => holds_json_union(v.data_type()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_json_values_is_found() {
        let list = DataType::List(Arc::new(Field::new(
            "item",
            JSON_UNION_DATA_TYPE.clone(),
            true,
        )));
        assert!(holds_json_union(&list));
        assert!(!holds_json_union(&DataType::Utf8));
    }
}
