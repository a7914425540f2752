//! Where the store put a record (its segment file, as the file it wrote, and the
//! record's end in it), and whether the record is still there: the writer asks it of a
//! partition's current segment before appending, and of every file a batch wrote before
//! the batch is acknowledged; the server asks it before answering an event as a
//! duplicate of a record ([`StoreHandle::records_gone`](crate::StoreHandle::records_gone)).
//!
//! "Still there" means: every folder from the store's root down to the file, and the
//! file itself, is at its path and none is a symbolic link (an `lstat` each: a link
//! left where a partition folder was moved to another disk, or at the file's name,
//! points outside the store, whose links are never followed), the file is the one
//! written (same device and inode) and it holds at least the record's end.

use std::fs::{self, File, Metadata};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use auditrail_core::durable::NotAt;

/// A segment file as the writer made or opened it: its path and its identity.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct SegmentId {
    pub(crate) path: PathBuf,
    dev: u64,
    ino: u64,
}

impl SegmentId {
    /// The segment at `path`, identified by `meta` (the open file's, or the path's).
    pub(crate) fn new(path: PathBuf, meta: &Metadata) -> SegmentId {
        use std::os::unix::fs::MetadataExt;
        SegmentId {
            path,
            dev: meta.dev(),
            ino: meta.ino(),
        }
    }

    /// The segment open as `file` at `path` (`None` when its metadata cannot be read:
    /// the record is then not vouched for by place).
    pub(crate) fn of_open(path: &Path, file: &File) -> Option<Arc<SegmentId>> {
        file.metadata()
            .ok()
            .map(|m| Arc::new(SegmentId::new(path.to_path_buf(), &m)))
    }

    /// Whether `meta` (a path's, read with `lstat`) is this file's.
    pub(crate) fn is(&self, meta: &Metadata) -> bool {
        use std::os::unix::fs::MetadataExt;
        meta.dev() == self.dev && meta.ino() == self.ino
    }

    /// Why the segment no longer holds `end` bytes as the file written at its path
    /// under the store's `root`, or `None` when it still does (other errors reading the
    /// path are not taken as a loss: `None`).
    pub(crate) fn gone(&self, root: &Path, end: u64) -> Option<NotAt> {
        let at_path = match lstat_beneath(root, &self.path) {
            Ok(Some(m)) => m,
            Ok(None) => return None,
            Err(why) => return Some(why),
        };
        if !self.is(&at_path) {
            return Some(NotAt::Replaced);
        }
        (at_path.len() < end).then_some(NotAt::Shorter {
            expected: end,
            found: at_path.len(),
        })
    }
}

/// Where a record is: its segment and the offset just after its line.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub(crate) file: Arc<SegmentId>,
    pub(crate) end: u64,
}

/// The metadata of `path` (a file under the store's `root`), read without following a
/// symbolic link at any level below `root` (the root itself may be a link: a store
/// moved to another disk): `Err(PathGone)` when a level is missing, `Err(Linked)` when
/// a level is a link, `Ok(None)` on another error (left to the caller's next operation
/// on the path, which reports it). A path not under `root` has only its own name
/// checked. One `lstat` per level.
pub(crate) fn lstat_beneath(root: &Path, path: &Path) -> Result<Option<Metadata>, NotAt> {
    let lstat = |at: &Path| match fs::symlink_metadata(at) {
        Ok(m) if m.file_type().is_symlink() => Err(NotAt::Linked),
        Ok(m) => Ok(Some(m)),
        Err(e)
            if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            Err(NotAt::PathGone)
        }
        Err(_) => Ok(None),
    };
    let Ok(rel) = path.strip_prefix(root) else {
        return lstat(path);
    };
    let mut at = root.to_path_buf();
    let mut last = None;
    for part in rel.components() {
        if !matches!(part, Component::Normal(_)) {
            // Not a name the store makes: only the whole path is checked.
            return lstat(path);
        }
        at.push(part);
        last = lstat(&at)?;
        if last.is_none() {
            return Ok(None);
        }
    }
    Ok(last)
}
