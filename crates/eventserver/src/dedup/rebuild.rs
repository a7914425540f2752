//! The per-node seq accounting read back from the stores at start (and when a Kafka
//! partition's store is taken over), in seq order whatever order the files are read in.
//!
//! The stores are read one partition file after another: a node whose events alternate
//! between topics (every real node: `generic`, `authfail`, usage...) or routing keys is
//! read as every other seq of one file, then the seqs in between from the next file.
//! Fed in that order to the live accounting, the node would look as if it had one gap
//! between every two events; past `max_ranges_per_node` the oldest "gaps" are given up
//! (`forgotten_gaps`), and real gaps among them vanish: after a restart a real loss was
//! no longer reported, and gaps that never existed were counted as forgotten. So the
//! scan first collects each node's stored seqs in a compressed bitmap (`roaring`: about
//! one bit per seq of a dense run, whatever the order), and only then hands them to the
//! accounting in ascending order, where only the real gaps remain.
//!
//! The same file order cannot fill the window of recent events either: segments are
//! read by their first record, and the segment of a quiet topic, begun early, holds
//! events stored long after the first events of the busy topic's later segments. Pushed
//! as read, the window ended with older events and forgot the newest (the very ones a
//! node retries after a server's restart, which were then stored a second time). So
//! [`Newest`] keeps the `window` events received last over every store read (by the
//! record's `serverTimestamp`, then the store, then its place in the store's chain) and
//! hands them to the window oldest first, as they were stored.
//!
//! And a record in one store does not make its event stored when the server has other
//! destinations. A `200` means every destination whose filter takes the event took it;
//! a server killed while one destination had a batch and another was still retrying it
//! (a full disk, a forward target down) left the batch in the first only, and the
//! client's retry after the restart was answered as duplicates: the other destination
//! never got it. So [`Holders`] says, from the destinations' filters, which stores must
//! all hold an event for the rebuild to take it as stored; an event a destination that
//! is not a store takes (a forward, Kafka: the server cannot read back what they hold)
//! is never taken as stored by a rebuild. Its retry is stored again in the stores that
//! had it (a duplicate stored, never a loss, as docs/eventserver.md says of several
//! destinations) and delivered to the others.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use auditrail_core::{EventId, Filter, SeqRange, Timestamp};
use roaring::RoaringTreemap;

/// Which stores must hold an event for a rebuild to take it as stored: per destination
/// of the server, its filter and its store's number (in the order the stores are read),
/// `None` for a destination that is not a store.
#[derive(Debug, Clone)]
pub(crate) struct Holders {
    destinations: Vec<(Filter, Option<u32>)>,
}

impl Holders {
    /// One store, the only destination: every record read is its event stored (a Kafka
    /// source's partition store, the tests' single stores).
    #[cfg(any(test, feature = "kafka"))]
    pub(crate) fn one_store() -> Holders {
        Holders {
            destinations: vec![(Filter::all(), Some(0))],
        }
    }

    /// The server's destinations, in order: each one's filter, and its store's number
    /// among the stores read (`None`: not a store).
    pub(crate) fn new(destinations: Vec<(Filter, Option<u32>)>) -> Holders {
        Holders { destinations }
    }

    /// How many stores a rebuild reads.
    pub(super) fn stores(&self) -> usize {
        self.destinations
            .iter()
            .filter(|(_, s)| s.is_some())
            .count()
    }

    /// The stores (one bit each) that must all hold an event with these fields, `None`
    /// when a destination that is not a store takes it (or a store numbered past 63:
    /// never taken as stored, the safe side).
    pub(super) fn needed(
        &self,
        topic: &str,
        routing_key: Option<&str>,
        key_id: Option<&str>,
    ) -> Option<u64> {
        let mut needed = 0u64;
        for (filter, store) in &self.destinations {
            if !filter.accepts_stored(topic, routing_key, key_id) {
                continue;
            }
            needed |= 1u64.checked_shl((*store)?)?;
        }
        Some(needed)
    }
}

/// Where a record stands in the order events were stored: its receive time, then the
/// store it is in (in the order the stores were read), then its place in that store
/// (its `chainSeq`, or the order it was read in for a store without chain).
pub(super) type StoredAt = (Timestamp, u32, u64);

/// The `capacity` events stored last among those offered, whatever order they are
/// offered in. Candidates are appended to a list; when it holds half as many again as
/// the bound, the newest `capacity` are selected (`select_nth_unstable`, linear) and
/// the oldest of them becomes the floor below which later offers are refused at once.
/// Linear in the records read, in sequential memory (a binary heap of a million
/// entries costs a cache-missing sift per record, and records mostly come newer than
/// everything kept), and bounded: at most 1.5 × `capacity` entries of 48 bytes.
#[derive(Debug)]
pub(super) struct Newest {
    capacity: usize,
    kept: Vec<Candidate>,
    floor: Option<StoredAt>,
}

/// A record offered to the window: where it stands, its event's key, the store it was
/// read from (one bit) and the stores that must all hold it ([`Holders::needed`]).
type Candidate = (StoredAt, EventId, u64, u64, u64);

