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
//! It lacks what an audit trail needs, which this module adds around it:
//! - **Knowing where the bytes went.** The appender owns its descriptor and never
//!   checks that its file is still the one at its path: after an operator or a
//!   rotation tool deletes or moves the file, it keeps writing into the unlinked or
//!   renamed inode. So we never let it pick a file by itself: it always runs with
//!   `Rotation::NEVER` on the exact file we choose ([`active::ActiveFile`]), next to
//!   a second descriptor of the same file through which we fstat, fsync and compare
//!   the file's identity with the path's before and after each write, reopening
//!   and writing again when they differ.
//! - **fsync.** The appender exposes no way to sync its file. We `fdatasync` our
//!   second descriptor: on Linux (and POSIX), fsync flushes the file's data whatever
//!   descriptor wrote it.
//! - **Size-based rolling.** The appender only rolls by time. For `rotation =
//!   "size"` we roll `audit.log` ourselves (`audit.log` → `audit.log.1` → …), under
//!   an `flock(2)` on a lock file so that several processes sharing the folder roll
//!   once and never write into a file being renamed. Maintained size-rolling crates
//!   (`file-rotate`, `rolling-file`) keep the size in memory, rename without any
//!   inter-process coordination and give no fsync, so they do not fit.
//! - **Time-based rolling we can check.** tracing-appender's own hourly/daily
//!   rolling opens the next period's file inside `write`, out of our sight, so the
//!   checks above could not know which file a write went to. We name the period's
//!   file ourselves, with tracing-appender's naming (`audit.2026-11-25-17.log`), and
//!   apply `max_files` by removing the oldest period files by name (the UTC period
//!   in the name orders them).
//!
//! Nothing here uses tracing-appender's lossy `non_blocking` writer: writes are
//! synchronous, on a blocking thread of the runtime (see `target.rs`).

mod active;
mod folder;
mod no_replace;
mod size;
mod time;

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use active::{ActiveFile, Gone, Landed};
use auditrail_core::no_follow;
use std::sync::Arc;

use auditrail_core::{BuildError, FolderCheck};
use thiserror::Error;

use crate::config::{FileTargetConfig, Rotation};

/// A failed write; the batch was not (wholly) written.
#[derive(Debug, Error)]
#[error("{}: cannot {op}: {}", path.display(), auditrail_core::without_path(path, source))]
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

/// Writes batches of lines, rolling and fsyncing as configured.
pub(crate) struct FileSink {
    kind: Kind,
    fsync: bool,
}

impl FileSink {
    /// Creates the folder and opens the active file; errors name the path. `check`:
    /// the check of the folder holding the target's folder, asked before the folder
    /// is made again at run time (see `folder.rs`).
    pub(crate) fn open(
        config: &FileTargetConfig,
        check: Option<Arc<dyn FolderCheck>>,
    ) -> Result<FileSink, BuildError> {
        let dir = config.dir();
        auditrail_core::durable::create_dir_all(&dir).map_err(|source| BuildError::Io {
            path: dir.clone(),
            source,
        })?;
        let kind = match config.rotation() {
            Rotation::Size => Kind::Size(size::SizeRolled::open(
                &dir,
                config.file_name(),
                Some(config.max_bytes()),
                config.max_files(),
                check,
            )?),
            Rotation::Never => Kind::Size(size::SizeRolled::open(
                &dir,
                config.file_name(),
                None,
                config.max_files(),
                check,
            )?),
            Rotation::Hourly | Rotation::Daily => Kind::Time(time::TimeRolled::open(
                &dir,
                config.file_name(),
                config.rotation(),
                config.max_files(),
                check,
            )?),
        };
        Ok(FileSink {
            kind,
            fsync: config.fsync(),
        })
    }

    /// Writes a batch's whole lines (see `crate::line`) in one write call; fsyncs when
    /// configured. `Ok` means every line is in the file its path names (and on disk
    /// with fsync).
    pub(crate) fn write_lines(&mut self, lines: &[u8]) -> Result<(), WriteError> {
        match &mut self.kind {
            Kind::Size(s) => s.append(lines, self.fsync),
            Kind::Time(t) => t.append(lines, self.fsync),
        }
    }

    /// The last write may have been cut short: start the next one on a new line.
    pub(crate) fn mark_uncertain(&mut self) {
        let active = match &mut self.kind {
            Kind::Size(s) => s.active_mut(),
            Kind::Time(t) => t.active_mut(),
        };
        if let Some(a) = active {
            a.mark_mid_line();
        }
    }
}

/// Times a batch is written again after it landed in a file that left its path (or
/// was truncated) during the write, before the write fails as retryable.
const MAX_ATTEMPTS: usize = 3;

