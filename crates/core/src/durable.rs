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

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Whether `e` says the disk is full: `ENOSPC` (28) or `EDQUOT` (122 on Linux),
/// matched on the raw OS code so that both count (`io::ErrorKind` names them
/// differently across Rust versions). The one test of it, for the store's writer and
/// the operator commands.
pub fn is_disk_full(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(28 | 122))
}

/// fsyncs the folder `dir`, so that entries created, renamed or removed in it survive a
/// power loss. A file system that does not fsync folders at all (`EINVAL`: sysfs, some
/// FUSE and network file systems) is taken as having nothing to sync, as PostgreSQL's
/// `fsync_fname_ext` does: refusing would make such a folder unusable, and there is no
/// sync to wait for.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(test)]
    tests::record_sync(dir)?;
    match File::open(dir)?.sync_all() {
        Err(e) if e.kind() == io::ErrorKind::InvalidInput => Ok(()),
        other => other,
    }
}

/// Creates `dir` and its missing ancestors, like [`std::fs::create_dir_all`] but with
/// mode [`AUDIT_FOLDER`](crate::file_mode::AUDIT_FOLDER) less the umask, and makes
/// each folder on its path durable: the parent of each folder it created is fsynced,
/// and so is, once per process, the parent of each folder that already existed (an
/// earlier run may have created it and been killed before its sync: no later "does it
/// exist" check could tell). The walk up stops at a mount point (its name is no entry
/// of this file system) or at a folder whose parent this process may not read (one it
/// did not create). An error names no path: callers add theirs.
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
    if !missing.is_empty() {
        // Audit data lives in them: not listable by every local user (`file_mode.rs`).
        crate::file_mode::create_audit_dir_all(dir).map_err(|e| explain_mkdir_error(dir, e))?;
    }
    // Deepest first: nothing is acknowledged until every sync returned, so the order only
    // decides which folder a failure names.
    for created in &missing {
        sync_dir(parent_of(created))?;
        made_durable(created);
    }
    let mut at = at.filter(|p| !p.as_os_str().is_empty());
    while let Some(existing) = at {
        if existing.parent().is_none() || on_another_device(existing, parent_of(existing)) {
            break;
        }
        match sync_entry_once(existing) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => break,
            Err(e) => return Err(e),
        }
        at = existing.parent().filter(|p| !p.as_os_str().is_empty());
    }
    Ok(())
}

/// A folder to create is a symbolic link to nothing (a data dir moved away, or not
/// mounted, its link left): what `mkdir` says of it ("File exists") hides the cause.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: is a dangling symbolic link (to {}, which does not exist): mount or put back \
     the folder it points to, or remove the link",
    link.display(),
    target.display()
)]
pub struct DanglingLink {
    /// The link.
    pub link: PathBuf,
    /// Where it points.
    pub target: PathBuf,
}

/// A folder to create, or one of its ancestors, is something else: a regular file (a
/// stray copy, a restore gone wrong), a FIFO, a device. `mkdir` says "File exists" of
/// the folder itself, "Not a directory" of one below such an ancestor: neither says
/// which path is in the way, nor that the operator should look for a file.
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: is {what}, not a folder: a folder is needed there (move it away, or configure \
     another path)",
    path.display()
)]
pub struct NotAFolder {
    /// The path that is not a folder.
    pub path: PathBuf,
    /// What it is: `a regular file`, `a FIFO`, ...
    pub what: &'static str,
}

/// Why creating `dir` and its missing ancestors failed with `e`, said better when
/// something at one of those paths is the cause ([`DanglingLink`], [`NotAFolder`]);
/// `e` itself otherwise.
pub fn explain_mkdir_error(dir: &Path, e: io::Error) -> io::Error {
    let mut paths = Vec::new();
    let mut at = Some(dir);
    while let Some(p) = at.filter(|p| !p.as_os_str().is_empty()) {
        paths.push(p.to_path_buf());
        at = p.parent();
    }
    dangling_link_in(&paths)
        .or_else(|| not_a_folder_in(&paths))
        .unwrap_or(e)
}

