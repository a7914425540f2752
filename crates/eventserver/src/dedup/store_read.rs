//! Reading a store's records into de-duplication and the per-node statistics (at start,
//! when a held store is taken back on SIGHUP, when a Kafka partition's store is opened)
//! without holding the state's lock while the files are read.
//!
//! Reading a store is linear in its records (seconds for a few hundred thousand, minutes
//! for a few GB). The lock is the one every admission takes ([`Dedup::admit`], on the
//! async runtime's workers): held for the whole read, as it was, a store taken back on
//! SIGHUP stopped every request of every store meanwhile, each one blocking a runtime
//! worker, and with the workers blocked `/healthz` went unanswered and the systemd
//! watchdog (pinged while the runtime runs) killed the server in the middle of a long
//! read. So the records are read into values of their own ([`Unmerged`]: the nodes'
//! numbers; [`Newest`]: the window's candidates) and handed to the state afterwards,
//! each step under the lock briefly:
//!
//! - the nodes' numbers: all at once at the end, or in parts once the scan holds more
//!   nodes than twice the table's bound (memory stays bounded whatever node ids clients
//!   invented), each part after the lists of deleted numbers read before it, as the
//!   rebuild always did (a node whose events were all deleted is then the least
//!   recently stored);
//! - the window: the newest events selected and sorted outside the lock, then pushed
//!   [`FILL_STEP`] at a time.
//!
//! What the requests admitted meanwhile do stays right. They cannot carry events for a
//! store being taken back (it is held until the take-back is over: `503 store_held`), so
//! their events are stored elsewhere: a node's count adds its records read here and its
//! events stored meanwhile, each once (the numbers are sets, `lastSeen` keeps the later
//! time); an event stored meanwhile that the store read also holds is remembered once
//! in the window (pushed only when absent). The caller lifts the hold only once this
//! returns, so a resend of an event the store holds is always found here: it is a
//! duplicate.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use auditrail_store::{NodeDeleted, ReceiptKey, ScanReport, StoreError, StoreHandle, StoredEvent};

use super::rebuild::{merge_oldest_first, Holders, Newest, Scan};
use super::{lock, Dedup, DedupConfig, Hasher, State};

/// Events pushed into the window per hold of the lock: a few milliseconds at most, so
/// an admission waits at most that long behind a fill of a million.
const FILL_STEP: usize = 1 << 14;

/// What a read of stores found that the state has not taken yet.
pub(super) struct Unmerged {
    /// Each store's list of deleted numbers, in the order the stores were read.
    deleted: Vec<BTreeMap<String, NodeDeleted>>,
    /// The nodes read since the last hand-over.
    scan: Scan,
    /// The scan is handed over once it holds more nodes than this.
    max_scanned: usize,
}

impl Unmerged {
    pub(super) fn new(config: &DedupConfig) -> Unmerged {
        Unmerged {
            deleted: Vec::new(),
            scan: Scan::default(),
            max_scanned: config.max_nodes.max(1).saturating_mul(2),
        }
    }

    /// Hands everything read so far to `state`: the lists of deleted numbers first,
    /// then the nodes' numbers.
    pub(super) fn hand_to(&mut self, state: &mut State) {
        for deleted in self.deleted.drain(..) {
            state.take_deleted(deleted);
        }
        state.merge_scan(std::mem::take(&mut self.scan));
    }

    /// One record read: into the scan (see [`Reading::record`]), whose nodes go to the
    /// state (its lock taken for that alone) once there are too many of them.
    fn add(
        &mut self,
        state: &Mutex<State>,
        read: &mut Reading<'_>,
        fingerprints: &Hasher,
        record: &StoredEvent<'_>,
    ) -> Option<ReceiptKey> {
        let key = read.record(&mut self.scan, fingerprints, record);
        // Bounded like the table (which keeps at most `max_nodes`): a store of more
        // node ids than that is handed over in parts; only a node split across two
        // parts can then look fragmented, as before this two-step rebuild.
        if self.scan.nodes() > self.max_scanned {
            self.hand_to(&mut lock(state));
        }
        key
    }
}

