//! The writer's open segment files: at most `max_open_files` at once, the least
//! recently used closed first, so that a batch over thousands of partitions (routing
//! keys, hours) never needs more descriptors than that, and fsyncing files no longer
//! held opens them one at a time.

use std::fs::{File, OpenOptions};
use std::io;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use lru::LruCache;

use crate::error::StoreError;

/// Default of `max_open_files` (lowered to a quarter of the open-file limit when that
/// is lower: see `StoreConfig::max_open_files`).
pub const DEFAULT_MAX_OPEN_FILES: usize = 256;

/// The bound to use: the configured one, else [`DEFAULT_MAX_OPEN_FILES`] or a quarter
/// of this process's soft `RLIMIT_NOFILE`, whichever is lower, so that the store leaves
/// most descriptors to connections and the rest of the server.
pub(crate) fn max_open_files(configured: Option<usize>) -> usize {
    if let Some(n) = configured {
        return n.max(1);
    }
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    match soft {
        Some(limit) => DEFAULT_MAX_OPEN_FILES
            .min(usize::try_from(limit / 4).unwrap_or(usize::MAX))
            .max(1),
        None => DEFAULT_MAX_OPEN_FILES,
    }
}

/// Most fsyncs running at once. A file system with a journal (ext4, XFS) commits
/// concurrent fsyncs together, so a batch that touched many partitions (each with new
/// folders to make durable) costs a few journal commits instead of one per file and
/// folder: 1,200 new partitions took 23 s with serial folder fsyncs on the test machine.
const SYNC_THREADS: usize = 32;
/// Files a store may open beyond `max_open_files` while it fsyncs (one per sync
/// thread: a file whose handle was closed by the bound is opened again to be synced).
pub const MAX_SYNC_OPEN_FILES: usize = SYNC_THREADS;
/// Fewest fsyncs per thread: a batch that touched a few files uses a few threads.
const SYNCS_PER_THREAD: usize = 4;

/// A segment file to fsync, with the writer's handle of it when one was held (shared:
/// the store's sync thread fsyncs through it while the writer goes on).
pub(crate) type ToSync = (PathBuf, Option<Arc<File>>);

pub(crate) struct Handles {
    open: LruCache<PathBuf, Arc<File>>,
}

impl Handles {
    pub(crate) fn new(max_open: usize) -> Handles {
        Handles {
            open: LruCache::new(NonZeroUsize::new(max_open).unwrap_or(NonZeroUsize::MIN)),
        }
    }

    /// The open file for appending to `path` (created if missing), opening it when not
    /// held; the least recently used handle is closed beyond the bound. `EMFILE` /
    /// `ENFILE`: every held handle is closed and the open tried once more; when it still
    /// fails, [`StoreError::TooManyOpenFiles`].
    pub(crate) fn append(&mut self, path: &Path) -> Result<&File, StoreError> {
        self.open_as(path, false)
    }

    /// [`append`](Self::append) for a new segment: the file is made here, never found
    /// (`O_EXCL`). A file already at its name, which this writer did not write (its
    /// segments are named after their first record, and the undo of a batch removes
    /// what it made), is [`StoreError::SegmentNameTaken`]: appending after its bytes
    /// would glue the first record to them.
    pub(crate) fn create(&mut self, path: &Path) -> Result<&File, StoreError> {
        if self.open.contains(path) {
            return Err(StoreError::segment_name_taken(path));
        }
        self.open_as(path, true)
    }

    fn open_as(&mut self, path: &Path, new: bool) -> Result<&File, StoreError> {
        if !self.open.contains(path) {
            let file = match open_append(path, new) {
                Err(e) if is_out_of_descriptors(&e) => {
                    self.open.clear();
                    open_append(path, new).map_err(|e| {
                        if is_out_of_descriptors(&e) {
                            StoreError::TooManyOpenFiles {
                                path: path.to_path_buf(),
                                source: e,
                            }
                        } else {
                            open_error(path, new, e)
                        }
                    })?
                }
                other => other.map_err(|e| open_error(path, new, e))?,
            };
            self.open.put(path.to_path_buf(), Arc::new(file));
        }
        self.open
            .get(path)
            .map(|f| &**f)
            .ok_or_else(|| StoreError::io(path, io::Error::other("handle vanished")))
    }

    /// Whether a handle of `path` is held.
    pub(crate) fn is_open(&self, path: &Path) -> bool {
        self.open.contains(path)
    }

