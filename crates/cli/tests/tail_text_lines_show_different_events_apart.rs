//! `auditrail tail`'s text lines (`serverTimestamp node topic routingKey msgType
//! authUser`) show two different events as two different lines. Values were written
//! bare between spaces: routing key `a b` with msgType `c` printed as routing key `a`
//! with msgType `b c`; a routing key or user `-`, none, and a numeric user all printed
//! `-`; the user "" printed nothing. Now a string that would read as another word or
//! value is in quotes, any other value is its JSON, and only a missing value is `-`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::serve_support;

use serde_json::{json, Value};
use serve_support::*;

#[test]
fn each_event_prints_its_own_line() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    // (routingKey, msgType, authUser; None: the event lacks it) and the line's words
    // after the timestamp, node and topic.
    let cases: [(Option<&str>, Value, Option<Value>, &str); 10] = [
        (Some("a b"), json!("c"), None, "\"a b\" c -"),
        (Some("a"), json!("b c"), None, "a \"b c\" -"),
        (Some("-"), json!("x"), Some(json!("-")), "\"-\" x \"-\""),
        (None, json!("x"), None, "- x -"),
        (None, json!("x"), Some(json!(12)), "- x 12"),
        (None, json!("x"), Some(json!("12")), "- x \"12\""),
        (None, json!("x"), Some(json!("")), "- x \"\""),
        (None, json!("x"), Some(json!(null)), "- x null"),
        (
            None,
            json!("x"),
            Some(json!({"n": "a b"})),
            "- x {\"n\":\"a\\u0020b\"}",
        ),
        (None, json!("x"), Some(json!("alice")), "- x alice"),
    ];
    let body = cases
        .iter()
        .enumerate()
        .map(|(i, (key, msg_type, user, _))| {
            let mut message = json!({ "msgType": msg_type });
            if let Some(user) = user {
                message["authUser"] = user.clone();
            }
            let mut event = json!({
                "id": new_id(i as u64 + 1, 471), "timestamp": "2026-12-01T10:00:00.000Z",
                "topic": "generic", "node": "n1", "seq": i + 1, "message": message
            });
            if let Some(key) = key {
                event["routingKey"] = json!(key);
            }
            event.to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let (status, answer) = post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let lines = tail_lines(&server.addr, 10, cases.len());
    assert_eq!(server.terminate(), 0);

    // Oldest first, as sent.
    let shown: Vec<&str> = lines
        .iter()
        .map(|l| {
            l.split_once(" n1 generic ")
                .unwrap_or_else(|| panic!("{l}"))
                .1
        })
        .collect();
    let expected: Vec<&str> = cases.iter().map(|c| c.3).collect();
    assert_eq!(shown, expected, "{lines:#?}");
}
