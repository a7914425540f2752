//! A node's local audit files, listed and read by auditrail-target-file (the one reader
//! and walker of that format).

use std::collections::BTreeSet;
use std::fs;
use std::path::Path;

use auditrail_target_file::read::{audit_files, parse_line, read_audit_file, ReadError};

use super::{DataFile, LineFormat, Listing, Partition};
use crate::error::QueryError;

/// Adds the audit files of `dir` to `out`: for every active file name found there
/// (`*.log`), its time-rolled and size-rolled files too, oldest first.
pub(super) fn list(dir: &Path, out: &mut Listing) -> Result<(), QueryError> {
    let io = |source| QueryError::Io {
        path: dir.to_path_buf(),
        source,
    };
    if !dir.is_dir() {
        return Err(QueryError::NotAFolder {
            path: dir.to_path_buf(),
            what: "audit folder",
        });
    }
    let mut names = BTreeSet::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if let Ok(name) = entry.file_name().into_string() {
            if name.ends_with(".log") && entry.file_type().map_err(io)?.is_file() {
                names.insert(name);
            }
        }
    }
    let mut seen = BTreeSet::new();
    for name in names {
        for path in audit_files(dir, &name).map_err(read_error)? {
            if seen.insert(path.clone()) {
                let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                out.files.push(DataFile {
                    path,
                    format: LineFormat::AuditLine,
                    size,
                    partition: Partition::default(),
                });
            }
        }
    }
    Ok(())
}

/// The events of one audit file in their wire form, and the number of lines skipped.
///
/// Torn lines (a write cut short) are skipped by the reader. A complete line that is not
/// an event makes the reader refuse the file; the file is then read line by line so
/// that one bad line costs only itself (counted, not hidden).
pub(crate) fn read_events(path: &Path) -> Result<(Vec<String>, u64), QueryError> {
    match read_audit_file(path) {
        Ok(outcome) => Ok((
            outcome.events.iter().map(|e| e.to_json()).collect(),
            outcome.torn.len() as u64,
        )),
        Err(ReadError::Corrupt { .. }) => {
            let bytes = fs::read(path).map_err(|source| QueryError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let mut events = Vec::new();
            let mut skipped = 0;
            for line in bytes.split(|b| *b == b'\n') {
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                match parse_line(line) {
                    Ok(e) => events.push(e.to_json()),
                    Err(_) => skipped += 1,
                }
            }
            Ok((events, skipped))
        }
        Err(e) => Err(read_error(e)),
    }
}

fn read_error(e: ReadError) -> QueryError {
    match e {
        ReadError::Io { path, source } => QueryError::Io { path, source },
        other => QueryError::AuditFiles(other),
    }
}
