//! The one walker of store folders: every file in a store's partition folders, what
//! kind of file it is (by the store's naming rules) and which partition it belongs to.
//!
//! Recovery, the de-duplication rebuild, `auditrail verify`, queries and the test
//! helpers all list a store through [`StoreFiles::walk`], so they agree on what a
//! segment is and which files recovery set aside.
//!
//! ```
//! use auditrail_store::{FileKind, Layout, StoreFiles};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let part = dir.path().join("generic/svc-a/2026/11/25/16");
//! std::fs::create_dir_all(&part)?;
//! std::fs::write(part.join("00000000000000000001.jsonl"), "")?;
//! std::fs::write(part.join("00000000000000000001.jsonl.cut"), "")?;
//! let files = StoreFiles::walk(dir.path())?;
//! let segment = files.segments().next().unwrap();
//! assert_eq!(segment.kind, FileKind::Segment { first_record: 1 });
//! assert_eq!(segment.rel, "generic/svc-a/2026/11/25/16/00000000000000000001.jsonl");
//! let partition = segment.partition(&Layout::default()).unwrap();
//! assert_eq!(partition.topic.unwrap().name(), "generic");
//! assert_eq!(files.set_aside().count(), 1);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use crate::error::StoreError;
use crate::layout::{parse_segment_file_name, Layout, Partition};

/// Suffix recovery gives the bytes it cut from a segment (`<segment>.cut`).
pub const CUT_SUFFIX: &str = ".cut";
/// Suffix recovery gives a segment it set aside as unreadable (`<segment>.corrupt`,
/// then `.corrupt.1`, `.corrupt.2`, ... when taken).
pub const CORRUPT_SUFFIX: &str = ".corrupt";

/// What a file in a partition folder is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A segment: `<first record number, 20 digits>.jsonl`, part of the chain.
    Segment {
        /// The store-wide number of its first record (from its name).
        first_record: u64,
    },
    /// Bytes recovery took out of the chain and kept: a segment's name followed by
    /// [`CUT_SUFFIX`] or [`CORRUPT_SUFFIX`] (and a number).
    SetAside,
    /// Anything else (the store never writes such a file; the store leaves it alone).
    Other,
}

/// One file in a store's partition folders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreFile {
    /// The file (the store root joined with [`StoreFile::rel`]).
    pub path: PathBuf,
    /// Its path relative to the store root, `/`-separated (as reports name files).
    pub rel: String,
    /// Its partition folder, relative to the store root.
    pub dir: PathBuf,
    /// Its size when the store was walked, in bytes.
    pub len: u64,
    /// What kind of file it is.
    pub kind: FileKind,
}

impl StoreFile {
    /// The file name.
    pub fn name(&self) -> &str {
        self.rel.rsplit('/').next().unwrap_or(&self.rel)
    }

    /// The first record number, for a segment.
    pub fn first_record(&self) -> Option<u64> {
        match self.kind {
            FileKind::Segment { first_record } => Some(first_record),
            _ => None,
        }
    }

    /// The values of its partition folder under `layout` (`None` when the folder does
    /// not have that layout's shape).
    pub fn partition(&self, layout: &Layout) -> Option<Partition> {
        layout.decode(&self.dir)
    }
}

/// The files of one partition folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionFiles<'a> {
    /// The folder, relative to the store root.
    pub dir: &'a Path,
    /// Its values under the layout asked for (`None`: another shape).
    pub partition: Option<Partition>,
    /// Its segments, in chain order.
    pub segments: Vec<&'a StoreFile>,
}

/// Every file in a store's partition folders, sorted by [`StoreFile::rel`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StoreFiles {
    /// The store root walked.
    pub root: PathBuf,
    /// Every file below the root's sub-folders (files in the root itself are the
    /// store's own, see [`root`](crate::root), and not listed).
    pub files: Vec<StoreFile>,
}

