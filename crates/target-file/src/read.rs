//! Reading audit files back into [`Event`]s.
//!
//! Every complete line parses back into the event model. A *torn* line (the
//! incomplete JSON left by a write that a crash or a full disk cut short) is skipped
//! with a `tracing` warning and reported in [`ReadOutcome::torn`], never an error:
//! the writer only acknowledged events whose whole line was written, and a batch
//! whose write failed is sent again. Anything else that does not parse (a complete
//! line that is not an event, bytes that are not JSON) is a [`ReadError::Corrupt`]
//! naming the file and line.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use auditrail_core::Event;
use serde_json::Value;
use thiserror::Error;

use crate::line::LINE_START;

/// Why audit files could not be read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ReadError {
    /// A file or folder could not be read.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },
    /// A complete line is not an audit event.
    #[error("{}:{line}: not an audit event: {reason}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong, naming the field when the line is JSON.
        reason: String,
    },
}

/// A torn line that a read skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornLine {
    /// The file.
    pub path: PathBuf,
    /// 1-based line number.
    pub line: usize,
    /// Bytes skipped.
    pub bytes: usize,
    /// Whether it was the file's unterminated last line (a write cut by a crash).
    pub at_end: bool,
}

/// What a read found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReadOutcome {
    /// The events, in file order (oldest file first for a folder).
    pub events: Vec<Event>,
    /// Torn lines skipped, each logged as a warning.
    pub torn: Vec<TornLine>,
}

impl ReadOutcome {
    /// Whether a torn unterminated last line was skipped (in any file read).
    pub fn skipped_torn_tail(&self) -> bool {
        self.torn.iter().any(|t| t.at_end)
    }
}

/// Reads one audit file.
pub fn read_audit_file(path: impl AsRef<Path>) -> Result<ReadOutcome, ReadError> {
    let mut out = ReadOutcome::default();
    read_into(path.as_ref(), &mut out)?;
    Ok(out)
}

/// Reads every audit file of a target (`dir`, `file_name` as in its config), oldest
/// first: see [`audit_files`].
pub fn read_audit_dir(dir: impl AsRef<Path>, file_name: &str) -> Result<ReadOutcome, ReadError> {
    let mut out = ReadOutcome::default();
    for path in audit_files(dir, file_name)? {
        read_into(&path, &mut out)?;
    }
    Ok(out)
}

/// The audit files of a target in `dir`, oldest first: time-rolled files
/// (`audit.2026-11-25-17.log`, in date order), then size-rolled files
/// (`audit.log.19` … `audit.log.1`), then the active `audit.log`.
pub fn audit_files(dir: impl AsRef<Path>, file_name: &str) -> Result<Vec<PathBuf>, ReadError> {
    let dir = dir.as_ref();
    let io_err = |source| ReadError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let (prefix, suffix) = crate::sink::time_name_parts(file_name);
    let mut timed: Vec<String> = Vec::new();
    let mut rolled: Vec<(u64, String)> = Vec::new();
    let mut active = false;
    for entry in fs::read_dir(dir).map_err(io_err)? {
        let entry = entry.map_err(io_err)?;
        let Ok(name) = entry.file_name().into_string() else {
            continue;
        };
        if !entry.file_type().map_err(io_err)?.is_file() {
            continue;
        }
        if name == file_name {
            active = true;
        } else if let Some(n) = name
            .strip_prefix(file_name)
            .and_then(|rest| rest.strip_prefix('.'))
            .and_then(|n| n.parse::<u64>().ok())
        {
            rolled.push((n, name));
        } else if crate::sink::is_time_rolled_name(&name, prefix, suffix) {
            timed.push(name);
        }
    }
    timed.sort();
    rolled.sort_by_key(|r| std::cmp::Reverse(r.0));
    let mut files: Vec<PathBuf> = timed.into_iter().map(|n| dir.join(n)).collect();
    files.extend(rolled.into_iter().map(|(_, n)| dir.join(n)));
    if active {
        files.push(dir.join(file_name));
    }
    Ok(files)
}

fn read_into(path: &Path, out: &mut ReadOutcome) -> Result<(), ReadError> {
    let bytes = fs::read(path).map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rest: &[u8] = &bytes;
    let mut line_no = 0;
    while !rest.is_empty() {
        line_no += 1;
        let (line, terminated) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => {
                let line = &rest[..i];
                rest = &rest[i + 1..];
                (line, true)
            }
            None => {
                let line = rest;
                rest = &[];
                (line, false)
            }
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match parse_line(line) {
            Ok(event) => out.events.push(event),
            Err(_) if !terminated => torn(out, path, line_no, line.len(), true),
            Err(reason) => recover(path, line_no, line, reason, out)?,
        }
    }
    Ok(())
}

/// A terminated line that does not parse: either a torn fragment followed on the same
/// line by a complete line (another writer appended after a failed write), or a torn
/// fragment alone (the failed writer's next write started a new line), or corruption.
fn recover(
    path: &Path,
    line_no: usize,
    line: &[u8],
    reason: String,
    out: &mut ReadOutcome,
) -> Result<(), ReadError> {
    let mut from = 1;
    while let Some(pos) = find(&line[from..], LINE_START).map(|p| p + from) {
        if is_incomplete_json(&line[..pos]) {
            if let Ok(event) = parse_line(&line[pos..]) {
                torn(out, path, line_no, pos, false);
                out.events.push(event);
                return Ok(());
            }
        }
        from = pos + 1;
    }
    if is_incomplete_json(line) {
        torn(out, path, line_no, line.len(), false);
        return Ok(());
    }
    Err(ReadError::Corrupt {
        path: path.to_path_buf(),
        line: line_no,
        reason,
    })
}

fn torn(out: &mut ReadOutcome, path: &Path, line: usize, bytes: usize, at_end: bool) {
    tracing::warn!(
        path = %path.display(),
        line,
        bytes,
        at_end,
        "skipping a torn audit line (a write cut short by a crash or a full disk; \
         its events were not acknowledged by this line)"
    );
    out.torn.push(TornLine {
        path: path.to_path_buf(),
        line,
        bytes,
        at_end,
    });
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether `bytes` is the beginning of a JSON value that ends too early.
fn is_incomplete_json(bytes: &[u8]) -> bool {
    match serde_json::from_slice::<serde::de::IgnoredAny>(bytes) {
        Ok(_) => false,
        Err(e) => e.is_eof(),
    }
}

/// Parses one line (without its `\n`) into an event.
pub fn parse_line(line: &[u8]) -> Result<Event, String> {
    let value: Value = serde_json::from_slice(line).map_err(|e| e.to_string())?;
    let Value::Object(mut map) = value else {
        return Err("the line is not a JSON object".into());
    };
    match map.remove("severity") {
        None | Some(Value::String(_)) => {}
        Some(other) => return Err(format!("severity: expected a string, got {other}")),
    }
    match map.remove("logger") {
        None | Some(Value::String(_)) => {}
        Some(other) => return Err(format!("logger: expected a string, got {other}")),
    }
    Event::from_json(&Value::Object(map).to_string()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incomplete_json_is_told_from_garbage() {
        assert!(is_incomplete_json(br#"{"severity":"INFO","log"#));
        assert!(is_incomplete_json(b"{"));
        assert!(!is_incomplete_json(b"garbage"));
        assert!(!is_incomplete_json(br#"{"a":1}"#));
        assert!(!is_incomplete_json(br#"{"a":1}}"#));
    }
}
