//! Tamper evidence for an open `store` destination in one call, for the server:
//! checkpoints that follow the store's chain head, and receipts for acknowledged
//! batches.
//!
//! ```no_run
//! # async fn run(data_dir: &std::path::Path, store: &auditrail_store::StoreTarget, events: &[auditrail_core::Event]) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use auditrail_integrity::{CheckpointPolicy, Signer, StoreIntegrity};
//! use auditrail_store::StoreHandle;
//! let signer = Arc::new(Signer::load_or_create(data_dir)?); // once per server
//! // After the store was opened (its recovery ran):
//! let integrity = StoreIntegrity::attach(&store.handle(), signer, CheckpointPolicy::default())?;
//! // For the 200 answer of a batch whose events this store took:
//! let keys: Vec<_> = events.iter().map(StoreHandle::receipt_key).collect();
//! let receipt = integrity.receipt(&keys); // serialise as "receipt"
//! // At shutdown, after the destinations were shut down:
//! integrity.close().await?;
//! # Ok(()) }
//! ```

use std::sync::{Arc, Mutex, PoisonError};

use super::archive::{Archive, Archived, ArchivedObject};
use super::checkpoint::Checkpoint;
use super::checkpoint::Deletion;
use super::checkpointer::{CheckpointForwarder, CheckpointPolicy, Checkpointer};
use super::guard::{check_store, Passed};
use super::high_water::{HighWaterMarks, MarkState};
use super::keys::{PublicKey, Signer};
use super::prune_left_out::LeftOut;
use super::prune_pass::{self, PassResult, Recorder, Room};
use super::prune_reserve::PruneReserves;
use super::receipt::Receipt;
use super::task::{CheckpointTask, Sealed, SharedCheckpointer};
use super::IntegrityError;
use auditrail_store::{PruneError, PruneOnly, PrunePlan, PruneRule, ReceiptKey, StoreHandle};
use tokio::sync::watch;

/// A store's checkpoint task and receipt signer.
#[derive(Debug)]
pub struct StoreIntegrity {
    handle: StoreHandle,
    signer: Arc<Signer>,
    store_id: String,
    /// Taken by [`StoreIntegrity::close`].
    task: Mutex<Option<CheckpointTask>>,
    /// The task's checkpointer, for deletion lines.
    checkpointer: SharedCheckpointer,
    /// What prunes deleted since the store was attached.
    pruned: Arc<PruneCounters>,
    /// Up to which chain seq a signed line of the store's log vouches for its records
    /// (`None`: the policy does not seal every batch).
    sealed: Option<watch::Receiver<Sealed>>,
    /// The checkpoint task's state, whatever the policy (`sealed` is there only when
    /// batches wait for their seal): whether its last line was published.
    task_state: watch::Receiver<Sealed>,
    /// Room a prune takes on a full disk to write its evidence.
    reserves: Arc<PruneReserves>,
    /// The reserve was released by the attach itself (see
    /// [`attach_checked_stopped_making_room`](Self::attach_checked_stopped_making_room)):
    /// made again after the first pass.
    room_owed: std::sync::atomic::AtomicBool,
    /// The sealed pieces of the checkpoint log an archive pass of this run uploaded:
    /// each is uploaded once (a piece is never written again).
    archived_pieces: Arc<Mutex<std::collections::HashSet<String>>>,
}

/// A store that [`StoreIntegrity::check`] passed, for
/// [`StoreIntegrity::attach_passed`]: its checks at start are made once.
#[derive(Debug)]
#[must_use = "a store that passed its checks is attached with `StoreIntegrity::attach_passed`"]
pub struct Checked {
    /// The store checked.
    root: std::path::PathBuf,
    /// Its head when checked.
    head: auditrail_store::chain::ChainLink,
    passed: Passed,
}

impl StoreIntegrity {
    /// Opens the store's checkpoint log (checkpointing the recovered head at once) and
    /// spawns the task that follows the head. Must run inside a tokio runtime.
    pub fn attach(
        handle: &StoreHandle,
        signer: Arc<Signer>,
        policy: CheckpointPolicy,
    ) -> Result<StoreIntegrity, IntegrityError> {
        StoreIntegrity::attach_with(handle, signer, policy, None)
    }

    /// [`attach`](Self::attach), with a hook that receives every checkpoint written
    /// (e.g. to emit it as a `checkpoint` event to Kafka or another server, so a copy
    /// lives where this server cannot rewrite it).
    pub fn attach_with(
        handle: &StoreHandle,
        signer: Arc<Signer>,
        policy: CheckpointPolicy,
        forward: Option<CheckpointForwarder>,
    ) -> Result<StoreIntegrity, IntegrityError> {
        let head = handle.subscribe();
        let recovered = head.borrow().clone();
        let mut cp = Checkpointer::open(handle.root(), signer.clone(), policy, recovered)?;
        if let Some(f) = forward {
            cp.set_forwarder(f);
        }
        let reserves = PruneReserves::of(handle.root(), None);
        Ok(StoreIntegrity::spawn(handle, signer, cp, head, reserves))
    }

    /// The checks of [`attach_checked`](Self::attach_checked) alone, writing nothing
    /// (not even a new store's first mark): whether the server will hold the store.
    /// The server asks before it reads the stores' records at start, so that what a
    /// held store holds is not taken for what the server stored (its per-node
    /// statistics, its de-duplication); a store that passed is then attached with
    /// [`attach_passed`](Self::attach_passed), without reading its checkpoint log and
    /// its mark a second time. A store that is not open (the server's stand-in for a
    /// store it could not open) is refused ([`IntegrityError::NotOpen`]).
    pub fn check(
        handle: &StoreHandle,
        signer: &Signer,
        marks: &HighWaterMarks,
    ) -> Result<Checked, IntegrityError> {
        if !handle.is_open() {
            // Its head and recovery are unknown, not those of an empty store.
            return Err(IntegrityError::NotOpen {
                path: handle.root().to_owned(),
            });
        }
        let head = handle.head();
        let passed = check_store(
            handle.root(),
            head,
            &handle.recovery_report(),
            signer,
            marks,
        )?;
        Ok(Checked {
            root: handle.root().to_owned(),
            head,
            passed,
        })
    }

