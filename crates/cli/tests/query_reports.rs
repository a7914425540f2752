//! `auditrail query` answers the centralization questions from stored audit lines:
//! last activity per user, usage per node, compute per project (last update of each
//! usage id only), and API answers per service.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;

use serde_json::{json, Value};

fn event(node: &str, seq: u64, ts: &str, topic: &str, key: Option<&str>, message: Value) -> String {
    let id = format!("01936f6e-1b2c-7d3e-8f40-{seq:012x}");
    let mut e = json!({"id": id, "timestamp": ts, "topic": topic, "node": node, "seq": seq, "message": message});
    if let Some(k) = key {
        e["routingKey"] = json!(k);
    }
    e.to_string() + "\n"
}

fn usage(id: &str, project: &str, user: &str, cpu_ms: u64, start: u64, end: u64) -> Value {
    json!({"msgType": "compute-resource-usage-update", "computeResourceUsage": {
        "id": id, "type": "LOCAL_PROCESS", "startTime": start, "endTime": end,
        "context": {"type": "JOB", "projectKey": project, "authIdentifier": user},
        "localProcess": {"cpuTotalMS": cpu_ms, "vmRSSMB": 100}}})
}

fn stored_node() -> common::Node {
    let node = common::Node::with_file_target("");
    let mut input = String::new();
    input += &event(
        "node-a",
        1,
        "2026-11-25T10:00:00.000Z",
        "generic",
        None,
        json!({"msgType": "login", "authUser": "alice"}),
    );
    input += &event(
        "node-b",
        1,
        "2026-11-25T11:00:00.000Z",
        "generic",
        None,
        json!({"msgType": "dataset-read-data", "authUser": "alice"}),
    );
    input += &event(
        "node-a",
        2,
        "2026-11-25T09:00:00.000Z",
        "generic",
        None,
        json!({"msgType": "login", "authUser": "bob"}),
    );
    // Cumulative metrics: only the last update of usage u1 counts (3000 ms, not 1000 + 3000).
    input += &event(
        "node-a",
        3,
        "2026-11-25T10:01:00.000Z",
        "compute-resource-usage",
        None,
        usage("u1", "PROJ", "alice", 1000, 0, 1000),
    );
    input += &event(
        "node-a",
        4,
        "2026-11-25T10:02:00.000Z",
        "compute-resource-usage",
        None,
        usage("u1", "PROJ", "alice", 3000, 0, 4000),
    );
    input += &event(
        "node-b",
        2,
        "2026-11-25T10:03:00.000Z",
        "compute-resource-usage",
        None,
        usage("u2", "OTHER", "bob", 500, 0, 500),
    );
    input += &event(
        "node-b",
        3,
        "2026-11-25T10:04:00.000Z",
        "apinode-query",
        Some("svc-a"),
        json!({"msgType": "prediction-query", "status": "OK"}),
    );
    input += &event(
        "node-b",
        4,
        "2026-11-25T10:05:00.000Z",
        "apinode-query",
        Some("svc-a"),
        json!({"msgType": "prediction-query", "status": "ERROR"}),
    );
    input += &event(
        "node-b",
        5,
        "2026-11-25T10:06:00.000Z",
        "apinode-query",
        Some("svc-a"),
        json!({"msgType": "prediction-query", "status": "OK"}),
    );
    let out = node.run(&["send", "--config", "node.toml", "--stdin"], &input);
    assert!(out.status.success(), "{:?}", common::text(&out));
    node
}

fn query(node: &common::Node, args: &[&str]) -> Value {
    let mut full = vec!["query"];
    full.extend_from_slice(args);
    full.extend_from_slice(&["--dir", "audit", "--json"]);
    let out = node.run(&full, "");
    assert!(out.status.success(), "{:?}", common::text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn last_activity_is_per_user_newest_first() {
    let node = stored_node();
    let report = query(&node, &["last-activity"]);
    assert_eq!(report[0]["user"], "alice");
    assert_eq!(report[0]["lastActivity"], "2026-11-25T11:00:00.000Z");
    assert_eq!(report[0]["node"], "node-b");
    assert_eq!(report[0]["msgType"], "dataset-read-data");
    assert_eq!(report[1]["user"], "bob");
}

#[test]
fn node_usage_counts_events_users_and_topics() {
    let node = stored_node();
    let report = query(&node, &["node-usage"]);
    let a = report
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "node-a")
        .unwrap();
    assert_eq!(a["events"], 4);
    assert_eq!(a["users"], 2);
    assert_eq!(a["topics"]["compute-resource-usage"], 2);
}

#[test]
fn compute_counts_only_the_last_update_of_each_usage() {
    let node = stored_node();
    let report = query(&node, &["compute", "--by", "project"]);
    let proj = report
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["group"] == "PROJ")
        .unwrap();
    assert_eq!(proj["usages"], 1);
    assert_eq!(proj["cpuTimeMs"], 3000.0);
    assert_eq!(proj["wallTimeMs"], 4000);
    let by_user = query(&node, &["compute", "--by", "user"]);
    assert!(by_user
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["group"] == "bob" && g["cpuTimeMs"] == 500.0));
}

#[test]
fn api_answers_group_outcomes_per_service() {
    let node = stored_node();
    let report = query(&node, &["api-answers"]);
    assert_eq!(report[0]["service"], "svc-a");
    assert_eq!(report[0]["queries"], 3);
    assert_eq!(report[0]["outcomes"], json!({"OK": 2, "ERROR": 1}));
}

#[test]
fn time_window_filters_and_text_output_has_a_chart() {
    let node = stored_node();
    let out = node.run(
        &[
            "query",
            "node-usage",
            "--dir",
            "audit",
            "--since",
            "2026-11-25T10:30:00Z",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.starts_with("NODE"), "{stdout}");
    assert!(
        stdout.contains("node-b") && !stdout.contains("node-a"),
        "{stdout}"
    );
    assert!(stdout.contains('█'), "{stdout}");
    let bad = node.run(
        &[
            "query",
            "node-usage",
            "--dir",
            "audit",
            "--since",
            "yesterday",
        ],
        "",
    );
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--since"));
}
