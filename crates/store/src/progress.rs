//! How far a long read of a store has got (opening it: the walk of its folders and the
//! recovery's read of every segment; a scan of every record), for a watcher on another
//! thread, and a way for that watcher to stop the read between two files.
//!
//! A server's start opens and then scans its stores: minutes on a store of a year of
//! hourly partitions. Its service manager must be told that the start progresses (or
//! it kills it), and a stop asked meanwhile must end it without waiting for the end.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Counts of a read in progress, shared with a watcher (all counts only grow).
#[derive(Debug, Default)]
pub struct ReadProgress {
    folders: AtomicU64,
    files: AtomicU64,
    bytes: AtomicU64,
    records: AtomicU64,
    stop: AtomicBool,
}

/// A reading of [`ReadProgress`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReadCounts {
    /// Folders walked (a store's root and each partition folder).
    pub folders: u64,
    /// Segment files read to their end.
    pub files: u64,
    /// Bytes of the segment files read.
    pub bytes: u64,
    /// Records read (a scan's; a recovery counts files and bytes).
    pub records: u64,
}

impl ReadCounts {
    /// Whether anything was read since `earlier`.
    pub fn advanced_since(&self, earlier: &ReadCounts) -> bool {
        self.folders > earlier.folders
            || self.files > earlier.files
            || self.bytes > earlier.bytes
            || self.records > earlier.records
    }
}

impl ReadProgress {
    /// Counts at 0, not stopped.
    pub fn new() -> ReadProgress {
        ReadProgress::default()
    }

    /// The counts now.
    pub fn counts(&self) -> ReadCounts {
        ReadCounts {
            folders: self.folders.load(Ordering::Relaxed),
            files: self.files.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
            records: self.records.load(Ordering::Relaxed),
        }
    }

    /// Asks every read watched by this to stop at its next file or folder: it then
    /// fails with [`StoreError::Stopped`](crate::StoreError::Stopped).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether [`stop`](Self::stop) was asked.
    pub fn stop_asked(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    pub(crate) fn folder_walked(&self) {
        self.folders.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn file_read(&self, bytes: u64) {
        self.files.fetch_add(1, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Counts one record read.
    pub fn record_read(&self) {
        self.records.fetch_add(1, Ordering::Relaxed);
    }

    /// `Err(Stopped)` once a stop was asked: called between two files or folders,
    /// where a read (or a recovery, whose every repair is complete by itself, as after
    /// a crash) can end without leaving anything half done.
    pub(crate) fn check(&self, root: &std::path::Path) -> Result<(), crate::StoreError> {
        if self.stop_asked() {
            return Err(crate::StoreError::Stopped {
                root: root.to_path_buf(),
            });
        }
        Ok(())
    }
}