impl StoreFiles {
    /// Lists the store at `root`. A missing root, or a folder removed while it is
    /// walked, is empty; any other error to read a folder is an error. `root` may be a
    /// symbolic link (the operator's, like a linked data dir); a link below it is
    /// [`StoreError::SymbolicLink`], naming it: never followed (the writer never makes
    /// one, and a prune must not reach outside the store), never skipped in silence
    /// (its records would look deleted or rolled back); so is a link with a segment's
    /// name, or one to nothing. A link to another file is left alone, as such files are.
    /// A FIFO, socket or device with a segment's name is refused too (see
    /// [`auditrail_core::regular_file`]).
    pub fn walk(root: &Path) -> Result<StoreFiles, StoreError> {
        StoreFiles::walk_watched(root, &crate::ReadProgress::new())
    }

    /// [`walk`](Self::walk), counting each folder walked in `progress` and stopping
    /// between two folders once a stop is asked there ([`StoreError::Stopped`]).
    pub fn walk_watched(
        root: &Path,
        progress: &crate::ReadProgress,
    ) -> Result<StoreFiles, StoreError> {
        let mut files = Vec::new();
        let mut stack: Vec<PathBuf> = Vec::new();
        for entry in read_dir(root)? {
            let (name, kind) = entry;
            match kind {
                EntryKind::Dir => stack.push(PathBuf::from(name)),
                // The root's own files (`store-id`, ...) are read through
                // `regular_file`, which refuses what is not one; a link to a first
                // level folder is refused like any other below the root.
                EntryKind::Link => {
                    let path = root.join(&name);
                    if is_refused_link(&path, &name) {
                        return Err(link_error(root, path));
                    }
                }
                EntryKind::File | EntryKind::Other => {}
            }
        }
        progress.folder_walked();
        while let Some(rel_dir) = stack.pop() {
            progress.check(root)?;
            progress.folder_walked();
            let dir = root.join(&rel_dir);
            for (name, kind) in read_dir(&dir)? {
                let rel_path = rel_dir.join(&name);
                match kind {
                    EntryKind::Dir => stack.push(rel_path),
                    EntryKind::File => {
                        let path = root.join(&rel_path);
                        let len = match fs::metadata(&path) {
                            Ok(m) => m.len(),
                            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                            Err(e) => return Err(StoreError::io(&path, e)),
                        };
                        files.push(StoreFile {
                            rel: slash_separated(&rel_path),
                            kind: name.to_str().map_or(FileKind::Other, classify),
                            path,
                            dir: rel_dir.clone(),
                            len,
                        });
                    }
                    EntryKind::Link => {
                        let path = root.join(&rel_path);
                        if is_refused_link(&path, &name) {
                            return Err(link_error(root, path));
                        }
                    }
                    EntryKind::Other => {
                        if name
                            .to_str()
                            .is_some_and(|n| classify(n) != FileKind::Other)
                        {
                            let path = root.join(&rel_path);
                            let source = auditrail_core::regular_file::read(&path)
                                .err()
                                .unwrap_or_else(|| io::Error::other("not a regular file"));
                            return Err(StoreError::io(path, source));
                        }
                    }
                }
            }
        }
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(StoreFiles {
            root: root.to_path_buf(),
            files,
        })
    }

