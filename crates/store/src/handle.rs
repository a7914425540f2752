//! What the rest of the server sees of an open store: durability, chain head,
//! receipts and counters, through a [`StoreHandle`].

use std::cmp::Reverse;
use std::collections::{BTreeSet, BinaryHeap, HashMap, VecDeque};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use auditrail_core::durable::NotAt;
use auditrail_core::Event;
use serde::Serialize;
use tokio::sync::watch;

use crate::chain::ChainLink;
use crate::merkle::CompactRange;
use crate::place::{Place, SegmentId, WhyGone};

use crate::error::StoreError;
use crate::identity::ReceiptKey;
use crate::recovery::RecoveryReport;
use crate::scan::{read_all, read_all_ends, ScanReport};
use crate::stored_event::StoredEvent;
use crate::walk::StoreFile;
use crate::wanted::Wanted;
use crate::writer::{Committed, Writer};

/// Chain links of recently stored events kept for [`StoreHandle::chain_range`].
pub const RECENT_LINKS: usize = 1 << 18;

#[derive(Debug, Default)]
pub(crate) struct Counter(AtomicU64);

impl Counter {
    pub(crate) fn inc(&self) {
        self.add(1);
    }
    pub(crate) fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }
    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) batches: Counter,
    pub(crate) records: Counter,
    pub(crate) bytes: Counter,
    pub(crate) fsyncs: Counter,
    pub(crate) fsync_micros: Counter,
    pub(crate) write_errors: Counter,
    pub(crate) disk_full_errors: Counter,
    pub(crate) refused_events: Counter,
    /// The write or fsync in progress.
    pub(crate) busy: crate::busy::Busy,
    /// The fsync in progress on the sync thread (durable mode), while the writer
    /// appends the next batch.
    pub(crate) sync_busy: crate::busy::Busy,
    pub(crate) torn_tails_cut: Counter,
    pub(crate) records_cut: Counter,
    pub(crate) corrupt_files: Counter,
    pub(crate) records_gone: Counter,
}

/// Counters of one store since it was opened (for `/metrics`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct StoreStats {
    /// Batches committed.
    pub batches: u64,
    /// Records written.
    pub records: u64,
    /// Bytes appended.
    pub bytes: u64,
    /// fsync calls on segment files.
    pub fsyncs: u64,
    /// Time spent in those fsyncs, in microseconds (sum).
    pub fsync_micros: u64,
    /// Batches that failed and were undone.
    pub write_errors: u64,
    /// Of those, failures because the disk was full.
    pub disk_full_errors: u64,
    /// Events left out of their batch (the rest written) because their partition's
    /// folder or file could not be made or opened: for good
    /// ([`StoreError::is_partition_permanent`](crate::StoreError::is_partition_permanent))
    /// or until an operator fixes it
    /// ([`StoreError::is_partition_unwritable`](crate::StoreError::is_partition_unwritable)).
    pub refused_events: u64,
    /// Torn tails cut when opening.
    pub torn_tails_cut: u64,
    /// Records cut after a chain gap when opening.
    pub records_cut: u64,
    /// Segment files set aside as corrupt when opening.
    pub corrupt_files: u64,
    /// Events retried whose record this store no longer held where it wrote it (its
    /// segment file or folder removed, moved, replaced or cut by hand, found by
    /// [`StoreHandle::records_gone`]): stored again instead of answered as duplicates.
    pub records_gone: u64,
}

/// State shared by the writer and the handles.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) root: PathBuf,
    pub(crate) target_name: String,
    pub(crate) durable: bool,
    pub(crate) chained: bool,
    pub(crate) counters: Counters,
    head: watch::Sender<Head>,
    recent: Mutex<RecentLinks>,
    pub(crate) recovery: Mutex<RecoveryReport>,
    /// What the batch at the head of its queue met: taken, a full disk, or another
    /// retried error ([`StoreHandle::head_state`]).
    pub(crate) head_state: crate::head_state::HeadCell,
    /// Partition folders (relative to the root) whose events the store refuses for now
    /// because it may not write there ([`StoreHandle::refusing_partitions`]); kept by
    /// the writer as it starts and ends each refusal streak.
    pub(crate) refusing_for_now: Mutex<BTreeSet<PathBuf>>,
    /// Under a flush policy: the number of the first record written since the last
    /// fsync, 0 when every record written is fsynced (or the store is durable). Set by
    /// the writer before the batch holding that record is answered, cleared after an
    /// fsync of everything written ([`StoreHandle::on_stable_storage`]).
    unsynced_from: AtomicU64,
    /// How many records the ring keeps: [`RECENT_LINKS`], fewer in a test that
    /// needs records to leave it.
    #[cfg(test)]
    recent_capacity: std::sync::atomic::AtomicUsize,
}

/// The last [`RECENT_LINKS`] records, oldest first, each with its event's
/// [`ReceiptKey`] (id and identity tag, hashed once when the record is written):
/// appending costs no more hashing on the write path; a receipt looks its keys up from
/// the newest backwards. Each with where its record is (`None`: not known), so that
/// an answer vouching for a record checks it is still there
/// ([`StoreHandle::records_gone`]).
///
/// With the link of the last record that left the ring (`dropped`): the record before
/// the ring's oldest, whose hash the oldest's bytes are checked against before it is
/// vouched for. Without it the oldest record (the next to leave, so the one a retry
/// from furthest back finds) was checked by its chain fields alone, and a same-length
/// edit of its body kept them: answered as a stored duplicate until `verify` ran.
#[derive(Debug, Default)]
struct RecentLinks {
    ring: VecDeque<(ReceiptKey, ChainLink, Option<Place>)>,
    dropped: Option<ChainLink>,
}

