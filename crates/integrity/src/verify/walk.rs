//! The store-wide chain walk: merges the record files in chainSeq order and checks
//! every link, the checkpoints' hashes and the receipts' hashes on the way.

use std::collections::BTreeMap;

use auditrail_store::chain::{next_link, ChainLink};

use super::deletions::Deletions;
use super::files::RecordFile;
use super::late::HeldBack;
use super::leftovers::{Leftovers, PrevFrom, Seen};
use super::merge::{produce, Batch, Item};
use super::placement::Placement;
use super::report::{Problem, ProblemKind, Severity, StoreReport};
use super::tree::TreeCheck;
use super::Progress;

/// The files a missing range's message names when several could have held it; the
/// others are counted there and listed in the problem's `candidates`.
const CANDIDATES_NAMED: usize = 3;

/// Where a record is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loc {
    pub file: u32,
    pub line: u64,
    /// In the folder the store's layout puts it in (always, when placement is not
    /// checked).
    pub placed: bool,
}

/// What the walk checks a chain hash against at a given seq.
#[derive(Debug, Clone)]
pub(crate) struct Expectation {
    /// Chain hash expected at the seq.
    pub hash: [u8; 32],
    /// Index in the caller's list (checkpoint line or receipt number).
    pub who: usize,
}

/// Results the walk hands back besides the problems it reports.
#[derive(Debug, Default)]
pub(crate) struct WalkResult {
    /// Highest seq seen.
    pub last_seq: u64,
    /// Where the highest seq's record is.
    pub last_loc: Option<Loc>,
    /// Seq ranges that are missing, changed, duplicated or out of order.
    pub damaged: Vec<(u64, u64)>,
    /// For each receipt index whose `last_seq` was found: whether the hash matched.
    pub receipt_hash_ok: BTreeMap<usize, bool>,
    /// Records still in the store that a deletion line records as deleted (a prune
    /// interrupted between its line and the removal): first, last, count.
    pub still_present: Option<(u64, u64, u64)>,
    /// Signed Merkle tree heads recomputed and found equal.
    pub tree_heads_checked: u64,
    /// `verify --live`: records found missing and files found gone, held back until
    /// the log is read again ([`HeldBack`]).
    pub held: Option<HeldBack>,
}

struct Member {
    loc: Loc,
    claimed: [u8; 32],
    /// `Some(true)`: chains to the previous record; `None`: previous unknown (gap).
    ok: Option<bool>,
    computed: [u8; 32],
    /// While a fork is pending: the index (in its hashes) of the line it chains from.
    via: Option<usize>,
}

/// Two or more lines of one chainSeq that each chain on from the record before, with
/// different chain hashes: which one is genuine is decided by what was signed for that
/// chainSeq, or else by the record after them (the chain goes on from the genuine one;
/// a forged line put before the server's own next record is chained from by nothing).
struct Fork {
    seq: u64,
    members: Vec<Member>,
    /// The distinct chain hashes of the lines that chain.
    hashes: Vec<[u8; 32]>,
}

/// Why the record of a chainSeq with several lines was taken as the genuine one.
#[derive(Debug, Clone, Copy)]
enum Why {
    /// The only one that chains, or copies (the one in its folder, else the first).
    Chains,
    /// Several chain: the one whose chain hash the checkpoint line (index) signs.
    Signed(usize),
    /// Several chain: the one the record after them (at this place) chains from.
    Next(Loc),
    /// Several chain and nothing tells them apart.
    Unresolved,
}

#[derive(Debug, Clone, Default)]
struct FileState {
    open: bool,
    last: Option<(u64, u64)>,
}

