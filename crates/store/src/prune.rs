//! Deleting whole time partitions (retention), beside ingest.
//!
//! A prune picks closed time partitions by a [`PruneRule`] (older than a date, and/or
//! the oldest ones while the store is larger than a size), reads the chain fields of
//! their records, and hands the caller a [`PrunePlan`]: the partition folders, the
//! chain ranges their records cover and the chain hash at the end of each range. Only
//! once the caller has recorded the plan (the integrity layer signs it into the
//! checkpoint log, fsynced) are the files removed. A crash between the two leaves
//! files that the log says are deleted: the next prune picks them again, and `verify`
//! warns about them meanwhile; nothing is ever removed without its record.
//!
//! The store's writer is held in bounded steps only, so that a batch waits for one step
//! at most (a node's client times out after some seconds; a pass of a large store used
//! to hold the writer for seconds, and a batch queued behind another waited through
//! several passes): the walk and the read of the partitions (`candidates`) take no
//! writer; one step checks they are unchanged (`recheck`), makes the plan against the
//! chain head (`assemble`, which leaves out a partition whose files cannot be removed,
//! see `prune_removable.rs`, so that the record names only what is removed) and
//! records it; then each of the `removal_steps` removes a
//! few files. Between two steps the writer goes to a waiting batch first
//! (`StoreHandle::prune_only`).
//!
//! The hash at the end of each range is what lets a verifier go on checking the chain
//! after a deleted range: the first record after it chains to that hash.
//!
//! The record at the chain head (the last record written) is never deleted: the
//! checkpoint log vouches for it, and the chain resumes from it after a restart. A
//! partition holding it waits for the next prune.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use auditrail_core::Timestamp;

use crate::chain::ChainLink;
use crate::deleted_seqs::NodeDeleted;
use crate::error::StoreError;
use crate::merkle::{leaf_hash, CompactRange};
use crate::placement::MisplacedPartition;
use crate::read::SegmentReader;
use crate::recorded_deletions::{AlreadyDeleted, RecordedDeletions};
use crate::walk::{PartitionFiles, StoreFiles};

pub use crate::prune_removable::Unremovable;

/// Partitions deleted by one prune at most; a larger selection is done in several
/// prunes (each with its own record), so that one record stays a bounded line.
pub const MAX_PARTITIONS_PER_PRUNE: usize = 1000;

/// Which time partitions a prune deletes. A partition is only ever deleted once its
/// time range is over (`end <= now`), and the one holding the chain head never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PruneRule {
    /// Delete partitions whose time range ended at or before this instant (retention by
    /// age: `now - retention`; `auditrail store prune --before`).
    pub before: Option<Timestamp>,
    /// Then, while the store's segments take more than this many bytes, delete the
    /// closed partitions that ended first (retention by size).
    pub max_bytes: Option<u64>,
    /// The current time.
    pub now: Timestamp,
}

/// One partition folder a prune deletes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunedPartition {
    /// The folder, relative to the store root, `/`-separated.
    pub folder: String,
    /// When its time range ended.
    pub end: Timestamp,
    /// Its segment files (relative paths).
    pub segments: Vec<String>,
    /// Its records.
    pub records: u64,
    /// Its segments' size in bytes.
    pub bytes: u64,
    /// Each of `segments`' records and bytes, in the same order: what a removal that
    /// leaves some of them (a file it cannot remove) counts as left ([`Left`]).
    pub segment_sizes: Vec<SegmentSize>,
}

/// One segment file's share of a [`PrunedPartition`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentSize {
    /// Its records.
    pub records: u64,
    /// Its size in bytes.
    pub bytes: u64,
}

/// What a pass recorded as deleted (its signed line, `.deleted-seqs.jsonl`) but could
/// not remove: segment files it met an error for (a folder made read-only, an
/// immutable file, after the check before the record found it removable: see
/// [`PrunePlan::unremovable`]), or never tried (the store closed between two removal steps). They
/// are still there (`verify` confirms them against the line, `deletion-incomplete`),
/// and the next prune removes them. Everything else of the plan was removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Left {
    /// The partition folders with a file left, oldest first: not deleted (yet).
    pub partitions: Vec<String>,
    /// The segment files left (relative paths).
    pub files: Vec<String>,
    /// Their records.
    pub records: u64,
    /// Their bytes.
    pub bytes: u64,
}

impl Left {
    /// The files `files` (relative paths) of `plan`, with their partitions and sizes.
    fn of(plan: &PrunePlan, files: &HashSet<String>) -> Left {
        let mut left = Left::default();
        for p in &plan.partitions {
            let mut any = false;
            for (rel, size) in p.segments.iter().zip(&p.segment_sizes) {
                if files.contains(rel) {
                    any = true;
                    left.files.push(rel.clone());
                    left.records += size.records;
                    left.bytes += size.bytes;
                }
            }
            if any {
                left.partitions.push(p.folder.clone());
            }
        }
        left
    }
}

impl PrunePlan {
    /// The partitions of the plan that were removed, `left` aside (all of them for a
    /// pass that removed everything): a partition with a file left is not among them.
    pub fn removed_partitions<'a>(
        &'a self,
        left: Option<&'a Left>,
    ) -> impl Iterator<Item = &'a PrunedPartition> + 'a {
        self.partitions
            .iter()
            .filter(move |p| left.is_none_or(|l| !l.partitions.contains(&p.folder)))
    }

    /// The records removed, `left` aside.
    pub fn removed_records(&self, left: Option<&Left>) -> u64 {
        self.records - left.map_or(0, |l| l.records)
    }

    /// The bytes removed, `left` aside.
    pub fn removed_bytes(&self, left: Option<&Left>) -> u64 {
        self.bytes - left.map_or(0, |l| l.bytes)
    }
}

