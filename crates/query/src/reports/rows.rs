//! A report's rows written out for programs: JSON, NDJSON and CSV.
//!
//! A row's JSON is its serde derive, the one serializer of the report types: the event
//! server's `GET /v1/query?report=...` answer holds the rows so written, and the CLI's
//! `auditrail query <report> --format json|ndjson` writes the same objects (framed by
//! [`crate::output::write_json_lines`], as `query events` and `sql` are), so the
//! field names, units, number types and time format cannot differ between the two.
//!
//! CSV is made from that same JSON ([`batch`]): one column per field ([`ReportRow::COLUMNS`]),
//! then written by the CSV writer of every other answer ([`crate::output::write`]).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, BooleanArray, Float64Array, RecordBatch, StringArray};
use datafusion::arrow::array::{Int64Array, UInt64Array};
use datafusion::arrow::datatypes::{Field, Schema};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{ApiService, ComputeGroup, FailedLogins, HourCount, NodeUsage, UserActivity};
use crate::error::QueryError;

/// A row of a report.
pub trait ReportRow: Serialize {
    /// Its fields as its JSON names them, in the order they are written: the columns
    /// of its CSV (named in the header also when there is no row).
    const COLUMNS: &'static [&'static str];
}

impl ReportRow for UserActivity {
    const COLUMNS: &'static [&'static str] = &[
        "user",
        "lastActivity",
        "node",
        "msgType",
        "events",
        "failedLogins",
    ];
}

impl ReportRow for FailedLogins {
    const COLUMNS: &'static [&'static str] = &[
        "user",
        "attempts",
        "lastAttempt",
        "clientIps",
        "hasActivity",
        "invalidValues",
    ];
}

impl ReportRow for NodeUsage {
    const COLUMNS: &'static [&'static str] = &[
        "node",
        "events",
        "users",
        "failedLogins",
        "firstSeen",
        "lastSeen",
        "topics",
        "invalidValues",
    ];
}

impl ReportRow for HourCount {
    const COLUMNS: &'static [&'static str] = &["hour", "node", "events"];
}

impl ReportRow for ComputeGroup {
    const COLUMNS: &'static [&'static str] = &[
        "group",
        "usages",
        "wallTimeMs",
        "cpuTimeMs",
        "types",
        "invalidValues",
    ];
}

impl ReportRow for ApiService {
    const COLUMNS: &'static [&'static str] = &[
        "service",
        "queries",
        "outcomes",
        "msgTypes",
        "answers",
        "errors",
        "latency",
        "invalidValues",
    ];
}

/// Each row as one line of JSON text (no line break in it).
pub fn json_lines<T: Serialize>(rows: &[T]) -> Result<Vec<Vec<u8>>, QueryError> {
    rows.iter()
        .map(|r| serde_json::to_vec(r).map_err(QueryError::Json))
        .collect()
}

/// The rows as one record batch, a column per field of [`ReportRow::COLUMNS`], from
/// their JSON: a column whose values are all unsigned integers is `UInt64`, all
/// integers `Int64`, all numbers with a fraction `Float64` (so counts and sums stay
/// exact), all booleans `Boolean`; any other column is text: strings as they are
/// (times as their JSON writes them, RFC 3339 UTC with milliseconds), numbers as
/// written, lists and objects (`topics`, `clientIps`, `latency`) as their compact JSON
/// text. A null (a missing time, a service without latency) is an empty cell.
pub fn batch<T: ReportRow>(rows: &[T]) -> Result<RecordBatch, QueryError> {
    let objects: Vec<Map<String, Value>> = rows
        .iter()
        .map(
            |r| match serde_json::to_value(r).map_err(QueryError::Json)? {
                Value::Object(o) => Ok(o),
                // Every report row is a struct: this is a report type written otherwise.
                other => Ok(Map::from_iter([("value".to_owned(), other)])),
            },
        )
        .collect::<Result<_, QueryError>>()?;
    let mut fields = Vec::with_capacity(T::COLUMNS.len());
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(T::COLUMNS.len());
    for &name in T::COLUMNS {
        let values: Vec<&Value> = objects
            .iter()
            .map(|o| o.get(name).unwrap_or(&Value::Null))
            .collect();
        let column = column(&values);
        fields.push(Field::new(name, column.data_type().clone(), true));
        columns.push(column);
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).map_err(QueryError::Output)
}

