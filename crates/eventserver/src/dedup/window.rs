//! The de-duplication window: the ids of the last `capacity` events stored, oldest
//! forgotten first, answering "was this id stored?" exactly.
//!
//! # Layout (why not a `HashSet<EventId>` plus a `VecDeque<EventId>`)
//!
//! At steady state (the window full, 1 Mi ids) every stored event costs one lookup when
//! its request is admitted, one insertion when it commits and one removal of the oldest
//! id. With a `HashSet<EventId>` (SipHash, 16-byte keys, ~34 MB at 1 Mi entries) each of
//! those is a cache miss, and they were a third of the server's CPU in the profile of
//! `docs/benchmarks.md` (issue 17). Here:
//!
//! - the ids live once, in arrival order, in a ring buffer (`Vec<u128>`, 16 MB at
//!   1 Mi): insertion and eviction walk it sequentially, which the prefetcher handles;
//! - a [`hashbrown::HashTable`] of 4-byte ring indices (~10 MB with its control bytes
//!   at 1 Mi) finds an id: a lookup reads the table and, only on a 7-bit tag match,
//!   the ring slot; the eviction of the oldest id finds its table entry by comparing
//!   indices, without touching the ring again.
//!
//! The table is `hashbrown`'s (the maintained implementation behind `std`'s maps); only
//! the index-into-a-ring arrangement is written here, because no maintained crate
//! offers a bounded FIFO set keyed by a 128-bit value with index entries.
//!
//! # Hashing
//!
//! Ids come from clients, so a hostile client can choose them: the hash is keyed
//! ([`foldhash::quality::RandomState`], a random seed per process and per table), not
//! the id's own bits, so colliding ids cannot be precomputed.
//!
//! # Exactness
//!
//! [`RecentIds::contains`] is true only for an id that was pushed and not yet evicted:
//! every table entry points to a ring slot that holds the pushed id, and evicting a slot
//! removes the one entry that points to it. An id pushed twice takes two slots (the
//! caller's admission never does that, a rebuild from a store that holds a duplicate
//! beyond the window may): each is a real stored event, so the answer stays exact.

use std::hash::BuildHasher;

use auditrail_core::EventId;
use hashbrown::HashTable;

/// The ids of the last `capacity` events stored (see the module docs).
#[derive(Debug)]
pub struct RecentIds {
    capacity: usize,
    /// Ids in arrival order; once full, `next` is the oldest and the next to overwrite.
    ring: Vec<u128>,
    next: usize,
    /// Indices into `ring`, hashed by the id they point to.
    table: HashTable<u32>,
    hasher: foldhash::quality::RandomState,
}

fn key(id: &EventId) -> u128 {
    id.as_uuid().as_u128()
}

impl RecentIds {
    /// An empty window of at most `capacity` ids (at most `u32::MAX`: the table holds
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

    /// Number of ids remembered (at most the capacity).
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Whether `id` is among the remembered ids.
    pub fn contains(&self, id: &EventId) -> bool {
        let k = key(id);
        let ring = &self.ring;
        self.table
            .find(self.hasher.hash_one(k), |&i| ring[i as usize] == k)
            .is_some()
    }

    /// Remembers `id` as the newest, forgetting the oldest when full. The caller pushes
    /// an id it found absent (see the module docs for what a repeat does).
    pub fn push(&mut self, id: &EventId) {
        if self.capacity == 0 {
            return;
        }
        let k = key(id);
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
            let old = self.ring[slot];
            // Its entry is found by index: one probe sequence, no ring read.
            let old_hash = self.hasher.hash_one(old);
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
        // `slot < capacity <= u32::MAX`: no truncation.
        let index = slot as u32;
        let _entry = self.table.insert_unique(hasher.hash_one(k), index, |&i| {
            hasher.hash_one(ring[i as usize])
        });
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

    /// The implementation this replaced, as the model: a set plus a FIFO queue.
    struct Model {
        capacity: usize,
        set: HashSet<u128>,
        order: VecDeque<u128>,
    }

    impl Model {
        fn push(&mut self, n: u128) {
            if self.set.insert(n) {
                self.order.push_back(n);
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
            w.push(&id(n));
        }
        assert_eq!(w.len(), 3);
        assert!((1..=3).all(|n| w.contains(&id(n))));
        w.push(&id(4));
        assert_eq!(w.len(), 3);
        assert!(!w.contains(&id(1)), "the oldest goes first");
        assert!((2..=4).all(|n| w.contains(&id(n))));
        for n in 5..=7 {
            w.push(&id(n));
        }
        assert!((1..=4).all(|n| !w.contains(&id(n))));
        assert!((5..=7).all(|n| w.contains(&id(n))));
        assert!(!w.contains(&id(8)));
    }

    #[test]
    fn a_window_of_zero_remembers_nothing() {
        let mut w = RecentIds::new(0);
        w.push(&id(1));
        assert!(w.is_empty());
        assert!(!w.contains(&id(1)));
    }

    #[test]
    fn many_wraps_of_a_large_window() {
        let cap = 10_000;
        let mut w = RecentIds::new(cap);
        for n in 0..(cap as u128 * 5 + 17) {
            w.push(&id(n));
            if n % 997 == 0 {
                let oldest = (n + 1).saturating_sub(cap as u128);
                assert!(w.contains(&id(oldest)));
                assert!(oldest == 0 || !w.contains(&id(oldest - 1)));
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
        /// Pushes of ids absent from the window (as the admission does) and lookups of
        /// any id answer as the set-plus-queue model: never a false "duplicate".
        #[test]
        fn answers_as_the_model(
            capacity in 0usize..40,
            ops in proptest::collection::vec((any::<bool>(), 0u128..64), 0..400),
        ) {
            let mut w = RecentIds::new(capacity);
            let mut m = Model { capacity, set: HashSet::new(), order: VecDeque::new() };
            for (push, n) in ops {
                if push && !m.set.contains(&n) {
                    prop_assert!(!w.contains(&id(n)));
                    w.push(&id(n));
                    m.push(n);
                } else {
                    prop_assert_eq!(w.contains(&id(n)), m.set.contains(&n), "id {}", n);
                }
                prop_assert_eq!(w.len(), m.set.len());
            }
            for n in 0..64 {
                prop_assert_eq!(w.contains(&id(n)), m.set.contains(&n), "id {}", n);
            }
        }

        /// Repeated pushes (a rebuild from a store holding a duplicate) keep every answer
        /// true: an id is reported only while one of its pushes is among the last
        /// `capacity`.
        #[test]
        fn repeated_pushes_stay_exact(
            capacity in 1usize..20,
            pushes in proptest::collection::vec(0u128..16, 0..200),
        ) {
            let mut w = RecentIds::new(capacity);
            for (i, &n) in pushes.iter().enumerate() {
                w.push(&id(n));
                let recent = &pushes[(i + 1).saturating_sub(capacity)..=i];
                for q in 0..16 {
                    prop_assert_eq!(w.contains(&id(q)), recent.contains(&q), "id {}", q);
                }
            }
        }
    }
}
