//! What the checkpoint log says about the server's stops and starts (see
//! [`crate::stops`]): records after a clean stop's line or after the head an
//! acceptance recorded, and records a start vouched for as recovered after a crash.

use super::checkpoints::LoggedCheckpoint;
use super::report::{Problem, ProblemKind, Severity, StoreReport};

/// Reports every line that vouches for records recovered at a start (a warning: the
/// records were vouched for by the restart, not sealed as they were acknowledged;
/// after a clean stop's line, only an operator's acceptance let the server sign them),
/// and records after the log's last line when it was signed at a clean stop, or after
/// the head the acceptance it records accepted (an error; with `live` = `Some(grew)`, a
/// warning when the log grew after it was read: see [`log_grew`]).
/// Returns whether it accounted for the records after the last line (that tail, or
/// records an acceptance accepted), which are then not also reported as merely
/// uncovered.
pub(crate) fn check(
    logged: &[LoggedCheckpoint],
    last_seq: u64,
    last_rel: &str,
    live: Option<bool>,
    report: &mut StoreReport,
) -> bool {
    for (i, l) in logged.iter().enumerate() {
        let Some(r) = l.cp.recovered else { continue };
        // The line before it, past acceptance lines (`store accept` repeats the link
        // of the line before it): a clean stop's, or the line a start writes after
        // one before it takes records (then the records are a crash's).
        let clean = logged[..i]
            .iter()
            .rev()
            .find(|b| b.cp.accepted.is_none())
            .filter(|b| b.cp.clean_stop && b.cp.link.seq + 1 == r.from_seq);
        let p = match clean {
            Some(b) => Problem::error(
                ProblemKind::AppendedAfterCleanStop,
                format!(
                    "checkpoint #{} ({}) vouches for chainSeq {}..{}, records that followed checkpoint #{}, signed at a clean stop: they were written while the server was stopped, and the server signed them at its next start only because an operator accepted the store's state (`auditrail store accept`)",
                    l.cp.index, l.cp.time, r.from_seq, r.to_seq, b.cp.index
                ),
            ),
            None => Problem::error(
                ProblemKind::RecoveredAtStart,
                format!(
                    "checkpoint #{} ({}) vouches for chainSeq {}..{} as recovered at a start: records found after the log's last line (a crash between their fsync and their seal, so never acknowledged), vouched for by the restart only",
                    l.cp.index, l.cp.time, r.from_seq, r.to_seq
                ),
            ),
        };
        let mut p = p.at(&l.file, l.line).seqs(r.from_seq, r.to_seq);
        p.severity = Severity::Warning;
        report.push(p);
    }
    let Some((last, stopped)) = logged
        .last()
        .and_then(|l| l.cp.stopped_at().map(|s| (l, s)))
    else {
        return false;
    };
    let by_acceptance = last.cp.accepted.as_ref().is_some_and(|a| a.head.is_some());
    if last_seq <= stopped.seq {
        // Up to an acceptance's head: the records the operator accepted (reported as
        // `accepted-state`), which the next start signs as recovered.
        return by_acceptance;
    }
    let signed_when = if by_acceptance {
        format!(
            "which `auditrail store accept` signed with the server stopped, accepting the store up to chainSeq {}",
            stopped.seq
        )
    } else {
        "which the server signed when it stopped cleanly".to_string()
    };
    let mut p = Problem::error(
        ProblemKind::AppendedAfterCleanStop,
        format!(
            "chainSeq {}..{} (up to {last_rel}) follow checkpoint #{} ({}), {signed_when}: nothing signed vouches for them and no server wrote them (records written while it was stopped, or the log lost its lines after that one){}",
            stopped.seq + 1,
            last_seq,
            last.cp.index,
            last.cp.time,
            match live {
                Some(true) => "; --live: or a batch of a server started since, before its seal",
                Some(false) => "; checked as --live, but the checkpoint log still ends with that line after the walk: no server started since (a starting server writes a line before it takes any record), so they are no running server's unsealed batch, whoever holds the store's lock",
                None => "",
            }
        ),
    )
    .at(&last.file, last.line)
    .seqs(stopped.seq + 1, last_seq);
    if live == Some(true) {
        p.severity = Severity::Warning;
    }
    report.push(p);
    true
}

/// Whether the checkpoint log now has a complete line after line `last_read` (the last
/// line read before the walk; `None`: none was). A server that starts on a log ending
/// in a clean stop's line (or an acceptance's) writes a line of its own before it takes
/// any record (`crate::stops`): records after such a line found while the log still
/// ends with it were written by no server, whoever holds the store's lock (any process
/// that can open the folder can `flock` it, and make `verify` take the store as a
/// running server's). A log that cannot be read counts as grown (the store is then
/// judged as before).
pub(crate) fn log_grew(store: &std::path::Path, last_read: Option<u64>) -> bool {
    let mut lines = 0u64;
    match auditrail_store::checkpoint_pieces::for_each_line(store, |_| lines += 1) {
        Ok(_) => lines > last_read.unwrap_or(0),
        Err(_) => true,
    }
}
