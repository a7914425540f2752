//! The `ack` file (`<segment id> <offset>` of the first record the server has not
//! acknowledged), and what tells an ack position that cannot be right.
//!
//! The ack position decides what is deleted (segments wholly before it) and what is
//! sent (records from it on). An `ack` file that names a place this spool never
//! reached (put back next to an older copy of the folder, copied from another spool,
//! damaged) would make the spool delete or skip records the server never got, and
//! report success. So the position is checked against what the spool knows before
//! anything is deleted for it, at open ([`doubt`]) and for each acknowledgement of a
//! running spool (`State::ack_doubt`). A position that fails is damaged: nothing is
//! deleted or skipped for it, and everything from the oldest segment present is sent
//! again (the server stores each event once: duplicates, never loss).
//!
//! What the spool knows is bounded: a position that could be right (it names a segment
//! up to one past the newest created, at a record boundary) is followed, even when
//! it came from elsewhere.

use std::io;
use std::path::{Path, PathBuf};

use super::Position;

const NAME: &str = "ack";

/// The `ack` file's path in spool folder `dir`.
pub(crate) fn path(dir: &Path) -> PathBuf {
    dir.join(NAME)
}

/// Writes `line` (`<segment> <offset>\n`) over the `ack` file at `dst` in place, when
/// a new file cannot be written (the disk is full): the old file's block is reused,
/// no new one is needed. A shorter line is padded with spaces to the old length (read
/// as whitespace), so no byte of the old line is left after it. The line is one
/// write of a few dozen bytes at offset 0, within one disk sector, which a power loss
/// does not tear (what PostgreSQL's control file relies on); `durable`: fsynced.
pub(crate) fn overwrite(dst: &Path, line: &str, durable: bool) -> io::Result<()> {
    use std::os::unix::fs::FileExt;
    let file =
        auditrail_core::regular_file::open_no_follow(std::fs::OpenOptions::new().write(true), dst)?;
    let old = usize::try_from(file.metadata()?.len()).unwrap_or(usize::MAX);
    let mut text = line.trim_end().to_owned();
    while text.len() + 1 < old {
        text.push(' ');
    }
    text.push('\n');
    file.write_all_at(text.as_bytes(), 0)?;
    if durable {
        file.sync_all()?;
    }
    Ok(())
}

/// What the `ack` file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AckFile {
    /// There is none: a new spool (or it was removed).
    Missing,
    /// A position.
    At(Position),
    /// Text that is no position, or why the file cannot be read.
    Unreadable(String),
}

/// Reads the `ack` file of spool folder `dir`.
pub(crate) fn read(dir: &Path) -> AckFile {
    let text = match auditrail_core::regular_file::read_to_string(&path(dir)) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return AckFile::Missing,
        Err(e) => return AckFile::Unreadable(format!("cannot be read: {e}")),
    };
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next(), parts.next()) {
        (Some(s), Some(o), None) => match (s.parse(), o.parse()) {
            (Ok(segment), Ok(offset)) => AckFile::At(Position { segment, offset }),
            _ => AckFile::Unreadable(format!("holds {:?}", text.trim())),
        },
        _ => AckFile::Unreadable(format!("holds {:?}", text.trim())),
    }
}

/// The ack position's own segment file, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AckSegment {
    /// Its usable length.
    pub len: u64,
    /// The position's offset is where a stretch of it starts (a record, damaged bytes,
    /// a bad tail) or its end: where a reader can have stopped.
    pub boundary: bool,
}

/// Why the ack position `ack` cannot be right, or `None` when it can. `ids`: the
/// segment files present (sorted); `newest`: the `newest` mark; `seg`: the position's
/// segment when it has a file.
///
/// A position moves past a segment only to the next id, so it never names a segment
/// more than one past the newest created (the larger of the mark and the files: a
/// crash may leave a file above the mark), nor an offset in that one (records are
/// appended to a segment only once it is marked).
pub(crate) fn doubt(
    ack: Position,
    ids: &[u64],
    newest: Option<u64>,
    seg: Option<AckSegment>,
) -> Option<String> {
    // Without a segment file or a mark there is nothing to compare with, and nothing
    // the position could make the spool delete or skip.
    if let Some(top) = ids.last().copied().max(newest) {
        let after = top.checked_add(1);
        if after.is_some_and(|after| ack.segment > after) {
            return Some(format!(
                "segment {} is past the newest segment this spool created ({top})",
                ack.segment
            ));
        }
        if after == Some(ack.segment) && ack.offset > 0 {
            return Some(format!(
                "segment {} was never created (the newest is {top}), so no byte of it was \
                 acknowledged",
                ack.segment
            ));
        }
    }
    let seg = seg?;
    if ack.offset > seg.len {
        return Some(format!(
            "offset {} is past the end of segment {} ({} bytes)",
            ack.offset, ack.segment, seg.len
        ));
    }
    if !seg.boundary {
        return Some(format!(
            "offset {} is inside a record of segment {}",
            ack.offset, ack.segment
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn at(segment: u64, offset: u64) -> Position {
        Position { segment, offset }
    }

    const AT_BOUNDARY: Option<AckSegment> = Some(AckSegment {
        len: 100,
        boundary: true,
    });

    #[test]
    fn a_position_up_to_one_past_the_newest_segment_can_be_right() {
        assert_eq!(doubt(at(3, 40), &[2, 3], Some(3), AT_BOUNDARY), None);
        // Every segment delivered, the deletion cut short by a crash.
        assert_eq!(doubt(at(4, 0), &[2, 3], Some(3), None), None);
        // A file above the mark (a crash before the mark was written).
        assert_eq!(doubt(at(5, 0), &[4], Some(3), None), None);
        // A segment gone by hand at the position: reported as lost, not distrusted.
        assert_eq!(doubt(at(2, 10), &[3], Some(3), None), None);
        // Nothing to compare with.
        assert_eq!(doubt(at(99, 7), &[], None, None), None);
        assert_eq!(doubt(at(u64::MAX, 0), &[u64::MAX], None, AT_BOUNDARY), None);
    }

    #[test]
    fn a_position_the_spool_never_reached_cannot_be_right() {
        assert!(doubt(at(99, 0), &[0], Some(0), None).is_some());
        assert!(doubt(at(99, 0), &[0], None, None).is_some());
        assert!(doubt(at(99, 0), &[], Some(0), None).is_some());
        assert!(doubt(at(1, 1), &[0], Some(0), None).is_some());
        assert!(doubt(at(u64::MAX, 0), &[0, 1], Some(1), None).is_some());
        let seg = |boundary| Some(AckSegment { len: 100, boundary });
        assert!(doubt(at(0, 101), &[0], Some(0), seg(true)).is_some());
        assert!(doubt(at(0, 50), &[0], Some(0), seg(false)).is_some());
    }

    #[test]
    fn the_file_is_read_as_a_position_or_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(read(tmp.path()), AckFile::Missing);
        fs::write(path(tmp.path()), "3 40\n").unwrap();
        assert_eq!(read(tmp.path()), AckFile::At(at(3, 40)));
        for bad in ["", "3", "3 x", "-1 0", "3 40 5"] {
            fs::write(path(tmp.path()), bad).unwrap();
            assert!(
                matches!(read(tmp.path()), AckFile::Unreadable(_)),
                "{bad:?}"
            );
        }
    }
}
