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
//! That announcement stays in the file until the event carrying it was delivered: a
//! run that stops cleanly, or crashes, before its first event that goes to some target
//! was delivered by every target it went to keeps it as `abandoned F L` after its own
//! `next N` or `reserved R from S`, so the run after it still announces it (a crashed
//! run's range `S..R` joins it: `F..R`, since such a run had no event delivered; should
//! it have had some delivered, by a target the carrying event did not reach yet, the
//! server counts the numbers of `F..L` it never received as missing, as it would
//! without the announcement). Taking the announcement leaves the file as it is: the
//! carrying event is in memory until a target delivers it, and a crash then would
//! otherwise leave `F..L` unannounced, missing on the server. Once every target that
//! took the carrying event delivered it, the file is written without the announcement,
//! so that a later crash does not announce it again (were it announced again, the
//! server would count it once: an announcement is a range, the same one each time).
//!
//! No number is handed out beyond a durable reservation: when writing the next block's
//! reservation fails, the number is refused ([`SeqError::Unreserved`]) and the next
//! call tries again, so a crash never makes a restart repeat a number already used.
//!
//! A reservation covers the numbers *below* its end and no end above `u64::MAX` can be
//! written, so a node numbers its events up to `u64::MAX - 1`: `next 18446744073709551615`
//! means the numbers are used up, and every later emit is refused
//! ([`EmitError::SeqExhausted`](super::EmitError::SeqExhausted)) rather than numbered
//! again from 0 or waiting for a reservation that cannot be made.

/// The folder of a run dir that holds the per-node sequence files (`<run_dir>/seq/<node>`).
/// Its name is also what the event server keeps its destinations' folders out of.
pub const SEQ_FOLDER: &str = "seq";

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::run_folder::{RunFolder, RunFolderError};
use crate::event::SeqRange;
use crate::folder_check::FolderCheck;

const BLOCK: u64 = 1 << 20;

/// The first number never handed out (see the module docs).
const EXHAUSTED: u64 = u64::MAX;

/// Why no number was handed out.
#[derive(Debug)]
pub(crate) enum SeqError {
    /// No number is left: the allocator is at [`EXHAUSTED`].
    Exhausted,
    /// The reservation that would cover the number could not be written to `file`.
    Unreserved {
        file: PathBuf,
        source: std::io::Error,
    },
    /// The run folder's lock is no longer the one this node took, and the folder was
    /// not taken back (see `run_folder.rs`).
    RunFolder(RunFolderError),
}

/// What the file holds besides the run's own numbers: the numbers of crashed earlier
/// runs that no event announced yet.
type Pending = Option<SeqRange>;

/// Hands out strictly increasing numbers, from any thread.
#[derive(Debug)]
pub(crate) struct SeqAllocator {
    next: AtomicU64,
    /// Numbers below this are covered by a durable reservation.
    reserved: AtomicU64,
    store: Option<Mutex<Store>>,
    /// The first number of this run not known to be on an event: the file's `from`,
    /// the start of what a crash leaves to be announced as abandoned. It is moved up
    /// past the numbers of events this run reported lost ([`SeqAllocator::lost`]).
    from: AtomicU64,
    /// The numbers a crashed earlier run reserved, until the event announcing them
    /// was delivered.
    abandoned: Mutex<Option<SeqRange>>,
    to_announce: AtomicBool,
    /// The event carrying the announcement, until every target it went to delivered it.
    carrier: Mutex<Option<Carrier>>,
    /// The graceful shutdown recorded the exact next number.
    stopped: AtomicBool,
    /// The locked run folder, checked before numbers are handed out (see
    /// `run_folder.rs`).
    run: Option<Arc<RunFolder>>,
}

/// The event that carries the announcement, and how many targets are yet to deliver it.
#[derive(Debug, Clone, Copy)]
struct Carrier {
    seq: u64,
    range: SeqRange,
    targets_left: usize,
}

/// The sequence file and what this run last wrote there.
#[derive(Debug)]
struct Store {
    path: PathBuf,
    /// Another text in the file means another process wrote it (see
    /// [`SeqAllocator::take_back`]).
    written: String,
    /// The check of the folder the run folder lives in (see [`crate::folder_check`]),
    /// asked before each write: [`write_atomically`] makes the file's folder again
    /// when it is gone, which must not bring back a data folder moved away.
    folder_check: Option<Arc<dyn FolderCheck>>,
}

impl Store {
    /// Replaces the file with `text` (see [`write_atomically`]), unless the folder
    /// check fails ([`crate::FolderGone`], as the I/O error's source).
    fn write(&mut self, text: String) -> std::io::Result<()> {
        crate::folder_check::ask(self.folder_check.as_deref())?;
        self.written = write_atomically(&self.path, &text)?;
        Ok(())
    }
}

