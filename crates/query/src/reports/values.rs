//! Reading typed values out of an answer's record batches.

use std::collections::HashMap;

use auditrail_core::Timestamp;
use std::sync::Arc;

use datafusion::arrow::array::{Array, RecordBatch};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::ScalarValue;
use datafusion::datasource::MemTable;
use datafusion::execution::context::SessionContext;

use crate::error::QueryError;
use crate::window::{EARLIEST_MILLIS, LATEST_MILLIS};

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

/// The largest duration a report reads, in ms: 2^53 (about 285 000 years), the
/// largest integer a double holds exactly. Any number of such values add up to a
/// finite sum (it takes 2^970 of them to pass the largest double), so no value a
/// client sends can make a report's sum or mean infinite, written `null`.
pub(super) const MAX_DURATION_MS: i64 = 1 << 53;

/// The scale of [`exact_ms_sum`]'s decimal: a millionth of a ms (a nanosecond).
pub(super) const EXACT_MS_SCALE: u32 = 6;

/// SQL for the sum of `column`'s durations (doubles, ms, from `{ms:..}`: 0 to 2^53),
/// taken exactly, as a decimal of scale [`EXACT_MS_SCALE`]: each value's integer part
/// exactly, its fraction to the nanosecond, then added as integers. Read it with
/// [`Row::exact_ms_units`].
///
/// Why not `sum(column)` or `avg(column)`: doubles added in the order the engine's
/// partitions hand them over, and that order differs between runs, between the event
/// server and the CLI on the same store, and with the number of cores, so one report
/// answered different figures for the same events (a service's mean latency changed in
/// its last digits from run to run; a project's CPU time with one usage of 2^53 ms and
/// 39 of 1 ms was 9007199254740992 on the server and 9007199254741008 in the CLI). An
/// integer sum does not depend on the order; the figure is rounded to a double once,
/// from it.
fn exact_ms_sum(column: &str) -> String {
    format!(
        "sum(CAST(trunc({column}) AS DECIMAL(32, 0)) \
         + CAST({column} - trunc({column}) AS DECIMAL(7, {EXACT_MS_SCALE})))"
    )
}

/// Units of [`Row::exact_ms_units`] divided by `count` (1 for a sum, the number of
/// values for a mean), as ms: the double nearest the exact quotient, rounded once.
///
/// Why through text: Rust's `str::parse::<f64>` rounds a decimal correctly, and the
/// quotient is written with more digits than any double holds (a sum's decimal ends
/// within its six digits; a mean's is cut 30 digits after the point, far below half
/// of the last place of a double in a report's range, 0 to 2^53 ms). Adding the integer part and
/// the fraction as two doubles rounded twice: 2^53 ms + 1.9 ms gave 9007199254740992,
/// not 9007199254740994.
pub(super) fn exact_ms_f64(units: i128, count: u64) -> f64 {
    // At most 10^6 × 2^64, so `rest * 10` stays far inside a u128.
    let den = 10u128.pow(EXACT_MS_SCALE) * u128::from(count.max(1));
    let num = units.unsigned_abs();
    let sign = if units < 0 { "-" } else { "" };
    let mut text = format!("{sign}{}.", num / den);
    let mut rest = num % den;
    for _ in 0..30 {
        rest *= 10;
        let digit = u32::try_from(rest / den)
            .ok()
            .and_then(|d| char::from_digit(d, 10));
        text.push(digit.unwrap_or('0'));
        rest %= den;
    }
    text.parse().unwrap_or(f64::NAN)
}

