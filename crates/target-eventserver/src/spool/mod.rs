//! The crash-safe spool: an append-only log of checksummed event records in segment
//! files, with a persisted acknowledgement position.
//!
//! Layout of the spool folder:
//! - `<20-digit id>.seg`: segment files, appended in id order; a new one is started once
//!   the current one reaches `segment_bytes`.
//! - `ack`: `<segment id> <offset>` of the first record the server has not yet
//!   acknowledged. Written by rename, not fsynced: losing it only means resending
//!   events that the server then recognises as duplicates. Except before segments
//!   are deleted (while running, and at open for those a crash left): then it is
//!   fsynced first, so that no crash brings it back before a deleted segment (which
//!   would look lost, see `newest.rs`). A position this spool
//!   never reached is not followed (see `ack.rs`): nothing is deleted or skipped for it.
//! - `newest`: the id of the newest segment file created (see `newest.rs`), so that a
//!   segment deleted or moved away between runs is reported, not taken as an empty
//!   spool.
//! - `lengths`: the length of each segment the spool finished writing (see
//!   `lengths.rs`), so that a segment cut in place between runs is reported, not taken
//!   as a crash's torn tail.
//! - `lost.jsonl`: one line per loss of segment files that went away or were cut in
//!   place by hand (see [`gone`] and `cut.rs`).
//! - `<id>-<offset>.seg.corrupt`: damaged bytes found in segment `<id>` at `<offset>`,
//!   copied aside for the operator (see [`damage`]); older versions set whole segments
//!   aside as `<id>.seg.corrupt`.
//!
//! - `auditrail.lock`: held by the process that has the spool open (see
//!   [`Spool::open`]); taken again, with the folder, when the folder is removed under
//!   a running spool (see `folder_gone.rs`).
//!
//! Before each append, the head segment is checked to be still the file at its path
//! (same file, as long as the spool wrote it; see [`gone`] and `cut.rs`), and the
//! same check runs again after the records are written (and fsynced): a segment
//! removed, moved aside or cut, or the folder removed, *while* they were written holds
//! them where no reader finds them. Then they do not count: the file is cut back to
//! what it held before (never lengthened), the head is handled as the check before
//! an append handles it, and the records are written again (into a new segment, unless
//! a cut took only some of them: then the head is as it was), at most `MAX_REWRITES`
//! times; then the append fails, nothing of it kept
//! ([`SpoolError::WrittenSegmentGone`]).
//!
//! A full disk (`ENOSPC`, `EDQUOT`) while appending is met by freeing what the spool
//! holds for records the server has already acknowledged: the delivered segments,
//! the head too when it is wholly acknowledged (it is otherwise kept until it reaches
//! `segment_bytes`, so a spool file system smaller than that filled up with delivered
//! records and refused every append for ever). The failed write is cut back first, as
//! any failed write, and the records are written again once, into a new segment. Only
//! when nothing acknowledged can be freed does the append fail
//! ([`SpoolError::DiskFull`]); nothing unacknowledged is ever given up for room.
//!
//! Damage is handled per record: bytes that hold no valid record are skipped by
//! resynchronising on the next valid record (length and checksum, see
//! [`record::resync`]), so every intact record before and after them is delivered;
//! the skipped bytes are kept in a side file, logged and counted. Opening cuts a torn
//! tail (bytes with no valid record after them at the end of the newest segment: a
//! crash during a write). Opening never fails on bad content, only on I/O errors.
//!
//! [`scan`] is the one walker over segment bytes, shared by the repair at open, the
//! reader, and the read-only [`inspect`] behind `auditrail spool`.
//!
//! All methods block (file I/O): call them from `spawn_blocking`.

mod ack;
mod cut;
pub mod damage;
pub mod file_records;
mod folder_gone;
pub mod gone;
#[cfg(test)]
mod gone_while_written;
pub mod inspect;
mod lengths;
mod longer;
#[cfg(test)]
mod longer_race_tests;
#[cfg(test)]
mod lost_record_race_tests;
mod newest;
mod not_a_spool;
mod reader;
pub mod record;
mod repair;
pub mod scan;
#[cfg(test)]
mod short_record_refused;
mod state;
mod synced;

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use auditrail_core::durable::{is_disk_full, why_not_at, Expected, NotAt};
use auditrail_core::FolderLock;
use thiserror::Error;

use crate::metrics::Metrics;
pub use reader::{SpoolReader, SpooledBatch};
pub use state::Position;
use state::{FileId, Segment, State};
use synced::{check_written, cut_head_back, durable_at_open, write_after_cut, write_head};

/// When the spool fsyncs appended records.
pub use crate::config::SpoolFsync;

/// How many times records are written again after the segment they were written to
/// was found no longer the spool's file at its path (see [`Spool::append`]). Each time
/// is another program's removal, move or cut racing the append; more than a few in a
/// row mean something keeps doing it, and the append fails rather than loop.
const MAX_REWRITES: u32 = 3;

/// Spool settings.
#[derive(Debug, Clone)]
pub struct SpoolOptions {
    /// The folder.
    pub dir: PathBuf,
    /// Bound on the total size of the segment files.
    pub max_bytes: u64,
    /// Size at which a new segment is started.
    pub segment_bytes: u64,
    /// Fsync policy.
    pub fsync: SpoolFsync,
}