/// The partitions a prune may take, each with its segment files (relative paths) and
/// their sizes as the caller saw them: an archive passes what it uploaded, and the
/// prune takes those files and no other. A segment started in the partition since (a
/// late event: the archive's pass froze the partition's files, see
/// [`StoreHandle::prune_plan_freezing`](crate::StoreHandle::prune_plan_freezing)) is
/// not among them and stays, with its folder, for a later prune. A partition one of
/// whose listed files differs when the prune runs (appended to, cut or gone) is left
/// for a later prune ([`PrunePlan::changed`]). Segment files are append-only, so an
/// unchanged size means unchanged bytes.
pub type PruneOnly = BTreeMap<String, Vec<(String, u64)>>;

/// Whether each of the files `seen` (path and size) is in `now` with its size: the
/// files a [`PruneOnly`] lists are still as listed, whatever else the folder holds.
fn still_as_listed(seen: &[(String, u64)], now: &[(String, u64)]) -> bool {
    seen.iter().all(|s| now.contains(s))
}

/// A run of consecutive chain numbers deleted, with the chain hash of its last record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletedRange {
    /// First chain number of the run.
    pub first: u64,
    /// Last chain number of the run.
    pub last: u64,
    /// The chain hash of record `last`: the link the record after the run chains to.
    pub hash: [u8; 32],
    /// The run's leaves in the Merkle tree (leaves `first - 1 .. last`) as their
    /// maximal subtrees, so that tree heads and proofs over the run stay computable
    /// once its records are gone (see [`crate::merkle`]). `None` when runs overlapped
    /// (a damaged store): the run's subtrees are then unknown.
    pub subtrees: Option<CompactRange>,
}

/// What a prune deletes (or would delete).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunePlan {
    /// The partitions, oldest first.
    pub partitions: Vec<PrunedPartition>,
    /// The chain ranges of their records, in order, adjacent runs merged.
    pub ranges: Vec<DeletedRange>,
    /// Records deleted.
    pub records: u64,
    /// Bytes deleted.
    pub bytes: u64,
    /// The chain head when the plan was made (no batch is written meanwhile).
    pub head: ChainLink,
    /// Whether more partitions matched the rule than one prune deletes
    /// ([`MAX_PARTITIONS_PER_PRUNE`]): prune again.
    pub more: bool,
    /// Partitions the rule selected but that hold the chain head, kept for now.
    pub kept_for_head: Vec<String>,
    /// The Merkle frontier at `head` (the writer's; `None` on a dry run, or when the
    /// store has no tree).
    pub tree: Option<CompactRange>,
    /// Partitions the rule selected but whose files differ from the caller's
    /// [`PruneOnly`] (changed since it was made), kept for now.
    pub changed: Vec<String>,
    /// Partitions the rule selected but whose files cannot be removed (a folder made
    /// read-only, an immutable file, a read-only mount: checked under the writer just
    /// before the plan is recorded, see `prune_removable.rs`), left out of the
    /// plan and its signed line, kept for now: the next prune tries them again.
    pub unremovable: Vec<Unremovable>,
    /// Per node, the records deleted and their sequence numbers (listed in the store's
    /// [`DELETED_SEQS_FILE`](crate::deleted_seqs::DELETED_SEQS_FILE) once recorded, so
    /// that they are not taken for numbers never stored).
    pub nodes: BTreeMap<String, NodeDeleted>,
    /// The lowest chainSeq of a segment file the plan keeps (the first in a file; a
    /// file's records follow it): every record below it is deleted once the plan is
    /// carried out, or was before. `None`: none found. The checkpoint log's pieces whose
    /// lines vouch only for records below it may go (integrity layer).
    pub first_kept: Option<u64>,
    /// The digests of the store's list of deleted node numbers before and after this
    /// prune (set once the plan is about to be recorded; `None` on a dry run), which
    /// its deletion line signs.
    pub deleted_seqs: Option<crate::deleted_seqs::Listed>,
    /// Folders the removal left empty but could not remove (their parent refused it:
    /// read-only, immutable), relative to the store root, `/`-separated; each was
    /// said in a WARN. Their records are deleted (not part of the signed line).
    pub folders_left: Vec<String>,
}

