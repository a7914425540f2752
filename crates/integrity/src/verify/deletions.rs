//! Deletions recorded in the checkpoint log (retention, `auditrail store prune`): which
//! chain numbers are explained as deleted, and the chain hash recorded at the end of
//! each deleted run, from which the walk checks the chain on.

use std::collections::BTreeMap;

use super::checkpoints::LoggedCheckpoint;

/// The deletions of one store's log.
#[derive(Debug, Default)]
pub(crate) struct Deletions {
    /// Deleted chain numbers, as sorted, merged, inclusive ranges.
    covered: Vec<(u64, u64)>,
    /// The recorded chain hash at the end of each deleted run, with the index (in the
    /// log's parsed lines) of the line that recorded it.
    ends: BTreeMap<u64, ([u8; 32], usize)>,
    /// Lines that record a deletion.
    pub(crate) lines: u64,
}

impl Deletions {
    pub(crate) fn from_log(logged: &[LoggedCheckpoint]) -> Deletions {
        let mut d = Deletions::default();
        let mut ranges = Vec::new();
        for (i, l) in logged.iter().enumerate() {
            let Some(del) = &l.cp.deleted else { continue };
            d.lines += 1;
            for (first, last, hash) in del.ranges() {
                if first == 0 || first > last {
                    continue;
                }
                ranges.push((first, last));
                if let Some(h) = hash {
                    d.ends.insert(last, (h, i));
                }
            }
        }
        ranges.sort_unstable();
        for (a, b) in ranges {
            match d.covered.last_mut() {
                Some(m) if a <= m.1.saturating_add(1) => m.1 = m.1.max(b),
                _ => d.covered.push((a, b)),
            }
        }
        d
    }

    /// For an archive (`verify --archive`): every chain number may be absent (the
    /// archive holds only what prunes copied to it; the rest is in the store or was
    /// deleted without a copy), and the recorded run ends are kept, so the walk still
    /// checks the chain on from them and compares them with the records present.
    /// What the archive must hold is checked against the deletion lines' objects.
    pub(crate) fn all_absent(mut self) -> Deletions {
        self.covered = vec![(1, u64::MAX)];
        self
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.covered.is_empty()
    }

    /// Whether `seq` is recorded as deleted.
    pub(crate) fn contains(&self, seq: u64) -> bool {
        let i = self.covered.partition_point(|r| r.1 < seq);
        self.covered.get(i).is_some_and(|r| r.0 <= seq)
    }

    /// The parts of `first..=last` that no deletion explains.
    pub(crate) fn uncovered(&self, first: u64, last: u64) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut at = first;
        let start = self.covered.partition_point(|r| r.1 < first);
        for &(a, b) in &self.covered[start..] {
            if a > last || at > last {
                break;
            }
            if a > at {
                out.push((at, a - 1));
            }
            at = at.max(b.saturating_add(1));
        }
        if at <= last {
            out.push((at, last));
        }
        out
    }

    /// The chain hash recorded for the end of a deleted run at `seq`, and the index of
    /// the line that recorded it.
    pub(crate) fn hash_at(&self, seq: u64) -> Option<([u8; 32], usize)> {
        self.ends.get(&seq).copied()
    }

    /// Every recorded run end, for the walk to compare with a record still present.
    pub(crate) fn ends(&self) -> impl Iterator<Item = (u64, [u8; 32], usize)> + '_ {
        self.ends.iter().map(|(s, (h, i))| (*s, *h, *i))
    }

    /// Chain numbers recorded as deleted.
    pub(crate) fn records(&self) -> u64 {
        self.covered.iter().map(|(a, b)| b - a + 1).sum()
    }
}
