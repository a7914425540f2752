//! The store's single writer: plans a batch across partition files, appends it,
//! fsyncs it (group commit) and undoes it completely on any failure. Events whose
//! partition folder or file cannot be made or opened, for a reason that retrying the
//! batch cannot fix (see [`StoreError::is_partition_permanent`]) or that only an
//! operator can ([`StoreError::is_partition_unwritable`]: permissions, a read-only file
//! system), are left out and reported, and the rest of the batch is written: one event
//! never holds up the others.
//!
//! A partition folder may be removed or moved aside by hand while the store is open:
//! before a chunk appends to a partition's current segment, the writer checks that the
//! segment is still the file at its path (path there, no symbolic link at it or at a
//! folder on it below the store's root, held handle not unlinked, same device and
//! inode); when it is not, the writer forgets it and starts a new segment in
//! the re-created folder, so that no acknowledged record goes to an unlinked or moved
//! file and no batch fails for ever on a folder that is gone. The same check runs
//! again on every file a batch wrote, after its fsync and before the batch is
//! acknowledged (durable mode): a file removed, moved or cut *while* the batch was
//! written would otherwise hold acknowledged records no reader of the store finds. Such
//! a batch is undone and written again (into new segments, by the check above), at
//! most [`MAX_REWRITES`] times; then it fails, unacknowledged
//! ([`StoreError::WrittenFileGone`]).
//!
//! Everything here is blocking file I/O; the target runs it on a blocking thread.

