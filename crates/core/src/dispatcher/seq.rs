//! Per-node sequence numbers that keep increasing across restarts.
//!
//! A hot path cannot fsync per event, so numbers are handed out from reserved
//! blocks: before any number of a block is used, the block's end is written to
//! `<run_dir>/seq/<node>` (write to a temporary file, fsync, rename, fsync the folder).
//! After a crash the next process starts past the last reservation, leaving a gap. A
//! graceful shutdown records the exact next number, so a clean restart leaves no gap.
//!
//! The reservation also records where its run started (`reserved R from S`), so that
//! after a crash the next run knows which numbers the crashed run had reserved
//! (`S..R`) and announces them with its first event (`Event::abandoned_seqs`): the
//! event server then reports the ones it never received after the last one it did
//! receive from that run as abandoned rather than missing (the crashed run assigned
//! numbers in order, so a number below one it sent was assigned; the ones above its
//! last were never seen, and may also have gone to events lost in its memory).
//!
//! A reservation covers the numbers *below* its end and no end above `u64::MAX` can be
//! written, so a node numbers its events up to `u64::MAX - 1`: `next 18446744073709551615`
//! means the numbers are used up, and every later emit is refused
//! ([`EmitError::SeqExhausted`](super::EmitError::SeqExhausted)) rather than numbered
//! again from 0 or waiting for a reservation that cannot be made.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Mutex;

use crate::event::SeqRange;

const BLOCK: u64 = 1 << 20;

/// The first number never handed out (see the module docs).
const EXHAUSTED: u64 = u64::MAX;

/// No number is left: the allocator is at [`EXHAUSTED`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Exhausted;

/// Hands out strictly increasing numbers, from any thread.
#[derive(Debug)]
pub(crate) struct SeqAllocator {
    next: AtomicU64,
    /// Numbers below this are covered by a durable reservation.
    reserved: AtomicU64,
    store: Option<Mutex<PathBuf>>,
    /// The first number of this run.
    start: u64,
    /// The numbers a crashed earlier run reserved, until an event announces them.
    abandoned: Mutex<Option<SeqRange>>,
    to_announce: AtomicBool,
}

impl SeqAllocator {
    /// Starts at 1, nothing persisted (tests, embedding without a run folder).
    pub(crate) fn in_memory() -> SeqAllocator {
        SeqAllocator {
            next: AtomicU64::new(1),
            reserved: AtomicU64::new(u64::MAX),
            store: None,
            start: 1,
            abandoned: Mutex::new(None),
            to_announce: AtomicBool::new(false),
        }
    }

    /// Resumes from `<dir>/<node>`: [`SeqFile::read`], then [`SeqFile::reserve`].
    #[cfg(test)]
    pub(crate) fn persistent(dir: &Path, node: &str) -> std::io::Result<SeqAllocator> {
        SeqFile::read(dir, node)?.reserve()
    }

