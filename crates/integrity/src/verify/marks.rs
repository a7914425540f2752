//! Checks of what is kept outside the store: its id file, and the high-water mark kept
//! in the data dir (see [`crate::high_water`]).

use std::path::{Path, PathBuf};

use crate::guard::{interrupted_acceptance, read_log};
use crate::high_water::{
    dir_and_parents, read_marks, HighWaterMark, MarkLine, MarkLineError, StoreName, HIGH_WATER_FILE,
};
use crate::keys::PublicKey;
use auditrail_core::counted::counted;
use auditrail_store::STORE_ID_FILE;

use super::report::{Problem, ProblemKind, Severity, StoreReport};
use super::CHECKPOINT_LOG;

/// The marks file found for a verification (in the given dir or up to three parents,
/// as the file system resolves them: [`dir_and_parents`]).
#[derive(Debug)]
pub(crate) struct FoundMarks {
    pub file: PathBuf,
    pub lines: Vec<MarkLine>,
}

/// Folders above the given dir where the data dir's files are looked for.
pub(crate) const PARENTS_SEARCHED: usize = 3;

/// `<dir>/high-water.jsonl`, or in one of three parents of the folder `dir` resolves to
/// (not of the path as typed: `.`, `..` and a link have other parents).
pub(crate) fn find_marks(dir: &Path) -> Option<FoundMarks> {
    dir_and_parents(dir, PARENTS_SEARCHED)
        .into_iter()
        .map(|here| here.join(HIGH_WATER_FILE))
        .find(|file| file.is_file())
        .map(|file| {
            let lines =
                read_marks(&file).unwrap_or_else(|e| vec![Err((0, MarkLineError::File(e)))]);
            FoundMarks { file, lines }
        })
}

/// A partition store's own marks file, beside it: `<partition folder>/high-water.jsonl`
/// (a Kafka source's store keeps its mark in its partition folder, which moves from
/// server to server with the partition: docs/scale-out.md), the folder found as every
/// command finds it ([`crate::marks_folder::partition_folder`]). A partition folder
/// whose file was removed gives its file with no line, so that the store is checked
/// against its own (missing) mark, never against the data dir's file, which does not
/// name it.
pub(crate) fn beside(store: &Path) -> Option<FoundMarks> {
    let file = crate::marks_folder::partition_folder(store)?.join(HIGH_WATER_FILE);
    let lines = read_marks(&file).unwrap_or_else(|e| vec![Err((0, MarkLineError::File(e)))]);
    Some(FoundMarks { file, lines })
}

/// What a verification that found no marks file says (a report note): without one, a
/// rollback of a checkpoint log together with its records passes unseen, and the
/// reader must know it was not checked, and where the file was looked for.
pub(crate) fn none_found(dir: &Path) -> String {
    let searched: Vec<String> = dir_and_parents(dir, PARENTS_SEARCHED)
        .iter()
        .map(|d| d.display().to_string())
        .collect();
    format!(
        "no high-water marks file ({HIGH_WATER_FILE}) found in {}: a rollback of a store's checkpoint log (together with its records) cannot be detected; the server keeps the file in its data dir (a Kafka source's partition store: in its partition folder, `<store_root>/<topic>/<partition>/`, beside the store): verify the data dir, or a store inside it",
        searched.join(", ")
    )
}

/// The store's high-water mark: the last line naming its id or its folder.
pub(crate) fn mine<'a>(
    store: &Path,
    store_id: Option<&str>,
    marks: &'a FoundMarks,
) -> Option<&'a HighWaterMark> {
    let name = name_in(marks, store);
    marks
        .lines
        .iter()
        .rev()
        .filter_map(|l| l.as_ref().ok())
        .find(|m| store_id.is_some_and(|id| id == m.store_id) || name.is(&m.store))
}

/// The store's name in the marks file (the data dir is the file's folder).
pub(crate) fn name_in(marks: &FoundMarks, store: &Path) -> StoreName {
    StoreName::of(marks.file.parent().unwrap_or(Path::new(".")), store)
}

/// A store with records or checkpoints but no id.
pub(crate) fn check_store_id(
    store: &Path,
    store_id: Option<&str>,
    checkpoint_ids: &[String],
    last_seq: u64,
    report: &mut StoreReport,
) {
    if store_id.is_some() || (last_seq == 0 && checkpoint_ids.is_empty()) {
        return;
    }
    let named = match checkpoint_ids.first() {
        Some(id) => format!("; the checkpoint log names store {id}"),
        None => String::new(),
    };
    report.push(
        Problem::error(
            ProblemKind::MissingStoreId,
            format!(
                "{} is missing although the store has {} and {}{named}: restore it (`auditrail store accept` writes back the id the checkpoint log names)",
                store.join(STORE_ID_FILE).display(),
                counted(last_seq, "record", "records"),
                counted(checkpoint_ids.len(), "checkpoint", "checkpoints")
            ),
        )
        .at(STORE_ID_FILE, 0),
    );
}

