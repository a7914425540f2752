//! Records found in a chain range that a signed deletion line records as deleted.
//!
//! A prune writes its line first and then removes the files, so an interrupted prune
//! leaves genuine records there. But anyone who can write the folder can also put
//! records there: the chain of a deleted range is no longer checked by the records
//! after it (they chain on from the hash the line recorded at the range's end), and
//! records chained from zeros at chainSeq 1 chain by themselves. So each record left
//! there is checked against what was signed for it, and only those it confirms are
//! the interrupted prune's leftovers:
//!
//! - its chain hash is confirmed: a checkpoint line (or the deletion line's recorded
//!   end of the run) signs it, or the records after it chain on from it up to such a
//!   signed hash, or the Merkle subtree the deletion line kept for it, recomputed
//!   from the records, is the one signed;
//! - and its bytes chain from a confirmed hash: the record before it (confirmed), or
//!   a hash signed for the chainSeq before it (zeros before chainSeq 1), or a kept
//!   record.
//!
//! - or the whole file it is in is confirmed: a deletion line that archived the file
//!   before deleting it signed its SHA-256 and size (`archived.objects`), and the file
//!   still has them (a prune with an archive killed while it removed files: the
//!   records of a file still there have lost the records next to them in the chain,
//!   but not their signed digest).
//!
//! A record whose signed subtree or chain hash differs is forged or changed; one that
//! nothing signed confirms (the records next to it in the chain are gone) cannot be
//! told from a forgery: both are errors, with file and line.

use std::collections::BTreeMap;

use auditrail_store::chain::ChainLink;
use auditrail_store::merkle::{leaf_hash, CompactRange, Hash};

use super::checkpoints::LoggedCheckpoint;
use super::late::HeldBack;
use super::report::{Problem, ProblemKind, StoreReport};
use super::walk::Loc;

/// Location runs kept at most (each a run of records on consecutive lines of one file
/// with consecutive chainSeqs); beyond, records are reported without file and line.
const MAX_LOC_RUNS: usize = 100_000;

/// Sorted, disjoint, inclusive ranges of chainSeqs, built in increasing order.
#[derive(Debug, Default, Clone)]
struct Ranges(Vec<(u64, u64)>);

impl Ranges {
    fn push(&mut self, seq: u64) {
        self.push_range(seq, seq);
    }

    /// `first` must not be below anything pushed before.
    fn push_range(&mut self, first: u64, last: u64) {
        match self.0.last_mut() {
            Some(r) if first <= r.1.saturating_add(1) => r.1 = r.1.max(last),
            _ => self.0.push((first, last)),
        }
    }

    /// The highest member in `first..=last`.
    fn max_in(&self, first: u64, last: u64) -> Option<u64> {
        let i = self.0.partition_point(|r| r.0 <= last);
        let r = self.0[..i].last()?;
        (r.1 >= first).then_some(r.1.min(last))
    }

    fn union(&self, other: &Ranges) -> Ranges {
        let mut all: Vec<(u64, u64)> = self.0.iter().chain(&other.0).copied().collect();
        all.sort_unstable();
        let mut out = Ranges::default();
        for (a, b) in all {
            out.push_range(a, b);
        }
        out
    }

    fn intersect(&self, other: &Ranges) -> Ranges {
        let mut out = Ranges::default();
        let (mut i, mut j) = (0, 0);
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = self.0[i];
            let (c, d) = other.0[j];
            let (lo, hi) = (a.max(c), b.min(d));
            if lo <= hi {
                out.push_range(lo, hi);
            }
            if b < d {
                i += 1;
            } else {
                j += 1;
            }
        }
        out
    }

    fn minus(&self, other: &Ranges) -> Ranges {
        let mut out = Ranges::default();
        for &(a, b) in &self.0 {
            let mut at = a;
            let start = other.0.partition_point(|r| r.1 < a);
            for &(c, d) in &other.0[start..] {
                if c > b {
                    break;
                }
                if c > at {
                    out.push_range(at, c - 1);
                }
                at = at.max(d.saturating_add(1));
                if at > b {
                    break;
                }
            }
            if at <= b && at >= a {
                out.push_range(at, b);
            }
        }
        out
    }

    /// Every member plus one.
    fn shifted(&self) -> Ranges {
        Ranges(
            self.0
                .iter()
                .filter(|r| r.1 < u64::MAX)
                .map(|&(a, b)| (a + 1, b + 1))
                .collect(),
        )
    }
}