/// Why a prune did not complete.
#[derive(Debug, thiserror::Error)]
pub enum PruneError<E: std::error::Error + 'static> {
    /// Reading the store failed (before anything was removed; a removal that fails is
    /// [`PruneError::Removal`]).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The plan was recorded and its removal began, but files of it are left (`left`):
    /// every other file of the plan was removed. `plan` is what was recorded.
    #[error("the deletion was recorded, but {} segment files of it ({} partitions, the first {}) could not be removed; the rest of its {} partitions were removed", left.files.len(), left.partitions.len(), left.files.first().map_or("", String::as_str), plan.partitions.len())]
    Removal {
        /// What was recorded (and, `left` aside, removed).
        plan: Box<PrunePlan>,
        /// What is left.
        left: Left,
        /// The first failure: a file that could not be removed, or the store closed
        /// between two removal steps. (Not in the message: a `PruneError` in its own
        /// `Display` bounds would recurse; callers say the source chain.)
        #[source]
        source: Box<PruneError<E>>,
    },
    /// The caller could not record the plan: nothing was deleted.
    #[error("recording the deletion failed; nothing was deleted: {0}")]
    Record(#[source] E),
    /// Every partition the rule selected (the one holding the chain head aside) cannot
    /// be removed: nothing was recorded or deleted. (A plan that leaves some out and
    /// deletes others names them in [`PrunePlan::unremovable`].)
    #[error("{} partitions due for deletion cannot be removed; nothing was recorded or deleted: {}", partitions.len(), partitions.first().map(ToString::to_string).unwrap_or_default())]
    Unremovable {
        /// The partitions, oldest first.
        partitions: Vec<Unremovable>,
    },
    /// The store cannot be pruned (closed, not chained, or waiting for its recovery).
    #[error("store {root}: {reason}")]
    Unavailable {
        /// The store.
        root: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Picks the partitions a rule selects from a walked store: oldest first.
pub(crate) fn select<'a>(
    files: &'a StoreFiles,
    partitions: Vec<PartitionFiles<'a>>,
    rule: &PruneRule,
) -> Vec<(PartitionFiles<'a>, Timestamp)> {
    let mut closed: Vec<(PartitionFiles<'a>, Timestamp)> = partitions
        .into_iter()
        .filter_map(|p| {
            let end = p.partition.as_ref()?.time.end();
            (end <= rule.now).then_some((p, end))
        })
        .collect();
    closed.sort_by(|a, b| (a.1, a.0.dir).cmp(&(b.1, b.0.dir)));
    let size = |p: &PartitionFiles<'_>| p.segments.iter().map(|s| s.len).sum::<u64>();
    let mut remaining = files.segment_bytes();
    let mut chosen = Vec::new();
    for (p, end) in closed {
        let by_age = rule.before.is_some_and(|b| end <= b);
        let by_size = rule.max_bytes.is_some_and(|m| remaining > m);
        if by_age || by_size {
            remaining = remaining.saturating_sub(size(&p));
            chosen.push((p, end));
        }
    }
    chosen
}

/// What [`read_runs`] reads of a partition: its runs, the records of each of its
/// segment files (by relative path), per node its records, and the first record that
/// does not belong in the partition's folder (see [`crate::placement`]).
pub(crate) type Runs = (
    Vec<DeletedRange>,
    BTreeMap<String, u64>,
    BTreeMap<String, NodeDeleted>,
    Option<MisplacedPartition>,
);

/// Reads the chain fields of a partition's records: its runs of consecutive chain
/// numbers (with the hash at each run's end), each segment's record count, and per
/// node the records and their sequence numbers; and checks that each record belongs
/// in the partition's folder under `layout` (the rule `auditrail verify` applies).
pub(crate) fn read_runs(
    p: &PartitionFiles<'_>,
    layout: &crate::Layout,
) -> Result<Runs, StoreError> {
    read_runs_listing(p, None, layout)
}

/// Whether `listed` already has the record `chain_seq` of `node`'s number `seq` (a
/// prune killed after it listed them and before it removed the files). A record in a
/// recorded range whose number is not listed (killed between the line and the list)
/// is listed now.
fn already_listed(listed: Option<&AlreadyDeleted>, chain_seq: u64, node: &str, seq: u64) -> bool {
    listed.is_some_and(|l| l.has(chain_seq, node, seq))
}

/// [`read_runs`], leaving the records `listed` already has out of the per-node numbers
/// (listed and counted by the prune that recorded them: see
/// [`crate::recorded_deletions`]); runs and record count take every record.
fn read_runs_listing(
    p: &PartitionFiles<'_>,
    listed: Option<&AlreadyDeleted>,
    layout: &crate::Layout,
) -> Result<Runs, StoreError> {
    let mut runs: Vec<DeletedRange> = Vec::new();
    let mut by_segment = BTreeMap::new();
    let mut nodes: BTreeMap<String, NodeDeleted> = BTreeMap::new();
    let mut misplaced: Option<MisplacedPartition> = None;
    for segment in &p.segments {
        let mut records = 0u64;
        SegmentReader::open(&segment.path)?.for_each_line(|line| {
            // Lines that are not sealed records are not part of the chain: nothing to
            // record for them (verify reports them while they exist).
            let Ok(sealed) = line.sealed() else { return };
            let link = sealed.link;
            records += 1;
            // The folder's name is what selected the partition: a record whose own
            // topic, routing key or time does not give this folder was put here by
            // hand, and its deletion must not be signed (the caller leaves it out).
            if misplaced.is_none() {
                if let Some(misfit) = layout.record_misfit(p.dir, line.bytes) {
                    misplaced = Some(MisplacedPartition {
                        folder: crate::walk::slash_separated(p.dir),
                        file: segment.rel.clone(),
                        line: line.number,
                        chain_seq: link.seq,
                        misfit,
                    });
                }
            }
            // A record that is no readable stored event was no node's number either
            // (the server's start skips it too, by the same reader).
            let event = line
                .stored_event()
                .map(|s| s.event)
                .ok()
                .filter(|e| !already_listed(listed, link.seq, e.node.as_ref(), e.seq));
            if let Some(event) = event {
                let n = match nodes.get_mut(event.node.as_ref()) {
                    Some(n) => n,
                    None => nodes.entry(event.node.into_owned()).or_default(),
                };
                n.add(event.seq);
                // The record may be the only word of these numbers (see `deleted_seqs`).
                if let Some(r) = event.abandoned_seqs {
                    n.add_abandoned(r.first, r.last);
                }
            }
            match runs.last_mut() {
                // `checked_add`: a damaged or forged line may hold 2^64-1.
                Some(r) if r.last.checked_add(1) == Some(link.seq) => {
                    r.last = link.seq;
                    r.hash = link.hash;
                    if let Some(t) = &mut r.subtrees {
                        t.push_leaf(leaf_hash(&link));
                    }
                }
                _ => {
                    let mut subtrees = CompactRange::new(link.seq.saturating_sub(1));
                    subtrees.push_leaf(leaf_hash(&link));
                    runs.push(DeletedRange {
                        first: link.seq,
                        last: link.seq,
                        hash: link.hash,
                        subtrees: Some(subtrees),
                    })
                }
            }
        })?;
        *by_segment.entry(segment.rel.clone()).or_default() += records;
    }
    Ok((runs, by_segment, nodes, misplaced))
}

/// Sorts runs and merges adjacent ones (the later run's hash ends the merged one).
pub(crate) fn merge_runs(mut runs: Vec<DeletedRange>) -> Vec<DeletedRange> {
    runs.sort_by_key(|r| r.first);
    let mut out: Vec<DeletedRange> = Vec::with_capacity(runs.len());
    for r in runs {
        match out.last_mut() {
            Some(m) if r.first <= m.last.saturating_add(1) => {
                // Adjacent runs join their subtrees; overlapping ones (the same
                // number twice: damage) leave the merged run's subtrees unknown.
                let joined = match (&mut m.subtrees, &r.subtrees) {
                    (Some(a), Some(b)) if m.last.checked_add(1) == Some(r.first) => {
                        a.append(b).is_ok()
                    }
                    _ => false,
                };
                if !joined {
                    m.subtrees = None;
                }
                if r.last > m.last {
                    m.last = r.last;
                    m.hash = r.hash;
                }
            }
            _ => out.push(r),
        }
    }
    out
}

/// A partition a prune may delete, read without the store's writer: its segment files
/// as they were read (relative path and size, chain order) and what their records are.
/// Segment files are append-only: the same files with the same sizes under the writer
/// (see [`recheck`]) are the same records.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    folder: String,
    end: Timestamp,
    files: Vec<(String, u64)>,
    runs: Vec<DeletedRange>,
    /// Records of each of `files`, by relative path.
    records: BTreeMap<String, u64>,
    nodes: BTreeMap<String, NodeDeleted>,
}

/// The partitions a rule selects, read (at most [`MAX_PARTITIONS_PER_PRUNE`]): the first
/// half of a plan, which needs no writer. [`assemble`] makes the plan of them against
/// the chain head.
#[derive(Debug, Clone, Default)]
pub(crate) struct Candidates {
    read: Vec<Candidate>,
    /// Partitions left out because their files differ from the caller's [`PruneOnly`].
    changed: Vec<String>,
    /// Partitions left out because their files cannot be removed (see [`assemble`]).
    unremovable: Vec<Unremovable>,
    /// More partitions matched than one prune takes.
    more: bool,
    /// The lowest chainSeq of a segment the candidates do not take (see
    /// [`PrunePlan::first_kept`]).
    floor: Option<u64>,
    /// Partitions left out because a record in them does not belong in their folder.
    misplaced: Vec<MisplacedPartition>,
    /// The layout the records were judged by (the store's).
    layout: crate::Layout,
}

impl Candidates {
    /// The partitions left out for holding a record that does not belong in their
    /// folder.
    pub(crate) fn misplaced(&self) -> &[MisplacedPartition] {
        &self.misplaced
    }
}

/// The lowest first chainSeq of a candidate's runs.
fn lowest(runs: &[DeletedRange]) -> Option<u64> {
    runs.iter().map(|r| r.first).min()
}

fn lower(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(x.min(y)),
        (x, y) => x.or(y),
    }
}