/// The open file, reopened first if `<dir>/<file_name>` no longer names it (deleted,
/// moved, or rolled by another process). Call with the roll lock held, if any.
pub(crate) fn current<'a>(
    slot: &'a mut Option<ActiveFile>,
    dir: &Path,
    file_name: &str,
    check: folder::Check<'_>,
) -> Result<&'a mut ActiveFile, WriteError> {
    let stale = match slot.as_ref() {
        Some(a) if a.is_at_path()? => None,
        Some(a) => Some(a.why_gone()),
        None => Some(Gone::Moved),
    };
    if let Some(why) = stale {
        let path = dir.join(file_name);
        // A link now at the path: the open below removes it, with an ERROR that says
        // so (neither "deleted" nor "moved" is what happened).
        let link = fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink());
        if let Some(old) = slot.as_ref().filter(|_| !link) {
            match why {
                Gone::Deleted => report_deleted(old),
                _ => tracing::info!(
                    path = %path.display(),
                    "the audit file was moved away (rolled by another writer or a rotation tool): \
                     the file now at its path is used"
                ),
            }
        }
        // Gone with its folder: the old file tells whether the folder was moved or
        // removed (`folder.rs`), so it is asked before it is let go.
        let held: Vec<&File> = slot.iter().map(ActiveFile::handle).collect();
        folder::recreate_if_gone(dir, &held, check)?;
        *slot = None;
        return Ok(slot.insert(ActiveFile::open(dir, file_name, false, check)?));
    }
    slot.as_mut().ok_or_else(|| {
        WriteError::new(&dir.join(file_name), "open", io::ErrorKind::NotFound.into())
    })
}

/// Says, at `ERROR`, that the file `old` was written into was deleted under the target,
/// with its size and when it lost its name (its inode's change time).
///
/// Not only an operator's `rm`: a move to another file system (`mv` to another disk,
/// `rsync --remove-source-files`, an archiving job) copies the file, then deletes it.
/// Lines the target wrote between the copy's end and the deletion passed every check
/// (the path still named the file) and were acknowledged, yet they are in neither the
/// copy nor the new file (as with `copytruncate`). The target cannot tell which lines
/// the copy holds; the size lets the operator compare it with the copy's.
fn report_deleted(old: &ActiveFile) {
    use std::os::unix::fs::MetadataExt;
    let meta = old.handle().metadata().ok();
    let size = meta.as_ref().map(std::fs::Metadata::len);
    let deleted_at = meta.as_ref().and_then(|m| {
        let nanos = u32::try_from(m.ctime_nsec()).ok()?;
        chrono::DateTime::<chrono::Utc>::from_timestamp(m.ctime(), nanos)
    });
    tracing::error!(
        path = %old.path().display(),
        size_when_deleted = size.map_or_else(|| "(not known)".to_owned(), |s| s.to_string()),
        deleted_at = deleted_at.map_or_else(|| "(not known)".to_owned(), |t| t.to_rfc3339()),
        "the audit file was deleted by another program: a new one is opened at its path. \
         If it was moved to another file system (which copies, then deletes), the lines \
         written between the copy and the deletion are lost: a copy smaller than \
         size_when_deleted lacks them. Move audit files within their file system (a rename), \
         or let the target rotate them"
    );
}

/// Appends `lines` to the file `<dir>/<file_name>` names, and makes sure they stay
/// there: a write that landed in a file deleted, moved or truncated meanwhile is
/// written again into the file now at the path (the events may then appear twice,
/// once in the moved file: they carry unique ids). Call with the roll lock held, if
/// any.
pub(crate) fn append_checked(
    slot: &mut Option<ActiveFile>,
    dir: &Path,
    file_name: &str,
    lines: &[u8],
    fsync: bool,
    check: folder::Check<'_>,
) -> Result<(), WriteError> {
    let mut attempt = 0;
    loop {
        attempt += 1;
        let active = current(slot, dir, file_name, check)?;
        let why = match active.write(lines, fsync)? {
            Landed::Kept => return Ok(()),
            Landed::Lost(why) => why,
        };
        tracing::warn!(
            path = %active.path().display(),
            attempt,
            "{}: the batch is written again into the file now at the path", why.describe()
        );
        if attempt >= MAX_ATTEMPTS {
            return Err(WriteError::new(
                active.path(),
                "write",
                io::Error::other(format!(
                    "{} ({attempt} times in a row); not acknowledged",
                    why.describe()
                )),
            ));
        }
        if why == Gone::Truncated {
            // The file at the path is the same one: just write again.
            continue;
        }
        // (A link put at the path is reported as such when it is removed.)
        let link = fs::symlink_metadata(active.path()).is_ok_and(|m| m.file_type().is_symlink());
        if why == Gone::Deleted && !link {
            report_deleted(active);
        }
        *slot = None;
    }
}

/// Opens `path` for appending, creating it, never through a symbolic link at its name
/// (one found there is removed: see `auditrail_core::no_follow`), and only when it is a
/// regular file: a FIFO put at the name is refused at once, never waited on (opened
/// for writing it would block until some reader came), nor is a device written to.
/// Errors name the path.
pub(crate) fn open_append(path: &Path) -> Result<File, BuildError> {
    // Audit data: never readable by every local user (`auditrail_core::file_mode`).
    no_follow::open_regular_replacing_link(
        auditrail_core::file_mode::audit_data(OpenOptions::new().append(true).create(true)),
        path,
    )
    .map_err(|source| BuildError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Makes the folder's entries (a new or renamed file) durable.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(test)]
    tests::record_sync(dir);
    auditrail_core::durable::sync_dir(dir)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::cell::RefCell;
    use std::path::{Path, PathBuf};

    thread_local! {
        /// The folders [`super::sync_dir`] synced on this thread.
        static SYNCED: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
    }

    pub(crate) fn record_sync(dir: &Path) {
        SYNCED.with(|s| s.borrow_mut().push(dir.to_path_buf()));
    }

    /// The folders synced on this thread since the last call.
    pub(crate) fn take_synced() -> Vec<PathBuf> {
        SYNCED.with(|s| std::mem::take(&mut *s.borrow_mut()))
    }
}