    /// [`attach_checked`](Self::attach_checked) of a store that [`check`](Self::check)
    /// passed, without its checks again: call it before the store takes any record
    /// (its head is still the one checked) and with the `marks` it was checked
    /// against.
    pub fn attach_passed(
        checked: Checked,
        handle: &StoreHandle,
        signer: Arc<Signer>,
        policy: CheckpointPolicy,
        marks: Arc<HighWaterMarks>,
        forward: Option<CheckpointForwarder>,
    ) -> Result<StoreIntegrity, IntegrityError> {
        debug_assert_eq!(checked.root, handle.root(), "checked another store");
        debug_assert_eq!(checked.head, handle.head(), "the store took records since");
        StoreIntegrity::attach_for(
            Some(checked.passed),
            handle,
            signer,
            policy,
            marks,
            forward,
            true,
            true,
        )
    }

    /// The server's way: [`attach_with`](Self::attach_with), after checking the store
    /// against its checkpoint log and its high-water mark in `marks`, which it keeps up
    /// to date from then on. Refuses ([`IntegrityError::Refused`], naming what it found
    /// and how to proceed) a store whose id is missing while it has records or
    /// checkpoints, whose checkpoint log is damaged, missing, emptied, shorter than the
    /// mark or replaced, whose records were rolled back below the mark, or whose last
    /// checkpoint does not match its record: the server never signs over those.
    pub fn attach_checked(
        handle: &StoreHandle,
        signer: Arc<Signer>,
        policy: CheckpointPolicy,
        marks: Arc<HighWaterMarks>,
        forward: Option<CheckpointForwarder>,
    ) -> Result<StoreIntegrity, IntegrityError> {
        StoreIntegrity::attach_checked_for(handle, signer, policy, marks, forward, true, true)
    }

    /// [`attach_checked`](Self::attach_checked) for an operator command run with the
    /// server stopped (`auditrail store prune`, `auditrail keys rotate`), which writes
    /// no record: a log ending in a clean stop's line is left so (its own lines, and
    /// the final one, say the store is still stopped).
    pub fn attach_checked_stopped(
        handle: &StoreHandle,
        signer: Arc<Signer>,
        marks: Arc<HighWaterMarks>,
    ) -> Result<StoreIntegrity, IntegrityError> {
        StoreIntegrity::attach_checked_for(
            handle,
            signer,
            CheckpointPolicy::default(),
            marks,
            None,
            false,
            true,
        )
    }

    /// [`attach_checked_stopped`](Self::attach_checked_stopped) for `auditrail store
    /// prune`, which must run on a full disk: the attach publishes the log's last line
    /// to the high-water mark again (a file rewritten whole), and when that meets a
    /// full disk the prune reserve is released and the attach tried once more (said
    /// on stderr); the reserve is made again once the first pass removed its files.
    /// Without a reserve, or when it is not enough, the error says the file system is
    /// full and what to do ([`IntegrityError::PruneDiskFull`]).
    pub fn attach_checked_stopped_making_room(
        handle: &StoreHandle,
        signer: Arc<Signer>,
        marks: Arc<HighWaterMarks>,
    ) -> Result<StoreIntegrity, IntegrityError> {
        let attach = |ensure| {
            StoreIntegrity::attach_checked_for(
                handle,
                signer.clone(),
                CheckpointPolicy::default(),
                marks.clone(),
                None,
                false,
                ensure,
            )
        };
        match attach(true) {
            Err(e) if e.is_disk_full() => {
                let reserves = PruneReserves::of(handle.root(), Some(&marks));
                if !reserves.release(handle.root()) {
                    return Err(disk_full(handle.root(), &reserves, false, e));
                }
                let attached =
                    attach(false).map_err(|e| disk_full(handle.root(), &reserves, true, e))?;
                attached
                    .room_owed
                    .store(true, std::sync::atomic::Ordering::Relaxed);
                Ok(attached)
            }
            other => other,
        }
    }

    fn attach_checked_for(
        handle: &StoreHandle,
        signer: Arc<Signer>,
        policy: CheckpointPolicy,
        marks: Arc<HighWaterMarks>,
        forward: Option<CheckpointForwarder>,
        takes_records: bool,
        ensure_reserves: bool,
    ) -> Result<StoreIntegrity, IntegrityError> {
        StoreIntegrity::attach_for(
            None,
            handle,
            signer,
            policy,
            marks,
            forward,
            takes_records,
            ensure_reserves,
        )
    }

    /// The attach, after the checks: those of `passed` (a [`check`](Self::check) of
    /// the same head), else made now.
    #[allow(clippy::too_many_arguments)]
    fn attach_for(
        passed: Option<Passed>,
        handle: &StoreHandle,
        signer: Arc<Signer>,
        policy: CheckpointPolicy,
        marks: Arc<HighWaterMarks>,
        forward: Option<CheckpointForwarder>,
        takes_records: bool,
        ensure_reserves: bool,
    ) -> Result<StoreIntegrity, IntegrityError> {
        let head = handle.subscribe();
        let recovered = head.borrow().clone();
        let passed = match passed {
            Some(p) => p,
            None => check_store(
                handle.root(),
                recovered.link,
                &handle.recovery_report(),
                &signer,
                &marks,
            )?,
        };
        passed.mark_first(handle.root(), &signer, &marks)?;
        let mut cp = Checkpointer::open_with_marks(
            handle.root(),
            signer.clone(),
            policy,
            recovered.clone(),
            Some(marks.clone()),
        )?;
        if marks.get(handle.root())?.is_none() {
            // A new store got its id from the checkpointer just now. Its first mark
            // (checkpoint 0) is written before it takes any record: a crash before its
            // first checkpoint must not leave records that no mark covers (the next
            // start would refuse them as a removed mark).
            marks.put(
                &signer,
                handle.root(),
                &MarkState {
                    store_id: cp.store_id().to_string(),
                    checkpoint: 0,
                    link: auditrail_store::chain::ChainLink::GENESIS,
                    checkpoint_digest: [0; 32],
                    accepted: None,
                },
            )?;
        }
        if takes_records {
            cp.take_records(recovered)?;
        }
        if let Some(f) = forward {
            cp.set_forwarder(f);
        }
        // Once the store is checked (a refused start makes nothing): room for a
        // prune's records on a full disk, made while there is room.
        let reserves = PruneReserves::of(handle.root(), Some(&marks));
        if ensure_reserves {
            reserves.ensure();
        }
        Ok(StoreIntegrity::spawn(handle, signer, cp, head, reserves))
    }

