//! Stores the data dir's high-water marks name that are gone: a store folder removed
//! whole (records, checkpoint log and id together) leaves nothing for the walk of the
//! data dir to find, so without this a `verify DATA_DIR` listed the other stores and
//! passed. The marks file outside the store still names it, signed.

use std::path::{Path, PathBuf};

use crate::high_water::{resolved, HighWaterMark};

use super::marks::{name_in, FoundMarks};
use super::report::{Problem, ProblemKind, StoreReport};

/// A report for each store under `dir` that a line of `marks` names and that is not
/// among `stores` (the stores found under `dir`), nor found under another name with
/// the mark's store id. Stores outside `dir` are not this verification's (`verify
/// DATA/a` checks store `a` alone).
pub(crate) fn lost_stores(dir: &Path, marks: &FoundMarks, stores: &[PathBuf]) -> Vec<StoreReport> {
    let data_dir = marks.file.parent().unwrap_or(Path::new("."));
    let within = resolved(dir);
    let ids: Vec<Option<String>> = stores
        .iter()
        .map(|s| auditrail_store::root::read_store_id(s).ok().flatten())
        .collect();
    let mut lost = Vec::new();
    let mut seen: Vec<&str> = Vec::new();
    // The file holds one line per store; the last one stands if there are more.
    for m in marks.lines.iter().rev().filter_map(|l| l.as_ref().ok()) {
        if seen.contains(&m.store.as_str()) {
            continue;
        }
        seen.push(&m.store);
        let path = data_dir.join(&m.store);
        let found = stores.iter().zip(&ids).any(|(s, id)| {
            name_in(marks, s).is(&m.store) || id.as_deref() == Some(m.store_id.as_str())
        });
        // A store deeper than the walk looks is not lost.
        if found || !resolved(&path).starts_with(&within) || auditrail_store::root::is_store(&path)
        {
            continue;
        }
        lost.push(report(&path, &marks.file, m));
    }
    lost.reverse();
    lost
}

/// The report of the store at `path` that the mark `m` (a line of `file`) names and
/// that is gone (also of a store a server config names: `verify_stores`).
pub(crate) fn report(path: &Path, file: &Path, m: &HighWaterMark) -> StoreReport {
    let what = if path.exists() {
        "holds no store (no store-id, no checkpoint log, no segment)"
    } else {
        "does not exist"
    };
    let vouched = if m.checkpoint == 0 {
        "the server attached it (checkpoint 0: no line published yet)".to_string()
    } else {
        format!(
            "its last published checkpoint #{} vouched for records up to chainSeq {} ({})",
            m.checkpoint, m.link.seq, m.time
        )
    };
    let mut report = StoreReport {
        path: path.display().to_string(),
        store_id: Some(m.store_id.clone()),
        ..StoreReport::default()
    };
    let problem = Problem::error(
        ProblemKind::RolledBack,
        format!(
            "the store is gone: the high-water mark in {} names store {:?} (id {}), and {vouched}, but {} {what}: its folder was removed or moved with everything in it; put it back from a copy (a store given up on purpose fails this check for as long as the marks file names it: docs/tamper-evidence.md)",
            file.display(),
            m.store,
            m.store_id,
            path.display()
        ),
    );
    report.push(if m.link.seq > 0 {
        problem.seqs(1, m.link.seq)
    } else {
        problem
    });
    report
}