use std::collections::{HashMap, HashSet, VecDeque};
use std::fs::{self, OpenOptions};
use std::io::{self, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use auditrail_core::durable::{Expected, NotAt};
use auditrail_core::{Event, Timestamp};

use crate::chain::{Chain, ChainLink};
use crate::config::{FlushPolicy, StoreConfig};
use crate::error::StoreError;
use crate::handle::Head;
use crate::handle::Shared;
use crate::handles::Handles;
use crate::identity::ReceiptKey;
use crate::layout::{segment_file_name, stays_inside, Layout, PartitionCache};
use crate::merkle::{leaf_hash, CompactRange};
use crate::place::{lstat_beneath, Place, SegmentId};
use crate::record::BodyWriter;
use crate::recovery::{self, Recovered};
use crate::refused_batch::RefusedBatch;

/// Records written (and fsynced) together at most. A batch larger than this is written
/// in chunks, each fsynced, so that after a crash at most this many records can be
/// unacknowledged; recovery never cuts more than this many records after a gap.
pub const MAX_UNACKED_RECORDS: u64 = 100_000;

/// How many times a batch is written again after a file it was written to was found
/// gone after the fsync (see the module docs). Each time is an operator's (or another
/// program's) removal, move or cut racing the writer; more than a few in a row mean
/// something keeps doing it, and the batch fails rather than loop.
const MAX_REWRITES: u32 = 3;

/// Appended buffers the writer keeps for its next batches, and the largest it keeps:
/// together at most 16 MiB.
const SPARE_BUFFERS: usize = 4;
const SPARE_BUFFER_BYTES: usize = 4 << 20;

/// The current segment of one partition folder.
#[derive(Debug)]
pub(crate) struct Segment {
    pub(crate) path: PathBuf,
    pub(crate) len: u64,
    /// The file as this writer opened it (set at its first append): where the records
    /// appended to it are ([`Place`]).
    pub(crate) id: Option<Arc<SegmentId>>,
}

impl Segment {
    pub(crate) fn existing(path: PathBuf, len: u64) -> Segment {
        Segment {
            path,
            len,
            id: None,
        }
    }
}

/// What a chunk appends to one file.
struct FilePlan {
    rel: PathBuf,
    path: PathBuf,
    new_file: bool,
    /// The file's length before the chunk (0 for a new file).
    base: u64,
    buf: Vec<u8>,
}

/// What [`Writer::append`] appended to: the file's path and, when known, its identity.
type Appended = (PathBuf, Option<Arc<SegmentId>>);

/// A file's state before the batch, to undo it.
struct Touched {
    /// What the undo cuts the file back to: its length before the batch, or the end
    /// of bytes someone else appended while the batch was written (kept).
    pre_len: u64,
    created: bool,
    /// Made by this batch, and someone else's bytes came before any of its records:
    /// once cut back, the file holds only their bytes, at the name the batch written
    /// again needs (see [`free_a_foreign_segment_name`]).
    only_foreign: bool,
}

/// A committed batch: the chain links of its records, in batch order (empty without
/// chaining), each with where its record is, and the events left out.
#[derive(Debug, Default)]
pub(crate) struct Committed {
    pub(crate) links: Vec<(ReceiptKey, ChainLink, Option<Place>)>,
    /// The Merkle frontier after the batch's last record.
    pub(crate) tree: Option<CompactRange>,
    /// [`Head::quiet`] after the batch.
    pub(crate) quiet: u64,
    pub(crate) bytes: u64,
    /// Bytes of the records formatted so far, appended or not: what a batch that
    /// failed on a full disk needed ([`crate::RefusedBatch`]).
    pub(crate) planned: u64,
    /// Events of the batch not written, by index, with the reason: their partition
    /// cannot be made ([`StoreError::is_partition_permanent`]).
    pub(crate) refused: Vec<(usize, String)>,
    /// Events of the batch not written, by index, with the reason: the store may not
    /// write their partition now ([`StoreError::is_partition_unwritable`]); they can be
    /// sent again once an operator fixed it.
    pub(crate) retry_later: Vec<(usize, String)>,
}

/// What undoing a written batch takes: each file's state before it, each segment's
/// and the chain's.
pub(crate) struct Undo {
    touched: HashMap<PathBuf, Touched>,
    saved_segments: HashMap<PathBuf, Option<(PathBuf, u64)>>,
    saved_chain: Option<Chain>,
    saved_tree: Option<CompactRange>,
    saved_next: u64,
    saved_quiet: u64,
}

/// What a staged batch leaves to do after its appends (see [`Writer::stage_batch`]).
#[derive(Default)]
pub(crate) struct Staging {
    /// The files it appended to.
    files: Vec<PathBuf>,
    /// The folders whose entries it changed.
    dirs: HashSet<PathBuf>,
    /// Each file written, its length after the batch and its identity: checked after
    /// the fsync, as [`file_gone`] says.
    written: Vec<(PathBuf, u64, Option<Arc<SegmentId>>)>,
}

/// Where a staged batch's answer goes.
pub(crate) type Reply = tokio::sync::oneshot::Sender<Result<(), auditrail_core::TargetError>>;

/// A batch appended and not yet answered: what its fsync, its check and, should either
/// fail, its undo take.
struct Staged {
    id: u64,
    events: Vec<Arc<Event>>,
    undo: Undo,
    staging: Staging,
    committed: Committed,
    reply: Reply,
}

/// The fsync of a staged batch, for the store's sync thread: every file and folder it
/// wrote, then [`Writer::synced`] with the batch's id.
pub(crate) struct SyncJob {
    pub(crate) id: u64,
    pub(crate) files: Vec<crate::handles::ToSync>,
    pub(crate) dirs: HashSet<PathBuf>,
}

/// Why the events of one partition are left out of a batch.
struct Unwritable {
    reason: String,
    /// An operator can fix it: the events may be sent again later.
    retry_later: bool,
}

/// Partitions remembered as refusing (to log a streak once, see
/// [`Writer::refusing`]); beyond this many, the memory is cleared (and the next refusal
/// of each logged again).
const REFUSING_REMEMBERED: usize = 4096;

/// A chunk's failure, with the partition (relative folder) it is about when the
/// failure was making that partition's folder or opening its file.
struct Failure {
    error: StoreError,
    partition: Option<PathBuf>,
}

impl From<StoreError> for Failure {
    fn from(error: StoreError) -> Failure {
        Failure {
            error,
            partition: None,
        }
    }
}

pub(crate) struct Writer {
    root: PathBuf,
    /// The root folder's device and inode as the writer was made (the folder the store
    /// opened and locked): a folder made at the same path since (the store's folder
    /// moved away and another put there) is not written into ([`Writer::same_root`]).
    root_id: Option<(u64, u64)>,
    layout: Layout,
    segment_max: u64,
    chain: Option<Chain>,
    /// The Merkle frontier at the chain's last link (`None` when unchained, or when it
    /// could not be restored at open).
    tree: Option<CompactRange>,
    /// Whether the tree is kept (`merkle = true`).
    merkle: bool,
    next_record: u64,
    /// [`Head::quiet`]: copies of checkpoint lines stored since the writer was opened.
    quiet: u64,
    segments: HashMap<PathBuf, Segment>,
    known_dirs: HashSet<PathBuf>,
    policy: Option<FlushPolicy>,
    unsynced_bytes: u64,
    dirty: HashSet<PathBuf>,
    dirty_dirs: HashSet<PathBuf>,
    dirty_since: Option<Instant>,
    needs_recovery: bool,
    handles: Handles,
    shared: Arc<Shared>,
    body: Vec<u8>,
    bodies: BodyWriter,
    /// Appended buffers kept for the next batches (see [`Writer::recycle`]).
    spare: Vec<Vec<u8>>,
    partitions: PartitionCache,
    synced_in_batch: bool,
    /// Partitions (relative folders) whose last batch refused their events: a refusal
    /// is logged when a streak starts and when it ends (the partition written again),
    /// not for every batch a node sends again meanwhile.
    refusing: HashSet<PathBuf>,
    /// Batches appended whose fsync has not answered yet, oldest first (durable mode,
    /// at most two: see [`Writer::stage_batch`]).
    in_flight: VecDeque<Staged>,
    next_stage_id: u64,
    /// The chain ranges the checkpoint log records as deleted (at open, and each prune
    /// recorded since): see [`crate::recorded_deletions`].
    recorded_deletions: crate::recorded_deletions::RecordedDeletions,
    /// Partitions prunes left out because a record in them does not belong in their
    /// folder, since the last [`take_prune_refusals`](Self::take_prune_refusals).
    prune_refused: Vec<crate::placement::MisplacedPartition>,
}

impl Writer {
    /// The writer of the store at `root`, as `config` says, after its recovery.
    pub(crate) fn new(
        root: PathBuf,
        config: &StoreConfig,
        recovered: Recovered,
        shared: Arc<Shared>,
    ) -> Writer {
        let policy = config.flush.policy();
        let max_open_files = crate::handles::max_open_files(config.max_open_files);
        let root_id = folder_id(&root).ok();
        let mut w = Writer {
            root,
            root_id,
            layout: Layout::from(config),
            segment_max: config.segment_max_bytes,
            chain: None,
            tree: None,
            merkle: config.merkle,
            next_record: 1,
            quiet: 0,
            segments: HashMap::new(),
            known_dirs: HashSet::new(),
            policy,
            unsynced_bytes: 0,
            dirty: HashSet::new(),
            dirty_dirs: HashSet::new(),
            dirty_since: None,
            needs_recovery: false,
            handles: Handles::new(max_open_files),
            shared,
            body: Vec::with_capacity(1024),
            bodies: BodyWriter::default(),
            spare: Vec::new(),
            partitions: PartitionCache::default(),
            synced_in_batch: false,
            refusing: HashSet::new(),
            in_flight: VecDeque::new(),
            next_stage_id: 1,
            recorded_deletions: Default::default(),
            prune_refused: Vec::new(),
        };
        w.chain = config.chain.then(Chain::genesis);
        w.adopt(recovered);
        w
    }

    fn adopt(&mut self, r: Recovered) {
        if let Some(chain) = &mut self.chain {
            *chain = Chain::resume(r.last);
        }
        self.tree = if self.chain.is_some() && self.merkle {
            r.tree
        } else {
            None
        };
        self.next_record = r.next_record;
        self.recorded_deletions = r.recorded_deletions;
        self.segments = r
            .segments
            .into_iter()
            .map(|(rel, (path, len))| (rel, Segment::existing(path, len)))
            .collect();
        self.known_dirs.clear();
        self.shared.set_head(Head {
            link: r.last,
            tree: self.tree.clone(),
            quiet: self.quiet,
        });
    }

    /// Appends every event of `batch`, durably in durable mode, or undoes everything
    /// and returns the error. Events whose partition cannot be made or opened for a
    /// reason that retrying the batch cannot fix, or that only an operator can, are left
    /// out (in [`Committed::refused`] and [`Committed::retry_later`]) and the rest is
    /// written.
    pub(crate) fn write_batch(&mut self, batch: &[Arc<Event>]) -> Result<Committed, StoreError> {
        self.write_batch_as(batch, false)
            .map(|(committed, _)| committed)
    }

    /// [`write_batch`](Self::write_batch); with `stage`, appended only, with what is
    /// left to do (see [`Writer::stage_batch`]).
    fn write_batch_as(
        &mut self,
        batch: &[Arc<Event>],
        stage: bool,
    ) -> Result<(Committed, Option<(Undo, Staging)>), StoreError> {
        let mut unwritable: HashMap<PathBuf, Unwritable> = HashMap::new();
        let mut rewrites = 0;
        loop {
            let mut staging = stage.then(Staging::default);
            let (kept, left_out): (Vec<usize>, Vec<usize>) = if unwritable.is_empty() {
                ((0..batch.len()).collect(), Vec::new())
            } else {
                (0..batch.len()).partition(|&i| {
                    let rel = self.partitions.get(&self.layout, &batch[i]);
                    !unwritable.contains_key(rel)
                })
            };
            let result = if left_out.is_empty() {
                self.write_events(batch, staging.as_mut())
            } else {
                let events: Vec<Arc<Event>> = kept.iter().map(|&i| batch[i].clone()).collect();
                self.write_events(&events, staging.as_mut())
            };
            match result {
                Ok((mut committed, undo)) => {
                    for i in left_out {
                        let rel = self.partitions.get(&self.layout, &batch[i]);
                        let Some(u) = unwritable.get(rel) else {
                            continue;
                        };
                        let refusal = (i, u.reason.clone());
                        if u.retry_later {
                            committed.retry_later.push(refusal);
                        } else {
                            committed.refused.push(refusal);
                        }
                    }
                    if !self.refusing.is_empty() {
                        self.end_streaks(batch, &kept);
                    }
                    return Ok((committed, staging.map(|s| (undo, s))));
                }
                Err(Failure {
                    error,
                    partition: Some(rel),
                }) if (error.is_partition_permanent() || error.is_partition_unwritable())
                    && !unwritable.contains_key(&rel) =>
                {
                    let retry_later = !error.is_partition_permanent();
                    let folder = rel.display().to_string();
                    let reason = if matches!(error, StoreError::SegmentNameTaken { .. }) {
                        format!(
                            "the store cannot start a segment in the partition folder \
                             {folder:?} for this event: {error}"
                        )
                    } else if retry_later {
                        format!(
                            "the store may not write the partition folder {folder:?} for this \
                             event ({error}); send it again once an operator has fixed the \
                             folder's permissions or the file system"
                        )
                    } else {
                        format!(
                            "the store cannot make the partition folder {folder:?} for this \
                             event (retrying cannot help): {error}"
                        )
                    };
                    self.start_streak(&rel, &error, retry_later);
                    unwritable.insert(
                        rel,
                        Unwritable {
                            reason,
                            retry_later,
                        },
                    );
                }
                Err(Failure {
                    error: error @ StoreError::WrittenFileGone { .. },
                    ..
                }) if rewrites < MAX_REWRITES => {
                    // Undone already (`write_events`); the next try starts a new
                    // segment where the file is gone.
                    rewrites += 1;
                    tracing::warn!(store = %self.root.display(), %error, attempt = rewrites,
                        "a file the batch was written to is no longer the store's file at its path: the batch is written again");
                }
                Err(f) => return Err(f.error),
            }
        }
    }

    /// Whether a batch of `len` events can be staged ([`stage_batch`](Self::stage_batch)):
    /// a durable store, no recovery owed, and a batch written in one chunk. Otherwise
    /// it is written at once ([`write_batch`](Self::write_batch)), after every batch in
    /// flight is answered.
    pub(crate) fn can_stage(&self, len: usize) -> bool {
        self.policy.is_none() && !self.needs_recovery && len as u64 <= MAX_UNACKED_RECORDS
    }

    /// Appends `batch` as [`write_batch`](Self::write_batch) does, but does not fsync
    /// it: that is the returned job's, run by the store's sync thread while the next
    /// batch is appended, which hands the result to [`synced`](Self::synced). The
    /// batch is answered through `reply` only then, once a fsync that started after
    /// its last append succeeded and its files are checked (as after the fsync of
    /// `write_batch`): an acknowledgement never covers data not on disk. Until then it
    /// is in flight, and undone with every batch appended after it should that fsync
    /// fail. An error here: the batch is undone already (and `reply` handed back).
    pub(crate) fn stage_batch(
        &mut self,
        batch: Vec<Arc<Event>>,
        reply: Reply,
    ) -> Result<SyncJob, (StoreError, Reply)> {
        match self.write_batch_as(&batch, true) {
            Ok((committed, Some((undo, staging)))) => {
                let id = self.next_stage_id;
                self.next_stage_id += 1;
                let job = SyncJob {
                    id,
                    files: staging
                        .files
                        .iter()
                        .map(|p| self.handles.to_sync(p))
                        .collect(),
                    dirs: staging.dirs.clone(),
                };
                self.in_flight.push_back(Staged {
                    id,
                    events: batch,
                    undo,
                    staging,
                    committed,
                    reply,
                });
                Ok(job)
            }
            Ok((committed, None)) => {
                // Not staged (cannot happen with `stage`): written, answered now.
                let len = batch.len();
                let _ = reply.send(crate::target::answer(&self.shared, len, Ok(committed)));
                Ok(SyncJob {
                    id: 0,
                    files: Vec::new(),
                    dirs: HashSet::new(),
                })
            }
            Err(e) => Err((e, reply)),
        }
    }

    /// The fsync of staged batch `id` (and of those staged before it) returned
    /// `synced`. Success: each of them, oldest first, is checked (its files still the
    /// store's at their paths) and answered, and published. Failure: every batch in
    /// flight, this one and those appended after it, is undone (files cut back to
    /// before the oldest, the chain and segments rewound) and answered with the error.
    /// A batch already answered ([`settle_in_flight`](Self::settle_in_flight)): nothing
    /// to do.
    pub(crate) fn synced(&mut self, id: u64, synced: Result<(), StoreError>) {
        let Some(pos) = self.in_flight.iter().position(|s| s.id == id) else {
            return;
        };
        if let Err(e) = synced {
            self.fail_in_flight(e, false);
            return;
        }
        for _ in 0..=pos {
            let Some(front) = self.in_flight.front() else {
                return;
            };
            let gone = front.staging.written.iter().find_map(|(path, len, sid)| {
                file_gone(
                    &self.root,
                    path,
                    Expected::AtLeast(*len),
                    &self.handles,
                    sid.as_deref(),
                )
                .map(|why| (path.clone(), why))
            });
            if let Some((path, why)) = gone {
                self.fail_in_flight(StoreError::WrittenFileGone { path, why }, true);
                return;
            }
            if let Some(s) = self.in_flight.pop_front() {
                let answer = crate::target::answer(&self.shared, s.events.len(), Ok(s.committed));
                let _ = s.reply.send(answer);
            }
        }
    }

    /// Undoes every batch in flight, newest first (each back to what the one before it
    /// left), and answers them, oldest first: with `error`; or, when `rewrite` (a file
    /// written was found gone after the fsync), each written again at once as
    /// [`write_batch`](Self::write_batch) writes a batch (into new segments), until one
    /// fails: that one and those after it are answered with its error, never written
    /// before it. Only while no fsync of theirs can run (the caller holds the store's
    /// sync gate).
    fn fail_in_flight(&mut self, error: StoreError, rewrite: bool) {
        let mut undone = Vec::with_capacity(self.in_flight.len());
        // The oldest batch's bytes: the one its dispatcher sends first again.
        let mut oldest_bytes = 0;
        while let Some(s) = self.in_flight.pop_back() {
            oldest_bytes = s.committed.bytes;
            let Undo {
                touched,
                saved_segments,
                saved_chain,
                saved_tree,
                saved_next,
                saved_quiet,
            } = s.undo;
            self.undo_files(&touched, saved_segments, true);
            self.chain = saved_chain;
            self.tree = saved_tree;
            self.next_record = saved_next;
            self.quiet = saved_quiet;
            // Made or first used by the batch: synced again when written again.
            for dir in &s.staging.dirs {
                self.known_dirs.remove(dir);
            }
            undone.push((s.events, s.reply));
        }
        undone.reverse();
        if !rewrite && error.is_disk_full() {
            self.shared
                .head_state
                .disk_refused(RefusedBatch::measured(&self.root, oldest_bytes));
        }
        if rewrite {
            tracing::warn!(store = %self.root.display(), %error, batches = undone.len(),
                "a file the batches in flight were written to is no longer the store's file at its path: they are written again");
        }
        let mut failed: Option<auditrail_core::TargetError> = None;
        for (events, reply) in undone {
            let answer = match &failed {
                Some(e) => {
                    self.shared.counters.write_errors.inc();
                    Err(e.clone())
                }
                None if rewrite => {
                    let written = self.write_batch(&events);
                    crate::target::answer(&self.shared, events.len(), written)
                }
                None => Err(crate::target::failed(&self.shared, &error, events.len())),
            };
            if let Err(e) = &answer {
                if rewrite && failed.is_none() && e.is_retryable() {
                    failed = Some(e.clone());
                }
            }
            let _ = reply.send(answer);
        }
    }

    /// fsyncs every batch in flight here and now, and answers them (as
    /// [`synced`](Self::synced)): before anything else takes the writer (a batch
    /// written at once, a flush, a prune, a scan, the close), so that it finds no batch
    /// half done. The caller holds the store's sync gate.
    pub(crate) fn settle_in_flight(&mut self) {
        let Some(last) = self.in_flight.back().map(|s| s.id) else {
            return;
        };
        let mut files: Vec<PathBuf> = Vec::new();
        let mut dirs: HashSet<PathBuf> = HashSet::new();
        for s in &self.in_flight {
            for f in &s.staging.files {
                if !files.contains(f) {
                    files.push(f.clone());
                }
            }
            dirs.extend(s.staging.dirs.iter().cloned());
        }
        let result = self.sync_files(&files).and_then(|()| sync_dirs(&dirs));
        self.synced(last, result);
    }

    /// Logs a partition's refusal when its streak starts; later refusals of the same
    /// partition (the same events sent again, until an operator acts) only at debug
    /// level.
    fn start_streak(&mut self, rel: &std::path::Path, error: &StoreError, retry_later: bool) {
        if self.refusing.contains(rel) {
            tracing::debug!(store = %self.root.display(), partition = %rel.display(), %error,
                "a partition still refuses its events");
            return;
        }
        let mut published = crate::handle::lock(&self.shared.refusing_for_now);
        if self.refusing.len() >= REFUSING_REMEMBERED {
            self.refusing.clear();
            published.clear();
        }
        self.refusing.insert(rel.to_path_buf());
        // Only what an operator can fix is published (readiness counts it): a partition
        // refused for good stays refused whatever is done, and its events are not sent
        // again to end its streak.
        if retry_later {
            published.insert(rel.to_path_buf());
        }
        drop(published);
        if retry_later {
            tracing::error!(store = %self.root.display(), partition = %rel.display(), %error,
                "store write failed: the store may not write a partition folder; its events are refused for now (their senders send them again once an operator fixed it), the rest of each batch is written");
        } else {
            tracing::error!(store = %self.root.display(), partition = %rel.display(), %error,
                "a partition cannot be made: its events are refused, the rest of the batch is written");
        }
    }

    /// Ends the streaks of the refusing partitions that `kept` (indices into `batch`)
    /// wrote to.
    fn end_streaks(&mut self, batch: &[Arc<Event>], kept: &[usize]) {
        for &i in kept {
            let rel = self.partitions.get(&self.layout, &batch[i]);
            if self.refusing.remove(rel) {
                crate::handle::lock(&self.shared.refusing_for_now).remove(rel);
                tracing::info!(store = %self.root.display(), partition = %rel.display(),
                    "a partition that refused its events is written again");
            }
            if self.refusing.is_empty() {
                return;
            }
        }
    }

    /// Writes `batch`: durably (or as the flush policy says) without `stage`; with it,
    /// appended only, what is left to fsync and check added to `stage` (see
    /// [`Writer::stage_batch`]). What undoing it takes, once written.
    fn write_events(
        &mut self,
        batch: &[Arc<Event>],
        mut stage: Option<&mut Staging>,
    ) -> Result<(Committed, Undo), Failure> {
        if self.needs_recovery {
            self.recover_in_place()?;
        }
        let saved_chain = self.chain.clone();
        let saved_tree = self.tree.clone();
        let saved_next = self.next_record;
        let saved_quiet = self.quiet;
        let mut saved_segments: HashMap<PathBuf, Option<(PathBuf, u64)>> = HashMap::new();
        let mut touched: HashMap<PathBuf, Touched> = HashMap::new();
        let mut committed = Committed::default();
        let now = Timestamp::now();
        let chunk = usize::try_from(MAX_UNACKED_RECORDS).unwrap_or(usize::MAX);
        let mut result = Ok(());
        for events in batch.chunks(chunk) {
            result = self.write_chunk(
                events,
                now,
                &mut saved_segments,
                &mut touched,
                &mut committed,
                stage.as_deref_mut(),
            );
            if result.is_err() {
                break;
            }
        }
        match result {
            Ok(()) => {
                if self.chain.is_some() {
                    let copies = batch.iter().filter(|e| e.is_checkpoint_copy()).count();
                    self.quiet += copies as u64;
                }
                committed.quiet = self.quiet;
                if self.policy.is_some() && std::mem::take(&mut self.synced_in_batch) {
                    // Everything up to this batch's last record is on stable storage now.
                    self.publish_head();
                }
                committed.tree = self.tree.clone();
                let undo = Undo {
                    touched,
                    saved_segments,
                    saved_chain,
                    saved_tree,
                    saved_next,
                    saved_quiet,
                };
                Ok((committed, undo))
            }
            Err(e) => {
                self.synced_in_batch = false;
                // While batches are in flight, their fsync may run now: see `undo_files`.
                let sync = stage.is_none() || self.in_flight.is_empty();
                self.undo_files(&touched, saved_segments, sync);
                self.chain = saved_chain;
                self.tree = saved_tree;
                self.next_record = saved_next;
                self.quiet = saved_quiet;
                if e.error.is_disk_full() {
                    // Measured once undone: the room the batch did not fit in.
                    self.shared
                        .head_state
                        .disk_refused(RefusedBatch::measured(&self.root, committed.planned));
                }
                Err(e)
            }
        }
    }

    fn write_chunk(
        &mut self,
        events: &[Arc<Event>],
        now: Timestamp,
        saved_segments: &mut HashMap<PathBuf, Option<(PathBuf, u64)>>,
        touched: &mut HashMap<PathBuf, Touched>,
        committed: &mut Committed,
        stage: Option<&mut Staging>,
    ) -> Result<(), Failure> {
        // Each link of this chunk, with its record's plan and end in that plan's file
        // (one per event: sized once, not grown by doubling).
        let mut links = Vec::with_capacity(events.len());
        // The number of this chunk's first record (`plan` numbers them from here).
        let first_record = self.next_record;
        let plans = self.plan(events, now, &mut links)?;
        committed.planned += plans.iter().map(|p| p.buf.len() as u64).sum::<u64>();
        // Remember every segment's state before its first change in this batch.
        for plan in &plans {
            saved_segments.entry(plan.rel.clone()).or_insert_with(|| {
                self.segments
                    .get(&plan.rel)
                    .map(|s| (s.path.clone(), s.len))
            });
        }
        let new_dirs = self.create_dirs(&plans)?;
        let mut synced_dirs: HashSet<PathBuf> = new_dirs;
        let mut files: Vec<PathBuf> = Vec::with_capacity(plans.len());
        // Each file written and its length after this chunk's append to it.
        let mut written: Vec<(PathBuf, u64)> = Vec::with_capacity(plans.len());
        // Each plan's file as opened (for the places of its records).
        let mut ids: Vec<Option<Arc<SegmentId>>> = Vec::with_capacity(plans.len());
        for plan in plans {
            let bytes = plan.buf.len() as u64;
            let (seg, id) = self
                .append(&plan, touched)
                .map_err(|(error, opening)| Failure {
                    error,
                    partition: opening.then(|| plan.rel.clone()),
                })?;
            committed.bytes += bytes;
            if plan.new_file {
                if let Some(dir) = plan.path.parent() {
                    synced_dirs.insert(dir.to_path_buf());
                }
            }
            let len = self.segments.get(&plan.rel).map_or(0, |s| s.len);
            written.push((seg.clone(), len));
            self.recycle(plan.buf);
            files.push(seg);
            ids.push(id);
        }
        committed
            .links
            .extend(links.into_iter().map(|(key, link, plan, at)| {
                let place = ids.get(plan).cloned().flatten().map(|file| Place {
                    file,
                    start: at.start,
                    end: at.end,
                });
                (key, link, place)
            }));
        #[cfg(test)]
        tests::after_append(&written);
        if let Some(stage) = stage {
            // Fsynced and checked on the sync thread (see `Writer::stage_batch`).
            stage.files.extend(files);
            stage.dirs.extend(synced_dirs);
            stage.written.extend(
                written
                    .into_iter()
                    .zip(ids)
                    .map(|((path, len), id)| (path, len, id)),
            );
            return Ok(());
        }
        match self.policy {
            None => {
                self.sync_files(&files)?;
                sync_dirs(&synced_dirs)?;
                // Acknowledged only if each file is still the one at the store's path
                // (see the module docs). After the fsync: a removal before it, or
                // during it, is seen now.
                for ((path, len), id) in written.into_iter().zip(&ids) {
                    if let Some(why) = file_gone(
                        &self.root,
                        &path,
                        Expected::AtLeast(len),
                        &self.handles,
                        id.as_deref(),
                    ) {
                        return Err(Failure {
                            error: StoreError::WrittenFileGone { path, why },
                            partition: None,
                        });
                    }
                }
            }
            Some(policy) => {
                self.unsynced_bytes += committed.bytes;
                self.dirty.extend(files);
                self.dirty_dirs.extend(synced_dirs);
                self.dirty_since.get_or_insert_with(Instant::now);
                // Before the batch is answered: a retry answered as a duplicate
                // asks whether its record is fsynced yet (`on_stable_storage`).
                self.shared.note_unsynced(first_record);
                if self.unsynced_bytes >= policy.every_bytes {
                    self.sync_unpublished()?;
                    self.synced_in_batch = true;
                }
            }
        }
        Ok(())
    }

    /// Seals every record into the buffer of the segment it goes to, rolling segments
    /// that would exceed the size limit.
    fn plan(
        &mut self,
        events: &[Arc<Event>],
        now: Timestamp,
        links: &mut Vec<(ReceiptKey, ChainLink, usize, std::ops::Range<u64>)>,
    ) -> Result<Vec<FilePlan>, StoreError> {
        let mut plans: Vec<FilePlan> = Vec::new();
        let mut current: HashMap<PathBuf, usize> = HashMap::new();
        // The plan of the previous event. The events of a batch mostly share one
        // partition: while they do, the next goes to the same plan without copying,
        // checking or hashing its path again.
        let mut previous: Option<usize> = None;
        for event in events {
            let (rel, same) = self.partitions.get_and_hit(&self.layout, event);
            let open = match previous {
                Some(i) if same => Some(i),
                _ => {
                    if !stays_inside(rel) {
                        return Err(StoreError::Escape(rel.to_path_buf()));
                    }
                    current.get(rel).copied()
                }
            };
            // A record for a file this chunk already appends to (the usual case: the
            // previous record's) is written straight into that file's buffer, from
            // `at` on, and sealed there: no copy of the body. Any other is written into
            // `self.body` first. Either way its size is known before deciding whether
            // the file's segment rolls over.
            let (estimate, in_place) = match open {
                Some(i) => {
                    let buf = &mut plans[i].buf;
                    let at = buf.len();
                    self.bodies.write_body(event, now, buf);
                    (buf.len() - at, Some((i, at)))
                }
                None => {
                    self.body.clear();
                    self.bodies.write_body(event, now, &mut self.body);
                    (self.body.len(), None)
                }
            };
            let estimate = estimate as u64 + 128;
            let record = self.next_record;
            if open.is_none() {
                // The first record of this chunk for this partition: make sure its
                // current segment is still the file at the store's path before
                // appending to it (one check per touched file per chunk).
                if let Some(seg) = self.segments.get(rel) {
                    if let Some(why) = file_gone(
                        &self.root,
                        &seg.path,
                        Expected::Exactly(seg.len),
                        &self.handles,
                        seg.id.as_deref(),
                    ) {
                        // An operator removed, moved or truncated the folder (or the
                        // file) while the store was open, or appended bytes to the file.
                        // Appending through the cached handle would write into an
                        // unlinked (or moved) inode and acknowledge records no file of
                        // the store holds, or after a cut or someone else's bytes, glued
                        // to the line they left (a record no reader takes); opening by
                        // path would fail with ENOENT for ever. Forget the file and the folder: the
                        // record below starts a new segment (in a re-created folder).
                        // The chain goes on from its head: the records of the removed
                        // or cut file are the operator's deletion (`verify` reports
                        // them); a truncated file is left as the operator left it.
                        tracing::warn!(store = %self.root.display(), file = %seg.path.display(), why = %why,
                            "a partition's current segment is no longer the file the store wrote at its path: a new segment is started there");
                        let path = seg.path.clone();
                        let none_of_ours = seg.len == 0 && matches!(why, NotAt::Longer { .. });
                        self.segments.remove(rel);
                        self.handles.take(&path);
                        if none_of_ours {
                            free_a_foreign_segment_name(&self.root, &path);
                        }
                        // Nothing left to fsync of it in the store (flush-policy mode),
                        // nor of folders that are gone with it.
                        self.dirty.remove(&path);
                        self.dirty_dirs.retain(|d| d.is_dir());
                        self.known_dirs.remove(&self.root.join(rel));
                    }
                }
            }
            let projected = match in_place {
                // The file's length before this record.
                Some((i, at)) => Some(plans[i].base + at as u64),
                None => self.segments.get(rel).map(|s| s.len),
            };
            let roll = matches!(projected, Some(p) if p > 0 && p + estimate > self.segment_max);
            let index = match (open, roll, projected) {
                (Some(i), false, _) => i,
                (None, false, Some(base)) => {
                    let path = self
                        .segments
                        .get(rel)
                        .map(|s| s.path.clone())
                        .unwrap_or_default();
                    plans.push(FilePlan {
                        rel: rel.to_path_buf(),
                        path,
                        new_file: false,
                        base,
                        buf: self.spare.pop().unwrap_or_default(),
                    });
                    current.insert(rel.to_path_buf(), plans.len() - 1);
                    plans.len() - 1
                }
                _ => {
                    let path = self.root.join(rel).join(segment_file_name(record));
                    plans.push(FilePlan {
                        rel: rel.to_path_buf(),
                        path,
                        new_file: true,
                        base: 0,
                        buf: self.spare.pop().unwrap_or_default(),
                    });
                    current.insert(rel.to_path_buf(), plans.len() - 1);
                    plans.len() - 1
                }
            };
            previous = Some(index);
            // The body is where the record goes, or it moves there (a roll).
            let body_at = match in_place {
                Some((i, at)) if i == index => Some(at),
                Some((i, at)) => {
                    self.body.clear();
                    self.body.extend_from_slice(&plans[i].buf[at..]);
                    plans[i].buf.truncate(at);
                    None
                }
                None => None,
            };
            // The record's start in its file (where a retry's duplicate check reads
            // it back: `place.rs`).
            let start = plans[index].base + body_at.unwrap_or(plans[index].buf.len()) as u64;
            let buf = &mut plans[index].buf;
            let link = match (&mut self.chain, body_at) {
                (Some(chain), Some(at)) => Some(chain.seal_in_place(buf, at)),
                (Some(chain), None) => Some(chain.seal(&self.body, buf)),
                (None, Some(_)) => {
                    buf.extend_from_slice(b"}\n");
                    None
                }
                (None, None) => {
                    buf.extend_from_slice(&self.body);
                    buf.extend_from_slice(b"}\n");
                    None
                }
            };
            if let Some(link) = link {
                if let Some(tree) = &mut self.tree {
                    tree.push_leaf(leaf_hash(&link));
                }
                // The record's end in its file: the file's length before the chunk
                // plus what the chunk appends to it so far.
                let end = plans[index].base + plans[index].buf.len() as u64;
                links.push((ReceiptKey::of(event), link, index, start..end));
            }
            self.next_record += 1;
        }
        Ok(plans)
    }

    /// Keeps an appended buffer for a later batch. A batch of 1000 records fills
    /// ~500 KB per partition; a fresh buffer regrows to that size (and, past glibc's
    /// mmap threshold, faults its pages in) every batch, which reusing avoids. At most
    /// [`SPARE_BUFFERS`] buffers of at most [`SPARE_BUFFER_BYTES`] each are kept.
    fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.spare.len() < SPARE_BUFFERS && buf.capacity() <= SPARE_BUFFER_BYTES {
            buf.clear();
            self.spare.push(buf);
        }
    }

    /// Creates the partition folders the plans need; returns the folders whose entries
    /// changed (parents of new folders) and must be fsynced.
    fn create_dirs(&mut self, plans: &[FilePlan]) -> Result<HashSet<PathBuf>, Failure> {
        let mut to_sync = HashSet::new();
        let mut root_checked = false;
        for plan in plans {
            let dir = self.root.join(&plan.rel);
            // A new file needs its folder to exist now, not only once: a folder removed
            // by hand while the store is open must be made again, or the open fails
            // (ENOENT) for every retry. One `stat` per new segment, never per batch.
            let known = self.known_dirs.contains(&dir);
            if known && !plan.new_file {
                continue;
            }
            if !root_checked {
                self.same_root()?;
                root_checked = true;
            }
            let created = create_beneath(&self.root, &plan.rel).map_err(|error| Failure {
                error,
                partition: Some(plan.rel.clone()),
            })?;
            if known && !created {
                continue;
            }
            // The first use of a folder by this writer syncs it (it holds the segment
            // files) and every folder up to the root, whether it created them or found
            // them: an earlier run may have created them, and files in them, and been
            // killed before its syncs, which no "does it exist" check can tell. Once
            // per folder and writer, never per batch.
            to_sync.insert(dir.clone());
            let mut at = dir.as_path();
            while at != self.root {
                match at.parent() {
                    Some(p) => {
                        to_sync.insert(p.to_path_buf());
                        at = p;
                    }
                    None => break,
                }
            }
            self.known_dirs.insert(dir);
        }
        Ok(to_sync)
    }

    /// Whether the store's root path is still the folder the writer opened: a folder
    /// made at its path since (the store's folder moved away, `mkdir -p` by a script
    /// or a restore) is not this store (no store id, no checkpoint log), and records
    /// written there split the chain across two folders, neither of which verifies
    /// (final62/02). Refused as an error of the whole batch, retried: the store fails
    /// (`503 store_failing`) until its folder is back. Asked before a folder or file
    /// is made, never per batch.
    fn same_root(&self) -> Result<(), StoreError> {
        let Some(opened) = self.root_id else {
            return Ok(());
        };
        match folder_id(&self.root) {
            Ok(now) if now == opened => Ok(()),
            Ok(_) => Err(StoreError::io(
                &self.root,
                io::Error::other(
                    "not the folder the store opened: it was moved away and another folder \
                     put at its path while the server runs; nothing is written there until \
                     the store's folder is back",
                ),
            )),
            Err(e) => Err(StoreError::io(&self.root, e)),
        }
    }

    /// Appends one plan to its file; records the file's pre-batch state first. An error
    /// says whether it came from opening the file (`true`: it is about the partition).
    fn append(
        &mut self,
        plan: &FilePlan,
        touched: &mut HashMap<PathBuf, Touched>,
    ) -> Result<Appended, (StoreError, bool)> {
        let reuse = !plan.new_file
            && self
                .segments
                .get(&plan.rel)
                .is_some_and(|s| s.path == plan.path);
        let mut seg = if reuse {
            self.segments
                .remove(&plan.rel)
                .unwrap_or_else(|| Segment::existing(plan.path.clone(), 0))
        } else {
            Segment::existing(plan.path.clone(), 0)
        };
        let seen = touched.contains_key(&plan.path);
        // A new segment is made here (`O_EXCL`), never found: a file already at its
        // name is not the store's, and its bytes are not appended after
        // ([`StoreError::SegmentNameTaken`]). A file this batch made already (an
        // earlier chunk's) is appended to.
        let create = plan.new_file && !seen;
        // The current segment, removed since its check, is made again by the open:
        // what the undo removes (the check after the fsync finds it cut).
        let made = create || !(seen || self.handles.is_open(&plan.path) || plan.path.exists());
        let opened = if create {
            self.handles.create(&plan.path)
        } else {
            self.handles.append(&plan.path)
        };
        let file = match opened {
            Ok(f) => f,
            Err(e) => {
                if reuse {
                    self.segments.insert(plan.rel.clone(), seg);
                }
                return Err((e, true));
            }
        };
        touched.entry(plan.path.clone()).or_insert(Touched {
            pre_len: if made { 0 } else { seg.len },
            created: made,
            only_foreign: false,
        });
        if seg.id.is_none() {
            // Once per segment and writer: where its records are (see `place.rs`).
            seg.id = SegmentId::of_open(&seg.path, file);
        }
        #[cfg(test)]
        tests::before_write(&plan.path);
        let mut file = file;
        // The handle appends (`O_APPEND`): its offset after the write is where the
        // write ended, wherever the file's end was when it began.
        let written = file
            .write_all(&plan.buf)
            .and_then(|()| file.stream_position());
        let path = seg.path.clone();
        let bytes = plan.buf.len() as u64;
        match written {
            Ok(end) if end > seg.len + bytes => {
                // Someone else appended between the check before this chunk (the file
                // was `seg.len` long then) and this write: the records just written sit
                // after their bytes, the first glued to their last line. Not to be
                // acknowledged: the undo cuts the file back to where this write began,
                // their bytes kept where they are, and the batch is written again, into
                // a new segment (the check before the append finds them then).
                let foreign = seg.len..end - bytes;
                if let Some(t) = touched.get_mut(&plan.path) {
                    if t.pre_len != foreign.start {
                        // Records of an earlier chunk of this batch are before their
                        // bytes: no cut keeps both theirs and none of ours. Recovery
                        // sorts the file out (their bytes, at its tail once ours are
                        // cut, go to its `.cut` sidecar) before the next write.
                        self.needs_recovery = true;
                    }
                    t.only_foreign = t.created && foreign.start == 0;
                    t.pre_len = foreign.end;
                    // A file this batch made holds their bytes now: kept, not removed.
                    t.created = false;
                }
                self.segments.insert(plan.rel.clone(), seg);
                tracing::warn!(store = %self.root.display(), file = %path.display(),
                    from = foreign.start, to = foreign.end,
                    "bytes the store did not write were appended to a segment while a batch was written to it: the batch is not acknowledged there");
                Err((
                    StoreError::WrittenFileGone {
                        path,
                        why: NotAt::Longer {
                            expected: foreign.start,
                            found: foreign.end,
                        },
                    },
                    false,
                ))
            }
            Ok(_) => {
                seg.len += bytes;
                let id = seg.id.clone();
                self.segments.insert(plan.rel.clone(), seg);
                Ok((path, id))
            }
            Err(e) => {
                self.segments.insert(plan.rel.clone(), seg);
                Err((StoreError::io(path, e), false))
            }
        }
    }

    fn sync_files(&mut self, paths: &[PathBuf]) -> Result<(), StoreError> {
        let started = Instant::now();
        let result = self.handles.sync(paths);
        let synced = *result.as_ref().unwrap_or(&0);
        self.shared.record_fsync(synced as u64, started.elapsed());
        result.map(|_| ())
    }

    /// fsyncs every file and folder written since the last fsync (flush-policy mode),
    /// then publishes the chain head: in flush-policy mode the published head (what
    /// checkpoints sign) only ever names records that are on stable storage.
    pub(crate) fn sync_dirty(&mut self) -> Result<(), StoreError> {
        let was_dirty = !self.dirty.is_empty();
        self.sync_unpublished()?;
        if was_dirty && self.policy.is_some() {
            self.publish_head();
        }
        Ok(())
    }

    fn publish_head(&self) {
        if let Some(chain) = &self.chain {
            self.shared.set_head(Head {
                link: chain.last(),
                tree: self.tree.clone(),
                quiet: self.quiet,
            });
        }
    }

    fn sync_unpublished(&mut self) -> Result<(), StoreError> {
        let files: Vec<PathBuf> = self.dirty.iter().cloned().collect();
        let dirs = std::mem::take(&mut self.dirty_dirs);
        let result = self.sync_files(&files).and_then(|()| sync_dirs(&dirs));
        match result {
            Ok(()) => {
                self.dirty.clear();
                self.unsynced_bytes = 0;
                self.dirty_since = None;
                self.shared.note_synced();
                Ok(())
            }
            Err(e) => {
                self.dirty_dirs.extend(dirs);
                Err(e)
            }
        }
    }

    /// When the oldest unsynced write happened (flush-policy mode).
    pub(crate) fn dirty_since(&self) -> Option<Instant> {
        self.dirty_since
    }

    /// Undoes a failed batch: every touched file back to its pre-batch length, files
    /// the batch created removed, segment bookkeeping restored. `sync`: fsync each file
    /// cut. Without: while an earlier
    /// batch's fsync runs on the sync thread (through the same open files), a second
    /// fsync here could take the write error that fsync must report (Linux reports it
    /// once per open file), and that batch be acknowledged; the cut is made durable by
    /// the next fsync of the file (`fdatasync` covers a file's size), and a crash before
    /// it leaves at most the records of an unacknowledged batch, as a crash between an
    /// append and its fsync does.
    fn undo_files(
        &mut self,
        touched: &HashMap<PathBuf, Touched>,
        saved: HashMap<PathBuf, Option<(PathBuf, u64)>>,
        sync: bool,
    ) {
        let mut failed = false;
        for (path, t) in touched {
            let handle = self.handles.take(path);
            let res = if t.created {
                drop(handle);
                fs::remove_file(path).or_else(|e| {
                    if e.kind() == io::ErrorKind::NotFound {
                        Ok(())
                    } else {
                        Err(e)
                    }
                })
            } else {
                let file = match handle {
                    Some(f) => Ok(f),
                    // Not through a link put at its name meanwhile: the file it
                    // points to would be cut.
                    None => auditrail_core::regular_file::open_no_follow(
                        OpenOptions::new().write(true),
                        path,
                    )
                    .map(Arc::new),
                };
                file.and_then(|f| {
                    // Never longer: a file cut by someone else meanwhile (found by the
                    // check after the fsync) would be padded with zero bytes.
                    if f.metadata()?.len() <= t.pre_len {
                        return Ok(());
                    }
                    f.set_len(t.pre_len)?;
                    if sync {
                        f.sync_all()?;
                    }
                    Ok(())
                })
            };
            if res.is_ok() && t.only_foreign {
                free_a_foreign_segment_name(&self.root, path);
            }
            if let Err(e) = res {
                failed = true;
                tracing::error!(file = %path.display(), error = %e, "cannot undo a failed batch; the store will be re-scanned before the next write");
            }
        }
        for (rel, state) in saved {
            match state {
                Some((path, len)) => {
                    self.segments.insert(rel, Segment::existing(path, len));
                }
                None => {
                    self.segments.remove(&rel);
                }
            }
        }
        // Files written by the policy mode and not yet synced stay dirty; the undone
        // ones are gone or back to their old length.
        if failed {
            self.needs_recovery = true;
        }
    }

    /// The layout a prune plans with, once the store can be pruned (chained): taken
    /// under the writer, for the planning done without it.
    /// The chain ranges the checkpoint log records as deleted (see
    /// [`crate::recorded_deletions`]).
    pub(crate) fn recorded_deletions(&self) -> &crate::recorded_deletions::RecordedDeletions {
        &self.recorded_deletions
    }

    pub(crate) fn prune_layout<E: std::error::Error + 'static>(
        &self,
    ) -> Result<crate::Layout, crate::prune::PruneError<E>> {
        if self.chain.is_none() {
            return Err(self.not_chained());
        }
        Ok(self.layout)
    }

    /// The step of a prune that holds the writer before anything is removed (see
    /// [`crate::prune`]): checks that `candidates` (read without the writer) are
    /// unchanged, makes the plan against the chain head, lets `record` record it
    /// (nothing is removed when it fails), lists the deleted node numbers, and forgets
    /// what the writer holds in those folders (open handles, current segments). The
    /// files are removed afterwards by [`prune_remove`](Self::prune_remove), a few at a
    /// time. `reread`: a partition changed since it was read is read again (else left
    /// for a later prune, see [`crate::prune::recheck`]). `Ok(None)`: nothing to delete.
    /// The flag: whether the plan was recorded (`record` returning `Ok(false)` is a dry
    /// run: nothing to remove).
    pub(crate) fn prune_record<E: std::error::Error + 'static>(
        &mut self,
        mut candidates: crate::prune::Candidates,
        reread: bool,
        record: impl FnOnce(&crate::prune::PrunePlan) -> Result<bool, E>,
    ) -> Result<Option<(crate::prune::PrunePlan, bool)>, crate::prune::PruneError<E>> {
        use crate::prune::PruneError;
        let head = self.prune_head()?;
        crate::prune::recheck(&self.root, &mut candidates, reread)?;
        crate::prune::unlist_recorded(&self.root, &mut candidates, &self.recorded_deletions)?;
        for m in candidates.misplaced() {
            tracing::error!(store = %self.root.display(), folder = %m.folder, file = %m.file, chain_seq = m.chain_seq, misfit = %m.misfit, "retention keeps a partition holding a record that does not belong in its folder (moved there by hand?): it is not deleted and its deletion not signed; `auditrail verify` names it (misplaced-record) until an operator puts it right: {m}");
            self.prune_refused.push(m.clone());
        }
        // Partitions whose files cannot be removed are left out here, before the line
        // is signed (see `prune_removable`).
        let assembled = crate::prune::assemble(candidates, head, Some(&self.root))
            .map_err(|partitions| PruneError::Unremovable { partitions })?;
        let Some(mut plan) = assembled else {
            return Ok(None);
        };
        plan.tree = self.tree.clone();
        // The list of deleted node numbers as this prune leaves it, planned before the
        // line is written: the line signs its digest (see `deleted_seqs`).
        let listing = crate::deleted_seqs::plan_add(&self.root, &plan.nodes)?;
        plan.deleted_seqs = Some(listing.listed);
        if !record(&plan).map_err(PruneError::Record)? {
            return Ok(Some((plan, false)));
        }
        // Which node numbers go, listed before their records do (see
        // `deleted_seqs`): a start after this prune tells them from numbers never stored.
        crate::deleted_seqs::write(&self.root, &listing)?;
        self.recorded_deletions.add(&plan.ranges);
        // Close what the writer holds in those folders before removing them: a late
        // event for an old hour must open a new segment (named by its own chain number,
        // so never one of the files the plan removes), never append to a file that is
        // removed (its record would be lost with the unlinked inode).
        for p in &plan.partitions {
            let rel = PathBuf::from(&p.folder);
            self.segments.remove(&rel);
            for seg in &p.segments {
                let path = self.root.join(seg);
                self.handles.take(&path);
                self.dirty.remove(&path);
            }
        }
        Ok(Some((plan, true)))
    }

    /// The partitions prunes left out since the last call for holding a record that
    /// does not belong in their folder (see [`crate::placement`]).
    pub(crate) fn take_prune_refusals(&mut self) -> Vec<crate::placement::MisplacedPartition> {
        std::mem::take(&mut self.prune_refused)
    }

    /// Freezes the files of `partitions`: the next record for one of these folders
    /// starts a new segment (named by its own chain number) instead of appending to the
    /// current one. An archive's prune freezes what it is about to upload, so that the
    /// files it uploads are still as uploaded when it deletes them, however many late
    /// events arrive meanwhile; those are in new segments, which stay for a later prune
    /// (see [`PruneOnly`](crate::prune::PruneOnly)).
    pub(crate) fn freeze(&mut self, partitions: &[crate::prune::PrunedPartition]) {
        for p in partitions {
            self.segments.remove(&PathBuf::from(&p.folder));
        }
    }

    /// Removes recorded partitions' files and the folders left empty (one removal step
    /// of a prune, see [`crate::prune::removal_steps`]; empty folders it cannot remove
    /// are added to `folders_left`). Batches may have been written
    /// since the partitions were recorded: a late event for one of them is in a segment
    /// of its own (see [`prune_record`](Self::prune_record)), which stays, and so does
    /// its folder.
    pub(crate) fn prune_remove(
        &mut self,
        partitions: &[crate::prune::PrunedPartition],
        folders_left: &mut Vec<String>,
    ) -> Result<(), crate::prune::NotRemoved> {
        let removed = crate::prune::remove(&self.root, partitions, folders_left);
        // Folders may be gone: made again when a batch needs them.
        self.known_dirs.clear();
        self.dirty_dirs.retain(|d| d.is_dir());
        removed
    }

    /// Every pass a prune ([`prune_record`](Self::prune_record)) would make for `rule`,
    /// one after the other, planned and nothing removed (a dry run: see
    /// [`crate::prune::passes`]), against this writer's chain head. Empty: nothing to
    /// delete.
    pub(crate) fn prune_passes<E: std::error::Error + 'static>(
        &mut self,
        rule: &crate::prune::PruneRule,
    ) -> Result<Vec<crate::prune::PrunePlan>, crate::prune::PruneError<E>> {
        let head = self.prune_head()?;
        let mut passes = crate::prune::passes(&self.root, &self.layout, rule, Some(head))?;
        for plan in &mut passes {
            plan.tree = self.tree.clone();
        }
        Ok(passes)
    }

    /// The chain head a prune plans against, once the store can be pruned: chained,
    /// recovered, and what the plan covers made durable (under a flush policy: the
    /// record of a deletion vouches for the head it names).
    fn prune_head<E: std::error::Error + 'static>(
        &mut self,
    ) -> Result<ChainLink, crate::prune::PruneError<E>> {
        if self.chain.is_none() {
            return Err(self.not_chained());
        }
        if self.needs_recovery {
            self.recover_in_place()?;
        }
        self.sync_dirty()?;
        Ok(self.chain.as_ref().map_or(ChainLink::GENESIS, Chain::last))
    }

    /// A prune of this store when it is not chained: nothing could record its deletions.
    fn not_chained<E: std::error::Error + 'static>(&self) -> crate::prune::PruneError<E> {
        crate::prune::PruneError::Unavailable {
            root: self.root.clone(),
            reason: "the store is not chained (`chain = false`): deletions could not be recorded"
                .into(),
        }
    }

    /// Re-runs the open-time recovery (after an undo that could not complete), in the
    /// folder the store opened only: its root is never made here. A root moved away
    /// (the store's folder, or the data folder holding it: `mv data data.old`) made
    /// again at its path would be an empty store there, the chain split across two
    /// folders, and the moved folder's way back blocked (`mv data.old data` nests it).
    /// So the write fails, and is retried, until the folder is back ([`Writer::same_root`]).
    fn recover_in_place(&mut self) -> Result<(), StoreError> {
        self.same_root()?;
        let chained = self.chain.is_some();
        self.handles.clear();
        let walked = crate::walk::StoreFiles::walk(&self.root)?;
        let recovered = recovery::recover(
            &self.root,
            chained,
            &self.shared,
            walked,
            &crate::ReadProgress::new(),
        )?;
        self.adopt(recovered);
        self.needs_recovery = false;
        Ok(())
    }
}

