//! The de-duplication window: the last `capacity` events stored, each as its id and
//! the fingerprint of its content (see `dedup/mod.rs`), oldest forgotten first,
//! answering "was this event (this id with this content) stored?" exactly; and the
//! events reserved by requests in flight, in the same table.
//!
//! # Layout (why not a `HashSet<EventId>` plus a `VecDeque<EventId>`)
//!
//! At steady state (the window full, 1 Mi events) every stored event is looked up when
//! its request is admitted, inserted when it commits, and evicts the oldest. With a
//! `HashSet<EventId>` (SipHash, 16-byte keys, ~34 MB at 1 Mi entries) each of those is
//! a cache miss, and they were a third of the server's CPU in the profile of
//! `docs/benchmarks.md` (issue 17). Here:
//!
//! - the events live once, in arrival order, in a ring buffer of 24-byte slots (the
//!   id as two `u64` words and the 64-bit fingerprint; a `u128` would align each slot
//!   to 32 bytes): 24 MB at 1 Mi. Insertion and eviction walk it sequentially, which
//!   the prefetcher handles;
//! - a [`hashbrown::HashTable`] of 4-byte values (~10 MB with its control bytes at
//!   1 Mi) finds an (id, fingerprint) pair: a lookup reads the table and, only on a
//!   7-bit tag match, the slot; the eviction of the oldest slot finds its table entry
//!   by comparing indices, without touching the ring again.
//!
//! So about 34 MB for the default window of 1 Mi events (26 MB when only ids were
//! kept: the fingerprint is 8 bytes more per slot), allocated as the window fills.
//!
//! # Reservations (events in flight)
//!
//! A request's new events are reserved at admission, until the request stores them or
//! fails ([`RecentIds::reserve`], [`RecentIds::commit`], [`RecentIds::release`]). A
//! reserved event has its entry in the same table, with the value `PENDING | i`, `i`
//! its index in a small list of reservations (its slot, the admission that made it,
//! and the table bucket its entry went to). So the admission's one probe of the table
//! both answers "stored, in flight, or new?" and inserts the new event's entry (before:
//! a lookup in the window, a lookup and an insertion in a separate set of events in
//! flight, then at commit a removal from that set and a second probe of the window's
//! table to insert). At commit the entry is found again by its bucket (checked: the
//! table moves entries when it grows or rehashes, then it is found by its hash) and its
//! value becomes the ring index; a release removes it.
//!
//! # Which keyed stores took an event (marks)
//!
//! A store with a `required_key` takes an event by the key that sends it, and the
//! window remembers the event, not the key: whether that store took an event is kept
//! beside it, as a bit per ring slot for each such store that asked
//! ([`RecentIds::mark`], [`RecentIds::marked`]), cleared when the slot is overwritten.
//! `capacity / 8` bytes per such store at most (128 KiB at the default window), none
//! for a server without one. So the event's retry with that store's key is known
//! held there for as long as the window remembers the event, whatever the store can
//! show (a store without a chain keeps no links; a chained one only its last 262 144).
//!
//! The table is `hashbrown`'s (the maintained implementation behind `std`'s maps); only
//! the index-into-a-ring arrangement is written here, because no maintained crate
//! offers a bounded FIFO set keyed by a 192-bit value with index entries.
//!
//! # Hashing
//!
//! Ids and content come from clients, so a hostile client can choose them: the hash is
//! keyed ([`foldhash::quality::RandomState`], a random seed per process and per table),
//! not the slot's own bits, so colliding keys cannot be precomputed.
//!
//! # Exactness
//!
//! [`RecentIds::contains`] is true only for an (id, fingerprint) pair that was stored
//! (committed or pushed) and not yet evicted: every stored entry points to a ring slot
//! that holds the pair, and evicting a slot removes the one entry that points to it.
//! [`RecentIds::reserve`] answers `InFlight` only for a pair reserved and neither
//! committed nor released since, and reserves a pair only when it has no entry at all,
//! so a pair has at most one reservation and is never both reserved and stored by
//! the same admission path. A pair pushed twice takes two slots (the caller's
//! admission never does that, a rebuild from a store that holds a duplicate beyond the
//! window may): each is a real stored event, so the answer stays exact. One id with
//! two fingerprints (two different events that share an id) is two pairs, each
//! answered, reserved and stored on its own.

use std::hash::BuildHasher;