/// Picks and reads the partitions `rule` selects from the store at `root` (a walk of
/// every folder and a read of the chosen partitions' records: the part of a prune whose
/// cost grows with the store, done without the writer; see [`crate::StoreHandle::prune`]).
pub(crate) fn candidates(
    root: &Path,
    layout: &crate::Layout,
    rule: &PruneRule,
    only: Option<&PruneOnly>,
) -> Result<Candidates, StoreError> {
    candidates_of(&StoreFiles::walk(root)?, layout, rule, only)
}

fn candidates_of(
    files: &StoreFiles,
    layout: &crate::Layout,
    rule: &PruneRule,
    only: Option<&PruneOnly>,
) -> Result<Candidates, StoreError> {
    let mut chosen = select(files, files.partitions(layout), rule);
    let more = chosen.len() > MAX_PARTITIONS_PER_PRUNE;
    chosen.truncate(MAX_PARTITIONS_PER_PRUNE);
    let mut changed = Vec::new();
    let mut misplaced = Vec::new();
    let mut read = Vec::new();
    for (p, end) in &chosen {
        let folder = crate::walk::slash_separated(p.dir);
        let now: Vec<(String, u64)> = p.segments.iter().map(|s| (s.rel.clone(), s.len)).collect();
        let (files, (runs, records, nodes, wrong)) = match only {
            None => (now, read_runs(p, layout)?),
            Some(only) => match only.get(&folder) {
                Some(seen) if still_as_listed(seen, &now) => {
                    // The listed files alone: a segment a late event started since
                    // was not archived, and stays.
                    let listed = PartitionFiles {
                        dir: p.dir,
                        partition: None,
                        segments: p
                            .segments
                            .iter()
                            .copied()
                            .filter(|s| seen.iter().any(|(rel, _)| *rel == s.rel))
                            .collect(),
                    };
                    (seen.clone(), read_runs(&listed, layout)?)
                }
                Some(_) => {
                    changed.push(folder);
                    continue;
                }
                None => continue,
            },
        };
        // Not taken: its files count as kept (the floor below), like any other.
        if let Some(wrong) = wrong {
            misplaced.push(wrong);
            continue;
        }
        read.push(Candidate {
            folder,
            end: *end,
            files,
            runs,
            records,
            nodes,
        });
    }
    let taken: HashSet<&str> = read
        .iter()
        .flat_map(|c| c.files.iter().map(|(rel, _)| rel.as_str()))
        .collect();
    let floor = files
        .segments()
        .filter(|s| !taken.contains(s.rel.as_str()))
        .filter_map(crate::walk::StoreFile::first_record)
        .min();
    Ok(Candidates {
        floor,
        read,
        changed,
        unremovable: Vec::new(),
        more,
        misplaced,
        layout: *layout,
    })
}