impl Newest {
    pub(super) fn new(capacity: usize) -> Newest {
        Newest {
            capacity,
            kept: Vec::new(),
            floor: None,
        }
    }

    /// Offers the event `id` with `fingerprint`, stored at `at` in the store of bit
    /// `held_by`; it counts as stored once every store of `needed` holds it.
    pub(super) fn offer(
        &mut self,
        at: StoredAt,
        id: EventId,
        fingerprint: u64,
        held_by: u64,
        needed: u64,
    ) {
        if self.capacity == 0 || self.floor.is_some_and(|f| at < f) {
            return;
        }
        self.kept.push((at, id, fingerprint, held_by, needed));
        if self.kept.len() >= self.capacity.saturating_add(self.capacity / 2).max(2) {
            self.keep_newest();
        }
    }

    /// Keeps the newest `capacity` entries; the oldest of them is the new floor.
    fn keep_newest(&mut self) {
        let Some(cut) = self.kept.len().checked_sub(self.capacity) else {
            return;
        };
        if cut > 0 {
            self.kept.select_nth_unstable(cut);
            self.kept.drain(..cut);
        }
        self.floor = self.kept.iter().map(|e| e.0).min();
    }

    /// The events kept that every store they need holds (among the records kept), oldest
    /// first (by their newest record).
    pub(super) fn into_oldest_first(mut self) -> impl Iterator<Item = (EventId, u64)> {
        self.keep_newest();
        self.kept.sort_unstable();
        // Only events some other store must hold too are looked up across records (a
        // server with one store, the default, builds no map).
        let mut held: HashMap<(EventId, u64), u64> = HashMap::new();
        if self
            .kept
            .iter()
            .any(|&(_, _, _, by, needed)| needed & !by != 0)
        {
            held.reserve(self.kept.len());
            for &(_, id, fp, by, _) in &self.kept {
                *held.entry((id, fp)).or_default() |= by;
            }
        }
        self.kept
            .into_iter()
            .filter(move |&(_, id, fp, by, needed)| {
                needed & !by == 0 || held.get(&(id, fp)).is_some_and(|&h| h & needed == needed)
            })
            .map(|(_, id, fp, _, _)| (id, fp))
    }
}

/// What a scan read of one node so far.
#[derive(Debug, Default)]
pub(super) struct NodeScan {
    pub(super) seqs: RoaringTreemap,
    /// Records read (a store may hold an event twice: each is counted, as before).
    pub(super) count: u64,
    pub(super) last_seen: Option<Timestamp>,
    /// The position in the scan of this node's last record: ties of `last_seen`
    /// (milliseconds) keep the order the records were stored in.
    pub(super) last_at: u64,
    /// Ranges announced as abandoned: first -> last.
    pub(super) announced: BTreeMap<u64, u64>,
}

/// Every node a scan read so far.
#[derive(Debug, Default)]
pub(super) struct Scan {
    nodes: HashMap<Arc<str>, NodeScan>,
    records: u64,
}

impl Scan {
    /// Adds one stored record of `node`.
    pub(super) fn add(
        &mut self,
        node: &str,
        key: impl FnOnce() -> Arc<str>,
        seq: u64,
        seen: Timestamp,
        abandoned: Option<SeqRange>,
    ) {
        self.records += 1;
        let n = match self.nodes.get_mut(node) {
            Some(n) => n,
            None => self.nodes.entry(key()).or_default(),
        };
        n.seqs.insert(seq);
        n.count += 1;
        n.last_at = self.records;
        if n.last_seen.is_none_or(|t| seen > t) {
            n.last_seen = Some(seen);
        }
        if let Some(r) = abandoned {
            n.announced.insert(r.first, r.last);
        }
    }

    /// Nodes read so far.
    pub(super) fn nodes(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes read, least recently stored first (so that the node table, filled in
    /// this order, forgets the least recently stored ones first, as live).
    pub(super) fn into_nodes(self) -> Vec<(Arc<str>, NodeScan)> {
        let mut nodes: Vec<(Arc<str>, NodeScan)> = self.nodes.into_iter().collect();
        nodes.sort_by_key(|(_, n)| (n.last_seen, n.last_at));
        nodes
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn at(n: u64) -> StoredAt {
        (
            Timestamp::from_unix_millis(0).unwrap_or_else(|| unreachable!()),
            0,
            n,
        )
    }

    proptest! {
        /// Whatever the order of the offers, the newest `capacity` come out, oldest first.
        #[test]
        fn newest_keeps_the_capacity_stored_last(
            order in Just((0u64..300).collect::<Vec<_>>()).prop_shuffle(),
            capacity in 0usize..40,
        ) {
            let mut newest = Newest::new(capacity);
            for &n in &order {
                newest.offer(at(n), EventId::from(uuid::Uuid::from_u128(n.into())), n, 1, 1);
            }
            let kept: Vec<u64> = newest.into_oldest_first().map(|(_, fp)| fp).collect();
            let want: Vec<u64> = (300 - (capacity as u64).min(300)..300).collect();
            prop_assert_eq!(kept, want);
        }
    }
}
