//! Failures of the store: opening, writing, recovering, walking and reading it.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// Why the store could not open, scan or write.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file or folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Another writer (in this process or another) has the store open: the hash chain
    /// must have exactly one writer.
    #[error("store {root} is already open by another writer (one writer per store)")]
    Locked {
        /// The store root.
        root: PathBuf,
    },
    /// A partition folder would leave the store root (never happens with validated
    /// names; checked anyway).
    #[error("partition folder {0} would leave the store root")]
    Escape(PathBuf),
    /// The store id file holds something that is not an id.
    #[error("{path} line 1: store id must be letters, digits and '-'")]
    BadStoreId {
        /// The store id file.
        path: PathBuf,
    },
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> StoreError {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether the cause is a full disk (`ENOSPC`) or an exhausted quota (`EDQUOT`).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Io { source, .. } if is_disk_full(source))
    }
}

/// `ENOSPC` (28) or `EDQUOT` (122 on Linux), matched on the raw OS code so that both
/// count (`io::ErrorKind` names them differently across Rust versions).
pub(crate) fn is_disk_full(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(28) | Some(122))
}
