//! A `since`/`until` with an offset typed into the URL as docs/protocol.md shows it
//! (`since=2026-11-29T11:00:00+01:00`, unescaped) arrives with a space for the `+` (a
//! query string is form-encoded). The `400 bad_query` says so and how to send it
//! (`%2B`); before, it quoted `"2026-11-29T11:00:00 01:00"`, a value the user never
//! wrote, as if offsets were refused. Sent as `%2B`, the same window is answered.
//! (Tryout s57-clocktry/03.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

/// GET of `path_and_query` exactly as written (no encoding by the client).
async fn get_raw(s: &TestServer, path_and_query: &str) -> (u16, Value) {
    let resp = s.client.get(s.url(path_and_query)).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offsets_plus_read_as_a_space_is_named_in_the_refusal() {
    let s = start(STORE).await;
    for path in [
        "/v1/query?report=node-usage&since=2026-11-29T11:00:00+01:00",
        "/v1/recent?until=2026-11-29T11:00:00.5+14:00",
        "/v1/query?report=last-activity&since=2026-11-28&until=2026-11-29T11:00:00+01:00",
    ] {
        let (status, answer) = get_raw(&s, path).await;
        assert_eq!(status, 400, "{path}: {answer}");
        assert_eq!(answer["error"], "bad_query", "{path}: {answer}");
        let message = answer["message"].as_str().unwrap();
        assert!(
            message.contains("a `+` in a URL's query string is read as a space")
                && message.contains("%2B"),
            "{path}: {message}"
        );
    }
    // Any other bad time says nothing of it; `%2B` is answered.
    let (status, answer) = get_raw(&s, "/v1/recent?since=yesterday").await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        !answer["message"].as_str().unwrap().contains("%2B"),
        "{answer}"
    );
    let (status, answer) = get_raw(
        &s,
        "/v1/query?report=node-usage&since=2026-11-29T11:00:00%2B01:00",
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["window"], "since 2026-11-29T10:00:00.000Z",
        "{answer}"
    );
}
