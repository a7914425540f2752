//! Exactly-once storage: recognise a retried event (the same event sent again: same
//! id, same content) and count it as a duplicate instead of storing it again, across
//! server restarts too.
//!
//! # What is remembered (bounded memory)
//!
//! - **Recent events**: the id and the content's fingerprint of the last `window` events
//!   stored (default [`DEFAULT_WINDOW`], about 1 million, 24 bytes a slot plus the
//!   table, ~34 MB: see `window.rs`), oldest forgotten first. An event whose id *and*
//!   fingerprint are in the window is a duplicate. This is the only rule that discards
//!   an event.
//! - **Why not the id alone**: ids are chosen by clients. A producer that reuses an id,
//!   or another key sending an event with an id it saw (ids are in receipts, logs and
//!   query results), would otherwise have its different event answered `200` as a
//!   duplicate and stored nowhere, while its node drops it from its spool: a silent
//!   loss, and one key hiding another key's events. An event with a known id but
//!   another fingerprint is another event: it is stored, and both are kept (as
//!   `docs/query.md` promises).
//! - **The fingerprint** ([`Dedup::fingerprint`]) is a keyed 64-bit hash (a random seed
//!   per process, as the window's table: clients choose the content, so they cannot
//!   precompute a collision) of what a retry repeats exactly and another event need
//!   not: node, seq, topic, routing key (or none), timestamp (its milliseconds) and the
//!   message's JSON text as kept (`Message::json`: the client's text, whitespace
//!   between tokens left out). The store writes that text unchanged into `clientEvent`,
//!   so the rebuild at start computes the same value from a stored record
//!   (`StoredEvent::read`, which borrows the message's text instead of parsing it: the
//!   reader queries and `auditrail verify` use, so that a line they leave out never
//!   enters the window) and a retry after a restart is still recognised. The fields are defined once, in
//!   the store ([`auditrail_store::identity_hash`]), whose receipts find events by the
//!   same identity. Two different events with one id
//!   are taken for one only if their fingerprints collide (odds 2^-64 per pair).
//! - **Which `required_key` stores took it**: a bit per remembered event and such store
//!   (`window.rs`, "marks"; noted at commit, [`Admission::commit_marking`], and by the
//!   rebuild from the records each keyed store holds). De-duplication remembers the
//!   event, not the key that sent it, and such a store takes an event by its key: a
//!   retry with that key is a duplicate there only if the store took it, which the
//!   store itself can show only for its last links (none without a chain).
//! - **Per node**: the sequence numbers stored, as ranges (at most `max_ranges_per_node`
//!   ranges, default [`DEFAULT_MAX_RANGES`]), giving the highest contiguous seq, the
//!   gaps, the count, the last time seen and the duplicates. Beyond the range bound the
//!   oldest gap is given up (counted in `forgotten_gaps`), so memory stays bounded.
//!   Read back from the stores at start, a node's numbers are counted in seq order,
//!   not file by file (`rebuild.rs`), so that only real gaps count against the bound.
//! - **How many nodes**: node ids are whatever clients send, so the per-node table is
//!   bounded too: at most `max_nodes` nodes (default [`DEFAULT_MAX_NODES`]) and
//!   `max_ranges_total` ranges over all of them (default [`DEFAULT_MAX_RANGES_TOTAL`];
//!   a node holds at least one). Beyond either, the node stored **least recently** is
//!   forgotten: its counts go into one aggregate ([`ForgottenNodes`]), so the events
//!   of all nodes still add up. A node seen again after that starts from its first seq
//!   seen again: the seqs below it count as given up (one `forgotten_gaps`), never as
//!   missing, because the table no longer knows which of them were stored. While the
//!   table has never been full, nothing of this happens. The server writes down each
//!   node forgotten and each floor a node seen again starts from (`forgotten.rs`), so
//!   that the table rebuilt at start is the one it had. A few hundred bytes a node:
//!   the defaults keep the table under ~100 MB whatever clients invent
//!   (`docs/operations.md`, "Memory").
//!
//! # Beyond the bound
//!
//! A retry of an event older than the window (its id was forgotten) is stored again:
//! a duplicate stored, never a loss. Such an event is recognisable: its seq is already
//! covered for its node. It is admitted and counted in `NodeStats::seq_reused` (a seq
//! at or below what was stored can also mean the node lost its sequence state). The
//! store never drops an event on seq alone, because a node that lost its state and
//! restarted from seq 1 would otherwise lose every event it sends.
//!
//! # Concurrency
//!
//! [`Dedup::admit`] reserves the new events (id and fingerprint, as the window keys
//! them) until the request commits or releases them. A concurrent request carrying an
//! event that is in flight **waits** for the first request's outcome (then re-checks: a
//! duplicate if it committed, new if it released), so an event is never stored twice
//! and never counted as a duplicate of something that failed. Another event with the
//! same id (another fingerprint) does not wait: it is stored too, in the same request
//! or a concurrent one. `admit` reserves all of a request's events at once or none (and
//! then waits), so two requests can never wait on each other. Bound the wait with a
//! timeout (e.g. `tokio::time::timeout`) if needed; dropping the future is safe. The
//! reservations are entries of the window's own table (`window.rs`, "Reservations"):
//! one probe per event both looks it up and reserves it.
//!
//! An event found stored may be **sent again** (the HTTP ingest's `sent_again.rs`: to
//! destinations that cannot show they hold it, or to a `required_key` store that never
//! took it). [`Dedup::admit_holding`] reserves such a stored event too (a small map of
//! its own, `State::resending`: only the stored events of an admission that holds them,
//! until it ends), so that a concurrent request carrying it waits for that one's outcome
//! exactly as for a new event in flight. Without it two concurrent retries both found
//! the event stored, both found the keyed store lacking it, and both wrote it there
//! (two copies in one store); now the second looks again once the first one's store
//! shows the record, and answers it as the duplicate it is.
//!
//! A destination that is not a store shows nothing to look at again: a request that
//! waited finds the event stored and would send it there a second time (a `file`
//! destination got a line per request that waited, for one submission). So an
//! admission that holds ([`Dedup::admit_holding`]) leaves at its end which events the
//! destinations that cannot show what they hold took from it (`took` of
//! [`Admission::commit_marking`], `State::settling`: made only when a request waits for
//! it), and the requests that waited for it keep that ([`Admission::taken_meanwhile`]):
//! such a destination that took the event from the request waited for is not sent it
//! again by the waiting one. What a
//! request did not wait for (a retry once the first was answered) is sent again, as
//! before.
//!
//! # Events some of their stores hold
//!
//! An event is remembered as stored once every destination taking it took it. One
//! that some stores took in a try answered with an error (another store refusing it
//! for now, a full disk, a give-up) is not, and its retry is new; but the stores that
//! took it are noted (`partly_stored.rs`: [`Admission::held_before`], noted by
//! [`Admission::commit_stored`] and by the rebuild from the stores' records), so that
//! the retry is written to the others alone and a store never holds two records of
//! one submission.
//!
//! The whole cycle is the `admit_commit_and_retry` unit test below.

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use auditrail_core::{Event, EventId, RouteSet, SeqRange, Timestamp};
use lru::LruCache;
use serde::Serialize;
use tokio::sync::Notify;

use auditrail_store::{
    identity_hash, ReceiptKey, ScanReport, StoreError, StoreHandle, StoredEvent, WireEvent,
};

mod forgotten;
mod partly_stored;
mod rebuild;
mod store_read;
mod store_set;
pub(crate) mod window;

pub(crate) use forgotten::FORGOTTEN_NODES_FILE;

pub(crate) use rebuild::Holders;
use rebuild::{Newest, NodeScan, Scan};
use store_read::Unmerged;
use window::{RecentIds, Reserve, Ticket};

/// The hasher of the small maps keyed by client-chosen values (events in flight, node
/// ids) and of the fingerprints: keyed with a random seed like `std`'s SipHash, several
/// times cheaper.
type Hasher = foldhash::quality::RandomState;

/// An event as de-duplication knows it: its id and its content's fingerprint (see the
/// module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
    id: EventId,
    fingerprint: u64,
}

/// Default number of recent events remembered.
pub(crate) const DEFAULT_WINDOW: usize = 1 << 20;
/// Default number of seq ranges kept per node.
pub(crate) const DEFAULT_MAX_RANGES: usize = 1024;
/// Default number of nodes remembered (a fleet far larger than any we know of; the
/// bound is against invented node ids).
pub(crate) const DEFAULT_MAX_NODES: usize = 100_000;
/// Default number of seq ranges (and announced abandoned ranges) kept over all nodes:
/// a client inventing seq patterns cannot make every node hold `max_ranges_per_node`.
pub(crate) const DEFAULT_MAX_RANGES_TOTAL: usize = 1 << 20;

/// The most sequence numbers one gap of a node is counted as `missing` for: a gap
/// longer than this (2^24, sixteen of a node's 2^20-number reservations, between two
/// numbers stored) is reported as a jump of the sender's `seq` (`seqJumps`), not as
/// millions or billions of missing events. A sender that jumped to 2^64 - 1 (a bug, a
/// node whose sequence state was replaced, a forged event) made `missing` about 1.8e19,
/// which no alert on it (`> 0` for 1h) tells from a real loss of one event. See
/// docs/protocol.md (`GET /v1/stats`).
pub(crate) const SEQ_JUMP_LIMIT: u64 = 1 << 24;

/// Bounds of the de-duplication memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DedupConfig {
    /// Recent events remembered (the exactly-once horizon).
    pub window: usize,
    /// Seq ranges kept per node (gaps tracked).
    pub max_ranges_per_node: usize,
    /// Nodes remembered; beyond, the least recently stored is forgotten.
    pub max_nodes: usize,
    /// Seq ranges kept over all nodes; beyond, the least recently stored node is
    /// forgotten.
    pub max_ranges_total: usize,
}

impl Default for DedupConfig {
    fn default() -> Self {
        DedupConfig {
            window: DEFAULT_WINDOW,
            max_ranges_per_node: DEFAULT_MAX_RANGES,
            max_nodes: DEFAULT_MAX_NODES,
            max_ranges_total: DEFAULT_MAX_RANGES_TOTAL,
        }
    }
}

/// What the nodes forgotten to bound the per-node table had counted (see the module
/// docs), so that per-node counts plus these add up to everything stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ForgottenNodes {
    /// Times a node was forgotten (a node forgotten, seen again and forgotten again
    /// counts twice).
    pub nodes: u64,
    /// Events of the forgotten nodes stored (their `count`s).
    pub events: u64,
}

impl ForgottenNodes {
    /// Both counts added.
    pub(crate) fn add(self, other: ForgottenNodes) -> ForgottenNodes {
        ForgottenNodes {
            nodes: self.nodes + other.nodes,
            events: self.events + other.events,
        }
    }
}

/// One missing range of seqs of a node: `first..=last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct Gap {
    /// First missing seq.
    pub first: u64,
    /// Last missing seq.
    pub last: u64,
}

