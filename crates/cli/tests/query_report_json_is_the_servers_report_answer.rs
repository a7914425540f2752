//! `auditrail query <report> --format json` (and `ndjson`, one row per line) writes the
//! rows the event server answers for the same report over the same store
//! (`GET /v1/query?report=...`: its `report`, or for last activity and failed logins
//! `report.users` and `report.failedLogins`): the same field names, units, number types
//! and times, so a script can move between the two. Integer sums stay exact past 2^53
//! (a double would round them).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use serde_json::{json, Value};

use crate::common;
use crate::query_support;
use crate::serve_support;

/// The latest time an event may carry (9999-12-31T23:59:59.999Z), in ms.
const LATEST_MS: u64 = 253_402_300_799_999;
/// Usages of project BIG, each running from 1970 to `LATEST_MS`: their wall times add
/// up past 2^53.
const BIG_USAGES: u64 = 37;

fn line(seq: u64, ts: &str, topic: &str, key: Option<&str>, message: Value) -> String {
    let mut e = json!({"id": serve_support::new_id(seq, 0x7e9a), "timestamp": ts,
        "topic": topic, "node": if seq.is_multiple_of(2) { "node-a" } else { "node-b" }, "seq": seq,
        "message": message});
    if let Some(k) = key {
        e["routingKey"] = json!(k);
    }
    e.to_string()
}

fn events() -> String {
    let mut lines = vec![
        line(
            1,
            "2026-11-25T10:00:00.000Z",
            "generic",
            None,
            json!({"msgType": "login", "authUser": "alice"}),
        ),
        line(
            2,
            "2026-11-25T11:00:00.000Z",
            "generic",
            None,
            json!({"msgType": "dataset-read-data", "authUser": "alice"}),
        ),
        line(
            3,
            "2026-11-25T09:00:00.000Z",
            "generic",
            None,
            json!({"msgType": "login", "authUser": "bob"}),
        ),
        line(
            4,
            "2026-11-25T09:30:00.000Z",
            "authfail",
            None,
            json!({"msgType": "login-failed", "authUser": "bob", "clientIP": "203.0.113.7"}),
        ),
        line(
            5,
            "2026-11-25T09:31:00.000Z",
            "authfail",
            None,
            json!({"msgType": "login-failed", "authUser": "admin", "clientIP": "198.51.100.1"}),
        ),
        line(
            6,
            "2026-11-25T10:04:00.000Z",
            "apinode-query",
            Some("svc-a"),
            json!({"msgType": "prediction-query", "status": "OK", "responseTimeMS": 12.5,
                   "response": {"prediction": "fraud"}}),
        ),
        line(
            7,
            "2026-11-25T10:05:00.000Z",
            "apinode-query",
            Some("svc-a"),
            json!({"msgType": "prediction-query", "error": {"message": "timeout"},
                   "responseTimeMS": 3001}),
        ),
        line(
            8,
            "2026-11-25T10:06:00.000Z",
            "apinode-query",
            None,
            json!({"msgType": "prediction-query", "httpCode": 200}),
        ),
        line(
            9,
            "2026-11-25T10:01:00.000Z",
            "compute-resource-usage",
            None,
            json!({"msgType": "compute-resource-usage-update", "computeResourceUsage": {
                "id": "u1", "type": "LOCAL_PROCESS", "startTime": 1_764_064_800_000u64,
                "endTime": 1_764_064_804_000u64,
                "context": {"projectKey": "PROJ", "authIdentifier": "alice"},
                "localProcess": {"cpuTotalMS": 3000.25}}}),
        ),
    ];
    for n in 0..BIG_USAGES {
        lines.push(line(
            100 + n,
            "2026-11-25T12:00:00.000Z",
            "compute-resource-usage",
            None,
            json!({"msgType": "compute-resource-usage-complete", "computeResourceUsage": {
                "id": format!("big-{n}"), "type": "SPARK", "startTime": 0,
                "endTime": LATEST_MS,
                "context": {"projectKey": "BIG", "authIdentifier": "bob"},
                "localProcess": {"cpuTotalMS": 1}}}),
        ));
    }
    lines.join("\n") + "\n"
}

#[test]
fn each_reports_json_and_ndjson_rows_are_the_servers_answer() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let (status, answer) = serve_support::post_events(&server.addr, &events(), None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let ask = |params: &str| {
        let (status, answer) = query_support::get(&server.addr, &format!("/v1/query?{params}"));
        assert_eq!(status, 200, "{params}: {answer}");
        answer["report"].clone()
    };
    let last_activity = ask("report=last-activity");
    let served = [
        ("last-activity", None, last_activity["users"].clone()),
        ("failed-logins", None, last_activity["failedLogins"].clone()),
        ("node-usage", None, ask("report=node-usage")),
        ("compute", Some("project"), ask("report=compute&by=project")),
        ("compute", Some("user"), ask("report=compute&by=user")),
        ("api-answers", None, ask("report=api-answers")),
    ];
    assert_eq!(server.terminate(), 0);

    let store = dir.path().join("data/store");
    let node = common::Node::with_file_target("");
    let run = |report: &str, by: Option<&str>, format: &str| {
        let mut args = vec![
            "query",
            report,
            "--format",
            format,
            "--store",
            store.to_str().unwrap(),
        ];
        if let Some(by) = by {
            args.extend(["--by", by]);
        }
        let out = node.run(&args, "");
        let (stdout, stderr) = common::text(&out);
        assert!(out.status.success(), "{args:?}: {stderr}");
        stdout
    };
    for (report, by, rows) in served {
        let rows = rows
            .as_array()
            .unwrap_or_else(|| panic!("{report}: {rows}"));
        assert!(
            !rows.is_empty(),
            "{report} {by:?}: the server answered no row"
        );
        let json: Value = serde_json::from_str(&run(report, by, "json")).unwrap();
        assert_eq!(
            &json,
            &Value::Array(rows.clone()),
            "{report} {by:?} --format json"
        );
        let ndjson: Vec<Value> = run(report, by, "ndjson")
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(&ndjson, rows, "{report} {by:?} --format ndjson");
    }

    // Exact past 2^53: the sum as written, not the nearest double.
    let text = run("compute", Some("project"), "json");
    let wall = (BIG_USAGES * LATEST_MS).to_string();
    assert!(wall.parse::<u64>().unwrap() > 1 << 53);
    assert!(text.contains(&format!("\"wallTimeMs\":{wall},")), "{text}");
}
