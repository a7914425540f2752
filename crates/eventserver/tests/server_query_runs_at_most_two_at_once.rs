//! `/v1/query` runs at most two queries at once (each takes up to a core and up to its
//! memory bound): others are answered `429 too_many_queries` with `Retry-After`, so a
//! client cannot multiply the server's query memory and threads by asking many at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod server_support;

use serde_json::Value;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queries_beyond_two_at_once_are_answered_429() {
    let s = start(STORE).await;
    let (status, _, _) = post(&s, ndjson(&[event("n1", 1)]), None).await;
    assert_eq!(status, 200);
    // Eight queries sent together, each counting 100 million generated rows (seconds of
    // work): they overlap.
    let sql = "SELECT count(*) AS n FROM generate_series(1, 100000000)";
    let asks = (0..8).map(|_| {
        s.client
            .get(s.url("/v1/query"))
            .query(&[("sql", sql)])
            .send()
    });
    let answers = futures_util::future::join_all(asks).await;
    let mut ok = 0;
    let mut busy = 0;
    for a in answers {
        let a = a.unwrap();
        let status = a.status().as_u16();
        let retry_after = a.headers().get("retry-after").cloned();
        let body: Value = a.json().await.unwrap();
        match status {
            200 => {
                assert_eq!(body["rows"][0]["n"], 100_000_000, "{body}");
                ok += 1;
            }
            429 => {
                assert_eq!(body["error"], "too_many_queries", "{body}");
                assert!(retry_after.is_some());
                busy += 1;
            }
            other => panic!("{other}: {body}"),
        }
    }
    assert!(ok >= 1, "{ok} answered, {busy} refused");
    assert!(busy >= 1, "eight overlapping queries all ran at once");
    // Once they are done, a query runs again.
    let a = s
        .client
        .get(s.url("/v1/query"))
        .query(&[("sql", "SELECT 1 AS one")])
        .send()
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
}
