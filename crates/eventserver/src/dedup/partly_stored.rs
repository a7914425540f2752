//! Events some of their stores hold and others not: which stores hold each, so that
//! its retry is written only to the stores that lack it.
//!
//! A batch whose answer is an error (a store refusing a partition folder for now, a
//! full disk, a destination that gave the batch up, an acknowledgement timeout, a
//! crash) may have been written by some of its stores already. De-duplication takes
//! an event as stored only when every destination taking it took it (a `200`), so
//! the node's retry is new; it was written again to every store, also to those that
//! held it: one more record per retry in a store that took the batch each time
//! (crash67/03: four records of each event after three refused tries). Now the
//! stores that took it are remembered here until every store holds it
//! ([`super::Admission::held_before`]); the retry is routed to the others alone
//! (`http/partly_stored.rs`), after each store checked it still holds its record.
//! The rebuild at start fills it from the stores' records (an event some of the
//! stores that must hold it hold, `rebuild::merge_oldest_first`).
//!
//! Only stores are noted: they can show what they hold. A destination that cannot (a
//! `file`, a forward, Kafka) gets the retry again (at-least-once there, as after a
//! `200`, see docs/eventserver.md, "Guarantees").
//!
//! Bounded: at most [`PartlyStored::bound`] events, the least recently noted
//! forgotten first. A retry of a forgotten one is written to every store again (a
//! duplicate stored, never a loss), as before.

use auditrail_core::RouteSet;
use lru::LruCache;

use super::{Hasher, Key};

/// The bound: an eighth of the window (a slot here is about four times a window's).
pub(super) fn bound(window: usize) -> usize {
    window / 8
}

/// Events held by some of their stores (see the module docs).
#[derive(Debug)]
pub(super) struct PartlyStored {
    held: LruCache<Key, RouteSet, Hasher>,
    bound: usize,
}

impl PartlyStored {
    pub(super) fn new(window: usize) -> PartlyStored {
        PartlyStored {
            // Bounded in `note`; an unbounded cache allocates nothing up front.
            held: LruCache::unbounded_with_hasher(Hasher::default()),
            bound: bound(window),
        }
    }

    /// The stores (their routes) that hold the event of `key`, if some do.
    pub(super) fn get(&self, key: &Key) -> Option<&RouteSet> {
        if self.held.is_empty() {
            return None;
        }
        self.held.peek(key)
    }

    /// The stores of `routes` hold the event of `key` too.
    pub(super) fn note(&mut self, key: Key, routes: impl IntoIterator<Item = usize>) {
        if self.bound == 0 {
            return;
        }
        let mut routes = routes.into_iter().peekable();
        if routes.peek().is_none() {
            return;
        }
        match self.held.get_mut(&key) {
            Some(held) => {
                for r in routes {
                    held.insert(r);
                }
            }
            None => {
                self.held.put(key, routes.collect());
                while self.held.len() > self.bound {
                    self.held.pop_lru();
                }
            }
        }
    }

    /// The stores of `routes` hold the event of `key`, and no other (none: nothing to
    /// note).
    pub(super) fn set(&mut self, key: Key, routes: RouteSet) {
        if routes.is_empty() {
            self.remove(&key);
            return;
        }
        if self.bound == 0 {
            return;
        }
        self.held.put(key, routes);
        while self.held.len() > self.bound {
            self.held.pop_lru();
        }
    }

    /// The event of `key` is stored everywhere (or forgotten): nothing to note.
    pub(super) fn remove(&mut self, key: &Key) {
        if !self.held.is_empty() {
            self.held.pop(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u128) -> Key {
        Key {
            id: auditrail_core::EventId::from(uuid::Uuid::from_u128(n)),
            fingerprint: n as u64,
        }
    }

    #[test]
    fn notes_add_up_and_the_least_recently_noted_go_first() {
        let mut p = PartlyStored::new(16);
        p.note(key(1), [0]);
        p.note(key(1), [2]);
        assert_eq!(
            p.get(&key(1)).map(|r| r.iter().collect::<Vec<_>>()),
            Some(vec![0, 2])
        );
        p.note(key(2), [1]);
        p.note(key(3), [1]);
        assert!(p.get(&key(1)).is_none(), "the bound is 2: the oldest went");
        p.remove(&key(2));
        assert!(p.get(&key(2)).is_none());
        assert!(p.get(&key(3)).is_some());
        p.note(key(4), std::iter::empty());
        assert!(p.get(&key(4)).is_none(), "no store holds it: nothing noted");
    }
}
