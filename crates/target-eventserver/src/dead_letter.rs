//! The dead-letter file of the spool sender: events the server refused for good.
//!
//! Same line shape as the dispatcher's dead-letter files (`auditrail send --stdin`
//! re-sends them): `{"failedAt": "...", "target": "...", "error": "...", "event": {...}}`.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use auditrail_core::Timestamp;

/// Appends and fsyncs one line per refused event. `payloads` are events' JSON wire
/// forms (checksummed spool records, so valid JSON).
pub fn write(path: &Path, target: &str, refused: &[(&[u8], &str)]) -> std::io::Result<()> {
    let failed_at = serde_json::to_string(&Timestamp::now())?;
    let target = serde_json::to_string(target)?;
    let mut buf = Vec::new();
    for (payload, error) in refused {
        buf.extend_from_slice(b"{\"failedAt\":");
        buf.extend_from_slice(failed_at.as_bytes());
        buf.extend_from_slice(b",\"target\":");
        buf.extend_from_slice(target.as_bytes());
        buf.extend_from_slice(b",\"error\":");
        serde_json::to_writer(&mut buf, error)?;
        buf.extend_from_slice(b",\"event\":");
        buf.extend_from_slice(payload);
        buf.extend_from_slice(b"}\n");
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = OpenOptions::new().create(true).append(true).open(path)?;
    f.write_all(&buf)?;
    f.sync_data()
}

/// The default file: `<dead_letter_dir>/<target>.jsonl`, the dispatcher's own file
/// for this target.
pub fn default_path(dead_letter_dir: &Path, target: &str) -> PathBuf {
    dead_letter_dir.join(format!("{target}.jsonl"))
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
