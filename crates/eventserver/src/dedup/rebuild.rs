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
//! [`Newest`] keeps, per store, the `window` events stored last by the store's own order
//! (the record's `chainSeq`: the order the records were written), whatever file holds
//! them. Not by the record's `serverTimestamp`: that is the server's wall clock, and
//! after a period with the clock ahead (a bad clock at boot, then corrected) the records
//! written then carry later times than everything written since; chosen by time, they
//! filled the window and the newest were left out, so a retry of a batch acknowledged
//! just before a restart was stored twice. Several stores have no common order: their
//! kept events are merged by how many records each store wrote after them (the newest
//! of every store first), so each store's last events are in the window whatever the
//! clocks said ([`merge_oldest_first`]).
//!
//! The node table is filled by the same order (least recently stored first, so that a
//! bounded table forgets the nodes stored least recently, as live): a node's place is
//! its record latest in its store's order, and across stores the fewest records that
//! store wrote after it. Its `lastSeen` is that record's `serverTimestamp`: the time of
//! its last arrival, not the largest time (which stays in the future after the clock is
//! corrected).
//!
//! And a record in one store does not make its event stored when the server has other
//! destinations. A `200` means every destination whose filter takes the event took it;
//! a server killed while one destination had a batch and another was still retrying it
//! (a full disk, a forward target down) left the batch in the first only, and the
//! client's retry after the restart was answered as duplicates: the other destination
//! never got it. So [`Holders`] says, from the destinations' filters, which stores must
//! all hold an event for the rebuild to take it as stored. A destination that is not a
//! store (a `file`, a forward, Kafka: the server cannot read back what they hold) is
//! not counted: the stores that take the event decide. Its retry after the restart is
//! a duplicate in those stores (one record each) and is sent again to the destinations
//! that are not stores (`http/sent_again.rs`, as within one run), so one that never got
//! it gets it. Counting them, as before, made every event such a destination takes
//! stored a second time by its retry after each restart.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use auditrail_core::{EventId, Filter, SeqRange, Timestamp};
use roaring::RoaringTreemap;

use super::store_set::StoreSet;

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

    /// The stores with a `required_key`: each one's number (as [`Newest::offer`]'s
    /// `held_by`) and its route (its place among the destinations), so that the window
    /// notes which of them hold each event it remembers ([`super::window::RecentIds::mark`]).
    pub(crate) fn keyed_stores(&self) -> Vec<(u32, usize)> {
        self.destinations
            .iter()
            .enumerate()
            .filter(|(_, (filter, _))| filter.required_key.is_some())
            .filter_map(|(route, (_, store))| Some(((*store)?, route)))
            .collect()
    }

    /// Every store's number (as [`Newest::offer`]'s `held_by`) and its route, so that
    /// an event some of its stores lack is noted with the routes of those that hold it
    /// (`partly_stored.rs`).
    pub(crate) fn store_routes(&self) -> Vec<(u32, usize)> {
        self.destinations
            .iter()
            .enumerate()
            .filter_map(|(route, (_, store))| Some(((*store)?, route)))
            .collect()
    }

    /// How many stores a rebuild reads.
    pub(super) fn stores(&self) -> usize {
        self.destinations
            .iter()
            .filter(|(_, s)| s.is_some())
            .count()
    }

    /// The stores that must all hold an event with these fields (any number of them,
    /// `store_set.rs`). A destination that is not a store adds nothing: what it holds
    /// cannot be read back, and the retry of an event taken as stored is sent to it
    /// again (`http/sent_again.rs`), while the stores keep their one record.
    pub(super) fn needed(
        &self,
        topic: &str,
        routing_key: Option<&str>,
        key_id: Option<&str>,
    ) -> StoreSet {
        let mut needed = StoreSet::default();
        for (filter, store) in &self.destinations {
            let Some(store) = store else { continue };
            if !filter.accepts_stored(topic, routing_key, key_id) {
                continue;
            }
            needed.insert(*store);
        }
        needed
    }
}