impl Dedup {
    /// Reads every record of `store` (number `number` among the stores of `holders`)
    /// into `unmerged` and `newest`, handing each to `also` as well: the one reading of
    /// a store, at start and later. The state's lock is not held meanwhile (see the
    /// module docs); the store's writer is.
    pub(super) fn read_store(
        &self,
        (unmerged, newest): (&mut Unmerged, &mut Newest),
        (number, holders): (u32, &Holders),
        store: &StoreHandle,
        progress: &auditrail_store::ReadProgress,
        mut also: impl FnMut(&StoredEvent<'_>),
    ) -> Result<ScanReport, StoreError> {
        // Before the records: a node whose events were all deleted is then the least
        // recently stored (see `State::take_deleted`).
        unmerged.deleted.push(deleted_in(store.root()));
        let mut read = Reading::new(number, holders, newest).listing(store);
        let fingerprints = &self.inner.fingerprints;
        // The store remembers its newest records' places by the keys computed here
        // (see `StoreHandle::scan_records_keyed`).
        store.scan_records_keyed_watched(progress, |_, record| {
            also(record);
            unmerged.add(&self.inner.state, &mut read, fingerprints, record)
        })
    }

    /// Reads every record of the closed store at `root` as [`Dedup::read_store`] does
    /// (its lock is taken and its recovery runs first, see
    /// [`auditrail_store::scan_records`]).
    #[cfg(test)]
    pub(super) fn read_closed_store(
        &self,
        (unmerged, newest): (&mut Unmerged, &mut Newest),
        root: &std::path::Path,
    ) -> Result<ScanReport, StoreError> {
        unmerged.deleted.push(deleted_in(root));
        let holders = Holders::one_store();
        let mut read = Reading::new(0, &holders, newest);
        let fingerprints = &self.inner.fingerprints;
        auditrail_store::scan_records(root, |_, record| {
            let _key = unmerged.add(&self.inner.state, &mut read, fingerprints, record);
        })
    }

    /// Fills the window with the events the stores' reads found stored last, oldest
    /// first (as they were stored, so the oldest is forgotten first). Selected and
    /// sorted without the lock, pushed a step at a time (see the module docs).
    /// `keyed`: the `required_key` stores (number, route); `stores`: every store, so
    /// that an event some of its stores lack is noted with those that hold it
    /// (`partly_stored.rs`; none noted when empty).
    pub(super) fn fill_window(
        &self,
        newest: Vec<Newest>,
        keyed: &[(u32, usize)],
        stores: &[(u32, usize)],
    ) {
        let mut events = merge_oldest_first(newest).peekable();
        while events.peek().is_some() {
            let mut state = lock(&self.inner.state);
            for (id, fingerprint, by, everywhere) in events.by_ref().take(FILL_STEP) {
                if !everywhere {
                    // Not stored (its retry is new), but not to be written again to
                    // the stores that hold it.
                    if !state.recent.contains(&id, fingerprint) {
                        let key = super::Key { id, fingerprint };
                        let routes = stores.iter().filter(|(s, _)| *s == by).map(|(_, r)| *r);
                        state.partly.note(key, routes);
                    }
                    continue;
                }
                // A store may hold an event twice (a retry from beyond the window), and
                // an event stored meanwhile elsewhere may be one of them: remember it
                // once, as the set did before.
                if !state.recent.contains(&id, fingerprint) {
                    state.recent.push(&id, fingerprint);
                }
                // Read from a `required_key` store: it holds the event (a retry with
                // its key is a duplicate there, whatever its links show).
                for &(store, route) in keyed {
                    if by == store {
                        state.recent.mark(&id, fingerprint, route);
                    }
                }
            }
        }
    }
}

/// The seqs the store at `root` lists as deleted by its prunes
/// (`auditrail_store::deleted_seqs`); none, with a warning, when the list cannot be
/// read: the numbers are then reported as gaps, as before the list existed, and the
/// start goes on (they are statistics; the records and their deletions are signed).
fn deleted_in(root: &std::path::Path) -> BTreeMap<String, NodeDeleted> {
    auditrail_store::deleted_seqs::read(root).unwrap_or_else(|e| {
        tracing::warn!(store = %root.display(), error = %e, "the list of sequence numbers deleted by retention cannot be read: those numbers are reported as missing");
        Default::default()
    })
}

/// One store's scan in a rebuild: which store it is, how many of its records were read
/// (the place of a record without chain link), which stores an event needs, and the
/// window's candidates.
struct Reading<'n> {
    store: u32,
    records: u64,
    holders: &'n Holders,
    newest: &'n mut Newest,
    /// Records the store's list of deleted numbers already counts (a prune killed
    /// before it removed them): counted as deleted (`State::take_deleted`), not as
    /// stored a second time.
    listed: auditrail_store::AlreadyDeleted,
}

impl<'n> Reading<'n> {
    fn new(store: u32, holders: &'n Holders, newest: &'n mut Newest) -> Reading<'n> {
        Reading {
            store,
            records: 0,
            holders,
            newest,
            listed: Default::default(),
        }
    }

    /// The records `store` lists as deleted that its files may still hold; none, with a
    /// warning, when they cannot be read (those records are then counted twice in
    /// their node's `count`, as before).
    fn listing(mut self, store: &StoreHandle) -> Reading<'n> {
        self.listed = store.already_deleted().unwrap_or_else(|e| {
            tracing::warn!(store = %store.root().display(), error = %e, "the records a prune listed as deleted before it was interrupted cannot be told: their nodes' counts may be too high");
            Default::default()
        });
        self
    }

    /// Remembers a stored record read by a scan of a store: its event offered to the
    /// window (which takes the newest once every store is read, [`Dedup::fill_window`]),
    /// its node's numbers in `scan` (handed to the node table in seq order by
    /// [`State::merge_scan`]). The scan hands out readable stored events only: a line
    /// that is none (which queries leave out and `auditrail verify` names) is no stored
    /// event here either, whatever id it claims, so a new event with that id is stored.
    fn record(
        &mut self,
        scan: &mut Scan,
        fingerprints: &Hasher,
        record: &StoredEvent<'_>,
    ) -> Option<ReceiptKey> {
        self.records += 1;
        let event = &record.event;
        let key = Dedup::stored_key(fingerprints, event);
        let place = record.link.map_or(self.records, |l| l.seq);
        // Taken as stored once every store its destinations name holds it; the
        // destinations that are not stores get its retry again (see `rebuild.rs`).
        let needed = self.holders.needed(
            &event.topic,
            event.routing_key.as_deref(),
            record.key_id.as_deref(),
        );
        self.newest
            .offer(place, key.id, key.fingerprint, self.store, needed);
        // Listed as deleted by a prune killed before it removed the record: counted
        // there (`take_deleted`), its number too.
        if !record
            .link
            .is_some_and(|l| self.listed.has(l.seq, &event.node, event.seq))
        {
            // A node of the table gets its own key when the scan is merged (the
            // table's, kept): this one is the scan's.
            scan.add(
                &event.node,
                || Arc::from(&*event.node),
                event.seq,
                (self.store, place),
                record.server_timestamp,
                event.abandoned_seqs,
            );
        }
        // The fingerprint is the receipt tag (the same key hashes both).
        Some(ReceiptKey {
            id: key.id,
            tag: key.fingerprint,
        })
    }
}
