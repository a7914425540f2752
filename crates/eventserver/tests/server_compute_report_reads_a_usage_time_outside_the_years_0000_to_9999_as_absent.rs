//! The compute report (`/v1/query?report=compute`) takes a usage's wall time from the
//! `startTime` and `endTime` numbers its events carry, which are whatever a client
//! sent. A number outside the years 0000 to 9999 (`-9223372036854775808`,
//! `9223372036854775807`) is not a time: it is read as absent, as a missing one is (the
//! usage's events' own times), so the report answers the project's real wall time.
//! Before, such usages made the i64 sums overflow: the project's wall time came out
//! near 2^63 or wrapped negative, and a few more made the report fail for everyone.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::*;

/// A `compute-resource-usage` event of usage `id` with the given times.
fn usage(seq: u64, id: &str, kind: &str, time: &str, start: Value, end: Value) -> Value {
    let mut e = at(event_with("n1", seq, "compute-resource-usage", None), time);
    e["message"] = json!({
        "msgType": "compute-resource-usage-complete",
        "computeResourceUsage": {"id": id, "type": kind, "startTime": start, "endTime": end,
                                 "context": {"projectKey": "p"}},
    });
    e
}

async fn compute(s: &TestServer, window: &[(&str, &str)]) -> Value {
    let resp = s
        .client
        .get(s.url("/v1/query"))
        .query(&[("report", "compute")])
        .query(window)
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let answer: Value = resp.json().await.unwrap();
    assert_eq!(status, 200, "{answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn usages_claiming_times_beyond_the_calendar_add_no_wall_time() {
    let s = start(STORE).await;
    let start_ms = "2026-11-25T10:00:00Z"
        .parse::<auditrail_core::Timestamp>()
        .unwrap()
        .unix_millis();
    let events = [
        // The one real job: one minute.
        usage(
            1,
            "job-1",
            "job",
            "2026-11-25T10:01:00Z",
            json!(start_ms),
            json!(start_ms + 60_000),
        ),
        // Two usages of two types claiming the widest integers as their times.
        usage(
            2,
            "odd-1",
            "A",
            "2026-11-25T12:00:00Z",
            json!(i64::MIN),
            json!(i64::MAX),
        ),
        usage(
            3,
            "odd-2",
            "B",
            "2026-11-25T12:00:00Z",
            json!(i64::MIN),
            json!(i64::MAX),
        ),
    ];
    assert_eq!(post(&s, ndjson(&events), None).await.0, 200);
    for window in [
        &[][..],
        &[("since", "2026-11-25"), ("until", "2026-11-26")][..],
        &[("since", "2026-11-25")][..],
    ] {
        let answer = compute(&s, window).await;
        assert_eq!(
            answer["report"],
            json!([{"group": "p", "usages": 3, "wallTimeMs": 60000, "cpuTimeMs": 0.0,
                    "types": {"A": 1, "B": 1, "job": 1}, "invalidValues": 4}]),
            "{window:?}: {answer}"
        );
    }
}