/// The Merkle subtree being recomputed from consecutive records.
#[derive(Debug)]
struct Building {
    /// First leaf (chainSeq - 1) and leaves.
    start: u64,
    size: u64,
    expected: Hash,
    /// Index of the deletion line in the log's parsed lines.
    who: usize,
    range: CompactRange,
}

/// How the hash a record was chained from came about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PrevFrom {
    /// Zeros (chainSeq 1), a hash signed for the chainSeq before, or a kept record.
    Confirmed,
    /// The record before it, itself left in a deleted range (confirmed or not by what
    /// follows).
    Leftover,
}

/// What the walk found for one chainSeq of a deleted range.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Seen {
    pub seq: u64,
    pub hash: [u8; 32],
    pub loc: Loc,
    /// `Some(true)`: its bytes chain from the hash before; `Some(false)`: they do not
    /// (reported by the walk as a changed record); `None`: nothing to chain from.
    pub ok: Option<bool>,
    pub prev: PrevFrom,
    /// The signed hashes at this chainSeq: `Some(true)` when one is its chain hash,
    /// `Some(false)` when there are some and none is (`None`: no signed hash here).
    pub signed: Option<bool>,
}

/// Collects what the walk sees in deleted ranges and judges it at the end.
#[derive(Debug, Default)]
pub(crate) struct Leftovers {
    /// Recorded subtrees by first leaf: (height, hash, deletion line index).
    subtrees: BTreeMap<u64, (u32, Hash, usize)>,
    building: Option<Building>,
    present: Ranges,
    /// Chained from a confirmed hash.
    anchored: Ranges,
    /// Chained from the record before it (a leftover).
    linked: Ranges,
    /// Not chaining (reported by the walk).
    broken: Ranges,
    signed_ok: Ranges,
    signed_bad: Ranges,
    merkle_ok: Ranges,
    /// Subtrees the records do not make: (first, last chainSeq, deletion line index).
    merkle_bad: Vec<(u64, u64, usize)>,
    /// (first seq, last seq, file, first line): records on consecutive lines.
    locs: Vec<(u64, u64, u32, u64)>,
    /// The files signed deletion lines archived: path relative to the store, SHA-256
    /// (hex) and size.
    archived: std::collections::HashSet<(String, String, u64)>,
}

/// The judgement of the records left in deleted ranges.
#[derive(Debug, Default)]
pub(crate) struct Judged {
    /// Confirmed leftovers: first, last, count.
    pub genuine: Option<(u64, u64, u64)>,
    /// Ranges reported as errors.
    pub damaged: Vec<(u64, u64)>,
}

impl Leftovers {
    pub(crate) fn from_log(logged: &[LoggedCheckpoint]) -> Leftovers {
        let mut subtrees = BTreeMap::new();
        let mut archived = std::collections::HashSet::new();
        for (i, l) in logged.iter().enumerate() {
            let Some(d) = &l.cp.deleted else { continue };
            for o in d.archived.iter().flat_map(|a| &a.objects) {
                archived.insert((o.path.clone(), o.sha256.clone(), o.bytes));
            }
            for sub in d.range_subtrees().into_iter().flatten() {
                for (start, height, hash) in sub.subtrees() {
                    subtrees.entry(start).or_insert((height, hash, i));
                }
            }
        }
        Leftovers {
            subtrees,
            archived,
            ..Leftovers::default()
        }
    }

    /// One chainSeq of a deleted range, in chain order (the record the walk chose for it).
    pub(crate) fn take(&mut self, s: Seen) {
        self.present.push(s.seq);
        match (s.ok, s.prev) {
            (Some(true), PrevFrom::Confirmed) => self.anchored.push(s.seq),
            (Some(true), PrevFrom::Leftover) => self.linked.push(s.seq),
            (Some(false), _) => self.broken.push(s.seq),
            (None, _) => {}
        }
        match s.signed {
            Some(true) => self.signed_ok.push(s.seq),
            Some(false) => self.signed_bad.push(s.seq),
            None => {}
        }
        self.merkle(s.seq, s.hash);
        let full = self.locs.len() >= MAX_LOC_RUNS;
        match self.locs.last_mut() {
            Some(r)
                if r.1 + 1 == s.seq && r.2 == s.loc.file && r.3 + (r.1 - r.0) + 1 == s.loc.line =>
            {
                r.1 = s.seq;
            }
            _ if !full => self.locs.push((s.seq, s.seq, s.loc.file, s.loc.line)),
            _ => {}
        }
    }