impl SeqAllocator {
    /// Starts at 1, nothing persisted (tests, embedding without a run folder).
    pub(crate) fn in_memory() -> SeqAllocator {
        SeqAllocator {
            next: AtomicU64::new(1),
            reserved: AtomicU64::new(u64::MAX),
            store: None,
            from: AtomicU64::new(1),
            abandoned: Mutex::new(None),
            to_announce: AtomicBool::new(false),
            carrier: Mutex::new(None),
            stopped: AtomicBool::new(false),
            run: None,
        }
    }

    /// Asks `check` before each write of the sequence file (see
    /// [`crate::folder_check`]).
    pub(crate) fn with_folder_check(self, check: Option<Arc<dyn FolderCheck>>) -> SeqAllocator {
        if let Some(store) = &self.store {
            store.lock().unwrap_or_else(|e| e.into_inner()).folder_check = check;
        }
        self
    }

    /// Checks that `run`'s lock is still the folder's before numbers are handed out.
    pub(crate) fn with_run_folder(mut self, run: Arc<RunFolder>) -> SeqAllocator {
        self.run = Some(run);
        self
    }

    /// Makes sure the run folder is still this node's, taking it back when its lock
    /// file went (see `run_folder.rs`): by the run folder's thread, emits that find it
    /// not held, each reservation and the shutdown's write.
    pub(crate) fn check_run_folder(&self) -> Result<(), SeqError> {
        let mut store = self
            .store
            .as_ref()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()));
        self.check_run_folder_with(store.as_deref_mut())
    }

    /// [`Self::check_run_folder`] with the store already locked.
    fn check_run_folder_with(&self, store: Option<&mut Store>) -> Result<(), SeqError> {
        let Some(run) = &self.run else { return Ok(()) };
        run.check(|_folder_was_gone| match store {
            Some(store) => self.take_back(store),
            None => Ok(()),
        })
        .map_err(SeqError::RunFolder)
    }

    /// The sequence file's part of taking the run folder back: when it holds another
    /// text than this run wrote last, another process numbered this node's events from
    /// this folder meanwhile (it started while the lock file was gone, and has ended:
    /// the lock was free): this run goes on past the numbers that file covers, so that
    /// no later number is given twice, and takes over the announcement of a crashed
    /// run's numbers it holds. Then the file is written again (also when it went with
    /// the folder: a crash would otherwise let the next start number from 1 again).
    fn take_back(&self, store: &mut Store) -> std::io::Result<()> {
        let found = match crate::regular_file::read_to_string(&store.path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        let mut reserved = self.reserved.load(Ordering::Acquire);
        if let Some(text) = found.filter(|t| *t != store.written) {
            let ours = self.next.load(Ordering::Acquire);
            // A file that is not a sequence file is written over with this run's.
            if let Some((theirs, abandoned)) = parse(&text).map(resume_point) {
                if theirs > ours {
                    self.next.fetch_max(theirs, Ordering::AcqRel);
                    reserved = reserved.max(theirs.saturating_add(BLOCK));
                }
                let mut pending = self.abandoned.lock().unwrap_or_else(|e| e.into_inner());
                if pending.is_none() && abandoned.is_some() {
                    *pending = abandoned;
                    self.to_announce.store(true, Ordering::Relaxed);
                }
            }
            tracing::error!(
                file = %store.path.display(),
                found = %text.trim(),
                next = self.next.load(Ordering::Acquire),
                "another process numbered this node's events from this run folder while \
                 its lock file was gone (removed under this node): the numbers it gave out \
                 that this node had given out before may be on two different events (the \
                 event server reports them as seqReused); this node goes on past both"
            );
        }
        let text = reservation(reserved, self.from(), self.pending());
        store.write(text)?;
        self.reserved.store(reserved, Ordering::Release);
        Ok(())
    }

    /// Resumes from `<dir>/<node>`: [`SeqFile::read`], then [`SeqFile::reserve`].
    #[cfg(test)]
    pub(crate) fn persistent(dir: &Path, node: &str) -> Result<SeqAllocator, SeqSetupError> {
        SeqFile::read(dir, node)?.reserve()
    }

    pub(crate) fn next(&self) -> Result<u64, SeqError> {
        // One atomic load per emit: the run folder's thread does the `stat`s, and
        // clears this as soon as it finds the lock file gone.
        if self.run.as_ref().is_some_and(|r| !r.seems_held()) {
            self.check_run_folder()?;
        }
        loop {
            let reserved = self.reserved.load(Ordering::Acquire);
            // Not `fetch_add`: past `u64::MAX` it wraps and would hand out 0, 1, ...
            // again; and a number at or above the durable reservation is not handed
            // out before that reservation was written.
            match self
                .next
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                    (n < EXHAUSTED && n < reserved).then(|| n + 1)
                }) {
                Ok(n) => return Ok(n),
                Err(n) if n == EXHAUSTED => return Err(SeqError::Exhausted),
                Err(_) => self.reserve_past()?,
            }
        }
    }

    /// The sequence file, for an error that tells the operator where to look.
    pub(crate) fn file(&self) -> Option<PathBuf> {
        let store = self.store.as_ref()?;
        store.lock().ok().map(|s| s.path.clone())
    }

    /// Durably reserves the block from the next number on, unless another thread did.
    #[cold]
    fn reserve_past(&self) -> Result<(), SeqError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
        // A new block is taken only in a folder this node still holds.
        self.check_run_folder_with(Some(&mut store))?;
        let n = self.next.load(Ordering::Relaxed);
        if n < self.reserved.load(Ordering::Acquire) || n == EXHAUSTED {
            return Ok(());
        }
        // `n < EXHAUSTED`, so this covers `n` even where it saturates: no loop that a
        // saturated end could never get past.
        let reserved = n.saturating_add(BLOCK);
        let text = reservation(reserved, self.from(), self.pending());
        store.write(text).map_err(|source| {
            tracing::error!(path = %store.path.display(), error = %source, "cannot persist the sequence reservation: events are refused until it can be written");
            SeqError::Unreserved {
                file: store.path.clone(),
                source,
            }
        })?;
        self.reserved.store(reserved, Ordering::Release);
        Ok(())
    }

    /// The announcement not taken yet, which every write of the file keeps.
    fn pending(&self) -> Pending {
        *self.abandoned.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The numbers a crashed earlier run reserved, once: for the first event of this
    /// run that goes to some target, numbered `seq`, which `targets` targets took (see
    /// the module docs). The file keeps them until [`SeqAllocator::delivered`] heard
    /// from every one of those targets.
    pub(crate) fn announcement(&self, seq: u64, targets: usize) -> Option<SeqRange> {
        // A load first: the flag is set at most once a run, and a swap on every emit
        // would write its cache line each time (a read-modify-write), where a load
        // leaves it shared. The swap still decides which emit takes it.
        if !self.to_announce.load(Ordering::Relaxed)
            || !self.to_announce.swap(false, Ordering::Relaxed)
        {
            return None;
        }
        let range = self.pending()?;
        *self.carrier.lock().unwrap_or_else(|e| e.into_inner()) = Some(Carrier {
            seq,
            range,
            targets_left: targets,
        });
        Some(range)
    }

    /// A target delivered the event numbered `seq` that announces `range`. Once every
    /// target that took the event carrying this run's announcement delivered it, the
    /// file is written without the announcement. If that write fails, the file keeps
    /// it: a later run announces it again, which the server counts once.
    pub(crate) fn delivered(&self, seq: u64, range: SeqRange) {
        let mut carrier = self.carrier.lock().unwrap_or_else(|e| e.into_inner());
        let Some(c) = carrier
            .as_mut()
            .filter(|c| c.seq == seq && c.range == range)
        else {
            return;
        };
        c.targets_left = c.targets_left.saturating_sub(1);
        if c.targets_left > 0 {
            return;
        }
        *carrier = None;
        let mut store = self
            .store
            .as_ref()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()));
        // Checked now, not by the watcher's last look (up to its period old): another
        // process that locked the folder meanwhile would otherwise find this run's
        // reservation in its own sequence file, and after a crash of its own number
        // from it again. Not written in a folder this node does not hold (a later run
        // of this node announces the numbers again).
        if let Err(e) = self.check_run_folder_with(store.as_deref_mut()) {
            tracing::warn!(error = ?e, "the announcement of abandoned sequence numbers is not recorded as made: the run folder is not this node's any more");
            return;
        }
        let mut abandoned = self.abandoned.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(store) = store.as_deref_mut() {
            // Delivered after the graceful shutdown recorded the next number (a worker
            // draining on a current-thread runtime): the file stays a clean stop's.
            let text = if self.stopped.load(Ordering::Acquire) {
                format!("next {}\n", self.next.load(Ordering::Acquire))
            } else {
                reservation(self.reserved.load(Ordering::Acquire), self.from(), None)
            };
            if let Err(e) = store.write(text) {
                tracing::error!(path = %store.path.display(), error = %e, "cannot record that the abandoned sequence numbers were announced: a later run announces them again");
                return;
            }
        }
        *abandoned = None;
    }

    fn from(&self) -> u64 {
        self.from.load(Ordering::Acquire)
    }

    /// An event numbered `seq` was lost (reported `EVENT LOST`). Numbers handed out are
    /// on events, so the file's `from` is moved up to the next number: should this run
    /// crash, the next one announces only the numbers above it as abandoned, and the
    /// server counts the lost ones missing. A loss is never announced as an
    /// abandonment. One write per loss past the recorded `from` (a batch lost at once
    /// is one call with its highest `seq`). If the write fails too, an `ERROR` says
    /// what a crash would then announce; a clean stop still records the exact next
    /// number.
    pub(crate) fn lost(&self, seq: u64) {
        let Some(store) = &self.store else { return };
        if seq < self.from() {
            return;
        }
        let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
        if self.stopped.load(Ordering::Acquire) || seq < self.from() {
            return;
        }
        // Never into another process's sequence file (see `persist_exact`).
        if let Err(e) = self.check_run_folder_with(Some(&mut store)) {
            tracing::warn!(path = %store.path.display(), error = ?e, "that events were lost is not recorded in the sequence file: the run folder is not this node's any more");
            return;
        }
        // Every number below `next` was handed out (whatever `seq` is: a re-sent event
        // keeps its node's number), so this is true of any call; and it is at most the
        // reservation's end: at the end, `reserved R from R`, a crash announces nothing.
        let from = self.next.load(Ordering::Acquire);
        if from <= self.from() {
            return;
        }
        let reserved = self.reserved.load(Ordering::Acquire);
        match store.write(reservation(reserved, from, self.pending())) {
            Ok(()) => {
                self.from.fetch_max(from, Ordering::AcqRel);
            }
            Err(e) => {
                tracing::error!(path = %store.path.display(), error = %e, lost_seq = seq,
                    "cannot record in the sequence file that events were lost: should this run crash, the next one announces their numbers as abandoned, not missing");
            }
        }
    }

    /// Records the exact next number (graceful shutdown), and the announcement if no
    /// event took it.
    pub(crate) fn persist_exact(&self) {
        let Some(store) = &self.store else { return };
        let mut store = store.lock().unwrap_or_else(|e| e.into_inner());
        // Never into the sequence file of another process that holds the folder now:
        // it would make the next start repeat that process's numbers.
        if let Err(SeqError::RunFolder(e)) = self.check_run_folder_with(Some(&mut store)) {
            tracing::warn!(path = %store.path.display(), error = %e, "the next sequence number is not recorded: the run folder is not this node's any more");
            return;
        }
        let next = self.next.load(Ordering::Acquire);
        self.stopped.store(true, Ordering::Release);
        let text = format!("next {next}{}\n", pending_words(self.pending()));
        if let Err(e) = store.write(text) {
            tracing::warn!(path = %store.path.display(), error = %e, "cannot record the next sequence number; the next start leaves a gap");
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

/// The sequence file cannot be read, is not one, or its first reservation cannot be
/// written: each names the file (or the folder it is created in) and keeps the OS
/// error as its source.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeqSetupError {
    /// The file cannot be read or written (its tmp file included, see
    /// [`crate::durable::replace_file`]).
    #[error("sequence file {}", crate::path_and_error(path, source))]
    File {
        /// The sequence file.
        path: PathBuf,
        /// The OS error (or [`crate::regular_file::NotRegularFile`]).
        #[source]
        source: std::io::Error,
    },
    /// The file holds something else than a sequence file's line.
    #[error("sequence file {}: not a sequence file ({found:?})", path.display())]
    NotASequenceFile {
        /// The sequence file.
        path: PathBuf,
        /// What it holds.
        found: String,
    },
    /// The folder of the sequence files cannot be created.
    #[error("sequence file folder {}", crate::path_and_error(path, source))]
    Folder {
        /// The folder.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl SeqFile {
    /// Reads `<dir>/<node>` (a missing file or folder is a first run); writes nothing.
    pub(crate) fn read(dir: &Path, node: &str) -> Result<SeqFile, SeqSetupError> {
        let path = dir.join(node);
        let saved = match crate::regular_file::read_to_string(&path) {
            Ok(text) => match parse(&text) {
                Some(saved) => saved,
                None => return Err(SeqSetupError::NotASequenceFile { path, found: text }),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Saved::Next {
                next: 1,
                pending: None,
            },
            Err(source) => return Err(SeqSetupError::File { path, source }),
        };
        Ok(SeqFile {
            node: node.to_owned(),
            dir: dir.to_owned(),
            path,
            saved,
        })
    }

    /// Durably reserves this run's first block and starts handing out numbers.
    pub(crate) fn reserve(self) -> Result<SeqAllocator, SeqSetupError> {
        let SeqFile {
            node,
            dir,
            path,
            saved,
        } = self;
        let (start, abandoned) = resume_point(saved);
        crate::durable::create_dir_all(&dir)
            .map_err(|source| SeqSetupError::Folder { path: dir, source })?;
        let reserved = start.saturating_add(BLOCK);
        let mut store = Store {
            path,
            written: String::new(),
            folder_check: None,
        };
        if let Err(source) = store.write(reservation(reserved, start, abandoned)) {
            return Err(SeqSetupError::File {
                path: store.path,
                source,
            });
        }
        // Said only now: a run that stops before this point leaves the file (and the
        // announcement) to the next one.
        if let Some(r) = abandoned {
            tracing::warn!(node = %node, first = r.first, last = r.last, "the previous run did not shut down cleanly: its reserved sequence numbers are announced as abandoned with the first event");
        }
        Ok(SeqAllocator {
            next: AtomicU64::new(start),
            reserved: AtomicU64::new(reserved),
            store: Some(Mutex::new(store)),
            from: AtomicU64::new(start),
            to_announce: AtomicBool::new(abandoned.is_some()),
            abandoned: Mutex::new(abandoned),
            carrier: Mutex::new(None),
            stopped: AtomicBool::new(false),
            run: None,
        })
    }
}

/// Where a run that finds `saved` starts, and the numbers of a crashed run it announces.
fn resume_point(saved: Saved) -> (u64, Pending) {
    match saved {
        Saved::Next { next, pending } => (next, pending),
        Saved::Reserved {
            upto,
            from,
            pending,
        } => {
            let crashed = from.filter(|f| *f >= 1 && *f < upto).map(|first| SeqRange {
                first,
                last: upto - 1,
            });
            // A crashed run that still held an announcement had no event delivered:
            // its numbers follow the announced ones, and one range covers both. Not
            // when it recorded lost events (its `from` moved up past them): only one
            // range can be announced, and the numbers between were on events, so the
            // older announcement is kept and the crashed run's unused numbers are left
            // to count as missing (a false abandonment would hide the lost events).
            let abandoned = match (pending, crashed) {
                (Some(p), Some(c)) if c.first <= p.last.saturating_add(1) => Some(SeqRange {
                    first: p.first.min(c.first),
                    last: p.last.max(c.last),
                }),
                (Some(p), Some(_)) => Some(p),
                (p, c) => p.or(c),
            };
            (upto, abandoned)
        }
    }
}

/// What the sequence file says.
#[derive(Debug, PartialEq, Eq)]
enum Saved {
    /// `next N [abandoned F L]`: a clean shutdown; continue at N (and announce `F..=L`,
    /// which no event of that run took).
    Next { next: u64, pending: Pending },
    /// `reserved R [from S [abandoned F L]]`: a run (started at S) reserved numbers
    /// below R and has not shut down cleanly (yet), holding the announcement of
    /// `F..=L`. Files of older versions have no `from`.
    Reserved {
        upto: u64,
        from: Option<u64>,
        pending: Pending,
    },
}

/// Every line an earlier version wrote still reads the same: `abandoned F L` is only
/// ever added at the end.
fn parse(text: &str) -> Option<Saved> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let num = |w: &str| w.parse::<u64>().ok();
    let range = |first: &str, last: &str| {
        let (first, last) = (num(first)?, num(last)?);
        (1 <= first && first <= last).then_some(SeqRange { first, last })
    };
    Some(match words.as_slice() {
        ["next", n] => Saved::Next {
            next: num(n)?,
            pending: None,
        },
        ["next", n, "abandoned", f, l] => Saved::Next {
            next: num(n)?,
            pending: Some(range(f, l)?),
        },
        ["reserved", r] => Saved::Reserved {
            upto: num(r)?,
            from: None,
            pending: None,
        },
        ["reserved", r, "from", s] => Saved::Reserved {
            upto: num(r)?,
            from: Some(num(s)?),
            pending: None,
        },
        ["reserved", r, "from", s, "abandoned", f, l] => Saved::Reserved {
            upto: num(r)?,
            from: Some(num(s)?),
            pending: Some(range(f, l)?),
        },
        _ => return None,
    })
}

fn reservation(upto: u64, from: u64, pending: Pending) -> String {
    format!("reserved {upto} from {from}{}\n", pending_words(pending))
}

fn pending_words(pending: Pending) -> String {
    pending.map_or_else(String::new, |r| {
        format!(" abandoned {} {}", r.first, r.last)
    })
}

/// Replaces the sequence file with `text`. When its folder was removed under the
/// running node (a cleanup job's `rm -rf` of the run folder), the folder is created
/// again (durably) and the file written there: without it the next start would number
/// from 1 again, repeating numbers the server already has.
///
/// On a full disk (`ENOSPC`, `EDQUOT`) the file is written over in place instead
/// ([`overwrite_in_place`]), which needs no new block. Without it a run that filled its
/// run folder (spooling, dead-lettering) could not record its clean stop: the file kept
/// `reserved R from S`, the next run took it for a crash and announced every number of
/// the run as abandoned, those of the events it had reported lost included, and the
/// event server counted them as abandoned, not missing.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<String> {
    match replace_or_create_folder(path, text) {
        Ok(()) => Ok(text.to_owned()),
        Err(e) if crate::durable::is_disk_full(&e) => match overwrite_in_place(path, text) {
            Ok(written) => Ok(written),
            Err(in_place) => {
                tracing::debug!(path = %path.display(), error = %in_place, "the sequence file cannot be written over in place either");
                Err(e)
            }
        },
        Err(e) => Err(e),
    }
}

/// Writes `text` over the sequence file's own bytes, padded with spaces to at least
/// the file's length (a reader splits on whitespace), and syncs. A crash part way must
/// not leave a line that reads as a lower number than one already used, so the first
/// byte goes last: it is first made `#` (no sequence file starts so, and a start
/// refuses the file, naming it, rather than guess), then the rest is written and
/// synced, then the first byte of `text`. At every point the file reads as before, as
/// `text`, or as no sequence file.
fn overwrite_in_place(path: &Path, text: &str) -> std::io::Result<String> {
    use std::io::{Seek, SeekFrom, Write};
    let mut f = crate::no_follow::open(std::fs::OpenOptions::new().read(true).write(true), path)?;
    let len = usize::try_from(f.metadata()?.len()).unwrap_or(usize::MAX);
    if len == 0 {
        // No block of its own to write over: the atomic write's error stands.
        return Err(std::io::Error::other("the sequence file is empty"));
    }
    let line = text.trim_end_matches('\n');
    let mut bytes = line.as_bytes().to_vec();
    bytes.resize(len.max(line.len() + 1) - 1, b' ');
    bytes.push(b'\n');
    let mut write_at = |at: u64, part: &[u8]| -> std::io::Result<()> {
        f.seek(SeekFrom::Start(at))?;
        f.write_all(part)?;
        f.sync_data()
    };
    write_at(0, b"#")?;
    write_at(1, &bytes[1..])?;
    write_at(0, &bytes[..1])?;
    tracing::warn!(path = %path.display(), "the disk is full: the sequence file was written over in place");
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// [`crate::durable::replace_file`], creating the folder again if it was removed (the
/// caller asked the folder check first: see [`Store::write`]).
fn replace_or_create_folder(path: &Path, text: &str) -> std::io::Result<()> {
    let replace =
        || crate::durable::replace_file(path, &crate::durable::tmp_beside(path), text.as_bytes());
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
    use crate::folder_lock::FolderLock;
    use std::fs;

    /// A persisted allocator of node `n1` in `run`, checking its run folder's lock.
    fn with_run_folder(run: &Path) -> SeqAllocator {
        let lock = FolderLock::acquire(run).unwrap();
        SeqFile::read(&run.join("seq"), "n1")
            .unwrap()
            .reserve()
            .unwrap()
            .with_run_folder(Arc::new(RunFolder::new(run, lock)))
    }

    /// The check of a folder by whether it is at its path (a test's stand-in for the
    /// server's data folder check).
    #[derive(Debug)]
    struct AtItsPath(PathBuf);

    impl FolderCheck for AtItsPath {
        fn check(&self) -> Result<(), crate::FolderGone> {
            if self.0.is_dir() {
                return Ok(());
            }
            Err(crate::FolderGone {
                folder: self.0.clone(),
                found: "gone".into(),
            })
        }
    }

    /// The folder holding the run folder moved away as a whole: the run folder (and
    /// with it that folder) is not made again at its path, by the run folder's check
    /// nor by the sequence file's writes; both go on once it is back.
    #[test]
    fn a_run_folder_gone_with_the_folder_holding_it_is_not_made_again() {
        let tmp = tempfile::tempdir().unwrap();
        let data = tmp.path().join("data");
        let run = data.join("run");
        let lock = FolderLock::acquire(&run).unwrap();
        let check: Arc<dyn FolderCheck> = Arc::new(AtItsPath(data.clone()));
        let a = SeqFile::read(&run.join("seq"), "n1")
            .unwrap()
            .reserve()
            .unwrap()
            .with_folder_check(Some(check.clone()))
            .with_run_folder(Arc::new(
                RunFolder::new(&run, lock).with_folder_check(Some(check)),
            ));
        assert_eq!(a.next().ok(), Some(1));
        let moved = tmp.path().join("data.moved");
        fs::rename(&data, &moved).unwrap();
        fs::remove_file(moved.join("run/auditrail.lock")).unwrap();
        assert!(matches!(
            a.check_run_folder(),
            Err(SeqError::RunFolder(RunFolderError::NotTakenBack { .. }))
        ));
        a.persist_exact();
        assert!(!data.exists(), "made again at its path");
        fs::rename(&moved, &data).unwrap();
        a.check_run_folder().unwrap();
        a.persist_exact();
        assert_eq!(fs::read_to_string(run.join("seq/n1")).unwrap(), "next 2\n");
    }

    #[test]
    fn a_run_folder_another_process_locked_meanwhile_hands_out_no_number() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        let a = with_run_folder(&run);
        assert_eq!(a.next().ok(), Some(1));
        fs::remove_file(run.join("auditrail.lock")).unwrap();
        let other = FolderLock::acquire(&run).unwrap();
        let written = fs::read_to_string(run.join("seq/n1")).unwrap();
        assert!(matches!(
            a.check_run_folder(),
            Err(SeqError::RunFolder(RunFolderError::Taken { .. }))
        ));
        assert!(matches!(a.next(), Err(SeqError::RunFolder(_))));
        a.persist_exact();
        assert_eq!(fs::read_to_string(run.join("seq/n1")).unwrap(), written);
        drop(other);
    }

    /// The announcement's carrier delivered while another process holds the folder,
    /// before the watcher looked: that process's sequence file is left alone.
    #[test]
    fn a_delivered_announcement_is_not_recorded_in_a_run_folder_another_process_locked() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        fs::create_dir_all(run.join("seq")).unwrap();
        fs::write(run.join("seq/n1"), "reserved 100 from 10\n").unwrap(); // a crashed run
        let a = with_run_folder(&run);
        let carrier = a.next().unwrap();
        let range = a.announcement(carrier, 1).unwrap();
        fs::remove_file(run.join("auditrail.lock")).unwrap();
        let other = FolderLock::acquire(&run).unwrap();
        fs::write(run.join("seq/n1"), "reserved 9000000 from 8000000\n").unwrap();
        a.delivered(carrier, range);
        assert_eq!(
            fs::read_to_string(run.join("seq/n1")).unwrap(),
            "reserved 9000000 from 8000000\n"
        );
        drop(other);
    }

    #[test]
    fn a_run_folder_taken_back_after_another_process_used_it_numbers_past_its_numbers() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        let a = with_run_folder(&run);
        assert_eq!(a.next().ok(), Some(1));
        fs::remove_file(run.join("auditrail.lock")).unwrap();
        {
            let _other = FolderLock::acquire(&run).unwrap();
            fs::write(run.join("seq/n1"), "next 5000000\n").unwrap();
        }
        a.check_run_folder().unwrap();
        assert_eq!(a.next().ok(), Some(5_000_000));
        a.persist_exact();
        assert_eq!(
            fs::read_to_string(run.join("seq/n1")).unwrap(),
            "next 5000001\n"
        );
    }

    #[test]
    fn a_run_folder_removed_is_taken_back_with_its_sequence_file() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp.path().join("run");
        let a = with_run_folder(&run);
        assert_eq!(a.next().ok(), Some(1));
        fs::remove_dir_all(&run).unwrap();
        a.check_run_folder().unwrap();
        assert!(run.join("auditrail.lock").exists());
        // Written at once: a crash now leaves the next start past this run's numbers.
        let text = fs::read_to_string(run.join("seq/n1")).unwrap();
        assert_eq!(text, format!("reserved {} from 1\n", 1 + BLOCK));
        assert!(matches!(
            FolderLock::acquire(&run),
            Err(crate::folder_lock::FolderLockError::Held { .. })
        ));
        assert_eq!(a.next().ok(), Some(2));
    }

    #[test]
    fn clean_restart_continues_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(
            (a.next().ok(), a.next().ok(), a.next().ok()),
            (Some(1), Some(2), Some(3))
        );
        a.persist_exact();
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(b.next().ok(), Some(4));
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
        let Some(Saved::Reserved { upto, from, .. }) = parse(&text) else {
            panic!("{text}")
        };
        assert!(upto > n, "{text}");
        assert_eq!(from, Some(1));
    }

    #[test]
    fn a_crashed_run_is_announced_once_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(a.announcement(1, 1), None);
        assert_eq!((a.next().ok(), a.next().ok()), (Some(1), Some(2)));
        a.persist_exact();
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(
            b.announcement(3, 1),
            None,
            "a clean restart abandons nothing"
        );
        assert_eq!(b.next().ok(), Some(3));
        drop(b); // a crash: no persist_exact
        let c = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let first = c.next().unwrap();
        assert_eq!(
            c.announcement(first, 1),
            Some(SeqRange {
                first: 3,
                last: first - 1
            })
        );
        assert_eq!(c.announcement(first + 1, 1), None, "announced once");
        // An older version's file (no `from`): nothing to announce.
        fs::write(dir.path().join("n2"), "reserved 100\n").unwrap();
        let d = SeqAllocator::persistent(dir.path(), "n2").unwrap();
        assert_eq!((d.next().ok(), d.announcement(100, 1)), (Some(100), None));
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
        assert_eq!(a.next().ok(), Some(u64::MAX - 2));
        assert_eq!(a.next().ok(), Some(u64::MAX - 1));
        assert!(matches!(a.next(), Err(SeqError::Exhausted)));
        assert!(
            matches!(a.next(), Err(SeqError::Exhausted)),
            "no wrap past u64::MAX"
        );
        a.persist_exact();
        let text = fs::read_to_string(dir.path().join("n1")).unwrap();
        assert_eq!(text, format!("next {}\n", u64::MAX));
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert!(matches!(b.next(), Err(SeqError::Exhausted)));
        assert_eq!(b.file(), Some(dir.path().join("n1")));
        drop(b); // a crash: `reserved 18446744073709551615 from 18446744073709551615`
        let c = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert!(matches!(c.next(), Err(SeqError::Exhausted)));
        assert_eq!(c.announcement(0, 1), None);
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
                from: Some(1),
                pending: None,
            })
        );
    }

    /// A reservation that cannot be written hands out nothing past the durable one:
    /// the call fails naming the file, and the number is handed out once the file can
    /// be written (a directory where the temporary file goes fails for root too).
    #[test]
    fn a_reservation_that_cannot_be_written_hands_out_no_number_past_the_durable_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("n1");
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let durable = fs::read_to_string(&file).unwrap();
        a.next.store(BLOCK + 1, Ordering::Relaxed); // the first number past it
        let blocker = crate::durable::tmp_beside(&file);
        fs::create_dir(&blocker).unwrap();
        for _ in 0..2 {
            match a.next() {
                Err(SeqError::Unreserved { file: f, .. }) => assert_eq!(f, file),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(fs::read_to_string(&file).unwrap(), durable);
        fs::remove_dir(&blocker).unwrap();
        assert_eq!(a.next().ok(), Some(BLOCK + 1), "no number was used up");
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            format!("reserved {} from 1\n", 2 * BLOCK + 1)
        );
    }

    /// The announcement of a crashed run stays in the file through a clean stop and a
    /// crash of runs that took no event, and leaves it once every target that took the
    /// event carrying it delivered it.
    #[test]
    fn the_announcement_stays_in_the_file_until_the_event_carrying_it_was_delivered() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("n1");
        fs::write(&file, "reserved 100 from 10\n").unwrap(); // a crashed run
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        a.persist_exact(); // stops before its first event
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            "next 100 abandoned 10 99\n"
        );
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let upto = 100 + BLOCK;
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            format!("reserved {upto} from 100 abandoned 10 99\n")
        );
        drop(b); // crashes before its first event
        let c = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        assert_eq!(c.next().ok(), Some(upto));
        let whole = SeqRange {
            first: 10,
            last: upto - 1,
        };
        // Taken by an event that goes to two targets: the file keeps it until both
        // delivered it.
        assert_eq!(c.announcement(upto, 2), Some(whole));
        let kept = format!(
            "reserved {} from {upto} abandoned 10 {}\n",
            upto + BLOCK,
            upto - 1
        );
        assert_eq!(fs::read_to_string(&file).unwrap(), kept);
        c.delivered(upto, whole);
        assert_eq!(fs::read_to_string(&file).unwrap(), kept);
        c.delivered(upto, whole);
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            format!("reserved {} from {upto}\n", upto + BLOCK)
        );
        c.persist_exact();
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            format!("next {}\n", upto + 1)
        );
        // A carrying event delivered after the graceful shutdown leaves a clean stop's
        // file.
        fs::write(&file, "next 100 abandoned 10 99\n").unwrap();
        let d = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let first = d.next().unwrap();
        let range = d.announcement(first, 1).unwrap();
        d.persist_exact();
        assert_eq!(
            fs::read_to_string(&file).unwrap(),
            "next 101 abandoned 10 99\n"
        );
        d.delivered(first, range);
        assert_eq!(fs::read_to_string(&file).unwrap(), "next 101\n");
    }

    /// A run that took the announcement and crashed before its carrying event was
    /// delivered anywhere leaves it in the file: the next run announces it again.
    #[test]
    fn an_announcement_whose_event_was_not_delivered_is_announced_again_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("n1"), "reserved 100 from 10\n").unwrap(); // a crashed run
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let carrier = a.next().unwrap();
        let taken = a.announcement(carrier, 1);
        assert_eq!(
            taken,
            Some(SeqRange {
                first: 10,
                last: 99
            })
        );
        drop(a); // crashes before the event carrying it was delivered
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let first = b.next().unwrap();
        // The crashed run's own numbers join it (it delivered nothing).
        let whole = SeqRange {
            first: 10,
            last: first - 1,
        };
        assert_eq!(b.announcement(first, 1), Some(whole));
        // Delivered, then a crash: the next run announces only the numbers of the run
        // that crashed.
        b.delivered(first, whole);
        drop(b);
        let c = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let next = c.next().unwrap();
        assert_eq!(
            c.announcement(next, 1),
            Some(SeqRange {
                first,
                last: next - 1
            })
        );
    }

    /// Events reported lost, then a crash: the next run announces only the numbers
    /// above those handed out before the loss, so the lost ones count as missing.
    #[test]
    fn numbers_of_lost_events_are_not_announced_as_abandoned_after_a_crash() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let numbers: Vec<u64> = (0..10).map(|_| a.next().unwrap()).collect();
        a.lost(numbers[4]);
        a.lost(numbers[3]); // already covered: nothing written
        assert_eq!(
            fs::read_to_string(dir.path().join("n1")).unwrap(),
            format!("reserved {} from 11\n", 1 + BLOCK)
        );
        drop(a); // a crash
        let b = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        let first = b.next().unwrap();
        assert_eq!(
            b.announcement(first, 1),
            Some(SeqRange {
                first: 11,
                last: first - 1
            })
        );
        // A run that still held an older announcement, lost events and crashed: the
        // older announcement alone, never one range over the lost numbers.
        let c = first + 3;
        fs::write(
            dir.path().join("n2"),
            format!("reserved {} from {c} abandoned 10 {}\n", c + 50, first - 1),
        )
        .unwrap();
        let d = SeqAllocator::persistent(dir.path(), "n2").unwrap();
        let next = d.next().unwrap();
        assert_eq!(
            d.announcement(next, 1),
            Some(SeqRange {
                first: 10,
                last: first - 1
            })
        );
    }

    /// A reservation that crosses into the last block ends at `u64::MAX`, not past it.
    #[test]
    fn a_reservation_in_the_last_block_stops_at_the_end() {
        let dir = tempfile::tempdir().unwrap();
        let a = SeqAllocator::persistent(dir.path(), "n1").unwrap();
        a.next.store(u64::MAX - 3, Ordering::Relaxed);
        assert_eq!(a.next().ok(), Some(u64::MAX - 3));
        let text = fs::read_to_string(dir.path().join("n1")).unwrap();
        assert_eq!(text, format!("reserved {} from 1\n", u64::MAX));
    }
}
