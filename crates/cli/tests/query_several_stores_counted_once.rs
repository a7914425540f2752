//! A real server with two stores (everything, and API events again in their own store):
//! `query node-usage --dir <data dir>` reads both stores and counts each event once;
//! `sql` sees one row per event too.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;
use crate::serve_support;

use serde_json::{json, Value};

const CONFIG: &str = r#"
[[destinations]]
type = "store"
path = "store"

[[destinations]]
type = "store"
name = "api"
path = "api-store"
topics = ["apinode-query"]
"#;

fn line(id: u64, node: &str, topic: &str, key: Option<&str>, ts: &str, message: Value) -> String {
    let mut e = json!({"id": serve_support::new_id(id, 7), "timestamp": ts, "topic": topic,
        "node": node, "seq": id, "message": message});
    if let Some(k) = key {
        e["routingKey"] = json!(k);
    }
    e.to_string()
}

#[test]
fn node_usage_over_a_data_dir_counts_each_event_once() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("server.toml"), CONFIG).unwrap();
    let server = serve_support::start(
        dir.path(),
        &["--config", "server.toml", "--data-dir", "data"],
    );
    let mut body = String::new();
    for i in 1..=30 {
        body += &line(
            i,
            "api-1",
            "apinode-query",
            Some("svc-a"),
            "2026-11-29T10:00:00.000Z",
            json!({"msgType": "prediction-query", "httpCode": 200, "responseTimeMS": i}),
        );
        body.push('\n');
    }
    for i in 31..=40 {
        body += &line(
            i,
            "design-1",
            "generic",
            None,
            "2026-11-29T11:00:00.000Z",
            json!({"msgType": "login", "authUser": format!("user{}", i % 3)}),
        );
        body.push('\n');
    }
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    assert_eq!(server.terminate(), 0);

    let node = common::Node::with_file_target("");
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let out = node.run(&["query", "node-usage", "--dir", data, "--json"], "");
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stderr}");
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let api = report
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "api-1")
        .unwrap();
    assert_eq!(
        api["events"], 30,
        "stored in two stores, counted once: {report}"
    );
    let design = report
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["node"] == "design-1")
        .unwrap();
    assert_eq!(design["events"], 10);
    assert_eq!(design["users"], 3);

    let out = node.run(
        &[
            "sql",
            "SELECT count(*) AS n, count(DISTINCT id) AS ids FROM events",
            "--dir",
            data,
            "--format",
            "json",
        ],
        "",
    );
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{stderr}");
    let rows: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(rows, json!([{"n": 40, "ids": 40}]));

    // Naming the stores one by one gives the same answer.
    let out = node.run(
        &[
            "sql",
            "SELECT count(*) AS n FROM events",
            "--store",
            &format!("{data}/store"),
            "--store",
            &format!("{data}/api-store"),
            "--format",
            "csv",
        ],
        "",
    );
    assert_eq!(common::text(&out).0, "n\n40\n");
}
