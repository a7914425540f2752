//! Checks the checkpoint log: format, signatures, key, and the link between lines.

use std::path::Path;

use crate::checkpoint::{key_chain, parse_unverified, Checkpoint, CheckpointLineError};
use crate::keys::PublicKey;

use super::report::{Problem, ProblemKind, StoreReport};
use super::CHECKPOINT_LOG;
use crate::log_pieces::Reach;

/// Number of lines of `<store>/checkpoints.jsonl` that record a deletion, read without
/// checking signatures (`verify --live` compares it before and after its walk); `None`
/// when the log cannot be read.
pub(crate) fn deletion_lines(store: &Path) -> Option<u64> {
    let mut lines = 0u64;
    auditrail_store::checkpoint_pieces::for_each_line(store, |l| {
        if is_deletion_line(l.bytes) {
            lines += 1;
        }
    })
    .ok()?;
    Some(lines)
}

/// Whether a line of the log signs a deletion (checked or not: a count of them only
/// says whether a prune signed one meanwhile).
pub(crate) fn is_deletion_line(bytes: &[u8]) -> bool {
    // Seal lines (nearly all) are skipped without parsing.
    memchr::memmem::find(bytes, b"\"deleted\":").is_some()
        && parse_unverified(bytes).is_ok_and(|cp| cp.deleted.is_some())
}

/// Where a checkpoint line is: the piece of the log holding it (`checkpoints.jsonl`,
/// or a sealed piece's name) and its line in that piece. Shown `file:line`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LogPlace {
    pub file: String,
    pub line: u64,
}

impl std::fmt::Display for LogPlace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

impl LoggedCheckpoint {
    /// Where its line is.
    pub(crate) fn place(&self) -> LogPlace {
        LogPlace {
            file: self.file.clone(),
            line: self.line,
        }
    }
}

/// A checkpoint that parsed, with its line number.
#[derive(Debug, Clone)]
pub(crate) struct LoggedCheckpoint {
    pub cp: Checkpoint,
    /// The piece of the log it is in (`checkpoints.jsonl`, or a sealed piece's name).
    pub file: String,
    /// Its line number in that piece.
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
    check_log_reach(store, Reach::All, store_id, trusted, report)
}

/// [`check_log`] over the pieces `reach` selects (a start: the tail it continues).
pub(crate) fn check_log_reach(
    store: &Path,
    reach: Reach,
    store_id: Option<&str>,
    trusted: Option<&PublicKey>,
    report: &mut StoreReport,
) -> (Vec<LoggedCheckpoint>, Vec<PublicKey>) {
    let selected = match crate::log_pieces::read(store, reach) {
        Ok(s) => s,
        Err(e) if e.source.kind() == std::io::ErrorKind::NotFound && e.path == store => {
            return (Vec::new(), Vec::new())
        }
        Err(e) => {
            let name = e.path.file_name().map_or_else(
                || CHECKPOINT_LOG.to_string(),
                |n| n.to_string_lossy().into_owned(),
            );
            report.push(Problem::error(ProblemKind::Unreadable, e.to_string()).at(&name, 0));
            return (Vec::new(), Vec::new());
        }
    };
    check_selected(&selected, reach, store_id, trusted, report)
}