impl RecentLinks {
    /// The link of chain number `seq`, when the ring holds it or it is the link
    /// dropped last (the genesis for 0).
    fn link_of(&self, seq: u64) -> Option<ChainLink> {
        if seq == 0 {
            return Some(ChainLink::GENESIS);
        }
        // The ring is in chain order (written, or read back at open, so).
        self.ring
            .binary_search_by_key(&seq, |(_, link, _)| link.seq)
            .ok()
            .and_then(|j| self.ring.get(j))
            .map(|(_, link, _)| *link)
            .or(self.dropped.filter(|l| l.seq == seq))
    }
}

impl Shared {
    pub(crate) fn new(root: PathBuf, target_name: String, durable: bool, chained: bool) -> Shared {
        Shared {
            root,
            target_name,
            durable,
            chained,
            counters: Counters::default(),
            head: watch::Sender::new(Head::from(ChainLink::GENESIS)),
            recent: Mutex::new(RecentLinks::default()),
            recovery: Mutex::new(RecoveryReport::default()),
            head_state: Default::default(),
            refusing_for_now: Mutex::new(BTreeSet::new()),
            unsynced_from: AtomicU64::new(0),
            #[cfg(test)]
            recent_capacity: std::sync::atomic::AtomicUsize::new(RECENT_LINKS),
        }
    }

    /// How many records the ring of recent links keeps ([`RECENT_LINKS`]).
    fn recent_capacity(&self) -> usize {
        #[cfg(test)]
        return self.recent_capacity.load(Ordering::Relaxed);
        #[cfg(not(test))]
        RECENT_LINKS
    }

    /// Keeps `n` records in the ring of recent links from now on (tests: records leave
    /// it without writing [`RECENT_LINKS`] of them).
    #[cfg(test)]
    pub(crate) fn set_recent_capacity(&self, n: usize) {
        self.recent_capacity.store(n, Ordering::Relaxed);
    }

    /// Records from number `first` on were written and are not fsynced yet (flush
    /// policy): kept when earlier ones are waiting already.
    pub(crate) fn note_unsynced(&self, first: u64) {
        let _ = self.unsynced_from.compare_exchange(
            0,
            first.max(1),
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Everything written is fsynced.
    pub(crate) fn note_synced(&self) {
        self.unsynced_from.store(0, Ordering::Release);
    }

    pub(crate) fn set_head(&self, head: Head) {
        self.head.send_replace(head);
    }

    pub(crate) fn record_fsync(&self, files: u64, took: Duration) {
        self.counters.fsyncs.add(files);
        self.counters
            .fsync_micros
            .add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX));
    }

    /// Publishes a committed batch.
    pub(crate) fn committed(&self, batch_len: usize, c: Committed) {
        self.counters.batches.inc();
        self.counters.records.add(batch_len as u64);
        self.counters.bytes.add(c.bytes);
        if let Some((_, last, _)) = c.links.last() {
            let last = *last;
            let capacity = self.recent_capacity();
            let mut recent = lock(&self.recent);
            let overflow = (recent.ring.len() + c.links.len()).saturating_sub(capacity);
            let drop_old = overflow.min(recent.ring.len());
            // The drain removes its whole range when dropped.
            let left = recent
                .ring
                .drain(..drop_old)
                .next_back()
                .map(|(_, link, _)| link);
            if left.is_some() {
                recent.dropped = left;
            }
            let skip = c.links.len().saturating_sub(capacity);
            if let Some((_, link, _)) = skip.checked_sub(1).and_then(|i| c.links.get(i)) {
                recent.dropped = Some(*link);
            }
            recent.ring.extend(c.links.into_iter().skip(skip));
            drop(recent);
            // Flush-policy stores publish the head when it is fsynced (the writer).
            if self.durable {
                self.set_head(Head {
                    link: last,
                    tree: c.tree,
                    quiet: c.quiet,
                });
            }
        }
    }
}

/// How long a prune waits, between two steps that hold the store's writer, before it
/// takes the writer again: time for a batch that was waiting for it (woken when the
/// step released it) to take it first. A batch thus waits for one step of a prune at
/// most, however many steps and passes the prune makes; the prune loses this much per
/// step (a pass of 1000 one-file partitions makes about 17 steps).
pub(crate) const HAND_OFF: Duration = Duration::from_millis(2);

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// An open store: its writer, shared state and the lock that makes it the only writer.
pub(crate) struct Cell {
    pub(crate) shared: Arc<Shared>,
    pub(crate) writer: Mutex<Option<Writer>>,
    /// Held by whoever fsyncs batches in flight: the sync thread while it fsyncs one,
    /// and anything else that takes the writer, before it ([`Cell::settled_writer`]).
    /// Taken before the writer, never after.
    pub(crate) sync_gate: Mutex<()>,
    pub(crate) lock_file: Mutex<Option<File>>,
    pub(crate) closed: AtomicBool,
}

