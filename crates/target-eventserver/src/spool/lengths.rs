//! The `lengths` file: `<segment id> <bytes>` per line, the length of each segment the
//! spool finished writing (it rolled to a new one, or the spool was opened or closed).
//!
//! A segment cut in place while the node was stopped (`truncate`, `: > file`,
//! logrotate's `copytruncate`) keeps its path and its inode: only its length tells.
//! Without this record the cut would look like the torn tail a crash leaves, and the
//! events after the cut would be lost silently. With it, a segment shorter at the next
//! start than its recorded length was cut by hand: reported as lost (see `gone.rs`).
//!
//! Crash-safety: a length is recorded only as far as every byte of it is durable (the
//! segment's data is fsynced first, also with `spool_fsync = "never"`, at open too;
//! one that cannot be is recorded only up to its last fsync: see `synced.rs`), by
//! [`durable::replace_file`], so a crash can never leave a segment shorter than its
//! record. The segment being appended to has no record until it is finished: when a
//! crash ends the run, its end may be a torn write, which the repair at open cuts (a
//! crash only loses bytes whose append had not returned, which nothing acknowledged).
//! While the spool runs, it compares each segment with the length it wrote itself.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use auditrail_core::durable;

const NAME: &str = "lengths";

/// The file's path in spool folder `dir`.
pub(crate) fn path(dir: &Path) -> PathBuf {
    dir.join(NAME)
}

/// A line of the file that holds no `<id> <bytes>`.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("a line of the segment lengths is no `<segment> <bytes>`: {line:?}")]
pub(crate) struct BadLine {
    /// The line's text.
    pub(crate) line: String,
}

/// The recorded lengths (none without the file: a new spool, or one of an older
/// version), `Err` with the line that holds no `<id> <bytes>`.
pub(crate) fn read(dir: &Path) -> io::Result<Result<BTreeMap<u64, u64>, BadLine>> {
    let text = match auditrail_core::regular_file::read_to_string(&path(dir)) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Ok(BTreeMap::new())),
        Err(e) => return Err(e),
    };
    let mut out = BTreeMap::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut parts = line.split_whitespace();
        match (
            parts.next().and_then(|s| s.parse().ok()),
            parts.next().and_then(|s| s.parse().ok()),
            parts.next(),
        ) {
            (Some(id), Some(len), None) => {
                out.insert(id, len);
            }
            _ => {
                return Ok(Err(BadLine {
                    line: line.to_owned(),
                }))
            }
        }
    }
    Ok(Ok(out))
}

/// Records `lengths` (segment id → bytes), durably, replacing what was recorded.
pub(crate) fn write(dir: &Path, lengths: &BTreeMap<u64, u64>) -> io::Result<()> {
    let text: String = lengths
        .iter()
        .map(|(id, len)| format!("{id} {len}\n"))
        .collect();
    durable::replace_file(
        &path(dir),
        &dir.join(format!("{NAME}.tmp")),
        text.as_bytes(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_round_trip_and_a_bad_line_is_told_apart() {
        let tmp = tempfile::tempdir().unwrap();
        assert_eq!(read(tmp.path()).unwrap(), Ok(BTreeMap::new()));
        let lengths = BTreeMap::from([(3, 120), (4, 0)]);
        write(tmp.path(), &lengths).unwrap();
        assert_eq!(read(tmp.path()).unwrap(), Ok(lengths));
        std::fs::write(path(tmp.path()), "3 120\nx\n").unwrap();
        assert_eq!(
            read(tmp.path()).unwrap(),
            Err(BadLine {
                line: "x".to_owned()
            })
        );
    }
}