    fn spawn(
        handle: &StoreHandle,
        signer: Arc<Signer>,
        cp: Checkpointer,
        head: watch::Receiver<auditrail_store::Head>,
        reserves: PruneReserves,
    ) -> StoreIntegrity {
        let store_id = cp.store_id().to_string();
        // A store under a flush policy acknowledges before its fsync and publishes its
        // head after it: its batches promise no durability, and no seal either.
        let seals = cp.policy().seal_every_batch && handle.is_durable();
        let task = CheckpointTask::spawn(cp, head);
        StoreIntegrity {
            handle: handle.clone(),
            signer,
            store_id,
            sealed: seals.then(|| task.sealed()),
            task_state: task.sealed(),
            checkpointer: task.checkpointer(),
            task: Mutex::new(Some(task)),
            pruned: Arc::default(),
            reserves: Arc::new(reserves),
            room_owed: std::sync::atomic::AtomicBool::new(false),
            archived_pieces: Arc::default(),
        }
    }

    /// Deletes the store's closed time partitions that `rule` selects (retention, or
    /// `auditrail store prune`), each deletion first recorded in the checkpoint log:
    /// a signed, fsynced line naming the partitions, `reason`, and the chain ranges
    /// deleted with the chain hash at the end of each, published at once to the
    /// high-water mark. Only then are the files removed (see
    /// [`auditrail_store::prune`]). More than
    /// [`MAX_PARTITIONS_PER_PRUNE`](auditrail_store::prune::MAX_PARTITIONS_PER_PRUNE)
    /// partitions are deleted in several passes, one line each.
    ///
    /// With `dry_run`, nothing is written or removed: the plan of every pass the real
    /// prune would make is returned (each planned on what the passes before it leave,
    /// see [`StoreHandle::prune_passes`](auditrail_store::StoreHandle::prune_passes)).
    /// An empty result: nothing to delete.
    pub async fn prune(
        &self,
        rule: PruneRule,
        reason: &str,
        dry_run: bool,
    ) -> Result<Vec<Pruned>, IntegrityError> {
        if !dry_run {
            return self.prune_until(rule, reason, None, &mut |_| {}).await;
        }
        let handle = self.handle.clone();
        tokio::task::spawn_blocking(move || {
            let passes = handle
                .prune_passes::<IntegrityError>(&rule)
                .map_err(|e| prune_error(e, handle.root()))?;
            Ok(passes
                .into_iter()
                .map(|plan| Pruned {
                    plan,
                    checkpoint: None,
                    left: None,
                })
                .collect())
        })
        .await
        .map_err(|e| panicked("prune", e))?
    }

