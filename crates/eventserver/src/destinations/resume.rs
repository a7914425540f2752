//! Taking back a store held at start, once an operator has seen to it (a checkpoint
//! log or a piece of it put back from a backup, `auditrail store accept`): on SIGHUP
//! the server checks each held store again, as the start does, and attaches each one
//! that passes, without a restart of the other stores and connections.
//!
//! A store that passes is taken back as the start takes a store: its records are read
//! into de-duplication and the per-node statistics (the same reading,
//! [`Dedup::load_store_among`]), its checkpoint task and receipt signer are attached
//! (the same attach, [`StoreIntegrity::attach_passed`] of the verdict just made), its
//! witnesses are caught up; only then is its hold lifted. A request routed to it is
//! answered `503 store_held` until that moment and stored from then on: none sees it
//! half taken back. The read runs on the reload's thread and takes de-duplication's
//! lock only to hand over what it read (`dedup/store_read.rs`): the other stores'
//! requests and `/healthz` are answered meanwhile. A store that fails again stays
//! held, its files untouched (the checks write nothing), and the log says why, once
//! per SIGHUP. A store that could not be opened at start (`destinations/unopened.rs`)
//! is not opened here: it stays held ([`IntegrityError::NotOpen`]) until the server is
//! started again.

use std::sync::{Arc, PoisonError};

use auditrail_integrity::{
    CheckpointPolicy, HighWaterMarks, IntegrityError, Signer, StoreIntegrity,
};

use super::{Destinations, HeldBy, StoreDestination};
use crate::dedup::{Dedup, Holders};

/// What a re-check of a held store did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rechecked {
    /// It passed and was attached: it takes events again.
    Attached {
        /// The destination.
        destination: String,
    },
    /// It is still held.
    StillHeld {
        /// The destination.
        destination: String,
        /// Why (what the checks found, or what failed after them).
        found: String,
    },
}

/// What taking a store back needs of the running server.
pub(crate) struct Resume<'a> {
    pub(crate) signer: &'a Arc<Signer>,
    pub(crate) policy: CheckpointPolicy,
    /// The marks the start checked against.
    pub(crate) marks: &'a Arc<HighWaterMarks>,
    pub(crate) witnesses: Option<&'a crate::witness::Witnesses>,
    pub(crate) dedup: &'a Dedup,
    /// The server's runtime, where the checkpoint task runs.
    pub(crate) runtime: &'a tokio::runtime::Handle,
}

impl Destinations {
    /// Checks every held store again and attaches those that pass (see the module
    /// docs); one re-check at a time. Blocks (reads each store taken back): call it
    /// off the runtime's workers.
    pub(crate) fn recheck_held(&self, with: &Resume<'_>) -> Vec<Rechecked> {
        let _one = self
            .rechecking
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let holders = self.holders();
        let mut done = Vec::new();
        // Numbered as the rebuild at start numbers them (`holders`).
        for (number, (_, d, store)) in (0u32..).zip(self.stores()) {
            let Some(records_read) = store.hold().as_ref().map(|h| h.records_read) else {
                continue;
            };
            let outcome = take_back(store, number, &holders, records_read, with);
            done.push(match outcome {
                Ok(()) => {
                    tracing::warn!(destination = %d.name, store = %store.path.display(),
                        "store taken back: checked again on SIGHUP, it passed and is attached; it takes events again (its records are in de-duplication and the per-node statistics)");
                    Rechecked::Attached {
                        destination: d.name.clone(),
                    }
                }
                Err(found) if store.unopened.is_some() => {
                    tracing::warn!(destination = %d.name, store = %store.path.display(),
                        "store still held: it could not be opened at start, and SIGHUP does not open a store, so it takes no event; make its files readable to the server (owner, mode), then start the server again: {found}");
                    Rechecked::StillHeld {
                        destination: d.name.clone(),
                        found,
                    }
                }
                Err(found) => {
                    tracing::warn!(destination = %d.name,
                        "store still held: checked again on SIGHUP, it does not pass, so it takes no event; see to it, then SIGHUP again: {found}");
                    Rechecked::StillHeld {
                        destination: d.name.clone(),
                        found,
                    }
                }
            });
        }
        done
    }
}

/// Checks, reads and attaches one held store, then lifts its hold; else why not (its
/// hold then says so).
fn take_back(
    store: &StoreDestination,
    number: u32,
    holders: &Holders,
    records_read: bool,
    with: &Resume<'_>,
) -> Result<(), String> {
    // What this re-check found, whole (the log, the ingest's answer) and in words free
    // of paths (`/readyz`): the hold says from now on that this SIGHUP held it.
    let still_held = |found: String, said: String| {
        if let Some(hold) = store.hold().as_mut() {
            hold.found = found.as_str().into();
            hold.last = Some((HeldBy::Sighup, said.into()));
        }
        found
    };
    let refused = |e: &IntegrityError| {
        still_held(
            crate::integrity_said::said(e),
            crate::integrity_said::in_few_words(e),
        )
    };
    let checked = match StoreIntegrity::check(&store.handle, with.signer, with.marks) {
        Ok(checked) => checked,
        // Not opened at start (`destinations/unopened.rs`): only a new start opens a
        // store (its lock, its recovery), so it stays held; its hold keeps what its
        // open found (the OS error), and the answer says a restart is needed.
        Err(e @ IntegrityError::NotOpen { .. }) => return Err(crate::integrity_said::said(&e)),
        Err(e) => return Err(refused(&e)),
    };
    if !records_read {
        // Said first: the read is linear in the store's records (minutes for a few GB),
        // and the other stores take events meanwhile (`dedup/store_read.rs`).
        tracing::info!(store = %store.path.display(),
            "store passed its checks again on SIGHUP: reading its records into de-duplication; it stays held until they are read, the other stores take events meanwhile");
        // As the start reads a store that passed (`Dedup::rebuild_from`).
        with.dedup
            .load_store_among(
                &store.handle,
                number,
                holders,
                &auditrail_store::ReadProgress::new(),
                |_| {},
            )
            .map_err(|e| {
                still_held(
                    format!(
                        "its checks passed, but its records could not be read into \
                         de-duplication: {e}"
                    ),
                    "its checks passed, but its records could not be read into \
                     de-duplication (see the server's log)"
                        .to_owned(),
                )
            })?;
        if let Some(hold) = store.hold().as_mut() {
            hold.records_read = true;
        }
    }
    let _runtime = with.runtime.enter();
    let attached = StoreIntegrity::attach_passed(
        checked,
        &store.handle,
        with.signer.clone(),
        with.policy,
        with.marks.clone(),
        with.witnesses.map(|w| w.forwarder(store.handle.root())),
    )
    .map_err(|e| refused(&e))?;
    let integrity = store.integrity.get_or_init(|| attached);
    if let Some(w) = with.witnesses {
        // As at start: the lines written while it was held (none) and before go first.
        w.catch_up(&store.path, integrity.store_id());
    }
    // Last: a request that finds the store not held finds it whole.
    store.lift_hold();
    Ok(())
}
