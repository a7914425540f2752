//! The chain ranges the checkpoint log records as deleted (retention, `store prune`),
//! kept by the writer so that a prune does not count a record's node number as deleted
//! twice.
//!
//! A prune lists the node numbers it deletes in `.deleted-seqs.jsonl` (with how many
//! records, per node) after its signed line and before it removes the files. Killed in
//! between, it leaves files whose records the line records as deleted and whose numbers
//! are listed and counted; the next prune takes those files again. Counting them again
//! made the server's `count` of a node's events stored too high for good (11 events
//! stored, `count` 21). So the next prune leaves out of what it lists the records in a
//! recorded range whose number is listed already (their ranges are still signed again:
//! the line says what it removes). One killed between its line and its list left
//! records in a recorded range whose numbers are not listed: those are listed then.

use std::collections::BTreeMap;

use crate::deleted_seqs::NodeDeleted;
use crate::prune::DeletedRange;

/// Sorted, disjoint, non-adjacent inclusive chain ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct RecordedDeletions(Vec<(u64, u64)>);

impl RecordedDeletions {
    /// The ranges `ranges` (any order, overlapping or not) as one set.
    pub(crate) fn new(ranges: Vec<(u64, u64)>) -> RecordedDeletions {
        let mut set = RecordedDeletions(ranges);
        set.tidy();
        set
    }

    /// Adds the ranges a prune just recorded.
    pub(crate) fn add(&mut self, ranges: &[DeletedRange]) {
        self.0.extend(ranges.iter().map(|r| (r.first, r.last)));
        self.tidy();
    }

    /// Whether chain number `seq` is in a recorded range.
    pub(crate) fn contains(&self, seq: u64) -> bool {
        let i = self.0.partition_point(|&(_, last)| last < seq);
        self.0.get(i).is_some_and(|&(first, _)| first <= seq)
    }

    /// Whether any of `first..=last` is in a recorded range.
    pub(crate) fn overlaps(&self, first: u64, last: u64) -> bool {
        let i = self.0.partition_point(|&(_, end)| end < first);
        self.0.get(i).is_some_and(|&(start, _)| start <= last)
    }

    fn tidy(&mut self) {
        self.0.sort_unstable();
        let mut out: Vec<(u64, u64)> = Vec::with_capacity(self.0.len());
        for (first, last) in self.0.drain(..) {
            match out.last_mut() {
                Some(prev) if first <= prev.1.saturating_add(1) => prev.1 = prev.1.max(last),
                _ => out.push((first, last)),
            }
        }
        self.0 = out;
    }
}

/// The records a prune already listed in `.deleted-seqs.jsonl` (and counted there) that
/// may still be in the store's files: in a range a signed line records as deleted, with
/// their node's number listed (a prune killed before it removed them). The server's
/// start counts them as deleted, not a second time as stored
/// ([`crate::StoreHandle::already_deleted`]).
#[derive(Debug, Clone, Default)]
pub struct AlreadyDeleted {
    ranges: RecordedDeletions,
    nodes: BTreeMap<String, NodeDeleted>,
}

impl AlreadyDeleted {
    pub(crate) fn new(ranges: RecordedDeletions, nodes: BTreeMap<String, NodeDeleted>) -> Self {
        AlreadyDeleted { ranges, nodes }
    }

    /// Whether the record `chain_seq`, `node`'s number `seq`, is one of them.
    pub fn has(&self, chain_seq: u64, node: &str, seq: u64) -> bool {
        self.ranges.contains(chain_seq)
            && self.nodes.get(node).is_some_and(|n| {
                let i = n.seqs.partition_point(|&(_, last)| last < seq);
                n.seqs.get(i).is_some_and(|&(first, _)| first <= seq)
            })
    }

    /// Whether there is none (no deletion recorded).
    pub(crate) fn is_empty(&self) -> bool {
        self.ranges.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_joined_and_looked_up() {
        let set = RecordedDeletions::new(vec![(10, 12), (1, 3), (4, 5), (20, 20)]);
        assert_eq!(set.0, vec![(1, 5), (10, 12), (20, 20)]);
        assert!(set.contains(1) && set.contains(5) && set.contains(11) && set.contains(20));
        assert!(!set.contains(0) && !set.contains(6) && !set.contains(13) && !set.contains(21));
        assert!(set.overlaps(6, 10) && set.overlaps(13, 25) && set.overlaps(0, 1));
        assert!(!set.overlaps(6, 9) && !set.overlaps(13, 19) && !set.overlaps(21, 99));
    }
}
