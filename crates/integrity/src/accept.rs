//! `auditrail store accept`: a person records, signed, that they accepted a store's
//! state as it is (after a checkpoint log was lost, a backup restored, a store id
//! deleted...), so that the server starts on it again.
//!
//! The acceptance is a line of the store's checkpoint log ([`AcceptanceRecord`]):
//! signed and linked (`prev`) like every other line, and the store's high-water mark
//! is moved to it. So it is part of the evidence `auditrail verify` already checks:
//! removing the line breaks the `prev` link of the next one (`checkpoint-chain`), or,
//! as the log's last line, falls below the mark (`rolled-back`). The same acceptance
//! is appended to `<data dir>/acceptances.jsonl`, the human-readable history; `verify`
//! reads acceptances from the log, so removing that file hides nothing.

use std::path::Path;

use auditrail_store::chain::ChainLink;
use auditrail_store::root::{is_store_id, read_store_id, write_store_id};
use auditrail_store::{CHECKPOINT_LOG, STORE_ID_FILE};

use super::append::AppendLog;
use super::checkpoint::{
    AcceptanceRecord, AcceptedHead, Checkpoint, LineExtras, MarkBefore, TreeHead,
};
use super::guard::{damaged_lines, read_log, LogLine};
use super::high_water::{Acceptance, HighWaterMark, HighWaterMarks, MarkState};
use super::keys::Signer;
use super::IntegrityError;

/// What [`accept`] did.
#[derive(Debug, Clone)]
pub struct Accepted {
    /// The signed mark now in force (at the acceptance's line).
    pub mark: HighWaterMark,
    /// The line of the checkpoint log that records the acceptance.
    pub line: Checkpoint,
    /// The store id was missing and was written back from the checkpoint log (or the
    /// earlier mark).
    pub restored_id: Option<String>,
}

/// Accepts the state of the store at `store`: restores a missing store id from its
/// checkpoint log (or its earlier high-water mark), appends a signed line recording
/// the acceptance (`by`, `reason`, `found`, and what the earlier mark recorded) to the
/// checkpoint log (its first line when there is none), signs the high-water mark at
/// that line, and appends the acceptance to the history. Run it with the server
/// stopped.
///
/// Refused ([`IntegrityError::AcceptRefused`], before anything is written) when the
/// log could not be continued: it ends in an incomplete line, a line of it is damaged
/// (malformed, edited, unlinked, another store's), or its current signing key is not
/// `signer`'s.
pub fn accept(
    store: &Path,
    marks: &HighWaterMarks,
    signer: &Signer,
    by: &str,
    reason: &str,
    found: &str,
) -> Result<Accepted, IntegrityError> {
    refuse_a_torn_log(store)?;
    // Before anything is written: the line goes first, the mark after it.
    marks.check_replaceable()?;
    let log = read_log(store)?;
    let earlier = marks.get(store).ok().flatten();
    // An id file that holds no id (emptied, or torn by a crash of an older version's
    // write) is restored like a missing one: read as an id, it would make every line of
    // the log look like another store's.
    let (store_id, id_missing) = match read_store_id(store)?.filter(|id| is_store_id(id)) {
        Some(id) => (id, false),
        None => (id_to_restore(store, &log, earlier.as_ref())?, true),
    };
    refuse_a_log_it_cannot_continue(store, &store_id, &log, signer)?;
    // The records the line accepts (read before anything is written).
    let accepted_head = crate::stops::last_record(store)?;
    refuse_a_log_ahead_of_the_store(store, &log, accepted_head)?;

    let mut restored_id = None;
    if id_missing {
        write_store_id(store, &store_id)?;
        restored_id = Some(store_id.clone());
    }
    let mut found = found.to_string();
    if let Some(id) = &restored_id {
        found.push_str(&format!(
            "; {STORE_ID_FILE} was missing and was restored as {id}"
        ));
    }

    // The line vouches for what the line before it did (nothing new: the server signs
    // the records after it at its next start, as recovered), and records the head
    // accepted: written with the server stopped, it is a clean stop's line for that
    // head, and the next start refuses records added after it.
    let last = log.last();
    let index = last.map_or(1, |l| l.cp.index + 1);
    let prev = last.map_or([0; 32], |l| l.digest);
    let link = last.map_or(ChainLink::GENESIS, |l| l.cp.link);
    let tree = last.and_then(|l| l.cp.tree.clone()).map(|t| TreeHead {
        frontier: None,
        ..t
    });
    let record = AcceptanceRecord {
        by: by.to_string(),
        reason: reason.to_string(),
        found: found.clone(),
        mark: earlier.as_ref().map(|m| MarkBefore {
            checkpoint: m.checkpoint,
            chain_seq: m.link.seq,
            chain_hash: m.link.hash_hex(),
            time: m.time.clone(),
        }),
        head: Some(AcceptedHead::of(accepted_head)),
    };
    let time = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let (line_cp, line) = Checkpoint::sign_with(
        signer,
        index,
        &store_id,
        link,
        time,
        prev,
        LineExtras {
            tree,
            accepted: Some(record),
            ..LineExtras::default()
        },
    );
    let digest = Checkpoint::line_digest(line.as_bytes());
    append_line(store, &line)?;

    // The mark after the line is durable: it never names a line the log could lose.
    let mark = marks.put(
        signer,
        store,
        &MarkState {
            store_id,
            checkpoint: index,
            link,
            checkpoint_digest: digest,
            accepted: Some(Acceptance {
                by: by.to_string(),
                reason: reason.to_string(),
                found,
            }),
        },
    )?;
    Ok(Accepted {
        mark,
        line: line_cp,
        restored_id,
    })
}