    /// The segments, in chain order (by their first record number, then path).
    pub fn segments(&self) -> impl Iterator<Item = &StoreFile> + '_ {
        let mut segments: Vec<&StoreFile> = self
            .files
            .iter()
            .filter(|f| f.first_record().is_some())
            .collect();
        segments.sort_by(|a, b| (a.first_record(), &a.rel).cmp(&(b.first_record(), &b.rel)));
        segments.into_iter()
    }

    /// The segments directly in the folder `rel_dir` (relative to `root`), in chain
    /// order, as [`walk`](Self::walk) lists them (none when the folder is gone): a
    /// prune's check, under the writer, that a partition it read without the writer is
    /// unchanged. A symbolic link with a segment's name is listed with the length
    /// `u64::MAX` (no file the prune read has it: the partition counts as changed, and
    /// the next walk refuses the link, naming it).
    pub(crate) fn segments_in(root: &Path, rel_dir: &Path) -> Result<Vec<StoreFile>, StoreError> {
        let dir = root.join(rel_dir);
        let mut segments = Vec::new();
        for (name, kind) in read_dir(&dir)? {
            let Some(first_record) = name.to_str().and_then(parse_segment_file_name) else {
                continue;
            };
            let rel_path = rel_dir.join(&name);
            let path = root.join(&rel_path);
            let len = match kind {
                EntryKind::File => match fs::metadata(&path) {
                    Ok(m) => m.len(),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(StoreError::io(&path, e)),
                },
                EntryKind::Dir => continue,
                EntryKind::Link | EntryKind::Other => u64::MAX,
            };
            segments.push(StoreFile {
                rel: slash_separated(&rel_path),
                kind: FileKind::Segment { first_record },
                path,
                dir: rel_dir.to_path_buf(),
                len,
            });
        }
        segments.sort_by(|a, b| (a.first_record(), &a.rel).cmp(&(b.first_record(), &b.rel)));
        Ok(segments)
    }

    /// The files recovery set aside (`.cut`, `.corrupt`).
    pub fn set_aside(&self) -> impl Iterator<Item = &StoreFile> + '_ {
        self.files.iter().filter(|f| f.kind == FileKind::SetAside)
    }

    /// The segments grouped by partition folder (sorted by folder), each decoded under
    /// `layout`.
    pub fn partitions(&self, layout: &Layout) -> Vec<PartitionFiles<'_>> {
        let mut by_dir: BTreeMap<&Path, Vec<&StoreFile>> = BTreeMap::new();
        for f in self.segments() {
            by_dir.entry(f.dir.as_path()).or_default().push(f);
        }
        by_dir
            .into_iter()
            .map(|(dir, segments)| PartitionFiles {
                dir,
                partition: layout.decode(dir),
                segments,
            })
            .collect()
    }

    /// Total size of the segments, in bytes.
    pub fn segment_bytes(&self) -> u64 {
        self.segments().map(|f| f.len).sum()
    }
}

fn classify(name: &str) -> FileKind {
    if let Some(first_record) = parse_segment_file_name(name) {
        return FileKind::Segment { first_record };
    }
    let base = match name.rfind(CORRUPT_SUFFIX) {
        Some(at) if is_counter(&name[at + CORRUPT_SUFFIX.len()..]) => Some(&name[..at]),
        _ => name.strip_suffix(CUT_SUFFIX),
    };
    match base.and_then(parse_segment_file_name) {
        Some(_) => FileKind::SetAside,
        None => FileKind::Other,
    }
}

/// `""` or `.<digits>`: the counter of a `.corrupt` name.
fn is_counter(s: &str) -> bool {
    s.is_empty()
        || s.strip_prefix('.')
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
}

pub(crate) fn slash_separated(rel: &Path) -> String {
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts.join("/")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    Dir,
    File,
    Link,
    Other,
}

/// Whether the symbolic link at `path` (named `name`) stands for part of the store: a
/// folder, a file with a segment's or a set-aside file's name, or nothing (a dangling
/// link may have been a folder on a disk not mounted). A link to another file is left
/// alone, as such files are.
fn is_refused_link(path: &Path, name: &std::ffi::OsStr) -> bool {
    match fs::metadata(path) {
        Ok(m) if !m.is_dir() => name
            .to_str()
            .is_some_and(|n| classify(n) != FileKind::Other),
        _ => true,
    }
}

/// The error for the symbolic link `link` found in the store at `root`.
fn link_error(root: &Path, link: PathBuf) -> StoreError {
    StoreError::SymbolicLink(Box::new(crate::error::LinkInStore {
        target: fs::read_link(&link).ok(),
        dangling: fs::metadata(&link).is_err(),
        root: root.to_path_buf(),
        link,
    }))
}