/// Why the spool did not take records.
#[derive(Debug, Error)]
pub enum SpoolError {
    /// No room under `spool_max_bytes`.
    #[error("spool full: {used} of {max} bytes used, {needed} more needed")]
    Full {
        /// Bytes on disk.
        used: u64,
        /// The bound.
        max: u64,
        /// Bytes of the refused records.
        needed: u64,
    },
    /// The records alone are larger than the bound: they can never fit.
    #[error("a batch of {needed} bytes can never fit in the spool (spool_max_bytes = {max})")]
    TooLarge {
        /// Bytes of the refused records.
        needed: u64,
        /// The bound.
        max: u64,
    },
    /// One event's record is longer than a spool record may be ([`record::MAX_PAYLOAD`]):
    /// the reader would take it for damaged bytes. Such an event is not spooled.
    #[error(
        "the event's JSON is {bytes} bytes, more than the {max} bytes of a spool record: \
         it is not spooled (no event server takes a request that large by default, \
         `max_body_bytes` = 16 MiB)"
    )]
    RecordTooLarge {
        /// Bytes of the event's JSON.
        bytes: u64,
        /// The bound.
        max: u64,
    },
    /// One record's payload is shorter than any event's wire form
    /// ([`record::MIN_PAYLOAD`]): the reader would take it for damaged bytes. Only a
    /// hand-built record can be (every event's JSON is an object, `{}` at the least);
    /// it is not spooled.
    #[error(
        "a spool record of {bytes} payload bytes, fewer than the {min} of any event's \
         JSON (`{{}}` at the least): the reader would take it for damaged bytes, so it \
         is not spooled"
    )]
    RecordTooShort {
        /// Bytes of the record's payload.
        bytes: u64,
        /// The bound.
        min: u64,
    },
    /// Another spool, in another process or in this one, has the folder open.
    #[error(
        "spool {} is in use by {holder}: a spool is read, acknowledged and cleaned up by \
         one process at a time, and another one has it open (the node's application, or \
         an `auditrail send` with a node config whose spool is the same folder). Wait \
         until that one ends, or give each node config its own `run_dir` (or \
         `spool_dir`)",
        dir.display()
    )]
    InUse {
        /// The spool folder.
        dir: PathBuf,
        /// Who holds it, as its lock file says (`pid N (program)`).
        holder: String,
    },
    /// The spool folder went with the folder holding it (an event server's data folder
    /// moved away while it runs), whose owner's check ([`auditrail_core::FolderCheck`],
    /// [`Spool::open_checked`]) fails: the spool folder is not made again, which
    /// would bring the moved folder back at its path. The records are not taken (the
    /// caller retries them); the spool goes on once the folder is back.
    #[error("spool folder {} is not made again: {source}", dir.display())]
    FolderGone {
        /// The spool folder.
        dir: PathBuf,
        /// What the check found.
        #[source]
        source: auditrail_core::FolderGone,
    },
    /// Records were written (and fsynced, per policy) to the head segment, and then its
    /// file was found no longer the spool's file at its path: removed, moved aside,
    /// replaced or cut by another program while they were written. Written again into
    /// a new segment each time, this is returned only when it keeps happening; nothing
    /// of the records is kept (the caller sends them again).
    #[error(
        "spool segment {path}: {why} while records were appended to it (found after the \
         write, {} times in a row); the records are not kept",
        MAX_REWRITES + 1
    )]
    WrittenSegmentGone {
        /// The segment file the records were last written to.
        path: PathBuf,
        /// What was found at the path.
        why: NotAt,
    },
    /// The file system of the spool is full (`ENOSPC`, or `EDQUOT`: the user's quota)
    /// and the spool holds nothing acknowledged that it could free: every byte of it
    /// waits for the server. Nothing of the records is kept (the caller sends them
    /// again); the append can go through once the server acknowledges records (their
    /// room is freed then) or room is made on the file system.
    #[error(
        "spool {}: the disk is full ({source}, writing {}): the {needed} bytes of records \
         are not spooled. The spool holds {held} bytes there, {unacked} of them events the \
         server has not acknowledged yet, so it has nothing delivered to free; the append \
         is tried again as the server acknowledges events. Free room on that file system \
         (or set `spool_max_bytes` below its free room)",
        dir.display(),
        path.display()
    )]
    DiskFull {
        /// The spool folder.
        dir: PathBuf,
        /// The file whose write found the disk full.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
        /// Bytes of the refused records.
        needed: u64,
        /// Bytes of the segment files.
        held: u64,
        /// Of those, bytes the server has not acknowledged.
        unacked: u64,
    },
    /// `auditrail spool inspect` was pointed at a folder that holds none of a spool's
    /// files and other things (a spool's parent, the run folder): inspecting it as an
    /// empty spool would say "nothing waits, nothing lost" of a folder that is not one.
    #[error(
        "{} is not a spool folder: it holds none of a spool's files (segments `*.seg`, \
         `ack`, `newest`, `lost.jsonl`){}",
        dir.display(),
        not_a_spool::spools_named(spools)
    )]
    NotASpool {
        /// The folder.
        dir: PathBuf,
        /// The spool folders found up to two levels under it (sorted).
        spools: Vec<PathBuf>,
    },
    /// A spool file read by a tool (`auditrail spool resend`) was truncated and written
    /// again while it was read ([`file_records`]): what it holds from there on is not
    /// what it held, and none of it was taken.
    #[error(
        "spool file {}: {source}: its records from there on were not read (a segment \
         of a running node's spool, cut and appended to by a start of the node? read it \
         again as it is now, or from a copy taken while nothing writes it)",
        path.display()
    )]
    Rewritten {
        /// The file.
        path: PathBuf,
        /// Where and how it differed.
        #[source]
        source: auditrail_core::rewritten::Rewritten,
    },
    /// A spool file read by a tool ended before the length it had when it was opened:
    /// it was cut while read, and its records from there on are gone.
    #[error(
        "spool file {}: cut while read: it ended at byte {at}, and held {len} bytes when \
         it was opened: its records from there on were not read (truncated by hand, or \
         its damaged tail cut by a start of its node?)",
        path.display()
    )]
    Cut {
        /// The file.
        path: PathBuf,
        /// Where it ended.
        at: u64,
        /// Its length when opened.
        len: u64,
    },
    /// A file operation failed (the path is said once when the OS error, explained,
    /// names it already: a spool folder that is a regular file).
    #[error("spool {}", auditrail_core::path_and_error(path, source))]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_owned(),
        source,
    }
}

/// The spool of one target. Shared between `send` (appends) and the sender task
/// (reads, acknowledges).
#[derive(Debug)]
pub struct Spool {
    opts: SpoolOptions,
    state: Mutex<State>,
    metrics: Arc<Metrics>,
    /// The folder's lock, held while the spool is open (taken again when the folder
    /// was removed under it: see `folder_gone.rs`).
    folder_lock: Mutex<FolderLock>,
    /// The check of the folder holding the spool folder, asked before the folder is
    /// taken back (see `folder_gone.rs`); `None` on a node.
    folder_check: Option<Arc<dyn auditrail_core::FolderCheck>>,
    /// The check failed and it was said (once, until the folder is taken back).
    folder_gone_said: std::sync::atomic::AtomicBool,
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("{id:020}.seg"))
}

impl Spool {
    /// Opens (or creates) the spool in `opts.dir`, repairing what a crash left.
    ///
    /// The folder is locked (`auditrail.lock`, see [`FolderLock`]) until the spool is
    /// dropped: a second spool on it, in another process or in this one, is refused
    /// with [`SpoolError::InUse`]. Two spools on one folder would each send the other's
    /// records, acknowledge past them and delete segment files the other still
    /// appends to, losing what it appends afterwards.
    pub fn open(opts: SpoolOptions, metrics: Arc<Metrics>) -> Result<Spool, SpoolError> {
        Spool::open_checked(opts, metrics, None)
    }

