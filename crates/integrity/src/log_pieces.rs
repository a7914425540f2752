//! Which pieces of the checkpoint log a reader takes (the files and their reader are
//! `auditrail_store::checkpoint_pieces`): all of them (`auditrail verify`, `prove`,
//! operator commands), or the tail a server's start checks.
//!
//! A start checks the pieces it continues, not the whole history: the last sealed piece
//! and the live one (and further back, to the line its high-water mark names), with the
//! link from the line before them. Sealed pieces are never written again, and were
//! checked by the starts that wrote them; `auditrail verify` checks every piece.

use std::path::Path;

use auditrail_store::checkpoint_pieces::{LogView, Piece, PieceError, TornPiece};

/// How much of the log to read.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Reach {
    /// Every piece.
    All,
    /// The last sealed piece and the live one, and earlier pieces back to the one that
    /// holds checkpoint `mark` (the line a high-water mark names).
    Tail { mark: Option<u64> },
}

/// A complete line and where it is.
#[derive(Debug, Clone)]
pub(crate) struct RawLine {
    pub(crate) piece: Piece,
    /// 1-based within its piece.
    pub(crate) line: u64,
    pub(crate) bytes: Vec<u8>,
}

/// The lines read.
#[derive(Debug, Default)]
pub(crate) struct Selected {
    pub(crate) lines: Vec<RawLine>,
    pub(crate) torn: Vec<TornPiece>,
    /// The log's pieces that were not read (before the first one read).
    pub(crate) skipped: Vec<Piece>,
    /// The last line of the last piece not read: the first line read links to it.
    pub(crate) before: Option<Vec<u8>>,
}

/// Reads the pieces `reach` asks for.
pub(crate) fn read(store: &Path, reach: Reach) -> Result<Selected, PieceError> {
    // One listing, consistent beside a seal (`LogView`'s docs), read through.
    let view = LogView::open(store)?;
    let all = view.pieces();
    let from = match reach {
        Reach::All => 0,
        Reach::Tail { mark } => {
            let mut from = all.len().saturating_sub(2);
            if let Some(mark) = mark {
                while from > 0 && all[from].first.is_some_and(|f| f > mark) {
                    from -= 1;
                }
            }
            from
        }
    };
    let mut out = Selected {
        skipped: all[..from].to_vec(),
        ..Selected::default()
    };
    for piece in all[..from].iter().rev() {
        if let Some(last) = view.last_line_of(piece).map_err(|source| PieceError {
            path: piece.path.clone(),
            source,
        })? {
            out.before = Some(last);
            break;
        }
    }
    for piece in &all[from..] {
        let text = match view.read(piece) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(PieceError {
                    path: piece.path.clone(),
                    source,
                })
            }
        };
        let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut n = 0u64;
        if complete > 0 {
            for bytes in text[..complete - 1].split(|&b| b == b'\n') {
                n += 1;
                out.lines.push(RawLine {
                    piece: piece.clone(),
                    line: n,
                    bytes: bytes.to_vec(),
                });
            }
        }
        if complete < text.len() {
            out.torn.push(TornPiece {
                piece: piece.clone(),
                offset: complete as u64,
                len: (text.len() - complete) as u64,
                line: n + 1,
            });
        }
    }
    Ok(out)
}
