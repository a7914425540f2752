//! A server without a query worker runs `/v1/query` on a thread of its own process: a
//! statement nested deeper than the engine plans (a flat chain of 3 500 operators,
//! which overflowed that thread's stack and aborted the whole server) is refused with
//! `400 query_failed` naming the limit, and the server answers the next query.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

async fn sql(s: &TestServer, sql: &str) -> (u16, Value) {
    let resp = s
        .client
        .get(s.url("/v1/query"))
        .query(&[("sql", sql)])
        .send()
        .await
        .unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chain_of_3500_operators_is_refused_and_the_server_answers_on() {
    let s = start(STORE).await;
    let chain = format!("SELECT 1{}", " + 1".repeat(3500));
    let (status, body) = sql(&s, &chain).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "query_failed", "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("nests expressions deeper than 1000 levels"),
        "{body}"
    );
    let (status, body) = sql(&s, "SELECT 1 AS one").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"][0]["one"], 1, "{body}");
}
