//! Opening a store after a clean stop or a crash: cut torn tails, cut the records of
//! an interrupted batch, set unreadable files aside, and find where the chain resumes.
//!
//! Nothing is ever thrown away: bytes cut from a segment are appended to a sidecar
//! `<segment>.jsonl.cut` and unreadable files are renamed `<segment>.jsonl.corrupt`,
//! each with a log line, so an operator (and `auditrail verify`) can look at them.
//!
//! A line of a chained store is a record to recovery when its chain fields are in the
//! form the store writes them ([`parse_line`]) and, if its chainSeq is above the last
//! checkpoint's (never signed: this start signs it, as recovered), it is a readable
//! stored event ([`StoredEvent::read`], the judgment of `auditrail verify` and
//! queries): a line a start vouches for must be one they read as an event. (At or
//! below it, a line was acknowledged and signed: it is never cut, and an unreadable
//! event there is verify's to name.) Every line that is no record is logged with its
//! file, line number and why (an error when it has chain fields: no torn write
//! chains).
//!
//! Rules, in order:
//! 1. An empty segment file is removed (a crash right after it was created).
//! 2. A file with complete lines of which none is a record is set aside (`.corrupt`).
//! 3. The tail of a file after its last record (a line without `\n`, or complete
//!    lines that are no record) is cut.
//! 4. The chain is store-wide and a batch is acknowledged only after all its files
//!    are fsynced, so records numbered after the first missing number *above the
//!    last acknowledged point* belong to a batch that was never acknowledged: they
//!    are cut too. Only when the store shows no other damage (no interior line that is
//!    no record, no `.corrupt` file, no number seen twice) and at most
//!    [`MAX_UNACKED_RECORDS`] records would go: anything else is not a crash artefact
//!    but damage or tampering, which is left in place, logged as an error, and
//!    reported by the verifier. The last acknowledged point is the chain number of
//!    the store's last checkpoint ([`crate::root::checkpoint_log_facts`]): numbers
//!    missing at or below it (a partition folder removed by hand, a backup restored
//!    without it) are logged as an error with the range and the folders around it
//!    ([`RecoveryReport::missing_acknowledged`]) and never make recovery cut anything.
//! 5. The chain resumes from the link of the highest record left.

use std::collections::{BTreeMap, HashMap};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::chain::{parse_line, ChainLink};
use crate::error::StoreError;
use crate::handle::Shared;
use crate::merkle::{leaf_hash, CompactRange};
use crate::read::SegmentReader;
use crate::stored_event::StoredEvent;
use crate::walk::{StoreFiles, CORRUPT_SUFFIX, CUT_SUFFIX};
use crate::writer::MAX_UNACKED_RECORDS;

/// What opening the store found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    /// Segment files found (after removals and set-asides).
    pub segments: u64,
    /// Records kept.
    pub records: u64,
    /// Files whose torn tail was cut.
    pub torn_tails_cut: u64,
    /// Bytes cut as torn tails.
    pub tail_bytes_cut: u64,
    /// Records cut because they came after a gap in the chain (an interrupted batch).
    pub records_cut_after_gap: u64,
    /// The first missing chain number, if any.
    pub first_gap: Option<u64>,
    /// A gap was found but left in place (damage, not a crash: see the module docs).
    pub gap_left_in_place: bool,
    /// Unparseable lines followed by good ones, left in place.
    pub damaged_lines: u64,
    /// Chain numbers found more than once.
    pub duplicate_chain_seqs: u64,
    /// Files set aside, by their new name.
    pub corrupt_files: Vec<PathBuf>,
    /// Empty segment files removed.
    pub empty_files_removed: u64,
    /// The highest chain number known to be acknowledged (the last checkpoint's); 0
    /// when none. Records at or below it are never cut.
    pub acknowledged_seq: u64,
    /// Chain ranges (first, last; inclusive) at or below [`Self::acknowledged_seq`]
    /// that no segment holds: acknowledged records removed after the fact (partition
    /// folders deleted by hand, a backup restored without them). Reported, never
    /// repaired; at most [`MAX_REPORTED_RANGES`] ranges are listed.
    pub missing_acknowledged: Vec<(u64, u64)>,
    /// The link of the record at [`Self::acknowledged_seq`] as the store holds it
    /// (`None` when there is none, or that record is missing): the integrity layer
    /// compares it with the checkpoint before signing anything more.
    pub acknowledged_link: Option<ChainLink>,
}

/// At most this many missing ranges are listed in a [`RecoveryReport`].
pub const MAX_REPORTED_RANGES: usize = 1000;

