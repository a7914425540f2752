//! A restart gives every node the statistics it had before, also when the per-node
//! table is bounded (`max_tracked_nodes`) and forgot nodes: a node forgotten and seen
//! again counts its events from then on (docs/protocol.md, `GET /v1/stats`), and the
//! table rebuilt at start from the store counted all its records instead (a tryout
//! with `max_tracked_nodes = 3`: a node's `count` was 5 before the restart, 15 after,
//! nothing else sent), and `nodesForgotten` changed too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

const CONFIG: &str =
    "max_tracked_nodes = 3\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

async fn post_ok(s: &TestServer, events: &[Value]) {
    let (status, _, answer) = post(s, ndjson(events), None).await;
    assert_eq!(status, 200, "{answer}");
}

/// What `/v1/stats` says of the nodes (every field, `lastSeen` too), `nodesForgotten`
/// and `nodesTracked`.
async fn table(s: &TestServer) -> Value {
    let mut stats = get_json(s, "/v1/stats").await;
    serde_json::json!({
        "nodes": stats["nodes"].take(),
        "nodesForgotten": stats["nodesForgotten"].take(),
        "nodesTracked": stats["nodesTracked"].take(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_keeps_the_counts_of_nodes_kept_and_of_nodes_forgotten_and_seen_again() {
    let s = start(CONFIG).await;
    // a: ten events (1..=10, then forgotten); b, c, d push it out.
    post_ok(&s, &(1..=10).map(|q| event("a", q)).collect::<Vec<_>>()).await;
    for node in ["b", "c", "d"] {
        post_ok(&s, &[event(node, 1), event(node, 2)]).await;
    }
    // a is seen again: 11..=15 (5 events); b goes. Then e, which pushes c out; and b
    // again from 4 (3 was lost while it was forgotten: given up, not missing).
    post_ok(&s, &(11..=15).map(|q| event("a", q)).collect::<Vec<_>>()).await;
    post_ok(&s, &[event("e", 1)]).await;
    post_ok(&s, &[event("b", 4), event("b", 5)]).await;
    // d, least recently stored, went for b.
    let before = table(&s).await;
    assert_eq!(before["nodes"]["a"]["count"], 5, "{before}");
    assert_eq!(before["nodes"]["b"]["count"], 2, "{before}");
    assert_eq!(before["nodes"]["b"]["missing"], 0, "{before}");
    assert_eq!(before["nodes"]["b"]["forgottenGaps"], 1, "{before}");
    assert!(before["nodes"]["d"].is_null(), "{before}");
    assert_eq!(
        before["nodesForgotten"],
        serde_json::json!({"nodes": 4, "events": 10 + 2 + 2 + 2}),
        "a, b, c, d: {before}"
    );

    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), CONFIG);
    let s = start_with(dir, config).await;
    assert_eq!(table(&s).await, before, "after a restart");

    // And after a second one (the table rebuilt from a table rebuilt).
    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), CONFIG);
    let s = start_with(dir, config).await;
    assert_eq!(table(&s).await, before, "after a second restart");

    // Live again: a forgotten a second time (f pushes it out, the least recently
    // stored) is not brought back by the next restart, and its events stay counted
    // once, in `nodesForgotten`.
    post_ok(&s, &[event("f", 1)]).await;
    let live = table(&s).await;
    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), CONFIG);
    let s = start_with(dir, config).await;
    assert_eq!(table(&s).await, live, "after a third restart");
    s.running.shutdown().await;
}
