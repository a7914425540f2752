//! `auditrail tail`'s text output marks the values the stream says look like others of
//! their column (`event: lookalikes`, UTS #39), as the console's tail does: the value
//! shown before its look-alike came cannot be drawn again on a terminal, so a line of
//! its own, before the event that made them, names both as they are shown from then
//! on, and the lines after show them marked. Before, `tail` skipped the messages, and
//! the users `Iris` and `lris` were two lines that read alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serde_json::json;
use serve_support::*;

#[test]
fn tail_text_says_which_users_look_alike_and_marks_them() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let events: Vec<String> = ["Iris", "lris", "bob", "Iris"]
        .iter()
        .enumerate()
        .map(|(i, user)| {
            json!({
                "id": new_id(i as u64 + 1, 0x7a11), "timestamp": "2026-12-08T10:00:00.000Z",
                "topic": "generic", "node": "n1", "seq": i + 1,
                "message": {"msgType": "login", "authUser": user}
            })
            .to_string()
        })
        .collect();
    assert_eq!(
        post_events(&server.addr, &events.join("\n"), None)
            .unwrap()
            .0,
        200
    );

    let lines = tail_lines(&server.addr, 4, 5);
    // Each event line: serverTimestamp node topic routingKey msgType authUser.
    let after_time = |line: &str| line.split_once(' ').unwrap().1.to_owned();
    assert_eq!(
        [
            after_time(&lines[0]),
            lines[1].clone(),
            after_time(&lines[2]),
            after_time(&lines[3]),
            after_time(&lines[4]),
        ],
        [
            "n1 generic - login Iris",
            r"# look-alike authUser: \u{49}ris \u{6c}ris",
            r"n1 generic - login \u{6c}ris",
            "n1 generic - login bob",
            r"n1 generic - login \u{49}ris",
        ],
        "{lines:#?}"
    );
    server.kill9();
}
