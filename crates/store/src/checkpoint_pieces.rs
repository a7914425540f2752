//! The checkpoint log kept in pieces: the one reader, lister and rotation of the files
//! that hold it (the line format belongs to the integrity layer).
//!
//! ```text
//! <store>/checkpoints.jsonl.00000000000000000001   sealed piece: checkpoints #1..
//! <store>/checkpoints.jsonl.00000000000000051234   sealed piece: checkpoints #51234..
//! <store>/checkpoints.jsonl                        the live piece, appended to
//! ```
//!
//! Layout version 2 (version 1: `checkpoints.jsonl` alone, which is still read as a
//! log of one live piece). A sealed piece is named by the number of its first line
//! (20 digits, so that names sort as numbers) and is never written again; the lines of
//! all pieces, in order, are one chain: each line's `prev` is the digest of the line
//! before it, also across pieces. The writer seals the live piece once it holds
//! [`DEFAULT_PIECE_BYTES`] (or its configured bound): [`seal_live`] hard-links it to
//! its sealed name, then puts an empty file at `checkpoints.jsonl` (renamed into
//! place), so the live name always exists. A crash between the two leaves both names on
//! one file: readers take it once ([`pieces`]), and the next seal finishes it.
//! Retention removes sealed pieces whose every line vouches only for records it
//! deleted; the deletion line that removes them names them (integrity layer).
//!
//! Sealed pieces are root files: the store's walk never lists them, and a topic or
//! routing key spelled like one is refused ([`is_reserved_root_name`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::root::CHECKPOINT_LOG;

/// The size at which the writer seals the live piece, unless configured otherwise: a
/// start reads at most the live piece's tail, a retention pass removes whole pieces
/// and an archive pass uploads each sealed piece once.
pub const DEFAULT_PIECE_BYTES: u64 = 16 * 1024 * 1024;

/// The name the empty live piece is written under before it is renamed into place
/// (hidden: never a topic's folder name).
pub const LIVE_TMP: &str = ".checkpoints.jsonl.tmp";

/// Digits of a sealed piece's number.
const DIGITS: usize = 20;

/// The file name of the sealed piece whose first line is checkpoint `first`.
pub fn piece_name(first: u64) -> String {
    format!("{CHECKPOINT_LOG}.{first:0DIGITS$}")
}

/// The first checkpoint number of a sealed piece's file name (`None`: not one).
pub fn parse_piece_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(CHECKPOINT_LOG)?.strip_prefix('.')?;
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Whether a name in a store's root is one of the checkpoint log's (the live piece, a
/// sealed piece, or its cut file), which a topic's folder must not take.
pub fn is_reserved_root_name(name: &str) -> bool {
    parse_piece_name(name).is_some() || name == LIVE_TMP
}

/// One file of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    /// Its file name in the store root (what reports name).
    pub name: String,
    /// Its path.
    pub path: PathBuf,
    /// The checkpoint number its name says it starts at; `None` for the live piece.
    pub first: Option<u64>,
}

impl Piece {
    /// Whether it is `checkpoints.jsonl`, the piece appended to.
    pub fn is_live(&self) -> bool {
        self.first.is_none()
    }
}

/// The sealed pieces of the log in the store at `store`, in order.
pub fn sealed_pieces(store: &Path) -> io::Result<Vec<Piece>> {
    let entries = match fs::read_dir(store) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(first) = parse_piece_name(&name) {
            out.push(Piece {
                path: entry.path(),
                name,
                first: Some(first),
            });
        }
    }
    out.sort_by_key(|p| p.first);
    Ok(out)
}

/// Every piece of the log, in order ([`LogView::open`]'s listing). Names only: a
/// reader beside a running server reads them through a [`LogView`], which holds the
/// live piece it listed open (its name may be on another file a moment later).
pub fn pieces(store: &Path) -> io::Result<Vec<Piece>> {
    Ok(LogView::open(store).map_err(|e| e.source)?.pieces)
}

