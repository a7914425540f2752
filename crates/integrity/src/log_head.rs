//! Where the checkpoint log starts, and whether a signed line explains it.
//!
//! A log whose first line is checkpoint #k > 1 is either one whose head retention
//! removed (a deletion line's `logPieces` signed for `#1..=through`, and line
//! `through + 1` links to the last line removed), or one whose oldest pieces someone
//! removed by hand. Only the whole log tells them apart, since the deletion line may be
//! anywhere in it; the server's start reads only the log's tail, and a retention pass
//! only the pieces it removes. Both then took a hand removal for retention's (and the
//! pass signed it over: `verify` then passed). So the start and every retention pass
//! check the log's start here, cheaply:
//!
//! - a first line #1 (linking to zeros) needs nothing more;
//! - otherwise the deletion lines carrying `logPieces` the caller has read (the start's
//!   tail), then the one [`HEAD_FILE`] names (the newest whose pieces a pass removed:
//!   one piece read), and only when neither explains it, every line of the log (the
//!   first start after an upgrade, or tampering), after which [`HEAD_FILE`] names the
//!   line found.
//!
//! [`HEAD_FILE`] is an index, never evidence: what it names is checked in the log (a
//! deletion line at that number whose signature holds and whose digest is the one
//! noted), and a file missing, edited or stale only costs the read of the whole log.
//! A removal a pass was interrupted in (its line written, some of its pieces removed)
//! is explained by its line too: the log then starts at a piece that line names.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use auditrail_store::checkpoint_pieces::{self, Piece};

use crate::checkpoint::{parse_unverified, Checkpoint, LogPieces};

/// The file in a store's root naming the newest deletion line whose log pieces were
/// removed: `{"version":1,"checkpoint":<n>,"digest":"<64 hex of the line>"}`.
pub const HEAD_FILE: &str = ".checkpoints-head.json";

/// Format version of [`HEAD_FILE`].
const VERSION: u32 = 1;

#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Pointer {
    version: u32,
    checkpoint: u64,
    digest: String,
}

/// Why the log's start could not be taken as explained.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeadError {
    /// A piece of the log could not be read.
    #[error("{}", auditrail_core::path_and_error(path, source))]
    Read {
        /// The piece (or the store folder).
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The log starts after lines that no signed deletion line removed.
    #[error("{0}")]
    Removed(Unexplained),
}

/// A start of the log that no signed line explains.
#[derive(Debug, Clone)]
pub(crate) struct Unexplained {
    /// The piece the log starts with.
    pub(crate) piece: String,
    /// The number of its first line.
    pub(crate) first: u64,
    /// The first line missing that no deletion line signed for.
    pub(crate) from: u64,
    /// The last line a deletion line found signed for removing (`#1..=through`).
    pub(crate) recorded: Option<u64>,
}

impl std::fmt::Display for Unexplained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == 1 {
            return write!(
                f,
                "checkpoint #1 ({}) links to a previous checkpoint: earlier lines were removed",
                self.piece
            );
        }
        write!(
            f,
            "the log starts at checkpoint #{} ({}): checkpoints #{}..#{} were removed, and no signed deletion line removed them (a removed piece starting there would be named {})",
            self.first,
            self.piece,
            self.from,
            self.first - 1,
            checkpoint_pieces::piece_name(self.from)
        )?;
        if let Some(t) = self.recorded {
            write!(
                f,
                "; #1..#{t} were removed by retention, which a deletion line signed for"
            )?;
        }
        Ok(())
    }
}

/// How a deletion line's removed pieces explain a log that starts with `first` (the
/// line) in the piece `piece`: it links to the last line they held, or it is in a
/// piece the line names (its removal was interrupted after the pieces before it).
pub(crate) fn explains(removed: &LogPieces, first: &Checkpoint, piece: &str) -> bool {
    removed
        .last_removed()
        .is_some_and(|(through, digest)| through + 1 == first.index && digest == first.prev)
        || removed.pieces.iter().any(|p| p == piece)
}

