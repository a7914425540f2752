//! The columns of the `events` table: one row per stored event.
//!
//! Names are the event's wire names and the reference product's field names
//! (`routingKey`, `msgType`, `authUser`, `serverTimestamp`, `origAddress`), so a query
//! reads like the events it runs over. The list is documented in `docs/query.md`; a
//! test there keeps the two in step.

use std::sync::{Arc, LazyLock};

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Name of the table of events in SQL.
pub const TABLE: &str = "events";

/// One column of the events table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Id,
    Timestamp,
    Topic,
    RoutingKey,
    Node,
    Seq,
    MsgType,
    AuthUser,
    AuthSource,
    ClientIp,
    CallPath,
    ServerTimestamp,
    OrigAddress,
    KeyId,
    ChainSeq,
    Message,
}

impl Column {
    /// Every column, in schema order.
    pub(crate) const ALL: [Column; 16] = [
        Column::Id,
        Column::Timestamp,
        Column::Topic,
        Column::RoutingKey,
        Column::Node,
        Column::Seq,
        Column::MsgType,
        Column::AuthUser,
        Column::AuthSource,
        Column::ClientIp,
        Column::CallPath,
        Column::ServerTimestamp,
        Column::OrigAddress,
        Column::KeyId,
        Column::ChainSeq,
        Column::Message,
    ];

    /// The column's SQL name.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Column::Id => "id",
            Column::Timestamp => "timestamp",
            Column::Topic => "topic",
            Column::RoutingKey => "routingKey",
            Column::Node => "node",
            Column::Seq => "seq",
            Column::MsgType => "msgType",
            Column::AuthUser => "authUser",
            Column::AuthSource => "authSource",
            Column::ClientIp => "clientIP",
            Column::CallPath => "callPath",
            Column::ServerTimestamp => "serverTimestamp",
            Column::OrigAddress => "origAddress",
            Column::KeyId => "keyId",
            Column::ChainSeq => "chainSeq",
            Column::Message => "message",
        }
    }

    fn field(self) -> Field {
        let (data_type, nullable) = match self {
            Column::Timestamp => (timestamp_type(), false),
            Column::ServerTimestamp => (timestamp_type(), true),
            Column::Seq => (DataType::UInt64, false),
            Column::ChainSeq => (DataType::UInt64, true),
            Column::Id | Column::Topic | Column::Node | Column::MsgType | Column::Message => {
                (DataType::Utf8, false)
            }
            Column::RoutingKey
            | Column::AuthUser
            | Column::AuthSource
            | Column::ClientIp
            | Column::CallPath
            | Column::OrigAddress
            | Column::KeyId => (DataType::Utf8, true),
        };
        let field = Field::new(self.name(), data_type, nullable);
        match self {
            // Written as the JSON it is in JSON output: the engine carries this
            // metadata with the column, so output tells the events' message from a
            // text the statement computes under the same name (`crate::json_values`).
            Column::Message => field.with_metadata(crate::json_values::events_message_metadata()),
            _ => field,
        }
    }
}

/// Event times: UTC instants with millisecond precision, like the event model's.
pub(crate) fn timestamp_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

static SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(
        Column::ALL.iter().map(|c| c.field()).collect::<Vec<_>>(),
    ))
});

/// The schema of the `events` table.
pub fn schema() -> SchemaRef {
    SCHEMA.clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_order_is_column_order() {
        let s = schema();
        for (i, c) in Column::ALL.iter().enumerate() {
            assert_eq!(s.field(i).name(), c.name());
        }
    }
}
