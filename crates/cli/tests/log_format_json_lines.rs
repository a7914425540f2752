//! `--log-format json` (or `AUDITRAIL_LOG_FORMAT=json`) writes every log line of the
//! server as one JSON object (timestamp, level, target, fields) for log collectors;
//! the default stays readable text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serve_support::*;

fn log_lines(args: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), args);
    let body = event_line(&new_id(1, 81), "node-j", 1) + "\n";
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let path = server.stderr_path.clone();
    assert_eq!(server.terminate(), 0);
    let stderr = std::fs::read_to_string(path).unwrap();
    stderr.lines().map(str::to_owned).collect()
}

#[test]
fn json_log_lines_are_json_objects() {
    let lines = log_lines(&["--data-dir", "data", "--log-format", "json"]);
    assert!(lines.len() >= 3, "{lines:?}");
    for line in &lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        assert!(v["level"].is_string() && v["fields"].is_object(), "{line}");
    }
    assert!(
        lines.iter().any(|l| l.contains("store opened")),
        "{lines:?}"
    );
    let text = log_lines(&["--data-dir", "data"]);
    assert!(text.iter().all(|l| !l.starts_with('{')), "{text:?}");
}