    /// The handle of `path`, if held (without making it the most recently used).
    pub(crate) fn peek(&self, path: &Path) -> Option<&File> {
        self.open.peek(path).map(|f| &**f)
    }

    /// `path` with a share of its handle, if held: to fsync it later, on another thread.
    pub(crate) fn to_sync(&self, path: &Path) -> ToSync {
        (path.to_path_buf(), self.open.peek(path).cloned())
    }

    /// Closes the handle of `path`, if held (and hands it back).
    pub(crate) fn take(&mut self, path: &Path) -> Option<Arc<File>> {
        self.open.pop(path)
    }

    /// Closes every handle.
    pub(crate) fn clear(&mut self) {
        self.open.clear();
    }

    /// How many files are open.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.open.len()
    }

    /// fsyncs (data) every file of `paths`: through its handle when held, else opened,
    /// fsynced and closed, on a few threads. A file missing now was removed by the
    /// undo of a failed batch: nothing to sync. Returns how many files were fsynced.
    pub(crate) fn sync(&self, paths: &[PathBuf]) -> Result<usize, StoreError> {
        let jobs: Vec<ToSync> = paths.iter().map(|p| self.to_sync(p)).collect();
        sync_files(&jobs)
    }
}

/// fsyncs (data) every file of `files`, through its handle when one is given (see
/// [`Handles::sync`]); how many files were fsynced.
pub(crate) fn sync_files(files: &[ToSync]) -> Result<usize, StoreError> {
    #[cfg(test)]
    crate::writer::tests::before_sync(files)?;
    sync_parallel(files, |(p, f)| sync_one(p, f.as_deref()))
}

/// Runs `sync` over `items` on up to [`SYNC_THREADS`] threads; the number of items
/// synced, or the first error.
pub(crate) fn sync_parallel<T: Sync>(
    items: &[T],
    sync: impl Fn(&T) -> Result<usize, StoreError> + Sync,
) -> Result<usize, StoreError> {
    let threads = items
        .len()
        .div_ceil(SYNCS_PER_THREAD)
        .clamp(1, SYNC_THREADS);
    if threads == 1 {
        return items.iter().map(&sync).sum();
    }
    let per = items.len().div_ceil(threads);
    let sync = &sync;
    std::thread::scope(|s| {
        let workers: Vec<_> = items
            .chunks(per)
            .map(|chunk| {
                s.spawn(move || -> Result<usize, StoreError> { chunk.iter().map(sync).sum() })
            })
            .collect();
        let mut result = Ok(0);
        for w in workers {
            let r = w.join().unwrap_or_else(|_| {
                Err(StoreError::io(
                    PathBuf::new(),
                    io::Error::other("fsync thread panicked"),
                ))
            });
            result = match (result, r) {
                (Ok(a), Ok(b)) => Ok(a + b),
                (Err(e), _) | (_, Err(e)) => Err(e),
            };
        }
        result
    })
}

/// Never through a symbolic link at the segment's name (`O_NOFOLLOW`): the walk at
/// start refuses one, but one put there while the server runs (segment names are
/// predictable) had the records appended to the file it points to, outside the store,
/// and acknowledged as stored.
/// The store's error for a failed open of `path` (`new`: see [`open_append`]).
fn open_error(path: &Path, new: bool, e: io::Error) -> StoreError {
    if new && e.kind() == io::ErrorKind::AlreadyExists {
        StoreError::segment_name_taken(path)
    } else {
        StoreError::io(path, e)
    }
}

/// Opens `path` to append; `new`: made here (`O_EXCL`), else made if missing.
fn open_append(path: &Path, new: bool) -> io::Result<File> {
    let mut options = OpenOptions::new();
    if new {
        options.create_new(true);
    } else {
        options.create(true);
    }
    // Stored events: not readable by every local user (`auditrail_core::file_mode`).
    auditrail_core::regular_file::open_no_follow(
        auditrail_core::file_mode::audit_data(options.append(true)),
        path,
    )
}

