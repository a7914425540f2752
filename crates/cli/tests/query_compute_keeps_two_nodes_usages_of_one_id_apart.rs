//! `compute` keyed a usage by its `computeResourceUsage.id` alone, across nodes. Each
//! node numbers its own usages (DSS-like nodes from `cru-00001`), so two nodes' usages
//! of one id merged into one: node dss-a's (project ALPHA, 1000 ms CPU, 600 s) and
//! dss-b's (BETA, 2000 ms, 1200 s) came out as one usage of BETA, 2000 ms CPU and 4800 s
//! of wall time (from the first start to the last end), and ALPHA was gone. A usage is
//! now a node's id: two usages, two groups, each with its own times, from the server
//! (`GET /v1/query?report=compute`) and `auditrail query compute` alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::query_support;
use crate::retention_support::run;
use crate::serve_support;

/// 2026-12-01T10:00:00Z, ms.
const START_MS: u64 = 1_796_119_200_000;

fn usage(seq: u64, node: &str, project: &str, ts: &str, cpu: u64, start: u64, end: u64) -> String {
    json!({"id": serve_support::new_id(seq, 0xc0de), "timestamp": ts,
        "topic": "compute-resource-usage", "node": node, "seq": 1,
        "message": {"msgType": "compute-resource-usage-complete", "computeResourceUsage": {
            "id": "cru-00001", "type": "LOCAL_PROCESS", "startTime": start, "endTime": end,
            "context": {"type": "JOB_ACTIVITY", "projectKey": project},
            "localProcess": {"cpuTotalMS": cpu}}}})
    .to_string()
}

/// `[group, usages, cpuTimeMs, wallTimeMs]` of each group.
fn groups(report: &Value) -> Vec<(String, u64, u64, u64)> {
    report
        .as_array()
        .unwrap_or_else(|| panic!("{report}"))
        .iter()
        .map(|g| {
            (
                g["group"].as_str().unwrap().to_owned(),
                g["usages"].as_u64().unwrap(),
                g["cpuTimeMs"].as_f64().unwrap() as u64,
                g["wallTimeMs"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn two_nodes_usages_sharing_an_id_are_two_usages() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let body = [
        usage(
            1,
            "dss-a",
            "ALPHA",
            "2026-12-01T10:10:00Z",
            1000,
            START_MS,
            START_MS + 600_000,
        ),
        usage(
            2,
            "dss-b",
            "BETA",
            "2026-12-01T11:20:00Z",
            2000,
            START_MS + 3_600_000,
            START_MS + 4_800_000,
        ),
    ]
    .join("\n")
        + "\n";
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    let want = vec![
        ("ALPHA".to_owned(), 1, 1000, 600_000),
        ("BETA".to_owned(), 1, 2000, 1_200_000),
    ];
    let (status, served) = query_support::get(&server.addr, "/v1/query?report=compute&by=project");
    assert_eq!(status, 200, "{served}");
    assert_eq!(groups(&served["report"]), want, "server: {served}");
    assert_eq!(server.terminate(), 0);

    let (code, out) = run(
        dir.path(),
        &[
            "query",
            "compute",
            "--by",
            "project",
            "--store",
            "data/store",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        groups(&serde_json::from_str(&out).unwrap()),
        want,
        "CLI: {out}"
    );
}