/// The first of `paths` that exists and is not a folder (a link is followed), as an
/// error.
fn not_a_folder_in(paths: &[PathBuf]) -> Option<io::Error> {
    use std::os::unix::fs::FileTypeExt;
    paths.iter().find_map(|p| {
        let t = std::fs::metadata(p).ok()?.file_type();
        let what = if t.is_dir() {
            return None;
        } else if t.is_file() {
            "a regular file"
        } else if t.is_fifo() {
            "a FIFO"
        } else if t.is_socket() {
            "a socket"
        } else if t.is_block_device() || t.is_char_device() {
            "a device"
        } else {
            "not a folder"
        };
        Some(io::Error::new(
            io::ErrorKind::NotADirectory,
            NotAFolder {
                path: p.clone(),
                what,
            },
        ))
    })
}

/// The first of `paths` that is a dangling symbolic link, as an error.
fn dangling_link_in(paths: &[PathBuf]) -> Option<io::Error> {
    paths.iter().find_map(|p| {
        let target = std::fs::read_link(p).ok()?;
        // `is_dir` above followed the link and found nothing.
        std::fs::metadata(p).is_err().then(|| {
            io::Error::other(DanglingLink {
                link: p.clone(),
                target,
            })
        })
    })
}

/// Makes the name of `path` (a file or a folder) durable by fsyncing its folder, once
/// per process for each path: for a file or folder found already there when opened,
/// which an earlier run may have created and been killed before it synced the folder
/// (its name would then be lost by a power loss however often it is opened later).
/// Once per open, never per write.
pub fn sync_entry_once(path: &Path) -> io::Result<()> {
    if already_durable(path) {
        return Ok(());
    }
    sync_dir(parent_of(path))?;
    made_durable(path);
    Ok(())
}

/// The paths whose names this process made durable (see [`sync_entry_once`]).
static DURABLE: std::sync::Mutex<Option<std::collections::HashSet<PathBuf>>> =
    std::sync::Mutex::new(None);

fn already_durable(path: &Path) -> bool {
    DURABLE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .as_ref()
        .is_some_and(|s| s.contains(path))
}

pub(crate) fn made_durable(path: &Path) {
    DURABLE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .get_or_insert_with(Default::default)
        .insert(path.to_path_buf());
}

/// Whether `dir` is a mount point below `parent` (another device).
#[cfg(unix)]
fn on_another_device(dir: &Path, parent: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (std::fs::metadata(dir), std::fs::metadata(parent)) {
        (Ok(d), Ok(p)) => d.dev() != p.dev(),
        _ => true,
    }
}

#[cfg(not(unix))]
fn on_another_device(_: &Path, _: &Path) -> bool {
    false
}

/// Replaces the file at `path` with `bytes`, all or nothing across a crash: written to
/// `tmp` (in the same folder), fsynced, renamed over `path`, and the folder fsynced.
/// `tmp` is made afresh by [`create_tmp`]: nothing found at its name (a stale file of
/// a crash, a symbolic link, a FIFO) is opened or written through. The rename then
/// replaces whatever is at `path`, a link included, never what a link there points to.
/// `tmp` must be another name than `path` (the file itself would be removed first).
///
/// A write, sync or rename that fails (`ENOSPC` on a full disk) leaves `path` as it was
/// and removes `tmp`: its blocks are the space a retry needs, and a file cut short
/// is left nowhere for someone to take for the real one.
pub fn replace_file(path: &Path, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    replace(path, tmp, bytes, 0o666)
}

/// [`replace_file`] for a file only its owner may read (a secret key): `tmp` is
/// created with mode `0600` (less the umask) before a byte is written into it, so the
/// bytes are never readable by others, not even between the write and the rename.
pub fn replace_private_file(path: &Path, tmp: &Path, bytes: &[u8]) -> io::Result<()> {
    replace(path, tmp, bytes, 0o600)
}

fn replace(path: &Path, tmp: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    if tmp == path {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{}: cannot be its own temporary file (a program error)",
                path.display()
            ),
        ));
    }
    // Only a file this call created is removed on failure: a creation that failed may
    // have met something else at the name (a folder, a file put back meanwhile).
    let mut f = create_tmp_with_mode(tmp, mode)?;
    let written = f.write_all(bytes).and_then(|()| f.sync_all());
    drop(f);
    if let Err(e) = written.and_then(|()| std::fs::rename(tmp, path)) {
        let _ = std::fs::remove_file(tmp);
        return Err(e);
    }
    sync_dir(parent_of(path))
}

