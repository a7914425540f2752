//! `auditrail send` failures: a clear message naming what and where, a non-zero exit,
//! and the lines around a bad line are still delivered (the message says which lines
//! were not, and to send only those again).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;

#[test]
fn invalid_stdin_line_names_the_line_and_field_and_the_other_lines_are_delivered() {
    let node = common::Node::with_file_target("");
    let input = concat!(
        "{\"topic\":\"generic\",\"message\":{\"msgType\":\"ok-1\"}}\n",
        "{\"topic\":\"generic\",\"message\":{\"msgType\":\"ok-2\"}}\n",
        "{\"topic\":\"generic\",\"routingKey\":\"../etc\",\"message\":{\"msgType\":\"bad\"}}\n",
        "{\"topic\":\"generic\",\"message\":{\"msgType\":\"after\"}}\n",
    );
    let out = node.run(&["send", "--config", "node.toml", "--stdin"], input);
    let (_, stderr) = common::text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("stdin line 3") && stderr.contains("routingKey"),
        "{stderr}"
    );
    // Which line was not sent, what to send again, and what sending the others does.
    assert!(
        stderr.contains("line 3 was not sent")
            && stderr.contains("fix it and send only it (`sed -n '3p' FILE`)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("not the whole input again")
            && stderr.contains("`id`, `timestamp` and `seq` would be stored a second time"),
        "{stderr}"
    );
    let types: Vec<String> = node
        .audit_lines()
        .iter()
        .map(|l| l["message"]["msgType"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(types, ["ok-1", "ok-2", "after"]);
}

#[test]
fn unknown_config_key_names_file_target_and_key() {
    let node = common::Node::with_file_target("colour = \"red\"");
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "x",
        ],
        "",
    );
    let (_, stderr) = common::text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("node.toml") && stderr.contains("targets[0]") && stderr.contains("colour"),
        "{stderr}"
    );
}

#[test]
fn an_event_no_target_accepts_is_a_failure() {
    let node = common::Node::with_file_target("topics = [\"authfail\"]");
    let out = node.run(
        &[
            "send",
            "--config",
            "node.toml",
            "--topic",
            "generic",
            "--msg-type",
            "x",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains("matched no target"), "{stderr}");
}

#[test]
fn dead_letter_lines_are_resent_with_their_original_id() {
    let node = common::Node::with_file_target("");
    let event = serde_json::json!({
        "id": "01936f6e-1b2c-7d3e-8f40-123456789abc", "timestamp": "2026-11-25T10:00:00.000Z",
        "topic": "generic", "node": "other-node", "seq": 77, "message": {"msgType": "late"}
    });
    let line = serde_json::json!({"failedAt": "2026-11-25T10:00:01.000Z", "target": "eventserver-1",
                                  "error": "401 unknown key", "event": event});
    let out = node.run(
        &["send", "--config", "node.toml", "--stdin"],
        &format!("{line}\n"),
    );
    assert!(out.status.success(), "{:?}", common::text(&out));
    let lines = node.audit_lines();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["id"], event["id"]);
    assert_eq!(lines[0]["node"], "other-node");
    assert_eq!(lines[0]["seq"], 77);
}
