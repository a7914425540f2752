//! `rotation = "size"` and `"never"`: tracing-appender (`Rotation::NEVER`) on
//! `<dir>/<file_name>`, rolled by size under an inter-process lock.
//!
//! Lock protocol (`flock(2)` on `<dir>/.<file_name>.lock`):
//! - a write holds the lock *shared*: it first checks that its descriptor still names
//!   the file at `<dir>/<file_name>` (another process may have rolled it) and reopens
//!   if not, then writes and fsyncs;
//! - a roll holds it *exclusive*: it re-checks the size (another process may have
//!   rolled already), then renames `file.N-1` → … → `file.1`, `file` → `file.1`,
//!   deleting the oldest beyond `max_files`.
//!
//! So no write ever lands in a file that is being renamed or deleted, and several
//! processes sharing the folder roll it once.

use std::fs::{self, File};
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use auditrail_core::BuildError;
use rustix::fs::{flock, FlockOperation};
use tracing_appender::rolling::{RollingFileAppender, Rotation};

use super::{open_append, sync_dir, WriteError};

struct Active {
    appender: RollingFileAppender,
    /// The same file, opened by us: for fstat and fsync.
    handle: File,
    /// (device, inode) of the file.
    id: (u64, u64),
}

pub(super) struct SizeRolled {
    dir: PathBuf,
    file_name: String,
    path: PathBuf,
    lock_path: PathBuf,
    max_bytes: Option<u64>,
    max_files: usize,
    lock: File,
    active: Option<Active>,
}

/// Holds an flock until dropped.
struct Locked<'a>(&'a File);

impl Drop for Locked<'_> {
    fn drop(&mut self) {
        let _ = flock(self.0, FlockOperation::Unlock);
    }
}

fn lock<'a>(file: &'a File, op: FlockOperation, path: &Path) -> Result<Locked<'a>, WriteError> {
    loop {
        match flock(file, op) {
            Ok(()) => return Ok(Locked(file)),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(WriteError::new(path, "lock", e.into())),
        }
    }
}

impl SizeRolled {
    pub(super) fn open(
        dir: &Path,
        file_name: &str,
        max_bytes: Option<u64>,
        max_files: usize,
    ) -> Result<SizeRolled, BuildError> {
        // Probe now, so that an unwritable folder fails the build naming the file.
        open_append(&dir.join(file_name))?;
        let lock_path = dir.join(format!(".{file_name}.lock"));
        let lock_file = open_append(&lock_path)?;
        let mut s = SizeRolled {
            dir: dir.to_path_buf(),
            file_name: file_name.to_owned(),
            path: dir.join(file_name),
            lock_path,
            max_bytes,
            max_files,
            lock: lock_file,
            active: None,
        };
        let opened = {
            let _guard = lock(&s.lock, FlockOperation::LockShared, &s.lock_path).map_err(|e| {
                BuildError::Io {
                    path: e.path,
                    source: e.source,
                }
            })?;
            open_active(&s.dir, &s.file_name, &s.path)
        };
        s.active = Some(opened.map_err(|e| BuildError::Io {
            path: e.path,
            source: e.source,
        })?);
        Ok(s)
    }

    /// The active file.
    pub(super) fn current_path(&self) -> PathBuf {
        self.path.clone()
    }

    pub(super) fn append(&mut self, lines: &[u8], fsync: bool) -> Result<(), WriteError> {
        let len = {
            let _guard = lock(&self.lock, FlockOperation::LockShared, &self.lock_path)?;
            let path = &self.path;
            let active = current(&mut self.active, &self.dir, &self.file_name, path)?;
            active
                .appender
                .write_all(lines)
                .map_err(|e| WriteError::new(path, "write", e))?;
            if fsync {
                active
                    .handle
                    .sync_data()
                    .map_err(|e| WriteError::new(path, "fsync", e))?;
            }
            active.handle.metadata().map(|m| m.len()).unwrap_or(0)
        };
        if self.max_bytes.is_some_and(|max| len >= max) {
            // The batch is written (and synced): a failed roll must not fail it, or
            // it would be written twice. The next write tries the roll again.
            if let Err(e) = self.roll() {
                tracing::error!(error = %e, "cannot roll the audit file; it keeps growing");
            }
        }
        Ok(())
    }

    fn roll(&mut self) -> Result<(), WriteError> {
        let max = self.max_bytes.unwrap_or(u64::MAX);
        let _guard = lock(&self.lock, FlockOperation::LockExclusive, &self.lock_path)?;
        let active = current(&mut self.active, &self.dir, &self.file_name, &self.path)?;
        let len = active
            .handle
            .metadata()
            .map_err(|e| WriteError::new(&self.path, "stat", e))?
            .len();
        if len < max {
            return Ok(()); // another process rolled it meanwhile
        }
        let rolled = |n: usize| self.dir.join(format!("{}.{n}", self.file_name));
        let oldest = rolled(self.max_files - 1);
        match fs::remove_file(&oldest) {
            Ok(()) => {
                tracing::info!(path = %oldest.display(), "removed the oldest audit file (max_files)")
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(WriteError::new(&oldest, "remove", e)),
        }
        for n in (1..self.max_files - 1).rev() {
            match fs::rename(rolled(n), rolled(n + 1)) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(WriteError::new(&rolled(n), "rename", e)),
            }
        }
        fs::rename(&self.path, rolled(1)).map_err(|e| WriteError::new(&self.path, "rename", e))?;
        self.active = None;
        self.active = Some(open_active(&self.dir, &self.file_name, &self.path)?);
        Ok(())
    }
}

/// The open file, reopened if `path` no longer names it (rolled by another process,
/// or removed). Call with the lock held.
fn current<'a>(
    active: &'a mut Option<Active>,
    dir: &Path,
    file_name: &str,
    path: &Path,
) -> Result<&'a mut Active, WriteError> {
    let stale = match (&*active, fs::metadata(path)) {
        (Some(a), Ok(m)) => (m.dev(), m.ino()) != a.id,
        _ => true,
    };
    if stale {
        *active = None;
        *active = Some(open_active(dir, file_name, path)?);
    }
    active
        .as_mut()
        .ok_or_else(|| WriteError::new(path, "open", io::ErrorKind::NotFound.into()))
}

/// Opens the appender on `path` and our own descriptor of the same file. Call with
/// the lock held, so that no roll happens between the two opens.
fn open_active(dir: &Path, file_name: &str, path: &Path) -> Result<Active, WriteError> {
    let existed = path.exists();
    let appender = RollingFileAppender::builder()
        .rotation(Rotation::NEVER)
        .filename_prefix(file_name)
        .build(dir)
        .map_err(|e| WriteError::new(path, "open", io::Error::other(e.to_string())))?;
    let handle = fs::OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| WriteError::new(path, "open", e))?;
    let meta = handle
        .metadata()
        .map_err(|e| WriteError::new(path, "stat", e))?;
    if !existed {
        // The new file's name must survive a crash too.
        sync_dir(dir).map_err(|e| WriteError::new(dir, "fsync", e))?;
    }
    Ok(Active {
        appender,
        handle,
        id: (meta.dev(), meta.ino()),
    })
}
