//! What a verification found, for people (`Display`) and machines (`serde`).

use std::collections::BTreeMap;
use std::fmt;

use auditrail_core::counted::counted;
use serde::Serialize;

/// Detailed problems kept per kind; beyond that only counted (a deleted file spread
/// over thousands of interleaved records would otherwise flood the report).
pub const MAX_DETAILED_PER_KIND: u64 = 200;

/// The kinds of findings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProblemKind {
    /// A record's bytes (or its chain fields) do not match its chain hash.
    ChangedRecord,
    /// A range of chain sequence numbers is in no file (deleted lines or files).
    MissingRecords,
    /// A line with an already used chainSeq that does not chain: inserted/forged.
    InsertedRecord,
    /// The same record appears more than once.
    DuplicateRecord,
    /// Lines out of chain order inside a file.
    Reordered,
    /// A line that is not a sealed record, or a sealed one that is no event queries
    /// can read (`auditrail_store::StoredEvent::read`: they leave it out).
    MalformedLine,
    /// A file (record file or checkpoint log) ends in an incomplete line.
    TornTail,
    /// Records vouched for by a checkpoint are missing at the end of the store.
    Truncated,
    /// Records after the last checkpoint: nothing signed vouches for them.
    Uncovered,
    /// The store has records but no checkpoint log.
    NoCheckpoints,
    /// A checkpoint line that cannot be parsed.
    MalformedCheckpoint,
    /// A checkpoint whose signature does not verify.
    BadSignature,
    /// A checkpoint signed by a key other than the trusted one.
    WrongKey,
    /// Checkpoints removed, edited or reordered in the checkpoint log.
    CheckpointChain,
    /// A checkpoint vouches for a chain hash the store's record does not have.
    CheckpointMismatch,
    /// A checkpoint names another store id.
    StoreIdMismatch,
    /// A file could not be read.
    Unreadable,
    /// A file in the store that is not a record file (e.g. set aside by recovery).
    SetAside,
    /// The store has records or checkpoints but its `store-id` file is gone.
    MissingStoreId,
    /// The high-water mark (kept outside the store) recorded a checkpoint the log no
    /// longer has, or records the store no longer has: checkpoints and records were
    /// removed together (a rollback).
    RolledBack,
    /// The high-water mark itself is unusable: damaged, signed by another key, or of
    /// another store.
    HighWaterMark,
    /// An operator accepted the store's state with `auditrail store accept` (warning:
    /// what was accepted, by whom and why).
    AcceptedState,
    /// Records that a deletion line records as deleted are still in the store (warning:
    /// a prune interrupted between its signed line and removing the files).
    DeletionIncomplete,
    /// A witness holds another signed checkpoint under a number the log has: two
    /// histories were signed (by someone holding the key).
    Forked,
    /// A checkpoint's signed Merkle tree head (or its frontier) does not match the tree
    /// over the store's records.
    TreeHeadMismatch,
    /// `verify --archive`: an object a signed deletion line records as archived is
    /// missing from the archive, or its size or SHA-256 differ from the line's.
    ArchivedObject,
    /// A record is not in the partition folder the store's layout puts it in (its
    /// topic, routing key and time): queries, which select folders by name, miss it.
    MisplacedRecord,
    /// Records after a line the server signed at a clean stop: written while the
    /// server was stopped (error), or vouched for at a later start only because an
    /// operator accepted them (warning).
    AppendedAfterCleanStop,
    /// A line signed at a start vouches for records found after the log's last line
    /// (a crash before their seal; warning): only the restart vouches for them.
    RecoveredAtStart,
    /// The store's list of deleted node numbers (`.deleted-seqs.jsonl`) is not as the
    /// deletion lines that bind it left it (error), or as an older one left it
    /// (warning).
    DeletedSeqs,
}

