//! Writing answers out: an aligned text table, a JSON array, NDJSON or CSV.
//!
//! Times are written as auditrail writes them everywhere (RFC 3339, UTC, milliseconds,
//! `Z`). In JSON and NDJSON the events' `message` (wherever the statement passes it on
//! as it is, under any name) is written as the JSON object it is (exactly as stored),
//! not as a string, and so are the values of `->` / `json_get`; a text the statement
//! computes is a string, whatever its name (`json_values.rs`).

use std::io::Write;
use std::str::FromStr;

use datafusion::arrow::array::{Array, RecordBatch, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::json::writer::{LineDelimited, WriterBuilder as JsonWriterBuilder};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::arrow::util::pretty::pretty_format_batches_with_options;
use serde_json::value::RawValue;

use crate::error::QueryError;
use crate::json_values::{is_json_value, plain};

/// The time format of every output.
const TIME_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3fZ";

/// An output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Aligned text table with a header.
    #[default]
    Table,
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Ndjson,
    /// Comma-separated values with a header line (RFC 4180 quoting).
    Csv,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(Format::Table),
            "json" => Ok(Format::Json),
            "ndjson" => Ok(Format::Ndjson),
            "csv" => Ok(Format::Csv),
            other => Err(format!(
                "unknown format {other:?}: expected table, json, ndjson or csv"
            )),
        }
    }
}

/// Writes `batches` to `out` in `format`.
pub fn write(
    format: Format,
    batches: &[RecordBatch],
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let e = QueryError::Output;
    // Batches a caller made itself may still hold `->` values: as `collect` answers them.
    let plain = plain(batches)?;
    let batches = &plain[..];
    match format {
        Format::Table => {
            let options = FormatOptions::default()
                .with_null("")
                .with_timestamp_tz_format(Some(TIME_FORMAT));
            let table = pretty_format_batches_with_options(batches, &options).map_err(e)?;
            writeln!(out, "{table}").map_err(|x| e(x.into()))?;
        }
        Format::Csv => write_csv(batches, out)?,
        Format::Json | Format::Ndjson => write_json_lines(format, json_lines(batches)?, out)?,
    }
    Ok(())
}

/// Writes `batches` as CSV with a header line (also when there is no row), by
/// PostgreSQL's `COPY ... CSV` rule for nulls (its documentation, "CSV Format"): a null
/// is an empty field, unquoted; an empty text is `""`, quoted; a value holding `,`,
/// `"`, CR or LF is quoted (a `"` in it doubled), as RFC 4180 says. Arrow's CSV writer
/// (and the `csv` crate under it) wrote both a null and an empty text as an empty
/// field: the usages without a project and a project named `""` read alike to every
/// CSV reader. As in PostgreSQL, a null in a one-column answer is an empty line.
fn write_csv(batches: &[RecordBatch], out: &mut dyn Write) -> Result<(), QueryError> {
    let io = |x: std::io::Error| QueryError::Output(x.into());
    let Some(first) = batches.first() else {
        return Ok(());
    };
    let mut line = String::new();
    for (i, field) in first.schema().fields().iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        push_csv_field(&mut line, field.name());
    }
    line.push('\n');
    out.write_all(line.as_bytes()).map_err(io)?;
    let options = FormatOptions::default().with_timestamp_tz_format(Some(TIME_FORMAT));
    let mut text = String::new();
    for batch in batches {
        let formatters = batch
            .columns()
            .iter()
            .map(|a| {
                if a.data_type().is_nested() {
                    Err(ArrowError::CsvError(format!(
                        "a column of type {} cannot be written as CSV",
                        a.data_type()
                    )))
                } else {
                    ArrayFormatter::try_new(a.as_ref(), &options)
                }
            })
            .collect::<Result<Vec<_>, ArrowError>>()
            .map_err(QueryError::Output)?;
        // Logical: a column of SQL's `NULL` (the Null type) has no null buffer.
        let nulls: Vec<_> = batch.columns().iter().map(|c| c.logical_nulls()).collect();
        for row in 0..batch.num_rows() {
            line.clear();
            for (i, (nulls, formatter)) in nulls.iter().zip(&formatters).enumerate() {
                if i > 0 {
                    line.push(',');
                }
                if nulls.as_ref().is_some_and(|n| n.is_null(row)) {
                    continue;
                }
                text.clear();
                use std::fmt::Write as _;
                write!(text, "{}", formatter.value(row)).map_err(|x| {
                    QueryError::Output(ArrowError::CsvError(format!(
                        "row {}, column {}: {x}",
                        row + 1,
                        i + 1
                    )))
                })?;
                push_csv_field(&mut line, &text);
            }
            line.push('\n');
            out.write_all(line.as_bytes()).map_err(io)?;
        }
    }
    Ok(())
}

