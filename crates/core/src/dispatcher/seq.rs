//! Per-node sequence numbers that keep increasing across restarts.
//!
//! A hot path cannot fsync per event, so numbers are handed out from reserved
//! blocks: before any number of a block is used, the block's end is written to
//! `<run_dir>/seq/<node>` (write to a temporary file, fsync, rename, fsync the folder).
//! After a crash the next process starts past the last reservation, leaving a gap
//! (which the event server reports, and which is honest: events still in memory at
//! the crash may indeed be lost). A graceful shutdown records the exact next number,
//! so a clean restart leaves no gap.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

const BLOCK: u64 = 1 << 20;

/// Hands out strictly increasing numbers, from any thread.
#[derive(Debug)]
pub(crate) struct SeqAllocator {
    next: AtomicU64,
    /// Numbers below this are covered by a durable reservation.
    reserved: AtomicU64,
    store: Option<Mutex<PathBuf>>,
}

impl SeqAllocator {
    /// Starts at 1, nothing persisted (tests, embedding without a run folder).
    pub(crate) fn in_memory() -> SeqAllocator {
        SeqAllocator {
            next: AtomicU64::new(1),
            reserved: AtomicU64::new(u64::MAX),
            store: None,
        }
    }

    /// Resumes from `<dir>/<node>`.
    pub(crate) fn persistent(dir: &Path, node: &str) -> std::io::Result<SeqAllocator> {
        fs::create_dir_all(dir)?;
        let path = dir.join(node);
        let start = match fs::read_to_string(&path) {
            Ok(text) => parse(&text).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: not a sequence file ({text:?})", path.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => 1,
            Err(e) => return Err(e),
        };
        let reserved = start.saturating_add(BLOCK);
        write_atomically(&path, &format!("reserved {reserved}\n"))?;
        Ok(SeqAllocator {
            next: AtomicU64::new(start),
            reserved: AtomicU64::new(reserved),
            store: Some(Mutex::new(path)),
        })
    }

    pub(crate) fn next(&self) -> u64 {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        if n < self.reserved.load(Ordering::Acquire) {
            return n;
        }
        self.reserve_past(n);
        n
    }

    #[cold]
    fn reserve_past(&self, n: u64) {
        let Some(store) = &self.store else { return };
        let Ok(path) = store.lock() else { return };
        let mut reserved = self.reserved.load(Ordering::Acquire);
        if n < reserved {
            return;
        }
        while reserved <= n {
            reserved = reserved.saturating_add(BLOCK);
        }
        if let Err(e) = write_atomically(&path, &format!("reserved {reserved}\n")) {
            // The number is still unique in this process; only a crash before the next
            // successful reservation could make a restart reuse it.
            tracing::error!(path = %path.display(), error = %e, "cannot persist the sequence reservation");
        }
        self.reserved.store(reserved, Ordering::Release);
    }

    /// Records the exact next number (graceful shutdown).
    pub(crate) fn persist_exact(&self) {
        let Some(store) = &self.store else { return };
        let Ok(path) = store.lock() else { return };
        let next = self.next.load(Ordering::Acquire);
        if let Err(e) = write_atomically(&path, &format!("next {next}\n")) {
            tracing::warn!(path = %path.display(), error = %e, "cannot record the next sequence number; the next start leaves a gap");
        }
    }
}

fn parse(text: &str) -> Option<u64> {
    let (kind, n) = text.trim().split_once(' ')?;
    let n: u64 = n.parse().ok()?;
    matches!(kind, "next" | "reserved").then_some(n)
}

fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::File::create(&tmp)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_restart_continues_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!((a.next(), a.next(), a.next()), (1, 2, 3));
        a.persist_exact();
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(b.next(), 4);
    }

    #[test]
    fn crash_restart_skips_past_the_reservation() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let last = (0..10).map(|_| a.next()).last().unwrap();
        drop(a); // no persist_exact: a crash
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert!(b.next() > last);
    }

    #[test]
    fn crossing_a_block_reserves_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        a.next.store(BLOCK + 5, Ordering::Relaxed);
        let n = a.next();
        let text = fs::read_to_string(dir.path().join("n1")).unwrap();
        assert!(parse(&text).unwrap() > n, "{text}");
    }

    #[test]
    fn garbage_in_the_file_is_an_error_not_a_restart_from_one() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("n1"), "banana").unwrap();
        let err = SeqAllocator::persistent(dir.path(), "n1")
            .unwrap_err()
            .to_string();
        assert!(err.contains("not a sequence file"), "{err}");
    }
}
