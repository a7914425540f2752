//! The engine's spill files, capped and watched: which queries met the cap.
//!
//! Sorts, groups and joins past the memory limit write their overflow to spill files,
//! and DataFusion lets one query's spill files grow to 100 GiB by default: one heavy
//! query could fill the disk the event server's stores write to, and ingest stopped.
//! [`EngineBuilder::max_spill_bytes`](crate::EngineBuilder::max_spill_bytes) sets
//! DataFusion's own cap (its `DiskManager`'s largest temporary folder), and its files
//! are made by DataFusion as before, in the same folder. DataFusion says a write past
//! the cap only in the words of an I/O error, as it says a disk that is full; so the
//! files are handed out through a [`TempFileFactory`] that watches each write, and a
//! write refused while the files already hold the cap is counted, so that
//! [`crate::collect`] can tell that failure by what happened
//! ([`QueryError::SpillLimit`](crate::QueryError::SpillLimit)), as it tells the memory
//! limit (`crate::memory`), rather than by DataFusion's text.

use std::io::Write;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use datafusion::error::Result;
use datafusion::execution::disk_manager::{DiskManager, DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::{SpillFile, SpillWriter, TempFileFactory};
use futures_util::Stream;

/// The cap of one engine's spill files and how many writes it refused: kept in the
/// session's config (an extension), where [`crate::collect`] finds it.
#[derive(Debug)]
pub(crate) struct SpillWatch {
    limit: u64,
    refusals: AtomicU64,
}

impl SpillWatch {
    /// The most bytes the spill files hold at once.
    pub(crate) fn limit(&self) -> u64 {
        self.limit
    }

    /// How many spill writes the cap refused so far.
    pub(crate) fn refusals(&self) -> u64 {
        self.refusals.load(Ordering::SeqCst)
    }
}

/// DataFusion's spill files in `mode`'s folder, at most `limit` bytes at once, watched:
/// the disk manager builder to give the engine's runtime, and the watch.
pub(crate) fn capped(
    mode: DiskManagerMode,
    limit: u64,
) -> Result<(DiskManagerBuilder, Arc<SpillWatch>)> {
    let files = Arc::new(
        DiskManager::builder()
            .with_mode(mode)
            .with_max_temp_directory_size(limit)
            .build()?,
    );
    let watch = Arc::new(SpillWatch {
        limit,
        refusals: AtomicU64::new(0),
    });
    let factory = Arc::new(WatchedFiles {
        files,
        watch: Arc::clone(&watch),
    });
    let builder = DiskManager::builder()
        .with_temp_file_factory(factory)
        .with_max_temp_directory_size(limit);
    Ok((builder, watch))
}

/// Makes the files through DataFusion's own disk manager (which holds the cap), and
/// hands them out watched.
struct WatchedFiles {
    files: Arc<DiskManager>,
    watch: Arc<SpillWatch>,
}

impl TempFileFactory for WatchedFiles {
    fn create_temp_file(&self, description: &str) -> Result<Arc<dyn SpillFile>> {
        Ok(Arc::new(WatchedFile {
            inner: self.files.create_tmp_file(description)?,
            files: Arc::clone(&self.files),
            watch: Arc::clone(&self.watch),
        }))
    }
}

struct WatchedFile {
    inner: Arc<dyn SpillFile>,
    files: Arc<DiskManager>,
    watch: Arc<SpillWatch>,
}

impl SpillFile for WatchedFile {
    fn path(&self) -> Option<&std::path::Path> {
        self.inner.path()
    }

    fn size(&self) -> Option<u64> {
        self.inner.size()
    }

    fn read_stream(&self) -> Result<Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>> {
        self.inner.read_stream()
    }

    fn open_writer(&self) -> Result<Box<dyn SpillWriter>> {
        Ok(Box::new(WatchedWriter {
            inner: self.inner.open_writer()?,
            files: Arc::clone(&self.files),
            watch: Arc::clone(&self.watch),
        }))
    }
}

struct WatchedWriter {
    inner: Box<dyn SpillWriter>,
    files: Arc<DiskManager>,
    watch: Arc<SpillWatch>,
}

impl Write for WatchedWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        // DataFusion's own test, made before it (it counts the write, then takes it back
        // when it refuses it; a write that fails on the disk stays counted).
        let past_the_cap = self
            .files
            .used_disk_space()
            .saturating_add(buf.len() as u64)
            > self.watch.limit;
        let written = self.inner.write(buf);
        if written.is_err() && past_the_cap {
            self.watch.refusals.fetch_add(1, Ordering::SeqCst);
        }
        written
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

impl SpillWriter for WatchedWriter {
    fn finish(&mut self) -> Result<()> {
        self.inner.finish()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn a_write_past_the_cap_is_refused_and_counted_and_one_within_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let (builder, watch) =
            capped(DiskManagerMode::Directories(vec![dir.path().into()]), 100).unwrap();
        let manager = Arc::new(builder.build().unwrap());
        let file = manager.create_tmp_file("test").unwrap();
        let mut writer = file.open_writer().unwrap();
        writer.write_all(&[0; 60]).unwrap();
        assert_eq!(watch.refusals(), 0);
        assert!(writer.write_all(&[0; 60]).is_err());
        assert_eq!(watch.refusals(), 1);
        // Within the cap still.
        writer.write_all(&[0; 40]).unwrap();
        assert_eq!(watch.refusals(), 1);
        assert!(file.path().unwrap().starts_with(dir.path()));
    }
}
