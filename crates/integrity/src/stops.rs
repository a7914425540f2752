//! What checkpoint lines say about the server's stops and starts, and the start's
//! refusal of records written while it was stopped.
//!
//! A server stopped cleanly has written every record it will ever write before its
//! final line, which says so (`"cleanStop":true`): a record after that line was put
//! there while no server ran (the chain is plain SHA-256, anyone can extend it). The
//! server refuses to start on such a store instead of signing those records, until a
//! person removed them or accepted them (`auditrail store accept`).
//!
//! `auditrail store accept` also writes its line with the server stopped, and records
//! in it the store's head it accepted (`accepted.head`): a record after that head was
//! put there after the acceptance, while no server ran, and is refused the same way
//! (the records up to it, which the operator accepted, are signed as recovered by the
//! next start). A server stopped before it stored anything signs a clean stop's line
//! vouching for no record (`chainSeq` 0), so that records put into the empty store are
//! refused too.
//!
//! After a crash, records after the last line are expected (fsynced, not sealed, never
//! acknowledged): the start signs them, and says so in the line
//! (`"recovered":{"fromSeq":a,"toSeq":b}`) and in its log, so that an auditor tells
//! records vouched for only at a restart from records sealed as they were acknowledged.

use std::path::Path;

use serde::{Deserialize, Serialize};

use auditrail_store::chain::ChainLink;

use super::checkpoint::Checkpoint;
use super::verify::files::record_files;
use super::IntegrityError;

/// The records a start vouches for as found after the log's last line (`fromSeq` to
/// `toSeq`, inclusive; `toSeq` is the line's `chainSeq`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Recovered {
    /// The first record found after the last line.
    pub from_seq: u64,
    /// The last one (the store's head at start).
    pub to_seq: u64,
}

/// Segment files named in a refusal at most.
const NAMED_FILES: usize = 10;

/// At start: what the store holds after `last`, the log's last line, when that line
/// was signed with no server writing to the store (`None`: nothing to refuse): a clean
/// stop's line, or an acceptance that records the head it accepted
/// ([`Checkpoint::stopped_at`]). `accepted_by_mark`: the high-water mark records an
/// operator's acceptance at that line (what versions that did not log acceptances
/// left), after the records were there; the start then signs them as recovered.
pub(crate) fn appended_after_clean_stop(
    store: &Path,
    last: &Checkpoint,
    head: ChainLink,
    accepted_by_mark: bool,
) -> Option<String> {
    let by_acceptance = last.accepted.as_ref().is_some_and(|a| a.head.is_some());
    if accepted_by_mark && !by_acceptance {
        return None;
    }
    let stopped = last.stopped_at()?;
    let signed_when = if by_acceptance {
        format!(
            "which `auditrail store accept` signed with the server stopped, accepting the store up to chainSeq {}",
            stopped.seq
        )
    } else {
        "which the server signed when it stopped cleanly".to_string()
    };
    if head.seq == stopped.seq && head.hash != stopped.hash && by_acceptance {
        // The accepted records themselves were replaced (a chain rewritten from some
        // record on, ending at the same number).
        return Some(format!(
            "the record at chainSeq {} has chain hash {}, not {} as checkpoint #{} ({}) recorded, {signed_when}: records were rewritten while the server was stopped",
            head.seq,
            head.hash_hex(),
            stopped.hash_hex(),
            last.index,
            last.time,
        ));
    }
    if head.seq < stopped.seq && by_acceptance {
        // Records the operator accepted are gone: no line vouches for them yet (the
        // acceptance's own `chainSeq` repeats the line before it), so no other check
        // would notice, and the start would sign the shorter store as if whole.
        return Some(format!(
            "the store ends at chainSeq {}, but checkpoint #{} ({}) accepted it up to chainSeq {}, {signed_when}: chainSeq {}..{} were removed while the server was stopped (run `auditrail verify` to see what is there, then `auditrail store accept` again to accept the store as it is now)",
            head.seq,
            last.index,
            last.time,
            stopped.seq,
            head.seq + 1,
            stopped.seq,
        ));
    }
    if head.seq <= stopped.seq {
        return None;
    }
    let (from, to) = (stopped.seq + 1, head.seq);
    let files = files_holding_after(store, stopped.seq);
    let files = if files.is_empty() {
        String::new()
    } else {
        let more = files.len().saturating_sub(NAMED_FILES);
        let mut named = files
            .into_iter()
            .take(NAMED_FILES)
            .collect::<Vec<_>>()
            .join(", ");
        if more > 0 {
            named.push_str(&format!(" and {more} more"));
        }
        format!(" (in {named})")
    };
    Some(format!(
        "chainSeq {from}..{to}{files} follow checkpoint #{} (chainSeq {}, {}), {signed_when}: no record is written while the server is stopped, so {} added while it was stopped",
        last.index,
        last.link.seq,
        last.time,
        match to - from + 1 {
            1 => "this record was".to_string(),
            n => format!("these {n} records were"),
        }
    ))
}

