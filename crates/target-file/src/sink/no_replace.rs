//! The size roll's rename, which never replaces a file.
//!
//! `rename(2)` silently replaces whatever is at the destination. The roll removes or
//! shifts every `audit.log.N` before renaming onto it, under the lock that the writers
//! of the folder share; but a program outside that protocol (logrotate, a copy job,
//! another tool) may put a file there in between, and a plain rename would then delete
//! it and whatever acknowledged lines it held. So the roll renames with
//! `RENAME_NOREPLACE` (`renameat2`, Linux 3.15+; the file system must support it), or,
//! where that is not supported (`EINVAL`, `ENOSYS`), with `link` then `unlink`, which
//! also fails on an existing name. Either way a file found at the destination is an
//! error naming both files ([`Occupied`]), never replaced.

use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::{renameat_with, RenameFlags, CWD};
use rustix::io::Errno;

/// The destination of a roll's rename was taken by a file that was not there when the
/// roll removed and shifted the older files.
#[derive(Debug, thiserror::Error)]
#[error(
    "{} exists (another program put it there during the roll): it is kept, not \
     replaced, and the roll is tried again at the next write",
    to.display()
)]
pub(crate) struct Occupied {
    /// The destination.
    pub(crate) to: PathBuf,
}

/// Renames `from` to `to` unless something is at `to`: then an
/// `io::ErrorKind::AlreadyExists` error holding [`Occupied`]. Other errors are the
/// OS's (`NotFound` when `from` is gone).
pub(crate) fn rename_no_replace(from: &Path, to: &Path) -> io::Result<()> {
    match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(Errno::EXIST) => Err(occupied(to)),
        // The file system (or kernel) has no RENAME_NOREPLACE: a hard link fails on
        // an existing name just the same. Not atomic: a crash between the two leaves
        // both names on one file, which holds every line once (a reader may list its
        // events twice, with the same ids), never loses one.
        Err(Errno::INVAL | Errno::NOSYS) => link_then_unlink(from, to),
        Err(e) => Err(e.into()),
    }
}

/// The rename where `RENAME_NOREPLACE` is not supported: a hard link fails on an
/// existing name just the same. Not atomic: a crash between the two leaves both names
/// on one file, which holds every line once (a reader may list its events twice, with
/// the same ids), never loses one.
fn link_then_unlink(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => return Err(occupied(to)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(e),
        Err(e) => {
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "{}: the file system supports neither a rename that refuses to replace \
                     (RENAME_NOREPLACE) nor hard links ({e}); size rotation needs one of \
                     them, use rotation = \"daily\"/\"hourly\" or \"never\" on it",
                    to.display()
                ),
            ))
        }
    }
    std::fs::remove_file(from)
}

fn occupied(to: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::AlreadyExists,
        Occupied {
            to: to.to_path_buf(),
        },
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn a_file_at_the_destination_is_kept_and_named() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("a"), tmp.path().join("a.1"));
        std::fs::write(&from, "mine\n").unwrap();
        std::fs::write(&to, "theirs\n").unwrap();
        let e = rename_no_replace(&from, &to).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert!(e.to_string().contains(&to.display().to_string()), "{e}");
        assert_eq!(std::fs::read_to_string(&to).unwrap(), "theirs\n");
        assert_eq!(std::fs::read_to_string(&from).unwrap(), "mine\n");
        rename_no_replace(&from, &tmp.path().join("a.2")).unwrap();
        assert!(!from.exists());
    }

    /// The fallback where `RENAME_NOREPLACE` is not supported (this machine's file
    /// system has it, so it is called directly, on real files): it moves the file,
    /// refuses a destination that exists (both files kept as they were, the error naming
    /// the destination), and says a source that is gone as the OS does.
    #[test]
    fn the_link_then_unlink_fallback_moves_and_never_replaces() {
        let tmp = tempfile::tempdir().unwrap();
        let (from, to) = (tmp.path().join("audit.log"), tmp.path().join("audit.log.1"));
        std::fs::write(&from, "mine\n").unwrap();
        std::fs::write(&to, "theirs\n").unwrap();
        let e = link_then_unlink(&from, &to).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        let inner = e.get_ref().unwrap();
        assert!(inner.is::<Occupied>(), "{e}");
        assert!(e.to_string().contains(&to.display().to_string()), "{e}");
        assert_eq!(std::fs::read_to_string(&to).unwrap(), "theirs\n");
        assert_eq!(std::fs::read_to_string(&from).unwrap(), "mine\n");

        let free = tmp.path().join("audit.log.2");
        link_then_unlink(&from, &free).unwrap();
        assert!(!from.exists(), "the old name is gone");
        assert_eq!(std::fs::read_to_string(&free).unwrap(), "mine\n");
        // One file under one name: not a copy left with two links.
        use std::os::unix::fs::MetadataExt;
        assert_eq!(std::fs::metadata(&free).unwrap().nlink(), 1);

        let e = link_then_unlink(&from, &tmp.path().join("audit.log.3")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound, "{e}");
        // Not taken for a file system without hard links.
        assert!(!e.to_string().contains("supports neither"), "{e}");
    }
}