/// The state a writer resumes from.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub(crate) last: ChainLink,
    pub(crate) next_record: u64,
    /// Per partition folder (relative to the root): its newest segment and length.
    pub(crate) segments: HashMap<PathBuf, (PathBuf, u64)>,
    pub(crate) report: RecoveryReport,
    /// The Merkle frontier at `last` (see [`restore_tree`]).
    pub(crate) tree: Option<CompactRange>,
    /// The chain ranges the checkpoint log records as deleted.
    pub(crate) recorded_deletions: crate::recorded_deletions::RecordedDeletions,
}

/// Records replayed into the Merkle tree at open at most (their links are held in
/// memory, 40 bytes each): the records after the checkpoint log's last frontier, which
/// the integrity layer writes at least every few thousand records. Only a store that
/// was written long without one (kept before the tree existed) has more; its tree
/// heads are then not signed.
const MAX_TREE_REPLAY: usize = 1 << 23;

struct SegmentFile {
    first_in_name: u64,
    path: PathBuf,
    rel_dir: PathBuf,
    len: u64,
    min_seq: u64,
    max_seq: u64,
    good: u64,
}

/// Puts on disk whatever the last run wrote that may still be only in the page cache
/// (a run killed under a flush policy, or between a durable store's write and its
/// fsync), before the records are read: from here on a record read at open counts as
/// on disk (a duplicate of it is answered `durable: true`, and this start's
/// checkpoint line signs it), which holds only once it is. One `syncfs(2)` of the
/// store's file system (Linux; `sync(2)` elsewhere), at open only.
fn sync_what_the_last_run_wrote(root: &Path) -> Result<(), StoreError> {
    #[cfg(target_os = "linux")]
    {
        let dir = fs::File::open(root).map_err(|e| StoreError::io(root, e))?;
        rustix::fs::syncfs(&dir).map_err(|e| StoreError::io(root, e.into()))?;
    }
    #[cfg(not(target_os = "linux"))]
    rustix::fs::sync();
    Ok(())
}

