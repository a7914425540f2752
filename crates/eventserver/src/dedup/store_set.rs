//! A set of stores by their numbers in a rebuild (the order they are read in): which
//! stores must all hold an event (`Holders::needed`) and which hold it (the records read
//! across stores, `rebuild::merge_oldest_first`).
//!
//! Any number of stores. These were `u64` bitmasks, so a store numbered 64 or more
//! (a server with more than 64 stores, e.g. one per `required_key` service) fell off
//! them: an event such a store takes was never taken as stored at start, and such a
//! `required_key` store got no marks (`RecentIds::mark`), so a retry to it after a
//! restart was written into it again. One word inline covers the first 64 stores, the
//! servers we know of, so the rebuild's candidates (a million and a half at most, see
//! `rebuild::Newest`) allocate nothing; past them the words are on the heap.

/// Stores by number (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
#[allow(clippy::box_collection)] // `Many`'s thin pointer, see there
pub(super) enum StoreSet {
    /// Stores 0 to 63, a bit each.
    Few(u64),
    /// Any stores, 64 a word (the first word as in `Few`); a boxed `Vec` (a thin
    /// pointer) so that the set is two words, not three or four, in every candidate.
    Many(Box<Vec<u64>>),
}

impl Default for StoreSet {
    fn default() -> Self {
        StoreSet::Few(0)
    }
}

impl StoreSet {
    /// The set of store `n` alone.
    #[cfg(test)]
    pub(super) fn only(n: u32) -> StoreSet {
        let mut s = StoreSet::default();
        s.insert(n);
        s
    }

    /// Adds store `n`.
    pub(super) fn insert(&mut self, n: u32) {
        let (word, bit) = ((n / 64) as usize, n % 64);
        match self {
            StoreSet::Few(bits) if word == 0 => *bits |= 1 << bit,
            StoreSet::Few(bits) => {
                let mut words = vec![0; word + 1];
                words[0] = *bits;
                words[word] = 1 << bit;
                *self = StoreSet::Many(Box::new(words));
            }
            StoreSet::Many(words) => {
                if words.len() <= word {
                    words.resize(word + 1, 0);
                }
                words[word] |= 1 << bit;
            }
        }
    }

    fn words(&self) -> &[u64] {
        match self {
            StoreSet::Few(bits) => std::slice::from_ref(bits),
            StoreSet::Many(words) => words,
        }
    }

    /// Whether store `n` is in the set.
    #[cfg(test)]
    pub(super) fn contains(&self, n: u32) -> bool {
        self.words()
            .get((n / 64) as usize)
            .is_some_and(|w| w >> (n % 64) & 1 == 1)
    }

    /// Whether every store of the set is in `other`.
    pub(super) fn is_subset(&self, other: &StoreSet) -> bool {
        let theirs = other.words();
        self.words()
            .iter()
            .enumerate()
            .all(|(i, w)| w & !theirs.get(i).copied().unwrap_or(0) == 0)
    }

    /// Whether the set holds a store other than `n`.
    pub(super) fn has_other_than(&self, n: u32) -> bool {
        let (word, bit) = ((n / 64) as usize, n % 64);
        self.words().iter().enumerate().any(|(i, &w)| {
            if i == word {
                w & !(1 << bit) != 0
            } else {
                w != 0
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::StoreSet;

    #[test]
    fn stores_past_64_are_members_like_the_first_ones() {
        let mut needed = StoreSet::default();
        for n in [0, 63, 64, 65, 200] {
            needed.insert(n);
        }
        for n in [0, 63, 64, 65, 200] {
            assert!(needed.contains(n), "{n}");
        }
        for n in [1, 62, 66, 127, 128, 199, 201, 10_000] {
            assert!(!needed.contains(n), "{n}");
        }
        let mut held = StoreSet::only(200);
        assert!(needed.has_other_than(200));
        assert!(!StoreSet::only(200).has_other_than(200));
        assert!(!StoreSet::only(64).has_other_than(64));
        assert!(StoreSet::only(64).has_other_than(0));
        assert!(!needed.is_subset(&held));
        for n in [0, 63, 64] {
            held.insert(n);
        }
        assert!(!needed.is_subset(&held), "65 is missing");
        held.insert(65);
        assert!(needed.is_subset(&held));
        assert!(StoreSet::only(3).is_subset(&held) == held.contains(3));
        assert!(StoreSet::default().is_subset(&StoreSet::default()));
    }
}
