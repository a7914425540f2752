//! The Merkle tree over a store as the checkpoint log and the records make it: the
//! records' leaves in chain order, and for each deleted run the subtrees its deletion
//! line keeps (see [`auditrail_store::merkle`]). Used by the chain walk to recompute
//! every signed tree head, and by `auditrail prove` to compute the nodes of a proof.

use std::collections::BTreeMap;

use auditrail_store::chain::ChainLink;
use auditrail_store::merkle::{leaf_hash, CompactRange, Hash};

use super::checkpoints::LoggedCheckpoint;
use super::report::{Problem, ProblemKind, StoreReport};

/// A tree head a line signs: the head, where the line is (piece, line number), and its
/// checkpoint number.
type SignedHead = (Hash, (String, u64), u64);

/// One piece of the tree, in leaf order: a whole subtree of `2^height` leaves from
/// `start` (a record's leaf has height 0).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Piece {
    pub start: u64,
    pub height: u32,
    pub hash: Hash,
}

/// Turns the records, in chain order, into the tree's pieces: a record's leaf, or the
/// recorded subtrees of a deleted run when the records reach it.
#[derive(Debug, Clone)]
pub(crate) struct Leaves {
    /// The next leaf position (= the chainSeq of the last record taken).
    end: u64,
    /// Deleted runs with their recorded subtrees, by first chainSeq.
    deleted: BTreeMap<u64, (u64, Option<CompactRange>)>,
    /// Whether the pieces stopped: a gap that no deletion line explains with subtrees.
    broken: bool,
}

impl Leaves {
    pub(crate) fn from_log(logged: &[LoggedCheckpoint]) -> Leaves {
        let mut deleted = BTreeMap::new();
        for l in logged {
            let Some(d) = &l.cp.deleted else { continue };
            for ((first, last, _), sub) in d.ranges().zip(d.range_subtrees()) {
                if first == 0 || first > last {
                    continue;
                }
                // A deletion recorded again (an interrupted prune done again) keeps the
                // subtrees it had.
                let e = deleted.entry(first).or_insert((last, None));
                if e.1.is_none() && e.0 == last {
                    e.1 = sub;
                }
            }
        }
        Leaves {
            end: 0,
            deleted,
            broken: false,
        }
    }

    /// Leaves so far (the tree size the pieces handed out make).
    pub(crate) fn end(&self) -> u64 {
        self.end
    }

    /// Takes the next record (in chain order) and hands `sink` the pieces up to it,
    /// each with the tree size after it.
    pub(crate) fn record(&mut self, link: ChainLink, sink: &mut dyn FnMut(Piece, u64)) {
        while !self.broken {
            let next = self.end + 1;
            if link.seq < next {
                // Inside a deleted run already taken from its subtrees (records a prune
                // left behind): the subtrees stand for them.
                return;
            }
            if self.take_deleted(next, sink) {
                continue;
            }
            if link.seq == next {
                self.end = next;
                sink(
                    Piece {
                        start: next - 1,
                        height: 0,
                        hash: leaf_hash(&link),
                    },
                    self.end,
                );
            } else {
                // Records missing that no deletion line keeps the subtrees of.
                self.broken = true;
            }
            return;
        }
    }

    /// After the last record: deleted runs up to `size` (a checkpoint whose last
    /// records were deleted since).
    pub(crate) fn finish(&mut self, size: u64, sink: &mut dyn FnMut(Piece, u64)) {
        while !self.broken && self.end < size && self.take_deleted(self.end + 1, sink) {}
    }

    fn take_deleted(&mut self, next: u64, sink: &mut dyn FnMut(Piece, u64)) -> bool {
        let Some((last, Some(sub))) = self.deleted.get(&next) else {
            return false;
        };
        if *last < next {
            return false;
        }
        for (start, height, hash) in sub.subtrees() {
            self.end = start + (1u64 << height);
            sink(
                Piece {
                    start,
                    height,
                    hash,
                },
                self.end,
            );
        }
        true
    }
}

/// Follows the tree along the walk and compares each signed head when it gets there.
#[derive(Debug)]
pub(crate) struct TreeCheck {
    leaves: Leaves,
    tree: CompactRange,
    /// Signed heads by tree size: (head, line number in the log, checkpoint number).
    heads: BTreeMap<u64, Vec<SignedHead>>,
    pub(crate) checked: u64,
}

impl TreeCheck {
    /// The heads to check, from the parsed log; problems with a line's own tree fields
    /// (a frontier that does not fold to its head, a size that is not its chainSeq) go
    /// to `report` at once.
    pub(crate) fn new(logged: &[LoggedCheckpoint], report: &mut StoreReport) -> TreeCheck {
        let mut heads: BTreeMap<u64, Vec<SignedHead>> = BTreeMap::new();
        for l in logged {
            let Some(t) = &l.cp.tree else { continue };
            let bad = |msg: String| {
                Problem::error(ProblemKind::TreeHeadMismatch, msg)
                    .at(&l.file, l.line)
                    .seqs(1, t.size.max(1))
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
                .push((t.head, (l.file.clone(), l.line), l.cp.index));
        }
        TreeCheck {
            leaves: Leaves::from_log(logged),
            tree: CompactRange::new(0),
            heads,
            checked: 0,
        }
    }

    /// The next record in chain order (the walk's chosen record for each chainSeq).
    /// Every signed head the tree reaches is compared; a difference goes to `report`.
    pub(crate) fn record(&mut self, link: ChainLink, report: &mut StoreReport) {
        let Self {
            leaves,
            tree,
            heads,
            checked,
        } = self;
        let mut sink = |p: Piece, size: u64| {
            if tree.push_subtree(p.height, p.hash).is_err() {
                return;
            }
            // Heads inside a deleted run added whole are not reached: their last
            // records are gone.
            let (Some(hs), Some(root)) = (heads.get(&size), tree.root()) else {
                return;
            };
            for (head, line, index) in hs {
                if *head == root {
                    *checked += 1;
                } else {
                    report.push(
                        Problem::error(
                            ProblemKind::TreeHeadMismatch,
                            format!(
                                "checkpoint #{index} signs Merkle tree head {} over chainSeq 1..{size}, the store's records make {}",
                                hex::encode(head),
                                hex::encode(root)
                            ),
                        )
                        .at(&line.0, line.1)
                        .seqs(1, size),
                    );
                }
            }
        };
        leaves.record(link, &mut sink);
    }
}