/// Under the store's writer, before a plan made of `candidates` is recorded: lists each
/// candidate's folder again (one `readdir` and a `stat` per segment: bounded by the
/// partitions of one prune, whatever the store's size) and keeps only what is still as
/// it was read. A partition whose files changed since (a late event appended to one of
/// its segments, or started one) is read again here when `reread` (a prune that takes
/// whatever the rule selects). Without `reread` (an archive's prune, which deletes only
/// what it uploaded) a partition is taken with the files it was read with as long as
/// each is unchanged (a segment started since is not taken, and stays), and is else
/// left for a later prune, named in [`PrunePlan::changed`]. A partition whose segments
/// are all gone (removed meanwhile) is dropped.
pub(crate) fn recheck(
    root: &Path,
    candidates: &mut Candidates,
    reread: bool,
) -> Result<(), StoreError> {
    let mut kept = Vec::with_capacity(candidates.read.len());
    for mut c in std::mem::take(&mut candidates.read) {
        let dir = PathBuf::from(&c.folder);
        let listed = StoreFiles::segments_in(root, &dir)?;
        let now: Vec<(String, u64)> = listed.iter().map(|s| (s.rel.clone(), s.len)).collect();
        if now.is_empty() {
            continue;
        }
        let unchanged = if reread {
            now == c.files
        } else {
            still_as_listed(&c.files, &now)
        };
        if !unchanged {
            if !reread {
                candidates.floor = lower(candidates.floor, lowest(&c.runs));
                candidates.changed.push(c.folder);
                continue;
            }
            let p = PartitionFiles {
                dir: &dir,
                partition: None,
                segments: listed.iter().collect(),
            };
            let wrong;
            (c.runs, c.records, c.nodes, wrong) = read_runs(&p, &candidates.layout)?;
            if let Some(wrong) = wrong {
                candidates.floor = lower(candidates.floor, lowest(&c.runs));
                candidates.misplaced.push(wrong);
                continue;
            }
            c.files = now;
        }
        kept.push(c);
    }
    candidates.read = kept;
    Ok(())
}

/// Under the store's writer, after [`recheck`]: reads again the candidates holding
/// records in ranges the checkpoint log already records as deleted (a prune killed
/// before it removed them), so that the node numbers `.deleted-seqs.jsonl` lists for
/// them already are not listed and counted a second time (see
/// [`crate::recorded_deletions`]). Rare: only such leftovers are read.
pub(crate) fn unlist_recorded(
    root: &Path,
    candidates: &mut Candidates,
    recorded: &RecordedDeletions,
) -> Result<(), StoreError> {
    let mut already: Option<AlreadyDeleted> = None;
    for c in &mut candidates.read {
        if !c.runs.iter().any(|r| recorded.overlaps(r.first, r.last)) {
            continue;
        }
        if already.is_none() {
            already = Some(AlreadyDeleted::new(
                recorded.clone(),
                crate::deleted_seqs::read(root)?,
            ));
        }
        let dir = PathBuf::from(&c.folder);
        let listed = StoreFiles::segments_in(root, &dir)?;
        // The files `recheck` kept, no other: an archive's prune takes only those it
        // uploaded (a segment a late event started since stays).
        let p = PartitionFiles {
            dir: &dir,
            partition: None,
            segments: listed
                .iter()
                .filter(|s| c.files.iter().any(|(rel, _)| *rel == s.rel))
                .collect(),
        };
        // The files `recheck` read under this same hold of the writer: their records'
        // placement was judged there.
        (c.runs, c.records, c.nodes, _) =
            read_runs_listing(&p, already.as_ref(), &candidates.layout)?;
        c.files = p.segments.iter().map(|s| (s.rel.clone(), s.len)).collect();
    }
    Ok(())
}