impl Cell {
    /// The writer, once every batch in flight is fsynced and answered
    /// ([`Writer::settle_in_flight`]): what everything but the appending of staged
    /// batches takes (a batch written at once, a flush, a prune, a scan, the close), so
    /// that it finds no batch half done, and no fsync of one runs meanwhile.
    pub(crate) fn settled_writer(&self) -> Settled<'_> {
        let gate = lock(&self.sync_gate);
        let mut writer = lock(&self.writer);
        if let Some(w) = writer.as_mut() {
            let _busy = self.shared.counters.busy.enter();
            w.settle_in_flight();
        }
        Settled {
            _gate: gate,
            writer,
        }
    }
}

/// The writer with no batch in flight, and the sync gate (see [`Cell::settled_writer`]).
pub(crate) struct Settled<'a> {
    _gate: MutexGuard<'a, ()>,
    pub(crate) writer: MutexGuard<'a, Option<Writer>>,
}

/// The chain head, with the Merkle tree's frontier at it (see [`crate::merkle`]): what
/// a signed checkpoint vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// The last record's chain link.
    pub link: ChainLink,
    /// The frontier of the tree over records `1..=link.seq` (`end() == link.seq`);
    /// `None` for an unchained store, or one whose tree could not be restored (records
    /// deleted before the store kept a tree).
    pub tree: Option<CompactRange>,
    /// How many copies of other servers' checkpoint lines (their witness events:
    /// `Event::is_checkpoint_copy`) the writer stored since it was opened, up to
    /// `link.seq`. The checkpoint policy does not count them (two servers witnessing
    /// each other would otherwise answer each other's lines for ever); 0 when unknown.
    pub quiet: u64,
}

impl From<ChainLink> for Head {
    /// A head without a tree.
    fn from(link: ChainLink) -> Head {
        Head {
            link,
            tree: None,
            quiet: 0,
        }
    }
}

/// Where stored events lie in the chain: the range of their chain numbers and the link
/// of the last one (whose hash covers every record up to it). The integrity layer signs
/// it into a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainRange {
    /// Lowest chain number of the events.
    pub first_seq: u64,
    /// Highest chain number of the events.
    pub last_seq: u64,
    /// The chain link of `last_seq` (its hash covers every record up to it).
    pub last: ChainLink,
}

/// The newest ring entry of a key looked up: its record's link and place, and the link
/// before it when known (to hash the record's bytes again).
#[derive(Debug, Clone)]
struct Found {
    link: ChainLink,
    place: Option<Place>,
    prev: Option<ChainLink>,
}

/// A record the store wrote that is no longer where it wrote it (see
/// [`StoreHandle::records_gone`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordGone {
    /// The segment file that held it.
    pub file: PathBuf,
    /// Why it no longer does.
    pub why: WhyGone,
    /// The record's chain number is in a range the checkpoint log records as deleted
    /// (the store's retention or `auditrail store prune` removed it, as configured):
    /// no loss to alarm about, and not counted in
    /// [`StoreStats::records_gone`].
    pub deleted_by_retention: bool,
}

impl std::fmt::Display for RecordGone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.deleted_by_retention {
            return write!(
                f,
                "its record's segment {} was deleted by the store's retention (recorded in its checkpoint log)",
                self.file.display()
            );
        }
        write!(
            f,
            "its record's segment {} no longer holds it: {}",
            self.file.display(),
            self.why
        )
    }
}

/// A view of an open store, for the server (durability, metrics) and for integrity
/// (chain head, receipts). Cheap to clone.
#[derive(Clone)]
pub struct StoreHandle {
    pub(crate) cell: Arc<Cell>,
}

impl std::fmt::Debug for StoreHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreHandle")
            .field("root", &self.cell.shared.root)
            .field("target_name", &self.cell.shared.target_name)
            .finish()
    }
}

impl StoreHandle {
    /// The store's root folder (absolute when the store was opened with a relative path
    /// under the data dir: `data_dir.join(path)`).
    pub fn root(&self) -> &Path {
        &self.cell.shared.root
    }

    /// The destination's name.
    pub fn target_name(&self) -> &str {
        &self.cell.shared.target_name
    }

    /// Whether `Ok` from this store means fsynced (`flush = "durable"`). When false the
    /// server must not claim durability for events it stored here.
    pub fn is_durable(&self) -> bool {
        self.cell.shared.durable
    }

    /// Whether the records of `keys` (events this store took, by their
    /// [`receipt_key`](Self::receipt_key)) are on stable storage, as far as this store
    /// knows: always in durable mode (a batch is answered only once fsynced). Under a
    /// flush policy, when the store fsynced past the newest record of each: found by
    /// its chain number among the last [`RECENT_LINKS`] records; one it cannot place
    /// (older, or `chain = false`: no numbers kept) only when nothing the store wrote is
    /// waiting for an fsync. An answer that calls an event a duplicate says `durable`
    /// from this: the first answer said `false`, and a retry before the fsync must not
    /// say `true`. Records read at open are on disk: the open syncs the store's file
    /// system before it reads them (`recovery.rs`), as a kill may have left them in the
    /// page cache.
    pub fn on_stable_storage(&self, keys: &[ReceiptKey]) -> bool {
        let shared = &self.cell.shared;
        if shared.durable {
            return true;
        }
        let from = shared.unsynced_from.load(Ordering::Acquire);
        if from == 0 || keys.is_empty() {
            return true;
        }
        let wanted = Wanted::new(keys);
        let found = self.newest_records(&wanted);
        // Bound first: the iterator borrows `wanted`, which the return would outlive.
        let all_synced = wanted
            .firsts()
            .all(|i| found[i].as_ref().is_some_and(|f| f.link.seq < from));
        all_synced
    }

