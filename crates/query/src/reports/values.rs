//! Reading typed values out of an answer's record batches.

use std::collections::HashMap;

use auditrail_core::Timestamp;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionContext;

use crate::error::QueryError;
use crate::Engine;

/// The rows of an answer, cell by cell.
pub(super) struct Rows {
    columns: HashMap<String, usize>,
    rows: Vec<Vec<ScalarValue>>,
}

/// One row.
pub(super) struct Row<'a> {
    columns: &'a HashMap<String, usize>,
    cells: &'a [ScalarValue],
}

impl Rows {
    pub(super) fn from_batches(batches: &[RecordBatch]) -> Result<Rows, QueryError> {
        let mut columns = HashMap::new();
        if let Some(b) = batches.first() {
            for (i, f) in b.schema().fields().iter().enumerate() {
                columns.insert(f.name().clone(), i);
            }
        }
        let mut rows = Vec::new();
        for b in batches {
            for r in 0..b.num_rows() {
                rows.push(
                    b.columns()
                        .iter()
                        .map(|a| ScalarValue::try_from_array(a, r))
                        .collect::<Result<Vec<_>, _>>()?,
                );
            }
        }
        Ok(Rows { columns, rows })
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = Row<'_>> {
        self.rows.iter().map(|cells| Row {
            columns: &self.columns,
            cells,
        })
    }
}

/// `sql` with each `{finite:<expr>}` written as `<expr>` when it is a finite number,
/// else NULL. A message keeps its numbers as sent (`1e400` is valid JSON, stored
/// byte for byte), and `json_get_float` reads one beyond the range of a double as
/// infinity: one such event made a report's figure for its whole group infinite or
/// NaN (`inf - inf`), which a JSON answer writes as `null` (the maximum, the mean and
/// the upper percentiles of a service's latency, a project's CPU time). Such a number
/// is no measurement, and is read as absent, as a missing one is.
pub(super) fn finite_numbers(sql: &str) -> String {
    const OPEN: &str = "{finite:";
    let mut out = String::with_capacity(sql.len() + 128);
    let mut rest = sql;
    while let Some(at) = rest.find(OPEN) {
        out.push_str(&rest[..at]);
        let inner = &rest[at + OPEN.len()..];
        // The expression ends at the `}` that closes the placeholder: expressions here
        // are function calls, whose parentheses balance and which hold no braces.
        let Some(end) = inner.find('}') else {
            out.push_str(&rest[at..]);
            return out;
        };
        let expr = &inner[..end];
        out.push_str(&format!(
            "(CASE WHEN abs({expr}) <= {max:e} THEN {expr} END)",
            max = f64::MAX
        ));
        rest = &inner[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Runs `sql` and reads its rows.
pub(super) async fn query(engine: &Engine, sql: &str) -> Result<Rows, QueryError> {
    Rows::from_batches(&engine.collect(sql).await?)
}

impl Row<'_> {
    fn cell(&self, name: &str) -> Option<&ScalarValue> {
        self.columns.get(name).and_then(|&i| self.cells.get(i))
    }

    /// A text cell; `None` when null or missing.
    pub(super) fn str(&self, name: &str) -> Option<String> {
        match self.cell(name)? {
            ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => {
                v.clone()
            }
            ScalarValue::Null => None,
            other if other.is_null() => None,
            other => Some(other.to_string()),
        }
    }

    /// An integer cell; 0 when null.
    pub(super) fn u64(&self, name: &str) -> u64 {
        match self.cell(name) {
            Some(ScalarValue::Int64(Some(v))) => u64::try_from(*v).unwrap_or(0),
            Some(ScalarValue::UInt64(Some(v))) => *v,
            Some(ScalarValue::Int32(Some(v))) => u64::try_from(*v).unwrap_or(0),
            Some(ScalarValue::Float64(Some(v))) => *v as u64,
            _ => 0,
        }
    }

    /// A signed integer cell; `None` when null.
    pub(super) fn i64(&self, name: &str) -> Option<i64> {
        match self.cell(name)? {
            ScalarValue::Int64(v) => *v,
            ScalarValue::UInt64(v) => v.and_then(|v| i64::try_from(v).ok()),
            ScalarValue::Int32(v) => v.map(i64::from),
            ScalarValue::Float64(v) => v.map(|v| v as i64),
            _ => None,
        }
    }

    /// A signed integer cell, also an integral decimal (a sum taken exactly), beyond
    /// the range of i64 saturated to its end; `None` when null.
    pub(super) fn i64_saturating(&self, name: &str) -> Option<i64> {
        match self.cell(name)? {
            ScalarValue::Decimal128(v, _, 0) => {
                v.map(|v| i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX }))
            }
            _ => self.i64(name),
        }
    }

    /// A number cell; `None` when null.
    pub(super) fn f64(&self, name: &str) -> Option<f64> {
        match self.cell(name)? {
            ScalarValue::Float64(v) => *v,
            ScalarValue::Float32(v) => v.map(f64::from),
            ScalarValue::Int64(v) => v.map(|v| v as f64),
            ScalarValue::UInt64(v) => v.map(|v| v as f64),
            _ => None,
        }
    }

    /// A timestamp cell; `None` when null.
    pub(super) fn time(&self, name: &str) -> Option<Timestamp> {
        match self.cell(name)? {
            ScalarValue::TimestampMillisecond(Some(ms), _) => Timestamp::from_unix_millis(*ms),
            ScalarValue::TimestampMicrosecond(Some(us), _) => {
                Timestamp::from_unix_millis(us.div_euclid(1000))
            }
            ScalarValue::TimestampNanosecond(Some(ns), _) => {
                Timestamp::from_unix_millis(ns.div_euclid(1_000_000))
            }
            _ => None,
        }
    }
}

/// A session holding `batches` as table `name`, to compute several aggregates from
/// one read of the events.
pub(super) fn local_table(
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<SessionContext, QueryError> {
    let ctx = SessionContext::new();
    ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    Ok(ctx)
}
