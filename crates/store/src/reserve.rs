//! The prune reserve: a file of real (allocated) blocks kept beside what a prune writes,
//! so that a prune can run on a full disk.
//!
//! A prune records each deletion before it removes anything (the signed line in
//! `checkpoints.jsonl`, `.deleted-seqs.jsonl` rewritten whole, the high-water mark
//! rewritten whole): all of them need new blocks. On a full disk the usual remedy
//! (delete old data by policy) then could not run at all. The reserve is those blocks,
//! taken while there was room: a prune that meets `ENOSPC` writing its evidence
//! removes the reserve and tries again, and makes it again once its pass removed its
//! files (see `auditrail_integrity`'s prune).
//!
//! Its name ([`RESERVE_FILE`]) starts with `.`, as no topic or routing key folder may,
//! and sits in a store's root (or the data dir), whose own files the store's walker
//! never lists: no reader takes it for a segment or a log.

use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The reserve's file name, in a store's folder (and in the folder of its high-water
/// mark when that is on another file system).
pub const RESERVE_FILE: &str = ".prune-reserve";

/// What one prune pass writes at most before it removes anything, in the common case,
/// beyond the files it rewrites whole (counted by their size, see [`Reserve::bytes_for`]):
/// the signed deletion line names at most
/// [`MAX_PARTITIONS_PER_PRUNE`](crate::prune::MAX_PARTITIONS_PER_PRUNE) (1000) partition
/// folders of at most ~280 bytes each (two folder names of at most
/// [`FOLDER_NAME_MAX_BYTES`](crate::FOLDER_NAME_MAX_BYTES) and the time folders):
/// 280 KB; and its chain runs, each at most ~4.4 KB (64 subtree hashes in hex): a pass
/// whose records were written in order is one run, late events split it, and 1.7 MiB
/// holds ~400 runs; plus the growth of `.deleted-seqs.jsonl` and the mark by one pass
/// (a few lines) and the block rounding of the temporary files. A pass that needs more
/// fails with the full disk named, as without a reserve.
pub const RESERVE_BASE_BYTES: u64 = 2 << 20;

/// Reserves are sized in steps of 256 KiB.
const ROUND_BYTES: u64 = 256 << 10;

/// A reserve could not be made or removed.
#[derive(Debug, thiserror::Error)]
#[error("{}", auditrail_core::path_and_error(path, source))]
pub struct ReserveError {
    /// The reserve file (or its temporary file).
    pub path: PathBuf,
    /// The OS error.
    #[source]
    pub source: io::Error,
}

impl ReserveError {
    /// Whether the cause is a full disk (`ENOSPC`, `EDQUOT`).
    pub fn is_disk_full(&self) -> bool {
        auditrail_core::durable::is_disk_full(&self.source)
    }
}

/// The reserve file of one folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserve {
    path: PathBuf,
}

impl Reserve {
    /// The reserve in `dir`.
    pub fn in_folder(dir: &Path) -> Reserve {
        Reserve {
            path: dir.join(RESERVE_FILE),
        }
    }

    /// The reserve's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The size a reserve needs for a prune pass that rewrites `rewritten` whole (each
    /// is written again under a temporary name before the old one goes): their sizes
    /// now, plus [`RESERVE_BASE_BYTES`], rounded up to 256 KiB.
    pub fn bytes_for(rewritten: &[PathBuf]) -> u64 {
        let files: u64 = rewritten
            .iter()
            .filter_map(|p| std::fs::metadata(p).ok())
            .map(|m| m.len())
            .sum();
        (RESERVE_BASE_BYTES + files).div_ceil(ROUND_BYTES) * ROUND_BYTES
    }

    /// Makes the reserve, `bytes` of allocated blocks, unless one that large is there
    /// (its blocks counted, not its length: a copy made sparse by a backup tool holds
    /// no room). Written under a temporary name, fsynced and renamed, so that the name
    /// holds a whole reserve or none; on failure the temporary file is removed (its
    /// blocks are what the disk lacks). Whether it was made now.
    pub fn ensure(&self, bytes: u64) -> Result<bool, ReserveError> {
        use std::os::unix::fs::MetadataExt;
        match std::fs::symlink_metadata(&self.path) {
            Ok(m) if m.is_file() && m.blocks().saturating_mul(512) >= bytes => return Ok(false),
            // Anything else at the name (a folder, a link) is not ours to replace.
            Ok(m) if !m.is_file() => {
                return Err(self.error(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    "something else than a regular file is at the name of the prune reserve",
                )))
            }
            _ => {}
        }
        let tmp = auditrail_core::durable::tmp_beside(&self.path);
        // (`create_tmp` removes a temporary file a crash left while one was made.)
        let made = auditrail_core::durable::create_tmp(&tmp)
            .and_then(|f| allocate(&f, bytes).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        if let Err(e) = made {
            let _ = std::fs::remove_file(&tmp);
            return Err(ReserveError {
                path: tmp,
                source: e,
            });
        }
        if let Some(dir) = self.path.parent() {
            auditrail_core::durable::sync_dir(dir).map_err(|e| self.error(e))?;
        }
        Ok(true)
    }

    /// Removes the reserve, giving its blocks back to the file system. Whether there was
    /// one.
    pub fn release(&self) -> Result<bool, ReserveError> {
        match std::fs::remove_file(&self.path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(self.error(e)),
        }
        // The blocks are free once the name is gone (no one holds the file open); the
        // sync only makes the removal durable, and a failure of it changes nothing here.
        if let Some(dir) = self.path.parent() {
            let _ = auditrail_core::durable::sync_dir(dir);
        }
        Ok(true)
    }

    fn error(&self, source: io::Error) -> ReserveError {
        ReserveError {
            path: self.path.clone(),
            source,
        }
    }
}

/// Allocates `bytes` of real blocks to `file`: `fallocate` where the file system has
/// it, zeros written where it does not (a length alone would be a sparse file, no room).
fn allocate(file: &File, bytes: u64) -> io::Result<()> {
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, bytes) {
        Ok(()) => return Ok(()),
        Err(e) if e == rustix::io::Errno::NOSPC || e == rustix::io::Errno::DQUOT => {
            return Err(e.into())
        }
        Err(_) => {}
    }
    let block = vec![0u8; 64 * 1024];
    let mut left = bytes;
    let mut out = file;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        out.write_all(&block[..n])?;
        left -= n as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_is_made_once_with_its_blocks_and_released_once() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let r = Reserve::in_folder(dir.path());
        assert!(r.ensure(ROUND_BYTES).unwrap());
        let m = std::fs::metadata(r.path()).unwrap();
        assert!(m.blocks() * 512 >= ROUND_BYTES, "{m:?}");
        assert!(!r.ensure(ROUND_BYTES).unwrap());
        assert!(r.release().unwrap());
        assert!(!r.release().unwrap());
        assert!(!r.path().exists());
    }

    #[test]
    fn the_size_counts_the_files_rewritten_whole() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("marks");
        std::fs::write(&f, vec![b'x'; (1 << 20) - 10]).unwrap();
        assert_eq!(Reserve::bytes_for(&[]), RESERVE_BASE_BYTES);
        assert_eq!(Reserve::bytes_for(&[f]), RESERVE_BASE_BYTES + (1 << 20));
    }
}
