//! Making names durable: the one place every crate of the workspace creates folders,
//! replaces small files and fsyncs folders when what it acknowledges depends on them.
//!
//! `fsync` of a file makes its bytes durable, not its name: a new file, a renamed one or
//! a new folder is only an entry in its parent folder, which a power loss can take back
//! until that folder is fsynced too (POSIX `fsync(2)`; Linux `fsync(2)`: "calling fsync()
//! on the file descriptor for the directory is also needed"). So a folder created on
//! first use (a spool, a store, a run folder) needs its parent synced, and every
//! ancestor created with it likewise; a failed folder sync is an error, never ignored,
//! where an acknowledgement, a key or a sequence number depends on it.
//!
//! std has no durable `create_dir_all` nor an atomic "replace this file" and no
//! maintained crate does both with the parent syncs (`tempfile`'s `persist` renames but
//! does not sync the folder; `atomicwrites` syncs it but does not create folders
//! durably), so these few lines are ours.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// fsyncs the folder `dir`, so that entries created, renamed or removed in it survive a
/// power loss.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(test)]
    tests::record_sync(dir)?;
    File::open(dir)?.sync_all()
}

/// Creates `dir` and its missing ancestors, like [`std::fs::create_dir_all`], and makes
/// each folder it created durable (fsyncs the parent of each one). Folders that already
/// existed are not synced again. An error names no path: callers add theirs.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    let mut missing: Vec<PathBuf> = Vec::new();
    let mut at = Some(dir);
    while let Some(p) = at {
        if p.as_os_str().is_empty() || p.is_dir() {
            break;
        }
        missing.push(p.to_path_buf());
        at = p.parent();
    }
    if missing.is_empty() {
        return Ok(());
    }
    std::fs::create_dir_all(dir)?;
    // Deepest first: nothing is acknowledged until every sync returned, so the order only
    // decides which folder a failure names.
    for created in &missing {
        sync_dir(parent_of(created))?;
    }
    Ok(())
}

/// Replaces the file at `path` with `bytes`, all or nothing across a crash: written to
/// `tmp` (in the same folder), fsynced, renamed over `path`, and the folder fsynced.
pub fn replace_file(path: &Path, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut f = File::create(tmp)?;
    f.write_all(bytes)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(tmp, path)?;
    sync_dir(parent_of(path))
}

/// Why the open file `held` is no longer the file at `path`, or `None` when it still
/// is: the path is gone (the file or its folder removed or moved aside), or `held` was
/// unlinked (`nlink` 0) or another file is at the path (device or inode differ). An
/// append through `held` would then land in a file nobody finds at `path`. Other errors
/// reading the path are left to the caller's next operation on it, which reports them.
#[cfg(unix)]
pub fn why_not_at(held: &File, path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::MetadataExt;
    let at_path = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Some("its path is gone");
        }
        Err(_) => return None,
    };
    match held.metadata() {
        Ok(m) if m.nlink() == 0 => Some("the open file was removed"),
        Ok(m) if m.dev() != at_path.dev() || m.ino() != at_path.ino() => {
            Some("another file is at its path")
        }
        Ok(_) => None,
        Err(_) => Some("the open file cannot be read back"),
    }
}

/// The folder holding `path` (`.` for a bare file name).
fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use std::cell::RefCell;

    thread_local! {
        /// The folders synced on this thread, and a folder whose sync fails.
        static SYNCED: RefCell<Vec<PathBuf>> = const { RefCell::new(Vec::new()) };
        static FAIL: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
    }

    /// Tests cannot make a real folder fsync fail (they run as root on file systems that
    /// take it), so the sync is observed and failed here, on the calling thread only.
    pub(super) fn record_sync(dir: &Path) -> io::Result<()> {
        if FAIL.with(|f| f.borrow().as_deref() == Some(dir)) {
            return Err(io::Error::other("injected folder fsync failure"));
        }
        SYNCED.with(|s| s.borrow_mut().push(dir.to_path_buf()));
        Ok(())
    }

    /// The folders synced on this thread since the last call.
    pub(crate) fn take_synced() -> Vec<PathBuf> {
        SYNCED.with(|s| std::mem::take(&mut *s.borrow_mut()))
    }

    /// Makes the next syncs of `dir` on this thread fail.
    pub(crate) fn fail_sync_of(dir: Option<&Path>) {
        FAIL.with(|f| *f.borrow_mut() = dir.map(Path::to_path_buf));
    }

    #[test]
    fn creating_nested_folders_syncs_the_parent_of_each_new_one() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        take_synced();
        create_dir_all(&deep).unwrap();
        assert!(deep.is_dir());
        let mut synced = take_synced();
        synced.sort();
        assert_eq!(
            synced,
            vec![
                tmp.path().to_path_buf(),
                tmp.path().join("a"),
                tmp.path().join("a/b")
            ]
        );
    }

    #[test]
    fn an_existing_folder_is_not_synced_again() {
        let tmp = tempfile::tempdir().unwrap();
        take_synced();
        create_dir_all(tmp.path()).unwrap();
        assert_eq!(take_synced(), Vec::<PathBuf>::new());
    }

    #[test]
    fn a_failed_parent_sync_fails_the_creation() {
        let tmp = tempfile::tempdir().unwrap();
        fail_sync_of(Some(tmp.path()));
        let err = create_dir_all(&tmp.path().join("spool"));
        fail_sync_of(None);
        assert!(err.is_err(), "{err:?}");
    }

    #[test]
    fn a_replaced_file_has_the_new_bytes_and_its_folder_is_synced() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("id");
        std::fs::write(&path, b"old\n").unwrap();
        take_synced();
        replace_file(&path, &tmp.path().join("id.tmp"), b"new\n").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new\n");
        assert!(!tmp.path().join("id.tmp").exists());
        assert_eq!(take_synced(), vec![tmp.path().to_path_buf()]);
    }

    #[test]
    fn a_failed_folder_sync_fails_the_replacement() {
        let tmp = tempfile::tempdir().unwrap();
        fail_sync_of(Some(tmp.path()));
        let err = replace_file(&tmp.path().join("id"), &tmp.path().join("id.tmp"), b"x");
        fail_sync_of(None);
        assert!(err.is_err(), "{err:?}");
    }
}