impl ProblemKind {
    /// The kebab-case name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            ProblemKind::ChangedRecord => "changed-record",
            ProblemKind::MissingRecords => "missing-records",
            ProblemKind::InsertedRecord => "inserted-record",
            ProblemKind::DuplicateRecord => "duplicate-record",
            ProblemKind::Reordered => "reordered",
            ProblemKind::MalformedLine => "malformed-line",
            ProblemKind::TornTail => "torn-tail",
            ProblemKind::Truncated => "truncated",
            ProblemKind::Uncovered => "uncovered",
            ProblemKind::NoCheckpoints => "no-checkpoints",
            ProblemKind::MalformedCheckpoint => "malformed-checkpoint",
            ProblemKind::BadSignature => "bad-signature",
            ProblemKind::WrongKey => "wrong-key",
            ProblemKind::CheckpointChain => "checkpoint-chain",
            ProblemKind::CheckpointMismatch => "checkpoint-mismatch",
            ProblemKind::StoreIdMismatch => "store-id-mismatch",
            ProblemKind::Unreadable => "unreadable",
            ProblemKind::SetAside => "set-aside",
            ProblemKind::MissingStoreId => "missing-store-id",
            ProblemKind::RolledBack => "rolled-back",
            ProblemKind::HighWaterMark => "high-water-mark",
            ProblemKind::AcceptedState => "accepted-state",
            ProblemKind::DeletionIncomplete => "deletion-incomplete",
            ProblemKind::Forked => "forked",
            ProblemKind::TreeHeadMismatch => "tree-head-mismatch",
            ProblemKind::ArchivedObject => "archived-object",
            ProblemKind::MisplacedRecord => "misplaced-record",
            ProblemKind::AppendedAfterCleanStop => "appended-after-clean-stop",
            ProblemKind::RecoveredAtStart => "recovered-at-start",
            ProblemKind::DeletedSeqs => "deleted-seqs",
        }
    }
}

/// How bad a finding is. Only errors fail the verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Fails the verification.
    Error,
    /// Reported, does not fail (e.g. an uncovered tail when `--live`).
    Warning,
}

/// One finding, located as precisely as the store allows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    /// What kind.
    pub kind: ProblemKind,
    /// Error or warning.
    pub severity: Severity,
    /// File relative to the store path (record file or `checkpoints.jsonl`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// 1-based line in `file`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// First chain seq concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_seq: Option<u64>,
    /// Last chain seq concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_seq: Option<u64>,
    /// What and where, in words.
    pub message: String,
    /// For missing records: the places (`file:line`, the line before which they
    /// would sit) that could have held them, when more than one could.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<String>,
}

impl Problem {
    /// An error-severity problem.
    pub fn error(kind: ProblemKind, message: String) -> Problem {
        Problem {
            kind,
            severity: Severity::Error,
            file: None,
            line: None,
            first_seq: None,
            last_seq: None,
            message,
            candidates: Vec::new(),
        }
    }

    /// Sets file and line.
    pub fn at(mut self, file: &str, line: u64) -> Problem {
        self.file = Some(file.to_string());
        self.line = Some(line);
        self
    }

    /// Sets the seq range.
    pub fn seqs(mut self, first: u64, last: u64) -> Problem {
        self.first_seq = Some(first);
        self.last_seq = Some(last);
        self
    }
}

