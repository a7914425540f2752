//! Damaged spool bytes, kept aside for the operator.
//!
//! When the spool meets bytes that hold no valid record in the middle of a segment
//! (a flipped bit, a bad block), it skips them, resynchronising on the next valid
//! record, and copies them, byte for byte, to a side file in the spool folder:
//!
//! `<segment id, 20 digits>-<offset>.seg.corrupt`: the damaged bytes of segment `<id>`
//! that started at byte `<offset>`; the file's length is the damaged range's length.
//!
//! Versions before this one set a whole damaged segment aside as
//! `<segment id>.seg.corrupt` (offset 0, the whole file). Both are "set-aside files":
//! `auditrail spool` lists them and re-sends whatever intact records they hold (a
//! whole set-aside segment holds every record around its damage).

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;

const SUFFIX: &str = ".seg.corrupt";

/// A set-aside file in a spool folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SetAside {
    /// The file.
    pub path: PathBuf,
    /// The segment its bytes come from.
    pub segment: u64,
    /// Where its bytes started in that segment (0 for a whole set-aside segment).
    pub offset: u64,
    /// Whether it is a whole segment set aside by an older version.
    pub whole_segment: bool,
    /// Its length in bytes.
    pub bytes: u64,
}

/// The name of the side file of the damaged range at `offset` in `segment`.
pub(crate) fn file_name(segment: u64, offset: u64) -> String {
    format!("{segment:020}-{offset}{SUFFIX}")
}

/// `(segment, offset, whole segment)` of a set-aside file's name.
pub fn parse_name(name: &str) -> Option<(u64, u64, bool)> {
    let stem = name.strip_suffix(SUFFIX)?;
    match stem.split_once('-') {
        Some((seg, off)) => Some((seg.parse().ok()?, off.parse().ok()?, false)),
        None => Some((stem.parse().ok()?, 0, true)),
    }
}

/// Copies `bytes` (the damaged range at `offset` in `segment`) to its side file and
/// makes it durable. The same damage found again (the next start scans the segment
/// again) finds the file there holding these bytes and leaves it as it is.
///
/// The copy is written under a temporary name, fsynced, and only then renamed into
/// place: a crash mid-copy leaves no side file that looks complete and is not. A side
/// file that holds other bytes (a torn copy of an earlier version, which created the
/// side file first and filled it after) is replaced by the bytes now in the segment,
/// the ones that are lost once the segment is delivered and deleted.
pub(crate) fn keep(dir: &Path, segment: u64, offset: u64, bytes: &[u8]) -> io::Result<PathBuf> {
    let name = file_name(segment, offset);
    let path = dir.join(&name);
    let replaced = match auditrail_core::regular_file::read(&path) {
        Ok(existing) if existing == bytes => return Ok(path),
        Ok(existing) => Some(existing),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(e),
    };
    let tmp = dir.join(format!("{name}.tmp"));
    // Made afresh: nothing at the name is opened (a FIFO would block, a link be
    // written through): see `auditrail_core::durable::create_tmp`.
    let written = auditrail_core::durable::create_tmp(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    fs::rename(&tmp, &path)?;
    File::open(dir)?.sync_all()?;
    if let Some(old) = replaced.filter(|old| !bytes.starts_with(old)) {
        // Not a torn copy of these bytes: the segment changed at this place since the
        // damage was first copied. Said, since the earlier copy is gone now.
        tracing::warn!(path = %path.display(), old_bytes = old.len(), new_bytes = bytes.len(), "the side file of damaged spool bytes held other bytes than the segment holds now there: replaced by the segment's");
    }
    Ok(path)
}

/// The set-aside files of a spool folder, by segment and offset.
pub fn list(dir: &Path) -> io::Result<Vec<SetAside>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        let Some((segment, offset, whole_segment)) = parse_name(&name) else {
            continue;
        };
        out.push(SetAside {
            path: entry.path(),
            segment,
            offset,
            whole_segment,
            bytes: entry.metadata()?.len(),
        });
    }
    out.sort_by_key(|s| (s.segment, s.offset));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_old_whole_segments_are_recognised() {
        assert_eq!(parse_name(&file_name(7, 1234)), Some((7, 1234, false)));
        assert_eq!(
            parse_name("00000000000000000003.seg.corrupt"),
            Some((3, 0, true))
        );
        assert_eq!(parse_name("00000000000000000003.seg"), None);
        assert_eq!(parse_name("ack"), None);
        assert_eq!(parse_name("x-y.seg.corrupt"), None);
    }
}