    /// Whether records carry chain links (`chain = true`, the default).
    pub fn is_chained(&self) -> bool {
        self.cell.shared.chained
    }

    /// What the last batch this store wrote met, with no batch written since: a full
    /// disk (`ENOSPC`, `EDQUOT`) or another retried error (a folder removed or moved
    /// away, an I/O error). The dispatcher retries that batch first, in order, so a
    /// batch sent now waits behind it. Back to [`HeadState::Taking`] once a batch is
    /// written, or when the dispatcher gives the failed one up
    /// ([`Target::gave_up`](auditrail_core::Target::gave_up)). One atomic load while
    /// the store takes its batches.
    ///
    /// [`HeadState::Taking`]: crate::HeadState::Taking
    pub fn head_state(&self) -> crate::HeadState {
        self.cell.shared.head_state.get()
    }

    /// Whether a batch sent now is refused, and why: [`HeadState::refusal`] of
    /// [`head_state`](Self::head_state), the free space of the store's file system
    /// read (`statvfs`) only while its last batch met a full disk. The one decision
    /// behind the server's `503 disk_full` and `503 store_failing` for this store and
    /// `/readyz`'s entries of both.
    ///
    /// [`HeadState::refusal`]: crate::HeadState::refusal
    pub fn head_refusal(&self) -> Option<crate::HeadRefusal> {
        self.head_state()
            .refusal(|| crate::refused_batch::free_bytes(self.root()))
    }

    /// The partition folders (relative to the store's root, e.g.
    /// `generic/_none/2026/11/30/11`) whose last events the store refused for now
    /// because it may not write there (`EACCES`, `EPERM`, `EROFS`: a folder made
    /// immutable, its mode reset, a read-only mount under the store's root), sorted.
    /// A partition leaves the list when the store writes to it again (its senders send
    /// the refused events again). Partitions refused for good (a name the file system
    /// does not take) are not listed: no operator action brings them back. While more
    /// than 4096 partitions refuse, the list restarts from the next refusals.
    pub fn refusing_partitions(&self) -> Vec<PathBuf> {
        lock(&self.cell.shared.refusing_for_now)
            .iter()
            .cloned()
            .collect()
    }

    /// The link of the last record on stable storage (see [`StoreHandle::subscribe`];
    /// genesis for an empty or unchained store).
    pub fn head(&self) -> ChainLink {
        self.cell.shared.head.borrow().link
    }

    /// [`head`](Self::head) with the Merkle tree's frontier at it.
    pub fn head_with_tree(&self) -> Head {
        self.cell.shared.head.borrow().clone()
    }

    /// Follows the chain head: the value changes after every committed batch (and is
    /// the recovered head right after opening). For checkpoints by count or time.
    /// The head only names records on stable storage: after every batch in durable
    /// mode, after each fsync of the flush policy otherwise.
    pub fn subscribe(&self) -> watch::Receiver<Head> {
        self.cell.shared.head.subscribe()
    }

    /// How [`links`](Self::links) and [`chain_range`](Self::chain_range) find `event`:
    /// its id and a keyed hash of its identity fields (node, seq, topic, routing key,
    /// timestamp, the message's text), the same the writer keeps with each record.
    /// Ids are chosen by clients and two different events may share one: the key never
    /// finds the other's record. One hash of the event, no allocation for a message
    /// read from JSON.
    pub fn receipt_key(event: &Event) -> ReceiptKey {
        ReceiptKey::of(event)
    }

    /// The chain link of each event (by its [`receipt_key`](Self::receipt_key)), if it
    /// was stored recently (the last [`RECENT_LINKS`] events) by this store. An event
    /// stored more than once (same id and content) gets its newest record.
    pub fn links(&self, keys: &[ReceiptKey]) -> Vec<Option<ChainLink>> {
        // Every receipt looks up its batch's keys here, and the walk back through the
        // ring hashes every key it passes: with `std`'s SipHash that was 1.4 % of the
        // server's CPU (docs/benchmarks.md, issue 17). Ids and content are chosen by
        // clients, so the hash stays keyed with a random seed.
        let wanted = Wanted::new(keys);
        let mut found: Vec<Option<ChainLink>> = vec![None; keys.len()];
        self.walk_newest(&wanted, |i, link, _| found[i] = Some(*link));
        wanted.firsts().map(|i| found[i]).collect()
    }

    /// Walks the ring from its newest record back and calls `found` once for each
    /// distinct key of `wanted` with the position of its first occurrence and its newest
    /// record, until every key was found or the ring is walked.
    fn walk_newest(
        &self,
        wanted: &Wanted<'_>,
        mut found: impl FnMut(usize, &ChainLink, &Option<Place>),
    ) {
        let mut seen = vec![false; wanted.len()];
        let mut missing = wanted.distinct();
        let recent = lock(&self.cell.shared.recent);
        for (key, link, place) in recent.ring.iter().rev() {
            if missing == 0 {
                break;
            }
            if let Some(i) = wanted.position(key) {
                if !seen[i] {
                    seen[i] = true;
                    missing -= 1;
                    found(i, link, place);
                }
            }
        }
    }

