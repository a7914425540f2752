//! The file writers behind `mode = "file"`.
//!
//! # Why tracing-appender plus code of our own
//!
//! Every byte goes through `tracing_appender::rolling::RollingFileAppender`, the
//! Rust logging ecosystem's rolling writer, as the design asks. It opens its files
//! with `O_APPEND` and hands each buffer to one `write(2)`, which is exactly what
//! concurrent appenders need: we give it one whole batch of whole lines per call, so
//! lines of different target instances or processes never interleave.
//!
//! It lacks two things an audit trail needs, which this module adds around it:
//! - **fsync.** The appender owns its `File` and exposes no way to sync it. We open
//!   the same file a second time and `fdatasync` that descriptor: on Linux (and
//!   POSIX), fsync flushes the file's data whatever descriptor wrote it. In
//!   size/never mode the second descriptor is opened under the roll lock right after
//!   the appender, so both name the same inode (checked before every write); in
//!   hourly/daily mode the file is found by name for the time before and after the
//!   write (the appender names files after the UTC period it rolls into).
//! - **Size-based rolling.** The appender only rolls by time. For `rotation =
//!   "size"` we use the appender with `Rotation::NEVER` on `audit.log` and roll it
//!   ourselves (`audit.log` → `audit.log.1` → …), under an `flock(2)` on a lock file
//!   so that several processes sharing the folder roll once and never write into a
//!   file being renamed. Maintained size-rolling crates (`file-rotate`,
//!   `rolling-file`) keep the size in memory, rename without any inter-process
//!   coordination and give no fsync, so they do not fit.
//!
//! Time-based rotation and its retention (`max_files`) are tracing-appender's own.
//! Nothing here uses tracing-appender's lossy `non_blocking` writer: writes are
//! synchronous, on a blocking thread of the runtime (see `target.rs`).

mod size;
mod time;

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use auditrail_core::{BuildError, Event};
use thiserror::Error;

use crate::config::{FileTargetConfig, Rotation};
use crate::line::{encode_line, LoggerName};

pub(crate) use time::{is_time_rolled_name, time_name_parts};

/// A failed write; the batch was not (wholly) written.
#[derive(Debug, Error)]
#[error("{}: cannot {op}: {source}", path.display())]
pub struct WriteError {
    /// The file or folder.
    pub path: PathBuf,
    /// What was being done (`write`, `fsync`, `lock`, `open`).
    pub op: &'static str,
    /// The OS error.
    pub source: io::Error,
}

impl WriteError {
    pub(crate) fn new(path: &Path, op: &'static str, source: io::Error) -> WriteError {
        WriteError {
            path: path.to_path_buf(),
            op,
            source,
        }
    }
}

enum Kind {
    Size(size::SizeRolled),
    Time(time::TimeRolled),
}

/// Writes batches of events as lines, rolling and fsyncing as configured.
pub(crate) struct FileSink {
    kind: Kind,
    logger: LoggerName,
    fsync: bool,
    /// Set after a failed write, which may have left a partial line: the next write
    /// starts with `\n` so that the partial line stays alone on its line (readers
    /// skip it as torn). Truncating it away instead would be unsafe, since other
    /// processes may have appended after it.
    resume_on_new_line: bool,
    buf: Vec<u8>,
}

impl FileSink {
    /// Creates the folder and opens the active file; errors name the path.
    pub(crate) fn open(config: &FileTargetConfig) -> Result<FileSink, BuildError> {
        let dir = config.dir();
        fs::create_dir_all(&dir).map_err(|source| BuildError::Io {
            path: dir.clone(),
            source,
        })?;
        let kind = match config.rotation() {
            Rotation::Size => Kind::Size(size::SizeRolled::open(
                &dir,
                config.file_name(),
                Some(config.max_bytes()),
                config.max_files(),
            )?),
            Rotation::Never => Kind::Size(size::SizeRolled::open(
                &dir,
                config.file_name(),
                None,
                config.max_files(),
            )?),
            Rotation::Hourly | Rotation::Daily => Kind::Time(time::TimeRolled::open(
                &dir,
                config.file_name(),
                config.rotation(),
                config.max_files(),
            )?),
        };
        let current = match &kind {
            Kind::Size(s) => s.current_path(),
            Kind::Time(t) => t.current_path(),
        };
        // A crash may have left a torn last line: start our first line after it.
        let resume_on_new_line = ends_mid_line(&current);
        if resume_on_new_line {
            tracing::warn!(
                path = %current.display(),
                "the audit file ends with a torn line (a write cut short): new lines start \
                 after it, and readers skip it"
            );
        }
        Ok(FileSink {
            kind,
            logger: config.logger(),
            fsync: config.fsync(),
            resume_on_new_line,
            buf: Vec::with_capacity(64 * 1024),
        })
    }

    /// Writes every event of `batch` as one line, in one write call; fsyncs when
    /// configured. `Ok` means every line is in the file (and on disk with fsync).
    pub(crate) fn write_batch(
        &mut self,
        batch: &[std::sync::Arc<Event>],
    ) -> Result<(), WriteError> {
        let mut buf = std::mem::take(&mut self.buf);
        buf.clear();
        if self.resume_on_new_line {
            buf.push(b'\n');
        }
        for event in batch {
            encode_line(&self.logger, event, &mut buf);
        }
        let result = self.write_lines(&buf);
        // A failed write may have left part of a line behind.
        self.resume_on_new_line = result.is_err();
        if buf.capacity() > 16 * 1024 * 1024 {
            buf = Vec::with_capacity(64 * 1024);
        }
        self.buf = buf;
        result
    }

    /// The last write may have been cut short: start the next one on a new line.
    pub(crate) fn mark_uncertain(&mut self) {
        self.resume_on_new_line = true;
    }

    fn write_lines(&mut self, lines: &[u8]) -> Result<(), WriteError> {
        match &mut self.kind {
            Kind::Size(s) => s.append(lines, self.fsync),
            Kind::Time(t) => t.append(lines, self.fsync),
        }
    }
}

/// Whether the file at `path` is non-empty and does not end with `\n`.
fn ends_mid_line(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = File::open(path) else {
        return false;
    };
    let mut last = [0u8; 1];
    file.seek(SeekFrom::End(-1)).is_ok() && file.read_exact(&mut last).is_ok() && last[0] != b'\n'
}

/// Opens `path` for appending, creating it; errors name the path.
pub(crate) fn open_append(path: &Path) -> Result<File, BuildError> {
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(|source| BuildError::Io {
            path: path.to_path_buf(),
            source,
        })
}

/// Makes the folder's entries (a new or renamed file) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}
