//! `limit` over 1000 (the events the server keeps) on `/v1/recent` and `/v1/stream` is
//! refused with `400 bad_query` naming the bound, as `limit` over its bound is on
//! `/v1/query`: before, it was cut to 1000 without a word, and an answer of 1000 events
//! to `limit=5000` passed for every kept event that matched.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::sse::follow;
use server_support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_limit_over_the_kept_events_is_refused_naming_the_bound() {
    let s = start(STORE).await;
    assert_eq!(post(&s, ndjson(&[event("n1", 1)]), None).await.0, 200);
    for path in ["/v1/recent", "/v1/stream"] {
        for limit in ["1001", "5000"] {
            let resp = s
                .client
                .get(s.url(&format!("{path}?limit={limit}")))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 400, "{path}?limit={limit}");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"], "bad_query", "{body}");
            let message = body["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!("limit {limit}: at most 1000")),
                "{message}"
            );
        }
    }
    // The bound itself is answered.
    let recent = get_json(&s, "/v1/recent?limit=1000").await;
    assert_eq!(recent["count"], 1, "{recent}");
    let mut stream = follow(&s, "limit=1000", None).await;
    assert_eq!(stream.next_event().await["clientEvent"]["seq"], 1);
}