use auditrail_core::EventId;
use hashbrown::hash_table::Entry;
use hashbrown::HashTable;

/// One remembered event: its id (as two words) and its content's fingerprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    hi: u64,
    lo: u64,
    fingerprint: u64,
}

// The memory the docs give (24 bytes a slot) holds only without `u128`'s alignment.
const _: () = assert!(std::mem::size_of::<Slot>() == 24);

impl Slot {
    fn new(id: &EventId, fingerprint: u64) -> Slot {
        let n = id.as_uuid().as_u128();
        Slot {
            // Truncations on purpose: the high and the low 64 bits.
            hi: (n >> 64) as u64,
            lo: n as u64,
            fingerprint,
        }
    }
}

/// The table's value of a reserved event: this bit and its index in `pending`; a stored
/// event's value is its ring index (below this bit: the capacity is bounded under it).
const PENDING: u32 = 1 << 31;

/// An event reserved and not yet stored or released.
#[derive(Debug, Clone, Copy)]
struct Reservation {
    slot: Slot,
    /// The admission that reserved it (see [`RecentIds::reserve`]).
    owner: u64,
    /// Where its table entry was put: a hint, checked before use (the table may have
    /// moved it since, when it grew or rehashed).
    bucket: u32,
}

/// A reserved event, to [`RecentIds::commit`] or [`RecentIds::release`] exactly once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket(u32);

/// What [`RecentIds::reserve`] found.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reserve {
    /// Neither stored nor reserved: reserved now, for the caller.
    New(Ticket),
    /// Stored (in the window).
    Stored,
    /// Reserved by the admission `owner`, not yet stored or released.
    InFlight { owner: u64 },
}

/// The last `capacity` events stored, as (id, fingerprint) pairs, and the events
/// reserved by requests in flight (see the module docs).
#[derive(Debug)]
pub struct RecentIds {
    capacity: usize,
    /// Events in arrival order; once full, `next` is the oldest and the next to overwrite.
    ring: Vec<Slot>,
    next: usize,
    /// Reserved events; the unused entries' indices are in `free`.
    pending: Vec<Reservation>,
    free: Vec<u32>,
    /// Ring indices (stored events) and `PENDING | i` (reserved ones), hashed by the
    /// slot they point to.
    table: HashTable<u32>,
    hasher: foldhash::quality::RandomState,
    /// Per store that asked (by its route), a bit per ring slot: whether that store
    /// took the slot's event (see the module docs, "marks"). Empty on most servers.
    marks: Vec<(usize, Vec<u64>)>,
}

/// The event a table value points to.
fn slot_of<'a>(ring: &'a [Slot], pending: &'a [Reservation], value: u32) -> &'a Slot {
    if value & PENDING == 0 {
        &ring[value as usize]
    } else {
        &pending[(value & !PENDING) as usize].slot
    }
}

fn hash_slot(hasher: &foldhash::quality::RandomState, s: &Slot) -> u64 {
    hasher.hash_one((s.hi, s.lo, s.fingerprint))
}

impl RecentIds {
    /// An empty window of at most `capacity` events (below 2^31: the table holds
    /// 31-bit indices; larger values are clamped). Memory grows with use up to the bound.
    pub fn new(capacity: usize) -> RecentIds {
        RecentIds {
            capacity: capacity.min(PENDING as usize - 1),
            ring: Vec::new(),
            next: 0,
            pending: Vec::new(),
            free: Vec::new(),
            table: HashTable::new(),
            hasher: foldhash::quality::RandomState::default(),
            marks: Vec::new(),
        }
    }

    /// The ring index of the stored event with `id` and `fingerprint`.
    fn stored_at(&self, id: &EventId, fingerprint: u64) -> Option<usize> {
        let k = Slot::new(id, fingerprint);
        let ring = &self.ring;
        self.table
            .find(hash_slot(&self.hasher, &k), |&v| {
                v & PENDING == 0 && ring[v as usize] == k
            })
            .map(|&v| v as usize)
    }

