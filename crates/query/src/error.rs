//! Why a query failed.

use std::path::PathBuf;

use thiserror::Error;

/// Why a query could not be answered.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum QueryError {
    /// A file or folder could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A source path is not a folder.
    #[error("{}: not a folder (expected a {what})", path.display())]
    NotAFolder {
        /// The path.
        path: PathBuf,
        /// What it should have been.
        what: &'static str,
    },
    /// A folder holds no store and no audit files.
    #[error(
        "{}: no store (store-id, checkpoints.jsonl or segment files) and no audit files (*.log) found",
        path.display()
    )]
    NothingFound {
        /// The folder.
        path: PathBuf,
    },
    /// A store could not be walked or read.
    #[error(transparent)]
    Store(auditrail_store::StoreError),
    /// A node's audit files could not be read.
    #[error(transparent)]
    AuditFiles(auditrail_target_file::ReadError),
    /// A time bound is not a date, an RFC 3339 date-time or a duration.
    #[error("{flag} {value:?}: {reason}")]
    TimeBound {
        /// The option or parameter (`--since`).
        flag: String,
        /// What was given.
        value: String,
        /// What is expected.
        reason: String,
    },
    /// The query engine refused or failed the query (SQL errors, resource limits).
    #[error(transparent)]
    Engine(#[from] datafusion::error::DataFusionError),
    /// An answer could not be written out.
    #[error("cannot write the answer: {0}")]
    Output(#[source] datafusion::arrow::error::ArrowError),
}
