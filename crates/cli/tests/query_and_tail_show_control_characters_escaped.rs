//! Text from events is shown, not obeyed: an event whose `authUser` holds ESC, BEL,
//! CR/LF, C1 and bidi override characters (clear the line, forge a report row for
//! "alice") reaches `auditrail tail`'s text lines, the `query last-activity` report, the
//! `query events` table and CSV and the `sql` table with those characters escaped
//! (`\u{1b}`, `\r`, `\n`): no raw control character, one event per row, the value still
//! recognisable. A CSV cell that starts like a formula gets a `'` in front.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use std::process::Command;

use serde_json::json;
use serve_support::*;

/// The hostile user name: erases its own line, returns, and starts a forged row.
const FORGED: &str = "mallory\u{1b}[2K\rbob\u{7}\r\nalice    2026-11-25T09:00:00.000Z  node-1  login  1  0\u{9b}\u{202e}\u{7f}";
/// The same, as every human-readable output must show it.
const SHOWN: &str = "mallory\\u{1b}[2K\\rbob\\u{7}\\r\\nalice    2026-11-25T09:00:00.000Z  node-1  login  1  0\\u{9b}\\u{202e}\\u{7f}";

fn event(n: u64, user: &str) -> String {
    json!({
        "id": new_id(n, 404), "timestamp": "2026-11-25T10:00:00.000Z", "topic": "generic",
        "node": "node-m", "seq": n, "message": {"msgType": "login", "authUser": user}
    })
    .to_string()
}

/// Characters a terminal or a line reader acts on (LF, the line end, aside).
fn raw_controls(text: &str) -> Vec<char> {
    text.chars()
        .filter(|&c| {
            c != '\n'
                && (c.is_control()
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c))
        })
        .collect()
}

/// Asserts `text` (the output of `what`) holds no raw control character, shows the
/// hostile name escaped, and has no line of its own for the forged "alice".
fn assert_shown_escaped(what: &str, text: &str) {
    assert!(
        raw_controls(text).is_empty(),
        "{what}: raw control characters {:?} in {text:?}",
        raw_controls(text)
    );
    assert!(text.contains(SHOWN), "{what}: the value escaped: {text:?}");
    assert!(
        !text.lines().any(|l| l.trim_start().starts_with("alice")),
        "{what}: a forged row: {text:?}"
    );
}

fn auditrail(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_auditrail"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn control_characters_of_event_values_are_shown_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let body = [event(1, FORGED), event(2, "=1+2")].join("\n");
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");

    // `tail` (text): the backlog of both events, one line each.
    let lines = tail_lines(&server.addr, 5, 2);
    let tail_text = lines.join("\n") + "\n";
    assert_shown_escaped("tail", &tail_text);
    assert!(
        lines
            .iter()
            .any(|l| l.ends_with(&format!(" node-m generic - login \"{SHOWN}\""))),
        "tail: {lines:?}"
    );
    assert_eq!(server.terminate(), 0);

    let d = dir.path();
    let report = auditrail(d, &["query", "--dir", "data", "last-activity"]);
    assert_shown_escaped("query last-activity", &report);
    assert_eq!(report.lines().count(), 3, "a header and one row per user");

    let table = auditrail(d, &["query", "--dir", "data", "events"]);
    assert_shown_escaped("query events (table)", &table);

    let csv = auditrail(d, &["query", "--dir", "data", "events", "--format", "csv"]);
    assert_shown_escaped("query events --format csv", &csv);
    assert_eq!(csv.lines().count(), 3, "a header and one line per event");
    assert!(
        csv.contains(",'=1+2,"),
        "a formula is written as text: {csv}"
    );

    let sql = auditrail(
        d,
        &[
            "sql",
            "--dir",
            "data",
            "SELECT authUser, message FROM events ORDER BY seq",
        ],
    );
    assert_shown_escaped("sql (table)", &sql);

    // JSON stays exact.
    let json = auditrail(d, &["query", "--dir", "data", "events", "--json"]);
    let rows: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        rows.as_array()
            .unwrap()
            .iter()
            .any(|r| r["authUser"] == FORGED),
        "{json}"
    );
}