/// The id a store whose `store-id` file is missing had: the one its checkpoint log
/// names, else its earlier mark's.
fn id_to_restore(
    store: &Path,
    log: &[LogLine],
    earlier: Option<&HighWaterMark>,
) -> Result<String, IntegrityError> {
    let path = store.join(STORE_ID_FILE);
    let id = log
        .last()
        .map(|l| l.cp.store_id.clone())
        .or_else(|| earlier.map(|m| m.store_id.clone()))
        .ok_or_else(|| IntegrityError::CheckpointLog {
            path: path.clone(),
            line: 0,
            reason: "the store id is missing and neither a checkpoint log nor a high-water mark names it".into(),
        })?;
    if !is_store_id(&id) {
        return Err(IntegrityError::CheckpointLog {
            path,
            line: 0,
            reason: format!("the id the checkpoint log names ({id:?}) is not a store id"),
        });
    }
    Ok(id)
}

/// A log ending in an incomplete line (a crash mid-append): a line appended after it
/// would be glued to the fragment. The server cuts such a tail when it opens the log,
/// but a store that needs an acceptance is refused before that.
fn refuse_a_torn_log(store: &Path) -> Result<(), IntegrityError> {
    let path = store.join(CHECKPOINT_LOG);
    let text = match auditrail_core::regular_file::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(IntegrityError::io(&path, e)),
    };
    let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    if complete == text.len() {
        return Ok(());
    }
    Err(IntegrityError::AcceptRefused {
        path: store.to_path_buf(),
        found: format!(
            "the checkpoint log {} ends in an incomplete line of {} bytes after its first {complete} bytes (a write cut short): an acceptance appended there would be glued to it",
            path.display(),
            text.len() - complete
        ),
        remedy: format!(
            "keep a copy of the log as evidence, cut the incomplete line (`truncate -s {complete} {}`: it was never written whole, so it vouched for nothing), then run `auditrail store accept` again",
            path.display()
        ),
    })
}