    /// Notes that the store of `route` took the stored event with `id` and
    /// `fingerprint` (nothing when the window does not remember it). The first mark of
    /// a route allocates its bits, a bit per ring slot at most.
    pub(crate) fn mark(&mut self, id: &EventId, fingerprint: u64, route: usize) {
        let Some(at) = self.stored_at(id, fingerprint) else {
            return;
        };
        let m = match self.marks.iter().position(|(r, _)| *r == route) {
            Some(m) => m,
            None => {
                self.marks.push((route, Vec::new()));
                self.marks.len() - 1
            }
        };
        let bits = &mut self.marks[m].1;
        let word = at / 64;
        if bits.len() <= word {
            bits.resize(word + 1, 0);
        }
        bits[word] |= 1 << (at % 64);
    }

    /// Whether the store of `route` took the stored event with `id` and `fingerprint`,
    /// as [`RecentIds::mark`] noted it.
    pub(crate) fn marked(&self, id: &EventId, fingerprint: u64, route: usize) -> bool {
        let Some((_, bits)) = self.marks.iter().find(|(r, _)| *r == route) else {
            return false;
        };
        self.stored_at(id, fingerprint)
            .is_some_and(|at| bits.get(at / 64).is_some_and(|w| w & (1 << (at % 64)) != 0))
    }

    /// A new event takes ring slot `at`: no store took it yet.
    fn unmark(&mut self, at: usize) {
        for (_, bits) in &mut self.marks {
            if let Some(w) = bits.get_mut(at / 64) {
                *w &= !(1 << (at % 64));
            }
        }
    }

    /// Number of events remembered as stored (at most the capacity).
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether no event is remembered as stored.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Number of events reserved and not yet stored or released.
    #[cfg(test)]
    pub(crate) fn reserved(&self) -> usize {
        self.pending.len() - self.free.len()
    }

    /// Whether the event with `id` and `fingerprint` is among the ones stored.
    pub fn contains(&self, id: &EventId, fingerprint: u64) -> bool {
        let k = Slot::new(id, fingerprint);
        let ring = &self.ring;
        self.table
            .find(hash_slot(&self.hasher, &k), |&v| {
                v & PENDING == 0 && ring[v as usize] == k
            })
            .is_some()
    }

    /// Looks the event with `id` and `fingerprint` up and, when it is neither stored
    /// nor reserved, reserves it for the admission `owner`, in one probe of the table:
    /// until it is committed or released, `reserve` answers [`Reserve::InFlight`] for it.
    pub(crate) fn reserve(&mut self, id: &EventId, fingerprint: u64, owner: u64) -> Reserve {
        let k = Slot::new(id, fingerprint);
        let hasher = &self.hasher;
        let ring = &self.ring;
        let pending = &self.pending;
        let entry = self.table.entry(
            hash_slot(hasher, &k),
            |&v| *slot_of(ring, pending, v) == k,
            |&v| hash_slot(hasher, slot_of(ring, pending, v)),
        );
        match entry {
            Entry::Occupied(e) => {
                let v = *e.get();
                if v & PENDING == 0 {
                    Reserve::Stored
                } else {
                    Reserve::InFlight {
                        owner: self.pending[(v & !PENDING) as usize].owner,
                    }
                }
            }
            Entry::Vacant(e) => {
                // Fewer reservations than table entries, and entries below 2^31 (the
                // table's allocation bounds them long before): the index fits.
                let i = match self.free.pop() {
                    Some(i) => i,
                    None => self.pending.len() as u32,
                };
                let bucket = e.insert(PENDING | i).bucket_index() as u32;
                let r = Reservation {
                    slot: k,
                    owner,
                    bucket,
                };
                match self.pending.get_mut(i as usize) {
                    Some(at) => *at = r,
                    None => self.pending.push(r),
                }
                Reserve::New(Ticket(i))
            }
        }
    }

    /// The table bucket of reservation `i` (its hint, else found by its hash).
    fn reserved_bucket(&self, i: u32) -> Option<usize> {
        let value = PENDING | i;
        let r = &self.pending[i as usize];
        if self.table.get_bucket(r.bucket as usize) == Some(&value) {
            return Some(r.bucket as usize);
        }
        self.table
            .find_bucket_index(hash_slot(&self.hasher, &r.slot), |&v| v == value)
    }

