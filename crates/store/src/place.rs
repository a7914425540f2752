//! Where the store put a record (its segment file, as the file it wrote, and the
//! record's line in it), and whether the record is still there: the writer asks it of a
//! partition's current segment before appending, and of every file a batch wrote before
//! the batch is acknowledged; the server asks it before answering an event as a
//! duplicate of a record ([`StoreHandle::records_gone`](crate::StoreHandle::records_gone)).
//!
//! "Still there" means: every folder from the store's root down to the file, and the
//! file itself, is at its path and none is a symbolic link (an `lstat` each: a link
//! left where a partition folder was moved to another disk, or at the file's name,
//! points outside the store, whose links are never followed), the file is the one
//! written (same device and inode) and it holds at least the record's end. Before a
//! duplicate is answered, the record's line is also read back at its place
//! ([`changed`]): a file rewritten in place (same inode, same length) keeps every
//! other sign of the record.

use std::fs::{self, File, Metadata};
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use auditrail_core::durable::NotAt;

use crate::chain::{next_link, parse_line, ChainLink};

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

/// Where a record is: its segment, the offset of its line's first byte and the offset
/// just after its line.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub(crate) file: Arc<SegmentId>,
    pub(crate) start: u64,
    pub(crate) end: u64,
}

/// Why a record the store wrote is no longer where it wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WhyGone {
    /// Its segment file is no longer the file written at its path, whole.
    File(NotAt),
    /// The file is, but the bytes at the record's place are not the record written
    /// there: changed in place (the file rewritten with the same inode and length).
    Changed {
        /// The record's chain number.
        seq: u64,
        /// Where its line starts in the file.
        offset: u64,
        /// What differs.
        what: &'static str,
    },
}

impl std::fmt::Display for WhyGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WhyGone::File(why) => why.fmt(f),
            WhyGone::Changed { seq, offset, what } => write!(
                f,
                "its record (chainSeq {seq}, the line at byte {offset}) was changed in place: {what}"
            ),
        }
    }
}

impl SegmentId {
    /// The segment opened for reading its records back, when the file at its path
    /// still is this one (`None` otherwise, or when it cannot be opened: not taken as
    /// a change).
    pub(crate) fn open_to_read(&self) -> Option<File> {
        let file = auditrail_core::regular_file::open_no_follow(
            fs::OpenOptions::new().read(true),
            &self.path,
        )
        .ok()?;
        let meta = file.metadata().ok()?;
        self.is(&meta).then_some(file)
    }
}

/// What differs between the line at `place` in `file` and the record sealed there as
/// `link`, or `None` when it is that record: its line ends where it ended, claims the
/// same chain number and hash, and (when the link before it, `prev`, is known) its
/// bytes still hash to that link: a change of any byte of its body shows. One
/// positioned read. An error reading it is not taken as a change (the open that
/// follows reports it).
pub(crate) fn changed(
    file: &File,
    place: &Place,
    link: &ChainLink,
    prev: Option<&ChainLink>,
) -> Option<&'static str> {
    use std::os::unix::fs::FileExt;
    let len = usize::try_from(place.end.checked_sub(place.start)?).ok()?;
    let mut line = vec![0u8; len];
    match file.read_exact_at(&mut line, place.start) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            return Some("the file ends before the record's end")
        }
        Err(_) => return None,
    }
    let Some(line) = line.strip_suffix(b"\n") else {
        return Some("its line no longer ends where it ended");
    };
    let Ok(sealed) = parse_line(line) else {
        return Some("the line is no sealed record");
    };
    if sealed.link != *link {
        return Some("its chainSeq or chainHash is not the one written");
    }
    match prev {
        Some(prev) if next_link(prev, sealed.body) != *link => {
            Some("its bytes no longer hash to its chainHash")
        }
        _ => None,
    }
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