/// Frees the name of a segment that holds none of the store's records, only bytes
/// someone else appended (to a segment the store made for a batch whose write it then
/// cut back: `append`'s end-offset check): the new segment is named after the same
/// first record (the chain did not move), and a file at its name is refused, not
/// appended after (`SegmentNameTaken`), which would refuse that partition's every batch
/// until an operator moved the file. The bytes go to the `<segment>.cut` sidecar, as
/// recovery keeps a torn tail (never discarded), and the empty file is removed. When
/// that fails, the name stays taken and the refusal says so.
fn free_a_foreign_segment_name(root: &Path, path: &Path) {
    let freed = recovery::cut_aside(path, 0).and_then(|bytes| {
        fs::remove_file(path).map_err(|e| StoreError::io(path, e))?;
        let dir = path.parent().unwrap_or(root);
        auditrail_core::durable::sync_dir(dir).map_err(|e| StoreError::io(dir, e))?;
        Ok(bytes)
    });
    match freed {
        Ok(bytes) => tracing::warn!(store = %root.display(), file = %path.display(), bytes,
            "a segment the store made held only bytes it did not write: they are kept in its `.cut` sidecar and the segment is made again at its name"),
        Err(e) => tracing::warn!(store = %root.display(), file = %path.display(), error = %e,
            "a segment the store made holds only bytes it did not write, and they could not be set aside: its name stays taken"),
    }
}

