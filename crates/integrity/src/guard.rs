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
use auditrail_store::{RecoveryReport, CHECKPOINT_LOG, MAX_UNACKED_RECORDS, STORE_ID_FILE};

use super::checkpoint::{parse_unverified, Checkpoint};
use super::high_water::{HighWaterMark, HighWaterMarks, MarkState};
use super::keys::Signer;
use super::log_pieces::Reach;
use super::verify::checkpoints::check_log_reach;
use super::verify::{ProblemKind, Severity, StoreReport};
use super::IntegrityError;

/// One line of a checkpoint log: the checkpoint (signature unchecked here; the log
/// check below reports bad ones) and the digest of its line.
#[derive(Debug, Clone)]
pub(crate) struct LogLine {
    pub(crate) cp: Checkpoint,
    pub(crate) digest: [u8; 32],
    /// The piece of the log it is in (`checkpoints.jsonl`, or a sealed piece's name)
    /// and its 1-based line there: where reports place it.
    pub(crate) piece: String,
    pub(crate) line: u64,
}

/// The complete lines of the store's checkpoint log that parse, every piece (none
/// when it does not exist).
pub(crate) fn read_log(store: &Path) -> Result<Vec<LogLine>, IntegrityError> {
    read_log_reach(store, Reach::All)
}

