//! `auditrail verify`: checks a store (or every store of a data dir) offline.
//!
//! The walk streams every record file once, in chainSeq order across files, and checks:
//! each line's format; chainSeq increasing line by line within a file (reordering);
//! the store-wide chain (a changed record breaks its own link, a deleted line or file
//! leaves a gap, an inserted line duplicates a chainSeq); checkpoints (format,
//! signature, the trusted key, the link to the previous checkpoint, and that the store
//! still has the vouched chain hash); records beyond the last checkpoint (uncovered)
//! or missing before it (truncated); and receipts. With `live`, the checkpoint log and
//! high-water mark are read before the files: records missing above what they vouch
//! for are warnings (a running server's batch may land in files read earlier).
//!
//! Two threads: one merges the partition files (only those being written concurrently
//! are open at once) and parses lines, the other re-hashes and checks (see
//! docs/benchmarks/integrity.md for the speed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::keys::{PublicKey, PUBLIC_KEY_FILE};
use crate::receipt::Receipt;
use crate::IntegrityError;
use auditrail_core::counted::counted;
use auditrail_store::root::{read_store_id, STORE_ID_FILE};
use auditrail_store::Layout;

mod acceptances;
mod archived;
pub(crate) mod checkpoints;
mod cursor;
mod deleted_seqs;
mod deletions;
pub(crate) mod files;
mod held;
mod late;
mod leftovers;
mod lost;
mod marks;
pub(crate) mod merge;
pub(crate) mod placement;
pub mod receipts;
pub mod report;
mod stops;
pub(crate) mod tree;
mod walk;
pub mod witness;

pub use archived::{check_against_store, StoreArchiveCheck};
pub use report::{Problem, ProblemKind, ReceiptReport, Report, Severity, StoreReport};

pub(crate) use auditrail_store::CHECKPOINT_LOG;
use walk::{Expectation, Walk};

/// Progress of a verification, in bytes of record files read.
pub trait Progress: Sync {
    /// Called once per store with its record bytes.
    fn start(&self, _total_bytes: u64) {}
    /// Called as bytes are read.
    fn advance(&self, _bytes: u64) {}
    /// Called when a store is done.
    fn finish(&self) {}
}

/// No progress display.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What to verify against.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// The key checkpoints must be signed with. Without it, `signing.pub` in the data
    /// dir (or a parent of the store) is used, else only consistency is checked.
    pub public_key: Option<PublicKey>,
    /// The server's own file `public_key` was read from (`verify --config`: the public
    /// half of its `signing_key`), said in the report as where the key came from;
    /// `None`: the key was given (`--public-key`).
    pub public_key_from: Option<PathBuf>,
    /// Receipts to check, each with where it came from.
    pub receipts: Vec<(String, Receipt)>,
    /// The store is still being written: records after the last checkpoint, records
    /// missing above the last checkpoint read before the walk (a batch being appended
    /// over several files) and incomplete last lines are warnings, not errors. Records
    /// missing at or below a checkpoint stay errors.
    pub live: bool,
    /// A store whose single-writer lock is held when its verification begins (a
    /// running server writes it: its newest records wait for the next checkpoint) is
    /// verified as with `live`, and its report says so and who holds it
    /// ([`StoreReport::held_by`]). Without it such a store is verified as closed, and
    /// its unsealed tail is an error. (`auditrail verify` sets it.)
    pub live_when_held: bool,
    /// Checkpoint lines held by witnesses ([`witness::read_witness`]).
    pub witnesses: Vec<witness::Witnessed>,
    /// The folder layout of stores whose config is known (`verify --config`), by the
    /// store's path as given in the list of stores: each record must be in the folder
    /// it gives. Other stores' layouts are inferred from their folders.
    pub layouts: BTreeMap<PathBuf, Layout>,
}