/// [`check_log_reach`] over lines already read: a reader that also needs the lines'
/// text (`prove`) checks the very lines it uses (a second read beside a running server
/// may find others).
pub(crate) fn check_selected(
    selected: &crate::log_pieces::Selected,
    reach: Reach,
    store_id: Option<&str>,
    trusted: Option<&PublicKey>,
    report: &mut StoreReport,
) -> (Vec<LoggedCheckpoint>, Vec<PublicKey>) {
    let whole = matches!(reach, Reach::All) || selected.skipped.is_empty();
    let lines: Vec<&[u8]> = selected.lines.iter().map(|l| l.bytes.as_slice()).collect();
    // What retention's deletion lines say they removed with whole pieces of the log:
    // the pieces and the last line removed (number and digest), which the first line
    // kept links to.
    let removed: Vec<crate::checkpoint::LogPieces> = lines
        .iter()
        .filter(|l| memchr::memmem::find(l, b"\"logPieces\":").is_some())
        .filter_map(|l| Checkpoint::parse_line(l).ok())
        .filter_map(|cp| cp.deleted.and_then(|d| d.log_pieces))
        .collect();
    let mut out: Vec<LoggedCheckpoint> = Vec::new();
    // (index, digest of line, seq); a tail starts after the line before it.
    let mut prev: Option<(u64, [u8; 32], u64)> = selected.before.as_deref().and_then(|l| {
        parse_unverified(l)
            .ok()
            .map(|cp| (cp.index, Checkpoint::line_digest(l), cp.link.seq))
    });
    // The chain of keys, from the lines whose signatures hold.
    let signed: Vec<Checkpoint> = lines
        .iter()
        .filter_map(|l| Checkpoint::parse_line(l).ok())
        .collect();
    let chain = key_chain(&signed);
    let trusted_in_chain = trusted.is_none_or(|t| chain.contains(t));
    let mut current = 0usize;
    let mut previous_piece: Option<&str> = None;
    for (i, line) in lines.iter().enumerate() {
        let raw = &selected.lines[i];
        let file = raw.piece.name.as_str();
        let line_no = raw.line;
        let err = |kind, msg: String| Problem::error(kind, msg).at(file, line_no);
        if previous_piece != Some(file) {
            previous_piece = Some(file);
            if let Some(first) = raw.piece.first {
                // A sealed piece is named by its first line's number: a piece renamed
                // (moved in the order) is told apart even where its lines link.
                if line_no == 1 && parse_unverified(line).is_ok_and(|cp| cp.index != first) {
                    report.push(err(
                        ProblemKind::CheckpointChain,
                        format!(
                            "the piece {file} is named for checkpoint #{first}, but its first line is checkpoint #{}: pieces were renamed or reordered",
                            parse_unverified(line).map_or(0, |cp| cp.index)
                        ),
                    ));
                }
            }
        }
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
            None if i == 0 && whole => {
                if cp.index > 1
                    && removed
                        .iter()
                        .any(|r| crate::log_head::explains(r, &cp, file))
                {
                    // Pieces removed by retention, which a deletion line signed for
                    // (all of them, or those before this one of a removal a crash
                    // interrupted: the line names this piece too).
                } else if cp.index != 1 {
                    // Lines a deletion line vouches for are not counted as removed by
                    // hand: only those after the last line it names.
                    let recorded = removed
                        .iter()
                        .map(|r| r.through)
                        .filter(|&through| through + 1 < cp.index)
                        .max();
                    let from = recorded.map_or(1, |t| t + 1);
                    report.push(err(
                        ProblemKind::CheckpointChain,
                        format!(
                            "the log starts at checkpoint #{}: checkpoints #{from}..#{} were removed{}{}",
                            cp.index,
                            cp.index - 1,
                            removed_piece(line_no, from),
                            recorded.map_or_else(String::new, |t| format!(
                                "; #1..#{t} were removed by retention, which a deletion line signed for"
                            )),
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
                            "checkpoint #{} follows #{pidx}: checkpoints #{}..#{} were removed{}",
                            cp.index,
                            pidx + 1,
                            cp.index - 1,
                            removed_piece(line_no, pidx + 1)
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
                            "checkpoint #{} does not link to the line before it{}: a checkpoint was edited, removed or replaced",
                            cp.index,
                            if line_no > 1 { format!(" (line {})", line_no - 1) } else { " (the last line of the piece before)".to_string() }
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
            file: file.to_string(),
            line: line_no,
            digest,
        });
    }
    for torn in &selected.torn {
        let mut p = Problem::error(
            ProblemKind::TornTail,
            format!(
                "the checkpoint log ends in an incomplete line of {} bytes (the server cuts it on its next start)",
                torn.len
            ),
        )
        .at(&torn.piece.name, torn.line);
        if torn.piece.is_live() {
            // A torn append was never fsynced as a whole and vouched for nothing.
            p.severity = super::report::Severity::Warning;
        } else {
            // A sealed piece was whole when it was sealed: bytes added to it since.
            p.message = format!(
                "the sealed piece {} ends in an incomplete line of {} bytes: a sealed piece is never written again",
                torn.piece.name, torn.len
            );
        }
        report.push(p);
    }
    report.checkpoints = lines.len() as u64;
    (out, chain)
}

/// Where lines are missing before the first line of a piece, a whole piece may be gone:
/// the name it had (pieces are named by their first line's number), for the operator to
/// look for. Said only at a piece's first line (lines missing inside a piece were cut
/// from it, not removed as a file).
fn removed_piece(line_no: u64, first_missing: u64) -> String {
    if line_no == 1 {
        format!(
            " (a removed piece starting there would be named {})",
            auditrail_store::checkpoint_pieces::piece_name(first_missing)
        )
    } else {
        String::new()
    }
}