/// The `capacity` events one store wrote last among those offered (by their place in
/// the store: `chainSeq`, or the order read for a store without chain), whatever order
/// they are offered in. Candidates are appended to a list; when it holds half as many
/// again as the bound, the newest `capacity` are selected (`select_nth_unstable`,
/// linear) and the oldest of them becomes the floor below which later offers are refused
/// at once. Linear in the records read, in sequential memory (a binary heap of a million
/// entries costs a cache-missing sift per record, and records mostly come newer than
/// everything kept), and bounded: at most 1.5 × `capacity` entries of 48 bytes.
#[derive(Debug)]
pub(super) struct Newest {
    capacity: usize,
    kept: Vec<Candidate>,
    floor: Option<u64>,
    /// The last place in the store seen (kept or not).
    last: u64,
}

/// A record offered to the window: its place in its store, its event's key, the store it
/// was read from (its number) and the stores that must all hold it ([`Holders::needed`]).
type Candidate = (u64, EventId, u64, u32, StoreSet);

impl Newest {
    pub(super) fn new(capacity: usize) -> Newest {
        Newest {
            capacity,
            kept: Vec::new(),
            floor: None,
            last: 0,
        }
    }

    /// Offers the event `id` with `fingerprint`, at `place` in the store numbered
    /// `held_by`; it counts as stored once every store of `needed` holds it.
    pub(super) fn offer(
        &mut self,
        place: u64,
        id: EventId,
        fingerprint: u64,
        held_by: u32,
        needed: StoreSet,
    ) {
        self.last = self.last.max(place);
        if self.capacity == 0 || self.floor.is_some_and(|f| place < f) {
            return;
        }
        self.kept.push((place, id, fingerprint, held_by, needed));
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
}

/// The events the stores' [`Newest`] kept that every store they need holds (among the
/// records kept), oldest first: ordered by how many records their store wrote after them
/// (most first), so that a window smaller than all of them keeps the last ones of every
/// store. Stores have no common order but the wall clock, which is what must not decide
/// (see the module docs).
/// Each with the number of the store it was read from (an event several stores hold
/// comes once per store), and whether every store it needs holds it: one that some
/// of them lack comes too, with `false` (its retry is written to those alone,
/// `partly_stored.rs`).
pub(super) fn merge_oldest_first(
    stores: Vec<Newest>,
) -> impl Iterator<Item = (EventId, u64, u32, bool)> {
    // In place: each entry's place becomes how many records its store wrote after it,
    // and the stores' lists are appended to one (no second list of them all).
    let mut kept: Vec<Candidate> = Vec::new();
    for mut newest in stores {
        newest.keep_newest();
        let last = newest.last;
        for c in &mut newest.kept {
            c.0 = last.saturating_sub(c.0);
        }
        if kept.is_empty() {
            kept = newest.kept;
        } else {
            kept.append(&mut newest.kept);
        }
    }
    // Most records written after first; then by store (its number), as read.
    kept.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.3.cmp(&b.3)).then(a.cmp(b)));
    // Only events some other store must hold too are looked up across records (a
    // server with one store, the default, builds no map).
    let mut held: HashMap<(EventId, u64), StoreSet> = HashMap::new();
    if kept
        .iter()
        .any(|(_, _, _, by, needed)| needed.has_other_than(*by))
    {
        held.reserve(kept.len());
        for (_, id, fp, by, _) in &kept {
            held.entry((*id, *fp)).or_default().insert(*by);
        }
    }
    kept.into_iter().map(move |(_, id, fp, by, needed)| {
        let everywhere =
            !needed.has_other_than(by) || held.get(&(id, fp)).is_some_and(|h| needed.is_subset(h));
        (id, fp, by, everywhere)
    })
}

