//! One prune pass's deletion line, written under the store's writer and making room
//! on a full disk: what [`StoreIntegrity::prune_until`](crate::StoreIntegrity::prune_until)
//! and [`prune_archiving_until`](crate::StoreIntegrity::prune_archiving_until) share,
//! so that a prune with an archive frees space on a full disk as one without does.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError};

use auditrail_store::{PruneError, PrunePlan};

use super::checkpoint::{Checkpoint, Deletion};
use super::prune_reserve::PruneReserves;
use super::task::SharedCheckpointer;
use super::IntegrityError;

/// What the store's prune call of a pass returns: the plan carried out (`None`:
/// nothing to delete).
pub(crate) type PassResult = Result<Option<PrunePlan>, PruneError<IntegrityError>>;

/// How a pass ended: the store's answer, its deletion line (if written), and what it
/// did with the reserve.
pub(crate) struct PassOutcome {
    pub(crate) result: PassResult,
    pub(crate) written: Option<Checkpoint>,
    pub(crate) room: Room,
}

/// Writes a pass's deletion line for it, inside the store's `record` step (see
/// [`run_pass`]).
pub(crate) struct Recorder {
    cp: SharedCheckpointer,
    reserves: Arc<PruneReserves>,
    store: PathBuf,
    room: Room,
    written: Option<Checkpoint>,
    /// SHA-256 of the written line (what [`crate::log_head::HEAD_FILE`] notes).
    written_digest: [u8; 32],
}

impl Recorder {
    /// Signs `deletion` of `plan` into the log, making room on a full disk
    /// ([`record_making_room`]).
    pub(crate) fn record(
        &mut self,
        plan: &PrunePlan,
        deletion: Deletion,
    ) -> Result<(), IntegrityError> {
        let (line, digest) = record_making_room(
            &self.cp,
            plan,
            deletion,
            &self.reserves,
            &self.store,
            &mut self.room,
        )?;
        self.written = Some(line);
        self.written_digest = digest;
        Ok(())
    }
}

/// Runs one prune pass of the store at `store` (blocking: it holds the store's writer,
/// call it from `spawn_blocking`): `pass` makes the store's prune call, whose `record`
/// step writes the deletion line through the [`Recorder`] it is given. A pass that met
/// a full disk before it removed anything (its line, the mark, `.deleted-seqs.jsonl`)
/// runs once more with the reserve released first ([`Room::retry_pass`]).
pub(crate) fn run_pass(
    cp: SharedCheckpointer,
    reserves: Arc<PruneReserves>,
    store: PathBuf,
    mut pass: impl FnMut(&mut Recorder) -> PassResult,
) -> PassOutcome {
    let mut recorder = Recorder {
        cp,
        reserves,
        store,
        room: Room::default(),
        written: None,
        written_digest: [0; 32],
    };
    loop {
        recorder.written = None;
        let result = pass(&mut recorder);
        if recorder.room.retry_pass(&result) {
            continue;
        }
        // The pass is done (its files removed, an archive's copy made first): the
        // checkpoint log's pieces its line vouches for go now. A failure leaves them
        // (the next pass names them again).
        if let (Ok(Some(_)), Some((line, pieces))) = (
            &result,
            recorder.written.as_ref().and_then(|c| {
                c.deleted
                    .as_ref()
                    .and_then(|d| d.log_pieces.as_ref())
                    .map(|p| (c.index, p))
            }),
        ) {
            match crate::checkpointer::remove_pieces(&recorder.store, pieces) {
                Ok(()) => {
                    tracing::info!(store = %recorder.store.display(), pieces = pieces.pieces.len(), through = pieces.through, "checkpoint log pieces removed: every record their lines vouched for was deleted (the deletion line names them)");
                    // The log now starts after them: the next start and pass find the
                    // line that explains it without reading the whole log.
                    if let Err(e) =
                        crate::log_head::note(&recorder.store, line, &recorder.written_digest)
                    {
                        tracing::warn!(store = %recorder.store.display(), error = %e, "cannot note the deletion line that removed checkpoint log pieces (the next start reads the log back to it)");
                    }
                }
                Err(e) => {
                    tracing::warn!(store = %recorder.store.display(), error = %e, "checkpoint log pieces the deletion line names could not be removed (the next pass tries again)")
                }
            }
        }
        return PassOutcome {
            result,
            written: recorder.written,
            room: recorder.room,
        };
    }
}