/// Refuses a log whose last line vouches for records beyond the store's last one (the
/// newest records were cut or lost while the server was stopped). An acceptance under
/// that log cannot let the server go on: its next records would take chain numbers the
/// log already signed for other records, so every start refused again, asking for the
/// same acceptance (a loop). The way on is a new log, the old one kept as evidence.
fn refuse_a_log_ahead_of_the_store(
    store: &Path,
    log: &[LogLine],
    head: ChainLink,
) -> Result<(), IntegrityError> {
    let Some(last) = log.last() else {
        return Ok(());
    };
    if last.cp.link.seq <= head.seq {
        return Ok(());
    }
    Err(IntegrityError::AcceptRefused {
        path: store.to_path_buf(),
        found: format!(
            "the store ends at chainSeq {}, but checkpoint #{} of its log vouches for records up to chainSeq {}",
            head.seq, last.cp.index, last.cp.link.seq
        ),
        remedy: format!(
            "an acceptance under this log cannot let the server go on (its next records would take chainSeq {}..{}, which the log signed for the records that are gone). Keep the log as evidence: move {} out of the store folder, then run this command again; the acceptance starts a new log, and `auditrail verify` reports it",
            head.seq + 1,
            last.cp.link.seq,
            store.join(CHECKPOINT_LOG).display()
        ),
    })
}

/// A log whose lines do not all parse, verify and link (a line appended would link to
/// a damaged chain, and the server refuses such a log at start anyway), or whose
/// current key is not `signer`'s (a line signed by it would be `wrong-key`).
fn refuse_a_log_it_cannot_continue(
    store: &Path,
    store_id: &str,
    log: &[LogLine],
    signer: &Signer,
) -> Result<(), IntegrityError> {
    let path = store.join(CHECKPOINT_LOG);
    // A line signed by a retired key is not refused; the key the next line needs is
    // checked below.
    let broken = damaged_lines(store, store_id, crate::log_pieces::Reach::All);
    if !broken.is_empty() {
        return Err(IntegrityError::AcceptRefused {
            path: store.to_path_buf(),
            found: format!(
                "the checkpoint log {} is damaged: {}",
                path.display(),
                broken.join("; ")
            ),
            remedy: format!(
                "keep it as evidence (move it aside, e.g. `mv {0} {0}.damaged`), then run `auditrail store accept` again: the acceptance is then the first line of a new log, and records what `verify` found",
                path.display()
            ),
        });
    }
    let chain = crate::checkpoint::key_chain(log.iter().map(|l| &l.cp));
    if let Some(current) = chain.last() {
        if current != signer.public_key() {
            return Err(IntegrityError::AcceptRefused {
                path: store.to_path_buf(),
                found: format!(
                    "the checkpoint log {} is signed by {current}, not by the given key {}",
                    path.display(),
                    signer.public_key()
                ),
                remedy: "give the store's current signing key (the server's `signing.key`, `--signing-key`, or `--config`)".into(),
            });
        }
    }
    Ok(())
}