    /// The reserved event is stored: it becomes the newest remembered, the oldest is
    /// forgotten when full.
    pub(crate) fn commit(&mut self, ticket: Ticket) {
        let i = ticket.0;
        let slot = self.pending[i as usize].slot;
        if self.capacity == 0 {
            self.release(ticket);
            return;
        }
        let index = self.place(slot);
        // Evicting the oldest removed another entry, which moves none: the bucket found
        // now is the reservation's.
        match self.reserved_bucket(i) {
            // `index < capacity < PENDING`: no truncation, and a stored event's value.
            Some(b) => {
                if let Some(v) = self.table.get_bucket_mut(b) {
                    *v = index as u32;
                }
            }
            // Not reached (a ticket is used once); were it, the event is still stored
            // and remembered, as a push would.
            None => self.insert_stored(slot, index),
        }
        self.free.push(i);
    }

    /// The reserved event was not stored: forget the reservation (it is new again).
    pub(crate) fn release(&mut self, ticket: Ticket) {
        let i = ticket.0;
        if let Some(b) = self.reserved_bucket(i) {
            if let Ok(e) = self.table.get_bucket_entry(b) {
                let _removed = e.remove();
            }
        }
        self.free.push(i);
    }

    /// Puts `slot` in the ring as the newest, evicting the oldest (and its table entry)
    /// when full; returns its ring index. The caller makes its table entry.
    fn place(&mut self, slot: Slot) -> usize {
        if self.ring.len() < self.capacity {
            if self.ring.len() == self.ring.capacity() {
                // Grow by doubling, but never past the bound (a window that is not a
                // power of two would otherwise reserve up to twice its size).
                let want = (self.ring.len() * 2).max(16).min(self.capacity);
                self.ring.reserve_exact(want - self.ring.len());
            }
            self.ring.push(slot);
            let at = self.ring.len() - 1;
            self.unmark(at);
            at
        } else {
            let at = self.next;
            // Its entry is found by index: one probe sequence, no ring read.
            let old_hash = hash_slot(&self.hasher, &self.ring[at]);
            if let Ok(entry) = self.table.find_entry(old_hash, |&v| v as usize == at) {
                let _removed = entry.remove();
            }
            self.ring[at] = slot;
            self.unmark(at);
            self.next = if at + 1 == self.capacity { 0 } else { at + 1 };
            at
        }
    }

    /// Adds the table entry of the stored event at ring index `index`.
    fn insert_stored(&mut self, slot: Slot, index: usize) {
        let ring = &self.ring;
        let pending = &self.pending;
        let hasher = &self.hasher;
        // `index < capacity < PENDING`: no truncation.
        let _entry = self
            .table
            .insert_unique(hash_slot(hasher, &slot), index as u32, |&v| {
                hash_slot(hasher, slot_of(ring, pending, v))
            });
    }

    /// Forgets the event with `id` and `fingerprint` as stored (its record is gone from
    /// the store: a retry must store it again); a reservation of it stays. Its ring slot
    /// stays until it is overwritten, pointed to by no entry (eviction finds no entry
    /// for it then, and removes none). Whether it was remembered.
    pub(crate) fn forget(&mut self, id: &EventId, fingerprint: u64) -> bool {
        let k = Slot::new(id, fingerprint);
        let hash = hash_slot(&self.hasher, &k);
        let ring = &self.ring;
        let mut forgot = false;
        // A pair pushed twice (a rebuild) has two entries: both go.
        while let Ok(entry) = self
            .table
            .find_entry(hash, |&v| v & PENDING == 0 && ring[v as usize] == k)
        {
            let _removed = entry.remove();
            forgot = true;
        }
        forgot
    }

