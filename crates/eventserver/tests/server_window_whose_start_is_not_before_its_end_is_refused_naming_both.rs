//! A window whose `since` is not before its `until` (the two swapped: `since=1d&until=7d`,
//! or equal) holds no time: `/v1/query?report=...` and `/v1/recent` refuse it with
//! `400 bad_query` naming both ends as given and as read. Before, they answered `200`
//! with nothing in it, as if no event had been stored then.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

async fn get(s: &TestServer, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
    let resp = s.client.get(s.url(path)).query(query).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapped_or_equal_ends_are_refused_on_reports_and_the_live_view() {
    let s = start(STORE).await;
    for (since, until) in [
        ("1d", "7d"),
        ("2026-12-05", "2026-12-04"),
        ("2026-12-04", "2026-12-04"),
    ] {
        for (path, extra) in [
            ("/v1/query", Some(("report", "node-usage"))),
            ("/v1/recent", None),
        ] {
            let mut query = vec![("since", since), ("until", until)];
            query.extend(extra);
            let (status, answer) = get(&s, path, &query).await;
            assert_eq!(status, 400, "{path} {query:?}: {answer}");
            assert_eq!(answer["error"], "bad_query", "{path} {query:?}: {answer}");
            let message = answer["message"].as_str().unwrap();
            assert!(
                message.starts_with(&format!("since {since:?} ("))
                    && message.contains(&format!("is not before until {until:?} (")),
                "{path} {query:?}: {message}"
            );
        }
    }
    // In order, the window is answered.
    let (status, answer) = get(
        &s,
        "/v1/query",
        &[("report", "node-usage"), ("since", "7d"), ("until", "1d")],
    )
    .await;
    assert_eq!(status, 200, "{answer}");
}