/// The store's high-water mark against its checkpoint log and records.
pub(crate) fn check_mark(
    store: &Path,
    store_id: Option<&str>,
    trusted: Option<&PublicKey>,
    marks: &FoundMarks,
    last_seq: u64,
    key_chain: &[PublicKey],
    report: &mut StoreReport,
) {
    let file = marks.file.display().to_string();
    for line in &marks.lines {
        if let Err((n, reason)) = line {
            report.push(Problem::error(
                ProblemKind::HighWaterMark,
                format!("{file} line {n}: unusable high-water mark: {reason}"),
            ));
        }
    }
    let Some(m) = mine(store, store_id, marks) else {
        report.push(no_mark(store, &file, last_seq));
        return;
    };
    if let Some(t) = trusted {
        // After a key rotation the mark is signed by a later key of the log's chain.
        let same_chain = key_chain.contains(t) && key_chain.contains(&m.key);
        if &m.key != t && !same_chain {
            report.push(Problem::error(
                ProblemKind::HighWaterMark,
                format!(
                    "the high-water mark in {file} is signed by {}, not by the trusted key {t}",
                    m.key
                ),
            ));
            return;
        }
    }
    if let Some(id) = store_id {
        if id != m.store_id {
            report.push(Problem::error(
                ProblemKind::HighWaterMark,
                format!(
                    "the high-water mark in {file} for {} names store {}, this store is {id}: the store was replaced",
                    m.store, m.store_id
                ),
            ));
        }
    }
    let log = read_log(store).unwrap_or_default();
    if let Some(line) = interrupted_acceptance(&log, m) {
        // Said as what it is (the start says the same): not a log someone replaced,
        // but an acceptance whose second write never happened.
        report.push(
            Problem::error(
                ProblemKind::HighWaterMark,
                format!(
                    "the last line of the checkpoint log (checkpoint #{}) records an acceptance of the state the high-water mark in {file} refused (checkpoint #{} at chainSeq {}), but the mark was never moved to it: `auditrail store accept` stopped between writing its line and moving the mark; run it again to finish it",
                    line.cp.index, m.checkpoint, m.link.seq
                ),
            )
            .at(&line.piece, line.line),
        );
        return;
    }
    if m.checkpoint > 0 {
        // Placed where the log ends: with sealed pieces, that is not always
        // `checkpoints.jsonl` (which may be the file removed).
        let (end_file, end_line) = log
            .last()
            .map_or((CHECKPOINT_LOG, 0), |l| (l.piece.as_str(), l.line));
        let log_end = match log.last() {
            None => format!("the checkpoint log ({CHECKPOINT_LOG}) is missing or empty"),
            Some(l) => format!(
                "the checkpoint log ends at checkpoint #{} (chainSeq {}) in {}{}",
                l.cp.index,
                l.cp.link.seq,
                l.piece,
                if l.piece != CHECKPOINT_LOG && !store.join(CHECKPOINT_LOG).exists() {
                    format!(" ({CHECKPOINT_LOG}, the live piece, is missing)")
                } else {
                    String::new()
                }
            ),
        };
        match log.iter().find(|l| l.cp.index == m.checkpoint) {
            None => report.push(
                Problem::error(
                    ProblemKind::RolledBack,
                    format!(
                        "the high-water mark in {file} recorded checkpoint #{} at chainSeq {} ({}), but {log_end} and the store at chainSeq {last_seq}: checkpoints{} were removed (rollback or shortened log)",
                        m.checkpoint,
                        m.link.seq,
                        m.time,
                        if last_seq < m.link.seq { " and records" } else { "" }
                    ),
                )
                .at(end_file, end_line)
                .seqs(last_seq.min(m.link.seq) + 1, m.link.seq.max(last_seq + 1)),
            ),
            Some(l) if l.digest != m.checkpoint_digest => report.push(
                Problem::error(
                    ProblemKind::RolledBack,
                    format!(
                        "checkpoint #{} in {} is not the one the high-water mark in {file} recorded ({}): the log was replaced",
                        m.checkpoint, l.piece, m.time
                    ),
                )
                .at(&l.piece, l.line),
            ),
            Some(_) if last_seq < m.link.seq => report.push(
                Problem::error(
                    ProblemKind::RolledBack,
                    format!(
                        "the store ends at chainSeq {last_seq}, but the high-water mark in {file} recorded checkpoint #{} vouching for records up to chainSeq {}",
                        m.checkpoint, m.link.seq
                    ),
                )
                .seqs(last_seq + 1, m.link.seq),
            ),
            Some(_) => {}
        }
    }
}

/// A marks file without a line for the store. The server writes a store's mark when
/// it attaches the store, before its first record, and refuses to start on a store
/// with records or checkpoints but no mark (`crate::guard`): each store's line is
/// signed alone, so removing one line from the file, together with a rollback of that
/// store's log and records, is otherwise a consistent, signed picture. So is it here:
/// an error for such a store, as the server's refusal; a warning only for a store with
/// neither (one attached but never written, which is what the missing line could have
/// said at most).
fn no_mark(store: &Path, file: &str, last_seq: u64) -> Problem {
    let log = read_log(store).unwrap_or_default();
    let logged = log.len();
    let (end_file, end_line) = log
        .last()
        .map_or((CHECKPOINT_LOG, 0), |l| (l.piece.as_str(), l.line));
    if last_seq == 0 && logged == 0 {
        let mut p = Problem::error(
            ProblemKind::HighWaterMark,
            format!("{file} has no high-water mark for this store: a rollback of its checkpoint log cannot be checked"),
        );
        p.severity = Severity::Warning;
        return p;
    }
    Problem::error(
        ProblemKind::HighWaterMark,
        format!(
            "{file} has no high-water mark for this store, which has {} and {}: its line was removed from the file (or the store is not this data dir's: a copy put here), so a rollback of its checkpoint log together with its records cannot be told from its genuine state; the server refuses to start on it. Compare the log with a copy kept elsewhere (a witness: `--witness`, the nodes' receipts: `--receipt`)",
            counted(last_seq, "record", "records"),
            counted(logged, "checkpoint", "checkpoints")
        ),
    )
    .at(end_file, end_line)
}
