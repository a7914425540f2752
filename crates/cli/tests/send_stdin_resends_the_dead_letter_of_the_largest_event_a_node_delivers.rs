//! The dead letter of an event as large as a node can deliver (64 MiB of JSON, the most
//! a spool record holds) is longer than 64 MiB: its `failedAt`, `target` and `error`
//! come on top. `auditrail send --stdin` reads a line that long, so such an event can be
//! re-sent from its dead letter like any other (it was named as too long and passed
//! over: the one copy of an event no target took could not be delivered).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

/// The largest event a node delivers: a spool record's limit.
const MAX_EVENT: usize = 64 << 20;

#[test]
fn the_dead_letter_of_a_64_mib_event_is_re_sent() {
    let node = common::Node::with_file_target("");
    let event_of = |user: &str| {
        serde_json::json!({
            "id": "01936f6e-1b2c-7d3e-8f40-123456789002",
            "timestamp": "2026-11-25T10:00:00.000Z",
            "topic": "generic", "node": "cli-test-node", "seq": 2,
            "message": {"msgType": "login", "authUser": user}
        })
        .to_string()
    };
    // An event whose JSON is exactly the largest a node delivers.
    let user = "u".repeat(MAX_EVENT - event_of("").len());
    let event = event_of(&user);
    assert_eq!(event.len(), MAX_EVENT);
    let line = format!(
        r#"{{"failedAt":"2026-11-25T10:00:01.000Z","target":"central","error":"HTTP 503 Service Unavailable: the server is draining","event":{event}}}"#
    );
    assert!(
        line.len() > MAX_EVENT,
        "the dead letter is longer than its event"
    );
    let path = node.path().join("central.resend.jsonl");
    std::fs::write(&path, format!("{line}\n")).unwrap();
    drop((line, event));

    let out = node.run_from(&["send", "--config", "node.toml", "--stdin"], &path);
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        (&summary["acknowledged"], &summary["badLines"]),
        (&serde_json::json!(1), &serde_json::json!(0)),
        "{summary}"
    );
    let lines = node.audit_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["seq"], 2);
    assert_eq!(
        lines[0]["message"]["authUser"].as_str().map(str::len),
        Some(user.len()),
        "the event is written whole"
    );
}
