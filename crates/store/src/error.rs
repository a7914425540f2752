//! Failures of the store: opening, writing, recovering, walking and reading it.

use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// Why the store could not open, scan or write.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file or folder could not be read or written.
    #[error("{}", auditrail_core::path_and_error(path, source))]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// Another writer (in this process or another) has the store open: the hash chain
    /// must have exactly one writer.
    #[error("store {root} is already open by another writer (one writer per store)")]
    Locked {
        /// The store root.
        root: PathBuf,
    },
    /// A partition folder would leave the store root (never happens with validated
    /// names; checked anyway).
    #[error("partition folder {0} would leave the store root")]
    Escape(PathBuf),
    /// No file descriptor was left to open a segment file, even after the store closed
    /// every file it held (`EMFILE` / `ENFILE`): other parts of the process (or system)
    /// hold them all. The batch fails; a later one may succeed.
    #[error("{path}: no file descriptor left, even after the store closed all of its own ({source}); raise the open-file limit (ulimit -n) or lower the store's max_open_files")]
    TooManyOpenFiles {
        /// The file that could not be opened.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// The store's folders are of another layout than its config says (see
    /// [`Layout::check`](crate::Layout::check)).
    #[error("{0}")]
    LayoutMismatch(Box<LayoutMismatch>),
    /// The layout of a store opened without its config cannot be told from its
    /// folders (see [`Layout::detect`](crate::Layout::detect)).
    #[error("store {root}: its layout cannot be told from its folders (they fit:{}); give the server's config (--config) so that the store's layout is known", crate::layout_check::list(fits))]
    LayoutUnknown {
        /// The store root.
        root: PathBuf,
        /// The layouts every folder fits.
        fits: Vec<crate::Layout>,
    },
    /// The chain's last number is 2^64-1: no record can follow it.
    #[error("store {root}: its chain ends at number 2^64-1, which no store reaches by writing (a damaged or forged record line); no record can follow it: run `auditrail verify` on it")]
    ChainExhausted {
        /// The store.
        root: PathBuf,
    },
    /// A read of the store (its opening, a scan) was stopped before its end, as its
    /// caller asked (see [`ReadProgress::stop`](crate::ReadProgress::stop)): a server's
    /// start stopped by SIGTERM. Nothing was left half done.
    #[error("store {root}: its reading was stopped before its end (a stop was asked)")]
    Stopped {
        /// The store.
        root: PathBuf,
    },
    /// Recovery could not find the record the chain resumes from.
    #[error("store {root}: chain record {seq}, where the chain resumes after recovery, is in no segment file (a damaged or forged record line): run `auditrail verify` on it")]
    ChainHeadMissing {
        /// The store.
        root: PathBuf,
        /// The record's chain number.
        seq: u64,
    },
    /// A symbolic link inside a store's folders (a partition folder moved to another
    /// disk and linked back, say). Not followed: the store reads, writes and prunes
    /// only what is in its own folders, and records skipped without a word would look
    /// like a rolled-back store. The store's root itself and the data dir may be links.
    #[error("{0}")]
    SymbolicLink(Box<LinkInStore>),
    /// The store id file holds something that is not an id.
    #[error("{path} line 1: store id must be letters, digits and '-'")]
    BadStoreId {
        /// The store id file.
        path: PathBuf,
    },
    /// A batch's records were written and fsynced, and then the file holding them was
    /// found no longer to be the file at the store's path: removed, moved aside,
    /// replaced or cut by someone else while the batch was written. Acknowledged, its
    /// records would be where no reader of the store finds them; so the batch is undone
    /// and written again into a new segment, and this error is returned only when that
    /// keeps happening (then nothing of the batch is acknowledged).
    #[error("{path}: {why} while a batch was written to it (found after its fsync); the batch is not acknowledged")]
    WrittenFileGone {
        /// The segment file.
        path: PathBuf,
        /// What was found at the path.
        why: auditrail_core::durable::NotAt,
    },
    /// A new segment's name is taken by something the store did not make (segments
    /// are named after their first record, and the undo of a batch removes what it
    /// made): appending after its bytes would glue the segment's first record to them.
    /// The partition's events are refused for now
    /// ([`is_partition_unwritable`](Self::is_partition_unwritable)); once it is moved
    /// out of the store they are written.
    #[error("{}: a new segment of this partition starts at this name, but {} is already there, which the store did not write; nothing is appended after it: move it out of the store, and the events are stored when sent again", path.display(), found.as_deref().unwrap_or("something"))]
    SegmentNameTaken {
        /// The new segment's path.
        path: PathBuf,
        /// What is there (`a file of N bytes`, `a folder`), when it can be told.
        found: Option<String>,
    },
}

/// The link [`StoreError::SymbolicLink`] found.
#[derive(Debug, Error)]
#[error(
    "{}: is {} inside the store {}; links inside a store are not followed (its \
     records would be read but not pruned where they are): {}; or move the whole \
     store or data dir and leave a link at its path instead (docs/operations.md)",
    link.display(),
    match (target, dangling) {
        (Some(t), true) => format!("a dangling symbolic link (to {}, which does not exist)", t.display()),
        (Some(t), false) => format!("a symbolic link (to {})", t.display()),
        (None, _) => "a symbolic link".to_string(),
    },
    root.display(),
    if *dangling {
        "put the folder it pointed to back at its path (`rm LINK; mv FOLDER LINK`, with the server stopped)"
    } else {
        "with the server stopped, move what it points to back in its place (`rm LINK; mv TARGET LINK`)"
    }
)]
pub struct LinkInStore {
    /// The link.
    pub link: PathBuf,
    /// Where it points, when that could be read.
    pub target: Option<PathBuf>,
    /// Whether nothing is there.
    pub dangling: bool,
    /// The store root.
    pub root: PathBuf,
}

