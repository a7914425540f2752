//! Stored lines into rows and rows into Arrow batches.

mod batch;
mod row;

pub(crate) use batch::{parse_millis, BatchBuilder, BATCH_ROWS};
pub(crate) use row::{parse_event, parse_record, Row};