    fn merkle(&mut self, seq: u64, hash: [u8; 32]) {
        let leaf = seq - 1;
        if self
            .building
            .as_ref()
            .is_some_and(|b| b.range.end() != leaf)
        {
            // A record of the subtree is missing: it cannot be recomputed.
            self.building = None;
        }
        if self.building.is_none() {
            if let Some(&(height, expected, who)) = self.subtrees.get(&leaf) {
                if let Some(size) = 1u64.checked_shl(height).filter(|s| *s > 0) {
                    self.building = Some(Building {
                        start: leaf,
                        size,
                        expected,
                        who,
                        range: CompactRange::new(leaf),
                    });
                }
            }
        }
        let Some(b) = self.building.as_mut() else {
            return;
        };
        b.range.push_leaf(leaf_hash(&ChainLink { seq, hash }));
        if b.range.end() - b.start == b.size {
            let (first, last) = (b.start + 1, b.start + b.size);
            if b.range.root() == Some(b.expected) {
                self.merkle_ok.push_range(first, last);
            } else {
                self.merkle_bad.push((first, last, b.who));
            }
            self.building = None;
        }
    }

    /// Reports the records that are not confirmed (errors, with file and line) and
    /// hands back the confirmed ones. `rel` names a file; `log_line` gives the place
    /// (`piece:line`) of the log's parsed line `who`. With `held` (`verify --live`),
    /// unconfirmed records are held there until it is seen whether their file went
    /// during the walk (the prune that deleted their range removing it).
    pub(crate) fn judge(
        self,
        rel: &dyn Fn(u32) -> String,
        path: &dyn Fn(u32) -> std::path::PathBuf,
        log_line: &dyn Fn(usize) -> String,
        mut held: Option<&mut HeldBack>,
        report: &mut StoreReport,
    ) -> Judged {
        let archived = self.archived_files(rel, path);
        let mut bad = Ranges::default();
        for &(a, b, _) in &self.merkle_bad {
            bad.push_range(a, b);
        }
        let bad = bad.union(&self.signed_bad);
        let confirmed_here = self.signed_ok.union(&self.merkle_ok).minus(&bad);
        // The records of a run chaining one to the next are confirmed up to the last
        // one whose chain hash is signed: its hash covers every record before it.
        let mut chained = Ranges::default();
        for &(a, b) in &self.linked.0 {
            let piece = a - 1;
            if let Some(j) = confirmed_here.max_in(piece, b) {
                chained.push_range(piece, j);
            }
        }
        let vouched = confirmed_here.union(&chained).union(&archived).minus(&bad);
        let from_confirmed = self
            .anchored
            .union(&archived)
            .union(&self.linked.intersect(&vouched.shifted()));
        let genuine = vouched.intersect(&from_confirmed);
        let not_genuine = self.present.minus(&genuine).minus(&self.broken);
        let forged = not_genuine.intersect(&bad);
        let unconfirmed = not_genuine.minus(&bad);
        let mut damaged = Vec::new();
        let deletion_line = |seq: u64| {
            self.merkle_bad
                .iter()
                .find(|r| r.0 <= seq && seq <= r.1)
                .map(|&(a, b, who)| {
                    format!(
                        "the records do not make the Merkle subtree that the deletion line at {} kept for chainSeq {a}..{b}",
                        log_line(who)
                    )
                })
                .unwrap_or_else(|| {
                    "its chain hash is not the one a checkpoint line signed for it".to_string()
                })
        };
        let place = |file: Option<u32>, line: u64| match file {
            Some(f) => (Some(rel(f)), line),
            None => (None, 0),
        };
        for Span {
            first,
            last,
            file,
            line,
        } in self.located(&forged)
        {
            let (file, line) = place(file, line);
            let what = deletion_line(first);
            let p = Problem::error(
                ProblemKind::InsertedRecord,
                format!(
                    "{}: forged or changed, in a range the checkpoint log records as deleted: {what}",
                    seqs_at(first, last, file.as_deref(), line),
                ),
            );
            report.push(placed_at(p, file.as_deref(), line).seqs(first, last));
            damaged.push((first, last));
        }
        for Span {
            first,
            last,
            file,
            line,
        } in self.located(&unconfirmed)
        {
            let gone_with = file.map(path);
            let (file, line) = place(file, line);
            let p = Problem::error(
                ProblemKind::DeletionIncomplete,
                format!(
                    "{}: in a range the checkpoint log records as deleted, and nothing signed confirms {} (the records next to {} in the chain are gone): left by a prune interrupted while it removed files, or put there since, which cannot be told apart; the next prune removes {}",
                    seqs_at(first, last, file.as_deref(), line),
                    if first == last { "it" } else { "them" },
                    if first == last { "it" } else { "them" },
                    if first == last { "it" } else { "them" },
                ),
            );
            let p = placed_at(p, file.as_deref(), line).seqs(first, last);
            match (held.as_deref_mut(), gone_with) {
                (Some(h), Some(f)) => h.hold_while_present(first, last, f, p, report),
                _ => report.push(p),
            }
            damaged.push((first, last));
        }
        let count: u64 = genuine.0.iter().map(|r| r.1 - r.0 + 1).sum();
        Judged {
            genuine: (count > 0).then(|| (genuine.0[0].0, genuine.0[genuine.0.len() - 1].1, count)),
            damaged,
        }
    }