/// Why the file at `path`, which the writer made `len` bytes long (exactly, before it
/// appends: bytes after its end are someone else's, and an append would glue its first
/// record to them; at least, after an fsync: batches in flight behind the one checked
/// lengthen it), is no longer the file it wrote there, or `None` when it still is: the path is gone (its folder
/// removed or moved aside), a symbolic link is at it or at a folder on it below the
/// store's `root` (a folder moved elsewhere and a link left in its place), the held handle is of a file that has been unlinked
/// (`nlink` 0) or replaced by another (device or inode differ), or the file is
/// shorter than the writer made it (truncated in place:
/// an append would land after the cut, the first record glued to whatever line the cut
/// left). Without a held handle (closed by the `max_open_files` bound) only the length
/// is checked. Other errors reading the path are left to the open that follows, which
/// reports them.
fn file_gone(
    root: &Path,
    path: &Path,
    len: Expected,
    handles: &Handles,
    written: Option<&SegmentId>,
) -> Option<NotAt> {
    // Not through a link at any level below the root: a partition folder moved to
    // another disk with a link left in its place would have the batch appended to the
    // moved file (the same inode) and acknowledged outside the store's folders.
    match lstat_beneath(root, path) {
        Err(why) => Some(why),
        Ok(None) => None,
        Ok(Some(at_path)) => match handles.peek(path) {
            Some(held) => auditrail_core::durable::why_not(held, &at_path, len),
            // No handle held (more files than `max_open_files`): the identity the file
            // had when this writer opened it tells another file moved to its path (of
            // the same length or longer) from it.
            None => match written {
                Some(id) if !id.is(&at_path) => Some(NotAt::Replaced),
                _ => len.why_not(at_path.len()),
            },
        },
    }
}

