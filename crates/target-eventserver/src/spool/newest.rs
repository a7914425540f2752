//! The `newest` file: the id of the newest segment file the spool created, made
//! durable before any record is appended to that segment.
//!
//! The `ack` file alone cannot tell a segment deleted by hand from an empty spool:
//! both leave no segment at or after the ack position. With this mark, every id from
//! the ack position's segment up to the mark was a segment file, so one that is
//! missing at the next start was deleted, moved away or lost with its folder entry,
//! and what it held after the ack position is gone: reported, not taken as "nothing
//! to send".
//!
//! Crash-safety: the mark is written after its segment file is created (and, with
//! `spool_fsync = "always"`, after the folder is fsynced), by [`durable::replace_file`],
//! which also fsyncs the folder and with it the segment's name. A crash before the
//! mark leaves a segment above it, which is no alarm (the next start raises the mark
//! to it). Segments are only deleted once the ack position is durably past them (see
//! `Spool::ack`), so a crash that takes back an unsynced ack cannot make a delivered,
//! deleted segment look lost either.

use std::io;
use std::ops::RangeInclusive;
use std::path::{Path, PathBuf};

use auditrail_core::durable;

const NAME: &str = "newest";

/// The mark's path in spool folder `dir`.
pub(crate) fn path(dir: &Path) -> PathBuf {
    dir.join(NAME)
}

/// A mark that holds no segment id.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("the newest-segment mark holds no segment id: {text:?}")]
pub(crate) struct NotAnId {
    /// The file's text.
    pub(crate) text: String,
}

/// The mark, `Ok(None)` when there is none (a spool of an older version, or a new
/// one), `Err` with the file's text when it holds no id.
pub(crate) fn read(dir: &Path) -> io::Result<Result<Option<u64>, NotAnId>> {
    match auditrail_core::regular_file::read_to_string(&path(dir)) {
        Ok(text) => Ok(text
            .trim()
            .parse::<u64>()
            .map(Some)
            .map_err(|_| NotAnId { text })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Ok(None)),
        Err(e) => Err(e),
    }
}

/// Makes `id` the mark, durably (the folder is fsynced, which also makes the names of
/// the segment files created before it durable).
pub(crate) fn write(dir: &Path, id: u64) -> io::Result<()> {
    durable::replace_file(
        &path(dir),
        &dir.join(format!("{NAME}.tmp")),
        format!("{id}\n").as_bytes(),
    )
}

/// The ids from `from` to `to` (inclusive) that are not in `present` (sorted), as
/// ranges: the segments that should be there and are not. Ranges, not ids, so that a
/// mark far ahead of the segments does not make a list of that many ids.
pub(crate) fn missing(present: &[u64], from: u64, to: u64) -> Vec<RangeInclusive<u64>> {
    let mut out = Vec::new();
    let mut next = from;
    for &id in present.iter().filter(|&&id| id >= from && id <= to) {
        if id > next {
            out.push(next..=id - 1);
        }
        let Some(after) = id.checked_add(1) else {
            return out;
        };
        next = after;
    }
    if next <= to {
        out.push(next..=to);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_ids_are_the_gaps_between_present_ones() {
        assert_eq!(missing(&[], 3, 3), vec![3..=3]);
        assert_eq!(missing(&[3], 3, 3), Vec::<RangeInclusive<u64>>::new());
        assert_eq!(missing(&[2, 4, 7], 3, 8), vec![3..=3, 5..=6, 8..=8]);
        // Nothing is missing below the ack position's segment nor above the mark.
        assert_eq!(missing(&[1, 9], 5, 4), Vec::<RangeInclusive<u64>>::new());
        assert_eq!(missing(&[5, 6], 5, 6), Vec::<RangeInclusive<u64>>::new());
    }

    #[test]
    fn the_mark_round_trips_and_a_bad_one_is_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(read(tmp.path()).unwrap(), Ok(None));
        write(tmp.path(), 42).unwrap();
        assert_eq!(read(tmp.path()).unwrap(), Ok(Some(42)));
        std::fs::write(path(tmp.path()), "x").unwrap();
        assert_eq!(
            read(tmp.path()).unwrap(),
            Err(NotAnId {
                text: "x".to_owned()
            })
        );
    }
}
