//! The server's per-topic counters are bounded (`max_tracked_topics`): topics are
//! whatever clients send, and one client inventing topics must not grow the server's
//! memory, its `/v1/stats` answer or every `/metrics` scrape without bound. Beyond the
//! bound the topic seen least recently is forgotten, its counts added to
//! `topicsForgotten` (so that every counted event is still counted somewhere, on
//! `/metrics` too), and a forgotten topic seen again starts afresh.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::{json, Value};
use server_support::*;

const CONFIG: &str =
    "max_tracked_topics = 3\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// Per-topic `field`s plus the forgotten topics'.
fn counted(stats: &Value, field: &str) -> u64 {
    let topics: u64 = stats["topics"]
        .as_object()
        .unwrap()
        .values()
        .map(|t| t[field].as_u64().unwrap())
        .sum();
    topics + stats["topicsForgotten"][field].as_u64().unwrap()
}

fn listed(stats: &Value) -> Vec<String> {
    stats["topics"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

async fn post_ok(s: &TestServer, events: &[Value]) -> Value {
    let (status, _, answer) = post(s, ndjson(events), None).await;
    assert_eq!(status, 200, "{answer}");
    answer
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_topics_are_forgotten_least_recently_seen_first() {
    let s = start(CONFIG).await;
    // Ten topics, one request each, two events each: t0 seen first, t9 last.
    let mut seq = 0;
    let mut next = |topic: &str| {
        seq += 1;
        event_with("n1", seq, topic, None)
    };
    let mut first = None;
    for i in 0..10 {
        let topic = format!("t{i}");
        let events = [next(&topic), next(&topic)];
        first.get_or_insert_with(|| events[0].clone());
        post_ok(&s, &events).await;
    }
    // One request of twenty more topics than the bound, and a retry of t0's first
    // event (t0 is forgotten by then: it comes back with one duplicate).
    let many: Vec<Value> = (10..30).map(|i| next(&format!("t{i}"))).collect();
    post_ok(&s, &many).await;
    let answer = post_ok(&s, &[first.unwrap()]).await;
    assert_eq!(answer["duplicates"], 1, "{answer}");

    let stats = get_json(&s, "/v1/stats").await;
    assert_eq!(listed(&stats), ["t0", "t28", "t29"], "{stats}");
    assert_eq!(stats["topics"]["t0"]["accepted"], 0, "{stats}");
    assert_eq!(stats["topics"]["t0"]["duplicates"], 1, "{stats}");
    assert_eq!(
        stats["topicsForgotten"],
        json!({"topics": 28, "accepted": 20 + 18, "duplicates": 0}),
        "{stats}"
    );
    // Everything counted is still counted somewhere.
    assert_eq!(stats["accepted"], 40, "{stats}");
    assert_eq!(counted(&stats, "accepted"), 40, "{stats}");
    assert_eq!(counted(&stats, "duplicates"), 1, "{stats}");

    // t28 sends again: t29 is now the least recently seen, and goes first.
    post_ok(&s, &[next("t28")]).await;
    post_ok(&s, &[next("t30")]).await;
    let stats = get_json(&s, "/v1/stats").await;
    assert_eq!(listed(&stats), ["t0", "t28", "t30"], "{stats}");
    assert_eq!(stats["topics"]["t28"]["accepted"], 2, "{stats}");
    assert_eq!(counted(&stats, "accepted"), 42, "{stats}");

    // t0, now the least recently seen, goes with its duplicate.
    post_ok(&s, &[next("t31")]).await;
    let stats = get_json(&s, "/v1/stats").await;
    assert_eq!(listed(&stats), ["t28", "t30", "t31"], "{stats}");
    assert_eq!(
        stats["topicsForgotten"],
        json!({"topics": 30, "accepted": 20 + 18 + 1, "duplicates": 1}),
        "{stats}"
    );

    // `/metrics` carries the same aggregate, and only the topics remembered.
    assert_eq!(metric(&s, "auditrail_server_topics").await, 3);
    assert_eq!(
        metric(&s, "auditrail_server_topics_forgotten_total").await,
        30
    );
    assert_eq!(
        metric(
            &s,
            "auditrail_server_topics_forgotten_events_accepted_total"
        )
        .await,
        39
    );
    assert_eq!(
        metric(
            &s,
            "auditrail_server_topics_forgotten_events_duplicate_total"
        )
        .await,
        1
    );
    assert_eq!(
        metric_sum(&s, "auditrail_server_topic_events_accepted_total").await,
        2 + 1 + 1
    );
}
