//! The console's Compute and API answers reports say under their tables how many of the
//! events' numbers the server left out of the figures (`invalidValues`, as the CLI's
//! tables do): a usage whose cumulative CPU time is -1000000 ms (a wrapped counter) and
//! a query whose latency is the string "5000" were left out of the sums, and the page
//! showed the sums as if they were complete.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::browser_support;
use crate::serve_support;

use auditrail::Timestamp;
use browser_support::Browser;
use serde_json::{json, Value};
use serve_support::*;

fn event(n: u64, topic: &str, key: Option<&str>, message: Value) -> String {
    let mut e = json!({
        "id": new_id(n, 63), "timestamp": Timestamp::now().to_string(), "topic": topic,
        "node": "node-v", "seq": n, "message": message
    });
    if let Some(k) = key {
        e["routingKey"] = json!(k);
    }
    e.to_string()
}

fn usage(id: &str, cpu_ms: Value) -> Value {
    let now = Timestamp::now().unix_millis();
    json!({"msgType": "compute-resource-usage-complete", "authUser": "bob",
        "computeResourceUsage": {"id": id, "type": "LOCAL_PROCESS",
            "startTime": now - 60_000, "endTime": now,
            "context": {"type": "JOB", "projectKey": "CHURN", "authIdentifier": "bob"},
            "localProcess": {"cpuTotalMS": cpu_ms}}})
}

fn query(latency: Value) -> Value {
    json!({"msgType": "prediction-query", "httpCode": 200, "responseTimeMS": latency})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reports_say_which_values_they_left_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(dir.path(), &["--data-dir", "data"]);
    let body = [
        event(
            1,
            "compute-resource-usage",
            None,
            usage("u-1", json!(-1000000)),
        ),
        event(2, "compute-resource-usage", None, usage("u-2", json!(3000))),
        event(3, "apinode-query", Some("svc-a"), query(json!("5000"))),
        event(4, "apinode-query", Some("svc-a"), query(json!(40))),
        event(5, "apinode-query", Some("svc-b"), query(json!(20))),
    ]
    .join("\n");
    let browser = Browser::posted_and_shown(
        &server.addr,
        &body,
        "/#reports",
        ("left-out", "report-status", "loaded"),
    )
    .await;
    // The sums are those of the values read...
    assert_eq!(
        browser.table("#compute-table").await,
        [["CHURN", "2", "3.0", "120.0", "LOCAL_PROCESS: 2"]]
    );
    // ...and the page says so, and for which row.
    let shown = browser
        .js(
            "return ['compute-left-out', 'api-left-out'].map(id => !document.getElementById(id).hidden);",
            vec![],
        )
        .await;
    assert_eq!(shown, json!([true, true]));
    assert_eq!(
        browser.texts("#compute-left-out").await,
        [
            "1 value left out as no measurement (startTime/endTime not a time of the years 0000 \
          to 9999, cpuTotalMS not a number from 0 to 2^53 ms, an end before its start, or a \
          project key or user that is no string, counted under (none)): CHURN 1; the figures above are those of the other values (docs/query.md)"
        ]
    );
    assert_eq!(
        browser.texts("#api-left-out").await,
        [
            "1 value left out as no measurement (responseTimeMS not a number from 0 to 2^53 \
          ms): svc-a 1; the figures above are those of the other values (docs/query.md)"
        ]
    );
    browser
        .screenshot_of("#report-compute", "report-compute-left-out")
        .await;
    browser.close().await;
    server.kill9();
}