    pub(crate) fn next(&self) -> Result<u64, Exhausted> {
        // Not `fetch_add`: past `u64::MAX` it wraps and would hand out 0, 1, ... again.
        let n = self
            .next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < EXHAUSTED).then(|| n + 1)
            })
            .map_err(|_| Exhausted)?;
        if n < self.reserved.load(Ordering::Acquire) {
            return Ok(n);
        }
        self.reserve_past(n);
        Ok(n)
    }

    /// The sequence file, for an error that tells the operator where to look.
    pub(crate) fn file(&self) -> Option<PathBuf> {
        let store = self.store.as_ref()?;
        store.lock().ok().map(|path| path.clone())
    }

    #[cold]
    fn reserve_past(&self, n: u64) {
        let Some(store) = &self.store else { return };
        let Ok(path) = store.lock() else { return };
        if n < self.reserved.load(Ordering::Acquire) {
            return;
        }
        // `n < EXHAUSTED` (see `next`), so this covers `n` even where it saturates: no
        // loop that a saturated end could never get past.
        let reserved = n.saturating_add(BLOCK);
        if let Err(e) = write_atomically(&path, &reservation(reserved, self.start)) {
            // The number is still unique in this process; only a crash before the next
            // successful reservation could make a restart reuse it.
            tracing::error!(path = %path.display(), error = %e, "cannot persist the sequence reservation");
        }
        self.reserved.store(reserved, Ordering::Release);
    }

    /// The numbers a crashed earlier run reserved, once: for the first event of this
    /// run that goes to some target (see the module docs).
    pub(crate) fn announcement(&self) -> Option<SeqRange> {
        if !self.to_announce.load(Ordering::Relaxed) {
            return None;
        }
        let taken = self.abandoned.lock().ok()?.take();
        self.to_announce.store(false, Ordering::Relaxed);
        taken
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

/// The sequence file as a starting run found it, read but not written yet.
///
/// Reading and reserving are two steps so that a dispatcher can check the file (and
/// refuse garbage) before it builds its targets, yet write its reservation only once
/// every target was built: a build that fails in between (a missing certificate, a bad
/// option) leaves the file as it was. Written at once, the reservation of a run that
/// never started would read as a crash to the next run, which would announce the
/// block as abandoned numbers of a run that never existed. Reserving later keeps the
/// crash-safety: no number is handed out before [`SeqFile::reserve`] made the block
/// durable.
#[derive(Debug)]
pub(crate) struct SeqFile {
    node: String,
    dir: PathBuf,
    path: PathBuf,
    saved: Saved,
}

impl SeqFile {
    /// Reads `<dir>/<node>` (a missing file or folder is a first run); writes nothing.
    pub(crate) fn read(dir: &Path, node: &str) -> std::io::Result<SeqFile> {
        let path = dir.join(node);
        let saved = match fs::read_to_string(&path) {
            Ok(text) => parse(&text).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: not a sequence file ({text:?})", path.display()),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Saved::Next(1),
            Err(e) => return Err(e),
        };
        Ok(SeqFile {
            node: node.to_owned(),
            dir: dir.to_owned(),
            path,
            saved,
        })
    }

    /// Durably reserves this run's first block and starts handing out numbers.
    pub(crate) fn reserve(self) -> std::io::Result<SeqAllocator> {
        let SeqFile {
            node,
            dir,
            path,
            saved,
        } = self;
        let (start, abandoned) = match saved {
            Saved::Next(n) => (n, None),
            Saved::Reserved { upto, from } => {
                let abandoned = from.filter(|f| *f >= 1 && *f < upto).map(|first| SeqRange {
                    first,
                    last: upto - 1,
                });
                (upto, abandoned)
            }
        };
        crate::durable::create_dir_all(&dir)?;
        let reserved = start.saturating_add(BLOCK);
        write_atomically(&path, &reservation(reserved, start))?;
        // Said only now: a run that stops before this point leaves the file (and the
        // announcement) to the next one.
        if let Some(r) = abandoned {
            tracing::warn!(node = %node, first = r.first, last = r.last, "the previous run did not shut down cleanly: its reserved sequence numbers are announced as abandoned with the first event");
        }
        Ok(SeqAllocator {
            next: AtomicU64::new(start),
            reserved: AtomicU64::new(reserved),
            store: Some(Mutex::new(path)),
            start,
            to_announce: AtomicBool::new(abandoned.is_some()),
            abandoned: Mutex::new(abandoned),
        })
    }
}

/// What the sequence file says.
#[derive(Debug, PartialEq, Eq)]
enum Saved {
    /// `next N`: a clean shutdown; continue at N.
    Next(u64),
    /// `reserved R [from S]`: a run (started at S) reserved numbers below R and has
    /// not shut down cleanly (yet). Files of older versions have no `from`.
    Reserved { upto: u64, from: Option<u64> },
}

fn parse(text: &str) -> Option<Saved> {
    let mut words = text.split_whitespace();
    let kind = words.next()?;
    let n: u64 = words.next()?.parse().ok()?;
    let saved = match (kind, words.next(), words.next()) {
        ("next", None, _) => Saved::Next(n),
        ("reserved", None, _) => Saved::Reserved {
            upto: n,
            from: None,
        },
        ("reserved", Some("from"), Some(s)) => Saved::Reserved {
            upto: n,
            from: Some(s.parse().ok()?),
        },
        _ => return None,
    };
    words.next().is_none().then_some(saved)
}

fn reservation(upto: u64, from: u64) -> String {
    format!("reserved {upto} from {from}\n")
}

/// Replaces the sequence file with `text`. When its folder was removed under the
/// running node (a cleanup job's `rm -rf` of the run folder), the folder is created
/// again (durably) and the file written there: without it the next start would number
/// from 1 again, repeating numbers the server already has.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let replace =
        || crate::durable::replace_file(path, &path.with_extension("tmp"), text.as_bytes());
    match replace() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let Some(dir) = path
                .parent()
                .filter(|d| !d.as_os_str().is_empty() && !d.exists())
            else {
                return Err(e);
            };
            crate::durable::create_dir_all(dir)?;
            tracing::warn!(
                folder = %dir.display(),
                "the sequence file's folder was removed while the node was running: it is \
                 created again and the sequence file written there, so that the next start \
                 goes on past the numbers used (whatever else the removed run folder held \
                 is gone)"
            );
            replace()
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_restart_continues_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!((a.next(), a.next(), a.next()), (Ok(1), Ok(2), Ok(3)));
        a.persist_exact();
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(b.next(), Ok(4));
    }

    #[test]
    fn crash_restart_skips_past_the_reservation() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let last = (0..10).map(|_| a.next().unwrap()).last().unwrap();
        drop(a); // no persist_exact: a crash
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert!(b.next().unwrap() > last);
    }

    #[test]
    fn crossing_a_block_reserves_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        a.next.store(BLOCK + 5, Ordering::Relaxed);
        let n = a.next().unwrap();
        let text = fs::read_to_string(dir.path().join("n1")).unwrap();
        let Some(Saved::Reserved { upto, from }) = parse(&text) else {
            panic!("{text}")
        };
        assert!(upto > n, "{text}");
        assert_eq!(from, Some(1));
    }

    #[test]
    fn a_crashed_run_is_announced_once_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(a.announcement(), None);
        assert_eq!((a.next(), a.next()), (Ok(1), Ok(2)));
        a.persist_exact();
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(b.announcement(), None, "a clean restart abandons nothing");
        assert_eq!(b.next(), Ok(3));
        drop(b); // a crash: no persist_exact
        let c = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let first = c.next().unwrap();
        assert_eq!(
            c.announcement(),
            Some(SeqRange {
                first: 3,
                last: first - 1
            })
        );
        assert_eq!(c.announcement(), None, "announced once");
        // An older version's file (no `from`): nothing to announce.
        fs::write(dir.path().join("n2"), "reserved 100\n").unwrap();
        let d = SeqAllocator::persistent(dir.path(), "n2").unwrap();
        assert_eq!((d.next(), d.announcement()), (Ok(100), None));
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

    /// The last numbers: `u64::MAX - 1` is handed out, then every call is refused at
    /// once (no wrap to 0, no endless reservation), also after a restart, which finds
    /// `next 18446744073709551615`.
    #[test]
    fn the_last_number_is_handed_out_once_then_every_call_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("n1"), format!("next {}\n", u64::MAX - 2)).unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(a.next(), Ok(u64::MAX - 2));
        assert_eq!(a.next(), Ok(u64::MAX - 1));
        assert_eq!(a.next(), Err(Exhausted));
        assert_eq!(a.next(), Err(Exhausted), "no wrap past u64::MAX");
        a.persist_exact();
        let text = fs::read_to_string(dir.path().join("n1")).unwrap();
        assert_eq!(text, format!("next {}\n", u64::MAX));
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(b.next(), Err(Exhausted));
        assert_eq!(b.file(), Some(dir.path().join("n1")));
        drop(b); // a crash: `reserved 18446744073709551615 from 18446744073709551615`
        let c = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!((c.next(), c.announcement()), (Err(Exhausted), None));
    }

    #[test]
    fn a_reservation_after_the_folder_was_removed_writes_it_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("run/seq");
        let a = SeqAllocator::persistent(&dir, "n1").unwrap();
        std::fs::remove_dir_all(tmp.path().join("run")).unwrap();
        a.next.store(BLOCK + 5, Ordering::Relaxed);
        let n = a.next().unwrap();
        let text = fs::read_to_string(dir.join("n1")).unwrap();
        assert_eq!(
            parse(&text),
            Some(Saved::Reserved {
                upto: n + BLOCK,
                from: Some(1)
            })
        );
    }

    /// A reservation that crosses into the last block ends at `u64::MAX`, not past it.
    #[test]
    fn a_reservation_in_the_last_block_stops_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        a.next.store(u64::MAX - 3, Ordering::Relaxed);
        assert_eq!(a.next(), Ok(u64::MAX - 3));
        let text = fs::read_to_string(dir.path().join("n1")).unwrap();
        assert_eq!(text, format!("reserved {} from 1\n", u64::MAX));
    }
}
