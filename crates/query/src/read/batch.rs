//! Rows into Arrow record batches, building only the columns a query asked for.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, RecordBatch, RecordBatchOptions, StringBuilder, TimestampMillisecondBuilder,
    UInt64Builder,
};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;

use super::row::Row;
use crate::schema::Column;

/// Rows per batch (DataFusion's default batch size).
pub(crate) const BATCH_ROWS: usize = 8192;

enum Builder {
    Str(StringBuilder),
    Time(TimestampMillisecondBuilder),
    U64(UInt64Builder),
}

/// Builds batches of the projected columns.
pub(crate) struct BatchBuilder {
    schema: SchemaRef,
    columns: Vec<(Column, Builder)>,
    rows: usize,
}

impl BatchBuilder {
    /// `columns` in the order of `schema`'s fields.
    pub(crate) fn new(schema: SchemaRef, columns: &[Column]) -> BatchBuilder {
        let columns = columns
            .iter()
            .map(|&c| {
                let b = match c {
                    Column::Timestamp | Column::ServerTimestamp => Builder::Time(
                        TimestampMillisecondBuilder::with_capacity(BATCH_ROWS).with_timezone("UTC"),
                    ),
                    Column::Seq | Column::ChainSeq => {
                        Builder::U64(UInt64Builder::with_capacity(BATCH_ROWS))
                    }
                    _ => Builder::Str(StringBuilder::with_capacity(BATCH_ROWS, BATCH_ROWS * 16)),
                };
                (c, b)
            })
            .collect();
        BatchBuilder {
            schema,
            columns,
            rows: 0,
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.rows
    }

    /// Adds one row (the store's reader has read its timestamp).
    pub(crate) fn push(&mut self, row: &Row<'_>) {
        let timestamp = row.event.timestamp.unix_millis();
        let server_timestamp = row.envelope.server_timestamp;
        for (column, builder) in &mut self.columns {
            match (column, builder) {
                (Column::Timestamp, Builder::Time(b)) => b.append_value(timestamp),
                (Column::ServerTimestamp, Builder::Time(b)) => b.append_option(server_timestamp),
                (Column::Seq, Builder::U64(b)) => b.append_value(row.event.seq),
                (Column::ChainSeq, Builder::U64(b)) => b.append_option(row.envelope.chain_seq),
                (c, Builder::Str(b)) => b.append_option(text(*c, row)),
                // Builders are made for their column in `new`.
                _ => {}
            }
        }
        self.rows += 1;
    }

    /// The batch of the rows pushed so far; the builder starts empty again.
    pub(crate) fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(|(_, b)| -> ArrayRef {
                match b {
                    Builder::Str(b) => Arc::new(b.finish()),
                    Builder::Time(b) => Arc::new(b.finish()),
                    Builder::U64(b) => Arc::new(b.finish()),
                }
            })
            .collect();
        let rows = std::mem::take(&mut self.rows);
        RecordBatch::try_new_with_options(
            self.schema.clone(),
            arrays,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )
    }
}

fn text<'r>(column: Column, row: &'r Row<'_>) -> Option<&'r str> {
    let f = &row.fields;
    match column {
        Column::Id => Some(&row.event.id_text),
        Column::Topic => Some(&row.event.topic),
        Column::RoutingKey => row.event.routing_key.as_deref(),
        Column::Node => Some(&row.event.node),
        // The event model requires msgType; an empty string stands for a line that lacks it.
        Column::MsgType => Some(f.msg_type.as_deref().unwrap_or("")),
        Column::AuthUser => f.auth_user.as_deref(),
        Column::AuthSource => f.auth_source.as_deref(),
        Column::ClientIp => f.client_ip.as_deref(),
        Column::CallPath => f.call_path.as_deref(),
        Column::OrigAddress => row.envelope.orig_address.as_deref(),
        Column::KeyId => row.envelope.key_id.as_deref(),
        Column::Message => Some(row.event.message.get()),
        Column::Timestamp | Column::ServerTimestamp | Column::Seq | Column::ChainSeq => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The time column holds the time the store's reader reads (the event model's
    /// `Timestamp`, as the server does), a leap second included: a store written before
    /// leap seconds were read as second 59 holds `23:59:60.000Z` in the hour-23 folder,
    /// and its event's time is then 23:59:59.000 of that day, not midnight of the next.
    #[test]
    fn time_column_reads_the_time_the_store_reads() {
        use datafusion::arrow::array::{Array, TimestampMillisecondArray};
        use datafusion::arrow::datatypes::{DataType, Field, Schema, TimeUnit};
        let schema = Arc::new(Schema::new(vec![Field::new(
            "timestamp",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            false,
        )]));
        let mut builder = BatchBuilder::new(schema, &[Column::Timestamp]);
        let event = |time: &str| {
            format!(
                r#"{{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"{time}","topic":"generic","node":"n1","seq":1,"message":{{}}}}"#
            )
        };
        let texts = [
            "2026-11-23T23:59:60.000Z",
            "2026-11-23T23:59:60.5Z",
            "2026-11-23T15:59:60-08:00",
            "2026-11-25T16:55:49.123Z",
            "2026-11-25T18:55:49.123456+02:00",
        ];
        for text in texts {
            let json = event(text);
            builder.push(&super::super::parse_event(json.as_bytes()).unwrap());
        }
        let batch = builder.finish().unwrap();
        let times = batch
            .column(0)
            .as_any()
            .downcast_ref::<TimestampMillisecondArray>()
            .unwrap();
        assert_eq!(times.len(), texts.len());
        for (i, text) in texts.iter().enumerate() {
            let t: auditrail_core::Timestamp = text.parse().unwrap();
            assert_eq!(times.value(i), t.unix_millis(), "{text}");
        }
        // 2026-11-23T23:59:59.000Z.
        assert_eq!(times.value(0), 1_795_478_399_000);
        for bad in ["2026-11-23T23:59:61Z", "yesterday"] {
            assert!(super::super::parse_event(event(bad).as_bytes()).is_err());
        }
    }
}