/// The temporary name [`replace_file`] writes beside `path`: `.<name>.tmp`, hidden,
/// and never the name of another file of a folder whose names do not start with `.`
/// (`path.with_extension("tmp")` is: node `a`'s sequence file's tmp would be node
/// `a.tmp`'s sequence file, and node `a.tmp`'s its own file).
pub fn tmp_beside(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or(path.as_os_str()));
    name.push(".tmp");
    path.with_file_name(name)
}

/// Creates the temporary file `tmp` (a name only auditrail writes, beside the file it
/// is about to replace) as a new, empty regular file, for writing.
///
/// `O_CREAT|O_EXCL` (`create_new`): nothing already at the name is ever opened. Opening
/// it would block for ever on a FIFO without a reader (the server's or the CLI's start
/// hung in `open(2)`), write into a device, or follow a symbolic link to a file
/// elsewhere and truncate it. So what is found there is removed first: a regular file
/// is one a crash left between its write and its rename (as before, its bytes are of no
/// use: the file it was to replace is still whole); a link or a special file is
/// someone's doing, removed with an `ERROR` naming it (a link's target is left
/// untouched). A folder is not removed: [`TmpInTheWay`]. Should something be put back
/// at the name in between, the creation fails (`AlreadyExists`), and so does the
/// replacement.
///
/// One writer per file: a regular file at the name is taken for a crash's leftover, so
/// two replacements of one file at the same time would remove each other's temporary
/// file. Every caller holds the file's own lock (the data dir's, the run folder's, the
/// spool's) or runs on the one task that writes it.
pub fn create_tmp(tmp: &Path) -> io::Result<File> {
    // std's own mode for a new file.
    create_tmp_with_mode(tmp, 0o666)
}

/// [`create_tmp`], the file created with `mode` (less the umask) on unix.
fn create_tmp_with_mode(tmp: &Path, mode: u32) -> io::Result<File> {
    let create = || {
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
        #[cfg(not(unix))]
        let _ = mode;
        options.open(tmp)
    };
    match create() {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            remove_leftover(tmp)?;
            create()
        }
        other => other,
    }
}

/// A folder is at the name of a temporary file auditrail writes: it is not removed
/// (it may hold anything).
#[derive(Debug, thiserror::Error)]
#[error(
    "{}: is a folder, where auditrail writes a temporary file: remove or rename it",
    path.display()
)]
pub struct TmpInTheWay {
    /// The temporary file's name.
    pub path: PathBuf,
}

/// Removes what [`create_tmp`] found at `tmp` (see there).
fn remove_leftover(tmp: &Path) -> io::Result<()> {
    let meta = match std::fs::symlink_metadata(tmp) {
        Ok(m) => m,
        // Gone meanwhile: the next creation decides.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            TmpInTheWay {
                path: tmp.to_path_buf(),
            },
        ));
    }
    if kind.is_symlink() {
        // Logs the link and its target.
        crate::no_follow::remove_link(tmp)?;
        return Ok(());
    }
    if !kind.is_file() {
        tracing::error!(
            path = %tmp.display(),
            kind = %crate::regular_file::kind_of(&meta),
            "a special file was put at the name of a temporary file auditrail writes (another \
             program or user): it is removed, never opened, and a regular file is written \
             at its name"
        );
    }
    match std::fs::remove_file(tmp) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Why a file this process appends to is no longer the file it wrote, as found by
/// [`why_not_at`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NotAt {
    /// Nothing is at the path (the file or its folder was removed or moved aside).
    PathGone,
    /// The open file was unlinked (`nlink` 0).
    Removed,
    /// Another file is at the path (device or inode differ).
    Replaced,
    /// The open file's metadata cannot be read.
    Unreadable,
    /// A symbolic link is at the path, or at a folder on it (the file or its folder
    /// moved elsewhere and a link left in its place): what it points to is outside the
    /// folders the file belongs to, and nothing is written through it.
    Linked,
    /// The file is shorter than what this process wrote to it: truncated or cut in place
    /// (`: > file`, logrotate's `copytruncate`), so the bytes it acknowledged are gone
    /// and an append would land after the cut as if nothing had happened.
    Shorter {
        /// What this process wrote (the least the file must hold).
        expected: u64,
        /// What the file holds.
        found: u64,
    },
    /// The file is longer than what this process wrote to it, where it must end there
    /// ([`Expected::Exactly`]): someone else appended bytes (`printf x >> file`, an
    /// editor saving without a final newline, a copy tool's partial write). An append
    /// would land after them, its first line glued to theirs, and no reader would take
    /// that line.
    Longer {
        /// What this process wrote (what the file must hold).
        expected: u64,
        /// What the file holds.
        found: u64,
    },
}