/// `sql` with its number placeholders written out. Each takes `<raw>`, a message's
/// JSON text at a path (`json_get_json`, NULL when the path is absent):
/// - `{ms:<raw>}`: the duration (a double, ms) when `<raw>` is a JSON number from 0
///   to [`MAX_DURATION_MS`], else NULL;
/// - `{time:<raw>}`: the instant (ms since the epoch, a double) when `<raw>` is a JSON
///   number within the years 0000 to 9999, the times an event can have, else NULL;
/// - `{unread_ms:<raw>}` / `{unread_time:<raw>}`: 1 when `<raw>` is present (and not
///   JSON `null`) but not read by `{ms:..}` / `{time:..}`, else 0: the report counts
///   the values it left out (`invalidValues`);
/// - `{sum_ms:<column>}`: the exact sum of a column of `{ms:..}` durations
///   ([`exact_ms_sum`]), an aggregate.
///
/// Why: a message keeps its numbers as sent, and a report's figure for a whole group
/// is a sum or mean over every client's numbers. One value beyond a double (`1e400`,
/// which `json_get_float` reads as infinity), two huge finite ones (`1.7e308` each:
/// their sum overflows), a negative CPU time or latency (a counter wrapped into a
/// signed type, a bug, a hostile sender) made the figure `null` or negative for
/// everyone in the group. Such a value is no measurement: it is left out, as a missing
/// one, and counted. Only a JSON number is one: a string (`"5000"`, which
/// `json_get_float` would parse) is not what any node sends for a measurement, and is
/// counted as left out rather than guessed at. The number is read from the JSON text
/// (a string keeps its quotes there and is no number), its bounds checked on the
/// exact number before it is rounded to a double: checked after rounding, 2^53 + 1
/// was read as 2^53 and counted, `-1e-400` as 0.
pub(super) fn checked_numbers(sql: &str) -> String {
    let max_ms = MAX_DURATION_MS.to_string();
    let earliest = EARLIEST_MILLIS.to_string();
    let latest = LATEST_MILLIS.to_string();
    // The bounds are checked on the exact number, before it is rounded to a double
    // ([`super::exact_number`]).
    let number =
        |raw: &str, lo: &str, hi: &str| format!("{}({raw}, {lo}, {hi})", super::exact_number::NAME);
    let unread = |raw: &str, read: String| {
        format!("(CASE WHEN {raw} <> 'null' AND {read} IS NULL THEN 1 ELSE 0 END)")
    };
    let mut out = String::with_capacity(sql.len() + 512);
    let mut rest = sql;
    while let Some(at) = rest.find('{') {
        out.push_str(&rest[..at]);
        let inner = &rest[at + 1..];
        // A placeholder's `<raw>` is a column name or a function call, whose
        // parentheses balance and which holds no braces: it ends at the first `}`.
        let tag = ["ms:", "time:", "unread_ms:", "unread_time:", "sum_ms:"]
            .into_iter()
            .find(|t| inner.starts_with(t));
        let (Some(tag), Some(end)) = (tag, inner.find('}')) else {
            out.push('{');
            rest = inner;
            continue;
        };
        let raw = &inner[tag.len()..end];
        out.push_str(&match tag {
            "ms:" => number(raw, "0", &max_ms),
            "time:" => number(raw, &earliest, &latest),
            "unread_ms:" => unread(raw, number(raw, "0", &max_ms)),
            "sum_ms:" => exact_ms_sum(raw),
            _ => unread(raw, number(raw, &earliest, &latest)),
        });
        rest = &inner[end + 1..];
    }
    out.push_str(rest);
    out
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

    /// The texts of a list cell (`array_agg`), its nulls left out; empty when the cell
    /// is null or missing.
    pub(super) fn strs(&self, name: &str) -> Vec<String> {
        let list = match self.cell(name) {
            Some(ScalarValue::List(list)) if !list.is_null(0) => list.value(0),
            Some(ScalarValue::LargeList(list)) if !list.is_null(0) => list.value(0),
            _ => return Vec::new(),
        };
        (0..list.len())
            .filter_map(|i| ScalarValue::try_from_array(&list, i).ok())
            .filter_map(|v| match v {
                ScalarValue::Utf8(v) | ScalarValue::LargeUtf8(v) | ScalarValue::Utf8View(v) => v,
                _ => None,
            })
            .collect()
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

    /// A sum of [`exact_ms_sum`]: its value in units of 10^-[`EXACT_MS_SCALE`] ms;
    /// `None` when null (no value to add) or not such a decimal.
    pub(super) fn exact_ms_units(&self, name: &str) -> Option<i128> {
        match self.cell(name)? {
            ScalarValue::Decimal128(v, _, scale) => {
                let shift = i32::try_from(EXACT_MS_SCALE).ok()? - i32::from(*scale);
                let factor = 10i128.checked_pow(shift.unsigned_abs())?;
                if shift >= 0 {
                    v.and_then(|v| v.checked_mul(factor))
                } else {
                    v.map(|v| v / factor)
                }
            }
            _ => None,
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
