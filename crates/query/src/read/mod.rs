//! Stored lines into rows and rows into Arrow batches.

mod batch;
mod row;

pub(crate) use batch::{BatchBuilder, BATCH_ROWS};
pub(crate) use row::{from_line, parse_audit_event, parse_event, Row};
