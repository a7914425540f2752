//! The reports' text tables showed a value that is the empty string (a user, a project
//! key: valid JSON strings) as an empty cell, which is how a table shows no value;
//! docs/query.md promises "an empty text as `""`", as `auditrail sql` shows it. The
//! report's own empty cells (no latency, no bar) stay empty.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::common;

fn line(seq: u64, topic: &str, message: Value) -> String {
    json!({"id": format!("01936f6e-1b2c-7d3e-8f40-{seq:012x}"),
        "timestamp": "2026-11-25T10:00:00.000Z", "topic": topic, "node": "node-a",
        "seq": seq, "message": message})
    .to_string()
        + "\n"
}

#[test]
fn an_empty_user_or_project_is_shown_as_two_quotes() {
    let node = common::Node::with_file_target("");
    let input = line(1, "generic", json!({"msgType": "login", "authUser": ""}))
        + &line(
            2,
            "authfail",
            json!({"msgType": "login-failed", "authUser": "", "clientIP": "10.0.0.7"}),
        )
        + &line(
            3,
            "compute-resource-usage",
            json!({"msgType": "compute-resource-usage-complete", "computeResourceUsage":
                {"id": "c1", "type": "LOCAL_PROCESS", "startTime": 1, "endTime": 2,
                 "context": {"type": "x", "projectKey": ""}, "localProcess": {"cpuTotalMS": 5}}}),
        );
    let out = node.run(&["send", "--config", "node.toml", "--stdin"], &input);
    assert!(out.status.success(), "{:?}", common::text(&out));
    for report in ["last-activity", "failed-logins", "compute"] {
        let out = node.run(&["query", report, "--dir", "audit"], "");
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{stderr}");
        let first = stdout.lines().nth(1).unwrap_or_default();
        assert!(
            first.starts_with("\"\"  "),
            "{report}: the empty text is not shown as \"\":\n{stdout}"
        );
    }
}