    /// [`Self::open`], in a folder held by a folder whose owner gave `check`
    /// ([`auditrail_core::BuildContext::folder_check`]): asked before the spool folder
    /// is created, now or when it was removed under the spool (see `folder_gone.rs`),
    /// so that a folder moved away as a whole (an event server's data folder) is not
    /// made again at its path ([`SpoolError::FolderGone`]).
    pub fn open_checked(
        opts: SpoolOptions,
        metrics: Arc<Metrics>,
        check: Option<Arc<dyn auditrail_core::FolderCheck>>,
    ) -> Result<Spool, SpoolError> {
        if let Some(c) = &check {
            c.check().map_err(|source| SpoolError::FolderGone {
                dir: opts.dir.clone(),
                source,
            })?;
        }
        let mut spool = Spool::open_unchecked(opts, metrics)?;
        spool.folder_check = check;
        Ok(spool)
    }

    fn open_unchecked(opts: SpoolOptions, metrics: Arc<Metrics>) -> Result<Spool, SpoolError> {
        let dir = opts.dir.clone();
        // Before anything in the folder is read or repaired.
        let lock = FolderLock::acquire(&dir).map_err(|e| folder_gone::lock_error(&dir, e))?;
        let said = ack::read(&dir);
        let newest = read_newest(&dir);
        let written = read_lengths(&dir);
        let ids = segment_ids(&dir)?;
        let last = ids.last().copied();
        // Only the newest segment can end in a torn write (the one a crash
        // interrupted), and only after the length recorded for it: the bytes up to
        // there were durable. A file shorter than recorded was cut in place.
        let may_be_torn =
            |id: u64| (Some(id) == last).then(|| written.get(&id).copied().unwrap_or(0));
        // Whether the ack position can be right decides whether the segments before it
        // may be deleted, so its own segment is read first.
        let mut first_checked = None;
        let trusted = match &said {
            ack::AckFile::At(pos) => {
                let seg = if ids.binary_search(&pos.segment).is_ok() {
                    let checked = repair::check_segment(
                        &dir,
                        pos.segment,
                        may_be_torn(pos.segment),
                        pos.offset,
                        &metrics,
                    )?;
                    let seg = checked.as_ref().map(|c| {
                        // A position in the part cut away (see `cut.rs`) was reached
                        // before the cut: the bytes that could tell are gone.
                        let in_cut = written
                            .get(&pos.segment)
                            .filter(|&&w| pos.offset > c.len && pos.offset <= w);
                        ack::AckSegment {
                            len: in_cut.copied().unwrap_or(c.len),
                            boundary: c.at_boundary || in_cut.is_some(),
                        }
                    });
                    first_checked = Some((pos.segment, checked));
                    seg
                } else {
                    None
                };
                match ack::doubt(*pos, &ids, newest, seg) {
                    None => Some(*pos),
                    Some(why) => {
                        let said = format!("{} {}", pos.segment, pos.offset);
                        distrust_ack(&dir, &said, &why, ids.first().copied());
                        None
                    }
                }
            }
            ack::AckFile::Missing if ids.is_empty() => None,
            ack::AckFile::Missing => {
                distrust_ack(
                    &dir,
                    "nothing",
                    "there is no ack file",
                    ids.first().copied(),
                );
                None
            }
            ack::AckFile::Unreadable(what) => {
                distrust_ack(
                    &dir,
                    what,
                    "no `<segment> <offset>` position",
                    ids.first().copied(),
                );
                None
            }
        };
        // A position that cannot be right is damaged: from the oldest segment present.
        let mut ack =
            trusted.unwrap_or_else(|| Position::start_of(ids.first().copied().unwrap_or(0)));
        let mut segments = Vec::new();
        let mut damaged = Vec::new();
        let mut pending = 0;
        let mut cuts = Vec::new();
        // Segments wholly before a trusted ack position were delivered (a crash came
        // between the ack and their deletion): deleted below, once the ack is durable.
        let acked_before = |id: u64| trusted.is_some() && id < ack.segment;
        let may_delete = ids.first().is_some_and(|&id| acked_before(id)) && ack_made_durable(&dir);
        for id in ids {
            let path = segment_path(&dir, id);
            if acked_before(id) {
                if may_delete {
                    fs::remove_file(&path).map_err(io(&path))?;
                }
                continue;
            }
            let pending_from = if id == ack.segment { ack.offset } else { 0 };
            let checked = match first_checked.take() {
                Some((checked_id, checked)) if checked_id == id => checked,
                other => {
                    first_checked = other;
                    repair::check_segment(&dir, id, may_be_torn(id), pending_from, &metrics)?
                }
            };
            let Some(checked) = checked else {
                // Gone since the listing: it counts as missing below.
                continue;
            };
            // The ack position's segment was read before the position was judged: when
            // it was found damaged, all of that segment is pending.
            pending += if trusted.is_some() {
                checked.pending
            } else {
                checked.records
            };
            damaged.extend(checked.damaged.into_iter().map(|d| (id, d)));
            if let Some(&w) = written.get(&id).filter(|&&w| w > checked.len) {
                cuts.push(cut::Cut {
                    id,
                    found: checked.len,
                    written: w,
                });
            }
            // Recorded below: its bytes must be durable first (a crash may have ended
            // the run before they were fsynced).
            let synced = durable_at_open(
                &dir,
                id,
                checked.len,
                checked.file,
                written.get(&id).copied(),
            );
            segments.push(Segment {
                id,
                len: checked.len,
                synced,
                records: checked.records,
                file: checked.file,
            });
        }
        let missing = newest.map(|newest| {
            let present: Vec<u64> = segments.iter().map(|s| s.id).collect();
            let from = first_kept(trusted, &present, newest);
            (newest::missing(&present, from, newest), ack)
        });
        // Segment ids are never used twice: not even those of segments that went away.
        let next_id = last.max(newest).map_or(0, |l| l.saturating_add(1));
        match segments.first() {
            Some(first) if first.id > ack.segment => ack = Position::start_of(first.id),
            None => ack = Position::start_of(ack.segment.max(next_id)),
            _ => {}
        }
        let mut state = State::new(segments, ack, next_id);
        state.pending = pending;
        state.newest = newest;
        metrics.set_spool_bytes(state.total_bytes());
        // Built before anything is written in the folder: every write of the spool's
        // files checks that it holds the folder (`Spool::in_held_folder`).
        let spool = Spool {
            opts,
            state: Mutex::new(state),
            metrics,
            folder_lock: Mutex::new(lock),
            folder_check: None,
            folder_gone_said: std::sync::atomic::AtomicBool::new(false),
        };
        if let Some((missing, ack)) = missing {
            spool.report_missing(missing, ack);
        }
        for c in &cuts {
            spool.report_cut(c, None, cut::unacked_bytes(c, ack));
        }
        {
            let mut st = spool.lock();
            // Every segment there now is finished (appends go to a new one): recorded
            // with its length as found, so that a cut is reported once and a later one
            // found.
            spool.record_lengths(&st);
            if last > newest {
                // A crash came between creating segment `last` and marking it (or the
                // spool is from a version without the mark): mark it now, so that its
                // deletion before the next start is found.
                let id = last.unwrap_or_default();
                match spool.in_held_folder("newest", |dir| newest::write(dir, id)) {
                    Some(Ok(())) => st.newest = last,
                    Some(Err(e)) => {
                        tracing::warn!(path = %newest::path(&dir).display(), error = %e, "cannot write the spool's newest-segment mark: a segment deleted by hand before the next start would not be reported")
                    }
                    None => {}
                }
            }
        }
        for (segment, d) in damaged {
            let at = Position {
                segment,
                offset: d.offset,
            };
            spool.note_damage(at, &d.bytes, &d.reason);
        }
        spool.write_ack(ack, false);
        Ok(spool)
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.opts.dir
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-updated in a way
        // that matters more than stopping: keep going with what is there.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends pre-encoded records (see [`record`]); fsyncs per policy (with
    /// [`SpoolFsync::Always`]: the records, and first the folder when they start a new
    /// segment file). On error nothing of `records` is kept.
    ///
    /// `Ok` only once the records are in the spool's head segment at its path, checked
    /// after the write (and fsync): records written to a file removed, moved aside or
    /// cut meanwhile are written again (see the module docs), at most 3 times, then the
    /// append fails ([`SpoolError::WrittenSegmentGone`]).
    pub fn append(&self, records: &[u8], count: u64) -> Result<(), SpoolError> {
        let needed = records.len() as u64;
        if needed == 0 {
            return Ok(());
        }
        // A record the reader would take for damage is never written: it would be
        // acknowledged here and skipped when sent.
        if let Some(bytes) = record::lengths(records).find(|&l| l > record::MAX_PAYLOAD) {
            return Err(SpoolError::RecordTooLarge {
                bytes: bytes as u64,
                max: record::MAX_PAYLOAD as u64,
            });
        }
        if let Some(bytes) = record::lengths(records).find(|&l| l < record::MIN_PAYLOAD) {
            return Err(SpoolError::RecordTooShort {
                bytes: bytes as u64,
                min: record::MIN_PAYLOAD as u64,
            });
        }
        // Held throughout: no reader sees records that are then written again.
        let mut st = self.lock();
        let mut rewrites = 0;
        let mut freed = false;
        loop {
            let once = match self.append_once(&mut st, records, count) {
                // The failed write was cut back; the room of delivered records is
                // freed and the records written again, once: a second try finds
                // nothing more to free (the state is locked, nothing is acknowledged
                // meanwhile).
                Err(SpoolError::Io { path, source }) if is_disk_full(&source) => {
                    if !freed && self.free_acknowledged(&mut st) {
                        freed = true;
                        tracing::warn!(
                            spool = %self.opts.dir.display(),
                            error = %source,
                            "the spool's disk is full: the room of the events the server \
                             already acknowledged was freed, and the records are written again"
                        );
                        continue;
                    }
                    return Err(SpoolError::DiskFull {
                        dir: self.opts.dir.clone(),
                        path,
                        source,
                        needed,
                        held: st.total_bytes(),
                        unacked: st.unacked_bytes(),
                    });
                }
                other => other?,
            };
            let Some((path, why)) = once else {
                if rewrites > 0 {
                    self.ack_past_forgotten(&st);
                }
                let total = st.total_bytes();
                drop(st);
                self.metrics.spooled(count, total);
                return Ok(());
            };
            if rewrites == MAX_REWRITES {
                // The head is handled now, as the next append would: what it held and
                // was not acknowledged is reported while the spool still knows it (the
                // caller, `auditrail send`, may end the process on this error).
                if self.retake_folder(&mut st).is_ok() {
                    self.check_head(&mut st);
                    self.ack_past_forgotten(&st);
                }
                return Err(SpoolError::WrittenSegmentGone { path, why });
            }
            rewrites += 1;
            tracing::warn!(
                segment = %path.display(),
                %why,
                attempt = rewrites,
                "the spool segment the records were just written to is no longer the spool's \
                 file at its path as the spool wrote it (removed, moved, cut or appended to by \
                 another program while they were written): they do not count, and are written \
                 again"
            );
        }
    }

    /// One try of [`Self::append`]: `Some` (the segment's path and why) when the
    /// records were written but their segment was found no longer the spool's file at
    /// its path after the write. Then nothing of them is kept or counted: the file is
    /// cut back to what it held before (never lengthened), and the next try (its check
    /// before the write) handles the head as gone or cut.
    fn append_once(
        &self,
        st: &mut State,
        records: &[u8],
        count: u64,
    ) -> Result<Option<(PathBuf, NotAt)>, SpoolError> {
        let needed = records.len() as u64;
        // The folder removed under the spool: taken back first (see `folder_gone.rs`).
        self.retake_folder(st)?;
        let mut used = st.total_bytes();
        if used + needed > self.opts.max_bytes {
            // The head segment is deleted once delivered only when it reached its roll
            // size (`ack`): a delivered head below it would count against the bound for
            // ever, and a spool whose records are all delivered could refuse every
            // append. Reclaim it now: the next append starts a new segment.
            self.free_acknowledged(st);
            used = st.total_bytes();
        }
        if needed > self.opts.max_bytes {
            return Err(SpoolError::TooLarge {
                needed,
                max: self.opts.max_bytes,
            });
        }
        if used + needed > self.opts.max_bytes {
            return Err(SpoolError::Full {
                used,
                max: self.opts.max_bytes,
                needed,
            });
        }
        self.check_head(st);
        let roll = match (st.head_len(), &st.head_file) {
            (Some(len), Some(_)) => len >= self.opts.segment_bytes,
            _ => true,
        };
        if roll {
            // The finished head's length is recorded (below) as far as its bytes are
            // durable: fsynced now when it is still open (with `Always` every append
            // was fsynced already); a head dropped after a failed write, or cut, only
            // up to its last fsync.
            self.sync_head(st);
            let id = st.next_segment_id();
            let path = segment_path(&self.opts.dir, id);
            // Never through a symbolic link put at the new segment's (predictable)
            // name: see `auditrail_core::no_follow`.
            let file = auditrail_core::no_follow::open_regular_replacing_link(
                // Spooled events: not readable by every local user.
                auditrail_core::file_mode::audit_data(OpenOptions::new().create(true).append(true)),
                &path,
            )
            .map_err(io(&path))?;
            // The new file's name must be durable before records in it are
            // acknowledged: fsyncing the file's data does not persist its entry in the
            // folder. Then the `newest` mark (whose write fsyncs the folder again, with
            // `Never` too: a deleted segment must be told from one never made). When
            // either fails, nothing changes: the new (empty) file goes, the old head
            // stays head, and the append fails (the caller sends the batch again
            // later).
            let started = file
                .metadata()
                .map_err(io(&path))
                .and_then(|m| {
                    if self.opts.fsync == SpoolFsync::Always {
                        sync_dir(&self.opts.dir).map_err(io(&self.opts.dir))?;
                    }
                    Ok(m)
                })
                .and_then(|m| {
                    newest::write(&self.opts.dir, id).map_err(io(&newest::path(&self.opts.dir)))?;
                    Ok(m)
                });
            let meta = match started {
                Ok(m) => m,
                Err(e) => {
                    drop(file);
                    if let Err(e) = fs::remove_file(&path) {
                        tracing::warn!(path = %path.display(), error = %e, "cannot delete an empty spool segment");
                    }
                    self.restore_newest(st.newest);
                    return Err(e);
                }
            };
            st.newest = Some(id);
            // The previous head (if any) is closed as it is: with `Always`, every append
            // fsynced its records before returning `Ok`, so nothing acknowledged in it
            // waits for an fsync; with `Never` there is none to make.
            st.start_segment(id, file, FileId::of(&meta));
            self.record_lengths(st);
        }
        let head = st.head().map(|s| (s.id, s.len, s.file));
        let (Some((id, len, file_id)), Some(file)) = (head, st.head_file.as_mut()) else {
            return Err(SpoolError::Io {
                path: self.opts.dir.clone(),
                source: std::io::Error::other("no head segment"),
            });
        };
        let path = segment_path(&self.opts.dir, id);
        let sync = self.opts.fsync == SpoolFsync::Always;
        #[cfg(test)]
        synced::tests::before_head_write(&path);
        let end = match write_head(file, records, sync) {
            Ok(end) => end,
            Err(e) => {
                // Cut whatever part was written so no half record stays before later ones.
                if cut_head_back(file, len, false).is_err() {
                    st.head_file = None; // the next append starts a new segment
                }
                return Err(SpoolError::Io { path, source: e });
            }
        };
        if end > len + needed {
            // Someone else appended between the check before the write and the write:
            // the records sit after their bytes, the first glued to them. They do not
            // count: cut back off (the foreign bytes kept), the head closed as one
            // found longer before an append (`longer.rs`), and written again into a
            // new segment.
            let foreign_end = end - needed;
            if let Err(e) = cut_head_back(file, foreign_end, sync) {
                tracing::warn!(segment = %path.display(), error = %e, "cannot cut back the records just written after bytes the spool did not write: they stay after them, past the length the spool reads, and are written again");
            }
            self.close_longer_head(st, id, len, foreign_end);
            return Ok(Some((
                path,
                NotAt::Longer {
                    expected: len,
                    found: foreign_end,
                },
            )));
        }
        // The check before the write, again after it (and its fsync): a removal, move
        // or cut since that check would otherwise leave records acknowledged in a file
        // nobody finds at the head's path, or cut. One `stat` and one `fstat`.
        if let Some(why) = check_written(file, &path, len + needed) {
            let keep = match why {
                // The records went where the cut left the file's end when it came
                // before the write (`O_APPEND`): then they end the file.
                NotAt::Shorter { found, .. } => {
                    write_after_cut(&path, file_id, found, len, records)
                        .unwrap_or_else(|| found.min(len))
                }
                _ => len,
            };
            if let Err(e) = cut_head_back(file, keep, sync) {
                tracing::warn!(segment = %path.display(), error = %e, "cannot cut back the records just written to a spool segment that is no longer the spool's file at its path");
                if matches!(why, NotAt::Shorter { .. }) {
                    // Never appended to again after bytes that do not count.
                    st.head_file = None;
                }
            }
            return Ok(Some((path, why)));
        }
        st.grow_head(needed, count);
        if sync {
            st.head_synced();
        }
        Ok(None)
    }

    /// Persists the ack position after an append's records were written again (see
    /// [`Self::append`]). The segments that went while they were written are forgotten,
    /// and forgetting one moves the position past it when the position was in it; those
    /// that held nothing but the records that did not count are named by no line of
    /// `lost.jsonl`. An `ack` file still before them would have the next start report
    /// them missing, their events lost. (One in an older segment still does: not
    /// moved, the position cannot say that they held nothing.)
    fn ack_past_forgotten(&self, st: &State) {
        self.write_ack(st.ack, true);
    }

    /// The check before each append: the head segment is still the file at its path,
    /// as long as the spool wrote it. Never append to a file nobody finds at the head's
    /// path any more (deleted, moved away, replaced): what is in it is reported lost,
    /// and the records go to a new segment. A head cut in place is closed: nothing is
    /// appended after a cut; so is a head someone else appended to (`longer.rs`): nothing
    /// is appended after their bytes.
    fn check_head(&self, st: &mut State) {
        let head = st.head().map(|s| s.id);
        if let (Some(id), Some(file)) = (head, &st.head_file) {
            let written = st.head_len().unwrap_or_default();
            match why_not_at(
                file,
                &segment_path(&self.opts.dir, id),
                Expected::Exactly(written),
            ) {
                None => {}
                Some(NotAt::Shorter { found, .. }) => self.cut_short(st, id, found),
                Some(NotAt::Longer { expected, found }) => {
                    self.close_longer_head(st, id, expected, found);
                }
                Some(reason) => self.forget_gone(st, id, &reason.to_string()),
            }
        }
    }

    /// Finishes the head segment: its data is made durable and its length recorded
    /// (see `lengths.rs`), so that a cut of it before the next start is reported. A
    /// later append starts a new segment. Events the sender had read from segments
    /// that went away and that the server has not acknowledged are counted lost now.
    pub fn close(&self) {
        let mut st = self.lock();
        // Nothing reads or acknowledges any more (the sender stopped first).
        self.give_up_in_hand(&mut st);
        if st.head_file.is_none() {
            return;
        }
        self.sync_head(&mut st);
        st.head_file = None;
        self.record_lengths(&st);
    }

    /// Where the next append goes (everything before it is readable).
    pub fn end(&self) -> Position {
        self.lock().end()
    }

    /// The first record not yet acknowledged.
    pub fn acked(&self) -> Position {
        self.lock().ack
    }

    /// Nothing left to send: no record past the ack position, and none the sender
    /// read from a segment that went away still waits for the server's answer.
    pub fn is_drained(&self) -> bool {
        let st = self.lock();
        !st.has_unacked() && st.in_hand_of_gone().1 == 0
    }

    /// Bytes of the segment files.
    pub fn bytes(&self) -> u64 {
        self.lock().total_bytes()
    }

    /// Records of segments that went away that the sender had read before they went
    /// and the server has not acknowledged yet: lost if it never does (the spool no
    /// longer has them). (Segments not otherwise counted as lost, records, bytes.)
    pub fn in_hand_of_gone(&self) -> (u64, u64, u64) {
        self.lock().in_hand_of_gone()
    }

    /// [`Self::pending_events`] and the records of [`Self::in_hand_of_gone`], together
    /// (one look): every event not delivered yet that may still be.
    pub fn undelivered_events(&self) -> u64 {
        let st = self.lock();
        st.pending + st.in_hand_of_gone().1
    }

    /// Intact records appended and not yet acknowledged (those left by earlier runs
    /// included).
    pub fn pending_events(&self) -> u64 {
        self.lock().pending
    }

    /// Marks everything before `upto` as delivered (`events` records: what the reader
    /// returned up to there): persists the position and deletes segments that are
    /// wholly before it.
    pub fn ack(&self, upto: Position, events: u64) {
        let mut st = self.lock();
        if let Some(why) = st.ack_doubt(upto).filter(|_| upto > st.ack) {
            // A caller's mistake: never delete segments on its word.
            tracing::error!(
                spool = %self.opts.dir.display(),
                segment = upto.segment,
                offset = upto.offset,
                %why,
                "an acknowledgement past what the spool holds: ignored; the ack position \
                 stays where it was and no segment is deleted (what follows it is sent \
                 again at the next start)"
            );
            return;
        }
        // Records read from segments that went away since (no longer pending, the ack
        // position already past them) were acknowledged after all: not lost.
        let (after_gone, gone_records) = st.settle_in_hand(upto);
        if !after_gone.is_empty() {
            self.acknowledged_after_gone(&after_gone);
        }
        if upto <= st.ack {
            return;
        }
        st.ack = upto;
        st.pending = st
            .pending
            .saturating_sub(events.saturating_sub(gone_records));
        let removed = st.remove_acked(self.opts.segment_bytes);
        if removed.is_empty() {
            self.write_ack(upto, false);
        } else {
            self.delete_acked(st.ack, &removed);
        }
        let total = st.total_bytes();
        drop(st);
        self.metrics.set_spool_bytes(total);
    }

    /// Deletes the segment files `ids`, wholly before `ack`, once `ack` is durable: a
    /// crash must not bring back an ack before a deleted segment, which would then
    /// look lost (see `newest.rs`). When the ack cannot be made durable, they are left
    /// on disk (deleted at the next start, or sent again: duplicates). Whether any was
    /// deleted.
    fn delete_acked(&self, ack: Position, ids: &[u64]) -> bool {
        if ids.is_empty() || !self.write_ack(ack, true) {
            return false;
        }
        let mut deleted = false;
        for &id in ids {
            let path = segment_path(&self.opts.dir, id);
            match fs::remove_file(&path) {
                Ok(()) => deleted = true,
                Err(e) => {
                    tracing::warn!(path = %path.display(), error = %e, "cannot delete a delivered spool segment")
                }
            }
        }
        deleted
    }

    /// Frees the room of every record the server acknowledged: the segments wholly
    /// before the ack position, the head too when it is (the next append starts a new
    /// one). For an append over `spool_max_bytes`, and one that found the disk full.
    /// Whether a file was deleted: the room such an append may now take.
    fn free_acknowledged(&self, st: &mut State) -> bool {
        let removed = st.remove_acked(0);
        let deleted = self.delete_acked(st.ack, &removed);
        self.metrics.set_spool_bytes(st.total_bytes());
        deleted
    }

    /// Persists the ack position; `durable`: fsynced, with its folder. Whether it was
    /// written (never while the spool does not hold its folder). Called with the state
    /// locked (or before the spool is shared), so that two writes never share the
    /// temporary file.
    fn write_ack(&self, pos: Position, durable: bool) -> bool {
        let dst = ack::path(&self.opts.dir);
        let bytes = format!("{} {}\n", pos.segment, pos.offset);
        // Removed under the spool: the next append takes it back (`folder_gone.rs`).
        let Some(res) = self.in_held_folder("ack", |dir| {
            let tmp = dir.join("ack.tmp");
            if durable {
                auditrail_core::durable::replace_file(&dst, &tmp, bytes.as_bytes())
            } else {
                // Made afresh, as `replace_file` makes it (a FIFO at the name would
                // block, a link be written through), without its fsyncs.
                auditrail_core::durable::create_tmp(&tmp)
                    .and_then(|mut f| std::io::Write::write_all(&mut f, bytes.as_bytes()))
                    .and_then(|()| fs::rename(&tmp, &dst))
            }
        }) else {
            return false;
        };
        // On a full disk the new file cannot get the block its line needs: the line is
        // written over the old one instead, which has its block. Without it, the ack
        // (and the deletion of the delivered segments, which waits for it) could not
        // free the disk its own segments filled.
        let res = match res {
            Err(e) if is_disk_full(&e) => self
                .in_held_folder("ack", |dir| {
                    ack::overwrite(&dst, &bytes, durable)?;
                    // Its name too: the rename that put it there was not fsynced.
                    if durable {
                        sync_dir(dir)?;
                    }
                    Ok(())
                })
                .unwrap_or(Err(e)),
            other => other,
        };
        if let Err(e) = &res {
            // Not fatal: a stale ack only means resending duplicates after a restart.
            tracing::warn!(path = %dst.display(), error = %e, durable, "cannot persist the spool ack position");
        }
        res.is_ok()
    }

    /// Puts the `newest` mark back to `was` after a segment could not be started: its
    /// write may have reached the disk, and a mark above every segment would report
    /// the never-used id as lost at the next start.
    fn restore_newest(&self, was: Option<u64>) {
        let restored = self.in_held_folder("newest", |dir| match was {
            Some(id) => newest::write(dir, id),
            None => match fs::remove_file(newest::path(dir)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
        });
        if let Some(Err(e)) = restored {
            tracing::warn!(path = %newest::path(&self.opts.dir).display(), error = %e, "cannot put the spool's newest-segment mark back after a failed segment start: the next start may report that segment as lost");
        }
    }

    /// A reader positioned at the first unacknowledged record.
    pub fn reader(self: &Arc<Self>) -> SpoolReader {
        SpoolReader::new(self.clone(), self.acked())
    }

    /// Known damaged ranges (found at open or while reading) that are not yet
    /// acknowledged past: (start, end offset in the same segment).
    pub fn damage(&self) -> Vec<(Position, u64)> {
        self.lock().damage().collect()
    }

    /// Skips damaged bytes the reader met at `at` in segment `at.segment`, whose
    /// published bytes end at `seg_end`: returns the offset of the next valid record
    /// (or `seg_end`). New damage is copied to its side file, logged and counted;
    /// damage already known (found at open, or by an earlier read) is skipped at once.
    pub(crate) fn skip_damage(
        &self,
        file: &mut File,
        at: Position,
        seg_end: u64,
    ) -> Result<u64, SpoolError> {
        if let Some(end) = self.lock().damage_at(at) {
            return Ok(end);
        }
        let path = segment_path(&self.opts.dir, at.segment);
        let mut buf = vec![0u8; (seg_end - at.offset) as usize];
        file.seek(SeekFrom::Start(at.offset)).map_err(io(&path))?;
        file.read_exact(&mut buf).map_err(io(&path))?;
        let (len, reason) = match scan::pieces(&buf, at.offset).next() {
            Some(
                scan::Piece::Damaged { len, reason, .. } | scan::Piece::Tail { len, reason, .. },
            ) => (len, reason),
            // The reader saw damage here a moment ago; records never change once
            // published, so this is the file changing under us: read again later.
            _ => {
                return Err(SpoolError::Io {
                    path,
                    source: std::io::Error::other(format!(
                        "the record at offset {} changed while it was read",
                        at.offset
                    )),
                })
            }
        };
        Ok(self.note_damage(at, buf.get(..len as usize).unwrap_or_default(), &reason))
    }

    /// Records damaged `bytes` found at `at` (skipped from now on), keeps them in their
    /// side file, logs and counts them once; returns the offset after them.
    fn note_damage(&self, at: Position, bytes: &[u8], reason: &str) -> u64 {
        let end = at.offset + bytes.len() as u64;
        let new = self.lock().add_damage(at, end);
        if !new.range {
            return end;
        }
        let segment = segment_path(&self.opts.dir, at.segment);
        let kept = self.in_held_folder("damaged bytes' side file", |dir| {
            damage::keep(dir, at.segment, at.offset, bytes)
        });
        match kept.unwrap_or_else(|| {
            Err(std::io::Error::other(
                "the spool folder is no longer this spool's",
            ))
        }) {
            Ok(kept) => tracing::error!(
                segment = %segment.display(),
                offset = at.offset,
                bytes = bytes.len(),
                %reason,
                kept_in = %kept.display(),
                "damaged bytes in the spool: skipped (the intact records before and after \
                 them are sent) and kept aside; inspect with `auditrail spool inspect`"
            ),
            Err(e) => tracing::error!(
                segment = %segment.display(),
                offset = at.offset,
                bytes = bytes.len(),
                %reason,
                error = %e,
                "damaged bytes in the spool: skipped (the intact records before and after \
                 them are sent); they could NOT be copied aside and stay in the segment \
                 until it is delivered and deleted"
            ),
        }
        self.metrics.damaged(bytes.len() as u64, new.segment);
        end
    }
}

impl Drop for Spool {
    /// A spool dropped without [`Spool::close`] still records its head's length.
    fn drop(&mut self) {
        self.close();
    }
}

/// Makes the `ack` file of spool folder `dir` durable (its data, and its name in the
/// folder), before segments before it are deleted at open. It may not be: the running
/// spool renames it in place without fsync, and an fsync may have failed. A deletion
/// that outlives it in a power loss brings back an ack before a deleted segment, which
/// the next start reports as lost (see `newest.rs`). `false` (logged) when it cannot
/// be: then they are left on disk (deleted at a later start).
fn ack_made_durable(dir: &Path) -> bool {
    let path = ack::path(dir);
    let synced = auditrail_core::regular_file::open(OpenOptions::new().read(true), &path)
        .and_then(|f| f.sync_all())
        .and_then(|()| sync_dir(dir));
    if let Err(e) = &synced {
        tracing::warn!(path = %path.display(), error = %e, "cannot make the spool's ack position durable: the delivered segments before it are left on disk for now (deleted at a later start)");
    }
    synced.is_ok()
}

/// Fsyncs the folder `dir`, so that the names created in it survive a power loss.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(test)]
    if let Some(e) = tests::failed_dir_sync() {
        return Err(e);
    }
    auditrail_core::durable::sync_dir(dir)
}

/// The `newest` mark, `None` when there is none or it is unreadable (logged: a
/// segment deleted before this start is then not found; the mark is written again).
fn read_newest(dir: &Path) -> Option<u64> {
    let path = newest::path(dir);
    match newest::read(dir) {
        Ok(Ok(n)) => n,
        Ok(Err(newest::NotAnId { text })) => {
            tracing::warn!(path = %path.display(), content = %text.trim(), "the spool's newest-segment mark holds no segment id: ignored, so a segment deleted by hand before this start is not found; it is written again");
            None
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the spool's newest-segment mark: a segment deleted by hand before this start is not found");
            None
        }
    }
}

/// The `lengths` record (see `lengths.rs`), empty when there is none or it is
/// unreadable (logged: a segment cut before this start is then taken for a torn
/// write, as before the record existed; it is written again).
fn read_lengths(dir: &Path) -> std::collections::BTreeMap<u64, u64> {
    let path = lengths::path(dir);
    match lengths::read(dir) {
        Ok(Ok(l)) => l,
        Ok(Err(lengths::BadLine { line })) => {
            tracing::warn!(path = %path.display(), line = %line.trim(), "the spool's record of segment lengths holds a line that is no `<segment> <bytes>`: ignored, so a segment cut in place before this start is not found; it is written again");
            Default::default()
        }
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "cannot read the spool's record of segment lengths: a segment cut in place before this start is not found");
            Default::default()
        }
    }
}