/// The second half of a plan: the candidates less the partition holding `head` (the
/// newest record, never deleted), their chain ranges merged. `None`: nothing to delete.
///
/// With `removable` (the store's root: a prune about to record its plan, under the
/// writer), a candidate whose files cannot be removed is left out as well, named in
/// [`PrunePlan::unremovable`]: its deletion is then not signed while its files stay.
/// Checked here, after the head's partition was set aside (never deleted, so never
/// said to be unremovable) and before anything is recorded, frozen or archived.
/// `Err`: every candidate left is such a partition, nothing to delete.
pub(crate) fn assemble(
    candidates: Candidates,
    head: ChainLink,
    removable: Option<&Path>,
) -> Result<Option<PrunePlan>, Vec<Unremovable>> {
    let Candidates {
        read,
        changed,
        mut unremovable,
        more,
        mut floor,
        misplaced: _,
        layout: _,
    } = candidates;
    let mut partitions = Vec::new();
    let mut all_runs = Vec::new();
    let mut kept_for_head = Vec::new();
    let mut deleted: BTreeMap<String, NodeDeleted> = BTreeMap::new();
    for c in read {
        if c.runs
            .iter()
            .any(|r| r.first <= head.seq && head.seq <= r.last)
        {
            floor = lower(floor, lowest(&c.runs));
            kept_for_head.push(c.folder);
            continue;
        }
        if let Some(u) =
            removable.and_then(|root| crate::prune_removable::check(root, &c.folder, &c.files))
        {
            // Kept, as the head's partition is: its records stay below the floor.
            floor = lower(floor, lowest(&c.runs));
            unremovable.push(u);
            continue;
        }
        let segment_sizes: Vec<SegmentSize> = c
            .files
            .iter()
            .map(|(rel, len)| SegmentSize {
                records: c.records.get(rel).copied().unwrap_or(0),
                bytes: *len,
            })
            .collect();
        partitions.push(PrunedPartition {
            folder: c.folder,
            end: c.end,
            bytes: segment_sizes.iter().map(|s| s.bytes).sum(),
            records: segment_sizes.iter().map(|s| s.records).sum(),
            segments: c.files.into_iter().map(|(rel, _)| rel).collect(),
            segment_sizes,
        });
        all_runs.extend(c.runs);
        for (node, d) in c.nodes {
            deleted.entry(node).or_default().join(d);
        }
    }
    for d in deleted.values_mut() {
        d.tidy();
    }
    if partitions.is_empty() {
        return if unremovable.is_empty() {
            Ok(None)
        } else {
            Err(unremovable)
        };
    }
    Ok(Some(PrunePlan {
        records: partitions.iter().map(|p| p.records).sum(),
        bytes: partitions.iter().map(|p| p.bytes).sum(),
        partitions,
        ranges: merge_runs(all_runs),
        head,
        more,
        kept_for_head,
        tree: None,
        changed,
        unremovable,
        nodes: deleted,
        first_kept: floor,
        deleted_seqs: None,
        folders_left: Vec::new(),
    }))
}

/// The plan for `rule` over files already walked (the dry run's planner: the real prune
/// runs the same two halves, [`candidates`] without the writer and [`assemble`] under
/// it). `head` is the chain head when the caller holds the store's writer; without it
/// (a dry run, which takes no lock) the head is the newest record in the store's files:
/// the highest chainSeq of any segment, as the writer's recovery finds it at open,
/// wherever that record is (a late event can put it in an older partition than the
/// newest segment's).
///
/// With `removable` (the store's root), the partitions whose files cannot be removed
/// are left out as the real prune leaves them out under its writer. Also returns what
/// the plan leaves out: those partitions, and the ones holding a misplaced record.
fn plan_of(
    files: &StoreFiles,
    layout: &crate::Layout,
    rule: &PruneRule,
    head: Option<ChainLink>,
    only: Option<&PruneOnly>,
    removable: Option<&Path>,
) -> Result<Planned, StoreError> {
    let candidates = candidates_of(files, layout, rule, only)?;
    let misplaced = candidates.misplaced.clone();
    let head = match head {
        Some(head) => head,
        None => {
            let read_here: HashSet<&str> = candidates
                .read
                .iter()
                .flat_map(|c| c.files.iter().map(|(rel, _)| rel.as_str()))
                .collect();
            let in_read = candidates
                .read
                .iter()
                .flat_map(|c| c.runs.iter())
                .map(|r| ChainLink {
                    seq: r.last,
                    hash: r.hash,
                });
            newest_record(
                files
                    .segments()
                    .filter(|s| !read_here.contains(s.rel.as_str())),
                in_read,
            )?
        }
    };
    let (plan, unremovable) = match assemble(candidates, head, removable) {
        Ok(Some(plan)) => {
            let unremovable = plan.unremovable.clone();
            (Some(plan), unremovable)
        }
        Ok(None) => (None, Vec::new()),
        Err(unremovable) => (None, unremovable),
    };
    Ok(Planned {
        plan,
        unremovable,
        misplaced,
    })
}

/// A plan of [`plan_of`], with what it leaves out.
struct Planned {
    plan: Option<PrunePlan>,
    unremovable: Vec<Unremovable>,
    misplaced: Vec<MisplacedPartition>,
}

/// What a dry run of a prune finds ([`dry_run`]): the passes the real prune makes, and
/// the partitions due that it would leave out, which no pass names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DryRun {
    /// One plan per pass (empty: nothing to delete).
    pub passes: Vec<PrunePlan>,
    /// Partitions due whose files cannot be removed now (`prune_removable.rs`: the
    /// check the real prune makes under its writer before it records a pass): left
    /// out, and the real prune fails naming them once it deleted the rest.
    pub unremovable: Vec<Unremovable>,
    /// Partitions due holding a record that does not belong in their folder
    /// (`placement.rs`): left out, and the real prune fails naming them.
    pub misplaced: Vec<MisplacedPartition>,
}