/// `ranges` sorted by `first`, overlapping or adjoining ones joined.
fn merged(mut ranges: Vec<Gap>) -> Vec<Gap> {
    ranges.sort_by_key(|g| g.first);
    let mut out: Vec<Gap> = Vec::with_capacity(ranges.len());
    for g in ranges {
        match out.last_mut() {
            Some(prev) if g.first <= prev.last.saturating_add(1) => {
                prev.last = prev.last.max(g.last);
            }
            _ => out.push(g),
        }
    }
    out
}

/// What the server knows of one node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeStats {
    /// The node id.
    pub node: String,
    /// Events of this node stored.
    pub count: u64,
    /// When the server last stored an event of this node.
    pub last_seen: Option<Timestamp>,
    /// Highest seq such that every seq from 1 to it is stored (0: seq 1 is missing).
    pub highest_contiguous_seq: u64,
    /// Highest seq stored.
    pub highest_seq: u64,
    /// Missing ranges between 1 and `highest_seq` (the oldest may have been given up:
    /// see `forgotten_gaps`).
    pub gaps: Vec<Gap>,
    /// Number of missing seqs in `gaps`.
    pub missing: u64,
    /// Gaps longer than [`SEQ_JUMP_LIMIT`] below `highest_seq`, neither abandoned nor
    /// deleted: the sender's `seq` jumped. Not in `gaps` nor `missing`.
    pub seq_jumps: Vec<Gap>,
    /// Seqs the node announced as reserved by a run that crashed and that were never
    /// seen assigned (after the highest seq stored from that run): not counted as
    /// missing. See `docs/protocol.md` (`abandonedSeqs`).
    pub abandoned_ranges: Vec<Gap>,
    /// Number of seqs in `abandoned_ranges`.
    pub abandoned: u64,
    /// Seqs whose events were stored and then deleted by the store's retention (or
    /// `auditrail store prune`): not missing, and still in `count` (events stored). See
    /// `docs/protocol.md`.
    pub deleted: u64,
    /// Gaps given up to bound memory.
    pub forgotten_gaps: u64,
    /// Events of this node recognised as duplicates.
    pub duplicates: u64,
    /// Events admitted whose seq was already covered (see the module docs).
    pub seq_reused: u64,
}

/// The outcome of [`Dedup::admit`] for one request. Commit it once the new events are
/// durably stored, or release it (dropping it releases too).
#[must_use = "commit the admission after storing, or it is released when dropped"]
#[derive(Debug)]
pub(crate) struct Admission {
    new: Vec<usize>,
    duplicates: usize,
    reserved: Vec<Pending>,
    /// Every admitted event's key (`keys[i]` of event `i`): its fingerprint is its
    /// receipt tag ([`Admission::receipt_keys`]).
    keys: Vec<Key>,
    /// The stored events this admission holds ([`Dedup::admit_holding`]): reserved in
    /// `State::resending` until it ends.
    holding: Vec<Key>,
    /// An admission that holds ([`Dedup::admit_holding`]): its number and what it
    /// leaves at its end for the requests that waited for it (`State::settling`).
    settles: Option<(u64, Arc<Settled>)>,
    /// What the admissions this one waited for left ([`Admission::taken_meanwhile`]).
    awaited: Vec<Arc<Settled>>,
    /// The new events some of whose stores hold them from an earlier try (by index
    /// into the admitted slice, ascending) and those stores' routes
    /// ([`Admission::held_before`], `partly_stored.rs`).
    held_before: Vec<(usize, RouteSet)>,
    dedup: Option<Dedup>,
}

/// What an admission that holds ([`Dedup::admit_holding`]) leaves for the requests that
/// waited for it, set once at its end when one did: per event it stored or sent again,
/// the destinations that cannot show what they hold that took it (the `took` of
/// [`Admission::commit_marking`]). Empty when it stored nothing; unset when no request
/// waited for it.
type Settled = std::sync::OnceLock<HashMap<Key, RouteSet, Hasher>>;

/// How an admission ends for the requests that waited for it: its number and what it
/// leaves.
type Ending = Option<(u64, Arc<Settled>)>;

#[derive(Debug)]
struct Pending {
    /// The event's reservation in the window.
    ticket: Ticket,
    node: Arc<str>,
    seq: u64,
    seen: Timestamp,
    /// Numbers the node announced as abandoned with this event.
    abandoned: Option<SeqRange>,
    /// Counted for its node already: a store holding it was read at a start (an event
    /// some of whose stores hold it, see `partly_stored.rs`).
    counted: bool,
}

impl Admission {
    /// Indices (into the admitted slice) of the events to store, in order.
    #[allow(clippy::new_ret_no_self, clippy::wrong_self_convention)] // "the new events", not a constructor
    pub(crate) fn new(&self) -> &[usize] {
        &self.new
    }

    /// Events of the request that were already stored (or repeated within it).
    pub(crate) fn duplicates(&self) -> usize {
        self.duplicates
    }

    /// The receipt keys of the admitted events `which` (indices into the admitted
    /// slice), in that order: the same as [`StoreHandle::receipt_key`] of each, without
    /// hashing them again (the fingerprint is hashed with the receipt tags' key).
    pub(crate) fn receipt_keys(&self, which: impl IntoIterator<Item = usize>) -> Vec<ReceiptKey> {
        which
            .into_iter()
            .map(|i| ReceiptKey {
                id: self.keys[i].id,
                tag: self.keys[i].fingerprint,
            })
            .collect()
    }

    /// The events found stored before this request (not those repeating another event
    /// of the request), by index into the admitted slice, each with its receipt key:
    /// the duplicates whose answer vouches for a stored record.
    pub(crate) fn stored_duplicates(&self) -> Vec<(usize, ReceiptKey)> {
        if self.duplicates == 0 {
            return Vec::new();
        }
        let new: std::collections::HashSet<Key, Hasher> =
            self.new.iter().map(|&i| self.keys[i]).collect();
        let mut is_new = vec![false; self.keys.len()];
        for &i in &self.new {
            is_new[i] = true;
        }
        (0..self.keys.len())
            .filter(|&i| !is_new[i] && !new.contains(&self.keys[i]))
            .map(|i| {
                let k = self.keys[i];
                (
                    i,
                    ReceiptKey {
                        id: k.id,
                        tag: k.fingerprint,
                    },
                )
            })
            .collect()
    }

    /// The new events are stored: remember them.
    pub(crate) fn commit(self) {
        self.commit_marking(Vec::new(), |_| Vec::new());
    }

    /// [`Admission::commit`], noting which `required_key` stores took which events:
    /// `marks` holds (event index in the admitted slice, the store's route), for new
    /// events and events sent again alike ([`RecentIds::mark`]). Noted before a request
    /// waiting for these events looks again.
    ///
    /// `took(new)` says which destinations that cannot show what they hold (a `file`,
    /// a forward, Kafka) took which events: (event index in the admitted slice, the
    /// routes that took it), new events and events sent again alike; `new` is
    /// [`Admission::new`], for the caller that indexes the events by it. A request
    /// carrying one of them that waited for this one (a concurrent retry) finds them
    /// taken there ([`Admission::taken_meanwhile`]) and does not send them a second
    /// copy. Asked for only by an admission that holds ([`Dedup::admit_holding`]) and
    /// only when a request waits for it (most batches have none: their list is never
    /// made), under the de-duplication lock, so that no request can start waiting
    /// after it was found that none does.
    pub(crate) fn commit_marking(
        mut self,
        marks: Vec<(usize, usize)>,
        took: impl FnOnce(&[usize]) -> Vec<(usize, RouteSet)>,
    ) {
        if let Some(d) = self.dedup.take() {
            let marks = self.marks_of(marks);
            let partly = self.partly_updates(|_| true, Vec::new());
            let (reserved, holding, ending) = self.take_parts();
            let took = || self.keyed(took(&self.new));
            d.finish_parts(
                reserved,
                Vec::new(),
                (holding, ending),
                (marks, partly),
                took,
            );
        }
    }

    /// `took` ([`Admission::commit_marking`]) by the events' keys.
    fn keyed(&self, took: Vec<(usize, RouteSet)>) -> Vec<(Key, RouteSet)> {
        took.into_iter()
            .filter_map(|(i, routes)| Some((*self.keys.get(i)?, routes)))
            .collect()
    }

    /// Whether an admission this one waited for (a concurrent request carrying the
    /// same event: same id, same content) saw the destination of `route` take event
    /// `i` (of the admitted slice) while this request waited: it holds the copy that
    /// request sent it, so this one is its duplicate there (see the module docs,
    /// "Concurrency").
    pub(crate) fn taken_meanwhile(&self, i: usize, route: usize) -> bool {
        let Some(k) = self.keys.get(i) else {
            return false;
        };
        self.awaited.iter().any(|s| {
            s.get()
                .and_then(|took| took.get(k))
                .is_some_and(|routes| routes.contains(route))
        })
    }

    /// The stores (their routes) that hold new event `i` (of the admitted slice) from
    /// an earlier try of it whose answer was an error (`partly_stored.rs`): its retry
    /// is written to its other stores alone.
    pub(crate) fn held_before(&self, i: usize) -> Option<&RouteSet> {
        let at = self
            .held_before
            .binary_search_by_key(&i, |(j, _)| *j)
            .ok()?;
        self.held_before.get(at).map(|(_, r)| r)
    }

    /// The new events some of whose stores hold them ([`Admission::held_before`]):
    /// (index into the admitted slice, those stores' routes), ascending.
    pub(crate) fn all_held_before(&self) -> &[(usize, RouteSet)] {
        &self.held_before
    }

    /// The store of `route` no longer holds new event `i` (its record is gone): the
    /// retry is written there too.
    pub(crate) fn not_held(&mut self, i: usize, route: usize) {
        if let Ok(at) = self.held_before.binary_search_by_key(&i, |(j, _)| *j) {
            let routes = &mut self.held_before[at].1;
            *routes = routes.iter().filter(|&r| r != route).collect();
        }
    }

    /// What the end of this admission changes of the events held by some of their
    /// stores: (key, the stores that hold it, `None` once every store does or no
    /// store holds it). `stored(i)`: event `i` is stored everywhere now; `took`: the
    /// stores that took the others in this try, by event index.
    fn partly_updates(
        &self,
        stored: impl Fn(usize) -> bool,
        took: Vec<(usize, RouteSet)>,
    ) -> Vec<(Key, Option<RouteSet>)> {
        let mut updates: Vec<(Key, Option<RouteSet>)> = Vec::new();
        for (i, held) in &self.held_before {
            if stored(*i) || !took.iter().any(|(j, _)| j == i) {
                let keep = (!stored(*i) && !held.is_empty()).then(|| held.clone());
                if let Some(k) = self.keys.get(*i) {
                    updates.push((*k, keep));
                }
            }
        }
        for (i, routes) in took {
            if stored(i) {
                continue;
            }
            let Some(k) = self.keys.get(i) else { continue };
            let all: RouteSet = routes
                .iter()
                .chain(self.held_before(i).into_iter().flat_map(|h| h.iter()))
                .collect();
            updates.push((*k, (!all.is_empty()).then_some(all)));
        }
        updates
    }

