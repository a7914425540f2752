//! `auditrail send` with flags: one event, acknowledged, in the node's audit file with
//! every flag's value, typed as JSON where it parses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;

#[test]
fn one_event_from_flags_reaches_the_file_target() {
    let node = common::Node::with_file_target("");
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "authfail",
            "--routing-key",
            "svc-a",
            "--msg-type",
            "login-failed",
            "--user",
            "mallory",
            "--field",
            "clientIP=10.0.0.7",
            "--field",
            "attempts=3",
            "--field",
            "locked=true",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(
        summary,
        serde_json::json!({"sent": 1, "acknowledged": 1, "failed": 0, "spooled": 0, "deadLettered": 0, "lost": 0, "lostSpoolSegments": 0, "notDurable": 0, "badLines": 0})
    );
    let lines = node.audit_lines();
    assert_eq!(lines.len(), 1);
    let e = &lines[0];
    assert_eq!(e["topic"], "authfail");
    assert_eq!(e["routingKey"], "svc-a");
    assert_eq!(e["node"], "cli-test-node");
    assert_eq!(e["message"]["msgType"], "login-failed");
    assert_eq!(e["message"]["authUser"], "mallory");
    assert_eq!(e["message"]["clientIP"], "10.0.0.7");
    assert_eq!(e["message"]["attempts"], 3);
    assert_eq!(e["message"]["locked"], true);
}

#[test]
fn invalid_flag_values_fail_before_sending() {
    let node = common::Node::with_file_target("");
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "Not A Topic",
            "--msg-type",
            "x",
        ],
        "",
    );
    assert!(!out.status.success());
    let (_, stderr) = common::text(&out);
    assert!(stderr.contains("topic"), "{stderr}");
    assert!(node.audit_lines().is_empty());
}
