//! `query events`: filters by user, topic, routing key, node and msgType; dates, RFC 3339
//! and relative time bounds; table, JSON, NDJSON and CSV output, with the message
//! written as stored.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::common;

use serde_json::{json, Value};

fn event(seq: u64, node: &str, ts: &str, topic: &str, key: Option<&str>, message: Value) -> String {
    let mut e = json!({"id": format!("01936f6e-1b2c-7d3e-8f40-{seq:012x}"), "timestamp": ts,
        "topic": topic, "node": node, "seq": seq, "message": message});
    if let Some(k) = key {
        e["routingKey"] = json!(k);
    }
    e.to_string() + "\n"
}

fn node() -> common::Node {
    let node = common::Node::with_file_target("");
    let now = auditrail::Timestamp::now();
    let recent = auditrail::Timestamp::from_unix_millis(now.unix_millis() - 3_600_000)
        .unwrap()
        .to_string();
    let mut input = String::new();
    input += &event(
        1,
        "n1",
        "2026-11-28T10:00:00.000Z",
        "generic",
        None,
        json!({"msgType": "login", "authUser": "alice"}),
    );
    input += &event(
        2,
        "n1",
        "2026-11-29T10:00:00.000Z",
        "generic",
        None,
        json!({"msgType": "dataset-read-data", "authUser": "alice", "n": [1, {"deep": [2.5]}]}),
    );
    input += &event(
        3,
        "n2",
        "2026-11-29T11:00:00.000Z",
        "authfail",
        None,
        json!({"msgType": "login-failed", "authUser": "alice"}),
    );
    input += &event(
        4,
        "n2",
        "2026-11-29T12:00:00.000Z",
        "apinode-query",
        Some("svc-a"),
        json!({"msgType": "prediction-query"}),
    );
    input += &event(
        5,
        "n1",
        &recent,
        "generic",
        None,
        json!({"msgType": "logout", "authUser": "alice"}),
    );
    input += &event(
        6,
        "n1",
        &recent,
        "generic",
        None,
        json!({"msgType": "logout", "authUser": "bob"}),
    );
    let out = node.run(&["send", "--config", "node.toml", "--stdin"], &input);
    assert!(out.status.success(), "{:?}", common::text(&out));
    node
}

fn seqs(node: &common::Node, args: &[&str]) -> Vec<u64> {
    let mut full = vec!["query", "events", "--dir", "audit", "--format", "ndjson"];
    full.extend_from_slice(args);
    let out = node.run(&full, "");
    let (stdout, stderr) = common::text(&out);
    assert!(out.status.success(), "{args:?}: {stderr}");
    let mut seqs: Vec<u64> = stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["seq"]
                .as_u64()
                .unwrap()
        })
        .collect();
    seqs.sort();
    seqs
}

#[test]
fn filters_narrow_the_events() {
    let n = node();
    assert_eq!(seqs(&n, &[]), [1, 2, 3, 4, 5, 6]);
    assert_eq!(seqs(&n, &["--user", "alice"]), [1, 2, 3, 5]);
    assert_eq!(
        seqs(&n, &["--user", "alice", "--topic", "generic"]),
        [1, 2, 5]
    );
    assert_eq!(seqs(&n, &["--routing-key", "svc-a"]), [4]);
    assert_eq!(seqs(&n, &["--node", "n2"]), [3, 4]);
    assert_eq!(seqs(&n, &["--msg-type", "logout"]), [5, 6]);
    assert_eq!(seqs(&n, &["--user", "nobody"]), Vec::<u64>::new());
}

#[test]
fn time_bounds_take_dates_timestamps_and_durations() {
    let n = node();
    assert_eq!(
        seqs(&n, &["--since", "2026-11-29", "--until", "2026-11-30"]),
        [2, 3, 4]
    );
    assert_eq!(
        seqs(
            &n,
            &[
                "--since",
                "2026-11-29T11:00:00Z",
                "--until",
                "2026-11-29T12:00:00Z"
            ]
        ),
        [3]
    );
    assert_eq!(
        seqs(
            &n,
            &[
                "--since",
                "2026-11-29T12:00:00+01:00",
                "--until",
                "2026-11-29T13:00:00Z"
            ]
        ),
        // 11:00 UTC on: the offset is read (12:00 UTC on would be [4] alone).
        [3, 4]
    );
    assert_eq!(seqs(&n, &["--since", "24h"]), [5, 6]);
    assert_eq!(seqs(&n, &["--since", "7d", "--user", "bob"]), [6]);
    let bad = n.run(
        &[
            "query",
            "events",
            "--dir",
            "audit",
            "--since",
            "last tuesday",
        ],
        "",
    );
    assert!(!bad.status.success());
    let stderr = common::text(&bad).1;
    assert!(
        stderr.contains("--since") && stderr.contains("24h"),
        "{stderr}"
    );
}

#[test]
fn formats_table_json_ndjson_csv() {
    let n = node();
    let run = |format: &str| {
        let out = n.run(
            &[
                "query",
                "events",
                "--dir",
                "audit",
                "--msg-type",
                "dataset-read-data",
                "--format",
                format,
            ],
            "",
        );
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{stderr}");
        stdout
    };
    let json: Value = serde_json::from_str(&run("json")).unwrap();
    let row = &json[0];
    assert_eq!(row["timestamp"], "2026-11-29T10:00:00.000Z");
    assert_eq!(row["authUser"], "alice");
    assert_eq!(row["routingKey"], Value::Null);
    assert_eq!(
        row["message"]["msgType"], "dataset-read-data",
        "message is an object"
    );
    let ndjson = run("ndjson");
    assert_eq!(ndjson.lines().count(), 1);
    let stored = n.audit_lines().into_iter().find(|l| l["seq"] == 2).unwrap();
    let written: Value = serde_json::from_str(ndjson.trim()).unwrap();
    assert_eq!(
        written["message"], stored["message"],
        "the message as stored"
    );
    let csv = run("csv");
    let mut lines = csv.lines();
    assert!(lines
        .next()
        .unwrap()
        .starts_with("id,timestamp,topic,routingKey,node,seq,msgType,authUser"));
    assert!(lines
        .next()
        .unwrap()
        .contains(",2026-11-29T10:00:00.000Z,generic,,n1,2,dataset-read-data,alice,"));
    let table = run("table");
    assert!(
        table.contains("| id ") && table.contains("dataset-read-data"),
        "{table}"
    );
    let limited = n.run(
        &[
            "query", "events", "--dir", "audit", "--limit", "2", "--json",
        ],
        "",
    );
    let rows: Value = serde_json::from_slice(&limited.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2, "the newest two");
    assert_eq!(
        rows[0]["seq"].as_u64().unwrap() + rows[1]["seq"].as_u64().unwrap(),
        11
    );
}