/// fsyncs folders, so that new entries in them (files, sub-folders) are durable; in
/// parallel (see [`sync_parallel`](crate::handles::sync_parallel)).
pub(crate) fn sync_dirs(dirs: &HashSet<PathBuf>) -> Result<(), StoreError> {
    let dirs: Vec<&PathBuf> = dirs.iter().collect();
    crate::handles::sync_parallel(&dirs, |d| {
        #[cfg(test)]
        tests::record_sync(d);
        auditrail_core::durable::sync_dir(d).map_err(|e| StoreError::io(d, e))?;
        Ok(1)
    })?;
    Ok(())
}

/// Makes the folders of `rel` under the store's `root` one at a time, and checks those
/// that exist, never through a symbolic link: `create_dir_all` (and `is_dir`) follow a
/// link at any level, so a link planted at a partition folder the server has not used
/// yet (a day folder: the names are predictable) had a new segment created and its
/// records acknowledged in the folder the link points to, outside the store. The root
/// itself may be a link (a store moved to another disk). One `lstat` per level, only
/// when a segment is started, never per batch. Whether it made a folder.
/// A folder's device and inode (what tells it from another made at its path).
fn folder_id(path: &Path) -> io::Result<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    let m = fs::metadata(path)?;
    Ok((m.dev(), m.ino()))
}

