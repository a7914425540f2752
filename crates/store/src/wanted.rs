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
    /// A bit per value of a tag's low [`TAG_BITS`] bits, set for the keys' tags: a
    /// record whose bit is clear is none of the keys, told in one load instead of a
    /// hash and a probe of `table`.
    tags: Box<[u64; TAG_WORDS]>,
}

/// How many low bits of a tag pick its bit in [`Wanted::tags`].
///
/// The walk back through the ring passes the records of other requests stored since
/// (about 1.5 to 2 for each wanted one with 8 connections), and each cost a keyed hash
/// and a probe (about 60 instructions) to find it is not wanted (docs/benchmarks.md,
/// issue 17, stop 62). Tags are keyed hashes (`foldhash::quality` under a random key),
/// so their low bits are spread evenly: with 1000 keys in 4096 bits about four in five
/// other records are told apart by the bit alone. A set bit only sends the record on
/// to the table, which decides: the filter never finds a key that is not there, nor
/// misses one that is.
const TAG_BITS: u32 = 12;
const TAG_WORDS: usize = (1 << TAG_BITS) / 64;

impl<'k> Wanted<'k> {
    /// The distinct keys of `keys`.
    pub(crate) fn new(keys: &'k [ReceiptKey]) -> Wanted<'k> {
        let hasher = foldhash::quality::RandomState::default();
        let mut table = HashTable::with_capacity(keys.len());
        let mut first = Vec::with_capacity(keys.len());
        let mut tags = Box::new([0u64; TAG_WORDS]);
        for (i, key) in keys.iter().enumerate() {
            let (word, bit) = tag_bit(key.tag);
            tags[word] |= bit;
            let hash = hasher.hash_one(key);
            let at = *table
                .entry(
                    hash,
                    |&j: &usize| keys[j] == *key,
                    |&j: &usize| hasher.hash_one(keys[j]),
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
            tags,
        }
    }

    /// How many distinct keys there are.
    pub(crate) fn distinct(&self) -> usize {
        self.table.len()
    }

    /// The position of `key`'s first occurrence, if it is one of the keys. Inlined
    /// into the walk that calls it once per record passed: most calls end at the tag
    /// filter, a few instructions against a call's own.
    #[inline]
    pub(crate) fn position(&self, key: &ReceiptKey) -> Option<usize> {
        let (word, bit) = tag_bit(key.tag);
        if self.tags[word] & bit == 0 {
            return None;
        }
        self.table
            .find(self.hasher.hash_one(key), |&j| self.keys[j] == *key)
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

/// The word and bit of [`Wanted::tags`] for `tag`.
fn tag_bit(tag: u64) -> (usize, u64) {
    let low = (tag & ((1 << TAG_BITS) - 1)) as usize;
    (low / 64, 1 << (low % 64))
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

    /// Keys whose tags share their low bits with others (the filter's bit set by
    /// another key) and keys whose bit is clear: each is found exactly when it is one
    /// of the keys, at its first occurrence.
    #[test]
    fn the_tag_filter_neither_finds_an_absent_key_nor_misses_a_present_one() {
        let low = 1u64 << TAG_BITS;
        let keys: Vec<ReceiptKey> = (0..3000u64)
            .map(|n| key(u128::from(n % 1500), (n % 7) * low + n % 900))
            .collect();
        let w = Wanted::new(&keys);
        for (i, k) in keys.iter().enumerate() {
            let first = keys.iter().position(|x| x == k).unwrap();
            assert_eq!(w.position(k), Some(first), "key {i}");
        }
        for n in 0..2000u64 {
            // Same bit as a wanted key (another high part or id), or a clear bit.
            for probe in [
                key(u128::from(n % 1500), 11 * low + n % 900),
                key(u128::from(n) + 10_000, (n % 7) * low + n % 900),
                key(u128::from(n % 1500), (n % 7) * low + 900 + n % 100),
            ] {
                let there = keys.iter().position(|x| *x == probe);
                assert_eq!(w.position(&probe), there, "{probe:?}");
            }
        }
    }
}
