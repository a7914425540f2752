//! Opening a store after a clean stop or a crash: cut torn tails, cut the records of
//! an interrupted batch, set unreadable files aside, and find where the chain resumes.
//!
//! Nothing is ever thrown away: bytes cut from a segment are appended to a sidecar
//! `<segment>.jsonl.cut` and unreadable files are renamed `<segment>.jsonl.corrupt`,
//! each with a log line, so an operator (and `auditrail verify`) can look at them.
//!
//! Rules, in order:
//! 1. An empty segment file is removed (a crash right after it was created).
//! 2. A file with complete lines of which none parses is set aside (`.corrupt`).
//! 3. The tail of a file after its last line that parses (a line without `\n`, or
//!    complete lines that fail [`parse_line`]) is cut: a torn write.
//! 4. The chain is store-wide and a batch is acknowledged only after all its files
//!    are fsynced, so records numbered after the first missing number belong to a
//!    batch that was never acknowledged: they are cut too. Only when the store shows
//!    no other damage (no unparseable interior line, no `.corrupt` file, no number
//!    seen twice) and at most [`MAX_UNACKED_RECORDS`] records would go: anything else
//!    is not a crash artefact but damage or tampering, which is left in place, logged
//!    as an error, and reported by the verifier.
//! 5. The chain resumes from the link of the highest record left.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::integrity::chain::{parse_line, ChainLink};

use super::error::StoreError;
use super::handle::Shared;
use super::layout::parse_segment_file_name;
use super::writer::MAX_UNACKED_RECORDS;

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
}

/// The state a writer resumes from.
#[derive(Debug)]
pub(crate) struct Recovered {
    pub(crate) last: ChainLink,
    pub(crate) next_record: u64,
    /// Per partition folder (relative to the root): its newest segment and length.
    pub(crate) segments: HashMap<PathBuf, (PathBuf, u64)>,
    pub(crate) report: RecoveryReport,
}

struct SegmentFile {
    first_in_name: u64,
    path: PathBuf,
    rel_dir: PathBuf,
    len: u64,
    min_seq: u64,
    max_seq: u64,
    good: u64,
}