/// Recovers the store at `root` (see the module docs). `chained`: records carry chain
/// links (otherwise they are plain JSON objects, one per line). `walked`: the store's
/// files as the caller found them just before, under the store's lock (the caller
/// checked them already: the layout, whether records are chained).
pub(crate) fn recover(
    root: &Path,
    chained: bool,
    shared: &Shared,
    walked: StoreFiles,
    progress: &crate::ReadProgress,
) -> Result<Recovered, StoreError> {
    sync_what_the_last_run_wrote(root)?;
    let mut report = RecoveryReport::default();
    let mut files: Vec<SegmentFile> = Vec::new();
    let mut seen = SeqSet::default();
    let mut max_link = ChainLink::GENESIS;
    let mut max_name = 0u64;
    let mut plain_records = 0u64;
    // One read of the checkpoint log: the acknowledged floor, the Merkle frontier and
    // the ranges retention deleted. A plain (unchained) store has no use for it.
    let log = if chained {
        crate::root::checkpoint_log_facts(root)?
    } else {
        crate::root::CheckpointLogFacts::default()
    };
    // The tree resumes from the log's last frontier; the records after it are replayed.
    let tree_base = log.frontier;
    let tree_from = tree_base.as_ref().map_or(0, CompactRange::end);
    let mut replay: Vec<ChainLink> = Vec::new();
    let mut replay_overflow = false;
    // Records up to the last checkpointed number were acknowledged: whatever is
    // missing there was removed after the fact, never an interrupted write. Records
    // after it are signed by this start: each must be a readable stored event.
    let floor = log.last_link.map_or(0, |l| l.seq);

    for segment in walked.segments() {
        // Between two files: each repair below is complete by itself (as after a
        // crash), and the next open runs the whole recovery again.
        progress.check(root)?;
        let first = segment.first_record().unwrap_or(0);
        let path = segment.path.clone();
        max_name = max_name.max(first);
        let scan = scan_file(SegmentReader::open(&path)?, chained, floor)?;
        progress.file_read(scan.len);
        if scan.len == 0 {
            fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
            report.empty_files_removed += 1;
            continue;
        }
        if scan.complete_lines > 0 && scan.good == 0 {
            let aside = set_aside(&path)?;
            tracing::error!(file = %path.display(), moved_to = %aside.display(), lines = scan.complete_lines, "store segment has no readable record: set aside");
            log_bad_lines(
                &path,
                &scan.trailing_bad,
                &format!("set aside with its file as {}", aside.display()),
            );
            shared.counters.corrupt_files.inc();
            report.corrupt_files.push(aside);
            continue;
        }
        if !scan.damaged_lines.is_empty() {
            let numbers: Vec<u64> = scan.damaged_lines.iter().map(|l| l.number).collect();
            tracing::error!(file = %path.display(), lines = ?numbers, "store segment has unreadable lines between readable records: left in place (run `auditrail verify`)");
            log_bad_lines(
                &path,
                &scan.damaged_lines,
                "left in place between readable records (run `auditrail verify`)",
            );
            report.damaged_lines += scan.damaged_lines.len() as u64;
        }
        let mut len = scan.len;
        if scan.good_end < scan.len {
            log_bad_lines(&path, &scan.trailing_bad, &format!("cut with the file's tail after its last readable record (kept in {}{CUT_SUFFIX})", path.display()));
            let cut = cut_aside(&path, scan.good_end)?;
            tracing::warn!(file = %path.display(), offset = scan.good_end, bytes = cut, "torn tail cut (kept in {}{CUT_SUFFIX})", path.display());
            shared.counters.torn_tails_cut.inc();
            report.torn_tails_cut += 1;
            report.tail_bytes_cut += cut;
            len = scan.good_end;
        }
        if len == 0 {
            fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
            report.empty_files_removed += 1;
            continue;
        }
        for link in &scan.links {
            if !seen.insert(link.seq) {
                report.duplicate_chain_seqs += 1;
            }
            if link.seq > max_link.seq {
                max_link = *link;
            }
            if link.seq > tree_from {
                if replay.len() < MAX_TREE_REPLAY {
                    replay.push(*link);
                } else {
                    replay_overflow = true;
                }
            }
        }
        plain_records += scan.good;
        files.push(SegmentFile {
            first_in_name: first,
            path,
            rel_dir: segment.dir.clone(),
            len,
            min_seq: scan.links.first().map_or(0, |l| l.seq),
            max_seq: scan.links.last().map_or(0, |l| l.seq),
            good: scan.good,
        });
    }
    if report.duplicate_chain_seqs > 0 {
        tracing::error!(count = report.duplicate_chain_seqs, "chain numbers found more than once in the store: left in place (run `auditrail verify`)");
    }

    let mut last = max_link;
    if chained {
        report.acknowledged_seq = floor;
        let gaps = seen.gaps(floor, MAX_REPORTED_RANGES);
        // Ranges that retention deleted (recorded in the checkpoint log before their
        // files were removed) are not missing: only what no line explains is.
        let (explained, unexplained) = subtract_ranges(&gaps, log.deleted.clone());
        if explained > 0 {
            tracing::info!(
                records = explained,
                "chain ranges deleted by retention (recorded in the checkpoint log)"
            );
        }
        report.missing_acknowledged = unexplained;
        for &(first, last_missing) in report.missing_acknowledged.iter().take(10) {
            let near = |seq: u64| {
                files
                    .iter()
                    .find(|f| f.min_seq <= seq && seq <= f.max_seq)
                    .map(|f| f.rel_dir.display().to_string())
            };
            let before = first.checked_sub(1).and_then(near);
            let after = last_missing.checked_add(1).and_then(near);
            tracing::error!(
                first_missing = first,
                last_missing,
                records = last_missing - first + 1,
                acknowledged_up_to = floor,
                folder_before = before.as_deref().unwrap_or("-"),
                folder_after = after.as_deref().unwrap_or("-"),
                "acknowledged records are missing from the store (a partition folder or segment removed by hand, or a backup restored without it): nothing is cut for it; run `auditrail verify`"
            );
        }
        let after_floor = floor.checked_add(1);
        if let Some(gap) = after_floor.and_then(|f| seen.first_gap_from(f, max_link.seq)) {
            report.first_gap = Some(gap);
            let after = seen.count_above(gap);
            let damaged = report.damaged_lines > 0
                || !report.corrupt_files.is_empty()
                || report.duplicate_chain_seqs > 0;
            if damaged || after > MAX_UNACKED_RECORDS {
                report.gap_left_in_place = true;
                tracing::error!(first_missing = gap, records_after = after, "chain gap that no interrupted batch explains (damage or tampering): nothing cut; run `auditrail verify`");
            } else {
                for f in files.iter_mut().filter(|f| f.max_seq >= gap) {
                    let cut = cut_from_seq(&f.path, gap)?;
                    tracing::warn!(file = %f.path.display(), first_missing = gap, records = cut.records, bytes = cut.bytes, "records after a chain gap cut: an interrupted, never acknowledged batch (kept in {}.cut)", f.path.display());
                    report.records_cut_after_gap += cut.records;
                    shared.counters.records_cut.add(cut.records);
                    f.len = cut.new_len;
                    f.good -= cut.records;
                }
                for f in files.iter().filter(|f| f.len == 0) {
                    fs::remove_file(&f.path).map_err(|e| StoreError::io(&f.path, e))?;
                    report.empty_files_removed += 1;
                }
                files.retain(|f| f.len > 0);
                last = find_link(root, &files, gap - 1, floor)?;
            }
        }
        if floor > 0 {
            report.acknowledged_link = find_link_opt(&files, floor, floor)?;
        }
    }

    let mut newest: HashMap<PathBuf, &SegmentFile> = HashMap::new();
    for f in &files {
        let newer = newest
            .get(&f.rel_dir)
            .is_none_or(|n| n.first_in_name < f.first_in_name);
        if newer {
            newest.insert(f.rel_dir.clone(), f);
        }
    }
    let segments: HashMap<PathBuf, (PathBuf, u64)> = newest
        .into_iter()
        .map(|(dir, f)| (dir, (f.path.clone(), f.len)))
        .collect();
    report.segments = files.len() as u64;
    report.records = files.iter().map(|f| f.good).sum();
    let next_record = if chained {
        // A chain at 2^64-1 can take no record: only a damaged or forged line puts it
        // there (a store adds one number per record).
        last.seq
            .checked_add(1)
            .ok_or_else(|| StoreError::ChainExhausted {
                root: root.to_path_buf(),
            })?
    } else {
        plain_records.max(max_name) + 1
    };
    let tree = if chained {
        restore_tree(root, tree_base, replay, replay_overflow, last)
    } else {
        None
    };
    Ok(Recovered {
        last: if chained { last } else { ChainLink::GENESIS },
        next_record,
        segments,
        report,
        tree,
        recorded_deletions: crate::recorded_deletions::RecordedDeletions::new(log.deleted),
    })
}