/// Appends `line` to the store's checkpoint log, fsynced (and the store's folder, when
/// the log is new).
fn append_line(store: &Path, line: &str) -> Result<(), IntegrityError> {
    let path = store.join(CHECKPOINT_LOG);
    let existed = path.exists();
    AppendLog::open(&path)
        .and_then(|mut log| log.append(format!("{line}\n").as_bytes()))
        .map_err(|e| IntegrityError::io(&path, e))?;
    if !existed {
        auditrail_core::durable::sync_dir(store).map_err(|e| IntegrityError::io(store, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::checkpoints::check_log;
    use crate::verify::{verify, NoProgress, Problem, VerifyOptions};
    use crate::verify::{ProblemKind, StoreReport};
    use auditrail_store::root::read_store_id;

    const ID: &str = "0193aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee";

    /// A data dir with a store holding its id and `lines` signed lines (chainSeq 10,
    /// 20, ...), as the server leaves it.
    fn store_with_log(lines: u64, signer: &Signer) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        std::fs::create_dir_all(&store).unwrap();
        std::fs::write(store.join(STORE_ID_FILE), format!("{ID}\n")).unwrap();
        // The records the lines vouch for, so that the store ends where its log does.
        let target = auditrail_testkit::store::open(&store, serde_json::json!({}));
        target
            .send_blocking(&auditrail_testkit::store::events(1, lines * 10))
            .unwrap();
        drop(target);
        let links: Vec<ChainLink> = auditrail_testkit::store::lines(&store)
            .iter()
            .map(|(_, l)| auditrail_store::chain::parse_line(l).unwrap().link)
            .collect();
        let mut text = String::new();
        let mut prev = [0u8; 32];
        for i in 1..=lines {
            let link = links[(i * 10 - 1) as usize];
            let (_, line) = Checkpoint::sign(signer, i, ID, link, "t".into(), prev);
            prev = Checkpoint::line_digest(line.as_bytes());
            text.push_str(&line);
            text.push('\n');
        }
        if lines > 0 {
            std::fs::write(store.join(CHECKPOINT_LOG), text).unwrap();
        }
        (dir, store)
    }

    fn mark_at(marks: &HighWaterMarks, signer: &Signer, store: &Path, checkpoint: u64, seq: u64) {
        marks
            .put(
                signer,
                store,
                &MarkState {
                    store_id: ID.into(),
                    checkpoint,
                    link: ChainLink { seq, hash: [9; 32] },
                    checkpoint_digest: [8; 32],
                    accepted: None,
                },
            )
            .unwrap();
    }

    fn accepted_state(dir: &Path, signer: &Signer) -> Vec<Problem> {
        let options = VerifyOptions {
            public_key: Some(*signer.public_key()),
            ..VerifyOptions::default()
        };
        let report = verify(dir, &options, &NoProgress).unwrap();
        report.stores[0]
            .problems
            .iter()
            .filter(|p| p.kind == ProblemKind::AcceptedState)
            .cloned()
            .collect()
    }

    #[test]
    fn an_acceptance_is_a_line_linked_to_the_log_and_the_mark_moves_to_it() {
        let signer = Signer::from_seed([1; 32]);
        let (dir, store) = store_with_log(3, &signer);
        let marks = HighWaterMarks::in_data_dir(dir.path());
        // The mark had recorded checkpoint #5 at chainSeq 50: the log was rolled back.
        mark_at(&marks, &signer, &store, 5, 50);
        let before = read_log(&store).unwrap();

        let done = accept(&store, &marks, &signer, "ops", "restored", "found x").unwrap();

        let log = read_log(&store).unwrap();
        assert_eq!(log.len(), 4);
        let line = &log[3];
        assert_eq!(line.cp.index, 4);
        assert_eq!(line.cp.prev, before[2].digest);
        assert_eq!(
            line.cp.link, before[2].cp.link,
            "nothing new is vouched for"
        );
        let record = line.cp.accepted.clone().unwrap();
        assert_eq!(
            (record.by.as_str(), record.reason.as_str()),
            ("ops", "restored")
        );
        let m = record.mark.unwrap();
        assert_eq!((m.checkpoint, m.chain_seq), (5, 50));
        assert_eq!(done.line, line.cp);
        let mark = marks.get(&store).unwrap().unwrap();
        assert_eq!(
            (mark.checkpoint, mark.link, mark.checkpoint_digest),
            (4, line.cp.link, line.digest)
        );
        // The log still checks: signed, linked, one key.
        let mut report = StoreReport::default();
        check_log(&store, Some(ID), Some(signer.public_key()), &mut report);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
    }

    #[test]
    fn verify_reports_the_logged_acceptance_once_and_without_the_history_file() {
        let signer = Signer::from_seed([1; 32]);
        let (dir, store) = store_with_log(3, &signer);
        let marks = HighWaterMarks::in_data_dir(dir.path());
        mark_at(&marks, &signer, &store, 5, 50);
        accept(&store, &marks, &signer, "ops", "restored", "found x").unwrap();

        let found = accepted_state(dir.path(), &signer);
        assert_eq!(
            found.len(),
            1,
            "the history's copy is not reported again: {found:?}"
        );
        assert_eq!(found[0].file.as_deref(), Some(CHECKPOINT_LOG));
        assert_eq!(found[0].line, Some(4));
        assert!(
            found[0]
                .message
                .contains("had recorded checkpoint #5 at chainSeq 50")
                && found[0]
                    .message
                    .contains("the log ended at checkpoint #3 (chainSeq 30)"),
            "{}",
            found[0].message
        );
        assert_eq!(
            (found[0].first_seq, found[0].last_seq),
            (Some(31), Some(50))
        );

        std::fs::remove_file(dir.path().join(crate::high_water::ACCEPTANCES_FILE)).unwrap();
        assert_eq!(accepted_state(dir.path(), &signer), found);
    }

    #[test]
    fn an_acceptance_kept_only_in_the_history_is_still_reported() {
        // What versions before acceptances were logged left: the history and the mark.
        let signer = Signer::from_seed([1; 32]);
        let (dir, store) = store_with_log(2, &signer);
        let marks = HighWaterMarks::in_data_dir(dir.path());
        let last = read_log(&store).unwrap().pop().unwrap();
        marks
            .put(
                &signer,
                &store,
                &MarkState {
                    store_id: ID.into(),
                    checkpoint: last.cp.index,
                    link: last.cp.link,
                    checkpoint_digest: last.digest,
                    accepted: Some(Acceptance {
                        by: "ops".into(),
                        reason: "upgrade".into(),
                        found: "no errors".into(),
                    }),
                },
            )
            .unwrap();
        let found = accepted_state(dir.path(), &signer);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].message.contains("\"upgrade\"")
                && found[0].message.contains("not in checkpoints.jsonl"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn a_store_without_a_log_gets_the_acceptance_as_its_first_line() {
        let signer = Signer::from_seed([1; 32]);
        let (dir, store) = store_with_log(0, &signer);
        let marks = HighWaterMarks::in_data_dir(dir.path());
        let done = accept(&store, &marks, &signer, "ops", "log lost", "found y").unwrap();
        let log = read_log(&store).unwrap();
        assert_eq!(log.len(), 1);
        let cp = &log[0].cp;
        assert_eq!(
            (cp.index, cp.link, cp.prev),
            (1, ChainLink::GENESIS, [0; 32])
        );
        assert_eq!(cp.accepted.as_ref().unwrap().mark, None);
        assert_eq!(
            cp.stopped_at(),
            Some(ChainLink::GENESIS),
            "the head accepted: no record"
        );
        assert_eq!(done.mark.checkpoint, 1);
        assert_eq!(done.mark.checkpoint_digest, log[0].digest);
    }

    #[test]
    fn a_missing_store_id_is_restored_and_named_by_the_acceptance() {
        let signer = Signer::from_seed([1; 32]);
        let (dir, store) = store_with_log(2, &signer);
        std::fs::remove_file(store.join(STORE_ID_FILE)).unwrap();
        let marks = HighWaterMarks::in_data_dir(dir.path());
        let done = accept(&store, &marks, &signer, "ops", "id lost", "found z").unwrap();
        assert_eq!(done.restored_id.as_deref(), Some(ID));
        assert_eq!(read_store_id(&store).unwrap().as_deref(), Some(ID));
        let cp = read_log(&store).unwrap().pop().unwrap().cp;
        assert_eq!((cp.index, cp.store_id.as_str()), (3, ID));
        assert!(cp.accepted.unwrap().found.contains("was restored as"));
    }

    #[test]
    fn an_empty_store_id_is_restored_like_a_missing_one() {
        let signer = Signer::from_seed([1; 32]);
        let (dir, store) = store_with_log(2, &signer);
        std::fs::write(store.join(STORE_ID_FILE), "").unwrap();
        let marks = HighWaterMarks::in_data_dir(dir.path());
        let done = accept(&store, &marks, &signer, "ops", "id torn", "found z").unwrap();
        assert_eq!(done.restored_id.as_deref(), Some(ID));
        assert_eq!(read_store_id(&store).unwrap().as_deref(), Some(ID));
        let cp = read_log(&store).unwrap().pop().unwrap().cp;
        assert_eq!((cp.index, cp.store_id.as_str()), (3, ID));
    }

    /// The newest records cut while the server was stopped: an acceptance under the
    /// log that signed them was written ("accepted"), and the next start refused again,
    /// asking for the same acceptance, for ever. Refused before anything is written,
    /// saying to move the log aside; done so, the acceptance starts a new log.
    #[test]
    fn a_log_that_vouches_for_records_the_store_lost_is_refused_naming_the_way_on() {
        let signer = Signer::from_seed([1; 32]);
        let (dir, store) = store_with_log(2, &signer);
        auditrail_testkit::store::keep_records_upto(&store, 15);
        let marks = HighWaterMarks::in_data_dir(dir.path());
        mark_at(&marks, &signer, &store, 2, 20);
        let log = std::fs::read(store.join(CHECKPOINT_LOG)).unwrap();
        let mark = std::fs::read(marks.path()).unwrap();

        let err = accept(&store, &marks, &signer, "ops", "cut", "f").unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, IntegrityError::AcceptRefused { .. }),
            "{text}"
        );
        assert!(
            text.contains("the store ends at chainSeq 15, but checkpoint #2 of its log vouches for records up to chainSeq 20")
                && text.contains(&format!(
                    "move {} out of the store folder",
                    store.join(CHECKPOINT_LOG).display()
                )),
            "{text}"
        );
        assert_eq!(std::fs::read(store.join(CHECKPOINT_LOG)).unwrap(), log);
        assert_eq!(std::fs::read(marks.path()).unwrap(), mark);

        std::fs::rename(
            store.join(CHECKPOINT_LOG),
            dir.path().join("evidence.jsonl"),
        )
        .unwrap();
        accept(&store, &marks, &signer, "ops", "cut", "f").unwrap();
        let cp = read_log(&store).unwrap().pop().unwrap().cp;
        assert_eq!(cp.index, 1, "a new log");
    }

    #[test]
    fn a_log_it_cannot_continue_is_refused_and_left_as_it_was() {
        let signer = Signer::from_seed([1; 32]);
        let other = Signer::from_seed([2; 32]);
        type Damage = fn(&Path);
        let cases: [(&str, Damage); 2] = [
            ("torn", |store| {
                let mut text = std::fs::read(store.join(CHECKPOINT_LOG)).unwrap();
                text.extend_from_slice(b"{\"checkpoint\":3,\"sto");
                std::fs::write(store.join(CHECKPOINT_LOG), text).unwrap();
            }),
            ("edited", |store| {
                let text = std::fs::read_to_string(store.join(CHECKPOINT_LOG)).unwrap();
                let edited = text.replacen("\"chainSeq\":10", "\"chainSeq\":11", 1);
                std::fs::write(store.join(CHECKPOINT_LOG), edited).unwrap();
            }),
        ];
        for (what, damage) in cases {
            let (dir, store) = store_with_log(2, &signer);
            damage(&store);
            let before = std::fs::read(store.join(CHECKPOINT_LOG)).unwrap();
            let marks = HighWaterMarks::in_data_dir(dir.path());
            let err = accept(&store, &marks, &signer, "ops", "r", "f").unwrap_err();
            assert!(
                matches!(err, IntegrityError::AcceptRefused { .. }),
                "{what}: {err}"
            );
            assert_eq!(
                std::fs::read(store.join(CHECKPOINT_LOG)).unwrap(),
                before,
                "{what}"
            );
            assert!(marks.get(&store).unwrap().is_none(), "{what}");
        }
        // Signed by another key than the one given.
        let (dir, store) = store_with_log(2, &other);
        let marks = HighWaterMarks::in_data_dir(dir.path());
        let err = accept(&store, &marks, &signer, "ops", "r", "f").unwrap_err();
        assert!(err.to_string().contains("is signed by"), "{err}");
        assert_eq!(read_log(&store).unwrap().len(), 2);
    }
}
