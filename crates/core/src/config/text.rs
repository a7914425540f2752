//! The one reader of config file text (a node's config, the event server's): TOML, or
//! JSON with the same structure, into one `serde_json::Value` for the typed parse.
//!
//! TOML refuses a key given twice; `serde_json` keeps the last of two equal keys, which
//! would drop the first value without a word (a server's first `destinations` list, a
//! node's first `node`). So JSON text also goes through the ingest's duplicate-key
//! check ([`check_document`](crate::event::check_document)), at any depth.

use std::path::Path;

use serde_json::Value;
use thiserror::Error;

use crate::regular_file::Reading;

/// The most bytes a config file (a node's, the event server's) may hold: 4 MiB, far
/// more than any real one (a server with thousands of `[[keys]]` stays under 1 MiB).
pub const MAX_CONFIG_FILE_BYTES: u64 = 4 << 20;

/// The text of the config file at `path`: a regular file or a pipe (`--config <(...)`)
/// of at most [`MAX_CONFIG_FILE_BYTES`], as UTF-8
/// ([`read_given`](crate::regular_file::read_given)). A device at the path (a link
/// gone wrong to `/dev/zero`), a socket or a larger file is refused at once, at a start
/// as at a SIGHUP reload, instead of being read into memory without end. A pipe is
/// waited on for at most [`PIPE_WAIT`](crate::regular_file::PIPE_WAIT) at a start
/// ([`Reading::Start`]) and refused at once when read again ([`Reading::Again`]), never
/// waited on for ever.
pub fn read_config_file(path: &Path, reading: Reading) -> std::io::Result<String> {
    let bytes = crate::regular_file::read_given(path, MAX_CONFIG_FILE_BYTES, reading)?;
    String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()))
}

/// Why config text is not a document (the caller adds the file).
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum ConfigTextError {
    /// Not JSON.
    #[error("invalid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// JSON that gives a key twice in one object.
    #[error("invalid JSON at line {line}: {path}: {reason}")]
    DuplicateKey {
        /// The key's path from the root (`destinations[0].name`).
        path: String,
        /// What is wrong, naming the key.
        reason: String,
        /// The line (from 1).
        line: usize,
    },
    /// Not TOML.
    #[error("invalid TOML: {0}")]
    Toml(#[source] toml::de::Error),
    /// TOML whose conversion to a JSON value failed.
    #[error("{0}")]
    Convert(#[source] serde_json::Error),
}

/// Reads config text: JSON when `json` is set or the text starts with `{`, TOML
/// otherwise. A leading UTF-8 byte order mark (written by Notepad and other Windows
/// tools) is skipped for both, as RFC 8259 section 8.1 lets a JSON parser do and as
/// `send --stdin` and `/v1/events` do: `serde_json` refused it with "expected value at
/// line 1 column 1", naming a character no editor shows.
pub fn parse_config_text(text: &str, json: bool) -> Result<Value, ConfigTextError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if json || text.trim_start().starts_with('{') {
        let value = serde_json::from_str(text).map_err(ConfigTextError::Json)?;
        // After `serde_json`: the check assumes well-formed JSON.
        crate::event::check_document(text).map_err(|p| ConfigTextError::DuplicateKey {
            path: p.path,
            reason: p.reason,
            line: p.line,
        })?;
        Ok(value)
    } else {
        let t: toml::Value = toml::from_str(text).map_err(ConfigTextError::Toml)?;
        serde_json::to_value(t).map_err(ConfigTextError::Convert)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_key_given_twice_is_refused_at_any_depth_naming_its_path_and_line() {
        let err = parse_config_text("{\"node\": \"a\",\n\"node\": \"b\"}", false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid JSON at line 2: node: duplicate key \"node\": a key may appear once per \
             object (JSON readers disagree on which value wins)"
        );
        let err = parse_config_text(
            r#"{"targets": [{"type": "file", "dir": "a", "dir": "b"}]}"#,
            true,
        )
        .unwrap_err();
        assert!(
            matches!(&err, ConfigTextError::DuplicateKey { path, line: 1, .. } if path == "targets[0].dir"),
            "{err}"
        );
        let value = parse_config_text(r#"{"node": "a", "x": {"node": "b"}}"#, true).unwrap();
        assert_eq!(
            value["x"]["node"], "b",
            "the same key in two objects is two keys"
        );
        // TOML's own refusal.
        let err = parse_config_text("node = \"a\"\nnode = \"b\"\n", false).unwrap_err();
        assert!(matches!(err, ConfigTextError::Toml(_)), "{err}");
    }

    #[test]
    fn a_leading_byte_order_mark_is_skipped_in_json_and_toml() {
        let expected = serde_json::json!({"node": "bom", "targets": [{"type": "file"}]});
        let json = "\u{feff}{\"node\":\"bom\",\"targets\":[{\"type\":\"file\"}]}\r\n";
        // By extension, and by its leading `{` behind the mark.
        assert_eq!(parse_config_text(json, true).unwrap(), expected);
        assert_eq!(parse_config_text(json, false).unwrap(), expected);
        let toml = "\u{feff}node = \"bom\"\n[[targets]]\ntype = \"file\"\n";
        assert_eq!(parse_config_text(toml, false).unwrap(), expected);
        // Only one, at the start: anywhere else it is a character of the text.
        assert!(parse_config_text("\u{feff}\u{feff}{}", true).is_err());
    }
}
