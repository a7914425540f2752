//! Opening the files auditrail appends audit data to without following a symbolic link
//! at their name (CWE-59).
//!
//! Those files (the file target's audit and lock files, dead-letter files, receipts)
//! live in folders other users or tools may write to, and the process often runs as
//! root. A plain `open(O_APPEND|O_CREAT)` follows a link put at the file's name, so
//! whoever can write the folder could make auditrail append audit lines to any file
//! the process may write (`/etc/...`), while those lines are missing from the folder
//! the readers look at, and counted as delivered. So every such open uses
//! `O_NOFOLLOW`: a link at the name makes it fail with [`SymbolicLinkRefused`].
//!
//! [`open_replacing_link`] goes one step further for the writers: it removes the link
//! (unlinking acts on the link itself, never on the file it points to), logs an
//! `ERROR` naming the link and where it pointed, and opens again, creating a regular
//! file in the folder. One hostile (or careless) rename thus neither stops collection
//! nor gets a byte written through the link. Should a link be put back in between,
//! the open fails with [`SymbolicLinkRefused`], which callers treat like any other
//! failed open (retried, dead-lettered, reported; never counted as written).
//!
//! On platforms without symbolic-link-refusing opens (non-Unix) files are opened as
//! before.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// A file auditrail writes was found to be a symbolic link: it is not opened through
/// it. Carried as the source of an [`io::Error`]; see [`is_symbolic_link`].
#[derive(Debug, Error)]
#[error(
    "{}: is a symbolic link{}; audit data is never written through a link: refused",
    path.display(),
    target.as_ref().map(|t| format!(" (to {})", t.display())).unwrap_or_default()
)]
pub struct SymbolicLinkRefused {
    /// The link (the path auditrail meant to write).
    pub path: PathBuf,
    /// Where it points, when that could be read.
    pub target: Option<PathBuf>,
}

/// Opens `path` with `options`, refusing a symbolic link at its final component with an
/// error carrying [`SymbolicLinkRefused`] (folders above it are the operator's choice
/// and are followed).
pub fn open(options: &OpenOptions, path: &Path) -> io::Result<File> {
    let mut options = options.clone();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        // The bits fit an i32: O_NOFOLLOW is a single low flag on every Unix.
        options.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32);
    }
    options.open(path).map_err(|e| refused_if_link(path, e))
}

/// [`open`], but a symbolic link found at `path` is first removed (the file it points
/// to is left untouched) and an `ERROR` logged naming both; then the open is tried
/// once more, creating a regular file if `options` allow (see the module docs).
pub fn open_replacing_link(options: &OpenOptions, path: &Path) -> io::Result<File> {
    match open(options, path) {
        Err(e) if is_symbolic_link(&e) => {
            remove_link(path)?;
            open(options, path)
        }
        other => other,
    }
}

/// [`open_replacing_link`] for a file of auditrail's own folders (a lock file, dead
/// letters): opened without blocking and refused unless it is a regular file
/// ([`crate::regular_file::open_no_follow`]), so that a FIFO at its name can neither
/// block the open nor a read of it, and a device is never written to.
pub fn open_regular_replacing_link(options: &OpenOptions, path: &Path) -> io::Result<File> {
    match crate::regular_file::open_no_follow(options, path) {
        Err(e) if is_symbolic_link(&e) => {
            remove_link(path)?;
            crate::regular_file::open_no_follow(options, path)
        }
        other => other,
    }
}

/// Removes the symbolic link at `path` (not what it points to), logging an `ERROR`;
/// `Ok(false)` when `path` is no link (nothing done).
pub fn remove_link(path: &Path) -> io::Result<bool> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {}
        Ok(_) => return Ok(false),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(e),
    }
    let target = std::fs::read_link(path).ok();
    std::fs::remove_file(path)?;
    tracing::error!(
        path = %path.display(),
        link_target = %target.as_deref().unwrap_or(Path::new("?")).display(),
        "a symbolic link was put at a file auditrail writes audit data to (another program \
         or user replaced the file): it is removed and a regular file is written at its \
         path; nothing was or is written to the file the link pointed to"
    );
    Ok(true)
}

/// Whether `e` is a refused symbolic link ([`SymbolicLinkRefused`]).
pub fn is_symbolic_link(e: &io::Error) -> bool {
    e.get_ref()
        .is_some_and(|inner| inner.downcast_ref::<SymbolicLinkRefused>().is_some())
}

/// The open failed: when `path` is a symbolic link, that is why (`ELOOP` on Linux,
/// other codes elsewhere), so the error says it plainly ([`SymbolicLinkRefused`]).
/// Also for a folder found to be a link where auditrail makes its own folders.
pub fn refused_if_link(path: &Path, e: io::Error) -> io::Error {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => io::Error::other(SymbolicLinkRefused {
            path: path.to_path_buf(),
            target: std::fs::read_link(path).ok(),
        }),
        _ => e,
    }
}

#[cfg(all(test, unix))]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn append() -> OpenOptions {
        let mut o = OpenOptions::new();
        o.append(true).create(true);
        o
    }

    #[test]
    fn a_link_is_refused_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::write(&outside, "x\n").unwrap();
        let link = tmp.path().join("audit.log");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let e = open(&append(), &link).unwrap_err();
        assert!(is_symbolic_link(&e), "{e}");
        let text = e.to_string();
        assert!(text.contains("audit.log: is a symbolic link"), "{text}");
        assert!(text.contains("outside"), "{text}");
    }

    #[test]
    fn a_link_is_replaced_by_a_regular_file_and_its_target_left_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        std::fs::write(&outside, "x\n").unwrap();
        let link = tmp.path().join("audit.log");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        use std::io::Write;
        open_replacing_link(&append(), &link)
            .unwrap()
            .write_all(b"line\n")
            .unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        assert_eq!(std::fs::read(&link).unwrap(), b"line\n");
        assert_eq!(std::fs::read(&outside).unwrap(), b"x\n");
    }

    #[test]
    fn other_failures_keep_their_error() {
        let tmp = tempfile::tempdir().unwrap();
        let e = open(
            &OpenOptions::new().append(true).clone(),
            &tmp.path().join("none"),
        )
        .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(!is_symbolic_link(&e));
    }
}
