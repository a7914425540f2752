//! The server's per-node table is bounded (`max_tracked_nodes`): node ids are whatever
//! clients send, and one client inventing ids must not grow the server's memory or its
//! `/v1/stats` answer without bound. Beyond the bound the node stored least recently is
//! forgotten, its events counted in `nodesForgotten` (so that every stored event is
//! still counted somewhere), the same after a restart (the table is rebuilt from the
//! store within the same bound), and a forgotten node that sends again reports no
//! false gap.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use crate::server_support;

use serde_json::Value;
use server_support::*;

const CONFIG: &str =
    "max_tracked_nodes = 3\n[[destinations]]\ntype = \"store\"\npath = \"store\"\n";

/// Per-node counts plus the forgotten nodes' events.
fn counted(stats: &Value) -> u64 {
    let nodes: u64 = stats["nodes"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n["count"].as_u64().unwrap())
        .sum();
    nodes + stats["nodesForgotten"]["events"].as_u64().unwrap()
}

fn listed(stats: &Value) -> Vec<String> {
    stats["nodes"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

async fn post_ok(s: &TestServer, events: &[Value]) {
    let (status, _, answer) = post(s, ndjson(events), None).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invented_node_ids_are_forgotten_least_recently_stored_first() {
    let s = start(CONFIG).await;
    // Ten node ids, one request each, two events each: n0 stored first, n9 last.
    for i in 0..10 {
        let node = format!("n{i}");
        post_ok(&s, &[event(&node, 1), event(&node, 2)]).await;
    }
    let stats = get_json(&s, "/v1/stats").await;
    assert_eq!(stats["nodesTracked"], 3, "{stats}");
    assert_eq!(listed(&stats), ["n7", "n8", "n9"], "{stats}");
    assert_eq!(stats["nodesForgotten"]["nodes"], 7, "{stats}");
    assert_eq!(counted(&stats), 20, "{stats}");
    assert_eq!(metric(&s, "auditrail_server_nodes").await, 3);

    // n7 sends again: n8 is now the least recently stored, and goes first.
    post_ok(&s, &[event("n7", 3)]).await;
    post_ok(&s, &[event("n10", 1)]).await;
    let stats = get_json(&s, "/v1/stats").await;
    assert_eq!(listed(&stats), ["n10", "n7", "n9"], "{stats}");

    // n0, forgotten, goes on from seq 3: no false gap for 1 and 2, which were stored.
    post_ok(&s, &[event("n0", 3), event("n0", 4)]).await;
    let stats = get_json(&s, "/v1/stats").await;
    let n0 = &stats["nodes"]["n0"];
    assert_eq!(n0["missing"], 0, "{stats}");
    assert_eq!(n0["highestContiguousSeq"], 4, "{stats}");
    assert_eq!(n0["forgottenGaps"], 1, "{stats}");
    assert_eq!(counted(&stats), 24, "{stats}");

    // A restart rebuilds the table from the store, within the same bound.
    let dir = s.dir;
    s.running.shutdown().await;
    let config = config_from(dir.path(), CONFIG);
    let s = start_with(dir, config).await;
    let stats = get_json(&s, "/v1/stats").await;
    assert_eq!(stats["nodesTracked"], 3, "{stats}");
    assert_eq!(listed(&stats), ["n0", "n10", "n7"], "{stats}");
    assert_eq!(counted(&stats), 24, "{stats}");
    assert_eq!(stats["nodes"]["n0"]["missing"], 0, "{stats}");
}