/// Checks where the log of the store at `store` starts (see the module docs).
/// `seen`: the deletion lines' removed pieces the caller read already (none: `&[]`).
pub(crate) fn check(store: &Path, seen: &[LogPieces]) -> Result<(), HeadError> {
    let view = checkpoint_pieces::LogView::open(store).map_err(|e| HeadError::Read {
        path: e.path,
        source: e.source,
    })?;
    let all = view.pieces();
    let mut head = None;
    for piece in all {
        let line = view.first_line(piece).map_err(|source| HeadError::Read {
            path: piece.path.clone(),
            source,
        })?;
        if let Some(line) = line {
            head = Some((piece, line));
            break;
        }
    }
    let Some((piece, line)) = head else {
        return Ok(()); // no line: a new store, or one whose log is gone (the guard's)
    };
    let Ok(first) = parse_unverified(&line) else {
        return Ok(()); // a damaged line: the log check names it
    };
    if first.index == 1 && first.prev == [0; 32] {
        return Ok(());
    }
    let unexplained = |recorded: Option<u64>| {
        HeadError::Removed(Unexplained {
            piece: piece.name.clone(),
            first: first.index,
            from: recorded.map_or(1, |t| t + 1),
            recorded,
        })
    };
    if first.index == 1 {
        return Err(unexplained(None));
    }
    if seen.iter().any(|r| explains(r, &first, &piece.name)) {
        return Ok(());
    }
    if let Some(named) = named_line(store, &view) {
        if explains(&named, &first, &piece.name) {
            return Ok(());
        }
    }
    // Neither: every deletion line of the log (the first start after an upgrade, a
    // pointer lost, or lines removed by hand).
    let mut newest: Option<(u64, [u8; 32], LogPieces)> = None;
    let mut explained = false;
    let mut recorded: Option<u64> = None;
    checkpoint_pieces::for_each_line(store, |l| {
        if memchr::memmem::find(l.bytes, b"\"logPieces\":").is_none() {
            return;
        }
        let Ok(cp) = Checkpoint::parse_line(l.bytes) else {
            return;
        };
        let Some(removed) = cp.deleted.and_then(|d| d.log_pieces) else {
            return;
        };
        if explains(&removed, &first, &piece.name) {
            explained = true;
            newest = Some((cp.index, Checkpoint::line_digest(l.bytes), removed));
        } else if removed.through < first.index {
            recorded = recorded.max(Some(removed.through));
        }
    })
    .map_err(|e| HeadError::Read {
        path: e.path,
        source: e.source,
    })?;
    if !explained {
        return Err(unexplained(recorded));
    }
    if let Some((checkpoint, digest, _)) = newest {
        // Found the long way: named for the next reader. A failure costs only this read
        // again next time.
        if let Err(e) = note(store, checkpoint, &digest) {
            tracing::warn!(store = %store.display(), error = %e, "cannot write {HEAD_FILE} (the next start reads the checkpoint log back to its deletion lines again)");
        }
    }
    Ok(())
}

/// Notes the deletion line #`checkpoint` (SHA-256 of its bytes `digest`) as the newest
/// whose log pieces were removed (after a pass removed them).
pub(crate) fn note(store: &Path, checkpoint: u64, digest: &[u8; 32]) -> std::io::Result<()> {
    let path = store.join(HEAD_FILE);
    let text = serde_json::to_string(&Pointer {
        version: VERSION,
        checkpoint,
        digest: hex::encode(digest),
    })
    .map_err(std::io::Error::other)?;
    auditrail_core::durable::replace_file(
        &path,
        &auditrail_core::durable::tmp_beside(&path),
        format!("{text}\n").as_bytes(),
    )
}

/// The removed pieces of the deletion line [`HEAD_FILE`] names, when it is in the log
/// as noted (its number, its digest, a signature that holds); `None` otherwise.
fn named_line(store: &Path, view: &checkpoint_pieces::LogView) -> Option<LogPieces> {
    let text = auditrail_core::regular_file::read(&store.join(HEAD_FILE)).ok()?;
    let pointer = serde_json::from_slice::<Pointer>(&text).ok()?;
    if pointer.version != VERSION {
        return None;
    }
    // The piece holding line #n: the last one starting at or before it (the live
    // piece's start is its first line's number).
    let mut holder: Option<(&Piece, u64)> = None;
    for piece in view.pieces() {
        let start = match piece.first {
            Some(f) => Some(f),
            None => view
                .first_line(piece)
                .ok()
                .flatten()
                .and_then(|l| parse_unverified(&l).ok())
                .map(|cp| cp.index),
        };
        if let Some(start) = start.filter(|&s| s <= pointer.checkpoint) {
            holder = Some((piece, start));
        }
    }
    let (piece, start) = holder?;
    let file =
        auditrail_core::regular_file::open(std::fs::OpenOptions::new().read(true), &piece.path)
            .ok()?;
    let mut reader = std::io::BufReader::new(file);
    let mut line = Vec::new();
    for _ in start..=pointer.checkpoint {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
    }
    if line.pop() != Some(b'\n') || hex::encode(Checkpoint::line_digest(&line)) != pointer.digest {
        return None;
    }
    Checkpoint::parse_line(&line)
        .ok()
        .filter(|cp| cp.index == pointer.checkpoint)
        .and_then(|cp| cp.deleted)
        .and_then(|d| d.log_pieces)
}