/// The Merkle frontier at `last`: the log's last frontier (`base`, or the empty tree)
/// extended by the records after it, which must be there one by one. `None` (with a
/// warning) when it cannot be: records missing or doubled after the frontier, a
/// frontier beyond the store's end, or records deleted before the store kept a tree
/// (their leaves are gone). Checkpoints are then signed without tree heads.
fn restore_tree(
    root: &Path,
    base: Option<CompactRange>,
    mut replay: Vec<ChainLink>,
    overflow: bool,
    last: ChainLink,
) -> Option<CompactRange> {
    let mut tree = base.unwrap_or_else(|| CompactRange::new(0));
    let give_up = |why: String| {
        tracing::warn!(store = %root.display(), reason = %why, "the store's Merkle tree cannot be restored: checkpoints are signed without tree heads (inclusion proofs need them)");
        None
    };
    if tree.end() > last.seq {
        return give_up(format!(
            "the checkpoint log's frontier covers {} records, the store ends at {}",
            tree.end(),
            last.seq
        ));
    }
    if overflow {
        return give_up(format!(
            "more than {MAX_TREE_REPLAY} records after the last frontier"
        ));
    }
    replay.retain(|l| l.seq <= last.seq);
    replay.sort_unstable_by_key(|l| l.seq);
    for link in replay {
        if link.seq != tree.end() + 1 {
            return give_up(format!(
                "chainSeq {} follows {} (records missing, doubled, or deleted before the tree was kept)",
                link.seq,
                tree.end()
            ));
        }
        tree.push_leaf(leaf_hash(&link));
    }
    if tree.end() != last.seq {
        return give_up(format!(
            "the records end at {} before {}",
            tree.end(),
            last.seq
        ));
    }
    Some(tree)
}

/// The parts of `gaps` that no range of `covered` covers, and how many numbers were
/// covered. Both are inclusive ranges; `gaps` is sorted.
fn subtract_ranges(gaps: &[(u64, u64)], mut covered: Vec<(u64, u64)>) -> (u64, Vec<(u64, u64)>) {
    covered.sort_unstable();
    let mut out = Vec::new();
    let mut explained = 0;
    for &(first, last) in gaps {
        let mut at = first;
        // Covered up to the gap's end (`at` cannot pass 2^64-1 to say so).
        let mut done = false;
        for &(a, b) in covered.iter().filter(|(a, b)| *b >= first && *a <= last) {
            if a > at {
                out.push((at, a - 1));
            }
            let upto = b.min(last);
            if upto >= at.max(a) {
                explained = u64::saturating_add(explained, upto - at.max(a) + 1);
            }
            match upto.checked_add(1) {
                Some(next) if next <= last => at = at.max(next),
                _ => {
                    done = true;
                    break;
                }
            }
        }
        if !done && at <= last {
            out.push((at, last));
        }
    }
    (explained, out)
}

struct FileScan {
    /// Bytes in the file.
    len: u64,
    complete_lines: u64,
    good: u64,
    /// Offset just after the last good line.
    good_end: u64,
    links: Vec<ChainLink>,
    /// Complete lines that are no record, followed by a record (damage, left in place).
    damaged_lines: Vec<BadLine>,
    /// Complete lines that are no record after the file's last record (cut with the
    /// torn tail).
    trailing_bad: Vec<BadLine>,
}

/// A complete line recovery does not keep as a record, and why.
#[derive(Debug)]
struct BadLine {
    /// 1-based line number in its file.
    number: u64,
    /// Why it is no record (the reader's error).
    why: String,
    /// It carries chain fields in the form the store writes them: not a torn write
    /// (which cannot chain), but a line written or changed whole.
    sealed: bool,
}