/// Verifies `dir`: one store, or a data dir holding stores.
pub fn verify(
    dir: &Path,
    options: &VerifyOptions,
    progress: &dyn Progress,
) -> Result<Report, IntegrityError> {
    if !dir.is_dir() {
        return Err(IntegrityError::io(
            dir,
            std::io::Error::new(std::io::ErrorKind::NotFound, "not a directory"),
        ));
    }
    // With the partition stores of the Kafka sources whose `store_root` is inside.
    let mut stores = crate::marks_folder::stores_under(dir);
    // Stores the data dir's marks name under `dir` that are gone whole.
    let marks = marks::find_marks(dir);
    let lost_among = |stores: &[PathBuf]| {
        marks
            .as_ref()
            .map(|m| lost::lost_stores(dir, m, stores))
            .unwrap_or_default()
    };
    if stores.is_empty() {
        // No checkpoint log or store id anywhere. Segment files make `dir` a store
        // whose root files are gone: its records are still walked (and the absence
        // reported). Without them nothing here is a store (an empty mount point, a
        // mistyped path, a node's audit folder): verifying nothing must not pass.
        // A data dir whose every store is gone is reported with them (below).
        let files = auditrail_store::StoreFiles::walk(dir)?;
        if files.segments().next().is_some() {
            stores.push(dir.to_path_buf());
        } else if lost_among(&stores).is_empty() {
            return Err(IntegrityError::NoStore {
                path: dir.to_path_buf(),
                found: what_is_in(dir),
            });
        }
    }
    // Each of these is a store (found by its root files or its segments): not the
    // check `verify_stores` makes of configured folders.
    let lost = lost_among(&stores);
    let mut report = verify_in(dir, stores, options, progress, Mode::Store)?;
    with_lost(&mut report, lost);
    Ok(report)
}

/// The reports of stores gone whole, after those verified.
fn with_lost(report: &mut Report, lost: Vec<StoreReport>) {
    if !lost.is_empty() {
        report.ok = false;
        report.stores.extend(lost);
    }
}

/// Entries named in [`IntegrityError::NoStore`] at most; the rest are counted.
const NAMED_ENTRIES: usize = 10;

/// What a folder that holds no store holds instead, for [`IntegrityError::NoStore`]:
/// that it is empty, or its entries (folders with a `/`), sorted.
fn what_is_in(dir: &Path) -> String {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return "it cannot be listed".to_string();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .map(|e| {
            let slash = if e.path().is_dir() { "/" } else { "" };
            format!("{}{slash}", e.file_name().to_string_lossy())
        })
        .collect();
    if names.is_empty() {
        return "it is empty (a volume not mounted there? a mistyped path?)".to_string();
    }
    names.sort();
    let more = names.len().saturating_sub(NAMED_ENTRIES);
    names.truncate(NAMED_ENTRIES);
    let mut listed = names.join(", ");
    if more > 0 {
        listed += &format!(" and {more} more");
    }
    format!("it holds {listed}, and no segment file below it")
}

/// Verifies a store's archive (`auditrail verify --archive`), downloaded to `dir` (its
/// objects at their paths under the archive's prefix: laid out as a store, so that
/// the one walker and verifier read it): the checkpoint log copied with it (format,
/// signatures, links), every object each signed deletion line records as archived
/// (present, its size and SHA-256 those of the line), and the records the archive
/// holds (their chain, and the chain hashes that checkpoints and deletion lines
/// record for them). Chain numbers the archive does not hold are not missing: they
/// are still in the store, or were deleted without a copy.
pub fn verify_archive(
    dir: &Path,
    options: &VerifyOptions,
    progress: &dyn Progress,
) -> Result<Report, IntegrityError> {
    verify_in(
        dir,
        vec![dir.to_path_buf()],
        options,
        progress,
        Mode::Archive,
    )
}

/// What is verified: a store, or the copy of an archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Store,
    Archive,
}