    fn marks_of(&self, marks: Vec<(usize, usize)>) -> Vec<(Key, usize)> {
        marks
            .into_iter()
            .filter_map(|(i, route)| Some((*self.keys.get(i)?, route)))
            .collect()
    }

    /// Whether the store of `route` took event `i` (of the admitted slice), as a
    /// commit noted it while the window remembers the event ([`RecentIds::marked`]).
    pub(crate) fn marked(&self, i: usize, route: usize) -> bool {
        let (Some(d), Some(k)) = (&self.dedup, self.keys.get(i)) else {
            return false;
        };
        lock(&d.inner.state)
            .recent
            .marked(&k.id, k.fingerprint, route)
    }

    /// What the admission reserved, taken out to end it, and what it leaves for the
    /// requests that waited for it.
    fn take_parts(&mut self) -> (Vec<Pending>, Vec<Key>, Ending) {
        (
            std::mem::take(&mut self.reserved),
            std::mem::take(&mut self.holding),
            self.settles.take(),
        )
    }

    /// Some of the new events are stored, the others not (a destination refused them
    /// alone): remembers those for which `stored` holds (`stored(k)`: the `k`-th new
    /// event, in the order of [`Admission::new`]) and forgets the reservation of the
    /// rest, so that a retry of the batch counts the stored ones as duplicates instead of
    /// storing them again, and stores the others.
    /// `marks` and `took`: which `required_key` stores and which destinations that
    /// cannot show what they hold took which events, as [`Admission::commit_marking`].
    /// `stores_took`: which stores took which of the events not stored everywhere
    /// (index into the admitted slice, the stores' routes): remembered
    /// (`partly_stored.rs`), so that the retry is not written to them again.
    pub(crate) fn commit_stored(
        mut self,
        stored: impl Fn(usize) -> bool,
        marks: Vec<(usize, usize)>,
        took: impl FnOnce(&[usize]) -> Vec<(usize, RouteSet)>,
        stores_took: Vec<(usize, RouteSet)>,
    ) {
        if let Some(d) = self.dedup.take() {
            let marks = self.marks_of(marks);
            // By the admitted slice's index: `stored` counts the new events only.
            let mut stored_at = vec![false; self.keys.len()];
            for (k, &i) in self.new.iter().enumerate() {
                if stored(k) {
                    if let Some(s) = stored_at.get_mut(i) {
                        *s = true;
                    }
                }
            }
            let partly =
                self.partly_updates(|i| stored_at.get(i).copied().unwrap_or(false), stores_took);
            let (kept, released): (Vec<_>, Vec<_>) = std::mem::take(&mut self.reserved)
                .into_iter()
                .enumerate()
                .partition(|(k, _)| stored(*k));
            let kept = kept.into_iter().map(|(_, p)| p).collect();
            let released = released.into_iter().map(|(_, p)| p).collect();
            let (_, holding, ending) = self.take_parts();
            let took = || self.keyed(took(&self.new));
            d.finish_parts(kept, released, (holding, ending), (marks, partly), took);
        }
    }

    /// The new events were not stored: forget the reservation (a retry is new again).
    pub(crate) fn release(mut self) {
        if let Some(d) = self.dedup.take() {
            d.finish(self.take_parts(), false);
        }
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        if let Some(d) = self.dedup.take() {
            d.finish(self.take_parts(), false);
        }
    }
}

/// Events of one node in one request whose seq was already stored (logged once).
struct SeqReused {
    events: u64,
    first_seq: u64,
    first_id: EventId,
}

/// The server's de-duplication state. Cheap to clone (shared).
#[derive(Debug, Clone)]
pub(crate) struct Dedup {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    state: Mutex<State>,
    settled: Notify,
    /// The fingerprints' seed: outside the lock, so that a request's events are hashed
    /// before it is taken. The receipt tags' key (`auditrail_store::receipt_tag_key`):
    /// an event's fingerprint is its receipt tag, so the ingest hashes it once for both.
    fingerprints: Hasher,
    /// The bounds (as in `State`, which never changes them): outside the lock, for the
    /// reads of the stores (`store_read.rs`).
    config: DedupConfig,
}

#[derive(Debug)]
struct State {
    config: DedupConfig,
    /// The events stored recently, and the ones reserved by requests in flight.
    recent: RecentIds,
    /// The next admission's number (whose reservations are whose, see
    /// [`RecentIds::reserve`]).
    next_admission: u64,
    /// Stored events held by an admission that may send them again, by the admission
    /// that holds each ([`Dedup::admit_holding`]). Empty but for the retries in flight
    /// of a server that sends events again.
    resending: HashMap<Key, u64, Hasher>,
    /// The admissions that hold ([`Dedup::admit_holding`]) until they end, by number:
    /// what each leaves for the requests that wait for it (`Admission::awaited`).
    settling: HashMap<u64, Arc<Settled>, Hasher>,
    /// The events some of their stores hold and others not, and which hold them
    /// (`partly_stored.rs`).
    partly: partly_stored::PartlyStored,
    /// Most recently stored last (see [`State::bound_nodes`]).
    nodes: LruCache<Arc<str>, Node, Hasher>,
    /// Ranges and announced ranges held by all of `nodes`.
    ranges_total: usize,
    forgotten: ForgottenNodes,
    /// Where the nodes forgotten are written down (the server's; see `forgotten.rs`).
    ledger: Option<forgotten::Ledger>,
}

#[derive(Debug, Default)]
struct Node {
    /// Made after the table forgot a node (this one, perhaps): its first seq stored
    /// becomes its floor (see the module docs).
    resumed: bool,
    /// Stored seqs as disjoint, non-adjacent ranges: start -> end (inclusive).
    ranges: BTreeMap<u64, u64>,
    count: u64,
    last_seen: Option<Timestamp>,
    duplicates: u64,
    seq_reused: u64,
    forgotten_gaps: u64,
    /// Seqs below this were given up as gaps (treated as covered).
    floor: u64,
    /// Ranges the node announced as reserved by a run that crashed: (first, last).
    /// Every announcement is kept, also two with the same `first`: a run killed after
    /// its announcing event was spooled, but before the node recorded that, makes the
    /// next run announce the same `first` again with a later `last` (its range taken
    /// in). Each announcement's unused part is its own; keyed by `first`, the later
    /// one replaced the earlier, and the numbers only the earlier one showed unused
    /// were reported missing.
    announced: BTreeSet<(u64, u64)>,
    /// Seqs whose events a prune deleted (retention), as ranges sorted and apart: no
    /// gaps, though no record holds them any more (see `auditrail_store::deleted_seqs`).
    deleted: Vec<Gap>,
}

impl Node {
    fn covers(&self, seq: u64) -> bool {
        seq <= self.floor
            || self
                .ranges
                .range(..=seq)
                .next_back()
                .is_some_and(|(_, &end)| seq <= end)
            || self.was_deleted(seq)
    }

    /// Whether a prune deleted the event numbered `seq` (it was stored).
    fn was_deleted(&self, seq: u64) -> bool {
        let i = self.deleted.partition_point(|g| g.last < seq);
        self.deleted.get(i).is_some_and(|g| g.first <= seq)
    }

    /// Takes the announcements of abandoned ranges that deleted records carried
    /// (`auditrail_store::deleted_seqs`): they stay the node's (its announcing event is
    /// gone, the numbers are still abandoned). Bounded as in [`Node::record`].
    fn add_announced(&mut self, ranges: &[(u64, u64)], max_ranges: usize) {
        self.announced.extend(ranges.iter().copied());
        while self.announced.len() > max_ranges.max(1) {
            self.announced.pop_first();
        }
    }

    /// Takes `seqs` (inclusive ranges) as deleted by a prune.
    fn add_deleted(&mut self, seqs: &[(u64, u64)]) {
        if seqs.is_empty() {
            return;
        }
        let mut all: Vec<(u64, u64)> = self.deleted.iter().map(|g| (g.first, g.last)).collect();
        all.extend_from_slice(seqs);
        self.deleted = auditrail_store::deleted_seqs::merged(all)
            .into_iter()
            .map(|(first, last)| Gap { first, last })
            .collect();
    }

    fn insert(&mut self, seq: u64, max_ranges: usize) {
        // The usual case: the number after the highest one stored. It extends the last
        // range in place (one B-tree lookup instead of five; the ranges' bookkeeping was
        // a quarter of committing a batch in the server's profile). Nothing above it to
        // merge with, and the count of ranges does not change.
        if let Some(mut last) = self.ranges.last_entry() {
            if seq > self.floor && last.get().checked_add(1) == Some(seq) {
                *last.get_mut() = seq;
                return;
            }
        }
        if self.covers(seq) {
            return;
        }
        let mut start = seq;
        let mut end = seq;
        if let Some((&s, &e)) = self.ranges.range(..seq).next_back() {
            if e.checked_add(1) == Some(seq) {
                start = s;
                self.ranges.remove(&s);
            }
        }
        // Seqs are the client's u64s: u64::MAX has no next number.
        if let Some(next) = seq.checked_add(1) {
            if let Some(e) = self.ranges.remove(&next) {
                end = e;
            }
        }
        self.ranges.insert(start, end);
        // Bound memory: merge the oldest gap away (from the floor's point of view).
        while self.ranges.len() > max_ranges.max(1) {
            let Some((&s, &e)) = self.ranges.iter().next() else {
                break;
            };
            self.ranges.remove(&s);
            self.floor = self.floor.max(e);
            self.forgotten_gaps += 1;
        }
    }

    /// The seq before the first gap (deleted seqs are none), else the highest.
    fn contiguous(&self) -> u64 {
        match self.gaps().first() {
            Some(g) => g.first.saturating_sub(1),
            None => self.highest(),
        }
    }

    /// The highest seq stored (or stored and deleted since).
    fn highest(&self) -> u64 {
        let stored = self.ranges.values().next_back().copied().unwrap_or(0);
        let deleted = self.deleted.last().map_or(0, |g| g.last);
        stored.max(deleted).max(self.floor)
    }

