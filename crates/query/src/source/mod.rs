//! Where events are read from: event server stores and a node's local audit files, and
//! the list of data files each one holds, with what their place in the folder tree says
//! about their events (the partition values that let a query skip a file unread).

mod audit;
mod discover;
mod store;

use std::path::{Path, PathBuf};

use auditrail_target_file::NotAuditFile;
pub use discover::{check_store, discover};

use crate::error::QueryError;

/// One place that holds events.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// An event server store: its root folder (the `path` of a `store` destination).
    Store(PathBuf),
    /// A node's local audit folder (the `dir` of a `file` target): every file its
    /// targets write, whatever their `file_name` and rotation (active, size-rolled and
    /// period files); other files are reported, not read.
    AuditDir(PathBuf),
}

impl Source {
    /// The folder.
    pub fn path(&self) -> &Path {
        match self {
            Source::Store(p) | Source::AuditDir(p) => p,
        }
    }
}

use auditrail_target_file::ListedFile;

/// How the lines of a file are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LineFormat {
    /// Store records (`{"clientEvent":{...},...}`).
    StoreRecord,
    /// A node's audit lines (the event plus `severity` and `logger`), and which file
    /// was listed (`None` when it was gone before it could be looked at): the reader
    /// reads that file wherever a roll moved it meanwhile.
    AuditLine(Option<ListedFile>),
}

/// What a file's folders say about every event in it; `None` where they say nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Partition {
    /// The topic folder.
    pub(crate) topic: Option<String>,
    /// The routing-key folder. The store's folder for events without a key (`_none`) is
    /// shared with a key spelled `_none`, so it says: "no key, or the key `_none`".
    pub(crate) routing_key: Option<String>,
    /// Event times in this file are within `[start, end)` (ms since the epoch, UTC).
    pub(crate) time: Option<(i64, i64)>,
}

impl Partition {
    /// The store's folder for events without a routing key.
    pub(crate) const NO_KEY_FOLDER: &'static str = auditrail_store::NO_ROUTING_KEY_FOLDER;
}

/// One file of events.
#[derive(Debug, Clone)]
pub(crate) struct DataFile {
    pub(crate) path: PathBuf,
    pub(crate) format: LineFormat,
    pub(crate) size: u64,
    pub(crate) partition: Partition,
}

/// Files listed, files opened only to learn a store's folder layout, and the files of
/// audit folders that are not audit files (not read; the caller reports them).
#[derive(Debug, Default)]
pub(crate) struct Listing {
    pub(crate) files: Vec<DataFile>,
    pub(crate) sampled: u64,
    pub(crate) not_audit: Vec<NotAuditFile>,
}

/// Lists the data files of every source.
pub(crate) fn list(sources: &[Source]) -> Result<Listing, QueryError> {
    let mut out = Listing::default();
    for source in sources {
        match source {
            Source::Store(root) => store::list(root, &mut out)?,
            Source::AuditDir(dir) => audit::list(dir, &mut out)?,
        }
    }
    Ok(out)
}

pub(crate) use audit::list as list_audit_dir;
pub(crate) use audit::read_events as read_audit_events;