/// The findings of one store.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StoreReport {
    /// The store path.
    pub path: String,
    /// Its `store-id`, when present.
    pub store_id: Option<String>,
    /// Record files walked.
    pub files: u64,
    /// Bytes of record files walked.
    pub bytes: u64,
    /// Record lines parsed.
    pub records: u64,
    /// Highest chain seq found.
    pub last_seq: u64,
    /// Checkpoint lines.
    pub checkpoints: u64,
    /// Highest chain seq a checkpoint vouches for.
    pub last_checkpoint_seq: Option<u64>,
    /// Checkpoint lines that record a deletion (retention, `auditrail store prune`).
    pub deletions: u64,
    /// Records those lines record as deleted.
    pub deleted_records: u64,
    /// Objects the deletion lines record as archived, by archive URL (checked in
    /// the archive by `verify --archive`, and by `verify DIR --archive URL` and
    /// `verify --config` against the store's own log; not by a store's walk alone).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub archived: BTreeMap<String, u64>,
    /// How `.deleted-seqs.jsonl` (the node numbers prunes deleted) was checked against
    /// the deletion lines that bind it; absent without deletion lines.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_seqs: Option<String>,
    /// `--live`: the records and files that went during the walk and that deletion
    /// lines in the log read again after it record as deleted (a prune ran meanwhile):
    /// not reported as missing or unreadable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_during_walk: Option<String>,
    /// Witnessed checkpoints (`--witness`) the log holds exactly.
    pub witnessed: u64,
    /// Signed Merkle tree heads recomputed from the records (and the subtrees deletion
    /// lines keep) and found equal.
    pub tree_heads_checked: u64,
    /// Who held the store's writer lock when its verification began (a running
    /// server: `a running server (pid N, lock file DATA_DIR/auditrail.lock)`), when
    /// the store was therefore verified as with `--live`
    /// ([`super::VerifyOptions::live_when_held`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub held_by: Option<String>,
    /// Problems, at most [`MAX_DETAILED_PER_KIND`] per kind.
    pub problems: Vec<Problem>,
    /// Count of every problem by kind, including those not detailed.
    pub problem_counts: BTreeMap<&'static str, u64>,
}

impl StoreReport {
    /// Records a problem (detailed while under the per-kind cap).
    pub fn push(&mut self, p: Problem) {
        let n = self.problem_counts.entry(p.kind.name()).or_insert(0);
        *n += 1;
        if *n <= MAX_DETAILED_PER_KIND {
            self.problems.push(p);
        }
    }

    /// Adds another report's problems (detailed ones up to the cap, all counts) and
    /// records.
    pub(crate) fn absorb(&mut self, other: StoreReport) {
        for p in other.problems {
            let n = self.problem_counts.entry(p.kind.name()).or_insert(0);
            *n += 1;
            if *n <= MAX_DETAILED_PER_KIND {
                self.problems.push(p);
            }
        }
        for (kind, count) in other.problem_counts {
            let detailed = count.min(MAX_DETAILED_PER_KIND);
            *self.problem_counts.entry(kind).or_insert(0) += count - detailed;
        }
        self.records += other.records;
    }

    /// Whether no error was found in this store.
    pub fn ok(&self) -> bool {
        self.problems.iter().all(|p| p.severity != Severity::Error)
    }
}

/// The outcome of one receipt.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReceiptReport {
    /// Where it came from (`file` or `file#n` for the n-th receipt in a file).
    pub source: String,
    /// The store it names.
    pub store_id: String,
    /// Its range.
    pub first_seq: u64,
    /// Its range.
    pub last_seq: u64,
    /// Whether the store still holds exactly what the receipt acknowledged.
    pub ok: bool,
    /// Why not.
    pub reasons: Vec<String>,
    /// When the receipt's records were deleted by a recorded deletion (retention): how
    /// its end was checked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
}

/// The whole verification.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    /// Overall verdict: no error anywhere and every receipt holds.
    pub ok: bool,
    /// The key checkpoints must be signed with.
    pub trusted_key: Option<String>,
    /// Where that key came from.
    pub key_source: String,
    /// One entry per store walked.
    pub stores: Vec<StoreReport>,
    /// One entry per receipt.
    pub receipts: Vec<ReceiptReport>,
    /// Remarks that are not problems.
    pub notes: Vec<String>,
}