/// How many times [`LogView::open`] starts over when a seal moved the live piece
/// while it listed (a seal takes a few fsyncs; the listing, one directory read):
/// beyond it the store is sealing without pause, which is reported.
const OPEN_ATTEMPTS: u32 = 64;

/// One consistent listing of the log, beside a writer that seals pieces: the sealed
/// pieces in order, then the live one, held open.
///
/// Why a listing can go wrong: a seal links the live file (call it A) to its sealed
/// name, then renames a new empty file B over `checkpoints.jsonl`. A reader that lists
/// the sealed names before the link and opens `checkpoints.jsonl` after the rename
/// reads neither A's sealed name nor A: A's lines are out of its sight, and the lines
/// it does read no longer link (a tampering claim against a healthy store).
///
/// The protocol, and why it is consistent:
/// 1. open `checkpoints.jsonl`: file X, held open (so X's inode stays X's);
/// 2. list the sealed names;
/// 3. look at `checkpoints.jsonl` again: still X, or start over.
///
/// When the name is still X at step 3, no seal's rename happened between steps 1 and
/// 3. Every piece sealed before X became live was linked before its rename, so before
/// step 1, and is listed at step 2 (a directory read returns every name that stays
/// there while it reads). The only seal that can be under way is X's own, between its
/// link and its rename: X's sealed name is then listed or not, and it is the same file
/// as X either way, which is read once (the live piece is left out when it is the last
/// sealed piece's file). The lines read from X's handle are a prefix of X's lines,
/// which follow the last sealed piece's: the view is the log as it was at some moment.
/// A sealed piece removed by retention after the listing is read as absent (a reader
/// that listed a moment later would not have seen it either).
#[derive(Debug)]
pub struct LogView {
    pieces: Vec<Piece>,
    /// The live piece's handle, when the live piece is in `pieces` (its last).
    live: Option<File>,
}

