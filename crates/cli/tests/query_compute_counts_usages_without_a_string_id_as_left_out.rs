//! `compute` dropped, without a word, every event whose `computeResourceUsage.id` is
//! missing or no string (`42`, an object): project IDPROJ's four usages (1000, 2000,
//! 4000 and 8000 ms of CPU) were reported as one (1000 ms) with `invalidValues` 0, while
//! docs/query.md promises the reports count what they leave out. Such an event belongs
//! to no usage and is still left out (an id is not guessed), now counted in its group's
//! `invalidValues`, from the server and `auditrail query compute` alike.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::{json, Value};

use crate::query_support;
use crate::retention_support::run;
use crate::serve_support;

/// 2026-12-01T10:00:00Z, ms.
const START_MS: u64 = 1_796_119_200_000;

fn usage(seq: u64, id: Option<Value>, cpu: u64) -> String {
    let mut usage = json!({"type": "LOCAL_PROCESS", "startTime": START_MS,
        "endTime": START_MS + 600_000,
        "context": {"type": "JOB_ACTIVITY", "projectKey": "IDPROJ", "authIdentifier": "ida"},
        "localProcess": {"cpuTotalMS": cpu}});
    if let Some(id) = id {
        usage["id"] = id;
    }
    json!({"id": serve_support::new_id(seq, 0x1d1d), "timestamp": "2026-12-01T10:10:00Z",
        "topic": "compute-resource-usage", "node": "idnode", "seq": seq,
        "message": {"msgType": "compute-resource-usage-complete", "authUser": "ida",
                    "computeResourceUsage": usage}})
    .to_string()
}

/// `(group, usages, cpuTimeMs, invalidValues)` of each group.
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
                g["invalidValues"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[test]
fn events_without_a_string_usage_id_are_counted_as_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let body = [
        usage(1, Some(json!("job-1")), 1000),
        usage(2, Some(json!(42)), 2000),
        usage(3, None, 4000),
        usage(4, Some(json!({"n": 7})), 8000),
    ]
    .join("\n")
        + "\n";
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");
    // The usage with an id, and the three events without one said as left out.
    let want = vec![("IDPROJ".to_owned(), 1, 1000, 3)];
    let (status, served) = query_support::get(&server.addr, "/v1/query?report=compute");
    assert_eq!(status, 200, "{served}");
    assert_eq!(groups(&served["report"]), want, "server: {served}");
    // Left out as no usage: in no type's count.
    assert_eq!(
        served["report"][0]["types"],
        json!({"LOCAL_PROCESS": 1}),
        "{served}"
    );
    assert_eq!(server.terminate(), 0);

    let (code, out) = run(
        dir.path(),
        &[
            "query",
            "compute",
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