/// Every segment file under `root`: `(first number in the name, path)`, sorted.
pub(crate) fn segment_files(root: &Path) -> Result<Vec<(u64, PathBuf)>, StoreError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(StoreError::io(&dir, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| StoreError::io(&dir, e))?;
            let ft = entry
                .file_type()
                .map_err(|e| StoreError::io(entry.path(), e))?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else if ft.is_file() {
                if let Some(first) = entry.file_name().to_str().and_then(parse_segment_file_name) {
                    out.push((first, entry.path()));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Recovers the store at `root` (see the module docs). `chained`: records carry chain
/// links (otherwise they are plain JSON objects, one per line).
pub(crate) fn recover(
    root: &Path,
    chained: bool,
    shared: &Shared,
) -> Result<Recovered, StoreError> {
    fs::create_dir_all(root).map_err(|e| StoreError::io(root, e))?;
    let mut report = RecoveryReport::default();
    let mut files: Vec<SegmentFile> = Vec::new();
    let mut seen = SeqSet::default();
    let mut max_link = ChainLink::GENESIS;
    let mut max_name = 0u64;
    let mut plain_records = 0u64;

    for (first, path) in segment_files(root)? {
        max_name = max_name.max(first);
        let data = fs::read(&path).map_err(|e| StoreError::io(&path, e))?;
        if data.is_empty() {
            fs::remove_file(&path).map_err(|e| StoreError::io(&path, e))?;
            report.empty_files_removed += 1;
            continue;
        }
        let scan = scan_file(&data, chained);
        if scan.complete_lines > 0 && scan.good == 0 {
            let aside = set_aside(&path)?;
            tracing::error!(file = %path.display(), moved_to = %aside.display(), lines = scan.complete_lines, "store segment has no readable record: set aside");
            shared.counters.corrupt_files.inc();
            report.corrupt_files.push(aside);
            continue;
        }
        if !scan.damaged_lines.is_empty() {
            tracing::error!(file = %path.display(), lines = ?scan.damaged_lines, "store segment has unreadable lines between readable records: left in place (run `auditrail verify`)");
            report.damaged_lines += scan.damaged_lines.len() as u64;
        }
        let mut len = data.len() as u64;
        if scan.good_end < data.len() {
            let cut = &data[scan.good_end..];
            cut_tail(&path, cut, scan.good_end as u64)?;
            tracing::warn!(file = %path.display(), offset = scan.good_end, bytes = cut.len(), "torn tail cut (kept in {}.cut)", path.display());
            shared.counters.torn_tails_cut.inc();
            report.torn_tails_cut += 1;
            report.tail_bytes_cut += cut.len() as u64;
            len = scan.good_end as u64;
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
        }
        plain_records += scan.good;
        let rel_dir = path
            .parent()
            .and_then(|d| d.strip_prefix(root).ok())
            .map(Path::to_path_buf)
            .unwrap_or_default();
        files.push(SegmentFile {
            first_in_name: first,
            path,
            rel_dir,
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
        if let Some(gap) = seen.first_gap(max_link.seq) {
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
                last = find_link(&files, gap - 1)?;
            }
        }
    }

    let mut segments: HashMap<PathBuf, (PathBuf, u64)> = HashMap::new();
    for f in &files {
        let newer = segments
            .get(&f.rel_dir)
            .is_none_or(|(p, _)| name_first(p) < f.first_in_name);
        if newer {
            segments.insert(f.rel_dir.clone(), (f.path.clone(), f.len));
        }
    }
    report.segments = files.len() as u64;
    report.records = files.iter().map(|f| f.good).sum();
    let next_record = if chained {
        last.seq + 1
    } else {
        plain_records.max(max_name) + 1
    };
    Ok(Recovered {
        last: if chained { last } else { ChainLink::GENESIS },
        next_record,
        segments,
        report,
    })
}

fn name_first(path: &Path) -> u64 {
    path.file_name()
        .and_then(|n| n.to_str())
        .and_then(parse_segment_file_name)
        .unwrap_or(0)
}

struct FileScan {
    complete_lines: u64,
    good: u64,
    good_end: usize,
    links: Vec<ChainLink>,
    damaged_lines: Vec<u64>,
}

/// Classifies every line of a segment.
fn scan_file(data: &[u8], chained: bool) -> FileScan {
    let mut s = FileScan {
        complete_lines: 0,
        good: 0,
        good_end: 0,
        links: Vec::new(),
        damaged_lines: Vec::new(),
    };
    let mut pending_bad: Vec<u64> = Vec::new();
    let mut start = 0;
    while let Some(i) = memchr::memchr(b'\n', &data[start..]) {
        let line = &data[start..start + i];
        let end = start + i + 1;
        s.complete_lines += 1;
        let ok = if chained {
            match parse_line(line) {
                Ok(p) => {
                    s.links.push(p.link);
                    true
                }
                Err(_) => false,
            }
        } else {
            line.first() == Some(&b'{') && line.last() == Some(&b'}')
        };
        if ok {
            s.good += 1;
            s.good_end = end;
            s.damaged_lines.append(&mut pending_bad);
        } else {
            pending_bad.push(s.complete_lines);
        }
        start = end;
    }
    s
}

/// Appends `cut` to the sidecar `<path>.cut`, then truncates `path` to `new_len`.
fn cut_tail(path: &Path, cut: &[u8], new_len: u64) -> Result<(), StoreError> {
    let mut side_name = path.as_os_str().to_owned();
    side_name.push(".cut");
    let side = PathBuf::from(side_name);
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&side)
        .map_err(|e| StoreError::io(&side, e))?;
    f.write_all(cut)
        .and_then(|()| f.sync_all())
        .map_err(|e| StoreError::io(&side, e))?;
    let seg = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| StoreError::io(path, e))?;
    seg.set_len(new_len)
        .and_then(|()| seg.sync_all())
        .map_err(|e| StoreError::io(path, e))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| StoreError::io(dir, e))?;
    }
    Ok(())
}

struct Cut {
    records: u64,
    bytes: u64,
    new_len: u64,
}