/// Verifies the given stores, with the public key and high-water marks found in (or
/// above) `dir`, the server's data dir: what `auditrail verify --config` does with the
/// `store` destinations of a server config.
pub fn verify_stores(
    dir: &Path,
    stores: Vec<PathBuf>,
    options: &VerifyOptions,
    progress: &dyn Progress,
) -> Result<Report, IntegrityError> {
    // A configured store whose folder holds nothing of a store (no id, no log, no
    // segment) and that no high-water mark names: a server that never ran on this
    // config, or a folder not mounted. Verifying nothing must not pass, as for
    // `verify DIR`. One a mark names is verified (its loss is reported: `rolled-back`);
    // one whose folder is gone whole is reported as `verify DIR` reports it (`lost.rs`).
    let found_marks = marks::find_marks(dir);
    let mut present = Vec::with_capacity(stores.len());
    let mut gone = Vec::new();
    for store in stores {
        let beside = marks::beside(&store);
        let store_marks = beside.as_ref().or(found_marks.as_ref());
        let mark = store_marks.and_then(|m| Some((m, marks::mine(&store, None, m)?)));
        if !store.exists() {
            match mark {
                Some((m, mark)) => gone.push(lost::report(&store, &m.file, mark)),
                None => {
                    return Err(IntegrityError::StoreNeverWritten {
                        marks: store_marks.map_or_else(
                            || {
                                format!(
                                    "no {} in {} or the folders above it",
                                    crate::high_water::HIGH_WATER_FILE,
                                    dir.display()
                                )
                            },
                            |m| format!("{} names no store at this path", m.file.display()),
                        ),
                        path: store,
                    })
                }
            }
            continue;
        }
        let is_store = !auditrail_store::root::find_stores(&store).is_empty()
            || auditrail_store::StoreFiles::walk(&store)
                .ok()
                .is_some_and(|f| f.segments().next().is_some());
        if !is_store && mark.is_none() && store.is_dir() {
            return Err(IntegrityError::NoStore {
                found: what_is_in(&store),
                path: store,
            });
        }
        present.push(store);
    }
    let mut report = verify_in(dir, present, options, progress, Mode::Store)?;
    with_lost(&mut report, gone);
    Ok(report)
}