/// What a scan read of one node so far.
#[derive(Debug, Default)]
pub(super) struct NodeScan {
    pub(super) seqs: RoaringTreemap,
    /// Records read (a store may hold an event twice: each is counted, as before).
    pub(super) count: u64,
    /// The `serverTimestamp` of the node's record latest in store order (set by
    /// [`Scan::into_nodes`]).
    pub(super) last_seen: Option<Timestamp>,
    /// Per store the node is in: the store, the place of its latest record there, and
    /// that record's `serverTimestamp`.
    latest: Vec<(u32, u64, Timestamp)>,
    /// Ranges announced as abandoned, (first, last): every one, also several with the
    /// same `first` (see `Node::announced`).
    pub(super) announced: BTreeSet<(u64, u64)>,
}

/// Every node a scan read so far.
#[derive(Debug, Default)]
pub(super) struct Scan {
    nodes: HashMap<Arc<str>, NodeScan>,
    /// Per store: the last place read.
    ends: Vec<u64>,
}

impl Scan {
    /// Adds one stored record of `node`, at `place` in `store`, stored at `seen`.
    pub(super) fn add(
        &mut self,
        node: &str,
        key: impl FnOnce() -> Arc<str>,
        seq: u64,
        (store, place): (u32, u64),
        seen: Timestamp,
        abandoned: Option<SeqRange>,
    ) {
        let i = store as usize;
        if self.ends.len() <= i {
            self.ends.resize(i + 1, 0);
        }
        if let Some(end) = self.ends.get_mut(i) {
            *end = (*end).max(place);
        }
        let n = match self.nodes.get_mut(node) {
            Some(n) => n,
            None => self.nodes.entry(key()).or_default(),
        };
        n.seqs.insert(seq);
        n.count += 1;
        match n.latest.iter_mut().find(|l| l.0 == store) {
            Some(l) if place >= l.1 => *l = (store, place, seen),
            Some(_) => {}
            None => n.latest.push((store, place, seen)),
        }
        if let Some(r) = abandoned {
            n.announced.insert((r.first, r.last));
        }
    }

    /// Nodes read so far.
    pub(super) fn nodes(&self) -> usize {
        self.nodes.len()
    }

    /// The nodes read, least recently stored first (so that the node table, filled in
    /// this order, forgets the least recently stored ones first, as live), by store
    /// order, not by time (see the module docs): a node's latest record is the one its
    /// store wrote the fewest records after; its `serverTimestamp` is the `last_seen`.
    pub(super) fn into_nodes(self) -> Vec<(Arc<str>, NodeScan)> {
        let ends = self.ends;
        let mut nodes: Vec<(u64, u32, Arc<str>, NodeScan)> = self
            .nodes
            .into_iter()
            .map(|(id, mut n)| {
                let after = |&(store, place, _): &(u32, u64, Timestamp)| {
                    let end = ends.get(store as usize).copied().unwrap_or(place);
                    (end.saturating_sub(place), store)
                };
                let latest = n.latest.iter().min_by_key(|l| after(l)).copied();
                n.last_seen = latest.map(|l| l.2);
                let (after, store) = latest.as_ref().map_or((u64::MAX, 0), after);
                (after, store, id, n)
            })
            .collect();
        nodes.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)));
        nodes.into_iter().map(|(_, _, id, n)| (id, n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever the order of the offers, the newest `capacity` come out, oldest first.
        #[test]
        fn newest_keeps_the_capacity_stored_last(
            order in Just((0u64..300).collect::<Vec<_>>()).prop_shuffle(),
            capacity in 0usize..40,
        ) {
            let mut newest = Newest::new(capacity);
            for &n in &order {
                newest.offer(n, EventId::from(uuid::Uuid::from_u128(n.into())), n, 0, StoreSet::only(0));
            }
            let kept: Vec<u64> = merge_oldest_first(vec![newest]).map(|(_, fp, _, _)| fp).collect();
            let want: Vec<u64> = (300 - (capacity as u64).min(300)..300).collect();
            prop_assert_eq!(kept, want);
        }
    }
}
