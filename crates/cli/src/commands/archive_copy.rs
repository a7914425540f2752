//! The temporary folder `verify --archive` downloads an archive into (as large as the
//! archive). Removed when the command ends; but a `kill -9`, a crash or an interrupt
//! (SIGINT ends the process without unwinding) left it behind, one more copy of the
//! archive's audit data per interrupted run, under the temporary folder. So each copy
//! holds a lock for as long as its command runs, and each run first removes the copies
//! whose lock nobody holds: their command is gone.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::Context;

/// The name every copy's folder starts with.
const PREFIX: &str = "auditrail-verify-archive-";
/// The lock file in each copy's folder (the archive itself is in `COPY`, beside it).
const LOCK: &str = "running.lock";
/// The folder the archive is downloaded into.
const COPY: &str = "copy";

/// A copy's folder, with its lock held; both go when this is dropped.
pub(crate) struct ArchiveCopy {
    // Removed first (fields drop in order), the lock still held: no other run can take
    // it for left behind and remove it under this one.
    dir: tempfile::TempDir,
    _lock: File,
}

impl ArchiveCopy {
    /// Removes the copies left by commands that are gone, then makes a new one under
    /// the temporary folder (`TMPDIR`).
    pub(crate) fn make() -> anyhow::Result<ArchiveCopy> {
        let tmp = std::env::temp_dir();
        for left in left_behind(&tmp) {
            // Not ours to keep; if it cannot be removed (another user's), it stays.
            match std::fs::remove_dir_all(&left) {
                Ok(()) => {
                    tracing::info!(folder = %left.display(), "removed the archive copy an interrupted verify --archive left behind")
                }
                Err(e) => {
                    tracing::debug!(folder = %left.display(), error = %e, "an archive copy left behind could not be removed")
                }
            }
        }
        let mut builder = tempfile::Builder::new();
        builder.prefix(PREFIX);
        // The archive's audit data, under a folder every user may list: the owner's
        // alone (its folders and files inside get the audit modes, see the download).
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
        let dir = builder.tempdir_in(&tmp).with_context(|| {
            format!(
                "creating a temporary folder for the archive's copy in {}",
                tmp.display()
            )
        })?;
        let lock_path = dir.path().join(LOCK);
        let lock = File::create(&lock_path)
            .and_then(|f| f.lock().map(|()| f))
            .with_context(|| format!("locking {}", lock_path.display()))?;
        Ok(ArchiveCopy { dir, _lock: lock })
    }

    /// Where the archive is downloaded (a new, empty folder, as the download wants).
    pub(crate) fn path(&self) -> PathBuf {
        self.dir.path().join(COPY)
    }
}

/// The copies under `tmp` whose command is gone: their lock file can be locked. A copy
/// being made (its lock file not there yet) or one whose lock cannot be opened (another
/// user's) is left alone.
fn left_behind(tmp: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(PREFIX))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .filter(|dir| File::open(dir.join(LOCK)).is_ok_and(|f| f.try_lock().is_ok()))
        .collect()
}