    /// The newest record of each key in the ring (`None`: not among them), by the
    /// position of the key's first occurrence in `wanted`, with the link before it
    /// when the ring holds it or it is the one that left the ring last (the genesis
    /// before chainSeq 1).
    fn newest_records(&self, wanted: &Wanted<'_>) -> Vec<Option<Found>> {
        let mut found: Vec<Option<Found>> = vec![None; wanted.len()];
        self.walk_newest(wanted, |i, link, place| {
            found[i] = Some(Found {
                link: *link,
                place: place.clone(),
                prev: None,
            });
        });
        let recent = lock(&self.cell.shared.recent);
        for f in found.iter_mut().flatten() {
            f.prev = recent.link_of(f.link.seq - 1);
        }
        found
    }

    /// For each key (an event this store took, by its [`receipt_key`](Self::receipt_key)),
    /// whether the record the store holds of it is gone: `Some` when the store knows
    /// where it put the record (among its last [`RECENT_LINKS`] records, those written
    /// since it was opened or read by [`scan_records_keyed`](Self::scan_records_keyed))
    /// and that place no longer holds it: its segment file, or a folder on its path, was
    /// removed or moved aside, replaced by another file or a symbolic link, or the file
    /// was cut before the record's end, or the record's line was changed in place (read
    /// back at its place: see [`WhyGone::Changed`]). `None` when it is still there, or
    /// not known. An answer that calls an event a duplicate of a stored one vouches for
    /// that record: a gone or changed one must not be vouched for. One check (an
    /// `lstat` per folder level, an open) per distinct segment, however many keys it
    /// holds, and one positioned read per record (duplicates are retries: rare).
    ///
    /// A gone record whose chain number a deletion line of the checkpoint log records
    /// (the store's own retention, or `store prune`, removed its partition) is
    /// [`RecordGone::deleted_by_retention`]: a node that never got the answer to its
    /// batch sends it again, perhaps after retention deleted it; that is no loss, and
    /// only the others count in [`StoreStats::records_gone`] (whose alert says to
    /// restore a backup).
    pub fn records_gone(&self, keys: &[ReceiptKey]) -> Vec<Option<RecordGone>> {
        let wanted = Wanted::new(keys);
        let found = self.newest_records(&wanted);
        // The furthest end needed in each segment.
        let mut needed: HashMap<*const SegmentId, (Arc<SegmentId>, u64)> = HashMap::new();
        for f in found.iter().flatten() {
            if let Some(p) = &f.place {
                let e = needed
                    .entry(Arc::as_ptr(&p.file))
                    .or_insert_with(|| (p.file.clone(), 0));
                e.1 = e.1.max(p.end);
            }
        }
        let root = &self.cell.shared.root;
        let mut gone: HashMap<*const SegmentId, NotAt> = HashMap::new();
        // The segments still in place, open to read their records back.
        let mut open: HashMap<*const SegmentId, File> = HashMap::new();
        for (at, (file, end)) in needed {
            match file.gone(root, end) {
                Some(why) => {
                    gone.insert(at, why);
                }
                None => {
                    if let Some(f) = file.open_to_read() {
                        open.insert(at, f);
                    }
                }
            }
        }
        let changed: Vec<Option<WhyGone>> = found
            .iter()
            .map(|f| {
                let f = f.as_ref()?;
                let place = f.place.as_ref()?;
                let file = open.get(&Arc::as_ptr(&place.file))?;
                crate::place::changed(file, place, &f.link, f.prev.as_ref()).map(|what| {
                    WhyGone::Changed {
                        seq: f.link.seq,
                        offset: place.start,
                        what,
                    }
                })
            })
            .collect();
        if gone.is_empty() && changed.iter().all(Option::is_none) {
            return wanted.firsts().map(|_| None).collect();
        }
        // Rare (a record gone): the writer's recorded deletions tell retention's
        // removals from the others. `None` for a closed store: none known.
        let recorded = {
            let settled = self.cell.settled_writer();
            settled
                .writer
                .as_ref()
                .map(|w| w.recorded_deletions().clone())
        };
        wanted
            .firsts()
            .map(|i| {
                let f = found[i].as_ref()?;
                let place = f.place.as_ref()?;
                let why = match gone.get(&Arc::as_ptr(&place.file)) {
                    Some(why) => WhyGone::File(*why),
                    None => changed[i].clone()?,
                };
                let link = &f.link;
                let deleted_by_retention = recorded.as_ref().is_some_and(|r| r.contains(link.seq));
                if !deleted_by_retention {
                    self.cell.shared.counters.records_gone.inc();
                }
                Some(RecordGone {
                    file: place.file.path.clone(),
                    why,
                    deleted_by_retention,
                })
            })
            .collect()
    }

    /// The chain range of events stored by this store, by their
    /// [`receipt_key`](Self::receipt_key)s (`None` if any of them is unknown: not
    /// stored here, or stored too long ago).
    pub fn chain_range(&self, keys: &[ReceiptKey]) -> Option<ChainRange> {
        // The links by the first position of each key, as `links` finds them, without
        // a second lookup per key.
        let wanted = Wanted::new(keys);
        let mut found: Vec<Option<ChainLink>> = vec![None; keys.len()];
        self.walk_newest(&wanted, |i, link, _| found[i] = Some(*link));
        let mut first = u64::MAX;
        let mut last: Option<ChainLink> = None;
        for i in wanted.firsts() {
            let link = found[i]?;
            first = first.min(link.seq);
            if last.is_none_or(|l| link.seq > l.seq) {
                last = Some(link);
            }
        }
        last.map(|last| ChainRange {
            first_seq: first,
            last_seq: last.seq,
            last,
        })
    }

