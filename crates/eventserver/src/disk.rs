//! Free space of the data folder (for the free-space floor and `/metrics`), and the
//! size of the store folders (`/v1/stats`, `/metrics`).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Bytes available to unprivileged writers on the file system holding `path`, or
/// `None` if it cannot be read.
pub(crate) fn available_bytes(path: &Path) -> Option<u64> {
    let st = rustix::fs::statvfs(path).ok()?;
    Some(st.f_bavail.saturating_mul(st.f_frsize))
}

/// Size and number of the files under a folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Usage {
    pub(crate) bytes: u64,
    pub(crate) files: u64,
}

/// Store folders' [`Usage`], walked at most once per [`USAGE_MAX_AGE`] per folder.
///
/// Walked rather than tracked as the store writes: the folder is the truth whatever
/// changed it (recovery setting files aside, retention, an operator). But a store
/// partitioned by hour grows by one folder per partition per hour (some 10^5 files in
/// a year of a dozen partitions), so a walk per scrape would cost every scraper tens
/// of milliseconds of system calls each time: the cache bounds the walks to one per
/// folder per `USAGE_MAX_AGE`, whatever the number of scrapers. Concurrent readers
/// wait for the walk in progress instead of starting their own.
#[derive(Debug, Default)]
pub(crate) struct UsageCache {
    walked: Mutex<HashMap<PathBuf, (Instant, Usage)>>,
}

/// How old the numbers of [`UsageCache`] may be.
pub(crate) const USAGE_MAX_AGE: Duration = Duration::from_secs(30);

impl UsageCache {
    /// The usage of `path`, walked now if the last walk is older than
    /// [`USAGE_MAX_AGE`]. Blocking: call it off the async threads.
    pub(crate) fn usage(&self, path: &Path) -> Usage {
        let Ok(mut walked) = self.walked.lock() else {
            return usage_under(path);
        };
        if let Some((at, usage)) = walked.get(path) {
            if at.elapsed() < USAGE_MAX_AGE {
                return *usage;
            }
        }
        let usage = usage_under(path);
        walked.insert(path.to_path_buf(), (Instant::now(), usage));
        usage
    }
}

/// Total size and number of the files under `path` (recursively); zeros when absent.
fn usage_under(path: &Path) -> Usage {
    let mut usage = Usage::default();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(t) if t.is_file() => {
                    usage.files += 1;
                    usage.bytes += entry.metadata().map(|m| m.len()).unwrap_or(0);
                }
                _ => {}
            }
        }
    }
    usage
}