fn create_beneath(root: &Path, rel: &Path) -> Result<bool, StoreError> {
    let mut at = root.to_path_buf();
    let mut created = false;
    for part in rel.components() {
        at.push(part);
        let found = match fs::symlink_metadata(&at) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match auditrail_core::file_mode::audit_folder(&mut fs::DirBuilder::new())
                    .create(&at)
                {
                    Ok(()) => {
                        created = true;
                        continue;
                    }
                    // Made at the same time by someone else: check what it is.
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                        fs::symlink_metadata(&at).map_err(|e| StoreError::io(&at, e))?
                    }
                    Err(e) => return Err(StoreError::io(&at, e)),
                }
            }
            found => found.map_err(|e| StoreError::io(&at, e))?,
        };
        if found.file_type().is_symlink() {
            // Refused as a link at a segment's name is (`O_NOFOLLOW`): nothing was
            // written where it points; removing it is the fix. Named by the store's
            // root, as the error names the link itself.
            let e =
                auditrail_core::no_follow::refused_if_link(&at, io::Error::from_raw_os_error(40));
            return Err(StoreError::io(root, e));
        }
        if !found.is_dir() {
            // `ENOTDIR`, as `create_dir_all` said: a partition no retry can make.
            return Err(StoreError::io(&at, std::io::Error::from_raw_os_error(20)));
        }
    }
    Ok(created)
}