impl Report {
    /// Every problem of every store, in order.
    pub fn problems(&self) -> impl Iterator<Item = &Problem> {
        self.stores.iter().flat_map(|s| s.problems.iter())
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.trusted_key {
            Some(k) => writeln!(f, "key: {k} ({})", self.key_source)?,
            None => writeln!(f, "key: none ({})", self.key_source)?,
        }
        for s in &self.stores {
            writeln!(
                f,
                "store {} (id {}): {}, {}, {} (chainSeq up to {}), {} (last vouches up to {})",
                s.path,
                s.store_id.as_deref().unwrap_or("-"),
                counted(s.files, "file", "files"),
                counted(s.bytes, "byte", "bytes"),
                counted(s.records, "record", "records"),
                s.last_seq,
                counted(s.checkpoints, "checkpoint", "checkpoints"),
                s.last_checkpoint_seq
                    .map_or("-".to_string(), |q| q.to_string()),
            )?;
            if let Some(holder) = &s.held_by {
                writeln!(
                    f,
                    "  the store is held by {holder}: checked as --live (records after its last checkpoint, records missing above it and an incomplete last line are warnings; records missing at or below a checkpoint stay errors); stop the server for a check where they are errors"
                )?;
            }
            if s.witnessed > 0 {
                writeln!(
                    f,
                    "  {} held by witnesses {} in the log, unchanged",
                    counted(s.witnessed, "checkpoint", "checkpoints"),
                    if s.witnessed == 1 { "is" } else { "are" }
                )?;
            }
            if s.tree_heads_checked > 0 {
                writeln!(
                    f,
                    "  {} recomputed from the records: equal",
                    counted(
                        s.tree_heads_checked,
                        "signed Merkle tree head",
                        "signed Merkle tree heads"
                    )
                )?;
            }
            if s.deletions > 0 {
                writeln!(
                    f,
                    "  {} deleted by {} (retention, store prune): signed in the checkpoint log, checked on from the hash recorded at each end",
                    counted(s.deleted_records, "record", "records"),
                    counted(s.deletions, "recorded deletion", "recorded deletions")
                )?;
            }
            if let Some(how) = &s.deleted_seqs {
                writeln!(f, "  {}: {how}", auditrail_store::DELETED_SEQS_FILE)?;
            }
            if let Some(what) = &s.deleted_during_walk {
                writeln!(f, "  --live: {what}")?;
            }
            // Missing ranges past the first few of each severity are said together in
            // one line where the next would be: a removed partition folder whose
            // records interleave with other partitions' leaves one range per record
            // run, and a line each buried everything else (the JSON keeps each).
            let mut missing_seen = [0usize; 2];
            for p in &s.problems {
                if p.kind == ProblemKind::MissingRecords {
                    let seen = &mut missing_seen[severity_index(p.severity)];
                    *seen += 1;
                    if *seen == MISSING_RANGES_DETAILED + 1 {
                        write_more_missing(f, s, p.severity)?;
                    }
                    if *seen > MISSING_RANGES_DETAILED {
                        continue;
                    }
                }
                let at = match (&p.file, p.line) {
                    (Some(file), Some(line)) => format!("{file}:{line}: "),
                    (Some(file), None) => format!("{file}: "),
                    _ => String::new(),
                };
                writeln!(
                    f,
                    "  {} [{}] {at}{}",
                    severity_label(p.severity),
                    p.kind.name(),
                    p.message
                )?;
            }
            let detailed = s.problems.len() as u64;
            let total: u64 = s.problem_counts.values().sum();
            if total > detailed {
                let kinds: Vec<String> = s
                    .problem_counts
                    .iter()
                    .map(|(kind, n)| format!("{kind}: {n}"))
                    .collect();
                writeln!(
                    f,
                    "  ... and {} more not detailed (at most {MAX_DETAILED_PER_KIND} of a kind are; in all {})",
                    counted(total - detailed, "problem", "problems"),
                    kinds.join(", ")
                )?;
            }
        }
        for r in &self.receipts {
            if r.ok {
                writeln!(
                    f,
                    "receipt {}: OK (store {}, chainSeq {}..{}){}",
                    r.source,
                    r.store_id,
                    r.first_seq,
                    r.last_seq,
                    r.deleted
                        .as_ref()
                        .map(|d| format!(": {d}"))
                        .unwrap_or_default()
                )?;
            } else {
                writeln!(
                    f,
                    "receipt {}: FAILED (store {}, chainSeq {}..{}): {}",
                    r.source,
                    r.store_id,
                    r.first_seq,
                    r.last_seq,
                    r.reasons.join("; ")
                )?;
            }
        }
        for n in &self.notes {
            writeln!(f, "note: {n}")?;
        }
        let errors = self
            .problems()
            .filter(|p| p.severity == Severity::Error)
            .count()
            + self.receipts.iter().filter(|r| !r.ok).count();
        if self.ok {
            writeln!(f, "verdict: OK")
        } else {
            writeln!(
                f,
                "verdict: FAILED ({})",
                counted(errors, "problem", "problems")
            )
        }
    }
}

