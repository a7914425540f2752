//! The re-read marker of a partition store: `<store_root>/<topic>/<partition>/reread`.
//!
//! A store resumes at its highest offset, which is right only while the partition is
//! the one the store was filled from. When a record below that offset holds an event
//! the store lacks (the topic was deleted and created again, or its log truncated or
//! reset), the partition is read again from its beginning and de-duplication decides
//! what is new. That state must outlive the process: the records of the new partition
//! stored before the re-read started (at offsets up to the store's old high mark) raise
//! the store's highest offset, so a server that stops during the re-read, or the
//! partition's next owner, would resume past the new partition's earlier records and
//! skip them unseen: events Kafka acknowledged, lost silently. The marker is written
//! (fsynced, renamed into place) before any record of the new partition is stored, read
//! when the store is opened, and removed once a read from the beginning has passed
//! [`Marker::until`]. It sits beside the store, like the owner file, so it moves with
//! the partition from server to server.
//!
//! A new partition with fewer records than the old one may stay below `until` for
//! long, or for good. Read again from its beginning at every open, its events older
//! than the de-duplication window would be stored again each time. So the re-read's
//! progress is written into the marker too ([`Marker::read_to`]): the new partition's
//! own position, which the store's offsets cannot give while the old partition's
//! higher ones are in it. From then on the store resumes there, like any store at its
//! offset, until its reading passes `until` and the marker goes. The position is
//! written only after the records below it are stored, so a crash between the two
//! leaves it behind, never ahead: the records in between are read again and known.

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The marker file's name in a partition folder.
const REREAD_FILE: &str = "reread";

/// What the marker says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Marker {
    /// The offset after the highest one the store held once the first records of the
    /// new partition were stored: a read from the partition's beginning that reaches it
    /// has seen every record the store's offsets could claim.
    pub until: i64,
    /// The first offset found holding an event the store lacked (for the log).
    pub first_offset: i64,
    /// Once the read from the partition's beginning has begun: the offset after the
    /// last record it read. Every record below it was read, in offset order from the
    /// beginning, and stored (or known, or dead-lettered), so reading resumes here,
    /// not at the beginning nor at the store's highest offset. `None` (and absent in
    /// markers written before it existed): read from the beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_to: Option<i64>,
}

/// Why the marker cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RereadError {
    /// The file cannot be read, written or removed.
    #[error("re-read marker {}", auditrail_core::path_and_error(path, source))]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a marker: the partition store's open writes it anew with the
    /// safe bound (resuming at the store's offset could skip records).
    #[error("re-read marker {path}: not a re-read marker: {source}")]
    Damaged {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// The marker file of the partition folder `partition`.
pub(crate) fn marker_path(partition: &Path) -> PathBuf {
    partition.join(REREAD_FILE)
}

/// The marker of the partition folder `partition`, if there is one.
pub(crate) fn load(partition: &Path) -> Result<Option<Marker>, RereadError> {
    let path = marker_path(partition);
    match auditrail_core::regular_file::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| RereadError::Damaged { path, source }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(RereadError::Io { path, source }),
    }
}

/// Writes `marker` durably (fsynced, renamed into place, the folder fsynced).
pub(crate) fn save(partition: &Path, marker: &Marker) -> Result<(), RereadError> {
    let path = marker_path(partition);
    let io = |source| RereadError::Io {
        path: path.clone(),
        source,
    };
    let text = serde_json::to_vec(marker).map_err(|e| io(std::io::Error::other(e)))?;
    auditrail_core::durable::replace_file(&path, &path.with_extension("tmp"), &text).map_err(io)
}

/// Removes the marker durably (the folder fsynced): the re-read is over.
pub(crate) fn clear(partition: &Path) -> Result<(), RereadError> {
    let path = marker_path(partition);
    let io = |source| RereadError::Io {
        path: path.clone(),
        source,
    };
    match fs::remove_file(&path) {
        Ok(()) => auditrail_core::durable::sync_dir(partition).map_err(io),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_is_kept_until_cleared() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
        let m = Marker {
            until: 7,
            first_offset: 4,
            read_to: None,
        };
        save(dir.path(), &m).unwrap();
        assert_eq!(load(dir.path()).unwrap(), Some(m));
        clear(dir.path()).unwrap();
        assert_eq!(load(dir.path()).unwrap(), None);
        clear(dir.path()).unwrap();
    }

    #[test]
    fn a_marker_without_the_reread_s_progress_reads_from_the_beginning() {
        // As written before `read_to` existed.
        let dir = tempfile::tempdir().unwrap();
        fs::write(marker_path(dir.path()), br#"{"until":7,"first_offset":4}"#).unwrap();
        assert_eq!(load(dir.path()).unwrap().unwrap().read_to, None);
        let m = Marker {
            until: 7,
            first_offset: 4,
            read_to: Some(3),
        };
        save(dir.path(), &m).unwrap();
        assert_eq!(load(dir.path()).unwrap(), Some(m));
    }

    #[test]
    fn a_damaged_marker_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(marker_path(dir.path()), b"{half").unwrap();
        let e = load(dir.path()).unwrap_err().to_string();
        assert!(e.contains("reread"), "{e}");
    }
}