    /// The raw gaps split into missing and abandoned seqs. In a range a crashed run
    /// reserved, the seqs after the highest one stored from that range were never
    /// seen assigned: abandoned. Below it they were assigned (a run assigns in order):
    /// missing.
    fn missing_and_abandoned(&self) -> (Vec<Gap>, Vec<Gap>) {
        let unused: Vec<Gap> = self
            .announced
            .iter()
            .filter_map(|&(first, last)| {
                // Stored and deleted since is stored: after a restart the records a
                // prune deleted are no range any more, only deleted numbers.
                let deleted = self.deleted.partition_point(|g| g.first <= last);
                let highest = self
                    .ranges
                    .range(..=last)
                    .next_back()
                    .map_or(0, |(_, &e)| e.min(last))
                    .max(self.floor.min(last))
                    .max(
                        deleted
                            .checked_sub(1)
                            .and_then(|i| self.deleted.get(i))
                            .map_or(0, |g| g.last.min(last)),
                    );
                // Nothing after u64::MAX: the whole range was used.
                let from = first.max(highest.checked_add(1)?);
                (from <= last).then_some(Gap { first: from, last })
            })
            .collect();
        // In order and apart, as the walk below needs: announcements may overlap
        // (several share a `first`), so their unused parts can too.
        let unused = merged(unused);
        let mut missing = Vec::new();
        let mut abandoned = Vec::new();
        for gap in self.gaps() {
            let mut at = gap.first;
            // The gap's end was reached (`at` cannot pass it: it may be u64::MAX).
            let mut covered = false;
            for u in &unused {
                if u.last < at || u.first > gap.last {
                    continue;
                }
                let from = u.first.max(at);
                let to = u.last.min(gap.last);
                if from > at {
                    missing.push(Gap {
                        first: at,
                        last: from - 1,
                    });
                }
                abandoned.push(Gap {
                    first: from,
                    last: to,
                });
                match to.checked_add(1) {
                    Some(next) if next <= gap.last => at = next,
                    _ => {
                        covered = true;
                        break;
                    }
                }
            }
            if !covered {
                missing.push(Gap {
                    first: at,
                    last: gap.last,
                });
            }
        }
        (missing, abandoned)
    }

    /// Ranges held, counted against `max_ranges_total`.
    fn held(&self) -> usize {
        self.ranges.len() + self.announced.len() + self.deleted.len()
    }

    /// What `/v1/stats` shows of this node.
    fn stats(&self, id: &str) -> NodeStats {
        let (missing, abandoned) = self.missing_and_abandoned();
        // A gap too long to be events lost one by one is a jump of the sender's seq
        // (`SEQ_JUMP_LIMIT`): said apart, so that `missing` keeps counting losses.
        let (seq_jumps, gaps): (Vec<Gap>, Vec<Gap>) = missing
            .into_iter()
            .partition(|g| g.last - g.first >= SEQ_JUMP_LIMIT);
        NodeStats {
            node: id.to_owned(),
            count: self.count,
            last_seen: self.last_seen,
            highest_contiguous_seq: self.contiguous(),
            highest_seq: self.highest(),
            deleted: self.deleted.iter().map(|g| g.last - g.first + 1).sum(),
            missing: gaps.iter().map(|g| g.last - g.first + 1).sum(),
            gaps,
            seq_jumps,
            abandoned: abandoned.iter().map(|g| g.last - g.first + 1).sum(),
            abandoned_ranges: abandoned,
            forgotten_gaps: self.forgotten_gaps,
            duplicates: self.duplicates,
            seq_reused: self.seq_reused,
        }
    }