    /// Remembers the event with `id` and `fingerprint` as stored and the newest,
    /// forgetting the oldest when full, without a reservation (a rebuild from the
    /// stores). The caller pushes an event it found absent (see the module docs for what
    /// a repeat does).
    pub fn push(&mut self, id: &EventId, fingerprint: u64) {
        if self.capacity == 0 {
            return;
        }
        let k = Slot::new(id, fingerprint);
        let index = self.place(k);
        self.insert_stored(k, index);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{HashSet, VecDeque};

    use proptest::prelude::*;

    use super::*;

    fn id(n: u128) -> EventId {
        EventId::from(uuid::Uuid::from_u128(n))
    }

    /// The fingerprint the tests give event `n` unless they say otherwise.
    const FP: u64 = 7;

    /// The implementation this replaced, as the model: a set plus a FIFO queue, keyed
    /// by (id, fingerprint).
    struct Model {
        capacity: usize,
        set: HashSet<(u128, u64)>,
        order: VecDeque<(u128, u64)>,
    }

    impl Model {
        fn push(&mut self, k: (u128, u64)) {
            if self.set.insert(k) {
                self.order.push_back(k);
                while self.order.len() > self.capacity {
                    let old = self.order.pop_front().unwrap();
                    self.set.remove(&old);
                }
            }
        }
    }

    #[test]
    fn a_mark_lasts_while_its_event_is_remembered_and_never_passes_to_the_next() {
        let mut w = RecentIds::new(2);
        w.push(&id(1), FP);
        w.mark(&id(1), FP, 3);
        assert!(w.marked(&id(1), FP, 3));
        assert!(!w.marked(&id(1), FP, 2), "another store's");
        assert!(!w.marked(&id(1), FP + 1, 3), "another event with its id");
        w.push(&id(2), FP);
        assert!(w.marked(&id(1), FP, 3));
        assert!(!w.marked(&id(2), FP, 3));
        // Event 3 takes event 1's slot.
        w.push(&id(3), FP);
        assert!(!w.marked(&id(1), FP, 3), "forgotten with its event");
        assert!(
            !w.marked(&id(3), FP, 3),
            "the slot's next event is not marked"
        );
        w.mark(&id(9), FP, 3);
        assert!(!w.marked(&id(9), FP, 3), "not remembered: nothing to mark");
    }

    #[test]
    fn fifo_eviction_at_the_bound() {
        let mut w = RecentIds::new(3);
        for n in 1..=3 {
            w.push(&id(n), FP);
        }
        assert_eq!(w.len(), 3);
        assert!((1..=3).all(|n| w.contains(&id(n), FP)));
        w.push(&id(4), FP);
        assert_eq!(w.len(), 3);
        assert!(!w.contains(&id(1), FP), "the oldest goes first");
        assert!((2..=4).all(|n| w.contains(&id(n), FP)));
        for n in 5..=7 {
            w.push(&id(n), FP);
        }
        assert!((1..=4).all(|n| !w.contains(&id(n), FP)));
        assert!((5..=7).all(|n| w.contains(&id(n), FP)));
        assert!(!w.contains(&id(8), FP));
    }

    /// Two different events with one id are two entries: each is known only with its
    /// own fingerprint, and each is evicted in its turn.
    #[test]
    fn an_id_with_another_fingerprint_is_another_event() {
        let mut w = RecentIds::new(2);
        w.push(&id(1), 10);
        assert!(w.contains(&id(1), 10));
        assert!(!w.contains(&id(1), 11), "same id, other content");
        w.push(&id(1), 11);
        assert_eq!(w.len(), 2);
        assert!(w.contains(&id(1), 10) && w.contains(&id(1), 11));
        w.push(&id(2), 10);
        assert!(!w.contains(&id(1), 10), "the oldest goes first");
        assert!(w.contains(&id(1), 11) && w.contains(&id(2), 10));
    }

    /// A forgotten event is new again; the slot it leaves is overwritten in turn
    /// without disturbing the others.
    #[test]
    fn a_forgotten_event_is_new_again_and_its_slot_is_reused_in_turn() {
        let mut w = RecentIds::new(2);
        w.push(&id(1), 1);
        w.push(&id(2), 2);
        assert!(w.forget(&id(1), 1));
        assert!(!w.forget(&id(1), 1), "already forgotten");
        assert!(!w.contains(&id(1), 1));
        assert!(w.contains(&id(2), 2));
        assert!(matches!(w.reserve(&id(1), 1, 0), Reserve::New(_)));
        w.push(&id(3), 3);
        assert!(w.contains(&id(2), 2) && w.contains(&id(3), 3));
        w.push(&id(4), 4);
        assert!(!w.contains(&id(2), 2) && w.contains(&id(4), 4));
    }

    #[test]
    fn a_window_of_zero_remembers_nothing() {
        let mut w = RecentIds::new(0);
        w.push(&id(1), FP);
        assert!(w.is_empty());
        assert!(!w.contains(&id(1), FP));
    }

    #[test]
    fn many_wraps_of_a_large_window() {
        let cap = 10_000;
        let mut w = RecentIds::new(cap);
        for n in 0..(cap as u128 * 5 + 17) {
            w.push(&id(n), n as u64);
            if n % 997 == 0 {
                let oldest = (n + 1).saturating_sub(cap as u128);
                assert!(w.contains(&id(oldest), oldest as u64));
                assert!(oldest == 0 || !w.contains(&id(oldest - 1), oldest as u64 - 1));
            }
        }
        assert_eq!(w.len(), cap);
        assert_eq!(
            w.ring.capacity(),
            cap,
            "the ring never reserves past the bound"
        );
    }

    fn ticket(r: Reserve) -> Ticket {
        match r {
            Reserve::New(t) => t,
            other => panic!("expected a new reservation, got {other:?}"),
        }
    }

    /// A reserved event is in flight (for its own admission too) and not stored until
    /// committed; released, it is new again; committed, stored and evicted in its turn.
    #[test]
    fn reserve_commit_release() {
        let mut w = RecentIds::new(2);
        let a = ticket(w.reserve(&id(1), FP, 1));
        assert_eq!(w.reserve(&id(1), FP, 2), Reserve::InFlight { owner: 1 });
        assert_eq!(w.reserve(&id(1), FP, 1), Reserve::InFlight { owner: 1 });
        assert!(!w.contains(&id(1), FP), "reserved is not stored");
        let b = ticket(w.reserve(&id(2), FP, 1));
        w.release(b);
        assert_eq!(w.reserved(), 1);
        let b = ticket(w.reserve(&id(2), FP, 3));
        w.commit(a);
        assert!(w.contains(&id(1), FP));
        assert_eq!(w.reserve(&id(1), FP, 4), Reserve::Stored);
        w.commit(b);
        w.push(&id(3), FP);
        assert!(!w.contains(&id(1), FP), "the oldest stored goes first");
        assert!(w.contains(&id(2), FP) && w.contains(&id(3), FP));
        assert_eq!((w.len(), w.reserved()), (2, 0));
    }

    /// Two different events with one id are reserved, stored and looked up each on its
    /// own: a reservation of one is no answer for the other.
    #[test]
    fn an_id_with_another_fingerprint_is_reserved_on_its_own() {
        let mut w = RecentIds::new(4);
        let a = ticket(w.reserve(&id(1), 10, 1));
        let b = ticket(w.reserve(&id(1), 11, 2));
        assert_eq!(w.reserve(&id(1), 10, 3), Reserve::InFlight { owner: 1 });
        assert_eq!(w.reserve(&id(1), 11, 3), Reserve::InFlight { owner: 2 });
        w.commit(a);
        assert_eq!(w.reserve(&id(1), 10, 3), Reserve::Stored);
        assert!(!w.contains(&id(1), 11));
        w.release(b);
        let b = ticket(w.reserve(&id(1), 11, 3));
        w.commit(b);
        assert!(w.contains(&id(1), 10) && w.contains(&id(1), 11));
    }

    /// Reservations held while the table grows (and moves every entry) are still found
    /// when they commit or are released.
    #[test]
    fn reservations_survive_the_table_growing() {
        let mut w = RecentIds::new(100_000);
        let held: Vec<Ticket> = (0..64).map(|n| ticket(w.reserve(&id(n), FP, 1))).collect();
        for n in 1000..60_000 {
            w.push(&id(n), FP);
        }
        for (n, t) in (0u128..).zip(held) {
            if n % 2 == 0 {
                w.commit(t);
            } else {
                w.release(t);
            }
        }
        for n in 0..64 {
            assert_eq!(w.contains(&id(n), FP), n % 2 == 0, "event {n}");
        }
        assert_eq!(w.reserved(), 0);
        assert_eq!(w.len(), 59_000 + 32);
        assert!(
            w.table.len() == w.len(),
            "no entry left behind by a release"
        );
    }

    #[test]
    fn a_window_of_zero_still_reserves() {
        let mut w = RecentIds::new(0);
        let t = ticket(w.reserve(&id(1), FP, 1));
        assert_eq!(w.reserve(&id(1), FP, 2), Reserve::InFlight { owner: 1 });
        w.commit(t);
        assert!(!w.contains(&id(1), FP));
        assert!(matches!(w.reserve(&id(1), FP, 3), Reserve::New(_)));
    }

    /// An operation of the reservation model test.
    #[derive(Debug, Clone)]
    enum Op {
        Reserve(u128, u64, u64),
        Commit(usize),
        Release(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (0u128..24, 0u64..2, 0u64..3).prop_map(|(n, f, o)| Op::Reserve(n, f, o)),
            2 => any::<usize>().prop_map(Op::Commit),
            1 => any::<usize>().prop_map(Op::Release),
        ]
    }

    proptest! {
        /// Reservations, commits and releases in any order answer as a model of the
        /// stored events (set plus queue) and a map of the reserved ones: never a false
        /// "stored" or "in flight", every stored event evicted in commit order, and no
        /// table entry left behind.
        #[test]
        fn reservations_answer_as_the_model(
            capacity in 0usize..12,
            ops in proptest::collection::vec(op(), 0..400),
        ) {
            let mut w = RecentIds::new(capacity);
            let mut stored = Model { capacity, set: HashSet::new(), order: VecDeque::new() };
            let mut reserved: std::collections::HashMap<(u128, u64), u64> = Default::default();
            let mut held: Vec<(Ticket, (u128, u64))> = Vec::new();
            for op in ops {
                match op {
                    Op::Reserve(n, fp, owner) => {
                        let k = (n, fp);
                        let got = w.reserve(&id(n), fp, owner);
                        if stored.set.contains(&k) {
                            prop_assert_eq!(got, Reserve::Stored);
                        } else if let Some(&o) = reserved.get(&k) {
                            prop_assert_eq!(got, Reserve::InFlight { owner: o });
                        } else {
                            let Reserve::New(t) = got else {
                                return Err(TestCaseError::fail(format!("{k:?}: {got:?}, expected new")));
                            };
                            reserved.insert(k, owner);
                            held.push((t, k));
                        }
                    }
                    Op::Commit(i) if !held.is_empty() => {
                        let (t, k) = held.swap_remove(i % held.len());
                        w.commit(t);
                        reserved.remove(&k);
                        stored.push(k);
                    }
                    Op::Release(i) if !held.is_empty() => {
                        let (t, k) = held.swap_remove(i % held.len());
                        w.release(t);
                        reserved.remove(&k);
                    }
                    Op::Commit(_) | Op::Release(_) => {}
                }
                prop_assert_eq!(w.len(), stored.set.len());
                prop_assert_eq!(w.reserved(), reserved.len());
                prop_assert_eq!(w.table.len(), stored.set.len() + reserved.len());
                for n in 0..24 {
                    for fp in 0..2 {
                        prop_assert_eq!(w.contains(&id(n), fp), stored.set.contains(&(n, fp)), "id {} fp {}", n, fp);
                    }
                }
            }
        }

        /// Pushes of events absent from the window (as the admission does) and lookups
        /// of any (id, fingerprint) answer as the set-plus-queue model: never a false
        /// "duplicate", also for an id pushed with other fingerprints.
        #[test]
        fn answers_as_the_model(
            capacity in 0usize..40,
            ops in proptest::collection::vec((any::<bool>(), 0u128..64, 0u64..3), 0..400),
        ) {
            let mut w = RecentIds::new(capacity);
            let mut m = Model { capacity, set: HashSet::new(), order: VecDeque::new() };
            for (push, n, fp) in ops {
                if push && !m.set.contains(&(n, fp)) {
                    prop_assert!(!w.contains(&id(n), fp));
                    w.push(&id(n), fp);
                    m.push((n, fp));
                } else {
                    prop_assert_eq!(w.contains(&id(n), fp), m.set.contains(&(n, fp)), "id {} fp {}", n, fp);
                }
                prop_assert_eq!(w.len(), m.set.len());
            }
            for n in 0..64 {
                for fp in 0..3 {
                    prop_assert_eq!(w.contains(&id(n), fp), m.set.contains(&(n, fp)), "id {} fp {}", n, fp);
                }
            }
        }

        /// Repeated pushes (a rebuild from a store holding a duplicate) keep every answer
        /// true: a pair is reported only while one of its pushes is among the last
        /// `capacity`.
        #[test]
        fn repeated_pushes_stay_exact(
            capacity in 1usize..20,
            pushes in proptest::collection::vec((0u128..16, 0u64..2), 0..200),
        ) {
            let mut w = RecentIds::new(capacity);
            for (i, &(n, fp)) in pushes.iter().enumerate() {
                w.push(&id(n), fp);
                let recent = &pushes[(i + 1).saturating_sub(capacity)..=i];
                for q in 0..16 {
                    for f in 0..2 {
                        prop_assert_eq!(w.contains(&id(q), f), recent.contains(&(q, f)), "id {} fp {}", q, f);
                    }
                }
            }
        }
    }
}