fn verify_in(
    dir: &Path,
    stores: Vec<PathBuf>,
    options: &VerifyOptions,
    progress: &dyn Progress,
    mode: Mode,
) -> Result<Report, IntegrityError> {
    let mut notes = Vec::new();
    // The server's own key file, or `signing.pub` found here: said as such, with the
    // caveat that it is within the reach of whoever could rewrite the store.
    let found = match (&options.public_key, &options.public_key_from) {
        (Some(k), Some(p)) => Some((*k, p.clone())),
        (Some(_), None) => None,
        (None, _) => find_public_key(dir)?,
    };
    let (trusted, key_source) = match (&options.public_key, found) {
        (_, Some((k, p))) => {
            notes.push(format!(
                "the public key was taken from {}: an attacker who can rewrite the store can replace it too; pass --public-key with a copy kept elsewhere",
                p.display()
            ));
            (Some(k), format!("from {}", p.display()))
        }
        (Some(k), None) => (Some(*k), "given with --public-key".to_string()),
        (None, None) => {
            notes.push("no public key given or found: signatures only prove that all checkpoints were signed by one key; pass --public-key".into());
            (None, "none: consistency only".to_string())
        }
    };
    // An archive's copy has no high-water marks (they are the server's, in its data
    // dir): nothing above a temporary folder is the archive's.
    let found_marks = match mode {
        Mode::Store => marks::find_marks(dir),
        Mode::Archive => None,
    };
    // A partition store's mark is beside it, not in the data dir (`verify <store_root>`
    // and `--config` give a folder above it): each store is checked against its own.
    let beside: Vec<Option<marks::FoundMarks>> = stores
        .iter()
        .map(|s| match mode {
            Mode::Store => marks::beside(s),
            Mode::Archive => None,
        })
        .collect();
    if mode == Mode::Store && found_marks.is_none() && beside.iter().any(Option::is_none) {
        notes.push(marks::none_found(dir));
    }
    let mut reports = Vec::new();
    let mut receipt_reports = Vec::new();
    let mut matched = vec![false; options.receipts.len()];
    for (store, beside) in stores.iter().zip(&beside) {
        let store_marks = beside.as_ref().or(found_marks.as_ref());
        // A store a running server writes is verified as `live` (see `held`).
        let held_by = (options.live_when_held && !options.live && mode == Mode::Store)
            .then(|| held::writer_of(store, dir))
            .flatten();
        let held_options;
        let options = if held_by.is_some() {
            held_options = VerifyOptions {
                live: true,
                ..options.clone()
            };
            &held_options
        } else {
            options
        };
        let mut walks = 1;
        let (mut r, mut rr) = loop {
            let (mut r, rr) = verify_store(
                store,
                trusted.as_ref(),
                options,
                store_marks,
                &mut matched,
                progress,
                mode,
            );
            if !(options.live && mode == Mode::Store) {
                break (r, rr);
            }
            // What prunes signed during the walk removed is already told apart (`late`):
            // a walk again only names a file gone without a signed deletion as its
            // records missing, and sees a store settled since.
            if r.ok() {
                break (r, rr);
            }
            let Some(race) = raced_with_the_server(store, &r) else {
                break (r, rr);
            };
            if walks == MAX_LIVE_WALKS {
                let mut p = Problem::error(
                    ProblemKind::Unreadable,
                    format!("--live: {race} during each of {MAX_LIVE_WALKS} walks; records and files that signed deletion lines cover were not reported, the errors above are not explained by any"),
                );
                p.severity = Severity::Warning;
                r.push(p);
                break (r, rr);
            }
            walks += 1;
        };
        r.held_by = held_by.map(|h| h.described());
        reports.push(r);
        receipt_reports.append(&mut rr);
    }
    for (i, (source, r)) in options.receipts.iter().enumerate() {
        if !matched[i] {
            let mut reasons = vec![format!(
                "no store with id {} under {}",
                r.store_id,
                dir.display()
            )];
            if r.sig.is_none() {
                reasons.push(receipts::UNSIGNED.to_string());
            }
            receipt_reports.push(ReceiptReport {
                source: source.clone(),
                store_id: r.store_id.clone(),
                first_seq: r.first_seq,
                last_seq: r.last_seq,
                ok: false,
                reasons,
                deleted: None,
            });
        }
    }
    let verified_ids: Vec<&str> = reports
        .iter()
        .filter_map(|r| r.store_id.as_deref())
        .collect();
    let mut strangers: Vec<String> = options
        .witnesses
        .iter()
        .filter_map(|w| crate::checkpoint::parse_unverified(w.line.as_bytes()).ok())
        .map(|cp| cp.store_id)
        .filter(|id| !verified_ids.contains(&id.as_str()))
        .collect();
    strangers.sort();
    strangers.dedup();
    if !strangers.is_empty() {
        notes.push(format!(
            "witnessed checkpoints of stores not verified here were skipped (store ids {})",
            strangers.join(", ")
        ));
    }
    let ok = reports.iter().all(StoreReport::ok) && receipt_reports.iter().all(|r| r.ok);
    Ok(Report {
        ok,
        trusted_key: trusted.map(|k| k.to_string()),
        key_source,
        stores: reports,
        receipts: receipt_reports,
        notes,
    })
}

/// Walks of one store `--live` makes at most (see [`raced_with_the_server`]).
const MAX_LIVE_WALKS: u32 = 3;