/// The entries of `dir` (none when it does not exist).
fn read_dir(dir: &Path) -> Result<Vec<(std::ffi::OsString, EntryKind)>, StoreError> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io(dir, e))?;
        let kind = match entry.file_type() {
            Ok(t) if t.is_dir() => EntryKind::Dir,
            Ok(t) if t.is_file() => EntryKind::File,
            Ok(t) if t.is_symlink() => EntryKind::Link,
            Ok(_) => EntryKind::Other,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::io(entry.path(), e)),
        };
        out.push((entry.file_name(), kind));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_classified_by_the_store_naming_rules() {
        let seg = "00000000000000000042.jsonl";
        assert_eq!(classify(seg), FileKind::Segment { first_record: 42 });
        for aside in [".cut", ".corrupt", ".corrupt.3"] {
            assert_eq!(
                classify(&format!("{seg}{aside}")),
                FileKind::SetAside,
                "{aside}"
            );
        }
        for other in [
            "notes.jsonl",
            "x.cut",
            ".corrupt",
            "00000000000000000042.jsonl.corrupt.x",
        ] {
            assert_eq!(classify(other), FileKind::Other, "{other}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_link_below_the_root_is_refused_naming_it_and_a_linked_root_is_walked() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("store");
        let day = root.join("generic/k/2026/11/25");
        std::fs::create_dir_all(&day).unwrap();
        std::fs::write(day.join("00000000000000000001.jsonl"), "x\n").unwrap();
        let linked_root = dir.path().join("linked");
        std::os::unix::fs::symlink(&root, &linked_root).unwrap();
        assert_eq!(StoreFiles::walk(&linked_root).unwrap().files.len(), 1);

        let moved = dir.path().join("elsewhere");
        std::fs::rename(&day, &moved).unwrap();
        std::os::unix::fs::symlink(&moved, &day).unwrap();
        let e = StoreFiles::walk(&root).unwrap_err();
        assert!(
            matches!(&e, StoreError::SymbolicLink(l) if l.link == day && !l.dangling),
            "{e}"
        );
        std::fs::remove_dir_all(&moved).unwrap();
        let e = StoreFiles::walk(&root).unwrap_err();
        assert!(e.to_string().contains("is a dangling symbolic link"), "{e}");
        // A link to a file the store does not name is left alone, as the file would be.
        std::fs::remove_file(&day).unwrap();
        std::fs::write(dir.path().join("notes"), "x\n").unwrap();
        std::os::unix::fs::symlink(dir.path().join("notes"), root.join("generic/k/notes.txt"))
            .unwrap();
        assert!(StoreFiles::walk(&root).is_ok());
        // A first-level folder too.
        std::fs::remove_dir_all(root.join("generic")).unwrap();
        std::os::unix::fs::symlink(&moved, root.join("generic")).unwrap();
        assert!(matches!(
            StoreFiles::walk(&root).unwrap_err(),
            StoreError::SymbolicLink(_)
        ));
    }

    #[test]
    fn root_files_are_not_listed_and_hidden_folders_are() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("checkpoints.jsonl"), "x\n").unwrap();
        std::fs::write(root.join("store-id"), "x\n").unwrap();
        for (folder, name) in [
            (".hidden-topic/k/2026/11", "00000000000000000007.jsonl"),
            ("generic/k/2026/11", "00000000000000000001.jsonl"),
            ("generic/k/2026/11", "00000000000000000003.jsonl"),
        ] {
            std::fs::create_dir_all(root.join(folder)).unwrap();
            std::fs::write(root.join(folder).join(name), "").unwrap();
        }
        let files = StoreFiles::walk(root).unwrap();
        let order: Vec<u64> = files
            .segments()
            .filter_map(StoreFile::first_record)
            .collect();
        assert_eq!(order, vec![1, 3, 7]);
        assert_eq!(files.files.len(), 3);
        let parts = files.partitions(&Layout {
            partitioning: crate::Partitioning::Month,
            ..Layout::default()
        });
        assert_eq!(parts.len(), 2);
        assert!(parts.iter().all(|p| p.partition.is_some()));
        assert_eq!(
            StoreFiles::walk(&root.join("missing")).unwrap().files,
            vec![]
        );
    }
}