    /// Counters since the store was opened.
    pub fn stats(&self) -> StoreStats {
        let c = &self.cell.shared.counters;
        StoreStats {
            batches: c.batches.get(),
            records: c.records.get(),
            bytes: c.bytes.get(),
            fsyncs: c.fsyncs.get(),
            fsync_micros: c.fsync_micros.get(),
            write_errors: c.write_errors.get(),
            disk_full_errors: c.disk_full_errors.get(),
            refused_events: c.refused_events.get(),
            torn_tails_cut: c.torn_tails_cut.get(),
            records_cut: c.records_cut.get(),
            corrupt_files: c.corrupt_files.get(),
            records_gone: c.records_gone.get(),
        }
    }

    /// How long the writer has been inside the batch write or fsync it is doing;
    /// `None` when it is idle. A value that keeps growing means a write that does not
    /// return (a hung disk): `auditrail serve` stops its systemd watchdog pings then.
    pub fn writer_busy_for(&self) -> Option<Duration> {
        let c = &self.cell.shared.counters;
        c.busy.busy_for().max(c.sync_busy.busy_for())
    }

    /// What recovery found when the store was opened.
    pub fn recovery_report(&self) -> RecoveryReport {
        lock(&self.cell.shared.recovery).clone()
    }

    /// Whether the store is still open.
    pub fn is_open(&self) -> bool {
        !self.cell.closed.load(Ordering::Acquire)
    }