/// What [`StoreError::LayoutMismatch`] found.
#[derive(Debug)]
pub struct LayoutMismatch {
    /// The store root.
    pub root: PathBuf,
    /// The first partition folder (relative to the root) that does not fit.
    pub folder: PathBuf,
    /// The configured layout.
    pub layout: crate::Layout,
    /// The layouts every folder fits (none: folders of several layouts).
    pub fits: Vec<crate::Layout>,
}

impl std::fmt::Display for LayoutMismatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "store {}: {} does not fit the configured layout ({}); the folders there fit:{}. Set the store's config to the layout it was written with",
            self.root.display(),
            self.root.join(&self.folder).display(),
            self.layout,
            crate::layout_check::list(&self.fits)
        )
    }
}

impl StoreError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: io::Error) -> StoreError {
        StoreError::Io {
            path: path.into(),
            source,
        }
    }

    /// Whether the read was stopped as asked ([`StoreError::Stopped`]).
    pub fn is_stopped(&self) -> bool {
        matches!(self, StoreError::Stopped { .. })
    }

    /// Whether the cause is a full disk (`ENOSPC`) or an exhausted quota (`EDQUOT`).
    pub fn is_disk_full(&self) -> bool {
        matches!(self, StoreError::Io { source, .. } if is_disk_full(source))
    }

    /// Whether this error, met while making a partition's folder or opening its file,
    /// will be met again however often it is retried: the file system refuses the path
    /// itself. `ENAMETOOLONG` (a name or the whole path too long), `EINVAL` and `EILSEQ`
    /// (a name the file system does not accept), `ENOTDIR`, `EISDIR`, `EEXIST` (a file
    /// where a folder must be, or the reverse), `ELOOP` (a symbolic-link loop). Not
    /// included: permissions and a read-only file system
    /// ([`StoreError::is_partition_unwritable`]), a full disk or an I/O error.
    pub fn is_partition_permanent(&self) -> bool {
        // Linux numbers, matched raw like `is_disk_full` (some have no stable ErrorKind).
        matches!(self, StoreError::Io { source, .. }
            if matches!(source.raw_os_error(), Some(36 | 22 | 84 | 20 | 21 | 17 | 40)))
    }

    /// Whether this error, met while making a partition's folder or opening its file,
    /// says that the process may not write there: `EACCES`, `EPERM` (a folder restored
    /// as another user, a mode reset, an immutable flag) or `EROFS` (a read-only file
    /// system). Retrying the batch at once meets it again, but an operator can fix it:
    /// the events of that partition are refused for now, and may be sent again later.
    /// So is something already at a new segment's name
    /// ([`StoreError::SegmentNameTaken`]), a FIFO, socket or device found at a segment's name
    /// ([`auditrail_core::regular_file::NotRegularFile`]), and a symbolic link put at a
    /// segment's name or a partition folder while the store is open
    /// ([`auditrail_core::no_follow::SymbolicLinkRefused`]): removing it is the fix,
    /// and the other partitions' events of the batch are written.
    pub fn is_partition_unwritable(&self) -> bool {
        matches!(self, StoreError::SegmentNameTaken { .. })
            || matches!(self, StoreError::Io { source, .. }
            if matches!(source.raw_os_error(), Some(13 | 1 | 30))
                || auditrail_core::regular_file::is_not_regular(source)
                || auditrail_core::no_follow::is_symbolic_link(source))
    }

    /// [`StoreError::SegmentNameTaken`] for `path`, saying what is there.
    pub(crate) fn segment_name_taken(path: &std::path::Path) -> StoreError {
        let found = std::fs::symlink_metadata(path).ok().map(|m| {
            if m.is_dir() {
                "a folder".to_owned()
            } else if m.is_file() {
                format!("a file of {} bytes", m.len())
            } else {
                "a special file".to_owned()
            }
        });
        StoreError::SegmentNameTaken {
            path: path.to_path_buf(),
            found,
        }
    }

    /// Whether no file descriptor was left (see [`StoreError::TooManyOpenFiles`]).
    pub fn is_out_of_descriptors(&self) -> bool {
        matches!(self, StoreError::TooManyOpenFiles { .. })
    }
}

use auditrail_core::durable::is_disk_full;

#[cfg(test)]
mod tests {
    use super::*;

    /// The folder creation names the path in the way; the store's error adds it only
    /// when its cause does not say it already (final62/04: the path three times).
    #[test]
    fn an_io_error_naming_its_path_already_says_it_once() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("store");
        std::fs::write(&file, b"x\n").unwrap();
        let source = auditrail_core::durable::create_dir_all(&file).unwrap_err();
        let said = StoreError::Io {
            path: file.clone(),
            source,
        }
        .to_string();
        let path = file.display().to_string();
        assert_eq!(said.matches(path.as_str()).count(), 1, "{said}");
        assert!(
            said.starts_with(&format!("{path}: is a regular file")),
            "{said}"
        );
        let other = StoreError::Io {
            path: file.clone(),
            source: io::Error::other("denied"),
        };
        assert_eq!(other.to_string(), format!("{path}: denied"));
    }
}
