//! `auditrail tail`'s text line of an event the server's live view keeps as a stub (over
//! 16 KiB: its envelope, `msgType` and `authUser`, each cut to 256 bytes) says it is one,
//! with the event's size and each field held cut with its whole size. The line showed
//! the first 256 bytes of a cut `authUser` as if they were the whole user, and nothing
//! said the event was bigger than what was shown (the console and `--format ndjson`
//! said so through `omittedBytes` and `cutFields`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serde_json::json;
use serve_support::*;

#[test]
fn a_stub_line_names_the_event_size_and_the_cut_user() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let user = "u".repeat(20_000);
    let events = [
        json!({"id": new_id(1, 472), "timestamp": "2026-12-06T10:00:00.000Z", "topic": "generic",
            "node": "n1", "seq": 1, "message": {"msgType": "upload", "authUser": user}}),
        json!({"id": new_id(2, 472), "timestamp": "2026-12-06T10:00:01.000Z", "topic": "generic",
            "node": "n1", "seq": 2, "message": {"msgType": "login", "authUser": "alice"}}),
    ];
    let size = events[0].to_string().len();
    let body = events
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let lines = tail_lines(&server.addr, 10, events.len());
    assert_eq!(server.terminate(), 0);

    let (_, stub) = lines[0]
        .split_once(" n1 generic - upload ")
        .unwrap_or_else(|| panic!("{lines:#?}"));
    assert_eq!(
        stub,
        format!(
            "{} [stub: the event is {size} bytes; authUser cut from 20000 bytes; \
             auditrail query events has it whole]",
            "u".repeat(256)
        ),
        "{lines:#?}"
    );
    assert!(
        lines[1].ends_with(" n1 generic - login alice"),
        "a whole event's line has no note: {lines:#?}"
    );
}
