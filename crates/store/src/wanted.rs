//! The keys a receipt looks up in the store's ring of recent links
//! ([`StoreHandle::links`](crate::StoreHandle::links),
//! [`chain_range`](crate::StoreHandle::chain_range)), as a table of their positions.
//!
//! Every acknowledged request looks its batch's keys up (1000 with the default node
//! batch), and the walk back through the ring probes the table once per record it
//! passes. Before, the keys went into a `HashMap` whose values were the found links and
//! places (~90-byte entries, ~180 kB allocated per request for 1000 keys, and an `Arc`
//! increment per found place that a receipt never reads), then `links` looked every
//! key up again: `chain_range` was 3.2 % of the server's CPU (docs/benchmarks.md,
//! issue 17, stop 57; about 2 % less CPU per event without). Here the table holds
//! positions (~18 kB for 1000 keys) and a caller keeps what it needs of each found
//! record in a `Vec` by position.
//!
//! Ids and content are chosen by clients: the table is hashed with a key chosen at
//! random ([`foldhash::quality::RandomState`]), as the map was.

use std::hash::BuildHasher;

use hashbrown::HashTable;

use crate::identity::ReceiptKey;

/// Distinct keys, each by the position of its first occurrence in the caller's slice.
pub(crate) struct Wanted<'k> {
    keys: &'k [ReceiptKey],
    /// Positions in `keys` of the distinct keys.
    table: HashTable<usize>,
    hasher: foldhash::quality::RandomState,
    /// For each position in `keys`, the position of the first occurrence of its key.
    first: Vec<usize>,
}

impl<'k> Wanted<'k> {
    /// The distinct keys of `keys`.
    pub(crate) fn new(keys: &'k [ReceiptKey]) -> Wanted<'k> {
        let hasher = foldhash::quality::RandomState::default();
        let mut table = HashTable::with_capacity(keys.len());
        let mut first = Vec::with_capacity(keys.len());
        for (i, key) in keys.iter().enumerate() {
            let at = *table
                .entry(
                    hash(&hasher, key),
                    |&j: &usize| keys[j] == *key,
                    |&j: &usize| hash(&hasher, &keys[j]),
                )
                .or_insert(i)
                .get();
            first.push(at);
        }
        Wanted {
            keys,
            table,
            hasher,
            first,
        }
    }

    /// How many distinct keys there are.
    pub(crate) fn distinct(&self) -> usize {
        self.table.len()
    }

    /// The position of `key`'s first occurrence, if it is one of the keys.
    pub(crate) fn position(&self, key: &ReceiptKey) -> Option<usize> {
        self.table
            .find(hash(&self.hasher, key), |&j| self.keys[j] == *key)
            .copied()
    }

    /// How many keys there are (repeated ones each counted).
    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Each position of the keys with the position of its key's first occurrence.
    pub(crate) fn firsts(&self) -> impl Iterator<Item = usize> + '_ {
        self.first.iter().copied()
    }
}

/// `key`'s hash in the table: its id as one 128-bit number and its tag. The derived
/// `Hash` of a key hashes the id as a slice (its length, then 16 bytes through the
/// hasher's byte path); a number is one multiply in `foldhash`. The table hashes every
/// key once and probes once per record the walk passes (about 3.5 hashes per
/// acknowledged event; docs/benchmarks.md, issue 17, stop 62). Still keyed at random.
fn hash(hasher: &foldhash::quality::RandomState, key: &ReceiptKey) -> u64 {
    hasher.hash_one((key.id.as_uuid().as_u128(), key.tag))
}

#[cfg(test)]
mod tests {
    use super::*;
    use auditrail_core::EventId;

    fn key(n: u128, tag: u64) -> ReceiptKey {
        ReceiptKey {
            id: EventId::from(uuid::Uuid::from_u128(n)),
            tag,
        }
    }

    #[test]
    fn repeated_keys_point_to_their_first_occurrence() {
        let keys = [key(1, 1), key(2, 1), key(1, 1), key(1, 2), key(2, 1)];
        let w = Wanted::new(&keys);
        assert_eq!(w.distinct(), 3);
        assert_eq!(w.firsts().collect::<Vec<_>>(), [0, 1, 0, 3, 1]);
        assert_eq!(w.position(&key(1, 2)), Some(3));
        assert_eq!(w.position(&key(2, 1)), Some(1));
        // Same id, other content: another key.
        assert_eq!(w.position(&key(2, 2)), None);
        assert_eq!(w.len(), 5);
    }
}