/// How long the file a check of [`why_not_at`] is about must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// Exactly this long: a file only this process appends to, checked before it
    /// appends (a byte more is someone else's, and an append would be glued to it).
    Exactly(u64),
    /// At least this long: a file another party may lengthen legitimately (a lock
    /// file's note), or one this process appended more to since the length it is
    /// checked against (a batch still in flight behind the one checked).
    AtLeast(u64),
}

impl std::fmt::Display for NotAt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NotAt::PathGone => f.write_str("its path is gone"),
            NotAt::Removed => f.write_str("the open file was removed"),
            NotAt::Replaced => f.write_str("another file is at its path"),
            NotAt::Unreadable => f.write_str("the open file cannot be read back"),
            NotAt::Linked => f.write_str("a symbolic link is at its path"),
            NotAt::Shorter { expected, found } => write!(
                f,
                "it was truncated: it holds {found} bytes, {expected} were written to it"
            ),
            NotAt::Longer { expected, found } => write!(
                f,
                "bytes this process did not write were appended to it: it holds {found} \
                 bytes, {expected} were written to it"
            ),
        }
    }
}

/// Why the open file `held` is no longer the file this process wrote at `path` (as
/// long as `written` says), or `None` when it still is: the path is gone (the file
/// or its folder removed or moved aside), `held` was unlinked (`nlink` 0), another file
/// is at the path (device or inode differ), the file is shorter than written
/// (truncated or cut in place), or, for [`Expected::Exactly`], longer (bytes appended
/// by someone else). An append through `held` would then land in a file nobody finds
/// at `path`, after a cut, or glued to bytes this process did not write. Other errors
/// reading the path are left to the caller's next operation on it, which reports them.
#[cfg(unix)]
pub fn why_not_at(held: &File, path: &Path, written: Expected) -> Option<NotAt> {
    let at_path = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Some(NotAt::PathGone);
        }
        Err(_) => return None,
    };
    why_not(held, &at_path, written)
}

/// [`why_not_at`] for a file that must never be reached through a symbolic link (audit
/// data is never written through one): a link at `path` is [`NotAt::Linked`], even one
/// pointing to `held` itself (the file moved elsewhere and a link left in its place,
/// through which `stat` still finds the same inode). The path is read with `lstat`.
#[cfg(unix)]
pub fn why_not_at_no_follow(held: &File, path: &Path, written: Expected) -> Option<NotAt> {
    let at_path = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => return Some(NotAt::Linked),
        Ok(m) => m,
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            return Some(NotAt::PathGone);
        }
        Err(_) => return None,
    };
    why_not(held, &at_path, written)
}

/// [`why_not_at`] for a caller that has already read the path's metadata `at_path`
/// (the store's writer, which also checks files it holds no handle for): one `stat` of
/// the path per check, not two.
#[cfg(unix)]
pub fn why_not(held: &File, at_path: &std::fs::Metadata, written: Expected) -> Option<NotAt> {
    use std::os::unix::fs::MetadataExt;
    match held.metadata() {
        Ok(m) if m.nlink() == 0 => Some(NotAt::Removed),
        Ok(m) if m.dev() != at_path.dev() || m.ino() != at_path.ino() => Some(NotAt::Replaced),
        Ok(m) => written.why_not(m.len()),
        Err(_) => Some(NotAt::Unreadable),
    }
}