/// The newest record (highest chainSeq) among `segments`' sealed records and the
/// links `known` (run ends the planner has read already); genesis for none.
fn newest_record<'a>(
    segments: impl Iterator<Item = &'a crate::walk::StoreFile>,
    known: impl Iterator<Item = ChainLink>,
) -> Result<ChainLink, StoreError> {
    let mut head = ChainLink::GENESIS;
    let mut take = |link: ChainLink| {
        if link.seq > head.seq {
            head = link;
        }
    };
    known.for_each(&mut take);
    for segment in segments {
        SegmentReader::open(&segment.path)?.for_each_line(|line| {
            if let Ok(sealed) = line.sealed() {
                take(sealed.link);
            }
        })?;
    }
    Ok(head)
}

/// What a prune of the store at `root` (with `config`'s layout) would delete now,
/// pass by pass, without taking the store's lock or changing anything (a dry run; the
/// store may be open by a running server meanwhile). The same planner as the real
/// prune ([`crate::StoreHandle::prune`]); the chain head is the newest record in the
/// store's files (the highest chainSeq of any segment, wherever a late event put
/// it), so that the dry run keeps the partition the real run keeps. Unlike the real
/// prune it reads every segment, as opening the store does.
///
/// One plan per pass the real prune makes: a selection larger than
/// [`MAX_PARTITIONS_PER_PRUNE`] is deleted in several passes, and each pass after the
/// first is planned on the files the earlier ones leave (see `passes`). Empty:
/// nothing to delete.
///
/// Both checks by which the real prune leaves a partition out are made (nothing is
/// changed by either): whether its files can be removed, and whether each of its
/// records belongs in its folder. What they leave out is in [`DryRun::unremovable`]
/// and [`DryRun::misplaced`], each partition once.
pub fn dry_run(
    root: &Path,
    config: &crate::StoreConfig,
    rule: &PruneRule,
) -> Result<DryRun, StoreError> {
    passes_checking(root, &crate::Layout::from(config), rule, None, Some(root))
}

/// Every pass a prune by `rule` makes over the store at `root`, planned without
/// deleting anything: the store is walked once, and each pass is planned on that walk
/// less the segment files of the passes before it, which is what the real prune's
/// next walk finds once they are removed (the size rule then counts the bytes left,
/// and a partition kept for holding the chain head is selected again). The passes
/// stop as the real prune's do: at a plan that says no more ([`PrunePlan::more`]), or
/// at one that deletes nothing. `head` as in [`plan`]; without it, the newest record
/// found by the first pass is the head of the later ones (deleting never takes it).
pub(crate) fn passes(
    root: &Path,
    layout: &crate::Layout,
    rule: &PruneRule,
    head: Option<ChainLink>,
) -> Result<Vec<PrunePlan>, StoreError> {
    Ok(passes_checking(root, layout, rule, head, None)?.passes)
}

/// [`passes`], with what they leave out; with `removable` (the store's root) the
/// partitions whose files cannot be removed are left out too.
fn passes_checking(
    root: &Path,
    layout: &crate::Layout,
    rule: &PruneRule,
    mut head: Option<ChainLink>,
    removable: Option<&Path>,
) -> Result<DryRun, StoreError> {
    let mut files = StoreFiles::walk(root)?;
    let mut planned = Vec::new();
    let mut out = DryRun::default();
    loop {
        let Planned {
            plan,
            unremovable,
            misplaced,
        } = plan_of(&files, layout, rule, head, None, removable)?;
        // A partition left out stays in the files: each later pass selects it again.
        for u in unremovable {
            if !out.unremovable.iter().any(|o| o.folder == u.folder) {
                out.unremovable.push(u);
            }
        }
        for m in misplaced {
            if !out.misplaced.iter().any(|o| o.folder == m.folder) {
                out.misplaced.push(m);
            }
        }
        let Some(plan) = plan else { break };
        head = Some(plan.head);
        let gone: HashSet<&str> = plan
            .partitions
            .iter()
            .flat_map(|p| p.segments.iter().map(String::as_str))
            .collect();
        files.files.retain(|f| !gone.contains(f.rel.as_str()));
        let more = plan.more;
        planned.push(plan);
        if !more {
            break;
        }
    }
    out.passes = planned;
    Ok(out)
}

/// Segment files one removal step takes at most (see [`removal_steps`]).
pub(crate) const REMOVE_STEP_FILES: usize = 64;

/// The plan's partitions in removal steps of at most [`REMOVE_STEP_FILES`] segment
/// files each (a partition with more is a step of its own): each step holds the store's
/// writer once, so a batch waits for one step (tens of file removals and folder
/// fsyncs), not for a whole pass (up to 1000 partitions: seconds on a slow disk).
pub(crate) fn removal_steps(partitions: &[PrunedPartition]) -> Vec<&[PrunedPartition]> {
    let mut steps = Vec::new();
    let (mut from, mut files) = (0, 0);
    for (i, p) in partitions.iter().enumerate() {
        if i > from && files + p.segments.len() > REMOVE_STEP_FILES {
            steps.push(&partitions[from..i]);
            (from, files) = (i, 0);
        }
        files += p.segments.len();
    }
    if from < partitions.len() {
        steps.push(&partitions[from..]);
    }
    steps
}

