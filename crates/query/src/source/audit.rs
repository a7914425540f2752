//! A node's local audit files, listed and read by auditrail-target-file (the one reader
//! and walker of that format).

use std::fs;
use std::path::Path;
use std::sync::Arc;

use auditrail_core::Received;

use auditrail_target_file::read::{
    read_audit_file, read_listed_audit_file, scan_audit_folder, ListedFile, ReadError,
};

use super::{DataFile, LineFormat, Listing, Partition};
use crate::error::QueryError;

/// Adds the audit files of `dir` to `out`, whatever the `file_name` and rotation of the
/// targets that wrote them (auditrail-target-file's [`scan_audit_folder`], the one
/// walker of audit folders), and the folder's other files to `out.not_audit`, for the
/// caller to report. A folder without any audit file is an error: an empty answer
/// would say "nobody did anything" about a folder that was never read.
pub(crate) fn list(dir: &Path, out: &mut Listing) -> Result<(), QueryError> {
    if !dir.is_dir() {
        return Err(QueryError::not_a_folder(dir, "an audit folder"));
    }
    let folder = scan_audit_folder(dir).map_err(read_error)?;
    if folder.files.is_empty() {
        return Err(QueryError::NoAuditFiles {
            path: dir.to_path_buf(),
            not_audit: folder.not_audit,
        });
    }
    for path in folder.files {
        let meta = fs::metadata(&path).ok();
        out.files.push(DataFile {
            path,
            format: LineFormat::AuditLine(meta.as_ref().map(ListedFile::of)),
            size: meta.map_or(0, |m| m.len()),
            partition: Partition::default(),
        });
    }
    out.not_audit.extend(folder.not_audit);
    Ok(())
}

/// Whether `dir` holds at least one audit file (for `--dir` discovery).
pub(super) fn holds_audit_files(dir: &Path) -> Result<bool, QueryError> {
    Ok(!scan_audit_folder(dir).map_err(read_error)?.files.is_empty())
}

/// One event of an audit file: its wire form, and the server's provenance its line
/// carried (an event server's `file` destination writes it; `None` on a node's lines).
pub(crate) type AuditEvent = (String, Option<Arc<Received>>);

/// The events of one audit file in their wire form (with the provenance their lines
/// carried), and the number of lines skipped;
/// `None` when the file was removed since it was listed (`listed`: the file the listing
/// saw at `path`, read wherever a roll or a rotation tool moved it since).
///
/// Torn lines (a write cut short) are skipped by the reader. A complete line that is not
/// an event makes the reader's answer an error, which still holds every other line's
/// event: those are kept, and each line that is not an event is counted, not hidden.
pub(crate) fn read_events(
    path: &Path,
    listed: Option<ListedFile>,
) -> Result<Option<(Vec<AuditEvent>, u64)>, QueryError> {
    let read = match listed {
        Some(listed) => read_listed_audit_file(path, listed),
        // Gone before the listing could look at it.
        None => match read_audit_file(path) {
            Err(ReadError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
                Ok(None)
            }
            other => other.map(Some),
        },
    };
    let outcome = match read {
        Ok(Some(outcome)) => outcome,
        Ok(None) => return Ok(None),
        Err(ReadError::Corrupt { read, .. }) => *read,
        Err(e) => return Err(read_error(e)),
    };
    Ok(Some((
        outcome
            .events
            .iter()
            .map(|e| (e.to_json(), e.received.clone()))
            .collect(),
        (outcome.torn.len() + outcome.corrupt.len()) as u64,
    )))
}

fn read_error(e: ReadError) -> QueryError {
    match e {
        ReadError::Io { path, source } => QueryError::Io { path, source },
        other => QueryError::AuditFiles(other),
    }
}