/// Lines named one by one in the log, per file and kind (the rest are counted).
const LOGGED_LINES: usize = 10;

/// Whether a chained line is a record recovery keeps, its link if so. A line numbered
/// at or below `floor` (the last checkpoint's chainSeq: acknowledged, signed) needs
/// only its chain fields: it is never cut, and whether its event is readable is
/// `auditrail verify`'s to say (judging it here would parse every line of the store at
/// each start). A line numbered above it was never signed, and the next start signs it
/// (as recovered): it must be what verify and queries read as an event, a readable
/// stored event ([`StoredEvent::read`]), or it would be vouched for as one.
fn kept_link(line: &[u8], floor: u64) -> Result<ChainLink, BadLine> {
    let bad = |why: String, sealed: bool| BadLine {
        number: 0,
        why,
        sealed,
    };
    let link = parse_line(line)
        .map_err(|e| bad(e.to_string(), false))?
        .link;
    if link.seq > floor {
        StoredEvent::read(line).map_err(|e| bad(format!("no readable stored event: {e}"), true))?;
    }
    Ok(link)
}

/// Classifies every line of a segment. `floor`: see [`kept_link`].
fn scan_file<R: Read>(
    mut reader: SegmentReader<R>,
    chained: bool,
    floor: u64,
) -> Result<FileScan, StoreError> {
    let mut s = FileScan {
        len: 0,
        complete_lines: 0,
        good: 0,
        good_end: 0,
        links: Vec::new(),
        damaged_lines: Vec::new(),
        trailing_bad: Vec::new(),
    };
    while reader.next_chunk()? {
        for line in reader.chunk().lines() {
            s.complete_lines += 1;
            let judged = if chained {
                kept_link(line.bytes, floor).map(|link| s.links.push(link))
            } else {
                // A plain store (`chain = false`, kept only to measure what chaining
                // costs) is never signed: a line is a record when it is an object.
                (line.bytes.first() == Some(&b'{') && line.bytes.last() == Some(&b'}'))
                    .then_some(())
                    .ok_or(BadLine {
                        number: 0,
                        why: "not a JSON object".into(),
                        sealed: false,
                    })
            };
            match judged {
                Ok(()) => {
                    s.good += 1;
                    s.good_end = line.end();
                    s.damaged_lines.append(&mut s.trailing_bad);
                }
                Err(bad) => s.trailing_bad.push(BadLine {
                    number: line.number,
                    ..bad
                }),
            }
        }
    }
    s.len = reader.bytes_read();
    Ok(s)
}

/// Logs the lines of `path` recovery does not keep as records (`what` says what it
/// does with them), the first [`LOGGED_LINES`] each with its number and why. A line
/// with chain fields is damage, never a torn write: an error.
fn log_bad_lines(path: &Path, lines: &[BadLine], what: &str) {
    for l in lines.iter().take(LOGGED_LINES) {
        if l.sealed {
            tracing::error!(file = %path.display(), line = l.number, reason = %l.why, "store segment line with chain fields is no readable record (damage or tampering, never a torn write): {what}");
        } else {
            tracing::warn!(file = %path.display(), line = l.number, reason = %l.why, "store segment line is no readable record: {what}");
        }
    }
    if lines.len() > LOGGED_LINES {
        tracing::warn!(file = %path.display(), lines = lines.len(), "store segment has more lines that are no readable record than the {LOGGED_LINES} named: {what}");
    }
}

/// Cuts `path` back to `offset` without losing a byte: what follows `offset` is first
/// appended to the sidecar `<path>.cut` (created if need be), which is fsynced with its
/// folder (its name must survive whatever follows), then `path` is truncated and
/// fsynced. Returns the number of bytes cut.
///
/// The one way every file of a store is cut (a segment's torn tail, the records of an
/// interrupted batch, a torn checkpoint line): evidence is never discarded, the caller
/// logs the file, the offset and the length. Run again after a crash between the copy
/// and the truncation, it finds the sidecar already ending with those bytes, written
/// after `path` last changed, and only truncates: the bytes are kept once. The same
/// bytes torn again later (`path` written after the sidecar) are appended again.
pub fn cut_aside(path: &Path, offset: u64) -> Result<u64, StoreError> {
    let mut cut = Vec::new();
    auditrail_core::regular_file::open(OpenOptions::new().read(true), path)
        .and_then(|mut f| {
            f.seek(SeekFrom::Start(offset))?;
            f.read_to_end(&mut cut)
        })
        .map_err(|e| StoreError::io(path, e))?;
    let mut side_name = path.as_os_str().to_owned();
    side_name.push(CUT_SUFFIX);
    let side = PathBuf::from(side_name);
    // Neither the sidecar nor the file cut through a symbolic link at its name: what
    // it points to, outside the store, would be appended to or cut.
    let mut f = auditrail_core::regular_file::open_no_follow(
        // The cut-off records are stored events too: not readable by everyone.
        auditrail_core::file_mode::audit_data(
            OpenOptions::new().create(true).read(true).append(true),
        ),
        &side,
    )
    .map_err(|e| StoreError::io(&side, e))?;
    if !already_set_aside(path, &mut f, &cut).map_err(|e| StoreError::io(&side, e))? {
        f.write_all(&cut).map_err(|e| StoreError::io(&side, e))?;
    }
    f.sync_all().map_err(|e| StoreError::io(&side, e))?;
    // Before the truncation: a crash must not leave the cut durable and the sidecar's
    // name (a new file) lost.
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    auditrail_core::durable::sync_dir(dir).map_err(|e| StoreError::io(dir, e))?;
    let file = auditrail_core::regular_file::open_no_follow(OpenOptions::new().write(true), path)
        .map_err(|e| StoreError::io(path, e))?;
    file.set_len(offset)
        .and_then(|()| file.sync_all())
        .map_err(|e| StoreError::io(path, e))?;
    Ok(cut.len() as u64)
}