/// One column from its values (see [`batch`]).
fn column(values: &[&Value]) -> ArrayRef {
    let present = || values.iter().filter(|v| !v.is_null());
    let some = present().next().is_some();
    if some && present().all(|v| v.as_u64().is_some()) {
        return Arc::new(values.iter().map(|v| v.as_u64()).collect::<UInt64Array>());
    }
    if some && present().all(|v| v.as_i64().is_some()) {
        return Arc::new(values.iter().map(|v| v.as_i64()).collect::<Int64Array>());
    }
    if some && present().all(|v| v.is_f64()) {
        return Arc::new(values.iter().map(|v| v.as_f64()).collect::<Float64Array>());
    }
    if some && present().all(|v| v.is_boolean()) {
        return Arc::new(values.iter().map(|v| v.as_bool()).collect::<BooleanArray>());
    }
    Arc::new(
        values
            .iter()
            .map(|v| match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                other => Some(other.to_string()),
            })
            .collect::<StringArray>(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)] // test code: a failed unwrap is a failed test

    use std::collections::BTreeMap;

    use auditrail_core::Timestamp;
    use datafusion::arrow::array::Array;
    use datafusion::arrow::datatypes::DataType;

    use super::*;
    use crate::reports::Latency;

    fn keys<T: Serialize>(row: &T) -> Vec<String> {
        match serde_json::to_value(row).unwrap() {
            Value::Object(o) => o.keys().cloned().collect(),
            other => panic!("{other}"),
        }
    }

    /// The CSV header is the JSON's field names: a field added, removed or renamed
    /// in a report type must be in `COLUMNS` too.
    #[test]
    fn columns_are_the_fields_the_json_writes() {
        fn same<T: ReportRow>(row: &T) {
            let mut written = keys(row);
            let mut columns: Vec<String> = T::COLUMNS.iter().map(|c| c.to_string()).collect();
            written.sort();
            columns.sort();
            assert_eq!(written, columns);
        }
        let t = Timestamp::from_unix_millis(0);
        same(&UserActivity {
            user: "u".into(),
            last_activity: t.unwrap(),
            node: "n".into(),
            msg_type: "m".into(),
            events: 1,
            failed_logins: 0,
        });
        same(&FailedLogins {
            user: None,
            attempts: 1,
            last_attempt: t,
            client_ips: vec![],
            has_activity: false,
            invalid_values: 0,
        });
        same(&NodeUsage {
            node: "n".into(),
            events: 1,
            users: 1,
            failed_logins: 0,
            first_seen: t,
            last_seen: t,
            topics: BTreeMap::new(),
            invalid_values: 0,
        });
        same(&HourCount {
            hour: t.unwrap(),
            node: "n".into(),
            events: 1,
        });
        same(&ComputeGroup {
            group: Some("g".into()),
            usages: 1,
            wall_time_ms: 1,
            cpu_time_ms: 1.0,
            types: BTreeMap::new(),
            invalid_values: 0,
        });
        same(&ApiService {
            service: Some("s".into()),
            queries: 1,
            outcomes: BTreeMap::new(),
            msg_types: BTreeMap::new(),
            answers: vec![],
            errors: vec![],
            latency: Some(Latency {
                count: 1,
                p50: 1.0,
                p90: 1.0,
                p99: 1.0,
                max: 1.0,
                mean: 1.0,
            }),
            invalid_values: 0,
        });
    }

    #[test]
    fn counts_stay_exact_integers_and_nested_values_are_json_text() {
        let rows = [ComputeGroup {
            group: Some("=x".into()),
            usages: u64::MAX,
            wall_time_ms: -5,
            cpu_time_ms: 2.5,
            types: BTreeMap::from([("LOCAL".to_owned(), 3)]),
            invalid_values: 0,
        }];
        let b = batch(&rows).unwrap();
        let usages = b.column(1).as_any().downcast_ref::<UInt64Array>().unwrap();
        assert_eq!(usages.value(0), u64::MAX);
        assert_eq!(b.column(2).data_type(), &DataType::Int64);
        assert_eq!(b.column(3).data_type(), &DataType::Float64);
        let types = b.column(4).as_any().downcast_ref::<StringArray>().unwrap();
        assert_eq!(types.value(0), r#"{"LOCAL":3}"#);
    }

    #[test]
    fn no_row_is_a_batch_with_every_column() {
        let b = batch::<NodeUsage>(&[]).unwrap();
        assert_eq!(b.num_rows(), 0);
        assert_eq!(b.num_columns(), NodeUsage::COLUMNS.len());
        assert!(b.column(0).is_empty());
    }
}