    /// [`prune`](Self::prune) (not a dry run) that hands each pass to `each` as soon
    /// as it is done (the server logs it then: a prune of a large backlog makes tens
    /// of passes, and a stop or a crash meanwhile must not leave deletions done and
    /// never told), and that stops between two passes when `stop` turns `true` (the
    /// server's shutdown: the passes left wait for the next prune, rather than hold
    /// the stop beyond its deadline). A pass is never stopped in the middle: it is
    /// bounded ([`MAX_PARTITIONS_PER_PRUNE`](auditrail_store::prune::MAX_PARTITIONS_PER_PRUNE)
    /// partitions), and its line is written before its files go. A stop returns
    /// [`IntegrityError::PruneStoppedBetweenPasses`] with the passes done (each
    /// deleted what its line names, and was handed to `each`). Without `stop`, every
    /// pass runs.
    pub async fn prune_until(
        &self,
        rule: PruneRule,
        reason: &str,
        stop: Option<watch::Receiver<bool>>,
        each: &mut (dyn FnMut(&Pruned) + Send),
    ) -> Result<Vec<Pruned>, IntegrityError> {
        let root = self.handle.root().to_path_buf();
        let mut done = Vec::new();
        // Partitions that cannot be removed, left out of each pass's line: the passes
        // go on with the others, and the prune then fails naming them.
        let mut left_out = LeftOut::default();
        self.prune_refusals().await?;
        loop {
            if stop.as_ref().is_some_and(|s| *s.borrow()) {
                return Err(IntegrityError::PruneStoppedBetweenPasses {
                    path: self.handle.root().to_path_buf(),
                    passes: done.len(),
                });
            }
            let handle = self.handle.clone();
            let reason = reason.to_string();
            let pass = match self
                .pass_making_room(move |recorder| {
                    handle.prune(&rule, |plan| {
                        recorder.record(plan, Deletion::of_plan(plan, &reason))?;
                        Ok::<bool, IntegrityError>(true)
                    })
                })
                .await
            {
                Ok(pass) => pass,
                Err(e) => {
                    self.pruned.failed(&e);
                    return Err(e);
                }
            };
            left_out.add(&root, &pass.left_out);
            match self.pass_done(pass, each, &mut done, &mut left_out) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    self.pruned.failed(&e);
                    return Err(e);
                }
            }
        }
        // Both counted before either is returned: the misplaced ones' error comes first.
        let misplaced = self.kept_misplaced(left_out.len()).await;
        let unremovable = left_out.error(&root);
        misplaced?;
        if let Some(e) = unremovable {
            self.pruned.failed(&e);
            return Err(e);
        }
        Ok(done)
    }

    /// The partitions this store's prunes left out since the last call, for holding
    /// records that do not belong in their folders (see
    /// [`StoreHandle::take_prune_refusals`](auditrail_store::StoreHandle::take_prune_refusals)).
    /// Called before a prune (to forget those of earlier ones) and after it.
    async fn prune_refusals(
        &self,
    ) -> Result<Vec<auditrail_store::MisplacedPartition>, IntegrityError> {
        let handle = self.handle.clone();
        let root = handle.root().to_path_buf();
        tokio::task::spawn_blocking(move || handle.take_prune_refusals::<IntegrityError>())
            .await
            .map_err(|e| panicked("prune", e))?
            .map_err(|e| prune_error(e, &root))
    }

    /// After a prune's passes: its partitions left out for misplaced records, as an
    /// error (counted as a failed prune: `retentionFailures`), so that the server's
    /// log, its stats and `auditrail store prune` say so; the rest was deleted. Counts
    /// them, and the `unremovable` partitions its passes left out, as the last prune's
    /// ([`PruneStats::partitions_misplaced`], [`PruneStats::partitions_unremovable`]).
    async fn kept_misplaced(&self, unremovable: usize) -> Result<(), IntegrityError> {
        let mut partitions = self.prune_refusals().await?;
        partitions.sort_by(|a, b| a.folder.cmp(&b.folder));
        partitions.dedup_by(|a, b| a.folder == b.folder);
        self.pruned.left_out(unremovable, partitions.len());
        if partitions.is_empty() {
            return Ok(());
        }
        let e = IntegrityError::PruneKeptMisplaced {
            path: self.handle.root().to_path_buf(),
            partitions,
        };
        self.pruned.failed(&e);
        Err(e)
    }

    /// One prune pass, on a blocking thread (see [`prune_pass::run_pass`]: on a full
    /// disk it releases the prune reserve and tries once more): the plan it carried
    /// out (`None`: nothing to delete) and its deletion line, or the plan it recorded
    /// and removed part of, with what is left and why ([`PassEnd::left`]). After it the
    /// reserve is made again if it was released; a failure on a full disk says so,
    /// with what to do.
    async fn pass_making_room<P>(&self, pass: P) -> Result<PassEnd, IntegrityError>
    where
        P: FnMut(&mut Recorder) -> PassResult + Send + 'static,
    {
        let cp = self.checkpointer.clone();
        let reserves = self.reserves.clone();
        let store = self.handle.root().to_path_buf();
        let out =
            tokio::task::spawn_blocking(move || prune_pass::run_pass(cp, reserves, store, pass))
                .await
                .map_err(|e| panicked("prune", e))?;
        match out.result {
            Ok(plan) => {
                self.room_used(out.room);
                Ok(PassEnd {
                    plan,
                    written: out.written,
                    left: None,
                    left_out: Vec::new(),
                })
            }
            // Nothing due can be removed: nothing recorded, nothing deleted.
            Err(PruneError::Unremovable { partitions }) => {
                self.room_used(out.room);
                Ok(PassEnd {
                    plan: None,
                    written: None,
                    left: None,
                    left_out: partitions,
                })
            }
            // Its line written and part of it removed: reported as done (what it
            // removed), then as failed.
            Err(PruneError::Removal { plan, left, source }) => {
                self.room_used(out.room);
                let e = IntegrityError::PruneIncomplete {
                    path: self.handle.root().to_path_buf(),
                    files: left.files.len(),
                    partitions: left.partitions.len(),
                    first: left.files.first().cloned().unwrap_or_default(),
                    removed: plan.removed_partitions(Some(&left)).count(),
                    source: Box::new(prune_error(*source, self.handle.root())),
                };
                Ok(PassEnd {
                    plan: Some(*plan),
                    written: out.written,
                    left: Some((left, e)),
                    left_out: Vec::new(),
                })
            }
            Err(e) => Err(self.prune_failed(e, out.room)),
        }
    }

    /// A pass that failed: a full disk said as such, with what the reserve did and what
    /// to do. The reserve released for it is made again if there is room (there is
    /// none, most likely: said, and no error).
    fn prune_failed(&self, e: PruneError<IntegrityError>, room: Room) -> IntegrityError {
        let full = match &e {
            PruneError::Record(e) => e.is_disk_full(),
            PruneError::Store(e) => e.is_disk_full(),
            PruneError::Unavailable { .. }
            | PruneError::Removal { .. }
            | PruneError::Unremovable { .. } => false,
        };
        let released = room.released || self.room_owed.load(std::sync::atomic::Ordering::Relaxed);
        self.room_used(room);
        let e = prune_error(e, self.handle.root());
        if !full {
            return e;
        }
        disk_full(self.handle.root(), &self.reserves, released, e)
    }

    /// After a pass that released the reserve: made again (its files are removed when
    /// the pass succeeded); if it cannot be, that is said and the prune goes on.
    fn room_used(&self, room: Room) {
        let owed = self
            .room_owed
            .swap(false, std::sync::atomic::Ordering::Relaxed);
        if room.released || owed {
            self.reserves.ensure();
        }
    }

    /// Ends a prune pass: counts what it deleted (if its line was written, not a dry
    /// run), hands it to `each` and keeps it, and takes the partitions it left out for
    /// `left_out`. Whether another pass follows (`false`: nothing to delete); a pass
    /// that left files is handed over and counted for what it removed, and then ends
    /// the prune with its error (the caller counts it as a failure).
    fn pass_done(
        &self,
        end: PassEnd,
        each: &mut (dyn FnMut(&Pruned) + Send),
        done: &mut Vec<Pruned>,
        left_out: &mut LeftOut,
    ) -> Result<bool, IntegrityError> {
        let PassEnd {
            plan,
            written,
            left,
            left_out: _,
        } = end;
        let Some(plan) = plan else {
            return Ok(false);
        };
        left_out.add(self.handle.root(), &plan.unremovable);
        let more = plan.more;
        let (left, failed) = left.map_or((None, None), |(l, e)| (Some(l), Some(e)));
        let pass = Pruned {
            plan,
            checkpoint: written,
            left,
        };
        if pass.checkpoint.is_some() {
            self.pruned.add(&pass);
        }
        each(&pass);
        done.push(pass);
        match failed {
            Some(e) => Err(e),
            None => Ok(more),
        }
    }

    /// [`prune`](Self::prune) with archive before delete: each pass first copies the
    /// partitions it is about to delete to `archive`, outside the store's writer (no
    /// batch waits for the uploads), and reads every object back (size, SHA-256). The
    /// plan froze those partitions' files ([`StoreHandle::prune_plan_freezing`]): a late
    /// event for one of them starts a new segment there, which this pass neither
    /// uploads nor deletes (the next pass does). Then, holding the writer, it takes the
    /// uploaded files that are still as uploaded (a partition one of whose files
    /// changed anyway, cut by someone else, is left for the next pass) and writes the
    /// signed deletion line naming the archive and each object's
    /// digest; then, without the writer again (the log grows with the store's whole
    /// history), uploads the checkpoint log up to that line (with every seal of the
    /// records) and reads it back, and only then removes the files.
    ///
    /// Before its first upload it claims the archive's prefix for this store
    /// ([`Archive::claim`]: a prefix holding another store's `store-id` is refused),
    /// and refuses a local archive that is the store's folder or inside it
    /// ([`Archive::check_apart_from`]). Segment objects are written create-only: one
    /// already there is accepted only with the local file's bytes (a pass retried
    /// after a crash), see [`Archive::upload`].
    ///
    /// Any of these refusals, and any upload or read-back failure, deletes nothing, is
    /// counted ([`PruneStats::archive_failures`]) and returned as
    /// [`IntegrityError::Archive`] naming the object and the cause; the next prune
    /// tries again. When the log's
    /// upload fails after its deletion line was written, the line stays (signed,
    /// harmless: `verify` warns that the partitions it names are still there until the
    /// next prune removes them, as after a crash between the two).
    pub async fn prune_archiving(
        &self,
        rule: PruneRule,
        reason: &str,
        archive: &Archive,
    ) -> Result<Vec<Pruned>, IntegrityError> {
        self.prune_archiving_until(rule, reason, archive, None, &mut |_| {})
            .await
    }

    /// [`prune_archiving`](Self::prune_archiving) that stops when `stop` turns `true`
    /// (the server's shutdown), so that a slow or frozen object store never holds a
    /// stop beyond its deadline. Stopping is safe at any point, as nothing is removed
    /// locally before its copy was read back: during a pass's uploads it deletes and
    /// writes nothing (an object already uploaded is taken as it is by the next pass);
    /// during the upload of the checkpoint log, after the deletion line, the line stays
    /// and nothing is removed, as when that upload fails. A stopped pass returns
    /// [`IntegrityError::PruneStopped`] (not counted as an archive failure); the passes
    /// done before it deleted what they name. Without `stop`, as `prune_archiving`.
    /// Each pass done is handed to `each` at once, as by
    /// [`prune_until`](Self::prune_until).
    pub async fn prune_archiving_until(
        &self,
        rule: PruneRule,
        reason: &str,
        archive: &Archive,
        stop: Option<watch::Receiver<bool>>,
        each: &mut (dyn FnMut(&Pruned) + Send),
    ) -> Result<Vec<Pruned>, IntegrityError> {
        let root = self.handle.root().to_path_buf();
        let mut done = Vec::new();
        let mut claimed = false;
        // As in `prune_until`; the check comes before the upload (`archive_pass`), and
        // again before the line (a partition found unremovable then was uploaded, and
        // its copy stays, unnamed by any line, until a later pass deletes it).
        let mut left_out = LeftOut::default();
        self.prune_refusals().await?;
        let result = async {
            loop {
                let uploads = self.archive_pass(rule, archive, &mut claimed, &mut left_out);
                let (plan, only, objects) = match until_stopped(stop.clone(), uploads).await {
                    Some(Ok(Some(uploaded))) => uploaded,
                    Some(Ok(None)) => break,
                    Some(Err(e)) => return Err(e),
                    None => return Err(IntegrityError::PruneStopped { path: root.clone() }),
                };
                // A stop given now: the line is not written (it would stay, and the
                // files with it, until the next pass).
                if stop.as_ref().is_some_and(|s| *s.borrow()) {
                    return Err(IntegrityError::PruneStopped { path: root.clone() });
                }
                // Record and delete what is still as uploaded (on a full disk, in the
                // room of the prune reserve, as a prune without an archive).
                let handle = self.handle.clone();
                let reason = reason.to_string();
                let archive2 = archive.clone();
                let runtime = tokio::runtime::Handle::current();
                let root2 = root.clone();
                let stop2 = stop.clone();
                let archived_pieces = self.archived_pieces.clone();
                let mut pass = self
                    .pass_making_room(move |recorder| {
                        handle.prune_only_then(
                            &rule,
                            Some(&only),
                            |plan| {
                                let mut deletion = Deletion::of_plan(plan, &reason);
                                let segments: std::collections::HashSet<&str> = plan
                                    .partitions
                                    .iter()
                                    .flat_map(|p| p.segments.iter().map(String::as_str))
                                    .collect();
                                deletion.archived = Some(Archived {
                                    url: archive2.url().to_string(),
                                    objects: objects
                                        .iter()
                                        .filter(|o| segments.contains(o.path.as_str()))
                                        .cloned()
                                        .collect(),
                                });
                                recorder.record(plan, deletion)?;
                                Ok::<bool, IntegrityError>(true)
                            },
                            // The seals and the line naming the objects travel with
                            // them: the log, up to that line, goes to the archive
                            // before anything is removed, over its older copy (which
                            // it continues; the prefix's `store-id` was claimed above).
                            // Without the writer: the log grows with the store's whole
                            // history (a line per sealed batch), and ingest waited for
                            // its upload and read-back at every pass. A stop or a
                            // failed upload leaves the line and removes nothing, as a
                            // crash between the two does.
                            |_plan| {
                                let log = upload_log(&archive2, &root2, &archived_pieces);
                                match runtime.block_on(until_stopped(stop2.clone(), log)) {
                                    Some(Ok(_)) => Ok(()),
                                    Some(Err(e)) => Err(IntegrityError::Archive {
                                        path: root2.clone(),
                                        source: Box::new(e),
                                    }),
                                    None => Err(IntegrityError::PruneStopped {
                                        path: root2.clone(),
                                    }),
                                }
                            },
                        )
                    })
                    .await?;
                left_out.add(&root, &pass.left_out);
                let Some(recorded) = &pass.plan else {
                    if !pass.left_out.is_empty() {
                        break;
                    }
                    tracing::info!(
                        store = %root.display(),
                        partitions = plan.partitions.len(),
                        "archived partitions changed since their upload (their files are frozen for the upload: a recovery of the writer meanwhile, or a change by hand); left for the next prune"
                    );
                    break;
                };
                for f in &recorded.changed {
                    tracing::info!(store = %root.display(), partition = %f, "partition changed since its upload (its files are frozen for the upload: a recovery of the writer meanwhile, or a change by hand); left for the next prune");
                }
                // The pass's report names the partitions left out before the upload
                // too (its plan, made of what was uploaded, does not hold them).
                if let Some(recorded) = pass.plan.as_mut() {
                    for u in &plan.unremovable {
                        if !recorded.unremovable.iter().any(|r| r.folder == u.folder) {
                            recorded.unremovable.push(u.clone());
                        }
                    }
                }
                if !self.pass_done(pass, each, &mut done, &mut left_out)? {
                    break;
                }
            }
            Ok(())
        }
        .await;
        // The passes ran to the end (or stopped at a failure of their own): what they
        // left out is counted either way, the misplaced ones' error first.
        let result = match result {
            Ok(()) => {
                let misplaced = self.kept_misplaced(left_out.len()).await;
                let unremovable = left_out.error(&root);
                // Counted as a failure by `kept_misplaced` already.
                misplaced?;
                unremovable.map_or(Ok(()), Err)
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => Ok(done),
            Err(e) => {
                if matches!(e, IntegrityError::Archive { .. }) {
                    self.pruned
                        .archive_failures
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                self.pruned.failed(&e);
                Err(e)
            }
        }
    }

    /// The first part of a pass of [`prune_archiving_until`](Self::prune_archiving_until),
    /// which writes and deletes nothing (so it may be stopped anywhere): plans what the
    /// pass deletes, claims the archive's prefix (once: `claimed`), uploads the
    /// partitions' segment files and reads them back. `None`: nothing to delete.
    async fn archive_pass(
        &self,
        rule: PruneRule,
        archive: &Archive,
        claimed: &mut bool,
        left_out: &mut LeftOut,
    ) -> Result<Option<(PrunePlan, PruneOnly, Vec<ArchivedObject>)>, IntegrityError> {
        let root = self.handle.root().to_path_buf();
        // What this pass would delete (under the writer, briefly), its files frozen:
        // late events for these partitions go to new segments from now on, so what is
        // uploaded below is still as uploaded when the deletion is recorded (a
        // partition that kept receiving late events was otherwise changed at every
        // pass, and never deleted).
        let handle = self.handle.clone();
        let preview = tokio::task::spawn_blocking(move || {
            handle.prune_plan_freezing::<IntegrityError>(&rule)
        })
        .await
        .map_err(|e| panicked("prune", e))?;
        let plan = match preview {
            Ok(Some(plan)) => plan,
            Ok(None) => return Ok(None),
            // Partitions that cannot be removed are neither uploaded nor frozen.
            Err(PruneError::Unremovable { partitions }) => {
                left_out.add(&root, &partitions);
                return Ok(None);
            }
            Err(e) => return Err(prune_error(e, &root)),
        };
        left_out.add(&root, &plan.unremovable);
        // The archive's prefix must be this store's before anything of it is uploaded
        // there (another store's objects have the same names), and a local archive
        // must not be the store itself (it would archive onto the files it then
        // deletes).
        if !*claimed {
            let refused = |e| IntegrityError::Archive {
                path: root.clone(),
                source: Box::new(e),
            };
            archive.check_apart_from(&root).map_err(refused)?;
            archive.claim(&self.store_id).await.map_err(refused)?;
            *claimed = true;
        }
        // Upload and read back, without the writer.
        let mut only = PruneOnly::new();
        let mut objects = Vec::new();
        for p in &plan.partitions {
            let mut seen = Vec::new();
            for rel in &p.segments {
                let o = archive.upload(&root.join(rel), rel).await.map_err(|e| {
                    IntegrityError::Archive {
                        path: root.clone(),
                        source: Box::new(e),
                    }
                })?;
                seen.push((rel.clone(), o.bytes));
                objects.push(o);
            }
            only.insert(p.folder.clone(), seen);
        }
        Ok(Some((plan, only, objects)))
    }

    /// Hands the store's signing over to `next` (a key rotation): a checkpoint line of
    /// the current head carrying `nextKey`, signed by this store's current key and
    /// published (see [`Checkpointer::rotate`]). Run it on a store no batch is being
    /// written to (`auditrail keys rotate` runs it with the server stopped); the
    /// server must then sign with the new key.
    pub async fn rotate_key(&self, next: PublicKey) -> Result<Checkpoint, IntegrityError> {
        let head = self.handle.head_with_tree();
        let cp = self.checkpointer.clone();
        tokio::task::spawn_blocking(move || {
            cp.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .rotate(head, next)
        })
        .await
        .map_err(|e| IntegrityError::Io {
            path: Default::default(),
            source: std::io::Error::other(format!("key rotation panicked: {e}")),
        })?
    }

    /// What prunes deleted from this store since it was attached.
    pub fn prune_stats(&self) -> PruneStats {
        self.pruned.snapshot()
    }

    /// Waits until a signed, fsynced line of the store's log vouches for the records up
    /// to chain seq `seq` (at once when the policy does not seal every batch). The
    /// server calls it before acknowledging a batch whose records end at `seq`, so that
    /// nothing acknowledged depends on a later checkpoint. Errors when the checkpoint
    /// task ended without sealing them, and as soon as an attempt to seal them made
    /// after this call began failed (the task retries; the caller answers now, not
    /// when its wait times out).
    pub async fn sealed_through(&self, seq: u64) -> Result<(), IntegrityError> {
        let Some(sealed) = &self.sealed else {
            return Ok(());
        };
        let mut sealed = sealed.clone();
        let since = sealed.borrow().attempts;
        let failed = match sealed
            .wait_for(|s| {
                s.seq >= seq
                    || (s.attempts > since
                        && s.failed
                            .as_ref()
                            .is_some_and(|(through, _)| *through >= seq))
            })
            .await
        {
            Ok(s) if s.seq >= seq => return Ok(()),
            Ok(s) => s.failed.as_ref().map(|(_, e)| e.clone()),
            Err(_) => None,
        };
        let path = self.handle.root().to_path_buf();
        Err(match failed {
            Some(source) => IntegrityError::SealFailed { path, seq, source },
            None => IntegrityError::Unsealed { path, seq },
        })
    }

    /// Why a batch stored now would not be sealed, when the policy seals every batch
    /// (`None` otherwise, and while sealing works): the checkpoint log is not the file
    /// the server appends to at its path (moved, removed, replaced or truncated by
    /// someone else: checked now), or the last attempt to seal failed (a full disk, an
    /// I/O error), until an attempt succeeds. Every batch is then answered `503
    /// unsealed`: the server's readiness (`/readyz`) says so. Blocking (a `stat` and an
    /// `fstat`), but never waits for a seal in progress (which holds the checkpointer,
    /// perhaps in an fsync of a disk that hangs): then only the last attempt's outcome
    /// is read, so that readiness callers never queue behind it.
    pub fn seal_blocked(&self) -> Option<Arc<IntegrityError>> {
        let sealed = self.sealed.as_ref()?;
        let in_place = match self.checkpointer.try_lock() {
            Ok(cp) => cp.log_in_place(),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().log_in_place(),
            Err(std::sync::TryLockError::WouldBlock) => Ok(()),
        };
        if let Err(e) = in_place {
            return Some(Arc::new(e));
        }
        let failed = sealed.borrow().failed.as_ref().map(|(_, e)| e.clone());
        failed
    }

    /// Why the last line of the store's checkpoint log, written and sealed, could not be
    /// published (its high-water mark in the data folder cannot be written), while it
    /// cannot: batches are stored and sealed meanwhile, and the checkpoint task logs it
    /// at each attempt. The server's readiness (`/readyz`) names it as degraded.
    pub fn unpublished(&self) -> Option<Arc<IntegrityError>> {
        self.task_state.borrow().unpublished.clone()
    }

    /// The last signed line of the store's checkpoint log (`None` before the first),
    /// as the checkpoint task wrote it: the web console shows it.
    pub fn last_checkpoint(&self) -> Option<Checkpoint> {
        self.checkpointer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .last()
            .cloned()
    }

    /// [`crate::archive::newest_deletion_archive`] of this store.
    pub fn newest_deletion_archive(&self) -> Option<(u64, String)> {
        crate::archive::newest_deletion_archive(self.handle.root())
    }

    /// The store's id.
    pub fn store_id(&self) -> &str {
        &self.store_id
    }

    /// A signed receipt for events this store stored recently, found by their
    /// [`StoreHandle::receipt_key`]s (id and identity: another event with the same id
    /// is never taken for one of them); `None` when any of them is unknown to it: not
    /// stored here, or too long ago.
    pub fn receipt(&self, keys: &[ReceiptKey]) -> Option<Receipt> {
        let r = self.handle.chain_range(keys)?;
        Some(Receipt::new(&self.store_id, r.first_seq, r.last).signed(&self.signer))
    }

    /// Signs the final checkpoint, recording a clean stop (call once the store takes
    /// no more records: after its last batch, its writer closed; see
    /// [`CheckpointTask::close`](super::task::CheckpointTask::close)).
    /// Closing again does nothing (`Ok(None)`).
    pub async fn close(&self) -> Result<Option<Checkpoint>, IntegrityError> {
        match self.take_task() {
            Some(task) => task.close().await,
            None => Ok(None),
        }
    }

    /// [`close`](Self::close) for a store whose writer may still write (its shutdown
    /// did not finish): the final checkpoint does not record a clean stop.
    pub async fn close_not_stopped(&self) -> Result<Option<Checkpoint>, IntegrityError> {
        match self.take_task() {
            Some(task) => task.close_not_stopped().await,
            None => Ok(None),
        }
    }

    fn take_task(&self) -> Option<CheckpointTask> {
        self.task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

/// A prune's full disk, said with what the reserve did (`released`: it was released
/// for this prune) and what to do.
fn disk_full(
    store: &std::path::Path,
    reserves: &PruneReserves,
    released: bool,
    e: IntegrityError,
) -> IntegrityError {
    let reserve = reserves
        .main_path()
        .map_or_else(String::new, |p| format!(" ({})", p.display()));
    let remedy = if released {
        format!("the prune reserve{reserve} was released for it and was not enough: free space elsewhere on that file system (files other than the store's), then run the prune again")
    } else {
        format!("there was no prune reserve{reserve} to release (used by an earlier prune on a full disk and not made again for lack of room, or never made): free space elsewhere on that file system (files other than the store's), then run the prune again; the reserve is made again once there is room")
    };
    IntegrityError::PruneDiskFull {
        path: store.to_path_buf(),
        remedy,
        source: Box::new(e),
    }
}

/// `work`'s output, or `None` when `stop` turns `true` first (then `work` is dropped).
/// No `stop`, or one whose sender is gone: `work` runs to its end.
async fn until_stopped<T>(
    stop: Option<watch::Receiver<bool>>,
    work: impl std::future::Future<Output = T>,
) -> Option<T> {
    let Some(mut stop) = stop else {
        return Some(work.await);
    };
    let stopped = async move {
        if stop.wait_for(|stopped| *stopped).await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        // A stop already given wins over work that is ready too.
        biased;
        () = stopped => None,
        out = work => Some(out),
    }
}

fn panicked(what: &str, e: tokio::task::JoinError) -> IntegrityError {
    IntegrityError::Io {
        path: Default::default(),
        source: std::io::Error::other(format!("{what} panicked: {e}")),
    }
}

fn prune_error(e: PruneError<IntegrityError>, root: &std::path::Path) -> IntegrityError {
    match e {
        // Told through `LeftOut` where a prune meets it; this is its error elsewhere.
        PruneError::Unremovable { partitions } => LeftOut::of(partitions)
            .error(root)
            .unwrap_or_else(|| IntegrityError::PruneUnavailable {
                path: root.to_path_buf(),
                reason: "nothing to remove".into(),
            }),
        PruneError::Record(e) => e,
        PruneError::Store(e) => IntegrityError::Store(e),
        PruneError::Unavailable { root, reason } => {
            IntegrityError::PruneUnavailable { path: root, reason }
        }
        // A pass's removal that left files is told with them (`pass_making_room`);
        // elsewhere its cause.
        PruneError::Removal { source, .. } => prune_error(*source, root),
    }
}

/// One pass of [`StoreIntegrity::prune`].
#[derive(Debug, Clone)]
pub struct Pruned {
    /// What was deleted (or, in a dry run, would be): what its line records.
    pub plan: PrunePlan,
    /// The checkpoint line that records it (`None` in a dry run).
    pub checkpoint: Option<Checkpoint>,
    /// What of the plan the pass could not remove (`None`: it removed all of it): the
    /// pass then ends the prune with [`IntegrityError::PruneIncomplete`], after it was
    /// handed over and counted for what it did remove.
    pub left: Option<auditrail_store::Left>,
}

impl Pruned {
    /// The partitions the pass removed (all of its plan's, unless files were left).
    pub fn removed_partitions(&self) -> impl Iterator<Item = &auditrail_store::PrunedPartition> {
        self.plan.removed_partitions(self.left.as_ref())
    }

    /// The records the pass removed.
    pub fn removed_records(&self) -> u64 {
        self.plan.removed_records(self.left.as_ref())
    }

    /// The bytes the pass removed.
    pub fn removed_bytes(&self) -> u64 {
        self.plan.removed_bytes(self.left.as_ref())
    }
}

/// How a pass of [`StoreIntegrity::pass_making_room`] ended without an error of its
/// own before its removal: what it carried out (`plan`, `None`: nothing to delete) and
/// its line, and, when its removal left files of the plan, what and why.
struct PassEnd {
    plan: Option<PrunePlan>,
    written: Option<Checkpoint>,
    left: Option<(auditrail_store::Left, IntegrityError)>,
    /// Partitions that cannot be removed, when they were all the pass had (`plan` is
    /// then `None`); a plan names its own in [`PrunePlan::unremovable`].
    left_out: Vec<auditrail_store::Unremovable>,
}

/// Totals of the prunes of one store since it was attached (for `/metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PruneStats {
    /// Prune passes that deleted something.
    pub runs: u64,
    /// Partition folders deleted.
    pub partitions: u64,
    /// Records deleted.
    pub records: u64,
    /// Bytes of segment files deleted.
    pub bytes: u64,
    /// Prunes that deleted nothing because archiving failed (an upload or its
    /// read-back) or was refused (a prefix of another store, an object there with
    /// other bytes, an archive inside the store).
    pub archive_failures: u64,
    /// Prunes that failed, for any reason (archive failures included; a prune stopped
    /// by the server's stop is not one): a file that could not be removed, the
    /// deletion line that could not be written...
    pub failures: u64,
    /// Partitions due that the last prune left out because their files cannot be
    /// removed (`PrunePlan::unremovable`: a folder made read-only, an immutable file):
    /// not deleted, in no signed line. What it is now, not a total: 0 once a prune
    /// removes them or finds none.
    pub partitions_unremovable: u64,
    /// Partitions due that the last prune left out for holding a record that does not
    /// belong in their folder (`misplaced-record`): kept until an operator looks. As
    /// `partitions_unremovable`, what it is now.
    pub partitions_misplaced: u64,
}

#[derive(Debug, Default)]
struct PruneCounters {
    partitions_unremovable: std::sync::atomic::AtomicU64,
    partitions_misplaced: std::sync::atomic::AtomicU64,
    archive_failures: std::sync::atomic::AtomicU64,
    failures: std::sync::atomic::AtomicU64,
    runs: std::sync::atomic::AtomicU64,
    partitions: std::sync::atomic::AtomicU64,
    records: std::sync::atomic::AtomicU64,
    bytes: std::sync::atomic::AtomicU64,
}

impl PruneCounters {
    /// Counts what `pass` removed: a pass that left files counts the rest (a run
    /// when it removed any file), and the files left are counted by the pass that
    /// removes them.
    fn add(&self, pass: &Pruned) {
        use std::sync::atomic::Ordering::Relaxed;
        let files = |p: &PrunePlan| p.partitions.iter().map(|p| p.segments.len()).sum::<usize>();
        let left = pass.left.as_ref().map_or(0, |l| l.files.len());
        if files(&pass.plan) > left {
            self.runs.fetch_add(1, Relaxed);
        }
        self.partitions
            .fetch_add(pass.removed_partitions().count() as u64, Relaxed);
        self.records.fetch_add(pass.removed_records(), Relaxed);
        self.bytes.fetch_add(pass.removed_bytes(), Relaxed);
    }

    /// Counts a prune that ended with `e`, unless a stop ended it.
    fn failed(&self, e: &IntegrityError) {
        if !matches!(
            e,
            IntegrityError::PruneStopped { .. } | IntegrityError::PruneStoppedBetweenPasses { .. }
        ) {
            self.failures
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    fn snapshot(&self) -> PruneStats {
        use std::sync::atomic::Ordering::Relaxed;
        PruneStats {
            runs: self.runs.load(Relaxed),
            partitions: self.partitions.load(Relaxed),
            records: self.records.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            archive_failures: self.archive_failures.load(Relaxed),
            failures: self.failures.load(Relaxed),
            partitions_unremovable: self.partitions_unremovable.load(Relaxed),
            partitions_misplaced: self.partitions_misplaced.load(Relaxed),
        }
    }

    /// What a prune that ran its passes to the end left out: each count is the last
    /// prune's (before, they were only a failure among `failures`).
    fn left_out(&self, unremovable: usize, misplaced: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.partitions_unremovable
            .store(unremovable as u64, Relaxed);
        self.partitions_misplaced.store(misplaced as u64, Relaxed);
    }
}

/// An archive pass's copy of the checkpoint log, before anything is removed: the live
/// piece up to its last whole line (over the archive's older copy), then every sealed
/// piece this run has not uploaded yet (create-only: one already there is accepted
/// with the same bytes). In that order: a piece sealed meanwhile, holding the pass's
/// deletion line, is listed after the live piece's upload, so the line is in one of
/// the two.
async fn upload_log(
    archive: &crate::Archive,
    root: &std::path::Path,
    done: &Mutex<std::collections::HashSet<String>>,
) -> Result<(), crate::ArchiveError> {
    use auditrail_store::checkpoint_pieces;
    let rel = auditrail_store::CHECKPOINT_LOG;
    let live = root.join(rel);
    let io = |path: &std::path::Path, source: std::io::Error| crate::ArchiveError::Local {
        path: path.to_path_buf(),
        source,
    };
    let len = {
        // As the log is opened everywhere (a FIFO at its name refused at once: a plain
        // open waited for a writer, and the prune with it, for ever); read backwards
        // from its end, a step at a time, so its size takes no memory.
        let mut f =
            auditrail_core::regular_file::open(std::fs::OpenOptions::new().read(true), &live)
                .map_err(|e| io(&live, e))?;
        let len = f.metadata().map_err(|e| io(&live, e))?.len();
        checkpoint_pieces::whole_end(&mut f, len).map_err(|e| io(&live, e))?
    };
    archive.upload_replacing_prefix(&live, rel, len).await?;
    let sealed = checkpoint_pieces::sealed_pieces(root).map_err(|e| io(root, e))?;
    for piece in sealed {
        if done
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&piece.name)
        {
            continue;
        }
        archive.upload(&piece.path, &piece.name).await?;
        done.lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(piece.name);
    }
    Ok(())
}
