//! `/v1/stream` (Server-Sent Events): a follower gets the newest kept events that match
//! (`limit`), then each matching event accepted after it connected, in order, none
//! twice; filters as `/v1/recent`; the stats key as `/v1/recent`; the stream ends when
//! the server shuts down, without holding the shutdown up.

// Helpers outside the test functions unwrap too: a failure there is the test's failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::sse::follow;
use server_support::*;

const STATS_AUTH: &str =
    "require_auth_for_stats = true\n[[stats_keys]]\nid = \"ops\"\nsecret = \"ops-secret\"\n";

fn seq(e: &Value) -> (String, u64) {
    let c = &e["clientEvent"];
    (
        c["node"].as_str().unwrap().to_owned(),
        c["seq"].as_u64().unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_follower_gets_the_backlog_then_new_matching_events_in_order() {
    let s = start(STORE).await;
    let before = [
        event_with("n1", 1, "authfail", None),
        event_with("n1", 2, "generic", None),
        event_with("n1", 3, "authfail", None),
        event_with("n1", 4, "authfail", None),
    ];
    assert_eq!(post(&s, ndjson(&before), None).await.0, 200);

    let mut authfail = follow(&s, "topic=authfail&limit=2", None).await;
    let mut everything = follow(&s, "", None).await;
    assert_eq!(seq(&authfail.next_event().await), ("n1".into(), 3));
    assert_eq!(seq(&authfail.next_event().await), ("n1".into(), 4));

    let after = [
        event_with("n1", 5, "generic", None),
        event_with("n2", 1, "authfail", Some("svc-a")),
        event_with("n1", 6, "authfail", None),
    ];
    assert_eq!(post(&s, ndjson(&after[..2]), None).await.0, 200);
    assert_eq!(post(&s, ndjson(&after[2..]), None).await.0, 200);
    assert_eq!(seq(&authfail.next_event().await), ("n2".into(), 1));
    let e = authfail.next_event().await;
    assert_eq!(seq(&e), ("n1".into(), 6));
    assert_eq!(e["origAddress"], "127.0.0.1");
    assert!(e["serverTimestamp"].is_string());
    // Without `limit`, no backlog: only what came after.
    for want in [("n1", 5), ("n2", 1), ("n1", 6)] {
        assert_eq!(seq(&everything.next_event().await), (want.0.into(), want.1));
    }
    // The stream ends with the server, and does not hold its shutdown up.
    let stop = s.running.shutdown().await;
    assert!(!stop.connections_cut, "a follower held the shutdown up");
    // Its last message says why (not a broken connection).
    let (kind, data) = authfail.next().await.expect("the stream's end message");
    assert_eq!(kind, "end");
    assert!(data.contains("\"reason\":\"stopping\""), "{data}");
    assert_eq!(authfail.next().await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_combine_and_a_bad_one_is_refused() {
    let s = start(STORE).await;
    let mut f = follow(&s, "node=n2&user=bob&msgType=logout", None).await;
    let mut e1 = event("n2", 1);
    e1["message"] = json!({"msgType": "logout", "authUser": "alice"});
    let mut e2 = event("n1", 1);
    e2["message"] = json!({"msgType": "logout", "authUser": "bob"});
    let mut e3 = event("n2", 2);
    e3["message"] = json!({"msgType": "logout", "authUser": "bob"});
    assert_eq!(post(&s, ndjson(&[e1, e2, e3]), None).await.0, 200);
    assert_eq!(seq(&f.next_event().await), ("n2".into(), 2));

    let resp = s
        .client
        .get(s.url("/v1/stream?routing_key=svc-a"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["message"].as_str().unwrap().contains("routing_key"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_stream_needs_a_stats_key_when_configured() {
    let s = start(&format!("{STATS_AUTH}{STORE}")).await;
    let none = s.client.get(s.url("/v1/stream")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    let wrong = s
        .client
        .get(s.url("/v1/stream"))
        .bearer_auth("not-the-secret")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let mut ok = follow(&s, "", Some("ops-secret")).await;
    assert_eq!(post(&s, ndjson(&[event("n1", 1)]), None).await.0, 200);
    assert_eq!(seq(&ok.next_event().await), ("n1".into(), 1));
}