impl Expected {
    /// Why a file of `found` bytes is not as long as expected, or `None` when it is.
    pub fn why_not(self, found: u64) -> Option<NotAt> {
        match self {
            Expected::Exactly(expected) | Expected::AtLeast(expected) if found < expected => {
                Some(NotAt::Shorter { expected, found })
            }
            Expected::Exactly(expected) if found > expected => {
                Some(NotAt::Longer { expected, found })
            }
            _ => None,
        }
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

    #[cfg(unix)]
    #[test]
    fn a_dangling_link_on_the_way_is_named_with_its_target() {
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join("data");
        std::os::unix::fs::symlink(tmp.path().join("unmounted"), &link).unwrap();
        let e = create_dir_all(&link.join("store")).unwrap_err();
        let dangling = e.get_ref().and_then(|i| i.downcast_ref::<DanglingLink>());
        assert!(matches!(dangling, Some(d) if d.link == link), "{e}");
        assert!(
            e.to_string().contains("unmounted, which does not exist"),
            "{e}"
        );
    }

    #[test]
    fn creating_nested_folders_syncs_the_parent_of_each_new_one() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b/c");
        take_synced();
        create_dir_all(&deep).unwrap();
        assert!(deep.is_dir());
        let mut synced = take_synced_under(tmp.path());
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

    /// What was synced on this thread under `dir` (the folders above it are shared by
    /// every test, and synced once per process).
    pub(crate) fn take_synced_under(dir: &Path) -> Vec<PathBuf> {
        take_synced()
            .into_iter()
            .filter(|p| p.starts_with(dir))
            .collect()
    }

    /// Folders an earlier run created and was killed before it synced them: their
    /// parents are synced by the first creation in this process, not again later.
    #[test]
    fn existing_folders_are_synced_once_per_process() {
        let tmp = tempfile::tempdir().unwrap();
        let deep = tmp.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        take_synced();
        create_dir_all(&deep).unwrap();
        let mut synced = take_synced_under(tmp.path());
        synced.sort();
        assert_eq!(synced, vec![tmp.path().to_path_buf(), tmp.path().join("a")]);
        create_dir_all(&deep).unwrap();
        assert_eq!(take_synced_under(tmp.path()), Vec::<PathBuf>::new());
    }

    /// A file found there when opened: its folder synced once.
    #[test]
    fn an_existing_entry_is_synced_once_per_process() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("log");
        std::fs::write(&file, b"x\n").unwrap();
        take_synced();
        sync_entry_once(&file).unwrap();
        sync_entry_once(&file).unwrap();
        assert_eq!(take_synced(), vec![tmp.path().to_path_buf()]);
    }