/// Whether the sidecar `side` already holds `cut` (the bytes after the cut's offset in
/// `path`) from a run of [`cut_aside`] that stopped before its truncation: it ends
/// with them and `path` was not modified after it (a file cut, then written to and
/// torn again with the same bytes, was modified after its sidecar).
fn already_set_aside(path: &Path, side: &mut File, cut: &[u8]) -> io::Result<bool> {
    let side_meta = side.metadata()?;
    let n = cut.len() as u64;
    if cut.is_empty() || side_meta.len() < n {
        return Ok(false);
    }
    if fs::metadata(path)?.modified()? > side_meta.modified()? {
        return Ok(false);
    }
    let mut tail = vec![0u8; cut.len()];
    side.seek(SeekFrom::Start(side_meta.len() - n))?;
    side.read_exact(&mut tail)?;
    Ok(tail == cut)
}

struct Cut {
    records: u64,
    bytes: u64,
    new_len: u64,
}

/// Cuts every record numbered `from` or more (a suffix: numbers grow within a file).
fn cut_from_seq(path: &Path, from: u64) -> Result<Cut, StoreError> {
    let mut cut_at = None;
    let mut records = 0;
    let reader = SegmentReader::open(path)?;
    reader.for_each_line(|line| {
        if let Ok(p) = line.sealed() {
            if p.link.seq >= from {
                cut_at.get_or_insert(line.offset);
                records += 1;
            }
        }
    })?;
    let len = fs::metadata(path)
        .map_err(|e| StoreError::io(path, e))?
        .len();
    let Some(at) = cut_at else {
        return Ok(Cut {
            records: 0,
            bytes: 0,
            new_len: len,
        });
    };
    let bytes = cut_aside(path, at)?;
    Ok(Cut {
        records,
        bytes,
        new_len: at,
    })
}

/// The link of record `seq` (genesis for 0), the chain's head after a cut.
fn find_link(
    root: &Path,
    files: &[SegmentFile],
    seq: u64,
    floor: u64,
) -> Result<ChainLink, StoreError> {
    match find_link_opt(files, seq, floor)? {
        Some(link) => Ok(link),
        // `seq` is below the first gap, so it was read: only a cut of a damaged or
        // forged line that carried it can have taken it away.
        None => Err(StoreError::ChainHeadMissing {
            root: root.to_path_buf(),
            seq,
        }),
    }
}