/// The ids of the segment files (`<id>.seg`) in `dir`, in order.
fn segment_ids(dir: &Path) -> Result<Vec<u64>, SpoolError> {
    let mut ids = Vec::new();
    for entry in fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if let Some(id) = name
            .strip_suffix(".seg")
            .and_then(|s| s.parse::<u64>().ok())
        {
            ids.push(id);
        }
    }
    ids.sort_unstable();
    Ok(ids)
}

/// An `ack` file that cannot be right (see `ack.rs`): logged, naming the file, what it
/// said and why it is not followed. Nothing is deleted or skipped for it: everything
/// from the oldest segment present (`oldest`) is sent again.
fn distrust_ack(dir: &Path, said: &str, why: &str, oldest: Option<u64>) {
    let instead = match oldest {
        Some(id) => format!(
            "every event from segment {} on (the oldest there) is sent again; the server \
             stores each event once",
            segment_path(dir, id).display()
        ),
        None => "there is no segment file, so nothing to send again".to_owned(),
    };
    tracing::warn!(
        path = %ack::path(dir).display(),
        said,
        why,
        "the spool's ack position cannot be right (an ack file from another copy of the \
         spool, or damaged): not followed, no segment is deleted or skipped for it; {instead}"
    );
}

/// From which segment id on every id up to the `newest` mark must have a file: the
/// ack position's. Without a readable ack, segments before the first one present may
/// have been delivered and deleted: only the gaps from there on are known losses.
fn first_kept(ack: Option<Position>, present: &[u64], newest: u64) -> u64 {
    match ack {
        Some(ack) => ack.segment,
        None => present.first().copied().unwrap_or(newest.saturating_add(1)),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// While set, [`sync_dir`] fails on this thread (a folder fsync cannot be made
        /// to fail for real in a test that runs as root).
        static FAIL_DIR_SYNC: Cell<bool> = const { Cell::new(false) };
    }

    pub(super) fn failed_dir_sync() -> Option<std::io::Error> {
        FAIL_DIR_SYNC
            .get()
            .then(|| std::io::Error::other("injected folder fsync failure"))
    }

    fn segment_files(dir: &Path) -> Vec<u64> {
        segment_ids(dir).unwrap()
    }

    #[test]
    fn delivered_segments_are_deleted_at_open_only_once_the_ack_is_durable() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        std::fs::create_dir(&dir).unwrap();
        let opts = SpoolOptions {
            dir: dir.clone(),
            max_bytes: 1 << 20,
            // Every append starts a new segment.
            segment_bytes: 1,
            fsync: SpoolFsync::Always,
        };
        let spool = Spool::open(opts.clone(), Arc::new(Metrics::default())).unwrap();
        let mut rec = Vec::new();
        record::encode_payload(br#"{"a":1}"#, &mut rec);
        spool.append(&rec, 1).unwrap();
        spool.append(&rec, 1).unwrap();
        let ids = segment_files(&dir);
        drop(spool);
        // The first segment delivered, and a crash before its deletion; the ack was
        // renamed in place, not fsynced (as the running spool writes it).
        std::fs::write(ack::path(&dir), format!("{} 0\n", ids[1])).unwrap();

        FAIL_DIR_SYNC.set(true);
        let spool = Spool::open(opts.clone(), Arc::new(Metrics::default())).unwrap();
        FAIL_DIR_SYNC.set(false);
        assert_eq!(
            segment_files(&dir),
            ids,
            "deleted before the ack was durable"
        );
        assert_eq!(spool.pending_events(), 1);
        drop(spool);

        let spool = Spool::open(opts, Arc::new(Metrics::default())).unwrap();
        assert_eq!(segment_files(&dir), ids[1..], "deleted once it is");
        assert_eq!(spool.pending_events(), 1);
    }

    /// A spool in `dir` whose every append after the first starts a new segment,
    /// fsynced at each append.
    fn a_segment_per_append(dir: &Path) -> Spool {
        Spool::open(
            SpoolOptions {
                dir: dir.to_path_buf(),
                max_bytes: 1 << 20,
                segment_bytes: 1,
                fsync: SpoolFsync::Always,
            },
            Arc::new(Metrics::default()),
        )
        .unwrap()
    }

    /// Someone who may write the spool folder puts a symbolic link at the next
    /// segment's (predictable) name: the records must not be appended through it.
    #[test]
    fn a_symbolic_link_at_the_next_segment_name_is_not_written_through() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        std::fs::create_dir(&dir).unwrap();
        let outside = tmp.path().join("outside.txt");
        std::fs::write(&outside, "untouched\n").unwrap();
        let spool = a_segment_per_append(&dir);
        let mut rec = Vec::new();
        record::encode_payload(br#"{"a":1}"#, &mut rec);
        spool.append(&rec, 1).unwrap();
        let next = segment_files(&dir).last().unwrap() + 1;
        let link = segment_path(&dir, next);
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        spool.append(&rec, 1).unwrap();
        assert_eq!(std::fs::read(&outside).unwrap(), b"untouched\n");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        assert_eq!(spool.pending_events(), 2);
    }

    #[test]
    fn a_failed_folder_fsync_on_a_new_segment_fails_the_append_and_keeps_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("spool");
        std::fs::create_dir(&dir).unwrap();
        let spool = a_segment_per_append(&dir);
        let mut rec = Vec::new();
        record::encode_payload(br#"{"a":1}"#, &mut rec);
        let len = rec.len() as u64;

        // The very first segment: nothing there before, nothing after.
        FAIL_DIR_SYNC.set(true);
        let e = spool.append(&rec, 1).unwrap_err();
        assert!(
            matches!(&e, SpoolError::Io { path, .. } if path == &dir),
            "{e:?}"
        );
        assert_eq!((spool.pending_events(), spool.bytes()), (0, 0));
        assert!(segment_files(&dir).is_empty());
        FAIL_DIR_SYNC.set(false);
        spool.append(&rec, 1).unwrap();
        let first = spool.end();
        assert_eq!(first.offset, len);
        assert_eq!(segment_files(&dir), vec![first.segment]);

        // A roll: the old head stays head, the new file is gone.
        FAIL_DIR_SYNC.set(true);
        let e = spool.append(&rec, 1).unwrap_err();
        assert!(
            e.to_string().contains("injected folder fsync failure"),
            "{e}"
        );
        assert_eq!((spool.pending_events(), spool.bytes()), (1, len));
        assert_eq!(spool.end(), first);
        assert_eq!(segment_files(&dir), vec![first.segment]);

        // The folder fsync works again: the next append starts the segment.
        FAIL_DIR_SYNC.set(false);
        spool.append(&rec, 1).unwrap();
        assert_eq!((spool.pending_events(), spool.bytes()), (2, 2 * len));
        let second = spool.end();
        assert!(second.segment > first.segment, "{second:?}");
        assert_eq!(second.offset, len);
        assert_eq!(segment_files(&dir), vec![first.segment, second.segment]);
        // Both records are readable, in order.
        let text = |id| std::fs::read(segment_path(&dir, id)).unwrap();
        assert_eq!(text(first.segment), rec);
        assert_eq!(text(second.segment), rec);
    }
}
