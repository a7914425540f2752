//! What checkpoint lines say about the server's stops and starts, and the start's
//! refusal of records written while it was stopped.
//!
//! A server stopped cleanly has written every record it will ever write before its
//! final line, which says so (`"cleanStop":true`): a record after that line was put
//! there while no server ran (the chain is plain SHA-256, anyone can extend it). The
//! server refuses to start on such a store instead of signing those records, until a
//! person removed them or accepted them (`auditrail store accept`).
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
/// was signed at a clean stop (`None`: nothing to refuse). `accepted`: an operator
/// accepted the store's state at that line (`auditrail store accept`), after the
/// records were there; the start then signs them as recovered.
pub(crate) fn appended_after_clean_stop(
    store: &Path,
    last: &Checkpoint,
    head: ChainLink,
    accepted: bool,
) -> Option<String> {
    if !last.clean_stop || head.seq <= last.link.seq || accepted {
        return None;
    }
    let (from, to) = (last.link.seq + 1, head.seq);
    let files = files_holding_after(store, last.link.seq);
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
        "chainSeq {from}..{to}{files} follow checkpoint #{} (chainSeq {}, {}), which the server signed when it stopped cleanly: no record is written after a clean stop, so {} added while the server was stopped",
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

/// The chainSeq of a file's last complete line: the chain fields end every record
/// line, so its last few hundred bytes hold them.
fn last_seq_of(path: &Path) -> Option<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path).ok()?;
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
        .map(|l| l.link.seq)
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