/// Under `--live`, whether the store changed under a walk whose report has errors:
/// the checkpoint log records more deletions than it did when verify read it, or a
/// listed file could not be opened and is gone. What a prune signed during the walk
/// removed is not among the errors (`late`): retention runs its passes back to back,
/// so no number of walks is sure to miss them all. The store is walked again so that
/// a file removed without a signed deletion is reported by the next walk as what it
/// is, records missing; the last walk's report stands.
fn raced_with_the_server(store: &Path, report: &StoreReport) -> Option<&'static str> {
    if checkpoints::deletion_lines(store).is_some_and(|now| now != report.deletions) {
        return Some("the checkpoint log recorded a deletion (a prune)");
    }
    report
        .problems
        .iter()
        .any(|p| {
            p.kind == ProblemKind::Unreadable
                && p.file
                    .as_deref()
                    .is_some_and(|rel| rel != CHECKPOINT_LOG && !store.join(rel).exists())
        })
        .then_some("a listed record file was removed")
}

/// `signing.pub` in `dir` or up to three parents. The first one there is the key: one
/// that holds no key (empty, garbage) is an error naming it, not a reason to go on
/// without a key (or with another one found higher up).
/// The folders are those the file system resolves (`.`, `..`, links), as for the
/// high-water marks ([`marks::find_marks`]): both are the data dir's.
fn find_public_key(dir: &Path) -> Result<Option<(PublicKey, PathBuf)>, IntegrityError> {
    for here in crate::high_water::dir_and_parents(dir, marks::PARENTS_SEARCHED) {
        let p = here.join(PUBLIC_KEY_FILE);
        if let Some(k) = PublicKey::read_file_if_exists(&p)? {
            return Ok(Some((k, p)));
        }
    }
    Ok(None)
}

