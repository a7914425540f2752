//! A query parameter whose key or value is not UTF-8 once percent-decoded (`?user=%FF`)
//! is refused by every endpoint that reads query parameters (`/v1/recent`,
//! `/v1/stream`, `/v1/stats`, `/v1/query`) with the `400 bad_query` answer each gives
//! for a bad parameter, naming the parameter. Decoded lossily, `%FF` became U+FFFD and
//! the request silently asked about another text than the one sent. Percent-encoded
//! UTF-8 (`%C3%A9`, even an encoded U+FFFD) is still read as sent.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

/// `GET path` over HTTP: status and JSON body (`Null` when the body is not JSON, as a
/// stream's is).
async fn get(s: &TestServer, path: &str) -> (u16, Value) {
    let resp = s.client.get(s.url(path)).send().await.unwrap();
    let status = resp.status().as_u16();
    if resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"))
    {
        return (status, Value::Null);
    }
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reading_endpoint_refuses_a_parameter_that_is_not_utf8() {
    let s = start(STORE).await;
    let mut e = event("n1", 1);
    e["message"]["authUser"] = "\u{e9}lodie".into();
    assert_eq!(post(&s, ndjson(&[e]), None).await.0, 200);

    for (path, name) in [
        ("/v1/recent?user=%FF", "user"),
        ("/v1/recent?topic=generic&user=al%C3ice", "user"),
        ("/v1/recent?us%E9r=alice", "\"us%E9r\""),
        ("/v1/stream?node=n%FF1", "node"),
        ("/v1/stats?nodesAfter=%FE", "nodesAfter"),
        ("/v1/query?sql=SELECT%20%27%FF%27%20AS%20v", "sql"),
        ("/v1/query?report=node-usage&since=%FF", "since"),
    ] {
        let (status, body) = get(&s, path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"], "bad_query", "{path}: {body}");
        let message = body["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("query parameter {name}:"))
                && message.contains("not UTF-8 after percent-decoding"),
            "{path}: {message}"
        );
    }

    // Percent-encoded UTF-8 is read as sent: the stored user matches, an encoded
    // U+FFFD is a user of its own (none here).
    let (status, body) = get(&s, "/v1/recent?user=%C3%A9lodie").await;
    assert_eq!((status, &body["count"]), (200, &Value::from(1)), "{body}");
    let (status, body) = get(&s, "/v1/recent?user=%EF%BF%BD").await;
    assert_eq!((status, &body["count"]), (200, &Value::from(0)), "{body}");
    let (status, body) = get(&s, "/v1/stats?nodesAfter=%C3%A9").await;
    assert_eq!(status, 200, "{body}");
    s.running.shutdown().await;
}
