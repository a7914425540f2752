//! The Merkle tree heads of the checkpoint log, recomputed during the chain walk: the
//! records' leaves in chain order, and for a deleted run the subtrees its deletion line
//! keeps (see [`auditrail_store::merkle`]).

use std::collections::BTreeMap;

use auditrail_store::chain::ChainLink;
use auditrail_store::merkle::{leaf_hash, CompactRange, Hash};

use super::checkpoints::LoggedCheckpoint;
use super::report::{Problem, ProblemKind, StoreReport};
use super::CHECKPOINT_LOG;

/// Follows the tree along the walk and compares each signed head when it gets there.
#[derive(Debug)]
pub(crate) struct TreeCheck {
    /// The frontier so far; `None` once it is unknown (a gap no deletion line explains
    /// with its subtrees, e.g. records missing, or deleted before the tree existed).
    tree: Option<CompactRange>,
    /// Signed heads by tree size: (head, line number in the log, checkpoint number).
    heads: BTreeMap<u64, Vec<(Hash, u64, u64)>>,
    /// Deleted runs with their recorded subtrees, by first chainSeq.
    deleted: BTreeMap<u64, (u64, Option<CompactRange>)>,
    pub(crate) checked: u64,
}

impl TreeCheck {
    /// The heads to check, from the parsed log; problems with a line's own tree fields
    /// (a frontier that does not fold to its head, a size that is not its chainSeq) go
    /// to `report` at once.
    pub(crate) fn new(logged: &[LoggedCheckpoint], report: &mut StoreReport) -> TreeCheck {
        let mut heads: BTreeMap<u64, Vec<(Hash, u64, u64)>> = BTreeMap::new();
        let mut deleted = BTreeMap::new();
        for l in logged {
            if let Some(t) = &l.cp.tree {
                let bad = |msg: String| {
                    Problem::error(ProblemKind::TreeHeadMismatch, msg)
                        .at(CHECKPOINT_LOG, l.line)
                        .seqs(
                            t.size.min(l.cp.link.seq).max(1),
                            t.size.max(l.cp.link.seq).max(1),
                        )
                };
                if t.size != l.cp.link.seq {
                    report.push(bad(format!(
                        "checkpoint #{}: treeSize {} is not its chainSeq {}",
                        l.cp.index, t.size, l.cp.link.seq
                    )));
                }
                if let Some(f) = &t.frontier {
                    let folds = CompactRange::from_hashes(0, t.size, f.clone())
                        .ok()
                        .and_then(|r| r.root());
                    if folds != Some(t.head) {
                        report.push(bad(format!(
                            "checkpoint #{}: its frontier does not make its treeHead",
                            l.cp.index
                        )));
                    }
                }
                heads
                    .entry(t.size)
                    .or_default()
                    .push((t.head, l.line, l.cp.index));
            }
            if let Some(d) = &l.cp.deleted {
                for ((first, last, _), sub) in d.ranges.iter().zip(d.range_subtrees()) {
                    if *first == 0 || first > last {
                        continue;
                    }
                    // A deletion recorded again (an interrupted prune done again) keeps
                    // the subtrees it had.
                    let e = deleted.entry(*first).or_insert((*last, None));
                    if e.1.is_none() && e.0 == *last {
                        e.1 = sub;
                    }
                }
            }
        }
        TreeCheck {
            tree: Some(CompactRange::new(0)),
            heads,
            deleted,
            checked: 0,
        }
    }

    /// The next record in chain order (the walk's chosen record for each chainSeq).
    /// `report` gets a problem for every signed head reached that differs.
    pub(crate) fn record(&mut self, link: ChainLink, report: &mut StoreReport) {
        loop {
            let Some(tree) = &self.tree else { return };
            let next = tree.end() + 1;
            if link.seq < next {
                // Inside a deleted run already taken from its subtrees (records a
                // prune left behind): the subtrees stand for them.
                return;
            }
            match self.deleted.get(&next) {
                Some((last, Some(sub))) if *last >= next => {
                    let sub = sub.clone();
                    self.grow(|t| t.append(&sub).is_ok(), report);
                }
                _ if link.seq == next => {
                    self.grow(
                        |t| {
                            t.push_leaf(leaf_hash(&link));
                            true
                        },
                        report,
                    );
                    return;
                }
                // Records missing that no deletion line keeps the subtrees of: heads
                // from here on cannot be recomputed (the chain walk names the gap).
                _ => {
                    self.tree = None;
                    return;
                }
            }
        }
    }

    fn grow(&mut self, f: impl FnOnce(&mut CompactRange) -> bool, report: &mut StoreReport) {
        let Some(tree) = &mut self.tree else { return };
        let before = tree.end();
        if !f(tree) {
            self.tree = None;
            return;
        }
        let end = tree.end();
        let Some(root) = tree.root() else { return };
        // Heads inside a deleted run that was added whole cannot be recomputed: their
        // last records are gone.
        if let Some(hs) = self.heads.get(&end) {
            for (head, line, index) in hs {
                if *head == root {
                    self.checked += 1;
                } else {
                    report.push(
                        Problem::error(
                            ProblemKind::TreeHeadMismatch,
                            format!(
                                "checkpoint #{index} signs Merkle tree head {} over chainSeq 1..{end}, the store's records make {}",
                                hex::encode(head),
                                hex::encode(root)
                            ),
                        )
                        .at(CHECKPOINT_LOG, *line)
                        .seqs(before.max(1), end),
                    );
                }
            }
        }
    }
}