/// fsyncs one file; opened (read-only: fsync needs no write access) when not held.
/// Then drops its synced pages from the page cache ([`drop_synced_pages`]).
fn sync_one(path: &Path, held: Option<&File>) -> Result<usize, StoreError> {
    let opened;
    let file = match held {
        Some(f) => f,
        None => match auditrail_core::regular_file::open(OpenOptions::new().read(true), path) {
            Ok(f) => {
                opened = f;
                &opened
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(StoreError::io(path, e)),
        },
    };
    file.sync_data().map_err(|e| StoreError::io(path, e))?;
    drop_synced_pages(file);
    Ok(1)
}

/// What [`drop_synced_pages`] keeps cached at a file's end, at most: the largest page
/// size of Linux's platforms (64 KiB, arm64's largest), a multiple of every page size,
/// so that the range dropped never ends inside the last page.
const KEPT_TAIL: u64 = 64 * 1024;

/// Tells the kernel that the store will not read the pages of `file` just synced
/// (`POSIX_FADV_DONTNEED`: clean pages are dropped from the page cache, a page still
/// dirty, written since the fsync, is kept), up to its size rounded down to
/// [`KEPT_TAIL`]: the partly filled last page is kept, as the next append writes into
/// it (dropped, it is read back from the disk first). The store only appends, and
/// reads a segment back only for queries, verification and recovery, so the cached
/// copy of what it wrote served nothing, while every new write took fresh memory. On a
/// virtual machine that hands free memory back to its host (virtio-balloon free page
/// reporting), each fresh page is faulted in again by the host, and the copy of the
/// records into the page cache was about a third of `auditrail serve`'s CPU under load
/// (docs/benchmarks.md, issue 17, 2026-12-06); dropped pages are reused for the next
/// writes before they are handed back. Advice only: the data is on disk already, and a
/// failure changes nothing but the cache, so it is ignored.
fn drop_synced_pages(file: &File) {
    let Ok(meta) = file.metadata() else {
        return;
    };
    if let Some(len) = std::num::NonZeroU64::new(meta.len() / KEPT_TAIL * KEPT_TAIL) {
        let _ = rustix::fs::fadvise(file, 0, Some(len), rustix::fs::Advice::DontNeed);
    }
}

/// `EMFILE` (24: this process) or `ENFILE` (23: the whole system), Linux numbers.
fn is_out_of_descriptors(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23) | Some(24))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_more_handles_than_the_bound_and_closed_files_still_sync() {
        let dir = tempfile::tempdir().unwrap();
        let mut h = Handles::new(3);
        let paths: Vec<PathBuf> = (0..10).map(|i| dir.path().join(format!("{i}"))).collect();
        for p in &paths {
            use std::io::Write;
            h.append(p).unwrap().write_all(b"x\n").unwrap();
            assert!(h.len() <= 3);
        }
        assert_eq!(h.sync(&paths).unwrap(), 10);
        let gone = dir.path().join("gone");
        assert_eq!(h.sync(&[gone]).unwrap(), 0);
    }

    /// Bytes of `path` in the page cache, by util-linux's `fincore` (a real look at
    /// the kernel's cache: `mincore` of a mapping of the file).
    fn cached_bytes(path: &Path) -> u64 {
        let out = std::process::Command::new("fincore")
            .args(["--bytes", "--noheadings", "--output", "RES"])
            .arg(path)
            .output()
            .expect("fincore (util-linux) runs");
        assert!(out.status.success(), "fincore: {out:?}");
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    #[test]
    fn a_synced_segment_leaves_the_page_cache_but_for_its_last_pages() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("segment.jsonl");
        let mut h = Handles::new(3);
        use std::io::Write;
        // 600 records of 512 bytes (~300 KB, a batch of ~500-byte records), and a last
        // page filled in part.
        let record = [b'x'; 511];
        for _ in 0..600 {
            let mut f = h.append(&path).unwrap();
            f.write_all(&record).unwrap();
            f.write_all(b"\n").unwrap();
        }
        h.append(&path).unwrap().write_all(b"tail\n").unwrap();
        let written: u64 = 600 * 512 + 5;
        assert_eq!(
            cached_bytes(&path),
            written.div_ceil(4096) * 4096,
            "written, cached"
        );
        assert_eq!(h.sync(std::slice::from_ref(&path)).unwrap(), 1);
        let cached = cached_bytes(&path);
        assert!(
            cached <= KEPT_TAIL,
            "{cached} bytes still cached after the sync"
        );
        // What is kept cached is the end, which the next append writes into.
        assert!(cached >= written % KEPT_TAIL / 4096 * 4096, "{cached}");
        // A file synced through no handle (opened for the fsync) is dropped as well.
        let other = dir.path().join("other.jsonl");
        std::fs::write(&other, vec![b'y'; 256 * 1024]).unwrap();
        assert_eq!(h.sync(std::slice::from_ref(&other)).unwrap(), 1);
        assert_eq!(cached_bytes(&other), 0);
        assert_eq!(
            std::fs::read(&path).unwrap().len() as u64,
            written,
            "nothing lost"
        );
    }
}
