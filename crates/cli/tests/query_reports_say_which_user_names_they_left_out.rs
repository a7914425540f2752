//! A user name is a string `authUser` (the `authUser` column). An event whose
//! `authUser` is given as something else (`42`, an object) counted as "no user" in
//! every report without a word: a node sending user ids as numbers had its users
//! missing from last activity and from node usage's user counts, its failed logins
//! under "no name", and nothing said so. Each report now counts such values as left
//! out (`invalidValues`, as for the numbers it leaves out), in the server's answers
//! and in `auditrail query`'s tables and stderr.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::common;
use crate::query_support;
use crate::serve_support;

fn line(seq: u64, node: &str, topic: &str, message: Value) -> String {
    json!({"id": serve_support::new_id(seq, 0x5a11), "timestamp": "2026-11-25T10:00:00.000Z",
        "topic": topic, "node": node, "seq": seq, "message": message})
    .to_string()
}

fn events() -> String {
    let usage = |id: &str, user: Value| {
        json!({"msgType": "compute-resource-usage-complete", "computeResourceUsage": {
            "id": id, "type": "LOCAL_PROCESS", "startTime": 1_764_064_800_000u64,
            "endTime": 1_764_064_801_000u64,
            "context": {"projectKey": "PROJ", "authIdentifier": user},
            "localProcess": {"cpuTotalMS": 10}}})
    };
    [
        line(
            1,
            "node-a",
            "generic",
            json!({"msgType": "login", "authUser": "alice"}),
        ),
        line(
            2,
            "node-a",
            "generic",
            json!({"msgType": "login", "authUser": 42}),
        ),
        line(
            3,
            "node-b",
            "generic",
            json!({"msgType": "login", "authUser": {"id": 7}}),
        ),
        // No user at all: nothing left out.
        line(
            4,
            "node-b",
            "generic",
            json!({"msgType": "login", "authUser": null}),
        ),
        line(5, "node-b", "generic", json!({"msgType": "startup"})),
        line(
            6,
            "node-a",
            "authfail",
            json!({"msgType": "login-failed", "authUser": 42}),
        ),
        line(7, "node-a", "authfail", json!({"msgType": "login-failed"})),
        line(
            8,
            "node-a",
            "compute-resource-usage",
            usage("u1", json!("alice")),
        ),
        line(
            9,
            "node-a",
            "compute-resource-usage",
            usage("u2", json!(42)),
        ),
    ]
    .join("\n")
        + "\n"
}

#[test]
fn every_report_counts_an_auth_user_that_is_no_string_as_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let (status, answer) = serve_support::post_events(&server.addr, &events(), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let ask = |params: &str| {
        let (status, answer) = query_support::get(&server.addr, &format!("/v1/query?{params}"));
        assert_eq!(status, 200, "{params}: {answer}");
        answer["report"].clone()
    };

    let last = ask("report=last-activity");
    let users: Vec<&Value> = last["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| &u["user"])
        .collect();
    assert_eq!(users, [&json!("alice")], "{last}");
    assert_eq!(last["invalidValues"], 2, "42 and {{\"id\": 7}}: {last}");
    let failed = last["failedLogins"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{last}");
    assert_eq!(failed[0]["user"], Value::Null, "{last}");
    assert_eq!(failed[0]["attempts"], 2, "{last}");
    assert_eq!(
        failed[0]["invalidValues"], 1,
        "the attempt that gave 42: {last}"
    );

    let usage = ask("report=node-usage");
    let of = |node: &str| {
        usage
            .as_array()
            .unwrap()
            .iter()
            .find(|n| n["node"] == node)
            .unwrap_or_else(|| panic!("{node}: {usage}"))
            .clone()
    };
    assert_eq!(of("node-a")["users"], 1, "{usage}");
    assert_eq!(of("node-a")["invalidValues"], 1, "{usage}");
    assert_eq!(of("node-b")["users"], 0, "{usage}");
    assert_eq!(of("node-b")["invalidValues"], 1, "{usage}");

    let compute = ask("report=compute&by=user");
    let none = compute
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"].is_null())
        .unwrap_or_else(|| panic!("{compute}"));
    assert_eq!(none["invalidValues"], 1, "authIdentifier 42: {compute}");
    assert_eq!(server.terminate(), 0);

    // The CLI over the same store says the same.
    let store = dir.path().join("data/store");
    let node = common::Node::with_file_target("");
    let run = |args: &[&str]| {
        let mut full = vec!["query"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--store", store.to_str().unwrap()]);
        let out = node.run(&full, "");
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{args:?}: {stderr}");
        (stdout, stderr)
    };
    let (table, _) = run(&["last-activity"]);
    assert!(
        table.contains("2 authUser values left out of users as no user name"),
        "{table}"
    );
    let (table, _) = run(&["failed-logins"]);
    assert!(
        table.contains("1 failed login attempt gave an authUser that is no string"),
        "{table}"
    );
    let (table, _) = run(&["node-usage"]);
    assert!(
        table.contains("2 authUser values left out of USERS as no user name")
            && table.contains("node-a 1, node-b 1"),
        "{table}"
    );
    // The rows for programs are the users alone: stderr says what they lack.
    let (json, stderr) = run(&["last-activity", "--format", "json"]);
    assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), last["users"]);
    assert!(
        stderr.contains("2 event(s) left out: their authUser is no string"),
        "{stderr}"
    );
}
