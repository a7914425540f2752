//! Dead-letter files: where events go that a target will never take.
//!
//! One JSON-lines file per target, `<dead_letter_dir>/<target>.jsonl` ([`file_path`]),
//! each line a [`DeadLetterLine`]:
//!
//! ```json
//! {"failedAt":"2026-11-25T16:55:49.123Z","target":"eventserver-0","error":"HTTP 403 ...","event":{...}}
//! ```
//!
//! The dispatcher writes them for events its targets refused for good; a target that
//! dead-letters events itself after acknowledging them (the eventserver target, from
//! its spool) writes the same lines to the same file. Lines are appended and fsynced
//! before the events count as dead-lettered. `auditrail send --stdin` reads them back
//! and re-sends each `event` as it was (same id, so a server stores it once).
//!
//! A line holds its event whole, whatever its size, also when the line is longer than
//! `auditrail send --stdin` reads (64 MiB, the most a spool record holds, plus
//! [`MAX_ENVELOPE_BYTES`] for the rest of a dead letter: so every event a node can
//! deliver can be re-sent from its dead letter; longer lines are those of an event over
//! 64 MiB, refused by the spool, or a `spool = false` target's): the dead letter is the
//! only copy of an event no target took, so cutting or leaving out the event would
//! destroy the evidence it is kept for. Nor does the reader's limit grow to fit every
//! line: it bounds the memory of input that never ends a line. The re-send names such a
//! line, passes over it and sends the lines after it; the line stays in the file moved
//! aside for the re-send. The `error` is cut at [`MAX_ERROR_BYTES`], which bounds the
//! rest of the line.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::event::{parse_json, Event, EventError, Timestamp};

/// One line of a dead-letter file. `E` is the event: an [`Event`] when reading, and
/// when writing anything that serializes as one (`&Event`, or the event's JSON text
/// as a `&serde_json::value::RawValue` for a writer that holds only its wire form).
///
/// Reading ignores keys it does not know, so that lines written by a later version
/// can still be re-sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeadLetterLine<E = Event> {
    /// When the event was given up on (UTC, ms).
    pub failed_at: Timestamp,
    /// The target instance that did not take it.
    pub target: String,
    /// Why: the target's error, or its reason for this event.
    pub error: String,
    /// The event, whole, as the target was given it.
    pub event: E,
}

impl DeadLetterLine {
    /// Parses one line, validating the event like any other input; an error names the
    /// key at fault (`event.topic: ...`).
    pub fn from_json(line: &str) -> Result<DeadLetterLine, EventError> {
        parse_json(line.as_bytes())
    }
}

/// The most bytes of `error` a line holds: a longer one is cut there (at a character's
/// end) and says how much was left out. The error says why; the event is the evidence,
/// kept whole. Bounding it bounds what a line holds besides its event (see
/// [`MAX_ENVELOPE_BYTES`]).
pub const MAX_ERROR_BYTES: usize = 16 * 1024;

/// The most bytes a line holds besides its event's JSON: `failedAt`, `target` (a file
/// name: at most 255 bytes, each escaped to at most 6), `error` (at most
/// [`MAX_ERROR_BYTES`], each byte escaped to at most 6, plus the note of what was cut)
/// and the keys. A reader that takes the largest event a node can deliver takes its dead
/// letter when it allows this much more (`auditrail send --stdin` does: an event that
/// reached the spool's limit, then was refused for good, can be re-sent).
pub const MAX_ENVELOPE_BYTES: usize = 128 * 1024;

impl<E: Serialize> DeadLetterLine<E> {
    /// Appends the line and its newline to `out`; an `error` longer than
    /// [`MAX_ERROR_BYTES`] is cut there.
    pub fn write_to(&self, out: &mut Vec<u8>) -> std::io::Result<()> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Line<'a, E> {
            failed_at: Timestamp,
            target: &'a str,
            error: &'a str,
            event: &'a E,
        }
        let cut;
        let error = if self.error.len() > MAX_ERROR_BYTES {
            let mut end = MAX_ERROR_BYTES;
            while !self.error.is_char_boundary(end) {
                end -= 1;
            }
            cut = format!(
                "{}... ({} more bytes of the error left out)",
                &self.error[..end],
                self.error.len() - end
            );
            cut.as_str()
        } else {
            self.error.as_str()
        };
        let line = Line {
            failed_at: self.failed_at,
            target: &self.target,
            error,
            event: &self.event,
        };
        serde_json::to_writer(&mut *out, &line)?;
        out.push(b'\n');
        Ok(())
    }
}

/// The dead-letter file of target `target`: `<dead_letter_dir>/<target>.jsonl`.
pub fn file_path(dead_letter_dir: &Path, target: &str) -> PathBuf {
    dead_letter_dir.join(format!("{target}.jsonl"))
}

/// Appends `lines` (written with [`DeadLetterLine::write_to`]) to the file at `path`,
/// creating it and its folder if needed, and fsyncs. Blocking: call it from a blocking
/// thread in async code. A line an earlier append left cut short (a full disk) is ended
/// first ([`crate::jsonl::append`]): the dispatcher and a target may both append to the
/// file, so the fragment is not cut away, which could take another writer's line.
pub fn append(path: &Path, lines: &[u8]) -> std::io::Result<()> {
    crate::jsonl::append(path, lines, true)
}