    #[test]
    fn a_file_where_a_folder_is_needed_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("afile");
        std::fs::write(&file, b"x\n").unwrap();
        for dir in [file.clone(), file.join("below")] {
            let e = create_dir_all(&dir).unwrap_err();
            assert_eq!(e.kind(), io::ErrorKind::NotADirectory, "{e}");
            let text = e.to_string();
            assert!(
                text.starts_with(&format!(
                    "{}: is a regular file, not a folder",
                    file.display()
                )),
                "{text}"
            );
        }
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

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        rustix::fs::mknodat(
            rustix::fs::CWD,
            path,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o600),
            0,
        )
        .unwrap();
    }

    /// Nothing found at the temporary name is opened: a FIFO (whose open would block),
    /// a link (whose target would be truncated) and a crash's stale file are replaced.
    #[cfg(unix)]
    #[test]
    fn whatever_is_at_the_temporary_name_is_replaced_never_opened() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("id");
        let at_tmp = tmp_beside(&path);
        assert_eq!(at_tmp, tmp.path().join(".id.tmp"));
        let outside = tmp.path().join("outside");
        std::fs::write(&outside, b"keep\n").unwrap();
        let plants: [&dyn Fn(); 3] = [
            &|| mkfifo(&at_tmp),
            &|| std::os::unix::fs::symlink(&outside, &at_tmp).unwrap(),
            &|| std::fs::write(&at_tmp, b"stale").unwrap(),
        ];
        for (i, plant) in plants.iter().enumerate() {
            plant();
            let bytes = format!("v{i}\n");
            // In a thread: opening the FIFO blocked for ever.
            let (p, t, b) = (path.clone(), at_tmp.clone(), bytes.clone());
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let _ = tx.send(replace_file(&p, &t, b.as_bytes()));
            });
            rx.recv_timeout(std::time::Duration::from_secs(60))
                .expect("the replacement blocked")
                .unwrap();
            assert_eq!(std::fs::read(&path).unwrap(), bytes.as_bytes());
            assert!(std::fs::symlink_metadata(&path).unwrap().is_file());
            assert!(std::fs::symlink_metadata(&at_tmp).is_err());
        }
        assert_eq!(std::fs::read(&outside).unwrap(), b"keep\n");
    }

    #[test]
    fn a_folder_at_the_temporary_name_is_named_and_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("id");
        let at_tmp = tmp_beside(&path);
        std::fs::create_dir(&at_tmp).unwrap();
        std::fs::write(at_tmp.join("x"), b"x").unwrap();
        let e = replace_file(&path, &at_tmp, b"new\n").unwrap_err();
        let inner = e.get_ref().and_then(|i| i.downcast_ref::<TmpInTheWay>());
        assert!(matches!(inner, Some(t) if t.path == at_tmp), "{e}");
        assert!(at_tmp.join("x").exists());
        assert!(!path.exists());
    }

    /// A replacement that fails after its temporary file was made (here the rename: a
    /// folder is at the path) leaves no temporary file: on a full disk its blocks are
    /// the space the retry needs.
    #[test]
    fn a_failed_replacement_removes_its_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("id");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("x"), b"x").unwrap();
        let at_tmp = tmp_beside(&path);
        assert!(replace_file(&path, &at_tmp, b"new\n").is_err());
        assert!(std::fs::symlink_metadata(&at_tmp).is_err(), "left behind");
        assert!(path.join("x").exists());
    }

    /// A secret's file is its owner's alone, written and renamed.
    #[cfg(unix)]
    #[test]
    fn a_private_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("secret");
        replace_private_file(&path, &tmp_beside(&path), b"s\n").unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{mode:o}");
        assert_eq!(std::fs::read(&path).unwrap(), b"s\n");
    }

    /// A file replaced through itself would be removed first.
    #[test]
    fn a_file_is_not_its_own_temporary_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("n.tmp");
        std::fs::write(&path, b"keep\n").unwrap();
        assert!(replace_file(&path, &path, b"x").is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"keep\n");
    }

    #[test]
    fn a_failed_folder_sync_fails_the_replacement() {
        let tmp = tempfile::tempdir().unwrap();
        fail_sync_of(Some(tmp.path()));
        let err = replace_file(&tmp.path().join("id"), &tmp.path().join("id.tmp"), b"x");
        fail_sync_of(None);
        assert!(err.is_err(), "{err:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_file_shorter_than_what_was_written_is_not_the_file_at_its_path() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log");
        std::fs::write(&path, b"line 1\nline 2\n").unwrap();
        let held = File::open(&path).unwrap();
        assert_eq!(why_not_at(&held, &path, Expected::Exactly(14)), None);
        assert_eq!(
            why_not_at(&held, &path, Expected::AtLeast(10)),
            None,
            "longer is fine when at least"
        );
        // `: > log` (logrotate's copytruncate): the same file, cut.
        File::create(&path).unwrap();
        let why = why_not_at(&held, &path, Expected::AtLeast(14)).unwrap();
        assert_eq!(
            why,
            NotAt::Shorter {
                expected: 14,
                found: 0
            }
        );
        assert_eq!(
            why.to_string(),
            "it was truncated: it holds 0 bytes, 14 were written to it"
        );
        std::fs::remove_file(&path).unwrap();
        assert_eq!(
            why_not_at(&held, &path, Expected::AtLeast(0)),
            Some(NotAt::PathGone)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_file_longer_than_what_was_written_is_not_the_file_when_it_must_end_there() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("log");
        std::fs::write(&path, b"line 1\n").unwrap();
        let held = File::open(&path).unwrap();
        // `printf checked >> log`: someone else's bytes, no newline.
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| io::Write::write_all(&mut f, b"checked"))
            .unwrap();
        let why = why_not_at(&held, &path, Expected::Exactly(7)).unwrap();
        assert_eq!(
            why,
            NotAt::Longer {
                expected: 7,
                found: 14
            }
        );
        assert_eq!(
            why.to_string(),
            "bytes this process did not write were appended to it: it holds 14 bytes, 7 \
             were written to it"
        );
        assert_eq!(why_not_at(&held, &path, Expected::AtLeast(7)), None);
    }
}
