//! `/v1/recent` honours its filters (topic, routingKey, node, user, msgType, since,
//! until): each narrows the answer to the events that match, together they all hold,
//! and a misspelt or malformed filter is a `400` that names it, never "every event".

// Helpers outside the test functions unwrap too: a failure there is the test's failure.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::*;

fn ev(node: &str, seq: u64, topic: &str, key: Option<&str>, ts: &str, msg: Value) -> Value {
    let mut e = event_with(node, seq, topic, key);
    e["timestamp"] = json!(ts);
    e["message"] = msg;
    e
}

async fn seqs(s: &TestServer, query: &str) -> Vec<(String, u64)> {
    let resp = s
        .client
        .get(s.url(&format!("/v1/recent?{query}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200, "{query}");
    let v: Value = resp.json().await.unwrap();
    let events = v["events"].as_array().unwrap();
    assert_eq!(v["count"], events.len());
    events
        .iter()
        .map(|e| {
            let c = &e["clientEvent"];
            (
                c["node"].as_str().unwrap().to_owned(),
                c["seq"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn n(node: &str, seqs: &[u64]) -> Vec<(String, u64)> {
    seqs.iter().map(|s| (node.to_owned(), *s)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_filter_narrows_the_recent_events() {
    let s = start(STORE).await;
    let events = [
        ev(
            "n1",
            1,
            "generic",
            None,
            "2026-11-28T10:00:00Z",
            json!({"msgType": "login", "authUser": "alice"}),
        ),
        ev(
            "n1",
            2,
            "authfail",
            None,
            "2026-11-29T10:00:00Z",
            json!({"msgType": "login-failed", "authUser": "mallory"}),
        ),
        ev(
            "n1",
            3,
            "authfail",
            None,
            "2026-11-29T11:00:00Z",
            json!({"msgType": "login-failed", "authUser": "alice"}),
        ),
        ev(
            "n1",
            4,
            "apinode-query",
            Some("svc-a"),
            "2026-11-29T12:00:00Z",
            json!({"msgType": "prediction-query", "authUser": "bob"}),
        ),
        ev(
            "n1",
            5,
            "apinode-query",
            Some("svc-b"),
            "2026-11-30T09:00:00Z",
            json!({"msgType": "prediction-query", "authUser": "bob"}),
        ),
    ];
    let other = [ev(
        "n2",
        1,
        "authfail",
        None,
        "2026-11-30T10:00:00Z",
        json!({"msgType": "login-failed", "authUser": "mallory"}),
    )];
    assert_eq!(post(&s, ndjson(&events), None).await.0, 200);
    assert_eq!(post(&s, ndjson(&other), None).await.0, 200);

    let mut all = n("n1", &[1, 2, 3, 4, 5]);
    all.push(("n2".into(), 1));
    all.reverse();
    assert_eq!(
        seqs(&s, "").await,
        all,
        "no filter: everything, newest first"
    );
    let mut authfail = n("n2", &[1]);
    authfail.extend(n("n1", &[3, 2]));
    assert_eq!(seqs(&s, "topic=authfail").await, authfail);
    assert_eq!(seqs(&s, "routingKey=svc-a").await, n("n1", &[4]));
    assert_eq!(seqs(&s, "node=n2").await, n("n2", &[1]));
    assert_eq!(seqs(&s, "user=alice").await, n("n1", &[3, 1]));
    assert_eq!(seqs(&s, "msgType=prediction-query").await, n("n1", &[5, 4]));
    assert_eq!(
        seqs(&s, "since=2026-11-29&until=2026-11-30").await,
        n("n1", &[4, 3, 2])
    );
    assert_eq!(seqs(&s, "since=2026-11-29T11:00:00%2B01:00").await.len(), 5);
    assert_eq!(
        seqs(&s, "topic=authfail&user=mallory&node=n1").await,
        n("n1", &[2])
    );
    assert_eq!(
        seqs(&s, "topic=authfail&limit=1").await,
        n("n2", &[1]),
        "limit counts matches"
    );
    assert_eq!(seqs(&s, "topic=nothing-here").await, vec![]);
    assert_eq!(
        seqs(&s, "topic=&user=").await,
        vec![],
        "an empty value is the empty value, not no condition"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_misspelt_or_malformed_filter_is_refused() {
    let s = start(STORE).await;
    assert_eq!(post(&s, ndjson(&[event("n1", 1)]), None).await.0, 200);
    for (query, needle) in [
        ("topik=authfail", "topik"),
        ("since=last%20tuesday", "since"),
        ("until=soon", "until"),
        ("limit=many", "limit"),
    ] {
        let resp = s
            .client
            .get(s.url(&format!("/v1/recent?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 400, "{query}");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"], "bad_query");
        let message = body["message"].as_str().unwrap();
        assert!(message.contains(needle), "{query}: {message}");
    }
}
