//! CPU time and latency cannot be negative, and a measurement is a JSON number. A
//! usage whose cumulative `cpuTotalMS` is `-1000000` (a counter wrapped into a signed
//! type, a bug, a hostile sender), or a query whose `responseTimeMS` is `-100`, is
//! left out of the report as no measurement and counted in the group's
//! `invalidValues`; so is a number sent as a string (`"5000"`), and a usage whose
//! `endTime` is before its `startTime` (its wall time is 0). Before, the negative
//! counter made the project's CPU time -994 s, the negative latency made the service's
//! mean -13 ms, and the string was read as the number it spells.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::json;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn negative_and_string_numbers_are_left_out_and_counted() {
    let s = start(STORE).await;
    let start_ms: i64 = 1_764_583_200_000;
    let mut events = Vec::new();
    for (seq, usage, cpu, start, end) in [
        (1, "a", json!(1000), start_ms, start_ms + 60_000),
        // Ends a minute before it starts, with a negative counter.
        (2, "b", json!(-1_000_000), start_ms + 60_000, start_ms),
        (3, "c", json!("5000"), start_ms, start_ms + 60_000),
    ] {
        let mut e = at(
            event_with("n1", seq, "compute-resource-usage", None),
            "2026-12-01T10:00:30Z",
        );
        e["message"] = json!({
            "msgType": "compute-resource-usage",
            "computeResourceUsage": {"id": usage, "type": "complete",
                                     "context": {"projectKey": "P1"},
                                     "localProcess": {"cpuTotalMS": cpu},
                                     "startTime": start, "endTime": end},
        });
        events.push(e);
    }
    for (seq, ms) in [
        (4, json!(-100)),
        (5, json!(50)),
        (6, json!(10)),
        (7, json!("30")),
    ] {
        let mut e = event_with("n1", seq, "apinode-query", Some("svc"));
        e["message"] = json!({"msgType": "query", "httpCode": 200, "responseTimeMS": ms});
        events.push(e);
    }
    assert_eq!(post(&s, ndjson(&events), None).await.0, 200);

    let compute = s.report("compute").await;
    assert_eq!(
        compute,
        json!([{"group": "P1", "usages": 3, "wallTimeMs": 120000, "cpuTimeMs": 1000.0,
                "types": {"complete": 3}, "invalidValues": 3}]),
        "{compute}"
    );

    let api = s.report("api-answers").await;
    assert_eq!(api[0]["service"], "svc", "{api}");
    assert_eq!(api[0]["queries"], 4, "{api}");
    let latency = &api[0]["latency"];
    assert_eq!(latency["count"], 2, "{latency}");
    assert_eq!(latency["max"], 50.0, "{latency}");
    assert_eq!(latency["mean"], 30.0, "{latency}");
    assert_eq!(api[0]["invalidValues"], 2, "{api}");
}