/// Cuts every record numbered `from` or more (a suffix: numbers grow within a file).
fn cut_from_seq(path: &Path, from: u64) -> Result<Cut, StoreError> {
    let data = fs::read(path).map_err(|e| StoreError::io(path, e))?;
    let mut start = 0;
    let mut cut_at = None;
    let mut records = 0;
    while let Some(i) = memchr::memchr(b'\n', &data[start..]) {
        if let Ok(p) = parse_line(&data[start..start + i]) {
            if p.link.seq >= from {
                cut_at.get_or_insert(start);
                records += 1;
            }
        }
        start += i + 1;
    }
    let Some(at) = cut_at else {
        return Ok(Cut {
            records: 0,
            bytes: 0,
            new_len: data.len() as u64,
        });
    };
    cut_tail(path, &data[at..], at as u64)?;
    Ok(Cut {
        records,
        bytes: (data.len() - at) as u64,
        new_len: at as u64,
    })
}

/// The link of record `seq` (genesis for 0).
fn find_link(files: &[SegmentFile], seq: u64) -> Result<ChainLink, StoreError> {
    if seq == 0 {
        return Ok(ChainLink::GENESIS);
    }
    for f in files
        .iter()
        .filter(|f| f.min_seq <= seq && seq <= f.max_seq)
    {
        let data = fs::read(&f.path).map_err(|e| StoreError::io(&f.path, e))?;
        for line in data.split(|b| *b == b'\n') {
            if let Ok(p) = parse_line(line) {
                if p.link.seq == seq {
                    return Ok(p.link);
                }
            }
        }
    }
    // Cannot happen: `seq` is below the first gap, so it was seen.
    Err(StoreError::io(
        PathBuf::new(),
        io::Error::other(format!("chain record {seq} vanished during recovery")),
    ))
}

/// Renames an unreadable file to `<name>.corrupt` (or `.corrupt.N` if taken).
fn set_aside(path: &Path) -> Result<PathBuf, StoreError> {
    for n in 0..1000 {
        let mut name = path.as_os_str().to_owned();
        name.push(".corrupt");
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

/// Which chain numbers exist: a bitmap (one bit per record: 1.25 MB per 10 million).
#[derive(Default)]
struct SeqSet {
    words: Vec<u64>,
}

impl SeqSet {
    /// Inserts `seq`; false when it was already there.
    fn insert(&mut self, seq: u64) -> bool {
        let (w, b) = ((seq / 64) as usize, seq % 64);
        if self.words.len() <= w {
            self.words.resize(w + 1, 0);
        }
        let had = self.words[w] & (1 << b) != 0;
        self.words[w] |= 1 << b;
        !had
    }

    fn contains(&self, seq: u64) -> bool {
        let (w, b) = ((seq / 64) as usize, seq % 64);
        self.words.get(w).is_some_and(|x| x & (1 << b) != 0)
    }

    /// The first number in `1..=max` that is missing.
    fn first_gap(&self, max: u64) -> Option<u64> {
        for (i, &w) in self.words.iter().enumerate() {
            // Number 0 never exists; count it as present.
            let w = if i == 0 { w | 1 } else { w };
            if w != u64::MAX {
                let seq = i as u64 * 64 + u64::from(w.trailing_ones());
                return (seq <= max).then_some(seq);
            }
        }
        None
    }

    fn count_above(&self, seq: u64) -> u64 {
        let mut n = 0;
        for (i, &w) in self.words.iter().enumerate() {
            let base = i as u64 * 64;
            if base + 63 <= seq {
                continue;
            }
            if base > seq {
                n += u64::from(w.count_ones());
            } else {
                for b in 0..64 {
                    if base + b > seq && self.contains(base + b) {
                        n += 1;
                    }
                }
            }
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        s.insert(130);
        assert_eq!(s.first_gap(200), None);
        let mut t = SeqSet::default();
        t.insert(2);
        assert_eq!(t.first_gap(2), Some(1));
        assert_eq!(t.count_above(1), 1);
    }

    #[test]
    fn interior_bad_lines_are_damage_and_trailing_ones_are_tail() {
        let data = b"{\"a\":1}\nxx\n{\"b\":2}\nyy\n{\"c\"";
        let s = scan_file(data, false);
        assert_eq!(s.good, 2);
        assert_eq!(s.damaged_lines, vec![2]);
        assert_eq!(&data[s.good_end..], b"yy\n{\"c\"");
    }
}