impl LogView {
    /// Lists the log of the store at `store` (see the type's docs). A store with no
    /// folder has an empty log.
    pub fn open(store: &Path) -> Result<LogView, PieceError> {
        let live_path = store.join(CHECKPOINT_LOG);
        // Each error names the file it is about (the live piece, or the store folder).
        let at = |path: &Path| {
            let path = path.to_path_buf();
            move |source| PieceError { path, source }
        };
        for _ in 0..OPEN_ATTEMPTS {
            let live = match open_read(&live_path) {
                Ok(f) => Some(f),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(at(&live_path)(e)),
            };
            let before = match &live {
                Some(f) => Some(file_id(&f.metadata().map_err(at(&live_path))?)),
                None => None,
            };
            #[cfg(test)]
            seam::between_steps(store);
            let sealed = sealed_pieces(store).map_err(at(store))?;
            // Followed as the open followed it (a link there is the writer's to refuse).
            let after = match fs::metadata(&live_path) {
                Ok(m) => Some(file_id(&m)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(at(&live_path)(e)),
            };
            if before != after {
                continue; // a seal moved the live piece while we listed
            }
            return LogView::assemble(sealed, live, live_path.clone()).map_err(at(&live_path));
        }
        Err(at(&live_path)(io::Error::other(format!(
            "the live checkpoint log was sealed each of {OPEN_ATTEMPTS} times it was listed"
        ))))
    }

    fn assemble(mut sealed: Vec<Piece>, live: Option<File>, path: PathBuf) -> io::Result<Self> {
        let Some(file) = live else {
            return Ok(LogView {
                pieces: sealed,
                live: None,
            });
        };
        // Left out when it starts with the last sealed piece's first line, so that its
        // lines are read once: the same file (a seal under way, or one interrupted
        // between its link and its rename), or an older copy of that piece (an
        // archive's copy of the live piece uploaded before the piece was sealed).
        let copy = match sealed.last() {
            None => false,
            Some(last) => {
                let id = file_id_of(&file);
                let same = id.is_some()
                    && fs::symlink_metadata(&last.path).is_ok_and(|m| file_id(&m) == id);
                same || first_line_from(&file)?
                    .is_some_and(|l| first_line(&last.path).ok().flatten() == Some(l))
            }
        };
        if copy {
            return Ok(LogView {
                pieces: sealed,
                live: None,
            });
        }
        sealed.push(Piece {
            name: CHECKPOINT_LOG.to_string(),
            path,
            first: None,
        });
        Ok(LogView {
            pieces: sealed,
            live: Some(file),
        })
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The whole content of one of [`Self::pieces`] (the live one through the handle
    /// listed; a sealed one removed since it was listed: `NotFound`).
    pub fn read(&self, piece: &Piece) -> io::Result<Vec<u8>> {
        match (&self.live, piece.is_live()) {
            (Some(file), true) => {
                let mut f = file;
                f.seek(SeekFrom::Start(0))?;
                let mut bytes = Vec::new();
                f.read_to_end(&mut bytes)?;
                Ok(bytes)
            }
            _ => auditrail_core::regular_file::read(&piece.path),
        }
    }

    /// The first complete line of one of [`Self::pieces`] (see [`first_line`]).
    pub fn first_line(&self, piece: &Piece) -> io::Result<Option<Vec<u8>>> {
        match (&self.live, piece.is_live()) {
            (Some(file), true) => first_line_from(file),
            _ => first_line(&piece.path),
        }
    }

    /// The last complete line of one of [`Self::pieces`] (see [`last_line_of`]).
    pub fn last_line_of(&self, piece: &Piece) -> io::Result<Option<Vec<u8>>> {
        match (&self.live, piece.is_live()) {
            (Some(file), true) => last_line_in(file),
            _ => last_line_of(&piece.path),
        }
    }
}

/// A file's identity (device, inode).
#[cfg(unix)]
fn file_id(m: &fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((m.dev(), m.ino()))
}

/// Without inodes, no identity to compare: the listing is taken as it is.
#[cfg(not(unix))]
fn file_id(_: &fs::Metadata) -> Option<(u64, u64)> {
    None
}

fn file_id_of(file: &File) -> Option<(u64, u64)> {
    file.metadata().ok().and_then(|m| file_id(&m))
}

/// The test seam of [`LogView::open`]: a closure run between its opening of the live
/// piece and its listing of the sealed ones (where a seal does its harm).
#[cfg(test)]
pub(crate) mod seam {
    use std::cell::RefCell;
    use std::path::Path;

    type Hook = Box<dyn FnMut(&Path)>;

    thread_local! {
        static HOOK: RefCell<Option<Hook>> = const { RefCell::new(None) };
    }

    /// Runs `f` between the steps of every listing on this thread until [`clear`].
    pub(crate) fn set(f: impl FnMut(&Path) + 'static) {
        HOOK.with(|h| *h.borrow_mut() = Some(Box::new(f)));
    }

    pub(crate) fn clear() {
        HOOK.with(|h| *h.borrow_mut() = None);
    }

    pub(super) fn between_steps(store: &Path) {
        HOOK.with(|h| {
            if let Some(f) = h.borrow_mut().as_mut() {
                f(store)
            }
        });
    }
}

/// Whether two names are links to one file.
pub fn same_file(a: &Path, b: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        match (fs::symlink_metadata(a), fs::symlink_metadata(b)) {
            (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
            _ => false,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (a, b);
        false
    }
}

/// A complete line of the log, where it was found.
#[derive(Debug, Clone, Copy)]
pub struct PieceLine<'a> {
    /// The piece it is in.
    pub piece: &'a Piece,
    /// 1-based, within its piece.
    pub line: u64,
    /// The line's bytes, without its newline.
    pub bytes: &'a [u8],
}

/// Bytes after a piece's last newline (a torn append; only the live piece may have one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornPiece {
    /// The piece it ends.
    pub piece: Piece,
    /// Where the incomplete line starts.
    pub offset: u64,
    /// Its length in bytes.
    pub len: u64,
    /// Its number in the piece (one after the last complete line).
    pub line: u64,
}

/// What went wrong reading a piece.
#[derive(Debug, thiserror::Error)]
#[error("{}", auditrail_core::path_and_error(path, source))]
pub struct PieceError {
    /// The piece (or the store folder, when it could not be listed).
    pub path: PathBuf,
    /// Why.
    #[source]
    pub source: io::Error,
}

/// Calls `each` with every complete line of the log, piece by piece in order; one
/// piece is in memory at a time. Returns the torn tails found (bytes after a piece's
/// last newline).
pub fn for_each_line(
    store: &Path,
    each: impl FnMut(PieceLine<'_>),
) -> Result<Vec<TornPiece>, PieceError> {
    for_each_line_after(store, 0, each)
}

/// [`for_each_line`], skipping the sealed pieces that hold only checkpoints up to
/// number `after` (those the next piece's name says end before it): a reader that
/// needs only the lines after a known one reads the pieces that can hold them.
pub fn for_each_line_after(
    store: &Path,
    after: u64,
    mut each: impl FnMut(PieceLine<'_>),
) -> Result<Vec<TornPiece>, PieceError> {
    let view = LogView::open(store)?;
    let list = view.pieces();
    let skip = list
        .windows(2)
        .take_while(|w| w[1].first.is_some_and(|next| next <= after + 1))
        .count();
    let mut torn = Vec::new();
    for piece in &list[skip..] {
        let text = match view.read(piece) {
            Ok(t) => t,
            // Removed between the listing and the read (retention): not a line less
            // than a reader that listed a moment later would see.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(source) => {
                return Err(PieceError {
                    path: piece.path.clone(),
                    source,
                })
            }
        };
        let complete = text.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut line = 0u64;
        // Without the last newline: `split` would give an empty line after it.
        let body = if complete == 0 {
            &[][..]
        } else {
            &text[..complete - 1]
        };
        for bytes in body.split(|&b| b == b'\n').take_while(|_| complete > 0) {
            line += 1;
            each(PieceLine { piece, line, bytes });
        }
        if complete < text.len() {
            torn.push(TornPiece {
                piece: piece.clone(),
                offset: complete as u64,
                len: (text.len() - complete) as u64,
                line: line + 1,
            });
        }
    }
    Ok(torn)
}

/// A complete line with its piece and line number in it.
pub type OwnedLine = (Piece, u64, Vec<u8>);

/// Every complete line of the log, in order, with its piece and line number (for the
/// readers that need them all: `auditrail verify`, `prove`).
pub fn read_lines(store: &Path) -> Result<(Vec<OwnedLine>, Vec<TornPiece>), PieceError> {
    let mut out = Vec::new();
    let torn = for_each_line(store, |l| {
        out.push((l.piece.clone(), l.line, l.bytes.to_vec()))
    })?;
    Ok((out, torn))
}

/// The tail of the log: its last complete line and where it is.
#[derive(Debug, Clone)]
pub struct LastLine {
    /// The piece it is in.
    pub piece: Piece,
    /// Its bytes, without its newline.
    pub bytes: Vec<u8>,
}

/// The log's last complete line, reading only the end of the last piece that holds one
/// (never a whole piece, nor earlier pieces: a start reads this much of the log). The
/// bytes after the live piece's last newline (a torn append) are not a line.
pub fn last_line(store: &Path) -> Result<Option<LastLine>, PieceError> {
    let view = LogView::open(store)?;
    for piece in view.pieces().iter().rev() {
        let found = view.last_line_of(piece).map_err(|source| PieceError {
            path: piece.path.clone(),
            source,
        })?;
        if let Some(bytes) = found {
            return Ok(Some(LastLine {
                piece: piece.clone(),
                bytes,
            }));
        }
    }
    Ok(None)
}

/// The last complete line of one piece (`None`: it holds none, or is gone), read from
/// its end.
pub fn last_line_of(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match open_read(path) {
        Ok(f) => last_line_in(&f),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn last_line_in(file: &File) -> io::Result<Option<Vec<u8>>> {
    let len = file.metadata()?.len();
    let end = whole_end(file, len)?;
    if end == 0 {
        return Ok(None);
    }
    line_before(file, end).map(Some)
}

/// The first complete line of a piece (read up to its first newline only).
pub fn first_line(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match open_read(path) {
        Ok(f) => first_line_from(&f),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn first_line_from(mut file: &File) -> io::Result<Option<Vec<u8>>> {
    file.seek(SeekFrom::Start(0))?;
    let mut reader = io::BufReader::new(file);
    let mut line = Vec::new();
    io::BufRead::read_until(&mut reader, b'\n', &mut line)?;
    if line.pop() != Some(b'\n') {
        return Ok(None);
    }
    Ok(Some(line))
}

fn open_read(path: &Path) -> io::Result<File> {
    auditrail_core::regular_file::open(OpenOptions::new().read(true), path)
}

/// Step of the backward scans: one read per step.
const STEP: u64 = 64 * 1024;

/// The offset just after the last newline of a file of `len` bytes (0: none), reading
/// backwards from its end.
pub fn whole_end(mut file: impl Read + Seek, len: u64) -> io::Result<u64> {
    let mut end = len;
    let mut buf = vec![0u8; STEP as usize];
    while end > 0 {
        let start = end.saturating_sub(STEP);
        let n = (end - start) as usize;
        file.seek(SeekFrom::Start(start))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            return Ok(start + i as u64 + 1);
        }
        end = start;
    }
    Ok(0)
}

/// The line ending with the newline at `end - 1`, without it.
fn line_before(mut file: impl Read + Seek, end: u64) -> io::Result<Vec<u8>> {
    let stop = end - 1;
    let mut start = stop;
    let mut buf = vec![0u8; STEP as usize];
    while start > 0 {
        let from = start.saturating_sub(STEP);
        let n = (start - from) as usize;
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut buf[..n])?;
        if let Some(i) = buf[..n].iter().rposition(|&b| b == b'\n') {
            start = from + i as u64 + 1;
            break;
        }
        start = from;
    }
    let mut line = vec![0u8; (stop - start) as usize];
    file.seek(SeekFrom::Start(start))?;
    file.read_exact(&mut line)?;
    Ok(line)
}

/// Seals the live piece, whose first line is checkpoint `first`: links it to its
/// sealed name (already there as the same file: a seal interrupted after its link),
/// then renames an empty file over the live name. Both steps are made durable before
/// it returns. The caller appends to the new live file from then on.
pub fn seal_live(store: &Path, first: u64) -> io::Result<PathBuf> {
    let live = store.join(CHECKPOINT_LOG);
    let sealed = store.join(piece_name(first));
    match fs::hard_link(&live, &sealed) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && same_file(&live, &sealed) => {}
        Err(e) => return Err(e),
    }
    auditrail_core::durable::sync_dir(store)?;
    let tmp = store.join(LIVE_TMP);
    // The new live piece gets the store's data mode, as the first one did.
    let f = auditrail_core::regular_file::open_no_follow(
        auditrail_core::file_mode::audit_data(
            OpenOptions::new().write(true).create(true).truncate(true),
        ),
        &tmp,
    )?;
    f.sync_all()?;
    fs::rename(&tmp, &live)?;
    auditrail_core::durable::sync_dir(store)?;
    // Sealed pieces are never written again (after the rename: the link shared the
    // live file's mode until then).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::symlink_metadata(&sealed)?.permissions().mode() & 0o444;
        fs::set_permissions(&sealed, fs::Permissions::from_mode(mode))?;
    }
    Ok(sealed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn names_sort_as_numbers_and_only_twenty_digits_are_pieces() {
        assert_eq!(piece_name(7), "checkpoints.jsonl.00000000000000000007");
        assert_eq!(parse_piece_name(&piece_name(51234)), Some(51234));
        assert_eq!(parse_piece_name("checkpoints.jsonl.cut"), None);
        assert_eq!(parse_piece_name("checkpoints.jsonl.1"), None);
        assert!(piece_name(9) < piece_name(10));
    }

    #[test]
    fn lines_are_read_across_pieces_once_and_the_last_from_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join(CHECKPOINT_LOG), b"a\nb\n").unwrap();
        seal_live(root, 1).unwrap();
        assert_eq!(fs::read(root.join(CHECKPOINT_LOG)).unwrap(), b"");
        // Empty live piece: the last line is the sealed piece's.
        assert_eq!(last_line(root).unwrap().unwrap().bytes, b"b");
        fs::OpenOptions::new()
            .append(true)
            .open(root.join(CHECKPOINT_LOG))
            .unwrap()
            .write_all(b"c\nto")
            .unwrap();
        let (lines, torn) = read_lines(root).unwrap();
        let got: Vec<(String, u64, Vec<u8>)> =
            lines.into_iter().map(|(p, l, b)| (p.name, l, b)).collect();
        assert_eq!(
            got,
            vec![
                (piece_name(1), 1, b"a".to_vec()),
                (piece_name(1), 2, b"b".to_vec()),
                (CHECKPOINT_LOG.to_string(), 1, b"c".to_vec()),
            ]
        );
        assert_eq!((torn[0].offset, torn[0].len, torn[0].line), (2, 2, 2));
        assert_eq!(last_line(root).unwrap().unwrap().bytes, b"c");
    }

    #[test]
    fn a_seal_interrupted_after_its_link_is_read_once_and_finished_by_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join(CHECKPOINT_LOG), b"a\n").unwrap();
        fs::hard_link(root.join(CHECKPOINT_LOG), root.join(piece_name(1))).unwrap();
        let (lines, _) = read_lines(root).unwrap();
        assert_eq!(lines.len(), 1);
        seal_live(root, 1).unwrap();
        let (lines, _) = read_lines(root).unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].0.name, piece_name(1));
    }

    /// A seal between the reader's two steps (the live piece and the sealed names): the
    /// lines it moved are read once, in order (the listing used to name the sealed
    /// pieces before the seal and the live piece after it: `a` and `b` were gone).
    #[test]
    fn a_seal_between_the_listing_steps_moves_no_line_out_of_sight() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join(CHECKPOINT_LOG), b"a\nb\n").unwrap();
        let mut sealed = false;
        seam::set(move |store| {
            if !sealed {
                sealed = true;
                seal_live(store, 1).unwrap();
                fs::write(store.join(CHECKPOINT_LOG), b"c\n").unwrap();
            }
        });
        let read = read_lines(root);
        seam::clear();
        let got: Vec<(String, u64, Vec<u8>)> = read
            .unwrap()
            .0
            .into_iter()
            .map(|(p, l, b)| (p.name, l, b))
            .collect();
        assert_eq!(
            got,
            vec![
                (piece_name(1), 1, b"a".to_vec()),
                (piece_name(1), 2, b"b".to_vec()),
                (CHECKPOINT_LOG.to_string(), 1, b"c".to_vec()),
            ]
        );
    }

    /// A seal under way (linked, not yet renamed) while the reader lists: the live
    /// piece and its sealed name are one file, read once.
    #[test]
    fn a_seal_linked_between_the_listing_steps_is_read_once() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join(CHECKPOINT_LOG), b"a\n").unwrap();
        seam::set(|store| {
            let _ = fs::hard_link(store.join(CHECKPOINT_LOG), store.join(piece_name(1)));
        });
        let read = read_lines(root);
        seam::clear();
        let (lines, _) = read.unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].2, b"a");
    }

    /// A store sealing at every listing is reported, not read as a log that lost lines.
    #[test]
    fn a_log_sealed_at_every_listing_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs::write(root.join(CHECKPOINT_LOG), b"a\n").unwrap();
        let mut n = 0;
        seam::set(move |store| {
            n += 1;
            seal_live(store, n).unwrap();
        });
        let read = read_lines(root);
        seam::clear();
        let e = read.unwrap_err();
        assert!(e.to_string().contains("was sealed each of"), "{e}");
    }

    #[test]
    fn the_last_line_is_found_from_the_end_of_a_long_line() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let long = "x".repeat(200_000);
        fs::write(root.join(CHECKPOINT_LOG), format!("a\n{long}\n")).unwrap();
        assert_eq!(last_line(root).unwrap().unwrap().bytes, long.as_bytes());
    }
}
