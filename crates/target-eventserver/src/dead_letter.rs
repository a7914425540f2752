//! The dead-letter file of the spool sender: events the server refused for good.
//!
//! The same [`DeadLetterLine`]s, in the same file, as the dispatcher's dead letters
//! for this target (`auditrail send --stdin` re-sends them).

use std::path::{Path, PathBuf};

use auditrail_core::dead_letter::{self, DeadLetterLine};
use auditrail_core::Timestamp;
use serde_json::value::RawValue;

/// Appends and fsyncs one line per refused event. `payloads` are events' JSON wire
/// forms (checksummed spool records), written as they are.
pub(crate) fn write(path: &Path, target: &str, refused: &[(&[u8], &str)]) -> std::io::Result<()> {
    let failed_at = Timestamp::now();
    let mut buf = Vec::new();
    for (payload, error) in refused {
        let event: &RawValue = serde_json::from_slice(payload)?;
        DeadLetterLine {
            failed_at,
            target: target.to_owned(),
            error: (*error).to_owned(),
            event,
        }
        .write_to(&mut buf)?;
    }
    dead_letter::append(path, &buf)
}

/// The default file: `<dead_letter_dir>/<target>.jsonl`, the dispatcher's own file
/// for this target.
pub(crate) fn default_path(dead_letter_dir: &Path, target: &str) -> PathBuf {
    dead_letter::file_path(dead_letter_dir, target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_have_the_dispatcher_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dl/x.jsonl");
        write(&path, "es", &[(br#"{"id":"a"}"#, "HTTP 403: \"no\"")]).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(v["target"], "es");
        assert_eq!(v["error"], "HTTP 403: \"no\"");
        assert_eq!(v["event"]["id"], "a");
        assert!(v["failedAt"].is_string());
    }
}
