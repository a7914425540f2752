//! Whether a partition a prune is about to delete can be removed, asked before its
//! deletion is signed: a partition whose files cannot be removed (its folder made
//! read-only by a restore or backup tool, `chattr +i`, a read-only mount) is left out
//! of the plan ([`PrunePlan::unremovable`](crate::prune::PrunePlan::unremovable)), so
//! that the signed line names only what the pass removes. It used to be signed as
//! deleted and stay on disk (`verify`: `deletion-incomplete`) until a later pass
//! removed it (final60/01).
//!
//! The question is asked of the file system without changing anything: the effective
//! user's write and search permission on each folder holding a file (`faccessat2` with
//! `AT_EACCESS`: modes, ACLs, a read-only mount, an immutable folder), and the inode
//! attributes that forbid an unlink whatever the permissions (`statx`: an immutable or
//! append-only file, an append-only folder). Not a probe (creating and removing a file
//! in the folder): it would write into the store, fail on a full disk (where a prune is
//! needed most: every partition would be left out) and leave its file behind a crash.
//! A check cannot promise the removal (permissions may change between the two, and a
//! folder with the sticky bit needs the owner, which is not checked): a removal that
//! fails anyway is the pass's [`PruneError::Removal`](crate::prune::PruneError::Removal).

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::{Access, AtFlags, StatxAttributes, StatxFlags, CWD};
use rustix::io::Errno;

/// A partition a prune left out of its plan because one of its files cannot be
/// removed: not deleted, not in the signed line, tried again by the next prune.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unremovable {
    /// The partition folder, relative to the store root, `/`-separated.
    pub folder: String,
    /// The folder or file that refuses the removal.
    pub path: PathBuf,
    /// The OS error a removal would meet (`EACCES`, `EPERM`, `EROFS`).
    pub os_error: i32,
    /// The inode attribute that forbids it, when that is why (`immutable`,
    /// `append-only`: `lsattr` shows it, `chattr -i`/`-a` clears it).
    pub attribute: Option<&'static str>,
}

impl Unremovable {
    /// The OS error a removal would meet.
    pub fn error(&self) -> io::Error {
        io::Error::from_raw_os_error(self.os_error)
    }
}

impl std::fmt::Display for Unremovable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error())?;
        if let Some(a) = self.attribute {
            write!(f, " (it is {a}: `lsattr` shows it)")?;
        }
        Ok(())
    }
}

/// Why the partition `folder` of the store at `root`, with its segment `files`
/// (relative paths), cannot be removed, or `None` when nothing is found against it.
pub(crate) fn check(root: &Path, folder: &str, files: &[(String, u64)]) -> Option<Unremovable> {
    let refused = |path: PathBuf, e: Errno, attribute| Unremovable {
        folder: folder.to_string(),
        path,
        os_error: e.raw_os_error(),
        attribute,
    };
    let folders: BTreeSet<&str> = files
        .iter()
        .map(|(rel, _)| rel.rsplit_once('/').map_or("", |(dir, _)| dir))
        .collect();
    for dir in folders {
        let path = root.join(dir);
        // Unlinking needs write and search on the folder, for the effective user.
        match rustix::fs::accessat(
            CWD,
            &path,
            Access::WRITE_OK | Access::EXEC_OK,
            AtFlags::EACCESS,
        ) {
            Ok(()) => {}
            // Gone meanwhile: nothing to remove there.
            Err(Errno::NOENT) => continue,
            Err(e) => return Some(refused(path, e, None)),
        }
        // An append-only folder takes new names but gives none up.
        if let Some(a) = forbidding(&path, StatxAttributes::APPEND) {
            return Some(refused(path, Errno::PERM, Some(a)));
        }
    }
    for (rel, _) in files {
        let path = root.join(rel);
        if let Some(a) = forbidding(&path, StatxAttributes::IMMUTABLE | StatxAttributes::APPEND) {
            return Some(refused(path, Errno::PERM, Some(a)));
        }
    }
    None
}

/// Which of the inode attributes `wanted` `path` has (not following a link), named;
/// `None` when it has none, or they cannot be read (`statx` missing, a file gone: the
/// removal then says what it meets).
fn forbidding(path: &Path, wanted: StatxAttributes) -> Option<&'static str> {
    let st = rustix::fs::statx(
        CWD,
        path,
        AtFlags::SYMLINK_NOFOLLOW,
        StatxFlags::BASIC_STATS,
    )
    .ok()?;
    let has = st.stx_attributes & st.stx_attributes_mask & wanted;
    if has.contains(StatxAttributes::IMMUTABLE) {
        Some("immutable")
    } else if has.contains(StatxAttributes::APPEND) {
        Some("append-only")
    } else {
        None
    }
}
