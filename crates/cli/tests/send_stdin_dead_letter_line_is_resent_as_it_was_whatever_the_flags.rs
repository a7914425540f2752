//! `auditrail send --stdin --routing-key K --topic T < central.resend.jsonl`: a
//! dead-letter line's event is re-sent as it was (docs/node-commands.md, Input), the
//! flags being those used for the application's own lines. `--routing-key` and
//! `--topic` apply to event lines and bare messages without one, never to a
//! dead-letter line's event. (`--routing-key` was added to a dead-letter event that
//! had none: the event was altered, and an event server holding the original stored
//! it a second time with the same id and seq.)

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::common;

#[test]
fn the_event_of_a_dead_letter_line_gets_no_routing_key_nor_topic_from_the_flags() {
    let node = common::Node::with_file_target("");
    let event = serde_json::json!({
        "id": "01936f6e-1b2c-7d3e-8f40-123456789abc", "timestamp": "2026-11-25T10:00:00.000Z",
        "topic": "generic", "node": "other-node", "seq": 77, "message": {"msgType": "late"}
    });
    let line = serde_json::json!({"failedAt": "2026-11-25T10:00:01.000Z", "target": "central",
                                  "error": "HTTP 503", "event": event});
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--stdin",
            "--routing-key",
            "svc-a",
            "--topic",
            "billing",
        ],
        &format!("{line}\n"),
    );
    assert!(out.status.success(), "{:?}", common::text(&out));
    let lines = node.audit_lines();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let stored = &lines[0];
    for key in ["id", "timestamp", "topic", "node", "seq", "message"] {
        assert_eq!(stored[key], event[key], "{key}: {stored}");
    }
    assert!(stored.get("routingKey").is_none(), "{stored}");
}