    /// The chainSeqs of the records in files whose SHA-256 and size a signed deletion
    /// line recorded when it archived them (see the module's doc). Each such file is
    /// read once; one that cannot be read confirms nothing.
    fn archived_files(
        &self,
        rel: &dyn Fn(u32) -> String,
        path: &dyn Fn(u32) -> std::path::PathBuf,
    ) -> Ranges {
        let mut confirmed = Ranges::default();
        if self.archived.is_empty() {
            return confirmed;
        }
        let mut files: std::collections::HashMap<u32, bool> = std::collections::HashMap::new();
        for &(first, last, file, _) in &self.locs {
            let ok = *files.entry(file).or_insert_with(|| {
                let rel = rel(file);
                // Read no further than the largest size recorded for it (a file no
                // line records is not read).
                let Some(recorded) = self
                    .archived
                    .iter()
                    .filter(|(r, _, _)| *r == rel)
                    .map(|(_, _, bytes)| *bytes)
                    .max()
                else {
                    return false;
                };
                super::archived::digest(&path(file), recorded)
                    .is_ok_and(|(sha, bytes)| self.archived.contains(&(rel, sha, bytes)))
            });
            if ok {
                confirmed.push_range(first, last);
            }
        }
        confirmed
    }

    /// Splits `ranges` by the files and lines the records were found at.
    fn located(&self, ranges: &Ranges) -> Vec<Span> {
        let mut out = Vec::new();
        for &(a, b) in &ranges.0 {
            let mut at = a;
            let start = self.locs.partition_point(|r| r.1 < a);
            for &(c, d, file, line) in &self.locs[start..] {
                if c > b || at > b {
                    break;
                }
                let (lo, hi) = (at.max(c), b.min(d));
                if lo > at {
                    out.push(Span {
                        first: at,
                        last: lo - 1,
                        file: None,
                        line: 0,
                    });
                }
                out.push(Span {
                    first: lo,
                    last: hi,
                    file: Some(file),
                    line: line + (lo - c),
                });
                at = hi + 1;
            }
            if at <= b {
                out.push(Span {
                    first: at,
                    last: b,
                    file: None,
                    line: 0,
                });
            }
        }
        out
    }
}

/// Records on consecutive lines of one file (`file` `None`: the location was not
/// kept).
struct Span {
    first: u64,
    last: u64,
    file: Option<u32>,
    /// The first record's line.
    line: u64,
}

/// "chainSeq 4" or "chainSeq 1..4 (4 records, lines 1..4)".
fn seqs_at(first: u64, last: u64, file: Option<&str>, line: u64) -> String {
    match (first == last, file) {
        (true, _) => format!("chainSeq {first}"),
        (false, Some(_)) => format!(
            "chainSeq {first}..{last} ({} records, lines {line}..{})",
            last - first + 1,
            line + (last - first)
        ),
        (false, None) => format!(
            "chainSeq {first}..{last} ({} records, their files not kept: too many places)",
            last - first + 1
        ),
    }
}

fn placed_at(p: Problem, file: Option<&str>, line: u64) -> Problem {
    match file {
        Some(f) => p.at(f, line),
        None => p,
    }
}
