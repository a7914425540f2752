//! Checks the checkpoint log: format, signatures, key, and the link between lines.

use std::path::Path;

use crate::checkpoint::{key_chain, parse_unverified, Checkpoint, CheckpointLineError};
use crate::keys::PublicKey;

use super::report::{Problem, ProblemKind, StoreReport};
use super::CHECKPOINT_LOG;

/// Number of lines of `<store>/checkpoints.jsonl` that record a deletion, read without
/// checking signatures (`verify --live` compares it before and after its walk); `None`
/// when the log cannot be read.
pub(crate) fn deletion_lines(store: &Path) -> Option<u64> {
    let text = auditrail_core::regular_file::read(&store.join(CHECKPOINT_LOG)).ok()?;
    let lines = text
        .split(|&b| b == b'\n')
        .filter_map(|l| parse_unverified(l).ok())
        .filter(|cp| cp.deleted.is_some())
        .count();
    Some(lines as u64)
}

/// A checkpoint that parsed, with its line number.
#[derive(Debug, Clone)]
pub(crate) struct LoggedCheckpoint {
    pub cp: Checkpoint,
    pub line: u64,
    /// SHA-256 of the line (what a high-water mark records of it).
    pub digest: [u8; 32],
}

/// Reads and checks `<store>/checkpoints.jsonl`. Returns the checkpoints that parsed
/// (even those with problems, so their chain hashes are still compared) and the log's
/// chain of signing keys, oldest first ([`key_chain`]: the first line's key, then each
/// key a rotation line handed over to).
///
/// Keys: every line must be signed by the key current at its place in the chain (a
/// retired key signing after its rotation line is `wrong-key`). With a trusted key,
/// the chain must contain it: trusting the key of any period is enough, since lines
/// signed by a later key link (`prev`) to every earlier line, and a rotation line is
/// signed by the key it retires. A trusted key that is not in the chain makes every
/// line signed by another key `wrong-key`.
pub(crate) fn check_log(
    store: &Path,
    store_id: Option<&str>,
    trusted: Option<&PublicKey>,
    report: &mut StoreReport,
) -> (Vec<LoggedCheckpoint>, Vec<PublicKey>) {
    let path = store.join(CHECKPOINT_LOG);
    let text = match auditrail_core::regular_file::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (Vec::new(), Vec::new()),
        Err(e) => {
            report
                .push(Problem::error(ProblemKind::Unreadable, e.to_string()).at(CHECKPOINT_LOG, 0));
            return (Vec::new(), Vec::new());
        }
    };
    let mut out: Vec<LoggedCheckpoint> = Vec::new();
    let mut prev: Option<(u64, [u8; 32], u64)> = None; // (index, digest of line, seq)
    let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let lines: Vec<&[u8]> = text[..complete]
        .split(|&b| b == b'\n')
        .take(text[..complete].iter().filter(|&&b| b == b'\n').count())
        .collect();
    // The chain of keys, from the lines whose signatures hold.
    let signed: Vec<Checkpoint> = lines
        .iter()
        .filter_map(|l| Checkpoint::parse_line(l).ok())
        .collect();
    let chain = key_chain(&signed);
    let trusted_in_chain = trusted.is_none_or(|t| chain.contains(t));
    let mut current = 0usize;
    for (i, line) in lines.iter().enumerate() {
        let line_no = i as u64 + 1;
        let err = |kind, msg: String| Problem::error(kind, msg).at(CHECKPOINT_LOG, line_no);
        let cp = match parse_unverified(line) {
            Ok(cp) => cp,
            Err(e) => {
                report.push(err(ProblemKind::MalformedCheckpoint, e.to_string()));
                prev = None;
                continue;
            }
        };
        match Checkpoint::parse_line(line) {
            Ok(_) => {}
            Err(CheckpointLineError::BadSignature) => report.push(err(
                ProblemKind::BadSignature,
                format!(
                    "checkpoint #{}: the signature does not match the line (edited after signing)",
                    cp.index
                ),
            )),
            Err(e) => report.push(err(ProblemKind::MalformedCheckpoint, e.to_string())),
        }
        match trusted {
            Some(t) if !trusted_in_chain => {
                if &cp.key != t {
                    report.push(err(
                        ProblemKind::WrongKey,
                        format!(
                            "checkpoint #{} is signed by {}, not by the trusted key {t}",
                            cp.index, cp.key
                        ),
                    ))
                }
            }
            _ => {
                let expected = chain.get(current);
                if expected.is_some_and(|k| *k != cp.key) {
                    let retired = chain[..current].contains(&cp.key);
                    report.push(err(
                        ProblemKind::WrongKey,
                        format!(
                            "checkpoint #{} is signed by {}, but the log's key at that line is {}{}",
                            cp.index,
                            cp.key,
                            chain[current],
                            if retired {
                                " (the signer was retired by an earlier rotation line)"
                            } else {
                                " (keys change only by a rotation line signed by the retiring key)"
                            }
                        ),
                    ))
                } else if let Some(next) = cp.next_key {
                    if chain.get(current + 1) == Some(&next) {
                        current += 1;
                    }
                }
            }
        }
        if let Some(id) = store_id {
            if cp.store_id != id {
                report.push(err(
                    ProblemKind::StoreIdMismatch,
                    format!(
                        "checkpoint #{} names store {}, this store is {id}",
                        cp.index, cp.store_id
                    ),
                ));
            }
        }
        let digest = Checkpoint::line_digest(line);
        match prev {
            None if i == 0 => {
                if cp.index != 1 {
                    report.push(err(
                        ProblemKind::CheckpointChain,
                        format!(
                            "the log starts at checkpoint #{}: checkpoints #1..#{} were removed",
                            cp.index,
                            cp.index - 1
                        ),
                    ));
                } else if cp.prev != [0; 32] {
                    report.push(err(
                        ProblemKind::CheckpointChain,
                        "checkpoint #1 links to a previous checkpoint: earlier lines were removed"
                            .into(),
                    ));
                }
            }
            None => {}
            Some((pidx, pdigest, pseq)) => {
                if cp.index != pidx + 1 {
                    let msg = if cp.index > pidx + 1 {
                        format!(
                            "checkpoint #{} follows #{pidx}: checkpoints #{}..#{} were removed",
                            cp.index,
                            pidx + 1,
                            cp.index - 1
                        )
                    } else {
                        format!(
                            "checkpoint #{} follows #{pidx}: lines reordered or repeated",
                            cp.index
                        )
                    };
                    report.push(err(ProblemKind::CheckpointChain, msg));
                } else if cp.prev != pdigest {
                    report.push(err(
                        ProblemKind::CheckpointChain,
                        format!(
                            "checkpoint #{} does not link to the line before it (line {}): a checkpoint was edited, removed or replaced",
                            cp.index, line_no - 1
                        ),
                    ));
                }
                if cp.link.seq < pseq {
                    report.push(err(
                        ProblemKind::CheckpointChain,
                        format!("checkpoint #{} vouches for chainSeq {}, less than the previous one ({pseq})", cp.index, cp.link.seq),
                    ));
                }
            }
        }
        prev = Some((cp.index, digest, cp.link.seq));
        out.push(LoggedCheckpoint {
            cp,
            line: line_no,
            digest,
        });
    }
    if complete < text.len() {
        let mut p = Problem::error(
                ProblemKind::TornTail,
                format!(
                    "the checkpoint log ends in an incomplete line of {} bytes (the server cuts it on its next start)",
                    text.len() - complete
                ),
            )
            .at(CHECKPOINT_LOG, lines.len() as u64 + 1);
        // A torn append was never fsynced as a whole and vouched for nothing.
        p.severity = super::report::Severity::Warning;
        report.push(p);
    }
    report.checkpoints = lines.len() as u64;
    (out, chain)
}
