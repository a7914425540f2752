//! The records of a partition refused by a verdict that time can change: dated too far
//! ahead (`<store_root>/<topic>/<partition>/refused-ahead.jsonl`), or dated past the
//! partition store's retention (`refused-past-retention.jsonl`).
//!
//! Every other verdict on a record is the same each time it is read: a record that is
//! not an event is never one, and an event the store has stays had. These two are
//! not: the bound on timestamps ahead counts from the wall clock and the stores'
//! timelines, which move forward (and from `max_timestamp_ahead_s`, which an operator
//! may raise); retention's cut-off moves with the store's clock and its `retention`,
//! which an operator may lengthen (or a clock set back may move). A record refused
//! when first read may pass when read again, after a restart, a rebalance or a
//! re-read. Judged afresh, it would be stored after being dead-lettered,
//! or, below the store's resume offset, taken for an event of another partition (a
//! false alarm, a re-read marker and the whole partition read again). So the verdict
//! is written down: each refused record's offset and the SHA-256 of its bytes,
//! appended (fsynced) before its dead letter and before any offset moves past it. A
//! record found here with the same bytes is refused again, whatever the clock says; a
//! record at a listed offset with other bytes (a topic created anew) is judged
//! afresh. The file sits beside the store, so it moves with the partition.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Which verdict a file keeps, and so its name in a partition folder.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Verdict {
    /// Dated further ahead than `max_timestamp_ahead_s`.
    Ahead,
    /// Dated past the partition store's retention: its next pass would delete it.
    PastRetention,
}

impl Verdict {
    fn file(self) -> &'static str {
        match self {
            Verdict::Ahead => "refused-ahead.jsonl",
            Verdict::PastRetention => "refused-past-retention.jsonl",
        }
    }
}

/// One refused record.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    offset: i64,
    /// Hex SHA-256 of the record's value.
    sha256: String,
}

/// Why the file cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error(
    "refused records file {}",
    auditrail_core::path_and_error(path, source)
)]
pub(crate) struct RefusedError {
    /// The file.
    path: PathBuf,
    /// Why.
    #[source]
    source: std::io::Error,
}

/// The records of one partition refused by one verdict, as on disk.
#[derive(Debug)]
pub(crate) struct Refused {
    path: PathBuf,
    /// Offset → digest of the record refused there.
    refused: HashMap<i64, String>,
}

/// The hex SHA-256 of a record's value.
fn digest(payload: &[u8]) -> String {
    hex::encode(Sha256::digest(payload))
}

impl Refused {
    /// Reads the file of the partition folder `dir` (none: nothing refused yet). A line
    /// that is not an entry (the fragment a crash left mid-append, whose record was
    /// then not dead-lettered either, nor passed) is skipped with a warning.
    pub(crate) fn load(dir: &Path, verdict: Verdict) -> Result<Refused, RefusedError> {
        let path = dir.join(verdict.file());
        let text = match auditrail_core::regular_file::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(RefusedError { path, source }),
        };
        let mut refused = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<Entry>(line) {
                Ok(e) => {
                    refused.insert(e.offset, e.sha256);
                }
                Err(e) => {
                    tracing::warn!(file = %path.display(), line = n + 1, error = %e,
                        "a line of a refused records file is not an entry (a write cut short): skipped");
                }
            }
        }
        Ok(Refused { path, refused })
    }

    /// Whether the record at `offset` with value `payload` was refused by this verdict
    /// when first read.
    pub(crate) fn contains(&self, offset: i64, payload: &[u8]) -> bool {
        self.refused
            .get(&offset)
            .is_some_and(|d| *d == digest(payload))
    }

    /// Writes down (fsynced) the records `(offset, value)` refused now; before their
    /// dead letters, so that no dead-lettered record is ever judged afresh.
    pub(crate) fn remember(&mut self, records: &[(i64, &[u8])]) -> Result<(), RefusedError> {
        if records.is_empty() {
            return Ok(());
        }
        let mut lines = Vec::new();
        let mut entries = Vec::with_capacity(records.len());
        for (offset, payload) in records {
            let entry = Entry {
                offset: *offset,
                sha256: digest(payload),
            };
            serde_json::to_writer(&mut lines, &entry).map_err(|e| RefusedError {
                path: self.path.clone(),
                source: e.into(),
            })?;
            lines.push(b'\n');
            entries.push(entry);
        }
        auditrail_core::jsonl::append(&self.path, &lines, true).map_err(|source| RefusedError {
            path: self.path.clone(),
            source,
        })?;
        for e in entries {
            self.refused.insert(e.offset, e.sha256);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_record_is_known_after_a_reload_by_its_offset_and_bytes_and_a_torn_line_is_skipped()
    {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Refused::load(dir.path(), Verdict::Ahead).unwrap();
        assert!(!r.contains(3, b"x"));
        r.remember(&[(3, b"x")]).unwrap();
        // A fragment a crash left, then the next append.
        let path = dir.path().join(Verdict::Ahead.file());
        let mut text = std::fs::read(&path).unwrap();
        text.extend_from_slice(b"{\"offset\":9,\"sha");
        std::fs::write(&path, text).unwrap();
        r.remember(&[(5, b"y")]).unwrap();
        let r = Refused::load(dir.path(), Verdict::Ahead).unwrap();
        assert!(r.contains(3, b"x") && r.contains(5, b"y"));
        // Another record at the same offset (a topic created anew): not this verdict.
        assert!(!r.contains(3, b"z") && !r.contains(9, b"x"));
    }
}
