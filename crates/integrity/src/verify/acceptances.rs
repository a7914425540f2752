//! Operator acceptances of a store's state (`auditrail store accept`), reported as
//! `accepted-state` warnings: from the lines of the checkpoint log that record one
//! (signed and linked like every line, so they are evidence: removing one is
//! `checkpoint-chain` or `rolled-back`), and from `<data dir>/acceptances.jsonl` those
//! the log does not hold (acceptances by versions that kept them only there).

use std::path::Path;

use crate::checkpoint::AcceptanceRecord;
use crate::high_water::{read_marks, ACCEPTANCES_FILE};

use super::checkpoints::LoggedCheckpoint;
use super::marks::{name_in, FoundMarks};
use super::report::{Problem, ProblemKind, Severity, StoreReport};
use super::CHECKPOINT_LOG;

/// Reports every acceptance of the store at `store`: each acceptance line of its log,
/// then each acceptance of the history next to `marks` that no line of the log is.
pub(crate) fn check(
    store: &Path,
    store_id: Option<&str>,
    logged: &[LoggedCheckpoint],
    marks: Option<&FoundMarks>,
    report: &mut StoreReport,
) {
    let mut before: Option<&LoggedCheckpoint> = None;
    for l in logged {
        if let Some(a) = &l.cp.accepted {
            let mut p = warning(format!(
                "on {} {} accepted this store's state (checkpoint #{}, chainSeq {}): \"{}\"; found then: {}{}",
                l.cp.time,
                a.by,
                l.cp.index,
                l.cp.link.seq,
                a.reason,
                a.found,
                given_up(a, before)
            ))
            .at(&l.file, l.line);
            if let Some(m) = &a.mark {
                if m.chain_seq > l.cp.link.seq {
                    p = p.seqs(l.cp.link.seq + 1, m.chain_seq);
                }
            }
            report.push(p);
        }
        before = Some(l);
    }
    let Some(marks) = marks else { return };
    let history = marks
        .file
        .parent()
        .unwrap_or(Path::new("."))
        .join(ACCEPTANCES_FILE);
    let name = name_in(marks, store);
    for a in read_marks(&history)
        .unwrap_or_default()
        .into_iter()
        .flatten()
    {
        if !name.is(&a.store) && Some(a.store_id.as_str()) != store_id {
            continue;
        }
        let Some(acc) = &a.accepted else { continue };
        let logged_too = logged.iter().any(|l| {
            l.cp.accepted.is_some() && l.cp.index == a.checkpoint && l.digest == a.checkpoint_digest
        });
        if logged_too {
            continue;
        }
        let mut p = warning(format!(
            "on {} {} accepted this store's state at checkpoint #{} (chainSeq {}): \"{}\"; found then: {} (recorded in {ACCEPTANCES_FILE}, not in {CHECKPOINT_LOG}: an acceptance by a version that did not write it into the log, or its line was removed)",
            a.time, acc.by, a.checkpoint, a.link.seq, acc.reason, acc.found
        ));
        p.file = Some(history.display().to_string());
        report.push(p);
    }
}

fn warning(message: String) -> Problem {
    let mut p = Problem::error(ProblemKind::AcceptedState, message);
    p.severity = Severity::Warning;
    p
}

/// What the acceptance gave up: the high-water mark it replaced against the line the
/// log ended with then (`before`).
fn given_up(a: &AcceptanceRecord, before: Option<&LoggedCheckpoint>) -> String {
    let Some(m) = &a.mark else {
        return "; the store had no usable high-water mark".into();
    };
    let (end_index, end_seq) = before.map_or((0, 0), |b| (b.cp.index, b.cp.link.seq));
    let marked = format!(
        "; the high-water mark had recorded checkpoint #{} at chainSeq {} ({})",
        m.checkpoint, m.chain_seq, m.time
    );
    if m.checkpoint <= end_index && m.chain_seq <= end_seq {
        return marked;
    }
    format!(
        "{marked}, but the log ended at checkpoint #{end_index} (chainSeq {end_seq}): the checkpoints after it, vouching for records up to chainSeq {}, were given up (a rollback accepted)",
        m.chain_seq
    )
}
