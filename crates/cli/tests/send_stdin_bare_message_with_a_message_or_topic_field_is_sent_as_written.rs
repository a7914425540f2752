//! `auditrail send --stdin --topic generic`: a line with a top-level `msgType` is a bare
//! message, whatever other keys it has: one with a field named `message` or `topic`
//! (common in application logs), or with the keys of a dead-letter line, is sent under
//! `--topic` with every field as written. (Such a line used to be taken for a partial
//! event, refused with `unknown field msgType`, and the reading stopped there.) Events
//! and dead-letter lines in the same input are read as before.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

use std::collections::HashMap;

use serde_json::value::RawValue;

#[test]
fn every_bare_message_is_sent_under_the_topic_flag_and_events_keep_theirs() {
    let node = common::Node::with_file_target("");
    let bare = [
        r#"{"msgType":"job-start","authUser":"alice"}"#,
        r#"{"msgType":"job-failed","authUser":"alice","message":"disk full"}"#,
        r#"{"msgType":"job-end","authUser":"alice","topic":"billing"}"#,
        r#"{"msgType":"job-retried","failedAt":"yesterday","event":{"n":1}}"#,
    ];
    let partial_event = r#"{"message":{"msgType":"partial","message":"m"}}"#;
    let event = r#"{"topic":"billing","message":{"msgType":"event"}}"#;
    let dead_letter = r#"{"failedAt":"2026-11-25T10:00:01.000Z","target":"t","error":"HTTP 403","event":{"id":"01936f6e-1b2c-7d3e-8f40-123456789abc","timestamp":"2026-11-25T10:00:00.000Z","topic":"billing","node":"node-b","seq":7,"message":{"msgType":"dead"}}}"#;
    let mut input: Vec<&str> = bare.to_vec();
    input.extend([partial_event, event, dead_letter]);
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--stdin",
            "--topic",
            "generic",
        ],
        &input.join("\n"),
    );
    let (stdout, stderr) = common::text(&out);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    // The audit file's lines, each message as its text (keys in their order).
    let audit = std::fs::read_to_string(node.path().join("audit/audit.log")).unwrap();
    let lines: Vec<HashMap<String, Box<RawValue>>> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sent: Vec<(String, String)> = lines
        .iter()
        .map(|l| (l["topic"].get().to_owned(), l["message"].get().to_owned()))
        .collect();
    let mut expected: Vec<(&str, String)> =
        bare.iter().map(|m| ("generic", (*m).to_owned())).collect();
    expected.extend([
        (
            "generic",
            partial_event[11..partial_event.len() - 1].to_owned(),
        ),
        ("billing", r#"{"msgType":"event"}"#.to_owned()),
        ("billing", r#"{"msgType":"dead"}"#.to_owned()),
    ]);
    let expected: Vec<(String, String)> = expected
        .into_iter()
        .map(|(topic, message)| (format!("{topic:?}"), message))
        .collect();
    assert_eq!(sent, expected);
    // The dead-letter line's event is re-sent as it was.
    assert_eq!(lines[6]["node"].get(), r#""node-b""#);
    assert_eq!(lines[6]["seq"].get(), "7");
}
