//! A finite number can still be too large to add up: two usages claiming a CPU time of
//! `1.7e308` ms (valid JSON, within a double) sum past the largest double, and two
//! such latencies make the mean's sum infinite. The reports read a duration only from
//! 0 to 2^53 ms: beyond, it is left out, as a missing one, and counted in the group's
//! `invalidValues`, so the project's CPU time and the service's latency are those of
//! the real values. Before, the project's `cpuTimeMs` and the service's latency `mean`
//! came out `null`, the real usage's 1000 ms lost with them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::json;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_huge_durations_are_left_out_and_counted() {
    let s = start(STORE).await;
    let mut events = Vec::new();
    for (seq, usage, cpu) in [(1, "a", 1000.0), (2, "b", 1.7e308), (3, "c", 1.7e308)] {
        let mut e = event_with("n1", seq, "compute-resource-usage", None);
        e["message"] = json!({
            "msgType": "compute-resource-usage",
            "computeResourceUsage": {"id": usage, "type": "complete",
                                     "context": {"projectKey": "P1"},
                                     "localProcess": {"cpuTotalMS": cpu}},
        });
        events.push(e);
    }
    for (seq, ms) in [(4, 1.7e308), (5, 1.7e308), (6, 5.0)] {
        let mut e = event_with("n1", seq, "apinode-query", Some("svc"));
        e["message"] = json!({"msgType": "query", "httpCode": 200, "responseTimeMS": ms});
        events.push(e);
    }
    assert_eq!(post(&s, ndjson(&events), None).await.0, 200);

    let compute = s.report("compute").await;
    assert_eq!(compute[0]["group"], "P1", "{compute}");
    assert_eq!(compute[0]["usages"], 3, "{compute}");
    assert_eq!(compute[0]["cpuTimeMs"], 1000.0, "{compute}");
    assert_eq!(compute[0]["invalidValues"], 2, "{compute}");

    let api = s.report("api-answers").await;
    assert_eq!(api[0]["service"], "svc", "{api}");
    assert_eq!(api[0]["queries"], 3, "{api}");
    assert_eq!(
        api[0]["latency"],
        json!({"count": 1, "p50": 5.0, "p90": 5.0, "p99": 5.0, "max": 5.0, "mean": 5.0}),
        "{api}"
    );
    assert_eq!(api[0]["invalidValues"], 2, "{api}");
}