fn verify_store(
    store: &Path,
    trusted: Option<&PublicKey>,
    options: &VerifyOptions,
    found_marks: Option<&marks::FoundMarks>,
    matched: &mut [bool],
    progress: &dyn Progress,
    mode: Mode,
) -> (StoreReport, Vec<ReceiptReport>) {
    // An id file that cannot be read is reported as what it is, not as a missing id
    // (whose advice, `store accept`, would replace it).
    let (store_id, id_unreadable) = match read_store_id(store) {
        Ok(id) => (id, None),
        Err(e) => (None, Some(e)),
    };
    let mut report = StoreReport {
        path: store.display().to_string(),
        store_id: store_id.clone(),
        ..StoreReport::default()
    };
    if let Some(e) = &id_unreadable {
        report.push(
            Problem::error(
                ProblemKind::Unreadable,
                format!("cannot read the store id: {e}"),
            )
            .at(STORE_ID_FILE, 0),
        );
    }
    // Read before the log: a prune writes its line, then the file.
    let listed = deleted_seqs::read_first(store);
    let (logged, key_chain) =
        checkpoints::check_log(store, store_id.as_deref(), trusted, &mut report);
    // An archive holds no list of deleted numbers: only a store's is checked.
    if matches!(mode, Mode::Store) {
        deleted_seqs::check(listed, &logged, &mut report);
    }
    let mut cp_at: BTreeMap<u64, Vec<Expectation>> = BTreeMap::new();
    let cp_lines: Vec<checkpoints::LogPlace> = logged.iter().map(|l| l.place()).collect();
    // Indexes into `cp_lines` (the walk reports checkpoint lines by it).
    for (i, l) in logged.iter().enumerate() {
        if l.cp.link.seq > 0 {
            cp_at.entry(l.cp.link.seq).or_default().push(Expectation {
                hash: l.cp.link.hash,
                who: i,
            });
        }
        // The head an acceptance recorded is checked like a line's own link: the
        // records the operator accepted (before any start signed them) are still
        // those, not a chain rewritten since to end at the same number.
        let accepted_head = l.cp.accepted.as_ref().and_then(|a| a.head.as_ref());
        if let Some(head) = accepted_head.and_then(crate::checkpoint::AcceptedHead::link) {
            if head.seq > 0 && head != l.cp.link {
                cp_at.entry(head.seq).or_default().push(Expectation {
                    hash: head.hash,
                    who: i,
                });
            }
        }
    }
    // Deletions recorded in the log: their ranges are not missing, and the hash
    // recorded at the end of each deleted run is checked like a checkpoint's when the
    // record is still there.
    let deletions = deletions::Deletions::from_log(&logged);
    for (seq, hash, who) in deletions.ends() {
        cp_at
            .entry(seq)
            .or_default()
            .push(Expectation { hash, who });
    }
    report.deletions = deletions.lines;
    for l in &logged {
        if let Some(a) = l.cp.deleted.as_ref().and_then(|d| d.archived.as_ref()) {
            *report.archived.entry(a.url.clone()).or_insert(0) += a.objects.len() as u64;
        }
    }
    report.deleted_records = deletions.records();
    if mode == Mode::Archive {
        archived::check_objects(store, &logged, &mut report);
    }
    // Records still found in deleted ranges are checked against what was signed for
    // them (in an archive every record is one a deletion line records).
    let leftovers = (mode == Mode::Store && !deletions.is_empty())
        .then(|| leftovers::Leftovers::from_log(&logged));
    let mut deletions = match mode {
        Mode::Store => deletions,
        Mode::Archive => deletions.all_absent(),
    };
    // Receipts for this store.
    let mut mine: Vec<usize> = Vec::new();
    let mut receipt_at: BTreeMap<u64, Vec<Expectation>> = BTreeMap::new();
    for (i, (_, r)) in options.receipts.iter().enumerate() {
        if store_id.as_deref() == Some(r.store_id.as_str()) {
            matched[i] = true;
            mine.push(i);
            let mut hash = [0u8; 32];
            if hex::decode_to_slice(&r.chain_hash, &mut hash).is_ok() {
                receipt_at
                    .entry(r.last_seq)
                    .or_default()
                    .push(Expectation { hash, who: i });
            }
        }
    }
    let files = match files::record_files(store) {
        Ok((f, aside)) => {
            for rel in aside {
                let mut p = Problem::error(
                    ProblemKind::SetAside,
                    "not a record file (set aside by the store's crash recovery?): its bytes are not part of the chain".into(),
                );
                p.file = Some(rel);
                p.severity = Severity::Warning;
                report.push(p);
            }
            f
        }
        Err(e) => {
            report.push(Problem::error(
                ProblemKind::Unreadable,
                format!("cannot list the store's files: {e}"),
            ));
            Vec::new()
        }
    };
    report.files = files.len() as u64;
    report.bytes = files.iter().map(|f| f.len).sum();
    progress.start(report.bytes);
    // `--live`: what was vouched for before the files were walked (the log and the
    // marks are read first; the server writes a checkpoint only once its records are
    // durable, and the mark only after the checkpoint). Records missing at or below it
    // are errors; above it, records of a batch being appended may be in files the walk
    // already read, so they are warnings, like the uncovered tail.
    let live_vouched = options.live.then(|| {
        let logged_seq = logged.iter().map(|l| l.cp.link.seq).max().unwrap_or(0);
        let mark_seq = found_marks
            .and_then(|m| marks::mine(store, store_id.as_deref(), m))
            .map_or(0, |m| m.link.seq);
        logged_seq.max(mark_seq)
    });
    let tree = tree::TreeCheck::new(&logged, &mut report);
    let placement = placement::Placement::new(options.layouts.get(store).copied(), &files);
    let walk = Walk::new(
        &files,
        &cp_at,
        &cp_lines,
        &receipt_at,
        &deletions,
        live_vouched,
        tree,
    )
    .with_leftovers(leftovers);
    // `--live`: records and files a prune removed during the walk are told from those
    // gone without a signed deletion by the log as it is after the walk (`late`).
    let walk = if options.live && mode == Mode::Store {
        walk.holding_back()
    } else {
        walk
    };
    let mut result = walk.run(&mut report, placement, progress);
    if let Some(held) = result.held.take().filter(|h| !h.is_empty()) {
        let signed = late::signed_now(store, store_id.as_deref(), trusted);
        let excused: std::collections::HashSet<(u64, u64)> = held
            .settle(signed.as_ref(), &mut report)
            .into_iter()
            .collect();
        // Receipts are judged as the store is after the walk: records a prune signed
        // as deleted during it were deleted, not lost (as offline), so their gaps are
        // no damage and the deletions judged against are the log's read again.
        result.damaged.retain(|range| !excused.contains(range));
        if let Some(signed) = signed.filter(|_| !excused.is_empty()) {
            deletions = signed;
        }
    }
    report.tree_heads_checked = result.tree_heads_checked;
    // In an archive every record is one a deletion line records (as archived).
    if let Some((first, last, count)) = result.still_present.filter(|_| mode == Mode::Store) {
        let mut p = Problem::error(
            ProblemKind::DeletionIncomplete,
            format!(
                "{} in chainSeq {first}..{last} {} still in the store although the checkpoint log records {} as deleted: a prune was interrupted before it removed {} (the next prune removes {})",
                counted(count, "record", "records"),
                if count == 1 { "is" } else { "are" },
                if count == 1 { "it" } else { "them" },
                if count == 1 { "its file" } else { "their files" },
                if count == 1 { "it" } else { "them" },
            ),
        )
        .seqs(first, last);
        p.severity = Severity::Warning;
        report.push(p);
    }
    progress.finish();
    if options.live {
        // A file being appended to can end mid-line while it is read.
        for p in &mut report.problems {
            if p.kind == ProblemKind::TornTail {
                p.severity = Severity::Warning;
            }
        }
    }
    report.last_seq = result.last_seq;
    let last_cp = logged.iter().map(|l| l.cp.link.seq).max();
    report.last_checkpoint_seq = last_cp;
    let last_rel = result
        .last_loc
        .map(|l| format!("{} line {}", files[l.file as usize].rel, l.line))
        .unwrap_or_else(|| "no record".into());
    // Records after a clean stop's line, and records vouched for as recovered at a
    // start (a tail after a clean stop is reported as that, not as merely uncovered).
    // Under `--live` (or a store some process holds), records after a clean stop's line
    // may be the first batch of a server started during the walk; only if the log grew
    // since it was read: a starting server writes a line before it takes any record.
    let live_after_stop = options.live && stops::log_grew(store, logged.last().map(|l| l.line));
    let after_clean_stop = stops::check(
        &logged,
        result.last_seq,
        &last_rel,
        options.live.then_some(live_after_stop),
        &mut report,
    );
    // Truncation: checkpoints vouch for more than the store holds (an archive holds
    // the older records only: the rest is in the store). Once per chainSeq: a line
    // repeating the link of the line before it (a clean stop's, a deletion's) vouches
    // for nothing more.
    let mut vouched = None;
    for l in logged.iter().filter(|_| mode == Mode::Store) {
        let repeated = vouched.replace(l.cp.link.seq) == Some(l.cp.link.seq);
        if l.cp.link.seq > result.last_seq && !repeated {
            report.push(
                Problem::error(
                    ProblemKind::Truncated,
                    format!(
                        "checkpoint #{} vouches for records up to chainSeq {}, but the store ends at chainSeq {} ({last_rel}): chainSeq {}..{} were removed",
                        l.cp.index,
                        l.cp.link.seq,
                        result.last_seq,
                        result.last_seq + 1,
                        l.cp.link.seq
                    ),
                )
                .at(&l.file, l.line)
                .seqs(result.last_seq + 1, l.cp.link.seq),
            );
        }
        // An acceptance vouches for the head it accepted, beyond its own chainSeq
        // (which repeats the line before it).
        let accepted = l.cp.accepted.as_ref().and_then(|a| a.head.as_ref());
        if let Some(head) = accepted.and_then(crate::checkpoint::AcceptedHead::link) {
            if head.seq > result.last_seq && head.seq > l.cp.link.seq {
                report.push(
                    Problem::error(
                        ProblemKind::Truncated,
                        format!(
                            "checkpoint #{} accepted the store up to chainSeq {}, but the store ends at chainSeq {} ({last_rel}): chainSeq {}..{} were removed",
                            l.cp.index,
                            head.seq,
                            result.last_seq,
                            result.last_seq + 1,
                            head.seq
                        ),
                    )
                    .at(&l.file, l.line)
                    .seqs(result.last_seq + 1, head.seq),
                );
            }
        }
    }
    // What witnesses hold.
    report.witnessed = witness::check(
        store_id.as_deref(),
        &options.witnesses,
        &logged,
        &key_chain,
        trusted,
        &mut report,
    );
    // What is kept outside the store: its id, its high-water mark.
    let checkpoint_ids: Vec<String> = logged.iter().map(|l| l.cp.store_id.clone()).collect();
    if id_unreadable.is_none() {
        marks::check_store_id(
            store,
            store_id.as_deref(),
            &checkpoint_ids,
            result.last_seq,
            &mut report,
        );
    }
    if let Some(m) = found_marks {
        marks::check_mark(
            store,
            store_id.as_deref(),
            trusted,
            m,
            result.last_seq,
            &key_chain,
            &mut report,
        );
    }
    // What operators accepted: from the log, and the history next to the marks.
    acceptances::check(
        store,
        store_id.as_deref(),
        &logged,
        found_marks,
        &mut report,
    );
    // Uncovered tail.
    if result.last_seq > 0 {
        match last_cp {
            // A running server writes a new store's first line once its first batch
            // is durable (or, with `seal_every_batch = false`, at the first
            // `every_records`/`every_seconds`): until then `--live` sees records and no
            // line, a warning that says so. A log removed from a store that had lines
            // is still an error: the high-water mark names the line it had.
            None if options.live => {
                let mut p = Problem::error(
                    ProblemKind::NoCheckpoints,
                    format!(
                        "{} but no signed checkpoint vouches for any of them yet ({CHECKPOINT_LOG} missing or empty): --live: a running server writes a new store's first checkpoint line once its first batch is durable (with `seal_every_batch = false`, at the first `every_records`/`every_seconds`); verify again after it, or with the server stopped",
                        counted(result.last_seq, "record", "records")
                    ),
                );
                p.severity = Severity::Warning;
                report.push(p);
            }
            None => report.push(Problem::error(
                ProblemKind::NoCheckpoints,
                format!(
                    "{} but no signed checkpoint vouches for any of them ({CHECKPOINT_LOG} missing or empty)",
                    counted(result.last_seq, "record", "records")
                ),
            )),
            Some(c) if c < result.last_seq && !after_clean_stop => {
                let mut p = Problem::error(
                    ProblemKind::Uncovered,
                    format!(
                        "chainSeq {}..{} (up to {last_rel}) are after the last checkpoint: the checkpoint log lost its tail, or the server is running or crashed before its next checkpoint (use --live for a running store)",
                        c + 1,
                        result.last_seq
                    ),
                )
                .seqs(c + 1, result.last_seq);
                if options.live {
                    p.severity = Severity::Warning;
                }
                report.push(p);
            }
            Some(_) => {}
        }
    }
    let receipt_reports = mine
        .into_iter()
        .map(|i| {
            let (source, r) = &options.receipts[i];
            receipts::judge(
                source,
                r,
                (trusted, &key_chain),
                &result.damaged,
                result.last_seq,
                result.receipt_hash_ok.get(&i).copied(),
                &deletions,
            )
        })
        .collect();
    (report, receipt_reports)
}