/// What a prune pass did with the prune reserve (see [`record_making_room`]).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Room {
    /// Release the reserve before writing the evidence (the pass is retried after a
    /// full disk met past the deletion line: `.deleted-seqs.jsonl`).
    release_first: bool,
    /// The reserve was released (or found missing) for this pass: no second try.
    tried: bool,
    /// A reserve was there and was released.
    pub(crate) released: bool,
}

impl Room {
    /// Whether a pass that ended with `result` is tried once more with the reserve
    /// released: it met a full disk before removing anything (writing its line, the
    /// mark or `.deleted-seqs.jsonl`) and the reserve was not tried yet.
    fn retry_pass<T>(&mut self, result: &Result<T, PruneError<IntegrityError>>) -> bool {
        let full = match result {
            Err(PruneError::Record(e)) => e.is_disk_full(),
            Err(PruneError::Store(e)) => e.is_disk_full(),
            _ => false,
        };
        if full && !self.tried {
            self.release_first = true;
            return true;
        }
        false
    }
}

/// [`record_deletion`], making room on a full disk: a deletion line or mark that cannot
/// be written for lack of space (`ENOSPC`, `EDQUOT`) releases the prune reserve and is
/// written again, once. Called holding the store's writer (inside
/// [`StoreHandle::prune`](auditrail_store::StoreHandle::prune)): no batch of this store takes the room meanwhile.
///
/// Crash safety is the prune's own: the line is written (fsynced) before anything is
/// removed, whether in the reserve's room or not. A kill after the reserve was
/// released and the line written, before the files were removed, leaves a signed line
/// naming partitions still there (as any crash between the two): the next prune picks
/// them again and records them again, the next start or prune makes the reserve again.
fn record_making_room(
    cp: &SharedCheckpointer,
    plan: &PrunePlan,
    deletion: Deletion,
    reserves: &PruneReserves,
    store: &std::path::Path,
    room: &mut Room,
) -> Result<(Checkpoint, [u8; 32]), IntegrityError> {
    if room.release_first && !room.tried {
        room.tried = true;
        room.released = reserves.release(store);
    }
    match record_deletion(cp, plan, deletion.clone()) {
        Err(e) if e.is_disk_full() && !room.tried => {
            room.tried = true;
            room.released = reserves.release(store);
            if !room.released {
                return Err(e);
            }
            // A line written before the mark failed stays: this one follows it,
            // naming the same partitions (as after a crash between line and removal).
            record_deletion(cp, plan, deletion)
        }
        other => other,
    }
}

/// Signs `deletion` into the log at the plan's head (the line retention and the archive
/// pass both write before any file is removed).
fn record_deletion(
    cp: &SharedCheckpointer,
    plan: &PrunePlan,
    mut deletion: Deletion,
) -> Result<(Checkpoint, [u8; 32]), IntegrityError> {
    let mut cp = cp.lock().unwrap_or_else(PoisonError::into_inner);
    // The log's pieces whose lines vouch only for records deleted once this plan is
    // carried out go with it, named on its line (removed after the pass).
    deletion.log_pieces = match cp.removable_pieces(plan.first_kept) {
        Ok(p) => p,
        // Lines removed by hand before the log's first piece: the pass removes no
        // piece, so that its line never signs the removal over as retention's.
        Err(e @ IntegrityError::CheckpointLog { .. }) => {
            tracing::error!(error = %e, "checkpoint log pieces kept: the log does not start where retention left it (`auditrail verify` names the lines removed)");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "checkpoint log pieces not looked at for removal (kept)");
            None
        }
    };
    let line = cp.record_deletion(
        auditrail_store::Head {
            link: plan.head,
            tree: plan.tree.clone(),
            // Unknown here; the checkpointer keeps the highest it saw.
            quiet: 0,
        },
        deletion,
    )?;
    Ok((line, cp.last_line_digest()))
}