pub(crate) struct Walk<'a> {
    files: &'a [RecordFile],
    checkpoints: &'a BTreeMap<u64, Vec<Expectation>>,
    receipts: &'a BTreeMap<u64, Vec<Expectation>>,
    checkpoint_lines: &'a [super::checkpoints::LogPlace],
    deletions: &'a Deletions,
    /// `verify --live`: the highest chainSeq a signed checkpoint (or the high-water
    /// mark) vouched for when verify read them, before the walk. Records missing above
    /// it may still be on their way into files the walk read earlier: warnings.
    live_vouched: Option<u64>,
    /// Hash the next seq must chain to, and the recomputed alternative when the
    /// previous record's chainHash field itself was altered.
    prev: Option<([u8; 32], Option<[u8; 32]>)>,
    /// Where `prev` came from (for records left in deleted ranges).
    prev_from: PrevFrom,
    /// Records left in deleted ranges, judged at the end (`None`: no deletion, or an
    /// archive, where every record is one a deletion line records).
    leftovers: Option<Leftovers>,
    /// A chainSeq whose lines are decided by the next record.
    fork: Option<Fork>,
    group: Option<u64>,
    /// The record(s) of the current group's chainSeq (reused, so no allocation per record).
    members: Vec<Member>,
    /// Per file: opened, finished, and the last record taken from it (seq, line).
    state: Vec<FileState>,
    result: WalkResult,
    tree: TreeCheck,
    /// `verify --live`: the walk's findings a prune during it may explain.
    held: Option<HeldBack>,
    /// Per file: the first chainSeq of the next segment in its folder (`u64::MAX` for
    /// the newest), worked out at the first gap (gaps are rare).
    superseded_at: Option<Vec<u64>>,
}

