//! `verify --live`: what a prune the server signed during the walk explains.
//!
//! A prune writes its signed deletion line to the checkpoint log, then removes the
//! partitions' files. A walk that listed the files before the prune finds those files
//! gone (`cannot open`) and their records in no file, although nothing was lost. The
//! walk holds such findings back ([`HeldBack`]); once it is done, the log is read
//! again and checked as a whole ([`signed_now`]), and a held finding is dropped only
//! when a deletion line that checks (signed by the log's key, linked into the log)
//! records every chain number it concerns as deleted: the line is in the log before
//! any file of its prune is removed, so it is there when the walk ends. What no signed
//! line covers is reported as it was found: records gone without a signed deletion are
//! errors, however many prunes ran during the walk. This is what the offline check
//! accepts too: it takes a signed deletion line as the reason records are absent.

use std::path::{Path, PathBuf};

use crate::keys::PublicKey;
use auditrail_core::counted::counted;

use super::checkpoints::check_log;
use super::deletions::Deletions;
use super::report::{Problem, ProblemKind, StoreReport};

/// Findings held back at most; beyond it they are reported as found (a store with
/// that many gaps or gone files is not one a prune raced with alone).
const MAX_HELD: usize = 100_000;

/// One held finding and what explains it.
#[derive(Debug)]
struct Held {
    first: u64,
    last: u64,
    why: Explained,
    problem: Problem,
}

/// When a held finding is explained.
#[derive(Debug)]
enum Explained {
    /// Chain numbers `first..=last` are gone: when a signed deletion line covers them.
    Deleted,
    /// Records of a range the log read before the walk already records as deleted,
    /// found in this file with the records next to them gone (a prune was removing
    /// its files during the walk): when the file is gone after the walk.
    Removed(PathBuf),
    /// Nothing: a warning held only to stay in its place among the findings held.
    Kept,
}

/// Findings of one walk (or of its reading thread) that a deletion signed during the
/// walk may explain: records missing at or below what was vouched for before the
/// walk, listed record files gone when the walk came to open them, and records left
/// in a deleted range whose prune was removing files while the walk read them.
#[derive(Debug, Default)]
pub(crate) struct HeldBack {
    held: Vec<Held>,
}

impl HeldBack {
    /// Holds `problem` (about chain numbers `first..=last`) back, or reports it when
    /// too many are held.
    pub(crate) fn hold(
        &mut self,
        first: u64,
        last: u64,
        problem: Problem,
        report: &mut StoreReport,
    ) {
        self.keep(first, last, Explained::Deleted, problem, report);
    }

    /// Holds `problem` back, about records `first..=last` of `file` that a deletion
    /// line read before the walk records as deleted and that nothing signed confirms,
    /// until it is seen whether the prune removed `file` during the walk.
    pub(crate) fn hold_while_present(
        &mut self,
        first: u64,
        last: u64,
        file: PathBuf,
        problem: Problem,
        report: &mut StoreReport,
    ) {
        self.keep(first, last, Explained::Removed(file), problem, report);
    }

    /// Keeps `problem`, which nothing excuses, in its place after those held before.
    pub(crate) fn keep_in_order(&mut self, problem: Problem, report: &mut StoreReport) {
        self.keep(0, 0, Explained::Kept, problem, report);
    }

    fn keep(
        &mut self,
        first: u64,
        last: u64,
        why: Explained,
        problem: Problem,
        report: &mut StoreReport,
    ) {
        if self.held.len() >= MAX_HELD {
            report.push(problem);
        } else {
            self.held.push(Held {
                first,
                last,
                why,
                problem,
            });
        }
    }

    /// Adds the findings another thread held back.
    pub(crate) fn append(&mut self, mut other: HeldBack) {
        self.held.append(&mut other.held);
    }

    /// Whether nothing is held.
    pub(crate) fn is_empty(&self) -> bool {
        self.held.is_empty()
    }

    /// Reports what `signed` (the deletions of the log read after the walk) does not
    /// cover, and says in the report what it covered. Returns the chain number ranges
    /// it excused as deleted (the walk counted them among its damaged ranges, which
    /// receipts are judged against).
    pub(crate) fn settle(
        self,
        signed: Option<&Deletions>,
        report: &mut StoreReport,
    ) -> Vec<(u64, u64)> {
        let mut records = 0u64;
        let mut files = 0u64;
        let mut excused = Vec::new();
        for h in self.held {
            let covered = match &h.why {
                Explained::Deleted => {
                    signed.is_some_and(|d| d.uncovered(h.first, h.last).is_empty())
                }
                // Gone, not merely unreadable now.
                Explained::Removed(file) => std::fs::symlink_metadata(file)
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound),
                Explained::Kept => false,
            };
            if !covered {
                report.push(h.problem);
            } else if h.problem.kind == ProblemKind::Unreadable {
                files += 1;
            } else {
                records += h.last - h.first + 1;
                if matches!(h.why, Explained::Deleted) {
                    excused.push((h.first, h.last));
                }
            }
        }
        if records + files > 0 {
            report.deleted_during_walk = Some(format!(
                "{} and {} went during the walk, deleted by prunes whose signed lines the checkpoint log holds (read again after the walk): not missing",
                counted(records, "record", "records"),
                counted(files, "record file", "record files")
            ));
        }
        excused
    }
}

/// The deletions the store's checkpoint log records now, read again after a walk;
/// `None` when that log does not check as a whole (a line edited, unsigned, not
/// linked, signed by another key: then it explains nothing).
pub(crate) fn signed_now(
    store: &Path,
    store_id: Option<&str>,
    trusted: Option<&PublicKey>,
) -> Option<Deletions> {
    let mut scratch = StoreReport::default();
    let (logged, _) = check_log(store, store_id, trusted, &mut scratch);
    scratch.ok().then(|| Deletions::from_log(&logged))
}
