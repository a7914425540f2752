//! `auditrail sql --audit-dir` shows a node's audit messages exactly as the file target
//! wrote them: an integer beyond 64 bits is not rounded, `-0`, `1E2` and escapes keep
//! their spelling, keys their order, and a file holding `1e400` is read like any other
//! (its reader used to round the first, rewrite the others and refuse the file).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

use crate::common;

const SENT: [&str; 3] = [
    r#"{"msgType":"payment","txId":123456789012345678901234567890,"z":1,"a":2}"#,
    r#"{"msgType":"x","m":1E2,"n":-0,"s":"\u00e9"}"#,
    r#"{"msgType":"x","f":1e400,"n":1}"#,
];

#[test]
fn sql_on_an_audit_folder_shows_the_messages_as_written() {
    let node = common::Node::with_file_target("");
    let lines: String = SENT
        .iter()
        .map(|m| format!("{{\"topic\":\"generic\",\"message\":{m}}}\n"))
        .collect();
    let out = node.run(&["send", "--config", "node.toml", "--stdin"], &lines);
    assert_eq!(out.status.code(), Some(0), "{:?}", common::text(&out));

    let out = node.run(
        &[
            "sql",
            "--audit-dir",
            "audit",
            "--format",
            "ndjson",
            "SELECT message FROM events ORDER BY seq",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let shown: Vec<&str> = stdout.lines().collect();
    let expected: Vec<String> = SENT
        .iter()
        .map(|m| format!(r#"{{"message":{m}}}"#))
        .collect();
    assert_eq!(shown, expected, "{stderr}");
    assert!(stderr.is_empty(), "nothing skipped: {stderr}");
}
