//! What opening the spool does to each segment: find damaged stretches (kept, and
//! skipped when reading) and cut a torn tail of the newest segment.

use std::fs::OpenOptions;
use std::io::Read;
use std::path::Path;

use super::state::FileId;
use super::{io, scan, segment_path, SpoolError};
use crate::metrics::Metrics;

/// Damaged bytes found in a segment.
pub(super) struct Damage {
    pub offset: u64,
    pub bytes: Vec<u8>,
    pub reason: String,
}

/// A segment after its check.
pub(super) struct Checked {
    /// Usable length (a torn tail is cut).
    pub len: u64,
    pub damaged: Vec<Damage>,
    /// Intact records.
    pub records: u64,
    /// Intact records at or after `pending_from` (not yet acknowledged).
    pub pending: u64,
    /// `pending_from` is where a stretch starts (a record, damaged bytes, a torn tail)
    /// or the file's end: a place an ack position can name.
    pub at_boundary: bool,
    /// The file that was read.
    pub file: FileId,
}

/// Scans segment `id`. Bad bytes followed by a valid record are damage (to skip and
/// keep); bad bytes at the end followed by none are a torn write when they start at or
/// after `torn_from` (`Some` for the newest segment, the one a crash could have
/// interrupted: from its recorded length, see `lengths.rs`, or 0 without one) and are
/// a record cut short ([`record::could_be_cut_short`](super::record::could_be_cut_short)):
/// cut, logged and counted; damage otherwise (bytes the spool had finished writing, or
/// bytes it never writes: someone else's).
/// `None` when the file is gone (since the folder was listed).
pub(super) fn check_segment(
    dir: &Path,
    id: u64,
    torn_from: Option<u64>,
    pending_from: u64,
    metrics: &Metrics,
) -> Result<Option<Checked>, SpoolError> {
    let path = segment_path(dir, id);
    let mut file = match auditrail_core::regular_file::open(OpenOptions::new().read(true), &path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io(&path)(e)),
    };
    let mut buf = Vec::new();
    file.read_to_end(&mut buf).map_err(io(&path))?;
    let mut checked = Checked {
        len: buf.len() as u64,
        damaged: Vec::new(),
        records: 0,
        pending: 0,
        at_boundary: pending_from == buf.len() as u64,
        file: FileId::of(&file.metadata().map_err(io(&path))?),
    };
    for piece in scan::pieces(&buf, 0) {
        checked.at_boundary |= piece.offset() == pending_from;
        let (offset, len, reason, tail) = match piece {
            scan::Piece::Record { offset, .. } => {
                checked.records += 1;
                checked.pending += u64::from(offset >= pending_from);
                continue;
            }
            scan::Piece::Damaged {
                offset,
                len,
                reason,
            } => (offset, len, reason, false),
            scan::Piece::Tail {
                offset,
                len,
                reason,
                cut_short,
            } => (offset, len, reason, cut_short),
        };
        // Bytes at the end that no torn write leaves (a line someone appended before
        // the stop, or while the node was stopped) are damage, never cut: kept in the
        // segment, copied aside, logged with their range and counted as any damage.
        if tail && torn_from.is_some_and(|from| offset >= from) {
            tracing::warn!(
                segment = %path.display(),
                offset,
                cut_bytes = len,
                %reason,
                "torn tail in the spool (a crash during a write): cut"
            );
            // Refused when a symbolic link took the segment's name: cutting through
            // it would cut the file it points to.
            let f =
                auditrail_core::regular_file::open_no_follow(OpenOptions::new().write(true), &path)
                    .map_err(io(&path))?;
            f.set_len(offset).map_err(io(&path))?;
            f.sync_all().map_err(io(&path))?;
            metrics.torn_tail_cut();
            checked.len = offset;
            continue;
        }
        let range = offset as usize..(offset + len) as usize;
        checked.damaged.push(Damage {
            offset,
            bytes: buf.get(range).unwrap_or_default().to_vec(),
            reason,
        });
    }
    Ok(Some(checked))
}