/// The record files (relative to the store) whose last record is after `seq`: the
/// files holding records after it (a file's records are in chain order).
fn files_holding_after(store: &Path, seq: u64) -> Vec<String> {
    let Ok((files, _)) = record_files(store) else {
        return Vec::new();
    };
    files
        .into_iter()
        .filter(|f| last_seq_of(&f.path).is_some_and(|s| s > seq))
        .map(|f| f.rel)
        .collect()
}

/// The chain link of the store's last record, as its files hold it now (the last
/// complete line of the file that ends highest; [`ChainLink::GENESIS`] without
/// records): the head `store accept` records as accepted. A start's recovery cuts an
/// incomplete last line too, so it finds the same head unless records were added.
pub(crate) fn last_record(store: &Path) -> Result<ChainLink, IntegrityError> {
    let (files, _) = record_files(store)?;
    Ok(files
        .iter()
        .filter_map(|f| last_link_of(&f.path))
        .max_by_key(|l| l.seq)
        .unwrap_or(ChainLink::GENESIS))
}

fn last_seq_of(path: &Path) -> Option<u64> {
    last_link_of(path).map(|l| l.seq)
}

/// The chain link of a file's last complete line: the chain fields end every record
/// line, so its last few hundred bytes hold them.
fn last_link_of(path: &Path) -> Option<ChainLink> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file =
        auditrail_core::regular_file::open(std::fs::OpenOptions::new().read(true), path).ok()?;
    let len = file.metadata().ok()?.len();
    let start = len.saturating_sub(512);
    file.seek(SeekFrom::Start(start)).ok()?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).ok()?;
    let end = tail.iter().rposition(|&b| b == b'\n')?;
    let line = &tail[..end];
    let line = line
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(line, |i| &line[i + 1..]);
    auditrail_store::chain::parse_line(line)
        .ok()
        .map(|l| l.link)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::LineExtras;
    use crate::keys::Signer;

    fn line(clean_stop: bool, recovered: Option<Recovered>) -> (Checkpoint, String) {
        Checkpoint::sign_with(
            &Signer::from_seed([4; 32]),
            3,
            "abc",
            ChainLink {
                seq: 9,
                hash: [9; 32],
            },
            "t".into(),
            [0; 32],
            LineExtras {
                clean_stop,
                recovered,
                ..LineExtras::default()
            },
        )
    }

    #[test]
    fn clean_stop_and_recovered_are_signed_and_parse_back() {
        let (cp, text) = line(true, None);
        assert!(text.contains(",\"cleanStop\":true,\"key\""), "{text}");
        let parsed = Checkpoint::parse_line(text.as_bytes()).unwrap();
        assert_eq!(parsed, cp);
        assert!(parsed.clean_stop && parsed.recovered.is_none());

        let range = Recovered {
            from_seq: 7,
            to_seq: 9,
        };
        let (cp, text) = line(false, Some(range));
        assert!(
            text.contains(",\"recovered\":{\"fromSeq\":7,\"toSeq\":9},\"key\""),
            "{text}"
        );
        let parsed = Checkpoint::parse_line(text.as_bytes()).unwrap();
        assert_eq!(parsed, cp);
        assert_eq!((parsed.clean_stop, parsed.recovered), (false, Some(range)));

        // A line without them (every line before they existed) is neither.
        let (_, plain) = line(false, None);
        assert!(!plain.contains("cleanStop") && !plain.contains("recovered"));
        let parsed = Checkpoint::parse_line(plain.as_bytes()).unwrap();
        assert!(!parsed.clean_stop && parsed.recovered.is_none());
    }

    #[test]
    fn removing_or_adding_clean_stop_or_changing_recovered_breaks_the_signature() {
        let (_, clean) = line(true, None);
        let removed = clean.replace(",\"cleanStop\":true", "");
        assert!(Checkpoint::parse_line(removed.as_bytes()).is_err());
        let (_, plain) = line(false, None);
        let added = plain.replace(",\"key\"", ",\"cleanStop\":true,\"key\"");
        assert!(Checkpoint::parse_line(added.as_bytes()).is_err());
        let (_, recovered) = line(
            false,
            Some(Recovered {
                from_seq: 7,
                to_seq: 9,
            }),
        );
        let narrowed = recovered.replace("\"fromSeq\":7", "\"fromSeq\":8");
        assert!(Checkpoint::parse_line(narrowed.as_bytes()).is_err());
    }

    #[test]
    fn a_stop_is_recorded_once_a_start_reopens_the_log_and_records_found_after_it_are_marked() {
        use crate::checkpointer::{CheckpointPolicy, Checkpointer};
        use auditrail_store::chain::Chain;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let signer = Arc::new(Signer::from_seed([5; 32]));
        let policy = CheckpointPolicy::default();
        let mut chain = Chain::genesis();
        let seal = |chain: &mut Chain| {
            chain.seal(b"{\"x\":1", &mut Vec::new());
            chain.last()
        };
        let open = |head| Checkpointer::open(dir.path(), signer.clone(), policy, head).unwrap();

        // A seal, then a clean stop: one more line of the same head, saying so.
        let mut cp = open(chain.last());
        cp.after_batch(seal(&mut chain)).unwrap().unwrap();
        let stopped = cp.record_stop(chain.last()).unwrap().unwrap();
        assert!(stopped.clean_stop && stopped.link.seq == 1 && stopped.index == 2);
        assert!(cp.record_stop(chain.last()).unwrap().is_none(), "once");
        drop(cp);

        // A start that takes records reopens the log with a plain line first.
        let mut cp = open(chain.last());
        assert_eq!(cp.last().unwrap().index, 2, "nothing to recover");
        let opened = cp.take_records(chain.last()).unwrap().unwrap();
        assert!(!opened.clean_stop && opened.recovered.is_none() && opened.index == 3);
        assert!(cp.take_records(chain.last()).unwrap().is_none());
        // Killed after a batch's fsync, before its seal: the next open says what it
        // vouches for.
        drop(cp);
        let head = seal(&mut chain);
        let cp = open(head);
        let last = cp.last().unwrap();
        assert_eq!((last.index, last.link.seq), (4, 2));
        assert_eq!(
            last.recovered,
            Some(Recovered {
                from_seq: 2,
                to_seq: 2
            })
        );
        assert!(!last.clean_stop);
    }

    fn link(seq: u64) -> ChainLink {
        ChainLink {
            seq,
            hash: [seq as u8; 32],
        }
    }

    /// An acceptance line vouching for chainSeq 30, recording `head` as accepted.
    fn acceptance(head: Option<ChainLink>) -> Checkpoint {
        use crate::checkpoint::{AcceptanceRecord, AcceptedHead};
        Checkpoint::sign_with(
            &Signer::from_seed([4; 32]),
            4,
            "abc",
            link(30),
            "t".into(),
            [0; 32],
            LineExtras {
                accepted: Some(AcceptanceRecord {
                    by: "ops".into(),
                    reason: "r".into(),
                    found: "f".into(),
                    mark: None,
                    head: head.map(AcceptedHead::of),
                }),
                ..LineExtras::default()
            },
        )
        .0
    }

    #[test]
    fn records_after_the_head_an_acceptance_recorded_are_refused_and_those_up_to_it_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let line = acceptance(Some(link(31)));
        // The record the operator accepted: signed as recovered at the start. (The
        // mark records the acceptance at this line: that does not let more through.)
        for by_mark in [false, true] {
            assert_eq!(
                appended_after_clean_stop(dir.path(), &line, link(31), by_mark),
                None
            );
            let found = appended_after_clean_stop(dir.path(), &line, link(33), by_mark)
                .expect("records after the accepted head are refused");
            assert!(
                found.contains("chainSeq 32..33")
                    && found.contains("these 2 records were")
                    && found.contains("`auditrail store accept`")
                    && found.contains("accepting the store up to chainSeq 31"),
                "{found}"
            );
        }
        // The accepted records replaced by others ending at the same number.
        let rewritten = ChainLink {
            seq: 31,
            hash: [7; 32],
        };
        let found = appended_after_clean_stop(dir.path(), &line, rewritten, true)
            .expect("a rewritten head is refused");
        assert!(found.contains("rewritten"), "{found}");
        // An acceptance written before the head was recorded: nothing is known.
        let old = acceptance(None);
        assert_eq!(
            appended_after_clean_stop(dir.path(), &old, link(33), true),
            None
        );
    }

    #[test]
    fn accepted_records_removed_before_the_next_start_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        // Accepted up to chainSeq 31; the line itself vouches for 30 (the line before).
        let accepted = acceptance(Some(link(31)));
        for by_mark in [false, true] {
            let found = appended_after_clean_stop(dir.path(), &accepted, link(30), by_mark)
                .expect("a store shorter than the accepted head is refused");
            assert!(
                found.contains("ends at chainSeq 30")
                    && found.contains("accepted it up to chainSeq 31")
                    && found.contains("chainSeq 31..31 were removed"),
                "{found}"
            );
        }
        // A clean stop's line vouches for its records itself (the start's rollback
        // check): nothing more to say here.
        let (stop, _) = line(true, None);
        assert_eq!(
            appended_after_clean_stop(dir.path(), &stop, link(1), false),
            None
        );
    }

    #[test]
    fn a_start_after_an_acceptance_reopens_the_log_before_it_takes_records() {
        use crate::checkpointer::{CheckpointPolicy, Checkpointer};
        use crate::high_water::HighWaterMarks;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let signer = Arc::new(Signer::from_seed([5; 32]));
        let open = || {
            Checkpointer::open(
                &store,
                signer.clone(),
                CheckpointPolicy::default(),
                ChainLink::GENESIS,
            )
            .unwrap()
        };
        drop(open());
        let marks = HighWaterMarks::in_data_dir(dir.path());
        let done = crate::accept::accept(&store, &marks, &signer, "ops", "r", "f").unwrap();
        assert_eq!(done.line.stopped_at(), Some(ChainLink::GENESIS));

        // Records a crash leaves before the first seal then follow a plain line, and
        // are signed as recovered, not refused as added after the acceptance.
        let mut cp = open();
        let opened = cp.take_records(ChainLink::GENESIS).unwrap().unwrap();
        assert_eq!((opened.index, opened.stopped_at()), (2, None));
    }

    #[test]
    fn a_store_stopped_cleanly_before_its_first_record_refuses_records_put_into_it() {
        use crate::checkpointer::{CheckpointPolicy, Checkpointer};
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let signer = Arc::new(Signer::from_seed([5; 32]));
        let open = || {
            Checkpointer::open(
                dir.path(),
                signer.clone(),
                CheckpointPolicy::default(),
                ChainLink::GENESIS,
            )
            .unwrap()
        };
        let mut cp = open();
        let stopped = cp
            .record_stop(ChainLink::GENESIS)
            .unwrap()
            .expect("a line for the empty store");
        assert!(stopped.clean_stop && stopped.index == 1);
        assert_eq!(
            (stopped.link, stopped.tree.clone()),
            (ChainLink::GENESIS, None)
        );
        assert!(
            cp.record_stop(ChainLink::GENESIS).unwrap().is_none(),
            "once"
        );
        drop(cp);
        let text =
            std::fs::read_to_string(dir.path().join(auditrail_store::CHECKPOINT_LOG)).unwrap();
        assert_eq!(
            Checkpoint::parse_line(text.trim_end().as_bytes()).unwrap(),
            stopped
        );

        let found = appended_after_clean_stop(dir.path(), &stopped, link(3), false)
            .expect("records put into the empty store are refused");
        assert!(found.contains("chainSeq 1..3"), "{found}");

        // A start that takes records reopens the log first (a crash before the first
        // seal then leaves records after a plain line, not after the stop's).
        let mut cp = open();
        let opened = cp.take_records(ChainLink::GENESIS).unwrap().unwrap();
        assert!(!opened.clean_stop && opened.index == 2 && opened.link.seq == 0);
    }

    #[test]
    fn a_recovered_range_that_does_not_end_at_the_line_is_malformed() {
        for (from, to) in [(0, 9), (10, 9), (7, 8)] {
            let (_, text) = line(
                false,
                Some(Recovered {
                    from_seq: from,
                    to_seq: to,
                }),
            );
            assert!(
                matches!(
                    crate::checkpoint::parse_unverified(text.as_bytes()),
                    Err(crate::checkpoint::CheckpointLineError::Malformed(_))
                ),
                "{from}..{to}: {text}"
            );
        }
    }
}