    /// The seqs between the floor and the highest that are neither stored nor deleted.
    fn gaps(&self) -> Vec<Gap> {
        let mut gaps = Vec::new();
        // Seqs are the client's u64s: nothing follows u64::MAX.
        let Some(mut next) = self.floor.checked_add(1) else {
            return gaps;
        };
        // Stored and deleted ranges together, in order (most nodes have no deleted ones,
        // and then no list is made).
        let joined;
        let ranges: Box<dyn Iterator<Item = (u64, u64)> + '_> = if self.deleted.is_empty() {
            Box::new(self.ranges.iter().map(|(&s, &e)| (s, e)))
        } else {
            joined = merged(
                self.ranges
                    .iter()
                    .map(|(&first, &last)| Gap { first, last })
                    .chain(self.deleted.iter().copied())
                    .collect(),
            );
            Box::new(joined.iter().map(|g| (g.first, g.last)))
        };
        for (s, e) in ranges {
            if s > next {
                gaps.push(Gap {
                    first: next,
                    last: s - 1,
                });
            }
            match e.checked_add(1) {
                Some(after) => next = next.max(after),
                None => break,
            }
        }
        gaps
    }
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Dedup {
    /// Empty state.
    pub(crate) fn new(config: DedupConfig) -> Dedup {
        Dedup {
            inner: Arc::new(Inner {
                state: Mutex::new(State {
                    config,
                    recent: RecentIds::new(config.window),
                    next_admission: 0,
                    resending: HashMap::default(),
                    settling: HashMap::default(),
                    partly: partly_stored::PartlyStored::new(config.window),
                    // Bounded by `State::bound_nodes`, which also counts the ranges.
                    nodes: LruCache::unbounded_with_hasher(Hasher::default()),
                    ranges_total: 0,
                    forgotten: ForgottenNodes::default(),
                    ledger: None,
                }),
                settled: Notify::new(),
                fingerprints: auditrail_store::receipt_tag_key().clone(),
                config,
            }),
        }
    }

    /// The fingerprint of an event's content (see the module docs): the store's
    /// [`identity_hash`], so that a received event and its stored record
    /// ([`Dedup::stored_key`]) get the same value.
    fn fingerprint(&self, event: &Event) -> u64 {
        identity_hash(&self.inner.fingerprints, event)
    }

    fn key(&self, event: &Event) -> Key {
        Key {
            id: event.id,
            fingerprint: self.fingerprint(event),
        }
    }

    /// The key of a stored record's event, computed as [`Dedup::fingerprint`] computes
    /// it for the event received.
    fn stored_key(fingerprints: &Hasher, event: &WireEvent<'_>) -> Key {
        Key {
            id: event.id,
            fingerprint: event.identity_hash(fingerprints),
        }
    }

    /// State rebuilt from the open stores `stores`, read oldest first, so the window
    /// holds the most recent events. Call it right after opening the stores (their
    /// recovery ran) and before the server accepts events. Returns what each scan read.
    ///
    /// `read_so_far` counts the files and records read, as they are read (a start's
    /// progress); a stop asked there ends the rebuild between two files
    /// ([`StoreError::Stopped`]).
    ///
    /// `holders` says which of the stores must all hold an event for it to be taken as
    /// stored (the server's destinations and their filters; see `rebuild.rs`): the
    /// stores are numbered in the order given.
    ///
    /// `forgotten` is the file of the nodes the table forgot (`forgotten.rs`: the
    /// server's, in its data dir), read first so that the table is as it was before the
    /// restart, written again at the end, and appended to from then on.
    #[cfg(test)]
    pub(crate) fn rebuild<'a>(
        config: DedupConfig,
        stores: impl IntoIterator<Item = &'a StoreHandle>,
        holders: &Holders,
        read_so_far: &auditrail_store::ReadProgress,
        forgotten: Option<&std::path::Path>,
    ) -> Result<Dedup, StoreError> {
        let stores = stores.into_iter().map(|s| (s, true));
        Dedup::rebuild_from(config, stores, holders, read_so_far, forgotten)
    }

    /// The rebuild above from the stores paired with `true`; those paired with
    /// `false` keep their number (in `holders`) but are not read: a store held at start
    /// (its checks failed), whose records are no evidence of what the server stored, so
    /// they must not make the per-node statistics (counts, gaps, last seen) nor the
    /// window.
    pub(crate) fn rebuild_from<'a>(
        config: DedupConfig,
        stores: impl IntoIterator<Item = (&'a StoreHandle, bool)>,
        holders: &Holders,
        read_so_far: &auditrail_store::ReadProgress,
        forgotten: Option<&std::path::Path>,
    ) -> Result<Dedup, StoreError> {
        let dedup = Dedup::new(config);
        if let Some(path) = forgotten {
            let mut state = lock(&dedup.inner.state);
            let (ledger, nodes, events) = forgotten::Ledger::open_for_rebuild(path);
            state.forgotten = ForgottenNodes { nodes, events };
            state.ledger = Some(ledger);
        }
        // One scan over every store: a node's events split across stores (by topic)
        // are put in seq order together (see `rebuild.rs`).
        let mut unmerged = Unmerged::new(&config);
        // Each store's newest events by its own order (see `rebuild.rs`).
        let mut newest = Vec::with_capacity(holders.stores());
        for (i, (store, trusted)) in (0u32..).zip(stores) {
            if !trusted {
                newest.push(Newest::new(config.window));
                tracing::warn!(store = %store.root().display(), "de-duplication and the per-node statistics leave out the records of the store, held at start (its checks failed): they are no evidence of what this server stored");
                continue;
            }
            let mut store_newest = Newest::new(config.window);
            let report = dedup.read_store(
                (&mut unmerged, &mut store_newest),
                (i, holders),
                store,
                read_so_far,
                |_| {},
            )?;
            newest.push(store_newest);
            tracing::info!(store = %store.root().display(), records = report.records, "de-duplication state rebuilt from the store");
        }
        unmerged.hand_to(&mut lock(&dedup.inner.state));
        dedup.fill_window(newest, &holders.keyed_stores(), &holders.store_routes());
        if let Some(ledger) = &mut lock(&dedup.inner.state).ledger {
            ledger.finish_rebuild();
        }
        Ok(dedup)
    }

    /// Adds every record of the open store `store` (its writer is held meanwhile).
    #[cfg(test)]
    pub(crate) fn load_store(&self, store: &StoreHandle) -> Result<ScanReport, StoreError> {
        self.load_store_with(store, &auditrail_store::ReadProgress::new(), |_| {})
    }

    /// Adds every record of the open store `store` (its writer is held meanwhile),
    /// handing every record to `also` as well (a Kafka partition store finds its last
    /// offset in the same pass). Counts what it reads in `progress` and ends between
    /// two files once a stop is asked there (`StoreError::Stopped`; this state is then
    /// incomplete and must be dropped).
    #[cfg(any(test, feature = "kafka"))]
    pub(crate) fn load_store_with(
        &self,
        store: &StoreHandle,
        progress: &auditrail_store::ReadProgress,
        also: impl FnMut(&StoredEvent<'_>),
    ) -> Result<ScanReport, StoreError> {
        self.load_store_among(store, 0, &Holders::one_store(), progress, also)
    }

    /// Adds every record of the open store `store`, numbered `number` among the stores
    /// of `holders`, as a rebuild at start reads it ([`Dedup::rebuild_from`]): a store
    /// held at start whose checks pass again (SIGHUP). Its writer is held meanwhile;
    /// this state's lock is not (admissions go on, see `store_read.rs`): the caller
    /// keeps events bound for the store out until this returns (a held store answers
    /// `503 store_held`). Blocks for the whole read: call it off the runtime's workers.
    /// An event another store must hold too is not taken as stored
    /// (`rebuild::merge_oldest_first` sees this store alone): its retry is stored again (a
    /// duplicate kept, never a loss).
    pub(crate) fn load_store_among(
        &self,
        store: &StoreHandle,
        number: u32,
        holders: &Holders,
        progress: &auditrail_store::ReadProgress,
        also: impl FnMut(&StoredEvent<'_>),
    ) -> Result<ScanReport, StoreError> {
        let mut unmerged = Unmerged::new(&self.inner.config);
        let mut newest = Newest::new(self.inner.config.window);
        let report = self.read_store(
            (&mut unmerged, &mut newest),
            (number, holders),
            store,
            progress,
            also,
        )?;
        unmerged.hand_to(&mut lock(&self.inner.state));
        self.fill_window(
            vec![newest],
            &holders.keyed_stores(),
            &holders.store_routes(),
        );
        tracing::info!(store = %store.root().display(), records = report.records, "de-duplication state rebuilt from the store");
        Ok(report)
    }

    /// Adds every record of the closed store at `root`: its lock is taken and its
    /// recovery runs first, as opening it would (see [`auditrail_store::scan_records`]). The server
    /// always opens its stores first; tests rebuild from closed ones.
    #[cfg(test)]
    pub(crate) fn load_closed_store(
        &self,
        root: &std::path::Path,
    ) -> Result<ScanReport, StoreError> {
        let mut unmerged = Unmerged::new(&self.inner.config);
        let mut newest = Newest::new(self.inner.config.window);
        let report = self.read_closed_store((&mut unmerged, &mut newest), root)?;
        unmerged.hand_to(&mut lock(&self.inner.state));
        self.fill_window(vec![newest], &[], &[]);
        tracing::info!(store = %root.display(), records = report.records, "de-duplication state rebuilt from the store");
        Ok(report)
    }

    /// Forgets the stored events of `keys` (their [`ReceiptKey`]s, whose tag is the
    /// fingerprint): a store no longer holds their records (a partition folder or a
    /// segment file removed, moved, replaced or cut by hand), so they are not
    /// duplicates of anything any more and their retry is stored again. Their nodes'
    /// counts stay (the events were stored; the retry stores them again). How many the
    /// window held.
    pub(crate) fn forget(&self, keys: &[ReceiptKey]) -> usize {
        let mut state = lock(&self.inner.state);
        keys.iter()
            .filter(|k| state.recent.forget(&k.id, k.tag))
            .count()
    }

    /// Splits a request's events into new ones (to store) and duplicates, reserving the
    /// new ones; waits while any of its events is in flight in another request.
    pub(crate) async fn admit<E: Borrow<Event>>(&self, events: &[E]) -> Admission {
        self.admit_with(events, false).await
    }

    /// [`Dedup::admit`] that also holds the events found stored until the admission
    /// ends, and waits while another admission holds one of them: what a request that
    /// may send its stored events again to some destinations takes, so that two
    /// concurrent retries of one event never both send it (see the module docs,
    /// "Concurrency"). The holder's outcome is visible to the waiter when it looks
    /// again (a store shows a record from the moment it answered the write).
    pub(crate) async fn admit_holding<E: Borrow<Event>>(&self, events: &[E]) -> Admission {
        self.admit_with(events, true).await
    }

    /// [`Dedup::admit`], or with `hold` [`Dedup::admit_holding`].
    async fn admit_with<E: Borrow<Event>>(&self, events: &[E], hold: bool) -> Admission {
        // Hashed once, outside the lock, however many times the request waits.
        let keys = self.keys(events);
        // What the holders this request waits for leave at their end.
        let mut awaited = Vec::new();
        loop {
            let settled = self.inner.settled.notified();
            tokio::pin!(settled);
            settled.as_mut().enable();
            if let Some(mut a) = self.try_admit_keyed(events, &keys, &[], hold, &mut awaited) {
                a.keys = keys;
                a.awaited = awaited;
                return a;
            }
            settled.await;
        }
    }

    /// [`Dedup::admit`] without waiting: `None` when an event is in flight elsewhere.
    /// (A Kafka partition store admits its batches this way; so do the benches.)
    pub(crate) fn try_admit<E: Borrow<Event>>(&self, events: &[E]) -> Option<Admission> {
        self.try_admit_expecting(events, &[])
    }

    /// [`Dedup::try_admit`] for events some of which are expected to be stored already
    /// (`expected[i]` for event `i`; missing entries are `false`): such an event, found
    /// stored, counts in [`Admission::duplicates`] but not as a duplicate of its node.
    /// A Kafka partition store reads its last stored offset again on purpose (and the
    /// records of a batch that failed after being stored, or a whole partition read again
    /// from its beginning): no producer sent those twice, and `/v1/stats`' per-node
    /// counts must say so as its global ones do.
    pub(crate) fn try_admit_expecting<E: Borrow<Event>>(
        &self,
        events: &[E],
        expected: &[bool],
    ) -> Option<Admission> {
        let keys = self.keys(events);
        let mut a = self.try_admit_keyed(events, &keys, expected, false, &mut Vec::new())?;
        a.keys = keys;
        Some(a)
    }

    fn keys<E: Borrow<Event>>(&self, events: &[E]) -> Vec<Key> {
        events.iter().map(|e| self.key(e.borrow())).collect()
    }

    /// [`Dedup::try_admit`] with the events' keys (`keys[i]` of `events[i]`), holding
    /// the stored ones with `hold` ([`Dedup::admit_holding`]). Busy (`None`) on an
    /// event another admission that holds has, it adds that one's record of what it
    /// leaves to `awaited` (once).
    fn try_admit_keyed<E: Borrow<Event>>(
        &self,
        events: &[E],
        keys: &[Key],
        expected: &[bool],
        hold: bool,
        awaited: &mut Vec<Arc<Settled>>,
    ) -> Option<Admission> {
        let mut reused = HashMap::default();
        let admission = self.try_admit_locked(events, keys, expected, hold, &mut reused);
        let admission = match admission {
            Ok(a) => Some(a),
            Err(Some(s)) => {
                if !awaited.iter().any(|a| Arc::ptr_eq(a, &s)) {
                    awaited.push(s);
                }
                None
            }
            Err(None) => None,
        };
        // Logged once per node and request, after the lock is released: a node that
        // reset its sequence sends nothing but such events, and a line per event
        // written under the lock every request takes was most of the server's work
        // (and a log the client could make as large as its traffic).
        for (node, r) in reused {
            tracing::warn!(node = %node, events = r.events, first_seq = r.first_seq, first_id = %r.first_id, "seq already stored for this node but not this event: stored (older than the de-duplication window, the node reset its sequence, or another event reuses the number)");
        }
        admission
    }

    fn try_admit_locked<E: Borrow<Event>>(
        &self,
        events: &[E],
        keys: &[Key],
        expected: &[bool],
        hold: bool,
        reused: &mut HashMap<Arc<str>, SeqReused, Hasher>,
    ) -> Result<Admission, Option<Arc<Settled>>> {
        let mut guard = lock(&self.inner.state);
        let state = &mut *guard;
        // Each event is looked up and, when new, reserved in one probe of the window's
        // table. An event reserved by another admission makes this one give back what
        // it reserved and wait: all of a request's events are reserved or none, so two
        // requests never wait on each other.
        let me = state.next_admission;
        state.next_admission += 1;
        let mut tickets = Vec::with_capacity(events.len());
        let mut holding = Vec::new();
        for key in keys {
            // The admission this one must wait for, if any.
            let busy = match state.recent.reserve(&key.id, key.fingerprint, me) {
                Reserve::New(t) => {
                    tickets.push(Some(t));
                    None
                }
                Reserve::Stored if hold => {
                    tickets.push(None);
                    match state.resending.entry(*key) {
                        std::collections::hash_map::Entry::Vacant(v) => {
                            v.insert(me);
                            holding.push(*key);
                            None
                        }
                        // Held by an earlier copy of it in this same batch, or by
                        // another admission that may be sending it again.
                        std::collections::hash_map::Entry::Occupied(o) => {
                            Some(*o.get()).filter(|&owner| owner != me)
                        }
                    }
                }
                Reserve::Stored => {
                    tickets.push(None);
                    None
                }
                // Reserved by an earlier copy of it in this same batch.
                Reserve::InFlight { owner } if owner == me => {
                    tickets.push(None);
                    None
                }
                Reserve::InFlight { owner } => Some(owner),
            };
            if let Some(owner) = busy {
                for t in tickets.into_iter().flatten() {
                    state.recent.release(t);
                }
                for k in holding {
                    state.resending.remove(&k);
                }
                // A request that may send events again waits for the other's outcome
                // and learns what it leaves (`Admission::taken_meanwhile`).
                return Err(hold.then(|| state.settling.get(&owner).cloned()).flatten());
            }
        }
        let mut new = Vec::with_capacity(events.len());
        let mut reserved = Vec::with_capacity(events.len());
        let mut held_before = Vec::new();
        let mut duplicates = 0;
        // The events of a batch mostly come from one node: its key and its entry are
        // looked up once per run of events from it, not once per event (hashing the
        // node id for each event was most of this loop's own time in the server's
        // profile). The entry is only read and counted in here: the table's order and
        // bounds change when the events commit (`remember_new`).
        let mut last_node: Option<Arc<str>> = None;
        let mut entry: Option<&mut Node> = None;
        for (i, (e, ticket)) in events.iter().zip(tickets).enumerate() {
            let e = e.borrow();
            let node = match &last_node {
                Some(n) if **n == *e.node.as_str() => n.clone(),
                _ => {
                    let n = state.node_key(e.node.as_str());
                    last_node = Some(n.clone());
                    entry = None;
                    n
                }
            };
            if entry.is_none() {
                entry = state.nodes.peek_mut(&node);
            }
            // Stored, or reserved by an earlier copy of it in this same batch.
            let Some(ticket) = ticket else {
                duplicates += 1;
                // A node forgotten since (see `bound_nodes`) is not made again for a
                // duplicate: the server's own count has it. An event expected to be
                // stored is no duplicate of its node (see `try_admit_expecting`).
                if expected.get(i).copied().unwrap_or(false) {
                    continue;
                }
                if let Some(n) = entry.as_deref_mut() {
                    n.duplicates += 1;
                }
                continue;
            };
            // Written by some of its stores in an earlier try (`partly_stored.rs`).
            let partly = keys.get(i).and_then(|k| state.partly.get(k));
            // Its seq is covered by this very event when a store that holds it was read
            // at a start (`rebuild.rs` counts what the stores hold): no other event
            // reusing the number, and counted for its node already. Before, the retry
            // after a restart of a batch one store had refused was counted as
            // `seqReused` (a WARN naming a node reset or a forged event) and its node's
            // `count` went up a second time.
            let counted = partly.is_some() && entry.as_deref().is_some_and(|n| n.covers(e.seq));
            // Nodes number their events from 1: seq 0 is no number of the sequence, so
            // it is never "already stored" (nor a gap, see `Node::insert`).
            if let Some(n) = entry
                .as_deref_mut()
                .filter(|n| !counted && e.seq != 0 && n.covers(e.seq))
            {
                n.seq_reused += 1;
                reused
                    .entry(node.clone())
                    .or_insert(SeqReused {
                        events: 0,
                        first_seq: e.seq,
                        first_id: e.id,
                    })
                    .events += 1;
            }
            if let Some(held) = partly {
                held_before.push((i, held.clone()));
            }
            new.push(i);
            reserved.push(Pending {
                ticket,
                node,
                seq: e.seq,
                seen: e
                    .received
                    .as_ref()
                    .map_or_else(Timestamp::now, |r| r.server_timestamp),
                abandoned: e.abandoned_seqs,
                counted,
            });
        }
        // An admission that holds leaves what it did for those that wait for it.
        let settles = hold.then(|| {
            let settled = Arc::new(Settled::new());
            state.settling.insert(me, settled.clone());
            (me, settled)
        });
        Ok(Admission {
            new,
            duplicates,
            reserved,
            // The caller's, moved in once admitted.
            keys: Vec::new(),
            holding,
            settles,
            awaited: Vec::new(),
            held_before,
            dedup: Some(self.clone()),
        })
    }

    fn finish(&self, (reserved, holding, ending): (Vec<Pending>, Vec<Key>, Ending), stored: bool) {
        if stored {
            self.finish_parts(
                reserved,
                Vec::new(),
                (holding, ending),
                Default::default(),
                Vec::new,
            );
        } else {
            self.finish_parts(
                Vec::new(),
                reserved,
                (holding, ending),
                Default::default(),
                Vec::new,
            );
        }
    }

    /// Ends the reservations: `stored` ones are remembered, `released` ones forgotten,
    /// the stores `marks` names took their events, what the admission leaves for the
    /// requests that waited for it (`ending`) is set to `took` when one did, and the
    /// stored events `holding` held are free for other requests again. `partly`: which
    /// stores hold the events some of their stores hold, now (`None`: none to note any
    /// more).
    #[allow(clippy::type_complexity)]
    fn finish_parts(
        &self,
        stored: Vec<Pending>,
        released: Vec<Pending>,
        (holding, ending): (Vec<Key>, Ending),
        (marks, partly): (Vec<(Key, usize)>, Vec<(Key, Option<RouteSet>)>),
        took: impl FnOnce() -> Vec<(Key, RouteSet)>,
    ) {
        let mut state = lock(&self.inner.state);
        // Before the reservations end: a request waiting for one of these events finds
        // which stores hold it when it looks again.
        for (k, held) in partly {
            match held {
                Some(routes) => state.partly.set(k, routes),
                None => state.partly.remove(&k),
            }
        }
        for p in released {
            state.recent.release(p.ticket);
        }
        // Admitted as absent from the window, and reserved (so no other request could
        // add them) until now.
        state.remember_new(stored);
        // Marked once remembered (a new event has its slot now), and before the held
        // events are let go: a request waiting for one finds the mark when it looks.
        for (k, route) in marks {
            state.recent.mark(&k.id, k.fingerprint, route);
        }
        // Set before any waiter looks again, like the marks.
        if let Some((me, settled)) = ending {
            state.settling.remove(&me);
            // A request that waits for this admission took its own reference to
            // `settled` from `settling`, under this lock: the only other reference
            // left is a waiter's, and none can come now that it is out of `settling`.
            // With no waiter (most batches), nothing is left and `took` is not made.
            if Arc::strong_count(&settled) > 1 {
                let _ = settled.set(took().into_iter().collect());
            }
        }
        for k in &holding {
            state.resending.remove(k);
        }
        drop(state);
        self.inner.settled.notify_waiters();
    }

    /// A prune deleted these records (retention, while the server runs): per node, they
    /// stay in its `count` (events stored: a Prometheus counter, `_total`, that a
    /// deletion must not make go down), and their seqs are counted as `deleted`, never
    /// as gaps, as the next start finds them (the store lists them, `auditrail_store::deleted_seqs`).
    /// A node the table does not hold (forgotten) is left alone.
    pub(crate) fn deleted(
        &self,
        nodes: &std::collections::BTreeMap<String, auditrail_store::NodeDeleted>,
    ) {
        let mut state = lock(&self.inner.state);
        let state = &mut *state;
        for (id, d) in nodes {
            // Not made most recent: a deletion is no arrival.
            let Some(node) = state.nodes.peek_mut(id.as_str()) else {
                continue;
            };
            let before = node.held();
            node.add_deleted(&d.seqs);
            node.add_announced(&d.abandoned, state.config.max_ranges_per_node);
            state.ranges_total = (state.ranges_total + node.held()).saturating_sub(before);
        }
        state.bound_nodes();
        if let Some(ledger) = &mut state.ledger {
            ledger.flush();
        }
    }

    /// Per-node statistics of every node remembered, sorted by node id.
    #[cfg(test)]
    pub(crate) fn node_stats(&self) -> Vec<NodeStats> {
        self.node_stats_after(None, usize::MAX)
    }

    /// Per-node statistics of the first `limit` nodes (by id) whose id sorts after
    /// `after`, sorted by node id. Only those are computed: a page costs the sort of
    /// the ids, not the gaps of every node.
    pub(crate) fn node_stats_after(&self, after: Option<&str>, limit: usize) -> Vec<NodeStats> {
        let state = lock(&self.inner.state);
        let mut ids: Vec<&Arc<str>> = state
            .nodes
            .iter()
            .map(|(id, _)| id)
            .filter(|id| after.is_none_or(|a| &***id > a))
            .collect();
        if ids.len() > limit {
            ids.select_nth_unstable(limit);
            ids.truncate(limit);
        }
        ids.sort_unstable();
        ids.into_iter()
            .filter_map(|id| Some(state.nodes.peek(id)?.stats(id)))
            .collect()
    }

    /// The ids of the nodes remembered, in no order.
    pub(crate) fn node_ids(&self) -> Vec<Arc<str>> {
        lock(&self.inner.state)
            .nodes
            .iter()
            .map(|(id, _)| id.clone())
            .collect()
    }

    /// How many nodes are remembered, and what the forgotten ones had counted.
    pub(crate) fn node_table(&self) -> (usize, ForgottenNodes) {
        let state = lock(&self.inner.state);
        (state.nodes.len(), state.forgotten)
    }

    /// Events remembered now (at most the window).
    #[cfg(test)]
    pub(crate) fn remembered(&self) -> usize {
        lock(&self.inner.state).recent.len()
    }

    /// Whether `event` (its id with its content) is known as stored.
    #[cfg(test)]
    pub(crate) fn contains(&self, event: &Event) -> bool {
        let k = self.key(event);
        lock(&self.inner.state)
            .recent
            .contains(&k.id, k.fingerprint)
    }
}

impl State {
    /// Hands what a scan read to the node table: each node's seqs in ascending order,
    /// the nodes least recently stored first; then bounds the table.
    fn merge_scan(&mut self, scan: Scan) {
        let max_ranges = self.config.max_ranges_per_node;
        for (id, mut read) in scan.into_nodes() {
            let present = self.nodes.contains(&id);
            // A node the table forgot before: its first records read were counted then
            // (see `forgotten.rs`).
            let mut known = None;
            let mut deleted = Vec::new();
            if let Some(k) = self
                .ledger
                .as_mut()
                .and_then(|l| l.discount(&id, &mut read.count))
            {
                if !present && read.count == 0 {
                    // Forgotten, and not seen again: not in the table, as before.
                    continue;
                }
                deleted = std::mem::take(&mut k.deleted);
                known = Some(k.entry);
            }
            // A node made after the table forgot one may be that one (see the module docs).
            let resumed = known.is_none() && self.forgot_before();
            let node = self
                .nodes
                .get_or_insert_mut(id.clone(), || Node::made(resumed, known));
            let before = node.held();
            node.add_deleted(&deleted);
            let floor = node.merge(read, max_ranges);
            self.ranges_total = (self.ranges_total + node.held()).saturating_sub(before);
            if let (Some(floor), Some(ledger)) = (floor, &mut self.ledger) {
                ledger.floor(&id, floor);
            }
            self.bound_nodes();
        }
    }

    /// Whether the table forgot a node (during a rebuild: since it started; the nodes
    /// forgotten before are known by name, see `forgotten.rs`).
    fn forgot_before(&self) -> bool {
        let since = self
            .ledger
            .as_ref()
            .filter(|l| l.rebuilding())
            .map_or(0, |l| l.forgotten_at_start);
        self.forgotten.nodes > since
    }

    /// Takes the seqs a store lists as deleted by its prunes (read at start, before its
    /// records): each node's are counted as `deleted`, not as gaps. A node listed but
    /// not yet in the table is made (all its events may be gone; it was in the table
    /// before the restart too), before the nodes of the records, so least recently.
    fn take_deleted(
        &mut self,
        nodes: std::collections::BTreeMap<String, auditrail_store::NodeDeleted>,
    ) {
        for (id, deleted) in nodes {
            let key = self.node_key(&id);
            let mut records = deleted.records;
            let mut seqs = deleted.seqs;
            // A node the table forgot before: its first records read were counted then
            // (see `forgotten.rs`), these deleted ones first.
            let mut known = None;
            if let Some(k) = self
                .ledger
                .as_mut()
                .and_then(|l| l.discount(&id, &mut records))
            {
                if records == 0 && !self.nodes.contains(&key) {
                    // Made only if its records show it was seen again.
                    k.deleted.append(&mut seqs);
                    continue;
                }
                seqs.append(&mut k.deleted);
                known = Some(k.entry);
            }
            let resumed = known.is_none() && self.forgot_before();
            let node = self
                .nodes
                .get_or_insert_mut(key, || Node::made(resumed, known));
            let before = node.held();
            // Stored once, as before the restart (see `Dedup::deleted`).
            node.count = node.count.saturating_add(records);
            node.add_deleted(&seqs);
            node.add_announced(&deleted.abandoned, self.config.max_ranges_per_node);
            self.ranges_total = (self.ranges_total + node.held()).saturating_sub(before);
            self.bound_nodes();
        }
    }

    /// The table's key of `node` when it is remembered (shared by every event of it),
    /// else a new one (the node is added when an event of it is stored or counted).
    fn node_key(&mut self, node: &str) -> Arc<str> {
        match self.nodes.get_key_value(node) {
            Some((k, _)) => k.clone(),
            None => Arc::from(node),
        }
    }

    /// Forgets the nodes stored least recently while the table is over its bounds
    /// (see the module docs), folding their counts into `forgotten`.
    fn bound_nodes(&mut self) {
        let max_nodes = self.config.max_nodes.max(1);
        while self.nodes.len() > max_nodes
            || (self.ranges_total > self.config.max_ranges_total && self.nodes.len() > 1)
        {
            let Some((id, node)) = self.nodes.pop_lru() else {
                break;
            };
            if let Some(ledger) = &mut self.ledger {
                ledger.forgot(&id, node.count);
            }
            self.ranges_total = self.ranges_total.saturating_sub(node.held());
            self.forgotten.nodes += 1;
            self.forgotten.events += node.count;
        }
    }

    /// Counts stored events of one node (`run`, not empty) for it, made when not
    /// remembered, keeping `ranges_total`. Call [`State::bound_nodes`] after.
    fn record_run(&mut self, run: &[Pending]) {
        let Some(first) = run.first() else {
            return;
        };
        let max_ranges = self.config.max_ranges_per_node;
        // A node made after the table forgot one may be that one (see the module docs).
        let resumed = self.forgot_before();
        let node = self
            .nodes
            .get_or_insert_mut(first.node.clone(), || Node::made(resumed, None));
        let before = node.held();
        let mut floor = None;
        for p in run {
            floor = node.record(p, max_ranges).or(floor);
        }
        self.ranges_total = (self.ranges_total + node.held()).saturating_sub(before);
        if let (Some(floor), Some(ledger)) = (floor, &mut self.ledger) {
            ledger.floor(&first.node, floor);
        }
    }

    /// Remembers stored events that were reserved ([`Dedup::admit`] found them absent
    /// from the window). A run of events from one node (the same key, as `admit` hands
    /// it out) finds that node once.
    fn remember_new(&mut self, stored: Vec<Pending>) {
        for run in stored.chunk_by(|a, b| Arc::ptr_eq(&a.node, &b.node)) {
            for p in run {
                self.recent.commit(p.ticket);
            }
            self.record_run(run);
        }
        self.bound_nodes();
        if let Some(ledger) = &mut self.ledger {
            ledger.flush();
        }
    }
}

impl Node {
    /// A node new to the table: `resumed` when the table forgot a node before (it may
    /// be this one); `known`, what the file of nodes forgotten says of it at a start
    /// (see `forgotten.rs`).
    fn made(resumed: bool, known: Option<forgotten::Entry>) -> Node {
        let known = known.unwrap_or_default();
        Node {
            resumed,
            floor: known.floor,
            forgotten_gaps: known.gaps,
            ..Node::default()
        }
    }

    /// Counts a stored event of this node: its seq, announced gaps, last time seen.
    /// The numbers it gives up below the seq, if it does (a node seen again).
    fn record(&mut self, p: &Pending, max_ranges: usize) -> Option<u64> {
        if !p.counted {
            self.count += 1;
        }
        let mut gave_up = None;
        if std::mem::take(&mut self.resumed) && self.ranges.is_empty() && self.floor == 0 {
            // Seen again after the table forgot a node: which of its seqs below this
            // one were stored is not known any more (see the module docs).
            if let Some(below) = p.seq.checked_sub(1).filter(|&b| b > 0) {
                self.floor = below;
                self.forgotten_gaps += 1;
                gave_up = Some(below);
            }
        }
        self.insert(p.seq, max_ranges);
        if let Some(r) = p.abandoned {
            self.announced.insert((r.first, r.last));
            // Bounded like the ranges: the oldest announcements go first.
            while self.announced.len() > max_ranges.max(1) {
                self.announced.pop_first();
            }
        }
        // The latest arrival, not the largest time: after the server's clock is
        // corrected backwards, the node's newer events carry earlier times, and the
        // largest would stay in the future (and the "node silent" alert could not fire).
        self.last_seen = Some(p.seen);
        gave_up
    }

    /// Counts the stored events a scan read of this node, their seqs in ascending order
    /// (so that only real gaps look like gaps: see `rebuild.rs`). The numbers it gives
    /// up below them, as [`Node::record`].
    fn merge(&mut self, read: NodeScan, max_ranges: usize) -> Option<u64> {
        self.count += read.count;
        let mut gave_up = None;
        if std::mem::take(&mut self.resumed) && self.ranges.is_empty() && self.floor == 0 {
            // As in `record`: the node's lowest seq read is where it is known from.
            if let Some(below) = read
                .seqs
                .min()
                .and_then(|s| s.checked_sub(1))
                .filter(|&b| b > 0)
            {
                self.floor = below;
                self.forgotten_gaps += 1;
                gave_up = Some(below);
            }
        }
        for seq in read.seqs.iter() {
            self.insert(seq, max_ranges);
        }
        self.announced.extend(read.announced);
        while self.announced.len() > max_ranges.max(1) {
            self.announced.pop_first();
        }
        // The scan's `last_seen` is the node's latest record in store order (see
        // `rebuild.rs`). A node already in the table (a Kafka partition store taken
        // over, or a scan handed over in parts) keeps the later time of the two: they
        // have no common order but the clock.
        if let Some(seen) = read.last_seen {
            if self.last_seen.is_none_or(|t| seen > t) {
                self.last_seen = Some(seen);
            }
        }
        gave_up
    }
}

#[cfg(test)]
mod rebuild_tests;

#[cfg(test)]
mod node_bound_tests;
#[cfg(test)]
mod seq_jump_tests;

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn ev(node: &str, seq: u64, id: u128) -> Event {
        Event::from_json(&format!(
            r#"{{"id":"{}","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"{node}","seq":{seq},"message":{{"msgType":"m"}}}}"#,
            uuid::Uuid::from_u128(id).hyphenated()
        ))
        .unwrap()
    }

    fn stats(d: &Dedup, node: &str) -> NodeStats {
        d.node_stats().into_iter().find(|s| s.node == node).unwrap()
    }

    proptest::proptest! {
        /// The ranges say exactly which numbers were stored (as long as no gap had to
        /// be given up), whatever the order: in order, reversed, repeated, with gaps.
        #[test]
        fn stored_numbers_are_the_ranges_whatever_the_order(
            seqs in proptest::collection::vec(1u64..200, 0..300),
        ) {
            let mut node = Node::default();
            let mut model = std::collections::BTreeSet::new();
            for &seq in &seqs {
                node.insert(seq, usize::MAX);
                model.insert(seq);
                // Followed by its successor, the in-order case.
                node.insert(seq + 1, usize::MAX);
                model.insert(seq + 1);
            }
            // (0 is never a node's number: below the floor, it counts as covered.)
            for seq in 1..=201 {
                proptest::prop_assert_eq!(node.covers(seq), model.contains(&seq), "seq {}", seq);
            }
            // Disjoint and not adjacent: every range is as long as it can be.
            let ranges: Vec<(u64, u64)> = node.ranges.iter().map(|(&s, &e)| (s, e)).collect();
            for w in ranges.windows(2) {
                proptest::prop_assert!(w[0].1 + 1 < w[1].0, "{:?}", ranges);
            }
        }
    }

    #[tokio::test]
    async fn committed_ids_are_duplicates_and_released_ones_are_new_again() {
        let d = Dedup::new(DedupConfig::default());
        let batch = [ev("n", 1, 1), ev("n", 2, 2)];
        let a = d.admit(&batch).await;
        assert_eq!(a.new(), &[0, 1]);
        a.release();
        let a = d.admit(&batch).await;
        assert_eq!(a.new(), &[0, 1]);
        a.commit();
        let a = d.admit(&[ev("n", 2, 2), ev("n", 3, 3)]).await;
        assert_eq!((a.new(), a.duplicates()), (&[1][..], 1));
        assert_eq!(stats(&d, "n").duplicates, 1);
    }

    /// The admission's receipt keys are the store's (`StoreHandle::receipt_key`, which
    /// the writer files each stored event's link under): receipts find the events by
    /// them, for new events and duplicates alike, whether admitted by `admit` or
    /// `try_admit`, and another event with the same id gets another key.
    #[tokio::test]
    async fn receipt_keys_of_an_admission_are_the_stores() {
        let d = Dedup::new(DedupConfig::default());
        let batch = [ev("n", 1, 1), ev("n", 2, 2), other("m", 5, 1)];
        let store_keys: Vec<ReceiptKey> = batch.iter().map(StoreHandle::receipt_key).collect();
        assert_ne!(store_keys[0], store_keys[2], "same id, other content");
        let a = d.admit(&batch).await;
        assert_eq!(a.receipt_keys(0..batch.len()), store_keys);
        assert_eq!(a.receipt_keys([2, 0]), vec![store_keys[2], store_keys[0]]);
        a.commit();
        let a = d.try_admit(&[ev("n", 3, 3), ev("n", 2, 2)]).unwrap();
        assert_eq!((a.new(), a.duplicates()), (&[0][..], 1));
        assert_eq!(
            a.receipt_keys(0..2),
            vec![StoreHandle::receipt_key(&ev("n", 3, 3)), store_keys[1]]
        );
    }

    /// `ev` with another message: a different event with the same id.
    fn other(node: &str, seq: u64, id: u128) -> Event {
        let mut e = ev(node, seq, id);
        e.message = auditrail_core::Message::from_json(r#"{"msgType":"other"}"#).unwrap();
        e
    }

    /// A duplicate is the same event sent again, not any event with its id: an event
    /// with a known id but other content is stored, and both stay known.
    #[tokio::test]
    async fn another_event_with_a_stored_id_is_new() {
        let d = Dedup::new(DedupConfig::default());
        d.admit(&[ev("a", 1, 9)]).await.commit();
        let a = d.admit(&[other("b", 7, 9)]).await;
        assert_eq!((a.new(), a.duplicates()), (&[0][..], 0));
        a.commit();
        let a = d.admit(&[ev("a", 1, 9), other("b", 7, 9)]).await;
        assert_eq!((a.new().len(), a.duplicates()), (0, 2), "both are known");
        assert_eq!((stats(&d, "a").count, stats(&d, "b").count), (1, 1));
    }

    #[tokio::test]
    async fn an_id_repeated_within_a_request_is_stored_once() {
        let d = Dedup::new(DedupConfig::default());
        let a = d.admit(&[ev("n", 1, 7), ev("n", 1, 7)]).await;
        assert_eq!((a.new(), a.duplicates()), (&[0][..], 1));
    }

    #[tokio::test]
    async fn two_different_events_sharing_an_id_in_a_request_are_both_stored() {
        let d = Dedup::new(DedupConfig::default());
        let a = d
            .admit(&[ev("n", 1, 7), other("m", 1, 7), ev("n", 1, 7)])
            .await;
        assert_eq!((a.new(), a.duplicates()), (&[0, 1][..], 1));
    }

    /// Only the same event waits for a request that is storing it: another event with
    /// its id is admitted at once.
    #[tokio::test]
    async fn another_event_with_an_id_in_flight_does_not_wait() {
        let d = Dedup::new(DedupConfig::default());
        let first = d.admit(&[ev("n", 1, 1)]).await;
        let second = d
            .try_admit(&[other("m", 1, 1)])
            .expect("another event: not in flight");
        assert_eq!(second.new(), &[0]);
        assert!(
            d.try_admit(&[ev("n", 1, 1)]).is_none(),
            "the same event in flight: must not admit twice"
        );
        first.commit();
        second.commit();
        let a = d.admit(&[ev("n", 1, 1), other("m", 1, 1)]).await;
        assert_eq!(a.duplicates(), 2);
    }

    #[tokio::test]
    async fn a_concurrent_request_waits_for_the_first_outcome() {
        let d = Dedup::new(DedupConfig::default());
        let first = d.admit(&[ev("n", 1, 1)]).await;
        assert!(
            d.try_admit(&[ev("n", 1, 1)]).is_none(),
            "in flight: must not admit twice"
        );
        let d2 = d.clone();
        let second = tokio::spawn(async move {
            let a = d2.admit(&[ev("n", 1, 1)]).await;
            (a.new().len(), a.duplicates())
        });
        tokio::task::yield_now().await;
        first.commit();
        let got = tokio::time::timeout(Duration::from_secs(10), second)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            got,
            (0, 1),
            "after the first committed, the second is a duplicate"
        );

        // And after a release the waiting request stores it itself.
        let first = d.admit(&[ev("n", 2, 2)]).await;
        let d3 = d.clone();
        let third = tokio::spawn(async move { d3.admit(&[ev("n", 2, 2)]).await.new().len() });
        tokio::task::yield_now().await;
        drop(first);
        assert_eq!(
            tokio::time::timeout(Duration::from_secs(10), third)
                .await
                .unwrap()
                .unwrap(),
            1
        );
    }

    /// `lastSeen` is the time of the node's last stored event, not the largest time:
    /// after the server's clock is corrected backwards it follows the node's new events
    /// (kept at the future time, the "node silent" alert could not fire).
    #[tokio::test]
    async fn a_stored_event_held_by_one_admission_makes_another_holding_it_wait() {
        let d = Dedup::new(DedupConfig::default());
        let e = ev("n", 1, 1);
        d.admit(std::slice::from_ref(&e)).await.commit();
        let first = d.admit_holding(std::slice::from_ref(&e)).await;
        assert_eq!(first.duplicates(), 1);
        // Not held: a plain admission (a server that sends nothing again) goes on.
        assert!(d.try_admit(std::slice::from_ref(&e)).is_some());
        let waiting = admit_holding_in_a_task(&d, &e);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "waits while the first holds it");
        first.release();
        let second = waiting.await.unwrap();
        assert_eq!(second.duplicates(), 1);
        drop(second);
        assert!(
            lock(&d.inner.state).resending.is_empty(),
            "nothing left held"
        );
    }

    /// `d.admit_holding([e])` in a task of its own: a concurrent request.
    fn admit_holding_in_a_task(d: &Dedup, e: &Event) -> tokio::task::JoinHandle<Admission> {
        let (d, e) = (d.clone(), e.clone());
        tokio::spawn(async move { d.admit_holding(std::slice::from_ref(&e)).await })
    }

    /// What a holding admission leaves for the requests that wait for it (which
    /// destinations that cannot show what they hold took its events) is made only when
    /// one waits: most batches have none, and their list is never asked for.
    #[tokio::test]
    async fn what_a_holding_admission_took_is_made_only_when_a_request_waits() {
        let d = Dedup::new(DedupConfig::default());
        let e = ev("n", 1, 1);
        let alone = d.admit_holding(std::slice::from_ref(&e)).await;
        alone.commit_marking(Vec::new(), |_| panic!("asked for with no request waiting"));

        let first = d.admit_holding(std::slice::from_ref(&e)).await;
        let waiting = admit_holding_in_a_task(&d, &e);
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "waits while the first holds it");
        let asked = std::cell::Cell::new(0);
        first.commit_marking(Vec::new(), |_| {
            asked.set(asked.get() + 1);
            vec![(0, [1].into_iter().collect())]
        });
        assert_eq!(asked.get(), 1, "asked for once, for the request that waits");
        let second = waiting.await.unwrap();
        assert!(second.taken_meanwhile(0, 1), "route 1 took it meanwhile");
        assert!(!second.taken_meanwhile(0, 2), "route 2 did not");
    }

    #[tokio::test]
    async fn last_seen_is_the_last_arrival_after_the_clock_is_corrected_backwards() {
        let d = Dedup::new(DedupConfig::default());
        let at = |seq: u64, ts: &str| {
            let mut e = ev("n1", seq, u128::from(seq));
            e.received = Some(Arc::new(auditrail_core::Received {
                orig_address: None,
                key_id: None,
                server_timestamp: ts.parse().unwrap(),
                kafka: None,
            }));
            e
        };
        for e in [
            at(1, "2026-11-26T17:00:00.000Z"),
            at(2, "2026-11-25T17:00:00.000Z"),
        ] {
            d.admit(&[e]).await.commit();
        }
        assert_eq!(
            stats(&d, "n1").last_seen,
            Some("2026-11-25T17:00:00.000Z".parse().unwrap())
        );
    }

    #[tokio::test]
    async fn gaps_and_contiguous_seq_are_tracked_per_node() {
        let d = Dedup::new(DedupConfig::default());
        let evs: Vec<Event> = [1, 2, 3, 6, 7, 10]
            .iter()
            .map(|&s| ev("a", s, 100 + u128::from(s)))
            .collect();
        d.admit(&evs).await.commit();
        d.admit(&[ev("b", 1, 1)]).await.commit();
        let a = stats(&d, "a");
        assert_eq!(a.count, 6);
        assert_eq!(a.highest_contiguous_seq, 3);
        assert_eq!(a.highest_seq, 10);
        assert_eq!(
            a.gaps,
            vec![Gap { first: 4, last: 5 }, Gap { first: 8, last: 9 }]
        );
        assert_eq!(a.missing, 4);
        d.admit(&[ev("a", 4, 104), ev("a", 5, 105)]).await.commit();
        assert_eq!(stats(&d, "a").highest_contiguous_seq, 7);
        assert_eq!(stats(&d, "b").highest_contiguous_seq, 1);
    }

    /// Seqs a prune deleted stay in the node's count (events stored) and are no gaps; a
    /// real gap among them stays one, and a retry of a deleted event counts as a seq
    /// reused.
    #[tokio::test]
    async fn deleted_seqs_are_no_gaps_and_stay_in_the_count() {
        let d = Dedup::new(DedupConfig::default());
        let evs: Vec<Event> = [1, 2, 3, 5, 6, 7, 8]
            .iter()
            .map(|&s| ev("a", s, u128::from(s)))
            .collect();
        d.admit(&evs).await.commit();
        d.deleted(&BTreeMap::from([(
            "a".to_string(),
            auditrail_store::NodeDeleted {
                records: 4,
                seqs: vec![(1, 3), (5, 5)],
                abandoned: Vec::new(),
            },
        )]));
        let a = stats(&d, "a");
        assert_eq!(
            (
                a.count,
                a.deleted,
                a.missing,
                a.highest_contiguous_seq,
                a.highest_seq
            ),
            (7, 4, 1, 3, 8),
            "{a:?}"
        );
        assert_eq!(a.gaps, [Gap { first: 4, last: 4 }]);
        d.admit(&[ev("a", 2, 1002)]).await.commit();
        assert_eq!(stats(&d, "a").seq_reused, 1);
    }

    /// Seq 0 after seq 1 was counted as a seq stored again (`seqReused`), a false
    /// alarm: nothing was stored twice, and nodes number their events from 1.
    #[tokio::test]
    async fn seq_0_is_stored_but_never_counted_as_reused_or_as_a_gap() {
        let d = Dedup::new(DedupConfig::default());
        d.admit(&[ev("a", 1, 1)]).await.commit();
        let a = d.admit(&[ev("a", 0, 2)]).await;
        assert_eq!((a.new().len(), a.duplicates()), (1, 0));
        a.commit();
        let s = stats(&d, "a");
        assert_eq!((s.count, s.seq_reused), (2, 0), "{s:?}");
        assert_eq!(
            (s.highest_contiguous_seq, s.highest_seq, s.missing),
            (1, 1, 0)
        );
        // A seq really stored again still counts.
        d.admit(&[ev("a", 1, 3)]).await.commit();
        assert_eq!(stats(&d, "a").seq_reused, 1);
    }

    #[tokio::test]
    async fn numbers_a_crashed_run_left_unused_are_abandoned_not_missing() {
        let d = Dedup::new(DedupConfig::default());
        let mut batch = vec![ev("a", 1, 1), ev("a", 2, 2), ev("a", 3, 3)];
        // A run that started at 10 stored 10 and 12 (11 lost in its memory), then
        // crashed; the next run starts at 1000 and announces 10..=999.
        batch.push(ev("a", 10, 10));
        batch.push(ev("a", 12, 12));
        let mut first = ev("a", 1000, 1000);
        first.abandoned_seqs = Some(SeqRange {
            first: 10,
            last: 999,
        });
        batch.push(first);
        d.admit(&batch).await.commit();
        let a = stats(&d, "a");
        assert_eq!(
            a.gaps,
            [
                Gap { first: 4, last: 9 },
                Gap {
                    first: 11,
                    last: 11
                }
            ],
            "4..=9: before the crashed run, 11: below its highest"
        );
        assert_eq!(a.missing, 7);
        assert_eq!(
            a.abandoned_ranges,
            [Gap {
                first: 13,
                last: 999
            }]
        );
        assert_eq!(a.abandoned, 987);
        // A late event of the crashed run shrinks the abandoned part.
        d.admit(&[ev("a", 20, 20)]).await.commit();
        let a = stats(&d, "a");
        assert_eq!(
            a.abandoned_ranges,
            [Gap {
                first: 21,
                last: 999
            }]
        );
        assert_eq!(a.missing, 7 + 7, "13..=19 were assigned after all");
    }

    /// A node that reset its sequence sends nothing but numbers already stored: one
    /// warning per node and request says so, with the count (a line per event was a
    /// log as large as the traffic, written under the lock every request takes).
    #[test]
    fn reused_seqs_are_logged_once_per_node_and_request() {
        let d = Dedup::new(DedupConfig::default());
        let first: Vec<Event> = (1..=50u64)
            .flat_map(|s| [ev("n", s, u128::from(s)), ev("m", s, 100 + u128::from(s))])
            .collect();
        d.try_admit(&first).unwrap().commit();
        // Both nodes start again from 1 with new ids, interleaved in one request.
        let again: Vec<Event> = (1..=50u64)
            .flat_map(|s| {
                [
                    ev("n", s, 200 + u128::from(s)),
                    ev("m", s, 300 + u128::from(s)),
                ]
            })
            .collect();
        let (admitted, text) = auditrail_core::testing::logged(|| d.try_admit(&again));
        assert_eq!(admitted.unwrap().new().len(), 100, "stored, not dropped");
        let lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("seq already stored"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        for node in ["n", "m"] {
            let line = lines
                .iter()
                .find(|l| l.contains(&format!("node={node} ")))
                .unwrap_or_else(|| panic!("no line for node {node}: {text}"));
            assert!(line.contains("events=50 first_seq=1 "), "{line}");
            assert_eq!(stats(&d, node).seq_reused, 50);
        }
    }

    #[tokio::test]
    async fn memory_is_bounded_and_old_retries_are_stored_not_lost() {
        let d = Dedup::new(DedupConfig {
            window: 3,
            max_ranges_per_node: 2,
            ..DedupConfig::default()
        });
        let evs: Vec<Event> = [1u64, 3, 5, 7]
            .iter()
            .map(|&s| ev("n", s, u128::from(s)))
            .collect();
        d.admit(&evs).await.commit();
        assert_eq!(d.remembered(), 3);
        let n = stats(&d, "n");
        assert!(n.forgotten_gaps >= 1, "{n:?}");
        assert!(n.gaps.len() <= 2);
        // id 1 fell out of the window: its retry is admitted (stored again), and flagged.
        let a = d.admit(&[ev("n", 1, 1)]).await;
        assert_eq!(a.new(), &[0]);
        assert_eq!(stats(&d, "n").seq_reused, 1);
        // id 7 is still remembered.
        assert_eq!(d.admit(&[ev("n", 7, 7)]).await.duplicates(), 1);
    }
}