#[cfg(test)]
#[path = "writer_rewrite_tests.rs"]
mod rewrite_tests;

#[cfg(test)]
#[path = "writer_pipeline_tests.rs"]
mod pipeline_tests;

#[cfg(test)]
#[path = "writer_foreign_bytes_race_tests.rs"]
mod foreign_bytes_race_tests;

#[cfg(test)]
#[path = "writer_zero_length_segment_name_tests.rs"]
mod zero_length_segment_name_tests;

#[cfg(test)]
#[path = "writer_root_moved_away_is_not_made_again_by_recovery_tests.rs"]
mod root_moved_away_is_not_made_again_by_recovery_tests;

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use std::path::Path;

    /// The folders [`sync_dirs`] synced (on any thread: it syncs in parallel); each test
    /// takes those under its own temporary folder.
    static SYNCED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());

    pub(super) fn record_sync(dir: &Path) {
        SYNCED.lock().unwrap().push(dir.to_path_buf());
    }

    /// What a test does between a chunk's appends and their fsync (as another program
    /// would, racing the writer): gets each file written and its length.
    pub(crate) type AfterAppend = Box<dyn FnMut(&[(PathBuf, u64)]) + Send>;

    /// The hooks of the tests running, each for the files under its own folder.
    static AFTER_APPEND: std::sync::Mutex<Vec<(PathBuf, AfterAppend)>> =
        std::sync::Mutex::new(Vec::new());

    /// Runs `hook` after every chunk appended to files under `dir`, until
    /// [`no_hook_under`] is called.
    pub(crate) fn hook_under(dir: &Path, hook: AfterAppend) {
        AFTER_APPEND.lock().unwrap().push((dir.to_path_buf(), hook));
    }

    pub(crate) fn no_hook_under(dir: &Path) {
        AFTER_APPEND.lock().unwrap().retain(|(d, _)| d != dir);
    }

    /// What a test does right before the writer's append to a file under its folder,
    /// after the check of that file (as another program would, racing the writer):
    /// gets the file's path.
    pub(crate) type BeforeWrite = Box<dyn FnMut(&Path) + Send>;

    static BEFORE_WRITE: std::sync::Mutex<Vec<(PathBuf, BeforeWrite)>> =
        std::sync::Mutex::new(Vec::new());

    /// Runs `hook` before every append to a file under `dir`, until
    /// [`no_write_hook_under`] is called.
    pub(crate) fn write_hook_under(dir: &Path, hook: BeforeWrite) {
        BEFORE_WRITE.lock().unwrap().push((dir.to_path_buf(), hook));
    }

    pub(crate) fn no_write_hook_under(dir: &Path) {
        BEFORE_WRITE.lock().unwrap().retain(|(d, _)| d != dir);
    }

    pub(super) fn before_write(path: &Path) {
        for (dir, hook) in BEFORE_WRITE.lock().unwrap().iter_mut() {
            if path.starts_with(dir) {
                hook(path);
            }
        }
    }

    pub(super) fn after_append(written: &[(PathBuf, u64)]) {
        let Some((first, _)) = written.first() else {
            return;
        };
        for (dir, hook) in AFTER_APPEND.lock().unwrap().iter_mut() {
            if first.starts_with(dir) {
                hook(written);
            }
        }
    }

    /// What a test does before an fsync of segment files under its folder (on the
    /// thread that fsyncs): gets the files; an error fails the fsync as the disk's
    /// would.
    pub(crate) type BeforeSync = Arc<dyn Fn(&[PathBuf]) -> io::Result<()> + Send + Sync>;

    static BEFORE_SYNC: std::sync::Mutex<Vec<(PathBuf, BeforeSync)>> =
        std::sync::Mutex::new(Vec::new());

    /// Runs `hook` before every fsync of segment files under `dir`, until
    /// [`no_sync_hook_under`] is called.
    pub(crate) fn sync_hook_under(dir: &Path, hook: BeforeSync) {
        BEFORE_SYNC.lock().unwrap().push((dir.to_path_buf(), hook));
    }

    pub(crate) fn no_sync_hook_under(dir: &Path) {
        BEFORE_SYNC.lock().unwrap().retain(|(d, _)| d != dir);
    }

    pub(crate) fn before_sync(files: &[crate::handles::ToSync]) -> Result<(), StoreError> {
        let Some((first, _)) = files.first() else {
            return Ok(());
        };
        // Called outside the lock: a hook may wait for its test.
        let hooks: Vec<BeforeSync> = BEFORE_SYNC
            .lock()
            .unwrap()
            .iter()
            .filter(|(dir, _)| first.starts_with(dir))
            .map(|(_, hook)| hook.clone())
            .collect();
        let paths: Vec<PathBuf> = files.iter().map(|(p, _)| p.clone()).collect();
        for hook in hooks {
            hook(&paths).map_err(|e| StoreError::io(first, e))?;
        }
        Ok(())
    }

    fn take_synced_under(dir: &Path) -> HashSet<PathBuf> {
        let mut all = SYNCED.lock().unwrap();
        let (ours, others): (Vec<PathBuf>, Vec<PathBuf>) =
            all.drain(..).partition(|p| p.starts_with(dir));
        *all = others;
        ours.into_iter().collect()
    }

    /// A store reopened after a run that may have been killed before its folder syncs:
    /// the first batch into a partition whose folders (and segment) are there syncs
    /// them all the same, from the partition's folder up to the root.
    #[test]
    fn the_first_batch_into_an_existing_partition_syncs_its_folders_up_to_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap().join("store");
        let config: crate::StoreConfig =
            serde_json::from_value(serde_json::json!({"path": "store"})).unwrap();
        let t = crate::StoreTarget::open(&root, &config, "store").unwrap();
        t.send_blocking(&auditrail_testkit::store::events(1, 1))
            .unwrap();
        drop(t);
        let t = crate::StoreTarget::open(&root, &config, "store").unwrap();
        take_synced_under(&root);
        t.send_blocking(&auditrail_testkit::store::events(2, 1))
            .unwrap();
        let segment = crate::walk::StoreFiles::walk(&root)
            .unwrap()
            .segments()
            .next()
            .map(|s| s.path.clone())
            .unwrap();
        let mut expected = HashSet::new();
        let mut at = segment.parent().unwrap();
        loop {
            expected.insert(at.to_path_buf());
            if at == root {
                break;
            }
            at = at.parent().unwrap();
        }
        assert!(expected.len() > 2, "{expected:?}");
        assert_eq!(take_synced_under(&root), expected);
        // Known now: the next batch syncs no folder.
        t.send_blocking(&auditrail_testkit::store::events(3, 1))
            .unwrap();
        assert_eq!(take_synced_under(&root), HashSet::new());
    }
}
