//! A filter of `/v1/recent` and `/v1/stream` given with an empty value (`user=`) matches
//! the empty value, as `auditrail query events --user ""` does: before, an empty value
//! was no condition (an HTML form's empty field), so `auditrail tail --user ""` (or
//! `--topic "$UNSET"`) followed every user's events under a filter that looked in
//! force. An empty `since` or `until` (of `/v1/query`'s reports too) is refused naming
//! it, as no time, where it was read as no bound.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::sse::follow;
use server_support::*;

fn login(node: &str, seq: u64, user: &str) -> Value {
    let mut e = event(node, seq);
    e["message"] = json!({"msgType": "login", "authUser": user});
    e
}

fn seq(e: &Value) -> u64 {
    e["clientEvent"]["seq"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_filter_value_matches_only_events_holding_the_empty_value() {
    let s = start(STORE).await;
    let before = [
        login("n1", 1, ""),
        login("n1", 2, "alice"),
        login("n1", 3, "bob"),
    ];
    assert_eq!(post(&s, ndjson(&before), None).await.0, 200);

    let recent = get_json(&s, "/v1/recent?user=").await;
    let seqs: Vec<u64> = recent["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(seq)
        .collect();
    assert_eq!(seqs, [1], "{recent}");
    // Every event has a topic and a msgType: none is empty.
    for query in ["topic=", "msgType=", "node=", "routingKey="] {
        let recent = get_json(&s, &format!("/v1/recent?{query}")).await;
        assert_eq!(recent["count"], 0, "{query}: {recent}");
    }

    let mut empty_user = follow(&s, "user=&limit=10", None).await;
    assert_eq!(seq(&empty_user.next_event().await), 1, "the backlog");
    let after = [login("n1", 4, "alice"), login("n1", 5, "")];
    assert_eq!(post(&s, ndjson(&after), None).await.0, 200);
    assert_eq!(
        seq(&empty_user.next_event().await),
        5,
        "alice's 4 is not sent"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_time_bound_is_refused_naming_it() {
    let s = start(STORE).await;
    // The reports of `/v1/query` read `since` and `until` the same way.
    for path in ["/v1/recent?", "/v1/stream?", "/v1/query?report=node-usage&"] {
        for name in ["since", "until"] {
            let resp = s
                .client
                .get(s.url(&format!("{path}{name}=")))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 400, "{path}?{name}=");
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"], "bad_query");
            let message = body["message"].as_str().unwrap();
            assert!(message.starts_with(&format!("{name} \"\": ")), "{message}");
        }
    }
}
