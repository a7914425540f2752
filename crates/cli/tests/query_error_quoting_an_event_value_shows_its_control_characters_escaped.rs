//! An error that quotes a value of a stored event (`SELECT CAST(authUser AS INT)`:
//! "Cannot cast string '…' to value of Int32 type") shows that value's control
//! characters escaped on the operator's terminal, as tables and CSV do: an event's ESC
//! sequences (set the window title, clear the screen) are written `\u{1b}`, not sent to
//! the terminal. The error's own line breaks are kept.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use std::process::Command;

use crate::serve_support;

#[test]
fn a_cast_error_shows_the_events_escape_sequences_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let line = serde_json::json!({
        "id": serve_support::new_id(1, 0x5e44), "timestamp": "2026-11-25T16:55:49.123Z",
        "topic": "generic", "node": "n1", "seq": 1,
        "message": {"msgType": "login", "authUser": "\u{1b}]0;owned\u{7}\u{1b}[2Jbob"}
    })
    .to_string();
    let (status, answer) = serve_support::post_events(&server.addr, &line, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);

    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args([
            "sql",
            "SELECT CAST(authUser AS INT) AS n FROM events",
            "--store",
        ])
        .arg(dir.path().join("data/store"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        !stderr.contains(['\u{1b}', '\u{7}']),
        "raw control characters on the terminal: {stderr:?}"
    );
    assert!(
        stderr.contains(r"'\u{1b}]0;owned\u{7}\u{1b}[2Jbob'"),
        "{stderr:?}"
    );
}