/// Appends `value` (not a null) as a CSV field: quoted when empty or when it holds a
/// separator, a quote or a line break.
fn push_csv_field(line: &mut String, value: &str) {
    if value.is_empty() || value.contains([',', '"', '\n', '\r']) {
        line.push('"');
        line.push_str(&value.replace('"', "\"\""));
        line.push('"');
    } else {
        line.push_str(value);
    }
}

/// Writes `lines`, each one row's JSON object (no line break in it), as `format`
/// frames them: one array (`[]` when there is no row) for [`Format::Json`], one object
/// per line (nothing when there is no row) for [`Format::Ndjson`]. For rows that are
/// not record batches (the reports' rows, [`crate::reports::json_lines`]); a table or
/// CSV is not made of JSON lines, and is [`write()`]'s.
pub fn write_json_lines(
    format: Format,
    lines: impl IntoIterator<Item = Vec<u8>>,
    out: &mut dyn Write,
) -> Result<(), QueryError> {
    let e = |x: std::io::Error| QueryError::Output(x.into());
    match format {
        Format::Json => {
            out.write_all(b"[").map_err(e)?;
            let mut first = true;
            for line in lines {
                if !first {
                    out.write_all(b",\n").map_err(e)?;
                }
                first = false;
                out.write_all(&line).map_err(e)?;
            }
            out.write_all(b"]\n").map_err(e)?;
        }
        Format::Ndjson => {
            for line in lines {
                out.write_all(&line).map_err(e)?;
                out.write_all(b"\n").map_err(e)?;
            }
        }
        Format::Table | Format::Csv => {
            return Err(QueryError::Output(
                datafusion::arrow::error::ArrowError::InvalidArgumentError(format!(
                    "{format:?} is not written from JSON lines"
                )),
            ))
        }
    }
    Ok(())
}

/// One JSON object per row, with each column that holds JSON (the events' `message`,
/// the values of `->` / `json_get`: [`crate::json_values`]) spliced in as the JSON it
/// is, after the other columns.
fn json_lines(batches: &[RecordBatch]) -> Result<Vec<Vec<u8>>, QueryError> {
    let mut lines = Vec::new();
    for batch in batches {
        let schema = batch.schema();
        let mut spliced: Vec<(&str, StringArray)> = Vec::new();
        let mut keep = Vec::new();
        for (i, field) in schema.fields().iter().enumerate() {
            let text = is_json_value(field)
                .then(|| cast(batch.column(i), &DataType::Utf8).ok())
                .flatten();
            match text
                .as_ref()
                .and_then(|a| a.as_any().downcast_ref::<StringArray>())
            {
                Some(a) => spliced.push((field.name(), a.clone())),
                None => keep.push(i),
            }
        }
        let rest = batch.project(&keep).map_err(QueryError::Output)?;
        let mut buf = Vec::new();
        {
            let mut w = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .with_timestamp_tz_format(TIME_FORMAT.to_owned())
                .build::<_, LineDelimited>(&mut buf);
            w.write(&rest).map_err(QueryError::Output)?;
            w.finish().map_err(QueryError::Output)?;
        }
        let mut row_lines = buf.split(|b| *b == b'\n').filter(|l| !l.is_empty());
        for row in 0..batch.num_rows() {
            let mut line = row_lines
                .next()
                .map(<[u8]>::to_vec)
                .unwrap_or_else(|| b"{}".to_vec());
            for (name, array) in &spliced {
                splice(&mut line, name, array, row);
            }
            lines.push(line);
        }
    }
    Ok(lines)
}

/// Adds `"<name>":<json>` to the object in `line`.
fn splice(line: &mut Vec<u8>, name: &str, array: &StringArray, row: usize) {
    line.pop(); // the closing brace
    if line.len() > 1 {
        line.push(b',');
    }
    let _ = serde_json::to_writer(&mut *line, name);
    line.push(b':');
    if array.is_null(row) {
        line.extend_from_slice(b"null");
    } else {
        let text = array.value(row);
        // Stored messages and `->` values are JSON, and only columns of them are
        // marked (`crate::json_lineage`); a text that is no JSON (a batch a caller
        // marked itself) is still written as a string, never as broken JSON.
        if serde_json::from_str::<&RawValue>(text).is_ok() {
            line.extend_from_slice(text.as_bytes());
        } else {
            let _ = serde_json::to_writer(&mut *line, text);
        }
    }
    line.push(b'}');
}
