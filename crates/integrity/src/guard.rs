//! What the server checks before it signs anything more for a store: that the store
//! is the one its high-water mark, checkpoint log and records say it is. The server
//! never signs over a checkpoint log that is missing, emptied, shortened, replaced or
//! not matching the records, and never gives a store that has records or checkpoints a
//! new identity: it refuses, names what it found, and says how to proceed (`auditrail
//! verify`, then `auditrail store accept`, which records, signed, that a person
//! accepted the state).

use std::path::Path;

use auditrail_store::chain::ChainLink;
use auditrail_store::root::read_store_id;
use auditrail_store::{RecoveryReport, CHECKPOINT_LOG, STORE_ID_FILE};

use super::checkpoint::{parse_unverified, Checkpoint};
use super::high_water::{HighWaterMark, HighWaterMarks, MarkState};
use super::keys::Signer;
use super::verify::checkpoints::check_log;
use super::verify::{ProblemKind, Severity, StoreReport};
use super::IntegrityError;

/// One line of a checkpoint log: the checkpoint (signature unchecked here; the log
/// check below reports bad ones) and the digest of its line.
#[derive(Debug, Clone)]
pub(crate) struct LogLine {
    pub(crate) cp: Checkpoint,
    pub(crate) digest: [u8; 32],
}

/// The complete lines of `<store>/checkpoints.jsonl` that parse (none when it does
/// not exist).
pub(crate) fn read_log(store: &Path) -> Result<Vec<LogLine>, IntegrityError> {
    let path = store.join(CHECKPOINT_LOG);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(IntegrityError::io(&path, e)),
    };
    let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    Ok(text[..complete]
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| {
            parse_unverified(l).ok().map(|cp| LogLine {
                cp,
                digest: Checkpoint::line_digest(l),
            })
        })
        .collect())
}

/// The chain of signing keys of the store's checkpoint log, oldest first (see
/// [`key_chain`](crate::checkpoint::key_chain)); empty without checkpoints. Lines are
/// read without checking their signatures (`verify` does).
pub fn store_key_chain(store: &Path) -> Result<Vec<crate::keys::PublicKey>, IntegrityError> {
    let log = read_log(store)?;
    Ok(crate::checkpoint::key_chain(log.iter().map(|l| &l.cp)))
}

/// The command that records an operator's acceptance of a store's state.
fn accept_hint(marks: &HighWaterMarks, store: &Path) -> String {
    format!(
        "check the store with `auditrail verify {} --public-key <trusted copy>`; to go on with the store as it is, a person records that with `auditrail store accept --data-dir {} --store {} --reason \"...\"`",
        store.display(),
        marks.path().parent().map_or_else(|| ".".into(), |d| d.display().to_string()),
        store.display()
    )
}

fn refuse(store: &Path, found: String, remedy: String) -> IntegrityError {
    IntegrityError::Refused {
        path: store.to_path_buf(),
        found,
        remedy,
    }
}

