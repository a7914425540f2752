//! Checks the store's list of deleted node numbers (`.deleted-seqs.jsonl`) against the
//! deletion lines that bind it (`deletedSeqs`, since 2026-12-07): each bound line's
//! `before` must be what the bound line before it left (its `after`; or its `before`,
//! when that prune was interrupted before it wrote the file), and the file must be what
//! a bound line left. An edit between two prunes, or since the last one, is an error
//! naming the file and the line: it lists node numbers as deleted (or abandoned) that
//! no prune deleted, which hides them from the server's missing numbers. A file as an
//! older line left it (or as a line's `before`) lists fewer numbers, never more: a
//! warning (a prune interrupted before it wrote it, or one that ran during a `--live`
//! check).

use std::path::Path;

use auditrail_store::deleted_seqs::digest_of;
use auditrail_store::{StoreError, DELETED_SEQS_FILE};

use super::checkpoints::LoggedCheckpoint;
use super::report::{Problem, ProblemKind, Severity, StoreReport};

/// The file's digest, read before the log (a prune writes its line first, then the
/// file: read in this order, the file is never newer than the log read after it).
pub(crate) fn read_first(store: &Path) -> Result<[u8; 32], StoreError> {
    digest_of(store)
}

/// Checks the file (its digest `file`, read first) against the bound lines of `logged`,
/// and says in `report.deleted_seqs` how it was checked.
pub(crate) fn check(
    file: Result<[u8; 32], StoreError>,
    logged: &[LoggedCheckpoint],
    report: &mut StoreReport,
) {
    let deletions: Vec<&LoggedCheckpoint> =
        logged.iter().filter(|l| l.cp.deleted.is_some()).collect();
    if deletions.is_empty() {
        return;
    }
    let bound: Vec<(&LoggedCheckpoint, [u8; 32], [u8; 32])> = deletions
        .iter()
        .filter_map(|l| {
            let d = l.cp.deleted.as_ref()?.deleted_seqs.as_ref()?;
            Some((*l, hex32(&d.before)?, hex32(&d.after)?))
        })
        .collect();
    let unbound = deletions.len() - bound.len();
    let Some(&(last, _, last_after)) = bound.last() else {
        report.deleted_seqs = Some(format!(
            "not checked: its {} deletion lines were written before deletion lines bound it (2026-12-07)",
            deletions.len()
        ));
        return;
    };
    // Line by line: nothing changed the file between two prunes.
    for pair in bound.windows(2) {
        let (a, a_before, a_after) = pair[0];
        let (b, b_before, _) = pair[1];
        // A line without the binding between them (a downgrade) breaks the sequence.
        let between = deletions
            .iter()
            .any(|l| l.cp.index > a.cp.index && l.cp.index < b.cp.index);
        if between || b_before == a_after || b_before == a_before {
            continue;
        }
        report.push(
            Problem::error(
                ProblemKind::DeletedSeqs,
                format!(
                    "{DELETED_SEQS_FILE} was changed between the deletion lines at {} and {}: the later prune found it as no prune left it (node numbers listed as deleted or abandoned that no prune deleted hide them from the server's missing numbers)",
                    a.place(),
                    b.place()
                ),
            )
            .at(&b.file, b.line),
        );
    }
    let file = match file {
        Ok(d) => d,
        Err(e) => {
            report.push(
                Problem::error(ProblemKind::Unreadable, format!("cannot read it: {e}"))
                    .at(DELETED_SEQS_FILE, 0),
            );
            return;
        }
    };
    let said = if unbound > 0 {
        format!(" ({unbound} older deletion lines, written before 2026-12-07, do not bind it)")
    } else {
        String::new()
    };
    if file == last_after {
        report.deleted_seqs = Some(format!(
            "as the deletion line at {} left it{said}",
            last.place()
        ));
        return;
    }
    let older = bound
        .iter()
        .rev()
        .find(|(_, before, after)| file == *after || file == *before);
    match older {
        Some((l, _, _)) => {
            let mut p = Problem::error(
                ProblemKind::DeletedSeqs,
                format!(
                    "{DELETED_SEQS_FILE} is as it was at the deletion line at {}, not as the newest one (at {}) left it: a prune interrupted before it listed its numbers (the next prune lists them), or one during a --live check; it lists fewer numbers as deleted than were",
                    l.place(),
                    last.place()
                ),
            )
            .at(DELETED_SEQS_FILE, 0);
            p.severity = Severity::Warning;
            report.push(p);
            report.deleted_seqs = Some(format!("as an older deletion line left it{said}"));
        }
        None => {
            report.push(
                Problem::error(
                    ProblemKind::DeletedSeqs,
                    format!(
                        "{DELETED_SEQS_FILE} is not as any deletion line left it (the newest, at {}, signs SHA-256 {}; the file's is {}): it was changed after the prune (node numbers listed as deleted or abandoned that no prune deleted hide them from the server's missing numbers)",
                        last.place(),
                        hex::encode(last_after),
                        hex::encode(file)
                    ),
                )
                .at(DELETED_SEQS_FILE, 0),
            );
            report.deleted_seqs = Some("changed: not as any deletion line left it".into());
        }
    }
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok().map(|()| out)
}