/// Missing ranges of one severity said in full in a store's text report; the others
/// are said together ([`write_more_missing`]).
const MISSING_RANGES_DETAILED: usize = 3;

/// Ranges, folders and files a line saying many things together names; the others are
/// counted.
const NAMED_IN_A_LINE: usize = 3;

fn severity_index(severity: Severity) -> usize {
    match severity {
        Severity::Error => 0,
        Severity::Warning => 1,
    }
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "ERROR",
        Severity::Warning => "warning",
    }
}

/// One line for the missing ranges of `severity` in `s` after the first
/// [`MISSING_RANGES_DETAILED`]: how many, how many records, a few of them and the
/// folders of the records right after them (where the removed records sat among the
/// others).
fn write_more_missing(
    f: &mut fmt::Formatter<'_>,
    s: &StoreReport,
    severity: Severity,
) -> fmt::Result {
    let rest: Vec<&Problem> = s
        .problems
        .iter()
        .filter(|p| p.kind == ProblemKind::MissingRecords && p.severity == severity)
        .skip(MISSING_RANGES_DETAILED)
        .collect();
    let ranges: Vec<(u64, u64)> = rest
        .iter()
        .filter_map(|p| Some((p.first_seq?, p.last_seq.or(p.first_seq)?)))
        .collect();
    let records: u64 = ranges.iter().map(|(a, b)| b.saturating_sub(*a) + 1).sum();
    let mut line = format!(
        "  {} [{}] and {}",
        severity_label(severity),
        ProblemKind::MissingRecords.name(),
        counted(rest.len(), "more missing range", "more missing ranges")
    );
    if let (Some(lo), Some(hi)) = (
        ranges.iter().map(|r| r.0).min(),
        ranges.iter().map(|r| r.1).max(),
    ) {
        let named: Vec<String> = ranges
            .iter()
            .take(NAMED_IN_A_LINE)
            .map(|&(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}..{b}")
                }
            })
            .collect();
        line.push_str(&format!(
            " ({} in all, between chainSeq {lo} and {hi}): chainSeq {}{}",
            counted(records, "record", "records"),
            named.join(", "),
            and_more(ranges.len() - named.len())
        ));
    }
    // The folder of the record right after each range, in order, once each.
    let mut folders: Vec<&str> = Vec::new();
    for p in &rest {
        if let Some(file) = &p.file {
            let folder = file.rsplit_once('/').map_or(".", |(dir, _)| dir);
            if !folders.contains(&folder) {
                folders.push(folder);
            }
        }
    }
    if !folders.is_empty() {
        let named: Vec<String> = folders
            .iter()
            .take(NAMED_IN_A_LINE)
            .map(|d| format!("{d}/"))
            .collect();
        line.push_str(&format!(
            "; the record after each is in {}{}",
            named.join(", "),
            and_more(folders.len() - named.len())
        ));
    }
    line.push_str(" (`--json` details each range)");
    writeln!(f, "{line}")
}

/// ` and N more` when `n` is not 0.
fn and_more(n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(" and {n} more")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn many(n: u64) -> StoreReport {
        let mut r = StoreReport::default();
        for i in 0..n {
            r.push(Problem::error(ProblemKind::MissingRecords, format!("{i}")));
        }
        r.records = n;
        r
    }

    #[test]
    fn absorbing_keeps_every_count_and_caps_the_details() {
        let mut a = many(250);
        a.absorb(many(250));
        assert_eq!(a.problem_counts["missing-records"], 500);
        assert_eq!(a.problems.len() as u64, MAX_DETAILED_PER_KIND);
        assert_eq!(a.records, 500);
        assert!(!a.ok());
    }
}