    /// Deletes the closed time partitions `rule` selects, recording each deletion
    /// first: `record` gets the [`PrunePlan`](crate::prune::PrunePlan) and returns
    /// `Ok(true)` once it is recorded durably (the integrity layer signs it into the
    /// checkpoint log), `Ok(false)` for a dry run (nothing is removed), or an error
    /// (nothing is removed). Blocking: run it on a blocking thread. `Ok(None)`: nothing
    /// to delete.
    ///
    /// Ingest goes on meanwhile, waiting for the writer for one bounded step at most:
    /// the walk of the store and the read of the chosen partitions' records (which grow
    /// with the store) take no writer; the writer is held to check that what was read is
    /// unchanged, make the plan against the chain head and record it (bounded by the
    /// partitions of one prune), then for each removal step of at most 64 segment files
    /// (and their folders' fsyncs), and is handed to a waiting batch between two steps.
    pub fn prune<E: std::error::Error + 'static>(
        &self,
        rule: &crate::prune::PruneRule,
        record: impl FnOnce(&crate::prune::PrunePlan) -> Result<bool, E>,
    ) -> Result<Option<crate::prune::PrunePlan>, crate::prune::PruneError<E>> {
        self.prune_only(rule, None, record)
    }

    /// Every pass a [`prune`](Self::prune) by `rule` would make, one plan each, with
    /// nothing recorded or removed (a dry run under the writer, against its chain head;
    /// see [`crate::prune::dry_run`] for one without the store open). Blocking. Empty:
    /// nothing to delete.
    pub fn prune_passes<E: std::error::Error + 'static>(
        &self,
        rule: &crate::prune::PruneRule,
    ) -> Result<Vec<crate::prune::PrunePlan>, crate::prune::PruneError<E>> {
        let mut settled = self.cell.settled_writer();
        let Some(writer) = settled.writer.as_mut() else {
            return Err(crate::prune::PruneError::Unavailable {
                root: self.root().to_path_buf(),
                reason: "the store is closed".into(),
            });
        };
        writer.prune_passes(rule)
    }

    /// What a [`prune`](Self::prune) by `rule` would delete now (nothing is recorded or
    /// removed), its partitions' files frozen in the same step under the writer: a
    /// record written into one of them from now on starts a new segment there, and the
    /// files the plan lists are never appended to again. An archive's prune uploads
    /// those files and then deletes them with [`prune_only`](Self::prune_only): a
    /// partition that keeps receiving late events is still as uploaded when its
    /// deletion is recorded (the late events are in segments of their own, left for a
    /// later pass), so its retention is kept without holding the writer for an upload.
    /// Blocking. `Ok(None)`: nothing to delete.
    pub fn prune_plan_freezing<E: std::error::Error + 'static>(
        &self,
        rule: &crate::prune::PruneRule,
    ) -> Result<Option<crate::prune::PrunePlan>, crate::prune::PruneError<E>> {
        let layout = self.with_writer(|w| w.prune_layout())?;
        // Without the writer: walks every folder and reads the chosen partitions.
        let candidates = crate::prune::candidates(self.root(), &layout, rule, None)?;
        self.with_writer(|w| {
            let planned = w.prune_record(candidates, true, |_| Ok::<bool, E>(false))?;
            Ok(planned.map(|(plan, _)| {
                w.freeze(&plan.partitions);
                plan
            }))
        })
    }

    /// The partitions prunes of this store left out since the last call because a
    /// record in them does not belong in their folder (its topic, routing key or time
    /// does not give that folder: moved there by hand). They are not deleted and no
    /// deletion line names them; each was logged at ERROR when it was left out.
    /// Blocking (it waits for the writer).
    pub fn take_prune_refusals<E: std::error::Error + 'static>(
        &self,
    ) -> Result<Vec<crate::MisplacedPartition>, crate::prune::PruneError<E>> {
        self.with_writer(|w| Ok(w.take_prune_refusals()))
    }

    /// [`prune`](Self::prune), taking only the partitions `only` names, and only while
    /// their files are as it lists them (see [`PruneOnly`](crate::prune::PruneOnly)):
    /// an archive's prune, which deletes what it uploaded and nothing else.
    pub fn prune_only<E: std::error::Error + 'static>(
        &self,
        rule: &crate::prune::PruneRule,
        only: Option<&crate::prune::PruneOnly>,
        record: impl FnOnce(&crate::prune::PrunePlan) -> Result<bool, E>,
    ) -> Result<Option<crate::prune::PrunePlan>, crate::prune::PruneError<E>> {
        self.prune_only_then(rule, only, record, |_| Ok(()))
    }

    /// [`prune_only`](Self::prune_only) that runs `before_removal` once the plan is
    /// recorded and before any file is removed, *without* the writer: work whose
    /// length grows with the store's history (an archive's upload of the whole
    /// checkpoint log) must not hold ingest up, as a step under the writer would. Its
    /// error is [`PruneError::Record`](crate::prune::PruneError::Record): the recorded
    /// line stays and nothing is removed (the next prune picks the partitions again, as
    /// after a crash between the two).
    pub fn prune_only_then<E: std::error::Error + 'static>(
        &self,
        rule: &crate::prune::PruneRule,
        only: Option<&crate::prune::PruneOnly>,
        record: impl FnOnce(&crate::prune::PrunePlan) -> Result<bool, E>,
        before_removal: impl FnOnce(&crate::prune::PrunePlan) -> Result<(), E>,
    ) -> Result<Option<crate::prune::PrunePlan>, crate::prune::PruneError<E>> {
        let layout = self.with_writer(|w| w.prune_layout())?;
        // Without the writer: walks every folder and reads the chosen partitions.
        let candidates = crate::prune::candidates(self.root(), &layout, rule, only)?;
        let Some((mut plan, recorded)) =
            self.with_writer(|w| w.prune_record(candidates, only.is_none(), record))?
        else {
            return Ok(None);
        };
        if recorded {
            before_removal(&plan).map_err(crate::prune::PruneError::Record)?;
            // A step that failed (a file that cannot be removed) does not keep the
            // steps after it from removing theirs: the first failure is returned once
            // every step was tried (see `prune::remove`), with the plan and the files
            // left, so that what was removed is reported (it used to be dropped with
            // the plan: the pass's removals were counted and logged nowhere).
            let mut left: std::collections::HashSet<String> = Default::default();
            let mut failed = None;
            let mut folders_left = Vec::new();
            let steps = crate::prune::removal_steps(&plan.partitions);
            for (i, step) in steps.iter().enumerate() {
                // The writer was released after the step before: a batch woken by
                // that release takes it first (std's mutex is not fair: this thread
                // would otherwise take it back at once, every step).
                std::thread::sleep(HAND_OFF);
                let removed = self.with_writer(|w| {
                    Ok(w.prune_remove(step, &mut folders_left).map_err(|n| {
                        left.extend(n.files);
                        n.first
                    }))
                });
                match removed {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => {
                        failed.get_or_insert(crate::prune::PruneError::Store(e));
                    }
                    // Closed: no later step can run either; their files are left.
                    Err(e) => {
                        left.extend(
                            steps[i..]
                                .iter()
                                .flat_map(|s| s.iter())
                                .flat_map(|p| p.segments.iter().cloned()),
                        );
                        failed.get_or_insert(e);
                        break;
                    }
                }
            }
            plan.folders_left = folders_left;
            if let Some(e) = failed {
                return Err(crate::prune::removal_failed(plan, &left, e));
            }
        }
        Ok(Some(plan))
    }

    /// Runs `f` holding the store's writer (a prune's step); the store closed is
    /// [`PruneError::Unavailable`](crate::prune::PruneError::Unavailable).
    fn with_writer<T, E: std::error::Error + 'static>(
        &self,
        f: impl FnOnce(&mut Writer) -> Result<T, crate::prune::PruneError<E>>,
    ) -> Result<T, crate::prune::PruneError<E>> {
        // Settled: the batches in flight synced and answered first (a prune plans
        // against a durable head and closes files no sync may still hold).
        let mut settled = self.cell.settled_writer();
        let Some(writer) = settled.writer.as_mut() else {
            return Err(crate::prune::PruneError::Unavailable {
                root: self.root().to_path_buf(),
                reason: "the store is closed".into(),
            });
        };
        f(writer)
    }

    /// The records a prune listed as deleted (`.deleted-seqs.jsonl`) that may still be
    /// in the store's files: a prune killed before it removed them (see
    /// [`AlreadyDeleted`](crate::AlreadyDeleted)). Empty for a closed store, or when no
    /// deletion is recorded; an unreadable list is an error.
    pub fn already_deleted(&self) -> Result<crate::AlreadyDeleted, StoreError> {
        let ranges = {
            let settled = self.cell.settled_writer();
            match settled.writer.as_ref() {
                Some(w) => w.recorded_deletions().clone(),
                None => return Ok(Default::default()),
            }
        };
        let listed = crate::AlreadyDeleted::new(ranges.clone(), Default::default());
        if listed.is_empty() {
            return Ok(listed);
        }
        Ok(crate::AlreadyDeleted::new(
            ranges,
            crate::deleted_seqs::read(self.root())?,
        ))
    }

    /// Hands every record of this open store to `visit` with its segment file, in chain
    /// order (see [`scan_records`](crate::scan_records) for a closed store). The store's
    /// writer is held meanwhile, so no batch is half-written while it reads; what it
    /// reads is what the writer's recovery kept when the store was opened, plus every
    /// batch since.
    pub fn scan_records(
        &self,
        mut visit: impl FnMut(&StoreFile, &StoredEvent<'_>),
    ) -> Result<ScanReport, StoreError> {
        let _writer = self.cell.settled_writer();
        let mut report = ScanReport::default();
        read_all(&self.cell.shared.root, &mut report, &mut visit)?;
        Ok(report)
    }

    /// [`scan_records`](Self::scan_records), where `visit` returns each record's
    /// [`receipt_key`](Self::receipt_key) (`None` for a record it cannot read): the
    /// store then remembers its last [`RECENT_LINKS`] records by chain number, with
    /// where each is, as if it had just written them. The server's start reads its
    /// stores this way (its de-duplication computes the keys anyway), so that after a
    /// restart a duplicate's record is still found, for its receipt and for
    /// [`records_gone`](Self::records_gone).
    pub fn scan_records_keyed(
        &self,
        visit: impl FnMut(&StoreFile, &StoredEvent<'_>) -> Option<ReceiptKey>,
    ) -> Result<ScanReport, StoreError> {
        self.scan_records_keyed_watched(&crate::ReadProgress::new(), visit)
    }

    /// [`scan_records_keyed`](Self::scan_records_keyed), counting what it reads in
    /// `progress` and stopping between two files once a stop is asked there
    /// ([`StoreError::Stopped`]; the records already read then count for nothing).
    pub fn scan_records_keyed_watched(
        &self,
        progress: &crate::ReadProgress,
        mut visit: impl FnMut(&StoreFile, &StoredEvent<'_>) -> Option<ReceiptKey>,
    ) -> Result<ScanReport, StoreError> {
        let _writer = self.cell.settled_writer();
        let mut report = ScanReport::default();
        // The newest records read so far, the oldest on top (bounded: a store holds
        // far more records than the ring).
        let mut newest: BinaryHeap<Reverse<ByChain>> = BinaryHeap::new();
        // The newest link of those left out (the one before the ring's oldest, when
        // every record was keyed: see `RecentLinks::dropped`).
        let mut dropped: Option<ChainLink> = None;
        let mut leave_out = |link: ChainLink| {
            if dropped.is_none_or(|d| d.seq < link.seq) {
                dropped = Some(link);
            }
        };
        let capacity = self.cell.shared.recent_capacity();
        let mut current: Option<Arc<SegmentId>> = None;
        read_all_ends(
            &self.cell.shared.root,
            &mut report,
            progress,
            &mut |file, record, at| {
                let key = visit(file, record);
                let (Some(key), Some(link)) = (key, record.link) else {
                    return;
                };
                if newest.len() >= capacity
                    && newest
                        .peek()
                        .is_some_and(|Reverse(o)| o.link.seq >= link.seq)
                {
                    leave_out(link);
                    return;
                }
                if current.as_ref().is_none_or(|c| c.path != file.path) {
                    // Once per file read: its identity as the writer would have it.
                    current = std::fs::symlink_metadata(&file.path)
                        .ok()
                        .map(|m| Arc::new(SegmentId::new(file.path.clone(), &m)));
                }
                let place = current.clone().map(|file| Place {
                    file,
                    start: at.start,
                    end: at.end,
                });
                newest.push(Reverse(ByChain { key, link, place }));
                if newest.len() > capacity {
                    if let Some(Reverse(old)) = newest.pop() {
                        leave_out(old.link);
                    }
                }
            },
        )?;
        let mut entries: Vec<ByChain> = newest.into_iter().map(|Reverse(e)| e).collect();
        entries.sort_unstable_by_key(|e| e.link.seq);
        let mut recent = lock(&self.cell.shared.recent);
        recent.ring = entries
            .into_iter()
            .map(|e| (e.key, e.link, e.place))
            .collect();
        recent.dropped = dropped;
        Ok(report)
    }
}

/// A record read by [`StoreHandle::scan_records_keyed`], ordered by its chain number.
struct ByChain {
    key: ReceiptKey,
    link: ChainLink,
    place: Option<Place>,
}

impl PartialEq for ByChain {
    fn eq(&self, other: &Self) -> bool {
        self.link.seq == other.link.seq
    }
}

impl Eq for ByChain {}

impl PartialOrd for ByChain {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ByChain {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.link.seq.cmp(&other.link.seq)
    }
}

#[cfg(test)]
#[path = "prune_steps_tests.rs"]
mod prune_steps_tests;

#[cfg(test)]
#[path = "prune_past_a_file_it_cannot_remove_tests.rs"]
mod prune_past_a_file_it_cannot_remove_tests;

#[cfg(test)]
#[path = "prune_leaves_out_a_partition_it_cannot_remove_tests.rs"]
mod prune_leaves_out_a_partition_it_cannot_remove_tests;

#[cfg(test)]
#[path = "prune_leaves_out_an_immutable_file_tests.rs"]
mod prune_leaves_out_an_immutable_file_tests;

#[cfg(test)]
#[path = "prune_says_an_emptied_folder_it_cannot_remove_tests.rs"]
mod prune_says_an_emptied_folder_it_cannot_remove_tests;

#[cfg(test)]
#[path = "recent_links_oldest_record_changed_tests.rs"]
mod recent_links_oldest_record_changed_tests;