impl<'a> Walk<'a> {
    pub(super) fn new(
        files: &'a [RecordFile],
        checkpoints: &'a BTreeMap<u64, Vec<Expectation>>,
        checkpoint_lines: &'a [super::checkpoints::LogPlace],
        receipts: &'a BTreeMap<u64, Vec<Expectation>>,
        deletions: &'a Deletions,
        live_vouched: Option<u64>,
        tree: TreeCheck,
    ) -> Walk<'a> {
        Walk {
            files,
            checkpoints,
            receipts,
            checkpoint_lines,
            deletions,
            live_vouched,
            prev: Some((ChainLink::GENESIS.hash, None)),
            prev_from: PrevFrom::Confirmed,
            leftovers: None,
            fork: None,
            group: None,
            members: Vec::with_capacity(4),
            state: vec![FileState::default(); files.len()],
            result: WalkResult::default(),
            tree,
            held: None,
            superseded_at: None,
        }
    }

    /// Checks the records found in deleted ranges against what was signed for them
    /// (see [`Leftovers`]).
    pub(super) fn with_leftovers(mut self, leftovers: Option<Leftovers>) -> Walk<'a> {
        self.leftovers = leftovers;
        self
    }

    /// Holds back (`verify --live`) the records found missing at or below what was
    /// vouched for and the listed files gone when opened, for the caller to settle
    /// against the deletions the log signed meanwhile ([`WalkResult::held`]).
    pub(super) fn holding_back(mut self) -> Walk<'a> {
        self.held = Some(HeldBack::default());
        self
    }

    /// Walks every file; problems go to `report`, misplaced records as `placement`
    /// judges them.
    pub(super) fn run(
        mut self,
        report: &mut StoreReport,
        mut placement: Placement,
        progress: &dyn Progress,
    ) -> WalkResult {
        // Merging and parsing on one thread, chain checks (hashing) on this one.
        let (tx, rx) = std::sync::mpsc::sync_channel::<Batch>(4);
        let files = self.files;
        let mut read_report = StoreReport::default();
        let mut read_held = self.held.as_ref().map(|_| HeldBack::default());
        std::thread::scope(|scope| {
            let producer = scope.spawn(|| {
                produce(
                    files,
                    &mut read_report,
                    read_held.as_mut(),
                    &mut placement,
                    progress,
                    tx,
                )
            });
            for batch in rx {
                for item in batch.items {
                    match item {
                        Item::Open(f) => self.state[f as usize].open = true,
                        Item::Close(f) => self.state[f as usize].open = false,
                        Item::Record {
                            seq,
                            hash,
                            file,
                            line,
                            placed,
                            start,
                            end,
                        } => self.record(
                            seq,
                            hash,
                            &batch.bodies[start..end],
                            Loc { file, line, placed },
                            report,
                        ),
                    }
                }
            }
            if producer.join().is_err() {
                report.push(Problem::error(
                    ProblemKind::Unreadable,
                    "reading the record files failed unexpectedly".into(),
                ));
            }
        });
        report.absorb(read_report);
        placement.finish(report);
        self.finish_group(report);
        if let Some(fork) = self.fork.take() {
            self.settle_fork(fork, None, report);
        }
        if let Some(leftovers) = self.leftovers.take() {
            let files = self.files;
            let lines = self.checkpoint_lines;
            let judged = leftovers.judge(
                &|f| files[f as usize].rel.clone(),
                &|f| files[f as usize].path.clone(),
                &|who| lines.get(who).map(ToString::to_string).unwrap_or_default(),
                self.held.as_mut(),
                report,
            );
            self.result.still_present = judged.genuine;
            self.result.damaged.extend(judged.damaged);
        }
        self.result.tree_heads_checked = self.tree.checked;
        if let (Some(held), Some(read)) = (self.held.as_mut(), read_held) {
            held.append(read);
        }
        self.result.held = self.held;
        self.result
    }

    fn rel(&self, loc: Loc) -> &str {
        &self.files[loc.file as usize].rel
    }

    fn record(
        &mut self,
        seq: u64,
        claimed: [u8; 32],
        body: &[u8],
        loc: Loc,
        report: &mut StoreReport,
    ) {
        if let Some(gseq) = self.group {
            if seq == gseq {
                let m = self.check(seq, claimed, body, loc);
                self.members.push(m);
                return;
            }
            if seq < gseq {
                let rel = self.rel(loc).to_string();
                report.push(
                    Problem::error(
                        ProblemKind::Reordered,
                        format!(
                            "chainSeq {seq} is out of chain order (found after chainSeq {gseq})"
                        ),
                    )
                    .at(&rel, line_of(loc))
                    .seqs(seq, seq),
                );
                self.result.damaged.push((seq, seq));
                return;
            }
            self.finish_group(report);
        }
        if self.fork.as_ref().is_some_and(|f| f.seq + 1 != seq) {
            // No record right after the fork's lines to tell them apart.
            if let Some(fork) = self.fork.take() {
                self.settle_fork(fork, None, report);
            }
        }
        let expected = self.result.last_seq + 1;
        if seq > expected {
            let last = seq - 1;
            if self.deletions.is_empty() {
                self.gap(expected, last, loc, report);
                self.prev = None;
            } else {
                // Ranges a signed line records as deleted are not missing; the chain
                // goes on from the hash recorded at the end of the deleted run.
                for (a, b) in self.deletions.uncovered(expected, last) {
                    self.gap(a, b, loc, report);
                }
                // A hash signed for the chainSeq before (a checkpoint line's, or the
                // one a deletion line recorded) is what this record chains from.
                self.prev = if self.deletions.contains(last) {
                    self.deletions
                        .hash_at(last)
                        .map(|(h, _)| h)
                        .or_else(|| self.checkpoints.get(&last)?.first().map(|e| e.hash))
                        .map(|h| (h, None))
                } else {
                    None
                };
            }
            self.prev_from = PrevFrom::Confirmed;
        }
        let m = self.check(seq, claimed, body, loc);
        self.group = Some(seq);
        self.members.push(m);
        self.state[loc.file as usize].last = Some((seq, loc.line));
    }

    fn check(&self, seq: u64, claimed: [u8; 32], body: &[u8], loc: Loc) -> Member {
        if let Some(fork) = self.fork.as_ref().filter(|f| f.seq + 1 == seq) {
            // `seq` is at least 1: the store's reader refuses a line numbered 0.
            let prev = |hash| ChainLink {
                seq: seq.saturating_sub(1),
                hash,
            };
            let via = fork
                .hashes
                .iter()
                .position(|h| next_link(&prev(*h), body).hash == claimed);
            return Member {
                loc,
                claimed,
                ok: Some(via.is_some()),
                computed: next_link(&prev(fork.hashes[0]), body).hash,
                via,
            };
        }
        let Some((main, alt)) = self.prev else {
            return Member {
                loc,
                claimed,
                ok: None,
                computed: claimed,
                via: None,
            };
        };
        // The store's reader refuses a line numbered 0 (a malformed line); were one
        // to come here, it follows no record: it does not chain.
        let Some(before) = seq.checked_sub(1) else {
            return Member {
                loc,
                claimed,
                ok: Some(false),
                computed: claimed,
                via: None,
            };
        };
        let computed = next_link(
            &ChainLink {
                seq: before,
                hash: main,
            },
            body,
        )
        .hash;
        let mut ok = computed == claimed;
        if !ok {
            if let Some(alt) = alt {
                ok = next_link(
                    &ChainLink {
                        seq: before,
                        hash: alt,
                    },
                    body,
                )
                .hash
                    == claimed;
            }
        }
        Member {
            loc,
            claimed,
            ok: Some(ok),
            computed,
            via: None,
        }
    }

    /// Reports `first..=last` missing. Under `--live`, the part above what a checkpoint
    /// read before the walk vouches for is a warning: a server appending a batch over
    /// several files may have put those records into files the walk had already read
    /// (the records at or below it were in the files before the walk listed them).
    fn gap(&mut self, first: u64, last: u64, next: Loc, report: &mut StoreReport) {
        match self.live_vouched {
            Some(vouched) if last > vouched => {
                if first <= vouched {
                    self.report_gap(first, vouched, next, None, report);
                }
                self.report_gap(first.max(vouched + 1), last, next, Some(vouched), report);
            }
            _ => self.report_gap(first, last, next, None, report),
        }
    }

    /// `unvouched`: `Some(vouched)` when the range is above the chainSeq that the
    /// checkpoints read before a live walk vouch for (reported as a warning).
    fn report_gap(
        &mut self,
        first: u64,
        last: u64,
        next: Loc,
        unvouched: Option<u64>,
        report: &mut StoreReport,
    ) {
        let count = last - first + 1;
        let range = if first == last {
            format!("chainSeq {first} is missing")
        } else {
            format!("chainSeq {first}..{last} ({count} records) are missing")
        };
        // Files that could have held the range: open files whose last record so far is
        // before it (their next one is after it), including the file of the record
        // after the gap, and a finished file whose last record is the one right before
        // it (records cut from its end: the server goes on in a new segment). A finished
        // file whose last record is further before it could have held it too when it
        // was still its folder's newest segment at `first`: partitions interleave in the
        // chain, so records cut from the end of one partition's segment (a folder put
        // back from an older copy) sit between records of other partitions. Those come
        // after the others, the most recently written first.
        let superseded_at = self
            .superseded_at
            .get_or_insert_with(|| superseded_at(self.files))
            .as_slice();
        let mut candidates: Vec<(u32, u64)> = Vec::new();
        let mut ends: Vec<(u64, u32, u64)> = Vec::new();
        for (i, st) in self.state.iter().enumerate() {
            let i = i as u32;
            if !(st.open || i == next.file) {
                match st.last {
                    Some((seq, line)) if seq.checked_add(1) == Some(first) => {
                        candidates.push((i, line))
                    }
                    Some((seq, line)) if seq < first && superseded_at[i as usize] > first => {
                        ends.push((seq, i, line))
                    }
                    _ => {}
                }
                continue;
            }
            match st.last {
                Some((s, line)) if s < first => candidates.push((i, line)),
                None if self.files[i as usize].first_seq <= first => candidates.push((i, 0)),
                _ => {}
            }
        }
        ends.sort_unstable_by(|a, b| b.cmp(a));
        candidates.extend(ends.into_iter().map(|(_, i, line)| (i, line)));
        let describe = |(f, line): (u32, u64)| {
            let rel = &self.files[f as usize].rel;
            if line == 0 {
                format!("{rel} before line 1")
            } else if !self.state[f as usize].open && f != next.file {
                format!("{rel} after its last line, {line}")
            } else {
                format!("{rel} between line {line} and {}", line + 1)
            }
        };
        let segment = format!("{first:020}.jsonl");
        let segment_exists = self.files.iter().any(|f| f.rel.ends_with(&segment));
        let mut p = if candidates.len() == 1 {
            let (f, line) = candidates[0];
            let mut msg = format!("{range}: deleted from {}", describe(candidates[0]));
            // One file could have held the range, but so could a whole segment file of
            // another partition, deleted with its folder: the records of partitions
            // interleave in the chain, and a removed folder leaves no file to name.
            // Only a file of that name still in the store rules it out.
            if !segment_exists {
                msg.push_str(&format!(
                    "; or a deleted segment file starting there, which would be named \
                     {segment} (a removed file or partition folder)"
                ));
            }
            let mut p = Problem::error(ProblemKind::MissingRecords, msg);
            p.file = Some(self.files[f as usize].rel.clone());
            p.line = Some(line + 1);
            p
        } else {
            // A few named, the rest counted: with many partitions open, every file
            // could have held the range, and naming them all buried the range itself
            // (`candidates` below keeps every one for the JSON report).
            let list: Vec<String> = candidates
                .iter()
                .take(CANDIDATES_NAMED)
                .map(|&c| describe(c))
                .collect();
            let mut msg = format!("{range}: in no file");
            if !segment_exists {
                msg.push_str(&format!(
                    "; a deleted segment file starting there would be named {segment}"
                ));
            }
            if !list.is_empty() {
                let more = candidates.len() - list.len();
                msg.push_str(&format!(
                    "; or lines deleted from one of {}: {}{}",
                    auditrail_core::counted::counted(candidates.len(), "file", "files"),
                    list.join(", "),
                    if more > 0 {
                        format!(" and {more} more (the JSON report's `candidates` lists each)")
                    } else {
                        String::new()
                    }
                ));
            }
            // A whole partition folder removed (by hand, or a backup restored without
            // it) leaves no file to name: name the folders of the records around the
            // gap, between which the removed folder's records were written.
            let folder = |loc: Loc| {
                let rel = self.rel(loc);
                rel.rsplit_once('/').map_or(".", |(dir, _)| dir).to_string()
            };
            let after = folder(next);
            match self.result.last_loc.map(folder) {
                Some(before) if before != after => msg.push_str(&format!(
                    "; the records around the gap are in {before}/ and {after}/ (a removed partition folder or a restored backup?)"
                )),
                Some(before) => msg.push_str(&format!(
                    "; the records around the gap are in {before}/ (a removed partition folder or a restored backup?)"
                )),
                None => msg.push_str(&format!(
                    "; the first record left is in {after}/ (a removed partition folder or a restored backup?)"
                )),
            }
            let mut p = Problem::error(ProblemKind::MissingRecords, msg);
            p.file = Some(self.files[next.file as usize].rel.clone());
            p.line = Some(next.line);
            p
        };
        p.candidates = candidates
            .iter()
            .map(|&(f, line)| format!("{}:{}", self.files[f as usize].rel, line + 1))
            .collect();
        if let Some(vouched) = unvouched {
            p.severity = Severity::Warning;
            p.message.push_str(&format!(
                " (--live: above chainSeq {vouched}, the last one a checkpoint vouched for when verify started, so possibly appended by the running server to a file after verify had read it)"
            ));
        }
        if let Some(vouched) = self.vouched_missing(first, last) {
            p.message.push_str(&vouched);
        }
        let p = p.seqs(first, last);
        match self.held.as_mut() {
            Some(held) if unvouched.is_none() => held.hold(first, last, p, report),
            Some(held) => held.keep_in_order(p, report),
            None => report.push(p),
        }
        self.result.damaged.push((first, last));
    }

    /// The checkpoints that vouch for records of a gap, said on the gap's own problem:
    /// they prove the records were stored and acknowledged, and they are the same fact
    /// as the gap, not another one (a removed day under `seal_every_batch` holds a
    /// checkpoint per batch: one error each would bury the one that matters, and
    /// whether a gap holds one depends on where the server's batches ended).
    fn vouched_missing(&self, first: u64, last: u64) -> Option<String> {
        // In the log's order (`who` counts its lines across pieces).
        let mut whos: Vec<usize> = self
            .checkpoints
            .range(first..=last)
            .flat_map(|(_, exps)| exps.iter().map(|e| e.who))
            .collect();
        whos.sort_unstable();
        whos.dedup();
        let (lo, hi) = (
            &self.checkpoint_lines[*whos.first()?],
            &self.checkpoint_lines[*whos.last()?],
        );
        Some(if whos.len() == 1 {
            format!(
                "; the checkpoint at {lo} vouches for one of them: they were stored and acknowledged"
            )
        } else {
            format!(
                "; {} checkpoints ({lo} to {hi}) vouch for records of the range: they were stored and acknowledged",
                whos.len()
            )
        })
    }

    fn finish_group(&mut self, report: &mut StoreReport) {
        let Some(seq) = self.group.take() else {
            return;
        };
        let mut members = std::mem::take(&mut self.members);
        if let Some(fork) = self.fork.take() {
            // This chainSeq follows a fork's: its records chain from the genuine line.
            let picked = self.settle_fork(fork, Some(&members), report);
            for m in &mut members {
                if let Some(via) = m.via.take() {
                    m.ok = Some(Some(via) == picked);
                    if m.ok == Some(false) {
                        m.computed = m.claimed;
                    }
                }
            }
        }
        let mut hashes: Vec<[u8; 32]> = Vec::new();
        for m in members.iter().filter(|m| m.ok != Some(false)) {
            if !hashes.contains(&m.claimed) {
                hashes.push(m.claimed);
            }
        }
        let mut why = Why::Chains;
        let mut signed_pick = None;
        if hashes.len() > 1 {
            // Several lines chain on from the record before: what was signed for this
            // chainSeq decides, else the record after them.
            let signed: Vec<(usize, [u8; 32])> = self
                .checkpoints
                .get(&seq)
                .map(|exps| {
                    exps.iter()
                        .filter(|e| hashes.contains(&e.hash))
                        .map(|e| (e.who, e.hash))
                        .collect()
                })
                .unwrap_or_default();
            match signed.first() {
                Some(&(who, hash)) if signed.iter().all(|s| s.1 == hash) => {
                    why = Why::Signed(who);
                    signed_pick = Some(hash);
                }
                _ => {
                    self.prev = Some((hashes[0], None));
                    self.result.last_seq = seq;
                    self.fork = Some(Fork {
                        seq,
                        members,
                        hashes,
                    });
                    return;
                }
            }
        }
        let chosen = match signed_pick {
            Some(hash) => pick(&members, self.files, |m| m.claimed == hash),
            None => pick(&members, self.files, |m| m.ok != Some(false)),
        };
        self.settle(seq, members, chosen, why, report);
    }

    /// Decides a fork: by the records of the next chainSeq (`next`), which chain from
    /// one of its lines, or else as the lines come. Returns the index (in the fork's
    /// hashes) of the line taken as genuine.
    fn settle_fork(
        &mut self,
        fork: Fork,
        next: Option<&[Member]>,
        report: &mut StoreReport,
    ) -> Option<usize> {
        let followed: Vec<(usize, Loc)> = next
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m.via.map(|v| (v, m.loc)))
            .collect();
        let (picked, why) = match followed.first() {
            Some(&(v, loc)) if followed.iter().all(|f| f.0 == v) => (Some(v), Why::Next(loc)),
            _ => (None, Why::Unresolved),
        };
        let chosen = match picked {
            Some(v) => pick(&fork.members, self.files, |m| m.claimed == fork.hashes[v]),
            None => pick(&fork.members, self.files, |m| m.ok != Some(false)),
        };
        let picked = picked.or_else(|| {
            fork.hashes
                .iter()
                .position(|h| *h == fork.members[chosen].claimed)
        });
        self.settle(fork.seq, fork.members, chosen, why, report);
        picked
    }

    /// Reports the lines of `seq` other than `members[chosen]`, checks the chosen one
    /// against checkpoints, receipts and the tree, and goes on from it.
    fn settle(
        &mut self,
        seq: u64,
        mut members: Vec<Member>,
        chosen: usize,
        why: Why,
        report: &mut StoreReport,
    ) {
        let good_first = members.iter().position(|m| m.ok != Some(false));
        let m = &members[chosen];
        let mut damaged = false;
        if members.len() == 1 {
            if m.ok == Some(false) {
                let rel = self.rel(m.loc).to_string();
                report.push(
                    Problem::error(
                        ProblemKind::ChangedRecord,
                        format!("chainSeq {seq}: the record does not match its chain hash (its bytes were changed, or the previous record was rewritten)"),
                    )
                    .at(&rel, m.loc.line)
                    .seqs(seq, seq),
                );
                damaged = true;
            }
        } else {
            damaged = true;
            let genuine = format!("{}:{}", self.rel(m.loc), m.loc.line);
            for (i, other) in members.iter().enumerate() {
                if i == chosen {
                    continue;
                }
                let rel = self.rel(other.loc).to_string();
                let (kind, msg) = if other.ok != Some(false) && other.claimed == m.claimed {
                    (
                        ProblemKind::DuplicateRecord,
                        format!("chainSeq {seq}: a copy of the record at {genuine}"),
                    )
                } else if other.ok != Some(false) && !matches!(why, Why::Chains) {
                    let before = seq - 1;
                    let reason = match why {
                        Why::Signed(who) => format!(
                            "checkpoint line {} signs the chain hash of the record at {genuine}",
                            self.checkpoint_lines[who]
                        ),
                        Why::Next(loc) => format!(
                            "the chain goes on from the record at {genuine} (chainSeq {} at {}:{} chains from it)",
                            seq + 1,
                            self.rel(loc),
                            loc.line
                        ),
                        _ => format!(
                            "nothing signed and no record after them tells which of the two is genuine: the record at {genuine} was taken as it"
                        ),
                    };
                    let forged = if matches!(why, Why::Unresolved) {
                        "a second line"
                    } else {
                        "an inserted or forged line"
                    };
                    (
                        ProblemKind::InsertedRecord,
                        format!("chainSeq {seq}: {forged} that chains on from chainSeq {before} as well, but {reason}"),
                    )
                } else if good_first.is_none() {
                    (
                        ProblemKind::InsertedRecord,
                        format!(
                            "chainSeq {seq} appears {} times and none chains (also at {genuine})",
                            members.len()
                        ),
                    )
                } else {
                    (
                        ProblemKind::InsertedRecord,
                        format!("chainSeq {seq}: an inserted or forged line that does not chain (the genuine record is at {genuine})"),
                    )
                };
                report.push(
                    Problem::error(kind, msg)
                        .at(&rel, other.loc.line)
                        .seqs(seq, seq),
                );
            }
        }
        if damaged {
            self.result.damaged.push((seq, seq));
        }
        let has = |h: &[u8; 32]| members.iter().any(|m| &m.claimed == h);
        if let Some(exps) = self.checkpoints.get(&seq) {
            for e in exps {
                if !has(&e.hash) {
                    let rel = self.rel(m.loc).to_string();
                    let place = &self.checkpoint_lines[e.who];
                    report.push(
                        Problem::error(
                            ProblemKind::CheckpointMismatch,
                            format!(
                                "checkpoint at {place} vouches for chain hash {} at chainSeq {seq}, the store has {} ({rel}:{}): records up to {seq} were rewritten",
                                hex::encode(e.hash),
                                hex::encode(m.claimed),
                                m.loc.line
                            ),
                        )
                        .at(&place.file, place.line)
                        .seqs(seq, seq),
                    );
                    self.result.damaged.push((1, seq));
                }
            }
        }
        if let Some(exps) = self.receipts.get(&seq) {
            for e in exps {
                self.result.receipt_hash_ok.insert(e.who, has(&e.hash));
            }
        }
        self.tree.record(
            ChainLink {
                seq,
                hash: m.claimed,
            },
            report,
        );
        let left = self.leftovers.is_some() && self.deletions.contains(seq);
        if left {
            let signed = self
                .checkpoints
                .get(&seq)
                .map(|exps| exps.iter().any(|e| e.hash == m.claimed));
            if let Some(l) = self.leftovers.as_mut() {
                l.take(Seen {
                    seq,
                    hash: m.claimed,
                    loc: m.loc,
                    ok: m.ok,
                    prev: self.prev_from,
                    signed,
                });
            }
        }
        let alt = (m.ok == Some(false)).then_some(m.computed);
        self.prev = Some((m.claimed, alt));
        self.prev_from = if left {
            PrevFrom::Leftover
        } else {
            PrevFrom::Confirmed
        };
        self.result.last_seq = seq;
        self.result.last_loc = Some(m.loc);
        members.clear();
        self.members = members;
    }
}