/// The link of record `seq` among the lines the scan kept (`floor`: see [`kept_link`]).
fn find_link_opt(
    files: &[SegmentFile],
    seq: u64,
    floor: u64,
) -> Result<Option<ChainLink>, StoreError> {
    if seq == 0 {
        return Ok(Some(ChainLink::GENESIS));
    }
    // The files whose first and last records bracket `seq` first; then the others: a
    // damaged or forged line at a file's start or end moves its bracket.
    let (likely, others): (Vec<&SegmentFile>, Vec<&SegmentFile>) = files
        .iter()
        .partition(|f| f.min_seq <= seq && seq <= f.max_seq);
    for f in likely.into_iter().chain(others) {
        let mut found = None;
        SegmentReader::open(&f.path)?.for_each_line(|line| {
            if let Ok(link) = kept_link(line.bytes, floor) {
                if link.seq == seq {
                    found.get_or_insert(link);
                }
            }
        })?;
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

/// Renames an unreadable file to `<name>.corrupt` (or `.corrupt.N` if taken).
fn set_aside(path: &Path) -> Result<PathBuf, StoreError> {
    for n in 0..1000 {
        let mut name = path.as_os_str().to_owned();
        name.push(CORRUPT_SUFFIX);
        if n > 0 {
            name.push(format!(".{n}"));
        }
        let target = PathBuf::from(name);
        if !target.exists() {
            fs::rename(path, &target).map_err(|e| StoreError::io(path, e))?;
            if let Some(dir) = path.parent() {
                File::open(dir)
                    .and_then(|d| d.sync_all())
                    .map_err(|e| StoreError::io(dir, e))?;
            }
            return Ok(target);
        }
    }
    Err(StoreError::io(
        path,
        io::Error::other("cannot find a free name to set the corrupt file aside"),
    ))
}

/// Which chain numbers exist, as disjoint, non-adjacent ranges (first -> last,
/// inclusive). Memory follows the number of runs, not the highest number: a store's
/// chain is one run (a few after damage), and a number read from a damaged or forged
/// line, up to 2^64-1, costs one entry. (A bitmap indexed by number tried to allocate
/// 2^61 bytes for a forged `chainSeq` and aborted the server at start.)
#[derive(Default)]
struct SeqSet {
    ranges: BTreeMap<u64, u64>,
}

impl SeqSet {
    /// Inserts `seq`; false when it was already there.
    fn insert(&mut self, seq: u64) -> bool {
        if self.contains(seq) {
            return false;
        }
        let (mut first, mut last) = (seq, seq);
        if let Some((&s, &e)) = self.ranges.range(..seq).next_back() {
            if e.checked_add(1) == Some(seq) {
                first = s;
            }
        }
        if let Some(e) = seq
            .checked_add(1)
            .and_then(|next| self.ranges.remove(&next))
        {
            last = e;
        }
        self.ranges.insert(first, last);
        true
    }

    fn contains(&self, seq: u64) -> bool {
        self.ranges
            .range(..=seq)
            .next_back()
            .is_some_and(|(_, &e)| seq <= e)
    }

    /// The first number in `1..=max` that is missing.
    #[cfg(test)]
    fn first_gap(&self, max: u64) -> Option<u64> {
        self.first_gap_from(1, max)
    }

    /// The first number in `from..=max` that is missing.
    fn first_gap_from(&self, from: u64, max: u64) -> Option<u64> {
        let mut seq = from.max(1);
        if let Some((_, &e)) = self.ranges.range(..=seq).next_back() {
            if seq <= e {
                // Ranges never touch: the number after one is missing.
                seq = e.checked_add(1)?;
            }
        }
        (seq <= max).then_some(seq)
    }

    /// The missing ranges in `1..=to` (first, last; inclusive), at most `limit`.
    fn gaps(&self, to: u64, limit: usize) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut from = 1;
        while out.len() < limit {
            let Some(first) = self.first_gap_from(from, to) else {
                break;
            };
            // `first` is missing, so the next range (if any) starts after it.
            let last = match self.ranges.range(first..).next() {
                Some((&s, _)) => (s - 1).min(to),
                None => to,
            };
            out.push((first, last));
            match last.checked_add(1) {
                Some(next) => from = next,
                None => break,
            }
        }
        out
    }

    /// How many numbers above `seq` exist.
    fn count_above(&self, seq: u64) -> u64 {
        let Some(above) = seq.checked_add(1) else {
            return 0;
        };
        self.ranges
            .iter()
            .filter(|(_, &e)| e >= above)
            .map(|(&s, &e)| e - s.max(above) + 1)
            .fold(0, u64::saturating_add)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A crash after the first run's copy to the sidecar, before its truncation: the
    /// next start cuts the same bytes again, and the sidecar keeps them once.
    #[test]
    fn a_cut_run_again_after_a_crash_before_the_truncation_keeps_the_bytes_once() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000001.jsonl");
        let side = dir.path().join("00000000000000000001.jsonl.cut");
        std::fs::write(&path, "good line\ntorn li").unwrap();
        // Earlier cuts' bytes, then what the interrupted run copied.
        std::fs::write(&side, "older cut\ntorn li").unwrap();
        assert_eq!(cut_aside(&path, 10).unwrap(), 7);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "good line\n");
        assert_eq!(
            std::fs::read_to_string(&side).unwrap(),
            "older cut\ntorn li"
        );
    }

    /// A file cut, then written to and torn again with the same bytes: a second cut,
    /// kept again.
    #[test]
    fn the_same_bytes_torn_again_after_a_cut_are_kept_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("00000000000000000001.jsonl");
        let side = dir.path().join("00000000000000000001.jsonl.cut");
        std::fs::write(&path, "good line\ntorn li").unwrap();
        cut_aside(&path, 10).unwrap();
        OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"torn li")
            .unwrap();
        // Written after the sidecar (whatever the clock's granularity).
        let later =
            fs::metadata(&side).unwrap().modified().unwrap() + std::time::Duration::from_secs(1);
        File::options()
            .write(true)
            .open(&path)
            .unwrap()
            .set_modified(later)
            .unwrap();
        cut_aside(&path, 10).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "good line\n");
        assert_eq!(std::fs::read_to_string(&side).unwrap(), "torn litorn li");
    }

    #[test]
    fn recorded_deletions_are_subtracted_from_gaps() {
        let (n, left) = subtract_ranges(&[(1, 10), (20, 30)], vec![(3, 4), (1, 2), (25, 40)]);
        assert_eq!(left, vec![(5, 10), (20, 24)]);
        assert_eq!(n, 4 + 6);
        let (n, left) = subtract_ranges(&[(5, 6)], vec![]);
        assert_eq!((n, left), (0, vec![(5, 6)]));
        // Numbers up to 2^64-1 (read from a damaged or forged line) do not overflow.
        let (n, left) = subtract_ranges(&[(5, u64::MAX)], vec![(7, u64::MAX)]);
        assert_eq!((n, left), (u64::MAX - 6, vec![(5, 6)]));
    }

    #[test]
    fn seq_set_finds_the_first_gap_and_counts_above_it() {
        let mut s = SeqSet::default();
        assert_eq!(s.first_gap(0), None);
        for n in (1..=200).filter(|n| *n != 130) {
            assert!(s.insert(n));
        }
        assert!(!s.insert(5));
        assert_eq!(s.first_gap(200), Some(130));
        assert_eq!(s.count_above(130), 70);
        assert_eq!(s.gaps(140, 10), vec![(130, 130)]);
        s.insert(130);
        assert_eq!(s.first_gap(200), None);
        assert_eq!(s.first_gap_from(131, 200), None);
        assert_eq!(s.first_gap_from(131, 201), Some(201));
        assert_eq!(s.gaps(140, 10), vec![]);
        let mut t = SeqSet::default();
        t.insert(2);
        assert_eq!(t.gaps(5, 10), vec![(1, 1), (3, 5)]);
        assert_eq!(t.first_gap(2), Some(1));
        assert_eq!(t.count_above(1), 1);
        // Far numbers (a damaged or forged line) cost one range, not a bitmap to them.
        let mut far = SeqSet::default();
        for n in [1, 2, 3, u64::MAX, u64::MAX - 1, 1 << 62] {
            assert!(far.insert(n));
        }
        assert_eq!(far.ranges.len(), 3);
        assert_eq!(far.first_gap_from(1, u64::MAX), Some(4));
        assert_eq!(far.first_gap_from(u64::MAX - 1, u64::MAX), None);
        assert_eq!(far.count_above(3), 3);
        assert_eq!(far.count_above(u64::MAX), 0);
        assert_eq!(
            far.gaps(u64::MAX, 10),
            vec![(4, (1 << 62) - 1), ((1 << 62) + 1, u64::MAX - 2)]
        );
    }

    /// A chained line whose event is no readable stored event: kept when it was
    /// signed (at or below the floor), no record above it, where a start would sign it.
    #[test]
    fn a_chained_line_that_is_no_readable_event_is_a_record_only_at_or_below_the_floor() {
        let event = r#"{"clientEvent":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T16:55:49.123Z","topic":"generic","node":"n1","seq":7,"message":{}},"origAddress":null,"serverTimestamp":"2026-11-25T16:55:50.000Z","keyId":null"#;
        let mut chain = crate::chain::Chain::genesis();
        let mut data = Vec::new();
        chain.seal(event.as_bytes(), &mut data);
        chain.seal(event.replace("01936f6e-", "").as_bytes(), &mut data);
        let at_floor = scan_file(SegmentReader::new(&data[..], "t"), true, 2).unwrap();
        assert_eq!((at_floor.good, at_floor.links.len()), (2, 2));
        let above = scan_file(SegmentReader::new(&data[..], "t"), true, 1).unwrap();
        assert_eq!((above.good, above.links.len()), (1, 1));
        let [bad] = above.trailing_bad.as_slice() else {
            panic!("{:?}", above.trailing_bad)
        };
        assert!(bad.number == 2 && bad.sealed, "{bad:?}");
        assert!(bad.why.contains("no readable stored event"), "{bad:?}");
    }

    #[test]
    fn interior_bad_lines_are_damage_and_trailing_ones_are_tail() {
        let data = b"{\"a\":1}\nxx\n{\"b\":2}\nyy\n{\"c\"";
        let s = scan_file(SegmentReader::new(&data[..], "t"), false, 0).unwrap();
        assert_eq!(s.good, 2);
        let damaged: Vec<u64> = s.damaged_lines.iter().map(|l| l.number).collect();
        assert_eq!(damaged, vec![2]);
        assert_eq!(&data[s.good_end as usize..], b"yy\n{\"c\"");
    }
}
