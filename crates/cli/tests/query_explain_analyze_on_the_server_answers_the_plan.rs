//! `EXPLAIN ANALYZE SELECT ...` on the server's `/v1/query` answers the plan with its
//! metrics, as `auditrail sql` does, not an internal DataFusion error (the server's row
//! limit must not sit above the statement).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: a failed unwrap is a failed test

use crate::query_support;
use crate::serve_support;

#[test]
fn explain_analyze_on_the_server_answers_the_plan_with_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve_support::start(dir.path(), &["--data-dir", "data"]);
    let body = serde_json::json!({"id": "55555555-5555-4555-8555-555555555555",
        "timestamp": "2026-12-03T01:00:00Z", "topic": "generic", "node": "n", "seq": 1,
        "message": {"msgType": "x"}})
    .to_string()
        + "\n";
    let (status, answer) = serve_support::post_events(&server.addr, &body, None).unwrap();
    assert_eq!(status, 200, "{answer}");

    let (status, answer) =
        query_support::query(&server.addr, "EXPLAIN ANALYZE SELECT count(*) FROM events");
    assert_eq!(status, 200, "{answer}");
    let rows = answer["rows"].as_array().unwrap();
    assert!(
        rows.iter()
            .any(|r| r["plan_type"] == "Plan with Metrics" && r["plan"].is_string()),
        "the plan with its metrics: {answer}"
    );
    // Other statements answer as before.
    let (status, answer) = query_support::query(
        &server.addr,
        "SELECT * FROM generate_series(1, 10) LIMIT 100",
    );
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["count"], 10, "{answer}");
    assert_eq!(server.terminate(), 0);
}