/// Of the members `ok` accepts, the one in the folder the layout puts it in, else the
/// first; the first member when none is accepted. Of exact copies (all chaining), the
/// genuine one is the record in its folder: a segment copied into another folder by
/// mistake holds the same bytes, and which file the merge hands over first varies
/// record by record, so the original was called "a copy of" the misplaced file for
/// some records (an operator removing what verify names as copies would remove them).
/// Within one folder (or among copies all misplaced), the genuine one is the record in
/// the segment whose name is its first record's chainSeq, as the store names every
/// segment: a segment copied under another name in its own folder was otherwise the
/// original for every other record.
fn pick(members: &[Member], files: &[RecordFile], ok: impl Fn(&Member) -> bool) -> usize {
    let named = |m: &Member| {
        files
            .get(m.loc.file as usize)
            .is_some_and(|f| f.named_by_first)
    };
    // In its folder first, then in a file named by its first record, then the first.
    let rank = |m: &Member| (!m.loc.placed, !named(m));
    members
        .iter()
        .enumerate()
        .filter(|(_, m)| ok(m))
        .min_by_key(|&(i, m)| (rank(m), i))
        .map_or(0, |(i, _)| i)
}

fn line_of(loc: Loc) -> u64 {
    loc.line
}

/// Per file: the first chainSeq of the next segment in the same folder, `u64::MAX` for a
/// folder's newest (the server writes a folder's records to its newest segment, so a
/// file stops taking records where the next one starts).
fn superseded_at(files: &[RecordFile]) -> Vec<u64> {
    fn folder(f: &RecordFile) -> &str {
        f.rel.rsplit_once('/').map_or("", |(dir, _)| dir)
    }
    let mut order: Vec<usize> = (0..files.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        (folder(&files[a]), files[a].first_seq).cmp(&(folder(&files[b]), files[b].first_seq))
    });
    let mut at = vec![u64::MAX; files.len()];
    for pair in order.windows(2) {
        let (a, b) = (&files[pair[0]], &files[pair[1]]);
        if folder(a) == folder(b) {
            at[pair[0]] = b.first_seq;
        }
    }
    at
}