/// [`read_log`] over the pieces `reach` selects.
pub(crate) fn read_log_reach(store: &Path, reach: Reach) -> Result<Vec<LogLine>, IntegrityError> {
    let selected =
        crate::log_pieces::read(store, reach).map_err(|e| IntegrityError::io(&e.path, e.source))?;
    Ok(selected
        .lines
        .iter()
        .filter(|l| !l.bytes.is_empty())
        .filter_map(|l| {
            parse_unverified(&l.bytes).ok().map(|cp| LogLine {
                cp,
                digest: Checkpoint::line_digest(&l.bytes),
                piece: l.piece.name.clone(),
                line: l.line,
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

/// The command that records an operator's acceptance of a store's state, as it can be
/// run: the folder of the store's marks as its `--data-dir` (a partition store's is
/// its partition folder), and `--signing-key` when the key is not that folder's own
/// `signing.key` (a config's `signing_key`; a partition folder never holds a key).
pub(crate) fn accept_command(marks: &HighWaterMarks, store: &Path, signer: &Signer) -> String {
    let folder = marks.folder();
    let key = match signer.file() {
        Some(file) if file != folder.join(crate::SECRET_KEY_FILE) => {
            format!(" --signing-key {}", file.display())
        }
        _ => String::new(),
    };
    format!(
        "auditrail store accept --data-dir {}{key} --store {} --reason \"...\"",
        folder.display(),
        store.display()
    )
}

/// What to do about a refused store: check it, then accept its state.
fn accept_hint(marks: &HighWaterMarks, store: &Path, signer: &Signer) -> String {
    format!(
        "check the store with `auditrail verify {} --public-key <trusted copy>`; to go on with the store as it is, a person records that with `{}`",
        store.display(),
        accept_command(marks, store, signer)
    )
}

fn refuse(store: &Path, found: String, remedy: String) -> IntegrityError {
    IntegrityError::Refused {
        path: store.to_path_buf(),
        found,
        remedy,
    }
}

/// What to do about a server key that is not the store's current one (`chain`'s
/// last). A key the log retired is, as `keys rotate` and `keys export` say, a key file
/// put back from before a rotation, unless it is a rotation still to finish (its new
/// key waiting in `<key file>.next`, see [`crate::rotation::retired_key`]): only then
/// does running `keys rotate` again help; otherwise it refuses the same key file.
fn wrong_key_remedy(
    store: &Path,
    signer: &Signer,
    chain: &[crate::keys::PublicKey],
) -> Result<String, IntegrityError> {
    let key = signer.public_key();
    let current = chain.last().copied();
    if !chain.contains(key) {
        return Ok("start the server with the store's current signing key (after `auditrail keys rotate`, the new `signing.key`)".to_string());
    }
    let next_file = signer.file().map(|f| {
        let mut name = f.as_os_str().to_owned();
        name.push(".next");
        std::path::PathBuf::from(name)
    });
    let next_key = next_file
        .as_deref()
        .and_then(|n| Signer::load(n).ok().map(|s| *s.public_key()));
    let next = match (&next_key, &next_file) {
        (Some(k), _) => crate::rotation::NextKey::Key(k),
        (None, Some(n)) if n.exists() => crate::rotation::NextKey::Unknown,
        _ => crate::rotation::NextKey::Absent,
    };
    let file = signer
        .file()
        .map_or_else(|| "the key file".to_string(), |f| f.display().to_string());
    match crate::rotation::retired_key(std::iter::once(store), key, next)? {
        None => Ok(format!(
            "an interrupted `auditrail keys rotate` left the store's current key{} in {}: run `auditrail keys rotate` again (with this server's --config or --data-dir) to finish it",
            current.map(|c| format!(" {c}")).unwrap_or_default(),
            next_file.map_or_else(|| "`<key file>.next`".to_string(), |n| n.display().to_string()),
        )),
        Some(retired) => Ok(format!(
            "{file} holds a retired key, put back from before that rotation (a restore from an older backup?): no store takes a line signed by {key} any more. Put back the key file holding {current}, the store's current key (with {public} holding its public half), from a backup made after the rotation; if that secret is lost for good, keep the data dir as evidence and start the server on a new one",
            current = retired.current,
            public = crate::PUBLIC_KEY_FILE,
        )),
    }
}

/// What [`check_store`] found of a store that passed: whether it still needs its first
/// high-water mark (a store with an id, no records, no checkpoint and no mark yet).
#[derive(Debug)]
#[must_use = "a passed check is written down by `Passed::mark_first`"]
pub(crate) struct Passed {
    /// The store's id, when it has no mark yet.
    unmarked: Option<String>,
}

impl Passed {
    /// Gives a store that passed without a mark its first one (checkpoint 0): what a
    /// check that is not read-only writes.
    pub(crate) fn mark_first(
        self,
        store: &Path,
        signer: &Signer,
        marks: &HighWaterMarks,
    ) -> Result<(), IntegrityError> {
        let Some(store_id) = self.unmarked else {
            return Ok(());
        };
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
        Ok(())
    }
}

/// Checks the store at `store` (opened, its recovery done: `head` and `recovery`)
/// against its checkpoint log and its high-water mark, writing nothing: what it found,
/// for [`Passed::mark_first`] to write down (a store that has no mark yet gets its
/// first one, checkpoint 0).
pub(crate) fn check_store(
    store: &Path,
    head: ChainLink,
    recovery: &RecoveryReport,
    signer: &Signer,
    marks: &HighWaterMarks,
) -> Result<Passed, IntegrityError> {
    let hint = || accept_hint(marks, store, signer);
    let mark = marks.get(store).map_err(|e| {
        // A marks file that cannot be read (its owner, mode, a FIFO at its name) is not
        // a lost or older one: `store accept`, the way on for those, would be the wrong
        // advice, and it refuses a file it cannot replace anyway.
        let remedy = match &e {
            IntegrityError::Io { path, .. } => format!(
                "make {} a regular file that the server's user can read and write (its \
                 owner, its mode; the marks are evidence: do not delete them)",
                path.display()
            ),
            _ => hint(),
        };
        refuse(store, e.to_string(), remedy)
    })?;
    // The pieces this start continues (back to the line the mark names), not the whole
    // history: sealed pieces are never written again (`auditrail verify` reads all).
    let reach = Reach::Tail {
        mark: mark.as_ref().map(|m| m.checkpoint),
    };
    let log = read_log_reach(store, reach)?;
    let store_id = read_store_id(store)?;

    // The identity.
    let Some(store_id) = store_id else {
        if head.seq == 0 && log.is_empty() && mark.is_none() {
            return Ok(Passed { unmarked: None }); // a new store: the checkpointer creates its id
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
    let broken = damaged_lines(store, &store_id, reach);
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

    // Where the log starts: the tail read above does not show lines removed by hand
    // before it (the oldest pieces), which look like those retention removed unless a
    // signed deletion line explains them (`log_head`: no read of the whole log when
    // one does).
    let seen: Vec<crate::checkpoint::LogPieces> = log
        .iter()
        .filter_map(|l| l.cp.deleted.as_ref().and_then(|d| d.log_pieces.clone()))
        .collect();
    match crate::log_head::check(store, &seen) {
        Ok(()) => {}
        Err(crate::log_head::HeadError::Read { path, source }) => {
            return Err(IntegrityError::io(&path, source))
        }
        Err(crate::log_head::HeadError::Removed(found)) => {
            return Err(refuse(
                store,
                format!(
                    "the checkpoint log {} is damaged: {}",
                    store.join(CHECKPOINT_LOG).display(),
                    found
                ),
                format!(
                    "put the removed piece back (from a backup or the store's archive); otherwise keep the log as evidence (move it aside); {}",
                    hint()
                ),
            ))
        }
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
                wrong_key_remedy(store, signer, &chain)?,
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
        Some(m) => {
            check_mark(store, m, &store_id, &log, head, signer, marks, &hint, &chain)?;
            check_log_against_records(store, m, &log, head, marks, &hint)?;
        }
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

    // Records written while the server was stopped: after a clean stop's line, or
    // after the head an acceptance recorded.
    if let Some(last) = log.last() {
        // A mark recording an acceptance at a clean stop's line (versions that did not
        // log acceptances): a person's word for the records after it.
        let accepted = mark
            .as_ref()
            .is_some_and(|m| m.accepted.is_some() && m.checkpoint == last.cp.index);
        if let Some(found) =
            crate::stops::appended_after_clean_stop(store, &last.cp, head, accepted)
        {
            return Err(refuse(
                store,
                found,
                format!(
                    "the server vouches only for records it acknowledged. Look at them; remove them (the last lines of those files) if they are not genuine, or {}: the next start then signs them as recovered at start (logged, and reported by `auditrail verify`)",
                    hint()
                ),
            ));
        }
    }

    Ok(Passed {
        unmarked: mark.is_none().then_some(store_id),
    })
}

/// The first (up to three) damaged lines of the store's checkpoint log, as
/// `line N: what`: lines that do not parse, verify or link, or name another store. A line
/// signed by a retired key is `verify`'s to report (neither the server nor `store
/// accept` refuses it). Empty when the log can be continued.
pub(crate) fn damaged_lines(store: &Path, store_id: &str, reach: Reach) -> Vec<String> {
    let mut report = StoreReport::default();
    check_log_reach(store, reach, Some(store_id), None, &mut report);
    report
        .problems
        .iter()
        .filter(|p| p.severity == Severity::Error && p.kind != ProblemKind::WrongKey)
        .take(3)
        .map(|p| match p.file.as_deref() {
            Some(f) if f != CHECKPOINT_LOG => {
                format!("{f} line {}: {}", p.line.unwrap_or(0), p.message)
            }
            _ => format!("line {}: {}", p.line.unwrap_or(0), p.message),
        })
        .collect()
}

/// What the records say about the log when the mark cannot: a mark names only the last
/// *published* line (by count and time), so lines written after it, every line of a
/// store whose first line was not published yet (the mark at checkpoint 0, written when
/// the server attached the store), can be removed while the server is stopped without
/// the mark showing it, and the start would then sign the records again, under a new
/// chain of lines. Two things still tell:
///
/// - The log file is gone while the store has records. The server created it (and
///   synced its folder) when it attached the store, before the mark and any record,
///   and nothing but a person removes it: refused, as a log that lost the mark's line
///   is. (A mark recording an acceptance is the operator's word that the store goes on
///   as it is: `store accept` is the way on after a lost log.)
/// - More records follow the log's last line than one interrupted write leaves
///   unsealed ([`MAX_UNACKED_RECORDS`]): warned about, not refused, since it is also
///   what a server with `seal_every_batch = false` and no count or time policy, or
///   one whose seals failed for long before a crash, leaves behind. Fewer records
///   after the last line are what a crash between a batch and its seal leaves: no
///   alarm (docs/tamper-evidence.md states this limit).
fn check_log_against_records(
    store: &Path,
    m: &HighWaterMark,
    log: &[LogLine],
    head: ChainLink,
    marks: &HighWaterMarks,
    hint: &dyn Fn() -> String,
) -> Result<(), IntegrityError> {
    if m.accepted.is_some() || head.seq == 0 {
        return Ok(());
    }
    let path = store.join(CHECKPOINT_LOG);
    let exists = match std::fs::symlink_metadata(&path) {
        Ok(_) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(IntegrityError::io(&path, e)),
    };
    if !exists {
        return Err(refuse(
            store,
            format!(
                "the checkpoint log {} is missing, but the store has {} records and the high-water mark in {} shows the server attached it ({}, checkpoint #{}): the server creates the log when it attaches a store and a crash does not remove it, so it was deleted or moved, with whatever checkpoints it held",
                path.display(),
                head.seq,
                marks.path().display(),
                m.time,
                m.checkpoint
            ),
            format!("put the log back if it was moved; otherwise {}", hint()),
        ));
    }
    let vouched = log.last().map_or(0, |l| l.cp.link.seq);
    let unvouched = head.seq.saturating_sub(vouched);
    if unvouched > MAX_UNACKED_RECORDS {
        tracing::warn!(
            file = %path.display(),
            records = head.seq,
            last_checkpoint = log.last().map_or(0, |l| l.cp.index),
            vouched_up_to = vouched,
            unvouched,
            marks = %marks.path().display(),
            mark_checkpoint = m.checkpoint,
            "{unvouched} records follow the last line of the checkpoint log {}, more than an interrupted write leaves unsealed ({MAX_UNACKED_RECORDS}): the log may have been emptied or cut while the server was stopped (the high-water mark names checkpoint #{} only, so it cannot tell); the server now signs these records as it finds them. Unless seals were off or failing before a crash, check the store with `auditrail verify` and the nodes' receipts",
            path.display(),
            m.checkpoint
        );
    }
    Ok(())
}

/// The log's last line when it is an acceptance of the state the mark `m` recorded
/// whose mark was never written: `store accept` writes its line first and moves the
/// mark after it, so a kill (or a full disk) between the two leaves a log whose end
/// the mark does not name. Told apart from removed checkpoints (which the same mark
/// check would report) so that the operator is told to finish the acceptance.
pub(crate) fn interrupted_acceptance<'a>(
    log: &'a [LogLine],
    m: &HighWaterMark,
) -> Option<&'a LogLine> {
    let last = log.last()?;
    let before = last.cp.accepted.as_ref()?.mark.as_ref()?;
    let against_this_mark = before.checkpoint == m.checkpoint
        && before.chain_seq == m.link.seq
        && before.chain_hash == m.link.hash_hex();
    (against_this_mark && last.digest != m.checkpoint_digest).then_some(last)
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
    if let Some(line) = interrupted_acceptance(log, m) {
        return Err(refuse(
            store,
            format!(
                "the checkpoint log's last line (checkpoint #{}, {}) records an acceptance by {} of the state the high-water mark in {file} refused (checkpoint #{} at chainSeq {}), but the mark was never moved to it: `auditrail store accept` stopped between writing its line and moving the mark",
                line.cp.index,
                line.cp.time,
                line.cp.accepted.as_ref().map_or("?", |a| a.by.as_str()),
                m.checkpoint,
                m.link.seq
            ),
            format!(
                "run the acceptance again to finish it: `{}` (the interrupted line stays in the log, signed, and `auditrail verify` reports both)",
                accept_command(marks, store, signer)
            ),
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
            // An acceptance under the same log cannot help (see
            // `accept::refuse_a_log_ahead_of_the_store`): the way on is a new log.
            format!(
                "check the store with `auditrail verify {} --public-key <trusted copy>`; to go on with the store as it is, keep its checkpoint log as evidence by moving {} out of the store folder, then a person records that with `{}` (it starts a new log)",
                store.display(),
                store.join(auditrail_store::CHECKPOINT_LOG).display(),
                accept_command(marks, store, signer)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    /// [`check_store`](super::check_store), then the first mark unless `read_only`.
    fn check_start(
        store: &Path,
        head: ChainLink,
        recovery: &RecoveryReport,
        signer: &Signer,
        marks: &HighWaterMarks,
        read_only: bool,
    ) -> Result<(), IntegrityError> {
        let passed = super::check_store(store, head, recovery, signer, marks)?;
        if read_only {
            return Ok(());
        }
        passed.mark_first(store, signer, marks)
    }

    use super::*;
    use crate::checkpointer::{CheckpointPolicy, Checkpointer};
    use crate::test_log::logged;
    use auditrail_store::root::read_store_id;
    use std::path::PathBuf;
    use std::sync::Arc;

    fn link(seq: u64) -> ChainLink {
        ChainLink {
            seq,
            hash: [seq as u8; 32],
        }
    }

    /// A data dir with one store whose server attached it (its id, its empty log, its
    /// first mark at checkpoint 0) and stored `records` records; with `sealed`, the
    /// log vouches for them (seal lines that no mark names yet), else it is empty (a
    /// crash before the first seal).
    struct Attached {
        _dir: tempfile::TempDir,
        store: PathBuf,
        signer: Arc<Signer>,
        marks: HighWaterMarks,
    }

    fn attached(records: u64, sealed: bool) -> Attached {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        std::fs::create_dir(&store).unwrap();
        let signer = Arc::new(Signer::from_seed([3; 32]));
        let marks = HighWaterMarks::in_data_dir(dir.path());
        let policy = CheckpointPolicy::default();
        drop(Checkpointer::open(&store, signer.clone(), policy, ChainLink::GENESIS).unwrap());
        check_start(
            &store,
            ChainLink::GENESIS,
            &RecoveryReport::default(),
            &signer,
            &marks,
            false,
        )
        .unwrap();
        assert_eq!(marks.get(&store).unwrap().unwrap().checkpoint, 0);
        if sealed {
            // Written without the marks: seals are published by count and time only.
            drop(Checkpointer::open(&store, signer.clone(), policy, link(records)).unwrap());
        }
        Attached {
            _dir: dir,
            store,
            signer,
            marks,
        }
    }

    fn start(a: &Attached, head: u64) -> (Result<(), IntegrityError>, String) {
        logged(|| {
            check_start(
                &a.store,
                link(head),
                &RecoveryReport::default(),
                &a.signer,
                &a.marks,
                false,
            )
        })
    }

    #[test]
    fn a_log_deleted_before_any_mark_named_a_line_is_refused() {
        let a = attached(50, true);
        let log = a.store.join(CHECKPOINT_LOG);
        std::fs::remove_file(&log).unwrap();
        let err = start(&a, 50).0.unwrap_err();
        assert!(matches!(err, IntegrityError::Refused { .. }), "{err}");
        let text = err.to_string();
        assert!(
            text.contains(&format!("the checkpoint log {} is missing", log.display()))
                && text.contains("50 records")
                && text.contains(&a.marks.path().display().to_string())
                && text.contains("auditrail store accept"),
            "{text}"
        );
        assert!(!log.exists(), "nothing is written for a refused store");
    }

    #[test]
    fn a_log_emptied_under_more_records_than_a_crash_leaves_unsealed_is_warned_about() {
        let records = MAX_UNACKED_RECORDS + 7;
        let a = attached(records, true);
        let log = a.store.join(CHECKPOINT_LOG);
        std::fs::write(&log, b"").unwrap();
        let (result, text) = start(&a, records);
        result.unwrap();
        let warning = text
            .lines()
            .find(|l| l.contains("WARN"))
            .unwrap_or_else(|| panic!("no warning: {text}"));
        assert!(
            warning.contains(&log.display().to_string())
                && warning.contains(&format!("{records} records follow the last line"))
                && warning.contains("emptied or cut")
                && warning.contains("checkpoint #0"),
            "{warning}"
        );
    }

    #[test]
    fn a_new_store_and_a_crash_before_the_first_seal_start_without_an_alarm() {
        // Attached, nothing stored yet; then stored, but killed before the first seal.
        let a = attached(0, false);
        for head in [0, 50] {
            let (result, text) = start(&a, head);
            result.unwrap();
            assert!(!text.contains("WARN"), "head {head}: {text}");
        }
        // Sealed up to 50, then killed after storing more but before their seal.
        let a = attached(50, true);
        let (result, text) = start(&a, 80);
        result.unwrap();
        assert!(!text.contains("WARN"), "{text}");
    }

    #[test]
    fn a_deleted_log_whose_loss_an_operator_accepted_starts() {
        let a = attached(50, true);
        std::fs::remove_file(a.store.join(CHECKPOINT_LOG)).unwrap();
        let store_id = read_store_id(&a.store).unwrap().unwrap();
        a.marks
            .put(
                &a.signer,
                &a.store,
                &MarkState {
                    store_id,
                    checkpoint: 0,
                    link: ChainLink::GENESIS,
                    checkpoint_digest: [0; 32],
                    accepted: Some(crate::high_water::Acceptance {
                        by: "op".into(),
                        reason: "log lost with a disk".into(),
                        found: "50 records, no checkpoint".into(),
                    }),
                },
            )
            .unwrap();
        start(&a, 50).0.unwrap();
    }
}