/// Removes the partitions' segment files, then every folder the removal left empty (up
/// to, not including, the root), and fsyncs the folders whose entries changed. Files
/// already gone are fine (a prune that was interrupted and is done again).
///
/// A file that cannot be removed (a folder made read-only, an immutable file) fails the
/// removal with the first such error, but only after every other partition was
/// removed: one partition an operator locked used to keep every partition after it in
/// the plan on disk, pass after pass, each of them deleted in the signed log and still
/// answered by queries (tryout60/04). The error names every file left, so that the
/// pass reports what it did remove ([`PruneError::Removal`]).
///
/// A folder left empty that cannot be removed (its parent made read-only or immutable)
/// is said in a WARN naming it and added to `folders_left` (relative, `/`-separated):
/// its records are gone and `verify` passes, but an empty hour folder left without a
/// word looked like a partition the prune missed.
pub(crate) fn remove(
    root: &Path,
    partitions: &[PrunedPartition],
    folders_left: &mut Vec<String>,
) -> Result<(), NotRemoved> {
    let mut to_sync: HashMap<PathBuf, ()> = HashMap::new();
    let mut failed: Option<NotRemoved> = None;
    for p in partitions {
        let dir = root.join(&p.folder);
        for rel in &p.segments {
            let path = root.join(rel);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::error!(file = %path.display(), error = %e, "a deleted partition's file cannot be removed; the other partitions are removed, this one is tried again at the next prune");
                    failed
                        .get_or_insert_with(|| NotRemoved {
                            files: HashSet::new(),
                            first: StoreError::io(&path, e),
                        })
                        .files
                        .insert(rel.clone());
                }
            }
        }
        to_sync.insert(dir.clone(), ());
        // Empty folders up the tree go too (a topic, a routing key, a day...): the
        // layout of what is left then shows what is kept. A folder that still holds
        // anything (a later segment, a `.cut` file recovery kept) stays.
        let mut at = dir;
        while at != root && at.starts_with(root) {
            match fs::remove_dir(&at) {
                Ok(()) => {
                    to_sync.remove(&at);
                }
                Err(e) => {
                    // Not empty (or gone): kept, as it should be. Empty and still
                    // there: the removal itself was refused.
                    if is_empty_folder(&at) {
                        let rel = relative_folder(root, &at);
                        tracing::warn!(folder = %at.display(), error = %e, "a pruned partition's folder is empty but cannot be removed (its parent folder refuses it: read-only or immutable); its records are deleted and recorded, the empty folder is left: remove it by hand once its parent is writable");
                        if !folders_left.contains(&rel) {
                            folders_left.push(rel);
                        }
                    }
                    break;
                }
            }
            match at.parent() {
                Some(parent) => {
                    to_sync.insert(parent.to_path_buf(), ());
                    at = parent.to_path_buf();
                }
                None => break,
            }
        }
    }
    for dir in to_sync.keys() {
        // The files are gone either way: a failed sync is no reason to fail the prune,
        // but a removal a power loss may take back (files back after a crash) is said.
        if dir.is_dir() {
            if let Err(e) = auditrail_core::durable::sync_dir(dir) {
                tracing::warn!(folder = %dir.display(), error = %e, "pruned files removed, but the folder could not be synced: after a power loss they may be back");
            }
        }
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

/// Whether `dir` is a folder with no entry.
fn is_empty_folder(dir: &Path) -> bool {
    fs::read_dir(dir).is_ok_and(|mut entries| entries.next().is_none())
}

/// `dir` relative to `root`, `/`-separated (as [`PrunedPartition::folder`]).
fn relative_folder(root: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// The segment files a removal step could not remove (relative paths), and the
/// first error met.
#[derive(Debug)]
pub(crate) struct NotRemoved {
    pub(crate) files: HashSet<String>,
    pub(crate) first: StoreError,
}

/// A pass whose removal left `files` (relative paths) of `plan`, failing first with
/// `first`: the plan, what is left of it, and the error.
pub(crate) fn removal_failed<E: std::error::Error + 'static>(
    plan: PrunePlan,
    files: &HashSet<String>,
    first: PruneError<E>,
) -> PruneError<E> {
    PruneError::Removal {
        left: Left::of(&plan, files),
        plan: Box::new(plan),
        source: Box::new(first),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(first: u64, last: u64, h: u8) -> DeletedRange {
        let mut subtrees = CompactRange::new(first - 1);
        for seq in first..=last {
            subtrees.push_leaf(leaf_hash(&ChainLink {
                seq,
                hash: [seq as u8; 32],
            }));
        }
        DeletedRange {
            first,
            last,
            hash: [h; 32],
            subtrees: Some(subtrees),
        }
    }

    #[test]
    fn adjacent_runs_merge_and_keep_the_hash_of_their_end_and_their_subtrees() {
        let merged = merge_runs(vec![r(5, 6, 6), r(1, 2, 2), r(3, 4, 4), r(9, 9, 9)]);
        assert_eq!(merged, vec![r(1, 6, 6), r(9, 9, 9)]);
        let mut overlapping = merge_runs(vec![r(1, 3, 3), r(3, 4, 4)]);
        assert_eq!(overlapping.len(), 1);
        assert!(overlapping.remove(0).subtrees.is_none());
    }
}
