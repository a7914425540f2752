//! The de-duplication window: the last `capacity` events stored, each as its id and
//! the fingerprint of its content (see `dedup/mod.rs`), oldest forgotten first,
//! answering "was this event (this id with this content) stored?" exactly.
//!
//! # Layout (why not a `HashSet<EventId>` plus a `VecDeque<EventId>`)
//!
//! At steady state (the window full, 1 Mi events) every stored event costs one lookup
//! when its request is admitted, one insertion when it commits and one removal of the
//! oldest. With a `HashSet<EventId>` (SipHash, 16-byte keys, ~34 MB at 1 Mi entries)
//! each of those is a cache miss, and they were a third of the server's CPU in the
//! profile of `docs/benchmarks.md` (issue 17). Here:
//!
//! - the events live once, in arrival order, in a ring buffer of 24-byte slots (the
//!   id as two `u64` words and the 64-bit fingerprint; a `u128` would align each slot
//!   to 32 bytes): 24 MB at 1 Mi. Insertion and eviction walk it sequentially, which
//!   the prefetcher handles;
//! - a [`hashbrown::HashTable`] of 4-byte ring indices (~10 MB with its control bytes
//!   at 1 Mi) finds an (id, fingerprint) pair: a lookup reads the table and, only on a
//!   7-bit tag match, the ring slot; the eviction of the oldest slot finds its table
//!   entry by comparing indices, without touching the ring again.
//!
//! So about 34 MB for the default window of 1 Mi events (26 MB when only ids were
//! kept: the fingerprint is 8 bytes more per slot), allocated as the window fills.
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
//! [`RecentIds::contains`] is true only for an (id, fingerprint) pair that was pushed
//! and not yet evicted: every table entry points to a ring slot that holds the pushed
//! pair, and evicting a slot removes the one entry that points to it. A pair pushed
//! twice takes two slots (the caller's admission never does that, a rebuild from a
//! store that holds a duplicate beyond the window may): each is a real stored event,
//! so the answer stays exact. One id with two fingerprints (two different events that
//! share an id) is two pairs, each answered on its own.

use std::hash::BuildHasher;

use auditrail_core::EventId;
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

/// The last `capacity` events stored, as (id, fingerprint) pairs (see the module docs).
#[derive(Debug)]
pub struct RecentIds {
    capacity: usize,
    /// Events in arrival order; once full, `next` is the oldest and the next to overwrite.
    ring: Vec<Slot>,
    next: usize,
    /// Indices into `ring`, hashed by the slot they point to.
    table: HashTable<u32>,
    hasher: foldhash::quality::RandomState,
}

impl RecentIds {
    /// An empty window of at most `capacity` events (at most `u32::MAX`: the table holds
    /// 4-byte indices; larger values are clamped). Memory grows with use up to the bound.
    pub fn new(capacity: usize) -> RecentIds {
        RecentIds {
            capacity: capacity.min(u32::MAX as usize),
            ring: Vec::new(),
            next: 0,
            table: HashTable::new(),
            hasher: foldhash::quality::RandomState::default(),
        }
    }

    /// Number of events remembered (at most the capacity).
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether no event is remembered.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    fn hash(&self, s: &Slot) -> u64 {
        self.hasher.hash_one((s.hi, s.lo, s.fingerprint))
    }

    /// Whether the event with `id` and `fingerprint` is among the remembered ones.
    pub fn contains(&self, id: &EventId, fingerprint: u64) -> bool {
        let k = Slot::new(id, fingerprint);
        let ring = &self.ring;
        self.table
            .find(self.hash(&k), |&i| ring[i as usize] == k)
            .is_some()
    }

    /// Remembers the event with `id` and `fingerprint` as the newest, forgetting the
    /// oldest when full. The caller pushes an event it found absent (see the module
    /// docs for what a repeat does).
    pub fn push(&mut self, id: &EventId, fingerprint: u64) {
        if self.capacity == 0 {
            return;
        }
        let k = Slot::new(id, fingerprint);
        let slot = if self.ring.len() < self.capacity {
            if self.ring.len() == self.ring.capacity() {
                // Grow by doubling, but never past the bound (a window that is not a
                // power of two would otherwise reserve up to twice its size).
                let want = (self.ring.len() * 2).max(16).min(self.capacity);
                self.ring.reserve_exact(want - self.ring.len());
            }
            self.ring.push(k);
            self.ring.len() - 1
        } else {
            let slot = self.next;
            // Its entry is found by index: one probe sequence, no ring read.
            let old_hash = self.hash(&self.ring[slot]);
            if let Ok(entry) = self.table.find_entry(old_hash, |&i| i as usize == slot) {
                let _removed = entry.remove();
            }
            self.ring[slot] = k;
            self.next = if slot + 1 == self.capacity {
                0
            } else {
                slot + 1
            };
            slot
        };
        let ring = &self.ring;
        let hasher = &self.hasher;
        let hash = |s: &Slot| hasher.hash_one((s.hi, s.lo, s.fingerprint));
        // `slot < capacity <= u32::MAX`: no truncation.
        let index = slot as u32;
        let _entry = self
            .table
            .insert_unique(hash(&k), index, |&i| hash(&ring[i as usize]));
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

    proptest! {
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