/// Checks the store at `store` (opened, its recovery done: `head` and `recovery`)
/// against its checkpoint log and its high-water mark. On success, a store that has
/// none yet gets its first mark (checkpoint 0).
pub(crate) fn check_start(
    store: &Path,
    head: ChainLink,
    recovery: &RecoveryReport,
    signer: &Signer,
    marks: &HighWaterMarks,
) -> Result<(), IntegrityError> {
    let hint = || accept_hint(marks, store);
    let mark = marks
        .get(store)
        .map_err(|e| refuse(store, e.to_string(), hint()))?;
    let log = read_log(store)?;
    let store_id = read_store_id(store);

    // The identity.
    let Some(store_id) = store_id else {
        if head.seq == 0 && log.is_empty() && mark.is_none() {
            return Ok(()); // a new store: the checkpointer creates its id
        }
        let mut found = format!(
            "{} is missing, but the store has {} records",
            store.join(STORE_ID_FILE).display(),
            head.seq
        );
        if let Some(l) = log.last() {
            found.push_str(&format!(
                ", a checkpoint log naming store {}",
                l.cp.store_id
            ));
        }
        if let Some(m) = &mark {
            found.push_str(&format!(
                ", a high-water mark in {} naming store {}",
                marks.path().display(),
                m.store_id
            ));
        }
        return Err(refuse(
            store,
            found,
            format!(
                "the server does not give an existing store a new identity; {} (it restores the id the checkpoint log names), or write the id back into {}",
                hint(),
                store.join(STORE_ID_FILE).display()
            ),
        ));
    };

    // The log itself: format, signatures, links between lines, store id. (A change of
    // key is reported by `verify`, not refused here.)
    let mut report = StoreReport::default();
    check_log(store, Some(&store_id), None, &mut report);
    let broken: Vec<String> = report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error && p.kind != ProblemKind::WrongKey)
        .take(3)
        .map(|p| format!("line {}: {}", p.line.unwrap_or(0), p.message))
        .collect();
    if !broken.is_empty() {
        return Err(refuse(
            store,
            format!(
                "the checkpoint log {} is damaged: {}",
                store.join(CHECKPOINT_LOG).display(),
                broken.join("; ")
            ),
            format!("keep it as evidence (move it aside); {}", hint()),
        ));
    }

    // The key: after a rotation line, only the key it handed over to signs.
    let chain = crate::checkpoint::key_chain(log.iter().map(|l| &l.cp));
    if let Some(current) = chain.last() {
        if current != signer.public_key() {
            let found = if chain.contains(signer.public_key()) {
                format!(
                    "the checkpoint log handed signing over from this server's key {} to {current} (a key rotation)",
                    signer.public_key()
                )
            } else {
                format!(
                    "the checkpoint log is signed by {current}, not by this server's key {}",
                    signer.public_key()
                )
            };
            return Err(refuse(
                store,
                found,
                "start the server with the store's current signing key (after `auditrail keys rotate`, the new `signing.key`; an interrupted rotation left it in `signing.key.next`: run `auditrail keys rotate` again to finish it)".to_string(),
            ));
        }
    }

    // The high-water mark against the log.
    match &mark {
        None if head.seq > 0 || !log.is_empty() => {
            return Err(refuse(
                store,
                format!(
                    "no high-water mark for this store in {} (removed, or the first start of a version that keeps one), and the store has {} records and {} checkpoints: a shortened checkpoint log could not be told from a genuine one",
                    marks.path().display(),
                    head.seq,
                    log.len()
                ),
                hint(),
            ))
        }
        None => {}
        Some(m) => check_mark(store, m, &store_id, &log, head, signer, marks, &hint, &chain)?,
    }

    // The last checkpoint against the records.
    if let Some(last) = log.last() {
        if recovery.acknowledged_seq == last.cp.link.seq {
            if let Some(stored) = recovery.acknowledged_link {
                if stored.hash != last.cp.link.hash {
                    return Err(refuse(
                        store,
                        format!(
                            "checkpoint #{} vouches for chain hash {} at chainSeq {}, but the store's record there has {}: records up to it were rewritten",
                            last.cp.index,
                            last.cp.link.hash_hex(),
                            last.cp.link.seq,
                            stored.hash_hex()
                        ),
                        hint(),
                    ));
                }
            }
        }
    }

    if mark.is_none() {
        marks.put(
            signer,
            store,
            &MarkState {
                store_id,
                checkpoint: 0,
                link: ChainLink::GENESIS,
                checkpoint_digest: [0; 32],
                accepted: None,
            },
        )?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn check_mark(
    store: &Path,
    m: &HighWaterMark,
    store_id: &str,
    log: &[LogLine],
    head: ChainLink,
    signer: &Signer,
    marks: &HighWaterMarks,
    hint: &dyn Fn() -> String,
    key_chain: &[crate::keys::PublicKey],
) -> Result<(), IntegrityError> {
    let file = marks.path().display();
    // A mark signed before a key rotation (by a key the log retired for this one)
    // is this store's, not a stranger's.
    let earlier_key = key_chain.contains(&m.key) && key_chain.contains(signer.public_key());
    if &m.key != signer.public_key() && !earlier_key {
        return Err(refuse(
            store,
            format!(
                "the high-water mark in {file} is signed by {}, not by this server's key {}",
                m.key,
                signer.public_key()
            ),
            hint(),
        ));
    }
    if m.store_id != store_id {
        return Err(refuse(
            store,
            format!(
                "the high-water mark in {file} names store {}, but {} says {store_id}: the store was replaced",
                m.store_id,
                store.join(STORE_ID_FILE).display()
            ),
            hint(),
        ));
    }
    if m.checkpoint > 0 {
        let log_end = match log.last() {
            None => "the checkpoint log is missing or empty".to_string(),
            Some(l) => format!(
                "the checkpoint log ends at checkpoint #{} (chainSeq {})",
                l.cp.index, l.cp.link.seq
            ),
        };
        match log.iter().find(|l| l.cp.index == m.checkpoint) {
            None => {
                return Err(refuse(
                    store,
                    format!(
                        "{log_end}, but the high-water mark in {file} recorded checkpoint #{} at chainSeq {} ({}): checkpoints were removed (the log was shortened, emptied, deleted, or replaced by an older copy)",
                        m.checkpoint, m.link.seq, m.time
                    ),
                    hint(),
                ))
            }
            Some(l) if l.digest != m.checkpoint_digest => {
                return Err(refuse(
                    store,
                    format!(
                        "checkpoint #{} in the log is not the one the high-water mark in {file} recorded ({}): the log was replaced",
                        m.checkpoint, m.time
                    ),
                    hint(),
                ))
            }
            Some(_) => {}
        }
    }
    if head.seq < m.link.seq {
        return Err(refuse(
            store,
            format!(
                "the store ends at chainSeq {}, but checkpoint #{} (recorded in {file}) vouched for records up to chainSeq {}: the store was rolled back or cut",
                head.seq, m.checkpoint, m.link.seq
            ),
            hint(),
        ));
    }
    Ok(())
}
