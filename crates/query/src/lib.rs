//! Stores, a node's audit files (and, later, archives) as one SQL table of audit
//! events, with Apache DataFusion as the engine; and the reports that centralized audit
//! exists to answer, as SQL over that table.
//!
//! ```no_run
//! # async fn run() -> Result<(), auditrail_query::QueryError> {
//! use auditrail_query::Engine;
//!
//! let engine = Engine::builder().store("data/store").build()?;
//! let batches = engine
//!     .collect("SELECT node, count(*) FROM events WHERE timestamp >= '2026-11-29' GROUP BY node")
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! - [`Engine`]: the `events` table (columns in [`schema()`] and docs/query.md) over
//!   [`Source`]s. Several stores are one table: an event stored in more than one is one
//!   row. Filters on `topic`, `routingKey` and `timestamp` skip the files whose folders
//!   cannot hold a match, unread ([`ScanStats`] counts what was opened).
//! - [`reports`]: last activity per user, usage per node, compute per project or user,
//!   API service answers.
//! - [`search`]: the events matching field filters, newest first.
//! - [`output`]: answers as text tables, JSON, NDJSON or CSV.

mod columns;
mod depth;
mod engine;
mod error;
mod instants;
mod json_lineage;
mod json_values;
mod memory;
mod provider;
mod read;
mod scan;
mod schema;
mod source;
mod spill;
mod window;
mod words;

pub mod lookalikes;
pub mod output;
pub mod reports;
pub mod search;

pub use columns::SameName;
pub use depth::{MAX_EXPRESSION_DEPTH, MAX_QUERY_PARTS, QUERY_STACK_BYTES};
pub use engine::{at_most, collect, Engine, EngineBuilder, DEFAULT_MEMORY_LIMIT};
pub use error::{NotAFolderFound, QueryError};
pub use json_values::JSON_VALUE_KEY;
pub use scan::ScanStats;
pub use schema::{schema, TABLE};
pub use source::{check_store, discover, Source};
pub use window::{parse_time, Window};

/// DataFusion, as this crate uses it (record batches, data frames).
pub use datafusion;