// Hidden: its error type lives in the hidden `jsonl` module, shared with the project's
// own crates and not a stable API.
#[doc(hidden)]
/// [`append`], saying on failure how many bytes of `lines` are in the file, synced
/// ([`crate::jsonl::append_keeping`]): on a full disk the lines before the one the
/// disk cut are whole there, and their events are dead-lettered, not lost.
pub fn append_keeping(path: &Path, lines: &[u8]) -> Result<(), crate::jsonl::PartialAppend> {
    crate::jsonl::append_keeping(path, lines, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{topics, EventDraft, NodeId};
    use serde_json::value::RawValue;
    use std::fs::OpenOptions;
    use std::io::Write;

    #[test]
    fn a_long_error_is_cut_at_a_character_and_the_event_kept_whole() {
        let event = EventDraft::new(topics::GENERIC, "login")
            .auth_user("e".repeat(MAX_ERROR_BYTES * 2))
            .complete(&NodeId::new("n").unwrap(), || 1)
            .unwrap();
        // A 3-byte character across the limit: the cut comes before it.
        let error = format!("{}€{}", "x".repeat(MAX_ERROR_BYTES - 1), "y".repeat(50_000));
        let line = DeadLetterLine {
            failed_at: event.timestamp,
            target: "central".to_string(),
            error: error.clone(),
            event: event.clone(),
        };
        let mut out = Vec::new();
        line.write_to(&mut out).unwrap();
        let back = DeadLetterLine::from_json(std::str::from_utf8(&out).unwrap()).unwrap();
        assert_eq!(back.event, event);
        let kept = "x".repeat(MAX_ERROR_BYTES - 1);
        let left_out = error.len() - kept.len();
        assert_eq!(
            back.error,
            format!("{kept}... ({left_out} more bytes of the error left out)")
        );
        assert!(out.len() - event.to_json().len() <= MAX_ENVELOPE_BYTES);
        // A short error is written as it is.
        let short = DeadLetterLine {
            error: "HTTP 503".to_string(),
            ..line
        };
        let mut out = Vec::new();
        short.write_to(&mut out).unwrap();
        let back = DeadLetterLine::from_json(std::str::from_utf8(&out).unwrap()).unwrap();
        assert_eq!(back.error, "HTTP 503");
    }

    #[test]
    fn lines_written_from_an_event_or_its_wire_form_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(&dir.path().join("deadletter"), "es-1");
        let event = EventDraft::new(topics::APINODE_QUERY, "prediction-query")
            .routing_key("svc-a")
            .field("authUser", "alice")
            .complete(&NodeId::new("n1").unwrap(), || 7)
            .unwrap();
        let failed_at = Timestamp::now();
        let mut buf = Vec::new();
        DeadLetterLine {
            failed_at,
            target: "es-1".into(),
            error: "HTTP 403: \"no\"\nsecond line".into(),
            event: &event,
        }
        .write_to(&mut buf)
        .unwrap();
        let wire = event.to_json();
        let raw: &RawValue = serde_json::from_str(&wire).unwrap();
        DeadLetterLine {
            failed_at,
            target: "es-1".into(),
            error: "refused".into(),
            event: raw,
        }
        .write_to(&mut buf)
        .unwrap();
        append(&path, &buf).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let first = DeadLetterLine::from_json(lines.next().unwrap()).unwrap();
        assert_eq!(
            first,
            DeadLetterLine {
                failed_at,
                target: "es-1".into(),
                error: "HTTP 403: \"no\"\nsecond line".into(),
                event: event.clone(),
            }
        );
        let second = DeadLetterLine::from_json(lines.next().unwrap()).unwrap();
        assert_eq!((second.error.as_str(), &second.event), ("refused", &event));
        assert_eq!(lines.next(), None);
    }

    #[test]
    fn a_line_cut_short_by_a_failed_write_does_not_swallow_the_next() {
        let dir = tempfile::tempdir().unwrap();
        let path = file_path(dir.path(), "es-1");
        let line = |n: u64| {
            let event = EventDraft::new(topics::GENERIC, "login")
                .field("authUser", "alice")
                .complete(&NodeId::new("n1").unwrap(), || n)
                .unwrap();
            let mut buf = Vec::new();
            DeadLetterLine {
                failed_at: Timestamp::now(),
                target: "es-1".into(),
                error: "refused".into(),
                event: &event,
            }
            .write_to(&mut buf)
            .unwrap();
            (event, buf)
        };
        let (first, first_line) = line(1);
        let (_, cut_line) = line(2);
        let (third, third_line) = line(3);
        append(&path, &first_line).unwrap();
        // What a full disk leaves of the second append: part of its line.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&cut_line[..cut_line.len() / 2]).unwrap();
        drop(f);
        append(&path, &third_line).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert_eq!(DeadLetterLine::from_json(lines[0]).unwrap().event, first);
        assert!(DeadLetterLine::from_json(lines[1]).is_err(), "the fragment");
        assert_eq!(DeadLetterLine::from_json(lines[2]).unwrap().event, third);
        // A file that ends a line gets nothing added.
        append(&path, &third_line).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 4);
    }

    #[test]
    fn a_line_with_an_invalid_event_is_refused_with_the_field() {
        let line = r#"{"failedAt":"2026-11-25T16:55:49.123Z","target":"t","error":"e","event":{"topic":"generic"}}"#;
        let err = DeadLetterLine::from_json(line).unwrap_err().to_string();
        assert!(err.starts_with("event"), "{err}");
    }
}
